/* Boundary tests of graft-ffi from C: statuses and messages, the last error, borrowed
 * inputs (NULL, empty, huge lengths, invalid UTF-8), panics at every boundary variant,
 * caller buffers and Rust-owned buffers, opaque objects, the handle map, fault arming
 * and the log bridge. Linked against the graft-ffi-testkit umbrella staticlib. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "graft_ffi_testkit.h"

/* The thread's last error message, in a static buffer (tests are single-threaded). */
static const char *last_message(void)
{
    static char buf[512];
    int n = graft_ffi_last_error_message(buf, sizeof buf);
    assert_true(n >= 0);
    assert_true((size_t)n < sizeof buf);
    assert_int_equal(strlen(buf), (size_t)n);
    return buf;
}

/* The comment texts of base.h, written out independently of both implementations. */
static const char *const expected_names[GRAFT_STATUS_MAX + 1] = {
    "GRAFT_OK",      "GRAFT_EINVAL",    "GRAFT_ENULL",        "GRAFT_ETOOSMALL", "GRAFT_EUTF8",
    "GRAFT_EPARSE",  "GRAFT_ENOTFOUND", "GRAFT_EUNSUPPORTED", "GRAFT_EINTERNAL", "GRAFT_EPANIC",
    "GRAFT_ENOMEM",  "GRAFT_EHANDLE",   "GRAFT_EEXIST",       "GRAFT_ESTATE",    "GRAFT_EIO",
    "GRAFT_ECONFIG", "GRAFT_EINJECTED",
};

static void every_status_has_name_and_message(void **state)
{
    (void)state;
    for (int s = 0; s <= GRAFT_STATUS_MAX; s++) {
        const char *name = graft_ffi_status_name(s);
        const char *msg = graft_ffi_strerror(s);
        assert_non_null(name);
        assert_string_equal(name, expected_names[s]);
        assert_non_null(msg);
        assert_true(strlen(msg) > 0);
        assert_string_not_equal(msg, "unknown status");
        assert_int_equal(graft_testkit_status_roundtrip(s), s);
    }
    assert_string_equal(graft_ffi_strerror(GRAFT_OK), "success");
    assert_string_equal(graft_ffi_strerror(GRAFT_EINVAL),
                        "an argument is out of its documented range");
    assert_string_equal(graft_ffi_strerror(GRAFT_EPANIC),
                        "Rust code panicked; the panic was caught at the boundary");
    const int unknown[] = {-1, GRAFT_STATUS_MAX + 1, 1000, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_null(graft_ffi_status_name(unknown[i]));
        assert_string_equal(graft_ffi_strerror(unknown[i]), "unknown status");
        assert_int_equal(graft_testkit_status_roundtrip(unknown[i]), -1);
    }
}

static void every_status_and_message_propagates(void **state)
{
    (void)state;
    graft_ffi_clear_last_error();
    assert_int_equal(graft_ffi_last_error_status(), GRAFT_OK);
    assert_int_equal(graft_ffi_last_error_message(NULL, 0), 0);

    assert_int_equal(graft_testkit_fail(GRAFT_OK, "ignored"), GRAFT_OK);
    assert_int_equal(graft_ffi_last_error_status(), GRAFT_OK);

    for (int s = 1; s <= GRAFT_STATUS_MAX; s++) {
        char msg[64];
        snprintf(msg, sizeof msg, "failure number %d", s);
        assert_int_equal(graft_testkit_fail(s, msg), s);
        assert_int_equal(graft_ffi_last_error_status(), s);
        assert_string_equal(last_message(), msg);
        /* Without a message, the status description is the message. */
        assert_int_equal(graft_testkit_fail(s, NULL), s);
        assert_string_equal(last_message(), graft_ffi_strerror(s));
    }
    /* A status number C made up is rejected, not transmuted. */
    assert_int_equal(graft_testkit_fail(GRAFT_STATUS_MAX + 1, "x"), GRAFT_EINVAL);
    assert_string_equal(last_message(), "unknown status number 17");
    assert_int_equal(graft_testkit_fail(-5, "x"), GRAFT_EINVAL);

    /* Successful calls leave the last error alone; clear resets it. */
    assert_int_equal(graft_testkit_add(1, 2), 3);
    assert_int_equal(graft_ffi_last_error_status(), GRAFT_EINVAL);
    graft_ffi_clear_last_error();
    assert_int_equal(graft_ffi_last_error_status(), GRAFT_OK);
    assert_string_equal(last_message(), "");
}

