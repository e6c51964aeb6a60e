/*
 * test_rt_stateful.c: stateful seams (graft/stateful.h) on a toy key-value store: every
 * stage transition and its gate, the forward backfill racing writes, verify catching a
 * planted divergence (and classifying an eviction), write repair after a candidate
 * failure, read fallback, the reverse backfill out of candidate-only, configuration at
 * registration, and the JSON snapshot.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "graft/graft.h"
#include "graft/stateful.h"

/* ------------------------------------------------------------------ the toy store */

#define TS_CAP 8192 /* open addressing, linear probing */
#define TS_SHARDS 4

typedef struct ts_entry {
    char key[16];
    int used; /* 1 live, 2 tombstone */
    long value;
    uint64_t version; /* the CAS: from one allocator both stores use */
} ts_entry;

typedef struct ts_store {
    pthread_mutex_t lock;
    ts_entry e[TS_CAP];
    uint64_t items, evictions;
    int fail_writes; /* candidate fault: writes return GRAFT_EINJECTED */
    int fail_reads;
} ts_store;

typedef struct ts_host {
    ts_store st[2];
    _Atomic uint64_t next_version;
} ts_host;

enum { OP_GET = 0, OP_SET = 1, OP_DEL = 2, OP_CLEAR = 3 };
static const graft_sf_op ts_ops[] = {{"get", GRAFT_SF_READ},
                                     {"set", GRAFT_SF_WRITE},
                                     {"delete", GRAFT_SF_WRITE},
                                     {"clear", GRAFT_SF_WRITE}};

/* The operation's arguments; `version` is filled by the first store that allocates one
 * and reused by the second, so both hold the same CAS. */
typedef struct ts_in {
    long value;
    uint64_t version;
} ts_in;

typedef struct ts_out {
    int found;
    long value;
    uint64_t version;
} ts_out;

static uint64_t ts_fnv(const void *k, size_t n)
{
    const unsigned char *p = k;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 0x100000001b3ull;
    }
    return h;
}

static ts_entry *ts_find(ts_store *s, const char *key, size_t n, int insert)
{
    size_t i = ts_fnv(key, n) % TS_CAP;
    ts_entry *tomb = NULL;
    for (size_t k = 0; k < TS_CAP; k++, i = (i + 1) % TS_CAP) {
        ts_entry *e = &s->e[i];
        if (e->used == 0) {
            return insert ? (tomb ? tomb : e) : NULL;
        }
        if (e->used == 2) {
            if (!tomb) {
                tomb = e;
            }
            continue;
        }
        if (strlen(e->key) == n && memcmp(e->key, key, n) == 0) {
            return e;
        }
    }
    return insert ? tomb : NULL;
}

static void ts_put(ts_store *s, const char *key, size_t n, long value, uint64_t version)
{
    ts_entry *e = ts_find(s, key, n, 1);
    assert_non_null(e);
    if (e->used != 1) {
        s->items++;
        memset(e->key, 0, sizeof e->key);
        memcpy(e->key, key, n);
        e->used = 1;
    }
    e->value = value;
    e->version = version;
}

static void ts_del(ts_store *s, const char *key, size_t n)
{
    ts_entry *e = ts_find(s, key, n, 0);
    if (e) {
        e->used = 2;
        s->items--;
    }
}

static uint32_t ts_shard_of(void *ctx, const void *key, size_t n)
{
    (void)ctx;
    return (uint32_t)(ts_fnv(key, n) >> 60) % TS_SHARDS;
}

