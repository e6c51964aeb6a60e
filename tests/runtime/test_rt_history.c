/* Unit tests of each seam's stage history (graft_seam_history, the "history" of the
 * JSON snapshot, graft_seam_mode_since_seconds and graft_seam_mode_changes_total): every
 * cause (start, config, api, breaker, plan) recorded with the mode it led to, no-op
 * changes not recorded, the runtime's own causes refused from the API, the ring
 * wrapping at GRAFT_SEAM_HISTORY_CAP (oldest first, the total counting on), and the
 * order of entries under concurrent writers. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "rt_fixture.h"

#define SEC 1000000000ull

typedef struct fx {
    graft_runtime *rt;
    graft_seam *seam;
    toy t;
    fake_clock clk;
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
    if (graft_runtime_new(&o, &f->rt) != GRAFT_OK) {
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

static void reg(fx *f, const char *name)
{
    graft_seam_def d = toy_def(name, &f->t);
    assert_int_equal(graft_seam_register(f->rt, &d, &f->seam), GRAFT_OK);
}

static size_t history(fx *f, graft_mode_change *h, uint64_t *total)
{
    size_t n = 99;
    assert_int_equal(graft_seam_history(f->seam, h, GRAFT_SEAM_HISTORY_CAP, &n, total), GRAFT_OK);
    return n;
}

static void tick(fx *f)
{
    atomic_fetch_add(&f->clk.now, SEC);
}

static void names_and_errors(void **state)
{
    (void)state;
    assert_string_equal(graft_change_cause_name(GRAFT_BY_START), "start");
    assert_string_equal(graft_change_cause_name(GRAFT_BY_CONFIG), "config");
    assert_string_equal(graft_change_cause_name(GRAFT_BY_API), "api");
    assert_string_equal(graft_change_cause_name(GRAFT_BY_BREAKER), "breaker");
    assert_string_equal(graft_change_cause_name(GRAFT_BY_PLAN), "plan");
    assert_null(graft_change_cause_name(GRAFT_CHANGE_CAUSE_COUNT));
    assert_null(graft_change_cause_name(-1));
    size_t n;
    assert_int_equal(graft_seam_history(NULL, NULL, 0, &n, NULL), GRAFT_ENULL);
}

/* start, config (spec, then file at registration and at reload), api, plan. */
static void every_cause_in_order(void **state)
{
    fx *f = *state;
    char err[256];
    /* Configuration before registration applies at registration: start, then config. */
    assert_int_equal(graft_config_apply_spec(f->rt, "toy.h=shadow", err, sizeof err), GRAFT_OK);
    tick(f);
    reg(f, "toy.h");
    tick(f);
    assert_int_equal(graft_seam_set_mode(f->seam, GRAFT_MODE_CANARY, 1050), GRAFT_OK);
    tick(f);
    assert_int_equal(graft_seam_set_mode_by(f->seam, GRAFT_MODE_CANDIDATE, 0, GRAFT_BY_PLAN),
                     GRAFT_OK);
    tick(f);
    char path[] = "/tmp/graft-hist-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fputs("[seam toy.h]\nmode = candidate-only\n", fp);
    fclose(fp);
    assert_int_equal(graft_config_load_file(f->rt, path, err, sizeof err), GRAFT_OK);
    tick(f);
    fp = fopen(path, "w");
    fputs("[seam toy.h]\nmode = canary\npercent = 5\n", fp);
    fclose(fp);
    assert_int_equal(graft_config_reload(f->rt, err, sizeof err), GRAFT_OK);
    unlink(path);

    graft_mode_change h[GRAFT_SEAM_HISTORY_CAP];
    uint64_t total = 0;
    size_t n = history(f, h, &total);
    assert_int_equal(n, 6);
    assert_int_equal(total, 6);
    const struct {
        graft_mode mode;
        uint32_t bp;
        graft_change_cause by;
    } want[] = {
        {GRAFT_MODE_LEGACY, 0, GRAFT_BY_START},          {GRAFT_MODE_SHADOW, 0, GRAFT_BY_CONFIG},
        {GRAFT_MODE_CANARY, 1050, GRAFT_BY_API},         {GRAFT_MODE_CANDIDATE, 0, GRAFT_BY_PLAN},
        {GRAFT_MODE_CANDIDATE_ONLY, 0, GRAFT_BY_CONFIG}, {GRAFT_MODE_CANARY, 500, GRAFT_BY_CONFIG},
    };
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(h[i].mode, want[i].mode);
        assert_int_equal(h[i].percent_bp, want[i].bp);
        assert_int_equal(h[i].by, want[i].by);
        assert_int_equal(h[i].breaker, GRAFT_BREAKER_CLOSED);
        assert_true(h[i].unix_ns > 1600000000ull * SEC);
    }
    /* Registration and the spec's entry share a time; each later change is a tick on. */
    assert_int_equal(h[0].mono_ns, 1001 * SEC);
    assert_int_equal(h[1].mono_ns, 1001 * SEC);
    for (size_t i = 2; i < n; i++) {
        assert_int_equal(h[i].mono_ns, h[i - 1].mono_ns + SEC);
    }
    /* A smaller cap gets the most recent ones, oldest first. */
    graft_mode_change two[2];
    assert_int_equal(graft_seam_history(f->seam, two, 2, &n, &total), GRAFT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(two[0].by, GRAFT_BY_CONFIG);
    assert_int_equal(two[0].mode, GRAFT_MODE_CANDIDATE_ONLY);
    assert_int_equal(two[1].percent_bp, 500);
    assert_int_equal(total, 6);
}

