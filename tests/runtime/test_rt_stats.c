/* The statistics of rollout gates (src/stats.c) against known distributions and values
 * computed independently (closed forms, published tables), and the edge cases: zero
 * traffic, all mismatches, ties. */
#define _GNU_SOURCE /* M_PI */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "stats.h"

#define assert_close(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol))

static void binomial_tails(void **state)
{
    (void)state;
    /* Binomial(10, 0.5): P(X <= 2) = (1 + 10 + 45) / 1024 */
    assert_close(graft__binom_cdf(2, 10, 0.5), 56.0 / 1024.0, 1e-12);
    assert_close(graft__binom_sf(8, 10, 0.5), 56.0 / 1024.0, 1e-12);
    /* Binomial(20, 0.1): P(X <= 0) = 0.9^20 */
    assert_close(graft__binom_cdf(0, 20, 0.1), pow(0.9, 20), 1e-12);
    /* sum of the pmf against the cdf, n = 30, p = 0.3 */
    double acc = 0, c = 1;
    for (int k = 0; k <= 30; k++) {
        if (k > 0) {
            c = c * (30 - k + 1) / k;
        }
        acc += c * pow(0.3, k) * pow(0.7, 30 - k);
        assert_close(graft__binom_cdf((uint64_t)k, 30, 0.3), acc, 1e-10);
        assert_close(graft__binom_sf((uint64_t)k + 1, 30, 0.3), 1.0 - acc, 1e-10);
    }
    /* large n: the normal approximation is close (n = 1e6, p = 0.01, k = mean) */
    assert_close(graft__binom_cdf(10000, 1000000, 0.01), 0.5, 0.01);
    assert_close(graft__binom_cdf(5, 5, 0.3), 1.0, 0);
    assert_close(graft__binom_sf(0, 5, 0.3), 1.0, 0);
    /* incomplete beta: I_x(1, 1) = x, I_x(a, 1) = x^a */
    assert_close(graft__ibeta(1, 1, 0.37), 0.37, 1e-12);
    assert_close(graft__ibeta(3, 1, 0.5), 0.125, 1e-12);
}

static void clopper_pearson(void **state)
{
    (void)state;
    /* zero successes: the upper bound has the closed form 1 - alpha^(1/n) */
    for (uint64_t n = 1; n <= 100000; n *= 10) {
        assert_close(graft__cp_upper(0, n, 0.95), 1.0 - pow(0.05, 1.0 / (double)n), 1e-9);
        assert_close(graft__cp_lower(0, n, 0.95), 0.0, 0);
    }
    /* all successes: the lower bound is alpha^(1/n), the upper 1 */
    assert_close(graft__cp_lower(20, 20, 0.95), pow(0.05, 1.0 / 20.0), 1e-9);
    assert_close(graft__cp_upper(20, 20, 0.95), 1.0, 0);
    /* x = 5, n = 100: the published two-sided 95% interval (0.0164, 0.1128) is the
     * pair of one-sided 97.5% bounds; the one-sided 95% bounds 0.102253 and 0.019906
     * were checked by summing the binomial pmf exactly (P = 0.0500). */
    assert_close(graft__cp_upper(5, 100, 0.975), 0.1128, 1e-4);
    assert_close(graft__cp_lower(5, 100, 0.975), 0.0164, 1e-4);
    assert_close(graft__cp_upper(5, 100, 0.95), 0.102253, 1e-5);
    assert_close(graft__cp_lower(5, 100, 0.95), 0.019906, 1e-5);
    /* the bound is exact: P(X <= x | upper) = alpha */
    double u = graft__cp_upper(3, 50, 0.99);
    assert_close(graft__binom_cdf(3, 50, u), 0.01, 1e-9);
    double l = graft__cp_lower(3, 50, 0.99);
    assert_close(graft__binom_sf(3, 50, l), 0.01, 1e-9);
    /* zero traffic: nothing is known */
    assert_close(graft__cp_upper(0, 0, 0.95), 1.0, 0);
    assert_close(graft__cp_lower(0, 0, 0.95), 0.0, 0);
}

/* Coverage against a known distribution: for Binomial(n, p) the one-sided 95% upper
 * bound is at or above p at least 95% of the time (exactly computed over every x). */
