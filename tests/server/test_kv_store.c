/*
 * test_kv_store.c: unit tests of kvd's storage engine: memcached's store semantics,
 * expiry and flush with a controlled clock, incr/decr rules, LRU eviction and memory
 * accounting under a small limit, incremental table growth, the one-hash-per-operation
 * seam rule, and concurrent use (label tsan).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kv_rs.h"
#include "kv_seams.h"
#include "kv_store.h"

#define STARTED 1700000000LL

static kv_store *mk(size_t limit, uint32_t buckets)
{
    kv_store_config cfg = {limit, 1024 * 1024, STARTED, buckets};
    kv_store *s = NULL;
    assert_int_equal(kv_store_create(&cfg, &s), 0);
    return s;
}

typedef struct got {
    int n;
    char val[4096];
    uint32_t len, flags;
    uint64_t cas;
} got;

static void visit(void *ctx, const kv_item_view *v)
{
    got *g = ctx;
    g->n++;
    assert_true(v->nbytes < sizeof(g->val));
    memcpy(g->val, v->data, v->nbytes);
    g->val[v->nbytes] = '\0';
    /* the CRLF follows the value so replies can copy both at once */
    assert_int_equal(v->data[v->nbytes], '\r');
    assert_int_equal(v->data[v->nbytes + 1], '\n');
    g->len = v->nbytes;
    g->flags = v->flags;
    g->cas = v->cas;
}

static int get(kv_store *s, const char *k, uint32_t now, got *g)
{
    memset(g, 0, sizeof(*g));
    return kv_store_get(s, k, (uint32_t)strlen(k), now, 0, 0, visit, g);
}

static kv_store_result put(kv_store *s, kv_store_mode m, const char *k, const char *v, int64_t exp,
                           uint64_t cas, uint32_t now)
{
    return kv_store_store(s, m, k, (uint32_t)strlen(k), 7, exp, v, (uint32_t)strlen(v), cas, now);
}

static void test_store_modes(void **state)
{
    (void)state;
    kv_store *s = mk(1 << 20, 0);
    got g;
    assert_int_equal(get(s, "a", 10, &g), 0);
    assert_int_equal(put(s, KV_MODE_SET, "a", "hello", 0, 0, 10), KV_RES_STORED);
    assert_int_equal(get(s, "a", 10, &g), 1);
    assert_string_equal(g.val, "hello");
    assert_int_equal(g.flags, 7);
    uint64_t cas1 = g.cas;
    assert_int_equal(put(s, KV_MODE_ADD, "a", "x", 0, 0, 10), KV_RES_NOT_STORED);
    assert_int_equal(put(s, KV_MODE_ADD, "b", "x", 0, 0, 10), KV_RES_STORED);
    assert_int_equal(put(s, KV_MODE_REPLACE, "c", "x", 0, 0, 10), KV_RES_NOT_STORED);
    assert_int_equal(put(s, KV_MODE_REPLACE, "b", "yy", 0, 0, 10), KV_RES_STORED);
    assert_int_equal(put(s, KV_MODE_APPEND, "b", "zz", 0, 0, 10), KV_RES_STORED);
    assert_int_equal(put(s, KV_MODE_PREPEND, "b", "<", 0, 0, 10), KV_RES_STORED);
    get(s, "b", 10, &g);
    assert_string_equal(g.val, "<yyzz");
    assert_int_equal(put(s, KV_MODE_APPEND, "nope", "zz", 0, 0, 10), KV_RES_NOT_STORED);
    assert_int_equal(put(s, KV_MODE_CAS, "nope", "v", 0, 1, 10), KV_RES_NOT_FOUND);
    assert_int_equal(put(s, KV_MODE_CAS, "a", "v", 0, cas1 + 1000, 10), KV_RES_EXISTS);
    assert_int_equal(put(s, KV_MODE_CAS, "a", "v2", 0, cas1, 10), KV_RES_STORED);
    get(s, "a", 10, &g);
    assert_string_equal(g.val, "v2");
    assert_true(g.cas != cas1);
    assert_int_equal(kv_store_delete(s, "a", 1, 10), KV_RES_DELETED);
    assert_int_equal(kv_store_delete(s, "a", 1, 10), KV_RES_NOT_FOUND);
    assert_int_equal(get(s, "a", 10, &g), 0);
    kv_store_destroy(s);
}