static void last_error_message_is_snprintf_style(void **state)
{
    (void)state;
    const char *msg = "héllo wörld"; /* multi-byte characters */
    size_t len = strlen(msg);
    assert_int_equal(graft_testkit_fail(GRAFT_EPARSE, msg), GRAFT_EPARSE);

    assert_int_equal(graft_ffi_last_error_message(NULL, 0), (int)len);
    assert_int_equal(graft_ffi_last_error_message(NULL, 10), -GRAFT_ENULL);

    char buf[64];
    memset(buf, 'X', sizeof buf);
    assert_int_equal(graft_ffi_last_error_message(buf, 0), (int)len);
    assert_int_equal(buf[0], 'X'); /* cap 0 writes nothing */

    assert_int_equal(graft_ffi_last_error_message(buf, 1), (int)len);
    assert_string_equal(buf, "");

    /* "h\xc3\xa9..." with cap 3: two bytes fit but would split 'é': cut to "h". */
    memset(buf, 'X', sizeof buf);
    assert_int_equal(graft_ffi_last_error_message(buf, 3), (int)len);
    assert_string_equal(buf, "h");
    assert_int_equal(graft_ffi_last_error_message(buf, 4), (int)len);
    assert_string_equal(buf, "h\xc3\xa9");

    assert_int_equal(graft_ffi_last_error_message(buf, len), (int)len); /* one byte short */
    assert_int_equal(strlen(buf), len - 1);
    /* cap 10 allows 9 bytes, which would end inside 'ö' (bytes 8-9): cut to 8. */
    assert_int_equal(graft_ffi_last_error_message(buf, 10), (int)len);
    assert_string_equal(buf, "h\xc3\xa9llo w");
    assert_int_equal(graft_ffi_last_error_message(buf, len + 1), (int)len);
    assert_string_equal(buf, msg);

    /* Reading does not change it. */
    assert_int_equal(graft_ffi_last_error_status(), GRAFT_EPARSE);
    assert_string_equal(last_message(), msg);
}

static void borrowed_inputs_null_empty_huge(void **state)
{
    (void)state;
    uint64_t sum = 77;
    /* NULL with length 0 is the empty slice. */
    assert_int_equal(graft_testkit_sum_bytes(NULL, 0, &sum), GRAFT_OK);
    assert_int_equal(sum, 0);
    /* NULL with a length is an error; the out-parameter is untouched. */
    sum = 77;
    assert_int_equal(graft_testkit_sum_bytes(NULL, 5, &sum), GRAFT_ENULL);
    assert_int_equal(sum, 77);
    assert_string_equal(last_message(), "data is NULL but its length is 5");
    /* Huge lengths (e.g. a negative number cast to size_t) are refused before use. */
    const uint8_t one = 1;
    assert_int_equal(graft_testkit_sum_bytes(&one, SIZE_MAX, &sum), GRAFT_EINVAL);
    assert_int_equal(graft_testkit_sum_bytes(&one, (size_t)PTRDIFF_MAX + 1, &sum), GRAFT_EINVAL);
    assert_int_equal(graft_testkit_sum_bytes(&one, (size_t)-1, &sum), GRAFT_EINVAL);
    assert_non_null(strstr(last_message(), "exceeds the largest possible object"));
    assert_int_equal(sum, 77);
    /* A NULL out-parameter is an error, not a crash. */
    assert_int_equal(graft_testkit_sum_bytes(&one, 1, NULL), GRAFT_ENULL);
    const uint8_t data[] = {1, 2, 3, 250};
    assert_int_equal(graft_testkit_sum_bytes(data, sizeof data, &sum), GRAFT_OK);
    assert_int_equal(sum, 256);
}

