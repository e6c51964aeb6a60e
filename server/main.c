/*
 * main.c: the kvd executable: memcached's command line (kv_opts), privileges (-u),
 * daemon (-d, -P), store and network start-up, and signals as memcached handles them:
 * SIGTERM/SIGINT/SIGUSR1 stop gracefully, SIGHUP never kills (it reloads GRAFT_CONFIG).
 * Everything else lives in kv_core.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kv_conn.h"
#include "kv_graft.h"
#include "kv_net.h"
#include "kv_opts.h"
#include "kv_seams.h"
#include "kv_store.h"
#include "kv_store_seam.h"

/* memcached: "assume identity of <username> (only when run as root)": no supplementary
 * groups, the user's primary group, then the user; checked to be irreversible. */
static int kv__drop_privileges(const kv_opts *o, int *as_root)
{
    *as_root = 0;
    if (getuid() != 0 && geteuid() != 0) {
        if (o->user != NULL && o->verbose) {
            fprintf(stderr, "kvd: not root: -u %s ignored (as memcached)\n", o->user);
        }
        return 0;
    }
    if (o->user == NULL || o->user[0] == '\0') {
        /* memcached refuses to start; kvd's tests and containers run it as root, so it
         * warns instead (after the "listening" line, which scripts read first); an init
         * script written for memcached always passes -u */
        *as_root = 1;
        return 0;
    }
    errno = 0;
    struct passwd *pw = getpwnam(o->user);
    if (pw == NULL) {
        fprintf(stderr, "kvd: can't find the user %s to switch to\n", o->user);
        return 2;
    }
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        fprintf(stderr, "kvd: failed to assume identity of user %s: %s\n", o->user,
                strerror(errno));
        return 1;
    }
    if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        fprintf(stderr, "kvd: privileges of root could be regained after -u %s\n", o->user);
        return 1;
    }
    return 0;
}

/* -d: forks; the parent waits until the child listens (or fails) and exits with its
 * status, so `kvd -d && client` works and start-up errors reach the terminal. Returns
 * the write end of the readiness pipe in the child. */
static int kv__daemonize(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        fprintf(stderr, "kvd: pipe: %s\n", strerror(errno));
        exit(1);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "kvd: failed to fork in order to daemonize: %s\n", strerror(errno));
        exit(1);
    }
    if (pid > 0) {
        close(p[1]);
        unsigned char st = 1;
        ssize_t k;
        do {
            k = read(p[0], &st, 1);
        } while (k < 0 && errno == EINTR);
        if (k == 1) {
            _exit(st);
        }
        int ws = 0; /* the child died before it was ready */
        waitpid(pid, &ws, 0);
        _exit(WIFEXITED(ws) && WEXITSTATUS(ws) != 0 ? WEXITSTATUS(ws) : 1);
    }
    close(p[0]);
    setsid();
    return p[1];
}

/* The daemon is up: tell the parent, leave the terminal (stdio to /dev/null unless
 * verbose, as memcached's daemon(noclose=verbose)), and the working directory. */
static void kv__daemon_ready(int fd, int verbose, int keep_cwd)
{
    unsigned char ok = 0;
    ssize_t ignored = write(fd, &ok, 1);
    (void)ignored;
    close(fd);
    if (!keep_cwd && chdir("/") != 0) {
        fprintf(stderr, "kvd: chdir /: %s\n", strerror(errno));
    }
    if (!verbose) {
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(nul, 1);
            dup2(nul, 2);
            if (nul > 2) {
                close(nul);
            }
        }
    }
}

/* An absolute copy of a path (the daemon leaves its working directory). */
static char *kv__abspath(const char *p)
{
    if (p == NULL) {
        return NULL;
    }
    if (p[0] == '/') {
        return strdup(p);
    }
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL) {
        return strdup(p);
    }
    size_t n = strlen(cwd) + strlen(p) + 2;
    char *a = malloc(n);
    if (a != NULL) {
        snprintf(a, n, "%s/%s", cwd, p);
    }
    return a;
}

