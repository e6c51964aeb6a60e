/*
 * kv_store.h: kvd's storage engine: items by key, with memcached's semantics for
 * set/add/replace/append/prepend/cas, get/touch, delete, incr/decr and flush_all.
 *
 * Design: the key space is split over KV_STORE_SHARDS shards by the key hash's high bits;
 * each shard has its own mutex, its own chained hash table (grown incrementally: a
 * growing shard moves a few buckets per operation and per maintenance tick, never the
 * whole table at once) and its own LRU list. Memory is accounted globally as the bytes
 * malloc actually handed out for items (malloc_usable_size), counted until the item is
 * freed (items are reference-counted: a reply may hold one after it is unlinked), plus
 * the bytes connections claim for large input buffers (kv_store_reserve); a store that
 * would pass the limit first evicts from the tail of its shard's LRU, then from other
 * shards.
 * Expiry is lazy (an expired item found by a lookup is freed) and periodic
 * (kv_store_maintain sweeps a slice of every shard each call).
 *
 * Time is kvd's relative clock: seconds since `process_started` (a unix time), as
 * memcached's current_time. Exptimes arrive as sent by the client and are converted as
 * memcached's realtime() does: 0 never expires, up to 30 days is relative, beyond is an
 * absolute unix time, negative is already expired.
 *
 * Thread-safety: every function may be called from any thread concurrently, except
 * kv_store_create/kv_store_destroy. Each call hashes its key exactly once, through
 * kv_rs_hash_key (the Rust hash, rust/kv-hash).
 */
#ifndef KV_STORE_H
#define KV_STORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KV_STORE_SHARDS 32

typedef struct kv_store kv_store;

typedef struct kv_store_config {
    size_t mem_limit;         /* bytes of item memory (-m) */
    uint32_t item_size_max;   /* -I, reported by stats */
    int64_t process_started;  /* unix time that relative time 0 stands for */
    uint32_t initial_buckets; /* per shard, power of two; 0 = default (1024) */
} kv_store_config;

typedef struct kv_item kv_item;

/* What a lookup sees of an item, valid only during the visit callback (the shard lock
 * is held: the callback must be short and must not call back into the store, except
 * kv_store_item_retain). */
typedef struct kv_item_view {
    const char *key;
    uint32_t nkey;
    uint32_t flags;
    const char *data; /* value, followed by "\r\n" (data[nbytes], data[nbytes + 1]) */
    uint32_t nbytes;  /* value length without the CRLF */
    uint64_t cas;
    const kv_item *item; /* for kv_store_item_retain */
} kv_item_view;

typedef void (*kv_item_visit_fn)(void *ctx, const kv_item_view *item);

typedef enum kv_store_mode {
    KV_MODE_SET = 1,
    KV_MODE_ADD = 2,
    KV_MODE_REPLACE = 3,
    KV_MODE_APPEND = 4,
    KV_MODE_PREPEND = 5,
    KV_MODE_CAS = 6
} kv_store_mode;

typedef enum kv_store_result {
    KV_RES_STORED = 0,
    KV_RES_NOT_STORED = 1,
    KV_RES_EXISTS = 2,
    KV_RES_NOT_FOUND = 3,
    KV_RES_NO_MEMORY = 4, /* could not make room (or malloc failed) */
    KV_RES_DELETED = 5,
    KV_RES_TOUCHED = 6,
    KV_RES_NON_NUMERIC = 7,
    KV_RES_OK = 8 /* incr/decr done, value reported */
} kv_store_result;

typedef struct kv_store_stats {
    uint64_t curr_items;
    uint64_t total_items;
    uint64_t bytes;     /* memory of linked items */
    uint64_t accounted; /* bytes counted against the limit: items not yet freed (linked,
                           or unlinked but still referenced) + kv_store_reserve */
    uint64_t limit_maxbytes;
    uint64_t evictions;
    uint64_t expired; /* items removed because expired or flushed */
    uint64_t reclaimed;
    uint64_t hash_buckets; /* sum over shards */
    uint64_t hash_growing; /* shards currently migrating to a bigger table */
    uint64_t hash_bytes;
} kv_store_stats;

