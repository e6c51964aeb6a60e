/*
 * kv_conn.c: the per-connection protocol engine (see kv_conn.h): runs the parser over
 * the input buffer, executes each request against the store, formats replies into the
 * output buffer and keeps memcached's flush points.
 */
#define _GNU_SOURCE /* getrusage fields, strnlen */
#include "kv_store_seam.h"
#include "kv_conn.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "graft/base.h"
#include "kv_compat.h"
#include "kv_resp.h"
#include "kv_seams.h"

int kv_conn_init(kv_conn *c, uint64_t id, kv_server *srv, kv_thread_stats *stats)
{
    memset(c, 0, sizeof(*c));
    c->id = id;
    c->srv = srv;
    c->stats = stats;
    c->in = malloc(KV_IN_INITIAL);
    c->out = malloc(KV_OUT_INITIAL);
    if (c->in == NULL || c->out == NULL) {
        free(c->in);
        free(c->out);
        c->in = c->out = NULL;
        return GRAFT_ENOMEM;
    }
    c->in_cap = KV_IN_INITIAL;
    c->out_cap = KV_OUT_INITIAL;
    return 0;
}

static void kv__release_refs(kv_conn *c, unsigned from, unsigned to)
{
    for (unsigned i = from; i < to; i++) {
        kv_ss_item_release(c->srv->store, c->refs[i].it);
        c->refs[i].it = NULL;
    }
}

static void kv__in_unreserve(kv_conn *c)
{
    if (c->in_reserved > 0) {
        kv_store_unreserve(c->srv->store, c->in_reserved);
        c->in_reserved = 0;
    }
}

void kv_conn_free(kv_conn *c)
{
    kv__release_refs(c, c->ref_head, c->nref);
    c->ref_head = c->nref = c->flush_nref = 0;
    kv__in_unreserve(c);
    free(c->in);
    free(c->out);
    c->in = c->out = NULL;
}

/* The connection code's one call of the request parser (a seam: see kv_seams.h). */
static void kv__parse_request(kv_conn *c, const kv_parse_limits *limits, kv_request *r)
{
    kv_parse_impl(c->id, c->in + c->in_pos, c->in_len - c->in_pos, limits, r);
}

/* Moves the pending input to the front and shrinks the buffer back to its own
 * KV_IN_INITIAL bytes, giving the claimed bytes back. */
static void kv__in_shrink(kv_conn *c)
{
    size_t pending = c->in_len - c->in_pos;
    if (c->in_pos > 0) {
        memmove(c->in, c->in + c->in_pos, pending);
        c->in_len = pending;
        c->in_pos = 0;
    }
    char *p = realloc(c->in, KV_IN_INITIAL);
    if (p != NULL) {
        c->in = p;
        c->in_cap = KV_IN_INITIAL;
        kv__in_unreserve(c);
    }
}

/* Grows the input buffer to at least `want` bytes (at most `limit`), claiming what
 * passes KV_IN_INITIAL from the store's limit. Returns 1, or 0 when it cannot. */
static int kv__in_grow(kv_conn *c, size_t want, size_t limit, uint32_t now)
{
    if (want > limit) {
        return 0;
    }
    size_t cap = c->in_cap;
    while (cap < want) {
        cap *= 2;
    }
    if (cap > limit) {
        cap = limit;
    }
    size_t claim = cap - KV_IN_INITIAL;
    if (claim > c->in_reserved) {
        if (!kv_store_reserve(c->srv->store, claim - c->in_reserved, now)) {
            return 0;
        }
        c->in_reserved = claim;
    }
    if (c->in_pos > 0) {
        memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
        c->in_len -= c->in_pos;
        c->in_pos = 0;
    }
    char *p = realloc(c->in, cap);
    if (p == NULL) {
        return 0; /* the claim stays with the connection and is given back with it */
    }
    c->in = p;
    c->in_cap = cap;
    return 1;
}

/* After a request: a grown buffer shrinks back as soon as what is pending fits, else
 * keeps its claim on the limit. Returns 0 when that claim cannot be made. */
static int kv__in_settle(kv_conn *c, uint32_t now)
{
    if (c->in_cap <= KV_IN_INITIAL) {
        return 1;
    }
    if (c->in_len - c->in_pos <= KV_IN_INITIAL / 2) {
        kv__in_shrink(c);
        return 1;
    }
    size_t claim = c->in_cap - KV_IN_INITIAL;
    if (claim > c->in_reserved) {
        if (!kv_store_reserve(c->srv->store, claim - c->in_reserved, now)) {
            return 0;
        }
        c->in_reserved = claim;
    }
    return 1;
}

size_t kv_conn_input_space(kv_conn *c, char **dst)
{
    if (c->in_pos == c->in_len) {
        c->in_pos = c->in_len = 0;
        if (c->in_cap > KV_IN_INITIAL && c->need == 0) {
            kv__in_shrink(c); /* idle after a big request: give the memory back */
        }
    }
    size_t pending = c->in_len - c->in_pos;
    size_t want = c->need > pending ? c->need : pending + 1;
    if (c->in_pos > 0 && !c->in_get && (c->in_cap - c->in_pos < want || c->in_len == c->in_cap)) {
        memmove(c->in, c->in + c->in_pos, pending);
        c->in_len = pending;
        c->in_pos = 0;
    }
    *dst = c->in + c->in_len;
    return c->in_cap - c->in_len;
}

void kv_conn_received(kv_conn *c, size_t n)
{
    c->in_len += n;
    c->cmds = 0;
    KV_STAT_ADD(c->stats, bytes_read, n);
}

int kv_conn_iov(const kv_conn *c, struct iovec *iov, int max)
{
    size_t pos = c->out_sent;
    int n = 0;
    for (unsigned i = c->ref_head; i < c->flush_nref; i++) {
        if (n + 2 > max) {
            return n;
        }
        const kv_outref *r = &c->refs[i];
        if (r->at > pos) {
            iov[n++] = (struct iovec){c->out + pos, r->at - pos};
        }
        size_t off = i == c->ref_head ? c->ref_off : 0;
        iov[n++] = (struct iovec){(void *)(r->data + off), r->len - off};
        pos = r->at;
    }
    if (c->flush_mark > pos && n < max) {
        iov[n++] = (struct iovec){c->out + pos, c->flush_mark - pos};
    }
    return n;
}

size_t kv_conn_sendable_len(const kv_conn *c)
{
    size_t t = c->flush_mark - c->out_sent;
    for (unsigned i = c->ref_head; i < c->flush_nref; i++) {
        t += c->refs[i].len - (i == c->ref_head ? c->ref_off : 0);
    }
    return t;
}

void kv_conn_sent(kv_conn *c, size_t n)
{
    KV_STAT_ADD(c->stats, bytes_written, n);
    while (n > 0) {
        if (c->ref_head == c->flush_nref) {
            assert(c->out_sent + n <= c->flush_mark);
            c->out_sent += n;
            break;
        }
        kv_outref *r = &c->refs[c->ref_head];
        if (c->out_sent < r->at) {
            size_t k = r->at - c->out_sent < n ? r->at - c->out_sent : n;
            c->out_sent += k;
            n -= k;
            continue;
        }
        size_t k = r->len - c->ref_off < n ? r->len - c->ref_off : n;
        c->ref_off += k;
        c->ref_bytes -= k;
        n -= k;
        if (c->ref_off == r->len) {
            kv__release_refs(c, c->ref_head, c->ref_head + 1);
            c->ref_head++;
            c->ref_off = 0;
        }
    }
    if (c->ref_head == c->nref) {
        c->ref_head = c->nref = c->flush_nref = 0;
    }
    if (c->out_sent == c->out_len && c->nref == 0) {
        c->out_sent = c->out_len = c->flush_mark = 0;
        if (c->out_cap > KV_OUT_INITIAL) {
            char *p = realloc(c->out, KV_OUT_INITIAL);
            if (p != NULL) {
                c->out = p;
                c->out_cap = KV_OUT_INITIAL;
            }
        }
    }
}

