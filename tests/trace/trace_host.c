/*
 * trace_host.c: a libgraft host with known traffic for tests/trace/trace_kvd.py's
 * mismatch check. Registers seam "trace.demo" in shadow mode, whose candidate doubles its
 * input except for keys divisible by 3 (a planted mismatch); waits for a line on stdin
 * (the tracer is attached), makes 30 calls with keys 1..30, prints "done" and waits for
 * stdin to close.
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
    if (graft_runtime_new(NULL, &rt) != GRAFT_OK) {
        return 1;
    }
    graft_seam_def def = {
        .name = "trace.demo",
        .legacy = trace__legacy,
        .candidate = trace__candidate,
        .output_size = sizeof(uint64_t),
    };
    graft_seam *seam;
    if (graft_seam_register(rt, &def, &seam) != GRAFT_OK ||
        graft_seam_set_mode(seam, GRAFT_MODE_SHADOW, 0) != GRAFT_OK) {
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin)) {
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
    while (fgets(line, sizeof line, stdin)) {
    }
    graft_runtime_free(rt);
    return 0;
}
