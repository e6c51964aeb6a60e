/* Unit tests of mismatch capture (file names, content, bounds in files and bytes, no
 * partial files), mismatch log rate limiting, and fault injection (error, panic through
 * arm_panic or simulated, delay, rates). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rt_fixture.h"

typedef struct fx {
    graft_runtime *rt;
    graft_seam *seam;
    toy t;
    log_cap log;
    fake_clock clk;
    char dir[128];
} fx;

static int setup_with(void **state, bool arm)
{
    fx *f = calloc(1, sizeof *f);
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.log = log_capture;
    o.log_ctx = &f->log;
    o.clock = fake_now;
    o.clock_ctx = &f->clk;
    o.sleep = fake_sleep;
    o.arm_panic = arm ? toy_arm_panic : NULL;
    if (graft_runtime_new(&o, &f->rt) != GRAFT_OK)
        return -1;
    graft_seam_def d = toy_def("toy.cap", &f->t);
    if (graft_seam_register(f->rt, &d, &f->seam) != GRAFT_OK)
        return -1;
    graft_breaker_config b;
    graft_breaker_config_init(&b);
    b.enabled = 0; /* these tests look at faults, not at the breaker */
    graft_seam_set_breaker(f->seam, &b);
    snprintf(f->dir, sizeof f->dir, "/tmp/graft-rt-capture-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, true);
}

static int setup_noarm(void **state)
{
    return setup_with(state, false);
}

static int teardown(void **state)
{
    fx *f = *state;
    graft_runtime_free(f->rt);
    DIR *d = opendir(f->dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || e->d_name[1] == '.'))
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

static int list_dir(fx *f, char names[][256], int max, int *hidden)
{
    DIR *d = opendir(f->dir);
    assert_non_null(d);
    int n = 0;
    *hidden = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (e->d_name[0] == '.') {
            (*hidden)++;
            continue;
        }
        if (n < max)
            snprintf(names[n], 256, "%s", e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

static void capture_files(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_SHADOW, 0);
    graft_compare_config cc;
    graft_compare_config_init(&cc);
    cc.capture_dir = f->dir;
    cc.capture_max_files = 5;
    cc.capture_max_bytes = 1 << 20;
    assert_int_equal(graft_seam_set_compare(f->seam, &cc), GRAFT_OK);
    f->t.candidate_bias = 1;
    toy_out out, scratch;
    for (long i = 100; i < 120; i++)
        graft_call(f->seam, (uint64_t)i, 0, &i, &out, &scratch);
    graft_runtime_flush(f->rt); /* files are written by the background writer */
    char names[32][256];
    int hidden;
    int n = list_dir(f, names, 32, &hidden);
    assert_int_equal(n, 5); /* bounded in files */
    assert_int_equal(hidden, 0);
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.captures, 5);
    assert_int_equal(st.mismatches, 20);
    long seen[5];
    for (int i = 0; i < n; i++) {
        /* toy.cap-<19 digits>-<6 digits>.bin */
        const char *nm = names[i];
        assert_int_equal(strncmp(nm, "toy.cap-", 8), 0);
        assert_int_equal(strlen(nm), 8 + 19 + 1 + 6 + 4);
        for (int k = 8; k < 27; k++)
            assert_true(nm[k] >= '0' && nm[k] <= '9');
        assert_int_equal(nm[27], '-');
        assert_string_equal(nm + 34, ".bin");
        char p[512];
        snprintf(p, sizeof p, "%s/%s", f->dir, nm);
        FILE *fp = fopen(p, "r");
        assert_non_null(fp);
        char buf[64] = {0};
        size_t got = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        assert_true(got > 0);
        seen[i] = strtol(buf, NULL, 10);
        assert_true(seen[i] >= 100 && seen[i] < 105); /* the first five inputs, verbatim */
        assert_int_equal(buf[got - 1], '\n');
    }
}

static void capture_bounded_in_bytes(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_SHADOW, 0);
    graft_compare_config cc;
    graft_compare_config_init(&cc);
    cc.capture_dir = f->dir;
    cc.capture_max_files = 100;
    cc.capture_max_bytes = 10; /* each input is "1234\n" = 5 bytes: room for two */
    graft_seam_set_compare(f->seam, &cc);
    f->t.candidate_bias = 1;
    toy_out out, scratch;
    for (long i = 1000; i < 1010; i++)
        graft_call(f->seam, (uint64_t)i, 0, &i, &out, &scratch);
    graft_runtime_flush(f->rt);
    char names[32][256];
    int hidden;
    assert_int_equal(list_dir(f, names, 32, &hidden), 2);
    graft_compare_config got;
    graft_seam_get_compare(f->seam, &got);
    assert_string_equal(got.capture_dir, f->dir);
    char *txt;
    graft_seam_json(f->seam, &txt, NULL);
    assert_non_null(strstr(txt, "\"captured_bytes\":10"));
    assert_non_null(strstr(txt, "\"capture_dropped\":8"));
    graft_free(txt);
}

