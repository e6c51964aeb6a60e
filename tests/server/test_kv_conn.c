/*
 * test_kv_conn.c: unit tests of the per-connection protocol engine and of response
 * formatting, in memory (no sockets): replies, memcached's flush points and culling,
 * swallowing, split input, bounded buffers, and the parse seam (one call per request,
 * with the connection id).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <cmocka.h>

#include "kv_conn.h"
#include "kv_resp.h"
#include "kv_seams.h"

static kv_server srv;
static kv_thread_stats tstats;

static int setup(void **state)
{
    (void)state;
    memset(&srv, 0, sizeof(srv));
    memset(&tstats, 0, sizeof(tstats));
    kv_store_config cfg = {8u << 20, 1024 * 1024, 1700000000, 0};
    if (kv_store_create(&cfg, &srv.store) != 0) {
        return -1;
    }
    srv.limits.item_size_max = 1024 * 1024;
    srv.limits.max_line = 2048;
    srv.max_in = srv.limits.item_size_max + KV_IN_SLACK;
    srv.threads = 1;
    srv.maxconns = 10;
    srv.stats = &tstats;
    srv.nstats = 1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    kv_store_destroy(srv.store);
    return 0;
}

/* Feeds bytes, processing whenever the buffer is full (as kv_net does after each
 * read), and returns the state after the last bytes. */
static kv_conn_state feed(kv_conn *c, const char *s, size_t n)
{
    while (n > 0) {
        char *dst;
        size_t room = kv_conn_input_space(c, &dst);
        if (room == 0) {
            assert_int_equal(kv_conn_process(c, 10), KV_CONN_READ);
            room = kv_conn_input_space(c, &dst);
        }
        assert_true(room > 0);
        size_t k = n < room ? n : room;
        memcpy(dst, s, k);
        kv_conn_received(c, k);
        s += k;
        n -= k;
    }
    return kv_conn_process(c, 10);
}

static char outbuf[1 << 21];
static const char *take(kv_conn *c)
{
    size_t n = 0;
    struct iovec iov[8];
    int k;
    while ((k = kv_conn_iov(c, iov, 8)) > 0) {
        size_t got = 0;
        for (int i = 0; i < k; i++) {
            assert_true(n + iov[i].iov_len < sizeof(outbuf));
            memcpy(outbuf + n, iov[i].iov_base, iov[i].iov_len);
            n += iov[i].iov_len;
            got += iov[i].iov_len;
        }
        kv_conn_sent(c, got);
    }
    outbuf[n] = '\0';
    return outbuf;
}

#define FEED(c, lit) feed((c), (lit), sizeof(lit) - 1)

static void test_basic_replies(void **state)
{
    (void)state;
    kv_conn c;
    assert_int_equal(kv_conn_init(&c, 1, &srv, &tstats), 0);
    FEED(&c, "set a 5 0 2\r\nhi\r\nget a b\r\nincr a 1\r\ndelete a\r\ndelete a\r\n"
             "touch a 1\r\nversion\r\nfoo\r\n");
    assert_string_equal(take(&c), "STORED\r\nVALUE a 5 2\r\nhi\r\nEND\r\n"
                                  "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
                                  "DELETED\r\nNOT_FOUND\r\nNOT_FOUND\r\nVERSION " KV_VERSION "\r\n"
                                  "ERROR\r\n");
    FEED(&c, "set n 0 0 2 noreply\r\n10\r\nincr n 5\r\ndecr n 100 noreply\r\nget n\r\n");
    assert_string_equal(take(&c), "15\r\nVALUE n 0 2\r\n0 \r\nEND\r\n");
    FEED(&c, "flush_all\r\nget n\r\nverbosity 1\r\nstats nope\r\n");
    assert_string_equal(take(&c), "OK\r\nEND\r\nOK\r\nERROR\r\n");
    assert_int_equal(FEED(&c, "quit\r\nget n\r\n"), KV_CONN_CLOSE);
    assert_string_equal(take(&c), "");
    kv_conn_free(&c);
}

