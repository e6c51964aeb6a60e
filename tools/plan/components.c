/*
 * components.c: the component of every source file when no groups file names it.
 *
 *  - Third-party code is recognised and set apart: files under a vendoring directory
 *    (deps/, third_party/, vendor/, external/, ...: the component is that directory's
 *    child, e.g. deps/lua), files matching the config's third_party globs, and files
 *    whose licence header names only holders that are not the project's (the holders
 *    named by at least PROJECT_HOLDER_SHARE of the files that name one), or says it is
 *    in the public domain, and does not mention the project by name.
 *  - A directory is a component, unless the layout is flat: a directory holding at
 *    least FLAT_MIN_FILES sources, FLAT_MIN_LINES lines and FLAT_MIN_SHARE of the
 *    project's lines is split into units read from the code itself: each source file
 *    (its header joins it, in model.c) is a unit, and units are merged agglomeratively
 *    by call-graph coupling, calls(A,B) / sqrt(calls(A) calls(B)) (calls(X): all of X's
 *    calls to and from the directory's other files), while it is at least MERGE_COUPLING
 *    and the merged unit stays under the size cap. The coupling is mutual: a utility
 *    that every file calls (a string or hash-table library) is merged with none.
 * The groups file still wins over all of this. docs/PLAN.md documents the constants.
 */
#define _GNU_SOURCE
#include "plan.h"

#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FLAT_MIN_FILES 16
#define FLAT_MIN_LINES 10000
#define FLAT_MIN_SHARE 0.5
#define MERGE_COUPLING 0.4
#define MERGE_CAP_MIN 3000   /* lines */
#define MERGE_CAP_SHARE 0.05 /* of the directory's lines */
#define PROJECT_HOLDER_SHARE 0.15

static const char *const vendor_dirs[] = {"deps",       "third_party", "third-party",
                                          "thirdparty", "3rdparty",    "vendor",
                                          "vendored",   "external",    NULL};

/* "deps/lua" for "deps/lua/src/lapi.c"; NULL when the path is not vendored. */
char *pl_vendor_component(const char *rel)
{
    const char *seg = rel;
    while (*seg) {
        const char *end = strchr(seg, '/');
        if (!end)
            return NULL; /* the file name itself */
        size_t n = (size_t)(end - seg);
        for (const char *const *v = vendor_dirs; *v; v++) {
            if (strlen(*v) == n && !strncmp(seg, *v, n)) {
                const char *next = strchr(end + 1, '/');
                size_t len = next ? (size_t)(next - rel) : (size_t)(end - rel);
                char *c = pl_xmalloc(len + 1);
                memcpy(c, rel, len);
                c[len] = '\0';
                return c;
            }
        }
        seg = end + 1;
    }
    return NULL;
}