static int ts_apply(void *ctx, graft_impl which, const graft_sf_call *c, void *output)
{
    ts_host *h = ctx;
    ts_store *s = &h->st[which];
    ts_in *in = (ts_in *)c->input; /* the host's own object: the version is filled in */
    ts_out *o = output;
    memset(o, 0, sizeof *o);
    if (c->op == OP_GET ? s->fail_reads : s->fail_writes) {
        return GRAFT_EINJECTED;
    }
    pthread_mutex_lock(&s->lock);
    switch (c->op) {
    case OP_GET: {
        ts_entry *e = ts_find(s, c->key, c->nkey, 0);
        if (e) {
            o->found = 1;
            o->value = e->value;
            o->version = e->version;
        }
        break;
    }
    case OP_SET:
        if (in->version == 0) {
            in->version = atomic_fetch_add(&h->next_version, 1) + 1;
        }
        ts_put(s, c->key, c->nkey, in->value, in->version);
        o->found = 1;
        o->value = in->value;
        o->version = in->version;
        break;
    case OP_DEL: {
        ts_entry *e = ts_find(s, c->key, c->nkey, 0);
        o->found = e != NULL;
        ts_del(s, c->key, c->nkey);
        break;
    }
    case OP_CLEAR:
        memset(s->e, 0, sizeof s->e);
        s->items = 0;
        break;
    default:
        fail();
    }
    pthread_mutex_unlock(&s->lock);
    return GRAFT_OK;
}

static int ts_compare(void *ctx, const graft_sf_call *c, const void *a, const void *b)
{
    (void)ctx;
    (void)c;
    return memcmp(a, b, sizeof(ts_out)) != 0;
}

static int ts_scan(void *ctx, graft_impl which, uint32_t shard, uint64_t cut, graft_sf_item_fn fn,
                   void *ectx)
{
    ts_host *h = ctx;
    ts_store *s = &h->st[which];
    (void)cut;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < TS_CAP; i++) {
        ts_entry *e = &s->e[i];
        size_t n = strlen(e->key);
        if (e->used == 1 && ts_shard_of(NULL, e->key, n) == shard) {
            fn(ectx, e->key, n, ts_fnv(&e->value, sizeof e->value) ^ (e->version * 31));
        }
    }
    pthread_mutex_unlock(&s->lock);
    return GRAFT_OK;
}

static int ts_copy(void *ctx, graft_impl from, graft_impl to, const void *key, size_t n)
{
    ts_host *h = ctx;
    ts_store *f = &h->st[from], *t = &h->st[to];
    pthread_mutex_lock(&f->lock);
    ts_entry *e = ts_find(f, key, n, 0);
    ts_entry copy;
    if (e) {
        copy = *e;
    }
    pthread_mutex_unlock(&f->lock);
    if (!e) {
        return GRAFT_SF_COPY_ABSENT;
    }
    pthread_mutex_lock(&t->lock);
    ts_entry *d = ts_find(t, key, n, 0);
    int r = GRAFT_SF_COPY_KEPT;
    if (!d || d->version < copy.version) {
        ts_put(t, key, n, copy.value, copy.version);
        r = GRAFT_SF_COPY_COPIED;
    }
    pthread_mutex_unlock(&t->lock);
    return r;
}

static int ts_remove(void *ctx, graft_impl which, const void *key, size_t n)
{
    ts_host *h = ctx;
    pthread_mutex_lock(&h->st[which].lock);
    ts_del(&h->st[which], key, n);
    pthread_mutex_unlock(&h->st[which].lock);
    return GRAFT_OK;
}

static int ts_clear(void *ctx, graft_impl which)
{
    ts_host *h = ctx;
    pthread_mutex_lock(&h->st[which].lock);
    memset(h->st[which].e, 0, sizeof h->st[which].e);
    h->st[which].items = 0;
    pthread_mutex_unlock(&h->st[which].lock);
    return GRAFT_OK;
}

static int ts_usage(void *ctx, graft_impl which, graft_sf_usage *u)
{
    ts_host *h = ctx;
    pthread_mutex_lock(&h->st[which].lock);
    u->items = h->st[which].items;
    u->bytes = h->st[which].items * sizeof(ts_entry);
    u->evictions = h->st[which].evictions;
    pthread_mutex_unlock(&h->st[which].lock);
    return GRAFT_OK;
}

