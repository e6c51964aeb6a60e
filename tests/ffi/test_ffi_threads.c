/* Many threads crossing the boundary at once: each thread fails, panics and succeeds
 * in turn and must always read back its own last error; all threads share one handle
 * map (create, update, double free) and allocate and free owned buffers concurrently.
 * Runs under TSan (`make tsan`, label tsan), ASan and valgrind. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "graft_ffi_testkit.h"

enum { THREADS = 8, ROUNDS = 300 };

struct worker {
    int id;
    int failures; /* checks that did not hold; 0 expected */
    char first_failure[160];
};

static void fail_check(struct worker *w, const char *what, int round)
{
    if (w->failures++ == 0) {
        snprintf(w->first_failure, sizeof w->first_failure, "thread %d round %d: %s", w->id, round,
                 what);
    }
}

static bool message_is(const char *expected)
{
    char buf[200];
    int n = graft_ffi_last_error_message(buf, sizeof buf);
    return n >= 0 && (size_t)n < sizeof buf && strcmp(buf, expected) == 0;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    char msg[64];
    for (int r = 0; r < ROUNDS; r++) {
        /* Per-thread last error: no other thread's message can leak in. */
        snprintf(msg, sizeof msg, "thread %d round %d", w->id, r);
        int status = 1 + (w->id + r) % GRAFT_STATUS_MAX;
        if (graft_testkit_fail(status, msg) != status || graft_ffi_last_error_status() != status ||
            !message_is(msg)) {
            fail_check(w, "own error message", r);
        }
        snprintf(msg, sizeof msg, "panic in %d/%d", w->id, r);
        if (graft_testkit_panic(msg) != GRAFT_EPANIC) {
            fail_check(w, "panic status", r);
        }
        char expected[80];
        snprintf(expected, sizeof expected, "panic: %s", msg);
        if (!message_is(expected)) {
            fail_check(w, "panic message", r);
        }
        /* Fault arming is per thread too. */
        if (r % 7 == w->id % 7) {
            graft_ffi_fault_arm_panic();
            if (graft_testkit_identity(r) != 0 || graft_ffi_last_error_status() != GRAFT_EPANIC) {
                fail_check(w, "armed panic", r);
            }
        }
        if (graft_testkit_identity(r) != r) {
            fail_check(w, "identity", r);
        }

        /* Shared handle map. */
        graft_ffi_handle h = 0;
        int64_t v = 0;
        if (graft_testkit_counter_new(r, &h) != GRAFT_OK ||
            graft_testkit_counter_add(h, w->id, &v) != GRAFT_OK || v != r + w->id ||
            graft_testkit_counter_free(h) != GRAFT_OK ||
            graft_testkit_counter_free(h) != GRAFT_EHANDLE ||
            graft_testkit_counter_get(h, &v) != GRAFT_EHANDLE) {
            fail_check(w, "handle lifecycle", r);
        }

        /* Owned buffers. */
        graft_ffi_buffer b = {NULL, 0};
        size_t n = (size_t)(r % 64) + 1;
        if (graft_testkit_repeat((uint8_t)w->id, n, &b) != GRAFT_OK || b.len != n ||
            b.data[n - 1] != (uint8_t)w->id) {
            fail_check(w, "buffer", r);
        }
        graft_ffi_buffer_free(&b);
    }
    return NULL;
}

static void many_threads_cross_at_once(void **state)
{
    (void)state;
    size_t live0 = graft_testkit_counter_live();
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){.id = i};
        assert_int_equal(pthread_create(&threads[i], NULL, work, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        if (workers[i].failures) {
            fail_msg("%d failures, first: %s", workers[i].failures, workers[i].first_failure);
        }
    }
    assert_int_equal(graft_testkit_counter_live(), live0);
}

/* A logger called from many threads at once, replaced while they log. */
struct counting_logger {
    pthread_mutex_t lock;
    long calls;
};

static void count_log(void *ctx, int level, const char *target, const char *message)
{
    struct counting_logger *c = ctx;
    (void)level;
    (void)target;
    (void)message;
    pthread_mutex_lock(&c->lock);
    c->calls++;
    pthread_mutex_unlock(&c->lock);
}

static void *log_work(void *arg)
{
    (void)arg;
    for (int i = 0; i < 500; i++) {
        if (graft_testkit_log(GRAFT_LOG_WARN, "threads", "concurrent") != GRAFT_OK) {
            return (void *)1;
        }
    }
    return NULL;
}

static void logging_from_many_threads(void **state)
{
    (void)state;
    struct counting_logger a = {PTHREAD_MUTEX_INITIALIZER, 0};
    struct counting_logger b = {PTHREAD_MUTEX_INITIALIZER, 0};
    assert_int_equal(graft_ffi_set_logger(count_log, &a, GRAFT_LOG_WARN), GRAFT_OK);
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_create(&threads[i], NULL, log_work, NULL), 0);
    }
    assert_int_equal(graft_ffi_set_logger(count_log, &b, GRAFT_LOG_WARN), GRAFT_OK);
    for (int i = 0; i < 4; i++) {
        void *ret = NULL;
        assert_int_equal(pthread_join(threads[i], &ret), 0);
        assert_null(ret);
    }
    assert_int_equal(graft_ffi_set_logger(NULL, NULL, 0), GRAFT_OK);
    /* Every message went to exactly one of the two sinks. */
    assert_int_equal(a.calls + b.calls, 4 * 500);
}

int main(void)
{
    graft_testkit_quiet_panics(); /* 2400 deliberate panics: keep stderr readable */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(many_threads_cross_at_once),
        cmocka_unit_test(logging_from_many_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