static void test_flush_points_and_cull(void **state)
{
    (void)state;
    kv_conn c;
    assert_int_equal(kv_conn_init(&c, 2, &srv, &tstats), 0);
    /* a value still arriving holds earlier replies back (memcached's conn_nread) */
    FEED(&c, "set a 0 0 1\r\nx\r\nset b 0 0 5\r\nab");
    assert_string_equal(take(&c), "");
    FEED(&c, "cde\r\n");
    assert_string_equal(take(&c), "STORED\r\nSTORED\r\n");
    /* a get with an over-long key drops the replies not yet sent */
    char line[400];
    int n = snprintf(line, sizeof(line), "set a 0 0 1\r\nx\r\nget a %0251d\r\n", 0);
    feed(&c, line, (size_t)n);
    assert_string_equal(take(&c), "CLIENT_ERROR bad command line format\r\n");
    /* ... but not a get's reply, which memcached sends at once */
    n = snprintf(line, sizeof(line), "get a\r\nget %0251d\r\n", 0);
    feed(&c, line, (size_t)n);
    assert_string_equal(take(&c),
                        "VALUE a 0 1\r\nx\r\nEND\r\nCLIENT_ERROR bad command line format\r\n");
    /* an HTTP request closes without the pending replies */
    assert_int_equal(FEED(&c, "delete zz\r\nGET / HTTP/1.1\r\n"), KV_CONN_CLOSE);
    assert_string_equal(take(&c), "");
    kv_conn_free(&c);
}

static void test_swallow_and_split(void **state)
{
    (void)state;
    kv_conn c;
    assert_int_equal(kv_conn_init(&c, 3, &srv, &tstats), 0);
    FEED(&c, "set big 0 0 2000000\r\n");
    char *junk = malloc(2000002);
    assert_non_null(junk);
    memset(junk, 'j', 2000002);
    for (size_t off = 0; off < 2000002; off += 300000) {
        size_t k = 2000002 - off < 300000 ? 2000002 - off : 300000;
        feed(&c, junk + off, k);
    }
    free(junk);
    FEED(&c, "get big\r\n");
    assert_string_equal(take(&c), "SERVER_ERROR object too large for cache\r\nEND\r\n");
    const char *script = "set s 1 0 3\r\nabc\r\nget s\r\n";
    for (const char *p = script; *p; p++) {
        feed(&c, p, 1);
    }
    assert_string_equal(take(&c), "STORED\r\nVALUE s 1 3\r\nabc\r\nEND\r\n");
    kv_conn_free(&c);
}

static void test_buffer_bound(void **state)
{
    (void)state;
    kv_conn c;
    assert_int_equal(kv_conn_init(&c, 4, &srv, &tstats), 0);
    FEED(&c, "flush_all\r\n"); /* nothing to evict: test_stats counts evictions */
    assert_string_equal(take(&c), "OK\r\n");
    /* a multi-get line is accepted past -I + slack; its buffer claims bytes of the
     * store's limit (8 MB here), and when that is exhausted the connection ends with
     * memcached's read error */
    char chunk[4096];
    memset(chunk, 'k', sizeof(chunk));
    memcpy(chunk, "get ", 4);
    for (size_t i = 10; i < sizeof(chunk); i += 10) {
        chunk[i] = ' ';
    }
    size_t total = 0;
    kv_conn_state st = KV_CONN_READ;
    while (st == KV_CONN_READ) {
        char *dst;
        size_t room = kv_conn_input_space(&c, &dst);
        assert_true(room > 0);
        size_t k = room < sizeof(chunk) ? room : sizeof(chunk);
        memcpy(dst, chunk, k); /* "get " then keys; later copies just add keys */
        kv_conn_received(&c, k);
        total += k;
        st = kv_conn_process(&c, 10);
        assert_true(total <= KV_GETLINE_MAX);
        kv_store_stats ss;
        kv_store_get_stats(srv.store, &ss);
        assert_true(ss.accounted <= ss.limit_maxbytes);
    }
    assert_int_equal(st, KV_CONN_CLOSE);
    assert_true(total > srv.max_in);
    assert_string_equal(take(&c), "SERVER_ERROR out of memory reading request\r\n");
    kv_conn_free(&c);
    kv_store_stats ss;
    kv_store_get_stats(srv.store, &ss);
    assert_int_equal(ss.accounted, ss.bytes); /* the claim went back */
}

