/*
 * history.c: each seam's stage history (when it entered each mode, and by what: start,
 * configuration, the API, the breaker, a rollout plan), a bounded lock-free ring per
 * seam (history.h) with per-(mode, cause) counters, and the public reader
 * graft_seam_history. Recorded where the mode is stored (seam.c, breaker.c), never on
 * the success path of a call.
 *
 * Calls down only (log.c for the wall clock).
 */
#include <assert.h>
#include <string.h>

#include "internal.h"

#define GRAFT__CAUSE_NAME(suffix, number, name, meaning) [number] = name,
static const char *const graft__cause_names[GRAFT_CHANGE_CAUSE_COUNT] = {
    GRAFT_CHANGE_CAUSE_MAP(GRAFT__CAUSE_NAME)};
#undef GRAFT__CAUSE_NAME
#define GRAFT__CAUSE_ONE(suffix, number, name, meaning) +1
_Static_assert(0 GRAFT_CHANGE_CAUSE_MAP(GRAFT__CAUSE_ONE) == GRAFT_CHANGE_CAUSE_COUNT,
               "GRAFT_CHANGE_CAUSE_COUNT must be the number of GRAFT_CHANGE_CAUSE_MAP entries");
#undef GRAFT__CAUSE_ONE

const char *graft_change_cause_name(int by)
{
    if (by < 0 || by >= GRAFT_CHANGE_CAUSE_COUNT) {
        return NULL;
    }
    return graft__cause_names[by];
}

void graft__history_init(graft__history *h)
{
    atomic_init(&h->total, 0);
    for (size_t i = 0; i < GRAFT_SEAM_HISTORY_CAP; i++) {
        atomic_init(&h->ring[i].seq, 0);
        atomic_init(&h->ring[i].word, 0);
        atomic_init(&h->ring[i].unix_ns, 0);
        atomic_init(&h->ring[i].mono_ns, 0);
    }
    for (int m = 0; m < GRAFT_MODE_COUNT; m++) {
        for (int c = 0; c < GRAFT_CHANGE_CAUSE_COUNT; c++) {
            atomic_init(&h->changes[m][c], 0);
        }
    }
}

void graft__history_record(graft_seam *s, graft_mode mode, uint32_t percent_bp,
                           graft_change_cause by, graft_breaker_state breaker, uint64_t mono_ns)
{
    assert((int)mode >= 0 && (int)mode < GRAFT_MODE_COUNT);
    assert((int)by >= 0 && (int)by < GRAFT_CHANGE_CAUSE_COUNT);
    assert(percent_bp <= GRAFT_PERCENT_SCALE);
    graft__history *h = &s->hist;
    uint64_t n = atomic_fetch_add_explicit(&h->total, 1, memory_order_relaxed);
    graft__hist_slot *sl = &h->ring[n % GRAFT_SEAM_HISTORY_CAP];
    atomic_store_explicit(&sl->seq, 2 * n + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    uint64_t word = (uint64_t)mode | ((uint64_t)percent_bp << 8) | ((uint64_t)by << 24) |
                    ((uint64_t)breaker << 32);
    atomic_store_explicit(&sl->word, word, memory_order_relaxed);
    atomic_store_explicit(&sl->unix_ns, graft__unix_ns(), memory_order_relaxed);
    atomic_store_explicit(&sl->mono_ns, mono_ns, memory_order_relaxed);
    atomic_store_explicit(&sl->seq, 2 * (n + 1), memory_order_release);
    atomic_fetch_add_explicit(&h->changes[mode][by], 1, memory_order_relaxed);
}

void graft__history_changes(const graft_seam *s,
                            uint64_t out[GRAFT_MODE_COUNT][GRAFT_CHANGE_CAUSE_COUNT])
{
    for (int m = 0; m < GRAFT_MODE_COUNT; m++) {
        for (int c = 0; c < GRAFT_CHANGE_CAUSE_COUNT; c++) {
            out[m][c] = atomic_load_explicit(&s->hist.changes[m][c], memory_order_relaxed);
        }
    }
}

/* Copies entry n when it is complete and was not overwritten while being read. */
static bool graft__history_read(const graft__history *h, uint64_t n, graft_mode_change *out)
{
    const graft__hist_slot *sl = &h->ring[n % GRAFT_SEAM_HISTORY_CAP];
    uint64_t want = 2 * (n + 1);
    if (atomic_load_explicit(&sl->seq, memory_order_acquire) != want) {
        return false;
    }
    uint64_t word = atomic_load_explicit(&sl->word, memory_order_relaxed);
    uint64_t unix_ns = atomic_load_explicit(&sl->unix_ns, memory_order_relaxed);
    uint64_t mono_ns = atomic_load_explicit(&sl->mono_ns, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&sl->seq, memory_order_relaxed) != want) {
        return false;
    }
    out->mode = (graft_mode)(word & 0xFFu);
    out->percent_bp = (uint32_t)((word >> 8) & 0xFFFFu);
    out->by = (graft_change_cause)((word >> 24) & 0xFFu);
    out->breaker = (graft_breaker_state)((word >> 32) & 0xFFu);
    out->unix_ns = unix_ns;
    out->mono_ns = mono_ns;
    return true;
}

int graft_seam_history(const graft_seam *seam, graft_mode_change *out, size_t cap, size_t *n,
                       uint64_t *total)
{
    if (!seam || !n || (cap && !out)) {
        return GRAFT_ENULL;
    }
    const graft__history *h = &seam->hist;
    uint64_t t = atomic_load_explicit(&h->total, memory_order_acquire);
    uint64_t keep = cap < GRAFT_SEAM_HISTORY_CAP ? cap : GRAFT_SEAM_HISTORY_CAP;
    uint64_t first = t > keep ? t - keep : 0;
    size_t k = 0;
    for (uint64_t i = first; i < t; i++) {
        if (graft__history_read(h, i, &out[k])) {
            k++;
        }
    }
    *n = k;
    if (total) {
        *total = t;
    }
    return GRAFT_OK;
}
