/*
 * breaker.c: the circuit breaker of a seam.
 *
 * The window is time based. The call path does not feed it directly (that would need
 * a clock read and a shared atomic per call); instead candidate outcomes are counted
 * in the per-thread slots and the breaker takes cumulative snapshots of them when it
 * is evaluated: on every candidate failure, slow call or mismatch, on sampled (timed)
 * calls at most once per window bucket, and on every call while open or half-open.
 * The snapshots are kept per time bucket (window / 10), so the counts of the last
 * window are "now minus the snapshot at the end of the newest bucket that left the
 * window". Outcomes between two evaluations are attributed to the later bucket.
 *
 * Evaluation is try-locked: a caller never waits for another thread's evaluation.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void graft_breaker_config_init(graft_breaker_config *cfg)
{
    if (!cfg) {
        return;
    }
    memset(cfg, 0, sizeof *cfg);
    cfg->enabled = 1;
    cfg->observe_only = 0;
    cfg->window_ns = 10ull * 1000000000ull;
    cfg->min_calls = 20;
    cfg->error_rate_bp = 5000;
    cfg->slow_rate_bp = 0;
    cfg->slow_call_ns = 100ull * 1000000ull;
    cfg->mismatch_rate_bp = 0;
    cfg->cooldown_ns = 5ull * 1000000000ull;
    cfg->max_cooldown_ns = 60ull * 1000000000ull;
    cfg->half_open_calls = 5;
    cfg->half_open_max_ns = 30ull * 1000000000ull;
}

bool graft__validate_breaker(const graft_breaker_config *b, char *err, size_t errlen)
{
    if (b->window_ns == 0) {
        graft__seterr(err, errlen, "breaker window must be positive");
        return false;
    }
    if (b->error_rate_bp > GRAFT_PERCENT_SCALE || b->slow_rate_bp > GRAFT_PERCENT_SCALE ||
        b->mismatch_rate_bp > GRAFT_PERCENT_SCALE) {
        graft__seterr(err, errlen, "breaker rates must be between 0 and 100%%");
        return false;
    }
    if (b->half_open_calls == 0) {
        graft__seterr(err, errlen, "breaker half_open_calls must be at least 1");
        return false;
    }
    if (b->cooldown_ns == 0 || b->half_open_max_ns == 0) {
        graft__seterr(err, errlen, "breaker cooldown and half_open_max must be positive");
        return false;
    }
    if (b->max_cooldown_ns && b->max_cooldown_ns < b->cooldown_ns) {
        graft__seterr(err, errlen, "breaker max_cooldown is below cooldown");
        return false;
    }
    return true;
}

void graft__breaker_counts(const graft_seam *s, graft__bk_counts *out)
{
    /* Only the counters the window needs (this runs on failure paths), each with the
     * field it feeds: the canonical inputs, then the combined outcomes that include a
     * candidate run or a comparison (weight 0 rows add nothing). */
#define GRAFT__BK_ROW(counter, bk_field) {counter, offsetof(graft__bk_counts, bk_field), 1},
#define GRAFT__BK_OUTCOME(name, mode, ran_l, ran_c, served, cmp, meaning)                          \
    {GRAFT__C_##name, offsetof(graft__bk_counts, calls), ran_c},                                   \
        {GRAFT__C_##name, offsetof(graft__bk_counts, compared), cmp},
    static const struct {
        int ctr;
        size_t field;
        uint64_t weight;
    } in[] = {GRAFT__BK_INPUT_MAP(GRAFT__BK_ROW) GRAFT__OUTCOME_MAP(GRAFT__BK_OUTCOME)};
#undef GRAFT__BK_ROW
#undef GRAFT__BK_OUTCOME
    uint64_t v[sizeof in / sizeof in[0]] = {0};
    for (int i = 0; i <= GRAFT__SLOTS; i++) {
        for (size_t k = 0; k < sizeof in / sizeof in[0]; k++) {
            if (in[k].weight) {
                v[k] += atomic_load_explicit(&s->slots[i].c[in[k].ctr], memory_order_relaxed);
            }
        }
    }
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < sizeof in / sizeof in[0]; k++) {
        *(uint64_t *)((char *)out + in[k].field) += v[k] * in[k].weight;
    }
}

