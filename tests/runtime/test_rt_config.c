/* Unit tests of configuration: the compact spec, the INI file (every key), bad input
 * rejected with file:line and nothing changed, config for seams registered later,
 * GRAFT_CONFIG/GRAFT_SEAMS from the environment, and reload. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rt_fixture.h"

typedef struct fx {
    graft_runtime *rt;
    graft_seam *seam;
    toy t;
    char path[256];
    char err[512];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.log_level = GRAFT_LOG_ERROR;
    if (graft_runtime_new(&o, &f->rt) != GRAFT_OK)
        return -1;
    graft_seam_def d = toy_def("kv.parse", &f->t);
    if (graft_seam_register(f->rt, &d, &f->seam) != GRAFT_OK)
        return -1;
    snprintf(f->path, sizeof f->path, "/tmp/graft-rt-config-%d.ini", (int)getpid());
    unsetenv("GRAFT_SEAMS");
    unsetenv("GRAFT_CONFIG");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    graft_runtime_free(f->rt);
    unlink(f->path);
    unsetenv("GRAFT_SEAMS");
    unsetenv("GRAFT_CONFIG");
    free(f);
    return 0;
}

static void write_file(fx *f, const char *text)
{
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void mode_is(fx *f, graft_seam *s, graft_mode want, uint32_t want_bp)
{
    (void)f;
    graft_mode m;
    uint32_t bp;
    graft_seam_get_mode(s, &m, &bp);
    assert_int_equal(m, want);
    if (want == GRAFT_MODE_CANARY)
        assert_int_equal(bp, want_bp);
}

/* The one percent parser (config, admin endpoint, graftctl). */
static void percent_parse(void **state)
{
    (void)state;
    uint32_t bp = 7;
    assert_int_equal(graft_percent_parse("10", &bp), GRAFT_OK);
    assert_int_equal(bp, 1000);
    assert_int_equal(graft_percent_parse("0.05", &bp), GRAFT_OK);
    assert_int_equal(bp, 5);
    assert_int_equal(graft_percent_parse("12.5%", &bp), GRAFT_OK);
    assert_int_equal(bp, 1250);
    assert_int_equal(graft_percent_parse("100", &bp), GRAFT_OK);
    assert_int_equal(bp, 10000);
    const char *bad[] = {"", "-1", "100.01", "1.234", "1.", ".5", "10%%", "ten", "1e2", " 5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bp = 7;
        assert_int_equal(graft_percent_parse(bad[i], &bp), GRAFT_EINVAL);
        assert_int_equal(bp, 7);
    }
    assert_int_equal(graft_percent_parse(NULL, &bp), GRAFT_ENULL);
    assert_int_equal(graft_percent_parse("1", NULL), GRAFT_ENULL);
}

static void spec_basic(void **state)
{
    fx *f = *state;
    assert_int_equal(graft_config_apply_spec(f->rt, "kv.parse=canary:10.5, kv.hash=candidate",
                                             f->err, sizeof f->err),
                     GRAFT_OK);
    mode_is(f, f->seam, GRAFT_MODE_CANARY, 1050);
    assert_int_equal(graft_config_apply_spec(f->rt, "kv.parse=canary:0.05", f->err, sizeof f->err),
                     GRAFT_OK);
    mode_is(f, f->seam, GRAFT_MODE_CANARY, 5);
    assert_int_equal(
        graft_config_apply_spec(f->rt, "kv.parse=candidate-only", f->err, sizeof f->err), GRAFT_OK);
    mode_is(f, f->seam, GRAFT_MODE_CANDIDATE_ONLY, 0);
    assert_int_equal(graft_config_apply_spec(f->rt, "", f->err, sizeof f->err), GRAFT_OK);
}