/* What the store holds for key, straight from it (-1: absent). */
static long ts_peek(ts_host *h, graft_impl which, const char *key)
{
    ts_store *s = &h->st[which];
    pthread_mutex_lock(&s->lock);
    ts_entry *e = ts_find(s, key, strlen(key), 0);
    long v = e ? e->value : -1;
    pthread_mutex_unlock(&s->lock);
    return v;
}

/* ------------------------------------------------------------------ fixture */

typedef struct fx {
    ts_host *h;
    graft_runtime *rt;
    graft_stateful *sf;
    graft_seam *seam;
} fx;

static void fx_open(fx *f, uint32_t sync_items, const char *spec)
{
    f->h = calloc(1, sizeof *f->h);
    assert_non_null(f->h);
    for (int i = 0; i < 2; i++) {
        pthread_mutex_init(&f->h->st[i].lock, NULL);
    }
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.log_level = getenv("TS_LOG") ? GRAFT_LOG_INFO : GRAFT_LOG_ERROR;
    assert_int_equal(graft_runtime_new(&o, &f->rt), GRAFT_OK);
    if (spec) {
        char err[256];
        assert_int_equal(graft_config_apply_spec(f->rt, spec, err, sizeof err), GRAFT_OK);
    }
    graft_stateful_def d;
    memset(&d, 0, sizeof d);
    d.name = "toy.store";
    d.ctx = f->h;
    d.ops = ts_ops;
    d.nops = 4;
    d.output_size = sizeof(ts_out);
    d.nshards = TS_SHARDS;
    d.shard_of = ts_shard_of;
    d.stripes_per_shard = 4;
    d.apply = ts_apply;
    d.compare = ts_compare;
    d.scan = ts_scan;
    d.copy = ts_copy;
    d.remove = ts_remove;
    d.clear = ts_clear;
    d.usage = ts_usage;
    d.sync_backfill_items = sync_items;
    assert_int_equal(graft_stateful_register(f->rt, &d, &f->sf), GRAFT_OK);
    f->seam = graft_stateful_seam(f->sf);
    assert_non_null(f->seam);
}

static void fx_close(fx *f)
{
    graft_stateful_free(f->sf);
    graft_runtime_free(f->rt);
    for (int i = 0; i < 2; i++) {
        pthread_mutex_destroy(&f->h->st[i].lock);
    }
    free(f->h);
}

static int op_set(fx *f, const char *key, long v)
{
    ts_in in = {v, 0};
    ts_out out, scratch;
    return graft_stateful_call(f->sf, OP_SET, key, strlen(key), 1, &in, &out, &scratch);
}

static int op_del(fx *f, const char *key)
{
    ts_in in = {0, 0};
    ts_out out, scratch;
    return graft_stateful_call(f->sf, OP_DEL, key, strlen(key), 1, &in, &out, &scratch);
}

static long op_get(fx *f, const char *key)
{
    ts_in in = {0, 0};
    ts_out out, scratch;
    int rc = graft_stateful_call(f->sf, OP_GET, key, strlen(key), 1, &in, &out, &scratch);
    assert_int_equal(rc, GRAFT_OK);
    return out.found ? out.value : -1;
}

static graft_mode mode_of(fx *f)
{
    graft_mode m;
    graft_seam_get_mode(f->seam, &m, NULL);
    return m;
}

static void preload(fx *f, int n)
{
    char k[16];
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof k, "k%d", i);
        assert_int_equal(op_set(f, k, i), GRAFT_OK);
    }
}

static void finish_backfill(fx *f)
{
    while (graft_stateful_step(f->sf, 7) > 0) {
    }
    graft_sf_stats st;
    graft_stateful_stats(f->sf, &st);
    assert_false(st.backfill_running);
    assert_true(st.backfill_complete);
}

/* ------------------------------------------------------------------ tests */