static void noop_and_refused_causes(void **state)
{
    fx *f = *state;
    reg(f, "toy.h");
    assert_int_equal(graft_seam_set_mode(f->seam, GRAFT_MODE_LEGACY, 0), GRAFT_OK);
    assert_int_equal(graft_seam_set_mode(f->seam, GRAFT_MODE_SHADOW, 0), GRAFT_OK);
    assert_int_equal(graft_seam_set_mode(f->seam, GRAFT_MODE_SHADOW, 0), GRAFT_OK);
    char err[128];
    assert_int_equal(graft_config_apply_spec(f->rt, "toy.h=shadow", err, sizeof err), GRAFT_OK);
    assert_int_equal(graft_seam_set_mode_by(f->seam, GRAFT_MODE_CANDIDATE, 0, GRAFT_BY_START),
                     GRAFT_EINVAL);
    assert_int_equal(graft_seam_set_mode_by(f->seam, GRAFT_MODE_CANDIDATE, 0, GRAFT_BY_BREAKER),
                     GRAFT_EINVAL);
    assert_int_equal(graft_seam_set_mode_by(f->seam, GRAFT_MODE_CANDIDATE, 0,
                                            (graft_change_cause)GRAFT_CHANGE_CAUSE_COUNT),
                     GRAFT_EINVAL);
    assert_int_equal(graft_seam_set_mode(f->seam, (graft_mode)GRAFT_MODE_COUNT, 0), GRAFT_EINVAL);
    graft_mode_change h[GRAFT_SEAM_HISTORY_CAP];
    uint64_t total;
    size_t n = history(f, h, &total);
    assert_int_equal(n, 2); /* start, shadow by api: repeats and refusals record nothing */
    assert_int_equal(h[1].by, GRAFT_BY_API);
    graft_mode m;
    graft_seam_get_mode(f->seam, &m, NULL);
    assert_int_equal(m, GRAFT_MODE_SHADOW);
}

/* Opening sends traffic back to legacy ("legacy by breaker"), the closing after the
 * half-open trials gives it back ("canary by breaker"). */
