/*
 * stats.c: the statistics of rollout gates (see stats.h). The binomial tails come from
 * the regularised incomplete beta function, evaluated by its continued fraction
 * (modified Lentz), P(X <= k) = I_{1-p}(n - k, k + 1) and P(X >= k) = I_p(k, n - k + 1);
 * the Clopper-Pearson bounds invert those tails by bisection (monotone in p), to 1e-12.
 * Not on any hot path: a plan evaluation calls a handful of these once per interval.
 */
#include "stats.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#define GRAFT__VERDICT_NAME(suffix, name) name,
static const char *const graft__verdict_names[GRAFT__V_COUNT] = {
    GRAFT__VERDICT_MAP(GRAFT__VERDICT_NAME)};
#undef GRAFT__VERDICT_NAME

const char *graft__verdict_name(int v)
{
    if (v < 0 || v >= GRAFT__V_COUNT) {
        return "?";
    }
    return graft__verdict_names[v];
}

#define GRAFT__CF_MAXIT 20000
#define GRAFT__CF_EPS 1e-15
#define GRAFT__CF_TINY 1e-300

/* Continued fraction of I_x(a, b) (valid and fast for x < (a + 1) / (a + b + 2)). */
static double graft__betacf(double a, double b, double x)
{
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, d = 1.0 - qab * x / qap;
    if (fabs(d) < GRAFT__CF_TINY) {
        d = GRAFT__CF_TINY;
    }
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= GRAFT__CF_MAXIT; m++) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < GRAFT__CF_TINY) {
            d = GRAFT__CF_TINY;
        }
        c = 1.0 + aa / c;
        if (fabs(c) < GRAFT__CF_TINY) {
            c = GRAFT__CF_TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < GRAFT__CF_TINY) {
            d = GRAFT__CF_TINY;
        }
        c = 1.0 + aa / c;
        if (fabs(c) < GRAFT__CF_TINY) {
            c = GRAFT__CF_TINY;
        }
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < GRAFT__CF_EPS) {
            break;
        }
    }
    return h;
}

double graft__ibeta(double a, double b, double x)
{
    assert(a > 0 && b > 0);
    if (x <= 0.0) {
        return 0.0;
    }
    if (x >= 1.0) {
        return 1.0;
    }
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    double bt = exp(lbt);
    if (x < (a + 1.0) / (a + b + 2.0)) {
        return bt * graft__betacf(a, b, x) / a;
    }
    return 1.0 - bt * graft__betacf(b, a, 1.0 - x) / b;
}

double graft__binom_cdf(uint64_t k, uint64_t n, double p)
{
    if (k >= n || p <= 0.0) {
        return 1.0;
    }
    if (p >= 1.0) {
        return 0.0;
    }
    return graft__ibeta((double)(n - k), (double)k + 1.0, 1.0 - p);
}

double graft__binom_sf(uint64_t k, uint64_t n, double p)
{
    if (k == 0) {
        return 1.0;
    }
    if (k > n || p <= 0.0) {
        return 0.0;
    }
    if (p >= 1.0) {
        return 1.0;
    }
    return graft__ibeta((double)k, (double)(n - k) + 1.0, p);
}

