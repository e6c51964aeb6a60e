/*
 * kv_store_seam.c: kv.store, the stateful seam in front of kvd's two stores (see
 * kv_store_seam.h for what is routed where and why).
 *
 * One operation is one graft_stateful_call: the input (kv__ss_in) carries the
 * connection's arguments and what the two stores of one write share (the CAS the first
 * allocated, the meta update the answering store's callback chose); the output is what
 * a comparison looks at (result, value, and a digest of the item a callback saw).
 *
 * Items a reply holds by reference are tagged in their low bit when they belong to the
 * candidate store, so kv_ss_item_release gives each back to its own store.
 */
#define _POSIX_C_SOURCE 200809L
#include "kv_store_seam.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The operations of kv.store: XX(SUFFIX, "name", kind). One list: the enum, the op table
 * and the names in logs come from it. */
#define KV__SS_OP_MAP(XX)                                                                          \
    XX(GET, "get", GRAFT_SF_READ)                                                                  \
    XX(GAT, "gat", GRAFT_SF_WRITE)                                                                 \
    XX(STORE, "store", GRAFT_SF_WRITE)                                                             \
    XX(DELETE, "delete", GRAFT_SF_WRITE)                                                           \
    XX(TOUCH, "touch", GRAFT_SF_WRITE)                                                             \
    XX(ARITH, "arith", GRAFT_SF_WRITE)                                                             \
    XX(FLUSH, "flush_all", GRAFT_SF_WRITE)                                                         \
    XX(MGET, "mg", GRAFT_SF_WRITE)                                                                 \
    XX(MSTORE, "ms", GRAFT_SF_WRITE)                                                               \
    XX(MDELETE, "md", GRAFT_SF_WRITE)                                                              \
    XX(MARITH, "ma", GRAFT_SF_WRITE)

enum kv__ss_op {
#define KV__SS_OP_ENUM(suffix, name, kind) KV__SS_##suffix,
    KV__SS_OP_MAP(KV__SS_OP_ENUM)
#undef KV__SS_OP_ENUM
        KV__SS_NOPS
};

static const graft_sf_op kv__ss_ops[KV__SS_NOPS] = {
#define KV__SS_OP_ROW(suffix, name, kind) {name, kind},
    KV__SS_OP_MAP(KV__SS_OP_ROW)
#undef KV__SS_OP_ROW
};

struct kv_ss {
    kv_store *st[2]; /* indexed by graft_impl */
    graft_stateful *sf;
    graft_seam *seam;
    uint32_t (*now)(void);
    _Atomic uint64_t next_cas;
};

/* The installed adapter (kv_ss_install), read by every kv_ss_* call: set before workers
 * start and cleared after they stopped, as kv_seams.h's hooks. */
static kv_ss *kv__ss_active;

typedef struct kv__ss_in {
    const char *key;
    uint32_t nkey;
    uint32_t now;
    int touch, incr, bump, vivify, invalidate, key_binary, has_cas, set_exptime;
    int64_t exptime;
    kv_store_mode mode;
    uint32_t flags;
    const char *data;
    uint32_t ndata;
    uint64_t cas, delta, initial;
    kv_item_visit_fn vfn;
    kv_meta_visit_fn mfn;
    void *uctx;
    uint64_t *value_out; /* ma: the caller's value */
    int ran[2];          /* get: the stores that ran it */
    /* shared by the two stores of one write */
    uint64_t cas_alloc;
    int cas_taken;
    int user_called;
    kv_meta_update rec;
} kv__ss_in;

typedef struct kv__ss_out {
    int hit;
    kv_store_result res;
    uint64_t value, cas_out;
    uint64_t digest; /* of the item a callback saw (0: none) */
    /* reads: the item, retained for the caller (tagged), and its view */
    kv_item *ref;
    kv_item_view view;
} kv__ss_out;

