/*
 * bench_kv_hash.c: what retiring the kv.hash seam saved. kvd's storage engine used to
 * hash every key through a hook (kv_hash_impl) pointing at the seam facade, which
 * called graft_call even in legacy mode; it now calls the Rust hash directly
 * (kv_rs_hash_key, the exact call in kv_store.c).
 *
 * Both variants hash the same 8192 keys of 8..64 bytes, back to back in each of 15
 * rounds; the values are the medians over rounds, the ratio the median of the rounds'
 * back-to-back ratios (a shared machine's load moves absolute rates by 2x):
 *   kv_hash_direct       kv_rs_hash_key(key, len), as kv_store.c calls it now;
 *   kv_hash_seam_legacy  the retired path rebuilt with a bench-only seam: a hook
 *                        pointer to a facade that calls graft_call on a seam in legacy
 *                        mode whose both sides are the Rust hash, with the sticky key
 *                        of the request, as kv_graft_hash did.
 * Prints `bench <name>: <value> <unit> (<ratio>x <baseline>)` lines.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graft/graft.h"
#include "bench_util.h"
#include "kv_rs.h"

#define NKEYS 8192
#define ROUNDS 15
#define REPS 100

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v)
{
    double c[ROUNDS];
    memcpy(c, v, sizeof c);
    qsort(c, ROUNDS, sizeof c[0], by_value);
    return c[ROUNDS / 2];
}

typedef struct bench_hash_input {
    const void *key;
    size_t len;
} bench_hash_input;

static int bench_hash_impl(void *ctx, const void *input, void *output)
{
    (void)ctx;
    const bench_hash_input *in = input;
    uint64_t h = kv_rs_hash_key(in->key, in->len);
    memcpy(output, &h, sizeof h);
    return GRAFT_OK;
}

static graft_seam *bench_seam;

/* The shape of the retired facade (kv_graft_hash): route, then answer. */
static uint64_t bench_seam_hash(const void *key, size_t len)
{
    bench_hash_input in = {key, len};
    uint64_t h, scratch;
    if (graft_call(bench_seam, 42, 0, &in, &h, &scratch) != GRAFT_OK) {
        return kv_rs_hash_key(key, len);
    }
    return h;
}

typedef uint64_t (*hash_fn)(const void *key, size_t len);
/* volatile: the hook was a pointer read per call; keep the compiler from folding it. */
static hash_fn volatile hook = bench_seam_hash;

int main(void)
{
    static char keys[NKEYS][64];
    static size_t klen[NKEYS];
    for (int i = 0; i < NKEYS; i++) {
        size_t n = 8 + rnd(57);
        memcpy(keys[i], "user:", 5);
        for (size_t j = 5; j < n; j++) {
            keys[i][j] = (char)('a' + rnd(26));
        }
        klen[i] = n;
    }

    graft_runtime *rt;
    graft_runtime_options opts;
    graft_runtime_options_init(&opts);
    graft_seam_def def = {
        .name = "bench.hash",
        .legacy = bench_hash_impl,
        .candidate = bench_hash_impl,
        .output_size = sizeof(uint64_t),
    };
    if (graft_runtime_new(&opts, &rt) != GRAFT_OK ||
        graft_seam_register(rt, &def, &bench_seam) != GRAFT_OK) {
        fprintf(stderr, "bench: cannot set up the seam\n");
        return 1;
    }

    /* Back-to-back pairs (the order alternates per round); the medians over rounds of
     * each rate and of the pair's ratio count: on a shared machine a single best round
     * can come from a quiet moment one variant had and the other did not. */
    double rates[2][ROUNDS], ratio[ROUNDS];
    uint64_t sum[2] = {0, 0};
    for (int round = 0; round < ROUNDS; round++) {
        double dt[2];
        for (int k = 0; k < 2; k++) {
            int v = (round + k) % 2;
            uint64_t s = 0;
            double t0 = now();
            for (int r = 0; r < REPS; r++) {
                for (int i = 0; i < NKEYS; i++) {
                    s += v == 0 ? kv_rs_hash_key(keys[i], klen[i]) : hook(keys[i], klen[i]);
                }
            }
            dt[v] = now() - t0;
            sum[v] = s;
        }
        for (int v = 0; v < 2; v++) {
            rates[v][round] = (double)NKEYS * REPS / dt[v] / 1e6;
        }
        ratio[round] = dt[0] / dt[1];
    }
    if (sum[0] != sum[1]) {
        fprintf(stderr, "bench: the direct call and the seam hashed differently\n");
        return 1;
    }
    graft_seam_stats st;
    graft_seam_stats_get(bench_seam, &st);
    double direct = median(rates[0]), seam = median(rates[1]), r = median(ratio);
    double ns_direct = 1e3 / direct, ns_seam = ns_direct / r;
    printf("bench kv_hash_direct: %.1f Mkeys/s (1.00x kv_hash_direct)\n", direct);
    printf("bench kv_hash_seam_legacy: %.1f Mkeys/s (%.2fx kv_hash_direct)\n", seam, r);
    printf("bench kv_hash_seam_cost: %.1f ns/key (%.2fx kv_hash_direct's time per key)\n",
           ns_seam - ns_direct, (ns_seam - ns_direct) / ns_direct);
    fprintf(stderr, "bench_kv_hash: %llu calls through the seam\n", (unsigned long long)st.calls);
    graft_runtime_free(rt);
    return 0;
}