static void test_append_keeps_flags_and_limit(void **state)
{
    (void)state;
    kv_store_config cfg = {1 << 22, 1000, STARTED, 0};
    kv_store *s = NULL;
    assert_int_equal(kv_store_create(&cfg, &s), 0);
    assert_int_equal(kv_store_store(s, KV_MODE_SET, "k", 1, 42, 0, "ab", 2, 0, 5), KV_RES_STORED);
    assert_int_equal(kv_store_store(s, KV_MODE_APPEND, "k", 1, 9, 0, "cd", 2, 0, 5), KV_RES_STORED);
    got g;
    get(s, "k", 5, &g);
    assert_string_equal(g.val, "abcd");
    assert_int_equal(g.flags, 42);
    char big[950];
    memset(big, 'x', sizeof(big));
    /* the result would pass the item size limit (1000 with 59 + 4 bytes overhead) */
    assert_int_equal(kv_store_store(s, KV_MODE_APPEND, "k", 1, 0, 0, big, 950, 0, 5),
                     KV_RES_NOT_STORED);
    kv_store_destroy(s);
}

static void test_expiry_and_realtime(void **state)
{
    (void)state;
    kv_store *s = mk(1 << 20, 0);
    got g;
    assert_int_equal(kv_store_realtime(s, 0, 100), 0);
    assert_int_equal(kv_store_realtime(s, 10, 100), 110);
    assert_int_equal(kv_store_realtime(s, 2592000, 100), 2592100);
    assert_int_equal(kv_store_realtime(s, 2592001, 100), 1); /* absolute, long past */
    assert_int_equal(kv_store_realtime(s, -1, 100), 1);
    assert_int_equal(kv_store_realtime(s, STARTED + 500, 100), 500);
    put(s, KV_MODE_SET, "t", "v", 10, 0, 100);
    assert_int_equal(get(s, "t", 109, &g), 1);
    assert_int_equal(get(s, "t", 110, &g), 0);
    put(s, KV_MODE_SET, "n", "v", -1, 0, 100);
    assert_int_equal(get(s, "n", 100, &g), 0);
    put(s, KV_MODE_SET, "abs", "v", STARTED + 200, 0, 100);
    assert_int_equal(get(s, "abs", 199, &g), 1);
    assert_int_equal(get(s, "abs", 200, &g), 0);
    /* touch and gat move the deadline */
    put(s, KV_MODE_SET, "u", "v", 5, 0, 100);
    assert_int_equal(kv_store_touch(s, "u", 1, 100, 101), KV_RES_TOUCHED);
    assert_int_equal(get(s, "u", 150, &g), 1);
    memset(&g, 0, sizeof(g));
    assert_int_equal(kv_store_get(s, "u", 1, 150, 1, -1, visit, &g), 1);
    assert_int_equal(get(s, "u", 150, &g), 0);
    assert_int_equal(kv_store_touch(s, "u", 1, 100, 150), KV_RES_NOT_FOUND);
    /* add over an expired item succeeds */
    put(s, KV_MODE_SET, "e", "old", 1, 0, 100);
    assert_int_equal(put(s, KV_MODE_ADD, "e", "new", 0, 0, 102), KV_RES_STORED);
    /* the periodic sweep frees expired items */
    for (int i = 0; i < 100; i++) {
        char k[16];
        snprintf(k, sizeof(k), "x%d", i);
        put(s, KV_MODE_SET, k, "v", 5, 0, 100);
    }
    kv_store_stats st;
    kv_store_get_stats(s, &st);
    uint64_t before = st.curr_items;
    for (int i = 0; i < 64; i++) {
        kv_store_maintain(s, 200);
    }
    kv_store_get_stats(s, &st);
    assert_true(st.curr_items + 100 <= before);
    assert_true(st.expired >= 100);
    kv_store_destroy(s);
}