/* The input of the call in progress on this thread (for the CAS allocator), and the
 * store whose visit callback is running (for kv_ss_item_retain). */
static _Thread_local kv__ss_in *kv__ss_cur_in;
static _Thread_local int kv__ss_cur_store = -1;

static kv_item *kv__ss_tag(kv_item *it, int store)
{
    return (kv_item *)((uintptr_t)it | (uintptr_t)(store == GRAFT_IMPL_CANDIDATE));
}

static uint64_t kv__ss_fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * 0x100000001b3ull;
    }
    return h;
}

/* What a reply can show of an item: flags, CAS, value (and exptime where known). */
static uint64_t kv__ss_item_digest(const kv_item_view *v, uint32_t exptime)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = kv__ss_fnv(h, &v->flags, sizeof v->flags);
    h = kv__ss_fnv(h, &v->cas, sizeof v->cas);
    h = kv__ss_fnv(h, &exptime, sizeof exptime);
    h = kv__ss_fnv(h, &v->nbytes, sizeof v->nbytes);
    h = kv__ss_fnv(h, v->data, v->nbytes);
    return h | 1u; /* never 0 */
}

/* The CAS allocator both stores share: the first store of a call allocates, the second
 * is handed the same value. */
static uint64_t kv__ss_cas_next(void *ctx)
{
    kv_ss *ss = ctx;
    kv__ss_in *in = kv__ss_cur_in;
    if (in != NULL && in->cas_taken) {
        return in->cas_alloc;
    }
    uint64_t v = atomic_fetch_add_explicit(&ss->next_cas, 1, memory_order_relaxed);
    if (in != NULL) {
        in->cas_alloc = v;
        in->cas_taken = 1;
    }
    return v;
}

/* ------------------------------------------------------------------ visit wrappers */

typedef struct kv__ss_vctx {
    kv__ss_in *in;
    kv__ss_out *out;
    int store;
    int answering; /* this store's callback reaches the connection */
} kv__ss_vctx;

/* get (a read): keep the item for the caller. */
static void kv__ss_visit_keep(void *ctx, const kv_item_view *v)
{
    kv__ss_vctx *x = ctx;
    x->out->view = *v;
    x->out->ref = kv__ss_tag(kv_store_item_retain(v), x->store);
    x->out->digest = kv__ss_item_digest(v, 0);
}

/* gat (a write): the answering store's callback emits; the other only digests. */
static void kv__ss_visit_write(void *ctx, const kv_item_view *v)
{
    kv__ss_vctx *x = ctx;
    x->out->digest = kv__ss_item_digest(v, kv_store_item_exptime(v));
    if (x->answering) {
        kv__ss_cur_store = x->store;
        x->in->vfn(x->in->uctx, v);
        kv__ss_cur_store = -1;
    }
}

/* Meta commands: the answering store's callback chooses the update; the other store
 * applies the same one. */
static void kv__ss_visit_meta(void *ctx, const kv_meta_view *v, kv_meta_update *u)
{
    kv__ss_vctx *x = ctx;
    x->out->digest = kv__ss_item_digest(&v->item, v->exptime);
    if (x->answering) {
        if (x->in->mfn != NULL) {
            kv__ss_cur_store = x->store;
            x->in->mfn(x->in->uctx, v, u);
            kv__ss_cur_store = -1;
        }
        x->in->rec = *u;
    } else {
        *u = x->in->rec;
    }
}

/* ------------------------------------------------------------------ the seam's callbacks */

