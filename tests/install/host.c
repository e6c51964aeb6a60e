/*
 * host.c: a tiny C host built by tests/install/run.sh with nothing but pkg-config
 * against an installed graft (graft.pc, then graft-static.pc), the way a Make or
 * autotools codebase adopts it. Both implementations are C here: the point is the
 * build and link, the seam behaviour is tested elsewhere.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <graft/graft.h>

typedef struct sum_input {
    const unsigned char *data;
    size_t len;
} sum_input;

static int sum_legacy(void *ctx, const void *input, void *output)
{
    const sum_input *in = input;
    uint32_t s = 0;
    (void)ctx;
    for (size_t i = 0; i < in->len; i++)
        s += in->data[i];
    memcpy(output, &s, sizeof s);
    return GRAFT_OK;
}

/* The "rewrite": two bytes per step. */
static int sum_candidate(void *ctx, const void *input, void *output)
{
    const sum_input *in = input;
    uint32_t s = 0;
    size_t i = 0;
    (void)ctx;
    for (; i + 1 < in->len; i += 2)
        s += (uint32_t)in->data[i] + in->data[i + 1];
    if (i < in->len)
        s += in->data[i];
    memcpy(output, &s, sizeof s);
    return GRAFT_OK;
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "host: " __VA_ARGS__);                                                     \
        fputc('\n', stderr);                                                                       \
        graft_runtime_free(rt);                                                                    \
        return 1;                                                                                  \
    } while (0)

int main(void)
{
    graft_runtime *rt = NULL;
    graft_seam *seam = NULL;
    char expect[32], err[256] = "";
    snprintf(expect, sizeof expect, "%d.%d.%d", GRAFT_VERSION_MAJOR, GRAFT_VERSION_MINOR,
             GRAFT_VERSION_PATCH);
    if (strcmp(graft_version(), expect) != 0)
        FAIL("header says %s, library says %s", expect, graft_version());
    if (graft_runtime_new(NULL, &rt) != GRAFT_OK)
        FAIL("graft_runtime_new failed");
    graft_seam_def def;
    memset(&def, 0, sizeof def);
    def.name = "host.sum";
    def.legacy = sum_legacy;
    def.candidate = sum_candidate;
    def.output_size = sizeof(uint32_t);
    if (graft_seam_register(rt, &def, &seam) != GRAFT_OK)
        FAIL("graft_seam_register failed");
    if (graft_config_apply_spec(rt, "host.sum=shadow", err, sizeof err) != GRAFT_OK)
        FAIL("spec rejected: %s", err);
    graft_compare_config cmp = {.sample_every = 1, .log_per_second = 1};
    if (graft_seam_set_compare(seam, &cmp) != GRAFT_OK)
        FAIL("graft_seam_set_compare failed");

    unsigned char buf[257];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 37u);
    for (size_t len = 0; len <= sizeof buf; len++) {
        sum_input in = {buf, len};
        uint32_t out, scratch;
        if (graft_call(seam, len, 0, &in, &out, &scratch) != GRAFT_OK)
            FAIL("call %zu failed", len);
    }
    graft_seam_stats st;
    if (graft_seam_stats_get(seam, &st) != GRAFT_OK)
        FAIL("graft_seam_stats_get failed");
    if (st.calls != sizeof buf + 1 || st.compared != st.calls || st.mismatches != 0)
        FAIL("stats: calls=%llu compared=%llu mismatches=%llu", (unsigned long long)st.calls,
             (unsigned long long)st.compared, (unsigned long long)st.mismatches);
    if (graft_config_apply_spec(rt, "host.sum=sideways", err, sizeof err) == GRAFT_OK)
        FAIL("a bad spec was accepted");
    char *text = NULL;
    size_t len = 0;
    if (graft_metrics_prometheus(rt, &text, &len) != GRAFT_OK || !strstr(text, "host.sum"))
        FAIL("metrics lack the seam");
    graft_free(text);
    graft_runtime_free(rt);
    printf("host: ok (libgraft %s, %llu calls compared)\n", graft_version(),
           (unsigned long long)st.compared);
    return 0;
}
