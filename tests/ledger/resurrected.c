/*
 * resurrected.c: a program that defines kv_hash, the legacy symbol of the retired
 * kv.hash, as if server/kv_hash.c had come back into a build. The ledger's ratchet must
 * refuse it (tests/ledger/drift.sh).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

uint64_t kv_hash(const void *key, size_t len);

uint64_t kv_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ p[i]) * 0x100000001b3ULL;
    }
    return h;
}

int main(void)
{
    printf("%016llx\n", (unsigned long long)kv_hash("k", 1));
    return 0;
}
