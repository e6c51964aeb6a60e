/* Rollout plans (issue 15.2): stages advance only on complete evidence and passed gates,
 * hold when inconclusive, roll back one stage on a failed gate (recorded by
 * GRAFT_BY_PLAN with its reason), the breaker still acts, and operators pause, resume,
 * advance and abort. Time is an injected clock: no test sleeps. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "rt_fixture.h"

#define SEC 1000000000ull

/* output = input * 2; each run advances the fake clock by its cost; the candidate can
 * be made wrong (every call) or failing (1 call in fail_every). */
typedef struct ctoy {
    fake_clock *clock;
    uint64_t legacy_cost, candidate_cost;
    int wrong;
    int fail_every;
    atomic_int candidate_calls;
} ctoy;

static int ctoy_legacy(void *ctx, const void *input, void *output)
{
    ctoy *t = ctx;
    atomic_fetch_add(&t->clock->now, t->legacy_cost);
    *(long *)output = *(const long *)input * 2;
    return GRAFT_OK;
}

static int ctoy_candidate(void *ctx, const void *input, void *output)
{
    ctoy *t = ctx;
    int n = atomic_fetch_add(&t->candidate_calls, 1) + 1;
    atomic_fetch_add(&t->clock->now, t->candidate_cost);
    if (t->fail_every && n % t->fail_every == 0) {
        return GRAFT_EINTERNAL;
    }
    *(long *)output = *(const long *)input * 2 + (t->wrong ? 1 : 0);
    return GRAFT_OK;
}

typedef struct fx {
    graft_runtime *rt;
    graft_seam *seam;
    ctoy t;
    fake_clock clock;
    long next;
} fx;

static fx *fx_new(void)
{
    fx *f = calloc(1, sizeof *f);
    atomic_store(&f->clock.now, 1000 * SEC);
    f->t.clock = &f->clock;
    f->t.legacy_cost = 1000;
    f->t.candidate_cost = 1000;
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.clock = fake_now;
    o.clock_ctx = &f->clock;
    o.sleep = fake_sleep;
    o.log_level = GRAFT_LOG_ERROR;
    o.time_sample_every = 1; /* every call timed: paired latencies on every shadow call */
    assert_int_equal(graft_runtime_new(&o, &f->rt), GRAFT_OK);
    graft_seam_def d;
    memset(&d, 0, sizeof d);
    d.name = "toy.plan";
    d.ctx = &f->t;
    d.legacy = ctoy_legacy;
    d.candidate = ctoy_candidate;
    d.output_size = sizeof(long);
    d.purity = GRAFT_PURITY_PURE;
    assert_int_equal(graft_seam_register(f->rt, &d, &f->seam), GRAFT_OK);
    return f;
}

static void fx_free(fx *f)
{
    graft_runtime_free(f->rt);
    free(f);
}

static void traffic(fx *f, int n)
{
    for (int i = 0; i < n; i++) {
        long in = f->next++, out, scratch;
        graft_call(f->seam, (uint64_t)in, 0, &in, &out, &scratch);
    }
}

static graft_plan small_plan(void)
{
    graft_plan p;
    graft_plan_init(&p);
    char err[128];
    assert_int_equal(
        graft_plan_parse_stages(&p, "shadow, canary:10, canary:50, candidate", err, sizeof err),
        GRAFT_OK);
    p.min_compared = 500;
    p.min_served = 500;
    p.min_stage_ns = 5 * SEC;
    p.mismatch_max = 0.01;
    p.error_diff_max = 0.01;
    p.latency_tolerance = 0.25;
    p.latency_min = 50;
    p.interval_ns = 0; /* the test evaluates */
    return p;
}

static graft_plan_decision eval(fx *f)
{
    graft_plan_decision d = GRAFT_DECISION_NONE;
    assert_int_equal(graft_seam_plan_evaluate(f->seam, &d), GRAFT_OK);
    return d;
}

static graft_plan_status status(fx *f)
{
    graft_plan_status st;
    graft_seam_plan_status(f->seam, &st);
    return st;
}

