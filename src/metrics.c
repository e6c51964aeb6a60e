/*
 * metrics.c: snapshots of the per-thread counters (graft_seam_stats_get), latency
 * percentiles from the log-linear histograms, and the two renderings: Prometheus text
 * exposition and a JSON document (json.h's writer). The shapes are documented in
 * docs/RUNTIME.md and consumed by the admin endpoint and dashboard: keep them stable.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "json.h"

/* Sums one implementation's histogram over every slot into h; returns the count. */
static uint64_t graft__hist_sum(const graft_seam *s, int impl, uint64_t h[GRAFT__HIST_BUCKETS],
                                uint64_t *max_ns, uint64_t *sum_ns)
{
    uint64_t count = 0, max = 0, sum = 0;
    memset(h, 0, sizeof(uint64_t) * GRAFT__HIST_BUCKETS);
    for (int i = 0; i <= GRAFT__SLOTS; i++) {
        const graft__slot *sl = &s->slots[i];
        for (size_t b = 0; b < GRAFT__HIST_BUCKETS; b++) {
            uint64_t v = atomic_load_explicit(&sl->hist[impl][b], memory_order_relaxed);
            h[b] += v;
            count += v;
        }
        uint64_t m = atomic_load_explicit(&sl->max_ns[impl], memory_order_relaxed);
        if (m > max) {
            max = m;
        }
        sum += atomic_load_explicit(&sl->c[GRAFT__CI(impl, GRAFT__I_SUM_NS)], memory_order_relaxed);
    }
    if (max_ns) {
        *max_ns = max;
    }
    if (sum_ns) {
        *sum_ns = sum;
    }
    return count;
}

/* Percentiles of a histogram: for each, the smallest bucket whose cumulative count
 * reaches q of the total, reported as its upper bound capped by `max`. */
static void graft__percentiles(const uint64_t h[GRAFT__HIST_BUCKETS], uint64_t count, uint64_t max,
                               graft_latency *out)
{
    memset(out, 0, sizeof *out);
    out->count = count;
    out->max_ns = max;
    if (count == 0) {
        return;
    }
    const double qs[3] = {0.50, 0.90, 0.99};
    uint64_t *dst[3] = {&out->p50_ns, &out->p90_ns, &out->p99_ns};
    for (int q = 0; q < 3; q++) {
        uint64_t rank = (uint64_t)(qs[q] * (double)count + 0.999999);
        if (rank == 0) {
            rank = 1;
        }
        uint64_t acc = 0;
        for (size_t b = 0; b < GRAFT__HIST_BUCKETS; b++) {
            acc += h[b];
            if (acc >= rank) {
                uint64_t u = graft__hist_upper(b);
                *dst[q] = u < max ? u : max;
                break;
            }
        }
    }
}

static void graft__latency(const graft_seam *s, int impl, graft_latency *out, uint64_t *sum_ns,
                           uint64_t h[GRAFT__HIST_BUCKETS])
{
    uint64_t max;
    uint64_t count = graft__hist_sum(s, impl, h, &max, sum_ns);
    graft__percentiles(h, count, max, out);
}

/* ------------------------------------------------------------------ recent window */

/* Percentiles over about the last GRAFT__RECENT_WINDOW_NS: cumulative histograms are
 * kept at most one per GRAFT__RECENT_STEP_NS, taken when a snapshot is asked for (the
 * dashboard polls), and the recent histogram is "now minus the newest kept one at least
 * a window old" (or the oldest kept, when the process or the polling is younger). */
/* h: the current cumulative histograms (both impls); fills out[2] and *window_ns. */
static void graft__recent_latency(graft_seam *s, const uint64_t h[2][GRAFT__HIST_BUCKETS],
                                  const uint64_t max[2], graft_latency out[2], uint64_t *window_ns)
{
    graft__recent *r = s->recent;
    uint64_t now = graft__now(s->rt);
    pthread_mutex_lock(&r->lock);
    if (now >= r->snap[r->n - 1].mono_ns + GRAFT__RECENT_STEP_NS) {
        if (r->n == GRAFT__RECENT_SNAPS) {
            memmove(&r->snap[0], &r->snap[1], (r->n - 1) * sizeof r->snap[0]);
            r->n--;
        }
        r->snap[r->n].mono_ns = now;
        memcpy(r->snap[r->n].h, h, sizeof r->snap[r->n].h);
        r->n++;
    }
    size_t base = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (r->snap[i].mono_ns + GRAFT__RECENT_WINDOW_NS <= now) {
            base = i;
        }
    }
    *window_ns = now - r->snap[base].mono_ns;
    for (int im = 0; im < 2; im++) {
        uint64_t d[GRAFT__HIST_BUCKETS];
        uint64_t count = 0, top = 0;
        for (size_t b = 0; b < GRAFT__HIST_BUCKETS; b++) {
            d[b] = h[im][b] - r->snap[base].h[im][b];
            count += d[b];
            if (d[b]) {
                top = graft__hist_upper(b);
            }
        }
        graft__percentiles(d, count, top < max[im] ? top : max[im], &out[im]);
    }
    pthread_mutex_unlock(&r->lock);
}

/* ------------------------------------------------------------------ stats */

