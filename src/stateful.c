/*
 * stateful.c: stateful seams (graft/stateful.h): two stores kept in step behind one
 * graft_seam. Reads go through graft_call (routing, canary, breaker, comparison,
 * capture and metrics of the pure seam); writes go to the stores the write policy names,
 * holding the key's stripe lock when both are written; stage changes pass the gate
 * (graft__sf_gate, called by seam.c through graft__stateful_ops under its mode_lock).
 *
 * Write policy, the one thing the call path reads (an atomic int):
 *   LEGACY     legacy only                       (legacy stage)
 *   BOTH       legacy answers, then candidate    (dual-write, shadow, canary, candidate)
 *   BOTH_CAND  candidate answers, then legacy    (candidate-only while legacy is rebuilt)
 *   CAND       candidate only                    (candidate-only)
 * A policy that writes more is set before the route word changes (and the calls that
 * loaded the previous one are waited for before a backfill starts); a policy that
 * writes less is set after the route word changed and the calls that loaded the old
 * route finished, so no acknowledged write is ever missing from the store reads go to.
 *
 * Waiting for calls: each thread has a slot with a sequence number, odd while it is
 * inside graft_stateful_call. A caller makes it odd, fences, then loads the policy (and
 * graft_call the route); the changer stores, fences, then waits for every odd slot to
 * move on. Threads past GRAFT__SF_SLOTS share one counted slot.
 *
 * Lock order: seam mode_lock -> bf_lock -> stripe locks (ascending) -> the host's own
 * locks. Calls take one stripe lock at most (every stripe for a keyless write, in order).
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "graft/stateful.h"
#include "internal.h"

#define GRAFT__SF_SLOTS 128
#define GRAFT__SF_MAX_OPS 64
#define GRAFT__SF_DEFAULT_STRIPES 8
#define GRAFT__SF_DEFAULT_SYNC 10000u

enum graft__sf_policy {
    GRAFT__SF_P_LEGACY = 0,
    GRAFT__SF_P_BOTH = 1,
    GRAFT__SF_P_BOTH_CAND = 2,
    GRAFT__SF_P_CAND = 3
};

static const char *const graft__sf_policy_names[] = {"legacy", "both", "both-candidate-first",
                                                     "candidate"};

typedef struct graft__sf_slot {
    _Atomic uint64_t seq;
    _Atomic uint64_t writes; /* this thread's writes (one writer: load + store) */
} __attribute__((aligned(64))) graft__sf_slot;

/* A growable list of keys (one shard's), with per-key digests for verify. */
typedef struct graft__sf_item {
    uint64_t kh; /* FNV-1a of the key: sort order */
    uint64_t digest;
    size_t off;
    uint32_t len;
} graft__sf_item;

typedef struct graft__sf_list {
    graft__sf_item *v;
    size_t n, cap;
    char *keys;
    size_t klen, kcap;
    bool oom;
} graft__sf_list;

struct graft_stateful {
    graft_stateful_def def;
    graft_sf_op ops[GRAFT__SF_MAX_OPS];
    graft_runtime *rt;
    graft_seam *seam;

    _Atomic int policy;
    uint32_t per_shard, nstripes;
    pthread_mutex_t *stripes;
    graft__sf_slot slots[GRAFT__SF_SLOTS];
    _Atomic uint64_t overflow_inflight;

    /* Counters (relaxed; read by snapshots). */
    _Atomic uint64_t writes, writes_both, write_compared, write_mismatches, write_repairs,
        cand_write_failures, write_faults;
    _Atomic uint64_t log_second, log_count;
    /* A backfill runs: a write first pulls its key into the other store (bf_lock's
     * bf.running, published for the call path). */
    _Atomic bool bf_active;
    _Atomic uint64_t pulls;

    /* Backfill, verify and the pending move: bf_lock. */
    pthread_mutex_t bf_lock;
    struct {
        bool running, reverse, complete;
        uint32_t shard;
        graft__sf_list batch;
        size_t next;
        uint64_t done, estimate, listed;
        uint64_t copied[GRAFT_SF_COPY_COUNT];
        uint64_t evictions0[2];
    } bf;
    bool pending;
    graft_mode pending_mode;
    uint32_t pending_bp;
    graft_sf_verify verify;
    char last_refusal[160];

    /* Driver thread. */
    pthread_mutex_t drv_lock;
    pthread_cond_t drv_cv;
    pthread_t drv;
    bool drv_on, drv_stop;
    size_t drv_items;
    uint64_t drv_interval_ns;
};

/* ------------------------------------------------------------------ helpers */

static _Thread_local int graft__sf_tid = -1;
static _Atomic int graft__sf_next_tid;

