/*
 * model.c: merges the per-file facts of `graft plan` into the plan: components, the
 * call graph (functions resolved across files by USR), symbols crossing components,
 * cycles (Tarjan's strongly connected components), distance to untrusted input (BFS),
 * and the priority score. The formula is documented in docs/PLAN.md; keep both in step.
 */
#define _GNU_SOURCE
#include "plan.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Score weights (docs/PLAN.md, "Benefit, effort and the order"). */
#define INPUT_READ_BONUS 2.0     /* benefit per untrusted-input read */
#define TAINTED_PROXIMITY 1.0    /* untrusted data reaches it, through any number of calls */
#define PARSER_FACTOR 1.5        /* risk x this in a parser of untrusted data (tainted, parses) */
#define NEAR_PROXIMITY 0.15      /* near untrusted input by calls, but no data flows there */
#define UNREACHED_PROXIMITY 0.05 /* proximity of code no untrusted input reaches */
#define HISTORY_WEIGHT 0.5       /* benefit x (1 + HISTORY_WEIGHT log2(1 + bug-fix commits)) */
#define HIGH_BENEFIT_SHARE 0.2   /* "high benefit": at least this share of the highest too */
#define BOUNDARY_HALF 8.0        /* boundary symbols at which isolation halves */
#define SIZE_HALF 1000.0         /* lines at which the size factor halves */
#define CYCLE_PENALTY 0.5        /* isolation factor for components in a cycle */
#define COMPLEXITY_FREE 5        /* cyclomatic complexity that adds no risk */
#define COMPLEXITY_WEIGHT 0.25   /* risk per point of complexity above COMPLEXITY_FREE */
#define MAX_INDIRECT_TARGETS 32  /* more same-typed candidates: too ambiguous to link */
#define MAX_TAINT_TARGETS 4096   /* dispatch tables: data flows to every handler */

static int comp_of_name(pl_model *m, pl_strmap *names, const char *name)
{
    int id = pl_strmap_get(names, name);
    if (id >= 0)
        return id;
    pl_comp c = {0};
    c.name = pl_xstrdup(name);
    c.dist = -1;
    c.cycle = -1;
    PL_PUSH(m->comps, m->ncomps, m->compcap, c);
    id = (int)m->ncomps - 1;
    pl_strmap_put(names, name, id);
    return id;
}

static void add_adj(pl_mfunc *f, int to)
{
    PL_PUSH(f->adj, f->nadj, f->adjcap, to);
}

static void add_crossing(pl_model *m, pl_strmap *edge_ix, pl_strmap *sym_ix, int from, int to,
                         const pl_use *u, int from_func, int target_func)
{
    char key[64];
    snprintf(key, sizeof(key), "%d>%d", from, to);
    int e = pl_strmap_get(edge_ix, key);
    if (e < 0) {
        pl_edge ne = {.from = from, .to = to};
        PL_PUSH(m->edges, m->nedges, m->edgecap, ne);
        e = (int)m->nedges - 1;
        pl_strmap_put(edge_ix, key, e);
    }
    pl_edge *ed = &m->edges[e];
    if (u->kind == PL_USE_CALL || u->kind == PL_USE_REF || u->kind == PL_USE_INDIRECT)
        ed->ncalls++;
    else if (u->kind == PL_USE_TYPE)
        ed->ntypes++;
    else
        ed->nvars++;
    char *sk = pl_xasprintf("%d|%d|%s", e, (int)u->kind, u->usr);
    int s = pl_strmap_get(sym_ix, sk);
    if (s < 0) {
        /* a defined function by its qualified name (C++ methods: Class::method) */
        const char *nm = target_func >= 0 ? m->funcs[target_func].f->name : u->name;
        pl_sym ns = {.kind = u->kind,
                     .name = pl_xstrdup(nm),
                     .from_func = from_func,
                     .line = u->line,
                     .col = u->col,
                     .target_func = target_func};
        PL_PUSH(ed->syms, ed->nsyms, ed->symcap, ns);
        s = (int)ed->nsyms - 1;
        pl_strmap_put(sym_ix, sk, s);
    }
    ed->syms[s].count++;
    free(sk);
}

/* Tarjan's algorithm on the component graph (few nodes: recursion is fine). */
typedef struct tarjan {
    pl_model *m;
    int *index, *low, *stack, *on;
    int sp, next;
} tarjan;

static void strongconnect(tarjan *t, int v)
{
    t->index[v] = t->low[v] = t->next++;
    t->stack[t->sp++] = v;
    t->on[v] = 1;
    for (size_t i = 0; i < t->m->nedges; i++) {
        const pl_edge *e = &t->m->edges[i];
        if (e->from != v || t->m->comps[e->to].third_party)
            continue; /* calls into vendored code: a library, not a cycle to cut */
        int w = e->to;
        if (t->index[w] < 0) {
            strongconnect(t, w);
            if (t->low[w] < t->low[v])
                t->low[v] = t->low[w];
        } else if (t->on[w] && t->index[w] < t->low[v]) {
            t->low[v] = t->index[w];
        }
    }
    if (t->low[v] == t->index[v]) {
        int size = 0;
        for (int i = t->sp - 1; i >= 0; i--) {
            size++;
            if (t->stack[i] == v)
                break;
        }
        int id = size > 1 ? t->m->ncycles++ : -1;
        int w;
        do {
            w = t->stack[--t->sp];
            t->on[w] = 0;
            t->m->comps[w].cycle = id;
        } while (w != v);
    }
}

