/* Unit tests of the background writer: a mismatch's log line and capture file are
 * written off the serving thread (graft.h promises graft_call takes no lock and does no
 * I/O); when the writer is stuck the call path drops reports instead of waiting, and
 * counts them; an input too large to capture is counted and said out loud. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
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

typedef struct sink {
    pthread_t caller;
    atomic_int lines, off_thread, capture_lines;
    atomic_long suppressed; /* sum of the lines' suppressed=N */
    atomic_int block;       /* 1: the first mismatch line waits until this is 0 */
    atomic_int blocked;
    char last[1024];
} sink;

static void sink_log(void *ctx, int level, const char *target, const char *message)
{
    (void)level;
    sink *k = ctx;
    if (strcmp(target, "graft.capture") == 0)
        atomic_fetch_add(&k->capture_lines, 1);
    if (strcmp(target, "graft.mismatch") != 0)
        return;
    if (!pthread_equal(pthread_self(), k->caller))
        atomic_fetch_add(&k->off_thread, 1);
    snprintf(k->last, sizeof k->last, "%s", message);
    const char *sup = strstr(message, " suppressed=");
    if (sup)
        atomic_fetch_add(&k->suppressed, atol(sup + strlen(" suppressed=")));
    atomic_fetch_add(&k->lines, 1);
    if (atomic_load(&k->block)) {
        atomic_store(&k->blocked, 1);
        while (atomic_load(&k->block))
            sched_yield();
    }
}

typedef struct fx {
    graft_runtime *rt;
    graft_seam *seam;
    toy t;
    sink k;
    char dir[64];
} fx;

static size_t huge_serialize(void *ctx, const void *input, void *buf, size_t cap)
{
    (void)ctx;
    (void)input;
    (void)buf;
    (void)cap;
    return 100000; /* needs more than any capture buffer: nothing written */
}

static fx *make(bool huge)
{
    fx *f = calloc(1, sizeof *f);
    f->k.caller = pthread_self();
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.log = sink_log;
    o.log_ctx = &f->k;
    assert_int_equal(graft_runtime_new(&o, &f->rt), GRAFT_OK);
    graft_seam_def d = toy_def("toy.writer", &f->t);
    if (huge)
        d.serialize_input = huge_serialize;
    assert_int_equal(graft_seam_register(f->rt, &d, &f->seam), GRAFT_OK);
    graft_seam_set_mode(f->seam, GRAFT_MODE_SHADOW, 0);
    snprintf(f->dir, sizeof f->dir, "/tmp/graft-rt-writer-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    graft_compare_config cc;
    graft_compare_config_init(&cc);
    cc.log_per_second = 1000000;
    cc.capture_dir = f->dir;
    assert_int_equal(graft_seam_set_compare(f->seam, &cc), GRAFT_OK);
    f->t.candidate_bias = 1; /* every call mismatches */
    return f;
}

static int files_in(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    if (d)
        closedir(d);
    return n;
}

static void destroy(fx *f)
{
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
}

static uint64_t json_number(graft_seam *s, const char *key)
{
    char *txt;
    assert_int_equal(graft_seam_json(s, &txt, NULL), GRAFT_OK);
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(txt, pat);
    assert_non_null(p);
    uint64_t v = strtoull(p + strlen(pat), NULL, 10);
    graft_free(txt);
    return v;
}

static void reports_are_written_off_the_serving_thread(void **state)
{
    (void)state;
    fx *f = make(false);
    long in = 7;
    toy_out out, scratch;
    for (int i = 0; i < 3; i++)
        assert_int_equal(graft_call(f->seam, (uint64_t)i, 0, &in, &out, &scratch), GRAFT_OK);
    graft_runtime_flush(f->rt);
    assert_int_equal(atomic_load(&f->k.lines), 3);
    assert_int_equal(atomic_load(&f->k.off_thread), 3); /* none on the caller's thread */
    assert_int_equal(files_in(f->dir), 3);
    assert_non_null(strstr(f->k.last, " capture=\"toy.writer-"));
    destroy(f);
}

static void a_stuck_writer_drops_and_counts(void **state)
{
    (void)state;
    fx *f = make(false);
    atomic_store(&f->k.block, 1);
    long in = 7;
    toy_out out, scratch;
    assert_int_equal(graft_call(f->seam, 0, 0, &in, &out, &scratch), GRAFT_OK);
    while (!atomic_load(&f->k.blocked))
        sched_yield();
    /* The writer is stuck in the sink: calls go on, the ring fills, the rest is dropped. */
    for (int i = 1; i < 200; i++)
        assert_int_equal(graft_call(f->seam, (uint64_t)i, 0, &in, &out, &scratch), GRAFT_OK);
    uint64_t dropped = json_number(f->seam, "reports_dropped");
    assert_true(dropped >= 199 - 32);
    atomic_store(&f->k.block, 0);
    graft_runtime_flush(f->rt);
    graft_seam_stats st;
    graft_seam_stats_get(f->seam, &st);
    assert_int_equal(st.mismatches, 200);
    assert_int_equal((uint64_t)atomic_load(&f->k.lines) + dropped, 200);
    assert_int_equal(st.captures + json_number(f->seam, "capture_dropped"), 200);
    /* The lines written after the drops own up to them (suppressed=N). */
    assert_int_equal((uint64_t)atomic_load(&f->k.suppressed), dropped);
    char want[96];
    char *txt;
    assert_int_equal(graft_metrics_prometheus(f->rt, &txt, NULL), GRAFT_OK);
    snprintf(want, sizeof want, "graft_seam_reports_dropped_total{seam=\"toy.writer\"} %llu\n",
             (unsigned long long)dropped);
    assert_non_null(strstr(txt, want));
    graft_free(txt);
    destroy(f);
}

static void an_input_too_large_to_capture_is_loud(void **state)
{
    (void)state;
    fx *f = make(true);
    long in = 7;
    toy_out out, scratch;
    for (int i = 0; i < 3; i++)
        assert_int_equal(graft_call(f->seam, (uint64_t)i, 0, &in, &out, &scratch), GRAFT_OK);
    graft_runtime_flush(f->rt);
    assert_int_equal(files_in(f->dir), 0);
    assert_int_equal(json_number(f->seam, "capture_too_large"), 3);
    assert_int_equal(json_number(f->seam, "capture_dropped"), 3);
    assert_int_equal(atomic_load(&f->k.capture_lines), 1); /* warned once */
    assert_non_null(strstr(f->k.last, "capture_dropped=\"input of 100000 bytes over the 65536"));
    destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reports_are_written_off_the_serving_thread),
        cmocka_unit_test(a_stuck_writer_drops_and_counts),
        cmocka_unit_test(an_input_too_large_to_capture_is_loud),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