static uint64_t graft__sf_fnv(const void *key, size_t n)
{
    const unsigned char *p = key;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static _Thread_local uint64_t graft__sf_rng;

/* The seam's error fault (graft_seam_set_fault, the admin endpoint's PUT .../fault) also
 * reaches the candidate's writes: true when this write of the candidate is to fail. */
static bool graft__sf_fault(graft_stateful *sf)
{
    uint32_t bp = atomic_load_explicit(&sf->seam->fault_error_bp, memory_order_relaxed);
    if (GRAFT__LIKELY(bp == 0)) {
        return false;
    }
    uint64_t x = graft__sf_rng ? graft__sf_rng : (uint64_t)(uintptr_t)&graft__sf_rng | 1u;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    graft__sf_rng = x;
    if ((uint32_t)((x * 0x2545F4914F6CDD1Dull) % GRAFT_PERCENT_SCALE) >= bp) {
        return false;
    }
    atomic_fetch_add_explicit(&sf->write_faults, 1, memory_order_relaxed);
    return true;
}

/* apply, or the injected failure for a faulted candidate write. */
static int graft__sf_apply_write(graft_stateful *sf, graft_impl store, const graft_sf_call *c,
                                 void *output)
{
    if (store == GRAFT_IMPL_CANDIDATE && graft__sf_fault(sf)) {
        return GRAFT_EINJECTED;
    }
    return sf->def.apply(sf->def.ctx, store, c, output);
}

static uint32_t graft__sf_stripe(const graft_stateful *sf, const void *key, size_t nkey)
{
    uint32_t shard = sf->def.shard_of(sf->def.ctx, key, nkey);
    assert(shard < sf->def.nshards);
    return shard * sf->per_shard + (uint32_t)(graft__sf_fnv(key, nkey) % sf->per_shard);
}

static void graft__sf_lock_all(graft_stateful *sf)
{
    for (uint32_t i = 0; i < sf->nstripes; i++) {
        pthread_mutex_lock(&sf->stripes[i]);
    }
}

static void graft__sf_unlock_all(graft_stateful *sf)
{
    for (uint32_t i = sf->nstripes; i > 0; i--) {
        pthread_mutex_unlock(&sf->stripes[i - 1]);
    }
}

/* Enter/leave a call (see the file comment). Returns the slot or NULL (overflow). The
 * sequence is stored seq_cst and the policy (writes) loaded seq_cst after it, so a
 * changer's seq_cst policy store and its seq_cst slot loads cannot both miss; a read
 * (which also loads the route word inside graft_call) fences as well. */
static inline graft__sf_slot *graft__sf_enter(graft_stateful *sf, bool read)
{
    if (GRAFT__UNLIKELY(graft__sf_tid < 0)) {
        graft__sf_tid = atomic_fetch_add_explicit(&graft__sf_next_tid, 1, memory_order_relaxed);
    }
    graft__sf_slot *sl = NULL;
    if (GRAFT__LIKELY(graft__sf_tid < GRAFT__SF_SLOTS)) {
        sl = &sf->slots[graft__sf_tid];
        uint64_t v = atomic_load_explicit(&sl->seq, memory_order_relaxed);
        atomic_store_explicit(&sl->seq, v + 1, memory_order_seq_cst);
    } else {
        atomic_fetch_add_explicit(&sf->overflow_inflight, 1, memory_order_seq_cst);
    }
    if (read) {
        atomic_thread_fence(memory_order_seq_cst);
    }
    return sl;
}

static inline void graft__sf_leave(graft_stateful *sf, graft__sf_slot *sl)
{
    if (GRAFT__LIKELY(sl != NULL)) {
        uint64_t v = atomic_load_explicit(&sl->seq, memory_order_relaxed);
        atomic_store_explicit(&sl->seq, v + 1, memory_order_release);
    } else {
        atomic_fetch_sub_explicit(&sf->overflow_inflight, 1, memory_order_release);
    }
}

/* Waits until every call that started before this one has left. Never from a call. */
static void graft__sf_drain(graft_stateful *sf)
{
    atomic_thread_fence(memory_order_seq_cst);
    for (int i = 0; i < GRAFT__SF_SLOTS; i++) {
        uint64_t v = atomic_load_explicit(&sf->slots[i].seq, memory_order_seq_cst);
        if (v & 1u) {
            while (atomic_load_explicit(&sf->slots[i].seq, memory_order_acquire) == v) {
                sched_yield();
            }
        }
    }
    while (atomic_load_explicit(&sf->overflow_inflight, memory_order_acquire) != 0) {
        sched_yield();
    }
}

static void graft__sf_set_policy(graft_stateful *sf, int p)
{
    atomic_store_explicit(&sf->policy, p, memory_order_seq_cst);
}

static void graft__sf_refuse(graft_stateful *sf, const char *fmt, ...) GRAFT__PRINTF(2, 3);
static void graft__sf_refuse(graft_stateful *sf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sf->last_refusal, sizeof sf->last_refusal, fmt, ap);
    va_end(ap);
    graft__log(sf->rt, GRAFT_LOG_WARN, "graft.stateful", "seam=%s stage change refused: %s",
               sf->def.name, sf->last_refusal);
}

static uint64_t graft__sf_unix_ms(void)
{
    return graft__unix_ns() / 1000000ull;
}

static void graft__sf_usage(graft_stateful *sf, graft_impl store, graft_sf_usage *u)
{
    memset(u, 0, sizeof *u);
    if (sf->def.usage) {
        sf->def.usage(sf->def.ctx, store, u);
    }
}

/* ------------------------------------------------------------------ key lists */

static void graft__sf_list_reset(graft__sf_list *l)
{
    l->n = 0;
    l->klen = 0;
    l->oom = false;
}

static void graft__sf_list_free(graft__sf_list *l)
{
    free(l->v);
    free(l->keys);
    memset(l, 0, sizeof *l);
}

static void graft__sf_list_add(void *ectx, const void *key, size_t nkey, uint64_t digest)
{
    graft__sf_list *l = ectx;
    if (l->oom || nkey > UINT32_MAX) {
        l->oom = true;
        return;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        graft__sf_item *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    if (l->klen + nkey > l->kcap) {
        size_t cap = l->kcap ? l->kcap : 4096;
        while (cap < l->klen + nkey) {
            cap *= 2;
        }
        char *k = realloc(l->keys, cap);
        if (!k) {
            l->oom = true;
            return;
        }
        l->keys = k;
        l->kcap = cap;
    }
    memcpy(l->keys + l->klen, key, nkey);
    l->v[l->n++] = (graft__sf_item){graft__sf_fnv(key, nkey), digest, l->klen, (uint32_t)nkey};
    l->klen += nkey;
}

static const char *graft__sf_sort_keys; /* qsort has no context: set under bf_lock */

static int graft__sf_item_cmp(const void *a, const void *b)
{
    const graft__sf_item *x = a, *y = b;
    if (x->kh != y->kh) {
        return x->kh < y->kh ? -1 : 1;
    }
    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }
    return memcmp(graft__sf_sort_keys + x->off, graft__sf_sort_keys + y->off, x->len);
}

static pthread_mutex_t graft__sf_sort_lock = PTHREAD_MUTEX_INITIALIZER;

static void graft__sf_list_sort(graft__sf_list *l)
{
    if (l->n < 2) {
        return; /* an empty list has no array (qsort wants one) */
    }
    pthread_mutex_lock(&graft__sf_sort_lock);
    graft__sf_sort_keys = l->keys;
    qsort(l->v, l->n, sizeof *l->v, graft__sf_item_cmp);
    pthread_mutex_unlock(&graft__sf_sort_lock);
}