static int kv__ss_apply(void *ctx, graft_impl which, const graft_sf_call *c, void *output)
{
    kv_ss *ss = ctx;
    kv_store *s = ss->st[which];
    kv__ss_in *in = (kv__ss_in *)c->input; /* kvd's own object, shared by both stores */
    kv__ss_out *o = output;
    memset(o, 0, sizeof *o);
    kv__ss_vctx x = {in, o, (int)which, !in->user_called};
    in->user_called = 1;
    kv__ss_in *prev = kv__ss_cur_in;
    kv__ss_cur_in = in;
    switch (c->op) {
    case KV__SS_GET:
        in->ran[which] = 1;
        x.answering = 0;
        in->user_called = 0; /* reads: the caller emits after the call */
        o->hit = kv_store_get(s, in->key, in->nkey, in->now, 0, 0, kv__ss_visit_keep, &x);
        break;
    case KV__SS_GAT:
        o->hit =
            kv_store_get(s, in->key, in->nkey, in->now, 1, in->exptime, kv__ss_visit_write, &x);
        break;
    case KV__SS_STORE:
        o->res = kv_store_store(s, in->mode, in->key, in->nkey, in->flags, in->exptime, in->data,
                                in->ndata, in->cas, in->now);
        break;
    case KV__SS_DELETE:
        o->res = kv_store_delete(s, in->key, in->nkey, in->now);
        break;
    case KV__SS_TOUCH:
        o->res = kv_store_touch(s, in->key, in->nkey, in->exptime, in->now);
        break;
    case KV__SS_ARITH:
        o->res = kv_store_arith(s, in->key, in->nkey, in->incr, in->delta, in->now, &o->value);
        break;
    case KV__SS_FLUSH:
        kv_store_flush(s, in->delta, in->now);
        break;
    case KV__SS_MGET:
        o->hit = kv_store_mget(s, in->key, in->nkey, in->now, in->bump, in->vivify,
                               kv__ss_visit_meta, &x);
        break;
    case KV__SS_MSTORE:
        o->res = kv_store_mstore(s, in->mode, in->key, in->nkey, in->flags, in->exptime, in->data,
                                 in->ndata, in->cas, in->invalidate, in->key_binary, in->now,
                                 &o->cas_out);
        break;
    case KV__SS_MDELETE:
        o->res = kv_store_mdelete(s, in->key, in->nkey, in->cas, in->has_cas, in->invalidate,
                                  in->set_exptime, in->exptime, in->now);
        break;
    case KV__SS_MARITH: {
        /* The caller's callback may read the value it passed: the answering store writes
         * it there. */
        uint64_t *vp = x.answering && in->value_out != NULL ? in->value_out : &o->value;
        o->res = kv_store_marith(s, in->key, in->nkey, in->incr, in->delta, in->cas, in->vivify,
                                 in->initial, in->now, vp, kv__ss_visit_meta, &x);
        o->value = *vp;
        break;
    }
    default:
        assert(0 && "kv.store: unknown operation");
    }
    kv__ss_cur_in = prev;
    return GRAFT_OK;
}

static void kv__ss_visit_none(void *ctx, const kv_item_view *v)
{
    (void)ctx;
    (void)v;
}

/* A get bumps the item (LRU, last access, fetched): in the store that did not run it too. */
static void kv__ss_after_read(void *ctx, const graft_sf_call *c, void *output)
{
    kv_ss *ss = ctx;
    kv__ss_in *in = (kv__ss_in *)c->input;
    (void)output;
    for (int i = 0; i < 2; i++) {
        if (!in->ran[i]) {
            kv_store_get(ss->st[i], in->key, in->nkey, in->now, 0, 0, kv__ss_visit_none, NULL);
        }
    }
}

static int kv__ss_compare(void *ctx, const graft_sf_call *c, const void *a, const void *b)
{
    (void)ctx;
    (void)c;
    const kv__ss_out *x = a, *y = b;
    return x->hit != y->hit || x->res != y->res || x->value != y->value ||
           x->cas_out != y->cas_out || x->digest != y->digest;
}

static void kv__ss_release(void *ctx, void *output)
{
    kv_ss *ss = ctx;
    kv__ss_out *o = output;
    if (o->ref != NULL) {
        kv_ss_item_release(ss->st[GRAFT_IMPL_LEGACY], o->ref);
        o->ref = NULL;
    }
}

