/* Unit tests of the circuit breaker, driven by an injected clock (no sleeps): opening
 * on error, slow-call and mismatch rates after min_calls, the sliding window, cool-down
 * with backoff, half-open trials, the half-open deadline, observe-only, reset,
 * disabled, and transitions being logged, counted and kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "rt_fixture.h"

#define MS 1000000ull
#define SEC 1000000000ull

typedef struct fx {
    graft_runtime *rt;
    graft_seam *seam;
    toy t;
    fake_clock clk;
    log_cap log;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    atomic_store(&f->clk.now, 1000 * SEC);
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.clock = fake_now;
    o.clock_ctx = &f->clk;
    o.sleep = fake_sleep;
    o.log = log_capture;
    o.log_ctx = &f->log;
    o.log_level = GRAFT_LOG_INFO;
    if (graft_runtime_new(&o, &f->rt) != GRAFT_OK)
        return -1;
    graft_seam_def d = toy_def("toy.bk", &f->t);
    if (graft_seam_register(f->rt, &d, &f->seam) != GRAFT_OK)
        return -1;
    graft_breaker_config b;
    graft_breaker_config_init(&b);
    b.min_calls = 10;
    b.error_rate_bp = 5000;
    b.window_ns = 10 * SEC;
    b.cooldown_ns = 5 * SEC;
    b.max_cooldown_ns = 20 * SEC;
    b.half_open_calls = 3;
    b.half_open_max_ns = 30 * SEC;
    if (graft_seam_set_breaker(f->seam, &b) != GRAFT_OK)
        return -1;
    graft_seam_set_mode(f->seam, GRAFT_MODE_CANDIDATE, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    graft_runtime_free(f->rt);
    free(f);
    return 0;
}

static void advance(fx *f, uint64_t ns)
{
    atomic_fetch_add(&f->clk.now, ns);
}

static int call(fx *f, uint64_t key)
{
    long in = 1;
    toy_out out, scratch;
    int rc = graft_call(f->seam, key, 0, &in, &out, &scratch);
    assert_int_equal(rc, GRAFT_OK); /* the caller always gets an answer */
    return (int)out.value;
}

static graft_breaker_state state_of(fx *f)
{
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    return st.breaker_state;
}

static void opens_on_error_rate_after_min_calls(void **state)
{
    fx *f = *state;
    f->t.candidate_status = GRAFT_EIO;
    for (int i = 0; i < 9; i++) {
        call(f, (uint64_t)i);
        assert_int_equal(state_of(f), GRAFT_BREAKER_CLOSED); /* below min_calls */
    }
    call(f, 9);
    assert_int_equal(state_of(f), GRAFT_BREAKER_OPEN);
    int cand = f->t.candidate_calls;
    for (int i = 0; i < 20; i++)
        call(f, (uint64_t)i);
    assert_int_equal(f->t.candidate_calls, cand); /* open: the candidate is not called */
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.breaker_rejected, 20);
    assert_int_equal(st.breaker_opens, 1);
    assert_int_equal(st.breaker_transitions, 1);
    assert_int_equal(st.fallbacks, 10);
    graft_runtime_flush(f->rt);
    assert_true(f->log.breaker_lines >= 1);
}

static void below_threshold_stays_closed(void **state)
{
    fx *f = *state;
    /* 3 failures in every 10, spread out: never 50% of the window. */
    for (int i = 0; i < 100; i++) {
        int r = i % 10;
        f->t.candidate_status = (r == 3 || r == 6 || r == 9) ? GRAFT_EIO : GRAFT_OK;
        call(f, (uint64_t)i);
    }
    assert_int_equal(state_of(f), GRAFT_BREAKER_CLOSED);
}

