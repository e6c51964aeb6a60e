/* Unit tests of libgraft's call path: every mode, fallback, per-request overrides,
 * compare/normalise/release, counters, status strings, JSON and Prometheus output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "rt_fixture.h"

/* What a released scratch output's `released` field reads after the call: 1, or, in a
 * validation build (-DGRAFT_VALIDATE=ON, make asan), the poison libgraft fills released
 * outputs with (src/validate.h), so the test sees that the output was released too. */
#if defined(GRAFT_VALIDATE) && GRAFT_VALIDATE
#define SCRATCH_RELEASED ((int)0xDBDBDBDBu)
#else
#define SCRATCH_RELEASED 1
#endif

/* The group runs twice: timing every call (every call takes the general path) and with
 * the default sampling (common outcomes take the short paths). Both must agree. */
static uint32_t g_sample_every = 1;

typedef struct fx {
    graft_runtime *rt;
    graft_seam *seam;
    toy t;
    log_cap log;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.log = log_capture;
    o.log_ctx = &f->log;
    o.time_sample_every = g_sample_every;
    if (graft_runtime_new(&o, &f->rt) != GRAFT_OK)
        return -1;
    graft_seam_def d = toy_def("toy.double", &f->t);
    if (graft_seam_register(f->rt, &d, &f->seam) != GRAFT_OK)
        return -1;
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

static void status_strings(void **state)
{
    (void)state;
    assert_string_equal(graft_strerror(GRAFT_OK), "success");
    assert_string_equal(graft_strerror(GRAFT_EINVAL), "an argument is out of its documented range");
    assert_string_equal(graft_strerror(GRAFT_EINJECTED),
                        "a failure injected on purpose by fault injection");
    assert_string_equal(graft_strerror(99), "unknown status");
    assert_string_equal(graft_strerror(-1), "unknown status");
    assert_string_equal(graft_status_name(GRAFT_EINVAL), "GRAFT_EINVAL");
    assert_string_equal(graft_status_name(GRAFT_ECONFIG), "GRAFT_ECONFIG");
    assert_null(graft_status_name(GRAFT_STATUS_MAX + 1));
    assert_string_equal(graft_mode_name(GRAFT_MODE_CANDIDATE_ONLY), "candidate-only");
    assert_null(graft_mode_name(7));
    graft_mode m;
    assert_int_equal(graft_mode_parse("canary", &m), GRAFT_OK);
    assert_int_equal(m, GRAFT_MODE_CANARY);
    assert_int_equal(graft_mode_parse("bogus", &m), GRAFT_EINVAL);
    assert_string_equal(graft_breaker_state_name(GRAFT_BREAKER_HALF_OPEN), "half-open");
    assert_string_equal(graft_version(), "0.2.0");
}

static void registration(void **state)
{
    fx *f = *state;
    graft_seam_def d = toy_def("toy.double", &f->t);
    graft_seam *s2 = NULL;
    assert_int_equal(graft_seam_register(f->rt, &d, &s2), GRAFT_EEXIST);
    assert_null(s2);
    d.name = "bad name!";
    assert_int_equal(graft_seam_register(f->rt, &d, &s2), GRAFT_EINVAL);
    d.name = "ok.name";
    d.candidate = NULL;
    assert_int_equal(graft_seam_register(f->rt, &d, &s2), GRAFT_ENULL);
    assert_ptr_equal(graft_seam_find(f->rt, "toy.double"), f->seam);
    assert_null(graft_seam_find(f->rt, "nope"));
    assert_string_equal(graft_seam_name(f->seam), "toy.double");
    assert_int_equal(graft_seam_set_mode(f->seam, GRAFT_MODE_CANARY, 10001), GRAFT_EINVAL);
    assert_int_equal(graft_seam_set_mode(f->seam, (graft_mode)9, 0), GRAFT_EINVAL);
    assert_int_equal(graft_call(NULL, 0, 0, NULL, NULL, NULL), GRAFT_ENULL);
}

static void legacy_mode(void **state)
{
    fx *f = *state;
    long in = 21;
    toy_out out = {0};
    for (int i = 0; i < 200; i++) {
        assert_int_equal(graft_call(f->seam, (uint64_t)i, 0, &in, &out, NULL), GRAFT_OK);
        assert_int_equal(out.value, 42);
    }
    assert_int_equal(f->t.candidate_calls, 0);
    assert_int_equal(f->t.legacy_calls, 200);
    graft_seam_stats st;
    assert_int_equal(graft_seam_stats_get(f->seam, &st), GRAFT_OK);
    assert_int_equal(st.calls, 200);
    assert_int_equal(st.calls_by_mode[GRAFT_MODE_LEGACY], 200);
    assert_int_equal(st.impl[GRAFT_IMPL_LEGACY].calls, 200);
    assert_int_equal(st.impl[GRAFT_IMPL_LEGACY].served, 200);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].calls, 0);
    if (g_sample_every == 1)
        assert_int_equal(st.impl[GRAFT_IMPL_LEGACY].latency.count, 200);
    else
        assert_true(st.impl[GRAFT_IMPL_LEGACY].latency.count <= 2);
}