/* Calls fn(holder) for each line of a '\n'-separated holders list. */
static int each_holder(const char *holders, int (*fn)(void *, const char *), void *ud)
{
    char buf[64];
    for (const char *p = holders; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n >= sizeof(buf))
            n = sizeof(buf) - 1;
        memcpy(buf, p, n);
        buf[n] = '\0';
        if (fn(ud, buf))
            return 1;
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

static int count_holder(void *ud, const char *h)
{
    pl_strmap *m = ud;
    int v = pl_strmap_get(m, h);
    pl_strmap_put(m, h, v < 0 ? 1 : v + 1);
    return 0;
}

typedef struct holder_check {
    const pl_strmap *counts;
    int need;
} holder_check;

static int is_project_holder(void *ud, const char *h)
{
    const holder_check *c = ud;
    return pl_strmap_get(c->counts, h) >= c->need;
}

static char *first_holder(const char *holders)
{
    const char *nl = strchr(holders, '\n');
    size_t n = nl ? (size_t)(nl - holders) : strlen(holders);
    char *s = pl_xmalloc(n + 1);
    memcpy(s, holders, n);
    s[n] = '\0';
    return s;
}

/* ---- flat layouts: agglomerative clustering of one directory's files ---- */

typedef struct cl_unit {
    int rep; /* representative file (largest) */
    unsigned lines;
    int alive;
    int *members;
    size_t nmem, memcap;
} cl_unit;

static int cmp_member(const void *a, const void *b, void *arg)
{
    const pl_file *files = arg;
    int x = *(const int *)a, y = *(const int *)b;
    if (files[x].lines != files[y].lines)
        return files[x].lines > files[y].lines ? -1 : 1;
    return x - y;
}

static void cluster_dir(const pl_file *files, char *const *rel, const int *idx, size_t n,
                        const pl_fedge *edges, size_t nedges, const char *dir, char **comp_name)
{
    /* dense weights between the directory's files (n is at most a few hundred) */
    int *local = NULL;
    size_t maxf = 0;
    for (size_t i = 0; i < n; i++)
        if ((size_t)idx[i] + 1 > maxf)
            maxf = (size_t)idx[i] + 1;
    local = pl_xcalloc(maxf, sizeof(int));
    for (size_t i = 0; i < maxf; i++)
        local[i] = -1;
    for (size_t i = 0; i < n; i++)
        local[idx[i]] = (int)i;
    double *w = pl_xcalloc(n * n, sizeof(double));
    double *tot = pl_xcalloc(n, sizeof(double));
    unsigned dir_lines = 0;
    for (size_t i = 0; i < nedges; i++) {
        const pl_fedge *e = &edges[i];
        if ((size_t)e->a >= maxf || (size_t)e->b >= maxf)
            continue;
        int a = local[e->a], b = local[e->b];
        if (a < 0 || b < 0 || a == b)
            continue;
        w[(size_t)a * n + (size_t)b] += e->w;
        w[(size_t)b * n + (size_t)a] += e->w;
        tot[a] += e->w;
        tot[b] += e->w;
    }
    cl_unit *u = pl_xcalloc(n, sizeof(cl_unit));
    for (size_t i = 0; i < n; i++) {
        u[i].rep = idx[i];
        u[i].lines = files[idx[i]].lines;
        u[i].alive = 1;
        PL_PUSH(u[i].members, u[i].nmem, u[i].memcap, idx[i]);
        dir_lines += files[idx[i]].lines;
    }
    double cap = dir_lines * MERGE_CAP_SHARE;
    if (cap < MERGE_CAP_MIN)
        cap = MERGE_CAP_MIN;
    for (;;) {
        double best = 0;
        size_t ba = 0, bb = 0;
        for (size_t a = 0; a < n; a++) {
            if (!u[a].alive || tot[a] <= 0)
                continue;
            for (size_t b = a + 1; b < n; b++) {
                if (!u[b].alive || tot[b] <= 0 || w[a * n + b] <= 0)
                    continue;
                if (u[a].lines + u[b].lines > cap)
                    continue;
                /* mutual: a utility everything calls (sds, dict) attracts no one */
                double c = w[a * n + b] / sqrt(tot[a] * tot[b]);
                if (c > best) { /* ties: the first pair in file order, so runs agree */
                    best = c;
                    ba = a;
                    bb = b;
                }
            }
        }
        if (best < MERGE_COUPLING)
            break;
        /* merge bb into ba */
        for (size_t k = 0; k < n; k++) {
            if (k == ba || k == bb)
                continue;
            w[ba * n + k] += w[bb * n + k];
            w[k * n + ba] = w[ba * n + k];
            w[bb * n + k] = w[k * n + bb] = 0;
        }
        tot[ba] = tot[ba] + tot[bb] - 2 * w[ba * n + bb];
        w[ba * n + bb] = w[bb * n + ba] = 0;
        tot[bb] = 0;
        for (size_t k = 0; k < u[bb].nmem; k++)
            PL_PUSH(u[ba].members, u[ba].nmem, u[ba].memcap, u[bb].members[k]);
        u[ba].lines += u[bb].lines;
        u[bb].alive = 0;
    }
    for (size_t a = 0; a < n; a++) {
        if (!u[a].alive)
            continue;
        qsort_r(u[a].members, u[a].nmem, sizeof(int), cmp_member, (void *)files);
        /* named after its files' stems, largest first: "src/t_zset+geo" */
        size_t cap2 = 0, len = 0;
        char *name = NULL;
        for (size_t k = 0; k < u[a].nmem && k < 3; k++) {
            const char *r = rel[u[a].members[k]];
            const char *base = strrchr(r, '/');
            base = base ? base + 1 : r;
            const char *dot = strrchr(base, '.');
            size_t bl = dot ? (size_t)(dot - base) : strlen(base);
            char *one = k == 0 ? pl_xasprintf("%s%s%.*s", strcmp(dir, ".") ? dir : "",
                                              strcmp(dir, ".") ? "/" : "", (int)bl, base)
                               : pl_xasprintf("+%.*s", (int)bl, base);
            pl_grow((void **)&name, &cap2, len + strlen(one) + 1, 1);
            memcpy(name + len, one, strlen(one) + 1);
            len += strlen(one);
            free(one);
        }
        if (u[a].nmem > 3) {
            char *more = pl_xasprintf("%s+%zu more", name, u[a].nmem - 3);
            free(name);
            name = more;
        }
        for (size_t k = 0; k < u[a].nmem; k++)
            comp_name[u[a].members[k]] = pl_xstrdup(name);
        free(name);
    }
    for (size_t i = 0; i < n; i++)
        free(u[i].members);
    free(u);
    free(w);
    free(tot);
    free(local);
}

int pl_mentions_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    if (n < 3 || !text)
        return 0;
    for (const char *p = text; (p = strcasestr(p, word)) != NULL; p += n) {
        int before = p == text || !isalnum((unsigned char)p[-1]);
        int after = !isalnum((unsigned char)p[n]);
        if (before && after)
            return 1;
    }
    return 0;
}

