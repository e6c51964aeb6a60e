/*
 * kv_store_diff.c: applies the same operations to the C and the Rust storage engine and
 * compares everything they let a caller observe (see kv_store_diff.h).
 *
 * The operation stream is a byte string: each operation takes a kind byte and its
 * arguments from the following bytes (missing bytes read as 0, so every string is a
 * valid sequence). Keys come from a fixed universe (some of them 200 bytes long), values
 * from size classes (empty, numeric, small, medium, large up to max_value), exptimes
 * from memcached's cases (0, relative, negative, absolute past and future, 30 days, huge),
 * and the clock only moves forward through the ADVANCE operation.
 */
#define _GNU_SOURCE /* malloc_usable_size, mallopt */
#include "kv_store_diff.h"

#include <assert.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graft/base.h"
#include "kv_rs.h"
#include "kv_store.h"

#define KSD_PROCESS_STARTED 1700000000
#define KSD_MAX_RETAINED 32
#define KSD_MAX_RESERVED 16
#define KSD_LONG_KEY 200
#define KSD_PRINT_MAX 10

#define KSD_OPS(XX)                                                                                \
    XX(GET, "get")                                                                                 \
    XX(GAT, "gat")                                                                                 \
    XX(STORE, "store")                                                                             \
    XX(CAS, "cas")                                                                                 \
    XX(DELETE, "delete")                                                                           \
    XX(TOUCH, "touch")                                                                             \
    XX(ARITH, "incr/decr")                                                                         \
    XX(FLUSH, "flush")                                                                             \
    XX(MAINTAIN, "maintain")                                                                       \
    XX(ADVANCE, "advance")                                                                         \
    XX(RESERVE, "reserve")                                                                         \
    XX(UNRESERVE, "unreserve")                                                                     \
    XX(RETAIN, "retain")                                                                           \
    XX(RELEASE, "release")

enum {
#define XX(name, text) KSD_OP_##name,
    KSD_OPS(XX)
#undef XX
        KSD_NOPS
};

static const char *const ksd_op_names[KSD_NOPS] = {
#define XX(name, text) text,
    KSD_OPS(XX)
#undef XX
};

/* Which op a kind byte stands for: reads and stores weigh most. */
static const uint8_t ksd_kind_map[32] = {
    KSD_OP_GET,       KSD_OP_GET,     KSD_OP_GET,     KSD_OP_GET,     KSD_OP_GAT,
    KSD_OP_STORE,     KSD_OP_STORE,   KSD_OP_STORE,   KSD_OP_STORE,   KSD_OP_STORE,
    KSD_OP_STORE,     KSD_OP_CAS,     KSD_OP_CAS,     KSD_OP_DELETE,  KSD_OP_TOUCH,
    KSD_OP_ARITH,     KSD_OP_ARITH,   KSD_OP_ARITH,   KSD_OP_FLUSH,   KSD_OP_MAINTAIN,
    KSD_OP_MAINTAIN,  KSD_OP_ADVANCE, KSD_OP_ADVANCE, KSD_OP_ADVANCE, KSD_OP_RESERVE,
    KSD_OP_UNRESERVE, KSD_OP_RETAIN,  KSD_OP_RETAIN,  KSD_OP_RELEASE, KSD_OP_RELEASE,
    KSD_OP_GET,       KSD_OP_STORE,
};

/* A hit as a caller sees it. */
typedef struct ksd_hit {
    int hit;
    uint32_t flags, nbytes;
    uint64_t cas;
    const char *data; /* value + CRLF, valid during the visit (and while retained) */
    uint32_t nkey;
    char key[256];
    int retain; /* retain the item in the visit */
    int rust;
    kv_item *c_item;
    kv_rs_item *rs_item;
} ksd_hit;

typedef struct ksd_retained {
    kv_item *c;
    kv_rs_item *rs;
    const char *c_data, *rs_data;
    uint32_t nbytes;
    char *copy; /* value + CRLF at retain time */
} ksd_retained;

