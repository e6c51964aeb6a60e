/*
 * rollout.c: rollout plans evaluated in the process (see graft.h, "rollout plans", and
 * docs/RUNTIME.md). A plan is a list of stages; each evaluation compares the evidence
 * the seam's counters collected since the stage began (baselines taken on entry)
 * against what the stage needs and runs the gates (src/stats.c): a FAIL rolls back one
 * stage, a HOLD (too little evidence, or an inconclusive gate) changes nothing, and
 * only when every gate PASSes and the evidence is complete does the plan advance.
 *
 * Mode changes go through graft__seam_set_mode with GRAFT_BY_PLAN, so the stage history
 * shows them. Time is the runtime's clock; the evaluator thread only paces evaluations
 * (real time). Calls down only: counters.c, seam.c, stats.c, log.c, status.c.
 *
 * Locking: each plan's `lock` guards it (taken by evaluations, controls and status);
 * a mode change inside takes the seam's mode_lock after it. The plan object is made
 * once per seam and freed with the seam, so readers never race a free.
 */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "rollout.h"
#include "stats.h"

struct graft__plan {
    pthread_mutex_t lock;
    graft_plan_status st; /* the plan, its state and the last evaluation */
    uint64_t stage_start_ns;
    uint64_t base[GRAFT__C_COUNT]; /* counters at stage entry */
    uint64_t base_opens;           /* breaker openings at stage entry */
    uint64_t base_hist[2][GRAFT__HIST_BUCKETS];
    uint64_t next_eval_real_ns; /* evaluator thread: when this plan is due */
};

typedef struct graft__planner {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
} graft__planner;

/* ------------------------------------------------------------------ names */

#define GRAFT__PLAN_STATE_NAME(suffix, number, name, meaning) [number] = name,
static const char *const graft__plan_state_names[GRAFT_PLAN_STATE_COUNT] = {
    GRAFT_PLAN_STATE_MAP(GRAFT__PLAN_STATE_NAME)};
#undef GRAFT__PLAN_STATE_NAME
#define GRAFT__PLAN_STATE_ONE(suffix, number, name, meaning) +1
_Static_assert(0 GRAFT_PLAN_STATE_MAP(GRAFT__PLAN_STATE_ONE) == GRAFT_PLAN_STATE_COUNT,
               "GRAFT_PLAN_STATE_COUNT must be the number of GRAFT_PLAN_STATE_MAP entries");
#undef GRAFT__PLAN_STATE_ONE

#define GRAFT__PLAN_DECISION_NAME(suffix, number, name) [number] = name,
static const char *const graft__plan_decision_names[GRAFT_PLAN_DECISION_COUNT] = {
    GRAFT_PLAN_DECISION_MAP(GRAFT__PLAN_DECISION_NAME)};
#undef GRAFT__PLAN_DECISION_NAME
#define GRAFT__PLAN_DECISION_ONE(suffix, number, name) +1
_Static_assert(0 GRAFT_PLAN_DECISION_MAP(GRAFT__PLAN_DECISION_ONE) == GRAFT_PLAN_DECISION_COUNT,
               "GRAFT_PLAN_DECISION_COUNT must be the number of GRAFT_PLAN_DECISION_MAP entries");
#undef GRAFT__PLAN_DECISION_ONE

#define GRAFT__PLAN_ACTION_NAME(suffix, number, name) [number] = name,
static const char *const graft__plan_action_names[GRAFT_PLAN_ACTION_COUNT] = {
    GRAFT_PLAN_ACTION_MAP(GRAFT__PLAN_ACTION_NAME)};
#undef GRAFT__PLAN_ACTION_NAME
#define GRAFT__PLAN_ACTION_ONE(suffix, number, name) +1
_Static_assert(0 GRAFT_PLAN_ACTION_MAP(GRAFT__PLAN_ACTION_ONE) == GRAFT_PLAN_ACTION_COUNT,
               "GRAFT_PLAN_ACTION_COUNT must be the number of GRAFT_PLAN_ACTION_MAP entries");