static void breaker_open_and_close(void **state)
{
    fx *f = *state;
    reg(f, "toy.h");
    graft_breaker_config b;
    graft_breaker_config_init(&b);
    b.min_calls = 4;
    b.error_rate_bp = 5000;
    b.window_ns = 10 * SEC;
    b.cooldown_ns = 5 * SEC;
    b.half_open_calls = 2;
    assert_int_equal(graft_seam_set_breaker(f->seam, &b), GRAFT_OK);
    assert_int_equal(graft_seam_set_mode(f->seam, GRAFT_MODE_CANDIDATE, 0), GRAFT_OK);
    long in = 1;
    toy_out out, scratch;
    f->t.candidate_status = GRAFT_EIO;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(graft_call(f->seam, (uint64_t)i, 0, &in, &out, &scratch), GRAFT_OK);
    }
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.breaker_state, GRAFT_BREAKER_OPEN);
    atomic_fetch_add(&f->clk.now, 6 * SEC);
    f->t.candidate_status = GRAFT_OK;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(graft_call(f->seam, (uint64_t)i, 0, &in, &out, &scratch), GRAFT_OK);
    }
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.breaker_state, GRAFT_BREAKER_CLOSED);
    assert_int_equal(st.breaker_transitions, 3); /* open, half-open, closed */

    graft_mode_change h[GRAFT_SEAM_HISTORY_CAP];
    uint64_t total;
    size_t n = history(f, h, &total);
    assert_int_equal(n, 4); /* start, candidate by api, legacy by breaker, candidate by breaker */
    assert_int_equal(h[2].by, GRAFT_BY_BREAKER);
    assert_int_equal(h[2].mode, GRAFT_MODE_LEGACY);
    assert_int_equal(h[2].breaker, GRAFT_BREAKER_OPEN);
    assert_int_equal(h[3].by, GRAFT_BY_BREAKER);
    assert_int_equal(h[3].mode, GRAFT_MODE_CANDIDATE);
    assert_int_equal(h[3].breaker, GRAFT_BREAKER_CLOSED);
    assert_int_equal(h[3].mono_ns - h[2].mono_ns, 6 * SEC);

    /* Observe-only: the breaker opens, traffic is not rerouted, nothing is recorded. */
    b.observe_only = 1;
    assert_int_equal(graft_seam_set_breaker(f->seam, &b), GRAFT_OK);
    f->t.candidate_status = GRAFT_EIO;
    for (int i = 0; i < 8; i++) {
        graft_call(f->seam, (uint64_t)i, 0, &in, &out, &scratch);
    }
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.breaker_state, GRAFT_BREAKER_OPEN);
    assert_int_equal(history(f, h, &total), 4);
}

/* More changes than the ring holds: the last GRAFT_SEAM_HISTORY_CAP, oldest first, and
 * the total and the Prometheus counters count them all. */