struct kv_store_diff {
    kv_store_diff_config cfg;
    kv_store *c;
    kv_rs_store *rs;
    uint32_t now;
    char (*keys)[KSD_LONG_KEY + 16];
    uint32_t *nkey;
    uint64_t *last_cas; /* per key: the CAS unique of the last hit seen */
    char *value;        /* scratch value of max_value bytes */
    ksd_retained retained[KSD_MAX_RETAINED];
    int nretained;
    size_t reserved[KSD_MAX_RESERVED];
    int nreserved;
    uint64_t ops, diffs;
    uint64_t mix[KSD_NOPS];
    /* the operation being applied, for the report */
    char what[160];
    /* the byte stream */
    const uint8_t *buf;
    size_t n, pos;
};

/* ------------------------------------------------------------------ input */

static uint8_t rd8(kv_store_diff *d)
{
    return d->pos < d->n ? d->buf[d->pos++] : 0;
}

static uint32_t rd32(kv_store_diff *d)
{
    uint32_t x = 0;
    for (int i = 0; i < 4; i++) {
        x = (x << 8) | rd8(d);
    }
    return x;
}

static uint64_t rd64(kv_store_diff *d)
{
    uint64_t hi = rd32(d);
    return (hi << 32) | rd32(d);
}

static uint32_t rd_key(kv_store_diff *d)
{
    uint32_t k = ((uint32_t)rd8(d) << 8) | rd8(d);
    return k % d->cfg.nkeys;
}

static int64_t rd_exptime(kv_store_diff *d)
{
    uint8_t c = rd8(d);
    switch (c % 10) {
    case 0:
    case 1:
    case 2:
        return 0;
    case 3:
    case 4:
        return 1 + rd8(d) % 120;
    case 5:
        return -(int64_t)(1 + rd8(d) % 3);
    case 6:
        return KSD_PROCESS_STARTED + (int64_t)(rd8(d) % 200);
    case 7:
        return KSD_PROCESS_STARTED - 5;
    case 8:
        return 60 * 60 * 24 * 30 - (int64_t)(rd8(d) % 2);
    default:
        return (int64_t)rd64(d);
    }
}

/* Fills d->value; returns the length. */
static uint32_t rd_value(kv_store_diff *d)
{
    uint8_t c = rd8(d);
    uint8_t fill = rd8(d);
    uint32_t len = 0;
    switch (c % 12) {
    case 0:
        return 0;
    case 1:
    case 2:
    case 3: { /* numeric, as incr/decr see it */
        uint64_t v = rd64(d);
        int shape = rd8(d) % 8;
        if (shape < 3) {
            v %= 1000;
        } else if (shape == 3) {
            v = UINT64_MAX - v % 4;
        }
        len = (uint32_t)snprintf(d->value, d->cfg.max_value + 1,
                                 shape == 4 ? " %" PRIu64 " " : "%" PRIu64, v);
        if (shape == 5) {
            d->value[0] = '-';
        } else if (shape == 6 && len < d->cfg.max_value) {
            d->value[len++] = 'x';
        }
        return len < d->cfg.max_value ? len : d->cfg.max_value;
    }
    case 4:
    case 5:
    case 6:
    case 7:
        len = 1 + rd8(d) % 64;
        break;
    case 8:
    case 9:
    case 10:
        len = 1 + rd32(d) % (d->cfg.max_value / 16 + 1);
        break;
    default:
        len = 1 + rd32(d) % d->cfg.max_value;
        break;
    }
    if (len > d->cfg.max_value) {
        len = d->cfg.max_value;
    }
    memset(d->value, 'a' + fill % 26, len);
    if (len > 1) {
        d->value[len / 2] = (char)fill;
    }
    return len;
}

/* ------------------------------------------------------------------ reporting */

static void differ(kv_store_diff *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void differ(kv_store_diff *d, const char *fmt, ...)
{
    if (d->diffs++ < KSD_PRINT_MAX) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "kv_store_diff: op %" PRIu64 " (%s, now %u): ", d->ops, d->what, d->now);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
}