void pl_components_assign(const pl_config *cfg, const char *project, const pl_file *files,
                          char *const *rel, size_t n, const pl_fedge *edges, size_t nedges,
                          char **comp_name, char **vendor_why)
{
    for (size_t i = 0; i < n; i++) {
        comp_name[i] = NULL;
        vendor_why[i] = NULL;
    }
    /* the project's copyright holders, from the files outside vendoring directories */
    pl_strmap counts;
    pl_strmap_init(&counts);
    int with_holders = 0;
    for (size_t i = 0; i < n; i++) {
        if (files[i].status == PL_FILE_FAILED || !files[i].holders || !files[i].holders[0])
            continue;
        char *v = pl_vendor_component(rel[i]);
        if (!v) {
            with_holders++;
            each_holder(files[i].holders, count_holder, &counts);
        }
        free(v);
    }
    int need = (int)(with_holders * PROJECT_HOLDER_SHARE + 0.999);
    if (need < 2)
        need = 2;
    holder_check hc = {.counts = &counts, .need = need};
    const char *project_name = project ? project : "";

    pl_strmap dirs; /* directory -> index into the dir lists */
    pl_strmap_init(&dirs);
    typedef struct dlist {
        char *dir;
        int *v;
        size_t n, cap;
        unsigned lines;
    } dlist;
    dlist *dl = NULL;
    size_t ndl = 0, dlcap = 0;
    unsigned own_lines = 0;
    for (size_t i = 0; i < n; i++) {
        if (files[i].status == PL_FILE_FAILED)
            continue;
        char *g = pl_config_group(cfg, rel[i]);
        if (g) {
            comp_name[i] = g;
            continue;
        }
        char *v = pl_vendor_component(rel[i]);
        if (v) {
            comp_name[i] = v;
            vendor_why[i] = pl_xasprintf("vendored under %s/", v);
            continue;
        }
        for (size_t k = 0; k < cfg->nthird; k++) {
            if (fnmatch(cfg->third[k], rel[i], 0) == 0) {
                comp_name[i] = pl_path_dirname(rel[i]);
                vendor_why[i] = pl_xasprintf("matches third_party glob %s", cfg->third[k]);
                break;
            }
        }
        if (comp_name[i])
            continue;
        const char *h = files[i].holders ? files[i].holders : "";
        int named = h[0] != '\0';
        int own = (named && each_holder(h, is_project_holder, &hc)) ||
                  pl_mentions_word(files[i].head, project_name);
        if (with_holders >= 3 && !own && (named || files[i].public_domain)) {
            /* another project's file copied in: one component per file */
            const char *dot = strrchr(rel[i], '.');
            size_t bl = dot ? (size_t)(dot - rel[i]) : strlen(rel[i]);
            comp_name[i] = pl_xasprintf("%.*s", (int)bl, rel[i]);
            if (named) {
                char *who = first_holder(h);
                vendor_why[i] = pl_xasprintf("licence header names %s", who);
                free(who);
            } else {
                vendor_why[i] = pl_xstrdup("licence header says public domain");
            }
            continue;
        }
        char *d = pl_path_dirname(rel[i]);
        int k = pl_strmap_get(&dirs, d);
        if (k < 0) {
            dlist nd = {.dir = pl_xstrdup(d)};
            PL_PUSH(dl, ndl, dlcap, nd);
            k = (int)ndl - 1;
            pl_strmap_put(&dirs, d, k);
        }
        PL_PUSH(dl[k].v, dl[k].n, dl[k].cap, (int)i);
        dl[k].lines += files[i].lines;
        own_lines += files[i].lines;
        free(d);
    }
    for (size_t k = 0; k < ndl; k++) {
        int flat = dl[k].n >= FLAT_MIN_FILES && dl[k].lines >= FLAT_MIN_LINES &&
                   dl[k].lines >= own_lines * FLAT_MIN_SHARE;
        if (flat && !cfg->directories)
            cluster_dir(files, rel, dl[k].v, dl[k].n, edges, nedges, dl[k].dir, comp_name);
        else
            for (size_t j = 0; j < dl[k].n; j++)
                comp_name[dl[k].v[j]] = pl_xstrdup(dl[k].dir);
        free(dl[k].dir);
        free(dl[k].v);
    }
    free(dl);
    pl_strmap_free(&dirs);
    pl_strmap_free(&counts);
}