static void graft__counts_sub(graft__bk_counts *r, const graft__bk_counts *a,
                              const graft__bk_counts *b)
{
    r->calls = a->calls - b->calls;
    r->failures = a->failures - b->failures;
    r->timed = a->timed - b->timed;
    r->slow = a->slow - b->slow;
    r->compared = a->compared - b->compared;
    r->mismatches = a->mismatches - b->mismatches;
}

/* Clears the window: the origin is what the slots hold now. */
static void graft__window_reset(graft_seam *s)
{
    GRAFT__ASSERT_HELD(&s->brk.lock);
    s->brk.ring_n = 0;
    graft__breaker_counts(s, &s->brk.base);
    memset(&s->brk.last_window, 0, sizeof s->brk.last_window);
}

/* The stage history sees what the breaker does to routing: an opening that sends the
 * traffic back to legacy is an entry "legacy by breaker", and the closing after it an
 * entry of the seam's own mode again. Half-open (trial calls only) is still the opening;
 * observe-only breakers and candidate-only (no legacy to send traffic to) record
 * nothing, as they reroute nothing. */
static void graft__transition_history(graft_seam *s, uint64_t now, graft_breaker_state to)
{
    GRAFT__ASSERT_HELD(&s->brk.lock);
    uint64_t w = atomic_load_explicit(&s->route, memory_order_acquire);
    graft_mode mode = (graft_mode)(w & GRAFT__ROUTE_MODE_MASK);
    uint32_t bp = (uint32_t)((w >> GRAFT__ROUTE_PCT_SHIFT) & GRAFT__ROUTE_PCT_MASK);
    if (to == GRAFT_BREAKER_OPEN && !s->brk.hist_open &&
        atomic_load_explicit(&s->brk.reroute, memory_order_relaxed) &&
        mode != GRAFT_MODE_CANDIDATE_ONLY && mode != GRAFT_MODE_LEGACY) {
        s->brk.hist_open = true;
        graft__history_record(s, GRAFT_MODE_LEGACY, 0, GRAFT_BY_BREAKER, to, now);
    } else if ((to == GRAFT_BREAKER_CLOSED || to == GRAFT_BREAKER_DISABLED) && s->brk.hist_open) {
        s->brk.hist_open = false;
        graft__history_record(s, mode, bp, GRAFT_BY_BREAKER, to, now);
    }
}

static void graft__transition(graft_seam *s, uint64_t now, graft_breaker_state to,
                              const char *reason)
{
    GRAFT__ASSERT_HELD(&s->brk.lock);
    int from = atomic_load_explicit(&s->brk.state, memory_order_relaxed);
    graft__bk_event *ev = &s->brk.events[s->brk.event_total % GRAFT__EVENTS];
    ev->mono_ns = now;
    ev->unix_ns = graft__unix_ns();
    ev->from = from;
    ev->to = to;
    graft__strlcpy(ev->reason, reason, sizeof ev->reason);
    s->brk.event_total++;
    s->brk.since_ns = now;
    atomic_fetch_add_explicit(&s->brk.transitions, 1, memory_order_relaxed);
    if (to == GRAFT_BREAKER_OPEN) {
        atomic_fetch_add_explicit(&s->brk.opens, 1, memory_order_relaxed);
    }
    atomic_store_explicit(&s->brk.state, to, memory_order_release);
    graft__route_flag(s, GRAFT__ROUTE_BK_ACTIVE,
                      to == GRAFT_BREAKER_OPEN || to == GRAFT_BREAKER_HALF_OPEN);
    graft__transition_history(s, now, to);
    /* Deferred: transitions happen on serving threads (a failed call re-evaluates). */
    graft__log_deferred(s, to == GRAFT_BREAKER_OPEN ? GRAFT_LOG_WARN : GRAFT_LOG_INFO,
                        "graft.breaker", "breaker seam=%s from=%s to=%s reason=\"%s\"%s", s->name,
                        graft_breaker_state_name(from), graft_breaker_state_name(to), reason,
                        s->brk.cfg.observe_only ? " observe_only=1" : "");
}

