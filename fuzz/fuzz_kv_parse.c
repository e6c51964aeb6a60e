/*
 * fuzz_kv_parse.c: differential libFuzzer harness, kvd's C parser against its Rust twin.
 *
 * Each input is parsed by kv_parse (C) and kv_rs_parse (Rust, compiled with sanitizer
 * coverage so the fuzzer is guided by Rust branches too) under three limit sets, and
 * the program aborts on the first difference, printing both descriptions. An input
 * beginning with a kv.parse capture header ("KVP1" + limits) is parsed under its own
 * limits as well, so captured production mismatches replay here unchanged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graft/base.h"
#include "kv_proto.h"
#include "kv_rs.h"
#include "kv_graft.h"

static void diverged(const char *buf, size_t len, const kv_parse_limits *lim, const kv_request *c,
                     const kv_request *r, int st)
{
    char dc[1024], dr[1024];
    kv_request_describe(buf, len, c, dc, sizeof dc);
    if (st == GRAFT_OK)
        kv_request_describe(buf, len, r, dr, sizeof dr);
    else
        snprintf(dr, sizeof dr, "kv_rs_parse failed with status %d", st);
    fprintf(stderr,
            "fuzz kv.parse: C and Rust differ (limits %u/%u, %zu bytes)\n  C:    %s\n  Rust: %s\n",
            lim->item_size_max, lim->max_line, len, dc, dr);
    abort();
}

static void one(const char *buf, size_t len, const kv_parse_limits *lim)
{
    kv_request c, r;
    memset(&c, 0xa5, sizeof c);
    memset(&r, 0x5a, sizeof r);
    kv_parse(buf, len, lim, &c);
    int st = kv_rs_parse(buf, len, lim, &r);
    if (st != GRAFT_OK || memcmp(&c, &r, sizeof c) != 0)
        diverged(buf, len, lim, &c, &r, st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const kv_parse_limits limits[] = {
        {KV_GRAFT_DEFAULT_ITEM_SIZE_MAX, KV_GRAFT_DEFAULT_MAX_LINE}, {100u, 64u}, {0u, 16u}};
    const char *buf = (const char *)data;
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
        one(buf, size, &limits[i]);
    kv_parse_input in;
    kv_parse_input_deserialize(data, size, &in);
    if (in.buf != buf)
        one(in.buf, in.len, &in.limits);
    return 0;
}