static void window_slides(void **state)
{
    fx *f = *state;
    f->t.candidate_status = GRAFT_EIO;
    for (int i = 0; i < 6; i++)
        call(f, (uint64_t)i);
    advance(f, 15 * SEC); /* those 6 failures leave the window */
    for (int i = 0; i < 6; i++)
        call(f, (uint64_t)i);
    /* Only 6 calls in the window: below min_calls, still closed. */
    assert_int_equal(state_of(f), GRAFT_BREAKER_CLOSED);
    char *txt;
    graft_seam_json(f->seam, &txt, NULL);
    cJSON *root = cJSON_Parse(txt);
    cJSON *win = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "breaker"), "window");
    assert_int_equal((int)cJSON_GetObjectItem(win, "calls")->valuedouble, 6);
    assert_int_equal((int)cJSON_GetObjectItem(win, "failures")->valuedouble, 6);
    cJSON_Delete(root);
    graft_free(txt);
    /* Within one window they add up. */
    for (int i = 0; i < 4; i++)
        call(f, (uint64_t)i);
    assert_int_equal(state_of(f), GRAFT_BREAKER_OPEN);
}

static void half_open_trials_close(void **state)
{
    fx *f = *state;
    f->t.candidate_status = GRAFT_EIO;
    for (int i = 0; i < 10; i++)
        call(f, (uint64_t)i);
    assert_int_equal(state_of(f), GRAFT_BREAKER_OPEN);
    advance(f, 4 * SEC);
    call(f, 1);
    assert_int_equal(state_of(f), GRAFT_BREAKER_OPEN); /* cool-down not over */
    advance(f, 1 * SEC);
    f->t.candidate_status = GRAFT_OK;
    f->t.candidate_bias = 1000;
    int cand = f->t.candidate_calls;
    assert_int_equal(call(f, 1), 1002); /* first trial served by the candidate */
    assert_int_equal(state_of(f), GRAFT_BREAKER_HALF_OPEN);
    call(f, 2);
    call(f, 3);
    assert_int_equal(f->t.candidate_calls, cand + 3);
    assert_int_equal(state_of(f), GRAFT_BREAKER_CLOSED);
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.breaker_transitions, 3); /* closed>open>half-open>closed */
    /* Closed again: the old failures are gone from the window. */
    f->t.candidate_status = GRAFT_EIO;
    for (int i = 0; i < 9; i++)
        call(f, (uint64_t)i);
    assert_int_equal(state_of(f), GRAFT_BREAKER_CLOSED);
    char *txt;
    graft_seam_json(f->seam, &txt, NULL);
    cJSON *root = cJSON_Parse(txt);
    cJSON *evs = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "breaker"), "events");
    assert_int_equal(cJSON_GetArraySize(evs), 3);
    cJSON *e0 = cJSON_GetArrayItem(evs, 0);
    assert_string_equal(cJSON_GetObjectItem(e0, "from")->valuestring, "closed");
    assert_string_equal(cJSON_GetObjectItem(e0, "to")->valuestring, "open");
    assert_non_null(strstr(cJSON_GetObjectItem(e0, "reason")->valuestring, "error rate"));
    assert_true(cJSON_GetObjectItem(e0, "mono_ns")->valuedouble == 1000.0 * SEC);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(evs, 2), "to")->valuestring,
                        "closed");
    cJSON_Delete(root);
    graft_free(txt);
}

static void failed_trial_reopens_with_backoff(void **state)
{
    fx *f = *state;
    f->t.candidate_status = GRAFT_EIO;
    for (int i = 0; i < 10; i++)
        call(f, (uint64_t)i);
    /* Cool-downs: 5s, then 10s, 20s, 20s (capped). */
    const uint64_t cds[] = {5, 10, 20, 20};
    for (int r = 0; r < 4; r++) {
        advance(f, cds[r] * SEC - 1);
        call(f, 1);
        assert_int_equal(state_of(f), GRAFT_BREAKER_OPEN);
        advance(f, 1);
        for (int i = 0; i < 3; i++)
            call(f, 1);
        assert_int_equal(state_of(f), GRAFT_BREAKER_OPEN); /* trials failed */
    }
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.breaker_opens, 5);
    /* Success after a long open streak closes and resets the cool-down to 5s. */
    advance(f, 20 * SEC);
    f->t.candidate_status = GRAFT_OK;
    for (int i = 0; i < 3; i++)
        call(f, 1);
    assert_int_equal(state_of(f), GRAFT_BREAKER_CLOSED);
    f->t.candidate_status = GRAFT_EIO;
    for (int i = 0; i < 10; i++)
        call(f, (uint64_t)i);
    assert_int_equal(state_of(f), GRAFT_BREAKER_OPEN);
    advance(f, 5 * SEC);
    f->t.candidate_status = GRAFT_OK;
    call(f, 1);
    assert_int_equal(state_of(f), GRAFT_BREAKER_HALF_OPEN);
}

