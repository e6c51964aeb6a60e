/*
 * kv_store.c: kvd's storage engine (see kv_store.h for the design and the contract).
 *
 * Invariants, per shard and under its lock:
 *   - every item is in exactly one hash chain and in the LRU list (head = most recent);
 *   - while the shard grows, an item whose bucket in the old table is at or past
 *     migrate_pos lives in the old table, every other item in the new one;
 *   - sh->bytes is the sum of item->size over the shard's linked items;
 *   - a linked item holds one reference (refs >= 1); readers add theirs under the shard
 *     lock (kv_store_item_retain) and drop them from any thread; whoever drops the last
 *     frees the item, so a reply can keep sending an item evicted, deleted or replaced
 *     meanwhile;
 *   - store->used is the size of every item not yet freed (linked or still referenced)
 *     plus the bytes reserved by kv_store_reserve: all of it stays within the limit.
 */
#define _GNU_SOURCE /* malloc_usable_size */
#include "kv_store.h"

#include <assert.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "graft/base.h"
#include "kv_rs.h"

#define KV_REALTIME_MAXDELTA (60 * 60 * 24 * 30)
#define KV_SHARD_SHIFT (64 - 5) /* top 5 bits of the hash pick one of 32 shards */
#define KV_MIGRATE_PER_OP 4     /* old buckets moved by each operation while growing */
#define KV_MIGRATE_PER_TICK 4096
#define KV_SWEEP_MAX 16384 /* buckets examined per shard per maintenance tick */
/* memcached's item size formula (kv_proto.h): header, CAS, key NUL, CRLF; +4 for flags */
#define KV_ITEM_OVERHEAD 59u
#define KV_BUMP_INTERVAL 60 /* memcached's ITEM_UPDATE_INTERVAL */

_Static_assert(KV_STORE_SHARDS == 32, "KV_SHARD_SHIFT assumes 32 shards");

/* kv_item.mflags: memcached's ITEM_FETCHED, ITEM_STALE, ITEM_TOKEN_SENT, ITEM_KEY_BINARY */
#define KV__M_FETCHED 1u
#define KV__M_STALE 2u
#define KV__M_TOKEN 4u
#define KV__M_BINARY 8u

typedef struct kv_item {
    struct kv_item *hnext;
    struct kv_item *prev, *next; /* LRU */
    uint64_t hash;
    uint64_t cas;
    uint32_t exptime; /* relative time; 0 = never */
    uint32_t time;    /* relative time of the last store */
    uint32_t atime;   /* relative time of the last LRU bump */
    uint32_t flags;
    uint32_t nbytes; /* value length, without the CRLF kept after it */
    uint32_t size;   /* bytes accounted for this item */
    _Atomic uint32_t refs;
    uint8_t nkey;
    uint8_t mflags; /* KV__M_*: meta-protocol state */
    char data[];    /* key, value, "\r\n" */
} kv_item;

typedef struct kv_shard {
    pthread_mutex_t lock;
    kv_item **tab;
    size_t tmask;
    kv_item **old; /* table being emptied into tab, or NULL */
    size_t omask;
    size_t migrate_pos;
    size_t count;
    size_t bytes; /* linked items' sizes (the "bytes" stat) */
    kv_item *head, *tail;
    size_t sweep_pos;
    uint64_t evictions, expired, reclaimed, total_items;
} __attribute__((aligned(64))) kv_shard;

struct kv_store {
    kv_shard shards[KV_STORE_SHARDS];
    /* read-mostly settings, then each written counter on its own cache line */
    size_t limit;
    uint32_t item_size_max;
    int64_t process_started;
    _Alignas(64) atomic_uint_fast32_t flush_at; /* see kv__live; read by every lookup */
    _Alignas(64) atomic_size_t used;
    _Alignas(64) atomic_uint_fast64_t next_cas;
    _Alignas(64) atomic_uint evict_cursor;
    _Alignas(64) atomic_size_t reserved; /* kv_store_reserve's part of used */
    size_t reserve_max;                  /* ... never more than this */
    uint64_t (*cas_next)(void *ctx);     /* kv_store_set_cas_source's allocator, or NULL */
    void *cas_ctx;
};

/* The storage engine's one call of the key hash: the Rust hash, directly (kv.hash was
 * retired; tests/golden/kv_hash.vectors pins the values, hence the shards, of the C). */
static uint64_t kv__hash_key(const char *key, uint32_t nkey)
{
    return kv_rs_hash_key(key, nkey);
}

static kv_shard *kv__shard(kv_store *s, uint64_t h)
{
    return &s->shards[h >> KV_SHARD_SHIFT];
}

static const char *kv__key(const kv_item *it)
{
    return it->data;
}

static char *kv__value(kv_item *it)
{
    return it->data + it->nkey;
}

uint32_t kv_store_realtime(const kv_store *s, int64_t exptime, uint32_t now)
{
    if (exptime == 0) {
        return 0;
    }
    if (exptime < 0) {
        /* memcached maps negative times to an absolute time long past */
        exptime = KV_REALTIME_MAXDELTA + 1;
    }
    if (exptime > KV_REALTIME_MAXDELTA) {
        if (exptime <= s->process_started) {
            return 1;
        }
        int64_t rel = exptime - s->process_started;
        return rel > UINT32_MAX ? UINT32_MAX : (uint32_t)rel;
    }
    return (uint32_t)(exptime + now);
}

