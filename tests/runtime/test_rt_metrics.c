/* Unit tests of the latency exports: Prometheus histograms (fixed log-linear buckets,
 * cumulative, +Inf = _count, _sum) that histogram_quantile(rate(...)) can aggregate,
 * and the JSON snapshot's recent-window percentiles, which forget a slow period that
 * is over while the lifetime ones keep it. Latencies come from delay faults on a fake
 * clock, so nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rt_fixture.h"

typedef struct fx {
    graft_runtime *rt;
    graft_seam *seam;
    toy t;
    fake_clock clk;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.clock = fake_now;
    o.sleep = fake_sleep;
    o.clock_ctx = &f->clk;
    o.time_sample_every = 1;
    o.log_level = GRAFT_LOG_ERROR;
    atomic_store(&f->clk.now, 1000000000ull);
    if (graft_runtime_new(&o, &f->rt) != GRAFT_OK)
        return -1;
    graft_seam_def d = toy_def("toy.lat", &f->t);
    if (graft_seam_register(f->rt, &d, &f->seam) != GRAFT_OK)
        return -1;
    graft_breaker_config b;
    graft_breaker_config_init(&b);
    b.enabled = 0;
    graft_seam_set_breaker(f->seam, &b);
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

/* n candidate calls, each delayed (timed) by ns. */
static void calls_taking(fx *f, int n, uint64_t ns)
{
    graft_fault_config fc = {0, 0, GRAFT_PERCENT_SCALE, ns};
    assert_int_equal(graft_seam_set_fault(f->seam, &fc), GRAFT_OK);
    long in = 1;
    toy_out out, scratch;
    for (int i = 0; i < n; i++)
        assert_int_equal(graft_call(f->seam, (uint64_t)i, 0, &in, &out, &scratch), GRAFT_OK);
}

static void latency_is_a_prometheus_histogram(void **state)
{
    fx *f = *state;
    calls_taking(f, 10, 1000);
    calls_taking(f, 10, 1000000);
    char *txt;
    size_t len;
    assert_int_equal(graft_metrics_prometheus(f->rt, &txt, &len), GRAFT_OK);
    assert_non_null(strstr(txt, "# TYPE graft_impl_latency_seconds histogram\n"));
    assert_null(strstr(txt, "quantile="));
    const char *pre = "graft_impl_latency_seconds_bucket{seam=\"toy.lat\",impl=\"candidate\",le=\"";
    int buckets = 0;
    unsigned long long last = 0, at_1us = 0, at_1ms = 0;
    double last_le = 0;
    for (const char *p = strstr(txt, pre); p; p = strstr(p + 1, pre)) {
        const char *q = p + strlen(pre);
        unsigned long long v;
        if (strncmp(q, "+Inf\"} ", 7) == 0) {
            assert_int_equal(sscanf(q + 7, "%llu", &v), 1);
            assert_int_equal(v, 20);
            continue;
        }
        double le;
        assert_int_equal(sscanf(q, "%lf\"} %llu", &le, &v), 2);
        assert_true(le > last_le); /* bounds ascend */
        assert_true(v >= last);    /* counts are cumulative */
        if (le >= 1e-6 && at_1us == 0)
            at_1us = v;
        if (le >= 1e-3 && at_1ms == 0)
            at_1ms = v;
        last = v;
        last_le = le;
        buckets++;
    }
    assert_int_equal(buckets, 137); /* 7 ns, then 4 per power of two up to 2^37 ns */
    assert_int_equal(at_1us, 10);   /* the 1 us calls, in a bucket at most 25% wide */
    assert_int_equal(at_1ms, 20);
    assert_int_equal(last, 20);
    assert_non_null(
        strstr(txt, "graft_impl_latency_seconds_count{seam=\"toy.lat\",impl=\"candidate\"} 20\n"));
    assert_non_null(strstr(
        txt, "graft_impl_latency_seconds_sum{seam=\"toy.lat\",impl=\"candidate\"} 0.010010000\n"));
    graft_free(txt);
}

/* The candidate's (count, p99, window) of the JSON snapshot's recent window, and its
 * lifetime p99. */
static void candidate_latency(fx *f, unsigned long long *count, unsigned long long *p99,
                              unsigned long long *window, unsigned long long *life_p99)
{
    char *txt;
    size_t len;
    assert_int_equal(graft_seam_json(f->seam, &txt, &len), GRAFT_OK);
    const char *c = strstr(txt, "\"candidate\":{");
    assert_non_null(c);
    const char *l = strstr(c, "\"latency\":{");
    assert_non_null(l);
    unsigned long long lc, p50, p90, mx;
    assert_int_equal(sscanf(l,
                            "\"latency\":{\"count\":%llu,\"p50_ns\":%llu,\"p90_ns\":%llu,"
                            "\"p99_ns\":%llu",
                            &lc, &p50, &p90, life_p99),
                     4);
    const char *r = strstr(c, "\"recent_latency\":{");
    assert_non_null(r);
    assert_int_equal(sscanf(r,
                            "\"recent_latency\":{\"count\":%llu,\"p50_ns\":%llu,\"p90_ns\":%llu,"
                            "\"p99_ns\":%llu,\"max_ns\":%llu,\"window_ns\":%llu",
                            count, &p50, &p90, p99, &mx, window),
                     6);
    graft_free(txt);
}

static void recent_percentiles_forget_an_old_slow_period(void **state)
{
    fx *f = *state;
    unsigned long long n, p99, win, life;
    calls_taking(f, 10, 2000000000ull); /* 2 s each: a slow period of 20 s */
    candidate_latency(f, &n, &p99, &win, &life);
    assert_int_equal(n, 10);
    assert_true(p99 >= 2000000000ull);
    /* Two minutes pass with the dashboard polling every 5 s, then fast calls. */
    for (int i = 0; i < 24; i++) {
        atomic_fetch_add(&f->clk.now, 5000000000ull);
        candidate_latency(f, &n, &p99, &win, &life);
    }
    calls_taking(f, 10, 1000);
    candidate_latency(f, &n, &p99, &win, &life);
    assert_int_equal(n, 10);
    assert_true(p99 >= 1000 && p99 <= 1250);
    assert_true(win >= 60000000000ull && win <= 70000000000ull);
    assert_true(life >= 2000000000ull); /* the lifetime view keeps the slow period */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(latency_is_a_prometheus_histogram, setup, teardown),
        cmocka_unit_test_setup_teardown(recent_percentiles_forget_an_old_slow_period, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
