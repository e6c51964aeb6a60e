/*
 * bench_util.h: what the kvd component benchmarks share: a seeded xorshift generator
 * (the same sequence in every run, so inputs are identical across builds) and a
 * monotonic clock in seconds.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdint.h>
#include <time.h>

static uint64_t bench_rng = 0x9e3779b97f4a7c15ull;

/* 0..n-1, from the fixed-seed xorshift sequence. */
static inline uint32_t rnd(uint32_t n)
{
    bench_rng ^= bench_rng << 13;
    bench_rng ^= bench_rng >> 7;
    bench_rng ^= bench_rng << 17;
    return (uint32_t)(bench_rng % n);
}

static inline double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif /* BENCH_UTIL_H */