static void capture_dir_missing_is_counted(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_SHADOW, 0);
    graft_compare_config cc;
    graft_compare_config_init(&cc);
    cc.capture_dir = "/nonexistent/graft-captures";
    graft_seam_set_compare(f->seam, &cc);
    f->t.candidate_bias = 1;
    toy_out out, scratch;
    long in = 1;
    assert_int_equal(graft_call(f->seam, 1, 0, &in, &out, &scratch), GRAFT_OK);
    graft_runtime_flush(f->rt);
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.captures, 0);
    assert_int_equal(st.mismatches, 1);
}

static void mismatch_logs_rate_limited(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_SHADOW, 0);
    graft_compare_config cc;
    graft_compare_config_init(&cc);
    cc.log_per_second = 2;
    graft_seam_set_compare(f->seam, &cc);
    f->t.candidate_bias = 1;
    toy_out out, scratch;
    long in = 1;
    for (int i = 0; i < 200; i++)
        graft_call(f->seam, (uint64_t)i, 0, &in, &out, &scratch);
    graft_runtime_flush(f->rt);
    /* Two per wall-clock second; the loop may straddle a second boundary. */
    assert_true(f->log.mismatch_lines >= 2 && f->log.mismatch_lines <= 4);
    cc.log_per_second = 0;
    graft_seam_set_compare(f->seam, &cc);
    int before = f->log.mismatch_lines;
    for (int i = 0; i < 10; i++)
        graft_call(f->seam, (uint64_t)i, 0, &in, &out, &scratch);
    graft_runtime_flush(f->rt);
    assert_int_equal(f->log.mismatch_lines, before);
}

static void fault_errors_fall_back(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_CANDIDATE, 0);
    graft_fault_config fc = {10000, 0, 0, 0};
    assert_int_equal(graft_seam_set_fault(f->seam, &fc), GRAFT_OK);
    toy_out out;
    long in = 4;
    for (int i = 0; i < 50; i++) {
        assert_int_equal(graft_call(f->seam, (uint64_t)i, 0, &in, &out, NULL), GRAFT_OK);
        assert_int_equal(out.value, 8);
    }
    assert_int_equal(f->t.candidate_calls, 0); /* an injected error skips the candidate */
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.faults_injected, 50);
    assert_int_equal(st.fallbacks, 50);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].errors, 50);
    /* Forced calls are not injected. */
    assert_int_equal(graft_call(f->seam, 1, GRAFT_CALL_FORCE_CANDIDATE, &in, &out, NULL), GRAFT_OK);
    fc.error_bp = 6000;
    fc.panic_bp = 5000;
    assert_int_equal(graft_seam_set_fault(f->seam, &fc), GRAFT_EINVAL);
    fc.panic_bp = 0;
    fc.error_bp = 10001;
    assert_int_equal(graft_seam_set_fault(f->seam, &fc), GRAFT_EINVAL);
}

static void fault_panic_through_arm(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_CANDIDATE, 0);
    graft_fault_config fc = {0, 10000, 0, 0};
    graft_seam_set_fault(f->seam, &fc);
    toy_out out;
    long in = 4;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(graft_call(f->seam, (uint64_t)i, 0, &in, &out, NULL), GRAFT_OK);
        assert_int_equal(out.value, 8);
    }
    /* arm_panic was called and the candidate really ran and "panicked". */
    assert_int_equal(f->t.candidate_calls, 10);
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].panics, 10);
    assert_int_equal(st.fallbacks, 10);
}

static void fault_panic_simulated(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_CANDIDATE, 0);
    graft_fault_config fc = {0, 10000, 0, 0};
    graft_seam_set_fault(f->seam, &fc);
    toy_out out;
    long in = 4;
    for (int i = 0; i < 10; i++)
        assert_int_equal(graft_call(f->seam, (uint64_t)i, 0, &in, &out, NULL), GRAFT_OK);
    assert_int_equal(f->t.candidate_calls, 0);
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].panics, 10);
}