static size_t kv__ss_describe(void *ctx, const graft_sf_call *c, const void *output, char *buf,
                              size_t cap)
{
    (void)ctx;
    const kv__ss_out *o = output;
    int n = snprintf(buf, cap, "%s hit=%d result=%d value=%llu cas=%llu item=%016llx",
                     kv__ss_ops[c->op].name, o->hit, (int)o->res, (unsigned long long)o->value,
                     (unsigned long long)(o->ref ? o->view.cas : o->cas_out),
                     (unsigned long long)o->digest);
    return n < 0 ? 0 : (size_t)n;
}

/* Captures of a read mismatch: the key. */
static size_t kv__ss_serialize(void *ctx, const graft_sf_call *c, void *buf, size_t cap)
{
    (void)ctx;
    if (c->nkey <= cap) {
        memcpy(buf, c->key, c->nkey);
    }
    return c->nkey;
}

static uint32_t kv__ss_shard_of(void *ctx, const void *key, size_t nkey)
{
    (void)ctx;
    return kv_store_shard_of(key, (uint32_t)nkey);
}

typedef struct kv__ss_scan {
    graft_sf_item_fn fn;
    void *ectx;
} kv__ss_scan;

static void kv__ss_scan_item(void *ctx, const kv_item_view *v)
{
    kv__ss_scan *sc = ctx;
    sc->fn(sc->ectx, v->key, v->nkey, kv__ss_item_digest(v, kv_store_item_exptime(v)));
}

static int kv__ss_scan_shard(void *ctx, graft_impl which, uint32_t shard, uint64_t cut,
                             graft_sf_item_fn fn, void *ectx)
{
    kv_ss *ss = ctx;
    kv__ss_scan sc = {fn, ectx};
    kv_store_visit_shard(ss->st[which], shard, (uint32_t)cut, kv__ss_scan_item, &sc);
    return GRAFT_OK;
}

static uint64_t kv__ss_cut(void *ctx)
{
    kv_ss *ss = ctx;
    return ss->now();
}

typedef struct kv__ss_copy {
    kv_item *it;
    kv_item_view v;
    uint32_t exptime;
} kv__ss_copy;

static void kv__ss_copy_visit(void *ctx, const kv_meta_view *v, kv_meta_update *u)
{
    (void)u;
    kv__ss_copy *cp = ctx;
    cp->v = v->item;
    cp->exptime = v->exptime;
    cp->it = kv_store_item_retain(&v->item);
}

static int kv__ss_copy_key(void *ctx, graft_impl from, graft_impl to, const void *key, size_t nkey)
{
    kv_ss *ss = ctx;
    kv__ss_copy cp = {NULL, {0}, 0};
    uint32_t now = ss->now();
    /* No bump, no vivify: the source's state is left as it was. */
    if (!kv_store_mget(ss->st[from], key, (uint32_t)nkey, now, 0, 0, kv__ss_copy_visit, &cp)) {
        return GRAFT_SF_COPY_ABSENT;
    }
    int r = kv_store_import(ss->st[to], cp.v.key, cp.v.nkey, cp.v.flags, cp.exptime, cp.v.data,
                            cp.v.nbytes, cp.v.cas, now);
    kv_store_item_release(ss->st[from], cp.it);
    return r > 0 ? GRAFT_SF_COPY_COPIED : (r == 0 ? GRAFT_SF_COPY_KEPT : GRAFT_SF_COPY_FAILED);
}

static int kv__ss_remove(void *ctx, graft_impl which, const void *key, size_t nkey)
{
    kv_ss *ss = ctx;
    kv_store_delete(ss->st[which], key, (uint32_t)nkey, ss->now());
    return GRAFT_OK;
}

static int kv__ss_clear(void *ctx, graft_impl which)
{
    kv_ss *ss = ctx;
    kv_store_flush(ss->st[which], 0, ss->now());
    return GRAFT_OK;
}