static void half_open_does_not_stick(void **state)
{
    fx *f = *state;
    f->t.candidate_status = GRAFT_EIO;
    for (int i = 0; i < 10; i++)
        call(f, (uint64_t)i);
    advance(f, 5 * SEC);
    f->t.candidate_status = GRAFT_OK;
    call(f, 1); /* half-open, one trial of three */
    assert_int_equal(state_of(f), GRAFT_BREAKER_HALF_OPEN);
    /* Traffic stops reaching the candidate (mode switched back to legacy). */
    graft_seam_set_mode(f->seam, GRAFT_MODE_LEGACY, 0);
    advance(f, 29 * SEC);
    assert_int_equal(state_of(f), GRAFT_BREAKER_HALF_OPEN);
    advance(f, 1 * SEC);
    assert_int_equal(state_of(f), GRAFT_BREAKER_OPEN); /* bounded half-open */
    char *txt;
    graft_seam_json(f->seam, &txt, NULL);
    assert_non_null(strstr(txt, "half-open timed out after 1 of 3 trial calls"));
    graft_free(txt);
}

static void opens_on_slow_calls(void **state)
{
    fx *f = *state;
    graft_breaker_config b;
    graft_seam_get_breaker(f->seam, &b);
    b.slow_call_ns = 100 * MS;
    b.slow_rate_bp = 5000;
    graft_seam_set_breaker(f->seam, &b);
    graft_fault_config fc = {0, 0, 10000, 200 * MS}; /* every call delayed 200 ms */
    assert_int_equal(graft_seam_set_fault(f->seam, &fc), GRAFT_OK);
    for (int i = 0; i < 9; i++)
        call(f, (uint64_t)i);
    assert_int_equal(state_of(f), GRAFT_BREAKER_CLOSED);
    call(f, 9);
    assert_int_equal(state_of(f), GRAFT_BREAKER_OPEN);
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.faults_injected, 10);
    assert_true(st.impl[GRAFT_IMPL_CANDIDATE].latency.max_ns >= 200 * MS);
    assert_true(st.impl[GRAFT_IMPL_CANDIDATE].latency.p50_ns >= 175 * MS);
    char *txt;
    graft_seam_json(f->seam, &txt, NULL);
    assert_non_null(strstr(txt, "slow-call rate 10/10"));
    graft_free(txt);
}

static void opens_on_mismatch_rate_in_shadow(void **state)
{
    fx *f = *state;
    graft_breaker_config b;
    graft_seam_get_breaker(f->seam, &b);
    b.mismatch_rate_bp = 2000;
    graft_seam_set_breaker(f->seam, &b);
    graft_seam_set_mode(f->seam, GRAFT_MODE_SHADOW, 0);
    f->t.candidate_bias = 1; /* always wrong */
    for (int i = 0; i < 10; i++)
        call(f, (uint64_t)i);
    assert_int_equal(state_of(f), GRAFT_BREAKER_OPEN);
    int cand = f->t.candidate_calls;
    for (int i = 0; i < 10; i++)
        assert_int_equal(call(f, (uint64_t)i), 2); /* legacy still serves */
    assert_int_equal(f->t.candidate_calls, cand);  /* shadowing paused */
}

