/* Asynchronous shadow (issue 15.1): the serving thread runs legacy and returns while the
 * candidate runs on the executor on a copy of the input; a full queue drops (never
 * waits); the deadline counts overruns and feeds the breaker; A/A runs legacy against
 * legacy; purity is declared and shadow of an impure seam is refused. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "rt_fixture.h"

/* A pure toy: output = input * 2 (+ bias in the candidate). The candidate can be held
 * at a gate (to fill the queue), and can advance the fake clock (to overrun). */
typedef struct ptoy {
    atomic_int legacy_calls, candidate_calls;
    atomic_int hold;         /* candidate spins while set */
    atomic_int in_candidate; /* candidates running now */
    atomic_long bias;        /* candidate adds this (set while workers run) */
    uint64_t candidate_cost; /* fake-clock ns a candidate run takes */
    uint64_t legacy_cost;    /* fake-clock ns a legacy run takes */
    atomic_int noisy_every;  /* legacy adds 1 on every Nth call (A/A noise); 0: never */
    fake_clock *clock;
} ptoy;

static int ptoy_legacy(void *ctx, const void *input, void *output)
{
    ptoy *t = ctx;
    int n = atomic_fetch_add(&t->legacy_calls, 1) + 1;
    if (t->clock && t->legacy_cost) {
        atomic_fetch_add(&t->clock->now, t->legacy_cost);
    }
    int every = atomic_load(&t->noisy_every);
    *(long *)output = *(const long *)input * 2 + (every && n % every == 0 ? 1 : 0);
    return GRAFT_OK;
}

static int ptoy_candidate(void *ctx, const void *input, void *output)
{
    ptoy *t = ctx;
    atomic_fetch_add(&t->candidate_calls, 1);
    atomic_fetch_add(&t->in_candidate, 1);
    while (atomic_load(&t->hold)) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    if (t->clock && t->candidate_cost) {
        atomic_fetch_add(&t->clock->now, t->candidate_cost);
    }
    *(long *)output = *(const long *)input * 2 + atomic_load(&t->bias);
    atomic_fetch_sub(&t->in_candidate, 1);
    return GRAFT_OK;
}

static size_t ptoy_copy(void *ctx, const void *input, void *buf, size_t cap)
{
    (void)ctx;
    long v = *(const long *)input;
    if (v < 0) {
        return GRAFT_SHADOW_INPUT_MAX + 1; /* "too large" */
    }
    if (cap >= sizeof v) {
        memcpy(buf, &v, sizeof v);
    }
    return sizeof v;
}

static graft_seam_def ptoy_def(const char *name, ptoy *t)
{
    graft_seam_def d;
    memset(&d, 0, sizeof d);
    d.name = name;
    d.ctx = t;
    d.legacy = ptoy_legacy;
    d.candidate = ptoy_candidate;
    d.output_size = sizeof(long);
    d.purity = GRAFT_PURITY_PURE;
    d.copy_input = ptoy_copy;
    return d;
}

typedef struct fx {
    graft_runtime *rt;
    graft_seam *seam;
    ptoy t;
    fake_clock clock;
} fx;

static fx *fx_new(uint32_t queue, bool fake)
{
    fx *f = calloc(1, sizeof *f);
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.log_level = GRAFT_LOG_ERROR;
    o.shadow_queue = queue;
    o.shadow_threads = 1;
    o.time_sample_every = 1;
    o.shadow_keep_priority = 1; /* SCHED_IDLE workers starve on a busy test machine */
    if (fake) {
        o.clock = fake_now;
        o.clock_ctx = &f->clock;
        atomic_store(&f->clock.now, 1000000000ull);
        f->t.clock = &f->clock;
    }
    assert_int_equal(graft_runtime_new(&o, &f->rt), GRAFT_OK);
    graft_seam_def d = ptoy_def("toy.pure", &f->t);
    assert_int_equal(graft_seam_register(f->rt, &d, &f->seam), GRAFT_OK);
    return f;
}

static void fx_free(fx *f)
{
    graft_runtime_free(f->rt);
    free(f);
}

static void set_exec(fx *f, graft_shadow_exec e, uint64_t deadline)
{
    graft_shadow_config c;
    graft_shadow_config_init(&c);
    c.exec = e;
    c.deadline_ns = deadline;
    assert_int_equal(graft_seam_set_shadow(f->seam, &c), GRAFT_OK);
    assert_int_equal(graft_seam_set_mode(f->seam, GRAFT_MODE_SHADOW, 0), GRAFT_OK);
}