/* Large values go out by reference: a multi-get pauses at the high-water mark, the
 * item survives its deletion until the reply is sent, and its memory stays counted
 * until then. */
static void test_refs_and_pause(void **state)
{
    (void)state;
    kv_conn c, c2;
    assert_int_equal(kv_conn_init(&c, 5, &srv, &tstats), 0);
    assert_int_equal(kv_conn_init(&c2, 6, &srv, &tstats), 0);
    enum { V = 100000, N = 200 };
    static char req[32 + V + 2];
    int h = snprintf(req, sizeof(req), "set big 0 0 %d\r\n", V);
    for (int i = 0; i < V; i++) {
        req[h + i] = (char)('a' + i % 26);
    }
    memcpy(req + h + V, "\r\n", 2);
    feed(&c, req, (size_t)h + V + 2);
    assert_string_equal(take(&c), "STORED\r\n");
    static char line[8 + 4 * N];
    size_t n = 3;
    memcpy(line, "get", 3);
    for (int i = 0; i < N; i++) {
        memcpy(line + n, " big", 4);
        n += 4;
    }
    memcpy(line + n, "\r\n", 2);
    n += 2;
    assert_int_equal(feed(&c, line, n), KV_CONN_WRITE);
    assert_int_equal(c.in_get, 1);
    assert_true(c.nref <= KV_OUT_REFS && c.ref_bytes <= KV_REF_HIGH + V + 2);
    assert_true(c.out_len < KV_OUT_HIGH);
    size_t queued = c.nref; /* the keys after these are looked up after the delete */
    assert_true(queued > 0 && queued < N);
    FEED(&c2, "delete big\r\n");
    assert_string_equal(take(&c2), "DELETED\r\n");
    kv_store_stats ss;
    kv_store_get_stats(srv.store, &ss);
    assert_int_equal(ss.bytes, 0);
    assert_true(ss.accounted >= V); /* still referenced, still counted */
    size_t got = 0, values = 0;
    kv_conn_state st;
    do {
        struct iovec iov[4];
        int k = kv_conn_iov(&c, iov, 4);
        for (int i = 0; i < k; i++) {
            const char *p = iov[i].iov_base;
            if (iov[i].iov_len == V + 2) {
                assert_memory_equal(p, req + h, V + 2);
                values++;
            }
            got += iov[i].iov_len;
            kv_conn_sent(&c, iov[i].iov_len);
        }
        st = kv_conn_process(&c, 10);
    } while (st == KV_CONN_WRITE || kv_conn_sendable_len(&c) > 0);
    assert_int_equal(values, queued);
    assert_int_equal(got, queued * (strlen("VALUE big 0 100000\r\n") + V + 2) + 5);
    kv_store_get_stats(srv.store, &ss);
    assert_int_equal(ss.accounted, 0); /* the last reference freed it */
    kv_conn_free(&c);
    kv_conn_free(&c2);
}

/* Short writes at any byte, through copied bytes and referenced values alike, give the
 * exact reply stream. */
