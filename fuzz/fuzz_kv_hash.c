/*
 * fuzz_kv_hash.c: differential libFuzzer harness, kvd's C key hash against its Rust
 * twin (compiled with sanitizer coverage); aborts on the first key they hash
 * differently, or if the Rust side fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "graft/base.h"
#include "kv_hash.h"
#include "kv_rs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t c = kv_hash(data, size), r = 0;
    int st = kv_rs_hash(data, size, &r);
    if (st != GRAFT_OK || c != r) {
        fprintf(stderr, "fuzz kv.hash: %zu-byte key: C 0x%016llx, Rust 0x%016llx (status %d)\n",
                size, (unsigned long long)c, (unsigned long long)r, st);
        abort();
    }
    return 0;
}
