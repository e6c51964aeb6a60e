/*
 * graft/stateful.h: stateful seams, for a component that holds state (a storage engine)
 * and moves to a new implementation while it holds live data, and can move back.
 *
 * A pure seam compares two outputs; a stateful seam keeps two *stores* (legacy and
 * candidate) in step. The host declares each operation a read or a write and gives the
 * callbacks that apply an operation to one store, compare two replies, list a store's
 * items shard by shard, and copy one item from a store to the other. libgraft does the
 * rest: which store is written and which answers, the backfill, the verify pass, the
 * stage gates, and per-key ordering (see docs/MIGRATION.md, "Stateful seams").
 *
 * The stages are the seam's modes (graft.h), set as for any seam (graft_seam_set_mode,
 * GRAFT_SEAMS, INI, the admin endpoint, graftctl):
 *
 *   legacy          writes and reads: legacy only.
 *   dual-write      writes: both (legacy answers); reads: legacy. Entering it empties the
 *                   candidate and starts the forward backfill (legacy -> candidate).
 *   shadow          writes: both; reads: both, legacy answers, replies compared (the
 *                   seam's compare configuration: sampling, log, capture).
 *   canary:N        writes: both (legacy answers); that share of reads by the candidate,
 *                   falling back to legacy on an error or panic.
 *   candidate       writes: both (legacy answers); reads: the candidate, fallback legacy.
 *   candidate-only  writes and reads: the candidate only; legacy is no longer written.
 *
 * Gates (a refused change returns GRAFT_ESTATE and leaves the stage as it was; the reason
 * is logged and kept in the JSON snapshot's "stateful.last_refusal"):
 *   - from legacy only to dual-write, except when the whole backfill fits in one
 *     synchronous step (a small or empty store: then any stage, through the gates below);
 *   - shadow, canary and candidate need the forward backfill complete;
 *   - candidate and candidate-only need a verify pass without divergence (run by the gate);
 *   - candidate-only only from candidate;
 *   - leaving candidate-only for any other stage first needs the reverse backfill: the
 *     change is refused, the legacy store is emptied, writes go to both again (candidate
 *     answers) and the candidate's items are copied back; when that is done (and a
 *     verify passes) the seam moves to the asked stage on its own.
 *
 * Per-key order: every write taken while both stores are written holds the key's stripe
 * lock across both applications, as does a backfill copy and a compared read, so the two
 * stores see the operations on one key in the same order and a copy never overwrites a
 * newer write. Stage changes wait for the operations that started under the previous stage
 * (a per-thread sequence, no lock on the call path).
 *
 * Thread-safety: every function may be called from any thread concurrently unless said
 * otherwise. graft_stateful_call allocates nothing; in legacy it takes no lock.
 */
#ifndef GRAFT_STATEFUL_H
#define GRAFT_STATEFUL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graft/graft.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct graft_stateful graft_stateful; /* owned by its runtime's host: see free */

/* The one list of operation kinds: XX(SUFFIX, number, "name"). */
#define GRAFT_SF_OP_KIND_MAP(XX)                                                                   \
    XX(READ, 0, "read")                                                                            \
    XX(WRITE, 1, "write")

typedef enum graft_sf_op_kind {
#define GRAFT__SF_KIND_ENUM(suffix, number, name) GRAFT_SF_##suffix = number,
    GRAFT_SF_OP_KIND_MAP(GRAFT__SF_KIND_ENUM)
#undef GRAFT__SF_KIND_ENUM
} graft_sf_op_kind;

/* One operation of the component: "get" is a read, "set" a write. A read must not change
 * what a later operation answers (an LRU bump is fine; a touch is a write). */
typedef struct graft_sf_op {
    const char *name;
    graft_sf_op_kind kind;
} graft_sf_op;

/* What the host's apply callback receives. key/nkey: the key the operation is about, or
 * NULL/0 for an operation on the whole store (flush_all: it holds every stripe). */
typedef struct graft_sf_call {
    uint32_t op; /* index into graft_stateful_def.ops */
    const void *key;
    size_t nkey;
    const void *input; /* the host's own arguments */
} graft_sf_call;

/* The one list of copy outcomes: XX(SUFFIX, number, "name"). */
#define GRAFT_SF_COPY_MAP(XX)                                                                      \
    XX(COPIED, 0, "copied") /* the item was written into the destination */                        \
    XX(KEPT, 1, "kept")     /* the destination already holds it, or a newer version */             \
    XX(ABSENT, 2, "absent") /* the source no longer holds the key (deleted, expired) */            \
    XX(FAILED, 3, "failed") /* the destination could not take it (memory) */

typedef enum graft_sf_copy {
#define GRAFT__SF_COPY_ENUM(suffix, number, name) GRAFT_SF_COPY_##suffix = number,
    GRAFT_SF_COPY_MAP(GRAFT__SF_COPY_ENUM)
#undef GRAFT__SF_COPY_ENUM
} graft_sf_copy;
#define GRAFT_SF_COPY_COUNT 4