static void graft__stats(graft_seam *s, graft_seam_stats *st, uint64_t sums[2],
                         uint64_t hist[2][GRAFT__HIST_BUCKETS])
{
    uint64_t scratch[GRAFT__HIST_BUCKETS] = {0};
    /* Time-based breaker transitions (cool-down over, half-open deadline passed) are
     * due even when no call arrives to notice them: a snapshot notices them too. */
    int bst = atomic_load_explicit(&s->brk.state, memory_order_acquire);
    if (bst == GRAFT_BREAKER_OPEN || bst == GRAFT_BREAKER_HALF_OPEN) {
        graft__breaker_poll(s, graft__now(s->rt), true);
    }
    memset(st, 0, sizeof *st);
    uint64_t w = atomic_load_explicit(&s->route, memory_order_acquire);
    st->mode = (graft_mode)(w & GRAFT__ROUTE_MODE_MASK);
    st->percent_bp = (uint32_t)((w >> GRAFT__ROUTE_PCT_SHIFT) & GRAFT__ROUTE_PCT_MASK);
    uint64_t c[GRAFT__C_COUNT];
    graft__counters(s, c);
    st->calls = c[GRAFT__C_CALLS];
    for (int m = 0; m < GRAFT_MODE_COUNT; m++) {
        st->calls_by_mode[m] = c[GRAFT__C_BY_MODE + m];
    }
    for (int i = 0; i < 2; i++) {
        st->impl[i].calls = c[GRAFT__CI(i, GRAFT__I_CALLS)];
        st->impl[i].served = c[GRAFT__CI(i, GRAFT__I_SERVED)];
        st->impl[i].errors = c[GRAFT__CI(i, GRAFT__I_ERRORS)];
        st->impl[i].panics = c[GRAFT__CI(i, GRAFT__I_PANICS)];
        graft__latency(s, i, &st->impl[i].latency, sums ? &sums[i] : NULL,
                       hist ? hist[i] : scratch);
    }
    st->fallbacks = c[GRAFT__C_FALLBACKS];
    st->failure_outputs = c[GRAFT__C_FAIL_OUTPUTS];
    st->compared = c[GRAFT__C_COMPARED];
    st->mismatches = c[GRAFT__C_MISMATCHES];
    st->compare_skipped = c[GRAFT__C_COMPARE_SKIPPED];
    st->captures = atomic_load_explicit(&s->cap.files, memory_order_relaxed);
    st->breaker_state =
        (graft_breaker_state)atomic_load_explicit(&s->brk.state, memory_order_acquire);
    st->breaker_opens = atomic_load_explicit(&s->brk.opens, memory_order_relaxed);
    st->breaker_transitions = atomic_load_explicit(&s->brk.transitions, memory_order_relaxed);
    st->breaker_rejected = c[GRAFT__C_BREAKER_REJECTED];
    st->faults_injected = c[GRAFT__C_FAULTS];
    st->shadow_enqueued = c[GRAFT__C_SH_ENQUEUED];
    st->shadow_dropped = c[GRAFT__C_SH_DROPPED];
    st->shadow_overran = c[GRAFT__C_SH_OVERRAN];
    st->shadow_done = c[GRAFT__C_SH_DONE];
}

int graft_seam_stats_get(graft_seam *seam, graft_seam_stats *out)
{
    if (!seam || !out) {
        return GRAFT_ENULL;
    }
    graft_seam_stats st;
    graft__stats(seam, &st, NULL, NULL);
    *out = st;
    return GRAFT_OK;
}

/* ------------------------------------------------------------------ JSON */

/* The fields of a latency object (the caller opens and closes it). */
static void graft__json_latency(graft__jw *w, const graft_latency *l)
{
    graft__jw_u64(w, "count", l->count);
    graft__jw_u64(w, "p50_ns", l->p50_ns);
    graft__jw_u64(w, "p90_ns", l->p90_ns);
    graft__jw_u64(w, "p99_ns", l->p99_ns);
    graft__jw_u64(w, "max_ns", l->max_ns);
}

static double graft__pct(uint32_t bp)
{
    return (double)bp / 100.0;
}

/* "history": the stage history, oldest first; "history_total": changes since
 * registration (more than the array holds once the ring has wrapped). */
static void graft__json_history(graft__jw *w, const graft_seam *s)
{
    graft_mode_change h[GRAFT_SEAM_HISTORY_CAP];
    size_t n = 0;
    uint64_t total = 0;
    graft_seam_history(s, h, GRAFT_SEAM_HISTORY_CAP, &n, &total);
    graft__jw_arr(w, "history");
    for (size_t i = 0; i < n; i++) {
        graft__jw_obj(w, NULL);
        graft__jw_str(w, "mode", graft_mode_name(h[i].mode));
        graft__jw_num(w, "percent", graft__pct(h[i].percent_bp));
        graft__jw_u64(w, "unix_ms", h[i].unix_ns / 1000000ull);
        graft__jw_u64(w, "mono_ns", h[i].mono_ns);
        graft__jw_str(w, "by", graft_change_cause_name(h[i].by));
        graft__jw_str(w, "breaker", graft_breaker_state_name(h[i].breaker));
        graft__jw_end(w);
    }
    graft__jw_end(w);
    graft__jw_u64(w, "history_total", total);
}

/* "shadow": where shadow mode runs the candidate and the executor's counters. */
static void graft__json_shadow(graft__jw *w, const graft_seam *s, const graft_seam_stats *st)
{
    graft_shadow_config sc;
    graft_seam_get_shadow(s, &sc);
    graft__jw_obj(w, "shadow");
    graft__jw_str(w, "exec", graft_shadow_exec_name(sc.exec));
    graft__jw_u64(w, "deadline_ns", sc.deadline_ns);
    graft__jw_u64(w, "enqueued", st->shadow_enqueued);
    graft__jw_u64(w, "dropped", st->shadow_dropped);
    graft__jw_u64(w, "overran", st->shadow_overran);
    graft__jw_u64(w, "done", st->shadow_done);
    const graft__executor *e = &s->rt->exec;
    bool running = atomic_load_explicit(&e->running, memory_order_acquire);
    graft__jw_bool(w, "executor_running", running);
    graft__jw_u64(w, "executor_threads", running ? e->nthreads : 0);
    graft__jw_str(w, "executor_priority",
                  running ? graft__exec_prio_name(atomic_load(&e->prio)) : NULL);
    graft__jw_u64(w, "executor_depth", running ? graft__exec_depth(e) : 0);
    graft__jw_end(w);
}

static void graft__json_gate(graft__jw *w, const char *key, const graft_plan_gate *g)
{
    static const char *const names[] = {"pass", "hold", "fail"};
    graft__jw_obj(w, key);
    graft__jw_str(w, "verdict", g->verdict >= 0 && g->verdict <= 2 ? names[g->verdict] : NULL);
    graft__jw_num(w, "value", g->value);
    graft__jw_num(w, "limit", g->limit);
    graft__jw_end(w);
}

/* "plan": the rollout plan, its stage, the evidence against what the stage needs and
 * the last decision (null without a plan). */