static void observe_only_does_not_reroute(void **state)
{
    fx *f = *state;
    graft_breaker_config b;
    graft_seam_get_breaker(f->seam, &b);
    b.observe_only = 1;
    graft_seam_set_breaker(f->seam, &b);
    f->t.candidate_status = GRAFT_EIO;
    for (int i = 0; i < 30; i++)
        call(f, (uint64_t)i);
    assert_int_equal(state_of(f), GRAFT_BREAKER_OPEN); /* it would have opened */
    assert_int_equal(f->t.candidate_calls, 30);        /* but traffic still flows */
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.breaker_rejected, 0);
    assert_int_equal(st.fallbacks, 30);
    /* Its state machine continues: half-open, then closes on good trials. */
    advance(f, 5 * SEC);
    f->t.candidate_status = GRAFT_OK;
    for (int i = 0; i < 3; i++)
        call(f, 1);
    assert_int_equal(state_of(f), GRAFT_BREAKER_CLOSED);
}

static void reset_and_disable(void **state)
{
    fx *f = *state;
    f->t.candidate_status = GRAFT_EIO;
    for (int i = 0; i < 10; i++)
        call(f, (uint64_t)i);
    assert_int_equal(state_of(f), GRAFT_BREAKER_OPEN);
    assert_int_equal(graft_seam_reset_breaker(f->seam), GRAFT_OK);
    assert_int_equal(state_of(f), GRAFT_BREAKER_CLOSED);
    /* The window was cleared too. */
    for (int i = 0; i < 9; i++)
        call(f, (uint64_t)i);
    assert_int_equal(state_of(f), GRAFT_BREAKER_CLOSED);
    graft_breaker_config b;
    graft_seam_get_breaker(f->seam, &b);
    b.enabled = 0;
    graft_seam_set_breaker(f->seam, &b);
    assert_int_equal(state_of(f), GRAFT_BREAKER_DISABLED);
    for (int i = 0; i < 50; i++)
        call(f, (uint64_t)i);
    assert_int_equal(state_of(f), GRAFT_BREAKER_DISABLED);
    b.window_ns = 0;
    assert_int_equal(graft_seam_set_breaker(f->seam, &b), GRAFT_EINVAL);
}

static void candidate_only_observes(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_CANDIDATE_ONLY, 0);
    f->t.candidate_status = GRAFT_EIO;
    long in = 1;
    toy_out out;
    for (int i = 0; i < 20; i++)
        assert_int_equal(graft_call(f->seam, 1, 0, &in, &out, NULL), GRAFT_EIO);
    assert_int_equal(state_of(f), GRAFT_BREAKER_OPEN);
    assert_int_equal(f->t.candidate_calls, 20); /* nowhere else to go */
    assert_int_equal(f->t.legacy_calls, 0);
}

/* While half-open, only half_open_calls trials reach the candidate: a call arriving
 * while the trial is still running (here: made from inside it) goes to legacy. */
static graft_seam *g_nested_seam;
static long g_nested_value;
static int g_nested_rc;

static int reentrant_candidate(void *ctx, const void *input, void *output)
{
    int rc = toy_candidate(ctx, input, output);
    if (g_nested_seam) {
        graft_seam *s = g_nested_seam;
        g_nested_seam = NULL;
        long in = 7;
        toy_out out;
        g_nested_rc = graft_call(s, 99, 0, &in, &out, NULL);
        g_nested_value = out.value;
    }
    return rc;
}