/* ------------------------------------------------------------------ seam trampolines */

static int graft__sf_legacy(void *ctx, const void *input, void *output)
{
    graft_stateful *sf = ctx;
    return sf->def.apply(sf->def.ctx, GRAFT_IMPL_LEGACY, input, output);
}

static int graft__sf_candidate(void *ctx, const void *input, void *output)
{
    graft_stateful *sf = ctx;
    return sf->def.apply(sf->def.ctx, GRAFT_IMPL_CANDIDATE, input, output);
}

static int graft__sf_compare(void *ctx, const void *input, const void *a, const void *b)
{
    graft_stateful *sf = ctx;
    if (sf->def.compare) {
        return sf->def.compare(sf->def.ctx, input, a, b);
    }
    return memcmp(a, b, sf->def.output_size) != 0;
}

static void graft__sf_release(void *ctx, void *output)
{
    graft_stateful *sf = ctx;
    if (sf->def.release) {
        sf->def.release(sf->def.ctx, output);
    }
}

static size_t graft__sf_serialize(void *ctx, const void *input, void *buf, size_t cap)
{
    graft_stateful *sf = ctx;
    return sf->def.serialize_input(sf->def.ctx, input, buf, cap);
}

static size_t graft__sf_describe(void *ctx, const void *input, const void *output, char *buf,
                                 size_t cap)
{
    graft_stateful *sf = ctx;
    return sf->def.describe_output(sf->def.ctx, input, output, buf, cap);
}

/* ------------------------------------------------------------------ registration */

static int graft__sf_gate(struct graft_stateful *sf, graft_mode from, graft_mode to,
                          uint32_t percent_bp);
static void graft__sf_after(struct graft_stateful *sf, graft_mode from, graft_mode to);
static void graft__sf_snapshot(graft_stateful *sf, graft_sf_stats *out, const char **policy);

static const graft__stateful_ops graft__sf_ops = {graft__sf_gate, graft__sf_after,
                                                  graft__sf_snapshot};

int graft_stateful_register(graft_runtime *rt, const graft_stateful_def *def, graft_stateful **out)
{
    if (!rt || !def || !out || !def->name || !def->ops || !def->apply || !def->shard_of ||
        !def->scan || !def->copy || !def->remove || !def->clear) {
        return GRAFT_ENULL;
    }
    if (def->nops == 0 || def->nops > GRAFT__SF_MAX_OPS || def->output_size == 0 ||
        def->nshards == 0 || def->nshards > 65536 || def->stripes_per_shard > 1024) {
        return GRAFT_EINVAL;
    }
    for (size_t i = 0; i < def->nops; i++) {
        if ((int)def->ops[i].kind != GRAFT_SF_READ && (int)def->ops[i].kind != GRAFT_SF_WRITE) {
            return GRAFT_EINVAL;
        }
    }
    graft_stateful *sf = calloc(1, sizeof *sf);
    if (!sf) {
        return GRAFT_ENOMEM;
    }
    sf->def = *def;
    memcpy(sf->ops, def->ops, def->nops * sizeof *def->ops);
    sf->def.ops = sf->ops;
    sf->rt = rt;
    sf->per_shard = def->stripes_per_shard ? def->stripes_per_shard : GRAFT__SF_DEFAULT_STRIPES;
    sf->nstripes = def->nshards * sf->per_shard;
    if (!sf->def.sync_backfill_items) {
        sf->def.sync_backfill_items = GRAFT__SF_DEFAULT_SYNC;
    }
    sf->stripes = calloc(sf->nstripes, sizeof *sf->stripes);
    if (!sf->stripes) {
        free(sf);
        return GRAFT_ENOMEM;
    }
    for (uint32_t i = 0; i < sf->nstripes; i++) {
        pthread_mutex_init(&sf->stripes[i], NULL);
    }
    pthread_mutex_init(&sf->bf_lock, NULL);
    pthread_mutex_init(&sf->drv_lock, NULL);
    pthread_cond_init(&sf->drv_cv, NULL);
    atomic_init(&sf->policy, GRAFT__SF_P_LEGACY);

    graft_seam_def sd;
    memset(&sd, 0, sizeof sd);
    sd.name = def->name;
    sd.ctx = sf;
    sd.legacy = graft__sf_legacy;
    sd.candidate = graft__sf_candidate;
    sd.output_size = def->output_size;
    sd.compare = graft__sf_compare;
    sd.release = graft__sf_release;
    sd.serialize_input = def->serialize_input ? graft__sf_serialize : NULL;
    sd.describe_output = def->describe_output ? graft__sf_describe : NULL;
    sd.candidate_only_failure = GRAFT_ON_FAILURE_STATUS; /* legacy is not written there */
    /* The name is copied by the seam; the layer keeps the seam's copy. */
    int rc = graft__seam_register(rt, &sd, sf, &graft__sf_ops, &sf->seam);
    if (rc != GRAFT_OK) {
        for (uint32_t i = 0; i < sf->nstripes; i++) {
            pthread_mutex_destroy(&sf->stripes[i]);
        }
        free(sf->stripes);
        free(sf);
        return rc;
    }
    sf->def.name = graft_seam_name(sf->seam);
    *out = sf;
    return GRAFT_OK;
}

void graft_stateful_free(graft_stateful *sf)
{
    if (!sf) {
        return;
    }
    pthread_mutex_lock(&sf->drv_lock);
    bool on = sf->drv_on;
    sf->drv_stop = true;
    pthread_cond_broadcast(&sf->drv_cv);
    pthread_mutex_unlock(&sf->drv_lock);
    if (on) {
        pthread_join(sf->drv, NULL);
    }
    /* The seam outlives the layer: its gate must not reach freed memory. */
    pthread_mutex_lock(&sf->seam->mode_lock);
    sf->seam->stateful = NULL;
    pthread_mutex_unlock(&sf->seam->mode_lock);
    graft__sf_list_free(&sf->bf.batch);
    for (uint32_t i = 0; i < sf->nstripes; i++) {
        pthread_mutex_destroy(&sf->stripes[i]);
    }
    free(sf->stripes);
    pthread_mutex_destroy(&sf->bf_lock);
    pthread_mutex_destroy(&sf->drv_lock);
    pthread_cond_destroy(&sf->drv_cv);
    free(sf);
}

