/*
 * scatter.c: the plan's picture, benefit against effort, as a self-contained SVG (no
 * Graphviz needed). Effort on a log scale (it spans orders of magnitude), benefit on a
 * square-root scale (a few components carry most of it); the medians that split the
 * tiers are dashed; each ranked component is a dot coloured by tier, labelled for the
 * first LABELLED of the order. Output depends only on the model: byte-identical plans.
 */
#define _GNU_SOURCE
#include "plan.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { W = 760, H = 500, ML = 70, MR = 20, MT = 30, MB = 60, LABELLED = 12 };

static const char *const tier_colors[] = {"#999999", "#1a9850", "#fdae61", "#74add1", "#cccccc"};

typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = NULL;
    int r = vasprintf(&t, fmt, ap);
    va_end(ap);
    if (r < 0)
        return;
    pl_grow((void **)&b->s, &b->cap, b->len + (size_t)r + 1, 1);
    memcpy(b->s + b->len, t, (size_t)r + 1);
    b->len += (size_t)r;
    free(t);
}

static void put_text(sbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            put(b, "&amp;");
        else if (*s == '<')
            put(b, "&lt;");
        else if (*s == '>')
            put(b, "&gt;");
        else
            put(b, "%c", *s);
    }
}

char *pl_render_scatter(const pl_model *m)
{
    sbuf b = {0};
    double emin = 1e300, emax = 0;
    for (size_t r = 0; r < m->nranked; r++) {
        const pl_comp *c = &m->comps[m->order[r]];
        if (c->effort < emin)
            emin = c->effort;
        if (c->effort > emax)
            emax = c->effort;
    }
    if (m->nranked == 0)
        emin = emax = 1;
    double lx0 = log10(emin), lx1 = log10(emax);
    if (lx1 - lx0 < 0.5) {
        lx0 -= 0.25;
        lx1 += 0.25;
    }
    double pw = W - ML - MR, ph = H - MT - MB;
#define X(e) (ML + (log10(e) - lx0) / (lx1 - lx0) * pw)
#define Y(bn) (MT + ph - sqrt((bn) < 0 ? 0 : (bn)) * ph)
    put(&b,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d "
        "%d\" font-family=\"Helvetica,sans-serif\" font-size=\"11\">\n",
        W, H, W, H);
    put(&b, "<title>graft plan: benefit against effort</title>\n");
    put(&b,
        "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"#fafafa\" "
        "stroke=\"#888\"/>\n",
        ML, MT, pw, ph);
    /* axes: effort decades, benefit quarters */
    for (int d = (int)floor(lx0); d <= (int)ceil(lx1); d++) {
        for (int k = 1; k <= 9; k += k == 1 ? 1 : 3) {
            double v = pow(10, d) * k;
            if (log10(v) < lx0 || log10(v) > lx1)
                continue;
            double x = X(v);
            put(&b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#e4e4e4\"/>\n", x,
                MT, x, MT + ph);
            put(&b, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%g</text>\n", x,
                MT + ph + 15, v);
        }
    }
    for (int q = 0; q <= 4; q++) {
        double bn = q / 4.0;
        put(&b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n", ML,
            Y(bn), ML + pw, Y(bn));
        put(&b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>\n", ML - 5, Y(bn) + 4,
            bn);
    }
    put(&b,
        "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">effort: (1 + lines/1000) x (1 + "
        "boundary/8), x2 in a cycle (log scale)</text>\n",
        ML + pw / 2, H - 20);
    put(&b,
        "<text transform=\"translate(16,%.0f) rotate(-90)\" text-anchor=\"middle\">security "
        "benefit, relative (square-root scale)</text>\n",
        MT + ph / 2);
    /* the medians that split the tiers */
    double bmin = -1, emed = -1;
    for (size_t r = 0; r < m->nranked; r++) {
        const pl_comp *c = &m->comps[m->order[r]];
        if ((c->tier == 1 || c->tier == 2) && (bmin < 0 || c->benefit_norm < bmin))
            bmin = c->benefit_norm;
        if (c->tier == 1 && c->effort > emed)
            emed = c->effort;
    }
    if (bmin >= 0)
        put(&b,
            "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#555\" "
            "stroke-dasharray=\"4 3\"/>\n",
            ML, Y(bmin), ML + pw, Y(bmin));
    if (emed > 0)
        put(&b,
            "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#555\" "
            "stroke-dasharray=\"4 3\"/>\n",
            X(emed), MT, X(emed), MT + ph);
    /* dots, last-ranked first so the first ones are drawn on top */
    for (size_t r = m->nranked; r-- > 0;) {
        const pl_comp *c = &m->comps[m->order[r]];
        double x = X(c->effort), y = Y(c->benefit_norm);
        put(&b,
            "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\" stroke=\"#333\" "
            "stroke-width=\"0.6\"><title>#%d ",
            x, y, r < (size_t)LABELLED ? 5 : 3, tier_colors[c->tier], c->rank);
        put_text(&b, c->name);
        put(&b, ": benefit %.2f, effort %.1f, %s</title></circle>\n", c->benefit_norm, c->effort,
            pl_tier_name(c->tier));
        if (r < (size_t)LABELLED) {
            put(&b, "<text x=\"%.1f\" y=\"%.1f\">%d ", x + 7, y - 4, c->rank);
            put_text(&b, c->name);
            put(&b, "</text>\n");
        }
    }
    /* legend */
    for (int t = 1; t <= 4; t++) {
        double lx = ML + 10 + (t - 1) * 170.0, ly = H - 6;
        put(&b,
            "<circle cx=\"%.0f\" cy=\"%.0f\" r=\"5\" fill=\"%s\" stroke=\"#333\" "
            "stroke-width=\"0.6\"/><text x=\"%.0f\" y=\"%.0f\">%d: %s</text>\n",
            lx, ly - 4, tier_colors[t], lx + 9, ly, t, pl_tier_name(t));
    }
    put(&b, "</svg>\n");
#undef X
#undef Y
    return b.s;
}

int pl_write_svg(const pl_model *m, FILE *out)
{
    char *s = pl_render_scatter(m);
    int rc = fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out) < 0 || fputs(s, out) < 0
                 ? -1
                 : 0;
    free(s);
    return rc;
}