static void spec_errors_change_nothing(void **state)
{
    fx *f = *state;
    graft_config_apply_spec(f->rt, "kv.parse=shadow", f->err, sizeof f->err);
    const char *bad[] = {
        "kv.parse=canary",           /* missing percent */
        "kv.parse=canary:101",       /* out of range */
        "kv.parse=canary:1.234",     /* three decimals */
        "kv.parse=bogus",            /* unknown mode */
        "kv.parse",                  /* no '=' */
        "kv parse=legacy",           /* bad name */
        "kv.parse=legacy:5",         /* percent on non-canary */
        "kv.parse=candidate,x=nope", /* second item bad: first must not apply */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f->err[0] = '\0';
        assert_int_equal(graft_config_apply_spec(f->rt, bad[i], f->err, sizeof f->err),
                         GRAFT_ECONFIG);
        assert_true(strlen(f->err) > 10);
        mode_is(f, f->seam, GRAFT_MODE_SHADOW, 0);
    }
    graft_config_apply_spec(f->rt, "kv.parse=candidate,x=nope", f->err, sizeof f->err);
    assert_non_null(strstr(f->err, "item 2"));
    assert_non_null(strstr(f->err, "nope"));
}

static void ini_every_key(void **state)
{
    fx *f = *state;
    write_file(f, "; graft configuration\n"
                  "[graft]\n"
                  "log_level = info\n"
                  "\n"
                  "[seam kv.parse]\n"
                  "mode = canary\n"
                  "percent = 12.34\n"
                  "compare.sample_every = 7\n"
                  "compare.log_per_second = 3\n"
                  "compare.served = yes\n"
                  "capture.dir = /tmp/graft-captures\n"
                  "capture.max_files = 12\n"
                  "capture.max_bytes = 64K\n"
                  "breaker.enabled = true\n"
                  "breaker.observe_only = on\n"
                  "breaker.window = 30s\n"
                  "breaker.min_calls = 50\n"
                  "breaker.error_rate = 25%\n"
                  "breaker.slow_rate = 60\n"
                  "breaker.slow_call = 250ms\n"
                  "breaker.mismatch_rate = 1.5\n"
                  "breaker.cooldown = 2s\n"
                  "breaker.max_cooldown = 1m\n"
                  "breaker.half_open_calls = 4\n"
                  "breaker.half_open_max = 500ms\n"
                  "fault.error = 1\n"
                  "fault.panic = 0.5\n"
                  "fault.delay = 2\n"
                  "fault.delay_time = 750us\n");
    assert_int_equal(graft_config_load_file(f->rt, f->path, f->err, sizeof f->err), GRAFT_OK);
    mode_is(f, f->seam, GRAFT_MODE_CANARY, 1234);
    graft_compare_config cc;
    graft_seam_get_compare(f->seam, &cc);
    assert_int_equal(cc.sample_every, 7);
    assert_int_equal(cc.log_per_second, 3);
    assert_int_equal(cc.compare_served, 1);
    assert_string_equal(cc.capture_dir, "/tmp/graft-captures");
    assert_int_equal(cc.capture_max_files, 12);
    assert_int_equal(cc.capture_max_bytes, 65536);
    graft_breaker_config b;
    graft_seam_get_breaker(f->seam, &b);
    assert_int_equal(b.enabled, 1);
    assert_int_equal(b.observe_only, 1);
    assert_true(b.window_ns == 30000000000ull);
    assert_int_equal(b.min_calls, 50);
    assert_int_equal(b.error_rate_bp, 2500);
    assert_int_equal(b.slow_rate_bp, 6000);
    assert_true(b.slow_call_ns == 250000000ull);
    assert_int_equal(b.mismatch_rate_bp, 150);
    assert_true(b.cooldown_ns == 2000000000ull);
    assert_true(b.max_cooldown_ns == 60000000000ull);
    assert_int_equal(b.half_open_calls, 4);
    assert_true(b.half_open_max_ns == 500000000ull);
    graft_fault_config fc;
    graft_seam_get_fault(f->seam, &fc);
    assert_int_equal(fc.error_bp, 100);
    assert_int_equal(fc.panic_bp, 50);
    assert_int_equal(fc.delay_bp, 200);
    assert_true(fc.delay_ns == 750000ull);
}

static void ini_declarative_defaults(void **state)
{
    fx *f = *state;
    graft_fault_config fc = {500, 0, 0, 0};
    graft_seam_set_fault(f->seam, &fc);
    write_file(f, "[seam kv.parse]\nmode = shadow\n");
    assert_int_equal(graft_config_load_file(f->rt, f->path, f->err, sizeof f->err), GRAFT_OK);
    mode_is(f, f->seam, GRAFT_MODE_SHADOW, 0);
    graft_seam_get_fault(f->seam, &fc);
    assert_int_equal(fc.error_bp, 0); /* left out: default */
    graft_breaker_config b, d;
    graft_seam_get_breaker(f->seam, &b);
    graft_breaker_config_init(&d);
    assert_memory_equal(&b, &d, sizeof b);
}