static void clopper_pearson_coverage(void **state)
{
    (void)state;
    const uint64_t n = 200;
    const double ps[] = {0.001, 0.01, 0.05, 0.2, 0.5};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        double cover = 0;
        for (uint64_t x = 0; x <= n; x++) {
            double pmf =
                graft__binom_cdf(x, n, ps[i]) - (x ? graft__binom_cdf(x - 1, n, ps[i]) : 0);
            if (graft__cp_upper(x, n, 0.95) >= ps[i]) {
                cover += pmf;
            }
        }
        assert_true(cover >= 0.95 - 1e-9);
    }
}

static void rate_gate(void **state)
{
    (void)state;
    double up;
    /* zero traffic: hold, never pass */
    assert_int_equal(graft__gate_rate(0, 0, 0.001, 0.95, &up), GRAFT__V_HOLD);
    /* 0 of 1000: upper 0.003 is not below 0.001: hold */
    assert_int_equal(graft__gate_rate(0, 1000, 0.001, 0.95, &up), GRAFT__V_HOLD);
    /* 0 of 3000: upper 0.000998 < 0.001: pass (the smallest n is 2995) */
    assert_int_equal(graft__gate_rate(0, 3000, 0.001, 0.95, &up), GRAFT__V_PASS);
    assert_true(up < 0.001);
    assert_int_equal(graft__gate_rate(0, 2990, 0.001, 0.95, &up), GRAFT__V_HOLD);
    /* all mismatches: fail at once, with little evidence */
    assert_int_equal(graft__gate_rate(10, 10, 0.001, 0.95, &up), GRAFT__V_FAIL);
    assert_int_equal(graft__gate_rate(1, 1, 0.001, 0.95, &up), GRAFT__V_FAIL);
    /* 2% of 10000 against 1%: fail; 1.05% of 1000: inconclusive */
    assert_int_equal(graft__gate_rate(200, 10000, 0.01, 0.95, &up), GRAFT__V_FAIL);
    assert_int_equal(graft__gate_rate(11, 1000, 0.01, 0.95, &up), GRAFT__V_HOLD);
}

static void rate_diff_gate(void **state)
{
    (void)state;
    double up;
    assert_int_equal(graft__gate_rate_diff(0, 0, 0, 0, 0.001, 0.95, &up), GRAFT__V_HOLD);
    /* both fail at 1%: the difference is 0, bounded once there is enough traffic */
    assert_int_equal(graft__gate_rate_diff(1000, 100000, 1000, 100000, 0.005, 0.95, &up),
                     GRAFT__V_PASS);
    /* candidate 5% against legacy 1%: fail */
    assert_int_equal(graft__gate_rate_diff(500, 10000, 100, 10000, 0.01, 0.95, &up), GRAFT__V_FAIL);
    /* every candidate call failing: fail */
    assert_int_equal(graft__gate_rate_diff(50, 50, 0, 5000, 0.001, 0.95, &up), GRAFT__V_FAIL);
    /* no legacy runs: its rate is unknown in [0, 1]; the candidate alone must be low */
    assert_int_equal(graft__gate_rate_diff(0, 10000, 0, 0, 0.001, 0.95, &up), GRAFT__V_PASS);
}

static void sign_test(void **state)
{
    (void)state;
    double p;
    /* no pairs (all ties dropped): hold */
    assert_int_equal(graft__gate_sign(0, 0, 0.95, &p), GRAFT__V_HOLD);
    /* 15 faster of 20: P(X >= 15 | 20, 1/2) = 21700 / 2^20 = 0.0207: pass */
    assert_int_equal(graft__gate_sign(5, 15, 0.95, &p), GRAFT__V_PASS);
    assert_close(p, 21700.0 / 1048576.0, 1e-9);
    /* 14 of 20: 0.0577: not enough */
    assert_int_equal(graft__gate_sign(6, 14, 0.95, &p), GRAFT__V_HOLD);
    /* slower beyond chance: fail */
    assert_int_equal(graft__gate_sign(15, 5, 0.95, &p), GRAFT__V_FAIL);
    /* an even split never decides */
    assert_int_equal(graft__gate_sign(5000, 5000, 0.95, &p), GRAFT__V_HOLD);
}

static double g_seed_state = 0;
static double uniform(void)
{
    /* a fixed LCG: the test's samples are the same in every run */
    static uint64_t x = 0x9E3779B97F4A7C15ull;
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    g_seed_state = (double)(x >> 11) / 9007199254740992.0;
    return g_seed_state;
}