static void mode_is(fx *f, graft_mode m, uint32_t bp)
{
    graft_mode got;
    uint32_t pct;
    graft_seam_get_mode(f->seam, &got, &pct);
    assert_int_equal(got, m);
    assert_int_equal(pct, bp);
}

static void stage_parsing(void **state)
{
    (void)state;
    graft_plan p;
    graft_plan_init(&p);
    assert_int_equal(p.nstages, 6);
    char err[128];
    assert_int_equal(
        graft_plan_parse_stages(&p, "shadow,canary:0.5,candidate-only", err, sizeof err), GRAFT_OK);
    assert_int_equal(p.nstages, 3);
    assert_int_equal(p.stages[1].percent_bp, 50);
    assert_int_equal(p.stages[2].mode, GRAFT_MODE_CANDIDATE_ONLY);
    assert_int_equal(graft_plan_parse_stages(&p, "shadow,canary", err, sizeof err), GRAFT_EINVAL);
    assert_int_equal(graft_plan_parse_stages(&p, "legacy", err, sizeof err), GRAFT_EINVAL);
    assert_int_equal(graft_plan_parse_stages(&p, "shadow,,candidate", err, sizeof err),
                     GRAFT_EINVAL);
    assert_int_equal(graft_plan_parse_stages(&p, "canary:100", err, sizeof err), GRAFT_EINVAL);
    assert_int_equal(p.nstages, 3); /* a refused text changes nothing */
}

/* A good candidate: shadow -> canary 10 -> canary 50 -> candidate -> done, each step only
 * once its evidence is complete; the history records each step by the plan. */
static void good_candidate_ramps_to_done(void **state)
{
    (void)state;
    fx *f = fx_new();
    graft_plan p = small_plan();
    assert_int_equal(graft_seam_set_plan(f->seam, &p), GRAFT_OK);
    mode_is(f, GRAFT_MODE_SHADOW, 0);
    /* zero traffic: hold, and the reason names the evidence missing */
    assert_int_equal(eval(f), GRAFT_DECISION_HOLD);
    graft_plan_status st = status(f);
    assert_non_null(strstr(st.reason, "0 of 500 compared"));
    assert_int_equal(st.mismatch.verdict, 1);
    /* evidence without time: hold */
    traffic(f, 3000);
    assert_int_equal(eval(f), GRAFT_DECISION_HOLD);
    assert_non_null(strstr(status(f).reason, "s in stage"));
    atomic_fetch_add(&f->clock.now, 5 * SEC);
    assert_int_equal(eval(f), GRAFT_DECISION_ADVANCE);
    mode_is(f, GRAFT_MODE_CANARY, 1000);
    st = status(f);
    assert_int_equal(st.stage, 1);
    assert_int_equal(st.decided_compared[0], 3000);
    assert_int_equal(st.mismatch.verdict, 0); /* the gates of the stage just passed */
    /* canary 10%: 500 candidate calls need ~5000 calls */
    traffic(f, 2000);
    atomic_fetch_add(&f->clock.now, 5 * SEC);
    assert_int_equal(eval(f), GRAFT_DECISION_HOLD);
    assert_non_null(strstr(status(f).reason, "candidate calls"));
    assert_int_equal(status(f).mismatch.verdict, -1); /* canary compares nothing */
    traffic(f, 6000);
    assert_int_equal(eval(f), GRAFT_DECISION_ADVANCE);
    mode_is(f, GRAFT_MODE_CANARY, 5000);
    assert_int_equal(status(f).latency.verdict, 0); /* canary 10's Mann-Whitney passed */
    traffic(f, 3000);
    atomic_fetch_add(&f->clock.now, 5 * SEC);
    assert_int_equal(eval(f), GRAFT_DECISION_ADVANCE);
    mode_is(f, GRAFT_MODE_CANDIDATE, 0);
    traffic(f, 1000);
    atomic_fetch_add(&f->clock.now, 5 * SEC);
    assert_int_equal(eval(f), GRAFT_DECISION_DONE);
    st = status(f);
    assert_int_equal(st.state, GRAFT_PLAN_DONE);
    assert_int_equal(st.advances, 3);
    assert_int_equal(st.rollbacks, 0);
    /* a finished plan is not evaluated any more */
    assert_int_equal(graft_seam_plan_evaluate(f->seam, NULL), GRAFT_ESTATE);
    graft_mode_change h[GRAFT_SEAM_HISTORY_CAP];
    size_t n = 0;
    graft_seam_history(f->seam, h, GRAFT_SEAM_HISTORY_CAP, &n, NULL);
    assert_int_equal(n, 5); /* start, then four steps of the plan */
    for (size_t i = 1; i < n; i++) {
        assert_int_equal(h[i].by, GRAFT_BY_PLAN);
    }
    fx_free(f);
}