/* Returns GRAFT_OK with *out set, GRAFT_ENULL, GRAFT_EINVAL (limit 0, buckets not a power
 * of two) or GRAFT_ENOMEM (statuses of graft/base.h). */
int kv_store_create(const kv_store_config *cfg, kv_store **out);
void kv_store_destroy(kv_store *s);

/* Converts a client exptime to relative time, as memcached's realtime(). */
uint32_t kv_store_realtime(const kv_store *s, int64_t exptime, uint32_t now);

/* get/gets (touch = 0) and gat/gats (touch = 1: sets the exptime first). Calls fn once
 * on a hit. Returns 1 on a hit, 0 on a miss. Bumps the item in the LRU. */
int kv_store_get(kv_store *s, const char *key, uint32_t nkey, uint32_t now, int touch,
                 int64_t exptime, kv_item_visit_fn fn, void *ctx);

/* set/add/replace/append/prepend/cas with memcached's rules. `cas` is the client's
 * value for KV_MODE_CAS. Append/prepend keep the old item's flags and exptime. Returns
 * STORED, NOT_STORED, EXISTS, NOT_FOUND or NO_MEMORY. */
kv_store_result kv_store_store(kv_store *s, kv_store_mode mode, const char *key, uint32_t nkey,
                               uint32_t flags, int64_t exptime, const char *data, uint32_t ndata,
                               uint64_t cas, uint32_t now);

/* DELETED or NOT_FOUND. */
kv_store_result kv_store_delete(kv_store *s, const char *key, uint32_t nkey, uint32_t now);

/* TOUCHED or NOT_FOUND. */
kv_store_result kv_store_touch(kv_store *s, const char *key, uint32_t nkey, int64_t exptime,
                               uint32_t now);

/* incr/decr: OK (new value in *value), NOT_FOUND, NON_NUMERIC or NO_MEMORY. Incr wraps
 * at 2^64, decr stops at 0; a shorter result is written in place padded with spaces
 * (memcached keeps the item length), a longer one replaces the item. */
kv_store_result kv_store_arith(kv_store *s, const char *key, uint32_t nkey, int incr,
                               uint64_t delta, uint32_t now, uint64_t *value);

/* flush_all [delay]: delay 0 (or one that is already due) empties the store now;
 * otherwise items stored before the deadline become invalid when it passes. */
void kv_store_flush(kv_store *s, uint64_t delay, uint32_t now);

/* Periodic work: frees a slice of expired/flushed items in every shard and advances
 * any table migration. Call about once a second. */
void kv_store_maintain(kv_store *s, uint32_t now);

void kv_store_get_stats(kv_store *s, kv_store_stats *out);

/* A reference to the visited item (call only inside a kv_item_visit_fn): the item's key
 * and value bytes (as in the view) stay valid and unchanged until kv_store_item_release,
 * from any thread, even if the item is evicted, deleted, replaced or flushed meanwhile;
 * its memory stays counted against the limit until then. */
kv_item *kv_store_item_retain(const kv_item_view *v);
void kv_store_item_release(kv_store *s, kv_item *it);

/* Claims n bytes of the memory limit for memory held outside items (a connection's
 * large input buffer), evicting LRU items as a store would. All claims together stay
 * within half the limit (at least item_size_max + 64 KiB, at most the limit), so items
 * always keep the rest. Returns 1 when claimed, 0 when not. kv_store_unreserve gives
 * the bytes back. */
int kv_store_reserve(kv_store *s, size_t n, uint32_t now);
void kv_store_unreserve(kv_store *s, size_t n);

/* ---- copying items between two stores (kv.store's backfill and verify) ---- */

/* Visits every live item of shard `shard` (0..KV_STORE_SHARDS) under its lock (the
 * callback may only call kv_store_item_retain and kv_store_item_exptime); changes
 * nothing. The shard of a key is kv_store_shard_of. */
void kv_store_visit_shard(kv_store *s, uint32_t shard, uint32_t now, kv_item_visit_fn fn,
                          void *ctx);
uint32_t kv_store_shard_of(const char *key, uint32_t nkey);
/* The visited item's exptime (relative time; 0 = never). */
uint32_t kv_store_item_exptime(const kv_item_view *v);