static void strings_utf8_and_nul_terminated(void **state)
{
    (void)state;
    size_t n = 99;
    assert_int_equal(graft_testkit_utf8_chars("h\xc3\xa9llo", 6, &n), GRAFT_OK);
    assert_int_equal(n, 5);
    /* Empty: NULL or not. */
    assert_int_equal(graft_testkit_utf8_chars(NULL, 0, &n), GRAFT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(graft_testkit_utf8_chars("", 0, &n), GRAFT_OK);
    assert_int_equal(graft_testkit_cstr_chars("", &n), GRAFT_OK);
    assert_int_equal(n, 0);
    /* Interior NUL is fine with an explicit length. */
    assert_int_equal(graft_testkit_utf8_chars("a\0b", 3, &n), GRAFT_OK);
    assert_int_equal(n, 3);
    /* Invalid UTF-8: lone continuation byte, truncated sequence, overlong, surrogate. */
    const char *bad[] = {"ab\x80", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 99;
        assert_int_equal(graft_testkit_utf8_chars(bad[i], strlen(bad[i]), &n), GRAFT_EUTF8);
        assert_int_equal(n, 99);
        assert_int_equal(graft_testkit_cstr_chars(bad[i], &n), GRAFT_EUTF8);
    }
    assert_int_equal(graft_testkit_utf8_chars("ab\x80", 3, &n), GRAFT_EUTF8);
    assert_string_equal(last_message(), "invalid UTF-8 at byte 2 of 3");
    assert_int_equal(graft_testkit_cstr_chars(NULL, &n), GRAFT_ENULL);
    assert_int_equal(graft_testkit_utf8_chars(NULL, 1, &n), GRAFT_ENULL);
    assert_int_equal(graft_testkit_utf8_chars("x", SIZE_MAX, &n), GRAFT_EINVAL);
}

static void panics_become_epanic_and_the_process_goes_on(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(graft_testkit_panic("the sky is falling"), GRAFT_EPANIC);
        assert_int_equal(graft_ffi_last_error_status(), GRAFT_EPANIC);
        assert_string_equal(last_message(), "panic: the sky is falling");
    }
    assert_int_equal(graft_testkit_panic(NULL), GRAFT_EPANIC);
    assert_string_equal(last_message(), "panic: deliberate panic from graft_testkit_panic");

    assert_null(graft_testkit_panic_pointer());
    assert_string_equal(last_message(), "panic: deliberate panic (pointer)");
    assert_false(graft_testkit_panic_bool());
    assert_string_equal(last_message(), "panic: deliberate panic (bool)");
    assert_int_equal(graft_testkit_panic_value(), -1);
    assert_string_equal(last_message(), "panic: deliberate panic (value)");
    graft_ffi_clear_last_error();
    graft_testkit_panic_unit();
    assert_int_equal(graft_ffi_last_error_status(), GRAFT_EPANIC);
    assert_string_equal(last_message(), "panic: deliberate panic (unit)");

    /* An invalid UTF-8 panic message arrives intact as far as it is valid. */
    assert_int_equal(graft_testkit_panic("bad \xff byte"), GRAFT_EPANIC);
    assert_non_null(strstr(last_message(), "panic: bad "));

    /* Rust still works after all of that. */
    assert_int_equal(graft_testkit_add(20, 22), 42);
    assert_int_equal(graft_testkit_identity(-9), -9);
}

static void caller_buffer_reports_needed_length(void **state)
{
    (void)state;
    const uint8_t in[] = {1, 2, 3, 4, 5};
    uint8_t out[8];
    size_t needed = 0;
    memset(out, 0xEE, sizeof out);
    assert_int_equal(graft_testkit_reverse(in, 5, out, 4, &needed), GRAFT_ETOOSMALL);
    assert_int_equal(needed, 5);
    assert_int_equal(out[0], 0xEE); /* nothing written on failure */
    assert_string_equal(last_message(), "5 bytes needed, buffer holds 4");
    /* Size query with NULL, 0. */
    needed = 0;
    assert_int_equal(graft_testkit_reverse(in, 5, NULL, 0, &needed), GRAFT_ETOOSMALL);
    assert_int_equal(needed, 5);
    assert_int_equal(graft_testkit_reverse(in, 5, NULL, 5, &needed), GRAFT_ENULL);
    assert_int_equal(graft_testkit_reverse(in, 5, out, sizeof out, &needed), GRAFT_OK);
    assert_int_equal(needed, 5);
    assert_memory_equal(out, ((uint8_t[]){5, 4, 3, 2, 1}), 5);
    assert_int_equal(out[5], 0xEE);
    /* Empty input into a NULL buffer is fine; needed may be NULL. */
    assert_int_equal(graft_testkit_reverse(NULL, 0, NULL, 0, NULL), GRAFT_OK);
}

