/* Concurrency test (label tsan): worker threads call seams in every mode while a
 * controller flips modes, faults, breaker and compare settings, reloads the config
 * file and spec, and renders snapshots. Afterwards every call must have returned a
 * correct answer and the counters must add up exactly. A second phase churns more
 * threads than there are counter slots (overflow slot, slot reuse on thread exit). */
#define _POSIX_C_SOURCE 200809L
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "rt_fixture.h"

#define WORKERS 4
#define CALLS_PER_WORKER 20000
#define CHURN_THREADS 80
#define CHURN_CALLS 300

typedef struct shared {
    graft_runtime *rt;
    graft_seam *seams[2];
    toy t;
    atomic_int stop;
    atomic_int wrong;
    atomic_long calls[2];
    char path[256];
} shared;

static void *worker(void *arg)
{
    shared *sh = arg;
    uint64_t key = (uint64_t)(uintptr_t)&key;
    for (int i = 0; i < CALLS_PER_WORKER; i++) {
        int which = i & 1;
        long in = i;
        toy_out out, scratch;
        unsigned flags = (i % 7 == 0) ? GRAFT_CALL_NO_KEY : 0;
        if (i % 101 == 0)
            flags |= GRAFT_CALL_FORCE_LEGACY;
        int rc = graft_call(sh->seams[which], key + (uint64_t)i, flags, &in, &out, &scratch);
        if (rc != GRAFT_OK || out.value != 2 * in)
            atomic_fetch_add(&sh->wrong, 1);
        atomic_fetch_add(&sh->calls[which], 1);
    }
    return NULL;
}

static void write_cfg(shared *sh, int variant)
{
    FILE *fp = fopen(sh->path, "w");
    if (!fp)
        return;
    fprintf(fp,
            "[seam rt.a]\nmode = %s\npercent = %d\nfault.error = %d\n"
            "compare.sample_every = %d\nbreaker.min_calls = 5\nbreaker.cooldown = 1ms\n"
            "breaker.half_open_max = 5ms\n"
            "[seam rt.b]\nmode = shadow\n",
            variant % 2 ? "canary" : "candidate", variant * 7 % 100, variant % 3 * 20,
            1 + variant % 4);
    fclose(fp);
}

