/*
 * bench_probes.c: what the USDT probes (src/probes.h) cost graft_call's legacy fast path
 * while no tracer is attached, measured side by side in one run. Three loops of
 * graft_call in legacy mode on one seam, interleaved round by round, best of many short
 * rounds (as bench_runtime does):
 *
 *   shipped    graft_call as libgraft builds it: probes compiled in, semaphore 0
 *   noprobes   the same src/call.c compiled without probes (graft_call_noprobes)
 *   armed      graft_call with the probes' semaphore set by hand, as a tracer would, but
 *              no uprobe installed: the traced path (general path, clock reads, the
 *              probes' nops) without the tracer's own cost, a trap per fired probe
 *
 * Lines, `<value> (<value / baseline>x <baseline>)`:
 *   runtime.legacy.usdt             ns per call, shipped     (x noprobes)
 *   runtime.legacy.added.usdt       shipped - noprobes       (x noprobes' ns)
 *   runtime.legacy.usdt_armed       ns per call, armed       (x noprobes)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "graft/graft.h"

typedef struct bench_out {
    unsigned long v;
} bench_out;

int bench_legacy(void *ctx, const void *input, void *output);
int bench_candidate(void *ctx, const void *input, void *output);
int graft_call_noprobes(graft_seam *seam, uint64_t key, unsigned flags, const void *input,
                        void *output, void *scratch);

#ifdef BENCH_HAVE_PROBES
/* libgraft's provider semaphore (src/probes.c): hidden from the shared library, visible
 * to a static link. */
extern volatile unsigned short graft_probes_semaphore;
#endif

typedef int (*call_fn)(graft_seam *, uint64_t, unsigned, const void *, void *, void *);

static volatile unsigned long sink;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double run(call_fn call, graft_seam *seam, long n)
{
    unsigned long acc = 0;
    bench_out out, scratch;
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        unsigned long in = (unsigned long)i;
        call(seam, (uint64_t)i, 0, &in, &out, &scratch);
        acc += out.v;
    }
    double t = now_s() - t0;
    sink = acc;
    return t * 1e9 / (double)n;
}

int main(int argc, char **argv)
{
    /* bench_probes [calls per round] [rounds] */
    long n = argc > 1 ? atol(argv[1]) : 200000L;
    int rounds = argc > 2 ? atoi(argv[2]) : 200;
    graft_runtime *rt;
    if (graft_runtime_new(NULL, &rt) != GRAFT_OK) {
        return 1;
    }
    graft_seam_def d = {0};
    d.name = "bench.probes";
    d.legacy = bench_legacy;
    d.candidate = bench_candidate;
    d.output_size = sizeof(bench_out);
    graft_seam *s;
    if (graft_seam_register(rt, &d, &s) != GRAFT_OK ||
        graft_seam_set_mode(s, GRAFT_MODE_LEGACY, 0) != GRAFT_OK) {
        return 1;
    }
    double best_shipped = 1e9, best_noprobes = 1e9, best_armed = 1e9;
    run(graft_call, s, n / 10); /* warm up */
    for (int r = 0; r < rounds; r++) {
        double a = run(graft_call_noprobes, s, n);
        double b = run(graft_call, s, n);
        best_noprobes = a < best_noprobes ? a : best_noprobes;
        best_shipped = b < best_shipped ? b : best_shipped;
#ifdef BENCH_HAVE_PROBES
        if (r % 10 == 0) { /* the traced path is slower: fewer, shorter rounds */
            graft_probes_semaphore = 1;
            double c = run(graft_call, s, n / 10);
            graft_probes_semaphore = 0;
            best_armed = c < best_armed ? c : best_armed;
        }
#endif
    }
    printf("bench runtime.legacy.usdt: %.2f ns/call (%.2fx graft_call built without probes)\n",
           best_shipped, best_shipped / best_noprobes);
    printf("bench runtime.legacy.added.usdt: %.2f ns/call (%.2fx graft_call built without "
           "probes)\n",
           best_shipped - best_noprobes, (best_shipped - best_noprobes) / best_noprobes);
#ifdef BENCH_HAVE_PROBES
    printf("bench runtime.legacy.usdt_armed: %.2f ns/call (%.2fx graft_call built without "
           "probes; semaphore set, no uprobe: traced path without the tracer's traps)\n",
           best_armed, best_armed / best_noprobes);
#else
    printf("bench_probes: built without <sys/sdt.h>: both loops are probe-less\n");
#endif
    graft_seam_stats st;
    if (graft_seam_stats_get(s, &st) != GRAFT_OK || st.calls == 0) {
        return 1;
    }
    graft_runtime_free(rt);
    return 0;
}