/* Every shadow call mismatching: the first stage fails at once (little evidence is
 * needed to be sure), and below the first stage there is only legacy. */
static void all_mismatches_abort(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->t.wrong = 1;
    graft_plan p = small_plan();
    assert_int_equal(graft_seam_set_plan(f->seam, &p), GRAFT_OK);
    traffic(f, 20);
    assert_int_equal(eval(f), GRAFT_DECISION_ROLLBACK);
    graft_plan_status st = status(f);
    assert_int_equal(st.state, GRAFT_PLAN_ABORTED);
    assert_non_null(strstr(st.reason, "mismatch gate failed"));
    assert_int_equal(st.decided_compared[0], 20);
    mode_is(f, GRAFT_MODE_LEGACY, 0);
    fx_free(f);
}

/* A fault injected mid-ramp (the candidate fails 1 call in 10 at canary 50): the error
 * gate fails and the plan rolls back one stage, by itself. */
static void fault_mid_ramp_rolls_back(void **state)
{
    (void)state;
    fx *f = fx_new();
    graft_plan p = small_plan();
    assert_int_equal(graft_seam_set_plan(f->seam, &p), GRAFT_OK);
    traffic(f, 1000);
    atomic_fetch_add(&f->clock.now, 5 * SEC);
    assert_int_equal(eval(f), GRAFT_DECISION_ADVANCE);
    traffic(f, 8000);
    atomic_fetch_add(&f->clock.now, 5 * SEC);
    assert_int_equal(eval(f), GRAFT_DECISION_ADVANCE);
    mode_is(f, GRAFT_MODE_CANARY, 5000);
    f->t.fail_every = 10;
    traffic(f, 2000);
    assert_int_equal(eval(f), GRAFT_DECISION_ROLLBACK);
    graft_plan_status st = status(f);
    assert_non_null(strstr(st.reason, "error gate failed"));
    assert_int_equal(st.stage, 1);
    assert_int_equal(st.rollbacks, 1);
    mode_is(f, GRAFT_MODE_CANARY, 1000);
    /* The fault still there: the lower stage fails too, down to shadow. */
    traffic(f, 3000);
    assert_int_equal(eval(f), GRAFT_DECISION_ROLLBACK);
    mode_is(f, GRAFT_MODE_SHADOW, 0);
    /* The history says the plan did it. */
    graft_mode_change h[GRAFT_SEAM_HISTORY_CAP];
    size_t n = 0;
    graft_seam_history(f->seam, h, GRAFT_SEAM_HISTORY_CAP, &n, NULL);
    assert_int_equal(h[n - 1].by, GRAFT_BY_PLAN);
    assert_int_equal(h[n - 1].mode, GRAFT_MODE_SHADOW);
    /* Fixed: the plan climbs again on fresh evidence. */
    f->t.fail_every = 0;
    traffic(f, 1000);
    atomic_fetch_add(&f->clock.now, 5 * SEC);
    assert_int_equal(eval(f), GRAFT_DECISION_ADVANCE);
    fx_free(f);
}

/* Latency in shadow: a candidate three times as slow fails the paired sign test; one as
 * fast passes it; one 25% slower with a 25% tolerance ties and holds. */