static void find_cycles(pl_model *m)
{
    size_t n = m->ncomps;
    tarjan t = {.m = m};
    t.index = pl_xcalloc(n, sizeof(int));
    t.low = pl_xcalloc(n, sizeof(int));
    t.stack = pl_xcalloc(n, sizeof(int));
    t.on = pl_xcalloc(n, sizeof(int));
    for (size_t i = 0; i < n; i++)
        t.index[i] = -1;
    for (size_t i = 0; i < n; i++)
        if (t.index[i] < 0)
            strongconnect(&t, (int)i);
    for (size_t i = 0; i < m->nedges; i++) {
        pl_edge *e = &m->edges[i];
        int cf = m->comps[e->from].cycle;
        e->in_cycle = cf >= 0 && cf == m->comps[e->to].cycle;
    }
    free(t.index);
    free(t.low);
    free(t.stack);
    free(t.on);
}

/* Distance to untrusted input: 0-1 BFS over the undirected call graph, where entering a
 * forwarder (a function that only forwards one call) costs nothing. */
static void distances(pl_model *m)
{
    size_t cap = m->nfuncs + 1;
    for (size_t i = 0; i < m->nfuncs; i++)
        cap += m->funcs[i].nadj;
    int *dq = pl_xcalloc(cap, sizeof(int));
    size_t head = 0, tail = 0; /* circular deque */
    for (size_t i = 0; i < m->nfuncs; i++) {
        m->funcs[i].dist = -1;
        const pl_func *f = m->funcs[i].f;
        for (size_t j = 0; j < f->nsigs; j++) {
            if (f->sigs[j].kind == PL_SIG_INPUT) {
                m->funcs[i].dist = 0;
                dq[tail] = (int)i;
                tail = (tail + 1) % cap;
                break;
            }
        }
    }
    while (head != tail) {
        int v = dq[head];
        head = (head + 1) % cap;
        const pl_mfunc *f = &m->funcs[v];
        for (size_t j = 0; j < f->nadj; j++) {
            int w = f->adj[j];
            int cost = m->funcs[w].forwarder ? 0 : 1;
            if (m->funcs[w].dist < 0 || f->dist + cost < m->funcs[w].dist) {
                m->funcs[w].dist = f->dist + cost;
                if (cost == 0) {
                    head = (head + cap - 1) % cap;
                    dq[head] = w;
                } else {
                    dq[tail] = w;
                    tail = (tail + 1) % cap;
                }
            }
        }
    }
    free(dq);
}

static int has_input_sig(const pl_func *f)
{
    for (size_t j = 0; j < f->nsigs; j++)
        if (f->sigs[j].kind == PL_SIG_INPUT)
            return 1;
    return 0;
}

/* Where untrusted data enters a function: 0 for bytes read (sockets, files, stdin);
 * LOCAL_INPUT_TAINT for argv and the environment, which whoever starts the program
 * controls (a weaker source); -1 when it reads nothing. */
#define LOCAL_INPUT_TAINT 2
static int input_taint(const pl_func *f)
{
    int t = -1;
    for (size_t j = 0; j < f->nsigs; j++) {
        if (f->sigs[j].kind != PL_SIG_INPUT)
            continue;
        const char *w = f->sigs[j].what;
        int local = !strcmp(w, "argv") || !strcmp(w, "getenv") || !strcmp(w, "secure_getenv");
        int v = local ? LOCAL_INPUT_TAINT : 0;
        if (t < 0 || v < t)
            t = v;
    }
    return t;
}

/* Component of a declaration's file (a header): the group that names it, its vendoring
 * directory, the component of the source with the same stem ("dir/x.h" joins "dir/x.c"),
 * or its directory's component; -1 when it is outside the planned sources. */
static int comp_of_decl(pl_model *m, const pl_config *cfg, pl_strmap *names, pl_strmap *stems,
                        pl_strmap *cache, const char *file)
{
    if (!file)
        return -1;
    int v = pl_strmap_get(cache, file);
    if (v != -1)
        return v == -2 ? -1 : v;
    const char *rel = pl_path_under(file, m->root);
    int id = -1;
    if (rel && pl_config_selected(cfg, rel)) {
        char *g = pl_config_group(cfg, rel);
        if (g) {
            id = pl_strmap_get(names, g);
            free(g);
        }
        if (id < 0) {
            char *vc = pl_vendor_component(rel);
            if (vc)
                id = pl_strmap_get(names, vc);
            free(vc);
        }
        if (id < 0) {
            const char *dot = strrchr(rel, '.');
            char *stem = pl_xasprintf("%.*s", (int)(dot ? dot - rel : (long)strlen(rel)), rel);
            id = pl_strmap_get(stems, stem);
            free(stem);
        }
        if (id < 0) {
            char *d = pl_path_dirname(rel);
            id = pl_strmap_get(names, d); /* only components that have sources */
            free(d);
        }
    }
    pl_strmap_put(cache, file, id < 0 ? -2 : id);
    return id;
}

/* Taint: which functions untrusted data reaches, and through how many calls. Seeds read
 * untrusted input (0); data flows from a caller to a callee that it passes arguments to
 * (a method also gets its object), and from a seed back to its direct callers (the bytes
 * it read come back as results or through out-parameters). Entering a forwarder costs
 * nothing. 0-1 BFS over those directed edges (m->funcs[i].taint). */
typedef struct flow {
    int *to;
    size_t n, cap;
} flow;