/* Room for n more output bytes; NULL (and out_failed set) when it cannot grow. */
static char *kv__out(kv_conn *c, size_t n)
{
    if (c->out_cap - c->out_len >= n) {
        return c->out + c->out_len;
    }
    if (c->out_sent > 0) {
        memmove(c->out, c->out + c->out_sent, c->out_len - c->out_sent);
        for (unsigned i = c->ref_head; i < c->nref; i++) {
            c->refs[i].at -= c->out_sent;
        }
        c->out_len -= c->out_sent;
        c->flush_mark -= c->out_sent;
        c->out_sent = 0;
        if (c->out_cap - c->out_len >= n) {
            return c->out + c->out_len;
        }
    }
    size_t cap = c->out_cap;
    while (cap - c->out_len < n) {
        cap *= 2;
    }
    char *p = realloc(c->out, cap);
    if (p == NULL) {
        c->out_failed = 1;
        return NULL;
    }
    c->out = p;
    c->out_cap = cap;
    return c->out + c->out_len;
}

static void kv__emit(kv_conn *c, const char *s, size_t n)
{
    char *p = kv__out(c, n);
    if (p != NULL) {
        memcpy(p, s, n);
        c->out_len += n;
    }
}

void kv_conn_emit(kv_conn *c, const char *s, size_t n)
{
    kv__emit(c, s, n);
}

static void kv__mark(kv_conn *c)
{
    c->flush_mark = c->out_len;
    c->flush_nref = c->nref;
}

/* memcached drops every reply not yet sent (conn_release_items) before some errors. */
static void kv__cull(kv_conn *c)
{
    c->out_len = c->flush_mark;
    for (unsigned i = c->flush_nref; i < c->nref; i++) {
        c->ref_bytes -= c->refs[i].len;
    }
    kv__release_refs(c, c->flush_nref, c->nref);
    c->nref = c->flush_nref;
}

/* Output past a high-water mark: execute nothing more until the peer takes some. */
static int kv__over(const kv_conn *c)
{
    return c->out_len - c->out_sent > KV_OUT_HIGH || c->ref_bytes > KV_REF_HIGH ||
           c->nref - c->ref_head >= KV_OUT_REFS;
}

/* Room for one more reference (compacting the array); 0 when all are unsent. */
static int kv__ref_room(kv_conn *c)
{
    if (c->nref == KV_OUT_REFS && c->ref_head > 0) {
        unsigned k = c->ref_head;
        memmove(c->refs, c->refs + k, (c->nref - k) * sizeof(c->refs[0]));
        c->nref -= k;
        c->flush_nref -= k;
        c->ref_head = 0;
    }
    return c->nref < KV_OUT_REFS;
}

typedef struct kv__get_ctx {
    kv_conn *c;
    int with_cas;
} kv__get_ctx;

static void kv__emit_value(void *ctx, const kv_item_view *it)
{
    kv__get_ctx *g = ctx;
    kv_conn *c = g->c;
    size_t total = (size_t)it->nbytes + 2;
    if (total > KV_COPY_MAX && kv__ref_room(c)) {
        /* sent from the item itself: only the header is copied */
        char *h = kv__out(c, KV_VALUE_HEADER_MAX);
        if (h == NULL) {
            return;
        }
        c->out_len +=
            kv_resp_value_header(h, it->key, it->nkey, it->flags, it->nbytes, g->with_cas, it->cas);
        kv_outref *r = &c->refs[c->nref++];
        r->at = c->out_len;
        r->it = kv_ss_item_retain(it);
        r->data = it->data;
        r->len = total;
        c->ref_bytes += total;
        return;
    }
    char *p = kv__out(c, KV_VALUE_HEADER_MAX + total);
    if (p == NULL) {
        return;
    }
    uint64_t cas = c->srv->disable_cas ? 0 : it->cas; /* -C: memcached stores no CAS */
    size_t n = kv_resp_value_header(p, it->key, it->nkey, it->flags, it->nbytes, g->with_cas, cas);
    memcpy(p + n, it->data, (size_t)it->nbytes + 2);
    c->out_len += n + it->nbytes + 2;
}

/* Runs the get-family request r from key cursor c->get_pos. Returns 1 when it paused on
 * full output (the request is saved in c->get_req and resumed by kv_conn_process), 0
 * when its reply is complete. */
static int kv__do_get(kv_conn *c, const kv_request *r, uint32_t now)
{
    kv__get_ctx g = {c, r->cmd == KV_CMD_GETS || r->cmd == KV_CMD_GATS};
    int touch = r->cmd == KV_CMD_GAT || r->cmd == KV_CMD_GATS;
    uint32_t pos = c->get_pos, off, len;
    while (kv_request_next_key(c->in + c->in_pos, r, &pos, &off, &len)) {
        if (kv__over(c) && !c->out_failed) {
            /* the rest once the peer has taken this: the keys stay in the buffer */
            if (r != &c->get_req) {
                c->get_req = *r;
            }
            c->in_get = 1;
            return 1;
        }
        c->get_pos = pos;
        const char *key = c->in + c->in_pos + off;
        int hit = kv_ss_get(c->srv->store, key, len, now, touch, r->exptime, kv__emit_value, &g);
        if (touch) {
            KV_STAT_ADD(c->stats, cmd_touch, 1);
            if (hit) {
                KV_STAT_ADD(c->stats, touch_hits, 1);
            } else {
                KV_STAT_ADD(c->stats, touch_misses, 1);
            }
        } else {
            KV_STAT_ADD(c->stats, cmd_get, 1);
            if (hit) {
                KV_STAT_ADD(c->stats, get_hits, 1);
            } else {
                KV_STAT_ADD(c->stats, get_misses, 1);
            }
        }
        if (c->out_failed) {
            break;
        }
    }
    if (c->out_failed) {
        /* as memcached when it cannot build a get reply */
        c->out_failed = 0;
        kv__cull(c);
        kv__emit(c, KV_RESP_LIT("SERVER_ERROR out of memory writing get response\r\n"));
    } else {
        kv__emit(c, KV_RESP_LIT("END\r\n"));
    }
    c->in_get = 0;
    c->get_pos = 0;
    return 0;
}

static kv_store_mode kv__mode(uint8_t cmd)
{
    switch (cmd) {
    case KV_CMD_ADD:
        return KV_MODE_ADD;
    case KV_CMD_REPLACE:
        return KV_MODE_REPLACE;
    case KV_CMD_APPEND:
        return KV_MODE_APPEND;
    case KV_CMD_PREPEND:
        return KV_MODE_PREPEND;
    case KV_CMD_CAS:
        return KV_MODE_CAS;
    default:
        return KV_MODE_SET;
    }
}

static void kv__reply_result(kv_conn *c, const kv_request *r, kv_store_result res, int arith)
{
    if (r->noreply) {
        return;
    }
    size_t n;
    const char *s = kv_resp_store_result(res, arith, &n);
    kv__emit(c, s, n);
}