static void owned_buffers_round_trip(void **state)
{
    (void)state;
    graft_ffi_buffer b = {NULL, 0};
    assert_int_equal(graft_testkit_repeat('z', 1000, &b), GRAFT_OK);
    assert_non_null(b.data);
    assert_int_equal(b.len, 1000);
    for (size_t i = 0; i < b.len; i++) {
        assert_int_equal(b.data[i], 'z');
    }
    graft_ffi_buffer_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    graft_ffi_buffer_free(&b); /* the same struct twice: a no-op */
    graft_ffi_buffer_free(NULL);

    /* Round trip of every byte value through Rust. */
    uint8_t all[256];
    for (int i = 0; i < 256; i++) {
        all[i] = (uint8_t)i;
    }
    assert_int_equal(graft_testkit_copy(all, sizeof all, &b), GRAFT_OK);
    assert_int_equal(b.len, sizeof all);
    assert_memory_equal(b.data, all, sizeof all);
    graft_ffi_buffer_free(&b);

    /* Empty is {NULL, 0}. */
    b.data = (uint8_t *)all; /* garbage the callee must overwrite */
    b.len = 7;
    assert_int_equal(graft_testkit_copy(NULL, 0, &b), GRAFT_OK);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    graft_ffi_buffer_free(&b);

    /* Failures leave the out-parameter untouched. */
    graft_ffi_buffer keep = {NULL, 0};
    assert_int_equal(graft_testkit_repeat('a', (size_t)1 << 40, &keep), GRAFT_EINVAL);
    assert_null(keep.data);
    assert_int_equal(graft_testkit_repeat('a', 3, NULL), GRAFT_ENULL);
    assert_int_equal(graft_testkit_copy(NULL, 3, &keep), GRAFT_ENULL);
    assert_null(keep.data);
}

static void opaque_box_and_arc(void **state)
{
    (void)state;
    graft_testkit_box *b = graft_testkit_box_new(-42);
    assert_non_null(b);
    int64_t v = 0;
    assert_int_equal(graft_testkit_box_get(b, &v), GRAFT_OK);
    assert_int_equal(v, -42);
    assert_int_equal(graft_testkit_box_get(NULL, &v), GRAFT_ENULL);
    assert_int_equal(graft_testkit_box_get(b, NULL), GRAFT_ENULL);
    graft_testkit_box_free(b);
    graft_testkit_box_free(NULL);

    const uint8_t data[] = "shared";
    const graft_testkit_shared *s = graft_testkit_shared_new(data, 6);
    assert_non_null(s);
    const graft_testkit_shared *s2 = graft_testkit_shared_retain(s);
    assert_ptr_equal(s, s2);
    graft_testkit_shared_release(s);
    assert_int_equal(graft_testkit_shared_len(s2), 6); /* still alive: one ref left */
    graft_testkit_shared_release(s2);
    graft_testkit_shared_release(NULL);
    assert_null(graft_testkit_shared_retain(NULL));
    assert_int_equal(graft_ffi_last_error_status(), GRAFT_ENULL);
    assert_int_equal(graft_testkit_shared_len(NULL), SIZE_MAX);
    assert_null(graft_testkit_shared_new(NULL, 1));
}

