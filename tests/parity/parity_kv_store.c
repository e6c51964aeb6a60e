/*
 * parity_kv_store.c: kvd's C storage engine (server/kv_store.c) and its Rust twin
 * (rust/kv-store, kv_rs_store_* in kv_rs.h) apply the same seeded random operation
 * sequences (every command, expiry on an injected clock, flush with delay, CAS races,
 * incr/decr, retained items, reserve/unreserve, maintenance) under four configurations:
 * plenty of memory with tiny tables (growth and incremental rehash), eviction pressure,
 * extreme pressure (a few items fit), and large values up to -I. Every reply, every hit
 * and every stats field is compared after every operation, and the final state of both
 * (tests/parity/kv_store_diff.c). Prints the number of operations compared.
 *
 *   PARITY_KV_STORE_SEED=n (default 14)  PARITY_KV_STORE_OPS=n per configuration
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kv_store_diff.h"

typedef struct parity_case {
    const char *name;
    kv_store_diff_config cfg;
    uint32_t sequences;
} parity_case;

static const parity_case CASES[] = {
    {"roomy, growing tables", {64u << 20, 1u << 20, 4, 3000, 2048}, 4},
    {"eviction pressure", {64u << 10, 4096, 8, 600, 4000}, 8},
    {"extreme pressure", {8u << 10, 2048, 1, 64, 2000}, 16},
    {"large values", {4u << 20, 1u << 20, 16, 48, 1u << 20}, 4},
};

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? strtoull(v, NULL, 10) : dflt;
}

int main(void)
{
    uint64_t seed = env_u64("PARITY_KV_STORE_SEED", 14);
    uint64_t per_case = env_u64("PARITY_KV_STORE_OPS", 200000);
    uint64_t total_ops = 0, total_diffs = 0, sequences = 0;
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        const parity_case *pc = &CASES[c];
        uint64_t case_ops = 0, case_diffs = 0;
        for (uint32_t q = 0; q < pc->sequences; q++) {
            uint64_t s = (seed * 0x9e3779b97f4a7c15ull) ^ ((c + 1) << 32) ^ (q + 1);
            size_t len = (size_t)(per_case / pc->sequences) * 16;
            uint8_t *buf = malloc(len);
            if (buf == NULL) {
                return 2;
            }
            for (size_t i = 0; i < len; i++) {
                buf[i] = (uint8_t)(xorshift(&s) >> 24);
            }
            kv_store_diff *d = kv_store_diff_open(&pc->cfg);
            if (d == NULL) {
                fprintf(stderr, "parity_kv_store: cannot open the stores\n");
                free(buf);
                return 2;
            }
            size_t pos = 0;
            while (kv_store_diff_step(d, buf, len, &pos)) {
            }
            kv_store_diff_finish(d);
            sequences++;
            case_ops += kv_store_diff_ops(d);
            case_diffs += kv_store_diff_differences(d);
            if (q == 0) {
                char prefix[96];
                snprintf(prefix, sizeof prefix, "parity_kv_store: %s, first sequence:", pc->name);
                kv_store_diff_print_mix(d, prefix);
            }
            kv_store_diff_close(d);
            free(buf);
        }
        fprintf(stderr, "parity_kv_store: %s: %" PRIu64 " operations, %" PRIu64 " differences\n",
                pc->name, case_ops, case_diffs);
        total_ops += case_ops;
        total_diffs += case_diffs;
    }
    /* the ledger's summary line (graft ledger revalidate reads it) */
    fprintf(stderr,
            "parity kv.store: %" PRIu64 " inputs, %" PRIu64 " operations per side, %" PRIu64
            " differences\n",
            sequences, total_ops, total_diffs);
    printf("parity_kv_store: %" PRIu64 " operations compared on both engines (seed %" PRIu64
           "), %" PRIu64 " differences\n",
           total_ops, seed, total_diffs);
    return total_diffs == 0 ? 0 : 1;
}