static int kv__ss_usage(void *ctx, graft_impl which, graft_sf_usage *u)
{
    kv_ss *ss = ctx;
    kv_store_stats st;
    kv_store_get_stats(ss->st[which], &st);
    u->items = st.curr_items;
    u->bytes = st.bytes;
    u->evictions = st.evictions;
    return GRAFT_OK;
}

/* ------------------------------------------------------------------ life cycle */

int kv_ss_create(const kv_store_config *cfg, kv_ss **out)
{
    if (cfg == NULL || out == NULL) {
        return GRAFT_ENULL;
    }
    kv_ss *ss = calloc(1, sizeof *ss);
    if (ss == NULL) {
        return GRAFT_ENOMEM;
    }
    atomic_init(&ss->next_cas, 1);
    for (int i = 0; i < 2; i++) {
        int rc = kv_store_create(cfg, &ss->st[i]);
        if (rc != GRAFT_OK) {
            kv_store_destroy(ss->st[0]);
            free(ss);
            return rc;
        }
        kv_store_set_cas_source(ss->st[i], kv__ss_cas_next, ss);
    }
    *out = ss;
    return GRAFT_OK;
}

void kv_ss_destroy(kv_ss *ss)
{
    if (ss == NULL) {
        return;
    }
    assert(kv__ss_active != ss);
    kv_store_destroy(ss->st[0]);
    kv_store_destroy(ss->st[1]);
    free(ss);
}

kv_store *kv_ss_legacy(kv_ss *ss)
{
    return ss->st[GRAFT_IMPL_LEGACY];
}

kv_store *kv_ss_candidate(kv_ss *ss)
{
    return ss->st[GRAFT_IMPL_CANDIDATE];
}

graft_stateful *kv_ss_stateful(kv_ss *ss)
{
    return ss ? ss->sf : NULL;
}

static long kv__ss_env(const char *name, long dflt, long lo, long hi)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        return dflt;
    }
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (*end != '\0' || n < lo || n > hi) {
        fprintf(stderr, "kvd: %s=%s is not a number in %ld..%ld; using %ld\n", name, v, lo, hi,
                dflt);
        return dflt;
    }
    return n;
}

int kv_ss_install(kv_ss *ss, graft_runtime *rt, uint32_t (*now)(void))
{
    if (ss == NULL || rt == NULL || now == NULL) {
        return GRAFT_ENULL;
    }
    ss->now = now;
    kv_store_stats st;
    kv_store_get_stats(ss->st[0], &st);
    graft_stateful_def d;
    memset(&d, 0, sizeof d);
    d.name = "kv.store";
    d.ctx = ss;
    d.ops = kv__ss_ops;
    d.nops = KV__SS_NOPS;
    d.output_size = sizeof(kv__ss_out);
    d.nshards = KV_STORE_SHARDS;
    d.shard_of = kv__ss_shard_of;
    d.stripes_per_shard = 16;
    d.apply = kv__ss_apply;
    d.compare = kv__ss_compare;
    d.release = kv__ss_release;
    d.describe_output = kv__ss_describe;
    d.after_read = kv__ss_after_read;
    d.serialize_input = kv__ss_serialize;
    d.scan = kv__ss_scan_shard;
    d.cut_time = kv__ss_cut;
    d.copy = kv__ss_copy_key;
    d.remove = kv__ss_remove;
    d.clear = kv__ss_clear;
    d.usage = kv__ss_usage;
    /* Two copies, each within -m: the pair stays within twice the limit. */
    d.dual_memory_max = 2 * st.limit_maxbytes;
    kv__ss_active = ss; /* before registration: configuration may move the stage at once */
    int rc = graft_stateful_register(rt, &d, &ss->sf);
    if (rc != GRAFT_OK) {
        kv__ss_active = NULL;
        return rc;
    }
    ss->seam = graft_stateful_seam(ss->sf);
    long items = kv__ss_env("KVD_BACKFILL_ITEMS", 2000, 1, 10000000);
    long ms = kv__ss_env("KVD_BACKFILL_MS", 10, 1, 60000);
    rc = graft_stateful_start_driver(ss->sf, (size_t)items, (uint64_t)ms * 1000000ull);
    if (rc != GRAFT_OK) {
        graft_stateful_free(ss->sf);
        ss->sf = NULL;
        kv__ss_active = NULL;
    }
    return rc;
}