static void kv__do_store(kv_conn *c, const kv_request *r, uint32_t now)
{
    const char *key = c->in + c->in_pos + r->key_off;
    const char *data = c->in + c->in_pos + r->data_off;
    /* -C: an item's CAS is never 0 in kvd, so a cas command finds EXISTS, as memcached */
    uint64_t cas = c->srv->disable_cas ? 0 : r->cas;
    /* the item will claim its own bytes: the buffer's claim is renewed or dropped (by
     * shrinking) right after, by kv__in_settle */
    kv__in_unreserve(c);
    kv_store_result res = kv_ss_store(c->srv->store, kv__mode(r->cmd), key, r->key_len, r->flags,
                                      r->exptime, data, r->data_len, cas, now);
    KV_STAT_ADD(c->stats, cmd_set, 1);
    if (r->cmd == KV_CMD_CAS) {
        if (res == KV_RES_STORED) {
            KV_STAT_ADD(c->stats, cas_hits, 1);
        } else if (res == KV_RES_EXISTS) {
            KV_STAT_ADD(c->stats, cas_badval, 1);
        } else if (res == KV_RES_NOT_FOUND) {
            KV_STAT_ADD(c->stats, cas_misses, 1);
        }
    }
    kv__reply_result(c, r, res, 0);
}

static void kv__do_arith(kv_conn *c, const kv_request *r, uint32_t now)
{
    const char *key = c->in + c->in_pos + r->key_off;
    uint64_t v = 0;
    int incr = r->cmd == KV_CMD_INCR;
    kv_store_result res = kv_ss_arith(c->srv->store, key, r->key_len, incr, r->delta, now, &v);
    if (res == KV_RES_OK || res == KV_RES_NON_NUMERIC) {
        if (incr) {
            KV_STAT_ADD(c->stats, incr_hits, 1);
        } else {
            KV_STAT_ADD(c->stats, decr_hits, 1);
        }
    } else if (res == KV_RES_NOT_FOUND) {
        if (incr) {
            KV_STAT_ADD(c->stats, incr_misses, 1);
        } else {
            KV_STAT_ADD(c->stats, decr_misses, 1);
        }
    }
    if (res != KV_RES_OK) {
        kv__reply_result(c, r, res, 1);
        return;
    }
    if (r->noreply) {
        return;
    }
    char *p = kv__out(c, KV_U64_LINE_MAX);
    if (p != NULL) {
        c->out_len += kv_resp_u64_line(p, v);
    }
}

static void kv__stat_u64(kv_conn *c, const char *name, uint64_t v)
{
    char *p = kv__out(c, 128);
    if (p != NULL) {
        c->out_len += kv_resp_stat_u64(p, 128, name, v);
    }
}

static void kv__stat_str(kv_conn *c, const char *name, const char *v)
{
    char *p = kv__out(c, 256);
    if (p != NULL) {
        c->out_len += kv_resp_stat_str(p, 256, name, v);
    }
}

#define KV_SUM(field) kv__sum(srv, offsetof(kv_thread_stats, field))

static uint64_t kv__sum(const kv_server *srv, size_t off)
{
    uint64_t t = 0;
    for (int i = 0; i < srv->nstats; i++) {
        const _Atomic uint64_t *f = (const _Atomic uint64_t *)((const char *)&srv->stats[i] + off);
        t += atomic_load_explicit(f, memory_order_relaxed);
    }
    return t;
}