static void test_partial_sends(void **state)
{
    (void)state;
    kv_conn c;
    assert_int_equal(kv_conn_init(&c, 7, &srv, &tstats), 0);
    enum { V = 10000 };
    static char req[64 + V];
    int h = snprintf(req, sizeof(req), "set r 5 0 %d\r\n", V);
    for (int i = 0; i < V; i++) {
        req[h + i] = (char)('A' + i % 23);
    }
    memcpy(req + h + V, "\r\n", 2);
    feed(&c, req, (size_t)h + V + 2);
    FEED(&c, "set s 0 0 2\r\nhi\r\n");
    assert_string_equal(take(&c), "STORED\r\nSTORED\r\n");
    static char want[1 << 20];
    size_t wn = 0;
    for (int k = 0; k < 30; k++) {
        wn += (size_t)sprintf(want + wn, "VALUE r 5 %d\r\n", V);
        memcpy(want + wn, req + h, V + 2);
        wn += V + 2;
        wn += (size_t)sprintf(want + wn, "VALUE s 0 2\r\nhi\r\n");
    }
    wn += (size_t)sprintf(want + wn, "END\r\n");
    static char line[512];
    size_t n = (size_t)sprintf(line, "get");
    for (int k = 0; k < 30; k++) {
        n += (size_t)sprintf(line + n, " r s");
    }
    n += (size_t)sprintf(line + n, "\r\n");
    kv_conn_state st = feed(&c, line, n);
    static char got[1 << 20];
    size_t gn = 0;
    for (;;) {
        struct iovec iov[3];
        int k = kv_conn_iov(&c, iov, 3);
        if (k == 0) {
            if (st != KV_CONN_WRITE) {
                break;
            }
            st = kv_conn_process(&c, 10);
            continue;
        }
        size_t chunk = 7777, took = 0; /* a short write ends anywhere */
        for (int i = 0; i < k && took < chunk; i++) {
            size_t m = iov[i].iov_len < chunk - took ? iov[i].iov_len : chunk - took;
            assert_true(gn + m <= sizeof(got));
            memcpy(got + gn, iov[i].iov_base, m);
            gn += m;
            took += m;
        }
        kv_conn_sent(&c, took);
    }
    assert_int_equal(gn, wn);
    assert_memory_equal(got, want, wn);
    assert_int_equal(c.nref, 0);
    kv_conn_free(&c);
}

/* Value buffers claim bytes of the limit; when none can be claimed, a storage request
 * gets memcached's out-of-memory answer, its value is swallowed and a set drops the old
 * value; the connection goes on. */
static void test_value_buffer_budget(void **state)
{
    (void)state;
    enum { V = 1000000, PART = 100 };
    static char value[V + 2];
    memset(value, 'q', V);
    memcpy(value + V, "\r\n", 2);
    kv_conn c[5];
    for (int i = 0; i < 5; i++) {
        assert_int_equal(kv_conn_init(&c[i], 20 + (uint64_t)i, &srv, &tstats), 0);
    }
    FEED(&c[4], "flush_all\r\nset s4 0 0 5\r\nhello\r\n");
    assert_string_equal(take(&c[4]), "OK\r\nSTORED\r\n");
    char line[64];
    /* half the 8 MB limit may hold buffers: four 1 MB values fit, a fifth does not */
    for (int i = 0; i < 4; i++) {
        int n = snprintf(line, sizeof(line), "set s%d 0 0 %d\r\n", i, V);
        feed(&c[i], line, (size_t)n);
        assert_int_equal(feed(&c[i], value, PART), KV_CONN_READ);
        assert_string_equal(take(&c[i]), "");
        assert_true(c[i].in_reserved > 0);
    }
    int n = snprintf(line, sizeof(line), "set s4 0 0 %d\r\n", V);
    feed(&c[4], line, (size_t)n);
    assert_int_equal(c[4].in_reserved, 0);
    assert_true(c[4].swallow > 0);
    feed(&c[4], value, V + 2); /* swallowed: as memcached, the answer comes after it */
    FEED(&c[4], "get s4\r\n");
    /* and the stale value is gone */
    assert_string_equal(take(&c[4]), "SERVER_ERROR out of memory storing object\r\nEND\r\n");
    n = snprintf(line, sizeof(line), "add s5 0 0 %d noreply\r\n", V);
    feed(&c[4], line, (size_t)n);
    feed(&c[4], value, V + 2);
    FEED(&c[4], "get s5\r\n");
    assert_string_equal(take(&c[4]), "END\r\n");
    feed(&c[0], value + PART, V + 2 - PART);
    assert_string_equal(take(&c[0]), "STORED\r\n");
    assert_int_equal(c[0].in_reserved, 0);
    for (int i = 0; i < 5; i++) {
        kv_conn_free(&c[i]);
    }
    kv_store_stats ss;
    kv_store_get_stats(srv.store, &ss);
    assert_int_equal(ss.accounted, ss.bytes); /* every claim given back */
    assert_true(ss.bytes >= V);
}

