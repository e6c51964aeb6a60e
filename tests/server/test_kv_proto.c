/*
 * test_kv_proto.c: unit tests of kvd's request parser. Expected results are memcached
 * 1.6.18's observed behaviour (the conformance suite checks the same cases end to end
 * against the real binary); here every field of the description is checked, including
 * that unused fields are zero whatever the output struct held before.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kv_proto.h"

static const kv_parse_limits LIM = {1024 * 1024, 2048};

/* Parses s[0..n) twice, from garbage-filled outputs of two different patterns, and
 * checks both descriptions are identical (every byte written, no padding left). */
static kv_request parse_n(const char *s, size_t n)
{
    kv_request a, b;
    memset(&a, 0xAA, sizeof(a));
    memset(&b, 0x55, sizeof(b));
    kv_parse(s, n, &LIM, &a);
    kv_parse(s, n, &LIM, &b);
    assert_memory_equal(&a, &b, sizeof(a));
    assert_int_equal(a.reserved, 0);
    return a;
}

#define P(lit) parse_n((lit), sizeof(lit) - 1)

static void key_is(const char *buf, const kv_request *r, const char *key)
{
    assert_int_equal(r->nkeys, 1);
    assert_int_equal(r->key_len, strlen(key));
    assert_memory_equal(buf + r->key_off, key, strlen(key));
}

static void assert_err(kv_request r, uint8_t cmd, uint8_t err, uint32_t consumed)
{
    assert_int_equal(r.status, KV_PARSE_ERROR);
    assert_int_equal(r.cmd, cmd);
    assert_int_equal(r.error, err);
    assert_int_equal(r.consumed, consumed);
}

static void test_get_keys(void **state)
{
    (void)state;
    const char s[] = "get a  bb ccc\r\nget x\r\n";
    kv_request r = P(s);
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.cmd, KV_CMD_GET);
    assert_int_equal(r.consumed, 15);
    assert_int_equal(r.nkeys, 3);
    assert_int_equal(r.key_off, 4);
    assert_int_equal(r.key_len, 9);
    uint32_t pos = 0, off, len;
    const char *want[] = {"a", "bb", "ccc"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(kv_request_next_key(s, &r, &pos, &off, &len), 1);
        assert_int_equal(len, strlen(want[i]));
        assert_memory_equal(s + off, want[i], len);
    }
    assert_int_equal(kv_request_next_key(s, &r, &pos, &off, &len), 0);
    assert_int_equal(r.noreply, 0);
    assert_int_equal(r.data_len, 0);
}

static void test_get_many_keys_past_token_cap(void **state)
{
    (void)state;
    char s[4096];
    int n = sprintf(s, "gets");
    for (int i = 0; i < 100; i++) {
        n += sprintf(s + n, " k%d", i);
    }
    n += sprintf(s + n, "\r\n");
    kv_request r = parse_n(s, (size_t)n);
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.cmd, KV_CMD_GETS);
    assert_int_equal(r.nkeys, 100);
    uint32_t pos = 0, off, len, count = 0;
    while (kv_request_next_key(s, &r, &pos, &off, &len)) {
        char k[8];
        snprintf(k, sizeof(k), "k%u", count);
        assert_int_equal(len, strlen(k));
        assert_memory_equal(s + off, k, len);
        count++;
    }
    assert_int_equal(count, 100);
}