static void expect_file_error(fx *f, const char *text, const char *line_tag, const char *needle)
{
    graft_config_apply_spec(f->rt, "kv.parse=shadow", f->err, sizeof f->err);
    write_file(f, text);
    f->err[0] = '\0';
    int rc = graft_config_load_file(f->rt, f->path, f->err, sizeof f->err);
    assert_int_equal(rc, GRAFT_ECONFIG);
    char want[300];
    snprintf(want, sizeof want, "%s%s", f->path, line_tag);
    if (strstr(f->err, want) == NULL || strstr(f->err, needle) == NULL)
        fail_msg("error \"%s\" lacks \"%s\" or \"%s\"", f->err, want, needle);
    mode_is(f, f->seam, GRAFT_MODE_SHADOW, 0); /* untouched */
}

static void ini_bad_files(void **state)
{
    fx *f = *state;
    expect_file_error(f, "[seam kv.parse]\nmode = candidate\nmode = nope\n", ":3:", "nope");
    expect_file_error(f, "[seam kv.parse]\nmode = candidate\npercent = 200\n", ":3:", "percent");
    expect_file_error(f, "[seam kv.parse]\nmode = candidate\nbogus = 1\n", ":3:", "bogus");
    /* A bad section is reported at its own line (libinih named the first key's). */
    expect_file_error(f, "[seam kv.parse]\nmode = candidate\n[other]\nx = 1\n", ":3:", "other");
    expect_file_error(f, "[seam kv.parse]\nmode = candidate\nthis is not ini\n", ":3:", "syntax");
    expect_file_error(f, "\n\n[seam bad/name]\nmode = candidate\n", ":3:", "bad/name");
    expect_file_error(f, "[seam kv.parse]\n[seam bad/name]\n", ":2:", "bad/name"); /* no key */
    expect_file_error(f, "mode = candidate\n", ":1:", "outside a section");
    expect_file_error(f, "[seam kv.parse]\nmode: candidate\n", ":2:", "syntax");
    expect_file_error(f, "[seam kv.parse]\nbreaker.window = 10 parsecs\n", ":2:", "duration");
    expect_file_error(f, "[seam kv.parse]\nbreaker.enabled = maybe\n", ":2:", "boolean");
    expect_file_error(f, "[seam kv.parse]\nfault.error = 60\nfault.panic = 50\n", ":3:", "exceed");
    expect_file_error(f, "[graft]\nlog_level = loud\n", ":2:", "log_level");
    expect_file_error(f,
                      "[seam kv.parse]\nmode = candidate\nbreaker.cooldown = 10s\n"
                      "breaker.max_cooldown = 1s\n",
                      ": [seam kv.parse]", "max_cooldown");
    /* A good seam before the bad line is not applied either. */
    expect_file_error(f, "[seam kv.parse]\nmode = candidate\n[seam kv.hash]\nmode = x\n",
                      ":4:", "x");
    /* Missing file. */
    assert_int_equal(graft_config_load_file(f->rt, "/nonexistent/graft.ini", f->err, sizeof f->err),
                     GRAFT_EIO);
    assert_non_null(strstr(f->err, "/nonexistent/graft.ini"));
}