static void graft__json_plan(graft__jw *w, graft_seam *s)
{
    graft_plan_status ps;
    if (graft_seam_plan_status(s, &ps) != GRAFT_OK) {
        graft__jw_null(w, "plan");
        return;
    }
    const graft_plan *pl = &ps.plan;
    graft__jw_obj(w, "plan");
    graft__jw_str(w, "state", graft_plan_state_name(ps.state));
    graft__jw_u64(w, "stage", ps.stage);
    graft__jw_arr(w, "stages");
    for (uint32_t i = 0; i < pl->nstages; i++) {
        graft__jw_obj(w, NULL);
        graft__jw_str(w, "mode", graft_mode_name(pl->stages[i].mode));
        graft__jw_num(w, "percent", graft__pct(pl->stages[i].percent_bp));
        graft__jw_u64(w, "decided_compared", ps.decided_compared[i]);
        graft__jw_u64(w, "decided_served", ps.decided_served[i]);
        graft__jw_end(w);
    }
    graft__jw_end(w);
    graft__jw_obj(w, "evidence");
    graft__jw_u64(w, "compared", ps.compared);
    graft__jw_u64(w, "mismatches", ps.mismatches);
    graft__jw_u64(w, "served", ps.served);
    graft__jw_u64(w, "candidate_failures", ps.cand_failures);
    graft__jw_u64(w, "legacy_calls", ps.legacy_calls);
    graft__jw_u64(w, "legacy_failures", ps.legacy_failures);
    graft__jw_u64(w, "pairs_slower", ps.pairs_slower);
    graft__jw_u64(w, "pairs_faster", ps.pairs_faster);
    graft__jw_u64(w, "pairs_tied", ps.pairs_tied);
    graft__jw_num(w, "stage_seconds", (double)ps.stage_ns / 1e9);
    graft__jw_end(w);
    graft__jw_obj(w, "needed");
    graft__jw_u64(w, "compared", pl->min_compared);
    graft__jw_u64(w, "served", pl->min_served);
    graft__jw_num(w, "stage_seconds", (double)pl->min_stage_ns / 1e9);
    graft__jw_u64(w, "latency_samples", pl->latency_min);
    graft__jw_num(w, "mismatch_max", pl->mismatch_max);
    graft__jw_num(w, "error_diff_max", pl->error_diff_max);
    graft__jw_num(w, "latency_tolerance", pl->latency_tolerance);
    graft__jw_num(w, "confidence", pl->confidence);
    graft__jw_end(w);
    graft__jw_obj(w, "gates");
    graft__json_gate(w, "mismatch", &ps.mismatch);
    graft__json_gate(w, "errors", &ps.errors);
    graft__json_gate(w, "latency", &ps.latency);
    graft__jw_end(w);
    graft__jw_str(w, "last_decision", graft_plan_decision_name(ps.last_decision));
    graft__jw_str(w, "reason", ps.reason);
    graft__jw_u64(w, "evaluations", ps.evaluations);
    graft__jw_u64(w, "advances", ps.advances);
    graft__jw_u64(w, "rollbacks", ps.rollbacks);
    graft__jw_end(w);
}

/* "latency_hist" of a report line: per implementation, the non-empty buckets of the
 * lifetime histogram as [upper bound ns, count] pairs, so a reader of many processes'
 * lines can merge them (graftctl report --from) and take percentiles of the sum. */
static void graft__json_hist(graft__jw *w, const uint64_t hist[2][GRAFT__HIST_BUCKETS])
{
    graft__jw_obj(w, "latency_hist");
    for (int i = 0; i < 2; i++) {
        graft__jw_arr(w, i == 0 ? "legacy" : "candidate");
        for (size_t b = 0; b < GRAFT__HIST_BUCKETS; b++) {
            if (hist[i][b] == 0) {
                continue;
            }
            graft__jw_arr(w, NULL);
            graft__jw_u64(w, NULL, graft__hist_upper(b));
            graft__jw_u64(w, NULL, hist[i][b]);
            graft__jw_end(w);
        }
        graft__jw_end(w);
    }
    graft__jw_end(w);
}

static const char *const graft__sf_copy_names[] = {
#define GRAFT__SF_COPY_NAME(suffix, number, name) name,
    GRAFT_SF_COPY_MAP(GRAFT__SF_COPY_NAME)
#undef GRAFT__SF_COPY_NAME
};
static const char *const graft__sf_verify_names[] = {
#define GRAFT__SF_VERIFY_NAME(suffix, number, name) name,
    GRAFT_SF_VERIFY_MAP(GRAFT__SF_VERIFY_NAME)
#undef GRAFT__SF_VERIFY_NAME
};

/* A stateful seam's layer (graft/stateful.h), copied under mode_lock (the layer is
 * detached under it). False for a pure seam. */
static bool graft__stateful_snapshot(graft_seam *s, graft_sf_stats *st, const char **policy)
{
    pthread_mutex_lock(&s->mode_lock);
    bool on = s->stateful != NULL;
    if (on) {
        s->sf_ops->snapshot(s->stateful, st, policy);
    }
    pthread_mutex_unlock(&s->mode_lock);
    return on;
}

/* "stateful": stage, writes, backfill progress, verify result, the two stores' memory. */
static void graft__json_stateful(graft__jw *w, graft_seam *s)
{
    graft_sf_stats st;
    const char *policy = NULL;
    if (!graft__stateful_snapshot(s, &st, &policy)) {
        return;
    }
    graft__jw_obj(w, "stateful");
    graft__jw_str(w, "stage", graft_mode_name(st.stage));
    graft__jw_str(w, "writes_to", policy);
    graft__jw_obj(w, "backfill");
    graft__jw_str(w, "direction",
                  st.backfill_reverse ? "candidate-to-legacy" : "legacy-to-candidate");
    graft__jw_bool(w, "running", st.backfill_running);
    graft__jw_bool(w, "complete", st.backfill_complete);
    graft__jw_u64(w, "done", st.backfill_done);
    graft__jw_u64(w, "total", st.backfill_total);
    graft__jw_u64(w, "shards_listed", st.backfill_shard);
    graft__jw_u64(w, "pulls", st.backfill_pulls);
    for (int i = 0; i < GRAFT_SF_COPY_COUNT; i++) {
        graft__jw_u64(w, graft__sf_copy_names[i], st.backfill_copied[i]);
    }
    graft__jw_end(w);
    if (st.pending) {
        graft__jw_str(w, "pending_stage", graft_mode_name(st.pending_stage));
    } else {
        graft__jw_null(w, "pending_stage");
    }
    graft__jw_obj(w, "verify");
    graft__jw_str(w, "state", graft__sf_verify_names[st.verify.state]);
    graft__jw_u64(w, "unix_ms", st.verify.unix_ms);
    graft__jw_u64(w, "shards", st.verify.shards);
    graft__jw_u64(w, "shards_equal", st.verify.shards_equal);
    graft__jw_u64(w, "items_legacy", st.verify.items_legacy);
    graft__jw_u64(w, "items_candidate", st.verify.items_candidate);
    graft__jw_u64(w, "divergent", st.verify.divergent);
    graft__jw_u64(w, "evictions_reconciled", st.verify.evicted);
    graft__jw_arr(w, "divergent_keys");
    for (size_t i = 0; i < st.verify.nkeys; i++) {
        graft__jw_str(w, NULL, st.verify.keys[i]);
    }
    graft__jw_end(w);
    graft__jw_end(w);
    graft__jw_obj(w, "writes");
    graft__jw_u64(w, "total", st.writes);
    graft__jw_u64(w, "both", st.writes_both);
    graft__jw_u64(w, "compared", st.write_compared);
    graft__jw_u64(w, "mismatches", st.write_mismatches);
    graft__jw_u64(w, "repairs", st.write_repairs);
    graft__jw_u64(w, "candidate_failures", st.candidate_write_failures);
    graft__jw_u64(w, "faults_injected", st.write_faults);
    graft__jw_end(w);
    graft__jw_obj(w, "memory");
    graft__jw_u64(w, "legacy_bytes", st.usage[0].bytes);
    graft__jw_u64(w, "candidate_bytes", st.usage[1].bytes);
    graft__jw_u64(w, "legacy_items", st.usage[0].items);
    graft__jw_u64(w, "candidate_items", st.usage[1].items);
    graft__jw_u64(w, "dual_max_bytes", st.dual_memory_max);
    graft__jw_end(w);
    if (st.last_refusal[0]) {
        graft__jw_str(w, "last_refusal", st.last_refusal);
    } else {
        graft__jw_null(w, "last_refusal");
    }
    graft__jw_end(w);
}

