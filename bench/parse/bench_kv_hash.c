/*
 * bench_kv_hash.c: what retiring the kv.hash seam saved. kvd's storage engine used to
 * hash every key through a hook (kv_hash_impl) pointing at the seam facade, which
 * called graft_call even in legacy mode; it now calls the Rust hash directly
 * (kv_rs_hash_key, the exact call in kv_store.c).
 *
 * Both variants hash the same 8192 keys of 8..64 bytes, in alternating rounds (the best
 * round of each counts, so both see the same machine state):
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
#include <string.h>
#include <time.h>

#include "graft/graft.h"
#include "kv_rs.h"

#define NKEYS 8192
#define ROUNDS 9
#define REPS 200

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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

    double best[2] = {1e9, 1e9};
    uint64_t sum[2] = {0, 0};
    for (int round = 0; round < ROUNDS; round++) {
        for (int v = 0; v < 2; v++) {
            uint64_t s = 0;
            double t0 = now();
            for (int r = 0; r < REPS; r++) {
                for (int i = 0; i < NKEYS; i++) {
                    s += v == 0 ? kv_rs_hash_key(keys[i], klen[i]) : hook(keys[i], klen[i]);
                }
            }
            double dt = now() - t0;
            if (dt < best[v]) {
                best[v] = dt;
            }
            sum[v] = s;
        }
    }
    if (sum[0] != sum[1]) {
        fprintf(stderr, "bench: the direct call and the seam hashed differently\n");
        return 1;
    }
    graft_seam_stats st;
    graft_seam_stats_get(bench_seam, &st);
    double rate[2], ns[2];
    for (int v = 0; v < 2; v++) {
        rate[v] = (double)NKEYS * REPS / best[v] / 1e6;
        ns[v] = 1e3 / rate[v];
    }
    printf("bench kv_hash_direct: %.1f Mkeys/s (1.00x kv_hash_direct)\n", rate[0]);
    printf("bench kv_hash_seam_legacy: %.1f Mkeys/s (%.2fx kv_hash_direct)\n", rate[1],
           rate[1] / rate[0]);
    printf("bench kv_hash_seam_cost: %.1f ns/key (%.2fx kv_hash_direct's time per key)\n",
           ns[1] - ns[0], (ns[1] - ns[0]) / ns[0]);
    fprintf(stderr, "bench kv.hash: %llu seam calls\n", (unsigned long long)st.calls);
    graft_runtime_free(rt);
    return 0;
}