#undef GRAFT__PLAN_ACTION_ONE

const char *graft_plan_state_name(int state)
{
    if (state < 0 || state >= GRAFT_PLAN_STATE_COUNT) {
        return NULL;
    }
    return graft__plan_state_names[state];
}

const char *graft_plan_decision_name(int decision)
{
    if (decision < 0 || decision >= GRAFT_PLAN_DECISION_COUNT) {
        return NULL;
    }
    return graft__plan_decision_names[decision];
}

int graft_plan_action_parse(const char *name, graft_plan_action *out)
{
    if (!name || !out) {
        return GRAFT_ENULL;
    }
    for (int i = 0; i < GRAFT_PLAN_ACTION_COUNT; i++) {
        if (strcmp(name, graft__plan_action_names[i]) == 0) {
            *out = (graft_plan_action)i;
            return GRAFT_OK;
        }
    }
    return GRAFT_EINVAL;
}

/* ------------------------------------------------------------------ plan definition */

void graft_plan_init(graft_plan *plan)
{
    if (!plan) {
        return;
    }
    memset(plan, 0, sizeof *plan);
    static const graft_plan_stage def[] = {
        {GRAFT_MODE_SHADOW, 0},    {GRAFT_MODE_CANARY, 100},  {GRAFT_MODE_CANARY, 500},
        {GRAFT_MODE_CANARY, 2500}, {GRAFT_MODE_CANARY, 5000}, {GRAFT_MODE_CANDIDATE, 0},
    };
    memcpy(plan->stages, def, sizeof def);
    plan->nstages = sizeof def / sizeof def[0];
    plan->min_compared = 2000;
    plan->min_served = 2000;
    plan->min_stage_ns = 10ull * 1000000000ull;
    plan->mismatch_max = 0.001;
    plan->error_diff_max = 0.001;
    plan->latency_tolerance = 0.25;
    plan->latency_min = 200;
    plan->latency_in_canary = 1;
    plan->confidence = 0.95;
    plan->interval_ns = 1000000000ull;
}

int graft_plan_parse_stages(graft_plan *plan, const char *text, char *err, size_t errlen)
{
    if (!plan || !text) {
        return GRAFT_ENULL;
    }
    graft_plan_stage st[GRAFT_PLAN_STAGES_MAX];
    uint32_t n = 0;
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        const char *end = p + strcspn(p, ",");
        char item[48];
        size_t len = (size_t)(end - p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
            len--;
        }
        if (len == 0 || len >= sizeof item) {
            graft__seterr(err, errlen, "stages: empty or overlong item at \"%.20s\"", p);
            return GRAFT_EINVAL;
        }
        if (n == GRAFT_PLAN_STAGES_MAX) {
            graft__seterr(err, errlen, "stages: more than %d", GRAFT_PLAN_STAGES_MAX);
            return GRAFT_EINVAL;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        char *colon = strchr(item, ':');
        uint32_t bp = 0;
        if (colon) {
            *colon = '\0';
            if (graft_percent_parse(colon + 1, &bp) != GRAFT_OK || bp == 0 ||
                bp >= GRAFT_PERCENT_SCALE) {
                graft__seterr(err, errlen,
                              "stages: \"%s\": percentage must be above 0 and below 100",
                              colon + 1);
                return GRAFT_EINVAL;
            }
        }
        graft_mode m;
        if (graft_mode_parse(item, &m) != GRAFT_OK || m == GRAFT_MODE_LEGACY ||
            (m == GRAFT_MODE_CANARY) != (colon != NULL)) {
            graft__seterr(err, errlen,
                          "stages: \"%s\" is not shadow, canary:PERCENT, candidate or "
                          "candidate-only",
                          item);
            return GRAFT_EINVAL;
        }
        st[n].mode = m;
        st[n].percent_bp = bp;
        n++;
        if (*end == '\0') {
            break;
        }
        p = end + 1;
    }
    memcpy(plan->stages, st, sizeof st[0] * n);
    plan->nstages = n;
    return GRAFT_OK;
}

