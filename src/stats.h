/*
 * stats.h: the statistics rollout plans decide on (src/rollout.c): exact binomial
 * tail probabilities, Clopper-Pearson bounds, the sign test, the Mann-Whitney test on
 * grouped (histogram) data, and the three-way gates built on them. Pure functions of
 * their arguments, no state: tests/runtime/test_rt_stats.c checks them against known
 * distributions and edge cases.
 *
 * Every gate answers PASS (the evidence shows the candidate within the threshold at the
 * given confidence), FAIL (it shows the candidate beyond it at that confidence) or HOLD
 * (neither: too little evidence). HOLD never promotes.
 */
#ifndef GRAFT_STATS_H
#define GRAFT_STATS_H

#include <stddef.h>
#include <stdint.h>

/* The one list of gate verdicts: XX(SUFFIX, "name"). */
#define GRAFT__VERDICT_MAP(XX)                                                                     \
    XX(PASS, "pass")                                                                               \
    XX(HOLD, "hold")                                                                               \
    XX(FAIL, "fail")

typedef enum graft__verdict {
#define GRAFT__VERDICT_ENUM(suffix, name) GRAFT__V_##suffix,
    GRAFT__VERDICT_MAP(GRAFT__VERDICT_ENUM)
#undef GRAFT__VERDICT_ENUM
        GRAFT__V_COUNT
} graft__verdict;

const char *graft__verdict_name(int v);

/* Regularised incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1. */
double graft__ibeta(double a, double b, double x);
/* P(X <= k) for X ~ Binomial(n, p); 1 when k >= n. */
double graft__binom_cdf(uint64_t k, uint64_t n, double p);
/* P(X >= k) for X ~ Binomial(n, p); 1 when k == 0. */
double graft__binom_sf(uint64_t k, uint64_t n, double p);

/* One-sided exact (Clopper-Pearson) bounds on a binomial proportion from x successes
 * in n trials at confidence conf (0.5 < conf < 1): the upper bound is the p with
 * P(X <= x | p) = 1 - conf (1 when x == n, and for n == 0), the lower bound the p with
 * P(X >= x | p) = 1 - conf (0 when x == 0). */
double graft__cp_upper(uint64_t x, uint64_t n, double conf);
double graft__cp_lower(uint64_t x, uint64_t n, double conf);

/* Rate gate: PASS when the upper bound of x/n is below max_rate, FAIL when the lower
 * bound is above it, HOLD otherwise (always for n == 0). */
graft__verdict graft__gate_rate(uint64_t x, uint64_t n, double max_rate, double conf,
                                double *upper);

/* Difference gate (candidate's failure rate minus legacy's): each rate bounded at
 * confidence 1 - (1 - conf) / 2 (Bonferroni), the difference's upper bound is
 * upper(c) - lower(l). PASS when it is below max_diff, FAIL when the difference's lower
 * bound lower(c) - upper(l) is above it, HOLD otherwise. */
graft__verdict graft__gate_rate_diff(uint64_t xc, uint64_t nc, uint64_t xl, uint64_t nl,
                                     double max_diff, double conf, double *upper);

/* Sign test on paired differences, ties dropped: `slower` pairs where the candidate
 * took longer than legacy x (1 + tolerance), `faster` where it took less. PASS when
 * faster outnumbers slower beyond chance (one-sided p < 1 - conf), FAIL when slower
 * does, HOLD otherwise. *p receives the p-value of the side that decided (or the
 * smaller). */
graft__verdict graft__gate_sign(uint64_t slower, uint64_t faster, double conf, double *p);

/* Mann-Whitney U on grouped data: sample A takes value va[i] ca[i] times, sample B
 * vb[i] cb[i] times (values in any order; equal values are ties, ranked by midranks,
 * with the tie-corrected normal approximation and a continuity correction). Returns the
 * one-sided p-value that B is stochastically greater than A; *p_less (may be NULL)
 * receives the one for smaller. Both 1 when either sample is empty or all values tie. */
double graft__mann_whitney(const double *va, const uint64_t *ca, size_t na, const double *vb,
                           const uint64_t *cb, size_t nb, double *p_less);

/* Latency gate in canary: candidate's latency histogram against legacy's, legacy's
 * bucket values scaled by 1 + tolerance. PASS when the candidate is smaller beyond
 * chance, FAIL when greater, HOLD otherwise or with fewer than min_each samples on a
 * side. Bucket values are given by value(i). */
graft__verdict graft__gate_mw_hist(const uint64_t *legacy, const uint64_t *candidate,
                                   size_t buckets, double (*value)(size_t i), double tolerance,
                                   uint64_t min_each, double conf, double *p);

#endif /* GRAFT_STATS_H */