static int kv__live(kv_store *s, const kv_item *it, uint32_t now)
{
    if (it->exptime != 0 && it->exptime <= now) {
        return 0;
    }
    uint32_t f = (uint32_t)atomic_load_explicit(&s->flush_at, memory_order_relaxed);
    return !(f != 0 && f <= now && it->time <= f);
}

static kv_item **kv__bucket(kv_shard *sh, uint64_t h)
{
    if (sh->old != NULL) {
        size_t oi = (size_t)h & sh->omask;
        if (oi >= sh->migrate_pos) {
            return &sh->old[oi];
        }
    }
    return &sh->tab[(size_t)h & sh->tmask];
}

static void kv__migrate(kv_shard *sh, size_t n)
{
    while (sh->old != NULL && n-- > 0) {
        kv_item *it = sh->old[sh->migrate_pos];
        while (it != NULL) {
            kv_item *next = it->hnext;
            size_t i = (size_t)it->hash & sh->tmask;
            it->hnext = sh->tab[i];
            sh->tab[i] = it;
            it = next;
        }
        sh->old[sh->migrate_pos] = NULL;
        if (++sh->migrate_pos > sh->omask) {
            free(sh->old);
            sh->old = NULL;
            sh->migrate_pos = 0;
        }
    }
}

/* Starts growing when the load passes 1.5 and no migration is running. A failed
 * allocation just leaves the chains longer. */
static void kv__maybe_grow(kv_shard *sh)
{
    size_t n = sh->tmask + 1;
    if (sh->old != NULL || sh->count <= n + n / 2 || n > (SIZE_MAX / sizeof(kv_item *)) / 4) {
        return;
    }
    kv_item **t = calloc(n * 2, sizeof(kv_item *));
    if (t == NULL) {
        return;
    }
    sh->old = sh->tab;
    sh->omask = sh->tmask;
    sh->migrate_pos = 0;
    sh->tab = t;
    sh->tmask = n * 2 - 1;
}

/* Returns the link that points to the item with this key (so it can be unlinked), or
 * NULL. */
static kv_item **kv__find(kv_shard *sh, uint64_t h, const char *key, uint32_t nkey)
{
    kv_item **pp = kv__bucket(sh, h);
    while (*pp != NULL) {
        kv_item *it = *pp;
        if (it->hash == h && it->nkey == nkey && memcmp(kv__key(it), key, nkey) == 0) {
            return pp;
        }
        pp = &it->hnext;
    }
    return NULL;
}

static void kv__lru_unlink(kv_shard *sh, kv_item *it)
{
    if (it->prev != NULL) {
        it->prev->next = it->next;
    } else {
        sh->head = it->next;
    }
    if (it->next != NULL) {
        it->next->prev = it->prev;
    } else {
        sh->tail = it->prev;
    }
    it->prev = it->next = NULL;
}

static void kv__lru_push(kv_shard *sh, kv_item *it)
{
    it->prev = NULL;
    it->next = sh->head;
    if (sh->head != NULL) {
        sh->head->prev = it;
    }
    sh->head = it;
    if (sh->tail == NULL) {
        sh->tail = it;
    }
}

/* Like memcached, an item is moved to the LRU head at most once per KV_BUMP_INTERVAL
 * seconds: hot keys then cost no list writes on most reads. */
static void kv__lru_update(kv_shard *sh, kv_item *it, uint32_t now)
{
    if (now - it->atime >= KV_BUMP_INTERVAL) {
        it->atime = now; /* memcached's it->time: "la" counts from here */
        if (sh->head != it) {
            kv__lru_unlink(sh, it);
            kv__lru_push(sh, it);
        }
    }
}

/* A read of the item: as kv__lru_update, and the item counts as fetched. */
static void kv__lru_bump(kv_shard *sh, kv_item *it, uint32_t now)
{
    if ((it->mflags & KV__M_FETCHED) == 0) {
        it->mflags |= KV__M_FETCHED; /* written once: hot items' reads stay read-only */
    }
    kv__lru_update(sh, it, now);
}

/* Removes the item from its chain (via its link pp), the LRU and the accounting. */
static void kv__unlink_at(kv_store *s, kv_shard *sh, kv_item **pp)
{
    kv_item *it = *pp;
    *pp = it->hnext;
    it->hnext = NULL;
    kv__lru_unlink(sh, it);
    sh->count--;
    sh->bytes -= it->size;
    (void)s;
}

static void kv__unlink(kv_store *s, kv_shard *sh, kv_item *it)
{
    kv_item **pp = kv__bucket(sh, it->hash);
    while (*pp != it) {
        pp = &(*pp)->hnext;
    }
    kv__unlink_at(s, sh, pp);
}

/* Links the item, whose bytes are already in store->used (claimed by kv__make_room, or
 * an item being linked back). */
static void kv__link(kv_shard *sh, kv_item *it)
{
    kv_item **b = kv__bucket(sh, it->hash);
    it->hnext = *b;
    *b = it;
    kv__lru_push(sh, it);
    sh->count++;
    sh->bytes += it->size;
    sh->total_items++;
    kv__maybe_grow(sh);
}

static uint64_t kv__next_cas(kv_store *s)
{
    if (s->cas_next != NULL) {
        return s->cas_next(s->cas_ctx);
    }
    return atomic_fetch_add_explicit(&s->next_cas, 1, memory_order_relaxed);
}