bool graft__plan_check(const graft_plan *p, char *err, size_t errlen)
{
    if (p->nstages == 0 || p->nstages > GRAFT_PLAN_STAGES_MAX) {
        graft__seterr(err, errlen, "plan: 1 to %d stages", GRAFT_PLAN_STAGES_MAX);
        return false;
    }
    if (!(p->confidence > 0.5 && p->confidence < 1.0)) {
        graft__seterr(err, errlen, "plan: confidence must be above 50%% and below 100%%");
        return false;
    }
    if (!(p->mismatch_max >= 0.0) || !(p->error_diff_max >= 0.0) || isnan(p->latency_tolerance)) {
        graft__seterr(err, errlen, "plan: thresholds must be rates of at least 0");
        return false;
    }
    for (uint32_t i = 0; i < p->nstages; i++) {
        graft_mode m = p->stages[i].mode;
        uint32_t bp = p->stages[i].percent_bp;
        if ((int)m <= GRAFT_MODE_LEGACY || (int)m >= GRAFT_MODE_COUNT ||
            (m == GRAFT_MODE_CANARY ? (bp == 0 || bp >= GRAFT_PERCENT_SCALE) : bp != 0)) {
            graft__seterr(err, errlen,
                          "plan: stage %u is not shadow, canary 0-100%% (exclusive), "
                          "candidate or candidate-only",
                          i);
            return false;
        }
    }
    return true;
}

static bool graft__plan_valid(const graft_plan *p)
{
    return graft__plan_check(p, NULL, 0);
}

/* ------------------------------------------------------------------ evidence */

static void graft__plan_hist(const graft_seam *s, uint64_t h[2][GRAFT__HIST_BUCKETS])
{
    memset(h, 0, sizeof(uint64_t) * 2 * GRAFT__HIST_BUCKETS);
    for (int i = 0; i <= GRAFT__SLOTS; i++) {
        for (int im = 0; im < 2; im++) {
            for (size_t b = 0; b < GRAFT__HIST_BUCKETS; b++) {
                h[im][b] += atomic_load_explicit(&s->slots[i].hist[im][b], memory_order_relaxed);
            }
        }
    }
}

/* Enters stage `stage`: the mode (by the plan), then fresh baselines. Plan lock held. */
static int graft__plan_enter(graft_seam *s, struct graft__plan *p, uint32_t stage, uint64_t now)
{
    GRAFT__ASSERT_HELD(&p->lock);
    assert(stage < p->st.plan.nstages);
    const graft_plan_stage *g = &p->st.plan.stages[stage];
    double tol = p->st.plan.latency_tolerance;
    uint32_t ppm = tol > 0 ? (uint32_t)(tol * 1e6 + 0.5) : 0;
    atomic_store_explicit(&s->pair_tolerance_ppm, ppm, memory_order_relaxed);
    int rc = graft__seam_set_mode(s, g->mode, g->percent_bp, GRAFT_BY_PLAN);
    if (rc != GRAFT_OK) {
        return rc;
    }
    p->st.stage = stage;
    p->stage_start_ns = now;
    graft__counters(s, p->base);
    p->base_opens = atomic_load_explicit(&s->brk.opens, memory_order_relaxed);
    graft__plan_hist(s, p->base_hist);
    return GRAFT_OK;
}

/* The bucket's value for Mann-Whitney: the middle of its range. */
static double graft__bucket_value(size_t i)
{
    uint64_t hi = graft__hist_upper(i);
    uint64_t lo = i == 0 ? 0 : graft__hist_upper(i - 1) + 1;
    return ((double)lo + (double)hi) / 2.0;
}

typedef struct graft__evidence {
    uint64_t d[GRAFT__C_COUNT];
    uint64_t opens;
} graft__evidence;

/* The stage's evidence into p->st, the gates' verdicts; returns the decision and
 * writes its reason. Plan lock held. */
