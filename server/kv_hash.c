/*
 * kv_hash.c: kvd's key hash: 64-bit FNV-1a followed by the fmix64 finalizer.
 * The exact definition lives in kv_hash.h; keep the two in step.
 */
#include "kv_hash.h"

#define KV_FNV_OFFSET 0xcbf29ce484222325ULL
#define KV_FNV_PRIME 0x100000001b3ULL

uint64_t kv_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = KV_FNV_OFFSET;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= KV_FNV_PRIME;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}