/* legacy -> dual-write -> shadow -> canary -> candidate -> candidate-only, each gate. */
static void test_forward_stages(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, 10, NULL);
    preload(&f, 300);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_CANDIDATE, "k1"), -1); /* legacy only */

    /* Straight to shadow: refused, nothing changes (300 items > the sync budget of 10). */
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_SHADOW, 0), GRAFT_ESTATE);
    assert_int_equal(mode_of(&f), GRAFT_MODE_LEGACY);
    op_set(&f, "after-refusal", 1);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_CANDIDATE, "after-refusal"), -1);

    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_DUAL_WRITE, 0), GRAFT_OK);
    graft_sf_stats st;
    graft_stateful_stats(f.sf, &st);
    assert_true(st.backfill_running);
    assert_int_equal(st.backfill_done, 10); /* one synchronous step */
    assert_int_equal(st.backfill_total, 301);
    /* A write now reaches both stores at once. */
    op_set(&f, "new", 42);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_CANDIDATE, "new"), 42);
    /* Shadow and candidate wait for the backfill. */
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_SHADOW, 0), GRAFT_ESTATE);
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_CANDIDATE, 0), GRAFT_ESTATE);
    assert_int_equal(mode_of(&f), GRAFT_MODE_DUAL_WRITE);
    finish_backfill(&f);
    graft_stateful_stats(f.sf, &st);
    assert_int_equal(st.backfill_copied[GRAFT_SF_COPY_COPIED], 301);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_CANDIDATE, "k299"), 299);

    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_SHADOW, 0), GRAFT_OK);
    assert_int_equal(op_get(&f, "k5"), 5);
    graft_seam_stats ss;
    graft_seam_stats_get(f.seam, &ss);
    assert_int_equal(ss.compared, 1);
    assert_int_equal(ss.mismatches, 0);
    /* candidate-only is reached from candidate only. */
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_CANDIDATE_ONLY, 0), GRAFT_ESTATE);
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_CANARY, 5000), GRAFT_OK);
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_CANDIDATE, 0), GRAFT_OK);
    graft_stateful_stats(f.sf, &st);
    assert_int_equal(st.verify.state, GRAFT_SF_VERIFY_PASSED);
    assert_int_equal(st.verify.items_legacy, 302);
    assert_int_equal(st.verify.items_candidate, 302);
    assert_int_equal(graft_stateful_reader(f.sf), GRAFT_IMPL_CANDIDATE);
    /* Candidate answers reads; legacy is still written. */
    f.h->st[GRAFT_IMPL_LEGACY].fail_reads = 1;
    assert_int_equal(op_get(&f, "k7"), 7);
    f.h->st[GRAFT_IMPL_LEGACY].fail_reads = 0;
    op_set(&f, "k7", 700);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_LEGACY, "k7"), 700);

    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_CANDIDATE_ONLY, 0), GRAFT_OK);
    op_set(&f, "k8", 800);
    op_del(&f, "k9");
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_CANDIDATE, "k8"), 800);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_LEGACY, "k8"), 8); /* C no longer written */
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_LEGACY, "k9"), 9);
    assert_int_equal(op_get(&f, "k9"), -1);
    fx_close(&f);
}

/* Rollback from candidate-only: refused until the reverse backfill has rebuilt legacy,
 * then the seam moves to the asked stage on its own, holding the candidate's writes. */