static graft_plan_decision graft__plan_judge(graft_seam *s, struct graft__plan *p, uint64_t now)
{
    graft_plan_status *st = &p->st;
    const graft_plan *pl = &st->plan;
    const graft_plan_stage *g = &pl->stages[st->stage];
    uint64_t c[GRAFT__C_COUNT];
    graft__counters(s, c);
    uint64_t d[GRAFT__C_COUNT];
    for (int k = 0; k < GRAFT__C_COUNT; k++) {
        d[k] = c[k] >= p->base[k] ? c[k] - p->base[k] : 0;
    }
    st->compared = d[GRAFT__C_COMPARED];
    st->mismatches = d[GRAFT__C_MISMATCHES];
    st->served = d[GRAFT__CI(GRAFT_IMPL_CANDIDATE, GRAFT__I_CALLS)];
    st->cand_failures = d[GRAFT__CI(GRAFT_IMPL_CANDIDATE, GRAFT__I_ERRORS)] +
                        d[GRAFT__CI(GRAFT_IMPL_CANDIDATE, GRAFT__I_PANICS)];
    st->legacy_calls = d[GRAFT__CI(GRAFT_IMPL_LEGACY, GRAFT__I_CALLS)];
    st->legacy_failures = d[GRAFT__CI(GRAFT_IMPL_LEGACY, GRAFT__I_ERRORS)] +
                          d[GRAFT__CI(GRAFT_IMPL_LEGACY, GRAFT__I_PANICS)];
    st->pairs_slower = d[GRAFT__C_PAIR_SLOWER];
    st->pairs_faster = d[GRAFT__C_PAIR_FASTER];
    st->pairs_tied = d[GRAFT__C_PAIR_TIES];
    st->stage_ns = now > p->stage_start_ns ? now - p->stage_start_ns : 0;
    uint64_t opens = atomic_load_explicit(&s->brk.opens, memory_order_relaxed) - p->base_opens;
    double conf = pl->confidence;

    /* mismatch: where this stage compares */
    bool compares = g->mode == GRAFT_MODE_SHADOW ||
                    atomic_load_explicit(&s->compare_served, memory_order_relaxed) != 0;
    st->mismatch = (graft_plan_gate){-1, 0, pl->mismatch_max};
    if (compares) {
        double up = 1;
        st->mismatch.verdict =
            (int)graft__gate_rate(st->mismatches, st->compared, pl->mismatch_max, conf, &up);
        st->mismatch.value = up;
    }
    /* errors: the candidate's failure rate against legacy's */
    double eu = 1;
    st->errors = (graft_plan_gate){-1, 0, pl->error_diff_max};
    st->errors.verdict =
        (int)graft__gate_rate_diff(st->cand_failures, st->served, st->legacy_failures,
                                   st->legacy_calls, pl->error_diff_max, conf, &eu);
    st->errors.value = eu;
    /* latency */
    st->latency = (graft_plan_gate){-1, 1, 1.0 - conf};
    if (pl->latency_tolerance >= 0) {
        double pv = 1;
        if (g->mode == GRAFT_MODE_SHADOW) {
            if (st->pairs_slower + st->pairs_faster < pl->latency_min) {
                st->latency.verdict = GRAFT__V_HOLD;
            } else {
                st->latency.verdict =
                    (int)graft__gate_sign(st->pairs_slower, st->pairs_faster, conf, &pv);
            }
        } else if (g->mode == GRAFT_MODE_CANARY && pl->latency_in_canary) {
            uint64_t(*h)[GRAFT__HIST_BUCKETS] = malloc(sizeof(uint64_t[2][GRAFT__HIST_BUCKETS]));
            if (h) {
                graft__plan_hist(s, h);
                for (int im = 0; im < 2; im++) {
                    for (size_t b = 0; b < GRAFT__HIST_BUCKETS; b++) {
                        h[im][b] -= p->base_hist[im][b];
                    }
                }
                st->latency.verdict = (int)graft__gate_mw_hist(
                    h[GRAFT_IMPL_LEGACY], h[GRAFT_IMPL_CANDIDATE], GRAFT__HIST_BUCKETS,
                    graft__bucket_value, pl->latency_tolerance, pl->latency_min, conf, &pv);
                free(h);
            } else {
                st->latency.verdict = GRAFT__V_HOLD;
            }
        }
        /* candidate / candidate-only: legacy no longer serves, nothing to pair with */
        st->latency.value = pv;
    }

    size_t rl = sizeof st->reason;
    if (opens > 0) {
        snprintf(st->reason, rl, "breaker opened %llu time(s) in stage %u",
                 (unsigned long long)opens, st->stage);
        return GRAFT_DECISION_ROLLBACK;
    }
    if (st->mismatch.verdict == GRAFT__V_FAIL) {
        snprintf(
            st->reason, rl, "mismatch gate failed: %llu of %llu compared, lower bound above %g",
            (unsigned long long)st->mismatches, (unsigned long long)st->compared, pl->mismatch_max);
        return GRAFT_DECISION_ROLLBACK;
    }
    if (st->errors.verdict == GRAFT__V_FAIL) {
        snprintf(st->reason, rl,
                 "error gate failed: candidate %llu of %llu failed, legacy %llu of %llu",
                 (unsigned long long)st->cand_failures, (unsigned long long)st->served,
                 (unsigned long long)st->legacy_failures, (unsigned long long)st->legacy_calls);
        return GRAFT_DECISION_ROLLBACK;
    }
    if (st->latency.verdict == GRAFT__V_FAIL) {
        snprintf(st->reason, rl,
                 "latency gate failed: candidate slower than legacy x %.2f (p=%.3g)",
                 1.0 + pl->latency_tolerance, st->latency.value);
        return GRAFT_DECISION_ROLLBACK;
    }
    int bst = atomic_load_explicit(&s->brk.state, memory_order_acquire);
    if (bst == GRAFT_BREAKER_OPEN || bst == GRAFT_BREAKER_HALF_OPEN) {
        snprintf(st->reason, rl, "breaker %s: waiting for it to close",
                 graft_breaker_state_name(bst));
        return GRAFT_DECISION_HOLD;
    }
    if (compares && st->compared < pl->min_compared) {
        snprintf(st->reason, rl, "evidence: %llu of %llu compared calls",
                 (unsigned long long)st->compared, (unsigned long long)pl->min_compared);
        return GRAFT_DECISION_HOLD;
    }
    if (st->served < pl->min_served) {
        snprintf(st->reason, rl, "evidence: %llu of %llu candidate calls",
                 (unsigned long long)st->served, (unsigned long long)pl->min_served);
        return GRAFT_DECISION_HOLD;
    }
    if (st->stage_ns < pl->min_stage_ns) {
        snprintf(st->reason, rl, "evidence: %.1f of %.1f s in stage", (double)st->stage_ns / 1e9,
                 (double)pl->min_stage_ns / 1e9);
        return GRAFT_DECISION_HOLD;
    }
    if (st->mismatch.verdict == GRAFT__V_HOLD) {
        snprintf(st->reason, rl, "mismatch gate inconclusive: upper bound %.5f not below %g",
                 st->mismatch.value, pl->mismatch_max);
        return GRAFT_DECISION_HOLD;
    }
    if (st->errors.verdict == GRAFT__V_HOLD) {
        snprintf(st->reason, rl, "error gate inconclusive: upper bound %.5f not below %g",
                 st->errors.value, pl->error_diff_max);
        return GRAFT_DECISION_HOLD;
    }
    if (st->latency.verdict == GRAFT__V_HOLD) {
        snprintf(st->reason, rl,
                 "latency gate inconclusive (p=%.3g; %llu slower, %llu faster pairs)",
                 st->latency.value, (unsigned long long)st->pairs_slower,
                 (unsigned long long)st->pairs_faster);
        return GRAFT_DECISION_HOLD;
    }
    if (st->stage + 1 == pl->nstages) {
        snprintf(st->reason, rl, "last stage passed its gates");
        return GRAFT_DECISION_DONE;
    }
    snprintf(st->reason, rl, "stage %u passed its gates (%llu compared, %llu candidate calls)",
             st->stage, (unsigned long long)st->compared, (unsigned long long)st->served);
    return GRAFT_DECISION_ADVANCE;
}