static void shadow_latency_sign_test(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->t.candidate_cost = 3000;
    graft_plan p = small_plan();
    assert_int_equal(graft_seam_set_plan(f->seam, &p), GRAFT_OK);
    traffic(f, 100);
    assert_int_equal(eval(f), GRAFT_DECISION_ROLLBACK);
    graft_plan_status st = status(f);
    assert_non_null(strstr(st.reason, "latency gate failed"));
    assert_int_equal(st.pairs_slower, 100);
    fx_free(f);

    f = fx_new();
    f->t.candidate_cost = 1250; /* exactly legacy x 1.25: every pair ties */
    assert_int_equal(graft_seam_set_plan(f->seam, &p), GRAFT_OK);
    traffic(f, 3000);
    atomic_fetch_add(&f->clock.now, 5 * SEC);
    assert_int_equal(eval(f), GRAFT_DECISION_HOLD);
    st = status(f);
    assert_int_equal(st.pairs_tied, 3000);
    assert_non_null(strstr(st.reason, "latency gate inconclusive"));
    fx_free(f);
}

/* Canary latency: Mann-Whitney on the stage's histograms; a candidate 4x slower fails. */
static void canary_latency_mann_whitney(void **state)
{
    (void)state;
    fx *f = fx_new();
    graft_plan p = small_plan();
    assert_int_equal(graft_seam_set_plan(f->seam, &p), GRAFT_OK);
    traffic(f, 1000);
    atomic_fetch_add(&f->clock.now, 5 * SEC);
    assert_int_equal(eval(f), GRAFT_DECISION_ADVANCE);
    f->t.candidate_cost = 4000;
    traffic(f, 2000);
    assert_int_equal(eval(f), GRAFT_DECISION_ROLLBACK);
    assert_non_null(strstr(status(f).reason, "latency gate failed"));
    mode_is(f, GRAFT_MODE_SHADOW, 0);
    fx_free(f);

    /* latency_in_canary off: canary stages do not judge latency (shadow still does) */
    f = fx_new();
    p.latency_in_canary = 0;
    assert_int_equal(graft_seam_set_plan(f->seam, &p), GRAFT_OK);
    traffic(f, 1000);
    atomic_fetch_add(&f->clock.now, 5 * SEC);
    assert_int_equal(eval(f), GRAFT_DECISION_ADVANCE);
    f->t.candidate_cost = 4000;
    traffic(f, 6000);
    atomic_fetch_add(&f->clock.now, 5 * SEC);
    assert_int_equal(eval(f), GRAFT_DECISION_ADVANCE);
    assert_int_equal(status(f).latency.verdict, -1);
    fx_free(f);
}

/* The breaker still acts within a stage; its opening fails the stage. */
static void breaker_opening_rolls_back(void **state)
{
    (void)state;
    fx *f = fx_new();
    graft_breaker_config b;
    graft_breaker_config_init(&b);
    b.enabled = 1;
    b.min_calls = 20;
    /* The breaker's window still holds the shadow stage's good calls (its base is its
     * last snapshot before the window): a low threshold makes the canary's failures
     * open it. */
    b.error_rate_bp = 500;
    assert_int_equal(graft_seam_set_breaker(f->seam, &b), GRAFT_OK);
    graft_plan p = small_plan();
    p.error_diff_max = 0.9; /* only the breaker can fail this stage */
    assert_int_equal(graft_seam_set_plan(f->seam, &p), GRAFT_OK);
    traffic(f, 1000);
    atomic_fetch_add(&f->clock.now, 5 * SEC);
    assert_int_equal(eval(f), GRAFT_DECISION_ADVANCE);
    f->t.fail_every = 1;
    traffic(f, 1000);
    graft_seam_stats s;
    graft_seam_stats_get(f->seam, &s);
    assert_int_equal(s.breaker_state, GRAFT_BREAKER_OPEN);
    assert_int_equal(eval(f), GRAFT_DECISION_ROLLBACK);
    assert_non_null(strstr(status(f).reason, "breaker opened"));
    mode_is(f, GRAFT_MODE_SHADOW, 0);
    /* while it stays open the plan holds (no evidence arrives) */
    f->t.fail_every = 0;
    traffic(f, 100);
    assert_int_equal(eval(f), GRAFT_DECISION_HOLD);
    fx_free(f);
}