static void taint(pl_model *m, flow *fw)
{
    /* Dial's algorithm: edge costs are 0 or 1 and seeds start at 0 or 2, so buckets by
     * taint value settle every function once, in order */
    typedef struct bucket {
        int *v;
        size_t n, cap;
    } bucket;
    size_t nb = 0, bcap = 0;
    bucket *b = NULL;
    for (size_t i = 0; i < m->nfuncs; i++) {
        int t = input_taint(m->funcs[i].f);
        m->funcs[i].taint = t;
        if (t < 0)
            continue;
        while (nb <= (size_t)t) {
            bucket e = {0};
            PL_PUSH(b, nb, bcap, e);
        }
        PL_PUSH(b[t].v, b[t].n, b[t].cap, (int)i);
    }
    char *done = pl_xcalloc(m->nfuncs ? m->nfuncs : 1, 1);
    for (size_t d = 0; d < nb; d++) {
        for (size_t k = 0; k < b[d].n; k++) { /* b[d] may grow while it is walked */
            int v = b[d].v[k];
            if (done[v] || m->funcs[v].taint != (int)d)
                continue;
            done[v] = 1;
            for (size_t j = 0; j < fw[v].n; j++) {
                int w = fw[v].to[j];
                int nd = (int)d + (m->funcs[w].forwarder ? 0 : 1);
                if (done[w] || (m->funcs[w].taint >= 0 && m->funcs[w].taint <= nd))
                    continue;
                m->funcs[w].taint = nd;
                while (nb <= (size_t)nd) {
                    bucket e = {0};
                    PL_PUSH(b, nb, bcap, e);
                }
                PL_PUSH(b[nd].v, b[nd].n, b[nd].cap, w);
            }
        }
    }
    for (size_t d = 0; d < nb; d++)
        free(b[d].v);
    free(b);
    free(done);
}

static void add_flow(flow *fw, int from, int to)
{
    if (from != to)
        PL_PUSH(fw[from].to, fw[from].n, fw[from].cap, to);
}