/* Waits (bounded, real time) until the executor finished `n` jobs of the seam. */
static graft_seam_stats wait_done(fx *f, uint64_t n)
{
    graft_seam_stats st;
    for (int i = 0; i < 20000; i++) {
        graft_seam_stats_get(f->seam, &st);
        if (st.shadow_done >= n) {
            return st;
        }
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
    graft_seam_stats_get(f->seam, &st);
    return st;
}

static long call(fx *f, long in)
{
    long out = -1, scratch = -1;
    assert_int_equal(graft_call(f->seam, (uint64_t)in, 0, &in, &out, &scratch), GRAFT_OK);
    return out;
}

static void async_compares_off_thread(void **state)
{
    (void)state;
    fx *f = fx_new(64, false);
    set_exec(f, GRAFT_SHADOW_ASYNC, 0);
    /* Hold the candidate: the served call must return with legacy's answer anyway. */
    atomic_store(&f->t.hold, 1);
    assert_int_equal(call(f, 21), 42);
    for (int i = 0; i < 20000 && atomic_load(&f->t.in_candidate) == 0; i++) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(atomic_load(&f->t.in_candidate), 1); /* running on the executor */
    atomic_store(&f->t.hold, 0);
    graft_seam_stats st = wait_done(f, 1);
    assert_int_equal(st.shadow_enqueued, 1);
    assert_int_equal(st.shadow_done, 1);
    assert_int_equal(st.compared, 1);
    assert_int_equal(st.mismatches, 0);
    assert_int_equal(st.impl[GRAFT_IMPL_LEGACY].served, 1);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].served, 0);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].calls, 1);

    /* A candidate that differs: counted as a mismatch on the executor. */
    atomic_store(&f->t.bias, 1);
    for (long i = 0; i < 10; i++) {
        assert_int_equal(call(f, i), 2 * i);
    }
    st = wait_done(f, 11);
    assert_int_equal(st.compared, 11);
    assert_int_equal(st.mismatches, 10);
    fx_free(f);
}

static void full_queue_drops_never_waits(void **state)
{
    (void)state;
    fx *f = fx_new(4, false);
    set_exec(f, GRAFT_SHADOW_ASYNC, 0);
    atomic_store(&f->t.hold, 1);
    for (long i = 0; i < 100; i++) {
        assert_int_equal(call(f, i), 2 * i); /* returns although nothing drains */
    }
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    /* One job in the worker's hands, four queued at most: the rest dropped. */
    assert_true(st.shadow_enqueued <= 5);
    assert_int_equal(st.shadow_enqueued + st.shadow_dropped, 100);
    assert_true(st.shadow_dropped >= 95);
    atomic_store(&f->t.hold, 0);
    st = wait_done(f, st.shadow_enqueued);
    assert_int_equal(st.compared, st.shadow_enqueued);
    /* The input copy refused (too large): dropped as well. */
    uint64_t before = st.shadow_dropped;
    assert_int_equal(call(f, -5), -10);
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.shadow_dropped, before + 1);
    fx_free(f);
}

static void deadline_overrun_feeds_breaker(void **state)
{
    (void)state;
    fx *f = fx_new(64, true);
    graft_breaker_config b;
    graft_breaker_config_init(&b);
    b.enabled = 1;
    b.min_calls = 5;
    b.slow_rate_bp = 5000;
    b.slow_call_ns = 0; /* only the shadow deadline marks calls slow */
    b.error_rate_bp = 10000;
    b.mismatch_rate_bp = 10000;
    b.window_ns = 60ull * 1000000000ull;
    assert_int_equal(graft_seam_set_breaker(f->seam, &b), GRAFT_OK);
    set_exec(f, GRAFT_SHADOW_ASYNC, 10 * 1000000ull); /* 10 ms */
    f->t.candidate_cost = 20 * 1000000ull;            /* the candidate takes 20 ms */
    graft_seam_stats st;
    for (long i = 0; i < 5; i++) {
        call(f, i);
        st = wait_done(f, (uint64_t)i + 1);
    }
    assert_int_equal(st.shadow_overran, 5);
    assert_int_equal(st.breaker_state, GRAFT_BREAKER_OPEN);
    /* Open: the next shadow calls do not reach the executor. */
    call(f, 9);
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.breaker_rejected, 1);
    assert_int_equal(st.shadow_enqueued, 5);
    fx_free(f);
}

