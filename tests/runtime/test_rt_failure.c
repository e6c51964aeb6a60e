/* Unit tests of what candidate-only answers when the candidate fails there (the seam's
 * candidate_only_failure): the status alone (the default), the legacy implementation
 * (counted as a fallback), or the declared failure_output (counted in
 * failure_outputs), on the short path and on the general path (faults on), with the
 * success path and the other modes unchanged, and registration refusing a policy it
 * cannot honour. */
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

typedef struct fx {
    graft_runtime *rt;
    toy t;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (graft_runtime_new(NULL, &f->rt) != GRAFT_OK) {
        return -1;
    }
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

static const toy_out declared = {-1, 0};

static graft_seam *reg(fx *f, const char *name, graft_on_failure policy)
{
    graft_seam_def d = toy_def(name, &f->t);
    d.candidate_only_failure = policy;
    d.failure_output = policy == GRAFT_ON_FAILURE_OUTPUT ? &declared : NULL;
    graft_seam *s = NULL;
    assert_int_equal(graft_seam_register(f->rt, &d, &s), GRAFT_OK);
    assert_int_equal(graft_seam_set_mode(s, GRAFT_MODE_CANDIDATE_ONLY, 0), GRAFT_OK);
    return s;
}

static int call(graft_seam *s, long in, toy_out *out)
{
    out->value = 12345;
    return graft_call(s, 7, 0, &in, out, NULL);
}

static void names_and_registration(void **state)
{
    fx *f = *state;
    assert_string_equal(graft_on_failure_name(GRAFT_ON_FAILURE_STATUS), "status");
    assert_string_equal(graft_on_failure_name(GRAFT_ON_FAILURE_LEGACY), "legacy");
    assert_string_equal(graft_on_failure_name(GRAFT_ON_FAILURE_OUTPUT), "output");
    assert_null(graft_on_failure_name(GRAFT_ON_FAILURE_COUNT));
    graft_seam_def d = toy_def("toy.f", &f->t);
    d.candidate_only_failure = GRAFT_ON_FAILURE_OUTPUT; /* no failure_output */
    assert_int_equal(graft_seam_register(f->rt, &d, NULL), GRAFT_EINVAL);
    d.candidate_only_failure = (graft_on_failure)GRAFT_ON_FAILURE_COUNT;
    assert_int_equal(graft_seam_register(f->rt, &d, NULL), GRAFT_EINVAL);
    assert_null(graft_seam_find(f->rt, "toy.f"));
}

static void status_by_default(void **state)
{
    fx *f = *state;
    graft_seam *s = reg(f, "toy.f", GRAFT_ON_FAILURE_STATUS);
    toy_out out;
    f->t.candidate_status = GRAFT_EIO;
    assert_int_equal(call(s, 3, &out), GRAFT_EIO);
    assert_int_equal(f->t.legacy_calls, 0);
    graft_seam_stats st;
    graft_seam_stats_get(s, &st);
    assert_int_equal(st.fallbacks, 0);
    assert_int_equal(st.failure_outputs, 0);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].errors, 1);
}

/* Both paths: the short one (no route flag) and the general one (faults on). */
static void legacy_answers(void **state)
{
    fx *f = *state;
    graft_seam *s = reg(f, "toy.f", GRAFT_ON_FAILURE_LEGACY);
    toy_out out;
    f->t.candidate_bias = 1000;
    assert_int_equal(call(s, 3, &out), GRAFT_OK);
    assert_int_equal(out.value, 1006); /* success: the candidate, legacy not called */
    assert_int_equal(f->t.legacy_calls, 0);
    /* Enough calls that most take the short path (1 in 256 is timed: general path). */
    f->t.candidate_status = GRAFT_EIO;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(call(s, 3, &out), GRAFT_OK);
        assert_int_equal(out.value, 6);
    }
    assert_int_equal(f->t.legacy_calls, 1000);
    f->t.candidate_status = GRAFT_OK;
    graft_fault_config fc = {.error_bp = 10000};
    assert_int_equal(graft_seam_set_fault(s, &fc), GRAFT_OK);
    assert_int_equal(call(s, 4, &out), GRAFT_OK);
    assert_int_equal(out.value, 8);
    assert_int_equal(f->t.legacy_calls, 1001);
    graft_seam_stats st;
    graft_seam_stats_get(s, &st);
    assert_int_equal(st.fallbacks, 1001);
    assert_int_equal(st.impl[GRAFT_IMPL_LEGACY].served, 1001);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].served, 1);
    assert_int_equal(st.failure_outputs, 0);
}

static void declared_output(void **state)
{
    fx *f = *state;
    graft_seam *s = reg(f, "toy.f", GRAFT_ON_FAILURE_OUTPUT);
    toy_out out;
    f->t.candidate_status = GRAFT_EPANIC;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(call(s, 3, &out), GRAFT_EPANIC);
        assert_int_equal(out.value, -1);
    }
    f->t.candidate_status = GRAFT_OK;
    graft_fault_config fc = {.error_bp = 10000};
    assert_int_equal(graft_seam_set_fault(s, &fc), GRAFT_OK);
    assert_int_equal(call(s, 3, &out), GRAFT_EINJECTED);
    assert_int_equal(out.value, -1);
    memset(&fc, 0, sizeof fc);
    graft_seam_set_fault(s, &fc);
    assert_int_equal(call(s, 3, &out), GRAFT_OK);
    assert_int_equal(out.value, 6);
    assert_int_equal(f->t.legacy_calls, 0);
    graft_seam_stats st;
    graft_seam_stats_get(s, &st);
    assert_int_equal(st.failure_outputs, 1001);
    assert_int_equal(st.fallbacks, 0);

    /* The policy is candidate-only's: candidate mode still falls back. */
    graft_seam_set_mode(s, GRAFT_MODE_CANDIDATE, 0);
    f->t.candidate_status = GRAFT_EIO;
    assert_int_equal(call(s, 5, &out), GRAFT_OK);
    assert_int_equal(out.value, 10);

    char *txt;
    assert_int_equal(graft_seam_json(s, &txt, NULL), GRAFT_OK);
    cJSON *root = cJSON_Parse(txt);
    assert_string_equal(cJSON_GetObjectItem(root, "candidate_only_failure")->valuestring, "output");
    cJSON *cnt = cJSON_GetObjectItem(root, "counters");
    assert_int_equal((int)cJSON_GetObjectItem(cnt, "failure_outputs")->valuedouble, 1001);
    cJSON_Delete(root);
    graft_free(txt);
    assert_int_equal(graft_metrics_prometheus(f->rt, &txt, NULL), GRAFT_OK);
    assert_non_null(strstr(txt, "graft_seam_failure_outputs_total{seam=\"toy.f\"} 1001\n"));
    graft_free(txt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(names_and_registration, setup, teardown),
        cmocka_unit_test_setup_teardown(status_by_default, setup, teardown),
        cmocka_unit_test_setup_teardown(legacy_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(declared_output, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