void kv_ss_uninstall(kv_ss *ss)
{
    if (ss == NULL || ss->sf == NULL) {
        return;
    }
    kv__ss_active = NULL;
    graft_stateful_free(ss->sf);
    ss->sf = NULL;
    ss->seam = NULL;
}

/* ------------------------------------------------------------------ routed calls */

/* The installed adapter if s is its legacy store, else NULL (the call goes direct). */
static inline kv_ss *kv__ss_for(kv_store *s)
{
    kv_ss *ss = kv__ss_active;
    return (ss != NULL && ss->sf != NULL && ss->st[0] == s) ? ss : NULL;
}

/* One write through the seam; the key is the routing key of nothing (writes are not
 * canaried) but orders the two stores. */
static kv__ss_out kv__ss_write(kv_ss *ss, uint32_t op, kv__ss_in *in)
{
    kv__ss_out out, scratch;
    int rc =
        graft_stateful_call(ss->sf, op, in->key, in->key ? in->nkey : 0, 0, in, &out, &scratch);
    if (rc != GRAFT_OK) {
        /* The answering store failed (candidate-only): as memcached out of memory. */
        memset(&out, 0, sizeof out);
        out.res = KV_RES_NO_MEMORY;
    }
    return out;
}

int kv_ss_get(kv_store *s, const char *key, uint32_t nkey, uint32_t now, int touch, int64_t exptime,
              kv_item_visit_fn fn, void *ctx)
{
    kv_ss *ss = kv__ss_for(s);
    if (ss == NULL) {
        return kv_store_get(s, key, nkey, now, touch, exptime, fn, ctx);
    }
    if (!touch) {
        graft_mode m;
        graft_seam_get_mode(ss->seam, &m, NULL);
        if (m == GRAFT_MODE_LEGACY || m == GRAFT_MODE_DUAL_WRITE) {
            /* Legacy answers every read in these stages and is always current there. */
            return kv_store_get(s, key, nkey, now, 0, 0, fn, ctx);
        }
    }
    kv__ss_in in;
    memset(&in, 0, sizeof in);
    in.key = key;
    in.nkey = nkey;
    in.now = now;
    in.exptime = exptime;
    in.vfn = fn;
    in.uctx = ctx;
    if (touch) {
        return kv__ss_write(ss, KV__SS_GAT, &in).hit;
    }
    kv__ss_out out, scratch;
    /* Canary share by key: one key is served by one store. */
    uint64_t route = graft_key_from_bytes(key, nkey);
    int rc = graft_stateful_call(ss->sf, KV__SS_GET, key, nkey, route, &in, &out, &scratch);
    if (rc != GRAFT_OK || !out.hit) {
        return 0; /* candidate-only and the candidate failed: a miss, as after eviction */
    }
    kv__ss_cur_store =
        (out.ref != NULL && ((uintptr_t)out.ref & 1u)) ? GRAFT_IMPL_CANDIDATE : GRAFT_IMPL_LEGACY;
    fn(ctx, &out.view);
    kv__ss_cur_store = -1;
    kv_ss_item_release(s, out.ref);
    return 1;
}