static void test_flush(void **state)
{
    (void)state;
    kv_store *s = mk(1 << 20, 0);
    got g;
    put(s, KV_MODE_SET, "a", "1", 0, 0, 100);
    kv_store_flush(s, 0, 100);
    assert_int_equal(get(s, "a", 100, &g), 0);
    put(s, KV_MODE_SET, "a", "2", 0, 0, 100);
    assert_int_equal(get(s, "a", 100, &g), 1);
    kv_store_stats st;
    kv_store_get_stats(s, &st);
    assert_int_equal(st.curr_items, 1);
    /* delayed: items stored up to the deadline go when it passes */
    kv_store_flush(s, 10, 100);
    assert_int_equal(get(s, "a", 105, &g), 1);
    put(s, KV_MODE_SET, "b", "3", 0, 0, 106);
    assert_int_equal(get(s, "a", 109, &g), 0);
    assert_int_equal(get(s, "b", 109, &g), 0);
    put(s, KV_MODE_SET, "c", "4", 0, 0, 111);
    assert_int_equal(get(s, "c", 112, &g), 1);
    /* "flush_all 1" is immediate in memcached */
    kv_store_flush(s, 1, 120);
    assert_int_equal(get(s, "c", 120, &g), 0);
    kv_store_destroy(s);
}

static void test_arith(void **state)
{
    (void)state;
    kv_store *s = mk(1 << 20, 0);
    got g;
    uint64_t v = 0;
    assert_int_equal(kv_store_arith(s, "n", 1, 1, 1, 10, &v), KV_RES_NOT_FOUND);
    put(s, KV_MODE_SET, "n", "100", 0, 0, 10);
    get(s, "n", 10, &g);
    uint64_t cas = g.cas;
    assert_int_equal(kv_store_arith(s, "n", 1, 0, 91, 10, &v), KV_RES_OK);
    assert_int_equal(v, 9);
    get(s, "n", 10, &g);
    assert_string_equal(g.val, "9  "); /* memcached keeps the length, pads with spaces */
    assert_true(g.cas != cas);
    assert_int_equal(kv_store_arith(s, "n", 1, 0, 100, 10, &v), KV_RES_OK);
    assert_int_equal(v, 0);
    assert_int_equal(kv_store_arith(s, "n", 1, 1, 123456, 10, &v), KV_RES_OK);
    get(s, "n", 10, &g);
    assert_string_equal(g.val, "123456");
    assert_int_equal(g.flags, 7);
    put(s, KV_MODE_SET, "m", "18446744073709551615", 0, 0, 10);
    assert_int_equal(kv_store_arith(s, "m", 1, 1, 2, 10, &v), KV_RES_OK);
    assert_int_equal(v, 1);
    const char *bad[] = {"abc", "", "12a", "-5", "184467440737095516150", "   "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        put(s, KV_MODE_SET, "b", bad[i], 0, 0, 10);
        assert_int_equal(kv_store_arith(s, "b", 1, 1, 1, 10, &v), KV_RES_NON_NUMERIC);
    }
    const char *good[] = {" 12 ", "+5", "-0", "7\r\n"};
    const uint64_t want[] = {13, 6, 1, 8};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        put(s, KV_MODE_SET, "c", good[i], 0, 0, 10);
        assert_int_equal(kv_store_arith(s, "c", 1, 1, 1, 10, &v), KV_RES_OK);
        assert_int_equal(v, want[i]);
    }
    kv_store_destroy(s);
}

static void test_eviction_and_accounting(void **state)
{
    (void)state;
    const size_t limit = 256 * 1024;
    kv_store *s = mk(limit, 16);
    char val[1000];
    memset(val, 'v', sizeof(val));
    val[sizeof(val) - 1] = '\0';
    got g;
    /* "hot" is read after every write, a minute apart: it must survive the churn */
    put(s, KV_MODE_SET, "hot", "keep", 0, 0, 10);
    uint32_t now = 10;
    for (int i = 0; i < 2000; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%d", i);
        assert_int_equal(put(s, KV_MODE_SET, k, val, 0, 0, now), KV_RES_STORED);
        if (i % 50 == 0) {
            now += 61;
            assert_int_equal(get(s, "hot", now, &g), 1);
        }
        kv_store_stats st;
        kv_store_get_stats(s, &st);
        assert_true(st.bytes <= limit);
    }
    kv_store_stats st;
    kv_store_get_stats(s, &st);
    assert_true(st.evictions > 1000);
    assert_true(st.curr_items < 300);
    /* the newest keys are there, the oldest are gone */
    assert_int_equal(get(s, "k1999", now, &g), 1);
    assert_int_equal(get(s, "k0", now, &g), 0);
    /* an item bigger than the whole limit cannot be stored */
    char *huge = malloc(limit + 1);
    assert_non_null(huge);
    memset(huge, 'h', limit);
    assert_int_equal(kv_store_store(s, KV_MODE_SET, "huge", 4, 0, 0, huge, (uint32_t)limit, 0, now),
                     KV_RES_NO_MEMORY);
    free(huge);
    /* deleting everything returns the accounting to zero */
    kv_store_flush(s, 0, now);
    kv_store_get_stats(s, &st);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.curr_items, 0);
    kv_store_destroy(s);
}