static void legacy_errors_counted(void **state)
{
    fx *f = *state;
    f->t.legacy_status = GRAFT_EPARSE;
    long in = 1;
    toy_out out;
    assert_int_equal(graft_call(f->seam, 1, 0, &in, &out, NULL), GRAFT_EPARSE);
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.impl[GRAFT_IMPL_LEGACY].errors, 1);
}

static void shadow_mode_compares(void **state)
{
    fx *f = *state;
    assert_int_equal(graft_seam_set_mode(f->seam, GRAFT_MODE_SHADOW, 0), GRAFT_OK);
    long in = 5;
    toy_out out, scratch;
    assert_int_equal(graft_call(f->seam, 7, 0, &in, &out, &scratch), GRAFT_OK);
    assert_int_equal(out.value, 10);
    assert_int_equal(out.released, 0);                    /* the served output is the caller's */
    assert_int_equal(scratch.released, SCRATCH_RELEASED); /* the candidate's was released */
    f->t.candidate_bias = 1;                              /* now the candidate is wrong */
    assert_int_equal(graft_call(f->seam, 8, 0, &in, &out, &scratch), GRAFT_OK);
    assert_int_equal(out.value, 10); /* legacy still serves */
    /* No scratch: the comparison is skipped, the candidate does not run. */
    int before = f->t.candidate_calls;
    assert_int_equal(graft_call(f->seam, 9, 0, &in, &out, NULL), GRAFT_OK);
    assert_int_equal(f->t.candidate_calls, before);
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.calls_by_mode[GRAFT_MODE_SHADOW], 3);
    assert_int_equal(st.compared, 2);
    assert_int_equal(st.mismatches, 1);
    assert_int_equal(st.compare_skipped, 1);
    assert_int_equal(st.impl[GRAFT_IMPL_LEGACY].served, 3);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].calls, 2);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].served, 0);
    graft_runtime_flush(f->rt); /* log lines come from the background writer */
    assert_int_equal(f->log.mismatch_lines, 1);
    assert_non_null(strstr(f->log.last, "seam=toy.double"));
    assert_non_null(strstr(f->log.last, "key=8"));
    assert_non_null(strstr(f->log.last, "legacy=\"value=10\""));
    assert_non_null(strstr(f->log.last, "candidate=\"value=11\""));
}

static void shadow_sampling(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_SHADOW, 0);
    graft_compare_config cc;
    graft_compare_config_init(&cc);
    cc.sample_every = 10;
    assert_int_equal(graft_seam_set_compare(f->seam, &cc), GRAFT_OK);
    long in = 3;
    toy_out out, scratch;
    for (int i = 0; i < 1000; i++)
        graft_call(f->seam, (uint64_t)i, 0, &in, &out, &scratch);
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.compared, 100);
    assert_int_equal(st.compare_skipped, 900);
    assert_int_equal(f->t.candidate_calls, 100);
    cc.sample_every = 0;
    assert_int_equal(graft_seam_set_compare(f->seam, &cc), GRAFT_EINVAL);
}

static void normalize_before_compare(void **state)
{
    fx *f = *state;
    graft_seam_def d = toy_def("toy.norm", &f->t);
    graft_seam *s;
    /* Outputs differ only by parity; normalisation clears the low bit on both sides. */
    d.normalize = NULL;
    assert_int_equal(graft_seam_register(f->rt, &d, &s), GRAFT_OK);
    graft_seam_set_mode(s, GRAFT_MODE_SHADOW, 0);
    f->t.candidate_bias = 1;
    long in = 4;
    toy_out out, scratch;
    graft_call(s, 1, 0, &in, &out, &scratch);
    graft_seam_stats st;
    graft_seam_stats_get(s, &st);
    assert_int_equal(st.mismatches, 1);
}