static void handles_stale_and_double_free(void **state)
{
    (void)state;
    size_t live0 = graft_testkit_counter_live();
    graft_ffi_handle h = 0;
    assert_int_equal(graft_testkit_counter_new(10, &h), GRAFT_OK);
    assert_true(h != 0);
    int64_t v = 0;
    assert_int_equal(graft_testkit_counter_add(h, 5, &v), GRAFT_OK);
    assert_int_equal(v, 15);
    assert_int_equal(graft_testkit_counter_live(), live0 + 1);

    assert_int_equal(graft_testkit_counter_free(h), GRAFT_OK);
    /* Double free and use after free are errors, not UB. */
    assert_int_equal(graft_testkit_counter_free(h), GRAFT_EHANDLE);
    assert_non_null(strstr(last_message(), "stale"));
    v = 123;
    assert_int_equal(graft_testkit_counter_get(h, &v), GRAFT_EHANDLE);
    assert_int_equal(v, 123);
    assert_int_equal(graft_testkit_counter_add(h, 1, &v), GRAFT_EHANDLE);

    /* The slot is reused with a new generation: the old handle stays stale. */
    graft_ffi_handle h2 = 0;
    assert_int_equal(graft_testkit_counter_new(7, &h2), GRAFT_OK);
    assert_true(h2 != h);
    assert_int_equal(graft_testkit_counter_get(h, &v), GRAFT_EHANDLE);
    assert_int_equal(graft_testkit_counter_get(h2, &v), GRAFT_OK);
    assert_int_equal(v, 7);

    /* Handles never issued: 0, forged, another map's bits. */
    assert_int_equal(graft_testkit_counter_get(0, &v), GRAFT_EHANDLE);
    assert_int_equal(graft_testkit_counter_get(UINT64_MAX, &v), GRAFT_EHANDLE);
    assert_int_equal(graft_testkit_counter_get(h2 + 1000, &v), GRAFT_EHANDLE);
    assert_non_null(strstr(last_message(), "never issued"));
    assert_int_equal(graft_testkit_counter_get(h2 ^ ((uint64_t)1 << 60), &v), GRAFT_EHANDLE);
    assert_int_equal(graft_testkit_counter_new(1, NULL), GRAFT_ENULL);
    assert_int_equal(graft_testkit_counter_free(h2), GRAFT_OK);
    assert_int_equal(graft_testkit_counter_live(), live0);
}

static void armed_panic_fires_once_in_the_next_boundary(void **state)
{
    (void)state;
    graft_ffi_fault_arm_panic();
    graft_ffi_fault_arm_panic(); /* idempotent */
    /* graft-ffi's own machinery does not consume the arm, and keeps its promises. */
    (void)graft_ffi_last_error_status();
    assert_string_equal(graft_ffi_strerror(GRAFT_OK), "success");
    assert_string_equal(graft_ffi_status_name(GRAFT_EIO), "GRAFT_EIO");
    assert_non_null(graft_ffi_version());
    graft_ffi_buffer none = {NULL, 0};
    graft_ffi_buffer_free(&none);
    uint64_t sum = 5;
    const uint8_t d[] = {1};
    assert_int_equal(graft_testkit_sum_bytes(d, 1, &sum), GRAFT_EPANIC);
    assert_int_equal(sum, 5);
    assert_string_equal(last_message(), "panic: injected by graft_ffi_fault_arm_panic");
    assert_int_equal(graft_testkit_sum_bytes(d, 1, &sum), GRAFT_OK);
    assert_int_equal(sum, 1);

    graft_ffi_fault_arm_panic();
    assert_null(graft_testkit_box_new(1)); /* pointer variant: NULL */
    graft_ffi_fault_arm_panic();
    assert_true(graft_ffi_fault_disarm_panic());
    assert_false(graft_ffi_fault_disarm_panic());
    assert_int_equal(graft_testkit_identity(8), 8);
}

struct log_capture {
    int count;
    int last_level;
    char last_target[64];
    char last_message[256];
};

static void capture_log(void *ctx, int level, const char *target, const char *message)
{
    struct log_capture *c = ctx;
    c->count++;
    c->last_level = level;
    snprintf(c->last_target, sizeof c->last_target, "%s", target);
    snprintf(c->last_message, sizeof c->last_message, "%s", message);
}

