/*
 * model.c: merges the per-file facts of `graft plan` into the plan: components, the
 * call graph (functions resolved across files by USR), symbols crossing components,
 * cycles (Tarjan's strongly connected components), distance to untrusted input (BFS),
 * and the priority score. The formula is documented in docs/PLAN.md; keep both in step.
 */
#define _GNU_SOURCE
#include "plan.h"

#include <stdlib.h>
#include <string.h>

/* Score weights (docs/PLAN.md, "Priority score"). */
#define BENEFIT_FLOOR 0.10      /* share of the score that does not depend on benefit */
#define INPUT_READ_BONUS 2.0    /* benefit per untrusted-input read inside the component */
#define UNREACHED_PROXIMITY 0.1 /* proximity of code no untrusted input reaches */
#define BOUNDARY_HALF 8.0       /* boundary symbols at which isolation halves */
#define SIZE_HALF 1000.0        /* lines at which the size factor halves */
#define CYCLE_PENALTY 0.5       /* isolation factor for components in a cycle */
#define COMPLEXITY_FREE 5       /* cyclomatic complexity that adds no risk */
#define MAX_INDIRECT_TARGETS 32 /* more same-typed candidates: too ambiguous to link */

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

/* Component of a declaration's file, or -1 when it is outside the planned sources. */
static int comp_of_decl(const pl_config *cfg, const char *root, pl_strmap *names, pl_strmap *cache,
                        const char *file)
{
    if (!file)
        return -1;
    int v = pl_strmap_get(cache, file);
    if (v != -1)
        return v == -2 ? -1 : v;
    const char *rel = pl_path_under(file, root);
    int id = -1;
    if (rel && pl_config_selected(cfg, rel)) {
        char *name = pl_config_component(cfg, rel);
        id = pl_strmap_get(names, name); /* only components that have sources */
        free(name);
    }
    pl_strmap_put(cache, file, id < 0 ? -2 : id);
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
        pl_sym ns = {.kind = u->kind,
                     .name = pl_xstrdup(u->name),
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
        if (e->from != v)
            continue;
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

static int cmp_order(const void *a, const void *b, void *arg)
{
    const pl_model *m = arg;
    const pl_comp *x = &m->comps[*(const int *)a], *y = &m->comps[*(const int *)b];
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void append(char **s, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#include <stdarg.h>
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

static void make_reason(pl_model *m, pl_comp *c)
{
    char *s = NULL;
    size_t len = 0, cap = 0;
    append(&s, &len, &cap, "%s", "");
    /* where untrusted input is */
    const pl_signal *in = NULL;
    int in_file = -1;
    for (size_t i = 0; i < c->nfuncs && !in; i++) {
        const pl_mfunc *mf = &m->funcs[c->funcs[i]];
        for (size_t j = 0; j < mf->f->nsigs; j++) {
            if (mf->f->sigs[j].kind == PL_SIG_INPUT) {
                in = &mf->f->sigs[j];
                in_file = mf->file;
                break;
            }
        }
    }
    if (in)
        append(&s, &len, &cap, "reads untrusted input (%d read%s, first: %s at %s:%u)",
               c->sigs[PL_SIG_INPUT], c->sigs[PL_SIG_INPUT] == 1 ? "" : "s", in->what,
               m->rel[in_file], in->line);
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
        append(&s, &len, &cap, "; in a cycle with");
        for (size_t i = 0; i < m->ncomps; i++)
            if (&m->comps[i] != c && m->comps[i].cycle == c->cycle)
                append(&s, &len, &cap, " %s", m->comps[i].name);
    }
    append(&s, &len, &cap, "; %u lines", c->lines);
    c->reason = s;
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
            r += 0.5 * (mf->f->complexity - COMPLEXITY_FREE);
        mf->risk = r;
        pl_comp *c = &m->comps[mf->comp];
        /* the component's distance, not the function's: once untrusted bytes enter a
         * component through its closest function, all of its code handles them */
        double prox = c->dist >= 0 ? 1.0 / (1.0 + 0.5 * c->dist) : UNREACHED_PROXIMITY;
        c->benefit += r * prox + INPUT_READ_BONUS * counts[PL_SIG_INPUT];
    }
    double maxb = 0;
    for (size_t i = 0; i < m->ncomps; i++)
        if (m->comps[i].benefit > maxb)
            maxb = m->comps[i].benefit;
    for (size_t i = 0; i < m->ncomps; i++) {
        pl_comp *c = &m->comps[i];
        c->benefit_norm = maxb > 0 ? c->benefit / maxb : 0;
        c->isolation = 1.0 / (1.0 + c->boundary / BOUNDARY_HALF);
        if (c->cycle >= 0)
            c->isolation *= CYCLE_PENALTY;
        c->size_factor = 1.0 / (1.0 + c->lines / SIZE_HALF);
        /* expected benefit per unit of migration effort: isolation and size discount it */
        c->score = 100.0 * (BENEFIT_FLOOR + (1.0 - BENEFIT_FLOOR) * c->benefit_norm) *
                   c->isolation * c->size_factor;
    }
    m->order = pl_xcalloc(m->ncomps, sizeof(int));
    for (size_t i = 0; i < m->ncomps; i++)
        m->order[i] = (int)i;
    qsort_r(m->order, m->ncomps, sizeof(int), cmp_order, m);
    for (size_t i = 0; i < m->ncomps; i++)
        m->comps[m->order[i]].rank = (int)i + 1;
    for (size_t i = 0; i < m->ncomps; i++)
        make_reason(m, &m->comps[i]);
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
    for (size_t ci = 0; ci < m->ncomps; ci++) {
        pl_strmap seen;
        pl_strmap_init(&seen);
        int n = 0;
        for (size_t i = 0; i < m->nedges; i++) {
            const pl_edge *e = &m->edges[i];
            if (e->from != (int)ci && e->to != (int)ci)
                continue;
            for (size_t j = 0; j < e->nsyms; j++) {
                char *k = pl_xasprintf("%c%d|%s", e->from == (int)ci ? 'o' : 'i',
                                       (int)e->syms[j].kind, e->syms[j].name);
                if (pl_strmap_get(&seen, k) < 0) {
                    pl_strmap_put(&seen, k, 1);
                    n++;
                }
                free(k);
            }
        }
        m->comps[ci].boundary = n;
        pl_strmap_free(&seen);
    }
}

void pl_model_build(pl_model *m, const pl_config *cfg, const char *root, const char *ccdb_path,
                    pl_file *files, size_t nfiles)
{
    memset(m, 0, sizeof(*m));
    m->root = root;
    m->ccdb_path = ccdb_path;
    m->files = files;
    m->nfiles = nfiles;
    m->seams = cfg->seams;
    m->rel = pl_xcalloc(nfiles, sizeof(char *));
    m->file_comp = pl_xcalloc(nfiles, sizeof(int));
    pl_strmap names, usr_func, usr_var, decl_cache, edge_ix, sym_ix;
    pl_strmap_init(&names);
    pl_strmap_init(&usr_func);
    pl_strmap_init(&usr_var);
    pl_strmap_init(&decl_cache);
    pl_strmap_init(&edge_ix);
    pl_strmap_init(&sym_ix);

    for (size_t i = 0; i < nfiles; i++) {
        pl_file *f = &files[i];
        const char *rel = pl_path_under(f->path, root);
        m->rel[i] = pl_xstrdup(rel ? rel : f->path);
        if (f->status == PL_FILE_FAILED) {
            m->files_failed++;
            m->file_comp[i] = -1; /* nothing is known about it: it joins no component */
            continue;
        }
        char *cname = pl_config_component(cfg, m->rel[i]);
        int c = comp_of_name(m, &names, cname);
        free(cname);
        m->file_comp[i] = c;
        pl_comp *pc = &m->comps[c];
        PL_PUSH(pc->files, pc->nfiles, pc->filecap, (int)i);
        pc->lines += f->lines;
        m->total_lines += f->lines;
        if (f->status == PL_FILE_PARTIAL)
            m->files_partial++;
        for (size_t j = 0; j < f->nfuncs; j++) {
            pl_mfunc mf = {.f = &f->funcs[j], .file = (int)i, .comp = c, .dist = -1};
            PL_PUSH(m->funcs, m->nfuncs, m->funccap, mf);
            int id = (int)m->nfuncs - 1;
            PL_PUSH(pc->funcs, pc->nfuncs, pc->funccap, id);
            pc->func_lines += f->funcs[j].end_line - f->funcs[j].line + 1;
            if (pl_strmap_get(&usr_func, f->funcs[j].usr) < 0)
                pl_strmap_put(&usr_func, f->funcs[j].usr, id);
        }
        for (size_t j = 0; j < f->ngvars; j++)
            if (pl_strmap_get(&usr_var, f->gvars[j].usr) < 0)
                pl_strmap_put(&usr_var, f->gvars[j].usr, c);
    }

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

    for (size_t i = 0; i < m->nfuncs; i++) {
        pl_mfunc *mf = &m->funcs[i];
        for (size_t j = 0; j < mf->f->nuses; j++) {
            const pl_use *u = &mf->f->uses[j];
            int to = -1, target = -1;
            if (u->kind == PL_USE_INDIRECT) {
                int l = pl_strmap_get(&ftypes, u->name);
                if (l < 0 || ft_lists[l].n > MAX_INDIRECT_TARGETS)
                    continue;
                for (size_t k = 0; k < ft_lists[l].n; k++) {
                    int t = ft_lists[l].v[k];
                    if (t == (int)i)
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
                if (target < 0)
                    continue; /* library or unplanned code */
                if (target != (int)i) {
                    add_adj(mf, target);
                    add_adj(&m->funcs[target], (int)i);
                }
                to = m->funcs[target].comp;
            } else if (u->kind == PL_USE_VAR) {
                to = pl_strmap_get(&usr_var, u->usr);
                if (to < 0)
                    to = comp_of_decl(cfg, root, &names, &decl_cache, u->decl_file);
            } else {
                to = comp_of_decl(cfg, root, &names, &decl_cache, u->decl_file);
            }
            if (to < 0 || to == mf->comp)
                continue;
            add_crossing(m, &edge_ix, &sym_ix, mf->comp, to, u, (int)i, target);
        }
    }
    for (size_t i = 0; i < nft; i++)
        free(ft_lists[i].v);
    free(ft_lists);
    pl_strmap_free(&ftypes);
    distances(m);
    find_cycles(m);
    aggregate(m);
    score(m);

    pl_strmap_free(&names);
    pl_strmap_free(&usr_func);
    pl_strmap_free(&usr_var);
    pl_strmap_free(&decl_cache);
    pl_strmap_free(&edge_ix);
    pl_strmap_free(&sym_ix);
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
    }
    free(m->comps);
    for (size_t i = 0; i < m->nedges; i++) {
        for (size_t j = 0; j < m->edges[i].nsyms; j++)
            free(m->edges[i].syms[j].name);
        free(m->edges[i].syms);
    }
    free(m->edges);
    free(m->order);
    memset(m, 0, sizeof(*m));
}