static kv_item *kv__alloc(uint64_t h, const char *key, uint32_t nkey, uint32_t flags,
                          uint32_t exptime, uint32_t nbytes, uint32_t now)
{
    kv_item *it = malloc(sizeof(kv_item) + nkey + (size_t)nbytes + 2);
    if (it == NULL) {
        return NULL;
    }
    it->hnext = it->prev = it->next = NULL;
    it->hash = h;
    it->cas = 0;
    it->exptime = exptime;
    it->time = now;
    it->atime = now;
    it->flags = flags;
    it->nbytes = nbytes;
    it->size = (uint32_t)malloc_usable_size(it);
    atomic_init(&it->refs, 1);
    it->nkey = (uint8_t)nkey;
    it->mflags = 0;
    memcpy(it->data, key, nkey);
    char *v = kv__value(it);
    v[nbytes] = '\r';
    v[nbytes + 1] = '\n';
    return it;
}

/* Frees items not alive any more found while scanning a chain. Collected into a list so
 * free() runs after the lock is released. */
static void kv__free_list(kv_item *list)
{
    while (list != NULL) {
        kv_item *next = list->hnext;
        free(list);
        list = next;
    }
}

static void kv__defer_free(kv_item **list, kv_item *it)
{
    it->hnext = *list;
    *list = it;
}

/* Drops one reference of an unlinked item (the link's, or a reader's); the last one
 * gives its bytes back to the limit and queues it for free(). */
static void kv__drop(kv_store *s, kv_item *it, kv_item **list)
{
    if (atomic_fetch_sub_explicit(&it->refs, 1, memory_order_acq_rel) == 1) {
        atomic_fetch_sub_explicit(&s->used, it->size, memory_order_relaxed);
        kv__defer_free(list, it);
    }
}

/* Claims `need` bytes of the limit, atomically, so concurrent stores cannot together
 * pass it. Returns 1 when claimed. */
static int kv__reserve(kv_store *s, size_t need)
{
    size_t cur = atomic_load_explicit(&s->used, memory_order_relaxed);
    while (cur + need <= s->limit) {
        if (atomic_compare_exchange_weak_explicit(&s->used, &cur, cur + need, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            return 1;
        }
    }
    return 0;
}

static void kv__evict_tail(kv_store *s, kv_shard *sh, uint32_t now, kv_item **freed)
{
    kv_item *v = sh->tail;
    if (kv__live(s, v, now)) {
        sh->evictions++;
    } else {
        sh->reclaimed++;
    }
    kv__unlink(s, sh, v);
    kv__drop(s, v, freed);
}

/* Reserves `need` bytes (see kv__reserve), evicting from the LRU tail of sh (locked by
 * the caller), then of other shards that can be locked without waiting. Returns 1 when
 * the bytes are reserved: the item must then be linked with kv__link(..., 1). */
static int kv__make_room(kv_store *s, kv_shard *sh, size_t need, uint32_t now, kv_item **freed)
{
    if (need > s->limit) {
        return 0;
    }
    for (;;) {
        if (kv__reserve(s, need)) {
            return 1;
        }
        if (sh->tail == NULL) {
            break;
        }
        kv__evict_tail(s, sh, now, freed);
    }
    unsigned start = atomic_fetch_add_explicit(&s->evict_cursor, 1, memory_order_relaxed);
    for (unsigned k = 0; k < KV_STORE_SHARDS; k++) {
        kv_shard *o = &s->shards[(start + k) % KV_STORE_SHARDS];
        if (o == sh || pthread_mutex_trylock(&o->lock) != 0) {
            continue;
        }
        int ok = 0;
        while (!(ok = kv__reserve(s, need)) && o->tail != NULL) {
            kv__evict_tail(s, o, now, freed);
        }
        pthread_mutex_unlock(&o->lock);
        if (ok) {
            return 1;
        }
    }
    return 0;
}

/* Looks the key up; an item found dead is unlinked onto *freed and reported missing. */
static kv_item *kv__lookup(kv_store *s, kv_shard *sh, uint64_t h, const char *key, uint32_t nkey,
                           uint32_t now, kv_item **freed)
{
    kv__migrate(sh, KV_MIGRATE_PER_OP);
    kv_item **pp = kv__find(sh, h, key, nkey);
    if (pp == NULL) {
        return NULL;
    }
    kv_item *it = *pp;
    if (!kv__live(s, it, now)) {
        kv__unlink_at(s, sh, pp);
        sh->reclaimed++;
        sh->expired++;
        kv__drop(s, it, freed);
        return NULL;
    }
    return it;
}

int kv_store_create(const kv_store_config *cfg, kv_store **out)
{
    if (cfg == NULL || out == NULL) {
        return GRAFT_ENULL;
    }
    uint32_t nb = cfg->initial_buckets ? cfg->initial_buckets : 1024;
    if ((nb & (nb - 1)) != 0 || cfg->mem_limit == 0) {
        return GRAFT_EINVAL;
    }
    kv_store *s = aligned_alloc(64, (sizeof(kv_store) + 63) / 64 * 64);
    if (s == NULL) {
        return GRAFT_ENOMEM;
    }
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < KV_STORE_SHARDS; i++) {
        kv_shard *sh = &s->shards[i];
        sh->tab = calloc(nb, sizeof(kv_item *));
        if (sh->tab == NULL) {
            for (int j = 0; j < i; j++) {
                pthread_mutex_destroy(&s->shards[j].lock);
                free(s->shards[j].tab);
            }
            free(s);
            return GRAFT_ENOMEM;
        }
        sh->tmask = nb - 1;
        pthread_mutex_init(&sh->lock, NULL);
    }
    atomic_init(&s->used, 0);
    atomic_init(&s->next_cas, 1);
    atomic_init(&s->flush_at, 0);
    atomic_init(&s->evict_cursor, 0);
    s->limit = cfg->mem_limit;
    /* buffers may take half the limit (so items keep the other half), but at least one
     * request of the largest item (its line and value: -I + 64 KiB) */
    s->reserve_max = cfg->mem_limit / 2;
    if (s->reserve_max < (size_t)cfg->item_size_max + 65536) {
        s->reserve_max = (size_t)cfg->item_size_max + 65536;
    }
    if (s->reserve_max > cfg->mem_limit) {
        s->reserve_max = cfg->mem_limit;
    }
    atomic_init(&s->reserved, 0);
    s->item_size_max = cfg->item_size_max;
    s->process_started = cfg->process_started;
    *out = s;
    return GRAFT_OK;
}