static void log_bridge_delivers_and_filters(void **state)
{
    (void)state;
    struct log_capture cap = {0};
    assert_int_equal(graft_ffi_set_logger(capture_log, &cap, 7), GRAFT_EINVAL);
    assert_int_equal(graft_ffi_set_logger(capture_log, &cap, -1), GRAFT_EINVAL);
    assert_int_equal(graft_ffi_set_logger(capture_log, &cap, GRAFT_LOG_INFO), GRAFT_OK);

    assert_int_equal(graft_testkit_log(GRAFT_LOG_WARN, "kv_proto", "line too long"), GRAFT_OK);
    assert_int_equal(cap.count, 1);
    assert_int_equal(cap.last_level, GRAFT_LOG_WARN);
    assert_string_equal(cap.last_target, "kv_proto");
    assert_string_equal(cap.last_message, "line too long");

    /* Below the level: not delivered. */
    assert_int_equal(graft_testkit_log(GRAFT_LOG_DEBUG, "kv_proto", "noise"), GRAFT_OK);
    assert_int_equal(cap.count, 1);
    /* Newlines are flattened: one message, one line. */
    assert_int_equal(graft_testkit_log(GRAFT_LOG_ERROR, "t", "two\nlines\n"), GRAFT_OK);
    assert_string_equal(cap.last_message, "two lines");
    assert_int_equal(graft_testkit_log(9, "t", "m"), GRAFT_EINVAL);
    assert_int_equal(graft_testkit_log(GRAFT_LOG_ERROR, NULL, "m"), GRAFT_ENULL);

    /* A caught panic is logged at error level. */
    int before = cap.count;
    assert_int_equal(graft_testkit_panic("logged panic"), GRAFT_EPANIC);
    assert_int_equal(cap.count, before + 1);
    assert_int_equal(cap.last_level, GRAFT_LOG_ERROR);
    assert_string_equal(cap.last_target, "graft_ffi");
    assert_non_null(strstr(cap.last_message, "panic: logged panic"));

    /* Unregistered: nothing is delivered any more. */
    assert_int_equal(graft_ffi_set_logger(NULL, NULL, 0), GRAFT_OK);
    before = cap.count;
    assert_int_equal(graft_testkit_log(GRAFT_LOG_ERROR, "t", "gone"), GRAFT_OK);
    assert_int_equal(cap.count, before);
}

/* A candidate panicking on every call must not write one line per panic: at most
 * PANIC_LOG_PER_SECOND (10) lines a second, each carrying the count suppressed since
 * the line before, so lines + suppressed = panics. */
struct panic_lines {
    int lines;
    long suppressed;
    char last[256];
};

static void count_panic_lines(void *ctx, int level, const char *target, const char *message)
{
    struct panic_lines *c = ctx;
    (void)level;
    if (strcmp(target, "graft_ffi") != 0 || !strstr(message, "caught at the FFI boundary"))
        return;
    const char *s = strstr(message, " suppressed=");
    assert_non_null(s);
    c->lines++;
    c->suppressed += atol(s + strlen(" suppressed="));
    snprintf(c->last, sizeof c->last, "%s", message);
}

static void panic_logs_are_rate_limited(void **state)
{
    (void)state;
    graft_testkit_quiet_panics();
    struct panic_lines c = {0};
    assert_int_equal(graft_ffi_set_logger(count_panic_lines, &c, GRAFT_LOG_ERROR), GRAFT_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(graft_testkit_panic("again"), GRAFT_EPANIC);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long secs = (long)(t1.tv_sec - t0.tv_sec) + 2; /* seconds the loop can have touched */
    assert_true(c.lines >= 1);
    assert_true(c.lines <= 10 * secs);
    /* Past the second: the next panic is logged with the count of those suppressed. */
    struct timespec pause = {1, 100000000};
    nanosleep(&pause, NULL);
    assert_int_equal(graft_testkit_panic("after"), GRAFT_EPANIC);
    assert_non_null(strstr(c.last, "panic: after suppressed="));
    assert_int_equal(c.lines + c.suppressed, 5001);
    assert_int_equal(graft_ffi_set_logger(NULL, NULL, 0), GRAFT_OK);
}

static void version_is_static(void **state)
{
    (void)state;
    const char *v = graft_ffi_version();
    assert_non_null(v);
    assert_ptr_equal(v, graft_ffi_version());
    assert_true(strchr(v, '.') != NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_status_has_name_and_message),
        cmocka_unit_test(every_status_and_message_propagates),
        cmocka_unit_test(last_error_message_is_snprintf_style),
        cmocka_unit_test(borrowed_inputs_null_empty_huge),
        cmocka_unit_test(strings_utf8_and_nul_terminated),
        cmocka_unit_test(panics_become_epanic_and_the_process_goes_on),
        cmocka_unit_test(caller_buffer_reports_needed_length),
        cmocka_unit_test(owned_buffers_round_trip),
        cmocka_unit_test(opaque_box_and_arc),
        cmocka_unit_test(handles_stale_and_double_free),
        cmocka_unit_test(armed_panic_fires_once_in_the_next_boundary),
        cmocka_unit_test(log_bridge_delivers_and_filters),
        cmocka_unit_test(panic_logs_are_rate_limited),
        cmocka_unit_test(version_is_static),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
