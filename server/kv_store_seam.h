/*
 * kv_store_seam.h: kv.store, kvd's storage engine behind a stateful seam
 * (graft/stateful.h): the adapter between the connection engine (kv_conn.c) and two
 * stores, legacy (server/kv_store.c) and candidate.
 *
 * The connection engine calls kv_ss_* where it called kv_store_*, with the same
 * arguments (the legacy store first). Until kv_ss_install, and for a store that is not
 * the installed adapter's legacy store (unit tests build their own), every kv_ss_* call
 * is the kv_store_* call. Once installed:
 *   - get/gets (no touch) are the seam's reads: in legacy and dual-write straight from
 *     the legacy store (one load of the stage); otherwise through graft_call, so shadow
 *     compares, canary/candidate serve from the candidate with fallback to legacy;
 *   - every other item operation is a write (gat/gats and touch, the meta commands too:
 *     they change fetched/stale/token state), applied by the stage's write policy, the
 *     answering store's visit callback being the only one that reaches the connection;
 *   - flush_all is a write on the whole store (every stripe);
 *   - stats come from the store reads are answered by; kv_ss_maintain ticks both;
 *     memory claims of connection buffers (kv_store_reserve) stay on the legacy store.
 *
 * Legitimate differences between the stores, and how each is handled:
 *   CAS      both stores take CAS values from one allocator (kv_store_set_cas_source):
 *            the first store of a write allocates, the second reuses the value, so an
 *            item has the same CAS in both; the backfill copies the CAS with the item.
 *   clock    one: both stores are handed the same `now` (kv_net_now) by each call.
 *   eviction under -m each store evicts on its own (LRU order differs after a backfill):
 *            a key held by one store only while the other has evicted is classified as
 *            an eviction by verify and dropped from both (counted apart); a shadow read
 *            hit/miss on such a key is answered by legacy and counted as a mismatch.
 *   order    writes of one key hold its stripe lock across both stores.
 *   meta     an item's meta-protocol state (fetched, stale, token sent, binary key) is
 *            not copied by a backfill: only mg/ms clients that read those flags can see it.
 *
 * The candidate is a second instance of kvd's C engine until the Rust engine
 * (rust/kv-store, kv_rs_store_*) offers what a stateful seam needs of it: an import of
 * an item with its CAS (absent or older), the shared CAS allocator, the meta commands,
 * and the exptime of visited items (docs/MIGRATION.md, "Stateful seams").
 */
#ifndef KV_STORE_SEAM_H
#define KV_STORE_SEAM_H

#include <stddef.h>
#include <stdint.h>

#include "graft/graft.h"
#include "graft/stateful.h"
#include "kv_store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kv_ss kv_ss;

/* Creates the two stores with cfg (their CAS from one allocator) and the adapter. */
int kv_ss_create(const kv_store_config *cfg, kv_ss **out);
/* Frees both stores. Call after kv_ss_uninstall and after every connection is gone. */
void kv_ss_destroy(kv_ss *ss);
kv_store *kv_ss_legacy(kv_ss *ss);
kv_store *kv_ss_candidate(kv_ss *ss);

/* Registers the seam kv.store on rt and makes kv_ss_* route through it; starts the
 * backfill driver (KVD_BACKFILL_ITEMS keys every KVD_BACKFILL_MS ms; defaults 2000 and
 * 10). now: kvd's clock (kv_net_now). Call before worker threads start. */
int kv_ss_install(kv_ss *ss, graft_runtime *rt, uint32_t (*now)(void));
/* kv_ss_* go back to the legacy store directly; the layer is freed (call before
 * graft_runtime_free, after workers stopped). */
void kv_ss_uninstall(kv_ss *ss);
graft_stateful *kv_ss_stateful(kv_ss *ss);

/* The kv_store_* calls of kv_conn.c and kv_compat.c, routed (see above). */
int kv_ss_get(kv_store *s, const char *key, uint32_t nkey, uint32_t now, int touch, int64_t exptime,
              kv_item_visit_fn fn, void *ctx);
kv_store_result kv_ss_store(kv_store *s, kv_store_mode mode, const char *key, uint32_t nkey,
                            uint32_t flags, int64_t exptime, const char *data, uint32_t ndata,
                            uint64_t cas, uint32_t now);
kv_store_result kv_ss_delete(kv_store *s, const char *key, uint32_t nkey, uint32_t now);
kv_store_result kv_ss_touch(kv_store *s, const char *key, uint32_t nkey, int64_t exptime,
                            uint32_t now);
kv_store_result kv_ss_arith(kv_store *s, const char *key, uint32_t nkey, int incr, uint64_t delta,
                            uint32_t now, uint64_t *value);
void kv_ss_flush(kv_store *s, uint64_t delay, uint32_t now);
void kv_ss_maintain(kv_store *s, uint32_t now);
void kv_ss_get_stats(kv_store *s, kv_store_stats *out);
/* Inside a visit callback of a kv_ss_* call: a reference to the visited item, of
 * whichever store served it; kv_ss_item_release gives it back to that store. */
kv_item *kv_ss_item_retain(const kv_item_view *v);
void kv_ss_item_release(kv_store *s, kv_item *it);
int kv_ss_mget(kv_store *s, const char *key, uint32_t nkey, uint32_t now, int bump, int vivify,
               kv_meta_visit_fn fn, void *ctx);
kv_store_result kv_ss_mstore(kv_store *s, kv_store_mode mode, const char *key, uint32_t nkey,
                             uint32_t flags, int64_t exptime, const char *data, uint32_t ndata,
                             uint64_t cas, int invalidate, int key_binary, uint32_t now,
                             uint64_t *cas_out);
kv_store_result kv_ss_mdelete(kv_store *s, const char *key, uint32_t nkey, uint64_t cas,
                              int has_cas, int invalidate, int set_exptime, int64_t exptime,
                              uint32_t now);
kv_store_result kv_ss_marith(kv_store *s, const char *key, uint32_t nkey, int incr, uint64_t delta,
                             uint64_t cas, int vivify, uint64_t initial, uint32_t now,
                             uint64_t *value, kv_meta_visit_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* KV_STORE_SEAM_H */