graft_seam *graft_stateful_seam(const graft_stateful *sf)
{
    return sf ? sf->seam : NULL;
}

graft_stateful *graft_stateful_of(graft_seam *seam)
{
    if (!seam) {
        return NULL;
    }
    pthread_mutex_lock(&seam->mode_lock);
    graft_stateful *sf = seam->stateful;
    pthread_mutex_unlock(&seam->mode_lock);
    return sf;
}

/* ------------------------------------------------------------------ calls */

static void graft__sf_log_mismatch(graft_stateful *sf, const graft_sf_call *c, int rc_first,
                                   int rc_second, const char *what)
{
    uint64_t sec = graft__now(sf->rt) / 1000000000ull;
    if (atomic_exchange_explicit(&sf->log_second, sec, memory_order_relaxed) != sec) {
        atomic_store_explicit(&sf->log_count, 0, memory_order_relaxed);
    }
    if (atomic_fetch_add_explicit(&sf->log_count, 1, memory_order_relaxed) >= 10) {
        return;
    }
    char key[48];
    size_t n = c->nkey < sizeof key - 1 ? c->nkey : sizeof key - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = ((const unsigned char *)c->key)[i];
        key[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    key[n] = '\0';
    graft__log_deferred(sf->seam, GRAFT_LOG_WARN, "graft.stateful",
                        "seam=%s write %s op=%s key=%s status=%d/%d: repaired from the answering "
                        "store",
                        sf->def.name, what, sf->ops[c->op].name, c->key ? key : "(all)", rc_first,
                        rc_second);
}

/* A write applied to both stores, the answering one first (stripe lock(s) held). */
static int graft__sf_write_both(graft_stateful *sf, const graft_sf_call *c, graft_impl first,
                                void *output, void *scratch)
{
    graft_impl second = first == GRAFT_IMPL_LEGACY ? GRAFT_IMPL_CANDIDATE : GRAFT_IMPL_LEGACY;
    if (c->key && atomic_load_explicit(&sf->bf_active, memory_order_acquire)) {
        /* The backfill may not have reached this key yet: copy it over first, so both
         * stores apply the write to the same item and answer alike (the backfill then
         * finds it kept). */
        sf->def.copy(sf->def.ctx, first, second, c->key, c->nkey);
        atomic_fetch_add_explicit(&sf->pulls, 1, memory_order_relaxed);
    }
    int rc = graft__sf_apply_write(sf, first, c, output);
    if (rc != GRAFT_OK) {
        return rc; /* the answering store did not write: neither does the other */
    }
    atomic_fetch_add_explicit(&sf->writes_both, 1, memory_order_relaxed);
    int rc2 = graft__sf_apply_write(sf, second, c, scratch);
    bool bad = false;
    if (rc2 != GRAFT_OK) {
        if (second == GRAFT_IMPL_CANDIDATE) {
            atomic_fetch_add_explicit(&sf->cand_write_failures, 1, memory_order_relaxed);
        }
        graft__sf_log_mismatch(sf, c, rc, rc2, "failed in the second store");
        bad = true;
    } else {
        atomic_fetch_add_explicit(&sf->write_compared, 1, memory_order_relaxed);
        const void *lo = first == GRAFT_IMPL_LEGACY ? output : scratch;
        const void *co = first == GRAFT_IMPL_LEGACY ? scratch : output;
        if (graft__sf_compare(sf, c, lo, co) != 0) {
            atomic_fetch_add_explicit(&sf->write_mismatches, 1, memory_order_relaxed);
            graft__sf_log_mismatch(sf, c, rc, rc2, "replies differ");
            bad = true;
        }
        graft__sf_release(sf, scratch);
    }
    if (bad && c->key) {
        /* The second store may now hold something else: make it hold the first's. */
        sf->def.remove(sf->def.ctx, second, c->key, c->nkey);
        sf->def.copy(sf->def.ctx, first, second, c->key, c->nkey);
        atomic_fetch_add_explicit(&sf->write_repairs, 1, memory_order_relaxed);
    }
    return rc;
}

int graft_stateful_call(graft_stateful *sf, uint32_t op, const void *key, size_t nkey,
                        uint64_t route_key, const void *input, void *output, void *scratch)
{
    if (!sf || !output) {
        return GRAFT_ENULL;
    }
    if (op >= sf->def.nops) {
        return GRAFT_EINVAL;
    }
    graft_sf_call c = {op, key, nkey, input};
    bool read = sf->ops[op].kind == GRAFT_SF_READ;
    graft__sf_slot *sl = graft__sf_enter(sf, read);
    int pol = atomic_load_explicit(&sf->policy, memory_order_seq_cst);
    int rc;
    if (read) {
        if (pol == GRAFT__SF_P_LEGACY || pol == GRAFT__SF_P_CAND || !key) {
            rc = graft_call(sf->seam, route_key, 0, &c, output, scratch);
        } else {
            /* Both stores live: a compared read sees both at the same point of the key's
             * order (no write of the key between the two). */
            pthread_mutex_t *m = &sf->stripes[graft__sf_stripe(sf, key, nkey)];
            pthread_mutex_lock(m);
            rc = graft_call(sf->seam, route_key, 0, &c, output, scratch);
            if (sf->def.after_read) {
                sf->def.after_read(sf->def.ctx, &c, output);
            }
            pthread_mutex_unlock(m);
        }
        graft__sf_leave(sf, sl);
        return rc;
    }
    if (GRAFT__LIKELY(sl != NULL)) {
        uint64_t w = atomic_load_explicit(&sl->writes, memory_order_relaxed);
        atomic_store_explicit(&sl->writes, w + 1, memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&sf->writes, 1, memory_order_relaxed);
    }
    switch (pol) {
    case GRAFT__SF_P_LEGACY:
        rc = sf->def.apply(sf->def.ctx, GRAFT_IMPL_LEGACY, &c, output);
        break;
    case GRAFT__SF_P_CAND:
        rc = graft__sf_apply_write(sf, GRAFT_IMPL_CANDIDATE, &c, output);
        break;
    default: {
        if (!scratch) {
            rc = GRAFT_ENULL;
            break;
        }
        graft_impl first = pol == GRAFT__SF_P_BOTH ? GRAFT_IMPL_LEGACY : GRAFT_IMPL_CANDIDATE;
        if (key) {
            pthread_mutex_t *m = &sf->stripes[graft__sf_stripe(sf, key, nkey)];
            pthread_mutex_lock(m);
            rc = graft__sf_write_both(sf, &c, first, output, scratch);
            pthread_mutex_unlock(m);
        } else {
            graft__sf_lock_all(sf);
            rc = graft__sf_write_both(sf, &c, first, output, scratch);
            graft__sf_unlock_all(sf);
        }
        break;
    }
    }
    graft__sf_leave(sf, sl);
    return rc;
}

graft_impl graft_stateful_reader(const graft_stateful *sf)
{
    graft_mode m = GRAFT_MODE_LEGACY;
    if (sf) {
        graft_seam_get_mode(sf->seam, &m, NULL);
    }
    return (m == GRAFT_MODE_CANDIDATE || m == GRAFT_MODE_CANDIDATE_ONLY) ? GRAFT_IMPL_CANDIDATE
                                                                         : GRAFT_IMPL_LEGACY;
}

/* ------------------------------------------------------------------ backfill */

/* Starts a backfill into `to` (bf_lock held; policy already writes both, calls drained). */
static void graft__sf_bf_start(graft_stateful *sf, bool reverse)
{
    GRAFT__ASSERT_HELD(&sf->bf_lock);
    graft_impl from = reverse ? GRAFT_IMPL_CANDIDATE : GRAFT_IMPL_LEGACY;
    graft_sf_usage u[2];
    graft__sf_usage(sf, GRAFT_IMPL_LEGACY, &u[0]);
    graft__sf_usage(sf, GRAFT_IMPL_CANDIDATE, &u[1]);
    sf->bf.running = true;
    atomic_store_explicit(&sf->bf_active, true, memory_order_release);
    sf->bf.reverse = reverse;
    sf->bf.complete = false;
    sf->bf.shard = 0;
    graft__sf_list_reset(&sf->bf.batch);
    sf->bf.next = 0;
    sf->bf.done = sf->bf.listed = 0;
    sf->bf.estimate = u[from].items;
    memset(sf->bf.copied, 0, sizeof sf->bf.copied);
    sf->bf.evictions0[0] = u[0].evictions;
    sf->bf.evictions0[1] = u[1].evictions;
    memset(&sf->verify, 0, sizeof sf->verify);
    graft__log(sf->rt, GRAFT_LOG_INFO, "graft.stateful",
               "seam=%s %s backfill started: %" PRIu64 " items", sf->def.name,
               reverse ? "reverse (candidate -> legacy)" : "forward (legacy -> candidate)",
               u[from].items);
}

static size_t graft__sf_step_locked(graft_stateful *sf, size_t max_items)
{
    GRAFT__ASSERT_HELD(&sf->bf_lock);
    if (!sf->bf.running) {
        return 0;
    }
    graft_impl from = sf->bf.reverse ? GRAFT_IMPL_CANDIDATE : GRAFT_IMPL_LEGACY;
    graft_impl to = sf->bf.reverse ? GRAFT_IMPL_LEGACY : GRAFT_IMPL_CANDIDATE;
    graft__sf_list *b = &sf->bf.batch;
    size_t n = 0;
    while (n < max_items) {
        if (sf->bf.next == b->n) {
            if (sf->bf.shard == sf->def.nshards) {
                sf->bf.running = false;
                atomic_store_explicit(&sf->bf_active, false, memory_order_release);
                sf->bf.complete = true;
                graft__log(sf->rt, GRAFT_LOG_INFO, "graft.stateful",
                           "seam=%s backfill complete: %" PRIu64 " keys (%" PRIu64
                           " copied, %" PRIu64 " kept, %" PRIu64 " absent, %" PRIu64 " failed)",
                           sf->def.name, sf->bf.done, sf->bf.copied[GRAFT_SF_COPY_COPIED],
                           sf->bf.copied[GRAFT_SF_COPY_KEPT], sf->bf.copied[GRAFT_SF_COPY_ABSENT],
                           sf->bf.copied[GRAFT_SF_COPY_FAILED]);
                break;
            }
            /* The shard's keys as they are now; each is copied later under its stripe
             * lock from the store's current item, so the list may be stale. */
            graft__sf_list_reset(b);
            sf->bf.next = 0;
            uint64_t cut = sf->def.cut_time ? sf->def.cut_time(sf->def.ctx) : 0;
            sf->def.scan(sf->def.ctx, from, sf->bf.shard, cut, graft__sf_list_add, b);
            if (b->oom) {
                graft__log(sf->rt, GRAFT_LOG_ERROR, "graft.stateful",
                           "seam=%s backfill: out of memory listing shard %u; retried",
                           sf->def.name, sf->bf.shard);
                graft__sf_list_reset(b);
                break;
            }
            sf->bf.shard++;
            sf->bf.listed += b->n;
            continue;
        }
        const graft__sf_item *it = &b->v[sf->bf.next++];
        const char *key = b->keys + it->off;
        pthread_mutex_t *m = &sf->stripes[graft__sf_stripe(sf, key, it->len)];
        pthread_mutex_lock(m);
        int r = sf->def.copy(sf->def.ctx, from, to, key, it->len);
        pthread_mutex_unlock(m);
        if (r < 0 || r >= GRAFT_SF_COPY_COUNT) {
            r = GRAFT_SF_COPY_FAILED;
        }
        sf->bf.copied[r]++;
        sf->bf.done++;
        n++;
    }
    return n;
}

size_t graft_stateful_step(graft_stateful *sf, size_t max_items)
{
    if (!sf) {
        return 0;
    }
    pthread_mutex_lock(&sf->bf_lock);
    size_t n = graft__sf_step_locked(sf, max_items);
    bool move = sf->pending && sf->bf.reverse && sf->bf.complete;
    graft_mode to = sf->pending_mode;
    uint32_t bp = sf->pending_bp;
    pthread_mutex_unlock(&sf->bf_lock);
    if (move) {
        /* The asked stage, now that legacy holds everything again (the gate verifies). */
        int rc = graft__seam_set_mode(sf->seam, to, bp, GRAFT_BY_PLAN);
        if (rc != GRAFT_OK) {
            graft__log(sf->rt, GRAFT_LOG_WARN, "graft.stateful",
                       "seam=%s reverse backfill done but the move to %s was refused", sf->def.name,
                       graft_mode_name(to));
            pthread_mutex_lock(&sf->bf_lock);
            sf->pending = false;
            pthread_mutex_unlock(&sf->bf_lock);
        }
    }
    return n;
}

static void *graft__sf_driver(void *arg)
{
    graft_stateful *sf = arg;
    pthread_mutex_lock(&sf->drv_lock);
    while (!sf->drv_stop) {
        size_t items = sf->drv_items;
        pthread_mutex_unlock(&sf->drv_lock);
        graft_stateful_step(sf, items);
        pthread_mutex_lock(&sf->drv_lock);
        if (sf->drv_stop) {
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + sf->drv_interval_ns;
        ts.tv_sec += (time_t)(ns / 1000000000ull);
        ts.tv_nsec = (long)(ns % 1000000000ull);
        pthread_cond_timedwait(&sf->drv_cv, &sf->drv_lock, &ts);
    }
    pthread_mutex_unlock(&sf->drv_lock);
    return NULL;
}

int graft_stateful_start_driver(graft_stateful *sf, size_t items_per_step, uint64_t interval_ns)
{
    if (!sf) {
        return GRAFT_ENULL;
    }
    if (items_per_step == 0 || interval_ns == 0) {
        return GRAFT_EINVAL;
    }
    pthread_mutex_lock(&sf->drv_lock);
    if (sf->drv_on) {
        pthread_mutex_unlock(&sf->drv_lock);
        return GRAFT_EEXIST;
    }
    sf->drv_items = items_per_step;
    sf->drv_interval_ns = interval_ns;
    sf->drv_stop = false;
    int rc = pthread_create(&sf->drv, NULL, graft__sf_driver, sf);
    sf->drv_on = rc == 0;
    pthread_mutex_unlock(&sf->drv_lock);
    return rc == 0 ? GRAFT_OK : GRAFT_ENOMEM;
}

/* ------------------------------------------------------------------ verify */

static uint64_t graft__sf_mix(uint64_t kh, uint64_t digest)
{
    return graft__bucket_hash(kh, digest);
}

static void graft__sf_note_key(graft_sf_verify *v, const graft__sf_list *l,
                               const graft__sf_item *it)
{
    if (v->nkeys >= GRAFT_SF_DIVERGENT_KEPT) {
        return;
    }
    char *dst = v->keys[v->nkeys++];
    size_t n = it->len < 63 ? it->len : 63;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)l->keys[it->off + i];
        dst[i] = (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') ? (char)ch : '?';
    }
    dst[n] = '\0';
}

static int graft__sf_verify_locked(graft_stateful *sf, graft_sf_verify *out)
{
    GRAFT__ASSERT_HELD(&sf->bf_lock);
    int pol = atomic_load_explicit(&sf->policy, memory_order_relaxed);
    graft_sf_verify v;
    memset(&v, 0, sizeof v);
    if (sf->bf.running || pol == GRAFT__SF_P_LEGACY || pol == GRAFT__SF_P_CAND) {
        v.state = GRAFT_SF_VERIFY_REFUSED;
        if (out) {
            *out = v;
        }
        return GRAFT_ESTATE;
    }
    graft_sf_usage u[2];
    graft__sf_usage(sf, GRAFT_IMPL_LEGACY, &u[0]);
    graft__sf_usage(sf, GRAFT_IMPL_CANDIDATE, &u[1]);
    bool evicted[2] = {u[0].evictions > sf->bf.evictions0[0],
                       u[1].evictions > sf->bf.evictions0[1]};
    graft__sf_list l[2];
    memset(l, 0, sizeof l);
    v.shards = sf->def.nshards;
    for (uint32_t sh = 0; sh < sf->def.nshards; sh++) {
        /* A consistent cut of the shard: no write of its keys while both are listed. */
        for (uint32_t k = 0; k < sf->per_shard; k++) {
            pthread_mutex_lock(&sf->stripes[sh * sf->per_shard + k]);
        }
        uint64_t cut = sf->def.cut_time ? sf->def.cut_time(sf->def.ctx) : 0;
        for (int s = 0; s < 2; s++) {
            graft__sf_list_reset(&l[s]);
            sf->def.scan(sf->def.ctx, (graft_impl)s, sh, cut, graft__sf_list_add, &l[s]);
            graft__sf_list_sort(&l[s]);
        }
        uint64_t div0 = v.divergent;
        if (l[0].oom || l[1].oom) {
            v.divergent++; /* cannot tell: counts as not verified */
        }
        size_t i = 0, j = 0;
        while (i < l[0].n || j < l[1].n) {
            int c;
            if (i == l[0].n) {
                c = 1;
            } else if (j == l[1].n) {
                c = -1;
            } else {
                const graft__sf_item *a = &l[0].v[i], *b = &l[1].v[j];
                c = a->kh != b->kh     ? (a->kh < b->kh ? -1 : 1)
                    : a->len != b->len ? (a->len < b->len ? -1 : 1)
                                       : memcmp(l[0].keys + a->off, l[1].keys + b->off, a->len);
                c = c < 0 ? -1 : (c > 0 ? 1 : 0);
            }
            if (c == 0) {
                const graft__sf_item *a = &l[0].v[i++], *b = &l[1].v[j++];
                v.digest_legacy += graft__sf_mix(a->kh, a->digest);
                v.digest_candidate += graft__sf_mix(b->kh, b->digest);
                if (a->digest != b->digest) {
                    v.divergent++;
                    graft__sf_note_key(&v, &l[0], a);
                }
                continue;
            }
            /* Held by one store only: `has` holds it, `lacks` does not. */
            int has = c < 0 ? 0 : 1;
            const graft__sf_item *it = c < 0 ? &l[0].v[i++] : &l[1].v[j++];
            if (evicted[1 - has]) {
                /* The store without it has been evicting: an eviction, not a bug. Drop it
                 * from the other too, as that store might have done. */
                sf->def.remove(sf->def.ctx, (graft_impl)has, l[has].keys + it->off, it->len);
                v.evicted++;
            } else {
                v.divergent++;
                graft__sf_note_key(&v, &l[has], it);
                if (has == 0) {
                    v.digest_legacy += graft__sf_mix(it->kh, it->digest);
                } else {
                    v.digest_candidate += graft__sf_mix(it->kh, it->digest);
                }
            }
        }
        v.items_legacy += l[0].n;
        v.items_candidate += l[1].n;
        for (uint32_t k = sf->per_shard; k > 0; k--) {
            pthread_mutex_unlock(&sf->stripes[sh * sf->per_shard + k - 1]);
        }
        if (v.divergent == div0) {
            v.shards_equal++;
        }
    }
    graft__sf_list_free(&l[0]);
    graft__sf_list_free(&l[1]);
    v.state = v.divergent == 0 ? GRAFT_SF_VERIFY_PASSED : GRAFT_SF_VERIFY_FAILED;
    v.unix_ms = graft__sf_unix_ms();
    sf->verify = v;
    graft__log(sf->rt, v.divergent ? GRAFT_LOG_WARN : GRAFT_LOG_INFO, "graft.stateful",
               "seam=%s verify %s: %u/%u shards equal, %" PRIu64 " legacy items, %" PRIu64
               " candidate items, %" PRIu64 " divergent, %" PRIu64 " evictions reconciled%s%s",
               sf->def.name, v.divergent ? "failed" : "passed", v.shards_equal, v.shards,
               v.items_legacy, v.items_candidate, v.divergent, v.evicted,
               v.nkeys ? ", first: " : "", v.nkeys ? v.keys[0] : "");
    if (out) {
        *out = v;
    }
    return GRAFT_OK;
}

int graft_stateful_verify(graft_stateful *sf, graft_sf_verify *out)
{
    if (!sf) {
        return GRAFT_ENULL;
    }
    pthread_mutex_lock(&sf->bf_lock);
    int rc = graft__sf_verify_locked(sf, out);
    pthread_mutex_unlock(&sf->bf_lock);
    return rc;
}

/* ------------------------------------------------------------------ gates */

static bool graft__sf_verify_gate(graft_stateful *sf, graft_mode to)
{
    graft_sf_verify v;
    graft__sf_verify_locked(sf, &v);
    if (v.state != GRAFT_SF_VERIFY_PASSED) {
        graft__sf_refuse(sf, "%s needs a verify pass: %s (%" PRIu64 " divergent keys%s%s)",
                         graft_mode_name(to),
                         v.state == GRAFT_SF_VERIFY_REFUSED ? "could not run" : "failed",
                         v.divergent, v.nkeys ? ", first " : "", v.nkeys ? v.keys[0] : "");
        return false;
    }
    return true;
}

/* Leaving candidate-only: legacy must be rebuilt first (bf_lock held). */
static int graft__sf_gate_from_only(graft_stateful *sf, graft_mode to, uint32_t bp)
{
    if (!(sf->bf.reverse && sf->bf.complete)) {
        if (!sf->bf.running) {
            /* Legacy missed every write since candidate-only: empty it, write it again
             * (candidate answers), and copy the candidate's items back. */
            graft__sf_drain(sf); /* no write of legacy is in flight while it is emptied */
            sf->def.clear(sf->def.ctx, GRAFT_IMPL_LEGACY);
            /* Pulls on before the second store is written: a write never meets a key the
             * backfill has not copied yet. */
            atomic_store_explicit(&sf->bf_active, true, memory_order_seq_cst);
            graft__sf_set_policy(sf, GRAFT__SF_P_BOTH_CAND);
            graft__sf_drain(sf);
            graft__sf_bf_start(sf, true);
            graft__sf_step_locked(sf, sf->def.sync_backfill_items);
        }
        if (!sf->bf.complete) {
            sf->pending = true;
            sf->pending_mode = to;
            sf->pending_bp = bp;
            graft__sf_refuse(sf,
                             "leaving candidate-only needs the reverse backfill: %" PRIu64
                             " of ~%" PRIu64 " keys copied; the seam moves to %s when done",
                             sf->bf.done,
                             sf->bf.estimate > sf->bf.listed ? sf->bf.estimate : sf->bf.listed,
                             graft_mode_name(to));
            return GRAFT_ESTATE;
        }
    }
    sf->pending = false;
    if (!graft__sf_verify_gate(sf, to)) {
        return GRAFT_ESTATE;
    }
    /* Legacy is whole and written: it answers writes again. */
    graft__sf_set_policy(sf, GRAFT__SF_P_BOTH);
    return GRAFT_OK;
}

static int graft__sf_gate(struct graft_stateful *sf, graft_mode from, graft_mode to,
                          uint32_t percent_bp)
{
    assert(sf); /* sf->seam is not set yet when configuration applies at registration */
    pthread_mutex_lock(&sf->bf_lock);
    int rc = GRAFT_OK;
    if (from == GRAFT_MODE_CANDIDATE_ONLY) {
        rc = graft__sf_gate_from_only(sf, to, percent_bp);
        goto done;
    }
    sf->pending = false;
    if (to == GRAFT_MODE_LEGACY) {
        goto done; /* graft__sf_after narrows the writes */
    }
    if (from == GRAFT_MODE_LEGACY) {
        graft_sf_usage u;
        graft__sf_usage(sf, GRAFT_IMPL_LEGACY, &u);
        if (sf->def.dual_memory_max && u.bytes * 2 > sf->def.dual_memory_max) {
            graft__sf_refuse(sf,
                             "dual-write keeps two copies: 2 x %" PRIu64
                             " bytes would pass the bound of %" PRIu64,
                             u.bytes, sf->def.dual_memory_max);
            rc = GRAFT_ESTATE;
            goto done;
        }
        graft__sf_drain(sf); /* no write of the candidate is in flight while it is emptied */
        sf->def.clear(sf->def.ctx, GRAFT_IMPL_CANDIDATE);
        atomic_store_explicit(&sf->bf_active, true, memory_order_seq_cst);
        graft__sf_set_policy(sf, GRAFT__SF_P_BOTH);
        graft__sf_drain(sf); /* no write that saw "legacy only" is still running */
        graft__sf_bf_start(sf, false);
        graft__sf_step_locked(sf, sf->def.sync_backfill_items);
        if (to != GRAFT_MODE_DUAL_WRITE && !sf->bf.complete) {
            graft__sf_refuse(
                sf,
                "%s from legacy: enter dual-write first and let the backfill of ~%" PRIu64
                " keys finish",
                graft_mode_name(to), sf->bf.estimate);
            sf->bf.running = false;
            atomic_store_explicit(&sf->bf_active, false, memory_order_release);
            graft__sf_set_policy(sf, GRAFT__SF_P_LEGACY);
            rc = GRAFT_ESTATE;
            goto done;
        }
    }
    if (to == GRAFT_MODE_DUAL_WRITE) {
        goto done;
    }
    if (!sf->bf.complete) {
        graft__sf_refuse(sf, "%s needs the backfill complete: %" PRIu64 " of ~%" PRIu64 " keys",
                         graft_mode_name(to), sf->bf.done,
                         sf->bf.estimate > sf->bf.listed ? sf->bf.estimate : sf->bf.listed);
        rc = GRAFT_ESTATE;
        goto done;
    }
    if (to == GRAFT_MODE_CANDIDATE_ONLY && from != GRAFT_MODE_CANDIDATE &&
        from != GRAFT_MODE_LEGACY) {
        graft__sf_refuse(sf, "candidate-only only from candidate (the seam is in %s)",
                         graft_mode_name(from));
        rc = GRAFT_ESTATE;
        goto done;
    }
    if ((to == GRAFT_MODE_CANDIDATE || to == GRAFT_MODE_CANDIDATE_ONLY) &&
        !graft__sf_verify_gate(sf, to)) {
        rc = GRAFT_ESTATE;
    }
done:
    if (rc != GRAFT_OK && from == GRAFT_MODE_LEGACY) {
        graft__sf_set_policy(sf, GRAFT__SF_P_LEGACY);
        sf->bf.running = false;
        atomic_store_explicit(&sf->bf_active, false, memory_order_release);
    }
    pthread_mutex_unlock(&sf->bf_lock);
    return rc;
}

static void graft__sf_after(struct graft_stateful *sf, graft_mode from, graft_mode to)
{
    assert(sf);
    (void)from;
    if (to != GRAFT_MODE_LEGACY && to != GRAFT_MODE_CANDIDATE_ONLY) {
        return;
    }
    /* Narrowing: calls that loaded the previous route may still read the store that is
     * about to stop being written; they finish first. */
    graft__sf_drain(sf);
    pthread_mutex_lock(&sf->bf_lock);
    graft__sf_set_policy(sf, to == GRAFT_MODE_LEGACY ? GRAFT__SF_P_LEGACY : GRAFT__SF_P_CAND);
    /* And the writes that loaded the wider policy meanwhile: none may still reach the
     * store a later gate empties. */
    graft__sf_drain(sf);
    if (to == GRAFT_MODE_LEGACY) {
        sf->bf.running = false;
        atomic_store_explicit(&sf->bf_active, false, memory_order_release);
        sf->bf.complete = false;
        sf->verify.state = GRAFT_SF_VERIFY_NONE;
    }
    pthread_mutex_unlock(&sf->bf_lock);
}

/* ------------------------------------------------------------------ snapshot */

int graft_stateful_stats(graft_stateful *sf, graft_sf_stats *out)
{
    if (!sf || !out) {
        return GRAFT_ENULL;
    }
    memset(out, 0, sizeof *out);
    graft_seam_get_mode(sf->seam, &out->stage, NULL);
    graft__sf_usage(sf, GRAFT_IMPL_LEGACY, &out->usage[0]);
    graft__sf_usage(sf, GRAFT_IMPL_CANDIDATE, &out->usage[1]);
    out->dual_memory_max = sf->def.dual_memory_max;
    out->writes = atomic_load_explicit(&sf->writes, memory_order_relaxed);
    for (int i = 0; i < GRAFT__SF_SLOTS; i++) {
        out->writes += atomic_load_explicit(&sf->slots[i].writes, memory_order_relaxed);
    }
    out->writes_both = atomic_load_explicit(&sf->writes_both, memory_order_relaxed);
    out->write_compared = atomic_load_explicit(&sf->write_compared, memory_order_relaxed);
    out->write_mismatches = atomic_load_explicit(&sf->write_mismatches, memory_order_relaxed);
    out->write_repairs = atomic_load_explicit(&sf->write_repairs, memory_order_relaxed);
    out->candidate_write_failures =
        atomic_load_explicit(&sf->cand_write_failures, memory_order_relaxed);
    out->backfill_pulls = atomic_load_explicit(&sf->pulls, memory_order_relaxed);
    out->write_faults = atomic_load_explicit(&sf->write_faults, memory_order_relaxed);
    pthread_mutex_lock(&sf->bf_lock);
    out->backfill_running = sf->bf.running;
    out->backfill_reverse = sf->bf.reverse;
    out->backfill_complete = sf->bf.complete;
    out->backfill_done = sf->bf.done;
    out->backfill_total = sf->bf.shard == sf->def.nshards || sf->bf.listed > sf->bf.estimate
                              ? sf->bf.listed
                              : sf->bf.estimate;
    memcpy(out->backfill_copied, sf->bf.copied, sizeof out->backfill_copied);
    out->backfill_shard = sf->bf.shard;
    out->pending = sf->pending;
    out->pending_stage = sf->pending_mode;
    out->pending_bp = sf->pending_bp;
    out->verify = sf->verify;
    memcpy(out->last_refusal, sf->last_refusal, sizeof out->last_refusal);
    pthread_mutex_unlock(&sf->bf_lock);
    return GRAFT_OK;
}

static void graft__sf_snapshot(graft_stateful *sf, graft_sf_stats *out, const char **policy)
{
    graft_stateful_stats(sf, out);
    *policy = graft__sf_policy_names[atomic_load_explicit(&sf->policy, memory_order_relaxed)];
}