static double normal(void)
{
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) {
        u1 = 1e-300;
    }
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static void mann_whitney(void **state)
{
    (void)state;
    /* Small exact case: A = {1, 2, 3}, B = {4, 5, 6}: U_B = 9, mean 4.5, var 5.25:
     * z = (9 - 4.5 - 0.5) / sqrt(5.25) */
    double va[] = {1, 2, 3}, vb[] = {4, 5, 6};
    uint64_t one[] = {1, 1, 1};
    double pl;
    double pg = graft__mann_whitney(va, one, 3, vb, one, 3, &pl);
    assert_close(pg, 0.5 * erfc((4.0 / sqrt(5.25)) / sqrt(2.0)), 1e-12);
    assert_true(pl > 0.95);
    /* All values tie: no evidence either way */
    double t1[] = {5}, t2[] = {5};
    uint64_t c1[] = {100}, c2[] = {80};
    assert_close(graft__mann_whitney(t1, c1, 1, t2, c2, 1, &pl), 1.0, 0);
    assert_close(pl, 1.0, 0);
    /* Grouped ties equal ungrouped: {1,1,2} vs {2,3} as counts */
    double ga[] = {1, 2}, gb[] = {2, 3};
    uint64_t gca[] = {2, 1}, gcb[] = {1, 1};
    double ua[] = {1, 1, 2}, ub[] = {2, 3};
    uint64_t o3[] = {1, 1, 1}, o2[] = {1, 1};
    double pg1 = graft__mann_whitney(ga, gca, 2, gb, gcb, 2, NULL);
    double pg2 = graft__mann_whitney(ua, o3, 3, ub, o2, 2, NULL);
    assert_close(pg1, pg2, 1e-12);
    /* Empty side */
    assert_close(graft__mann_whitney(va, one, 3, vb, one, 0, NULL), 1.0, 0);

    /* Known distributions: N(0,1) against N(0.3,1), 1000 each: B greater, clearly;
     * the same distribution: the p-value is not extreme. */
    enum { N = 1000 };
    static double a[N], b[N], b0[N];
    static uint64_t ones[N];
    for (int i = 0; i < N; i++) {
        a[i] = normal();
        b[i] = normal() + 0.3;
        b0[i] = normal();
        ones[i] = 1;
    }
    pg = graft__mann_whitney(a, ones, N, b, ones, N, &pl);
    assert_true(pg < 1e-6);
    assert_true(pl > 0.999);
    pg = graft__mann_whitney(a, ones, N, b0, ones, N, &pl);
    assert_true(pg > 0.01 && pl > 0.01);
}

static double identity(size_t i)
{
    return (double)(i + 1);
}

static void mw_histogram_gate(void **state)
{
    (void)state;
    enum { B = 64 };
    uint64_t l[B] = {0}, c[B] = {0};
    double p;
    /* zero traffic, and too few on a side: hold */
    assert_int_equal(graft__gate_mw_hist(l, c, B, identity, 0.1, 10, 0.95, &p), GRAFT__V_HOLD);
    l[10] = 500;
    c[10] = 5;
    assert_int_equal(graft__gate_mw_hist(l, c, B, identity, 0.1, 10, 0.95, &p), GRAFT__V_HOLD);
    /* the same latency on both sides: within a 10% tolerance, pass */
    c[10] = 500;
    l[11] = 300;
    c[11] = 300;
    assert_int_equal(graft__gate_mw_hist(l, c, B, identity, 0.1, 10, 0.95, &p), GRAFT__V_PASS);
    /* candidate twice as slow: fail */
    uint64_t c2[B] = {0};
    c2[21] = 500;
    c2[23] = 300;
    assert_int_equal(graft__gate_mw_hist(l, c2, B, identity, 0.1, 10, 0.95, &p), GRAFT__V_FAIL);
    /* candidate 10% slower, tolerance 10%: the values tie (ties split): hold */
    double pv;
    uint64_t lt[B] = {0}, ct[B] = {0};
    lt[9] = 400;  /* value 10 x 1.1 = 11 */
    ct[10] = 400; /* value 11 */
    assert_int_equal(graft__gate_mw_hist(lt, ct, B, identity, 0.1, 10, 0.95, &pv), GRAFT__V_HOLD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(binomial_tails),
        cmocka_unit_test(clopper_pearson),
        cmocka_unit_test(clopper_pearson_coverage),
        cmocka_unit_test(rate_gate),
        cmocka_unit_test(rate_diff_gate),
        cmocka_unit_test(sign_test),
        cmocka_unit_test(mann_whitney),
        cmocka_unit_test(mw_histogram_gate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