static void config_before_registration(void **state)
{
    fx *f = *state;
    write_file(f, "[seam later.one]\nmode = candidate\nfault.error = 100\n");
    assert_int_equal(graft_config_load_file(f->rt, f->path, f->err, sizeof f->err), GRAFT_OK);
    assert_int_equal(graft_config_apply_spec(f->rt, "later.two=canary:3", f->err, sizeof f->err),
                     GRAFT_OK);
    graft_seam_def d = toy_def("later.one", &f->t);
    graft_seam *a, *b;
    assert_int_equal(graft_seam_register(f->rt, &d, &a), GRAFT_OK);
    d.name = "later.two";
    assert_int_equal(graft_seam_register(f->rt, &d, &b), GRAFT_OK);
    mode_is(f, a, GRAFT_MODE_CANDIDATE, 0);
    graft_fault_config fc;
    graft_seam_get_fault(a, &fc);
    assert_int_equal(fc.error_bp, 10000);
    mode_is(f, b, GRAFT_MODE_CANARY, 300);
    /* The first call already sees it: an injected error, answered by legacy. */
    long in = 1;
    toy_out out;
    assert_int_equal(graft_call(a, 1, 0, &in, &out, NULL), GRAFT_OK);
    graft_seam_stats st;
    graft_seam_stats_get(a, &st);
    assert_int_equal(st.faults_injected, 1);
    assert_int_equal(st.fallbacks, 1);
}

static void from_env_and_reload(void **state)
{
    fx *f = *state;
    write_file(f, "[seam kv.parse]\nmode = shadow\n");
    setenv("GRAFT_CONFIG", f->path, 1);
    setenv("GRAFT_SEAMS", "kv.other=candidate", 1);
    assert_int_equal(graft_runtime_configure_from_env(f->rt, f->err, sizeof f->err), GRAFT_OK);
    mode_is(f, f->seam, GRAFT_MODE_SHADOW, 0);
    /* The spec wins over the file for mode. */
    setenv("GRAFT_SEAMS", "kv.parse=canary:50", 1);
    assert_int_equal(graft_config_reload(f->rt, f->err, sizeof f->err), GRAFT_OK);
    mode_is(f, f->seam, GRAFT_MODE_CANARY, 5000);
    /* Edit the file; reload picks it up. */
    unsetenv("GRAFT_SEAMS");
    write_file(f, "[seam kv.parse]\nmode = candidate\n");
    assert_int_equal(graft_config_reload(f->rt, f->err, sizeof f->err), GRAFT_OK);
    mode_is(f, f->seam, GRAFT_MODE_CANDIDATE, 0);
    /* A broken edit is rejected and the running configuration stays. */
    write_file(f, "[seam kv.parse]\nmode = legacy\nbreaker.min_calls = many\n");
    assert_int_equal(graft_config_reload(f->rt, f->err, sizeof f->err), GRAFT_ECONFIG);
    assert_non_null(strstr(f->err, ":3:"));
    mode_is(f, f->seam, GRAFT_MODE_CANDIDATE, 0);
    /* A bad GRAFT_SEAMS fails the whole reload, file included. */
    write_file(f, "[seam kv.parse]\nmode = legacy\n");
    setenv("GRAFT_SEAMS", "kv.parse=sideways", 1);
    assert_int_equal(graft_config_reload(f->rt, f->err, sizeof f->err), GRAFT_ECONFIG);
    assert_non_null(strstr(f->err, "GRAFT_SEAMS"));
    mode_is(f, f->seam, GRAFT_MODE_CANDIDATE, 0);
}

static void env_unset_is_fine(void **state)
{
    fx *f = *state;
    assert_int_equal(graft_runtime_configure_from_env(f->rt, f->err, sizeof f->err), GRAFT_OK);
    assert_int_equal(graft_config_reload(f->rt, f->err, sizeof f->err), GRAFT_OK);
    mode_is(f, f->seam, GRAFT_MODE_LEGACY, 0);
}

static void log_level_from_file(void **state)
{
    fx *f = *state;
    log_cap lc = {0};
    graft_runtime_set_log(f->rt, log_capture, &lc, GRAFT_LOG_ERROR);
    write_file(f, "[graft]\nlog_level = debug\n");
    assert_int_equal(graft_config_load_file(f->rt, f->path, f->err, sizeof f->err), GRAFT_OK);
    graft_runtime_log_sink(f->rt, GRAFT_LOG_DEBUG, "test", "visible");
    assert_int_equal(lc.lines > 0, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(percent_parse),
        cmocka_unit_test_setup_teardown(spec_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(spec_errors_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(ini_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(ini_declarative_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(ini_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(config_before_registration, setup, teardown),
        cmocka_unit_test_setup_teardown(from_env_and_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(env_unset_is_fine, setup, teardown),
        cmocka_unit_test_setup_teardown(log_level_from_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