kv_store_result kv_ss_store(kv_store *s, kv_store_mode mode, const char *key, uint32_t nkey,
                            uint32_t flags, int64_t exptime, const char *data, uint32_t ndata,
                            uint64_t cas, uint32_t now)
{
    kv_ss *ss = kv__ss_for(s);
    if (ss == NULL) {
        return kv_store_store(s, mode, key, nkey, flags, exptime, data, ndata, cas, now);
    }
    kv__ss_in in;
    memset(&in, 0, sizeof in);
    in.key = key;
    in.nkey = nkey;
    in.now = now;
    in.mode = mode;
    in.flags = flags;
    in.exptime = exptime;
    in.data = data;
    in.ndata = ndata;
    in.cas = cas;
    return kv__ss_write(ss, KV__SS_STORE, &in).res;
}

kv_store_result kv_ss_delete(kv_store *s, const char *key, uint32_t nkey, uint32_t now)
{
    kv_ss *ss = kv__ss_for(s);
    if (ss == NULL) {
        return kv_store_delete(s, key, nkey, now);
    }
    kv__ss_in in;
    memset(&in, 0, sizeof in);
    in.key = key;
    in.nkey = nkey;
    in.now = now;
    return kv__ss_write(ss, KV__SS_DELETE, &in).res;
}

kv_store_result kv_ss_touch(kv_store *s, const char *key, uint32_t nkey, int64_t exptime,
                            uint32_t now)
{
    kv_ss *ss = kv__ss_for(s);
    if (ss == NULL) {
        return kv_store_touch(s, key, nkey, exptime, now);
    }
    kv__ss_in in;
    memset(&in, 0, sizeof in);
    in.key = key;
    in.nkey = nkey;
    in.now = now;
    in.exptime = exptime;
    return kv__ss_write(ss, KV__SS_TOUCH, &in).res;
}

kv_store_result kv_ss_arith(kv_store *s, const char *key, uint32_t nkey, int incr, uint64_t delta,
                            uint32_t now, uint64_t *value)
{
    kv_ss *ss = kv__ss_for(s);
    if (ss == NULL) {
        return kv_store_arith(s, key, nkey, incr, delta, now, value);
    }
    kv__ss_in in;
    memset(&in, 0, sizeof in);
    in.key = key;
    in.nkey = nkey;
    in.now = now;
    in.incr = incr;
    in.delta = delta;
    kv__ss_out o = kv__ss_write(ss, KV__SS_ARITH, &in);
    if (o.res == KV_RES_OK) {
        *value = o.value;
    }
    return o.res;
}

void kv_ss_flush(kv_store *s, uint64_t delay, uint32_t now)
{
    kv_ss *ss = kv__ss_for(s);
    if (ss == NULL) {
        kv_store_flush(s, delay, now);
        return;
    }
    kv__ss_in in;
    memset(&in, 0, sizeof in);
    in.now = now;
    in.delta = delay;
    (void)kv__ss_write(ss, KV__SS_FLUSH, &in);
}

void kv_ss_maintain(kv_store *s, uint32_t now)
{
    kv_store_maintain(s, now);
    kv_ss *ss = kv__ss_for(s);
    if (ss != NULL) {
        kv_store_maintain(ss->st[GRAFT_IMPL_CANDIDATE], now);
    }
}

void kv_ss_get_stats(kv_store *s, kv_store_stats *out)
{
    kv_ss *ss = kv__ss_for(s);
    kv_store_get_stats(ss ? ss->st[graft_stateful_reader(ss->sf)] : s, out);
}

kv_item *kv_ss_item_retain(const kv_item_view *v)
{
    return kv__ss_tag(kv_store_item_retain(v), kv__ss_cur_store);
}

void kv_ss_item_release(kv_store *s, kv_item *it)
{
    if (it == NULL) {
        return;
    }
    if ((uintptr_t)it & 1u) {
        kv_ss *ss = kv__ss_active;
        /* Only the installed adapter hands out candidate items; connections are gone
         * before it is uninstalled. */
        assert(ss != NULL);
        kv_store_item_release(ss->st[GRAFT_IMPL_CANDIDATE],
                              (kv_item *)((uintptr_t)it & ~(uintptr_t)1));
        return;
    }
    kv_store_item_release(s, it);
}