static void test_incremental_growth(void **state)
{
    (void)state;
    kv_store *s = mk(256u << 20, 4);
    got g;
    int saw_growing = 0;
    char k[32];
    for (int i = 0; i < 50000; i++) {
        snprintf(k, sizeof(k), "key:%d", i);
        assert_int_equal(put(s, KV_MODE_SET, k, "v", 0, 0, 10), KV_RES_STORED);
        if (i % 997 == 0) {
            kv_store_stats st;
            kv_store_get_stats(s, &st);
            saw_growing |= st.hash_growing > 0;
            /* every key stays reachable while tables migrate */
            for (int j = 0; j <= i; j += 97) {
                snprintf(k, sizeof(k), "key:%d", j);
                assert_int_equal(get(s, k, 10, &g), 1);
            }
        }
    }
    assert_true(saw_growing);
    for (int i = 0; i < 50; i++) {
        kv_store_maintain(s, 10);
    }
    kv_store_stats st;
    kv_store_get_stats(s, &st);
    assert_int_equal(st.curr_items, 50000);
    assert_int_equal(st.hash_growing, 0);
    assert_true(st.hash_buckets >= 32768);
    for (int i = 0; i < 50000; i++) {
        snprintf(k, sizeof(k), "key:%d", i);
        assert_int_equal(get(s, k, 10, &g), 1);
    }
    kv_store_destroy(s);
}

/* kv_store.c calls the Rust hash directly (no hook since kv.hash was retired); the
 * test links with -Wl,--wrap=kv_rs_hash_key so its calls are counted here. */
static int hash_calls;
uint64_t __real_kv_rs_hash_key(const void *key, size_t len);
uint64_t __wrap_kv_rs_hash_key(const void *key, size_t len);
uint64_t __wrap_kv_rs_hash_key(const void *key, size_t len)
{
    hash_calls++;
    return __real_kv_rs_hash_key(key, len);
}

static void test_one_hash_per_operation(void **state)
{
    (void)state;
    kv_store *s = mk(1 << 20, 0);
    got g;
    uint64_t v;
    hash_calls = 0;
    put(s, KV_MODE_SET, "a", "1", 0, 0, 10);
    assert_int_equal(hash_calls, 1);
    get(s, "a", 10, &g);
    assert_int_equal(hash_calls, 2);
    kv_store_arith(s, "a", 1, 1, 1, 10, &v);
    kv_store_touch(s, "a", 1, 0, 10);
    put(s, KV_MODE_APPEND, "a", "1", 0, 0, 10);
    kv_store_delete(s, "a", 1, 10);
    assert_int_equal(hash_calls, 6);
    kv_store_destroy(s);
}

typedef struct worker_arg {
    kv_store *s;
    int id;
    int errors;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    char k[32], v[32];
    got g;
    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof(k), "t%d:%d", a->id, i % 500);
        snprintf(v, sizeof(v), "%d", i);
        if (put(a->s, KV_MODE_SET, k, v, 0, 0, 10) != KV_RES_STORED) {
            a->errors++;
        }
        if (get(a->s, k, 10, &g) != 1 || strcmp(g.val, v) != 0) {
            a->errors++; /* our own key, just written: must read back */
        }
        snprintf(k, sizeof(k), "shared:%d", i % 64);
        uint64_t x;
        if (kv_store_arith(a->s, k, (uint32_t)strlen(k), 1, 1, 10, &x) == KV_RES_NOT_FOUND) {
            put(a->s, KV_MODE_ADD, k, "0", 0, 0, 10);
        }
        if (i % 5000 == 0) {
            kv_store_maintain(a->s, 10);
        }
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    kv_store *s = mk(64u << 20, 8);
    pthread_t th[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){s, i, 0};
        pthread_create(&th[i], NULL, worker, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].errors, 0);
    }
    kv_store_stats st;
    kv_store_get_stats(s, &st);
    assert_int_equal(st.curr_items, 4 * 500 + 64);
    kv_store_destroy(s);
}

