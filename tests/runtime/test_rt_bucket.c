/* Unit tests of sticky routing: uniformity (±1 percentage point over 10^6 keys),
 * stickiness, monotonicity, salting by seam name, the documented hash, NO_KEY spread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rt_fixture.h"

typedef struct fx {
    graft_runtime *rt;
    graft_seam *a, *b;
    toy t;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (graft_runtime_new(NULL, &f->rt) != GRAFT_OK)
        return -1;
    graft_seam_def d = toy_def("kv.parse", &f->t);
    graft_seam_register(f->rt, &d, &f->a);
    d.name = "kv.hash";
    graft_seam_register(f->rt, &d, &f->b);
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

/* The documented formula, written out independently of src/. */
static uint32_t reference_bucket(const char *seam, uint64_t key)
{
    uint64_t salt = 0xcbf29ce484222325ull;
    for (const char *p = seam; *p; p++) {
        salt ^= (unsigned char)*p;
        salt *= 0x100000001b3ull;
    }
    uint64_t z = (key ^ salt) + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (uint32_t)(z % 10000);
}

static void documented_hash(void **state)
{
    fx *f = *state;
    /* FNV-1a 64 test vectors. */
    assert_true(graft_key_from_bytes("", 0) == 0xcbf29ce484222325ull);
    assert_true(graft_key_from_bytes("a", 1) == 0xaf63dc4c8601ec8cull);
    assert_true(graft_key_from_bytes("foobar", 6) == 0x85944171f73967e8ull);
    for (uint64_t k = 0; k < 10000; k++) {
        assert_int_equal(graft_seam_bucket(f->a, k), reference_bucket("kv.parse", k));
        assert_int_equal(graft_seam_bucket(f->b, k * 7919), reference_bucket("kv.hash", k * 7919));
    }
    /* Pinned values (computed independently in Python): a change here breaks
     * stickiness across versions. */
    assert_int_equal(graft_seam_bucket(f->a, 0), 682);
    assert_int_equal(graft_seam_bucket(f->a, 42), 2379);
    assert_int_equal(graft_seam_bucket(f->b, 12345678901234ull), 3630);
}

static void uniform_over_a_million_keys(void **state)
{
    fx *f = *state;
    const uint32_t pcts[] = {1, 100, 1000, 2500, 5000, 9000};
    uint32_t *hist = calloc(10000, sizeof *hist);
    const int n = 1000000;
    for (int i = 0; i < n; i++) {
        /* Sequential ids: the worst case for a weak hash. */
        hist[graft_seam_bucket(f->a, (uint64_t)i)]++;
    }
    for (size_t p = 0; p < sizeof pcts / sizeof pcts[0]; p++) {
        uint64_t in = 0;
        for (uint32_t b = 0; b < pcts[p]; b++)
            in += hist[b];
        double share = 100.0 * (double)in / n, want = pcts[p] / 100.0;
        if (share < want - 1.0 || share > want + 1.0)
            fail_msg("percent %.2f: measured %.3f%%", want, share);
    }
    /* Every decile of buckets holds 10% ± 1 point. */
    for (int d = 0; d < 10; d++) {
        uint64_t in = 0;
        for (int b = d * 1000; b < (d + 1) * 1000; b++)
            in += hist[b];
        double share = 100.0 * (double)in / n;
        assert_true(share > 9.0 && share < 11.0);
    }
    /* String ids through graft_key_from_bytes as well. */
    uint64_t in = 0;
    char buf[32];
    for (int i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof buf, "client-%d", i);
        in += graft_seam_bucket(f->a, graft_key_from_bytes(buf, (size_t)len)) < 1000;
    }
    double share = 100.0 * (double)in / n;
    assert_true(share > 9.0 && share < 11.0);
    free(hist);
}

static void sticky_and_monotone(void **state)
{
    fx *f = *state;
    long in = 1;
    toy_out out;
    f->t.candidate_bias = 1000;
    /* The same key gets the same answer, every time. */
    graft_seam_set_mode(f->a, GRAFT_MODE_CANARY, 1000);
    for (uint64_t k = 0; k < 2000; k++) {
        graft_call(f->a, k, 0, &in, &out, NULL);
        long first = out.value;
        for (int r = 0; r < 3; r++) {
            graft_call(f->a, k, 0, &in, &out, NULL);
            assert_int_equal(out.value, first);
        }
    }
    /* In at 10% stays in at 20%, 50%, 100%. */
    const uint32_t ramp[] = {1000, 2000, 5000, 10000};
    for (uint64_t k = 0; k < 5000; k++) {
        bool was_in = false;
        for (size_t r = 0; r < 4; r++) {
            graft_seam_set_mode(f->a, GRAFT_MODE_CANARY, ramp[r]);
            graft_call(f->a, k, 0, &in, &out, NULL);
            bool now_in = out.value == 1002;
            if (was_in)
                assert_true(now_in);
            was_in = now_in;
        }
        assert_true(was_in); /* 100% takes everyone */
    }
    /* 0% takes no one. */
    graft_seam_set_mode(f->a, GRAFT_MODE_CANARY, 0);
    for (uint64_t k = 0; k < 1000; k++) {
        graft_call(f->a, k, 0, &in, &out, NULL);
        assert_int_equal(out.value, 2);
    }
}

static void salted_by_seam(void **state)
{
    fx *f = *state;
    /* Two seams at 10% pick (nearly) independent sets: overlap ~1%, not ~10%. */
    int both = 0, in_a = 0;
    for (uint64_t k = 0; k < 100000; k++) {
        bool a = graft_seam_bucket(f->a, k) < 1000, b = graft_seam_bucket(f->b, k) < 1000;
        in_a += a;
        both += a && b;
    }
    assert_true(in_a > 9000 && in_a < 11000);
    assert_true(both > 700 && both < 1300);
}

static void granularity_one_basis_point(void **state)
{
    fx *f = *state;
    /* 0.01% routes about 1 key in 10,000. */
    graft_seam_set_mode(f->a, GRAFT_MODE_CANARY, 1);
    long in = 1;
    toy_out out;
    f->t.candidate_bias = 1000;
    int cand = 0;
    for (uint64_t k = 0; k < 200000; k++) {
        graft_call(f->a, k, 0, &in, &out, NULL);
        cand += out.value == 1002;
    }
    assert_true(cand >= 8 && cand <= 35);
}

static void no_key_spread(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->a, GRAFT_MODE_CANARY, 3000);
    long in = 1;
    toy_out out;
    f->t.candidate_bias = 1000;
    int cand = 0;
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        graft_call(f->a, 0, GRAFT_CALL_NO_KEY, &in, &out, NULL);
        cand += out.value == 1002;
    }
    double share = 100.0 * cand / n;
    assert_true(share > 29.0 && share < 31.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(documented_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(uniform_over_a_million_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(sticky_and_monotone, setup, teardown),
        cmocka_unit_test_setup_teardown(salted_by_seam, setup, teardown),
        cmocka_unit_test_setup_teardown(granularity_one_basis_point, setup, teardown),
        cmocka_unit_test_setup_teardown(no_key_spread, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