/* The p in [0, 1] where f (monotone, decreasing when `decreasing`) crosses target. */
static double graft__bisect(double (*f)(uint64_t, uint64_t, double), uint64_t x, uint64_t n,
                            double target, bool decreasing)
{
    double lo = 0.0, hi = 1.0;
    for (int i = 0; i < 200 && hi - lo > 1e-13; i++) {
        double mid = 0.5 * (lo + hi);
        double v = f(x, n, mid);
        bool above = decreasing ? v > target : v < target;
        if (above) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return 0.5 * (lo + hi);
}

double graft__cp_upper(uint64_t x, uint64_t n, double conf)
{
    assert(conf > 0.0 && conf < 1.0);
    if (n == 0 || x >= n) {
        return 1.0;
    }
    return graft__bisect(graft__binom_cdf, x, n, 1.0 - conf, true);
}

double graft__cp_lower(uint64_t x, uint64_t n, double conf)
{
    assert(conf > 0.0 && conf < 1.0);
    if (x == 0 || n == 0) {
        return 0.0;
    }
    if (x > n) {
        x = n;
    }
    return graft__bisect(graft__binom_sf, x, n, 1.0 - conf, false);
}

graft__verdict graft__gate_rate(uint64_t x, uint64_t n, double max_rate, double conf, double *upper)
{
    double up = graft__cp_upper(x, n, conf);
    if (upper) {
        *upper = up;
    }
    if (n == 0) {
        return GRAFT__V_HOLD;
    }
    if (up < max_rate) {
        return GRAFT__V_PASS;
    }
    if (graft__cp_lower(x, n, conf) > max_rate) {
        return GRAFT__V_FAIL;
    }
    return GRAFT__V_HOLD;
}

graft__verdict graft__gate_rate_diff(uint64_t xc, uint64_t nc, uint64_t xl, uint64_t nl,
                                     double max_diff, double conf, double *upper)
{
    double each = 1.0 - (1.0 - conf) / 2.0;
    double up = graft__cp_upper(xc, nc, each) - graft__cp_lower(xl, nl, each);
    if (upper) {
        *upper = up;
    }
    if (nc == 0) {
        return GRAFT__V_HOLD;
    }
    if (up < max_diff) {
        return GRAFT__V_PASS;
    }
    double lo = graft__cp_lower(xc, nc, each) - graft__cp_upper(xl, nl, each);
    if (lo > max_diff) {
        return GRAFT__V_FAIL;
    }
    return GRAFT__V_HOLD;
}

graft__verdict graft__gate_sign(uint64_t slower, uint64_t faster, double conf, double *p)
{
    uint64_t n = slower + faster;
    double alpha = 1.0 - conf;
    /* P(X >= k) under Binomial(n, 1/2): how unlikely this many faster (slower) pairs
     * are if each side were equally likely. */
    double p_pass = graft__binom_sf(faster, n, 0.5);
    double p_fail = graft__binom_sf(slower, n, 0.5);
    if (n == 0) {
        if (p) {
            *p = 1.0;
        }
        return GRAFT__V_HOLD;
    }
    if (p_pass < alpha) {
        if (p) {
            *p = p_pass;
        }
        return GRAFT__V_PASS;
    }
    if (p_fail < alpha) {
        if (p) {
            *p = p_fail;
        }
        return GRAFT__V_FAIL;
    }
    if (p) {
        *p = p_pass < p_fail ? p_pass : p_fail;
    }
    return GRAFT__V_HOLD;
}

typedef struct graft__mw_item {
    double v;
    uint64_t c;
    int side; /* 0: A, 1: B */
} graft__mw_item;

static int graft__mw_cmp(const void *x, const void *y)
{
    double a = ((const graft__mw_item *)x)->v, b = ((const graft__mw_item *)y)->v;
    return (a > b) - (a < b);
}

double graft__mann_whitney(const double *va, const uint64_t *ca, size_t na, const double *vb,
                           const uint64_t *cb, size_t nb, double *p_less)
{
    if (p_less) {
        *p_less = 1.0;
    }
    graft__mw_item *it = malloc(sizeof *it * (na + nb + 1));
    if (!it) {
        return 1.0;
    }
    size_t m = 0;
    double n1 = 0, n2 = 0;
    for (size_t i = 0; i < na; i++) {
        if (ca[i]) {
            it[m++] = (graft__mw_item){va[i], ca[i], 0};
            n1 += (double)ca[i];
        }
    }
    for (size_t i = 0; i < nb; i++) {
        if (cb[i]) {
            it[m++] = (graft__mw_item){vb[i], cb[i], 1};
            n2 += (double)cb[i];
        }
    }
    if (n1 == 0 || n2 == 0) {
        free(it);
        return 1.0;
    }
    qsort(it, m, sizeof *it, graft__mw_cmp);
    double rank = 0, rb = 0, ties = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i;
        double t = 0, tb = 0;
        while (j < m && it[j].v == it[i].v) {
            t += (double)it[j].c;
            if (it[j].side == 1) {
                tb += (double)it[j].c;
            }
            j++;
        }
        double mid = rank + (t + 1.0) / 2.0; /* the group's ranks are rank+1 .. rank+t */
        rb += tb * mid;
        ties += t * t * t - t;
        rank += t;
        i = j;
    }
    free(it);
    double n = n1 + n2;
    double u = rb - n2 * (n2 + 1.0) / 2.0; /* pairs where B > A, ties counting half */
    double mean = n1 * n2 / 2.0;
    double var = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if (var <= 0) {
        return 1.0; /* every value ties: no evidence either way */
    }
    double sd = sqrt(var);
    double zg = (u - mean - 0.5) / sd;
    double zl = (u - mean + 0.5) / sd;
    if (p_less) {
        *p_less = 0.5 * erfc(-zl / sqrt(2.0));
    }
    return 0.5 * erfc(zg / sqrt(2.0));
}

graft__verdict graft__gate_mw_hist(const uint64_t *legacy, const uint64_t *candidate,
                                   size_t buckets, double (*value)(size_t i), double tolerance,
                                   uint64_t min_each, double conf, double *p)
{
    if (p) {
        *p = 1.0;
    }
    uint64_t nl = 0, nc = 0;
    for (size_t i = 0; i < buckets; i++) {
        nl += legacy[i];
        nc += candidate[i];
    }
    if (nl == 0 || nc == 0 || nl < min_each || nc < min_each) {
        return GRAFT__V_HOLD;
    }
    double *vl = malloc(sizeof(double) * buckets * 2);
    if (!vl) {
        return GRAFT__V_HOLD;
    }
    double *vc = vl + buckets;
    for (size_t i = 0; i < buckets; i++) {
        vc[i] = value(i);
        vl[i] = vc[i] * (1.0 + tolerance);
    }
    double p_less = 1.0;
    double p_greater = graft__mann_whitney(vl, legacy, buckets, vc, candidate, buckets, &p_less);
    free(vl);
    double alpha = 1.0 - conf;
    if (p_less < alpha) {
        if (p) {
            *p = p_less;
        }
        return GRAFT__V_PASS;
    }
    if (p_greater < alpha) {
        if (p) {
            *p = p_greater;
        }
        return GRAFT__V_FAIL;
    }
    if (p) {
        *p = p_less < p_greater ? p_less : p_greater;
    }
    return GRAFT__V_HOLD;
}