static void *evicting_worker(void *p)
{
    worker_arg *a = p;
    char k[32], v[1000];
    memset(v, 'v', sizeof(v) - 1);
    v[sizeof(v) - 1] = '\0';
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof(k), "e%d:%d", a->id, i);
        kv_store_result r = put(a->s, KV_MODE_SET, k, v, 0, 0, 10);
        /* NO_MEMORY is a legitimate answer when every other shard is busy */
        if (r != KV_RES_STORED && r != KV_RES_NO_MEMORY) {
            a->errors++;
        }
        kv_store_stats st;
        if (i % 100 == 0) {
            kv_store_get_stats(a->s, &st);
            /* accounted is the one atomic claim on the limit; bytes sums the shards one
             * by one, so an eviction in one shard and a link in another can show twice */
            if (st.accounted > st.limit_maxbytes) {
                a->errors++;
            }
        }
    }
    return NULL;
}

/* Concurrent stores under a small limit: the accounted bytes never pass it (space is
 * reserved atomically) and return to exactly zero when everything is gone. */
static void test_concurrent_eviction_accounting(void **state)
{
    (void)state;
    kv_store *s = mk(256 * 1024, 16);
    pthread_t th[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){s, i, 0};
        pthread_create(&th[i], NULL, evicting_worker, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].errors, 0);
    }
    kv_store_stats st;
    kv_store_get_stats(s, &st);
    assert_true(st.bytes <= 256 * 1024);
    assert_true(st.evictions > 0);
    kv_store_flush(s, 0, 10);
    kv_store_get_stats(s, &st);
    assert_int_equal(st.bytes, 0);
    kv_store_destroy(s);
}

typedef struct ref_got {
    kv_item *it;
    const char *data;
    uint32_t len;
} ref_got;

static void visit_retain(void *ctx, const kv_item_view *v)
{
    ref_got *g = ctx;
    g->it = kv_store_item_retain(v);
    g->data = v->data;
    g->len = v->nbytes;
}

/* A reference keeps an item's bytes valid and unchanged after it is deleted, replaced
 * or flushed, and keeps them counted against the limit until released. */
static void test_item_references(void **state)
{
    (void)state;
    kv_store *s = mk(4 << 20, 16);
    assert_int_equal(put(s, KV_MODE_SET, "k", "12345", 0, 0, 10), KV_RES_STORED);
    ref_got a = {0}, b = {0};
    assert_int_equal(kv_store_get(s, "k", 1, 10, 0, 0, visit_retain, &a), 1);
    assert_int_equal(put(s, KV_MODE_SET, "k", "other", 0, 0, 10), KV_RES_STORED);
    assert_int_equal(kv_store_get(s, "k", 1, 10, 0, 0, visit_retain, &b), 1);
    /* incr on an item a reply holds replaces it instead of writing in place */
    assert_int_equal(put(s, KV_MODE_SET, "n", "10", 0, 0, 10), KV_RES_STORED);
    ref_got c = {0};
    assert_int_equal(kv_store_get(s, "n", 1, 10, 0, 0, visit_retain, &c), 1);
    uint64_t v = 0;
    assert_int_equal(kv_store_arith(s, "n", 1, 0, 1, 10, &v), KV_RES_OK);
    assert_int_equal(v, 9);
    assert_memory_equal(c.data, "10\r\n", 4);
    got g;
    assert_int_equal(get(s, "n", 10, &g), 1);
    assert_string_equal(g.val, "9 "); /* memcached's padding */
    assert_int_equal(kv_store_delete(s, "k", 1, 10), KV_RES_DELETED);
    kv_store_flush(s, 0, 10);
    kv_store_stats st;
    kv_store_get_stats(s, &st);
    assert_int_equal(st.bytes, 0);
    assert_true(st.accounted > 0); /* three referenced items, unlinked */
    assert_memory_equal(a.data, "12345\r\n", 7);
    assert_memory_equal(b.data, "other\r\n", 7);
    kv_store_item_release(s, a.it);
    kv_store_item_release(s, b.it);
    kv_store_item_release(s, c.it);
    kv_store_get_stats(s, &st);
    assert_int_equal(st.accounted, 0);
    /* claims count against the limit and are capped at half of it (4 MB here) */
    assert_int_equal(put(s, KV_MODE_SET, "x", "y", 0, 0, 10), KV_RES_STORED);
    assert_int_equal(kv_store_reserve(s, (2 << 20) + 1, 10), 0);
    assert_int_equal(kv_store_reserve(s, (2 << 20), 10), 1);
    kv_store_get_stats(s, &st);
    assert_true(st.accounted >= (2 << 20));
    kv_store_unreserve(s, (2 << 20));
    kv_store_get_stats(s, &st);
    assert_int_equal(st.accounted, st.bytes);
    kv_store_destroy(s);
}