/* One seam's object (with its latency histograms when with_hist: report lines); false
 * only if the histogram copy could not be allocated. */
static bool graft__seam_to_json(graft__jw *w, graft_seam *s, bool with_hist)
{
    graft_seam_stats st;
    uint64_t(*hist)[GRAFT__HIST_BUCKETS] = malloc(sizeof(uint64_t[2][GRAFT__HIST_BUCKETS]));
    if (!hist) {
        return false;
    }
    graft__stats(s, &st, NULL, hist);
    graft_latency recent[2];
    uint64_t recent_ns;
    const uint64_t maxes[2] = {st.impl[0].latency.max_ns, st.impl[1].latency.max_ns};
    graft__recent_latency(s, (const uint64_t(*)[GRAFT__HIST_BUCKETS])hist, maxes, recent,
                          &recent_ns);
    graft__jw_obj(w, NULL);
    graft__jw_str(w, "name", s->name);
    graft__jw_str(w, "mode", graft_mode_name(st.mode));
    graft__jw_str(w, "candidate_only_failure",
                  graft_on_failure_name(s->def.candidate_only_failure));
    graft__jw_num(w, "percent", graft__pct(st.percent_bp));
    graft__jw_u64(w, "percent_bp", st.percent_bp);
    graft__jw_str(w, "purity", graft_purity_name(s->def.purity));
    graft__json_history(w, s);
    graft__json_shadow(w, s, &st);
    graft__json_plan(w, s);
    if (with_hist) {
        graft__json_hist(w, (const uint64_t(*)[GRAFT__HIST_BUCKETS])hist);
    }
    free(hist);

    graft__jw_obj(w, "counters");
    graft__jw_u64(w, "calls", st.calls);
    graft__jw_obj(w, "calls_by_mode");
    for (int m = 0; m < GRAFT_MODE_COUNT; m++) {
        graft__jw_u64(w, graft_mode_name(m), st.calls_by_mode[m]);
    }
    graft__jw_end(w);
    graft__jw_u64(w, "fallbacks", st.fallbacks);
    graft__jw_u64(w, "failure_outputs", st.failure_outputs);
    graft__jw_u64(w, "compared", st.compared);
    graft__jw_u64(w, "mismatches", st.mismatches);
    graft__jw_u64(w, "compare_skipped", st.compare_skipped);
    graft__jw_u64(w, "captures", st.captures);
    graft__jw_u64(w, "breaker_rejected", st.breaker_rejected);
    graft__jw_u64(w, "faults_injected", st.faults_injected);
    graft__jw_end(w);

    graft__jw_obj(w, "impl");
    for (int i = 0; i < 2; i++) {
        graft__jw_obj(w, i == 0 ? "legacy" : "candidate");
        graft__jw_u64(w, "calls", st.impl[i].calls);
        graft__jw_u64(w, "served", st.impl[i].served);
        graft__jw_u64(w, "errors", st.impl[i].errors);
        graft__jw_u64(w, "panics", st.impl[i].panics);
        graft__jw_obj(w, "latency");
        graft__json_latency(w, &st.impl[i].latency);
        graft__jw_end(w);
        graft__jw_obj(w, "recent_latency");
        graft__json_latency(w, &recent[i]);
        graft__jw_u64(w, "window_ns", recent_ns);
        graft__jw_end(w);
        graft__jw_end(w);
    }
    graft__jw_end(w);

    graft_compare_config cc;
    graft_seam_get_compare(s, &cc);
    graft__jw_obj(w, "compare");
    graft__jw_u64(w, "sample_every", cc.sample_every);
    graft__jw_u64(w, "log_per_second", cc.log_per_second);
    graft__jw_bool(w, "compare_served", cc.compare_served != 0);
    pthread_mutex_lock(&s->cap.lock);
    if (s->cap.dir[0]) {
        graft__jw_str(w, "capture_dir", s->cap.dir);
    } else {
        graft__jw_null(w, "capture_dir");
    }
    pthread_mutex_unlock(&s->cap.lock);
    graft__jw_u64(w, "capture_max_files", cc.capture_max_files);
    graft__jw_u64(w, "capture_max_bytes", cc.capture_max_bytes);
    graft__jw_u64(w, "captured_files", atomic_load_explicit(&s->cap.files, memory_order_relaxed));
    graft__jw_u64(w, "captured_bytes", atomic_load_explicit(&s->cap.bytes, memory_order_relaxed));
    graft__jw_u64(w, "capture_dropped",
                  atomic_load_explicit(&s->cap.dropped, memory_order_relaxed));
    graft__jw_u64(w, "log_suppressed",
                  atomic_load_explicit(&s->mlog.suppressed, memory_order_relaxed));
    graft__jw_u64(w, "capture_too_large",
                  atomic_load_explicit(&s->cap.too_large, memory_order_relaxed));
    graft__jw_u64(w, "reports_dropped",
                  atomic_load_explicit(&s->reports_dropped, memory_order_relaxed));
    graft__jw_end(w);

    graft__jw_obj(w, "breaker");
    graft__jw_str(w, "state", graft_breaker_state_name(st.breaker_state));
    graft__jw_u64(w, "opens", st.breaker_opens);
    graft__jw_u64(w, "transitions", st.breaker_transitions);
    graft__jw_u64(w, "rejected", st.breaker_rejected);
    pthread_mutex_lock(&s->brk.lock);
    graft_breaker_config b = s->brk.cfg;
    graft__jw_obj(w, "config");
    graft__jw_bool(w, "enabled", b.enabled != 0);
    graft__jw_bool(w, "observe_only", b.observe_only != 0);
    graft__jw_u64(w, "window_ns", b.window_ns);
    graft__jw_u64(w, "min_calls", b.min_calls);
    graft__jw_num(w, "error_rate", graft__pct(b.error_rate_bp));
    graft__jw_num(w, "slow_rate", graft__pct(b.slow_rate_bp));
    graft__jw_u64(w, "slow_call_ns", b.slow_call_ns);
    graft__jw_num(w, "mismatch_rate", graft__pct(b.mismatch_rate_bp));
    graft__jw_u64(w, "cooldown_ns", b.cooldown_ns);
    graft__jw_u64(w, "max_cooldown_ns", b.max_cooldown_ns);
    graft__jw_u64(w, "half_open_calls", b.half_open_calls);
    graft__jw_u64(w, "half_open_max_ns", b.half_open_max_ns);
    graft__jw_end(w);
    graft__jw_u64(w, "current_cooldown_ns", s->brk.cooldown_ns);
    graft__jw_obj(w, "window");
    graft__jw_u64(w, "calls", s->brk.last_window.calls);
    graft__jw_u64(w, "failures", s->brk.last_window.failures);
    graft__jw_u64(w, "timed", s->brk.last_window.timed);
    graft__jw_u64(w, "slow", s->brk.last_window.slow);
    graft__jw_u64(w, "compared", s->brk.last_window.compared);
    graft__jw_u64(w, "mismatches", s->brk.last_window.mismatches);
    graft__jw_end(w);
    graft__jw_arr(w, "events");
    uint64_t total = s->brk.event_total;
    uint64_t first = total > GRAFT__EVENTS ? total - GRAFT__EVENTS : 0;
    for (uint64_t k = first; k < total; k++) {
        const graft__bk_event *ev = &s->brk.events[k % GRAFT__EVENTS];
        graft__jw_obj(w, NULL);
        graft__jw_u64(w, "mono_ns", ev->mono_ns);
        graft__jw_u64(w, "unix_ms", (ev->unix_ns / 1000000ull));
        graft__jw_str(w, "from", graft_breaker_state_name(ev->from));
        graft__jw_str(w, "to", graft_breaker_state_name(ev->to));
        graft__jw_str(w, "reason", ev->reason);
        graft__jw_end(w);
    }
    pthread_mutex_unlock(&s->brk.lock);
    graft__jw_end(w);
    graft__jw_end(w);

    graft_fault_config f;
    graft_seam_get_fault(s, &f);
    graft__jw_obj(w, "fault");
    graft__jw_num(w, "error_rate", graft__pct(f.error_bp));
    graft__jw_num(w, "panic_rate", graft__pct(f.panic_bp));
    graft__jw_num(w, "delay_rate", graft__pct(f.delay_bp));
    graft__jw_u64(w, "delay_ns", f.delay_ns);
    graft__jw_u64(w, "injected", st.faults_injected);
    graft__jw_end(w);

    graft__jw_arr(w, "mismatch_samples");
    pthread_mutex_lock(&s->samples.lock);
    uint64_t stot = s->samples.total;
    uint64_t sfirst = stot > GRAFT__SAMPLES ? stot - GRAFT__SAMPLES : 0;
    for (uint64_t k = sfirst; k < stot; k++) {
        const graft__sample *sm = &s->samples.ring[k % GRAFT__SAMPLES];
        graft__jw_obj(w, NULL);
        graft__jw_str(w, "seam", s->name);
        if (sm->has_key) {
            char kb[24];
            snprintf(kb, sizeof kb, "%" PRIu64, sm->key);
            graft__jw_str(w, "key", kb);
        } else {
            graft__jw_null(w, "key");
        }
        graft__jw_str(w, "legacy", sm->legacy);
        graft__jw_str(w, "candidate", sm->candidate);
        graft__jw_u64(w, "unix_ms", (sm->unix_ns / 1000000ull));
        graft__jw_end(w);
    }
    pthread_mutex_unlock(&s->samples.lock);
    graft__jw_end(w);
    graft__json_stateful(w, s);
    graft__jw_end(w);
    return true;
}

