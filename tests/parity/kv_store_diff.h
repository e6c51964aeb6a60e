/*
 * kv_store_diff.h: a differential driver of kvd's two storage engines, the C one
 * (server/kv_store.c) and the Rust one (rust/kv-store, kv_rs_store_* in kv_rs.h).
 *
 * One operation decoded from bytes is applied to both stores with the same clock, and
 * everything observable is compared: the reply, the value, flags and CAS of a hit, the
 * incr/decr result, the bytes of retained items at release, and every field of the stats
 * after every operation. The final state is compared by kv_store_diff_finish (each key
 * of the universe read from both; the Rust store's full content, visited shard by shard,
 * must be exactly the keys C has). Used by tests/parity/parity_kv_store.c (seeded random
 * sequences) and fuzz/fuzz_kv_store.c (libFuzzer sequences).
 */
#ifndef KV_STORE_DIFF_H
#define KV_STORE_DIFF_H

#include <stddef.h>
#include <stdint.h>

typedef struct kv_store_diff kv_store_diff;

typedef struct kv_store_diff_config {
    size_t mem_limit;
    uint32_t item_size_max;
    uint32_t initial_buckets; /* power of two */
    uint32_t nkeys;           /* key universe: 1..KV_STORE_DIFF_MAX_KEYS */
    uint32_t max_value;       /* largest generated value */
} kv_store_diff_config;

#define KV_STORE_DIFF_MAX_KEYS 4096

/* Makes both stores. Returns NULL when out of memory, or when this malloc's
 * usable sizes follow no model the Rust engine knows (see kv_store_diff_size_model). */
kv_store_diff *kv_store_diff_open(const kv_store_diff_config *cfg);

/* Decodes one operation from buf[*pos..n), applies it to both, compares. Returns 0 when
 * the input is used up, 1 when an operation was applied. */
int kv_store_diff_step(kv_store_diff *d, const uint8_t *buf, size_t n, size_t *pos);

/* Compares the final state; releases everything retained. */
void kv_store_diff_finish(kv_store_diff *d);

/* Operations compared and differences found so far. The first differences are printed
 * on stderr with the operation. */
uint64_t kv_store_diff_ops(const kv_store_diff *d);
uint64_t kv_store_diff_differences(const kv_store_diff *d);
/* Per-kind counts of applied operations, for the coverage line. */
void kv_store_diff_print_mix(const kv_store_diff *d, const char *prefix);

void kv_store_diff_close(kv_store_diff *d);

/* KV_RS_SIZE_GLIBC or KV_RS_SIZE_EXACT: which accounting matches malloc_usable_size in
 * this process (glibc, or a sanitizer's allocator), or -1. Raises glibc's mmap threshold
 * first so that every item is a heap chunk whose usable size follows the request. */
int kv_store_diff_size_model(void);

#endif /* KV_STORE_DIFF_H */