void kv_store_destroy(kv_store *s)
{
    if (s == NULL) {
        return;
    }
    for (int i = 0; i < KV_STORE_SHARDS; i++) {
        kv_shard *sh = &s->shards[i];
        kv_item *it = sh->head;
        while (it != NULL) {
            kv_item *next = it->next;
            /* every reader has released its references by now (connections go first) */
            assert(atomic_load(&it->refs) == 1);
            free(it);
            it = next;
        }
        free(sh->tab);
        free(sh->old);
        pthread_mutex_destroy(&sh->lock);
    }
    free(s);
}

int kv_store_get(kv_store *s, const char *key, uint32_t nkey, uint32_t now, int touch,
                 int64_t exptime, kv_item_visit_fn fn, void *ctx)
{
    uint64_t h = kv__hash_key(key, nkey);
    kv_shard *sh = kv__shard(s, h);
    kv_item *freed = NULL;
    pthread_mutex_lock(&sh->lock);
    kv_item *it = kv__lookup(s, sh, h, key, nkey, now, &freed);
    if (it != NULL) {
        if (touch) {
            it->exptime = kv_store_realtime(s, exptime, now);
        }
        kv__lru_bump(sh, it, now);
        kv_item_view v = {kv__key(it), it->nkey, it->flags, kv__value(it), it->nbytes, it->cas, it};
        fn(ctx, &v);
    }
    pthread_mutex_unlock(&sh->lock);
    kv__free_list(freed);
    return it != NULL;
}

/* kv_store_store and kv_store_mstore: cas is the client's value (KV_MODE_CAS, or any mode
 * when `meta`); meta: memcached's ms rules (see kv_store_mstore). */
static kv_store_result kv__store(kv_store *s, kv_store_mode mode, const char *key, uint32_t nkey,
                                 uint32_t flags, int64_t exptime, const char *data, uint32_t ndata,
                                 uint64_t cas, uint32_t now, int meta, int invalidate,
                                 int key_binary, uint64_t *cas_out)
{
    uint64_t h = kv__hash_key(key, nkey);
    kv_shard *sh = kv__shard(s, h);
    uint32_t exp = kv_store_realtime(s, exptime, now);
    kv_item *nit = NULL;
    int concat = mode == KV_MODE_APPEND || mode == KV_MODE_PREPEND;
    if (!concat) {
        /* built before taking the lock: the copy is the expensive part */
        nit = kv__alloc(h, key, nkey, flags, exp, ndata, now);
        if (nit == NULL) {
            return KV_RES_NO_MEMORY;
        }
        memcpy(kv__value(nit), data, ndata);
    }
    kv_item *freed = NULL;
    kv_store_result res = KV_RES_STORED;
    pthread_mutex_lock(&sh->lock);
    kv_item *old = kv__lookup(s, sh, h, key, nkey, now, &freed);
    int stale = 0; /* ms I with an older CAS: stored, marked stale */
    switch (mode) {
    case KV_MODE_ADD:
        if (old != NULL) {
            res = KV_RES_NOT_STORED;
            if (meta) {
                kv__lru_update(sh, old, now); /* memcached bumps the item an add found */
            }
        }
        break;
    case KV_MODE_REPLACE:
        if (old == NULL) {
            res = KV_RES_NOT_STORED;
        }
        break;
    case KV_MODE_CAS:
        if (old == NULL) {
            res = KV_RES_NOT_FOUND;
        } else if (meta && invalidate && cas != 0 && cas < old->cas) {
            stale = 1;
        } else if (old->cas != cas) {
            res = KV_RES_EXISTS;
        }
        break;
    case KV_MODE_APPEND:
    case KV_MODE_PREPEND: {
        if (old == NULL) {
            res = KV_RES_NOT_STORED;
            break;
        }
        if (meta && cas != 0 && cas != old->cas) {
            res = KV_RES_EXISTS;
            break;
        }
        uint64_t total = (uint64_t)old->nbytes + ndata;
        if (KV_ITEM_OVERHEAD + old->nkey + total + (old->flags ? 4 : 0) > s->item_size_max) {
            res = KV_RES_NOT_STORED;
            break;
        }
        nit = kv__alloc(h, key, nkey, old->flags, old->exptime, (uint32_t)total, now);
        if (nit == NULL) {
            res = KV_RES_NO_MEMORY;
            break;
        }
        if (mode == KV_MODE_APPEND) {
            memcpy(kv__value(nit), kv__value(old), old->nbytes);
            memcpy(kv__value(nit) + old->nbytes, data, ndata);
        } else {
            memcpy(kv__value(nit), data, ndata);
            memcpy(kv__value(nit) + ndata, kv__value(old), old->nbytes);
        }
        break;
    }
    case KV_MODE_SET:
        break;
    }
    if (res == KV_RES_STORED) {
        if (old != NULL) {
            kv__unlink(s, sh, old);
        }
        if (!kv__make_room(s, sh, nit->size, now, &freed)) {
            /* a failed set drops the stale value (as memcached does); others keep it */
            if (old != NULL && mode != KV_MODE_SET) {
                kv__link(sh, old);
                sh->total_items--;
                old = NULL;
            }
            res = KV_RES_NO_MEMORY;
        } else {
            nit->cas = kv__next_cas(s);
            if (key_binary && !concat) {
                nit->mflags |= KV__M_BINARY;
            }
            if (stale) {
                /* memcached keeps the TTL and the token of the item it replaces */
                nit->exptime = old->exptime;
                nit->mflags |= KV__M_STALE | (old->mflags & KV__M_TOKEN);
            }
            if (cas_out != NULL) {
                *cas_out = nit->cas;
            }
            kv__link(sh, nit);
            nit = NULL;
        }
        if (old != NULL) {
            kv__drop(s, old, &freed);
        }
    }
    pthread_mutex_unlock(&sh->lock);
    free(nit);
    kv__free_list(freed);
    return res;
}