static void norm_low_bit(void *ctx, const void *input, void *output)
{
    (void)input;
    toy *t = ctx;
    atomic_fetch_add(&t->normalizes, 1);
    ((toy_out *)output)->value &= ~1L;
}

static void normalize_hides_difference(void **state)
{
    fx *f = *state;
    graft_seam_def d = toy_def("toy.norm2", &f->t);
    d.normalize = norm_low_bit;
    d.compare = NULL; /* memcmp after normalisation */
    graft_seam *s;
    assert_int_equal(graft_seam_register(f->rt, &d, &s), GRAFT_OK);
    graft_seam_set_mode(s, GRAFT_MODE_SHADOW, 0);
    f->t.candidate_bias = 1;
    long in = 4;
    toy_out out, scratch;
    memset(&out, 0, sizeof out);
    memset(&scratch, 0, sizeof scratch);
    graft_call(s, 1, 0, &in, &out, &scratch);
    graft_seam_stats st;
    graft_seam_stats_get(s, &st);
    assert_int_equal(st.compared, 1);
    assert_int_equal(st.mismatches, 0);
    assert_int_equal(f->t.normalizes, 2);
}

static void candidate_mode_and_fallback(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_CANDIDATE, 0);
    long in = 10;
    toy_out out;
    f->t.candidate_bias = 1000; /* visible: who served */
    assert_int_equal(graft_call(f->seam, 1, 0, &in, &out, NULL), GRAFT_OK);
    assert_int_equal(out.value, 1020);
    f->t.candidate_status = GRAFT_EINTERNAL;
    assert_int_equal(graft_call(f->seam, 2, 0, &in, &out, NULL), GRAFT_OK);
    assert_int_equal(out.value, 20); /* legacy answered */
    f->t.candidate_status = GRAFT_EPANIC;
    assert_int_equal(graft_call(f->seam, 3, 0, &in, &out, NULL), GRAFT_OK);
    assert_int_equal(out.value, 20);
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.fallbacks, 2);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].calls, 3);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].served, 1);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].errors, 1);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].panics, 1);
    assert_int_equal(st.impl[GRAFT_IMPL_LEGACY].served, 2);
}

static void candidate_only_no_fallback(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_CANDIDATE_ONLY, 0);
    long in = 10;
    toy_out out;
    f->t.candidate_status = GRAFT_EINTERNAL;
    assert_int_equal(graft_call(f->seam, 2, 0, &in, &out, NULL), GRAFT_EINTERNAL);
    assert_int_equal(f->t.legacy_calls, 0);
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.fallbacks, 0);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].errors, 1);
}

static void compare_when_candidate_serves(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_CANDIDATE, 0);
    graft_compare_config cc;
    graft_compare_config_init(&cc);
    cc.compare_served = 1;
    graft_seam_set_compare(f->seam, &cc);
    f->t.candidate_bias = 2;
    long in = 1;
    toy_out out, scratch;
    assert_int_equal(graft_call(f->seam, 5, 0, &in, &out, &scratch), GRAFT_OK);
    assert_int_equal(out.value, 4);                       /* candidate served */
    assert_int_equal(scratch.released, SCRATCH_RELEASED); /* legacy's output released */
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.compared, 1);
    assert_int_equal(st.mismatches, 1);
}

static void canary_routes_by_bucket(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_CANARY, 2500);
    f->t.candidate_bias = 1000;
    long in = 0;
    toy_out out;
    int cand = 0;
    for (uint64_t k = 0; k < 4000; k++) {
        assert_int_equal(graft_call(f->seam, k, 0, &in, &out, NULL), GRAFT_OK);
        int by_candidate = out.value == 1000;
        assert_int_equal(by_candidate, graft_seam_bucket(f->seam, k) < 2500);
        cand += by_candidate;
    }
    assert_true(cand > 800 && cand < 1200);
    /* NO_KEY: per-thread random buckets, roughly the same share. */
    cand = 0;
    for (int i = 0; i < 4000; i++) {
        graft_call(f->seam, 0, GRAFT_CALL_NO_KEY, &in, &out, NULL);
        cand += out.value == 1000;
    }
    assert_true(cand > 800 && cand < 1200);
    graft_mode m;
    uint32_t p;
    graft_seam_get_mode(f->seam, &m, &p);
    assert_int_equal(m, GRAFT_MODE_CANARY);
    assert_int_equal(p, 2500);
}