static void half_open_limits_trials(void **state)
{
    fx *f = *state;
    graft_seam_def d = toy_def("toy.reenter", &f->t);
    d.candidate = reentrant_candidate;
    graft_seam *s;
    assert_int_equal(graft_seam_register(f->rt, &d, &s), GRAFT_OK);
    graft_breaker_config b;
    graft_breaker_config_init(&b);
    b.min_calls = 5;
    b.half_open_calls = 1;
    b.cooldown_ns = 1 * SEC;
    graft_seam_set_breaker(s, &b);
    graft_seam_set_mode(s, GRAFT_MODE_CANDIDATE, 0);
    f->t.candidate_status = GRAFT_EIO;
    long in = 1;
    toy_out out;
    for (int i = 0; i < 5; i++)
        graft_call(s, 1, 0, &in, &out, NULL);
    graft_seam_stats st;
    graft_seam_stats_get(s, &st);
    assert_int_equal(st.breaker_state, GRAFT_BREAKER_OPEN);
    advance(f, 1 * SEC);
    f->t.candidate_status = GRAFT_OK;
    f->t.candidate_bias = 1000;
    g_nested_seam = s;
    assert_int_equal(graft_call(s, 1, 0, &in, &out, NULL), GRAFT_OK);
    assert_int_equal(out.value, 1002); /* the trial: candidate */
    assert_int_equal(g_nested_rc, GRAFT_OK);
    assert_int_equal(g_nested_value, 14); /* the concurrent call: legacy */
    graft_seam_stats_get(s, &st);
    assert_int_equal(st.breaker_rejected, 1);
    assert_int_equal(st.breaker_state, GRAFT_BREAKER_CLOSED); /* the one trial succeeded */
}

/* Equal comparisons (counted by the shadow short path's combined counter) are part of
 * the mismatch rate's denominator: 1 mismatch in 4 stays under a 35% threshold. */
static int flaky_candidate(void *ctx, const void *input, void *output)
{
    int rc = toy_candidate(ctx, input, output);
    if (*(const long *)input % 4 == 0)
        ((toy_out *)output)->value += 1;
    return rc;
}

static void mismatch_rate_counts_equal_calls(void **state)
{
    fx *f = *state;
    graft_seam_def d = toy_def("toy.flaky", &f->t);
    d.candidate = flaky_candidate;
    graft_seam *s;
    assert_int_equal(graft_seam_register(f->rt, &d, &s), GRAFT_OK);
    graft_breaker_config b;
    graft_breaker_config_init(&b);
    b.min_calls = 10;
    b.mismatch_rate_bp = 3500;
    graft_seam_set_breaker(s, &b);
    graft_seam_set_mode(s, GRAFT_MODE_SHADOW, 0);
    toy_out out, scratch;
    for (long i = 0; i < 400; i++)
        graft_call(s, (uint64_t)i, 0, &i, &out, &scratch);
    graft_seam_stats st;
    graft_seam_stats_get(s, &st);
    assert_int_equal(st.compared, 400);
    assert_int_equal(st.mismatches, 100);
    assert_int_equal(st.breaker_state, GRAFT_BREAKER_CLOSED);
    /* Under a 20% threshold it opens. */
    b.mismatch_rate_bp = 2000;
    graft_seam_set_breaker(s, &b);
    for (long i = 0; i < 40; i++)
        graft_call(s, (uint64_t)i, 0, &i, &out, &scratch);
    graft_seam_stats_get(s, &st);
    assert_int_equal(st.breaker_state, GRAFT_BREAKER_OPEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(opens_on_error_rate_after_min_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(below_threshold_stays_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(window_slides, setup, teardown),
        cmocka_unit_test_setup_teardown(half_open_trials_close, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_trial_reopens_with_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(half_open_does_not_stick, setup, teardown),
        cmocka_unit_test_setup_teardown(opens_on_slow_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(opens_on_mismatch_rate_in_shadow, setup, teardown),
        cmocka_unit_test_setup_teardown(observe_only_does_not_reroute, setup, teardown),
        cmocka_unit_test_setup_teardown(reset_and_disable, setup, teardown),
        cmocka_unit_test_setup_teardown(candidate_only_observes, setup, teardown),
        cmocka_unit_test_setup_teardown(half_open_limits_trials, setup, teardown),
        cmocka_unit_test_setup_teardown(mismatch_rate_counts_equal_calls, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