int graft_seam_json(graft_seam *seam, char **out, size_t *len)
{
    if (!seam || !out) {
        return GRAFT_ENULL;
    }
    graft__jw w;
    graft__jw_init(&w);
    if (!graft__seam_to_json(&w, seam, false)) {
        graft__jw_discard(&w);
        return GRAFT_ENOMEM;
    }
    return graft__jw_finish(&w, out, len);
}

/* One element of "unmatched_config": {"name": ..., "closest": ... or null}. */
static void graft__json_unmatched(void *ctx, const char *name, const char *closest)
{
    graft__jw *w = ctx;
    graft__jw_obj(w, NULL);
    graft__jw_str(w, "name", name);
    graft__jw_str(w, "closest", closest); /* NULL: null */
    graft__jw_end(w);
}

int graft_metrics_json(graft_runtime *rt, char **out, size_t *len)
{
    if (!rt || !out) {
        return GRAFT_ENULL;
    }
    return graft__metrics_json(rt, false, out, len);
}

int graft__metrics_json(graft_runtime *rt, bool with_hist, char **out, size_t *len)
{
    assert(rt && out);
    graft__jw w;
    graft__jw_init(&w);
    graft__jw_obj(&w, NULL);
    graft__jw_str(&w, "version", graft_version());
    graft__jw_bool(&w, "ready", atomic_load_explicit(&rt->ready, memory_order_acquire));
    graft__jw_arr(&w, "unmatched_config");
    graft_runtime_unmatched(rt, graft__json_unmatched, &w);
    graft__jw_end(&w);
    graft__jw_arr(&w, "seams");
    for (graft_seam *p = atomic_load_explicit(&rt->head, memory_order_acquire); p;
         p = atomic_load_explicit(&p->next, memory_order_acquire)) {
        if (!graft__seam_to_json(&w, p, with_hist)) {
            graft__jw_discard(&w);
            return GRAFT_ENOMEM;
        }
    }
    graft__jw_end(&w);
    graft__jw_end(&w);
    return graft__jw_finish(&w, out, len);
}

/* ------------------------------------------------------------------ Prometheus */

typedef struct graft__buf {
    char *p;
    size_t len, cap;
    bool oom;
} graft__buf;

static void graft__bprintf(graft__buf *b, const char *fmt, ...) GRAFT__PRINTF(2, 3);
static void graft__bprintf(graft__buf *b, const char *fmt, ...)
{
    if (b->oom) {
        return;
    }
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = b->cap * 2 + (size_t)n + 1;
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
}

typedef struct graft__prom_seam {
    graft_seam *s;
    graft_seam_stats st;
    uint64_t sums[2];
    uint64_t hist[2][GRAFT__HIST_BUCKETS];
} graft__prom_seam;