static void fault_rates_and_delay(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_CANDIDATE, 0);
    graft_fault_config fc = {2000, 0, 5000, 1000000};
    graft_seam_set_fault(f->seam, &fc);
    toy_out out;
    long in = 4;
    const int n = 20000;
    uint64_t t0 = atomic_load(&f->clk.now);
    for (int i = 0; i < n; i++)
        graft_call(f->seam, (uint64_t)i, 0, &in, &out, NULL);
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    double err = 100.0 * (double)st.impl[GRAFT_IMPL_CANDIDATE].errors / n;
    assert_true(err > 18.5 && err < 21.5);
    /* Half the calls slept 1 ms on the fake clock. */
    double slept = (double)(atomic_load(&f->clk.now) - t0) / 1e6;
    assert_true(slept > 0.47 * n && slept < 0.53 * n);
    assert_true(st.impl[GRAFT_IMPL_CANDIDATE].latency.max_ns >= 1000000);
    /* Shadow mode: a faulted candidate is counted, the caller sees legacy. */
    graft_seam_set_mode(f->seam, GRAFT_MODE_SHADOW, 0);
    fc.error_bp = 10000;
    fc.delay_bp = 0;
    graft_seam_set_fault(f->seam, &fc);
    toy_out scratch;
    assert_int_equal(graft_call(f->seam, 1, 0, &in, &out, &scratch), GRAFT_OK);
    assert_int_equal(out.value, 8);
    graft_fault_config got;
    graft_seam_get_fault(f->seam, &got);
    assert_int_equal(got.error_bp, 10000);
    /* Off again: no more injection. */
    memset(&fc, 0, sizeof fc);
    graft_seam_set_fault(f->seam, &fc);
    graft_seam_stats_get(f->seam, &st);
    uint64_t inj = st.faults_injected;
    graft_seam_set_mode(f->seam, GRAFT_MODE_CANDIDATE, 0);
    for (int i = 0; i < 100; i++)
        graft_call(f->seam, (uint64_t)i, 0, &in, &out, NULL);
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.faults_injected, inj);
}

/* Latency histogram: delays of 1..100 ms on the fake clock give percentiles within the
 * histogram's 12.5% bucket width, and the exact maximum. */
static void latency_percentiles(void **state)
{
    fx *f = *state;
    graft_seam_set_mode(f->seam, GRAFT_MODE_CANDIDATE, 0);
    toy_out out;
    long in = 1;
    for (uint64_t ms = 1; ms <= 100; ms++) {
        graft_fault_config fc = {0, 0, 10000, ms * 1000000ull};
        graft_seam_set_fault(f->seam, &fc);
        graft_call(f->seam, ms, 0, &in, &out, NULL);
    }
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    const graft_latency *l = &st.impl[GRAFT_IMPL_CANDIDATE].latency;
    assert_int_equal(l->count, 100);
    assert_true(l->max_ns == 100000000ull);
    assert_true(l->p50_ns >= 50000000ull && l->p50_ns <= 50000000ull * 9 / 8);
    assert_true(l->p90_ns >= 90000000ull && l->p90_ns <= 90000000ull * 9 / 8);
    assert_true(l->p99_ns >= 99000000ull && l->p99_ns <= 100000000ull);
}

/* A candidate that never reaches an FFI boundary leaves the armed panic unconsumed:
 * disarm_panic clears it (so it cannot fire on a later call) and the call still counts
 * as a panic. */
static bool toy_disarm_panic(void)
{
    bool was = toy_tls_panic != 0;
    toy_tls_panic = 0;
    return was;
}

static int candidate_without_boundary(void *ctx, const void *input, void *output)
{
    toy *t = ctx;
    atomic_fetch_add(&t->candidate_calls, 1);
    ((toy_out *)output)->value = *(const long *)input * 2;
    return GRAFT_OK;
}

static void fault_panic_disarmed(void **state)
{
    (void)state;
    toy t;
    memset(&t, 0, sizeof t);
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.arm_panic = toy_arm_panic;
    o.disarm_panic = toy_disarm_panic;
    graft_runtime *rt;
    assert_int_equal(graft_runtime_new(&o, &rt), GRAFT_OK);
    graft_seam_def d = toy_def("toy.noboundary", &t);
    d.candidate = candidate_without_boundary;
    graft_seam *s;
    assert_int_equal(graft_seam_register(rt, &d, &s), GRAFT_OK);
    graft_seam_set_mode(s, GRAFT_MODE_CANDIDATE, 0);
    graft_fault_config fc = {0, 10000, 0, 0};
    graft_seam_set_fault(s, &fc);
    long in = 3;
    toy_out out;
    assert_int_equal(graft_call(s, 1, 0, &in, &out, NULL), GRAFT_OK);
    assert_int_equal(out.value, 6);
    assert_int_equal(toy_tls_panic, 0); /* not left armed */
    graft_seam_stats st;
    graft_seam_stats_get(s, &st);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].panics, 1);
    assert_int_equal(st.fallbacks, 1);
    graft_runtime_free(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(capture_files, setup, teardown),
        cmocka_unit_test_setup_teardown(capture_bounded_in_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(capture_dir_missing_is_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(mismatch_logs_rate_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_errors_fall_back, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_panic_through_arm, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_panic_simulated, setup_noarm, teardown),
        cmocka_unit_test_setup_teardown(fault_rates_and_delay, setup, teardown),
        cmocka_unit_test_setup_teardown(latency_percentiles, setup, teardown),
        cmocka_unit_test(fault_panic_disarmed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
