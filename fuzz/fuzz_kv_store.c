/*
 * fuzz_kv_store.c: differential libFuzzer target of kvd's storage engines. The input is
 * an operation sequence (tests/parity/kv_store_diff.c decodes it: every command, the
 * clock, flush with delay, CAS, incr/decr, retained items, reserve/unreserve,
 * maintenance) applied to the C engine (server/kv_store.c) and the Rust one
 * (rust/kv-store); its first byte picks the configuration (roomy with tiny tables,
 * eviction pressure, a few items). Every reply, hit and stats field is compared after
 * every operation and the final state at the end; the first difference aborts, so
 * libFuzzer keeps the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kv_store_diff.h"

static const kv_store_diff_config CONFIGS[] = {
    {16u << 20, 1u << 20, 2, 256, 2048},
    {32u << 10, 4096, 4, 128, 4000},
    {6u << 10, 2048, 1, 16, 2000},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024) {
        return 0;
    }
    kv_store_diff *d = kv_store_diff_open(&CONFIGS[data[0] % 3]);
    if (d == NULL) {
        abort(); /* no known size model under this allocator: nothing can be compared */
    }
    size_t pos = 1;
    while (kv_store_diff_step(d, data, size, &pos)) {
    }
    kv_store_diff_finish(d);
    if (kv_store_diff_differences(d) != 0) {
        fprintf(stderr, "fuzz_kv_store: the C and Rust stores differ on this sequence\n");
        abort();
    }
    kv_store_diff_close(d);
    return 0;
}
