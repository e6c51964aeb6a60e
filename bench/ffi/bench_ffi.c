/* What a crossing costs: nanoseconds per call of a trivial non-inlined C→C call, a bare
 * C→Rust call, a C→Rust call through graft-ffi's panic boundary (boundary::value), and
 * the usual component shape (borrowed bytes in, out-parameter, status through
 * boundary::status). Each figure is the best of several rounds, measured side by side
 * in one run; every call depends on the previous result so calls cannot overlap.
 *
 * Usage: bench_ffi [calls per round, default 20000000] */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "c_callee.h"
#include "graft_ffi_testkit.h"

enum { ROUNDS = 7 };

/* The optimisation levels the C-versus-Rust ratios compare (bench/CMakeLists.txt). */
#ifndef GRAFT_BENCH_OPT
#define GRAFT_BENCH_OPT "optimisation levels unknown"
#endif

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static volatile uint64_t sink;

static double run_c(uint64_t n)
{
    uint64_t x = 0, t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        x = bench_c_callee(x);
    }
    uint64_t t1 = now_ns();
    sink = x;
    return (double)(t1 - t0) / (double)n;
}

static double run_rust_raw(uint64_t n)
{
    uint64_t x = 0, t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        x = graft_testkit_bench_raw(x);
    }
    uint64_t t1 = now_ns();
    sink = x;
    return (double)(t1 - t0) / (double)n;
}

static double run_rust_boundary(uint64_t n)
{
    uint64_t x = 0, t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        x = graft_testkit_bench_boundary(x);
    }
    uint64_t t1 = now_ns();
    sink = x;
    return (double)(t1 - t0) / (double)n;
}

static double run_rust_status(uint64_t n)
{
    uint8_t data[16] = {1};
    uint64_t out = 0, t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        if (graft_testkit_bench_status(data, 1 + (out & 7), &out) != GRAFT_OK) {
            fprintf(stderr, "bench_ffi: graft_testkit_bench_status failed\n");
            exit(1);
        }
    }
    uint64_t t1 = now_ns();
    sink = out;
    return (double)(t1 - t0) / (double)n;
}

static double min(double a, double b)
{
    return a < b ? a : b;
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000u;
    if (n == 0) {
        fprintf(stderr, "usage: bench_ffi [calls per round > 0]\n");
        return 2;
    }
    /* Sanity: the functions compute what they should. */
    if (bench_c_callee(41) != 42 || graft_testkit_bench_raw(41) != 42 ||
        graft_testkit_bench_boundary(41) != 42) {
        fprintf(stderr, "bench_ffi: wrong results\n");
        return 1;
    }
    double c = 1e30, raw = 1e30, bnd = 1e30, st = 1e30;
    for (int r = 0; r < ROUNDS; r++) { /* interleaved, so drift hits all alike */
        c = min(c, run_c(n));
        raw = min(raw, run_rust_raw(n));
        bnd = min(bnd, run_rust_boundary(n));
        st = min(st, run_rust_status(n));
    }
    printf("bench ffi_c_call: %.2f ns/call (1.00x c_call)\n", c);
    printf("bench ffi_rust_call: %.2f ns/call (%.2fx c_call, %s)\n", raw, raw / c, GRAFT_BENCH_OPT);
    printf("bench ffi_rust_boundary_call: %.2f ns/call (%.2fx c_call, %s)\n", bnd, bnd / c,
           GRAFT_BENCH_OPT);
    printf("bench ffi_rust_boundary_status_call: %.2f ns/call (%.2fx c_call, %s)\n", st, st / c,
           GRAFT_BENCH_OPT);
    return 0;
}