static int cmp_order(const void *a, const void *b, void *arg)
{
    const pl_model *m = arg;
    const pl_comp *x = &m->comps[*(const int *)a], *y = &m->comps[*(const int *)b];
    if (x->third_party != y->third_party)
        return x->third_party - y->third_party;
    if (x->tier != y->tier)
        return x->tier - y->tier;
    if (x->tier == 4 && x->effort != y->effort) /* nothing to gain: cheapest first */
        return x->effort < y->effort ? -1 : 1;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void append(char **s, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char **s, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = NULL;
    int r = vasprintf(&t, fmt, ap);
    va_end(ap);
    if (r < 0)
        return;
    pl_grow((void **)s, cap, *len + (size_t)r + 1, 1);
    memcpy(*s + *len, t, (size_t)r + 1);
    *len += (size_t)r;
    free(t);
}

static const char *const tier_names[] = {"", "high benefit, low effort",
                                         "high benefit, high effort", "lower benefit",
                                         "no memory-safety signal"};

const char *pl_tier_name(int tier)
{
    return tier >= 1 && tier <= 4 ? tier_names[tier] : "third-party";
}

static void make_reason(pl_model *m, pl_comp *c)
{
    char *s = NULL;
    size_t len = 0, cap = 0;
    append(&s, &len, &cap, "%s", "");
    if (c->third_party) {
        append(&s, &len, &cap,
               "third-party code (%s): replace it with an existing crate rather "
               "than port it; %u lines",
               c->vendor_why, c->lines);
        c->reason = s;
        return;
    }
    append(&s, &len, &cap, "%s; ", pl_tier_name(c->tier));
    /* where untrusted input is */
    const pl_signal *in = NULL;
    const char *in_file = NULL;
    int taint_min = -1;
    for (size_t i = 0; i < c->nfuncs; i++) {
        const pl_mfunc *mf = &m->funcs[c->funcs[i]];
        if (mf->taint >= 0 && (taint_min < 0 || mf->taint < taint_min))
            taint_min = mf->taint;
        for (size_t j = 0; j < mf->f->nsigs && !in; j++) {
            if (mf->f->sigs[j].kind == PL_SIG_INPUT) {
                in = &mf->f->sigs[j];
                in_file = mf->f->header ? mf->f->header : m->rel[mf->file];
            }
        }
    }
    if (in)
        append(&s, &len, &cap, "reads untrusted input (%d read%s, first: %s at %s:%u)",
               c->sigs[PL_SIG_INPUT], c->sigs[PL_SIG_INPUT] == 1 ? "" : "s", in->what, in_file,
               in->line);
    else if (taint_min == 0)
        append(&s, &len, &cap, "untrusted data reaches it through forwarders");
    else if (taint_min > 0)
        append(&s, &len, &cap, "untrusted data reaches it through %d call%s", taint_min,
               taint_min == 1 ? "" : "s");
    else if (c->dist == 0)
        append(&s, &len, &cap, "called from code reading untrusted input through forwarders");
    else if (c->dist > 0)
        append(&s, &len, &cap, "%d call%s from code reading untrusted input", c->dist,
               c->dist == 1 ? "" : "s");
    else
        append(&s, &len, &cap, "not reached from untrusted input");
    int first = 1;
    for (int k = 0; k < PL_SIG_COUNT; k++) {
        if (k == PL_SIG_INPUT || !c->sigs[k])
            continue;
        append(&s, &len, &cap, "%s%d %s", first ? "; risk signals: " : ", ", c->sigs[k],
               pl_sig_names[k]);
        first = 0;
    }
    if (first)
        append(&s, &len, &cap, "; no risk signals");
    append(&s, &len, &cap, "; max complexity %d", c->max_complexity);
    append(&s, &len, &cap, "; %d boundary symbol%s (fan-in %d, fan-out %d)", c->boundary,
           c->boundary == 1 ? "" : "s", c->fan_in, c->fan_out);
    if (c->cycle >= 0) {
        int n = 0;
        for (size_t i = 0; i < m->ncomps; i++)
            n += &m->comps[i] != c && m->comps[i].cycle == c->cycle;
        append(&s, &len, &cap, "; in a cycle with");
        int shown = 0;
        for (size_t i = 0; i < m->ncomps && shown < 5; i++) {
            if (&m->comps[i] != c && m->comps[i].cycle == c->cycle) {
                append(&s, &len, &cap, " %s", m->comps[i].name);
                shown++;
            }
        }
        if (n > shown)
            append(&s, &len, &cap, " and %d more", n - shown);
    }
    append(&s, &len, &cap, "; %u lines", c->lines);
    if (m->history) {
        int fixes = 0;
        for (size_t i = 0; i < c->nfiles; i++)
            fixes += m->fstat[c->files[i]].fixes;
        append(&s, &len, &cap, "; %d bug-fix commit%s", fixes, fixes == 1 ? "" : "s");
    }
    c->reason = s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Signals that are memory-safety risk (globals and threads alone are not). */
static int is_risk_kind(int k)
{
    return k != PL_SIG_GLOBAL_WRITE && k != PL_SIG_THREAD;
}

static int cmp_file_rank(const void *a, const void *b, void *arg)
{
    const pl_model *m = arg;
    int x = *(const int *)a, y = *(const int *)b;
    if (m->fstat[x].benefit != m->fstat[y].benefit)
        return m->fstat[x].benefit > m->fstat[y].benefit ? -1 : 1;
    return strcmp(m->rel[x], m->rel[y]);
}

static void score(pl_model *m)
{
    for (size_t i = 0; i < m->nfuncs; i++) {
        pl_mfunc *mf = &m->funcs[i];
        int counts[PL_SIG_COUNT] = {0};
        for (size_t j = 0; j < mf->f->nsigs; j++)
            counts[mf->f->sigs[j].kind]++;
        double r = 0;
        for (int k = 0; k < PL_SIG_COUNT; k++)
            r += pl_sig_weights[k] * counts[k];
        if (mf->f->complexity > COMPLEXITY_FREE)
            r += COMPLEXITY_WEIGHT * (mf->f->complexity - COMPLEXITY_FREE);
        /* a parser of untrusted data: reached by it and reading it byte by byte */
        if (mf->taint >= 0 && counts[PL_SIG_PARSE] > 0)
            r *= PARSER_FACTOR;
        mf->risk = r;
        /* each function by how directly untrusted data reaches it */
        double prox = mf->taint >= 0  ? TAINTED_PROXIMITY
                      : mf->dist >= 0 ? NEAR_PROXIMITY
                                      : UNREACHED_PROXIMITY;
        m->fstat[mf->file].benefit += r * prox + INPUT_READ_BONUS * counts[PL_SIG_INPUT];
        m->fstat[mf->file].complexity += mf->f->complexity;
    }
    for (size_t i = 0; i < m->nfiles; i++) {
        pl_fstat *fs = &m->fstat[i];
        if (m->history && fs->fixes > 0)
            fs->benefit *= 1.0 + HISTORY_WEIGHT * log2(1.0 + fs->fixes);
        if (m->file_comp[i] >= 0)
            m->comps[m->file_comp[i]].benefit += fs->benefit;
    }
    double maxb = 0;
    for (size_t i = 0; i < m->ncomps; i++)
        if (!m->comps[i].third_party && m->comps[i].benefit > maxb)
            maxb = m->comps[i].benefit;
    double *bs = pl_xcalloc(m->ncomps, sizeof(double)), *es = pl_xcalloc(m->ncomps, sizeof(double));
    size_t nr = 0;
    for (size_t i = 0; i < m->ncomps; i++) {
        pl_comp *c = &m->comps[i];
        c->benefit_norm = maxb > 0 && !c->third_party ? c->benefit / maxb : 0;
        c->isolation = 1.0 / (1.0 + c->boundary / BOUNDARY_HALF);
        if (c->cycle >= 0)
            c->isolation *= CYCLE_PENALTY;
        c->size_factor = 1.0 / (1.0 + c->lines / SIZE_HALF);
        /* effort: lines to port times the width of the FFI, doubled by a cycle */
        c->effort = 1.0 / (c->isolation * c->size_factor);
        c->score = 100.0 * c->benefit_norm / c->effort;
        c->has_risk = 0;
        for (int k = 0; k < PL_SIG_COUNT; k++)
            c->has_risk |= is_risk_kind(k) && c->sigs[k] > 0;
        if (!c->third_party && c->has_risk) {
            bs[nr] = c->benefit;
            es[nr] = c->effort;
            nr++;
        }
    }
    /* the axes split at the medians of the components that carry risk; "high benefit"
     * also needs a fifth of the highest, so that in a project of many small leaf files
     * the median alone does not make them all "high" */
    double me = median(es, nr), mb = median(bs, nr);
    if (mb < HIGH_BENEFIT_SHARE * maxb)
        mb = HIGH_BENEFIT_SHARE * maxb;
    free(bs);
    free(es);
    for (size_t i = 0; i < m->ncomps; i++) {
        pl_comp *c = &m->comps[i];
        if (c->third_party)
            c->tier = 0;
        else if (!c->has_risk)
            c->tier = 4;
        else if (c->benefit >= mb)
            c->tier = c->effort <= me ? 1 : 2;
        else
            c->tier = 3;
    }
    m->order = pl_xcalloc(m->ncomps, sizeof(int));
    for (size_t i = 0; i < m->ncomps; i++)
        m->order[i] = (int)i;
    qsort_r(m->order, m->ncomps, sizeof(int), cmp_order, m);
    m->nranked = 0;
    for (size_t i = 0; i < m->ncomps; i++) {
        pl_comp *c = &m->comps[m->order[i]];
        c->rank = c->third_party ? 0 : (int)++m->nranked;
    }
    for (size_t i = 0; i < m->ncomps; i++)
        make_reason(m, &m->comps[i]);

    /* files by benefit: the security criterion alone, for the evaluation */
    int *fo = pl_xcalloc(m->nfiles, sizeof(int));
    size_t nf = 0;
    for (size_t i = 0; i < m->nfiles; i++)
        if (m->file_comp[i] >= 0 && !m->comps[m->file_comp[i]].third_party)
            fo[nf++] = (int)i;
    qsort_r(fo, nf, sizeof(int), cmp_file_rank, m);
    for (size_t i = 0; i < nf; i++)
        m->fstat[fo[i]].rank = (int)i + 1;
    free(fo);
}

static void aggregate(pl_model *m)
{
    for (size_t i = 0; i < m->nfuncs; i++) {
        const pl_mfunc *mf = &m->funcs[i];
        pl_comp *c = &m->comps[mf->comp];
        for (size_t j = 0; j < mf->f->nsigs; j++)
            c->sigs[mf->f->sigs[j].kind]++;
        if (mf->f->complexity > c->max_complexity)
            c->max_complexity = mf->f->complexity;
        if (mf->dist >= 0 && (c->dist < 0 || mf->dist < c->dist))
            c->dist = mf->dist;
    }
    for (size_t i = 0; i < m->nedges; i++) {
        m->comps[m->edges[i].from].fan_out++;
        m->comps[m->edges[i].to].fan_in++;
    }
    /* boundary: distinct symbols crossing, in either direction */
    pl_strmap *seen = pl_xcalloc(m->ncomps, sizeof(pl_strmap));
    for (size_t ci = 0; ci < m->ncomps; ci++)
        pl_strmap_init(&seen[ci]);
    for (size_t i = 0; i < m->nedges; i++) {
        const pl_edge *e = &m->edges[i];
        for (size_t j = 0; j < e->nsyms; j++) {
            for (int side = 0; side < 2; side++) {
                int ci = side ? e->to : e->from;
                char *k = pl_xasprintf("%c%d|%s", side ? 'i' : 'o', (int)e->syms[j].kind,
                                       e->syms[j].name);
                if (pl_strmap_get(&seen[ci], k) < 0) {
                    pl_strmap_put(&seen[ci], k, 1);
                    m->comps[ci].boundary++;
                }
                free(k);
            }
        }
    }
    for (size_t ci = 0; ci < m->ncomps; ci++)
        pl_strmap_free(&seen[ci]);
    free(seen);
}

/* Replaces every occurrence of `from` in *s by `to`. */
static void replace_all(char **s, const char *from, const char *to)
{
    if (!*s || !*from || !strstr(*s, from))
        return;
    size_t fl = strlen(from), tl = strlen(to), len = 0, cap = 0;
    char *out = NULL;
    const char *p = *s;
    for (const char *hit; (hit = strstr(p, from)) != NULL; p = hit + fl) {
        pl_grow((void **)&out, &cap, len + (size_t)(hit - p) + tl + 1, 1);
        memcpy(out + len, p, (size_t)(hit - p));
        len += (size_t)(hit - p);
        memcpy(out + len, to, tl);
        len += tl;
    }
    pl_grow((void **)&out, &cap, len + strlen(p) + 1, 1);
    memcpy(out + len, p, strlen(p) + 1);
    free(*s);
    *s = out;
}

/* Plans name paths relative to the project root, so the same project planned on another
 * machine (or in another checkout) gives the same bytes: the root and the database path
 * are rewritten wherever libclang or the loader embedded them (diagnostics, the names of
 * anonymous types, skipped-entry warnings). */
static void relativize(pl_model *m, const char *ccdb_rel)
{
    char *prefix = pl_xasprintf("%s/", m->root);
    for (size_t i = 0; i < m->nfiles; i++) {
        pl_file *f = &m->files[i];
        for (size_t j = 0; j < f->nerrors; j++) {
            replace_all(&f->errors[j], m->ccdb_path, ccdb_rel);
            replace_all(&f->errors[j], prefix, "");
        }
        for (size_t j = 0; j < f->nfuncs; j++) {
            pl_func *fn = &f->funcs[j];
            replace_all(&fn->sig, prefix, "");
            replace_all(&fn->header, prefix, "");
            replace_all(&fn->ftype, prefix, "");
            for (size_t k = 0; k < fn->nuses; k++)
                replace_all(&fn->uses[k].name, prefix, "");
            for (size_t k = 0; k < fn->nsigs; k++)
                replace_all(&fn->sigs[k].what, prefix, "");
        }
    }
    free(prefix);
}

void pl_model_relativize_warnings(pl_model *m)
{
    char *prefix = pl_xasprintf("%s/", m->root);
    for (size_t i = 0; i < m->nwarnings; i++) {
        replace_all(&m->warnings[i], m->ccdb_path, m->ccdb_rel);
        replace_all(&m->warnings[i], prefix, "");
    }
    free(prefix);
}

/* path relative to dir, with ../ where needed (both absolute and normalised) */
static char *path_relative(const char *path, const char *dir)
{
    const char *r = pl_path_under(path, dir);
    if (r)
        return pl_xstrdup(r);
    if (!strcmp(path, dir))
        return pl_xstrdup(".");
    char *up = pl_xstrdup("");
    char *d = pl_xstrdup(dir);
    while (strcmp(d, "/") && !pl_path_under(path, d)) {
        char *p = pl_path_dirname(d);
        free(d);
        d = p[0] == '\0' || !strcmp(p, ".") ? (free(p), pl_xstrdup("/")) : p;
        char *u2 = pl_xasprintf("%s../", up);
        free(up);
        up = u2;
    }
    const char *rest = pl_path_under(path, d);
    char *out = pl_xasprintf("%s%s", up, rest ? rest : path);
    free(up);
    free(d);
    return out;
}

/* The project's name from its root directory: "redis" for .../redis-7.0.15. */
static char *project_name(const char *root)
{
    const char *b = strrchr(root, '/');
    b = b && b[1] ? b + 1 : root;
    size_t n = 0;
    while (b[n] && b[n] != '-' && b[n] != '_' && b[n] != '.')
        n++;
    return pl_xasprintf("%.*s", (int)n, b);
}

/* A project header (relative path, as relativize() left it) is third-party when it lies
 * under a vendoring directory, or its licence header names holders or the public domain
 * and not the project. Read once per header. */
static int header_is_foreign(pl_strmap *cache, const char *root, const char *project,
                             const char *header)
{
    int v = pl_strmap_get(cache, header);
    if (v >= 0)
        return v;
    char *vc = pl_vendor_component(header);
    int foreign = vc != NULL;
    free(vc);
    char *path = pl_path_join(root, header);
    FILE *f = foreign ? NULL : fopen(path, "rb");
    free(path);
    if (f) {
        char buf[4096];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        char *head = pl_licence_head(buf, n), *holders = NULL;
        int pd = 0;
        pl_licence_scan(head, strlen(head), &holders, &pd);
        foreign = (holders[0] || pd) && !pl_mentions_word(head, project);
        free(holders);
        free(head);
    }
    pl_strmap_put(cache, header, foreign);
    return foreign;
}

void pl_model_build(pl_model *m, const pl_config *cfg, const char *root, const char *ccdb_path,
                    pl_file *files, size_t nfiles)
{
    memset(m, 0, sizeof(*m));
    m->root = root;
    m->ccdb_path = ccdb_path;
    {
        char *cwd = getcwd(NULL, 0); /* -p may be relative to the working directory */
        char *abs = pl_path_join(cwd ? cwd : "/", ccdb_path);
        m->ccdb_rel = path_relative(abs, root);
        free(abs);
        free(cwd);
    }
    m->files = files;
    m->nfiles = nfiles;
    m->seams = cfg->seams;
    m->rel = pl_xcalloc(nfiles, sizeof(char *));
    m->file_comp = pl_xcalloc(nfiles, sizeof(int));
    m->fstat = pl_xcalloc(nfiles ? nfiles : 1, sizeof(pl_fstat));
    pl_strmap names, usr_func, usr_var, edge_ix, sym_ix, stems, overriders;
    pl_strmap_init(&names);
    pl_strmap_init(&usr_func);
    pl_strmap_init(&usr_var);
    pl_strmap_init(&edge_ix);
    pl_strmap_init(&sym_ix);
    pl_strmap_init(&stems);
    pl_strmap_init(&overriders);

    for (size_t i = 0; i < nfiles; i++) {
        const char *rel = pl_path_under(files[i].path, root);
        m->rel[i] = pl_xstrdup(rel ? rel : files[i].path);
        m->fstat[i].commits = -1;
    }
    relativize(m, m->ccdb_rel);
    /* functions first (by file), so the call graph can shape the components */
    char *project = project_name(root);
    pl_strmap foreign_hdr; /* header path -> 1 third-party, 0 the project's */
    pl_strmap_init(&foreign_hdr);
    for (size_t i = 0; i < nfiles; i++) {
        pl_file *f = &files[i];
        if (f->status == PL_FILE_FAILED)
            continue;
        for (size_t j = 0; j < f->nfuncs; j++) {
            /* a header's inline function, seen by every unit that includes it: once;
             * none from a third-party header (a vendored xxhash.h is not the project) */
            if (f->funcs[j].header &&
                (pl_strmap_get(&usr_func, f->funcs[j].usr) >= 0 ||
                 header_is_foreign(&foreign_hdr, root, project, f->funcs[j].header)))
                continue;
            pl_mfunc mf = {.f = &f->funcs[j], .file = (int)i, .comp = -1, .dist = -1};
            PL_PUSH(m->funcs, m->nfuncs, m->funccap, mf);
            if (pl_strmap_get(&usr_func, f->funcs[j].usr) < 0)
                pl_strmap_put(&usr_func, f->funcs[j].usr, (int)m->nfuncs - 1);
        }
    }
    /* ... and it lives with the source of the same stem when there is one
     * (connection.h's inline functions with connection.c), else with its first includer */
    {
        pl_strmap srcstem;
        pl_strmap_init(&srcstem);
        for (size_t i = 0; i < nfiles; i++) {
            if (files[i].status == PL_FILE_FAILED)
                continue;
            const char *dot = strrchr(files[i].path, '.');
            char *stem =
                pl_xasprintf("%.*s", (int)(dot ? dot - files[i].path : (long)strlen(files[i].path)),
                             files[i].path);
            if (pl_strmap_get(&srcstem, stem) < 0)
                pl_strmap_put(&srcstem, stem, (int)i);
            free(stem);
        }
        for (size_t i = 0; i < m->nfuncs; i++) {
            const char *h = m->funcs[i].f->header;
            if (!h)
                continue;
            const char *dot = strrchr(h, '.');
            char *stem = pl_xasprintf("%.*s", (int)(dot ? dot - h : (long)strlen(h)), h);
            int home = pl_strmap_get(&srcstem, stem);
            if (home >= 0)
                m->funcs[i].file = home;
            free(stem);
        }
        pl_strmap_free(&srcstem);
    }
    /* file-to-file coupling: calls and references between files */
    pl_fedge *fe = NULL;
    size_t nfe = 0, fecap = 0;
    {
        pl_strmap fix;
        pl_strmap_init(&fix);
        for (size_t i = 0; i < m->nfuncs; i++) {
            const pl_mfunc *mf = &m->funcs[i];
            for (size_t j = 0; j < mf->f->nuses; j++) {
                const pl_use *u = &mf->f->uses[j];
                if (u->kind != PL_USE_CALL && u->kind != PL_USE_REF)
                    continue;
                int t = pl_strmap_get(&usr_func, u->usr);
                if (t < 0 || m->funcs[t].file == mf->file)
                    continue;
                int a = mf->file < m->funcs[t].file ? mf->file : m->funcs[t].file;
                int b = mf->file < m->funcs[t].file ? m->funcs[t].file : mf->file;
                char key[32];
                snprintf(key, sizeof(key), "%d>%d", a, b);
                int e = pl_strmap_get(&fix, key);
                if (e < 0) {
                    pl_fedge ne = {.a = a, .b = b};
                    PL_PUSH(fe, nfe, fecap, ne);
                    e = (int)nfe - 1;
                    pl_strmap_put(&fix, key, e);
                }
                fe[e].w++;
            }
        }
        pl_strmap_free(&fix);
    }
    char **cname = pl_xcalloc(nfiles ? nfiles : 1, sizeof(char *));
    char **vwhy = pl_xcalloc(nfiles ? nfiles : 1, sizeof(char *));
    pl_components_assign(cfg, project, files, m->rel, nfiles, fe, nfe, cname, vwhy);
    free(project);
    pl_strmap_free(&foreign_hdr);
    free(fe);
    for (size_t i = 0; i < nfiles; i++) {
        pl_file *f = &files[i];
        if (f->status == PL_FILE_FAILED || !cname[i]) {
            m->files_failed += f->status == PL_FILE_FAILED;
            m->file_comp[i] = -1; /* nothing is known about it: it joins no component */
            free(cname[i]);
            free(vwhy[i]);
            continue;
        }
        int c = comp_of_name(m, &names, cname[i]);
        m->file_comp[i] = c;
        pl_comp *pc = &m->comps[c];
        if (vwhy[i] && !pc->third_party) {
            pc->third_party = 1;
            pc->vendor_why = vwhy[i];
        } else {
            free(vwhy[i]);
        }
        free(cname[i]);
        PL_PUSH(pc->files, pc->nfiles, pc->filecap, (int)i);
        pc->lines += f->lines;
        m->total_lines += f->lines;
        if (f->status == PL_FILE_PARTIAL)
            m->files_partial++;
        /* its header joins it: "dir/stem" of the source names the component */
        const char *dot = strrchr(m->rel[i], '.');
        char *stem =
            pl_xasprintf("%.*s", (int)(dot ? dot - m->rel[i] : (long)strlen(m->rel[i])), m->rel[i]);
        if (pl_strmap_get(&stems, stem) < 0)
            pl_strmap_put(&stems, stem, c);
        free(stem);
        for (size_t j = 0; j < f->ngvars; j++)
            if (pl_strmap_get(&usr_var, f->gvars[j].usr) < 0)
                pl_strmap_put(&usr_var, f->gvars[j].usr, c);
    }
    free(cname);
    free(vwhy);
    typedef struct {
        int *v;
        size_t n, cap;
    } olist;
    olist *ov = NULL;
    size_t nov = 0, ovcap = 0;
    for (size_t i = 0; i < m->nfuncs; i++) {
        pl_mfunc *mf = &m->funcs[i];
        mf->comp = m->file_comp[mf->file];
        pl_comp *pc = &m->comps[mf->comp];
        PL_PUSH(pc->funcs, pc->nfuncs, pc->funccap, (int)i);
        pc->func_lines += mf->f->end_line - mf->f->line + 1;
        /* virtual dispatch: a call of a virtual method may reach each override */
        for (size_t k = 0; k < mf->f->noverrides; k++) {
            int l = pl_strmap_get(&overriders, mf->f->overrides[k]);
            if (l < 0) {
                olist nl = {0};
                PL_PUSH(ov, nov, ovcap, nl);
                l = (int)nov - 1;
                pl_strmap_put(&overriders, mf->f->overrides[k], l);
            }
            PL_PUSH(ov[l].v, ov[l].n, ov[l].cap, (int)i);
        }
    }
    pl_strmap decl_cache;
    pl_strmap_init(&decl_cache);

    /* functions whose address is taken, by type: the targets of indirect calls */
    for (size_t i = 0; i < nfiles; i++) {
        for (size_t j = 0; j < files[i].ntaken; j++) {
            int t = pl_strmap_get(&usr_func, files[i].taken[j]);
            if (t >= 0)
                m->funcs[t].address_taken = 1;
        }
    }
    for (size_t i = 0; i < m->nfuncs; i++) {
        pl_mfunc *mf = &m->funcs[i];
        int calls = 0;
        for (size_t j = 0; j < mf->f->nuses; j++) {
            const pl_use *u = &mf->f->uses[j];
            if (u->kind == PL_USE_REF) {
                int t = pl_strmap_get(&usr_func, u->usr);
                if (t >= 0)
                    m->funcs[t].address_taken = 1;
            }
            calls += u->kind == PL_USE_CALL || u->kind == PL_USE_INDIRECT;
        }
        mf->forwarder = mf->f->complexity == 1 && mf->f->nsigs == 0 && calls == 1;
    }
    pl_strmap ftypes; /* function type -> index in ft_lists */
    pl_strmap_init(&ftypes);
    typedef struct {
        int *v;
        size_t n, cap;
    } ilist;
    ilist *ft_lists = NULL;
    size_t nft = 0, ftcap = 0;
    for (size_t i = 0; i < m->nfuncs; i++) {
        if (!m->funcs[i].address_taken)
            continue;
        int l = pl_strmap_get(&ftypes, m->funcs[i].f->ftype);
        if (l < 0) {
            ilist nl = {0};
            PL_PUSH(ft_lists, nft, ftcap, nl);
            l = (int)nft - 1;
            pl_strmap_put(&ftypes, m->funcs[i].f->ftype, l);
        }
        PL_PUSH(ft_lists[l].v, ft_lists[l].n, ft_lists[l].cap, (int)i);
    }

    flow *fw = pl_xcalloc(m->nfuncs ? m->nfuncs : 1, sizeof(flow));
    for (size_t i = 0; i < m->nfuncs; i++) {
        pl_mfunc *mf = &m->funcs[i];
        int seed = has_input_sig(mf->f);
        for (size_t j = 0; j < mf->f->nuses; j++) {
            const pl_use *u = &mf->f->uses[j];
            int to = -1, target = -1;
            if (u->kind == PL_USE_INDIRECT) {
                int l = pl_strmap_get(&ftypes, u->name);
                if (l < 0 || ft_lists[l].n > MAX_TAINT_TARGETS)
                    continue;
                int link = ft_lists[l].n <= MAX_INDIRECT_TARGETS;
                for (size_t k = 0; k < ft_lists[l].n; k++) {
                    int t = ft_lists[l].v[k];
                    if (t == (int)i)
                        continue;
                    if (u->nargs > 0)
                        add_flow(fw, (int)i, t); /* dispatch tables carry the data too */
                    if (!link)
                        continue;
                    add_adj(mf, t);
                    add_adj(&m->funcs[t], (int)i);
                    if (m->funcs[t].comp == mf->comp)
                        continue;
                    pl_use via = *u;
                    via.name = m->funcs[t].f->name;
                    via.usr = m->funcs[t].f->usr;
                    add_crossing(m, &edge_ix, &sym_ix, mf->comp, m->funcs[t].comp, &via, (int)i, t);
                }
                continue;
            }
            if (u->kind == PL_USE_CALL || u->kind == PL_USE_REF) {
                target = pl_strmap_get(&usr_func, u->usr);
                if (u->kind == PL_USE_CALL && u->virt) {
                    int l = pl_strmap_get(&overriders, u->usr);
                    for (size_t k = 0; l >= 0 && k < ov[l].n; k++) {
                        int o = ov[l].v[k];
                        if (o == (int)i)
                            continue;
                        add_adj(mf, o);
                        add_adj(&m->funcs[o], (int)i);
                        if (u->nargs > 0)
                            add_flow(fw, (int)i, o);
                        if (m->funcs[o].comp != mf->comp) {
                            pl_use via = *u;
                            via.kind = PL_USE_INDIRECT;
                            via.name = m->funcs[o].f->name;
                            via.usr = m->funcs[o].f->usr;
                            add_crossing(m, &edge_ix, &sym_ix, mf->comp, m->funcs[o].comp, &via,
                                         (int)i, o);
                        }
                    }
                }
                if (target < 0)
                    continue; /* library or unplanned code */
                if (target != (int)i) {
                    add_adj(mf, target);
                    add_adj(&m->funcs[target], (int)i);
                    if (u->kind == PL_USE_CALL && u->nargs > 0)
                        add_flow(fw, (int)i, target);
                    if (u->kind == PL_USE_CALL && has_input_sig(m->funcs[target].f) && !seed)
                        add_flow(fw, target, (int)i); /* what it read comes back */
                }
                to = m->funcs[target].comp;
            } else if (u->kind == PL_USE_VAR) {
                to = pl_strmap_get(&usr_var, u->usr);
                if (to < 0)
                    to = comp_of_decl(m, cfg, &names, &stems, &decl_cache, u->decl_file);
            } else {
                to = comp_of_decl(m, cfg, &names, &stems, &decl_cache, u->decl_file);
            }
            if (to < 0 || to == mf->comp)
                continue;
            add_crossing(m, &edge_ix, &sym_ix, mf->comp, to, u, (int)i, target);
        }
    }
    for (size_t i = 0; i < nov; i++)
        free(ov[i].v);
    free(ov);
    for (size_t i = 0; i < nft; i++)
        free(ft_lists[i].v);
    free(ft_lists);
    pl_strmap_free(&ftypes);
    distances(m);
    taint(m, fw);
    for (size_t i = 0; i < m->nfuncs; i++)
        free(fw[i].to);
    free(fw);
    find_cycles(m);
    aggregate(m);
    if (cfg->history && pl_history(root, m->rel, nfiles, m->fstat) == 0)
        m->history = 1;
    score(m);

    pl_strmap_free(&names);
    pl_strmap_free(&usr_func);
    pl_strmap_free(&usr_var);
    pl_strmap_free(&decl_cache);
    pl_strmap_free(&edge_ix);
    pl_strmap_free(&sym_ix);
    pl_strmap_free(&stems);
    pl_strmap_free(&overriders);
}

void pl_model_free(pl_model *m)
{
    for (size_t i = 0; i < m->nfiles; i++) {
        pl_file_free(&m->files[i]);
        free(m->rel[i]);
    }
    free(m->files);
    free(m->rel);
    free(m->file_comp);
    for (size_t i = 0; i < m->nfuncs; i++)
        free(m->funcs[i].adj);
    free(m->funcs);
    for (size_t i = 0; i < m->ncomps; i++) {
        free(m->comps[i].name);
        free(m->comps[i].files);
        free(m->comps[i].funcs);
        free(m->comps[i].reason);
        free(m->comps[i].vendor_why);
    }
    free(m->comps);
    for (size_t i = 0; i < m->nedges; i++) {
        for (size_t j = 0; j < m->edges[i].nsyms; j++)
            free(m->edges[i].syms[j].name);
        free(m->edges[i].syms);
    }
    free(m->edges);
    free(m->order);
    free(m->fstat);
    free(m->ccdb_rel);
    memset(m, 0, sizeof(*m));
}