static void test_get_errors(void **state)
{
    (void)state;
    assert_err(P("get\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 5);
    assert_err(P("getx a\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 8);
    char s[400];
    int n = sprintf(s, "get a %0251d b\r\n", 0);
    kv_request r = parse_n(s, (size_t)n);
    assert_err(r, KV_CMD_GET, KV_ERR_BAD_FORMAT, (uint32_t)n);
    assert_int_equal(r.nkeys, 0);
    assert_int_equal(r.key_off, 0);
    n = sprintf(s, "get %0250d\r\n", 0);
    r = parse_n(s, (size_t)n);
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.key_len, 250);
}

static void test_gat(void **state)
{
    (void)state;
    const char s[] = "gats -5 k1 k2\r\n";
    kv_request r = P(s);
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.cmd, KV_CMD_GATS);
    assert_int_equal(r.exptime, -5);
    assert_int_equal(r.nkeys, 2);
    r = P("gat 10\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.nkeys, 0);
    assert_int_equal(r.key_len, 0);
    assert_err(P("gat x a\r\n"), KV_CMD_GAT, KV_ERR_INVALID_EXPTIME, 9);
    assert_err(P("gats\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 6);
    /* strtol truncated to 32 bits: 4294967296 reads as 0 */
    r = P("gat 4294967296 a\r\n");
    assert_int_equal(r.exptime, 0);
}

static void test_set_ok(void **state)
{
    (void)state;
    const char s[] = "set foo 42 3600 5\r\nhello\r\nget foo\r\n";
    kv_request r = P(s);
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.cmd, KV_CMD_SET);
    key_is(s, &r, "foo");
    assert_int_equal(r.flags, 42);
    assert_int_equal(r.exptime, 3600);
    assert_int_equal(r.data_off, 19);
    assert_int_equal(r.data_len, 5);
    assert_memory_equal(s + r.data_off, "hello", 5);
    assert_int_equal(r.consumed, 26);
    assert_int_equal(r.cas, 0);
    assert_int_equal(r.noreply, 0);

    r = P("add k 0 0 0 noreply\r\n\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.cmd, KV_CMD_ADD);
    assert_int_equal(r.noreply, 1);
    assert_int_equal(r.data_len, 0);
    assert_int_equal(r.consumed, 23);

    r = P("cas k 1 2 1 99\r\nx\r\n");
    assert_int_equal(r.cmd, KV_CMD_CAS);
    assert_int_equal(r.cas, 99);
    r = P("replace k 0 0 1\r\nx\r\n");
    assert_int_equal(r.cmd, KV_CMD_REPLACE);
    r = P("append k 0 0 1\r\nx\r\n");
    assert_int_equal(r.cmd, KV_CMD_APPEND);
    r = P("prepend k 0 0 1\r\nx\r\n");
    assert_int_equal(r.cmd, KV_CMD_PREPEND);
}

static void test_set_numbers_like_strtol(void **state)
{
    (void)state;
    /* leading whitespace and '+' accepted, trailing whitespace accepted */
    kv_request r = P("set t 0 \t5 1\r\n1\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.exptime, 5);
    r = P("set t +7 5\t 1\r\n1\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.flags, 7);
    /* flags truncated to 32 bits; length read as a 32-bit int */
    r = P("set d 4294967296 0 1\r\nx\r\n");
    assert_int_equal(r.flags, 0);
    r = P("set e 0 0 4294967297\r\nx\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.data_len, 1);
    r = P("set e 0 4294967295 1\r\nx\r\n");
    assert_int_equal(r.exptime, -1);
    r = P("set e -0 0 1\r\nx\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_err(P("set t 0 5x 1\r\n1\r\n"), KV_CMD_SET, KV_ERR_BAD_FORMAT, 14);
    assert_err(P("set t -1 0 1\r\n1\r\n"), KV_CMD_SET, KV_ERR_BAD_FORMAT, 14);
    assert_err(P("set t 0 0 -1\r\n"), KV_CMD_SET, KV_ERR_BAD_FORMAT, 14);
    assert_err(P("set t 0 0 2147483646\r\n"), KV_CMD_SET, KV_ERR_BAD_FORMAT, 22);
    assert_err(P("set t 0 99999999999999999999 1\r\n"), KV_CMD_SET, KV_ERR_BAD_FORMAT, 32);
    assert_err(P("set t 0 0 \r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 12);
    assert_err(P("cas t 0 0 1 abc\r\n"), KV_CMD_CAS, KV_ERR_BAD_FORMAT, 17);
    assert_err(P("cas t 0 0 1 -1\r\n"), KV_CMD_CAS, KV_ERR_BAD_FORMAT, 16);
    kv_request c = P("cas t 0 0 1 18446744073709551615\r\nx\r\n");
    assert_true(c.cas == UINT64_MAX);
}

static void test_set_noreply_suppresses_errors(void **state)
{
    (void)state;
    kv_request r = P("set a 0 0 noreply\r\n");
    assert_err(r, KV_CMD_SET, KV_ERR_BAD_FORMAT, 19);
    assert_int_equal(r.noreply, 1);
}

static void test_set_key_too_long(void **state)
{
    (void)state;
    char s[400];
    int n = sprintf(s, "set %0251d 0 0 1\r\nx\r\n", 0);
    assert_err(parse_n(s, (size_t)n), KV_CMD_SET, KV_ERR_BAD_FORMAT, (uint32_t)n - 3);
}

static void test_set_need_more_and_bad_chunk(void **state)
{
    (void)state;
    kv_request r = P("set a 0 0 5\r\nhel");
    assert_int_equal(r.status, KV_PARSE_NEED_MORE);
    assert_int_equal(r.consumed, 20); /* the whole request's size is known */
    assert_int_equal(r.cmd, 0);
    assert_int_equal(r.nkeys, 0);
    r = P("set a 0 0 5\r\nhello\r");
    assert_int_equal(r.status, KV_PARSE_NEED_MORE);
    const char s[] = "set a 0 0 1\r\nabc\r\n";
    r = P(s);
    assert_err(r, KV_CMD_SET, KV_ERR_BAD_CHUNK, 16);
    key_is(s, &r, "a");
    r = P("set a 0 0 1 noreply\r\nabc\r\n");
    assert_err(r, KV_CMD_SET, KV_ERR_BAD_CHUNK, 24);
    assert_int_equal(r.noreply, 1);
}

static void test_set_too_large(void **state)
{
    (void)state;
    /* memcached 1.6.18 -I 1m: largest value for key "a" is 1048516 (flags 0) and
     * 1048512 (flags != 0) */
    char s[64];
    int n = sprintf(s, "set a 0 0 1048516\r\n");
    kv_request r = parse_n(s, (size_t)n);
    assert_int_equal(r.status, KV_PARSE_NEED_MORE);
    assert_int_equal(r.consumed, (uint32_t)n + 1048518);
    n = sprintf(s, "set a 0 0 1048517\r\n");
    r = parse_n(s, (size_t)n);
    assert_err(r, KV_CMD_SET, KV_ERR_TOO_LARGE, (uint32_t)n);
    assert_int_equal(r.swallow, 1048519);
    key_is(s, &r, "a");
    n = sprintf(s, "set a 1 0 1048513 noreply\r\n");
    r = parse_n(s, (size_t)n);
    assert_err(r, KV_CMD_SET, KV_ERR_TOO_LARGE, (uint32_t)n);
    assert_int_equal(r.noreply, 1);
    n = sprintf(s, "set a 1 0 1048512\r\n");
    assert_int_equal(parse_n(s, (size_t)n).status, KV_PARSE_NEED_MORE);
    n = sprintf(s, "set a 0 0 2147483645\r\n");
    r = parse_n(s, (size_t)n);
    assert_err(r, KV_CMD_SET, KV_ERR_TOO_LARGE, (uint32_t)n);
    assert_int_equal(r.swallow, 2147483647u);
}

static void test_delete(void **state)
{
    (void)state;
    const char s[] = "delete k\r\n";
    kv_request r = P(s);
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.cmd, KV_CMD_DELETE);
    key_is(s, &r, "k");
    r = P("delete k 0\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.noreply, 0);
    r = P("delete k noreply\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.noreply, 1);
    r = P("delete k 0 noreply\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.noreply, 1);
    assert_err(P("delete k 1\r\n"), KV_CMD_DELETE, KV_ERR_DELETE_USAGE, 12);
    r = P("delete k 1 noreply\r\n");
    assert_err(r, KV_CMD_DELETE, KV_ERR_DELETE_USAGE, 20);
    assert_int_equal(r.noreply, 1);
    assert_err(P("delete k x y z\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 16);
    assert_err(P("delete\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 8);
}

static void test_arith(void **state)
{
    (void)state;
    const char s[] = "incr n 18446744073709551615\r\n";
    kv_request r = P(s);
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.cmd, KV_CMD_INCR);
    key_is(s, &r, "n");
    assert_true(r.delta == UINT64_MAX);
    r = P("decr n 5 noreply\r\n");
    assert_int_equal(r.cmd, KV_CMD_DECR);
    assert_int_equal(r.delta, 5);
    assert_int_equal(r.noreply, 1);
    assert_err(P("incr a -1\r\n"), KV_CMD_INCR, KV_ERR_INVALID_DELTA, 11);
    assert_err(P("incr a 18446744073709551616\r\n"), KV_CMD_INCR, KV_ERR_INVALID_DELTA, 29);
    assert_err(P("incr a x\r\n"), KV_CMD_INCR, KV_ERR_INVALID_DELTA, 10);
    assert_err(P("incr a\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 8);
    assert_err(P("incr a 1 2 3\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 14);
}

static void test_touch(void **state)
{
    (void)state;
    kv_request r = P("touch a 100\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.cmd, KV_CMD_TOUCH);
    assert_int_equal(r.exptime, 100);
    assert_err(P("touch a x\r\n"), KV_CMD_TOUCH, KV_ERR_INVALID_EXPTIME, 11);
    r = P("touch a x noreply\r\n");
    assert_int_equal(r.noreply, 1);
    assert_err(P("touch a\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 9);
}

static void test_flush_version_verbosity_quit_stats(void **state)
{
    (void)state;
    kv_request r = P("flush_all\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.cmd, KV_CMD_FLUSH_ALL);
    assert_int_equal(r.delta, 0);
    r = P("flush_all 30 noreply\r\n");
    assert_int_equal(r.delta, 30);
    assert_int_equal(r.noreply, 1);
    r = P("flush_all -5\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.delta, 0);
    r = P("flush_all noreply\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.noreply, 1);
    assert_err(P("flush_all noreply x\r\n"), KV_CMD_FLUSH_ALL, KV_ERR_INVALID_EXPTIME, 21);
    r = P("flush_all 10 x\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.delta, 10);
    assert_err(P("flush_all 1 2 3\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 17);

    r = P("version extra\r\n");
    assert_int_equal(r.cmd, KV_CMD_VERSION);
    r = P("quit\n");
    assert_int_equal(r.cmd, KV_CMD_QUIT);
    assert_int_equal(r.consumed, 5);

    const char v[] = "verbosity 1 noreply\r\n";
    r = P(v);
    assert_int_equal(r.cmd, KV_CMD_VERBOSITY);
    assert_int_equal(r.delta, 1);
    assert_int_equal(r.noreply, 1);
    assert_int_equal(r.arg_len, 1);
    assert_memory_equal(v + r.arg_off, "1", 1);
    r = P("verbosity noreply\r\n");
    assert_err(r, KV_CMD_VERBOSITY, KV_ERR_BAD_FORMAT, 19);
    assert_int_equal(r.noreply, 1);

    const char st[] = "stats settings  \r\n";
    r = P(st);
    assert_int_equal(r.cmd, KV_CMD_STATS);
    assert_int_equal(r.arg_len, 8);
    assert_memory_equal(st + r.arg_off, "settings", 8);
    r = P("stats\r\n");
    assert_int_equal(r.cmd, KV_CMD_STATS);
    assert_int_equal(r.arg_len, 0);
    assert_int_equal(r.arg_off, 0);
}

static void test_lines(void **state)
{
    (void)state;
    assert_err(P("\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 2);
    assert_err(P("\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 1);
    assert_err(P("   \r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 5);
    assert_err(P("g a\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 5);
    assert_int_equal(P("mg a v\r\n").cmd, KV_CMD_MG); /* meta commands are parsed */
    assert_err(P("GET a\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 7);
    /* a NUL byte ends the line as memcached sees it */
    const char z[] = "get a\0b\r\n";
    kv_request r = P(z);
    assert_int_equal(r.status, KV_PARSE_OK);
    key_is(z, &r, "a");
    assert_int_equal(r.consumed, 9);
    /* one CR is stripped, a second one belongs to the key; tabs belong to keys */
    const char cr[] = "get a\r\r\n";
    r = P(cr);
    key_is(cr, &r, "a\r");
    const char tab[] = "get k\tx\r\n";
    r = P(tab);
    key_is(tab, &r, "k\tx");
    /* leading spaces are fine */
    r = P("   get   a  \r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.nkeys, 1);
}

static void test_need_more_and_long_lines(void **state)
{
    (void)state;
    kv_request r = P("");
    assert_int_equal(r.status, KV_PARSE_NEED_MORE);
    assert_int_equal(r.consumed, 0);
    r = P("get a");
    assert_int_equal(r.status, KV_PARSE_NEED_MORE);
    char *s = malloc(5000);
    assert_non_null(s);
    memset(s, 'x', 5000);
    r = parse_n(s, 2048);
    assert_int_equal(r.status, KV_PARSE_NEED_MORE);
    r = parse_n(s, 2049);
    assert_int_equal(r.status, KV_PARSE_CLOSE);
    assert_int_equal(r.error, KV_ERR_LINE_TOO_LONG);
    assert_int_equal(r.consumed, 0);
    memcpy(s, "get ", 4);
    r = parse_n(s, 5000);
    assert_int_equal(r.status, KV_PARSE_NEED_MORE);
    memset(s, ' ', 101);
    memcpy(s + 101, "gets ", 5);
    assert_int_equal(parse_n(s, 5000).status, KV_PARSE_CLOSE);
    memset(s, ' ', 100);
    memcpy(s + 100, "gets ", 5);
    assert_int_equal(parse_n(s, 5000).status, KV_PARSE_NEED_MORE);
    /* a long line that does end is processed */
    memset(s, 'x', 5000);
    memcpy(s, "get ", 4);
    for (int i = 10; i < 4990; i += 10) {
        s[i] = ' ';
    }
    s[4998] = '\r';
    s[4999] = '\n';
    r = parse_n(s, 5000);
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.consumed, 5000);
    free(s);
}

static void test_http_closes(void **state)
{
    (void)state;
    kv_request r = P("GET / HTTP/1.1\r\n");
    assert_int_equal(r.status, KV_PARSE_CLOSE);
    assert_int_equal(r.error, KV_ERR_HTTP);
    assert_int_equal(r.consumed, 0);
    /* names memcached dispatches by first letter answer ERROR instead */
    assert_err(P("gx HTTP/1.1\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 13);
    assert_err(P("xx HTTP\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 9);
    assert_err(P("lru_crawler HTTP/1.1\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 22);
}

static void test_bget_alias(void **state)
{
    (void)state;
    kv_request r = P("bget a b\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.cmd, KV_CMD_GET);
    assert_int_equal(r.nkeys, 2);
}

/* Every prefix of a valid pipeline parses as NEED_MORE or as the first request, never
 * reads past the given length (ASan checks the copy), and garbage never crashes. */
static void test_prefixes_and_noise(void **state)
{
    (void)state;
    const char s[] = "set k 1 2 3 noreply\r\nabc\r\n";
    size_t n = sizeof(s) - 1;
    for (size_t i = 0; i <= n; i++) {
        char *c = malloc(i ? i : 1);
        assert_non_null(c);
        memcpy(c, s, i);
        kv_request r = parse_n(c, i);
        if (i < n) {
            assert_int_equal(r.status, KV_PARSE_NEED_MORE);
        } else {
            assert_int_equal(r.status, KV_PARSE_OK);
        }
        free(c);
    }
    uint64_t x = 88172645463325252ULL;
    for (int iter = 0; iter < 20000; iter++) {
        char buf[64];
        size_t len = (size_t)(iter % 64);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            static const char alpha[] = "get set 0 1 -\r\n noreply a\t\0x9";
            buf[i] = alpha[x % (sizeof(alpha) - 1)];
        }
        char *c = malloc(len ? len : 1);
        assert_non_null(c);
        memcpy(c, buf, len);
        kv_request r = parse_n(c, len);
        assert_true(r.consumed <= len || r.status == KV_PARSE_NEED_MORE);
        assert_true(r.key_off + r.key_len <= len);
        free(c);
    }
}

/* ---- meta commands ---- */

static void test_meta_requests(void **state)
{
    (void)state;
    const char mg[] = "mg foo v T30 q O1 D5\r\n";
    kv_request r = P(mg);
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.cmd, KV_CMD_MG);
    key_is(mg, &r, "foo");
    assert_int_equal(r.noreply, 1);
    assert_int_equal(r.exptime, 30);
    assert_int_equal(r.delta, 5);
    assert_int_equal(r.arg_off, 7);
    assert_int_equal(r.arg_len, strlen("v T30 q O1 D5"));
    assert_int_equal(r.consumed, sizeof(mg) - 1);

    const char ms[] = "ms Zm9v 3 b F7 C9 MA\r\nabc\r\nmn\r\n";
    r = P(ms);
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.cmd, KV_CMD_MS);
    key_is(ms, &r, "Zm9v");
    assert_int_equal(r.flags, 7);
    assert_int_equal(r.cas, 9);
    assert_int_equal(r.data_len, 3);
    assert_memory_equal(ms + r.data_off, "abc", 3);
    assert_int_equal(r.consumed, sizeof(ms) - 1 - 4);
    assert_int_equal(r.arg_len, strlen("b F7 C9 MA"));

    r = P("ma foo\r\n");
    assert_int_equal(r.cmd, KV_CMD_MA);
    assert_int_equal(r.delta, 1); /* ma's default delta */
    r = P("mn\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.cmd, KV_CMD_MN);
    r = P("me Zm9v b\r\n");
    assert_int_equal(r.status, KV_PARSE_OK);
    assert_int_equal(r.cmd, KV_CMD_ME);
    assert_int_equal(r.arg_len, 1);
    assert_err(P("me foo b\r\n"), KV_CMD_ME, KV_ERR_BAD_FORMAT, 10); /* "foo" is not base64 */

    /* incomplete value: the bytes the request needs */
    r = P("ms foo 10\r\nabc");
    assert_int_equal(r.status, KV_PARSE_NEED_MORE);
    assert_int_equal(r.consumed, 11 + 12);
}

static void test_meta_errors(void **state)
{
    (void)state;
    assert_err(P("mg\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 4);
    assert_err(P("mx foo\r\n"), KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND, 8);
    assert_err(P("me\r\n"), KV_CMD_ME, KV_ERR_BAD_FORMAT, 4);
    assert_err(P("mg foo v v\r\n"), KV_CMD_MG, KV_ERR_META_DUP_FLAG, 12);
    assert_err(P("mg foo x\r\n"), KV_CMD_MG, KV_ERR_META_INVALID_FLAG, 10);
    assert_err(P("mg foo E5\r\n"), KV_CMD_MG, KV_ERR_META_INVALID_FLAG, 11);
    assert_err(P("mg foo \xffv\r\n"), KV_CMD_MG, KV_ERR_META_DUP_FLAG, 11);
    assert_err(P("mg foo Tx\r\n"), KV_CMD_MG, KV_ERR_META_BAD_TOKEN, 11);
    assert_err(P("mg foo Fx\r\n"), KV_CMD_MG, KV_ERR_BAD_FORMAT, 11);
    assert_err(P("mg foo Nx Fx\r\n"), KV_CMD_MG, KV_ERR_META_BAD_TOKEN, 14);
    assert_err(P("mg foo Jx Dx\r\n"), KV_CMD_MG, KV_ERR_META_DELTA, 14);
    assert_err(P("mg foo Dx Jx\r\n"), KV_CMD_MG, KV_ERR_META_INITIAL, 14);
    assert_err(P("mg foo Tx v v\r\n"), KV_CMD_MG, KV_ERR_META_DUP_FLAG, 15);
    assert_err(P("mg foo MEE\r\n"), KV_CMD_MG, KV_ERR_META_M_LENGTH, 12);
    assert_err(P("mg Zm9v= b\r\n"), KV_CMD_MG, KV_ERR_META_KEY_DECODE, 12);
    assert_err(P("mg foo v v v v v v v v v v v v v v v v v v\r\n"), KV_CMD_MG,
               KV_ERR_META_MG_TOO_LONG, 44);
    assert_err(P("md foo v v v v v v v v v v v v v v v v v v\r\n"), KV_CMD_MD, KV_ERR_META_TOO_LONG,
               44);
    assert_err(P("md foo Tx\r\n"), KV_CMD_MD, KV_ERR_META_FLAG, 11);
    assert_err(P("ma foo MX\r\n"), KV_CMD_MA, KV_ERR_META_MA_MODE, 11);
    /* mg/ma: a too-long opaque keeps the description (memcached acts, then errs) */
    const char lo[] = "mg foo N30 q Oaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    kv_request o = P(lo);
    assert_err(o, KV_CMD_MG, KV_ERR_META_OPAQUE, sizeof(lo) - 1);
    key_is(lo, &o, "foo");
    assert_int_equal(o.noreply, 0);
    assert_int_equal(o.arg_len, strlen("N30 q Oaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    o = P("md foo Oaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    assert_err(o, KV_CMD_MD, KV_ERR_META_OPAQUE, 42); /* md checks first: nothing kept */
    assert_int_equal(o.nkeys, 0);
    /* ms: flag errors swallow the value; a bad datalen does not */
    kv_request r = P("ms foo 2 x\r\nhi\r\n");
    assert_err(r, KV_CMD_MS, KV_ERR_META_INVALID_FLAG, 12);
    assert_int_equal(r.swallow, 4);
    r = P("ms foo 2 q MX Oaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nhi\r\n");
    assert_int_equal(r.error, KV_ERR_META_MS_MODE); /* the mode error wins */
    assert_int_equal(r.noreply, 0);                 /* meta errors are always sent */
    r = P("ms foo x\r\n");
    assert_err(r, KV_CMD_MS, KV_ERR_BAD_FORMAT, 10);
    assert_int_equal(r.swallow, 0);
    assert_err(P("ms foo\r\n"), KV_CMD_MS, KV_ERR_BAD_FORMAT, 8);
    r = P("ms foo 2000000 q\r\n");
    assert_err(r, KV_CMD_MS, KV_ERR_TOO_LARGE, 18);
    assert_int_equal(r.swallow, 2000002);
    key_is("ms foo 2000000 q\r\n", &r, "foo");
    r = P("ms foo 2 q\r\nhiX\r\n");
    assert_err(r, KV_CMD_MS, KV_ERR_BAD_CHUNK, 16);
    assert_int_equal(r.noreply, 0);
}

static void test_meta_base64(void **state)
{
    (void)state;
    unsigned char out[16];
    assert_int_equal(kv_base64_decode("Zm9v", 4, out, sizeof(out)), 3);
    assert_memory_equal(out, "foo", 3);
    assert_int_equal(kv_base64_decode("Zg==", 4, out, sizeof(out)), 1);
    assert_int_equal(out[0], 'f');
    assert_int_equal(kv_base64_decode("Zm8=", 4, out, sizeof(out)), 2);
    assert_int_equal(kv_base64_decode("Zm9v!!", 6, out, sizeof(out)), 3); /* skipped */
    assert_int_equal(kv_base64_decode("Zm9", 3, out, sizeof(out)), 0);
    assert_int_equal(kv_base64_decode("Z===", 4, out, sizeof(out)), 0); /* bad padding */
    assert_int_equal(kv_base64_decode("", 0, out, sizeof(out)), 0);
    assert_int_equal(kv_base64_decode("Zm9vYmFy", 8, out, 5), 0); /* too small a cap */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_keys),
        cmocka_unit_test(test_get_many_keys_past_token_cap),
        cmocka_unit_test(test_get_errors),
        cmocka_unit_test(test_gat),
        cmocka_unit_test(test_set_ok),
        cmocka_unit_test(test_set_numbers_like_strtol),
        cmocka_unit_test(test_set_noreply_suppresses_errors),
        cmocka_unit_test(test_set_key_too_long),
        cmocka_unit_test(test_set_need_more_and_bad_chunk),
        cmocka_unit_test(test_set_too_large),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_arith),
        cmocka_unit_test(test_touch),
        cmocka_unit_test(test_flush_version_verbosity_quit_stats),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_need_more_and_long_lines),
        cmocka_unit_test(test_http_closes),
        cmocka_unit_test(test_bget_alias),
        cmocka_unit_test(test_prefixes_and_noise),
        cmocka_unit_test(test_meta_requests),
        cmocka_unit_test(test_meta_errors),
        cmocka_unit_test(test_meta_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
