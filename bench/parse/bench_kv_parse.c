/*
 * bench_kv_parse.c: kvd's parser and key hash, C against Rust, over the same inputs.
 *
 * Parser: a pipeline of 8192 requests shaped like cache traffic (multi-key gets, sets
 * with values of 10..300 bytes, deletes, incr, touch, gat) is parsed request by request
 * by kv_parse (C) and by kv_rs_parse (Rust, through its FFI panic boundary, as kvd calls
 * it). (The hash is retired: bench_kv_hash.c measures what that saved.) Seam: the same
 * pipeline through kv_graft_parse, the function kvd calls per request, with kv.parse in
 * legacy, shadow and candidate mode (graft_call, routing, counters, shadow's second
 * parse and compare). Rounds alternate the variants and the best round of each counts,
 * so all see the same machine state.
 * Prints `bench <name>: <value> <unit> (<ratio>x <baseline>)` lines.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graft/graft.h"
#include "graft/graft_ffi.h"
#include "kv_graft.h"
#include "kv_proto.h"
#include "bench_util.h"
#include "kv_rs.h"

/* The optimisation levels the C-versus-Rust ratios compare (bench/CMakeLists.txt). */
#ifndef GRAFT_BENCH_OPT
#define GRAFT_BENCH_OPT "optimisation levels unknown"
#endif

#define NREQ 8192
#define ROUNDS 7

static size_t key(char *p)
{
    size_t n = 8 + rnd(33);
    memcpy(p, "user:", 5);
    for (size_t i = 5; i < n; i++)
        p[i] = (char)('a' + rnd(26));
    return n;
}

static char *make_corpus(size_t *len_out)
{
    size_t cap = (size_t)NREQ * 512, len = 0;
    char *b = malloc(cap);
    if (b == NULL)
        return NULL;
    for (int r = 0; r < NREQ; r++) {
        char k[64];
        size_t kl = key(k);
        uint32_t kind = rnd(100);
        if (kind < 55) {
            len += (size_t)sprintf(b + len, "get %.*s", (int)kl, k);
            for (uint32_t extra = rnd(4); extra > 0; extra--) {
                kl = key(k);
                len += (size_t)sprintf(b + len, " %.*s", (int)kl, k);
            }
            len += (size_t)sprintf(b + len, "\r\n");
        } else if (kind < 85) {
            uint32_t vl = 10 + rnd(291);
            len += (size_t)sprintf(b + len, "set %.*s %u %u %u%s\r\n", (int)kl, k, rnd(65536),
                                   rnd(3600), vl, rnd(10) == 0 ? " noreply" : "");
            for (uint32_t i = 0; i < vl; i++)
                b[len++] = (char)('A' + rnd(26));
            len += (size_t)sprintf(b + len, "\r\n");
        } else if (kind < 91) {
            len += (size_t)sprintf(b + len, "delete %.*s\r\n", (int)kl, k);
        } else if (kind < 95) {
            len += (size_t)sprintf(b + len, "incr %.*s %u\r\n", (int)kl, k, rnd(1000));
        } else if (kind < 98) {
            len += (size_t)sprintf(b + len, "touch %.*s %u\r\n", (int)kl, k, rnd(3600));
        } else {
            len += (size_t)sprintf(b + len, "gat %u %.*s\r\n", rnd(3600), (int)kl, k);
        }
    }
    *len_out = len;
    return b;
}

/* Parses the whole pipeline once; returns requests parsed (0 on a failure).
 * how: 0 C, 1 Rust, 2 through the kv.parse seam (kv_graft_parse). */
static unsigned pass(const char *b, size_t len, int how, uint64_t *check)
{
    static const kv_parse_limits lim = {1024u * 1024u, 2048u};
    size_t off = 0;
    unsigned n = 0;
    kv_request req;
    while (off < len) {
        if (how == 1) {
            if (kv_rs_parse(b + off, len - off, &lim, &req) != GRAFT_OK)
                return 0;
        } else if (how == 2) {
            kv_graft_parse(n & 63, b + off, len - off, &lim, &req);
        } else {
            kv_parse(b + off, len - off, &lim, &req);
        }
        if (req.status != KV_PARSE_OK || req.consumed == 0)
            return 0;
        *check += req.key_len + req.data_len + req.nkeys;
        off += req.consumed;
        n++;
    }
    return n;
}