static void *controller(void *arg)
{
    shared *sh = arg;
    const graft_mode modes[] = {GRAFT_MODE_LEGACY, GRAFT_MODE_SHADOW, GRAFT_MODE_CANARY,
                                GRAFT_MODE_CANDIDATE};
    char err[256];
    int round = 0;
    while (!atomic_load(&sh->stop)) {
        round++;
        graft_seam *s = sh->seams[round & 1];
        graft_seam_set_mode(s, modes[round % 4], (uint32_t)(round * 397 % 10001));
        graft_fault_config fc = {(uint32_t)(round % 3) * 2500, 0, 0, 0};
        graft_seam_set_fault(s, &fc);
        if (round % 5 == 0) {
            graft_breaker_config b;
            graft_breaker_config_init(&b);
            b.min_calls = 5;
            b.cooldown_ns = 1000000;
            b.observe_only = round % 10 == 0;
            graft_seam_set_breaker(s, &b);
        }
        if (round % 7 == 0)
            graft_seam_reset_breaker(s);
        if (round % 3 == 0) {
            graft_compare_config cc;
            graft_compare_config_init(&cc);
            cc.sample_every = 1 + (uint32_t)round % 3;
            cc.compare_served = round % 2;
            cc.log_per_second = 0;
            graft_seam_set_compare(s, &cc);
        }
        if (round % 4 == 0) {
            write_cfg(sh, round);
            graft_config_reload(sh->rt, err, sizeof err);
        }
        if (round % 6 == 0)
            graft_config_apply_spec(sh->rt, round % 12 ? "rt.b=canary:33.33" : "rt.b=candidate",
                                    err, sizeof err);
        char *txt;
        if (graft_metrics_json(sh->rt, &txt, NULL) == GRAFT_OK)
            graft_free(txt);
        if (graft_metrics_prometheus(sh->rt, &txt, NULL) == GRAFT_OK)
            graft_free(txt);
        graft_seam_stats st;
        graft_seam_stats_get(s, &st);
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void calls_while_flipping(void **state)
{
    (void)state;
    shared *sh = calloc(1, sizeof *sh);
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.log_level = GRAFT_LOG_ERROR;
    o.arm_panic = toy_arm_panic;
    assert_int_equal(graft_runtime_new(&o, &sh->rt), GRAFT_OK);
    snprintf(sh->path, sizeof sh->path, "/tmp/graft-rt-conc-%d.ini", (int)getpid());
    write_cfg(sh, 1);
    char err[256];
    assert_int_equal(graft_config_load_file(sh->rt, sh->path, err, sizeof err), GRAFT_OK);
    graft_seam_def d = toy_def("rt.a", &sh->t);
    assert_int_equal(graft_seam_register(sh->rt, &d, &sh->seams[0]), GRAFT_OK);
    d.name = "rt.b";
    assert_int_equal(graft_seam_register(sh->rt, &d, &sh->seams[1]), GRAFT_OK);

    pthread_t w[WORKERS], c;
    pthread_create(&c, NULL, controller, sh);
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&w[i], NULL, worker, sh);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(w[i], NULL);
    atomic_store(&sh->stop, 1);
    pthread_join(c, NULL);

    assert_int_equal(atomic_load(&sh->wrong), 0);
    for (int k = 0; k < 2; k++) {
        graft_seam_stats st;
        graft_seam_stats_get(sh->seams[k], &st);
        assert_int_equal(st.calls, atomic_load(&sh->calls[k]));
        uint64_t by_mode = 0;
        for (int m = 0; m < GRAFT_MODE_COUNT; m++)
            by_mode += st.calls_by_mode[m];
        assert_int_equal(by_mode, st.calls);
        /* Every call was served by exactly one implementation. */
        assert_int_equal(st.impl[0].served + st.impl[1].served, st.calls);
        assert_int_equal(st.mismatches, 0);
    }
    graft_runtime_free(sh->rt);
    unlink(sh->path);
    free(sh);
}

typedef struct churn {
    graft_seam *seam;
    atomic_int wrong;
} churn;

static void *churn_worker(void *arg)
{
    churn *c = arg;
    for (int i = 0; i < CHURN_CALLS; i++) {
        long in = i;
        toy_out out, scratch;
        if (graft_call(c->seam, (uint64_t)i, 0, &in, &out, &scratch) != GRAFT_OK ||
            out.value != 2 * in)
            atomic_fetch_add(&c->wrong, 1);
    }
    return NULL;
}

static void more_threads_than_slots(void **state)
{
    (void)state;
    toy t;
    memset(&t, 0, sizeof t);
    graft_runtime *rt;
    assert_int_equal(graft_runtime_new(NULL, &rt), GRAFT_OK);
    graft_seam_def d = toy_def("rt.churn", &t);
    churn c;
    memset(&c, 0, sizeof c);
    assert_int_equal(graft_seam_register(rt, &d, &c.seam), GRAFT_OK);
    graft_seam_set_mode(c.seam, GRAFT_MODE_SHADOW, 0);
    /* All alive at once: beyond 64 they share the overflow slot. */
    pthread_t th[CHURN_THREADS];
    for (int i = 0; i < CHURN_THREADS; i++)
        pthread_create(&th[i], NULL, churn_worker, &c);
    for (int i = 0; i < CHURN_THREADS; i++)
        pthread_join(th[i], NULL);
    /* Then one after another: slots handed back on exit are reused. */
    for (int i = 0; i < CHURN_THREADS; i++) {
        pthread_create(&th[0], NULL, churn_worker, &c);
        pthread_join(th[0], NULL);
    }
    assert_int_equal(atomic_load(&c.wrong), 0);
    graft_seam_stats st;
    graft_seam_stats_get(c.seam, &st);
    assert_int_equal(st.calls, 2 * CHURN_THREADS * CHURN_CALLS);
    assert_int_equal(st.compared, 2 * CHURN_THREADS * CHURN_CALLS);
    assert_int_equal(st.impl[GRAFT_IMPL_LEGACY].served, 2 * CHURN_THREADS * CHURN_CALLS);
    graft_runtime_free(rt);
}

/* graft_runtime_set_log promises what graft_ffi_set_logger does: once it returns, no
 * call to the previous sink is still running (so its ctx may be freed) and none starts. */
typedef struct slow_sink {
    atomic_int in_call, calls;
} slow_sink;

static void slow_log(void *ctx, int level, const char *target, const char *message)
{
    (void)level;
    (void)target;
    (void)message;
    slow_sink *s = ctx;
    atomic_store(&s->in_call, 1);
    atomic_fetch_add(&s->calls, 1);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    atomic_store(&s->in_call, 0);
}

typedef struct log_thread {
    graft_runtime *rt;
    atomic_int stop;
} log_thread;

static void *log_loop(void *arg)
{
    log_thread *lt = arg;
    while (!atomic_load(&lt->stop))
        graft_runtime_log_sink(lt->rt, GRAFT_LOG_ERROR, "test", "line");
    return NULL;
}

static void set_log_waits_for_the_old_sink(void **state)
{
    (void)state;
    graft_runtime *rt;
    assert_int_equal(graft_runtime_new(NULL, &rt), GRAFT_OK);
    for (int round = 0; round < 5; round++) {
        slow_sink old = {0}, next = {0};
        graft_runtime_set_log(rt, slow_log, &old, GRAFT_LOG_ERROR);
        log_thread lt = {rt, 0};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, log_loop, &lt), 0);
        while (!atomic_load(&old.in_call))
            sched_yield();
        graft_runtime_set_log(rt, slow_log, &next, GRAFT_LOG_ERROR);
        assert_int_equal(atomic_load(&old.in_call), 0);
        int calls = atomic_load(&old.calls);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        assert_int_equal(atomic_load(&old.calls), calls);
        atomic_store(&lt.stop, 1);
        pthread_join(th, NULL);
        assert_true(atomic_load(&next.calls) >= 1);
    }
    graft_runtime_set_log(rt, NULL, NULL, GRAFT_LOG_WARN);
    graft_runtime_free(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(calls_while_flipping),
        cmocka_unit_test(more_threads_than_slots),
        cmocka_unit_test(set_log_waits_for_the_old_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