kv_store_result kv_store_store(kv_store *s, kv_store_mode mode, const char *key, uint32_t nkey,
                               uint32_t flags, int64_t exptime, const char *data, uint32_t ndata,
                               uint64_t cas, uint32_t now)
{
    return kv__store(s, mode, key, nkey, flags, exptime, data, ndata, cas, now, 0, 0, 0, NULL);
}

kv_store_result kv_store_mstore(kv_store *s, kv_store_mode mode, const char *key, uint32_t nkey,
                                uint32_t flags, int64_t exptime, const char *data, uint32_t ndata,
                                uint64_t cas, int invalidate, int key_binary, uint32_t now,
                                uint64_t *cas_out)
{
    if (cas_out != NULL) {
        *cas_out = 0;
    }
    return kv__store(s, mode, key, nkey, flags, exptime, data, ndata, cas, now, 1, invalidate,
                     key_binary, cas_out);
}

static void kv__meta_view(const kv_item *it, kv_meta_view *v, int created)
{
    v->item = (kv_item_view){kv__key(it), it->nkey, it->flags, it->data + it->nkey,
                             it->nbytes,  it->cas,  it};
    v->exptime = it->exptime;
    v->atime = it->atime;
    v->fetched = (it->mflags & KV__M_FETCHED) != 0;
    v->stale = (it->mflags & KV__M_STALE) != 0;
    v->token_sent = (it->mflags & KV__M_TOKEN) != 0;
    v->key_binary = (it->mflags & KV__M_BINARY) != 0;
    v->created = (uint8_t)created;
}

static void kv__meta_apply(kv_item *it, const kv_meta_update *u)
{
    if (u->set_exptime) {
        it->exptime = u->exptime;
    }
    if (u->set_token_sent) {
        it->mflags |= KV__M_TOKEN;
    }
}

int kv_store_mget(kv_store *s, const char *key, uint32_t nkey, uint32_t now, int bump, int vivify,
                  kv_meta_visit_fn fn, void *ctx)
{
    uint64_t h = kv__hash_key(key, nkey);
    kv_shard *sh = kv__shard(s, h);
    kv_item *freed = NULL;
    int created = 0;
    pthread_mutex_lock(&sh->lock);
    kv_item *it = kv__lookup(s, sh, h, key, nkey, now, &freed);
    if (it == NULL && vivify) {
        /* memcached's "N": an empty item, its TTL set by the caller's update */
        it = kv__alloc(h, key, nkey, 0, 0, 0, now);
        if (it != NULL && kv__make_room(s, sh, it->size, now, &freed)) {
            it->cas = kv__next_cas(s);
            kv__link(sh, it);
            created = 1;
        } else {
            free(it);
            it = NULL;
        }
    }
    if (it != NULL) {
        kv_meta_view v;
        kv__meta_view(it, &v, created);
        kv_meta_update u = {0, 0, 0};
        fn(ctx, &v, &u);
        kv__meta_apply(it, &u);
        if (bump) {
            kv__lru_bump(sh, it, now);
        }
    }
    pthread_mutex_unlock(&sh->lock);
    kv__free_list(freed);
    return it != NULL;
}

kv_store_result kv_store_mdelete(kv_store *s, const char *key, uint32_t nkey, uint64_t cas,
                                 int has_cas, int invalidate, int set_exptime, int64_t exptime,
                                 uint32_t now)
{
    uint64_t h = kv__hash_key(key, nkey);
    kv_shard *sh = kv__shard(s, h);
    kv_item *freed = NULL;
    kv_store_result res = KV_RES_DELETED;
    pthread_mutex_lock(&sh->lock);
    kv_item *it = kv__lookup(s, sh, h, key, nkey, now, &freed);
    if (it == NULL) {
        res = KV_RES_NOT_FOUND;
    } else if (has_cas && it->cas != cas) {
        res = KV_RES_EXISTS;
    } else if (invalidate) {
        /* kept, marked stale with a new CAS; the next client may win the recache */
        if (set_exptime) {
            it->exptime = kv_store_realtime(s, exptime, now);
        }
        it->mflags = (uint8_t)((it->mflags | KV__M_STALE) & ~KV__M_TOKEN);
        it->cas = kv__next_cas(s);
    } else {
        kv__unlink(s, sh, it);
        kv__drop(s, it, &freed);
    }
    pthread_mutex_unlock(&sh->lock);
    kv__free_list(freed);
    return res;
}