#define KSD_STATS(XX)                                                                              \
    XX(curr_items)                                                                                 \
    XX(total_items)                                                                                \
    XX(bytes)                                                                                      \
    XX(accounted)                                                                                  \
    XX(limit_maxbytes)                                                                             \
    XX(evictions)                                                                                  \
    XX(expired)                                                                                    \
    XX(reclaimed)                                                                                  \
    XX(hash_buckets)                                                                               \
    XX(hash_growing)                                                                               \
    XX(hash_bytes)

static void compare_stats(kv_store_diff *d)
{
    kv_store_stats c, r;
    kv_store_get_stats(d->c, &c);
    int st = kv_rs_store_get_stats(d->rs, &r);
    if (st != GRAFT_OK) {
        differ(d, "kv_rs_store_get_stats failed: %d", st);
        return;
    }
#define XX(f)                                                                                      \
    if (c.f != r.f) {                                                                              \
        differ(d, "stats " #f ": C %" PRIu64 ", Rust %" PRIu64, c.f, r.f);                         \
    }
    KSD_STATS(XX)
#undef XX
}

static void check_rs(kv_store_diff *d, int st, const char *fn)
{
    if (st != GRAFT_OK) {
        differ(d, "%s failed with status %d", fn, st);
    }
}

/* ------------------------------------------------------------------ operations */

static void visit(void *ctx, const kv_item_view *v)
{
    ksd_hit *h = ctx;
    h->hit = 1;
    h->flags = v->flags;
    h->nbytes = v->nbytes;
    h->cas = v->cas;
    h->data = v->data;
    h->nkey = v->nkey;
    memcpy(h->key, v->key, v->nkey < sizeof h->key ? v->nkey : sizeof h->key);
    if (h->retain) {
        if (h->rust) {
            h->rs_item = kv_rs_store_item_retain(v);
        } else {
            h->c_item = kv_store_item_retain(v);
        }
    }
}

static void compare_hits(kv_store_diff *d, uint32_t k, const ksd_hit *c, const ksd_hit *r)
{
    if (c->hit != r->hit) {
        differ(d, "hit: C %d, Rust %d", c->hit, r->hit);
        return;
    }
    if (!c->hit) {
        return;
    }
    if (c->flags != r->flags || c->nbytes != r->nbytes || c->cas != r->cas || c->nkey != r->nkey ||
        memcmp(c->key, r->key, c->nkey) != 0 ||
        memcmp(c->data, r->data, (size_t)c->nbytes + 2) != 0) {
        differ(d, "item: C flags %u len %u cas %" PRIu64 ", Rust flags %u len %u cas %" PRIu64 "%s",
               c->flags, c->nbytes, c->cas, r->flags, r->nbytes, r->cas,
               c->nbytes == r->nbytes ? " (or bytes differ)" : "");
    }
    d->last_cas[k] = c->cas;
}

static void op_get(kv_store_diff *d, int touch, int retain)
{
    uint32_t k = rd_key(d);
    int64_t exptime = touch ? rd_exptime(d) : 0;
    snprintf(d->what, sizeof d->what, "%s %s %" PRId64,
             retain  ? "retain"
             : touch ? "gat"
                     : "get",
             d->keys[k], exptime);
    if (retain && d->nretained == KSD_MAX_RETAINED) {
        retain = 0;
    }
    ksd_hit c = {.retain = retain}, r = {.retain = retain, .rust = 1};
    int ch = kv_store_get(d->c, d->keys[k], d->nkey[k], d->now, touch, exptime, visit, &c);
    int rh = -1;
    check_rs(d,
             kv_rs_store_get(d->rs, d->keys[k], d->nkey[k], d->now, touch, exptime, visit, &r, &rh),
             "kv_rs_store_get");
    if (ch != rh) {
        differ(d, "get returned C %d, Rust %d", ch, rh);
    }
    compare_hits(d, k, &c, &r);
    if (retain && (c.c_item != NULL || r.rs_item != NULL)) {
        if (c.c_item == NULL || r.rs_item == NULL) {
            differ(d, "retain: C %p, Rust %p", (void *)c.c_item, (void *)r.rs_item);
            if (c.c_item != NULL) {
                kv_store_item_release(d->c, c.c_item);
            }
            if (r.rs_item != NULL) {
                kv_rs_store_item_release(d->rs, r.rs_item);
            }
            return;
        }
        ksd_retained *t = &d->retained[d->nretained++];
        t->c = c.c_item;
        t->rs = r.rs_item;
        t->c_data = c.data;
        t->rs_data = r.data;
        t->nbytes = c.nbytes;
        t->copy = malloc((size_t)c.nbytes + 2);
        assert(t->copy != NULL);
        memcpy(t->copy, c.data, (size_t)c.nbytes + 2);
    }
}

static void release_one(kv_store_diff *d, int i)
{
    ksd_retained *t = &d->retained[i];
    if (memcmp(t->c_data, t->copy, (size_t)t->nbytes + 2) != 0) {
        differ(d, "the C store changed a retained item's bytes");
    }
    if (memcmp(t->rs_data, t->copy, (size_t)t->nbytes + 2) != 0) {
        differ(d, "the Rust store changed a retained item's bytes");
    }
    kv_store_item_release(d->c, t->c);
    kv_rs_store_item_release(d->rs, t->rs);
    free(t->copy);
    d->retained[i] = d->retained[--d->nretained];
}

static void op_release(kv_store_diff *d)
{
    uint8_t b = rd8(d);
    snprintf(d->what, sizeof d->what, "release");
    if (d->nretained > 0) {
        release_one(d, b % d->nretained);
    }
}

static const char *const mode_names[] = {"?", "set", "add", "replace", "append", "prepend", "cas"};

static void op_store(kv_store_diff *d, int cas_op)
{
    static const kv_store_mode modes[8] = {KV_MODE_SET,     KV_MODE_SET,     KV_MODE_SET,
                                           KV_MODE_ADD,     KV_MODE_REPLACE, KV_MODE_APPEND,
                                           KV_MODE_PREPEND, KV_MODE_SET};
    kv_store_mode mode = cas_op ? KV_MODE_CAS : modes[rd8(d) % 8];
    uint32_t k = rd_key(d);
    uint8_t fb = rd8(d);
    uint32_t flags = fb % 4 == 0 ? rd32(d) : 0;
    int64_t exptime = rd_exptime(d);
    uint32_t len = rd_value(d);
    uint64_t cas = 0;
    if (cas_op) {
        uint8_t cb = rd8(d);
        cas = d->last_cas[k] + (cb % 4 == 0 ? 1 : 0) - (cb % 7 == 0 ? 1 : 0);
    }
    snprintf(d->what, sizeof d->what, "%s %s flags %u exptime %" PRId64 " len %u cas %" PRIu64,
             mode_names[mode], d->keys[k], flags, exptime, len, cas);
    kv_store_result c = kv_store_store(d->c, mode, d->keys[k], d->nkey[k], flags, exptime, d->value,
                                       len, cas, d->now);
    int r = -1;
    check_rs(d,
             kv_rs_store_store(d->rs, (int)mode, d->keys[k], d->nkey[k], flags, exptime, d->value,
                               len, cas, d->now, &r),
             "kv_rs_store_store");
    if ((int)c != r) {
        differ(d, "store result: C %d, Rust %d", (int)c, r);
    }
}

static void op_delete(kv_store_diff *d)
{
    uint32_t k = rd_key(d);
    snprintf(d->what, sizeof d->what, "delete %s", d->keys[k]);
    kv_store_result c = kv_store_delete(d->c, d->keys[k], d->nkey[k], d->now);
    int r = -1;
    check_rs(d, kv_rs_store_delete(d->rs, d->keys[k], d->nkey[k], d->now, &r),
             "kv_rs_store_delete");
    if ((int)c != r) {
        differ(d, "delete: C %d, Rust %d", (int)c, r);
    }
}

static void op_touch(kv_store_diff *d)
{
    uint32_t k = rd_key(d);
    int64_t exptime = rd_exptime(d);
    snprintf(d->what, sizeof d->what, "touch %s %" PRId64, d->keys[k], exptime);
    kv_store_result c = kv_store_touch(d->c, d->keys[k], d->nkey[k], exptime, d->now);
    int r = -1;
    check_rs(d, kv_rs_store_touch(d->rs, d->keys[k], d->nkey[k], exptime, d->now, &r),
             "kv_rs_store_touch");
    if ((int)c != r) {
        differ(d, "touch: C %d, Rust %d", (int)c, r);
    }
    uint32_t rc = kv_store_realtime(d->c, exptime, d->now), rr = 0;
    check_rs(d, kv_rs_store_realtime(d->rs, exptime, d->now, &rr), "kv_rs_store_realtime");
    if (rc != rr) {
        differ(d, "realtime(%" PRId64 "): C %u, Rust %u", exptime, rc, rr);
    }
}

static void op_arith(kv_store_diff *d)
{
    uint8_t b = rd8(d);
    uint32_t k = rd_key(d);
    uint64_t delta = b % 8 == 0 ? rd64(d) : rd8(d);
    int incr = b % 2;
    snprintf(d->what, sizeof d->what, "%s %s %" PRIu64, incr ? "incr" : "decr", d->keys[k], delta);
    uint64_t cv = 0, rv = 0;
    kv_store_result c = kv_store_arith(d->c, d->keys[k], d->nkey[k], incr, delta, d->now, &cv);
    int r = -1;
    check_rs(d, kv_rs_store_arith(d->rs, d->keys[k], d->nkey[k], incr, delta, d->now, &rv, &r),
             "kv_rs_store_arith");
    if ((int)c != r || (c == KV_RES_OK && cv != rv)) {
        differ(d, "arith: C %d (%" PRIu64 "), Rust %d (%" PRIu64 ")", (int)c, cv, r, rv);
    }
}

static void op_flush(kv_store_diff *d)
{
    uint8_t b = rd8(d);
    uint64_t delay = 0;
    if (b % 4 == 1) {
        delay = 1 + rd8(d) % 30;
    } else if (b % 4 == 2) {
        delay = b % 8 == 2 ? (uint64_t)KSD_PROCESS_STARTED + d->now + rd8(d) % 40 : rd64(d);
    }
    /* an immediate flush empties the store: keep those rare so state builds up */
    if (delay == 0 && b % 16 != 0) {
        delay = 2 + b % 20;
    }
    snprintf(d->what, sizeof d->what, "flush_all %" PRIu64, delay);
    kv_store_flush(d->c, delay, d->now);
    check_rs(d, kv_rs_store_flush(d->rs, delay, d->now), "kv_rs_store_flush");
}

static void op_maintain(kv_store_diff *d)
{
    snprintf(d->what, sizeof d->what, "maintain");
    kv_store_maintain(d->c, d->now);
    check_rs(d, kv_rs_store_maintain(d->rs, d->now), "kv_rs_store_maintain");
}

static void op_advance(kv_store_diff *d)
{
    uint8_t b = rd8(d);
    uint32_t by = b % 4;
    if (b % 8 == 4) {
        by = 58 + rd8(d) % 3; /* at the LRU bump interval (60 s) */
    } else if (b % 64 == 5) {
        by = 1000 + rd8(d);
    } else if (b == 255) {
        by = 60 * 60 * 24 * 31;
    }
    d->now += by;
    snprintf(d->what, sizeof d->what, "advance %u", by);
}

static void op_reserve(kv_store_diff *d)
{
    uint8_t b = rd8(d);
    size_t n = b % 2 ? 1 + rd32(d) % 4096 : 1 + rd32(d) % (d->cfg.mem_limit / 2 + 1);
    snprintf(d->what, sizeof d->what, "reserve %zu", n);
    int c = kv_store_reserve(d->c, n, d->now);
    int r = -1;
    check_rs(d, kv_rs_store_reserve(d->rs, n, d->now, &r), "kv_rs_store_reserve");
    if (c != r) {
        differ(d, "reserve: C %d, Rust %d", c, r);
    }
    if (c == 1 && r == 1) {
        if (d->nreserved == KSD_MAX_RESERVED) {
            kv_store_unreserve(d->c, n);
            check_rs(d, kv_rs_store_unreserve(d->rs, n), "kv_rs_store_unreserve");
        } else {
            d->reserved[d->nreserved++] = n;
        }
    } else if (c == 1) {
        kv_store_unreserve(d->c, n);
    } else if (r == 1) {
        check_rs(d, kv_rs_store_unreserve(d->rs, n), "kv_rs_store_unreserve");
    }
}

static void op_unreserve(kv_store_diff *d)
{
    snprintf(d->what, sizeof d->what, "unreserve");
    if (d->nreserved > 0) {
        size_t n = d->reserved[--d->nreserved];
        kv_store_unreserve(d->c, n);
        check_rs(d, kv_rs_store_unreserve(d->rs, n), "kv_rs_store_unreserve");
    }
}

int kv_store_diff_step(kv_store_diff *d, const uint8_t *buf, size_t n, size_t *pos)
{
    if (*pos >= n) {
        return 0;
    }
    d->buf = buf;
    d->n = n;
    d->pos = *pos;
    int op = ksd_kind_map[rd8(d) % 32];
    if (op == KSD_OP_FLUSH && rd8(d) % 64 != 0) {
        op = KSD_OP_STORE; /* flushes are rare (1 in 2048): state builds up between them */
    }
    d->ops++;
    d->mix[op]++;
    switch (op) {
    case KSD_OP_GET:
        op_get(d, 0, 0);
        break;
    case KSD_OP_GAT:
        op_get(d, 1, 0);
        break;
    case KSD_OP_RETAIN:
        op_get(d, 0, 1);
        break;
    case KSD_OP_STORE:
        op_store(d, 0);
        break;
    case KSD_OP_CAS:
        op_store(d, 1);
        break;
    case KSD_OP_DELETE:
        op_delete(d);
        break;
    case KSD_OP_TOUCH:
        op_touch(d);
        break;
    case KSD_OP_ARITH:
        op_arith(d);
        break;
    case KSD_OP_FLUSH:
        op_flush(d);
        break;
    case KSD_OP_MAINTAIN:
        op_maintain(d);
        break;
    case KSD_OP_ADVANCE:
        op_advance(d);
        break;
    case KSD_OP_RESERVE:
        op_reserve(d);
        break;
    case KSD_OP_UNRESERVE:
        op_unreserve(d);
        break;
    case KSD_OP_RELEASE:
        op_release(d);
        break;
    default:
        assert(0 && "unknown op");
    }
    compare_stats(d);
    *pos = d->pos;
    return 1;
}

/* ------------------------------------------------------------------ final state */

typedef struct ksd_dump {
    kv_store_diff *d;
    uint8_t *seen; /* per key index: 1 = hit in C */
    uint64_t visited, unknown, probes;
} ksd_dump;

static void dump_visit(void *ctx, const kv_item_view *v)
{
    ksd_dump *x = ctx;
    char key[256];
    size_t n = v->nkey < sizeof key - 1 ? v->nkey : sizeof key - 1;
    memcpy(key, v->key, n);
    key[n] = '\0';
    unsigned long idx = strtoul(key + 2, NULL, 10);
    if (strncmp(key, "probe:", 6) == 0) {
        x->probes++;
        return;
    }
    x->visited++;
    if (strncmp(key, "k:", 2) != 0 || idx >= x->d->cfg.nkeys || x->seen[idx] != 1) {
        x->unknown++;
    } else {
        x->seen[idx] = 2;
    }
}

/* Makes the LRU order observable (neither engine's lists can be read from C): 64 new
 * keys, two per shard, each with 1/128 of the limit, push out half the memory from the
 * tails of the LRU lists; the survivors, compared next by reading every key, then show
 * whether both engines kept their items in the same order. */
static void drain_probe(kv_store_diff *d)
{
    size_t len = d->cfg.mem_limit / 128;
    if (len > d->cfg.max_value) {
        len = d->cfg.max_value;
    }
    if (len + 300 > d->cfg.item_size_max) {
        len = d->cfg.item_size_max > 300 ? d->cfg.item_size_max - 300 : 1;
    }
    memset(d->value, 'p', len);
    int per_shard[KV_STORE_SHARDS] = {0};
    int done = 0;
    for (uint32_t i = 0; done < 2 * KV_STORE_SHARDS && i < 1000000; i++) {
        char key[32];
        int n = snprintf(key, sizeof key, "probe:%u", i);
        unsigned shard = (unsigned)(kv_rs_hash_key(key, (size_t)n) >> 59);
        if (per_shard[shard] == 2) {
            continue;
        }
        per_shard[shard]++;
        done++;
        snprintf(d->what, sizeof d->what, "drain probe %s len %zu", key, len);
        kv_store_result c = kv_store_store(d->c, KV_MODE_SET, key, (uint32_t)n, 0, 0, d->value,
                                           (uint32_t)len, 0, d->now);
        int r = -1;
        check_rs(d,
                 kv_rs_store_store(d->rs, KV_MODE_SET, key, (uint32_t)n, 0, 0, d->value,
                                   (uint32_t)len, 0, d->now, &r),
                 "kv_rs_store_store");
        if ((int)c != r) {
            differ(d, "store result: C %d, Rust %d", (int)c, r);
        }
        compare_stats(d);
    }
    snprintf(d->what, sizeof d->what, "final state");
}

void kv_store_diff_finish(kv_store_diff *d)
{
    snprintf(d->what, sizeof d->what, "final state");
    while (d->nretained > 0) {
        release_one(d, d->nretained - 1);
    }
    compare_stats(d);
    drain_probe(d);
    uint8_t *seen = calloc(d->cfg.nkeys, 1);
    assert(seen != NULL);
    uint64_t hits = 0;
    /* the Rust store's content first (visiting changes nothing), then every key of
     * the universe read from both */
    ksd_dump x = {d, seen, 0, 0, 0};
    for (uint32_t k = 0; k < d->cfg.nkeys; k++) {
        ksd_hit c = {0}, r = {.rust = 1};
        kv_store_get(d->c, d->keys[k], d->nkey[k], d->now, 0, 0, visit, &c);
        int rh = 0;
        check_rs(d, kv_rs_store_get(d->rs, d->keys[k], d->nkey[k], d->now, 0, 0, visit, &r, &rh),
                 "kv_rs_store_get");
        compare_hits(d, k, &c, &r);
        seen[k] = (uint8_t)c.hit;
        hits += (uint64_t)c.hit;
    }
    for (uint32_t s = 0; s < KV_STORE_SHARDS; s++) {
        check_rs(d, kv_rs_store_visit_shard(d->rs, s, d->now, dump_visit, &x),
                 "kv_rs_store_visit_shard");
    }
    if (x.visited != hits || x.unknown != 0) {
        differ(d,
               "final content: C has %" PRIu64 " items, Rust visits %" PRIu64 " (%" PRIu64
               " not in C)",
               hits, x.visited, x.unknown);
    }
    compare_stats(d);
    free(seen);
    while (d->nreserved > 0) {
        size_t n = d->reserved[--d->nreserved];
        kv_store_unreserve(d->c, n);
        check_rs(d, kv_rs_store_unreserve(d->rs, n), "kv_rs_store_unreserve");
    }
}

/* ------------------------------------------------------------------ lifecycle */

int kv_store_diff_size_model(void)
{
    static const size_t probes[] = {1, 24, 25, 75, 100, 1000, 4097, 70000, 200000, 1000000};
    (void)mallopt(M_MMAP_THRESHOLD, 64 << 20);
    int glibc = 1, exact = 1;
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        void *p = malloc(probes[i]);
        if (p == NULL) {
            return -1;
        }
        size_t u = malloc_usable_size(p);
        size_t chunk = (probes[i] + 8 + 15) & ~(size_t)15;
        if (chunk < 32) {
            chunk = 32;
        }
        glibc &= u == chunk - 8;
        exact &= u == probes[i];
        free(p);
    }
    return glibc ? KV_RS_SIZE_GLIBC : exact ? KV_RS_SIZE_EXACT : -1;
}