/* Called by scan for each live item: its key and a digest of everything a reply may show
 * of it (value, flags, version/CAS, expiry), equal in both stores for equal items. */
typedef void (*graft_sf_item_fn)(void *ectx, const void *key, size_t nkey, uint64_t digest);

/* What a store holds, for the memory bound and the snapshot. */
typedef struct graft_sf_usage {
    uint64_t items;
    uint64_t bytes;     /* memory the store's items take */
    uint64_t evictions; /* items it dropped to stay within its memory limit, ever */
} graft_sf_usage;

typedef struct graft_stateful_def {
    const char *name; /* the seam's name, e.g. "kv.store"; copied */
    void *ctx;        /* passed to every callback; owned by the host */
    const graft_sf_op *ops;
    size_t nops;        /* 1..64; ops copied */
    size_t output_size; /* sizeof the reply object */
    /* The host's partition of the key space (a store's shards): scan and verify work one
     * shard at a time. shard_of must be pure and below nshards. */
    uint32_t nshards;
    uint32_t (*shard_of)(void *ctx, const void *key, size_t nkey);
    /* Stripe locks per shard (0: 8): the lock a key takes is one of its shard's. */
    uint32_t stripes_per_shard;

    /* Applies one operation to one store, writing the reply into output. GRAFT_OK when
     * the store answered (a "not found" is an answer); anything else is a failure of the
     * store (GRAFT_EPANIC, GRAFT_EINJECTED, ...). */
    int (*apply)(void *ctx, graft_impl store, const graft_sf_call *call, void *output);
    /* Optional: 0 when two replies are equal (NULL: memcmp over output_size). */
    int (*compare)(void *ctx, const graft_sf_call *call, const void *legacy_out,
                   const void *candidate_out);
    /* Optional: releases what a reply owns; called on every reply not returned. */
    void (*release)(void *ctx, void *output);
    /* Optional: the reply for logs, snprintf-style. */
    size_t (*describe_output)(void *ctx, const graft_sf_call *call, const void *output, char *buf,
                              size_t cap);
    /* Optional: called after a read while both stores are written, under the key's
     * stripe lock, with the answering store's reply: a read that changes state a later
     * operation shows (an LRU bump, a "fetched" flag) applies that to the store that did
     * not run it, so the two stay alike whichever store answered. */
    void (*after_read)(void *ctx, const graft_sf_call *call, void *output);
    /* Optional: serialises a read's input for mismatch capture (snprintf-style). */
    size_t (*serialize_input)(void *ctx, const graft_sf_call *call, void *buf, size_t cap);

    /* Calls fn for every live item of one shard of one store, as seen at `cut` (from
     * cut_time, the same for both stores of one verify). Runs under the host's own
     * locking; fn copies what it needs. */
    int (*scan)(void *ctx, graft_impl store, uint32_t shard, uint64_t cut, graft_sf_item_fn fn,
                void *ectx);
    /* Optional: the time both scans of one verify use (expiry). NULL: 0. */
    uint64_t (*cut_time)(void *ctx);
    /* Copies the key's current item from one store into the other, only if the other does
     * not hold it or holds an older version of it; keeps the item's version (CAS) and
     * expiry. Returns a graft_sf_copy. Called with the key's stripe lock held. */
    int (*copy)(void *ctx, graft_impl from, graft_impl to, const void *key, size_t nkey);
    /* Drops the key from one store (reconciling an eviction, repairing a divergence). */
    int (*remove)(void *ctx, graft_impl store, const void *key, size_t nkey);
    /* Empties one store (before a backfill into it). */
    int (*clear)(void *ctx, graft_impl store);
    /* What one store holds. */
    int (*usage)(void *ctx, graft_impl store, graft_sf_usage *out);

    /* Bound on the two copies: entering dual-write is refused when twice the legacy
     * store's bytes exceed it, and the snapshot shows both against it. 0: no bound. */
    uint64_t dual_memory_max;
    /* Items one synchronous step may copy inside a gate (an empty or small store moves
     * from legacy to any stage at once). 0: 10000. */
    uint32_t sync_backfill_items;
} graft_stateful_def;

/*
 * Registers a stateful seam on rt: a graft_seam of def->name (registered as any seam,
 * so configuration, the admin endpoint, metrics and graftctl see it) whose reads go
 * through graft_call and whose stage changes pass the gates above. Configuration
 * already given for the name applies at once, through the gates. *out lives until
 * graft_stateful_free, which must come before graft_runtime_free.
 */
int graft_stateful_register(graft_runtime *rt, const graft_stateful_def *def, graft_stateful **out);
/* Stops the driver thread and frees the layer; the seam stays registered (and in the
 * stage it was in) until graft_runtime_free, but may no longer be called. NULL: no-op. */
void graft_stateful_free(graft_stateful *sf);
graft_seam *graft_stateful_seam(const graft_stateful *sf);
/* The layer of a stateful seam, NULL for a pure seam (valid until graft_stateful_free:
 * the admin endpoint's POST /api/seams/{name}/verify uses it). */
graft_stateful *graft_stateful_of(graft_seam *seam);