static void ring_wraps(void **state)
{
    fx *f = *state;
    reg(f, "toy.h");
    const int changes = GRAFT_SEAM_HISTORY_CAP + 9;
    for (int i = 1; i <= changes; i++) {
        tick(f);
        assert_int_equal(graft_seam_set_mode(f->seam, GRAFT_MODE_CANARY, (uint32_t)i), GRAFT_OK);
    }
    graft_mode_change h[GRAFT_SEAM_HISTORY_CAP];
    uint64_t total;
    size_t n = history(f, h, &total);
    assert_int_equal(n, GRAFT_SEAM_HISTORY_CAP);
    assert_int_equal(total, (uint64_t)changes + 1);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(h[i].percent_bp,
                         (uint32_t)(changes - GRAFT_SEAM_HISTORY_CAP + 1 + (int)i));
        assert_int_equal(h[i].by, GRAFT_BY_API);
    }
    char *txt;
    assert_int_equal(graft_seam_json(f->seam, &txt, NULL), GRAFT_OK);
    cJSON *root = cJSON_Parse(txt);
    cJSON *arr = cJSON_GetObjectItem(root, "history");
    assert_int_equal(cJSON_GetArraySize(arr), GRAFT_SEAM_HISTORY_CAP);
    assert_int_equal((int)cJSON_GetObjectItem(root, "history_total")->valuedouble, changes + 1);
    cJSON *last = cJSON_GetArrayItem(arr, GRAFT_SEAM_HISTORY_CAP - 1);
    assert_string_equal(cJSON_GetObjectItem(last, "mode")->valuestring, "canary");
    assert_string_equal(cJSON_GetObjectItem(last, "by")->valuestring, "api");
    assert_true(cJSON_GetObjectItem(last, "percent")->valuedouble == changes / 100.0);
    assert_true(cJSON_GetObjectItem(last, "unix_ms")->valuedouble > 1.6e12);
    cJSON_Delete(root);
    graft_free(txt);

    assert_int_equal(graft_metrics_prometheus(f->rt, &txt, NULL), GRAFT_OK);
    char line[160];
    snprintf(line, sizeof line,
             "graft_seam_mode_changes_total{seam=\"toy.h\",mode=\"canary\",by=\"api\"} %d\n",
             changes);
    assert_non_null(strstr(txt, line));
    assert_non_null(strstr(
        txt, "graft_seam_mode_changes_total{seam=\"toy.h\",mode=\"legacy\",by=\"start\"} 1\n"));
    assert_null(strstr(txt, "by=\"plan\""));
    char *since = strstr(txt, "graft_seam_mode_since_seconds{seam=\"toy.h\",mode=\"canary\"} ");
    assert_non_null(since);
    double secs = strtod(strchr(since, '}') + 2, NULL);
    assert_true(secs > 1.6e9 && secs < 1e11);
    graft_free(txt);
}

typedef struct writer_arg {
    graft_seam *seam;
    graft_mode mode;
} writer_arg;

static void *writer(void *p)
{
    writer_arg *a = p;
    for (int i = 0; i < 2000; i++) {
        graft_seam_set_mode(a->seam, (i & 1) ? a->mode : GRAFT_MODE_LEGACY, 0);
    }
    return NULL;
}

/* Concurrent writers and readers: every entry read is whole, and the last entry is the
 * mode the seam is in (changes and their records are ordered together). */
static void concurrent_order(void **state)
{
    fx *f = *state;
    reg(f, "toy.h");
    pthread_t th[2];
    writer_arg a[2] = {{f->seam, GRAFT_MODE_SHADOW}, {f->seam, GRAFT_MODE_CANDIDATE}};
    for (int i = 0; i < 2; i++) {
        pthread_create(&th[i], NULL, writer, &a[i]);
    }
    graft_mode_change h[GRAFT_SEAM_HISTORY_CAP];
    uint64_t total;
    for (int r = 0; r < 200; r++) {
        size_t n = history(f, h, &total);
        assert_true(n <= GRAFT_SEAM_HISTORY_CAP);
        for (size_t i = 0; i < n; i++) {
            assert_true(h[i].mode == GRAFT_MODE_LEGACY || h[i].mode == GRAFT_MODE_SHADOW ||
                        h[i].mode == GRAFT_MODE_CANDIDATE);
            assert_int_equal(h[i].percent_bp, 0);
            assert_true(h[i].by == GRAFT_BY_API || h[i].by == GRAFT_BY_START);
        }
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
    }
    size_t n = history(f, h, &total);
    assert_int_equal(n, GRAFT_SEAM_HISTORY_CAP);
    graft_mode m;
    graft_seam_get_mode(f->seam, &m, NULL);
    assert_int_equal(h[n - 1].mode, m);
    for (size_t i = 1; i < n; i++) {
        assert_true(h[i].mode != h[i - 1].mode); /* only real changes */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_and_errors),
        cmocka_unit_test_setup_teardown(every_cause_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(noop_and_refused_causes, setup, teardown),
        cmocka_unit_test_setup_teardown(breaker_open_and_close, setup, teardown),
        cmocka_unit_test_setup_teardown(ring_wraps, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