/* The histogram buckets exported to Prometheus: every other log-linear bound (4 per
 * power of two, each bucket at most 25% wide), from 7 ns up to 2^37 ns (~137 s), then
 * +Inf. A fixed set, so rate() and histogram_quantile() work across scrapes and
 * processes. Internal bucket b ends an exported one when this holds. */
static bool graft__prom_bound(size_t b)
{
    return b == 7 || (b >= 8 && b < GRAFT__HIST_BUCKETS - 8 && (b % 8) % 2 == 1);
}

static void graft__family(graft__buf *b, const char *name, const char *type, const char *help)
{
    graft__bprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The families of stateful seams (graft/stateful.h); none without one. */
static void graft__prom_stateful(graft__buf *b, const graft__prom_seam *v, size_t n)
{
    graft_sf_stats *st = calloc(n ? n : 1, sizeof *st);
    bool *on = calloc(n ? n : 1, sizeof *on);
    size_t any = 0;
    for (size_t i = 0; st && on && i < n; i++) {
        const char *policy;
        on[i] = graft__stateful_snapshot(v[i].s, &st[i], &policy);
        any += on[i];
    }
    if (!st || !on || any == 0) {
        b->oom = b->oom || !st || !on;
        free(st);
        free(on);
        return;
    }
#define GRAFT__SF_FAMILY(metric, type, help, expr)                                                 \
    do {                                                                                           \
        graft__family(b, metric, type, help);                                                      \
        for (size_t i = 0; i < n; i++) {                                                           \
            if (on[i]) {                                                                           \
                const graft_sf_stats *x = &st[i];                                                  \
                graft__bprintf(b, "%s{seam=\"%s\"} %" PRIu64 "\n", metric, v[i].s->name,           \
                               (uint64_t)(expr));                                                  \
            }                                                                                      \
        }                                                                                          \
    } while (0)
    GRAFT__SF_FAMILY("graft_stateful_backfill_done_keys", "gauge",
                     "Keys the current (or last) backfill has handled.", x->backfill_done);
    GRAFT__SF_FAMILY("graft_stateful_backfill_keys", "gauge",
                     "Keys the current (or last) backfill has to handle (an estimate until "
                     "every shard is listed).",
                     x->backfill_total);
    GRAFT__SF_FAMILY("graft_stateful_backfill_running", "gauge", "1 while a backfill runs.",
                     x->backfill_running);
    GRAFT__SF_FAMILY("graft_stateful_verify_passed", "gauge",
                     "1 when the last verify found no divergent key.",
                     x->verify.state == GRAFT_SF_VERIFY_PASSED);
    GRAFT__SF_FAMILY("graft_stateful_verify_divergent", "gauge",
                     "Divergent keys the last verify found.", x->verify.divergent);
    GRAFT__SF_FAMILY("graft_stateful_writes_total", "counter", "Write operations.", x->writes);
    GRAFT__SF_FAMILY("graft_stateful_write_mismatches_total", "counter",
                     "Writes whose two stores answered differently (repaired).",
                     x->write_mismatches);
    GRAFT__SF_FAMILY("graft_stateful_candidate_write_failures_total", "counter",
                     "Writes the candidate store failed while legacy answered (repaired).",
                     x->candidate_write_failures);
#undef GRAFT__SF_FAMILY
    graft__family(b, "graft_stateful_memory_bytes", "gauge",
                  "Memory of each store's items (two copies while both are written).");
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; on[i] && k < 2; k++) {
            graft__bprintf(b, "graft_stateful_memory_bytes{seam=\"%s\",store=\"%s\"} %" PRIu64 "\n",
                           v[i].s->name, k == 0 ? "legacy" : "candidate", st[i].usage[k].bytes);
        }
    }
    free(st);
    free(on);
}

/* Rollout plans: stage, state, evidence against what the stage needs, decisions. */
static void graft__prom_plans(graft__buf *b, const graft__prom_seam *v, size_t n)
{
    graft_plan_status *ps = calloc(n ? n : 1, sizeof *ps);
    if (!ps) {
        b->oom = true;
        return;
    }
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        any |= graft_seam_plan_status(v[i].s, &ps[i]) == GRAFT_OK;
    }
    if (!any) {
        free(ps);
        return;
    }
    graft__family(b, "graft_seam_plan_state", "gauge",
                  "1 for the state the seam's rollout plan is in (none, running, paused, done, "
                  "aborted).");
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < GRAFT_PLAN_STATE_COUNT; k++) {
            graft__bprintf(b, "graft_seam_plan_state{seam=\"%s\",state=\"%s\"} %d\n", v[i].s->name,
                           graft_plan_state_name(k), (int)ps[i].state == k);
        }
    }
    graft__family(b, "graft_seam_plan_stage", "gauge",
                  "Index of the plan's current stage (0 = first), with its mode and percent.");
    for (size_t i = 0; i < n; i++) {
        if (ps[i].state == GRAFT_PLAN_NONE) {
            continue;
        }
        const graft_plan_stage *g = &ps[i].plan.stages[ps[i].stage];
        graft__bprintf(b, "graft_seam_plan_stage{seam=\"%s\",mode=\"%s\",percent=\"%.2f\"} %u\n",
                       v[i].s->name, graft_mode_name(g->mode), graft__pct(g->percent_bp),
                       ps[i].stage);
    }
    graft__family(b, "graft_seam_plan_evidence", "gauge",
                  "Evidence the current stage collected (compared, served: candidate runs, "
                  "seconds).");
    for (size_t i = 0; i < n; i++) {
        if (ps[i].state == GRAFT_PLAN_NONE) {
            continue;
        }
        graft__bprintf(b,
                       "graft_seam_plan_evidence{seam=\"%s\",kind=\"compared\"} %" PRIu64 "\n"
                       "graft_seam_plan_evidence{seam=\"%s\",kind=\"served\"} %" PRIu64 "\n"
                       "graft_seam_plan_evidence{seam=\"%s\",kind=\"seconds\"} %.3f\n",
                       v[i].s->name, ps[i].compared, v[i].s->name, ps[i].served, v[i].s->name,
                       (double)ps[i].stage_ns / 1e9);
    }
    graft__family(b, "graft_seam_plan_needed", "gauge",
                  "Evidence a stage needs before it may advance (same kinds).");
    for (size_t i = 0; i < n; i++) {
        if (ps[i].state == GRAFT_PLAN_NONE) {
            continue;
        }
        const graft_plan *pl = &ps[i].plan;
        graft__bprintf(b,
                       "graft_seam_plan_needed{seam=\"%s\",kind=\"compared\"} %" PRIu64 "\n"
                       "graft_seam_plan_needed{seam=\"%s\",kind=\"served\"} %" PRIu64 "\n"
                       "graft_seam_plan_needed{seam=\"%s\",kind=\"seconds\"} %.3f\n",
                       v[i].s->name, pl->min_compared, v[i].s->name, pl->min_served, v[i].s->name,
                       (double)pl->min_stage_ns / 1e9);
    }
    graft__family(b, "graft_seam_plan_decisions_total", "counter",
                  "Plan decisions that changed the stage (advance, rollback).");
    for (size_t i = 0; i < n; i++) {
        if (ps[i].state == GRAFT_PLAN_NONE) {
            continue;
        }
        graft__bprintf(
            b,
            "graft_seam_plan_decisions_total{seam=\"%s\",decision=\"advance\"} %" PRIu64 "\n"
            "graft_seam_plan_decisions_total{seam=\"%s\",decision=\"rollback\"} %" PRIu64 "\n",
            v[i].s->name, ps[i].advances, v[i].s->name, ps[i].rollbacks);
    }
    free(ps);
}

