/*
 * watch.c: reload the configuration file when it changes (graft_config_watch).
 *
 * A fleet is steered by distributing one INI file (a Kubernetes ConfigMap, rsync, a
 * configuration manager); every process watches it and reloads on change, all or
 * nothing as graft_config_reload always does, so a bad file is refused, logged and
 * counted while the running configuration stays.
 *
 * The directory is watched, not the file: editors replace a file by rename and a
 * ConfigMap volume swaps a `..data` symlink, and an inotify watch on the file itself
 * would see neither (it follows the old inode). Any event in the directory arms a short
 * quiet period (writers emit several events per update); when it has passed, the file's
 * bytes are hashed and the file is reloaded only if they differ from the last version
 * seen. So unrelated files in the directory cost one read, never a reload.
 *
 * The thread owns the inotify descriptor; a pipe wakes it to stop. Linux only (inotify
 * is part of glibc); elsewhere graft_config_watch returns GRAFT_EUNSUPPORTED.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/inotify.h>
#endif

/* Quiet period after the last event before the file is read: long enough to cover a
 * rename-then-chmod sequence, short enough for a fleet to converge in well under 1 s. */
#define GRAFT__WATCH_QUIET_MS 50
/* Largest configuration file hashed: larger files are reloaded on every event (the
 * parser itself refuses what it cannot read). */
#define GRAFT__WATCH_MAX_BYTES (4u << 20)

struct graft__watch {
    graft_runtime *rt;
    pthread_t thread;
    int inotify_fd;
    int stop_pipe[2];
    char *path;         /* the watched file, as loaded */
    uint64_t last_hash; /* FNV-1a of the bytes last seen (applied or refused) */
    bool have_hash;
    _Atomic uint64_t applied;
    _Atomic uint64_t refused;
};

static uint64_t graft__watch_fnv(const unsigned char *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Hashes the file's bytes; false if it cannot be read (missing during a swap, say). */
static bool graft__watch_hash(const char *path, uint64_t *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    unsigned char buf[8192];
    uint64_t h = 0xcbf29ce484222325ull;
    size_t total = 0;
    bool ok = true;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            ok = false;
            break;
        }
        if (n == 0) {
            break;
        }
        total += (size_t)n;
        if (total > GRAFT__WATCH_MAX_BYTES) {
            ok = false;
            break;
        }
        h = graft__watch_fnv(buf, (size_t)n, h);
    }
    close(fd);
    *out = h;
    return ok;
}

/* Reloads if the bytes changed since the last version seen. */
static void graft__watch_check(struct graft__watch *w)
{
    uint64_t h = 0;
    if (graft__watch_hash(w->path, &h) && w->have_hash && h == w->last_hash) {
        return;
    }
    w->last_hash = h;
    w->have_hash = true;
    char err[256] = "";
    int rc = graft_config_reload(w->rt, err, sizeof err);
    if (rc == GRAFT_OK) {
        atomic_fetch_add_explicit(&w->applied, 1, memory_order_relaxed);
        graft__log(w->rt, GRAFT_LOG_INFO, "graft.config", "watch: %s changed: applied", w->path);
    } else {
        atomic_fetch_add_explicit(&w->refused, 1, memory_order_relaxed);
        graft__log(w->rt, GRAFT_LOG_ERROR, "graft.config",
                   "watch: %s changed: refused, running configuration kept: %s", w->path, err);
    }
}

#ifdef __linux__
static void *graft__watch_main(void *arg)
{
    struct graft__watch *w = arg;
    struct pollfd fds[2] = {{.fd = w->inotify_fd, .events = POLLIN},
                            {.fd = w->stop_pipe[0], .events = POLLIN}};
    bool pending = false;
    for (;;) {
        int n = poll(fds, 2, pending ? GRAFT__WATCH_QUIET_MS : -1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 || (fds[1].revents & (POLLIN | POLLHUP))) {
            break;
        }
        if (n == 0) {
            pending = false;
            graft__watch_check(w);
            continue;
        }
        if (fds[0].revents & POLLIN) {
            /* The events' names do not matter: the content hash decides. Drain them. */
            char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
            while (read(w->inotify_fd, buf, sizeof buf) > 0) {
            }
            pending = true;
        }
    }
    return NULL;
}
#endif

static void graft__watch_free(struct graft__watch *w)
{
    if (!w) {
        return;
    }
    if (w->inotify_fd >= 0) {
        close(w->inotify_fd);
    }
    for (int i = 0; i < 2; i++) {
        if (w->stop_pipe[i] >= 0) {
            close(w->stop_pipe[i]);
        }
    }
    free(w->path);
    free(w);
}