kv_store_diff *kv_store_diff_open(const kv_store_diff_config *cfg)
{
    assert(cfg->nkeys >= 1 && cfg->nkeys <= KV_STORE_DIFF_MAX_KEYS);
    int model = kv_store_diff_size_model();
    if (model < 0) {
        fprintf(stderr, "kv_store_diff: malloc_usable_size follows no known model\n");
        return NULL;
    }
    kv_store_diff *d = calloc(1, sizeof *d);
    if (d == NULL) {
        return NULL;
    }
    d->cfg = *cfg;
    d->now = 2;
    d->keys = calloc(cfg->nkeys, sizeof *d->keys);
    d->nkey = calloc(cfg->nkeys, sizeof *d->nkey);
    d->last_cas = calloc(cfg->nkeys, sizeof *d->last_cas);
    d->value = malloc((size_t)cfg->max_value + 1);
    kv_store_config sc = {cfg->mem_limit, cfg->item_size_max, KSD_PROCESS_STARTED,
                          cfg->initial_buckets};
    if (d->keys == NULL || d->nkey == NULL || d->last_cas == NULL || d->value == NULL ||
        kv_store_create(&sc, &d->c) != GRAFT_OK) {
        kv_store_diff_close(d);
        return NULL;
    }
    if (kv_rs_store_create(&sc, model, &d->rs) != GRAFT_OK) {
        kv_store_diff_close(d);
        return NULL;
    }
    for (uint32_t k = 0; k < cfg->nkeys; k++) {
        int n = snprintf(d->keys[k], sizeof d->keys[k], "k:%u", k);
        if (k % 97 == 13) { /* a few long keys */
            memset(d->keys[k] + n, 'L', KSD_LONG_KEY - (size_t)n);
            d->keys[k][n] = ':';
            n = KSD_LONG_KEY;
            d->keys[k][n] = '\0';
        }
        d->nkey[k] = (uint32_t)n;
    }
    return d;
}