static void test_reverse_backfill(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, 10, NULL);
    preload(&f, 100);
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_DUAL_WRITE, 0), GRAFT_OK);
    finish_backfill(&f);
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_CANDIDATE, 0), GRAFT_OK);
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_CANDIDATE_ONLY, 0), GRAFT_OK);
    op_set(&f, "k1", 1000);   /* only in the candidate */
    op_del(&f, "k2");         /* only in the candidate */
    op_set(&f, "fresh", 555); /* only in the candidate */

    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_LEGACY, 0), GRAFT_ESTATE);
    assert_int_equal(mode_of(&f), GRAFT_MODE_CANDIDATE_ONLY);
    graft_sf_stats st;
    graft_stateful_stats(f.sf, &st);
    assert_true(st.backfill_reverse);
    assert_true(st.backfill_running);
    assert_true(st.pending);
    assert_int_equal(st.pending_stage, GRAFT_MODE_LEGACY);
    assert_string_not_equal(st.last_refusal, "");
    /* Writes during the reverse backfill go to both (candidate answers). */
    op_set(&f, "k50", 5000);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_LEGACY, "k50"), 5000);
    /* Reads are still the candidate's. */
    assert_int_equal(op_get(&f, "k1"), 1000);
    while (graft_stateful_step(f.sf, 9) > 0) {
    }
    assert_int_equal(mode_of(&f), GRAFT_MODE_LEGACY);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_LEGACY, "k1"), 1000);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_LEGACY, "k2"), -1);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_LEGACY, "fresh"), 555);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_LEGACY, "k50"), 5000);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_LEGACY, "k99"), 99);
    assert_int_equal(op_get(&f, "k1"), 1000);
    /* In legacy the candidate is no longer written. */
    op_set(&f, "k3", 3000);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_CANDIDATE, "k3"), 3);
    fx_close(&f);
}

/* Writes that race the forward backfill are never overwritten by the older copy, and a
 * deleted key does not come back. */
static void test_backfill_race(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, 1, NULL);
    preload(&f, 200);
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_DUAL_WRITE, 0), GRAFT_OK);
    char k[16];
    for (int i = 0; i < 200; i += 2) {
        snprintf(k, sizeof k, "k%d", i);
        op_set(&f, k, 10000 + i);
        graft_stateful_step(f.sf, 1);
        snprintf(k, sizeof k, "k%d", i + 1);
        op_del(&f, k);
    }
    finish_backfill(&f);
    for (int i = 0; i < 200; i++) {
        snprintf(k, sizeof k, "k%d", i);
        long want = i % 2 ? -1 : 10000 + i;
        assert_int_equal(ts_peek(f.h, GRAFT_IMPL_CANDIDATE, k), want);
    }
    graft_sf_verify v;
    assert_int_equal(graft_stateful_verify(f.sf, &v), GRAFT_OK);
    assert_int_equal(v.state, GRAFT_SF_VERIFY_PASSED);
    assert_int_equal(v.items_legacy, 100);
    fx_close(&f);
}

typedef struct writer_arg {
    fx *f;
    int id;
    _Atomic int *stop;
    long last[64];    /* the model: the value last acknowledged for key w<id>-<i> */
    long ops, errors; /* cmocka's asserts are for the main thread: counted here */
} writer_arg;

static void *writer(void *p)
{
    writer_arg *a = p;
    char k[16];
    unsigned seed = (unsigned)a->id * 7919u + 1u;
    for (int i = 0; i < 64; i++) {
        a->last[i] = 0; /* preloaded */
    }
    for (long n = 1; !atomic_load(a->stop); n++) {
        seed = seed * 1103515245u + 12345u;
        int i = (int)((seed >> 8) % 64);
        snprintf(k, sizeof k, "w%d-%d", a->id, i);
        int rc;
        if ((seed >> 20) % 5 == 0) {
            rc = op_del(a->f, k);
            a->last[i] = -1;
        } else {
            rc = op_set(a->f, k, n);
            a->last[i] = n;
        }
        ts_in in = {0, 0};
        ts_out out, scratch;
        int rg =
            graft_stateful_call(a->f->sf, OP_GET, k, strlen(k), (uint64_t)i, &in, &out, &scratch);
        long got = out.found ? out.value : -1;
        a->ops++;
        if (rc != GRAFT_OK || rg != GRAFT_OK || got != a->last[i]) {
            if (a->errors++ < 3) {
                graft_mode m;
                graft_seam_get_mode(a->f->seam, &m, NULL);
                fprintf(stderr, "model check failed: %s rc=%d rg=%d got=%ld want=%ld mode=%s\n", k,
                        rc, rg, got, a->last[i], graft_mode_name(m));
            }
        }
    }
    return NULL;
}

