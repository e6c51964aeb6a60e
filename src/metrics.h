/*
 * metrics.h: what metrics.c keeps per seam for the recent-window latency percentiles
 * (graft__recent, the seam's `recent`) and the helpers it offers to the call path
 * (histogram buckets) and to snapshots. Creating and freeing a graft__recent is inline
 * here so seam.c need not call into metrics.c, which calls seam.c's getters.
 */
#ifndef GRAFT_METRICS_H
#define GRAFT_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "graft/graft.h"

/* Log-linear histogram: 8 linear sub-buckets per power of two, up to 2^37 ns. */
#define GRAFT__HIST_SUB_BITS 3
#define GRAFT__HIST_MAX_EXP 36
#define GRAFT__HIST_BUCKETS (((GRAFT__HIST_MAX_EXP)-1) * 8 + 8)
/* Recent-window latency (JSON snapshot): one kept histogram per step, a window long. */
#define GRAFT__RECENT_WINDOW_NS (60ull * 1000000000ull)
#define GRAFT__RECENT_STEP_NS (5ull * 1000000000ull)
#define GRAFT__RECENT_SNAPS (GRAFT__RECENT_WINDOW_NS / GRAFT__RECENT_STEP_NS + 2)

/* Cumulative latency histograms kept for the recent-window percentiles (metrics.c). */
typedef struct graft__recent {
    pthread_mutex_t lock;
    size_t n;
    struct {
        uint64_t mono_ns;
        uint64_t h[2][GRAFT__HIST_BUCKETS];
    } snap[GRAFT__RECENT_SNAPS];
} graft__recent;

/* Percentiles over about the last GRAFT__RECENT_WINDOW_NS (see metrics.c): the kept
 * snapshots start with one of all zeros at registration time. */
static inline void graft__recent_init(graft__recent *r, uint64_t now)
{
    pthread_mutex_init(&r->lock, NULL);
    memset(r->snap, 0, sizeof r->snap);
    r->snap[0].mono_ns = now;
    r->n = 1;
}

static inline void graft__recent_destroy(graft__recent *r)
{
    pthread_mutex_destroy(&r->lock);
}

/* counters.c */
uint64_t graft__slot_sum(const graft_seam *s, int ctr);
/* graft_metrics_json, with each seam's lifetime latency histograms ("latency_hist")
 * when with_hist: the report lines (runtime.c). */
int graft__metrics_json(graft_runtime *rt, bool with_hist, char **out, size_t *len);
size_t graft__hist_index(uint64_t ns);
uint64_t graft__hist_upper(size_t idx);

#endif /* GRAFT_METRICS_H */
