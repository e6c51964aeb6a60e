/*
 * bench_async_shadow.c: what the serving thread pays per call in legacy mode, in
 * synchronous shadow and in asynchronous shadow (issue 15.1), for a seam whose candidate
 * is ten times as slow as its legacy implementation (a 64-byte input; legacy mixes it
 * once, the candidate ten times). The three configurations run on one seam in one
 * process, interleaved in short rounds (the order rotates); each figure is the median
 * over rounds of ns per graft_call on the serving thread, and the ratio is the median of
 * each round's value over the same round's legacy value:
 *
 *   bench shadow.served.legacy: <ns> ns/call (1.00x legacy)
 *   bench shadow.served.sync: <ns> ns/call (<r>x legacy)
 *   bench shadow.served.async: <ns> ns/call (<r>x legacy)
 *   bench shadow.async.compared: <percent> % of async calls compared (<n> of <m>; the rest dropped)
 *
 * The executor's worker runs at idle priority, so on a busy machine most async calls are
 * dropped (counted, never waited for): that is the design, and the last line says how
 * many were compared here.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graft/graft.h"

typedef struct in64 {
    unsigned char b[64];
} in64;

static unsigned long mix(const in64 *in, int times)
{
    unsigned long h = 1469598103934665603ul;
    for (int t = 0; t < times; t++) {
        for (int i = 0; i < 64; i++) {
            h = (h ^ in->b[i]) * 1099511628211ul;
        }
    }
    return h;
}

static int legacy(void *ctx, const void *input, void *output)
{
    (void)ctx;
    unsigned long h = mix(input, 1);
    memcpy(output, &h, sizeof h);
    return GRAFT_OK;
}

static volatile unsigned long g_work;

static int candidate(void *ctx, const void *input, void *output)
{
    (void)ctx;
    g_work = mix(input, 9);          /* ten times the work ... */
    unsigned long h = mix(input, 1); /* ... for the same answer */
    memcpy(output, &h, sizeof h);
    return GRAFT_OK;
}

static size_t copy_input(void *ctx, const void *input, void *buf, size_t cap)
{
    (void)ctx;
    if (cap >= sizeof(in64)) {
        memcpy(buf, input, sizeof(in64));
    }
    return sizeof(in64);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { ROUNDS = 31, CALLS = 100000, CONFIGS = 3 };

static void configure(graft_seam *s, int c)
{
    graft_shadow_config sc;
    graft_shadow_config_init(&sc);
    sc.exec = c == 2 ? GRAFT_SHADOW_ASYNC : GRAFT_SHADOW_SYNC;
    if (graft_seam_set_shadow(s, &sc) != GRAFT_OK ||
        graft_seam_set_mode(s, c == 0 ? GRAFT_MODE_LEGACY : GRAFT_MODE_SHADOW, 0) != GRAFT_OK) {
        fprintf(stderr, "bench_async_shadow: cannot configure\n");
        exit(1);
    }
}

int main(void)
{
    graft_runtime *rt;
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.shadow_threads = 1;
    o.shadow_queue = 1024;
    if (graft_runtime_new(&o, &rt) != GRAFT_OK) {
        return 1;
    }
    graft_seam_def d;
    memset(&d, 0, sizeof d);
    d.name = "bench.async";
    d.legacy = legacy;
    d.candidate = candidate;
    d.output_size = sizeof(unsigned long);
    d.purity = GRAFT_PURITY_PURE;
    d.copy_input = copy_input;
    graft_seam *s;
    if (graft_seam_register(rt, &d, &s) != GRAFT_OK) {
        return 1;
    }
    static const char *const names[CONFIGS] = {"legacy", "sync", "async"};
    static double ns[CONFIGS][ROUNDS];
    in64 in;
    for (int i = 0; i < 64; i++) {
        in.b[i] = (unsigned char)(i * 7 + 1);
    }
    unsigned long out = 0, scratch = 0, sink = 0;
    graft_seam_stats before, after;
    graft_seam_stats_get(s, &before);
    uint64_t async_calls = 0;
    for (int r = 0; r < ROUNDS; r++) {
        for (int k = 0; k < CONFIGS; k++) {
            int c = (k + r) % CONFIGS;
            configure(s, c);
            double t0 = now_ns();
            for (int i = 0; i < CALLS; i++) {
                in.b[0] = (unsigned char)i;
                graft_call(s, (uint64_t)i, 0, &in, &out, &scratch);
                sink += out;
            }
            ns[c][r] = (now_ns() - t0) / CALLS;
            if (c == 2) {
                async_calls += CALLS;
            }
        }
    }
    graft_runtime_flush(rt);
    struct timespec ts = {0, 200 * 1000000};
    nanosleep(&ts, NULL); /* let the worker finish what it took */
    graft_seam_stats_get(s, &after);
    double ratio[CONFIGS][ROUNDS];
    for (int c = 0; c < CONFIGS; c++) {
        for (int r = 0; r < ROUNDS; r++) {
            ratio[c][r] = ns[c][r] / ns[0][r];
        }
    }
    for (int c = 0; c < CONFIGS; c++) {
        double m = median(ns[c], ROUNDS);
        double q = median(ratio[c], ROUNDS);
        printf("bench shadow.served.%s: %.1f ns/call (%.2fx legacy)\n", names[c], m, q);
    }
    uint64_t done = after.shadow_done - before.shadow_done;
    uint64_t dropped = after.shadow_dropped - before.shadow_dropped;
    printf("bench shadow.async.compared: %.1f %% of async calls compared (%llu of %llu; %llu "
           "dropped)\n",
           async_calls ? 100.0 * (double)done / (double)async_calls : 0.0, (unsigned long long)done,
           (unsigned long long)async_calls, (unsigned long long)dropped);
    if (after.mismatches != before.mismatches || sink == 42) {
        fprintf(stderr, "bench_async_shadow: %llu mismatches\n",
                (unsigned long long)(after.mismatches - before.mismatches));
        return 1;
    }
    graft_runtime_free(rt);
    return 0;
}