kv_store_result kv_store_delete(kv_store *s, const char *key, uint32_t nkey, uint32_t now)
{
    uint64_t h = kv__hash_key(key, nkey);
    kv_shard *sh = kv__shard(s, h);
    kv_item *freed = NULL;
    pthread_mutex_lock(&sh->lock);
    kv_item *it = kv__lookup(s, sh, h, key, nkey, now, &freed);
    if (it != NULL) {
        kv__unlink(s, sh, it);
        kv__drop(s, it, &freed);
    }
    pthread_mutex_unlock(&sh->lock);
    kv__free_list(freed);
    return it != NULL ? KV_RES_DELETED : KV_RES_NOT_FOUND;
}

kv_store_result kv_store_touch(kv_store *s, const char *key, uint32_t nkey, int64_t exptime,
                               uint32_t now)
{
    uint64_t h = kv__hash_key(key, nkey);
    kv_shard *sh = kv__shard(s, h);
    kv_item *freed = NULL;
    pthread_mutex_lock(&sh->lock);
    kv_item *it = kv__lookup(s, sh, h, key, nkey, now, &freed);
    if (it != NULL) {
        it->exptime = kv_store_realtime(s, exptime, now);
        kv__lru_bump(sh, it, now);
    }
    pthread_mutex_unlock(&sh->lock);
    kv__free_list(freed);
    return it != NULL ? KV_RES_TOUCHED : KV_RES_NOT_FOUND;
}

/* The stored value as memcached's safe_strtoull reads it: the value is followed by
 * "\r\n", so the digits may end at the value's end or at a whitespace byte. */
static int kv__value_u64(const char *v, uint32_t n, uint64_t *out)
{
    uint32_t i = 0;
    int neg = 0;
    while (i < n && (v[i] == ' ' || (v[i] >= '\t' && v[i] <= '\r'))) {
        i++;
    }
    if (i < n && (v[i] == '+' || v[i] == '-')) {
        neg = v[i] == '-';
        i++;
    }
    uint32_t digits = i;
    uint64_t x = 0;
    while (i < n && v[i] >= '0' && v[i] <= '9') {
        unsigned d = (unsigned)(v[i] - '0');
        if (x > (UINT64_MAX - d) / 10) {
            return 0;
        }
        x = x * 10 + d;
        i++;
    }
    if (i == digits) {
        return 0;
    }
    if (i < n && !(v[i] == ' ' || (v[i] >= '\t' && v[i] <= '\r'))) {
        return 0;
    }
    if (neg) {
        x = (uint64_t)0 - x;
    }
    if ((int64_t)x < 0 && memchr(v, '-', n) != NULL) {
        return 0;
    }
    *out = x;
    return 1;
}