static void graft__open(graft_seam *s, uint64_t now, bool backoff, const char *reason)
{
    if (backoff) {
        uint64_t max =
            s->brk.cfg.max_cooldown_ns ? s->brk.cfg.max_cooldown_ns : s->brk.base_cooldown_ns;
        uint64_t next = s->brk.cooldown_ns * 2;
        if (next < s->brk.cooldown_ns || next > max) {
            next = max;
        }
        s->brk.cooldown_ns = next;
    } else if (s->brk.cooldown_ns == 0) {
        s->brk.cooldown_ns = s->brk.base_cooldown_ns;
    }
    atomic_store_explicit(&s->brk.until, now + s->brk.cooldown_ns, memory_order_relaxed);
    graft__transition(s, now, GRAFT_BREAKER_OPEN, reason);
}

/* Forces the breaker closed and clears its window. */
void graft__breaker_reset(graft_seam *seam)
{
    pthread_mutex_lock(&seam->brk.lock);
    int st = atomic_load_explicit(&seam->brk.state, memory_order_relaxed);
    if (st != GRAFT_BREAKER_DISABLED) {
        if (st != GRAFT_BREAKER_CLOSED) {
            graft__transition(seam, graft__now(seam->rt), GRAFT_BREAKER_CLOSED, "reset");
        }
        seam->brk.cooldown_ns = seam->brk.base_cooldown_ns;
    }
    graft__window_reset(seam);
    atomic_store_explicit(&seam->brk.next_eval, 0, memory_order_relaxed);
    pthread_mutex_unlock(&seam->brk.lock);
}

void graft__breaker_destroy(graft_seam *s)
{
    pthread_mutex_destroy(&s->brk.lock);
}

void graft__breaker_init(graft_seam *s)
{
    graft_breaker_config cfg;
    graft_breaker_config_init(&cfg);
    pthread_mutex_init(&s->brk.lock, NULL);
    atomic_init(&s->brk.state, GRAFT_BREAKER_CLOSED);
    graft__breaker_apply(s, &cfg);
}

void graft__breaker_apply(graft_seam *s, const graft_breaker_config *cfg)
{
    pthread_mutex_lock(&s->brk.lock);
    s->brk.cfg = *cfg;
    s->brk.base_cooldown_ns = cfg->cooldown_ns;
    s->brk.cooldown_ns = cfg->cooldown_ns;
    atomic_store_explicit(&s->slow_call_ns, cfg->enabled ? cfg->slow_call_ns : 0,
                          memory_order_relaxed);
    atomic_store_explicit(&s->brk.reroute, cfg->enabled && !cfg->observe_only,
                          memory_order_relaxed);
    atomic_store_explicit(&s->brk.next_eval, 0, memory_order_relaxed);
    int st = atomic_load_explicit(&s->brk.state, memory_order_relaxed);
    uint64_t now = graft__now(s->rt);
    if (!cfg->enabled && st != GRAFT_BREAKER_DISABLED) {
        graft__transition(s, now, GRAFT_BREAKER_DISABLED, "disabled by configuration");
    } else if (cfg->enabled && st == GRAFT_BREAKER_DISABLED) {
        graft__transition(s, now, GRAFT_BREAKER_CLOSED, "enabled by configuration");
    }
    graft__window_reset(s);
    pthread_mutex_unlock(&s->brk.lock);
}

static bool graft__rate_at_least(uint64_t num, uint64_t den, uint32_t bp)
{
    return bp != 0 && den != 0 && num * GRAFT_PERCENT_SCALE >= (uint64_t)bp * den;
}

