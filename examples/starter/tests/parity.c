/*
 * parity.c: the starter's parity test from C. The seam runs in shadow mode over the
 * corpus (legacy serves, the Rust twin runs beside it, graft compares every output),
 * then in candidate mode (Rust serves); both must agree with the legacy function on
 * every input, and graft's own counters must say so.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <graft/graft.h>

#include "corpus.h"
#include "wc_rs.h"
#include "wc_seam.h"

static int failures;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void quiet_log(void *ctx, int level, const char *target, const char *message)
{
    (void)ctx;
    fprintf(stderr, "log %d %s: %s\n", level, target, message);
}

static void run_mode(graft_seam *seam, graft_mode mode)
{
    CHECK(graft_seam_set_mode(seam, mode, 0) == GRAFT_OK);
    char buf[CORPUS_MAX_LEN];
    for (size_t i = 0; i < CORPUS_FIXED + CORPUS_RANDOM; i++) {
        size_t len = corpus_input(i, buf);
        wc_counts want, got;
        CHECK(wc_count(buf, len, &want) == 0);
        memset(&got, 0xAA, sizeof got);
        int rc = wc_seam_count(seam, (uint64_t)i, buf, len, &got);
        CHECK(rc == GRAFT_OK);
        if (rc == GRAFT_OK && memcmp(&want, &got, sizeof want) != 0) {
            fprintf(stderr, "input %zu: legacy words=%" PRIu64 ", seam words=%" PRIu64 "\n", i,
                    want.words, got.words);
            failures++;
        }
    }
}

int main(void)
{
    const uint64_t n = CORPUS_FIXED + CORPUS_RANDOM;
    graft_runtime_options opts;
    graft_runtime_options_init(&opts);
    opts.log = quiet_log;
    opts.log_level = GRAFT_LOG_WARN;
    graft_runtime *rt = NULL;
    graft_seam *seam = NULL;
    CHECK(graft_runtime_new(&opts, &rt) == GRAFT_OK);
    CHECK(wc_seam_register(rt, &seam) == GRAFT_OK);
    graft_compare_config cmp = {.sample_every = 1, .log_per_second = 10};
    CHECK(graft_seam_set_compare(seam, &cmp) == GRAFT_OK);

    /* Shadow: legacy serves, every call compared. */
    run_mode(seam, GRAFT_MODE_SHADOW);
    graft_seam_stats st;
    CHECK(graft_seam_stats_get(seam, &st) == GRAFT_OK);
    CHECK(st.calls == n);
    CHECK(st.compared == n);
    CHECK(st.mismatches == 0);
    CHECK(st.impl[GRAFT_IMPL_LEGACY].served == n);
    CHECK(st.impl[GRAFT_IMPL_CANDIDATE].calls == n);

    /* Candidate: the Rust twin serves alone, nothing falls back. */
    run_mode(seam, GRAFT_MODE_CANDIDATE);
    CHECK(graft_seam_stats_get(seam, &st) == GRAFT_OK);
    CHECK(st.impl[GRAFT_IMPL_CANDIDATE].served == n);
    CHECK(st.fallbacks == 0);
    CHECK(st.impl[GRAFT_IMPL_CANDIDATE].errors == 0);
    CHECK(st.impl[GRAFT_IMPL_CANDIDATE].panics == 0);

    /* Failures agree too: a NULL buffer with a length is GRAFT_ENULL on both sides. */
    wc_counts c;
    CHECK(wc_count(NULL, 3, &c) == GRAFT_ENULL);
    CHECK(wc_rs_count(NULL, 3, &c) == GRAFT_ENULL);
    CHECK(wc_count(NULL, 0, &c) == 0 && c.bytes == 0);
    CHECK(wc_rs_count(NULL, 0, &c) == 0 && c.bytes == 0);

    graft_runtime_free(rt);
    if (failures) {
        fprintf(stderr, "parity (C): %d failure(s)\n", failures);
        return 1;
    }
    printf("parity (C): %" PRIu64 " inputs, shadow and candidate agree with legacy\n", n);
    return 0;
}
