/* wc_seam.c: registration of the "starter.wc" seam and its call facade (wc_seam.h). */
#include "wc_seam.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "wc_rs.h"

static int wc_legacy(void *ctx, const void *input, void *output)
{
    const wc_input *in = input;
    (void)ctx;
    return wc_count(in->text, in->len, output);
}

static int wc_candidate(void *ctx, const void *input, void *output)
{
    const wc_input *in = input;
    (void)ctx;
    return wc_rs_count(in->text, in->len, output);
}

/* Mismatching inputs are captured as their raw bytes. */
static size_t wc_serialize(void *ctx, const void *input, void *buf, size_t cap)
{
    const wc_input *in = input;
    (void)ctx;
    if (buf && in->len)
        memcpy(buf, in->text, in->len < cap ? in->len : cap);
    return in->len;
}

static size_t wc_describe(void *ctx, const void *input, const void *output, char *buf, size_t cap)
{
    const wc_counts *c = output;
    (void)ctx;
    (void)input;
    int n =
        snprintf(buf, cap, "lines=%" PRIu64 " words=%" PRIu64 " bytes=%" PRIu64 " longest=%" PRIu64,
                 c->lines, c->words, c->bytes, c->longest);
    return n < 0 ? 0 : (size_t)n;
}

int wc_seam_register(graft_runtime *rt, graft_seam **out)
{
    graft_seam_def def;
    memset(&def, 0, sizeof def);
    def.name = WC_SEAM_NAME;
    def.legacy = wc_legacy;
    def.candidate = wc_candidate;
    def.output_size = sizeof(wc_counts);
    def.serialize_input = wc_serialize;
    def.describe_output = wc_describe;
    return graft_seam_register(rt, &def, out);
}

int wc_seam_count(graft_seam *seam, uint64_t key, const char *text, size_t len, wc_counts *out)
{
    wc_input in = {text, len};
    wc_counts scratch;
    return graft_call(seam, key, 0, &in, out, &scratch);
}