/* Closed: update the window and trip when a threshold is reached. */
static void graft__eval_closed(graft_seam *s, uint64_t now)
{
    GRAFT__ASSERT_HELD(&s->brk.lock);
    const graft_breaker_config *b = &s->brk.cfg;
    uint64_t bw = b->window_ns / GRAFT__WINDOW_BUCKETS;
    if (bw == 0) {
        bw = 1;
    }
    uint64_t cur = now / bw;
    graft__bk_counts c;
    graft__breaker_counts(s, &c);

    /* Keep the newest entry that left the window as the base; drop older ones. */
    uint64_t first_in = cur >= GRAFT__WINDOW_BUCKETS - 1 ? cur - (GRAFT__WINDOW_BUCKETS - 1) : 0;
    size_t keep_from = 0;
    for (size_t i = 0; i < s->brk.ring_n; i++) {
        if (s->brk.ring[i].bucket < first_in) {
            keep_from = i;
        }
    }
    if (s->brk.ring_n && s->brk.ring[0].bucket < first_in && keep_from > 0) {
        memmove(s->brk.ring, s->brk.ring + keep_from,
                (s->brk.ring_n - keep_from) * sizeof s->brk.ring[0]);
        s->brk.ring_n -= keep_from;
    }
    const graft__bk_counts *base = &s->brk.base;
    if (s->brk.ring_n && s->brk.ring[0].bucket < first_in) {
        base = &s->brk.ring[0].c;
    }
    graft__bk_counts win;
    graft__counts_sub(&win, &c, base);

    if (s->brk.ring_n && s->brk.ring[s->brk.ring_n - 1].bucket == cur) {
        s->brk.ring[s->brk.ring_n - 1].c = c;
    } else {
        if (s->brk.ring_n == sizeof s->brk.ring / sizeof s->brk.ring[0]) {
            memmove(s->brk.ring, s->brk.ring + 1, (s->brk.ring_n - 1) * sizeof s->brk.ring[0]);
            s->brk.ring_n--;
        }
        s->brk.ring[s->brk.ring_n].bucket = cur;
        s->brk.ring[s->brk.ring_n].c = c;
        s->brk.ring_n++;
    }
    s->brk.last_window = win;
    atomic_store_explicit(&s->brk.next_eval, now + bw, memory_order_relaxed);

    if (win.calls < b->min_calls) {
        return;
    }
    char reason[96];
    uint32_t min_timed = b->min_calls < 8 ? b->min_calls : 8;
    if (graft__rate_at_least(win.failures, win.calls, b->error_rate_bp)) {
        snprintf(reason, sizeof reason, "error rate %llu/%llu calls",
                 (unsigned long long)win.failures, (unsigned long long)win.calls);
    } else if (win.timed >= min_timed && win.timed > 0 &&
               graft__rate_at_least(win.slow, win.timed, b->slow_rate_bp)) {
        snprintf(reason, sizeof reason, "slow-call rate %llu/%llu timed calls",
                 (unsigned long long)win.slow, (unsigned long long)win.timed);
    } else if (win.compared >= b->min_calls &&
               graft__rate_at_least(win.mismatches, win.compared, b->mismatch_rate_bp)) {
        snprintf(reason, sizeof reason, "mismatch rate %llu/%llu compared",
                 (unsigned long long)win.mismatches, (unsigned long long)win.compared);
    } else {
        return;
    }
    s->brk.cooldown_ns = s->brk.base_cooldown_ns;
    graft__open(s, now, false, reason);
}

static void graft__half_open(graft_seam *s, uint64_t now)
{
    atomic_store_explicit(&s->brk.trial_ok, 0, memory_order_relaxed);
    atomic_store_explicit(&s->brk.trial_fail, 0, memory_order_relaxed);
    atomic_store_explicit(&s->brk.permits, (int)s->brk.cfg.half_open_calls, memory_order_relaxed);
    atomic_store_explicit(&s->brk.until, now + s->brk.cfg.half_open_max_ns, memory_order_relaxed);
    graft__transition(s, now, GRAFT_BREAKER_HALF_OPEN, "cool-down elapsed");
}