static void operator_controls(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(graft_seam_plan_control(f->seam, GRAFT_PLAN_ACTION_PAUSE), GRAFT_ESTATE);
    graft_plan p = small_plan();
    assert_int_equal(graft_seam_set_plan(f->seam, &p), GRAFT_OK);
    assert_int_equal(graft_seam_plan_control(f->seam, GRAFT_PLAN_ACTION_PAUSE), GRAFT_OK);
    traffic(f, 3000);
    atomic_fetch_add(&f->clock.now, 5 * SEC);
    /* paused: evidence accrues, nothing changes */
    assert_int_equal(graft_seam_plan_evaluate(f->seam, NULL), GRAFT_ESTATE);
    mode_is(f, GRAFT_MODE_SHADOW, 0);
    assert_int_equal(graft_seam_plan_control(f->seam, GRAFT_PLAN_ACTION_RESUME), GRAFT_OK);
    assert_int_equal(graft_seam_plan_control(f->seam, GRAFT_PLAN_ACTION_RESUME), GRAFT_ESTATE);
    assert_int_equal(eval(f), GRAFT_DECISION_ADVANCE);
    /* advance by hand: no gate, recorded as the operator's */
    assert_int_equal(graft_seam_plan_control(f->seam, GRAFT_PLAN_ACTION_ADVANCE), GRAFT_OK);
    mode_is(f, GRAFT_MODE_CANARY, 5000);
    assert_non_null(strstr(status(f).reason, "advanced by an operator"));
    assert_int_equal(graft_seam_plan_control(f->seam, GRAFT_PLAN_ACTION_ABORT), GRAFT_OK);
    mode_is(f, GRAFT_MODE_LEGACY, 0);
    assert_int_equal(status(f).state, GRAFT_PLAN_ABORTED);
    graft_plan_action a;
    assert_int_equal(graft_plan_action_parse("resume", &a), GRAFT_OK);
    assert_int_equal(a, GRAFT_PLAN_ACTION_RESUME);
    assert_int_equal(graft_plan_action_parse("promote", &a), GRAFT_EINVAL);
    assert_int_equal(graft_seam_clear_plan(f->seam), GRAFT_OK);
    graft_plan_status st;
    assert_int_equal(graft_seam_plan_status(f->seam, &st), GRAFT_ESTATE);
    fx_free(f);
}

static void plan_visible_in_json_and_metrics(void **state)
{
    (void)state;
    fx *f = fx_new();
    graft_plan p = small_plan();
    assert_int_equal(graft_seam_set_plan(f->seam, &p), GRAFT_OK);
    traffic(f, 100);
    eval(f);
    char *txt;
    size_t len;
    assert_int_equal(graft_seam_json(f->seam, &txt, &len), GRAFT_OK);
    cJSON *o = cJSON_Parse(txt);
    graft_free(txt);
    assert_non_null(o);
    cJSON *pl = cJSON_GetObjectItem(o, "plan");
    assert_non_null(pl);
    assert_string_equal(cJSON_GetObjectItem(pl, "state")->valuestring, "running");
    assert_int_equal(cJSON_GetObjectItem(pl, "stage")->valueint, 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(pl, "stages")), 4);
    cJSON *ev = cJSON_GetObjectItem(pl, "evidence");
    assert_int_equal(cJSON_GetObjectItem(ev, "compared")->valueint, 100);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(pl, "needed"), "compared")->valueint,
                     500);
    assert_string_equal(cJSON_GetObjectItem(pl, "last_decision")->valuestring, "hold");
    assert_non_null(strstr(cJSON_GetObjectItem(pl, "reason")->valuestring, "100 of 500"));
    cJSON_Delete(o);
    assert_int_equal(graft_metrics_prometheus(f->rt, &txt, &len), GRAFT_OK);
    assert_non_null(strstr(txt, "graft_seam_plan_state{seam=\"toy.plan\",state=\"running\"} 1"));
    assert_non_null(
        strstr(txt, "graft_seam_plan_stage{seam=\"toy.plan\",mode=\"shadow\",percent=\"0.00\"} 0"));
    assert_non_null(
        strstr(txt, "graft_seam_plan_evidence{seam=\"toy.plan\",kind=\"compared\"} 100"));
    assert_non_null(strstr(txt, "graft_seam_plan_needed{seam=\"toy.plan\",kind=\"compared\"} 500"));
    graft_free(txt);
    fx_free(f);
}

