/*
 * bench_store_seam.c: what kv.store costs a store operation in legacy, in process, side
 * by side: the same store, the same keys and values, called directly (kv_store_*) and
 * through the adapter with the seam installed in legacy (kv_ss_*: one load of the stage
 * for a get; for a write the stateful layer's call: its per-thread sequence, a fence, the
 * policy load and the apply callback). Rounds alternate the two; the median round of
 * each counts. Single thread, 10,000 keys of 100-byte values, 50,000 operations a round,
 * 21 rounds; the time is the thread's CPU time (CLOCK_THREAD_CPUTIME_ID): on a machine
 * shared with other jobs wall time swings by 2x between runs.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../parse/bench_util.h"
#include "graft/graft.h"
#include "kv_store_seam.h"

#define KEYS 10000u
#define OPS 50000u
#define ROUNDS 21

static char keys[KEYS][16];
static uint32_t klen[KEYS];
static char value[100];

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint32_t bench_now(void)
{
    return 10;
}

static void noop_visit(void *ctx, const kv_item_view *v)
{
    (*(uint64_t *)ctx) += v->nbytes;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ns per operation of one round: sets (gets = 0) or gets. */
static double round_ns(kv_store *s, int routed, int gets, uint64_t *sink)
{
    double t0 = cpu_now();
    for (uint32_t i = 0; i < OPS; i++) {
        uint32_t k = rnd(KEYS);
        if (gets) {
            *sink +=
                (uint64_t)(routed ? kv_ss_get(s, keys[k], klen[k], 10, 0, 0, noop_visit, sink)
                                  : kv_store_get(s, keys[k], klen[k], 10, 0, 0, noop_visit, sink));
        } else if (routed) {
            *sink +=
                kv_ss_store(s, KV_MODE_SET, keys[k], klen[k], 0, 0, value, sizeof value, 0, 10);
        } else {
            *sink +=
                kv_store_store(s, KV_MODE_SET, keys[k], klen[k], 0, 0, value, sizeof value, 0, 10);
        }
    }
    return (cpu_now() - t0) * 1e9 / OPS;
}

int main(void)
{
    memset(value, 'v', sizeof value);
    for (uint32_t i = 0; i < KEYS; i++) {
        klen[i] = (uint32_t)snprintf(keys[i], sizeof keys[i], "key:%u", i);
    }
    kv_store_config cfg = {256u * 1024 * 1024, 1024 * 1024, 1000000, 0};
    kv_ss *ss = NULL;
    graft_runtime *rt = NULL;
    if (kv_ss_create(&cfg, &ss) != GRAFT_OK || graft_runtime_new(NULL, &rt) != GRAFT_OK ||
        kv_ss_install(ss, rt, bench_now) != GRAFT_OK) {
        fprintf(stderr, "bench_store_seam: set-up failed\n");
        return 1;
    }
    kv_store *s = kv_ss_legacy(ss);
    uint64_t sink = 0;
    for (uint32_t i = 0; i < KEYS; i++) {
        kv_store_store(s, KV_MODE_SET, keys[i], klen[i], 0, 0, value, sizeof value, 0, 10);
    }
    double r[2][2][ROUNDS]; /* [gets][routed][round] */
    for (int round = 0; round < ROUNDS; round++) {
        for (int gets = 0; gets < 2; gets++) {
            for (int routed = 0; routed < 2; routed++) {
                r[gets][routed][round] = round_ns(s, routed, gets, &sink);
            }
        }
    }
    static const char *const op[2] = {"set", "get"};
    for (int gets = 0; gets < 2; gets++) {
        qsort(r[gets][0], ROUNDS, sizeof(double), cmp_double);
        qsort(r[gets][1], ROUNDS, sizeof(double), cmp_double);
        double d = r[gets][0][ROUNDS / 2], l = r[gets][1][ROUNDS / 2];
        printf("bench kv_store_direct_%s: %.1f ns/op (1.00x kv_store_direct_%s: kv_store_%s on "
               "the legacy store)\n",
               op[gets], d, op[gets], gets ? "get" : "store");
        printf("bench kv_store_seam_legacy_%s: %.1f ns/op (%.2fx kv_store_direct_%s: kv_ss_%s, "
               "kv.store installed in legacy; +%.1f ns)\n",
               op[gets], l, l / d, op[gets], gets ? "get" : "store", l - d);
    }
    kv_ss_uninstall(ss);
    graft_runtime_free(rt);
    kv_ss_destroy(ss);
    return sink == 0; /* never: keeps the calls */
}
