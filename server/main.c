/*
 * main.c: the kvd executable: options, store and network start-up, and a graceful stop
 * on SIGTERM/SIGINT. Everything else lives in kv_core.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kv_conn.h"
#include "kv_graft.h"
#include "kv_net.h"
#include "kv_seams.h"
#include "kv_store.h"

static void kv_usage(FILE *f)
{
    fprintf(f, "usage: kvd [options]\n"
               "  -p <num>   TCP port to listen on (default 11211; 0 = any free port)\n"
               "  -l <addr>  interface to listen on (default 127.0.0.1)\n"
               "  -t <num>   worker threads (default 4)\n"
               "  -m <num>   item memory in megabytes (default 64)\n"
               "  -c <num>   max simultaneous connections (default 1024)\n"
               "  -I <size>  max item size, k/m suffix allowed (default 1m, 1k..1024m)\n"
               "  -U <num>   UDP port: only 0 (UDP is not supported) is accepted\n"
               "  -v         verbose start-up messages\n"
               "  -V         print the version and exit\n"
               "  -h         this help\n");
}

static int kv_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

static int kv_parse_size(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s) {
        return -1;
    }
    if (*end == 'k' || *end == 'K') {
        v *= 1024;
        end++;
    } else if (*end == 'm' || *end == 'M') {
        v *= 1024 * 1024;
        end++;
    }
    if (*end != '\0' || v < 1024 || v > 1024ULL * 1024 * 1024) {
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    long port = 11211, threads = 4, mem_mb = 64, maxconns = 1024, udp = 0;
    uint32_t item_max = 1024 * 1024;
    const char *addr = "127.0.0.1";
    int verbose = 0, opt;
    while ((opt = getopt(argc, argv, "p:l:t:m:c:I:U:vVh")) != -1) {
        int bad = 0;
        switch (opt) {
        case 'p':
            bad = kv_parse_long(optarg, 0, 65535, &port);
            break;
        case 'l':
            addr = optarg;
            break;
        case 't':
            bad = kv_parse_long(optarg, 1, 256, &threads);
            break;
        case 'm':
            bad = kv_parse_long(optarg, 1, 1024L * 1024, &mem_mb);
            break;
        case 'c':
            bad = kv_parse_long(optarg, 1, 1000000, &maxconns);
            break;
        case 'I':
            bad = kv_parse_size(optarg, &item_max);
            break;
        case 'U':
            bad = kv_parse_long(optarg, 0, 0, &udp);
            break;
        case 'v':
            verbose++;
            break;
        case 'V':
            printf("kvd %s\n", KV_VERSION);
            return 0;
        case 'h':
            kv_usage(stdout);
            return 0;
        default:
            kv_usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "kvd: invalid value for -%c: '%s'\n", opt, optarg);
            kv_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kvd: unexpected argument '%s'\n", argv[optind]);
        kv_usage(stderr);
        return 2;
    }

    /* Signals go to the main thread only (sigwait below); workers inherit the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    kv_server srv;
    memset(&srv, 0, sizeof(srv));
    srv.started = (int64_t)time(NULL);
    srv.port = (int)port;
    srv.listen_addr = addr;
    srv.threads = (int)threads;
    srv.maxconns = (int)maxconns;
    srv.mem_limit = (size_t)mem_mb * 1024 * 1024;
    srv.limits.item_size_max = item_max;
    srv.limits.max_line = 2048;
    srv.max_in = item_max + KV_IN_SLACK;
    atomic_init(&srv.verbosity, (uint32_t)verbose);
    /* one cache-line-aligned block per worker: no false sharing between them */
    srv.stats = aligned_alloc(64, (size_t)threads * sizeof(kv_thread_stats));
    if (srv.stats != NULL) {
        memset(srv.stats, 0, (size_t)threads * sizeof(kv_thread_stats));
    }
    srv.nstats = (int)threads;
    kv_store_config cfg = {srv.mem_limit, item_max, srv.started - 2, 0};
    if (srv.stats == NULL || kv_store_create(&cfg, &srv.store) != 0) {
        fprintf(stderr, "kvd: out of memory at start-up\n");
        return 1;
    }
    /* graft: seam kv.parse (GRAFT_SEAMS, GRAFT_CONFIG, GRAFT_ADMIN), set
     * up before the workers start so the hooks they read are final. */
    kv_graft *graft = NULL;
    char gerr[512] = "";
    if (kv_graft_start(&graft, gerr, sizeof gerr) != 0) {
        fprintf(stderr, "kvd: graft configuration: %s\n", gerr);
        kv_store_destroy(srv.store);
        free(srv.stats);
        return 1;
    }
    kv_net *net = NULL;
    if (kv_net_start(&srv, &net) != 0) {
        kv_graft_stop(graft);
        kv_store_destroy(srv.store);
        free(srv.stats);
        return 1;
    }
    fprintf(stderr, "kvd %s: listening on %s:%d (%ld threads, %ld MB, max item %u bytes)\n",
            KV_VERSION, addr, kv_net_port(net), threads, mem_mb, item_max);

    int sig = 0;
    while (sigwait(&sigs, &sig) != 0) {
    }
    if (verbose) {
        fprintf(stderr, "kvd: signal %d, shutting down\n", sig);
    }
    kv_net_stop(net);
    kv_graft_stop(graft);
    kv_store_destroy(srv.store);
    free(srv.stats);
    return 0;
}