int graft_config_watch(graft_runtime *rt, char *err, size_t errlen)
{
    if (!rt) {
        return GRAFT_ENULL;
    }
#ifndef __linux__
    graft__seterr(err, errlen, "configuration watching needs inotify (Linux)");
    return GRAFT_EUNSUPPORTED;
#else
    struct graft__watch *w = calloc(1, sizeof *w);
    if (!w) {
        graft__seterr(err, errlen, "out of memory");
        return GRAFT_ENOMEM;
    }
    w->rt = rt;
    w->inotify_fd = -1;
    w->stop_pipe[0] = w->stop_pipe[1] = -1;

    pthread_mutex_lock(&rt->lock);
    bool watching = rt->watch != NULL;
    if (rt->config_path) {
        w->path = strdup(rt->config_path);
    }
    bool loaded = rt->config_path != NULL;
    pthread_mutex_unlock(&rt->lock);
    if (watching) {
        graft__watch_free(w);
        graft__seterr(err, errlen, "the configuration file is already watched");
        return GRAFT_EEXIST;
    }
    if (!loaded) {
        graft__watch_free(w);
        graft__seterr(err, errlen, "no configuration file loaded: nothing to watch");
        return GRAFT_ESTATE;
    }
    if (!w->path) {
        graft__watch_free(w);
        graft__seterr(err, errlen, "out of memory");
        return GRAFT_ENOMEM;
    }

    /* The directory holding the path as given (a symlink's own directory: a ConfigMap's
     * `..data` swap happens there). */
    char *dir = strdup(w->path);
    if (!dir) {
        graft__watch_free(w);
        graft__seterr(err, errlen, "out of memory");
        return GRAFT_ENOMEM;
    }
    char *slash = strrchr(dir, '/');
    if (!slash) {
        strcpy(dir, ".");
    } else if (slash == dir) {
        dir[1] = '\0';
    } else {
        *slash = '\0';
    }
    w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    int wd = w->inotify_fd < 0 ? -1
                               : inotify_add_watch(w->inotify_fd, dir,
                                                   IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE |
                                                       IN_DELETE | IN_ATTRIB | IN_MODIFY);
    if (wd < 0) {
        int e = errno;
        graft__seterr(err, errlen, "cannot watch %s: %s", dir, strerror(e));
        free(dir);
        graft__watch_free(w);
        return GRAFT_EIO;
    }
    free(dir);
    if (pipe2(w->stop_pipe, O_CLOEXEC) != 0) {
        graft__seterr(err, errlen, "pipe: %s", strerror(errno));
        graft__watch_free(w);
        return GRAFT_EIO;
    }
    /* The version loaded now is the baseline: an unchanged file is never reloaded. */
    w->have_hash = graft__watch_hash(w->path, &w->last_hash);

    pthread_mutex_lock(&rt->lock);
    if (rt->watch) {
        pthread_mutex_unlock(&rt->lock);
        graft__watch_free(w);
        graft__seterr(err, errlen, "the configuration file is already watched");
        return GRAFT_EEXIST;
    }
    int rc = pthread_create(&w->thread, NULL, graft__watch_main, w);
    if (rc == 0) {
        rt->watch = w;
    }
    pthread_mutex_unlock(&rt->lock);
    if (rc != 0) {
        graft__seterr(err, errlen, "pthread_create: %s", strerror(rc));
        graft__watch_free(w);
        return GRAFT_EIO;
    }
    graft__log(rt, GRAFT_LOG_INFO, "graft.config", "watching %s for changes", w->path);
    return GRAFT_OK;
#endif
}

void graft_config_unwatch(graft_runtime *rt)
{
    if (!rt) {
        return;
    }
    pthread_mutex_lock(&rt->lock);
    struct graft__watch *w = rt->watch;
    rt->watch = NULL;
    pthread_mutex_unlock(&rt->lock);
    if (!w) {
        return;
    }
    /* Closing the write end wakes the thread (POLLHUP); a reload in progress finishes. */
    close(w->stop_pipe[1]);
    w->stop_pipe[1] = -1;
    pthread_join(w->thread, NULL);
    graft__watch_free(w);
}

int graft_config_watch_stats(graft_runtime *rt, uint64_t *applied, uint64_t *refused)
{
    if (!rt || !applied || !refused) {
        return GRAFT_ENULL;
    }
    pthread_mutex_lock(&rt->lock);
    struct graft__watch *w = rt->watch;
    *applied = w ? atomic_load_explicit(&w->applied, memory_order_relaxed) : 0;
    *refused = w ? atomic_load_explicit(&w->refused, memory_order_relaxed) : 0;
    pthread_mutex_unlock(&rt->lock);
    return w ? GRAFT_OK : GRAFT_ESTATE;
}
