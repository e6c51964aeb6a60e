/*
 * trace_host.c: a libgraft host with known traffic for tests/trace/trace_kvd.py's
 * mismatch and change checks. Registers seam "trace.demo" (legacy mode), whose candidate
 * doubles its input except for keys divisible by 3 (a planted mismatch), prints "ready"
 * and waits for a line on stdin (the tracers are attached). Then: mode shadow, 30 calls
 * with keys 1..30, "done"; on the next line, a breaker that opens at 20% mismatches over
 * 10 calls, 30 more calls (keys 31..60), "done"; then it waits for stdin to close.
 */
#include <stdint.h>
#include <stdio.h>

#include "graft/graft.h"

static int trace__legacy(void *ctx, const void *input, void *output)
{
    (void)ctx;
    *(uint64_t *)output = *(const uint64_t *)input * 2;
    return GRAFT_OK;
}

static int trace__candidate(void *ctx, const void *input, void *output)
{
    (void)ctx;
    uint64_t v = *(const uint64_t *)input;
    *(uint64_t *)output = v % 3 == 0 ? v * 2 + 1 : v * 2;
    return GRAFT_OK;
}

int main(void)
{
    graft_runtime *rt;
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.log_level = GRAFT_LOG_ERROR; /* the planted mismatches would log every one */
    if (graft_runtime_new(&o, &rt) != GRAFT_OK) {
        return 1;
    }
    graft_seam_def def = {
        .name = "trace.demo",
        .legacy = trace__legacy,
        .candidate = trace__candidate,
        .output_size = sizeof(uint64_t),
    };
    graft_seam *seam;
    if (graft_seam_register(rt, &def, &seam) != GRAFT_OK) {
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin) ||
        graft_seam_set_mode(seam, GRAFT_MODE_SHADOW, 0) != GRAFT_OK) {
        return 1;
    }
    for (uint64_t key = 1; key <= 30; key++) {
        uint64_t out, scratch;
        if (graft_call(seam, key, 0, &key, &out, &scratch) != GRAFT_OK || out != key * 2) {
            return 1;
        }
    }
    printf("done\n");
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) {
        return 1;
    }
    graft_breaker_config bc;
    graft_breaker_config_init(&bc);
    bc.enabled = 1;
    bc.min_calls = 10;
    bc.mismatch_rate_bp = 2000;
    bc.window_ns = 60ull * 1000000000ull;
    bc.cooldown_ns = 60ull * 1000000000ull;
    bc.max_cooldown_ns = bc.cooldown_ns;
    if (graft_seam_set_breaker(seam, &bc) != GRAFT_OK) {
        return 1;
    }
    for (uint64_t key = 31; key <= 60; key++) {
        uint64_t out, scratch;
        if (graft_call(seam, key, 0, &key, &out, &scratch) != GRAFT_OK || out != key * 2) {
            return 1;
        }
    }
    graft_seam_stats st;
    if (graft_seam_stats_get(seam, &st) != GRAFT_OK) {
        return 1;
    }
    printf("done %s\n", graft_breaker_state_name((int)st.breaker_state));
    fflush(stdout);
    while (fgets(line, sizeof line, stdin)) {
    }
    graft_runtime_free(rt);
    return 0;
}
