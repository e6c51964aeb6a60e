/*
 * mismatch.h: what a seam keeps about mismatches (owned by mismatch.c): the log rate
 * limit, the ring of recent samples, and the capture settings and counters. Embedded
 * in the seam as `mlog`, `samples` and `cap`.
 */
#ifndef GRAFT_MISMATCH_H
#define GRAFT_MISMATCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "graft/graft.h"

#define GRAFT__SAMPLES 16   /* recent mismatch samples kept per seam */
#define GRAFT__DESC_MAX 160 /* bytes of an output description kept/logged */

typedef struct graft__mlog {
    _Atomic uint32_t per_second; /* mismatch log lines per second (0: none) */
    _Atomic uint64_t window;     /* (second << 20) | lines in that second */
    _Atomic uint64_t suppressed; /* lines not written since the last one */
} graft__mlog;

typedef struct graft__sample {
    uint64_t unix_ns;
    uint64_t key;
    bool has_key;
    char legacy[GRAFT__DESC_MAX];
    char candidate[GRAFT__DESC_MAX];
} graft__sample;

typedef struct graft__samples {
    pthread_mutex_t lock; /* try-locked from the call path */
    graft__sample ring[GRAFT__SAMPLES];
    uint64_t total;
} graft__samples;

typedef struct graft__capture {
    pthread_mutex_t lock; /* writer thread and setters; never the call path */
    char dir[1024];
    uint32_t max_files;
    uint64_t max_bytes;
    _Atomic int on; /* dir set and payload buffers exist */
    _Atomic uint64_t files, bytes, seq, dropped;
    _Atomic uint64_t too_large; /* inputs over GRAFT__CAPTURE_MAX */
    _Atomic int too_large_warned;
} graft__capture;

void graft__on_mismatch(graft_seam *s, uint64_t key, bool has_key, const void *input,
                        const void *legacy_out, const void *candidate_out);

#endif /* GRAFT_MISMATCH_H */