/* The CAS allocator (default: the store's own counter, from 1). Two stores kept in step
 * (kv.store, server/kv_store_seam.h) share one, so an item has the same CAS in both.
 * Called under a shard lock: must not call into the store. Set before first use. */
void kv_store_set_cas_source(kv_store *s, uint64_t (*next)(void *ctx), void *ctx);

/* Puts a copy of an item (relative exptime, its CAS kept) unless the store holds a live
 * item of that key with a CAS at least as high. Returns 1 when copied, 0 when kept, -1
 * when memory could not be found. */
int kv_store_import(kv_store *s, const char *key, uint32_t nkey, uint32_t flags, uint32_t exptime,
                    const char *data, uint32_t ndata, uint64_t cas, uint32_t now);

/* ---- memcached's meta protocol (mg, ms, md, ma, me): additions to the calls above ---- */

/* What a meta command sees of an item: the view above plus memcached's item state,
 * as it was before this call. Valid only during the callback (shard lock held). */
typedef struct kv_meta_view {
    kv_item_view item;
    uint32_t exptime;   /* relative time; 0 = never */
    uint32_t atime;     /* relative time of the last access (memcached's it->time: updated
                           by reads at most once a minute) */
    uint8_t fetched;    /* read (get, gat, touch, mg without u) since it was stored */
    uint8_t stale;      /* marked by md I, or stored by ms I with an older CAS */
    uint8_t token_sent; /* a client was given the recache win (mg W) */
    uint8_t key_binary; /* stored by ms with a base64 key (b) */
    uint8_t created;    /* made by this call (mg N, ma N) */
} kv_meta_view;

/* What the callback changes, applied by the store when it returns (under the lock). */
typedef struct kv_meta_update {
    int set_exptime;
    uint32_t exptime; /* relative time (kv_store_realtime), 0 = never */
    int set_token_sent;
} kv_meta_update;

typedef void (*kv_meta_visit_fn)(void *ctx, const kv_meta_view *v, kv_meta_update *u);

/* mg and me: calls fn once on a hit, or on the empty item made on a miss when `vivify`
 * (flags 0, no TTL until fn sets one; not made when memory cannot be found). fn may call
 * kv_store_item_retain on &v->item. Then, when `bump`, the read counts (fetched, last
 * access, LRU). Returns 1 when fn was called, 0 on a miss. */
int kv_store_mget(kv_store *s, const char *key, uint32_t nkey, uint32_t now, int bump, int vivify,
                  kv_meta_visit_fn fn, void *ctx);

/* ms: kv_store_store with memcached's meta rules: `cas` (0 = none) is compared in every
 * mode that has an item (KV_MODE_CAS as kv_store_store; append/prepend: EXISTS when it
 * differs); KV_MODE_CAS with `invalidate` and a cas lower than the item's stores the
 * value marked stale, keeping the old TTL and recache token; an add that finds the item
 * refreshes its last access. `key_binary` marks the new item (not kept by append and
 * prepend, as memcached). *cas_out: the new item's CAS when STORED, else 0. */
kv_store_result kv_store_mstore(kv_store *s, kv_store_mode mode, const char *key, uint32_t nkey,
                                uint32_t flags, int64_t exptime, const char *data, uint32_t ndata,
                                uint64_t cas, int invalidate, int key_binary, uint32_t now,
                                uint64_t *cas_out);

/* md: DELETED, NOT_FOUND, or EXISTS when has_cas and the item's CAS differs. With
 * `invalidate` the item stays, marked stale with a new CAS and its recache token
 * cleared, its exptime set when `set_exptime` (a client exptime). */
kv_store_result kv_store_mdelete(kv_store *s, const char *key, uint32_t nkey, uint64_t cas,
                                 int has_cas, int invalidate, int set_exptime, int64_t exptime,
                                 uint32_t now);

/* ma: kv_store_arith plus cas (0 = none: else EXISTS when it differs) and, on a miss
 * with `vivify`, a new item holding `initial` (then OK with *value = initial). On OK fn
 * (may be NULL) is called with the resulting item, under the lock. */
kv_store_result kv_store_marith(kv_store *s, const char *key, uint32_t nkey, int incr,
                                uint64_t delta, uint64_t cas, int vivify, uint64_t initial,
                                uint32_t now, uint64_t *value, kv_meta_visit_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* KV_STORE_H */