/* Threads write while the backfill runs and the stages move forward; at the end both
 * stores equal the model. */
static void test_backfill_threads(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, 1, NULL);
    char k[16];
    for (int t = 0; t < 4; t++) {
        for (int i = 0; i < 64; i++) {
            snprintf(k, sizeof k, "w%d-%d", t, i);
            op_set(&f, k, 0);
        }
    }
    _Atomic int stop = 0;
    writer_arg a[4];
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        a[t].f = &f;
        a[t].id = t;
        a[t].stop = &stop;
        a[t].ops = a[t].errors = 0;
        pthread_create(&th[t], NULL, writer, &a[t]);
    }
    for (int round = 0; round < 3; round++) {
        preload(&f, 500); /* more than one step's worth, so writes race the backfill */
        assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_DUAL_WRITE, 0), GRAFT_OK);
        while (graft_stateful_step(f.sf, 3) > 0) {
            sched_yield();
        }
        assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_SHADOW, 0), GRAFT_OK);
        assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_CANDIDATE, 0), GRAFT_OK);
        assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_CANDIDATE_ONLY, 0), GRAFT_OK);
        int rc = graft_seam_set_mode(f.seam, GRAFT_MODE_LEGACY, 0);
        assert_true(rc == GRAFT_ESTATE || rc == GRAFT_OK);
        while (mode_of(&f) != GRAFT_MODE_LEGACY) {
            graft_stateful_step(f.sf, 3);
        }
    }
    atomic_store(&stop, 1);
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
    }
    long total = a[0].ops + a[1].ops + a[2].ops + a[3].ops;
    fprintf(stderr, "threads: %ld checked operations across 3 rounds of every stage\n", total);
    for (int t = 0; t < 4; t++) {
        assert_int_equal(a[t].errors, 0);
        assert_true(a[t].ops > 0);
        for (int i = 0; i < 64; i++) {
            snprintf(k, sizeof k, "w%d-%d", t, i);
            assert_int_equal(ts_peek(f.h, GRAFT_IMPL_LEGACY, k), a[t].last[i]);
        }
    }
    graft_seam_stats ss;
    graft_seam_stats_get(f.seam, &ss);
    assert_int_equal(ss.mismatches, 0);
    graft_sf_stats st;
    graft_stateful_stats(f.sf, &st);
    assert_int_equal(st.write_mismatches, 0);
    fx_close(&f);
}

/* Verify lists a planted divergence and keeps the seam out of candidate; a key missing
 * from a store that has evicted is classified as an eviction and reconciled. */