static void *ref_reader(void *p)
{
    worker_arg *a = p;
    for (int i = 0; i < 20000; i++) {
        ref_got g = {0};
        if (kv_store_get(a->s, "hot", 3, 10, 0, 0, visit_retain, &g)) {
            /* every version is one repeated byte: a torn or freed value shows */
            for (uint32_t k = 1; k < g.len; k++) {
                if (g.data[k] != g.data[0]) {
                    a->errors++;
                    break;
                }
            }
            kv_store_item_release(a->s, g.it);
        }
    }
    return NULL;
}

static void *ref_writer(void *p)
{
    worker_arg *a = p;
    char v[2001];
    for (int i = 0; i < 5000; i++) {
        memset(v, 'a' + i % 26, sizeof(v) - 1);
        v[sizeof(v) - 1] = '\0';
        if (put(a->s, KV_MODE_SET, "hot", v, 0, 0, 10) != KV_RES_STORED) {
            a->errors++;
        }
        if (i % 7 == 0) {
            kv_store_delete(a->s, "hot", 3, 10);
        }
        if (kv_store_reserve(a->s, 4096, 10)) {
            kv_store_unreserve(a->s, 4096);
        }
    }
    return NULL;
}

/* Readers hold and release references from their own threads while writers replace and
 * delete the item: no torn value, and the accounting returns to exactly the linked
 * bytes. */
static void test_concurrent_references(void **state)
{
    (void)state;
    kv_store *s = mk(1 << 20, 16);
    pthread_t th[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){s, i, 0};
        pthread_create(&th[i], NULL, i < 2 ? ref_reader : ref_writer, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].errors, 0);
    }
    kv_store_stats st;
    kv_store_get_stats(s, &st);
    assert_int_equal(st.accounted, st.bytes);
    kv_store_destroy(s);
}

/* ---- meta protocol state (kv_store_mget, kv_store_mstore, kv_store_mdelete, marith) ---- */

typedef struct mgot {
    int n;
    kv_meta_view v;
    char val[64];
    kv_meta_update set; /* what the callback asks for */
} mgot;

static void mvisit(void *ctx, const kv_meta_view *v, kv_meta_update *u)
{
    mgot *g = ctx;
    g->n++;
    g->v = *v;
    assert_true(v->item.nbytes < sizeof(g->val));
    memcpy(g->val, v->item.data, v->item.nbytes);
    g->val[v->item.nbytes] = '\0';
    *u = g->set;
}

static int mget(kv_store *s, const char *k, uint32_t now, int bump, int vivify, mgot *g)
{
    kv_meta_update keep = g->set;
    memset(g, 0, sizeof(*g));
    g->set = keep;
    return kv_store_mget(s, k, (uint32_t)strlen(k), now, bump, vivify, mvisit, g);
}