/*
 * Runs one operation: a read is routed by the seam's stage (and canary key `route_key`,
 * see graft_call), a write goes to the stores the stage writes, in the same order for one
 * key. `output` receives the answering store's reply; `scratch` (same size) receives the
 * other store's: required for writes (GRAFT_ENULL without it while both stores are
 * written), optional for reads (as graft_call). Returns the answering store's status.
 * The seam's error fault (graft_seam_set_fault) fails the candidate's writes at its rate
 * too: while legacy answers they are counted and repaired, in candidate-only the write
 * fails (GRAFT_EINJECTED). Writes: in
 * legacy, dual-write, shadow, canary and candidate the legacy store answers, the candidate is
 * applied after it; a candidate failure or a differing reply is counted, logged and repaired (the
 * key is copied again from legacy). In candidate-only the candidate answers alone.
 */
int graft_stateful_call(graft_stateful *sf, uint32_t op, const void *key, size_t nkey,
                        uint64_t route_key, const void *input, void *output, void *scratch);

/* The store reads are answered by in the current stage (for operations outside the seam
 * such as a stats command): GRAFT_IMPL_CANDIDATE in candidate and candidate-only. */
graft_impl graft_stateful_reader(const graft_stateful *sf);

/* One bounded step of a running backfill: at most max_items keys copied (plus one shard
 * scanned when its list is used up). Returns the number of keys handled; 0 when no
 * backfill runs. A completed reverse backfill moves the seam to its asked stage. */
size_t graft_stateful_step(graft_stateful *sf, size_t max_items);

/* Starts a thread that runs graft_stateful_step(sf, items_per_step) every interval_ns
 * while a backfill runs (and the pending move after a reverse backfill). One per layer. */
int graft_stateful_start_driver(graft_stateful *sf, size_t items_per_step, uint64_t interval_ns);

/* The one list of verify results: XX(SUFFIX, number, "name"). */
#define GRAFT_SF_VERIFY_MAP(XX)                                                                    \
    XX(NONE, 0, "none")       /* never run since the last backfill started */                      \
    XX(PASSED, 1, "passed")   /* every shard's digests equal (evictions reconciled) */             \
    XX(FAILED, 2, "failed")   /* divergent keys found */                                           \
    XX(REFUSED, 3, "refused") /* could not run: a backfill is running, or legacy stage */

typedef enum graft_sf_verify_state {
#define GRAFT__SF_VERIFY_ENUM(suffix, number, name) GRAFT_SF_VERIFY_##suffix = number,
    GRAFT_SF_VERIFY_MAP(GRAFT__SF_VERIFY_ENUM)
#undef GRAFT__SF_VERIFY_ENUM
} graft_sf_verify_state;

#define GRAFT_SF_DIVERGENT_KEPT 16 /* divergent keys listed by a verify */

typedef struct graft_sf_verify {
    graft_sf_verify_state state;
    uint64_t unix_ms; /* when it finished */
    uint32_t shards, shards_equal;
    uint64_t items_legacy, items_candidate;
    uint64_t divergent; /* keys whose items differ, or held by one store only */
    uint64_t evicted;   /* held by one store only while that store had evicted: reconciled */
    uint64_t digest_legacy, digest_candidate; /* of the whole state */
    size_t nkeys;
    char keys[GRAFT_SF_DIVERGENT_KEPT][64]; /* the first divergent keys, printable */
} graft_sf_verify;

/* Runs a verify now: shard by shard, both stores listed under the shard's stripe locks
 * (a consistent cut of that shard), items compared by digest. Keys held by one store
 * only while that store has evicted since the backfill began are classified as
 * evictions and dropped from the other store (counted apart, not divergent). *out (may
 * be NULL) receives the result, also kept for the snapshot. GRAFT_OK when it ran (then
 * out->state says passed or failed), GRAFT_ESTATE when it could not. */
int graft_stateful_verify(graft_stateful *sf, graft_sf_verify *out);

typedef struct graft_sf_stats {
    graft_mode stage;
    bool backfill_running;
    bool backfill_reverse; /* candidate -> legacy */
    bool backfill_complete;
    uint64_t backfill_done, backfill_total; /* keys handled / keys listed so far (estimate
                                               at start until every shard is listed) */
    uint64_t backfill_copied[GRAFT_SF_COPY_COUNT];
    uint32_t backfill_shard; /* shards listed */
    uint64_t backfill_pulls; /* writes that copied their key over first (backfill running) */
    bool pending;            /* a reverse backfill will move the seam to pending_stage */
    graft_mode pending_stage;
    uint32_t pending_bp;
    uint64_t writes, writes_both, write_compared, write_mismatches, write_repairs,
        candidate_write_failures;
    uint64_t write_faults; /* candidate writes failed by the seam's error fault */
    graft_sf_usage usage[2];
    uint64_t dual_memory_max;
    graft_sf_verify verify;
    char last_refusal[160];
} graft_sf_stats;

int graft_stateful_stats(graft_stateful *sf, graft_sf_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* GRAFT_STATEFUL_H */