/* The digits of v, right-aligned in buf[24]; returns their count. */
static int kv__u64_digits(uint64_t v, char *buf)
{
    int n = 0;
    do {
        buf[23 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return n;
}

/* kv_store_arith and kv_store_marith (meta: cas, vivify, fn; see kv_store.h). */
static kv_store_result kv__arith(kv_store *s, const char *key, uint32_t nkey, int incr,
                                 uint64_t delta, uint32_t now, uint64_t *value, uint64_t cas,
                                 int vivify, uint64_t initial, kv_meta_visit_fn fn, void *ctx)
{
    uint64_t h = kv__hash_key(key, nkey);
    kv_shard *sh = kv__shard(s, h);
    kv_item *freed = NULL;
    kv_store_result res = KV_RES_OK;
    pthread_mutex_lock(&sh->lock);
    kv_item *it = kv__lookup(s, sh, h, key, nkey, now, &freed);
    kv_item *done = NULL; /* the item holding the result, for fn */
    int created = 0;
    uint64_t v = 0;
    if (it == NULL && vivify) {
        /* memcached's ma N: the initial value (J) stored as a new item, no TTL yet */
        char buf[24];
        int n = kv__u64_digits(initial, buf);
        kv_item *nit = kv__alloc(h, key, nkey, 0, 0, (uint32_t)n, now);
        if (nit == NULL || !kv__make_room(s, sh, nit->size, now, &freed)) {
            free(nit);
            res = KV_RES_NO_MEMORY;
        } else {
            memcpy(kv__value(nit), buf + 24 - n, (size_t)n);
            nit->cas = kv__next_cas(s);
            kv__link(sh, nit);
            v = initial;
            done = nit;
            created = 1;
        }
    } else if (it == NULL) {
        res = KV_RES_NOT_FOUND;
    } else if (cas != 0 && it->cas != cas) {
        res = KV_RES_EXISTS;
    } else if (it->nbytes == 0 || !kv__value_u64(kv__value(it), it->nbytes, &v)) {
        res = KV_RES_NON_NUMERIC;
    } else {
        if (incr) {
            v += delta;
        } else {
            v = delta > v ? 0 : v - delta;
        }
        char buf[24];
        int n = 0;
        uint64_t t = v;
        do {
            buf[sizeof(buf) - 1 - n++] = (char)('0' + t % 10);
            t /= 10;
        } while (t != 0);
        const char *digits = buf + sizeof(buf) - n;
        /* a reply may be sending this item (refs > 1): then, as memcached, replace it */
        int shared = atomic_load_explicit(&it->refs, memory_order_acquire) > 1;
        if ((uint32_t)n <= it->nbytes && !shared) {
            /* in place, keeping the length: memcached pads with spaces */
            memcpy(kv__value(it), digits, (size_t)n);
            memset(kv__value(it) + n, ' ', it->nbytes - (uint32_t)n);
            it->cas = kv__next_cas(s);
            kv__lru_update(sh, it, now);
            done = it;
        } else {
            uint32_t len = (uint32_t)n > it->nbytes ? (uint32_t)n : it->nbytes;
            kv_item *nit = kv__alloc(h, key, nkey, it->flags, it->exptime, len, now);
            if (nit == NULL) {
                res = KV_RES_NO_MEMORY;
            } else {
                memcpy(kv__value(nit), digits, (size_t)n);
                memset(kv__value(nit) + n, ' ', len - (uint32_t)n);
                kv__unlink(s, sh, it);
                if (!kv__make_room(s, sh, nit->size, now, &freed)) {
                    kv__link(sh, it);
                    sh->total_items--;
                    free(nit);
                    res = KV_RES_NO_MEMORY;
                } else {
                    kv__drop(s, it, &freed);
                    nit->cas = kv__next_cas(s);
                    kv__link(sh, nit);
                    done = nit;
                }
            }
        }
    }
    if (done != NULL && fn != NULL) {
        kv_meta_view mv;
        kv__meta_view(done, &mv, created);
        kv_meta_update u = {0, 0, 0};
        *value = v;
        fn(ctx, &mv, &u);
        kv__meta_apply(done, &u);
    }
    pthread_mutex_unlock(&sh->lock);
    kv__free_list(freed);
    if (res == KV_RES_OK) {
        *value = v;
    }
    return res;
}

kv_store_result kv_store_arith(kv_store *s, const char *key, uint32_t nkey, int incr,
                               uint64_t delta, uint32_t now, uint64_t *value)
{
    return kv__arith(s, key, nkey, incr, delta, now, value, 0, 0, 0, NULL, NULL);
}

kv_store_result kv_store_marith(kv_store *s, const char *key, uint32_t nkey, int incr,
                                uint64_t delta, uint64_t cas, int vivify, uint64_t initial,
                                uint32_t now, uint64_t *value, kv_meta_visit_fn fn, void *ctx)
{
    return kv__arith(s, key, nkey, incr, delta, now, value, cas, vivify, initial, fn, ctx);
}

static void kv__clear_shard(kv_store *s, kv_shard *sh, kv_item **freed)
{
    kv_item *it = sh->head;
    while (it != NULL) {
        kv_item *next = it->next;
        it->prev = it->next = it->hnext = NULL;
        kv__drop(s, it, freed);
        it = next;
    }
    sh->head = sh->tail = NULL;
    sh->bytes = 0;
    memset(sh->tab, 0, (sh->tmask + 1) * sizeof(kv_item *));
    free(sh->old);
    sh->old = NULL;
    sh->migrate_pos = 0;
    sh->count = 0;
    sh->sweep_pos = 0;
}

void kv_store_flush(kv_store *s, uint64_t delay, uint32_t now)
{
    /* memcached: oldest_live = realtime(delay) - 1, and a deadline already reached
     * invalidates everything now */
    uint32_t deadline = now;
    if (delay > 0) {
        deadline = kv_store_realtime(s, (int64_t)delay, now);
    }
    uint32_t oldest = deadline > 0 ? deadline - 1 : 0;
    if (oldest > now) {
        atomic_store_explicit(&s->flush_at, oldest, memory_order_relaxed);
        return;
    }
    atomic_store_explicit(&s->flush_at, 0, memory_order_relaxed);
    for (int i = 0; i < KV_STORE_SHARDS; i++) {
        kv_shard *sh = &s->shards[i];
        kv_item *freed = NULL;
        pthread_mutex_lock(&sh->lock);
        kv__clear_shard(s, sh, &freed);
        pthread_mutex_unlock(&sh->lock);
        kv__free_list(freed);
    }
}

void kv_store_maintain(kv_store *s, uint32_t now)
{
    for (int i = 0; i < KV_STORE_SHARDS; i++) {
        kv_shard *sh = &s->shards[i];
        kv_item *freed = NULL;
        pthread_mutex_lock(&sh->lock);
        kv__migrate(sh, KV_MIGRATE_PER_TICK);
        size_t nb = sh->tmask + 1;
        size_t scan = nb / 8 < 256 ? 256 : nb / 8;
        if (scan > KV_SWEEP_MAX) {
            scan = KV_SWEEP_MAX;
        }
        if (scan > nb) {
            scan = nb;
        }
        for (size_t k = 0; k < scan; k++) {
            size_t b = (sh->sweep_pos + k) & sh->tmask;
            kv_item **pp = &sh->tab[b];
            while (*pp != NULL) {
                kv_item *it = *pp;
                if (!kv__live(s, it, now)) {
                    kv__unlink_at(s, sh, pp);
                    sh->reclaimed++;
                    sh->expired++;
                    kv__drop(s, it, &freed);
                } else {
                    pp = &it->hnext;
                }
            }
        }
        sh->sweep_pos = (sh->sweep_pos + scan) & sh->tmask;
        pthread_mutex_unlock(&sh->lock);
        kv__free_list(freed);
    }
}

void kv_store_get_stats(kv_store *s, kv_store_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < KV_STORE_SHARDS; i++) {
        kv_shard *sh = &s->shards[i];
        pthread_mutex_lock(&sh->lock);
        out->curr_items += sh->count;
        out->total_items += sh->total_items;
        out->evictions += sh->evictions;
        out->expired += sh->expired;
        out->reclaimed += sh->reclaimed;
        out->bytes += sh->bytes;
        out->hash_buckets += sh->tmask + 1;
        out->hash_bytes += (sh->tmask + 1) * sizeof(kv_item *);
        if (sh->old != NULL) {
            out->hash_growing++;
            out->hash_bytes += (sh->omask + 1) * sizeof(kv_item *);
        }
        pthread_mutex_unlock(&sh->lock);
    }
    out->accounted = atomic_load_explicit(&s->used, memory_order_relaxed);
    out->limit_maxbytes = s->limit;
}

kv_item *kv_store_item_retain(const kv_item_view *v)
{
    kv_item *it = (kv_item *)v->item;
    /* called under the shard lock while the item is linked: refs >= 1 cannot race to 0 */
    atomic_fetch_add_explicit(&it->refs, 1, memory_order_relaxed);
    return it;
}

void kv_store_item_release(kv_store *s, kv_item *it)
{
    if (atomic_fetch_sub_explicit(&it->refs, 1, memory_order_acq_rel) == 1) {
        atomic_fetch_sub_explicit(&s->used, it->size, memory_order_relaxed);
        free(it);
    }
}

int kv_store_reserve(kv_store *s, size_t n, uint32_t now)
{
    size_t r = atomic_fetch_add_explicit(&s->reserved, n, memory_order_relaxed);
    if (r + n > s->reserve_max) {
        atomic_fetch_sub_explicit(&s->reserved, n, memory_order_relaxed);
        return 0;
    }
    if (kv__reserve(s, n)) {
        return 1;
    }
    unsigned start = atomic_fetch_add_explicit(&s->evict_cursor, 1, memory_order_relaxed);
    for (unsigned k = 0; k < KV_STORE_SHARDS; k++) {
        kv_shard *sh = &s->shards[(start + k) % KV_STORE_SHARDS];
        kv_item *freed = NULL;
        int ok = 0;
        pthread_mutex_lock(&sh->lock);
        while (!(ok = kv__reserve(s, n)) && sh->tail != NULL) {
            kv__evict_tail(s, sh, now, &freed);
        }
        pthread_mutex_unlock(&sh->lock);
        kv__free_list(freed);
        if (ok) {
            return 1;
        }
    }
    atomic_fetch_sub_explicit(&s->reserved, n, memory_order_relaxed);
    return 0;
}

void kv_store_unreserve(kv_store *s, size_t n)
{
    atomic_fetch_sub_explicit(&s->reserved, n, memory_order_relaxed);
    atomic_fetch_sub_explicit(&s->used, n, memory_order_relaxed);
}

/* ---- copying items between two stores ---- */

void kv_store_set_cas_source(kv_store *s, uint64_t (*next)(void *ctx), void *ctx)
{
    s->cas_next = next;
    s->cas_ctx = ctx;
}

uint32_t kv_store_shard_of(const char *key, uint32_t nkey)
{
    return (uint32_t)(kv__hash_key(key, nkey) >> KV_SHARD_SHIFT);
}

uint32_t kv_store_item_exptime(const kv_item_view *v)
{
    return ((const kv_item *)v->item)->exptime;
}

void kv_store_visit_shard(kv_store *s, uint32_t shard, uint32_t now, kv_item_visit_fn fn, void *ctx)
{
    assert(shard < KV_STORE_SHARDS);
    kv_shard *sh = &s->shards[shard];
    pthread_mutex_lock(&sh->lock);
    for (kv_item *it = sh->head; it != NULL; it = it->next) {
        if (kv__live(s, it, now)) {
            kv_item_view v = {kv__key(it), it->nkey, it->flags, kv__value(it),
                              it->nbytes,  it->cas,  it};
            fn(ctx, &v);
        }
    }
    pthread_mutex_unlock(&sh->lock);
}

int kv_store_import(kv_store *s, const char *key, uint32_t nkey, uint32_t flags, uint32_t exptime,
                    const char *data, uint32_t ndata, uint64_t cas, uint32_t now)
{
    uint64_t h = kv__hash_key(key, nkey);
    kv_shard *sh = kv__shard(s, h);
    kv_item *nit = kv__alloc(h, key, nkey, flags, exptime, ndata, now);
    if (nit == NULL) {
        return -1;
    }
    memcpy(kv__value(nit), data, ndata);
    nit->cas = cas;
    kv_item *freed = NULL;
    int rc = 1;
    pthread_mutex_lock(&sh->lock);
    kv_item *old = kv__lookup(s, sh, h, key, nkey, now, &freed);
    if (old != NULL && old->cas >= cas) {
        rc = 0;
    } else {
        if (old != NULL) {
            kv__unlink(s, sh, old);
        }
        if (!kv__make_room(s, sh, nit->size, now, &freed)) {
            if (old != NULL) {
                kv__link(sh, old);
                sh->total_items--;
                old = NULL;
            }
            rc = -1;
        } else {
            kv__link(sh, nit);
            nit = NULL;
        }
        if (old != NULL) {
            kv__drop(s, old, &freed);
        }
    }
    pthread_mutex_unlock(&sh->lock);
    free(nit);
    kv__free_list(freed);
    return rc;
}