static void test_meta_get_state(void **state)
{
    (void)state;
    kv_store *s = mk(1 << 20, 0);
    mgot g = {0};
    assert_int_equal(mget(s, "a", 100, 1, 0, &g), 0);
    assert_int_equal(g.n, 0);
    /* vivify: an empty item, created once; the update sets its TTL and the token */
    g.set = (kv_meta_update){1, 130, 1};
    assert_int_equal(mget(s, "a", 100, 1, 1, &g), 1);
    assert_int_equal(g.v.created, 1);
    assert_int_equal(g.v.exptime, 0);
    assert_int_equal(g.v.item.nbytes, 0);
    assert_int_equal(g.v.token_sent, 0);
    g.set = (kv_meta_update){0, 0, 0};
    assert_int_equal(mget(s, "a", 101, 1, 1, &g), 1);
    assert_int_equal(g.v.created, 0);
    assert_int_equal(g.v.exptime, 130);
    assert_int_equal(g.v.token_sent, 1);
    assert_int_equal(g.v.fetched, 1); /* the first mget bumped it */
    /* fetched and last access: a read without bump changes neither */
    assert_int_equal(put(s, KV_MODE_SET, "b", "x", 0, 0, 100), KV_RES_STORED);
    assert_int_equal(mget(s, "b", 200, 0, 0, &g), 1);
    assert_int_equal(g.v.fetched, 0);
    assert_int_equal(g.v.atime, 100);
    assert_int_equal(mget(s, "b", 200, 1, 0, &g), 1);
    assert_int_equal(g.v.fetched, 0); /* the view is the state before this call */
    assert_int_equal(mget(s, "b", 201, 1, 0, &g), 1);
    assert_int_equal(g.v.fetched, 1);
    assert_int_equal(g.v.atime, 200); /* updated by the read at 200 (over a minute later) */
    /* a classic get counts as a fetch */
    assert_int_equal(put(s, KV_MODE_SET, "c", "x", 0, 0, 100), KV_RES_STORED);
    got cg;
    assert_int_equal(get(s, "c", 100, &cg), 1);
    assert_int_equal(mget(s, "c", 100, 0, 0, &g), 1);
    assert_int_equal(g.v.fetched, 1);
    kv_store_destroy(s);
}

static void test_meta_delete_invalidate(void **state)
{
    (void)state;
    kv_store *s = mk(1 << 20, 0);
    mgot g = {0};
    assert_int_equal(kv_store_mdelete(s, "a", 1, 0, 0, 0, 0, 0, 10), KV_RES_NOT_FOUND);
    assert_int_equal(put(s, KV_MODE_SET, "a", "v", 0, 0, 10), KV_RES_STORED);
    mget(s, "a", 10, 0, 0, &g);
    uint64_t cas = g.v.item.cas;
    assert_int_equal(kv_store_mdelete(s, "a", 1, cas + 1, 1, 0, 0, 0, 10), KV_RES_EXISTS);
    /* I: kept, stale, new CAS, TTL from T; the recache token is cleared */
    g.set = (kv_meta_update){0, 0, 1};
    mget(s, "a", 10, 0, 0, &g);
    g.set = (kv_meta_update){0, 0, 0};
    assert_int_equal(kv_store_mdelete(s, "a", 1, cas, 1, 1, 1, 30, 10), KV_RES_DELETED);
    assert_int_equal(mget(s, "a", 10, 0, 0, &g), 1);
    assert_int_equal(g.v.stale, 1);
    assert_int_equal(g.v.token_sent, 0);
    assert_int_equal(g.v.exptime, 40);
    assert_true(g.v.item.cas != cas);
    assert_string_equal(g.val, "v");
    /* without I: gone */
    assert_int_equal(kv_store_mdelete(s, "a", 1, 0, 0, 0, 0, 0, 10), KV_RES_DELETED);
    assert_int_equal(mget(s, "a", 10, 0, 0, &g), 0);
    kv_store_destroy(s);
}