static void kv__stats_general(kv_conn *c, uint32_t now)
{
    kv_server *srv = c->srv;
    kv_store_stats st;
    kv_ss_get_stats(srv->store, &st);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    char buf[64];
    kv__stat_u64(c, "pid", (uint64_t)getpid());
    kv__stat_u64(c, "uptime", (uint64_t)(time(NULL) - srv->started));
    kv__stat_u64(c, "time", (uint64_t)time(NULL));
    kv__stat_str(c, "version", KV_VERSION);
    kv__stat_u64(c, "pointer_size", sizeof(void *) * 8);
    snprintf(buf, sizeof(buf), "%ld.%06ld", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
    kv__stat_str(c, "rusage_user", buf);
    snprintf(buf, sizeof(buf), "%ld.%06ld", (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
    kv__stat_str(c, "rusage_system", buf);
    kv__stat_u64(c, "max_connections", (uint64_t)srv->maxconns);
    kv__stat_u64(c, "curr_connections", atomic_load(&srv->curr_conns));
    kv__stat_u64(c, "total_connections", atomic_load(&srv->total_conns));
    kv__stat_u64(c, "rejected_connections", atomic_load(&srv->rejected_conns));
    kv__stat_u64(c, "cmd_get", KV_SUM(cmd_get));
    kv__stat_u64(c, "cmd_set", KV_SUM(cmd_set));
    kv__stat_u64(c, "cmd_flush", KV_SUM(cmd_flush));
    kv__stat_u64(c, "cmd_touch", KV_SUM(cmd_touch));
    kv__stat_u64(c, "get_hits", KV_SUM(get_hits));
    kv__stat_u64(c, "get_misses", KV_SUM(get_misses));
    kv__stat_u64(c, "delete_misses", KV_SUM(delete_misses));
    kv__stat_u64(c, "delete_hits", KV_SUM(delete_hits));
    kv__stat_u64(c, "incr_misses", KV_SUM(incr_misses));
    kv__stat_u64(c, "incr_hits", KV_SUM(incr_hits));
    kv__stat_u64(c, "decr_misses", KV_SUM(decr_misses));
    kv__stat_u64(c, "decr_hits", KV_SUM(decr_hits));
    kv__stat_u64(c, "cas_misses", KV_SUM(cas_misses));
    kv__stat_u64(c, "cas_hits", KV_SUM(cas_hits));
    kv__stat_u64(c, "cas_badval", KV_SUM(cas_badval));
    kv__stat_u64(c, "touch_hits", KV_SUM(touch_hits));
    kv__stat_u64(c, "touch_misses", KV_SUM(touch_misses));
    kv__stat_u64(c, "bytes_read", KV_SUM(bytes_read));
    kv__stat_u64(c, "bytes_written", KV_SUM(bytes_written));
    kv__stat_u64(c, "limit_maxbytes", st.limit_maxbytes);
    kv__stat_u64(c, "threads", (uint64_t)srv->threads);
    kv__stat_u64(c, "hash_bytes", st.hash_bytes);
    kv__stat_u64(c, "hash_is_expanding", st.hash_growing > 0);
    kv__stat_u64(c, "hash_buckets", st.hash_buckets);
    kv__stat_u64(c, "bytes", st.bytes);
    kv__stat_u64(c, "curr_items", st.curr_items);
    kv__stat_u64(c, "total_items", st.total_items);
    kv__stat_u64(c, "evictions", st.evictions);
    kv__stat_u64(c, "reclaimed", st.reclaimed);
    kv__stat_u64(c, "expired", st.expired);
    (void)now;
}

static void kv__stats_settings(kv_conn *c)
{
    kv_server *srv = c->srv;
    kv__stat_u64(c, "maxbytes", srv->mem_limit);
    kv__stat_u64(c, "maxconns", (uint64_t)srv->maxconns);
    kv__stat_u64(c, "tcpport", (uint64_t)srv->port);
    kv__stat_u64(c, "udpport", 0);
    kv__stat_str(c, "inter", srv->listen_addr ? srv->listen_addr : "NULL");
    kv__stat_str(c, "domain_socket", srv->unix_path ? srv->unix_path : "NULL");
    char mask[16];
    snprintf(mask, sizeof mask, "%o", srv->unix_mask);
    kv__stat_str(c, "umask", mask);
    kv__stat_str(c, "shutdown_command", srv->enable_shutdown ? "yes" : "no");
    kv__stat_u64(c, "verbosity", atomic_load(&srv->verbosity));
    kv__stat_str(c, "evictions", "on");
    kv__stat_u64(c, "num_threads", (uint64_t)srv->threads);
    kv__stat_str(c, "cas_enabled", srv->disable_cas ? "no" : "yes");
    kv__stat_u64(c, "reqs_per_event",
                 srv->reqs_per_event ? srv->reqs_per_event : KV_REQS_PER_EVENT);
    kv__stat_u64(c, "tcp_backlog", (uint64_t)(srv->backlog ? srv->backlog : 1024));
    kv__stat_str(c, "binding_protocol", "ascii");
    kv__stat_u64(c, "item_size_max", srv->limits.item_size_max);
    kv__stat_str(c, "flush_enabled", srv->disable_flush ? "no" : "yes");
    kv__stat_str(c, "hash_algorithm", "fnv1a64-fmix64");
    kv__stat_u64(c, "hash_shards", KV_STORE_SHARDS);
}

static void kv__stats_items(kv_conn *c)
{
    kv_store_stats st;
    kv_ss_get_stats(c->srv->store, &st);
    if (st.curr_items == 0) {
        return; /* memcached lists only classes holding items */
    }
    kv__stat_u64(c, "items:1:number", st.curr_items);
    kv__stat_u64(c, "items:1:evicted", st.evictions);
    kv__stat_u64(c, "items:1:reclaimed", st.reclaimed);
    kv__stat_u64(c, "items:1:expired", st.expired);
}

int kv_conn_stats(kv_conn *c, const char *arg, uint32_t arg_len, uint32_t now)
{
    uint32_t w = 0;
    while (w < arg_len && arg[w] != ' ') {
        w++;
    }
    if (w == 0) {
        kv__stats_general(c, now);
    } else if (w == 8 && memcmp(arg, "settings", 8) == 0) {
        kv__stats_settings(c);
    } else if (w == 5 && memcmp(arg, "items", 5) == 0) {
        kv__stats_items(c);
    } else if (w == 5 && memcmp(arg, "reset", 5) == 0) {
        kv_server *srv = c->srv;
        for (int i = 0; i < srv->nstats; i++) {
            kv_thread_stats *t = &srv->stats[i];
            _Atomic uint64_t *f = (_Atomic uint64_t *)t;
            for (size_t k = 0; k < sizeof(*t) / sizeof(uint64_t); k++) {
                atomic_store_explicit(&f[k], 0, memory_order_relaxed);
            }
        }
        kv__emit(c, KV_RESP_LIT("RESET\r\n"));
        return 0;
    } else {
        return -1;
    }
    kv__emit(c, KV_RESP_LIT("END\r\n"));
    return 0;
}

/* -F: memcached refuses flush_all before it looks at the arguments */
static void kv__flush_refused(kv_conn *c, const kv_request *r)
{
    if (!r->noreply) {
        kv__emit(c, KV_RESP_LIT("CLIENT_ERROR flush_all not allowed\r\n"));
    }
}

/* The line of an unknown command for kv_compat: without "\r\n", cut at a NUL. */
static int kv__compat(kv_conn *c, const kv_request *r, uint32_t now)
{
    const char *line = c->in + c->in_pos;
    size_t n = r->consumed;
    const char *nl = memchr(line, '\n', n);
    n = nl != NULL ? (size_t)(nl - line) : n;
    if (n > 0 && line[n - 1] == '\r') {
        n--;
    }
    n = strnlen(line, n);
    return kv_compat_command(c, line, n, now);
}

/* ------------------------------------------------------------------ meta commands */

/* A meta reply line is built here before it is emitted: the code, at most 19 flags of
 * bounded size (numbers, 32-byte opaques) and one key (250 bytes, base64 of at most 187
 * decoded bytes is 252, plus " b"). */
#define KV_META_LINE_MAX 1024
/* Room for a decoded meta key (a 250-byte token decodes to at most 187 bytes). */
#define KV_KEY_TOKEN_MAX 256

typedef struct kv__mline {
    char b[KV_META_LINE_MAX];
    size_t n;
} kv__mline;

static void kv__ml_put(kv__mline *m, const char *s, size_t n)
{
    assert(m->n + n <= sizeof(m->b));
    memcpy(m->b + m->n, s, n);
    m->n += n;
}

static void kv__ml_flag_u64(kv__mline *m, char flag, uint64_t v)
{
    char d[2] = {' ', flag};
    kv__ml_put(m, d, 2);
    m->n += kv_resp_u64(m->b + m->n, v);
}

/* The key of a meta request: as sent, or decoded from base64 (flag b). */
typedef struct kv__mkey {
    const char *p;
    uint32_t n;
    int binary;
    unsigned char buf[KV_KEY_TOKEN_MAX];
} kv__mkey;

/* Next flag token of arg[0..len) from *pos; 0 at the end. */
static int kv__mflag(const char *arg, uint32_t len, uint32_t *pos, const char **t, uint32_t *n)
{
    uint32_t i = *pos;
    while (i < len && arg[i] == ' ') {
        i++;
    }
    if (i >= len) {
        *pos = i;
        return 0;
    }
    uint32_t s = i;
    while (i < len && arg[i] != ' ') {
        i++;
    }
    *t = arg + s;
    *n = i - s;
    *pos = i;
    return 1;
}

/* The first flag token starting with f, or NULL. */
static const char *kv__mfind(const char *arg, uint32_t len, char f, uint32_t *n)
{
    uint32_t pos = 0;
    const char *t;
    while (kv__mflag(arg, len, &pos, &t, n)) {
        if (t[0] == f) {
            return t;
        }
    }
    return NULL;
}

static void kv__mkey_init(kv_conn *c, const kv_request *r, kv__mkey *k)
{
    const char *arg = c->in + c->in_pos + r->arg_off;
    uint32_t n;
    k->p = c->in + c->in_pos + r->key_off;
    k->n = r->key_len;
    k->binary = 0;
    if (kv__mfind(arg, r->arg_len, 'b', &n) != NULL) {
        /* the parser checked that it decodes */
        size_t d = kv_base64_decode(k->p, k->n, k->buf, sizeof(k->buf));
        assert(d > 0);
        k->p = (const char *)k->buf;
        k->n = (uint32_t)d;
        k->binary = 1;
    }
}

/* memcached's "k" token: the key, base64 and " b" when binary. */
static void kv__ml_key(kv__mline *m, const char *key, uint32_t nkey, int binary)
{
    kv__ml_put(m, " k", 2);
    if (binary) {
        assert(m->n + (nkey + 2) / 3 * 4 + 2 <= sizeof(m->b));
        m->n += kv_resp_base64((const unsigned char *)key, nkey, m->b + m->n);
        kv__ml_put(m, " b", 2);
    } else {
        kv__ml_put(m, key, nkey);
    }
}

/* Appends the O and k tokens (the reply of a miss or a failure). */
static void kv__ml_opaque_key(kv__mline *m, const char *arg, uint32_t len, const kv__mkey *k)
{
    uint32_t pos = 0, n;
    const char *t;
    while (kv__mflag(arg, len, &pos, &t, &n)) {
        if (t[0] == 'O') {
            kv__ml_put(m, " ", 1);
            kv__ml_put(m, t, n);
        } else if (t[0] == 'k') {
            kv__ml_key(m, k->p, k->n, k->binary);
        }
    }
}

static void kv__ml_end(kv_conn *c, kv__mline *m)
{
    kv__ml_put(m, "\r\n", 2);
    kv__emit(c, m->b, m->n);
}

static uint32_t kv__mrealtime(kv_conn *c, const char *t, uint32_t n, uint32_t now)
{
    /* the parser checked the number (kv_proto.h): strtol reads the value memcached's
     * safe_strtol reads, truncated to 32 bits as there */
    (void)n;
    int32_t v = (int32_t)strtol(t + 1, NULL, 10);
    return kv_store_realtime(c->srv->store, v, now);
}

typedef struct kv__mg_ctx {
    kv_conn *c;
    const kv_request *r;
    const char *arg;
    uint32_t now;
    int value;
    int opaque_error; /* META_OPAQUE: apply the flags before the long opaque, reply nothing */
} kv__mg_ctx;

/* memcached's "opaque token too long" of mg and ma comes while it writes the reply:
 * the flags before the long O have taken effect. */
static int kv__long_opaque(const char *t, uint32_t n)
{
    return t[0] == 'O' && n > 32;
}

/* Appends an item's value (with its CRLF): copied, or sent from the item itself. */
static void kv__emit_item_data(kv_conn *c, const kv_item_view *it)
{
    size_t total = (size_t)it->nbytes + 2;
    if (total > KV_COPY_MAX && kv__ref_room(c)) {
        kv_outref *ref = &c->refs[c->nref++];
        ref->at = c->out_len;
        ref->it = kv_ss_item_retain(it);
        ref->data = it->data;
        ref->len = total;
        c->ref_bytes += total;
        return;
    }
    kv__emit(c, it->data, total);
}

static void kv__mg_visit(void *ctx, const kv_meta_view *v, kv_meta_update *u)
{
    kv__mg_ctx *g = ctx;
    kv_conn *c = g->c;
    kv__mline m;
    m.n = 0;
    if (g->value) {
        kv__ml_put(&m, "VA ", 3);
        m.n += kv_resp_u64(m.b + m.n, v->item.nbytes);
    } else {
        kv__ml_put(&m, "HD", 2);
    }
    uint32_t exptime = v->exptime;
    int won = 0;
    uint32_t pos = 0, n;
    const char *t;
    /* in the order of the request: a T or N changes what a later t reports */
    while (kv__mflag(g->arg, g->r->arg_len, &pos, &t, &n)) {
        if (g->opaque_error && kv__long_opaque(t, n)) {
            return; /* memcached stops here with its error: no win, nothing sent */
        }
        switch (t[0]) {
        case 'T':
            exptime = kv__mrealtime(c, t, n, g->now);
            u->set_exptime = 1;
            u->exptime = exptime;
            KV_STAT_ADD(c->stats, cmd_touch, 1);
            break;
        case 'N':
            if (v->created) {
                exptime = kv__mrealtime(c, t, n, g->now);
                u->set_exptime = 1;
                u->exptime = exptime;
                won = 1;
            }
            break;
        case 'R':
            if (!v->token_sent && !v->created && exptime != 0 &&
                exptime < kv__mrealtime(c, t, n, g->now)) {
                won = 1;
            }
            break;
        case 's':
            kv__ml_flag_u64(&m, 's', v->item.nbytes);
            break;
        case 't':
            if (exptime == 0) {
                kv__ml_put(&m, " t-1", 4);
            } else {
                kv__ml_flag_u64(&m, 't', (uint32_t)(exptime - g->now));
            }
            break;
        case 'c':
            kv__ml_flag_u64(&m, 'c', c->srv->disable_cas ? 0 : v->item.cas);
            break;
        case 'f':
            kv__ml_flag_u64(&m, 'f', v->item.flags);
            break;
        case 'l':
            kv__ml_flag_u64(&m, 'l', (uint32_t)(g->now - v->atime));
            break;
        case 'h':
            kv__ml_put(&m, v->fetched ? " h1" : " h0", 3);
            break;
        case 'O':
            kv__ml_put(&m, " ", 1);
            kv__ml_put(&m, t, n);
            break;
        case 'k':
            kv__ml_key(&m, v->item.key, v->item.nkey, v->key_binary);
            break;
        default:
            break;
        }
    }
    if (v->token_sent) {
        kv__ml_put(&m, " Z", 2);
    }
    if (v->stale) {
        kv__ml_put(&m, " X", 2);
        if (!v->token_sent) {
            won = 1; /* stale and nobody is recaching it: this client is asked to */
        }
    }
    if (won) {
        kv__ml_put(&m, " W", 2);
        u->set_token_sent = 1;
    }
    kv__ml_end(c, &m);
    if (g->value) {
        kv__emit_item_data(c, &v->item);
    }
}

static void kv__do_mg(kv_conn *c, const kv_request *r, uint32_t now)
{
    kv__mkey k;
    kv__mkey_init(c, r, &k);
    const char *arg = c->in + c->in_pos + r->arg_off;
    uint32_t n;
    int opaque_error = r->status == KV_PARSE_ERROR;
    kv__mg_ctx g = {c, r, arg, now, kv__mfind(arg, r->arg_len, 'v', &n) != NULL, opaque_error};
    int bump = kv__mfind(arg, r->arg_len, 'u', &n) == NULL;
    int vivify = kv__mfind(arg, r->arg_len, 'N', &n) != NULL;
    if (opaque_error) {
        /* memcached bumps before the reply unless a flag (N T R l h) delays the bump to
         * after it, which the error then skips */
        static const char delayed[] = "NTRlh";
        for (const char *d = delayed; *d != '\0'; d++) {
            if (kv__mfind(arg, r->arg_len, *d, &n) != NULL) {
                bump = 0;
            }
        }
    }
    int hit = kv_ss_mget(c->srv->store, k.p, k.n, now, bump, vivify, kv__mg_visit, &g);
    if (opaque_error) {
        kv__emit(c, KV_RESP_LIT("CLIENT_ERROR opaque token too long\r\n"));
        return;
    }
    KV_STAT_ADD(c->stats, cmd_get, 1);
    if (hit) {
        KV_STAT_ADD(c->stats, get_hits, 1);
        return;
    }
    KV_STAT_ADD(c->stats, get_misses, 1);
    if (r->noreply) {
        return; /* q: a miss says nothing */
    }
    kv__mline m;
    m.n = 0;
    kv__ml_put(&m, "EN", 2);
    kv__ml_opaque_key(&m, arg, r->arg_len, &k);
    kv__ml_end(c, &m);
}

static void kv__do_ms(kv_conn *c, const kv_request *r, uint32_t now)
{
    kv__mkey k;
    kv__mkey_init(c, r, &k);
    const char *arg = c->in + c->in_pos + r->arg_off;
    uint32_t n;
    const char *mt = kv__mfind(arg, r->arg_len, 'M', &n);
    kv_store_mode mode = KV_MODE_SET;
    switch (mt != NULL ? mt[1] : 'S') {
    case 'E':
        mode = KV_MODE_ADD;
        break;
    case 'A':
        mode = KV_MODE_APPEND;
        break;
    case 'P':
        mode = KV_MODE_PREPEND;
        break;
    case 'R':
        mode = KV_MODE_REPLACE;
        break;
    default:
        break;
    }
    int has_cas = kv__mfind(arg, r->arg_len, 'C', &n) != NULL;
    if (has_cas && (mode == KV_MODE_SET || mode == KV_MODE_REPLACE)) {
        mode = KV_MODE_CAS; /* as memcached: a C token makes set and replace a cas */
    }
    int invalidate = kv__mfind(arg, r->arg_len, 'I', &n) != NULL;
    uint64_t cas = c->srv->disable_cas ? 0 : r->cas;
    uint64_t new_cas = 0;
    kv__in_unreserve(c); /* as kv__do_store */
    kv_store_result res = kv_ss_mstore(c->srv->store, mode, k.p, k.n, r->flags, r->exptime,
                                       c->in + c->in_pos + r->data_off, r->data_len, cas,
                                       invalidate && mode == KV_MODE_CAS, k.binary, now, &new_cas);
    KV_STAT_ADD(c->stats, cmd_set, 1);
    kv__mline m;
    m.n = 0;
    switch (res) {
    case KV_RES_STORED:
        if (r->noreply) {
            return; /* q hides only the nominal reply */
        }
        kv__ml_put(&m, "HD", 2);
        break;
    case KV_RES_EXISTS:
        kv__ml_put(&m, "EX", 2);
        break;
    case KV_RES_NOT_FOUND:
        kv__ml_put(&m, "NF", 2);
        break;
    case KV_RES_NOT_STORED:
        kv__ml_put(&m, "NS", 2);
        break;
    default:
        kv__emit(c, KV_RESP_LIT("SERVER_ERROR out of memory storing object\r\n"));
        return;
    }
    uint32_t pos = 0;
    const char *t;
    while (kv__mflag(arg, r->arg_len, &pos, &t, &n)) {
        if (t[0] == 'O') {
            kv__ml_put(&m, " ", 1);
            kv__ml_put(&m, t, n);
        } else if (t[0] == 'k') {
            kv__ml_key(&m, k.p, k.n, k.binary);
        } else if (t[0] == 'c') {
            kv__ml_flag_u64(&m, 'c', c->srv->disable_cas ? 0 : new_cas);
        }
    }
    kv__ml_end(c, &m);
}

static void kv__do_md(kv_conn *c, const kv_request *r, uint32_t now)
{
    kv__mkey k;
    kv__mkey_init(c, r, &k);
    const char *arg = c->in + c->in_pos + r->arg_off;
    uint32_t n;
    int has_cas = kv__mfind(arg, r->arg_len, 'C', &n) != NULL;
    int invalidate = kv__mfind(arg, r->arg_len, 'I', &n) != NULL;
    int set_exptime = kv__mfind(arg, r->arg_len, 'T', &n) != NULL;
    kv_store_result res = kv_ss_mdelete(c->srv->store, k.p, k.n, r->cas, has_cas, invalidate,
                                        set_exptime, r->exptime, now);
    kv__mline m;
    m.n = 0;
    if (res == KV_RES_DELETED) {
        if (!invalidate) {
            KV_STAT_ADD(c->stats, delete_hits, 1);
        }
        if (r->noreply) {
            return;
        }
        kv__ml_put(&m, "HD", 2);
    } else {
        KV_STAT_ADD(c->stats, delete_misses, 1);
        kv__ml_put(&m, res == KV_RES_EXISTS ? "EX" : "NF", 2);
    }
    kv__ml_opaque_key(&m, arg, r->arg_len, &k);
    kv__ml_end(c, &m);
}

typedef struct kv__ma_ctx {
    kv_conn *c;
    const kv_request *r;
    const char *arg;
    const kv__mkey *k;
    uint32_t now;
    const uint64_t *value;
    int show_value;
    int opaque_error; /* as kv__mg_ctx */
    kv__mline m;
} kv__ma_ctx;

static void kv__ma_visit(void *ctx, const kv_meta_view *v, kv_meta_update *u)
{
    kv__ma_ctx *a = ctx;
    char digits[24];
    size_t nd = kv_resp_u64(digits, *a->value);
    kv__mline *m = &a->m;
    if (a->show_value) {
        kv__ml_put(m, "VA ", 3);
        m->n += kv_resp_u64(m->b + m->n, nd);
    } else {
        kv__ml_put(m, "HD", 2);
    }
    uint32_t exptime = v->exptime;
    uint32_t pos = 0, n;
    const char *t;
    while (kv__mflag(a->arg, a->r->arg_len, &pos, &t, &n)) {
        if (a->opaque_error && kv__long_opaque(t, n)) {
            m->n = 0;
            return;
        }
        switch (t[0]) {
        case 'c':
            kv__ml_flag_u64(m, 'c', a->c->srv->disable_cas ? 0 : v->item.cas);
            break;
        case 't':
            if (exptime == 0) {
                kv__ml_put(m, " t-1", 4);
            } else {
                kv__ml_flag_u64(m, 't', (uint32_t)(exptime - a->now));
            }
            break;
        case 'T':
            exptime = kv__mrealtime(a->c, t, n, a->now);
            u->set_exptime = 1;
            u->exptime = exptime;
            break;
        case 'N':
            if (v->created) {
                exptime = kv__mrealtime(a->c, t, n, a->now);
                u->set_exptime = 1;
                u->exptime = exptime;
            }
            break;
        case 'O':
            kv__ml_put(m, " ", 1);
            kv__ml_put(m, t, n);
            break;
        case 'k':
            kv__ml_key(m, a->k->p, a->k->n, a->k->binary);
            break;
        default:
            break;
        }
    }
    if (a->show_value) {
        kv__ml_put(m, "\r\n", 2);
        kv__ml_put(m, digits, nd);
    }
    /* skip: q hides a nominal reply, not the one of an item made by N (as memcached) */
    if (a->r->noreply && !v->created) {
        m->n = 0;
    }
}

static void kv__do_ma(kv_conn *c, const kv_request *r, uint32_t now)
{
    kv__mkey k;
    kv__mkey_init(c, r, &k);
    const char *arg = c->in + c->in_pos + r->arg_off;
    uint32_t n;
    const char *mt = kv__mfind(arg, r->arg_len, 'M', &n);
    int incr = mt == NULL || mt[1] == 'I' || mt[1] == '+';
    int vivify = kv__mfind(arg, r->arg_len, 'N', &n) != NULL;
    uint64_t initial = 0;
    const char *jt = kv__mfind(arg, r->arg_len, 'J', &n);
    if (jt != NULL) {
        initial = strtoull(jt + 1, NULL, 10); /* checked by the parser */
    }
    uint64_t value = 0;
    int opaque_error = r->status == KV_PARSE_ERROR;
    int show = kv__mfind(arg, r->arg_len, 'v', &n) != NULL;
    kv__ma_ctx a = {c, r, arg, &k, now, &value, show, opaque_error, {{0}, 0}};
    kv_store_result res = kv_ss_marith(c->srv->store, k.p, k.n, incr, r->delta, r->cas, vivify,
                                       initial, now, &value, kv__ma_visit, &a);
    if (opaque_error && res != KV_RES_NON_NUMERIC && res != KV_RES_NO_MEMORY) {
        kv__emit(c, KV_RESP_LIT("CLIENT_ERROR opaque token too long\r\n"));
        return;
    }
    switch (res) {
    case KV_RES_OK:
        if (incr) {
            KV_STAT_ADD(c->stats, incr_hits, 1);
        } else {
            KV_STAT_ADD(c->stats, decr_hits, 1);
        }
        if (a.m.n > 0) {
            kv__ml_end(c, &a.m);
        }
        return;
    case KV_RES_NON_NUMERIC:
        kv__emit(c,
                 KV_RESP_LIT("CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"));
        return;
    case KV_RES_NO_MEMORY:
        if (vivify) {
            kv__emit(c, KV_RESP_LIT("SERVER_ERROR Out of memory allocating new item\r\n"));
        } else {
            kv__emit(c, KV_RESP_LIT("SERVER_ERROR out of memory\r\n"));
        }
        return;
    default:
        break;
    }
    if (res == KV_RES_NOT_FOUND) {
        if (incr) {
            KV_STAT_ADD(c->stats, incr_misses, 1);
        } else {
            KV_STAT_ADD(c->stats, decr_misses, 1);
        }
    }
    a.m.n = 0;
    kv__ml_put(&a.m, res == KV_RES_EXISTS ? "EX" : "NF", 2);
    kv__ml_opaque_key(&a.m, arg, r->arg_len, &k);
    kv__ml_end(c, &a.m);
}

/* memcached's slab class of an item of `size` bytes at its default settings (-n 48,
 * -f 1.25, 512 KiB chunks): "me" reports it. kvd has no slab classes; this is the class
 * the same item has in memcached. */
static unsigned kv__memcached_class(size_t size)
{
    size_t chunk = 96;
    unsigned cls = 1;
    while (chunk <= (size_t)(524288 / 1.25)) {
        if (size <= chunk) {
            return cls;
        }
        chunk = (size_t)((double)chunk * 1.25);
        if (chunk % 8 != 0) {
            chunk += 8 - chunk % 8;
        }
        cls++;
    }
    return cls;
}

typedef struct kv__me_ctx {
    kv_conn *c;
    uint32_t now;
} kv__me_ctx;

static void kv__me_visit(void *ctx, const kv_meta_view *v, kv_meta_update *u)
{
    kv__me_ctx *e = ctx;
    (void)u;
    kv__mline m;
    m.n = 0;
    kv__ml_put(&m, "ME ", 3);
    if (v->key_binary) {
        m.n += kv_resp_base64((const unsigned char *)v->item.key, v->item.nkey, m.b + m.n);
    } else {
        kv__ml_put(&m, v->item.key, v->item.nkey);
    }
    size_t size = 59 + (size_t)v->item.nkey + v->item.nbytes + (v->item.flags != 0 ? 4 : 0);
    int w = snprintf(m.b + m.n, sizeof(m.b) - m.n,
                     " exp=%d la=%u cas=%" PRIu64 " fetch=%s cls=%u size=%zu\r\n",
                     v->exptime == 0 ? -1 : (int)(e->now - v->exptime), e->now - v->atime,
                     e->c->srv->disable_cas ? 0 : v->item.cas, v->fetched ? "yes" : "no",
                     kv__memcached_class(size), size);
    assert(w > 0 && (size_t)w < sizeof(m.b) - m.n);
    m.n += (size_t)w;
    kv__emit(e->c, m.b, m.n);
}

static void kv__do_me(kv_conn *c, const kv_request *r, uint32_t now)
{
    kv__mkey k;
    k.p = c->in + c->in_pos + r->key_off;
    k.n = r->key_len;
    const char *arg = c->in + c->in_pos + r->arg_off;
    if (r->arg_len >= 1 && arg[0] == 'b' && (r->arg_len == 1 || arg[1] == ' ')) {
        size_t d = kv_base64_decode(k.p, k.n, k.buf, sizeof(k.buf));
        assert(d > 0);
        k.p = (const char *)k.buf;
        k.n = (uint32_t)d;
    }
    kv__me_ctx e = {c, now};
    if (!kv_ss_mget(c->srv->store, k.p, k.n, now, 0, 0, kv__me_visit, &e)) {
        kv__emit(c, KV_RESP_LIT("EN\r\n"));
    }
}

static void kv__do_error(kv_conn *c, const kv_request *r, uint32_t now)
{
    if (r->error == KV_ERR_UNKNOWN_COMMAND && kv__compat(c, r, now)) {
        return;
    }
    if (r->error == KV_ERR_META_OPAQUE && r->cmd == KV_CMD_MG) {
        kv__do_mg(c, r, now); /* with the effects memcached has before it notices */
        return;
    }
    if (r->error == KV_ERR_META_OPAQUE && r->cmd == KV_CMD_MA) {
        kv__do_ma(c, r, now);
        return;
    }
    if (r->cmd == KV_CMD_FLUSH_ALL && c->srv->disable_flush) {
        kv__flush_refused(c, r);
        return;
    }
    if (r->error == KV_ERR_TOO_LARGE) {
        c->swallow = r->swallow;
        if (r->cmd == KV_CMD_SET) {
            /* memcached drops the old value rather than keep serving a stale one */
            kv_ss_delete(c->srv->store, c->in + c->in_pos + r->key_off, r->key_len, now);
        } else if (r->cmd == KV_CMD_MS) {
            kv__mkey k; /* ms drops it whatever its mode */
            kv__mkey_init(c, r, &k);
            kv_ss_delete(c->srv->store, k.p, k.n, now);
        }
    } else if (r->cmd == KV_CMD_MS && r->swallow > 0) {
        c->swallow = r->swallow; /* a bad ms line: memcached swallows its value */
    }
    if (r->error == KV_ERR_BAD_FORMAT && (r->cmd == KV_CMD_GET || r->cmd == KV_CMD_GETS ||
                                          r->cmd == KV_CMD_GAT || r->cmd == KV_CMD_GATS)) {
        kv__cull(c);
    }
    if (r->noreply) {
        return;
    }
    size_t n;
    const char *s = kv_resp_parse_error(r->error, &n);
    if (s != NULL) {
        kv__emit(c, s, n);
    }
}

/* Executes one parsed request; returns 1 when the connection must stop (quit), 2 when
 * a multi-get paused on full output. */
static int kv__execute(kv_conn *c, const kv_request *r, uint32_t now)
{
    switch (r->cmd) {
    case KV_CMD_GET:
    case KV_CMD_GETS:
    case KV_CMD_GAT:
    case KV_CMD_GATS:
        c->get_pos = 0;
        if (kv__do_get(c, r, now)) {
            return 2;
        }
        kv__mark(c); /* memcached sends a get's reply at once */
        break;
    case KV_CMD_SET:
    case KV_CMD_ADD:
    case KV_CMD_REPLACE:
    case KV_CMD_APPEND:
    case KV_CMD_PREPEND:
    case KV_CMD_CAS:
        kv__do_store(c, r, now);
        break;
    case KV_CMD_DELETE: {
        kv_store_result res =
            kv_ss_delete(c->srv->store, c->in + c->in_pos + r->key_off, r->key_len, now);
        if (res == KV_RES_DELETED) {
            KV_STAT_ADD(c->stats, delete_hits, 1);
        } else {
            KV_STAT_ADD(c->stats, delete_misses, 1);
        }
        kv__reply_result(c, r, res, 0);
        break;
    }
    case KV_CMD_INCR:
    case KV_CMD_DECR:
        kv__do_arith(c, r, now);
        break;
    case KV_CMD_TOUCH: {
        kv_store_result res =
            kv_ss_touch(c->srv->store, c->in + c->in_pos + r->key_off, r->key_len, r->exptime, now);
        KV_STAT_ADD(c->stats, cmd_touch, 1);
        if (res == KV_RES_TOUCHED) {
            KV_STAT_ADD(c->stats, touch_hits, 1);
        } else {
            KV_STAT_ADD(c->stats, touch_misses, 1);
        }
        kv__reply_result(c, r, res, 0);
        break;
    }
    case KV_CMD_FLUSH_ALL:
        if (c->srv->disable_flush) {
            kv__flush_refused(c, r);
            break;
        }
        KV_STAT_ADD(c->stats, cmd_flush, 1);
        kv_ss_flush(c->srv->store, r->delta, now);
        if (!r->noreply) {
            kv__emit(c, KV_RESP_LIT("OK\r\n"));
        }
        break;
    case KV_CMD_STATS:
        if (kv_conn_stats(c, c->in + c->in_pos + r->arg_off, r->arg_len, now) != 0 &&
            !kv_compat_stats(c, c->in + c->in_pos + r->arg_off, r->arg_len)) {
            kv__emit(c, KV_RESP_LIT("ERROR\r\n"));
        }
        break;
    case KV_CMD_VERSION:
        kv__emit(c, KV_RESP_LIT("VERSION " KV_VERSION "\r\n"));
        break;
    case KV_CMD_VERBOSITY:
        atomic_store(&c->srv->verbosity, (uint32_t)(r->delta > 2 ? 2 : r->delta));
        if (!r->noreply) {
            kv__emit(c, KV_RESP_LIT("OK\r\n"));
        }
        break;
    case KV_CMD_QUIT:
        kv__mark(c);
        return 1;
    case KV_CMD_MG:
        kv__do_mg(c, r, now);
        break;
    case KV_CMD_MS:
        kv__do_ms(c, r, now);
        break;
    case KV_CMD_MD:
        kv__do_md(c, r, now);
        break;
    case KV_CMD_MA:
        kv__do_ma(c, r, now);
        break;
    case KV_CMD_ME:
        kv__do_me(c, r, now);
        break;
    case KV_CMD_MN:
        kv__emit(c, KV_RESP_LIT("MN\r\n"));
        kv__mark(c); /* memcached flushes at mn */
        break;
    default:
        kv__emit(c, KV_RESP_LIT("ERROR\r\n"));
        break;
    }
    return 0;
}

/* A storage request whose value cannot get buffer memory (the limit is taken by
 * unevictable bytes): memcached's answer when it cannot allocate the item. The parser,
 * given no room for any item, describes the request as too large: key, noreply and the
 * bytes to swallow. Returns 0 when the connection must close instead. */
static int kv__store_no_memory(kv_conn *c, uint32_t now)
{
    kv_parse_limits lim = c->srv->limits;
    lim.item_size_max = 0;
    kv_request e;
    kv__parse_request(c, &lim, &e);
    if (e.status != KV_PARSE_ERROR || e.error != KV_ERR_TOO_LARGE) {
        return 0;
    }
    if (e.cmd == KV_CMD_SET) {
        /* as memcached: no stale value survives a set that failed */
        kv_ss_delete(c->srv->store, c->in + c->in_pos + e.key_off, e.key_len, now);
    } else if (e.cmd == KV_CMD_MS) {
        kv__mkey k; /* ms: whatever its mode */
        kv__mkey_init(c, &e, &k);
        kv_ss_delete(c->srv->store, k.p, k.n, now);
    }
    c->in_pos += e.consumed;
    c->swallow = e.swallow;
    c->need = 0;
    if (!e.noreply) {
        kv__emit(c, KV_RESP_LIT("SERVER_ERROR out of memory storing object\r\n"));
    }
    return 1;
}

/* memcached's answer when its read buffer cannot grow; then the connection closes. */
static kv_conn_state kv__read_no_memory(kv_conn *c)
{
    kv__emit(c, KV_RESP_LIT("SERVER_ERROR out of memory reading request\r\n"));
    kv__mark(c);
    c->close_after = 1;
    return KV_CONN_CLOSE;
}

kv_conn_state kv_conn_process(kv_conn *c, uint32_t now)
{
    if (c->close_after) {
        return KV_CONN_CLOSE;
    }
    for (;;) {
        size_t avail = c->in_len - c->in_pos;
        if (c->swallow > 0) {
            size_t d = avail < c->swallow ? avail : (size_t)c->swallow;
            c->in_pos += d;
            c->swallow -= d;
            if (c->swallow > 0) {
                return KV_CONN_READ; /* memcached sends nothing while swallowing */
            }
            continue;
        }
        if (kv__over(c)) {
            kv__mark(c);
            return KV_CONN_WRITE;
        }
        uint32_t consumed;
        if (c->in_get) {
            if (kv__do_get(c, &c->get_req, now)) {
                kv__mark(c);
                return KV_CONN_WRITE;
            }
            kv__mark(c);
            consumed = c->get_req.consumed;
        } else {
            if (avail == 0) {
                c->need = 0;
                kv__mark(c);
                return KV_CONN_READ;
            }
            if (c->scanned > 0 &&
                memchr(c->in + c->in_pos + c->scanned, '\n', avail - c->scanned) == NULL) {
                /* still no end to the long multi-get line: parsing it again from its
                 * start on every read would be quadratic */
                c->scanned = avail;
                if (avail >= c->in_cap) {
                    size_t limit =
                        c->srv->max_in > KV_GETLINE_MAX ? c->srv->max_in : KV_GETLINE_MAX;
                    if (!kv__in_grow(c, c->in_cap + 1, limit, now)) {
                        return kv__read_no_memory(c);
                    }
                }
                return KV_CONN_READ;
            }
            c->scanned = 0;
            kv_request r;
            kv__parse_request(c, &c->srv->limits, &r);
            switch (r.status) {
            case KV_PARSE_NEED_MORE:
                c->need = r.consumed;
                if (r.consumed > c->in_cap) {
                    /* a value bigger than the buffer: grow it, with bytes of the limit */
                    if (kv__in_grow(c, r.consumed, c->srv->max_in, now)) {
                        return KV_CONN_READ;
                    }
                    if (!kv__store_no_memory(c, now)) {
                        kv__cull(c);
                        c->close_after = 1;
                        return KV_CONN_CLOSE;
                    }
                    continue;
                }
                if (r.consumed == 0) {
                    kv__mark(c); /* inside a command line: memcached flushes */
                    if (avail > c->srv->limits.max_line) {
                        /* the parser accepts this long line only as a multi-get, and
                         * more bytes without '\n' cannot change that */
                        c->scanned = avail;
                    }
                    if (avail >= c->in_cap) {
                        /* a multi-get line longer than the buffer (the parser closes any
                         * other long line) */
                        size_t limit =
                            c->srv->max_in > KV_GETLINE_MAX ? c->srv->max_in : KV_GETLINE_MAX;
                        if (!kv__in_grow(c, c->in_cap + 1, limit, now)) {
                            return kv__read_no_memory(c);
                        }
                    }
                }
                return KV_CONN_READ;
            case KV_PARSE_CLOSE:
                kv__cull(c);
                c->close_after = 1;
                return KV_CONN_CLOSE;
            case KV_PARSE_ERROR:
                kv__do_error(c, &r, now);
                if (c->close_after) { /* "shutdown" under -A */
                    c->in_pos += r.consumed;
                    kv__mark(c);
                    return KV_CONN_CLOSE;
                }
                break;
            default: {
                int x = kv__execute(c, &r, now);
                if (x == 2) {
                    kv__mark(c);
                    return KV_CONN_WRITE;
                }
                if (x == 1) {
                    c->in_pos += r.consumed;
                    c->close_after = 1;
                    return KV_CONN_CLOSE;
                }
                break;
            }
            }
            consumed = r.consumed;
        }
        c->in_pos += consumed;
        c->need = 0;
        if (!kv__in_settle(c, now)) {
            return kv__read_no_memory(c);
        }
        if (c->out_failed) {
            /* replies can no longer be built faithfully: give up on this client */
            kv__cull(c);
            c->close_after = 1;
            return KV_CONN_CLOSE;
        }
        /* memcached yields (and sends) when its per-event budget of 20 runs out: after
         * the 21st request following a read, then after every 20 more */
        uint32_t budget = c->srv->reqs_per_event ? c->srv->reqs_per_event : KV_REQS_PER_EVENT;
        if (++c->cmds > budget) {
            c->cmds = 1;
            kv__mark(c);
        }
    }
}
