/*
 * fake_seams.c: the test seams described in fake_seams.h.
 */
#include "fake_seams.h"

#include <stdio.h>
#include <string.h>

static int sum_legacy(void *ctx, const void *input, void *output)
{
    const fake_sum_in *in = input;
    ((fake_sum_out *)output)->sum = (uint64_t)in->a + in->b;
    return GRAFT_OK;
}

static int sum_candidate(void *ctx, const void *input, void *output)
{
    const fake_sum_in *in = input;
    /* A deliberate, rare divergence so mismatch counters and samples have content. */
    ((fake_sum_out *)output)->sum = (uint64_t)in->a + in->b + (in->a % 997u == 0 ? 1u : 0u);
    return GRAFT_OK;
}

static size_t sum_serialize(void *ctx, const void *input, void *buf, size_t cap)
{
    const fake_sum_in *in = input;
    int n = snprintf(buf, cap, "%u+%u", (unsigned)in->a, (unsigned)in->b);
    return n < 0 ? 0 : (size_t)n;
}

static size_t sum_describe(void *ctx, const void *input, const void *output, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%llu", (unsigned long long)((const fake_sum_out *)output)->sum);
    return n < 0 ? 0 : (size_t)n;
}

static void upper(const fake_upper_in *in, fake_upper_out *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i + 1 < sizeof out->text && in->text[i]; i++) {
        char c = in->text[i];
        out->text[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
}

static int upper_legacy(void *ctx, const void *input, void *output)
{
    upper(input, output);
    return GRAFT_OK;
}

static int upper_candidate(void *ctx, const void *input, void *output)
{
    upper(input, output);
    return GRAFT_OK;
}

int fake_seams_register(graft_runtime *rt, graft_seam **sum, graft_seam **up)
{
    graft_seam_def d;
    memset(&d, 0, sizeof d);
    d.name = "demo.sum";
    d.legacy = sum_legacy;
    d.candidate = sum_candidate;
    d.output_size = sizeof(fake_sum_out);
    d.serialize_input = sum_serialize;
    d.describe_output = sum_describe;
    int st = graft_seam_register(rt, &d, sum);
    if (st != GRAFT_OK)
        return st;
    memset(&d, 0, sizeof d);
    d.name = "demo.upper";
    d.legacy = upper_legacy;
    d.candidate = upper_candidate;
    d.output_size = sizeof(fake_upper_out);
    return graft_seam_register(rt, &d, up);
}

int fake_seams_register_upper(graft_runtime *rt, const char *name, graft_seam **up)
{
    graft_seam_def d;
    memset(&d, 0, sizeof d);
    d.name = name;
    d.legacy = upper_legacy;
    d.candidate = upper_candidate;
    d.output_size = sizeof(fake_upper_out);
    return graft_seam_register(rt, &d, up);
}

void fake_seams_drive(graft_seam *sum, graft_seam *up, uint64_t base, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t k = base + i;
        fake_sum_in si = {(uint32_t)k, (uint32_t)(k * 7u)};
        fake_sum_out so, ss;
        graft_call(sum, k, 0, &si, &so, &ss);
        fake_upper_in ui;
        snprintf(ui.text, sizeof ui.text, "req-%llu", (unsigned long long)k);
        fake_upper_out uo, us;
        graft_call(up, k, 0, &ui, &uo, &us);
    }
}
