/*
 * rt_fixture.h: shared helpers of the libgraft unit tests: a toy component with a
 * legacy and a candidate implementation whose behaviour each test steers, a fake
 * clock, and a log capture.
 */
#ifndef RT_FIXTURE_H
#define RT_FIXTURE_H

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "graft/graft.h"

/* The toy component: output = input * 2 (+ candidate_bias for the candidate). */
typedef struct toy_out {
    long value;
    int released; /* set by release: to check every non-returned output is released */
} toy_out;

typedef struct toy {
    atomic_int legacy_calls, candidate_calls, releases, normalizes;
    int candidate_status; /* status the candidate returns */
    long candidate_bias;  /* added to the candidate's output */
    int legacy_status;
    int panic_armed; /* set by arm_panic, consumed by the candidate */
} toy;

static inline int toy_legacy(void *ctx, const void *input, void *output)
{
    toy *t = ctx;
    atomic_fetch_add(&t->legacy_calls, 1);
    toy_out *o = output;
    o->value = *(const long *)input * 2;
    o->released = 0;
    return t->legacy_status;
}

static _Thread_local int toy_tls_panic;

static inline void toy_arm_panic(void)
{
    toy_tls_panic = 1;
}

static inline int toy_candidate(void *ctx, const void *input, void *output)
{
    toy *t = ctx;
    atomic_fetch_add(&t->candidate_calls, 1);
    if (toy_tls_panic) {
        /* What the FFI crate's boundary does after graft_ffi_fault_arm_panic. */
        toy_tls_panic = 0;
        return GRAFT_EPANIC;
    }
    toy_out *o = output;
    o->value = *(const long *)input * 2 + t->candidate_bias;
    o->released = 0;
    return t->candidate_status;
}

static inline void toy_release(void *ctx, void *output)
{
    toy *t = ctx;
    atomic_fetch_add(&t->releases, 1);
    ((toy_out *)output)->released = 1;
}

static inline int toy_compare(void *ctx, const void *input, const void *a, const void *b)
{
    (void)ctx;
    (void)input;
    return ((const toy_out *)a)->value != ((const toy_out *)b)->value;
}

static inline size_t toy_describe(void *ctx, const void *input, const void *output, char *buf,
                                  size_t cap)
{
    (void)ctx;
    (void)input;
    return (size_t)snprintf(buf, cap, "value=%ld", ((const toy_out *)output)->value);
}

static inline size_t toy_serialize(void *ctx, const void *input, void *buf, size_t cap)
{
    (void)ctx;
    int n = snprintf(buf, cap, "%ld\n", *(const long *)input);
    return (size_t)n;
}

static inline graft_seam_def toy_def(const char *name, toy *t)
{
    graft_seam_def d;
    memset(&d, 0, sizeof d);
    d.name = name;
    d.ctx = t;
    d.legacy = toy_legacy;
    d.candidate = toy_candidate;
    d.output_size = sizeof(toy_out);
    d.compare = toy_compare;
    d.release = toy_release;
    d.describe_output = toy_describe;
    d.serialize_input = toy_serialize;
    return d;
}

/* Fake clock: tests move time by hand; "sleep" advances it. */
typedef struct fake_clock {
    _Atomic uint64_t now;
} fake_clock;

static inline uint64_t fake_now(void *ctx)
{
    return atomic_load(&((fake_clock *)ctx)->now);
}

static inline void fake_sleep(void *ctx, uint64_t ns)
{
    atomic_fetch_add(&((fake_clock *)ctx)->now, ns);
}

/* Log capture: keeps the last line and counts lines per target prefix. */
typedef struct log_cap {
    atomic_int lines;
    atomic_int mismatch_lines;
    atomic_int breaker_lines;
    char last[1024];
} log_cap;

static inline void log_capture(void *ctx, int level, const char *target, const char *message)
{
    (void)level;
    log_cap *l = ctx;
    atomic_fetch_add(&l->lines, 1);
    if (strcmp(target, "graft.mismatch") == 0) {
        atomic_fetch_add(&l->mismatch_lines, 1);
        snprintf(l->last, sizeof l->last, "%s", message);
    }
    if (strcmp(target, "graft.breaker") == 0)
        atomic_fetch_add(&l->breaker_lines, 1);
}

#endif
