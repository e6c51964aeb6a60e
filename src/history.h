/*
 * history.h: a seam's stage history (graft__history, embedded in the seam as `hist`)
 * and history.c's functions. Owned by history.c; seam.c (mode changes) and breaker.c
 * (openings and closings that reroute) record into it, metrics.c reads it.
 *
 * The ring is written without a lock, so a breaker transition on a serving thread can
 * record: a writer claims entry n with one fetch_add on `total`, marks its slot odd
 * (2n+1) while it writes the fields, then publishes 2(n+1). A reader copies an entry
 * only when it sees the same even sequence before and after reading it.
 */
#ifndef GRAFT_HISTORY_H
#define GRAFT_HISTORY_H

#include <stdatomic.h>
#include <stdint.h>

#include "graft/graft.h"

typedef struct graft__hist_slot {
    _Atomic uint64_t seq;  /* 2(n+1) once entry n is complete here; odd while written */
    _Atomic uint64_t word; /* mode | percent_bp << 8 | by << 24 | breaker << 32 */
    _Atomic uint64_t unix_ns, mono_ns;
} graft__hist_slot;

typedef struct graft__history {
    _Atomic uint64_t total; /* entries claimed since registration */
    graft__hist_slot ring[GRAFT_SEAM_HISTORY_CAP];
    _Atomic uint64_t changes[GRAFT_MODE_COUNT][GRAFT_CHANGE_CAUSE_COUNT];
} graft__history;

struct graft_seam;

void graft__history_init(graft__history *h);
/* Appends one change (any thread, no lock, no allocation). */
void graft__history_record(struct graft_seam *s, graft_mode mode, uint32_t percent_bp,
                           graft_change_cause by, graft_breaker_state breaker, uint64_t mono_ns);
/* Changes counted per (mode, cause) since registration: the metrics' counters. */
void graft__history_changes(const struct graft_seam *s,
                            uint64_t out[GRAFT_MODE_COUNT][GRAFT_CHANGE_CAUSE_COUNT]);

#endif /* GRAFT_HISTORY_H */
