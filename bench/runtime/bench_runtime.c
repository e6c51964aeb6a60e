/*
 * bench_runtime.c: nanoseconds a seam adds over calling the implementations directly,
 * per mode, with metrics on as graft ships them: per-thread counters, and latency timed
 * on 1 call in 256 on average (time_sample_every 0, graft.h's default; the period is
 * jittered), which the end of main checks. Baselines are measured in the same run,
 * interleaved with the seam runs, and each figure is the best of many short rounds
 * (short, so that on a shared machine some rounds run undisturbed).
 *
 * Two lines per mode, both `<value> (<value / baseline>x <baseline>)`:
 *   runtime.<mode>        ns per graft_call            (x the baseline's ns per call)
 *   runtime.<mode>.added  ns the seam adds (seam - baseline)  (x the baseline's ns per call)
 *
 *   legacy     graft_call in legacy mode      vs a direct call of the legacy impl
 *   candidate  graft_call in candidate mode   vs a direct call of the candidate impl
 *   shadow     graft_call in shadow mode      vs calling legacy, candidate and compare
 *   canary     graft_call in canary mode 10%  vs a direct call (both impls cost the same)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graft/graft.h"

typedef struct bench_out {
    unsigned long v;
} bench_out;

int bench_legacy(void *ctx, const void *input, void *output);
int bench_candidate(void *ctx, const void *input, void *output);
int bench_compare(void *ctx, const void *input, const void *a, const void *b);

static volatile unsigned long sink;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef enum { B_DIRECT_ONE, B_DIRECT_BOTH, B_SEAM } bench_kind;

static double run(bench_kind kind, graft_seam *seam, long n)
{
    unsigned long acc = 0;
    bench_out out, scratch;
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        unsigned long in = (unsigned long)i;
        switch (kind) {
        case B_DIRECT_ONE:
            bench_legacy(NULL, &in, &out);
            break;
        case B_DIRECT_BOTH:
            bench_legacy(NULL, &in, &out);
            bench_candidate(NULL, &in, &scratch);
            acc += (unsigned long)bench_compare(NULL, &in, &out, &scratch);
            break;
        case B_SEAM:
            graft_call(seam, (uint64_t)i, 0, &in, &out, &scratch);
            break;
        }
        acc += out.v;
    }
    double t = now_s() - t0;
    sink = acc;
    return t * 1e9 / (double)n;
}

int main(int argc, char **argv)
{
    /* bench_runtime [calls per round] [rounds] [only this mode] */
    long n = argc > 1 ? atol(argv[1]) : 200000L;
    int rounds = argc > 2 ? atoi(argv[2]) : 200;
    const char *only = argc > 3 ? argv[3] : NULL;
    graft_runtime *rt;
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    if (graft_runtime_new(&o, &rt) != GRAFT_OK)
        return 1;
    graft_seam_def d = {0};
    d.name = "bench.seam";
    d.legacy = bench_legacy;
    d.candidate = bench_candidate;
    d.compare = bench_compare;
    d.output_size = sizeof(bench_out);
    graft_seam *s;
    if (graft_seam_register(rt, &d, &s) != GRAFT_OK)
        return 1;

    struct {
        const char *name;
        graft_mode mode;
        uint32_t bp;
        bench_kind base;
        const char *base_name;
        double best_seam, best_base;
    } m[] = {
        {"legacy", GRAFT_MODE_LEGACY, 0, B_DIRECT_ONE, "direct call", 1e9, 1e9},
        {"candidate", GRAFT_MODE_CANDIDATE, 0, B_DIRECT_ONE, "direct call", 1e9, 1e9},
        {"shadow", GRAFT_MODE_SHADOW, 0, B_DIRECT_BOTH, "direct legacy+candidate+compare", 1e9,
         1e9},
        {"canary10", GRAFT_MODE_CANARY, 1000, B_DIRECT_ONE, "direct call", 1e9, 1e9},
    };
    const int nm = (int)(sizeof m / sizeof m[0]);
    run(B_DIRECT_ONE, s, n / 10); /* warm up */
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < nm; i++) {
            if (only && strcmp(only, m[i].name) != 0)
                continue;
            graft_seam_set_mode(s, m[i].mode, m[i].bp);
            double b = run(m[i].base, s, n);
            double v = run(B_SEAM, s, n);
            if (b < m[i].best_base)
                m[i].best_base = b;
            if (v < m[i].best_seam)
                m[i].best_seam = v;
        }
    }
    for (int i = 0; i < nm; i++) {
        if (only && strcmp(only, m[i].name) != 0)
            continue;
        double added = m[i].best_seam - m[i].best_base;
        printf("bench runtime.%s: %.2f ns/call (%.2fx %s)\n", m[i].name, m[i].best_seam,
               m[i].best_seam / m[i].best_base, m[i].base_name);
        /* The added time as a multiple of the baseline's own time, so that value and
         * ratio describe the same quantity (not the ratio of the totals again). */
        printf("bench runtime.%s.added: %.2f ns/call (%.2fx %s)\n", m[i].name, added,
               added / m[i].best_base, m[i].base_name);
    }
    graft_seam_stats st;
    graft_seam_stats_get(s, &st);
    /* The seam really ran with metrics on: every call counted, and about 1 call in 256
     * timed (a timed shadow call times both implementations, so the calls per timing
     * run from 128, shadow only, to 256). */
    uint64_t timings =
        st.impl[GRAFT_IMPL_LEGACY].latency.count + st.impl[GRAFT_IMPL_CANDIDATE].latency.count;
    double per_timing = timings ? (double)st.calls / (double)timings : 0.0;
    if (st.calls == 0 || per_timing < 100.0 || per_timing > 400.0) {
        fprintf(stderr, "bench_runtime: %llu calls, %llu timings (1 in %.0f): expected ~1 in 256\n",
                (unsigned long long)st.calls, (unsigned long long)timings, per_timing);
        return 1;
    }
    graft_runtime_free(rt);
    return 0;
}