int graft_metrics_prometheus(graft_runtime *rt, char **out, size_t *len)
{
    if (!rt || !out) {
        return GRAFT_ENULL;
    }
    size_t n = 0;
    for (graft_seam *p = atomic_load_explicit(&rt->head, memory_order_acquire); p;
         p = atomic_load_explicit(&p->next, memory_order_acquire)) {
        n++;
    }
    graft__prom_seam *v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        return GRAFT_ENOMEM;
    }
    size_t k = 0;
    for (graft_seam *p = atomic_load_explicit(&rt->head, memory_order_acquire); p && k < n;
         p = atomic_load_explicit(&p->next, memory_order_acquire), k++) {
        v[k].s = p;
        graft__stats(p, &v[k].st, v[k].sums, v[k].hist);
    }
    n = k;
    graft__buf b = {malloc(4096), 0, 4096, false};
    if (!b.p) {
        free(v);
        return GRAFT_ENOMEM;
    }
    b.p[0] = '\0';

#define GRAFT__SEAM_COUNTER(metric, help, expr)                                                    \
    do {                                                                                           \
        graft__family(&b, metric, "counter", help);                                                \
        for (size_t i = 0; i < n; i++) {                                                           \
            const graft_seam_stats *st = &v[i].st;                                                 \
            (void)st;                                                                              \
            graft__bprintf(&b, "%s{seam=\"%s\"} %" PRIu64 "\n", metric, v[i].s->name,              \
                           (uint64_t)(expr));                                                      \
        }                                                                                          \
    } while (0)

    GRAFT__SEAM_COUNTER("graft_seam_calls_total", "Calls into the seam.", st->calls);
    graft__family(&b, "graft_seam_mode_calls_total", "counter",
                  "Calls into the seam by the mode the seam was in.");
    for (size_t i = 0; i < n; i++) {
        for (int m = 0; m < GRAFT_MODE_COUNT; m++) {
            graft__bprintf(&b, "graft_seam_mode_calls_total{seam=\"%s\",mode=\"%s\"} %" PRIu64 "\n",
                           v[i].s->name, graft_mode_name(m), v[i].st.calls_by_mode[m]);
        }
    }
    graft__family(&b, "graft_seam_mode", "gauge", "1 for the seam's current mode, 0 otherwise.");
    for (size_t i = 0; i < n; i++) {
        for (int m = 0; m < GRAFT_MODE_COUNT; m++) {
            graft__bprintf(&b, "graft_seam_mode{seam=\"%s\",mode=\"%s\"} %d\n", v[i].s->name,
                           graft_mode_name(m), (int)v[i].st.mode == m);
        }
    }
    graft__family(&b, "graft_seam_mode_since_seconds", "gauge",
                  "Unix time the seam entered the mode it serves in (its last stage change).");
    for (size_t i = 0; i < n; i++) {
        graft_mode_change last[GRAFT_SEAM_HISTORY_CAP];
        size_t hn = 0;
        graft_seam_history(v[i].s, last, GRAFT_SEAM_HISTORY_CAP, &hn, NULL);
        if (hn > 0) {
            graft__bprintf(&b, "graft_seam_mode_since_seconds{seam=\"%s\",mode=\"%s\"} %.3f\n",
                           v[i].s->name, graft_mode_name(last[hn - 1].mode),
                           (double)last[hn - 1].unix_ns / 1e9);
        }
    }
    graft__family(&b, "graft_seam_mode_changes_total", "counter",
                  "Stage changes of the seam by the mode entered and their cause (start, "
                  "config, api, breaker, plan).");
    for (size_t i = 0; i < n; i++) {
        uint64_t ch[GRAFT_MODE_COUNT][GRAFT_CHANGE_CAUSE_COUNT];
        graft__history_changes(v[i].s, ch);
        for (int m = 0; m < GRAFT_MODE_COUNT; m++) {
            for (int c = 0; c < GRAFT_CHANGE_CAUSE_COUNT; c++) {
                if (ch[m][c] == 0) {
                    continue;
                }
                graft__bprintf(&b,
                               "graft_seam_mode_changes_total{seam=\"%s\",mode=\"%s\",by=\"%s\"} "
                               "%" PRIu64 "\n",
                               v[i].s->name, graft_mode_name(m), graft_change_cause_name(c),
                               ch[m][c]);
            }
        }
    }
    graft__family(&b, "graft_seam_canary_ratio", "gauge",
                  "Share of keys routed to the candidate in canary mode (0..1).");
    for (size_t i = 0; i < n; i++) {
        graft__bprintf(&b, "graft_seam_canary_ratio{seam=\"%s\"} %.4f\n", v[i].s->name,
                       (double)v[i].st.percent_bp / GRAFT_PERCENT_SCALE);
    }
    GRAFT__SEAM_COUNTER("graft_seam_fallbacks_total",
                        "Candidate failures answered by the legacy implementation.", st->fallbacks);
    GRAFT__SEAM_COUNTER("graft_seam_failure_outputs_total",
                        "Candidate-only failures answered by the seam's declared failure output.",
                        st->failure_outputs);
    GRAFT__SEAM_COUNTER("graft_seam_compared_total", "Calls whose two outputs were compared.",
                        st->compared);
    GRAFT__SEAM_COUNTER("graft_seam_mismatches_total", "Compared calls whose outputs differed.",
                        st->mismatches);
    GRAFT__SEAM_COUNTER("graft_seam_compare_skipped_total",
                        "Calls that could have been compared but were not (sampling, no scratch, "
                        "legacy failure).",
                        st->compare_skipped);
    GRAFT__SEAM_COUNTER("graft_seam_captures_total", "Mismatch inputs written to the capture dir.",
                        st->captures);
    GRAFT__SEAM_COUNTER("graft_seam_faults_injected_total", "Faults injected into the candidate.",
                        st->faults_injected);
    GRAFT__SEAM_COUNTER("graft_seam_capture_dropped_total",
                        "Mismatch inputs not captured (bounds, I/O errors, over the size limit, "
                        "writer behind).",
                        atomic_load_explicit(&v[i].s->cap.dropped, memory_order_relaxed));
    GRAFT__SEAM_COUNTER("graft_seam_capture_too_large_total",
                        "Mismatch inputs not captured because they serialise to more than the "
                        "capture limit.",
                        atomic_load_explicit(&v[i].s->cap.too_large, memory_order_relaxed));
    GRAFT__SEAM_COUNTER("graft_seam_reports_dropped_total",
                        "Mismatch reports and deferred log lines dropped because the background "
                        "writer's ring was full.",
                        atomic_load_explicit(&v[i].s->reports_dropped, memory_order_relaxed));

    GRAFT__SEAM_COUNTER("graft_seam_shadow_enqueued_total",
                        "Shadow calls handed to the asynchronous executor.", st->shadow_enqueued);
    GRAFT__SEAM_COUNTER("graft_seam_shadow_dropped_total",
                        "Asynchronous shadow calls dropped: queue full, input copy too large, or "
                        "waited past the deadline (never waited for).",
                        st->shadow_dropped);
    GRAFT__SEAM_COUNTER("graft_seam_shadow_overran_total",
                        "Asynchronous shadow runs slower than the shadow deadline (slow calls for "
                        "the breaker).",
                        st->shadow_overran);
    graft__prom_plans(&b, v, n);