static void per_request_override(void **state)
{
    fx *f = *state;
    long in = 1;
    toy_out out;
    f->t.candidate_bias = 100;
    /* Legacy mode, forced candidate. */
    assert_int_equal(graft_call(f->seam, 1, GRAFT_CALL_FORCE_CANDIDATE, &in, &out, NULL), GRAFT_OK);
    assert_int_equal(out.value, 102);
    /* Candidate mode, forced legacy. */
    graft_seam_set_mode(f->seam, GRAFT_MODE_CANDIDATE, 0);
    assert_int_equal(graft_call(f->seam, 1, GRAFT_CALL_FORCE_LEGACY, &in, &out, NULL), GRAFT_OK);
    assert_int_equal(out.value, 2);
    /* Forced candidate has no fallback. */
    f->t.candidate_status = GRAFT_EIO;
    assert_int_equal(graft_call(f->seam, 1, GRAFT_CALL_FORCE_CANDIDATE, &in, &out, NULL),
                     GRAFT_EIO);
    assert_int_equal(graft_call(f->seam, 1, GRAFT_CALL_FORCE_CANDIDATE | GRAFT_CALL_FORCE_LEGACY,
                                &in, &out, NULL),
                     GRAFT_EINVAL);
}

static void json_snapshot(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_CANARY, 1050);
    long in = 1;
    toy_out out;
    for (int i = 0; i < 50; i++)
        graft_call(f->seam, (uint64_t)i, 0, &in, &out, NULL);
    char *txt = NULL;
    size_t len = 0;
    assert_int_equal(graft_metrics_json(f->rt, &txt, &len), GRAFT_OK);
    assert_int_equal(strlen(txt), len);
    cJSON *root = cJSON_Parse(txt);
    assert_non_null(root);
    cJSON *seams = cJSON_GetObjectItem(root, "seams");
    assert_int_equal(cJSON_GetArraySize(seams), 1);
    cJSON *s = cJSON_GetArrayItem(seams, 0);
    assert_string_equal(cJSON_GetObjectItem(s, "name")->valuestring, "toy.double");
    assert_string_equal(cJSON_GetObjectItem(s, "mode")->valuestring, "canary");
    assert_true(cJSON_GetObjectItem(s, "percent")->valuedouble == 10.5);
    assert_non_null(strstr(txt, "\"percent\":10.5"));
    cJSON *counters = cJSON_GetObjectItem(s, "counters");
    assert_int_equal((int)cJSON_GetObjectItem(counters, "calls")->valuedouble, 50);
    cJSON *impl = cJSON_GetObjectItem(s, "impl");
    cJSON *leg = cJSON_GetObjectItem(impl, "legacy");
    cJSON *cand = cJSON_GetObjectItem(impl, "candidate");
    assert_non_null(leg);
    assert_non_null(cand);
    int served = (int)cJSON_GetObjectItem(leg, "served")->valuedouble +
                 (int)cJSON_GetObjectItem(cand, "served")->valuedouble;
    assert_int_equal(served, 50);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(leg, "latency"), "p99_ns"));
    cJSON *bk = cJSON_GetObjectItem(s, "breaker");
    assert_string_equal(cJSON_GetObjectItem(bk, "state")->valuestring, "closed");
    assert_non_null(cJSON_GetObjectItem(bk, "config"));
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(bk, "events")));
    assert_non_null(cJSON_GetObjectItem(s, "fault"));
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(s, "mismatch_samples")));
    cJSON_Delete(root);
    graft_free(txt);

    assert_int_equal(graft_seam_json(f->seam, &txt, &len), GRAFT_OK);
    root = cJSON_Parse(txt);
    assert_string_equal(cJSON_GetObjectItem(root, "name")->valuestring, "toy.double");
    cJSON_Delete(root);
    graft_free(txt);
}