/* Applies a decision. Plan lock held. */
static void graft__plan_apply(graft_seam *s, struct graft__plan *p, graft_plan_decision dec,
                              uint64_t now)
{
    graft_plan_status *st = &p->st;
    uint32_t from = st->stage;
    st->last_decision = dec;
    if (dec == GRAFT_DECISION_HOLD || dec == GRAFT_DECISION_NONE) {
        return;
    }
    st->decided_compared[from] = st->compared;
    st->decided_served[from] = st->served;
    switch (dec) {
    case GRAFT_DECISION_ADVANCE:
        if (graft__plan_enter(s, p, from + 1, now) == GRAFT_OK) {
            st->advances++;
        }
        break;
    case GRAFT_DECISION_DONE:
        st->state = GRAFT_PLAN_DONE;
        break;
    case GRAFT_DECISION_ROLLBACK:
        st->rollbacks++;
        if (from == 0) {
            /* Nothing below the first stage but legacy: the plan stops there. */
            graft__seam_set_mode(s, GRAFT_MODE_LEGACY, 0, GRAFT_BY_PLAN);
            st->state = GRAFT_PLAN_ABORTED;
        } else {
            graft__plan_enter(s, p, from - 1, now);
        }
        break;
    case GRAFT_DECISION_ABORT:
        graft__seam_set_mode(s, GRAFT_MODE_LEGACY, 0, GRAFT_BY_PLAN);
        st->state = GRAFT_PLAN_ABORTED;
        break;
    default:
        break;
    }
    graft__log(s->rt, dec == GRAFT_DECISION_ROLLBACK ? GRAFT_LOG_WARN : GRAFT_LOG_INFO,
               "graft.plan", "plan seam=%s decision=%s stage=%u->%u reason=\"%s\"", s->name,
               graft_plan_decision_name(dec), from, st->stage, st->reason);
}