static void stale_jobs_are_dropped(void **state)
{
    (void)state;
    fx *f = fx_new(64, true);
    set_exec(f, GRAFT_SHADOW_ASYNC, 10 * 1000000ull);
    atomic_store(&f->t.hold, 1);
    call(f, 1); /* taken by the worker at once, held */
    for (int i = 0; i < 20000 && atomic_load(&f->t.in_candidate) == 0; i++) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    call(f, 2);                                       /* queued behind it ... */
    atomic_fetch_add(&f->clock.now, 50 * 1000000ull); /* ... for 50 ms */
    atomic_store(&f->t.hold, 0);
    graft_seam_stats st;
    for (int i = 0; i < 20000; i++) {
        graft_seam_stats_get(f->seam, &st);
        if (st.shadow_done + st.shadow_dropped >= 2) {
            break;
        }
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(st.shadow_done, 1);
    assert_int_equal(st.shadow_dropped, 1);
    assert_int_equal(atomic_load(&f->t.candidate_calls), 1);
    fx_free(f);
}

static void aa_measures_legacy_noise(void **state)
{
    (void)state;
    fx *f = fx_new(1024, false);
    atomic_store(&f->t.bias, 7); /* would mismatch every call: A/A must not run the candidate */
    set_exec(f, GRAFT_SHADOW_AA, 0);
    atomic_store(&f->t.noisy_every, 10); /* every 10th legacy answer is off by one */
    for (long i = 0; i < 200; i++) {
        call(f, i);
        wait_done(f, (uint64_t)i + 1); /* one at a time: a pair is two consecutive runs */
    }
    graft_seam_stats st = wait_done(f, 200);
    assert_int_equal(atomic_load(&f->t.candidate_calls), 0);
    assert_int_equal(st.compared, 200);
    /* 400 legacy runs, every 10th noisy: each noisy run is one side of a mismatch
     * (the two of a pair are never both noisy: consecutive calls). */
    assert_int_equal(st.mismatches, 40);
    fx_free(f);
}

static void purity_is_enforced(void **state)
{
    (void)state;
    graft_runtime *rt;
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.log_level = GRAFT_LOG_ERROR;
    assert_int_equal(graft_runtime_new(&o, &rt), GRAFT_OK);
    ptoy t;
    memset(&t, 0, sizeof t);
    graft_seam_def d = ptoy_def("toy.impure", &t);
    d.purity = GRAFT_PURITY_IMPURE;
    graft_seam *s;
    assert_int_equal(graft_seam_register(rt, &d, &s), GRAFT_OK);
    assert_int_equal(graft_seam_set_mode(s, GRAFT_MODE_SHADOW, 0), GRAFT_EUNSUPPORTED);
    graft_mode m;
    graft_seam_get_mode(s, &m, NULL);
    assert_int_equal(m, GRAFT_MODE_LEGACY);
    /* canary and candidate run one implementation per call: allowed */
    assert_int_equal(graft_seam_set_mode(s, GRAFT_MODE_CANARY, 500), GRAFT_OK);
    graft_plan p;
    graft_plan_init(&p);
    assert_int_equal(graft_seam_set_plan(s, &p), GRAFT_EUNSUPPORTED);
    graft_shadow_config c;
    graft_shadow_config_init(&c);
    c.exec = GRAFT_SHADOW_ASYNC;
    assert_int_equal(graft_seam_set_shadow(s, &c), GRAFT_EUNSUPPORTED);

    /* Undeclared: synchronous shadow as before; async refused. */
    graft_seam_def u = ptoy_def("toy.undeclared", &t);
    u.purity = GRAFT_PURITY_UNDECLARED;
    assert_int_equal(graft_seam_register(rt, &u, &s), GRAFT_OK);
    assert_int_equal(graft_seam_set_mode(s, GRAFT_MODE_SHADOW, 0), GRAFT_OK);
    assert_int_equal(graft_seam_set_shadow(s, &c), GRAFT_EUNSUPPORTED);
    /* Pure without copy_input, or with outputs that own memory: refused. */
    graft_seam_def nc = ptoy_def("toy.nocopy", &t);
    nc.copy_input = NULL;
    assert_int_equal(graft_seam_register(rt, &nc, &s), GRAFT_OK);
    assert_int_equal(graft_seam_set_shadow(s, &c), GRAFT_EUNSUPPORTED);
    graft_seam_def rel = ptoy_def("toy.release", &t);
    rel.release = toy_release;
    assert_int_equal(graft_seam_register(rt, &rel, &s), GRAFT_OK);
    assert_int_equal(graft_seam_set_shadow(s, &c), GRAFT_EUNSUPPORTED);
    graft_shadow_config got;
    graft_seam_get_shadow(s, &got);
    assert_int_equal(got.exec, GRAFT_SHADOW_SYNC);
    assert_string_equal(graft_purity_name(GRAFT_PURITY_IMPURE), "impure");
    assert_string_equal(graft_shadow_exec_name(GRAFT_SHADOW_AA), "aa");
    graft_shadow_exec e;
    assert_int_equal(graft_shadow_exec_parse("async", &e), GRAFT_OK);
    assert_int_equal(e, GRAFT_SHADOW_ASYNC);
    assert_int_equal(graft_shadow_exec_parse("parallel", &e), GRAFT_EINVAL);
    graft_runtime_free(rt);
}

static void async_metrics_exposed(void **state)
{
    (void)state;
    fx *f = fx_new(64, false);
    set_exec(f, GRAFT_SHADOW_ASYNC, 0);
    for (long i = 0; i < 5; i++) {
        call(f, i);
    }
    wait_done(f, 5);
    char *txt;
    size_t len;
    assert_int_equal(graft_metrics_prometheus(f->rt, &txt, &len), GRAFT_OK);
    assert_non_null(strstr(txt, "graft_seam_shadow_enqueued_total{seam=\"toy.pure\"} 5"));
    assert_non_null(strstr(txt, "graft_seam_shadow_dropped_total{seam=\"toy.pure\"} 0"));
    assert_non_null(strstr(txt, "graft_seam_shadow_overran_total{seam=\"toy.pure\"} 0"));
    graft_free(txt);
    assert_int_equal(graft_metrics_json(f->rt, &txt, &len), GRAFT_OK);
    assert_non_null(strstr(txt, "\"shadow\":{\"exec\":\"async\""));
    assert_non_null(strstr(txt, "\"enqueued\":5"));
    assert_non_null(strstr(txt, "\"purity\":\"pure\""));
    assert_non_null(strstr(txt, "\"executor_priority\":\"normal\""));
    graft_free(txt);
    fx_free(f);
}

/* By default the workers run at idle priority (SCHED_IDLE, else nice 19). */
static void executor_runs_at_idle_priority(void **state)
{
    (void)state;
    graft_runtime *rt;
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.log_level = GRAFT_LOG_ERROR;
    assert_int_equal(graft_runtime_new(&o, &rt), GRAFT_OK);
    ptoy t;
    memset(&t, 0, sizeof t);
    graft_seam_def d = ptoy_def("toy.prio", &t);
    graft_seam *s;
    assert_int_equal(graft_seam_register(rt, &d, &s), GRAFT_OK);
    graft_shadow_config c;
    graft_shadow_config_init(&c);
    c.exec = GRAFT_SHADOW_ASYNC;
    assert_int_equal(graft_seam_set_shadow(s, &c), GRAFT_OK);
    char *txt = NULL;
    size_t len;
    for (int i = 0; i < 2000; i++) {
        graft_free(txt);
        assert_int_equal(graft_seam_json(s, &txt, &len), GRAFT_OK);
        if (!strstr(txt, "\"executor_priority\":\"normal\"")) {
            break;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_true(strstr(txt, "\"executor_priority\":\"idle\"") ||
                strstr(txt, "\"executor_priority\":\"nice19\""));
    graft_free(txt);
    graft_runtime_free(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(async_compares_off_thread),
        cmocka_unit_test(full_queue_drops_never_waits),
        cmocka_unit_test(deadline_overrun_feeds_breaker),
        cmocka_unit_test(stale_jobs_are_dropped),
        cmocka_unit_test(aa_measures_legacy_noise),
        cmocka_unit_test(purity_is_enforced),
        cmocka_unit_test(async_metrics_exposed),
        cmocka_unit_test(executor_runs_at_idle_priority),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