static void test_verify_divergence(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, 100000, NULL);
    preload(&f, 50);
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_SHADOW, 0), GRAFT_OK);
    /* Plant: the candidate holds another value for k7. */
    pthread_mutex_lock(&f.h->st[1].lock);
    ts_find(&f.h->st[1], "k7", 2, 0)->value = 777;
    pthread_mutex_unlock(&f.h->st[1].lock);
    graft_sf_verify v;
    assert_int_equal(graft_stateful_verify(f.sf, &v), GRAFT_OK);
    assert_int_equal(v.state, GRAFT_SF_VERIFY_FAILED);
    assert_int_equal(v.divergent, 1);
    assert_int_equal(v.nkeys, 1);
    assert_string_equal(v.keys[0], "k7");
    assert_int_equal(v.shards_equal, TS_SHARDS - 1);
    assert_int_not_equal(v.digest_legacy, v.digest_candidate);
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_CANDIDATE, 0), GRAFT_ESTATE);
    assert_int_equal(mode_of(&f), GRAFT_MODE_SHADOW);
    /* A shadow read of it is a mismatch of the pure seam machinery. */
    assert_int_equal(op_get(&f, "k7"), 7);
    graft_seam_stats ss;
    graft_seam_stats_get(f.seam, &ss);
    assert_int_equal(ss.mismatches, 1);
    /* Repaired by a write; then an eviction in the candidate: classified, not divergent. */
    op_set(&f, "k7", 7);
    pthread_mutex_lock(&f.h->st[1].lock);
    ts_del(&f.h->st[1], "k9", 2);
    f.h->st[1].evictions++;
    pthread_mutex_unlock(&f.h->st[1].lock);
    assert_int_equal(graft_stateful_verify(f.sf, &v), GRAFT_OK);
    assert_int_equal(v.state, GRAFT_SF_VERIFY_PASSED);
    assert_int_equal(v.evicted, 1);
    assert_int_equal(v.digest_legacy, v.digest_candidate);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_LEGACY, "k9"), -1); /* dropped from both */
    /* The same without an eviction counted is a divergence. */
    pthread_mutex_lock(&f.h->st[1].lock);
    ts_del(&f.h->st[1], "k10", 3);
    pthread_mutex_unlock(&f.h->st[1].lock);
    assert_int_equal(graft_stateful_verify(f.sf, &v), GRAFT_OK);
    assert_int_equal(v.state, GRAFT_SF_VERIFY_PASSED); /* evictions counted since backfill */
    f.h->st[1].evictions = 0;
    pthread_mutex_lock(&f.h->st[1].lock);
    ts_del(&f.h->st[1], "k11", 3);
    pthread_mutex_unlock(&f.h->st[1].lock);
    assert_int_equal(graft_stateful_verify(f.sf, &v), GRAFT_OK);
    assert_int_equal(v.state, GRAFT_SF_VERIFY_FAILED);
    assert_string_equal(v.keys[0], "k11");
    fx_close(&f);
}

/* A candidate failure on a write: legacy answers, the key is repaired in the candidate. */
static void test_write_repair(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, 100000, NULL);
    preload(&f, 10);
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_CANDIDATE, 0), GRAFT_OK);
    f.h->st[1].fail_writes = 1;
    assert_int_equal(op_set(&f, "k3", 33), GRAFT_OK);
    f.h->st[1].fail_writes = 0;
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_CANDIDATE, "k3"), 33);
    graft_sf_stats st;
    graft_stateful_stats(f.sf, &st);
    assert_int_equal(st.candidate_write_failures, 1);
    assert_int_equal(st.write_repairs, 1);
    /* A read the candidate fails is answered by legacy (the seam's fallback). */
    f.h->st[1].fail_reads = 1;
    assert_int_equal(op_get(&f, "k3"), 33);
    f.h->st[1].fail_reads = 0;
    graft_seam_stats ss;
    graft_seam_stats_get(f.seam, &ss);
    assert_int_equal(ss.fallbacks, 1);
    /* The seam's error fault reaches the candidate's writes: legacy answers, the key is
     * repaired. */
    graft_fault_config fc = {GRAFT_PERCENT_SCALE, 0, 0, 0};
    assert_int_equal(graft_seam_set_fault(f.seam, &fc), GRAFT_OK);
    assert_int_equal(op_set(&f, "k5", 55), GRAFT_OK);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_CANDIDATE, "k5"), 55);
    graft_stateful_stats(f.sf, &st);
    assert_int_equal(st.write_faults, 1);
    assert_int_equal(st.candidate_write_failures, 2);
    assert_int_equal(st.write_repairs, 2);
    memset(&fc, 0, sizeof fc);
    assert_int_equal(graft_seam_set_fault(f.seam, &fc), GRAFT_OK);
    /* In candidate-only there is no fallback: the failure is the answer. */
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_CANDIDATE_ONLY, 0), GRAFT_OK);
    f.h->st[1].fail_writes = 1;
    assert_int_equal(op_set(&f, "k4", 44), GRAFT_EINJECTED);
    f.h->st[1].fail_writes = 0;
    fx_close(&f);
}

/* Configuration at registration (GRAFT_SEAMS before the seam exists) passes the gates: an
 * empty store reaches candidate-only at once; rollback of an empty store too. */