static int kv__write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "kvd: Could not open the pid file %s for writing: %s\n", path,
                strerror(errno));
        return -1;
    }
    fprintf(f, "%ld\n", (long)getpid());
    if (fclose(f) != 0) {
        fprintf(stderr, "kvd: Could not write the pid file %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Removes the pid file if it still names this process (a newer kvd may own it). */
static void kv__remove_pidfile(const char *path)
{
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f == NULL) {
        return;
    }
    int ok = fscanf(f, "%ld", &pid) == 1;
    fclose(f);
    if (ok && pid == (long)getpid() && unlink(path) != 0) {
        fprintf(stderr, "kvd: could not remove the pid file %s: %s\n", path, strerror(errno));
    }
}

/* kv_graft_hooks of kv.store: registered beside kv.parse, before configuration. */
static int kv__install_store(graft_runtime *rt, void *ctx)
{
    return kv_ss_install(ctx, rt, kv_net_now);
}

static void kv__uninstall_store(void *ctx)
{
    kv_ss_uninstall(ctx);
}

int main(int argc, char **argv)
{
    kv_opts o;
    kv_opts_init(&o);
    int prc = kv_opts_parse(&o, argc, argv, stdout, stderr);
    if (prc == KV_OPTS_EXIT) {
        return 0;
    }
    if (prc != KV_OPTS_RUN) {
        return 2;
    }
    if (o.max_core) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_CORE, &rl) == 0) {
            rl.rlim_cur = rl.rlim_max;
            if (setrlimit(RLIMIT_CORE, &rl) != 0) {
                fprintf(stderr, "kvd: failed to set the core file limit: %s\n", strerror(errno));
            }
        }
    }
    /* memcached's order: identity first, then daemon, then sockets (created as the user) */
    int as_root = 0;
    int rc = kv__drop_privileges(&o, &as_root);
    if (rc != 0) {
        return rc;
    }
    char *pidfile = kv__abspath(o.pidfile);
    int ready_fd = o.daemonize ? kv__daemonize() : -1;
    if (o.lock_memory && mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
        fprintf(stderr, "kvd: warning: -k invalid, mlockall() failed: %s\n", strerror(errno));
    }

    /* Signals go to the main thread only (sigwait below); workers inherit the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    kv_server srv;
    memset(&srv, 0, sizeof(srv));
    srv.started = (int64_t)time(NULL);
    srv.port = (int)o.port;
    srv.listen_addr = o.addr;
    srv.threads = (int)o.threads;
    srv.maxconns = (int)o.maxconns;
    srv.mem_limit = (size_t)o.mem_mb * 1024 * 1024;
    srv.limits.item_size_max = o.item_max;
    srv.limits.max_line = 2048;
    srv.max_in = o.item_max + KV_IN_SLACK;
    srv.unix_path = o.unix_path;
    srv.unix_mask = o.unix_mask;
    srv.backlog = (int)o.backlog;
    srv.reqs_per_event = (uint32_t)o.reqs_per_event;
    srv.disable_flush = (uint8_t)o.disable_flush;
    srv.disable_cas = (uint8_t)o.disable_cas;
    srv.enable_shutdown = (uint8_t)o.enable_shutdown;
    atomic_init(&srv.verbosity, (uint32_t)o.verbose);
    /* one cache-line-aligned block per worker: no false sharing between them */
    srv.stats = aligned_alloc(64, (size_t)o.threads * sizeof(kv_thread_stats));
    if (srv.stats != NULL) {
        memset(srv.stats, 0, (size_t)o.threads * sizeof(kv_thread_stats));
    }
    srv.nstats = (int)o.threads;
    uint32_t buckets = 0; /* -o hashpower=N: 2^N buckets over all shards */
    if (o.hashpower != 0) {
        uint64_t total = 1ULL << o.hashpower;
        buckets = total / KV_STORE_SHARDS > 0 ? (uint32_t)(total / KV_STORE_SHARDS) : 1;
    }
    kv_store_config cfg = {srv.mem_limit, o.item_max, srv.started - 2, buckets};
    /* kv.store: the legacy store and its candidate, one CAS allocator (kv_store_seam.h) */
    kv_ss *ss = NULL;
    if (srv.stats == NULL || kv_ss_create(&cfg, &ss) != 0) {
        fprintf(stderr, "kvd: out of memory at start-up\n");
        return 1;
    }
    srv.store = kv_ss_legacy(ss);
    /* graft: seams kv.parse and kv.store (GRAFT_SEAMS, GRAFT_CONFIG, GRAFT_ADMIN), set
     * up before the workers start so the hooks they read are final. */
    kv_graft *graft = NULL;
    char gerr[512] = "";
    kv_graft_hooks hooks = {kv__install_store, kv__uninstall_store, ss};
    /* KVD_STORE_SEAM=0: no kv.store seam, the connection engine calls the legacy store
     * directly (the baseline of bench/stateful). */
    const char *sseam = getenv("KVD_STORE_SEAM");
    int no_store_seam = sseam != NULL && strcmp(sseam, "0") == 0;
    if (kv_graft_start_with(&graft, no_store_seam ? NULL : &hooks, gerr, sizeof gerr) != 0) {
        fprintf(stderr, "kvd: graft configuration: %s\n", gerr);
        kv_ss_destroy(ss);
        free(srv.stats);
        return 1;
    }
    kv_net *net = NULL;
    if (kv_net_start(&srv, &net) != 0) {
        kv_graft_stop(graft);
        kv_ss_destroy(ss);
        free(srv.stats);
        return 1;
    }
    /* the pid file exists by the time the "listening" line (scripts' cue) is out */
    int wrote_pid = pidfile != NULL && kv__write_pidfile(pidfile) == 0;
    if (o.unix_path != NULL) {
        fprintf(stderr,
                "kvd %s: listening on unix:%s (mode %03o; %ld threads, %ld MB, max item %u "
                "bytes)\n",
                KV_VERSION, o.unix_path, o.unix_mask, o.threads, o.mem_mb, o.item_max);
    } else {
        fprintf(stderr, "kvd %s: listening on %s:%d (%ld threads, %ld MB, max item %u bytes)\n",
                KV_VERSION, o.addr, kv_net_port(net), o.threads, o.mem_mb, o.item_max);
    }
    if (as_root) {
        fprintf(stderr, "kvd: warning: running as root without -u (memcached refuses: "
                        "\"can't run as root without the -u switch\")\n");
    }
    if (ready_fd >= 0) {
        kv__daemon_ready(ready_fd, o.verbose, o.max_core);
    }

    int sig = 0;
    for (;;) {
        if (sigwait(&sigs, &sig) != 0) {
            continue;
        }
        if (sig != SIGHUP) {
            break;
        }
        /* memcached ignores SIGHUP; kvd re-reads GRAFT_CONFIG (and GRAFT_SEAMS), all or
         * nothing: a bad file keeps the running configuration */
        char rerr[512] = "";
        if (graft_config_reload(kv_graft_runtime(graft), rerr, sizeof rerr) != 0) {
            fprintf(stderr, "kvd: SIGHUP: configuration not reloaded: %s\n", rerr);
        } else {
            fprintf(stderr, "kvd: SIGHUP: configuration reloaded\n");
        }
    }
    if (sig == SIGUSR1) {
        fprintf(stderr, "Gracefully stopping\n"); /* memcached's line */
    } else if (o.verbose) {
        fprintf(stderr, "kvd: signal %d, shutting down\n", sig);
    }
    kv_net_stop(net);
    kv_graft_stop(graft);
    kv_ss_destroy(ss);
    free(srv.stats);
    if (wrote_pid) {
        kv__remove_pidfile(pidfile);
    }
    free(pidfile);
    return 0;
}