/* ------------------------------------------------------------------ evaluator thread */

static uint64_t graft__real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define GRAFT__PLANNER_TICK_NS 100000000ull /* looks for due plans every 100 ms */

static void *graft__planner_main(void *arg)
{
    graft_runtime *rt = arg;
    graft__planner *pn = rt->planner;
    pthread_mutex_lock(&pn->lock);
    while (!pn->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)GRAFT__PLANNER_TICK_NS;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&pn->cond, &pn->lock, &ts);
        if (pn->stop) {
            break;
        }
        pthread_mutex_unlock(&pn->lock);
        uint64_t real = graft__real_ns();
        for (graft_seam *s = atomic_load_explicit(&rt->head, memory_order_acquire); s;
             s = atomic_load_explicit(&s->next, memory_order_acquire)) {
            struct graft__plan *p = atomic_load_explicit(&s->plan, memory_order_acquire);
            if (!p) {
                continue;
            }
            pthread_mutex_lock(&p->lock);
            bool due = p->st.state == GRAFT_PLAN_RUNNING && p->st.plan.interval_ns > 0 &&
                       real >= p->next_eval_real_ns;
            if (due) {
                p->next_eval_real_ns = real + p->st.plan.interval_ns;
            }
            pthread_mutex_unlock(&p->lock);
            if (due) {
                (void)graft_seam_plan_evaluate(s, NULL);
            }
        }
        pthread_mutex_lock(&pn->lock);
    }
    pthread_mutex_unlock(&pn->lock);
    return NULL;
}

/* Starts the evaluator thread once (runtime lock held). */
static int graft__planner_start(graft_runtime *rt)
{
    GRAFT__ASSERT_HELD(&rt->lock);
    if (rt->planner) {
        return GRAFT_OK;
    }
    graft__planner *pn = calloc(1, sizeof *pn);
    if (!pn) {
        return GRAFT_ENOMEM;
    }
    pthread_mutex_init(&pn->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&pn->cond, &ca);
    pthread_condattr_destroy(&ca);
    rt->planner = pn;
    if (pthread_create(&pn->thread, NULL, graft__planner_main, rt) != 0) {
        rt->planner = NULL;
        pthread_cond_destroy(&pn->cond);
        pthread_mutex_destroy(&pn->lock);
        free(pn);
        return GRAFT_ENOMEM;
    }
    return GRAFT_OK;
}