static void mismatch_samples_in_json(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_SHADOW, 0);
    f->t.candidate_bias = 1;
    long in = 3;
    toy_out out, scratch;
    graft_call(f->seam, 77, 0, &in, &out, &scratch);
    graft_call(f->seam, 0, GRAFT_CALL_NO_KEY, &in, &out, &scratch);
    char *txt;
    assert_int_equal(graft_seam_json(f->seam, &txt, NULL), GRAFT_OK);
    cJSON *root = cJSON_Parse(txt);
    cJSON *ms = cJSON_GetObjectItem(root, "mismatch_samples");
    assert_int_equal(cJSON_GetArraySize(ms), 2);
    cJSON *m0 = cJSON_GetArrayItem(ms, 0);
    assert_string_equal(cJSON_GetObjectItem(m0, "seam")->valuestring, "toy.double");
    assert_string_equal(cJSON_GetObjectItem(m0, "key")->valuestring, "77");
    assert_string_equal(cJSON_GetObjectItem(m0, "legacy")->valuestring, "value=6");
    assert_string_equal(cJSON_GetObjectItem(m0, "candidate")->valuestring, "value=7");
    assert_true(cJSON_GetObjectItem(m0, "unix_ms")->valuedouble > 1.6e12);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(ms, 1), "key")));
    cJSON_Delete(root);
    graft_free(txt);
}

static void prometheus_text(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_SHADOW, 0);
    long in = 3;
    toy_out out, scratch;
    for (int i = 0; i < 10; i++)
        graft_call(f->seam, (uint64_t)i, 0, &in, &out, &scratch);
    char *txt;
    size_t len;
    assert_int_equal(graft_metrics_prometheus(f->rt, &txt, &len), GRAFT_OK);
    assert_int_equal(strlen(txt), len);
    assert_non_null(strstr(txt, "graft_seam_calls_total{seam=\"toy.double\"} 10\n"));
    assert_non_null(strstr(txt, "graft_seam_compared_total{seam=\"toy.double\"} 10\n"));
    assert_non_null(strstr(txt, "graft_seam_mode{seam=\"toy.double\",mode=\"shadow\"} 1\n"));
    assert_non_null(
        strstr(txt, "graft_impl_calls_total{seam=\"toy.double\",impl=\"candidate\"} 10\n"));
    assert_non_null(strstr(txt, "# TYPE graft_impl_latency_seconds histogram\n"));
    assert_non_null(strstr(txt, "graft_breaker_state{seam=\"toy.double\",state=\"closed\"} 1\n"));
    graft_free(txt);
}

static void log_sink_forwarding(void **state)
{
    fx *f = *state;
    int before = f->log.lines;
    graft_runtime_log_sink(f->rt, GRAFT_LOG_ERROR, "kv_proto", "from rust");
    assert_int_equal(f->log.lines, before + 1);
    graft_runtime_log_sink(f->rt, GRAFT_LOG_DEBUG, "kv_proto", "filtered at warn");
    assert_int_equal(f->log.lines, before + 1);
    graft_runtime_set_log(f->rt, log_capture, &f->log, GRAFT_LOG_DEBUG);
    graft_runtime_log_sink(f->rt, GRAFT_LOG_DEBUG, "kv_proto", "now passes");
    assert_int_equal(f->log.lines, before + 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_strings),
        cmocka_unit_test_setup_teardown(registration, setup, teardown),
        cmocka_unit_test_setup_teardown(legacy_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(legacy_errors_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(shadow_mode_compares, setup, teardown),
        cmocka_unit_test_setup_teardown(shadow_sampling, setup, teardown),
        cmocka_unit_test_setup_teardown(normalize_before_compare, setup, teardown),
        cmocka_unit_test_setup_teardown(normalize_hides_difference, setup, teardown),
        cmocka_unit_test_setup_teardown(candidate_mode_and_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(candidate_only_no_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(compare_when_candidate_serves, setup, teardown),
        cmocka_unit_test_setup_teardown(canary_routes_by_bucket, setup, teardown),
        cmocka_unit_test_setup_teardown(per_request_override, setup, teardown),
        cmocka_unit_test_setup_teardown(json_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(mismatch_samples_in_json, setup, teardown),
        cmocka_unit_test_setup_teardown(prometheus_text, setup, teardown),
        cmocka_unit_test_setup_teardown(log_sink_forwarding, setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("every call timed", tests, NULL, NULL);
    g_sample_every = 0;
    failed += cmocka_run_group_tests_name("sampled timing (short paths)", tests, NULL, NULL);
    return failed;
}