int main(void)
{
    size_t len;
    char *corpus = make_corpus(&len);
    if (corpus == NULL)
        return 1;
    double best[2] = {1e9, 1e9};
    uint64_t check[2] = {0, 0};
    unsigned reqs = 0;
    const int reps = 60;
    for (int round = 0; round < ROUNDS; round++) {
        for (int rust = 0; rust < 2; rust++) {
            double t0 = now();
            for (int i = 0; i < reps; i++) {
                reqs = pass(corpus, len, rust, &check[rust]);
                if (reqs != NREQ) {
                    fprintf(stderr, "bench: %s parser failed on the corpus\n", rust ? "Rust" : "C");
                    return 1;
                }
            }
            double dt = now() - t0;
            if (dt < best[rust])
                best[rust] = dt;
        }
    }
    if (check[0] != check[1]) {
        fprintf(stderr, "bench: C and Rust described the corpus differently\n");
        return 1;
    }
    double c_rate = (double)NREQ * reps / best[0], r_rate = (double)NREQ * reps / best[1];
    printf("bench kv_parse_c: %.0f req/s (1.00x kv_parse_c)\n", c_rate);
    printf("bench kv_parse_rust: %.0f req/s (%.2fx kv_parse_c, %s)\n", r_rate, r_rate / c_rate,
           GRAFT_BENCH_OPT);

    /* The seam kvd calls, per mode. */
    graft_runtime *rt;
    graft_runtime_options opts;
    graft_runtime_options_init(&opts);
    opts.arm_panic = graft_ffi_fault_arm_panic;
    if (graft_runtime_new(&opts, &rt) != GRAFT_OK || kv_graft_install(rt) != GRAFT_OK)
        return 1;
    static const char *const modes[] = {"legacy", "shadow", "candidate"};
    uint64_t one = 0;
    pass(corpus, len, 0, &one);
    double sb[3] = {1e9, 1e9, 1e9};
    for (int round = 0; round < ROUNDS; round++) {
        for (int m = 0; m < 3; m++) {
            char spec[64], err[256];
            snprintf(spec, sizeof spec, "kv.parse=%s", modes[m]);
            if (graft_config_apply_spec(rt, spec, err, sizeof err) != GRAFT_OK) {
                fprintf(stderr, "bench: %s\n", err);
                return 1;
            }
            uint64_t ck = 0;
            double t0 = now();
            for (int i = 0; i < reps; i++) {
                if (pass(corpus, len, 2, &ck) != NREQ) {
                    fprintf(stderr, "bench: seam (%s) failed on the corpus\n", modes[m]);
                    return 1;
                }
            }
            double dt = now() - t0;
            if (dt < sb[m])
                sb[m] = dt;
            if (ck != one * (uint64_t)reps) {
                fprintf(stderr, "bench: seam (%s) described the corpus differently\n", modes[m]);
                return 1;
            }
        }
    }
    graft_seam_stats st;
    graft_seam_stats_get(kv_graft_parse_seam(), &st);
    if (st.mismatches != 0) {
        fprintf(stderr, "bench: %llu mismatches in shadow\n", (unsigned long long)st.mismatches);
        return 1;
    }
    double rate[3];
    for (int m = 0; m < 3; m++)
        rate[m] = (double)NREQ * reps / sb[m];
    for (int m = 0; m < 3; m++)
        printf("bench kv_seam_parse_%s: %.0f req/s (%.2fx kv_seam_parse_legacy%s%s)\n", modes[m],
               rate[m], rate[m] / rate[0], m ? ", " : "", m ? GRAFT_BENCH_OPT : "");
    double extra = 1e9 / rate[1] - 1e9 / rate[0], second = 1e9 / r_rate;
    printf("bench kv_seam_shadow_extra_cost: %.1f ns/req (%.2fx kv_parse_rust)\n", extra,
           extra / second);
    kv_graft_uninstall();
    graft_runtime_free(rt);
    free(corpus);
    return 0;
}