uint64_t kv_store_diff_ops(const kv_store_diff *d)
{
    return d->ops;
}

uint64_t kv_store_diff_differences(const kv_store_diff *d)
{
    return d->diffs;
}

void kv_store_diff_print_mix(const kv_store_diff *d, const char *prefix)
{
    fprintf(stderr, "%s", prefix);
    for (int i = 0; i < KSD_NOPS; i++) {
        fprintf(stderr, " %s=%" PRIu64, ksd_op_names[i], d->mix[i]);
    }
    kv_store_stats st;
    kv_store_get_stats(d->c, &st);
    fprintf(stderr,
            "; C stats: total_items=%" PRIu64 " evictions=%" PRIu64 " expired=%" PRIu64
            " reclaimed=%" PRIu64 " hash_buckets=%" PRIu64 "\n",
            st.total_items, st.evictions, st.expired, st.reclaimed, st.hash_buckets);
}

void kv_store_diff_close(kv_store_diff *d)
{
    if (d == NULL) {
        return;
    }
    while (d->nretained > 0) {
        ksd_retained *t = &d->retained[--d->nretained];
        kv_store_item_release(d->c, t->c);
        kv_rs_store_item_release(d->rs, t->rs);
        free(t->copy);
    }
    kv_store_destroy(d->c);
    kv_rs_store_destroy(d->rs);
    free(d->keys);
    free(d->nkey);
    free(d->last_cas);
    free(d->value);
    free(d);
}