static uint64_t seen_ids[64];
static int parse_calls;
static void recording_parse(uint64_t id, const char *buf, size_t len, const kv_parse_limits *lim,
                            kv_request *out)
{
    if (parse_calls < 64) {
        seen_ids[parse_calls] = id;
    }
    parse_calls++;
    kv_parse_legacy(id, buf, len, lim, out);
}

static void test_parse_seam(void **state)
{
    (void)state;
    kv_parse_fn saved = kv_parse_impl;
    kv_parse_impl = recording_parse;
    parse_calls = 0;
    kv_conn c;
    assert_int_equal(kv_conn_init(&c, 0xABCDEF0123ULL, &srv, &tstats), 0);
    FEED(&c, "set a 0 0 1\r\nx\r\nget a\r\ndelete a\r\n");
    /* three requests, then one more call that finds the buffer empty is not made */
    assert_int_equal(parse_calls, 3);
    for (int i = 0; i < 3; i++) {
        assert_true(seen_ids[i] == 0xABCDEF0123ULL);
    }
    kv_parse_impl = saved;
    kv_conn_free(&c);
}

static void test_stats(void **state)
{
    (void)state;
    kv_conn c;
    assert_int_equal(kv_conn_init(&c, 5, &srv, &tstats), 0);
    FEED(&c, "flush_all\r\nstats reset\r\n");
    assert_string_equal(take(&c), "OK\r\nRESET\r\n");
    FEED(&c, "set st 0 0 1\r\nx\r\nget st\r\nget nope\r\nstats\r\n");
    const char *o = take(&c);
    assert_non_null(strstr(o, "STAT get_hits 1\r\n"));
    assert_non_null(strstr(o, "STAT get_misses 1\r\n"));
    assert_non_null(strstr(o, "STAT curr_items 1\r\n"));
    assert_non_null(strstr(o, "STAT version " KV_VERSION "\r\n"));
    assert_true(strlen(o) > 5 && strcmp(o + strlen(o) - 5, "END\r\n") == 0);
    FEED(&c, "stats reset\r\nstats settings\r\nstats items\r\n");
    o = take(&c);
    assert_true(strncmp(o, "RESET\r\nSTAT maxbytes ", 21) == 0);
    assert_non_null(strstr(o, "STAT items:1:number 1\r\nSTAT items:1:evicted 0\r\n"));
    kv_conn_free(&c);
}

static void test_resp_format(void **state)
{
    (void)state;
    char b[KV_VALUE_HEADER_MAX];
    size_t n = kv_resp_value_header(b, "key", 3, 4294967295u, 0, 1, UINT64_MAX);
    assert_int_equal(n, strlen("VALUE key 4294967295 0 18446744073709551615\r\n"));
    assert_memory_equal(b, "VALUE key 4294967295 0 18446744073709551615\r\n", n);
    n = kv_resp_u64_line(b, 0);
    assert_memory_equal(b, "0\r\n", n);
    size_t len;
    assert_string_equal(kv_resp_parse_error(KV_ERR_DELETE_USAGE, &len),
                        "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n");
    assert_null(kv_resp_parse_error(KV_ERR_LINE_TOO_LONG, &len));
    assert_string_equal(kv_resp_store_result(KV_RES_NO_MEMORY, 1, &len),
                        "SERVER_ERROR out of memory\r\n");
    assert_string_equal(kv_resp_store_result(KV_RES_NO_MEMORY, 0, &len),
                        "SERVER_ERROR out of memory storing object\r\n");
    assert_int_equal(kv_resp_stat_u64(b, 10, "long_name", 1), 0);
    n = kv_resp_stat_u64(b, sizeof(b), "pid", 42);
    assert_memory_equal(b, "STAT pid 42\r\n", n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_replies),
        cmocka_unit_test(test_flush_points_and_cull),
        cmocka_unit_test(test_swallow_and_split),
        cmocka_unit_test(test_buffer_bound),
        cmocka_unit_test(test_refs_and_pause),
        cmocka_unit_test(test_value_buffer_budget),
        cmocka_unit_test(test_partial_sends),
        cmocka_unit_test(test_parse_seam),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_resp_format),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