#define GRAFT__IMPL_COUNTER(metric, help, field)                                                   \
    do {                                                                                           \
        graft__family(&b, metric, "counter", help);                                                \
        for (size_t i = 0; i < n; i++)                                                             \
            for (int im = 0; im < 2; im++)                                                         \
                graft__bprintf(&b, "%s{seam=\"%s\",impl=\"%s\"} %" PRIu64 "\n", metric,            \
                               v[i].s->name, im ? "candidate" : "legacy", v[i].st.impl[im].field); \
    } while (0)

    GRAFT__IMPL_COUNTER("graft_impl_calls_total", "Runs of the implementation.", calls);
    GRAFT__IMPL_COUNTER("graft_impl_served_total", "Calls answered by the implementation.", served);
    GRAFT__IMPL_COUNTER("graft_impl_errors_total",
                        "Runs that returned a failure status other than a panic.", errors);
    GRAFT__IMPL_COUNTER("graft_impl_panics_total", "Runs that panicked (caught at the boundary).",
                        panics);

    graft__family(&b, "graft_impl_latency_seconds", "histogram",
                  "Latency of sampled runs of the implementation.");
    for (size_t i = 0; i < n; i++) {
        for (int im = 0; im < 2; im++) {
            const graft_latency *l = &v[i].st.impl[im].latency;
            const char *in = im ? "candidate" : "legacy";
            uint64_t acc = 0;
            for (size_t hb = 0; hb < GRAFT__HIST_BUCKETS; hb++) {
                acc += v[i].hist[im][hb];
                if (graft__prom_bound(hb)) {
                    graft__bprintf(&b,
                                   "graft_impl_latency_seconds_bucket{seam=\"%s\",impl=\"%s\","
                                   "le=\"%.12g\"} %" PRIu64 "\n",
                                   v[i].s->name, in, (double)graft__hist_upper(hb) / 1e9, acc);
                }
            }
            graft__bprintf(&b,
                           "graft_impl_latency_seconds_bucket{seam=\"%s\",impl=\"%s\","
                           "le=\"+Inf\"} %" PRIu64 "\n",
                           v[i].s->name, in, l->count);
            graft__bprintf(&b, "graft_impl_latency_seconds_sum{seam=\"%s\",impl=\"%s\"} %.9f\n",
                           v[i].s->name, in, (double)v[i].sums[im] / 1e9);
            graft__bprintf(
                &b, "graft_impl_latency_seconds_count{seam=\"%s\",impl=\"%s\"} %" PRIu64 "\n",
                v[i].s->name, in, l->count);
        }
    }
    graft__family(&b, "graft_impl_latency_max_seconds", "gauge",
                  "Slowest sampled run of the implementation.");
    for (size_t i = 0; i < n; i++) {
        for (int im = 0; im < 2; im++) {
            graft__bprintf(&b, "graft_impl_latency_max_seconds{seam=\"%s\",impl=\"%s\"} %.9f\n",
                           v[i].s->name, im ? "candidate" : "legacy",
                           (double)v[i].st.impl[im].latency.max_ns / 1e9);
        }
    }

    graft__family(&b, "graft_breaker_state", "gauge",
                  "1 for the breaker's current state, 0 otherwise.");
    for (size_t i = 0; i < n; i++) {
        for (int s = 0; s < GRAFT_BREAKER_STATE_COUNT; s++) {
            graft__bprintf(&b, "graft_breaker_state{seam=\"%s\",state=\"%s\"} %d\n", v[i].s->name,
                           graft_breaker_state_name(s), (int)v[i].st.breaker_state == s);
        }
    }
    GRAFT__SEAM_COUNTER("graft_breaker_opens_total", "Times the breaker opened.",
                        st->breaker_opens);
    GRAFT__SEAM_COUNTER("graft_breaker_transitions_total", "Breaker state changes.",
                        st->breaker_transitions);
    GRAFT__SEAM_COUNTER("graft_breaker_rejected_total",
                        "Calls sent to legacy because the breaker was open or half-open.",
                        st->breaker_rejected);
#undef GRAFT__SEAM_COUNTER
#undef GRAFT__IMPL_COUNTER
    graft__prom_stateful(&b, v, n);

    /* Reloads by the configuration watcher (0 when the file is not watched), so a fleet
     * sees a distributed file that some process refused (deploy/prometheus). */
    uint64_t applied = 0, refused = 0;
    (void)graft_config_watch_stats(rt, &applied, &refused);
    graft__family(&b, "graft_config_reloads_total", "counter",
                  "Configuration file changes the watcher applied or refused.");
    graft__bprintf(&b, "graft_config_reloads_total{result=\"applied\"} %" PRIu64 "\n", applied);
    graft__bprintf(&b, "graft_config_reloads_total{result=\"refused\"} %" PRIu64 "\n", refused);
    free(v);
    if (b.oom) {
        free(b.p);
        return GRAFT_ENOMEM;
    }
    *out = b.p;
    if (len) {
        *len = b.len;
    }
    return GRAFT_OK;
}