void graft__planner_stop(graft_runtime *rt)
{
    graft__planner *pn = rt->planner;
    if (!pn) {
        return;
    }
    pthread_mutex_lock(&pn->lock);
    pn->stop = true;
    pthread_cond_signal(&pn->cond);
    pthread_mutex_unlock(&pn->lock);
    pthread_join(pn->thread, NULL);
    pthread_cond_destroy(&pn->cond);
    pthread_mutex_destroy(&pn->lock);
    free(pn);
    rt->planner = NULL;
}

void graft__plan_free(struct graft__plan *p)
{
    if (!p) {
        return;
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* ------------------------------------------------------------------ public API */

/* graft_seam_set_plan's work; rt->lock held. `keep`: leave a running or finished plan
 * that equals `plan` as it is. */
static int graft__plan_set_locked(graft_seam *seam, const graft_plan *plan, bool keep)
{
    graft_runtime *rt = seam->rt;
    GRAFT__ASSERT_HELD(&rt->lock);
    if (!graft__plan_valid(plan)) {
        return GRAFT_EINVAL;
    }
    for (uint32_t i = 0; i < plan->nstages; i++) {
        if (plan->stages[i].mode == GRAFT_MODE_SHADOW &&
            graft__shadow_refusal(seam, GRAFT_SHADOW_SYNC)) {
            graft__log(rt, GRAFT_LOG_ERROR, "graft.plan",
                       "plan refused seam=%s: a shadow stage, and the seam is declared impure",
                       seam->name);
            return GRAFT_EUNSUPPORTED;
        }
    }
    struct graft__plan *p = atomic_load_explicit(&seam->plan, memory_order_acquire);
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p) {
            return GRAFT_ENOMEM;
        }
        pthread_mutex_init(&p->lock, NULL);
        atomic_store_explicit(&seam->plan, p, memory_order_release);
    }
    int rc = plan->interval_ns ? graft__planner_start(rt) : GRAFT_OK;
    if (rc != GRAFT_OK) {
        return rc;
    }
    pthread_mutex_lock(&p->lock);
    if (keep && p->st.state != GRAFT_PLAN_NONE && memcmp(&p->st.plan, plan, sizeof *plan) == 0) {
        pthread_mutex_unlock(&p->lock);
        return GRAFT_OK;
    }
    memset(&p->st, 0, sizeof p->st);
    p->st.plan = *plan;
    p->st.state = GRAFT_PLAN_RUNNING;
    p->next_eval_real_ns = graft__real_ns() + plan->interval_ns;
    rc = graft__plan_enter(seam, p, 0, graft__now(rt));
    if (rc != GRAFT_OK) {
        p->st.state = GRAFT_PLAN_NONE;
    } else {
        snprintf(p->st.reason, sizeof p->st.reason, "plan started");
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int graft__plan_apply_conf(graft_seam *seam, const graft_plan *plan)
{
    return graft__plan_set_locked(seam, plan, true);
}

int graft_seam_set_plan(graft_seam *seam, const graft_plan *plan)
{
    if (!seam || !plan) {
        return GRAFT_ENULL;
    }
    pthread_mutex_lock(&seam->rt->lock);
    int rc = graft__plan_set_locked(seam, plan, false);
    pthread_mutex_unlock(&seam->rt->lock);
    return rc;
}

int graft_seam_clear_plan(graft_seam *seam)
{
    if (!seam) {
        return GRAFT_ENULL;
    }
    struct graft__plan *p = atomic_load_explicit(&seam->plan, memory_order_acquire);
    if (!p) {
        return GRAFT_OK;
    }
    pthread_mutex_lock(&p->lock);
    p->st.state = GRAFT_PLAN_NONE;
    atomic_store_explicit(&seam->pair_tolerance_ppm, 0, memory_order_relaxed);
    pthread_mutex_unlock(&p->lock);
    return GRAFT_OK;
}

int graft_seam_plan_evaluate(graft_seam *seam, graft_plan_decision *decision)
{
    if (!seam) {
        return GRAFT_ENULL;
    }
    struct graft__plan *p = atomic_load_explicit(&seam->plan, memory_order_acquire);
    if (!p) {
        return GRAFT_ESTATE;
    }
    pthread_mutex_lock(&p->lock);
    if (p->st.state != GRAFT_PLAN_RUNNING) {
        pthread_mutex_unlock(&p->lock);
        return GRAFT_ESTATE;
    }
    uint64_t now = graft__now(seam->rt);
    graft_plan_decision dec = graft__plan_judge(seam, p, now);
    p->st.evaluations++;
    graft__plan_apply(seam, p, dec, now);
    pthread_mutex_unlock(&p->lock);
    if (decision) {
        *decision = dec;
    }
    return GRAFT_OK;
}

int graft_seam_plan_control(graft_seam *seam, graft_plan_action action)
{
    if (!seam) {
        return GRAFT_ENULL;
    }
    if ((int)action < 0 || (int)action >= GRAFT_PLAN_ACTION_COUNT) {
        return GRAFT_EINVAL;
    }
    struct graft__plan *p = atomic_load_explicit(&seam->plan, memory_order_acquire);
    if (!p) {
        return GRAFT_ESTATE;
    }
    int rc = GRAFT_OK;
    pthread_mutex_lock(&p->lock);
    graft_plan_status *st = &p->st;
    uint64_t now = graft__now(seam->rt);
    switch (action) {
    case GRAFT_PLAN_ACTION_PAUSE:
        if (st->state != GRAFT_PLAN_RUNNING) {
            rc = GRAFT_ESTATE;
            break;
        }
        st->state = GRAFT_PLAN_PAUSED;
        snprintf(st->reason, sizeof st->reason, "paused by an operator");
        break;
    case GRAFT_PLAN_ACTION_RESUME:
        if (st->state != GRAFT_PLAN_PAUSED) {
            rc = GRAFT_ESTATE;
            break;
        }
        st->state = GRAFT_PLAN_RUNNING;
        snprintf(st->reason, sizeof st->reason, "resumed by an operator");
        break;
    case GRAFT_PLAN_ACTION_ADVANCE:
        if (st->state != GRAFT_PLAN_RUNNING && st->state != GRAFT_PLAN_PAUSED) {
            rc = GRAFT_ESTATE;
            break;
        }
        snprintf(st->reason, sizeof st->reason, "advanced by an operator (gates not applied)");
        if (st->stage + 1 == st->plan.nstages) {
            graft__plan_apply(seam, p, GRAFT_DECISION_DONE, now);
        } else {
            graft__plan_apply(seam, p, GRAFT_DECISION_ADVANCE, now);
        }
        break;
    case GRAFT_PLAN_ACTION_ABORT:
        if (st->state == GRAFT_PLAN_NONE || st->state == GRAFT_PLAN_ABORTED) {
            rc = GRAFT_ESTATE;
            break;
        }
        snprintf(st->reason, sizeof st->reason, "aborted by an operator");
        graft__plan_apply(seam, p, GRAFT_DECISION_ABORT, now);
        break;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int graft_seam_plan_status(graft_seam *seam, graft_plan_status *out)
{
    if (!seam || !out) {
        return GRAFT_ENULL;
    }
    struct graft__plan *p = atomic_load_explicit(&seam->plan, memory_order_acquire);
    if (!p) {
        memset(out, 0, sizeof *out);
        out->state = GRAFT_PLAN_NONE;
        return GRAFT_ESTATE;
    }
    pthread_mutex_lock(&p->lock);
    *out = p->st;
    pthread_mutex_unlock(&p->lock);
    return out->state == GRAFT_PLAN_NONE ? GRAFT_ESTATE : GRAFT_OK;
}
