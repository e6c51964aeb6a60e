/*
 * test_validate.c: one planted mistake per check of the validation build (src/validate.h),
 * run against libgraft twice: test_validate links graft_validate (GRAFT_VALIDATE=1) and
 * must catch each mistake; test_validate_normal links the normal graft, where the same
 * mistakes go unnoticed (the checks are compiled out: nothing to pay for). A caught
 * mistake aborts with a "graft validate:" line, so each runs in a forked child.
 *   EXPECT_CAUGHT  1: the library under test validates
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "graft/graft.h"

#ifndef EXPECT_CAUGHT
#error "build with -DEXPECT_CAUGHT=0 or 1"
#endif

/* Outputs are 16-byte objects; hosts' buffers are bigger, so that the mistakes below
 * corrupt nothing real in the normal build (they stay unnoticed, not undefined). */
typedef struct out16 {
    uint64_t a, b;
} out16;

typedef struct room {
    unsigned char before[32];
    out16 obj;
    unsigned char after[32];
} room;

typedef enum mistake { M_NONE, M_PAST_END, M_BEFORE } mistake;
static mistake g_mistake;

static int v_legacy(void *ctx, const void *input, void *output)
{
    (void)ctx;
    out16 *o = output;
    o->a = *(const uint64_t *)input;
    o->b = 1;
    return GRAFT_OK;
}

static int v_candidate(void *ctx, const void *input, void *output)
{
    (void)ctx;
    out16 *o = output;
    o->a = *(const uint64_t *)input;
    o->b = 2; /* differs from legacy: every shadow comparison is a mismatch */
    if (g_mistake == M_PAST_END) {
        memset((unsigned char *)output + sizeof(out16), 0x11, 8); /* writes 24 of 16 */
    } else if (g_mistake == M_BEFORE) {
        ((unsigned char *)output)[-1] = 0x22;
    }
    return GRAFT_OK;
}

typedef struct fx {
    graft_runtime *rt;
    graft_seam *seam;
} fx;

static fx make(graft_mode mode)
{
    fx f;
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.log_level = GRAFT_LOG_ERROR;
    assert_int_equal(graft_runtime_new(&o, &f.rt), GRAFT_OK);
    graft_seam_def d = {
        .name = "validate.demo",
        .legacy = v_legacy,
        .candidate = v_candidate,
        .output_size = sizeof(out16),
    };
    assert_int_equal(graft_seam_register(f.rt, &d, &f.seam), GRAFT_OK);
    assert_int_equal(graft_seam_set_mode(f.seam, mode, 0), GRAFT_OK);
    return f;
}

/* Runs body in a child; returns 1 if it aborted with a line containing `want` on stderr,
 * 0 if it exited 0; fails the test otherwise. */
static int aborted_with(void (*body)(void), const char *want)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        body();
        _exit(0);
    }
    close(fds[1]);
    char buf[4096];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0) {
        n += (size_t)r;
    }
    buf[n] = 0;
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        return 0;
    }
    if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT) || !strstr(buf, want)) {
        fail_msg("child: status %d, stderr: %s", st, buf);
    }
    printf("caught: %s", buf);
    return 1;
}

/* ---- 1. an implementation writes past its output_size (guard bytes after) */
static void call_past_end(void)
{
    fx f = make(GRAFT_MODE_CANDIDATE);
    g_mistake = M_PAST_END;
    room r;
    memset(&r, 0, sizeof r);
    uint64_t in = 5;
    int rc = graft_call(f.seam, 1, 0, &in, &r.obj, NULL);
    if (rc != GRAFT_OK || r.obj.b != 2) {
        _exit(3);
    }
    graft_runtime_free(f.rt);
}

static void test_write_past_output(void **state)
{
    (void)state;
    assert_int_equal(aborted_with(call_past_end, "the candidate implementation wrote past the end "
                                                 "of its output"),
                     EXPECT_CAUGHT);
}

/* ---- 2. an implementation writes before its output (guard bytes before) */
static void call_before(void)
{
    fx f = make(GRAFT_MODE_CANDIDATE);
    g_mistake = M_BEFORE;
    room r;
    memset(&r, 0, sizeof r);
    uint64_t in = 5;
    if (graft_call(f.seam, 1, 0, &in, &r.obj, NULL) != GRAFT_OK) {
        _exit(3);
    }
    graft_runtime_free(f.rt);
}

static void test_write_before_output(void **state)
{
    (void)state;
    assert_int_equal(aborted_with(call_before, "wrote before its output"), EXPECT_CAUGHT);
}

/* ---- 3. the host reads the shadow copy (scratch) after the call: released output */
static void test_released_scratch_is_poisoned(void **state)
{
    (void)state;
    fx f = make(GRAFT_MODE_SHADOW);
    g_mistake = M_NONE;
    out16 out, scratch;
    uint64_t in = 9;
    assert_int_equal(graft_call(f.seam, 1, 0, &in, &out, &scratch), GRAFT_OK);
    assert_int_equal(out.b, 1); /* legacy served */
    unsigned char poison[sizeof scratch];
    memset(poison, 0xDB, sizeof poison);
    /* The mistake: trusting scratch after the call. Normal build: it still looks like a
     * real candidate output (b == 2). Validation build: poisoned, every byte 0xDB. */
    if (EXPECT_CAUGHT) {
        assert_memory_equal(&scratch, poison, sizeof scratch);
    } else {
        assert_int_equal(scratch.a, 9);
        assert_int_equal(scratch.b, 2);
    }
    graft_runtime_free(f.rt);
}

/* ---- 4. scratch == output: the shadow run overwrites the served output */
static void call_aliased(void)
{
    fx f = make(GRAFT_MODE_SHADOW);
    g_mistake = M_NONE;
    out16 out;
    uint64_t in = 7;
    if (graft_call(f.seam, 1, 0, &in, &out, &out) != GRAFT_OK) {
        _exit(3);
    }
    graft_seam_stats st;
    if (graft_seam_stats_get(f.seam, &st) != GRAFT_OK) {
        _exit(3);
    }
    /* Unnoticed in the normal build: legacy and candidate differ, yet no mismatch is
     * counted (both sides of the comparison are the same bytes). */
    if (st.mismatches != 0) {
        _exit(4);
    }
    graft_runtime_free(f.rt);
}

static void test_output_aliases_scratch(void **state)
{
    (void)state;
    assert_int_equal(aborted_with(call_aliased, "output and scratch overlap"), EXPECT_CAUGHT);
}

/* ---- the same seam without a mistake: no abort, right answers, mismatches counted */
static void call_clean(void)
{
    fx f = make(GRAFT_MODE_SHADOW);
    g_mistake = M_NONE;
    for (uint64_t k = 1; k <= 50; k++) {
        out16 out, scratch;
        if (graft_call(f.seam, k, 0, &k, &out, &scratch) != GRAFT_OK || out.a != k || out.b != 1) {
            _exit(3);
        }
    }
    graft_seam_stats st;
    if (graft_seam_stats_get(f.seam, &st) != GRAFT_OK || st.mismatches != 50) {
        _exit(5);
    }
    graft_runtime_free(f.rt);
}

static void test_clean_calls_pass(void **state)
{
    (void)state;
    assert_int_equal(aborted_with(call_clean, "graft validate"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_past_output),
        cmocka_unit_test(test_write_before_output),
        cmocka_unit_test(test_released_scratch_is_poisoned),
        cmocka_unit_test(test_output_aliases_scratch),
        cmocka_unit_test(test_clean_calls_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
