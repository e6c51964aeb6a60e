/* matchbench.c: the matcher alone, over the keys KEYS would visit: 1M keys "key:N"
 * (what DEBUG POPULATE makes), one pattern, C vs Rust called directly and through
 * the seam in legacy, candidate-only and shadow mode. Isolates the matcher and the
 * crossing from Redis's dict walk (which is most of a KEYS call).
 *   redis-matchbench [ROUNDS]   prints one `bench` line per figure; ratios vs direct C
 *   redis-matchbench --profile IMPL PATTERN PASSES   one implementation (0 c, 1 rust,
 *                          2 seam-legacy, 3 seam-candidate-only, 4 seam-shadow), for perf */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <graft/graft.h>

#include "redis_match_rs.h"

int stringmatchlen_legacy(const char *p, int plen, const char *s, int slen, int nocase);

#define NKEYS 1000000
static char *keys[NKEYS];
static int lens[NKEYS];

typedef struct in_t {
    const char *p, *s;
    int plen, slen;
} in_t;

static int legacy(void *ctx, const void *input, void *output)
{
    const in_t *in = input;
    (void)ctx;
    *(int *)output = stringmatchlen_legacy(in->p, in->plen, in->s, in->slen, 0);
    return GRAFT_OK;
}
static int candidate(void *ctx, const void *input, void *output)
{
    const in_t *in = input;
    (void)ctx;
    return redis_rs_stringmatchlen(in->p, in->plen, in->s, in->slen, 0, output);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum { DIRECT_C, DIRECT_RUST, SEAM_LEGACY, SEAM_CANDIDATE_ONLY, SEAM_SHADOW, NIMPL };
static const char *impl_name[NIMPL] = {"c", "rust", "seam-legacy", "seam-candidate-only",
                                       "seam-shadow"};
static graft_seam *seam;

static long pass(int impl, const char *pat)
{
    int plen = (int)strlen(pat);
    long matched = 0;
    static const graft_mode modes[NIMPL] = {0, 0, GRAFT_MODE_LEGACY, GRAFT_MODE_CANDIDATE_ONLY,
                                            GRAFT_MODE_SHADOW};
    if (impl >= SEAM_LEGACY)
        graft_seam_set_mode(seam, modes[impl], 0);
    for (int i = 0; i < NKEYS; i++) {
        int r = 0;
        switch (impl) {
        case DIRECT_C:
            r = stringmatchlen_legacy(pat, plen, keys[i], lens[i], 0);
            break;
        case DIRECT_RUST:
            redis_rs_stringmatchlen(pat, plen, keys[i], lens[i], 0, &r);
            break;
        default: {
            in_t in = {pat, keys[i], plen, lens[i]};
            int scratch;
            graft_call(seam, (uint64_t)i, 0, &in, &r, &scratch);
        }
        }
        matched += r;
    }
    return matched;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    static const char *patterns[] = {"key:*99*", "*1*2*3*", "*[13579]?[02468]", "key:1*"};
    const int npat = (int)(sizeof patterns / sizeof patterns[0]);
    graft_runtime *rt;
    graft_seam_def def = {0};
    for (int i = 0; i < NKEYS; i++) {
        char b[32];
        lens[i] = snprintf(b, sizeof b, "key:%d", i);
        keys[i] = malloc((size_t)lens[i] + 1);
        memcpy(keys[i], b, (size_t)lens[i] + 1);
    }
    def.name = "redis.stringmatch";
    def.legacy = legacy;
    def.candidate = candidate;
    def.output_size = sizeof(int);
    if (graft_runtime_new(NULL, &rt) != GRAFT_OK ||
        graft_seam_register(rt, &def, &seam) != GRAFT_OK)
        return 1;
    if (argc == 5 && !strcmp(argv[1], "--profile")) {
        /* A fixed amount of work, for perf stat (instructions are what a loaded
         * machine does not blur) and perf record. */
        int impl = atoi(argv[2]), passes = atoi(argv[4]);
        long m = 0;
        for (int i = 0; i < passes; i++)
            m += pass(impl, argv[3]);
        printf("%ld\n", m);
        return 0;
    }
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    if (rounds < 1 || rounds > 99)
        rounds = 5;
    for (int p = 0; p < npat; p++) {
        uint64_t t[NIMPL][99];
        long m[NIMPL];
        /* Rounds interleave the implementations so drift on a shared machine hits all. */
        for (int r = 0; r < rounds; r++)
            for (int impl = 0; impl < NIMPL; impl++) {
                uint64_t t0 = now_ns();
                m[impl] = pass(impl, patterns[p]);
                t[impl][r] = now_ns() - t0;
            }
        for (int impl = 0; impl < NIMPL; impl++) {
            if (m[impl] != m[DIRECT_C]) {
                printf("matchbench: %s matched %ld keys, C %ld\n", impl_name[impl], m[impl],
                       m[DIRECT_C]);
                return 1;
            }
            qsort(t[impl], (size_t)rounds, sizeof t[impl][0], cmp_u64);
        }
        for (int impl = 0; impl < NIMPL; impl++)
            printf("bench redis.match.%s[%s]: %.1f ns/key (%.2fx c) -- median of %d passes over 1M "
                   "keys \"key:N\", %ld match\n",
                   impl_name[impl], patterns[p], (double)t[impl][rounds / 2] / NKEYS,
                   (double)t[impl][rounds / 2] / (double)t[DIRECT_C][rounds / 2], rounds, m[impl]);
    }
    graft_runtime_free(rt);
    for (int i = 0; i < NKEYS; i++)
        free(keys[i]);
    return 0;
}