int kv_ss_mget(kv_store *s, const char *key, uint32_t nkey, uint32_t now, int bump, int vivify,
               kv_meta_visit_fn fn, void *ctx)
{
    kv_ss *ss = kv__ss_for(s);
    if (ss == NULL) {
        return kv_store_mget(s, key, nkey, now, bump, vivify, fn, ctx);
    }
    kv__ss_in in;
    memset(&in, 0, sizeof in);
    in.key = key;
    in.nkey = nkey;
    in.now = now;
    in.bump = bump;
    in.vivify = vivify;
    in.mfn = fn;
    in.uctx = ctx;
    return kv__ss_write(ss, KV__SS_MGET, &in).hit;
}

kv_store_result kv_ss_mstore(kv_store *s, kv_store_mode mode, const char *key, uint32_t nkey,
                             uint32_t flags, int64_t exptime, const char *data, uint32_t ndata,
                             uint64_t cas, int invalidate, int key_binary, uint32_t now,
                             uint64_t *cas_out)
{
    kv_ss *ss = kv__ss_for(s);
    if (ss == NULL) {
        return kv_store_mstore(s, mode, key, nkey, flags, exptime, data, ndata, cas, invalidate,
                               key_binary, now, cas_out);
    }
    kv__ss_in in;
    memset(&in, 0, sizeof in);
    in.key = key;
    in.nkey = nkey;
    in.now = now;
    in.mode = mode;
    in.flags = flags;
    in.exptime = exptime;
    in.data = data;
    in.ndata = ndata;
    in.cas = cas;
    in.invalidate = invalidate;
    in.key_binary = key_binary;
    kv__ss_out o = kv__ss_write(ss, KV__SS_MSTORE, &in);
    if (cas_out != NULL) {
        *cas_out = o.cas_out;
    }
    return o.res;
}

kv_store_result kv_ss_mdelete(kv_store *s, const char *key, uint32_t nkey, uint64_t cas,
                              int has_cas, int invalidate, int set_exptime, int64_t exptime,
                              uint32_t now)
{
    kv_ss *ss = kv__ss_for(s);
    if (ss == NULL) {
        return kv_store_mdelete(s, key, nkey, cas, has_cas, invalidate, set_exptime, exptime, now);
    }
    kv__ss_in in;
    memset(&in, 0, sizeof in);
    in.key = key;
    in.nkey = nkey;
    in.now = now;
    in.cas = cas;
    in.has_cas = has_cas;
    in.invalidate = invalidate;
    in.set_exptime = set_exptime;
    in.exptime = exptime;
    return kv__ss_write(ss, KV__SS_MDELETE, &in).res;
}

kv_store_result kv_ss_marith(kv_store *s, const char *key, uint32_t nkey, int incr, uint64_t delta,
                             uint64_t cas, int vivify, uint64_t initial, uint32_t now,
                             uint64_t *value, kv_meta_visit_fn fn, void *ctx)
{
    kv_ss *ss = kv__ss_for(s);
    if (ss == NULL) {
        return kv_store_marith(s, key, nkey, incr, delta, cas, vivify, initial, now, value, fn,
                               ctx);
    }
    kv__ss_in in;
    memset(&in, 0, sizeof in);
    in.key = key;
    in.nkey = nkey;
    in.now = now;
    in.incr = incr;
    in.delta = delta;
    in.cas = cas;
    in.vivify = vivify;
    in.initial = initial;
    in.mfn = fn;
    in.uctx = ctx;
    in.value_out = value;
    kv__ss_out o = kv__ss_write(ss, KV__SS_MARITH, &in);
    if (o.res == KV_RES_OK && value != NULL) {
        *value = o.value;
    }
    return o.res;
}