static const char *write_ini(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/graft-plan-%d.ini", (int)getpid());
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

/* A plan in the INI file: it starts on load, survives an unchanged reload, and bad plan
 * keys or a refused shadow setting fail the whole file. */
static void plan_from_ini(void **state)
{
    (void)state;
    fx *f = fx_new();
    char err[256];
    const char *path = write_ini("[seam toy.plan]\n"
                                 "plan.stages = shadow, canary:5, candidate\n"
                                 "plan.min_compared = 100\n"
                                 "plan.min_served = 100\n"
                                 "plan.min_time = 2s\n"
                                 "plan.mismatch_max = 1\n"
                                 "plan.error_diff_max = 1\n"
                                 "plan.latency_tolerance = off\n"
                                 "plan.confidence = 95\n"
                                 "plan.interval = 0s\n");
    assert_int_equal(graft_config_load_file(f->rt, path, err, sizeof err), GRAFT_OK);
    mode_is(f, GRAFT_MODE_SHADOW, 0);
    graft_plan_status st = status(f);
    assert_int_equal(st.plan.nstages, 3);
    assert_int_equal(st.plan.min_compared, 100);
    assert_true(st.plan.latency_tolerance < 0);
    assert_int_equal(st.plan.min_stage_ns, 2 * SEC);
    traffic(f, 1000);
    atomic_fetch_add(&f->clock.now, 2 * SEC);
    assert_int_equal(eval(f), GRAFT_DECISION_ADVANCE);
    /* the same file again: the rollout keeps its progress */
    assert_int_equal(graft_config_reload(f->rt, err, sizeof err), GRAFT_OK);
    mode_is(f, GRAFT_MODE_CANARY, 500);
    assert_int_equal(status(f).stage, 1);
    /* a bad plan key: refused, nothing changes */
    path = write_ini("[seam toy.plan]\nplan.stages = shadow, canary\n");
    assert_int_equal(graft_config_load_file(f->rt, path, err, sizeof err), GRAFT_ECONFIG);
    assert_non_null(strstr(err, "plan.stages"));
    path = write_ini("[seam toy.plan]\nplan.confidence = 40\n");
    assert_int_equal(graft_config_load_file(f->rt, path, err, sizeof err), GRAFT_ECONFIG);
    /* async shadow on a seam without copy_input: refused with the reason */
    path = write_ini("[seam toy.plan]\nmode = shadow\nshadow = async\n");
    assert_int_equal(graft_config_load_file(f->rt, path, err, sizeof err), GRAFT_EUNSUPPORTED);
    assert_non_null(strstr(err, "copy_input"));
    mode_is(f, GRAFT_MODE_CANARY, 500);
    path = write_ini("[seam toy.plan]\nshadow = parallel\n");
    assert_int_equal(graft_config_load_file(f->rt, path, err, sizeof err), GRAFT_ECONFIG);
    unlink(path);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stage_parsing),
        cmocka_unit_test(good_candidate_ramps_to_done),
        cmocka_unit_test(all_mismatches_abort),
        cmocka_unit_test(fault_mid_ramp_rolls_back),
        cmocka_unit_test(shadow_latency_sign_test),
        cmocka_unit_test(canary_latency_mann_whitney),
        cmocka_unit_test(breaker_opening_rolls_back),
        cmocka_unit_test(operator_controls),
        cmocka_unit_test(plan_visible_in_json_and_metrics),
        cmocka_unit_test(plan_from_ini),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
