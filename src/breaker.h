/*
 * breaker.h: the circuit breaker's state of one seam (graft__breaker, embedded in the
 * seam as `brk`) and breaker.c's functions. Owned by breaker.c: other files read
 * `state` and `reroute` (atomics) and call the functions below, nothing else.
 */
#ifndef GRAFT_BREAKER_H
#define GRAFT_BREAKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graft/graft.h"

#define GRAFT__EVENTS 16         /* recent breaker transitions kept per seam */
#define GRAFT__WINDOW_BUCKETS 10 /* breaker window granularity */

/* Cumulative candidate outcomes read from slots, for the breaker window. */
typedef struct graft__bk_counts {
    uint64_t calls, failures, timed, slow, compared, mismatches;
} graft__bk_counts;

typedef struct graft__bk_entry {
    uint64_t bucket; /* time bucket index (now / bucket width) */
    graft__bk_counts c;
} graft__bk_entry;

typedef struct graft__bk_event {
    uint64_t mono_ns, unix_ns;
    graft_breaker_state from, to;
    char reason[96];
} graft__bk_event;

typedef struct graft__breaker {
    _Atomic int state;    /* graft_breaker_state; read by the call path */
    _Atomic int reroute;  /* 1 when the state changes routing (not observe-only) */
    pthread_mutex_t lock; /* try-locked from the call path; guards what follows */
    graft_breaker_config cfg;
    uint64_t base_cooldown_ns, cooldown_ns;
    uint64_t since_ns;      /* time of the last transition */
    _Atomic uint64_t until; /* open: when to half-open; half-open: deadline */
    _Atomic uint64_t next_eval;
    _Atomic int permits;
    _Atomic uint32_t trial_ok, trial_fail;
    graft__bk_entry ring[GRAFT__WINDOW_BUCKETS + 4];
    size_t ring_n;
    graft__bk_counts base; /* counts at the last reset (window origin) */
    graft__bk_counts last_window;
    graft__bk_event events[GRAFT__EVENTS];
    uint64_t event_total;
    bool hist_open; /* an opening was recorded in the stage history, no closing yet */
    _Atomic uint64_t opens, transitions;
} graft__breaker;

void graft__breaker_init(graft_seam *s);
void graft__breaker_destroy(graft_seam *s);
void graft__breaker_apply(graft_seam *s, const graft_breaker_config *cfg);
/* Forces the breaker closed and clears its window (graft_seam_reset_breaker). */
void graft__breaker_reset(graft_seam *s);
void graft__breaker_poll(graft_seam *s, uint64_t now, bool force);
/* Whether the candidate may run for a routed call; counts half-open permits. */
bool graft__breaker_admit(graft_seam *s, uint64_t *now, bool *trial);
void graft__breaker_trial_done(graft_seam *s, bool ok);
void graft__breaker_counts(const graft_seam *s, graft__bk_counts *out);
bool graft__validate_breaker(const graft_breaker_config *b, char *err, size_t errlen);

#endif /* GRAFT_BREAKER_H */
