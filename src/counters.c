/*
 * counters.c: reading the per-thread counter slots: sums of one counter, the folded
 * canonical counters (graft__counters) and the latency histogram's bucket arithmetic.
 * Split from metrics.c so the files that judge counters (rollout.c, the call path)
 * need not depend on the renderings, which call configuration and plans back.
 */
#include "internal.h"

/* ------------------------------------------------------------------ histogram */

/* Values below 8 ns get their own bucket; above, each power of two [2^e, 2^(e+1)) is
 * split in 8 equal sub-buckets (relative width 12.5%). Values from 2^37 ns (~137 s)
 * up share the last bucket. */
size_t graft__hist_index(uint64_t ns)
{
    if (ns < 8) {
        return (size_t)ns;
    }
    unsigned e = 63u - (unsigned)__builtin_clzll(ns);
    if (e > GRAFT__HIST_MAX_EXP) {
        return GRAFT__HIST_BUCKETS - 1;
    }
    unsigned sub = (unsigned)(ns >> (e - GRAFT__HIST_SUB_BITS)) & 7u;
    return (size_t)(e - 2) * 8u + sub;
}

/* Largest value that falls in bucket idx. */
uint64_t graft__hist_upper(size_t idx)
{
    if (idx < 8) {
        return idx;
    }
    uint64_t e = idx / 8 + 2, sub = idx % 8;
    uint64_t lo = (1ull << e) + sub * (1ull << (e - 3));
    return lo + (1ull << (e - 3)) - 1;
}

uint64_t graft__slot_sum(const graft_seam *s, int ctr)
{
    uint64_t sum = 0;
    for (int i = 0; i <= GRAFT__SLOTS; i++) {
        sum += atomic_load_explicit(&s->slots[i].c[ctr], memory_order_relaxed);
    }
    return sum;
}

void graft__counters(const graft_seam *s, uint64_t c[GRAFT__C_COUNT])
{
    memset(c, 0, sizeof(uint64_t) * GRAFT__C_COUNT);
    for (int i = 0; i <= GRAFT__SLOTS; i++) {
        for (int k = 0; k < GRAFT__C_COUNT; k++) {
            c[k] += atomic_load_explicit(&s->slots[i].c[k], memory_order_relaxed);
        }
    }
    /* Each combined outcome stands for the canonical counters its row names. */
    static const struct {
        int fast;
        graft_mode mode;
        bool ran_l, ran_c;
        graft_impl served;
        bool compared;
    } fold[] = {
#define GRAFT__OUTCOME_FOLD(name, mode, ran_l, ran_c, served, compared, meaning)                   \
    {GRAFT__C_##name, GRAFT_MODE_##mode, ran_l, ran_c, GRAFT_IMPL_##served, compared},
        GRAFT__OUTCOME_MAP(GRAFT__OUTCOME_FOLD)
#undef GRAFT__OUTCOME_FOLD
    };
    for (size_t f = 0; f < sizeof fold / sizeof fold[0]; f++) {
        uint64_t n = c[fold[f].fast];
        if (!n) {
            continue;
        }
        c[GRAFT__C_CALLS] += n;
        c[GRAFT__C_BY_MODE + (int)fold[f].mode] += n;
        if (fold[f].ran_l) {
            c[GRAFT__CI(GRAFT_IMPL_LEGACY, GRAFT__I_CALLS)] += n;
        }
        if (fold[f].ran_c) {
            c[GRAFT__CI(GRAFT_IMPL_CANDIDATE, GRAFT__I_CALLS)] += n;
        }
        c[GRAFT__CI(fold[f].served, GRAFT__I_SERVED)] += n;
        if (fold[f].compared) {
            c[GRAFT__C_COMPARED] += n;
        }
    }
}