static void test_config_at_registration(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, 10, "toy.store=candidate-only");
    assert_int_equal(mode_of(&f), GRAFT_MODE_CANDIDATE_ONLY);
    op_set(&f, "a", 1);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_LEGACY, "a"), -1);
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_LEGACY, 0), GRAFT_OK);
    assert_int_equal(ts_peek(f.h, GRAFT_IMPL_LEGACY, "a"), 1);
    /* Keyless write (clear) in a dual stage reaches both, holding every stripe. */
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_SHADOW, 0), GRAFT_OK);
    ts_in in = {0, 0};
    ts_out out, scratch;
    assert_int_equal(graft_stateful_call(f.sf, OP_CLEAR, NULL, 0, 1, &in, &out, &scratch),
                     GRAFT_OK);
    assert_int_equal(f.h->st[0].items + f.h->st[1].items, 0);
    /* Writes need a scratch while both stores are written. */
    assert_int_equal(graft_stateful_call(f.sf, OP_SET, "x", 1, 1, &in, &out, NULL), GRAFT_ENULL);
    fx_close(&f);
}

/* The JSON snapshot carries the stateful block: stage, backfill progress, verify. */
static void test_snapshot(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, 5, NULL);
    preload(&f, 20);
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_DUAL_WRITE, 0), GRAFT_OK);
    char *js = NULL;
    assert_int_equal(graft_seam_json(f.seam, &js, NULL), GRAFT_OK);
    assert_non_null(strstr(js, "\"mode\":\"dual-write\""));
    assert_non_null(strstr(js, "\"stateful\":{\"stage\":\"dual-write\",\"writes_to\":\"both\""));
    assert_non_null(strstr(js, "\"done\":5,\"total\":20"));
    graft_free(js);
    char *prom = NULL;
    assert_int_equal(graft_metrics_prometheus(f.rt, &prom, NULL), GRAFT_OK);
    assert_non_null(strstr(prom, "graft_stateful_backfill_done_keys{seam=\"toy.store\"} 5\n"));
    assert_non_null(strstr(prom, "graft_seam_mode{seam=\"toy.store\",mode=\"dual-write\"} 1\n"));
    graft_free(prom);
    fx_close(&f);
}

/* The dual-write memory bound refuses a second copy that would not fit. */
static void test_memory_bound(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, 10, NULL);
    preload(&f, 10);
    graft_stateful_free(f.sf);
    graft_runtime_free(f.rt);
    graft_runtime_new(NULL, &f.rt);
    graft_stateful_def d;
    memset(&d, 0, sizeof d);
    d.name = "toy.store";
    d.ctx = f.h;
    d.ops = ts_ops;
    d.nops = 4;
    d.output_size = sizeof(ts_out);
    d.nshards = TS_SHARDS;
    d.shard_of = ts_shard_of;
    d.apply = ts_apply;
    d.scan = ts_scan;
    d.copy = ts_copy;
    d.remove = ts_remove;
    d.clear = ts_clear;
    d.usage = ts_usage;
    d.dual_memory_max = 19 * sizeof(ts_entry); /* 2 x 10 entries do not fit */
    assert_int_equal(graft_stateful_register(f.rt, &d, &f.sf), GRAFT_OK);
    f.seam = graft_stateful_seam(f.sf);
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_DUAL_WRITE, 0), GRAFT_ESTATE);
    op_del(&f, "k0");
    assert_int_equal(graft_seam_set_mode(f.seam, GRAFT_MODE_DUAL_WRITE, 0), GRAFT_OK);
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_stages),         cmocka_unit_test(test_reverse_backfill),
        cmocka_unit_test(test_backfill_race),          cmocka_unit_test(test_backfill_threads),
        cmocka_unit_test(test_verify_divergence),      cmocka_unit_test(test_write_repair),
        cmocka_unit_test(test_config_at_registration), cmocka_unit_test(test_snapshot),
        cmocka_unit_test(test_memory_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