static void test_meta_store_rules(void **state)
{
    (void)state;
    kv_store *s = mk(1 << 20, 0);
    mgot g = {0};
    uint64_t cas = 0, cas2 = 0;
    assert_int_equal(kv_store_mstore(s, KV_MODE_SET, "a", 1, 3, 0, "x", 1, 0, 0, 1, 10, &cas),
                     KV_RES_STORED);
    assert_true(cas != 0);
    mget(s, "a", 10, 0, 0, &g);
    assert_int_equal(g.v.key_binary, 1);
    assert_int_equal(g.v.item.cas, cas);
    /* append with a wrong CAS: EXISTS; with the right one: stored, binary mark lost */
    assert_int_equal(
        kv_store_mstore(s, KV_MODE_APPEND, "a", 1, 0, 0, "y", 1, cas + 9, 0, 1, 10, &cas2),
        KV_RES_EXISTS);
    assert_int_equal(cas2, 0);
    assert_int_equal(kv_store_mstore(s, KV_MODE_APPEND, "a", 1, 0, 0, "y", 1, cas, 0, 1, 10, &cas2),
                     KV_RES_STORED);
    mget(s, "a", 10, 0, 0, &g);
    assert_string_equal(g.val, "xy");
    assert_int_equal(g.v.key_binary, 0);
    assert_int_equal(g.v.item.flags, 3);
    /* cas with invalidate and an older CAS: stored stale, keeping TTL and token */
    assert_int_equal(kv_store_mstore(s, KV_MODE_SET, "b", 1, 0, 50, "1", 1, 0, 0, 0, 10, &cas),
                     KV_RES_STORED);
    g.set = (kv_meta_update){0, 0, 1};
    mget(s, "b", 10, 0, 0, &g);
    g.set = (kv_meta_update){0, 0, 0};
    assert_int_equal(kv_store_mdelete(s, "b", 1, 0, 0, 1, 0, 0, 10), KV_RES_DELETED);
    mget(s, "b", 10, 0, 0, &g);
    uint64_t newer = g.v.item.cas;
    assert_int_equal(kv_store_mstore(s, KV_MODE_CAS, "b", 1, 0, 0, "2", 1, cas, 0, 0, 10, &cas2),
                     KV_RES_EXISTS); /* older CAS without I */
    assert_int_equal(kv_store_mstore(s, KV_MODE_CAS, "b", 1, 0, 0, "2", 1, cas, 1, 0, 10, &cas2),
                     KV_RES_STORED);
    mget(s, "b", 10, 0, 0, &g);
    assert_string_equal(g.val, "2");
    assert_int_equal(g.v.stale, 1);
    assert_int_equal(g.v.exptime, 60);
    assert_true(g.v.item.cas != newer);
    /* a newer-than-current CAS with I is a plain mismatch */
    assert_int_equal(
        kv_store_mstore(s, KV_MODE_CAS, "b", 1, 0, 0, "3", 1, g.v.item.cas + 100, 1, 0, 10, &cas2),
        KV_RES_EXISTS);
    kv_store_destroy(s);
}

typedef struct mactx {
    int n;
    uint64_t cas;
    uint8_t created;
} mactx;

static void mavisit(void *ctx, const kv_meta_view *v, kv_meta_update *u)
{
    mactx *m = ctx;
    m->n++;
    m->cas = v->item.cas;
    m->created = v->created;
    if (v->created) {
        u->set_exptime = 1;
        u->exptime = 99;
    }
}

static void test_meta_arith(void **state)
{
    (void)state;
    kv_store *s = mk(1 << 20, 0);
    uint64_t v = 0;
    mactx m = {0};
    assert_int_equal(kv_store_marith(s, "n", 1, 1, 1, 0, 0, 0, 10, &v, mavisit, &m),
                     KV_RES_NOT_FOUND);
    assert_int_equal(m.n, 0);
    assert_int_equal(kv_store_marith(s, "n", 1, 1, 1, 0, 1, 41, 10, &v, mavisit, &m), KV_RES_OK);
    assert_int_equal(v, 41); /* vivified with J, the delta not applied */
    assert_int_equal(m.created, 1);
    mgot g = {0};
    mget(s, "n", 10, 0, 0, &g);
    assert_string_equal(g.val, "41");
    assert_int_equal(g.v.exptime, 99);
    assert_int_equal(kv_store_marith(s, "n", 1, 1, 1, m.cas + 5, 0, 0, 10, &v, mavisit, &m),
                     KV_RES_EXISTS);
    assert_int_equal(kv_store_marith(s, "n", 1, 1, 1, m.cas, 0, 0, 10, &v, mavisit, &m), KV_RES_OK);
    assert_int_equal(v, 42);
    assert_int_equal(m.created, 0);
    mget(s, "n", 10, 0, 0, &g);
    assert_int_equal(g.v.item.cas, m.cas); /* the callback saw the new CAS */
    assert_int_equal(g.v.fetched, 0);      /* arithmetic is not a fetch */
    kv_store_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_modes),
        cmocka_unit_test(test_append_keeps_flags_and_limit),
        cmocka_unit_test(test_expiry_and_realtime),
        cmocka_unit_test(test_flush),
        cmocka_unit_test(test_arith),
        cmocka_unit_test(test_eviction_and_accounting),
        cmocka_unit_test(test_incremental_growth),
        cmocka_unit_test(test_one_hash_per_operation),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_concurrent_eviction_accounting),
        cmocka_unit_test(test_item_references),
        cmocka_unit_test(test_concurrent_references),
        cmocka_unit_test(test_meta_get_state),
        cmocka_unit_test(test_meta_delete_invalidate),
        cmocka_unit_test(test_meta_store_rules),
        cmocka_unit_test(test_meta_arith),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