void graft__breaker_poll(graft_seam *s, uint64_t now, bool force)
{
    int st = atomic_load_explicit(&s->brk.state, memory_order_acquire);
    if (st == GRAFT_BREAKER_DISABLED) {
        return;
    }
    if (!force && st == GRAFT_BREAKER_CLOSED &&
        now < atomic_load_explicit(&s->brk.next_eval, memory_order_relaxed)) {
        return;
    }
    if (pthread_mutex_trylock(&s->brk.lock) != 0) {
        return;
    }
    st = atomic_load_explicit(&s->brk.state, memory_order_relaxed);
    switch (st) {
    case GRAFT_BREAKER_CLOSED:
        graft__eval_closed(s, now);
        break;
    case GRAFT_BREAKER_OPEN:
        if (now >= atomic_load_explicit(&s->brk.until, memory_order_relaxed)) {
            graft__half_open(s, now);
        }
        break;
    case GRAFT_BREAKER_HALF_OPEN: {
        uint32_t ok = atomic_load_explicit(&s->brk.trial_ok, memory_order_relaxed);
        uint32_t fail = atomic_load_explicit(&s->brk.trial_fail, memory_order_relaxed);
        uint32_t n = ok + fail;
        char reason[96];
        if (n >= s->brk.cfg.half_open_calls) {
            uint32_t bp = s->brk.cfg.error_rate_bp ? s->brk.cfg.error_rate_bp : 5000;
            snprintf(reason, sizeof reason, "%u of %u trial calls failed", fail, n);
            if (graft__rate_at_least(fail, n, bp)) {
                graft__open(s, now, true, reason);
            } else {
                s->brk.cooldown_ns = s->brk.base_cooldown_ns;
                graft__window_reset(s);
                atomic_store_explicit(&s->brk.next_eval, 0, memory_order_relaxed);
                graft__transition(s, now, GRAFT_BREAKER_CLOSED, reason);
            }
        } else if (now >= atomic_load_explicit(&s->brk.until, memory_order_relaxed)) {
            /* Not enough trials in time: do not stay half-open forever. */
            snprintf(reason, sizeof reason, "half-open timed out after %u of %u trial calls", n,
                     s->brk.cfg.half_open_calls);
            graft__open(s, now, false, reason);
        }
        break;
    }
    default:
        break;
    }
    pthread_mutex_unlock(&s->brk.lock);
}

bool graft__breaker_admit(graft_seam *s, uint64_t *now, bool *trial)
{
    *trial = false;
    int st = atomic_load_explicit(&s->brk.state, memory_order_acquire);
    if (st == GRAFT_BREAKER_OPEN || st == GRAFT_BREAKER_HALF_OPEN) {
        graft__breaker_poll(s, *now, true);
        st = atomic_load_explicit(&s->brk.state, memory_order_acquire);
    }
    bool reroute = atomic_load_explicit(&s->brk.reroute, memory_order_relaxed);
    switch (st) {
    case GRAFT_BREAKER_OPEN:
        return !reroute;
    case GRAFT_BREAKER_HALF_OPEN: {
        if (!reroute) {
            *trial = true;
            return true;
        }
        int p = atomic_load_explicit(&s->brk.permits, memory_order_relaxed);
        while (p > 0) {
            if (atomic_compare_exchange_weak_explicit(&s->brk.permits, &p, p - 1,
                                                      memory_order_acq_rel, memory_order_relaxed)) {
                *trial = true;
                return true;
            }
        }
        return false;
    }
    default:
        return true;
    }
}

void graft__breaker_trial_done(graft_seam *s, bool ok)
{
    atomic_fetch_add_explicit(ok ? &s->brk.trial_ok : &s->brk.trial_fail, 1, memory_order_relaxed);
}
