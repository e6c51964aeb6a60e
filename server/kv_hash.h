/*
 * kv_hash.h: kvd's key hash, used by the storage engine to place keys in its table.
 *
 * Definition (the Rust twin in rust/kv-hash reproduces it bit for bit):
 *
 *   1. 64-bit FNV-1a over the key bytes:
 *        h = 0xcbf29ce484222325                      (FNV offset basis)
 *        for each byte b:  h = (h XOR b) * 0x100000001b3   (mod 2^64, FNV prime)
 *   2. the 64-bit finalizer "fmix64" (published with MurmurHash3) to spread FNV's weak
 *      high-to-low mixing over every bit, since the table uses the low bits:
 *        h ^= h >> 33;  h *= 0xff51afd7ed558ccd;
 *        h ^= h >> 33;  h *= 0xc4ceb9fe1a85ec53;
 *        h ^= h >> 33;
 *
 * All arithmetic is unsigned 64-bit with wrap-around; bytes are taken as unsigned.
 * Reference values: kv_hash("", 0) = 0xefd01f60ba992926, kv_hash("a", 1) =
 * 0x82a2a958a9bece5b, kv_hash("foo", 3) = 0xaf85ea5569581d4c; tests/server/test_kv_hash.c
 * pins more values the twin must match.
 *
 * Non-cryptographic: it does not resist chosen-key flooding. Pure and thread-safe.
 */
#ifndef KV_HASH_H
#define KV_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Hashes key[0..len). key may be NULL when len is 0. */
uint64_t kv_hash(const void *key, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* KV_HASH_H */
