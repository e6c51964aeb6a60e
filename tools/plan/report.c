/*
 * report.c: writes the plan of `graft plan` as JSON (libcjson), Graphviz dot, Markdown or
 * HTML. Markdown and HTML share one document walk through a tiny emitter so the two
 * reports cannot drift apart; the HTML report embeds the component graph rendered to
 * SVG by Graphviz's `dot -Tsvg` when it is installed.
 */
#define _GNU_SOURCE
#include "plan.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *const use_names[] = {"call", "ref", "type", "var", "indirect call"};

static double round2(double v)
{
    return round(v * 100.0) / 100.0;
}

/* ---- seams: what crosses a component's boundary ---- */

typedef struct seam_item {
    char dir; /* 'i': used by other components, 'o': used from other components */
    pl_use_kind kind;
    const char *name;
    const char *sig;   /* calls and refs: signature of the defined function */
    const pl_func *fn; /* calls and refs: the defined function */
    int no_exceptions; /* its unit is compiled with -fno-exceptions */
    char *others;      /* the other components, comma separated */
    int count;
} seam_item;

typedef struct seam {
    seam_item *items;
    size_t n, cap;
} seam;

static int cmp_item(const void *a, const void *b)
{
    const seam_item *x = a, *y = b;
    if (x->dir != y->dir)
        return x->dir < y->dir ? -1 : 1;
    if (x->kind != y->kind)
        return (int)x->kind - (int)y->kind;
    return strcmp(x->name, y->name);
}

static void seam_build(const pl_model *m, int c, seam *s)
{
    memset(s, 0, sizeof(*s));
    pl_strmap ix;
    pl_strmap_init(&ix);
    for (size_t i = 0; i < m->nedges; i++) {
        const pl_edge *e = &m->edges[i];
        if (e->from != c && e->to != c)
            continue;
        char dir = e->to == c ? 'i' : 'o';
        int other = dir == 'i' ? e->from : e->to;
        for (size_t j = 0; j < e->nsyms; j++) {
            const pl_sym *y = &e->syms[j];
            pl_use_kind kind = y->kind == PL_USE_REF ? PL_USE_CALL : y->kind;
            char *key = pl_xasprintf("%c%d|%s", dir, (int)kind, y->name);
            int k = pl_strmap_get(&ix, key);
            if (k < 0) {
                seam_item it = {.dir = dir, .kind = kind, .name = y->name};
                if (y->target_func >= 0) {
                    it.sig = m->funcs[y->target_func].f->sig;
                    it.fn = m->funcs[y->target_func].f;
                    it.no_exceptions = m->files[m->funcs[y->target_func].file].no_exceptions;
                }
                it.others = pl_xstrdup(m->comps[other].name);
                PL_PUSH(s->items, s->n, s->cap, it);
                k = (int)s->n - 1;
                pl_strmap_put(&ix, key, k);
            } else if (!strstr(s->items[k].others, m->comps[other].name)) {
                char *o = pl_xasprintf("%s, %s", s->items[k].others, m->comps[other].name);
                free(s->items[k].others);
                s->items[k].others = o;
            }
            s->items[k].count += y->count;
            free(key);
        }
    }
    pl_strmap_free(&ix);
    if (s->n > 1)
        qsort(s->items, s->n, sizeof(seam_item), cmp_item);
}

static void seam_free(seam *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i].others);
    free(s->items);
}

/* 1 when a component has C++ sources: its seam needs a C ABI mapping. */
static int comp_is_cxx(const pl_model *m, int c)
{
    for (size_t i = 0; i < m->comps[c].nfiles; i++)
        if (m->files[m->comps[c].files[i]].cxx)
            return 1;
    return 0;
}

/* How an inbound C++ function crosses a C ABI, in the model of the cxx crate: what the
 * signature carries (classes, std::string, std::vector, smart pointers, references,
 * exceptions) and the C form each takes. Returns an allocated sentence. */
static char *cxx_abi(const seam_item *it)
{
    const char *sig = it->sig ? it->sig : it->name;
    char *s = NULL;
    size_t len = 0, cap = 0;
#define ADD(str)                                                                                   \
    do {                                                                                           \
        const char *a_ = (str);                                                                    \
        size_t l_ = strlen(a_);                                                                    \
        pl_grow((void **)&s, &cap, len + l_ + 3, 1);                                               \
        if (len) {                                                                                 \
            memcpy(s + len, "; ", 2);                                                              \
            len += 2;                                                                              \
        }                                                                                          \
        memcpy(s + len, a_, l_ + 1);                                                               \
        len += l_;                                                                                 \
    } while (0)
    const char *sep = strstr(it->name, "::") ? strrchr(it->name, ':') : NULL;
    if (sep) {
        char *cls = pl_xasprintf("%.*s", (int)(sep - 1 - it->name), it->name);
        const char *meth = sep + 1;
        const char *shortc = strrchr(cls, ':') ? strrchr(cls, ':') + 1 : cls;
        char *one;
        if (!strcmp(meth, shortc))
            one = pl_xasprintf("constructor of %s: an exported `%s *new_...()` returning an "
                               "opaque handle (cxx: UniquePtr<%s>)",
                               cls, cls, cls);
        else if (it->fn && it->fn->is_static)
            one =
                pl_xasprintf("static method of %s: a plain C function (cxx: a free function)", cls);
        else if (meth[0] == '~')
            one = pl_xasprintf("destructor of %s: an exported `void free_...(%s *)` that "
                               "deletes the handle",
                               cls, cls);
        else
            one = pl_xasprintf("method of %s: a C function taking the object as an opaque "
                               "`%s *` first argument (cxx: a method on an opaque type)",
                               cls, cls);
        ADD(one);
        free(one);
        free(cls);
    }
    if (strstr(sig, "std::string") || strstr(sig, "basic_string"))
        ADD("std::string: by const& or value as a view `const char *, size_t` (cxx: "
            "&CxxString / &str), returned as an owned buffer the caller frees (cxx: "
            "UniquePtr<CxxString>)");
    if (strstr(sig, "std::vector"))
        ADD("std::vector: as `T *, size_t` (cxx: CxxVector<T> / slices); no ownership "
            "crosses");
    if (strstr(sig, "unique_ptr") || strstr(sig, "shared_ptr"))
        ADD("smart pointer: ownership moves across as an opaque handle with an exported "
            "release function (cxx: UniquePtr / SharedPtr)");
    if (strchr(sig, '&'))
        ADD("references: passed as non-null pointers");
    if (strstr(sig, "operator"))
        ADD("operator: exported under a plain name");
    if (it->no_exceptions)
        ADD("built with -fno-exceptions: nothing throws across the seam");
    else if (!it->fn || !it->fn->noexcept_)
        ADD("may throw: catch every exception at the boundary and return a status (cxx: "
            "Result<T>); none may unwind into Rust or C");
    if (!len)
        ADD("plain C types: crosses as declared");
#undef ADD
    return s;
}

/* ---- JSON ---- */

static cJSON *signals_json(const pl_model *m, const pl_mfunc *mf)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t k = 0; k < mf->f->nsigs; k++) {
        const pl_signal *s = &mf->f->sigs[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", pl_sig_names[s->kind]);
        cJSON_AddStringToObject(o, "what", s->what);
        cJSON_AddStringToObject(o, "file", mf->f->header ? mf->f->header : m->rel[mf->file]);
        cJSON_AddNumberToObject(o, "line", s->line);
        cJSON_AddNumberToObject(o, "col", s->col);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static cJSON *seam_json(const pl_model *m, int c)
{
    seam s;
    seam_build(m, c, &s);
    int cxx = comp_is_cxx(m, c);
    cJSON *o = cJSON_CreateObject();
    cJSON *in = cJSON_AddArrayToObject(o, "inbound");
    cJSON *out = cJSON_AddArrayToObject(o, "outbound");
    cJSON *types = cJSON_AddArrayToObject(o, "types");
    cJSON *vars = cJSON_AddArrayToObject(o, "globals");
    for (size_t i = 0; i < s.n; i++) {
        const seam_item *it = &s.items[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "name", it->name);
        if (it->sig)
            cJSON_AddStringToObject(j, "signature", it->sig);
        cJSON_AddStringToObject(j, it->dir == 'i' ? "used_by" : "defined_in", it->others);
        cJSON_AddNumberToObject(j, "uses", it->count);
        if (cxx && it->dir == 'i' && (it->kind == PL_USE_CALL || it->kind == PL_USE_INDIRECT)) {
            char *abi = cxx_abi(it);
            cJSON_AddStringToObject(j, "c_abi", abi);
            free(abi);
        }
        if (it->kind == PL_USE_TYPE || it->kind == PL_USE_VAR)
            cJSON_AddStringToObject(j, "direction", it->dir == 'i' ? "exported" : "imported");
        cJSON *dst = it->kind == PL_USE_TYPE  ? types
                     : it->kind == PL_USE_VAR ? vars
                     : it->dir == 'i'         ? in
                                              : out;
        cJSON_AddItemToArray(dst, j);
    }
    seam_free(&s);
    return o;
}

static cJSON *model_json(const pl_model *m)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "tool", "graft plan");
    cJSON_AddNumberToObject(root, "format_version", 2);
    cJSON_AddStringToObject(root, "root", ".");
    cJSON_AddStringToObject(root, "compile_commands", m->ccdb_rel);
    cJSON *sum = cJSON_AddObjectToObject(root, "summary");
    cJSON_AddNumberToObject(sum, "files", (double)m->nfiles);
    cJSON_AddNumberToObject(sum, "files_failed", (double)m->files_failed);
    cJSON_AddNumberToObject(sum, "files_partial", (double)m->files_partial);
    cJSON_AddNumberToObject(sum, "functions", (double)m->nfuncs);
    cJSON_AddNumberToObject(sum, "lines", m->total_lines);
    cJSON_AddNumberToObject(sum, "components", (double)m->ncomps);
    cJSON_AddNumberToObject(sum, "third_party_components", (double)(m->ncomps - m->nranked));
    cJSON_AddNumberToObject(sum, "cycles", m->ncycles);
    cJSON_AddBoolToObject(sum, "git_history", m->history);

    cJSON *errs = cJSON_AddArrayToObject(root, "errors");
    for (size_t i = 0; i < m->nwarnings; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "file", m->ccdb_rel);
        cJSON_AddStringToObject(e, "status", "skipped");
        cJSON_AddStringToObject(e, "message", m->warnings[i]);
        cJSON_AddItemToArray(errs, e);
    }
    for (size_t i = 0; i < m->nfiles; i++) {
        const pl_file *f = &m->files[i];
        for (size_t j = 0; j < f->nerrors; j++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "file", m->rel[i]);
            cJSON_AddStringToObject(e, "status",
                                    f->status == PL_FILE_FAILED ? "failed" : "partial");
            cJSON_AddStringToObject(e, "message", f->errors[j]);
            cJSON_AddItemToArray(errs, e);
        }
    }

    cJSON *order = cJSON_AddArrayToObject(root, "order");
    for (size_t r = 0; r < m->nranked; r++) {
        const pl_comp *c = &m->comps[m->order[r]];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "rank", c->rank);
        cJSON_AddStringToObject(o, "component", c->name);
        cJSON_AddNumberToObject(o, "tier", c->tier);
        cJSON_AddStringToObject(o, "tier_name", pl_tier_name(c->tier));
        cJSON_AddNumberToObject(o, "benefit", round2(c->benefit_norm));
        cJSON_AddNumberToObject(o, "effort", round2(c->effort));
        cJSON_AddNumberToObject(o, "score", round2(c->score));
        cJSON_AddStringToObject(o, "reason", c->reason);
        if ((int)r < m->seams)
            cJSON_AddItemToObject(o, "seam", seam_json(m, m->order[r]));
        cJSON_AddItemToArray(order, o);
    }
    cJSON *third = cJSON_AddArrayToObject(root, "third_party");
    for (size_t r = m->nranked; r < m->ncomps; r++) {
        const pl_comp *c = &m->comps[m->order[r]];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "component", c->name);
        cJSON_AddStringToObject(o, "why", c->vendor_why);
        cJSON_AddNumberToObject(o, "files", (double)c->nfiles);
        cJSON_AddNumberToObject(o, "lines", c->lines);
        cJSON_AddStringToObject(o, "advice", "replace with an existing crate");
        cJSON_AddItemToArray(third, o);
    }

    cJSON *comps = cJSON_AddArrayToObject(root, "components");
    for (size_t ci = 0; ci < m->ncomps; ci++) {
        const pl_comp *c = &m->comps[ci];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", c->name);
        cJSON_AddNumberToObject(o, "rank", c->rank);
        cJSON_AddBoolToObject(o, "third_party", c->third_party);
        cJSON_AddNumberToObject(o, "tier", c->tier);
        cJSON *files = cJSON_AddArrayToObject(o, "files");
        for (size_t i = 0; i < c->nfiles; i++)
            cJSON_AddItemToArray(files, cJSON_CreateString(m->rel[c->files[i]]));
        cJSON_AddNumberToObject(o, "functions", (double)c->nfuncs);
        cJSON_AddNumberToObject(o, "lines", c->lines);
        cJSON_AddNumberToObject(o, "fan_in", c->fan_in);
        cJSON_AddNumberToObject(o, "fan_out", c->fan_out);
        cJSON_AddNumberToObject(o, "boundary_symbols", c->boundary);
        if (c->cycle >= 0)
            cJSON_AddNumberToObject(o, "cycle", c->cycle);
        else
            cJSON_AddNullToObject(o, "cycle");
        if (c->dist >= 0)
            cJSON_AddNumberToObject(o, "untrusted_distance", c->dist);
        else
            cJSON_AddNullToObject(o, "untrusted_distance");
        cJSON_AddNumberToObject(o, "max_complexity", c->max_complexity);
        cJSON *sg = cJSON_AddObjectToObject(o, "signals");
        for (int k = 0; k < PL_SIG_COUNT; k++)
            cJSON_AddNumberToObject(sg, pl_sig_names[k], c->sigs[k]);
        cJSON *sc = cJSON_AddObjectToObject(o, "score");
        cJSON_AddNumberToObject(sc, "benefit", round2(c->benefit));
        cJSON_AddNumberToObject(sc, "benefit_norm", round2(c->benefit_norm));
        cJSON_AddNumberToObject(sc, "effort", round2(c->effort));
        cJSON_AddNumberToObject(sc, "isolation", round2(c->isolation));
        cJSON_AddNumberToObject(sc, "size", round2(c->size_factor));
        cJSON_AddNumberToObject(sc, "total", round2(c->score));
        cJSON *fns = cJSON_AddArrayToObject(o, "function_list");
        for (size_t i = 0; i < c->nfuncs; i++) {
            const pl_mfunc *mf = &m->funcs[c->funcs[i]];
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "name", mf->f->name);
            cJSON_AddStringToObject(f, "signature", mf->f->sig);
            cJSON_AddStringToObject(f, "file", mf->f->header ? mf->f->header : m->rel[mf->file]);
            cJSON_AddNumberToObject(f, "line", mf->f->line);
            cJSON_AddNumberToObject(f, "lines", mf->f->end_line - mf->f->line + 1);
            cJSON_AddNumberToObject(f, "complexity", mf->f->complexity);
            if (mf->dist >= 0)
                cJSON_AddNumberToObject(f, "untrusted_distance", mf->dist);
            else
                cJSON_AddNullToObject(f, "untrusted_distance");
            if (mf->taint >= 0)
                cJSON_AddNumberToObject(f, "taint", mf->taint);
            else
                cJSON_AddNullToObject(f, "taint");
            cJSON_AddNumberToObject(f, "risk", round2(mf->risk));
            cJSON_AddItemToObject(f, "signals", signals_json(m, mf));
            cJSON_AddItemToArray(fns, f);
        }
        cJSON_AddItemToArray(comps, o);
    }

    cJSON *fl = cJSON_AddArrayToObject(root, "files");
    for (size_t i = 0; i < m->nfiles; i++) {
        const pl_fstat *fs = &m->fstat[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", m->rel[i]);
        if (m->file_comp[i] >= 0)
            cJSON_AddStringToObject(o, "component", m->comps[m->file_comp[i]].name);
        else
            cJSON_AddNullToObject(o, "component");
        cJSON_AddNumberToObject(o, "lines", m->files[i].lines);
        cJSON_AddNumberToObject(o, "functions", (double)m->files[i].nfuncs);
        cJSON_AddNumberToObject(o, "complexity", fs->complexity);
        cJSON_AddNumberToObject(o, "benefit", round2(fs->benefit));
        cJSON_AddNumberToObject(o, "benefit_rank", fs->rank);
        if (m->history) {
            cJSON *h = cJSON_AddObjectToObject(o, "history");
            cJSON_AddNumberToObject(h, "commits", fs->commits);
            cJSON_AddNumberToObject(h, "fixes", fs->fixes);
            cJSON_AddNumberToObject(h, "churn", fs->churn);
        }
        cJSON_AddItemToArray(fl, o);
    }

    cJSON *edges = cJSON_AddArrayToObject(root, "edges");
    for (size_t i = 0; i < m->nedges; i++) {
        const pl_edge *e = &m->edges[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "from", m->comps[e->from].name);
        cJSON_AddStringToObject(o, "to", m->comps[e->to].name);
        cJSON_AddNumberToObject(o, "calls", e->ncalls);
        cJSON_AddNumberToObject(o, "types", e->ntypes);
        cJSON_AddNumberToObject(o, "globals", e->nvars);
        cJSON_AddBoolToObject(o, "in_cycle", e->in_cycle);
        cJSON *syms = cJSON_AddArrayToObject(o, "symbols");
        for (size_t j = 0; j < e->nsyms; j++) {
            const pl_sym *y = &e->syms[j];
            const pl_mfunc *user = &m->funcs[y->from_func];
            cJSON *s = cJSON_CreateObject();
            cJSON_AddStringToObject(s, "kind", use_names[y->kind]);
            cJSON_AddStringToObject(s, "name", y->name);
            cJSON_AddNumberToObject(s, "count", y->count);
            char *at =
                pl_xasprintf("%s:%u:%u", user->f->header ? user->f->header : m->rel[user->file],
                             y->line, y->col);
            cJSON_AddStringToObject(s, "first_use", at);
            free(at);
            cJSON_AddItemToArray(syms, s);
        }
        cJSON_AddItemToArray(edges, o);
    }

    cJSON *cycles = cJSON_AddArrayToObject(root, "cycles");
    for (int cy = 0; cy < m->ncycles; cy++) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < m->ncomps; i++)
            if (m->comps[i].cycle == cy)
                cJSON_AddItemToArray(arr, cJSON_CreateString(m->comps[i].name));
        cJSON_AddItemToArray(cycles, arr);
    }
    return root;
}

int pl_write_json(const pl_model *m, FILE *out)
{
    cJSON *root = model_json(m);
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    if (!s)
        return -1;
    int rc = fputs(s, out) < 0 || fputc('\n', out) == EOF ? -1 : 0;
    cJSON_free(s);
    return rc;
}

/* ---- dot ---- */

static void dot_id(FILE *o, const char *s)
{
    fputc('"', o);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', o);
        fputc(*s, o);
    }
    fputc('"', o);
}

int pl_write_dot(const pl_model *m, FILE *o)
{
    fprintf(o, "digraph plan {\n"
               "  rankdir=LR;\n"
               "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", "
               "fontsize=11];\n"
               "  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for (size_t i = 0; i < m->ncomps; i++) {
        const pl_comp *c = &m->comps[i];
        const char *fill = c->third_party                        ? "#dddddd"
                           : c->rank >= 1 && c->rank <= m->seams ? "#ffd27f"
                                                                 : "#e8eef7";
        fprintf(o, "  ");
        dot_id(o, c->name);
        fprintf(o, " [label=\"");
        for (const char *p = c->name; *p; p++) {
            if (*p == '"' || *p == '\\')
                fputc('\\', o);
            fputc(*p, o);
        }
        if (c->third_party)
            fprintf(o, "\\nthird-party\\n%u lines, %zu functions", c->lines, c->nfuncs);
        else
            fprintf(o, "\\n#%d  score %.1f\\n%u lines, %zu functions", c->rank, c->score, c->lines,
                    c->nfuncs);
        if (c->sigs[PL_SIG_INPUT])
            fprintf(o, "\\nreads untrusted input");
        fprintf(o, "\", fillcolor=\"%s\"", fill);
        if (c->sigs[PL_SIG_INPUT])
            fprintf(o, ", color=\"#c0392b\", penwidth=2");
        fprintf(o, "];\n");
    }
    for (size_t i = 0; i < m->nedges; i++) {
        const pl_edge *e = &m->edges[i];
        fprintf(o, "  ");
        dot_id(o, m->comps[e->from].name);
        fprintf(o, " -> ");
        dot_id(o, m->comps[e->to].name);
        fprintf(o, " [label=\"");
        const char *sep = "";
        if (e->ncalls) {
            fprintf(o, "%d call%s", e->ncalls, e->ncalls == 1 ? "" : "s");
            sep = ", ";
        }
        if (e->ntypes) {
            fprintf(o, "%s%d type%s", sep, e->ntypes, e->ntypes == 1 ? "" : "s");
            sep = ", ";
        }
        if (e->nvars)
            fprintf(o, "%s%d global%s", sep, e->nvars, e->nvars == 1 ? "" : "s");
        fprintf(o, "\"%s];\n", e->in_cycle ? ", color=\"#c0392b\", fontcolor=\"#c0392b\"" : "");
    }
    fprintf(o, "}\n");
    return ferror(o) ? -1 : 0;
}

char *pl_render_svg(const pl_model *m, char *err, size_t errlen)
{
    const char *tmpdir = getenv("TMPDIR");
    char *path = pl_xasprintf("%s/graft-plan-000000", tmpdir && *tmpdir ? tmpdir : "/tmp");
    memset(path + strlen(path) - 6, 'X', 6); /* mkstemp's template */
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary file: %s", strerror(errno));
        free(path);
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(path);
        free(path);
        snprintf(err, errlen, "cannot write a temporary file");
        return NULL;
    }
    int wr = pl_write_dot(m, f);
    if (fclose(f) != 0 || wr != 0) {
        unlink(path);
        free(path);
        snprintf(err, errlen, "cannot write a temporary file");
        return NULL;
    }
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        unlink(path);
        free(path);
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return NULL;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    posix_spawn_file_actions_addclose(&fa, pipefd[1]);
    char *argv[] = {"dot", "-Tsvg", path, NULL};
    pid_t pid;
    int sr = posix_spawnp(&pid, "dot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (sr != 0) {
        close(pipefd[0]);
        unlink(path);
        free(path);
        snprintf(err, errlen, "cannot run graphviz 'dot' (%s); install graphviz", strerror(sr));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = pl_xmalloc(cap);
    for (;;) {
        if (cap - n < 4096) {
            cap *= 2;
            buf = pl_xrealloc(buf, cap);
        }
        ssize_t r = read(pipefd[0], buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    close(pipefd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    unlink(path);
    free(path);
    char *svg = strstr(buf, "<svg");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !svg) {
        snprintf(err, errlen, "graphviz 'dot -Tsvg' failed");
        free(buf);
        return NULL;
    }
    char *out = pl_xstrdup(svg); /* drop the XML prolog and doctype for inline embedding */
    free(buf);
    return out;
}

/* ---- Markdown and HTML through one emitter ---- */

typedef struct em {
    FILE *o;
    int html;
    int ncols;
} em;

static void em_text(em *e, const char *s)
{
    for (; *s; s++) {
        char ch = *s;
        if (e->html) {
            if (ch == '&')
                fputs("&amp;", e->o);
            else if (ch == '<')
                fputs("&lt;", e->o);
            else if (ch == '>')
                fputs("&gt;", e->o);
            else if (ch == '"')
                fputs("&quot;", e->o);
            else
                fputc(ch, e->o);
        } else {
            if (ch == '|')
                fputs("\\|", e->o);
            else if (ch == '\n')
                fputc(' ', e->o);
            else if (ch == '*' || ch == '<' || ch == '`')
                fprintf(e->o, "\\%c", ch);
            else
                fputc(ch, e->o);
        }
    }
}

static void em_h(em *e, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void em_h(em *e, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = NULL;
    if (vasprintf(&t, fmt, ap) < 0)
        t = NULL;
    va_end(ap);
    if (e->html) {
        fprintf(e->o, "<h%d>", level);
        em_text(e, t ? t : "");
        fprintf(e->o, "</h%d>\n", level);
    } else {
        fprintf(e->o, "\n%.*s ", level, "######");
        em_text(e, t ? t : "");
        fputs("\n\n", e->o);
    }
    free(t);
}

static void em_p(em *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void em_p(em *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = NULL;
    if (vasprintf(&t, fmt, ap) < 0)
        t = NULL;
    va_end(ap);
    fputs(e->html ? "<p>" : "", e->o);
    em_text(e, t ? t : "");
    fputs(e->html ? "</p>\n" : "\n\n", e->o);
    free(t);
}

/* One table cell: <th>/<td> in HTML, "| text" in Markdown. */
static void em_cell(em *e, const char *tag, const char *text)
{
    if (e->html) {
        fprintf(e->o, "<%s>", tag);
        em_text(e, text);
        fprintf(e->o, "</%s>", tag);
    } else {
        fputc(' ', e->o);
        em_text(e, text);
        fputs(" |", e->o);
    }
}

static void em_table(em *e, int ncols, ...)
{
    va_list ap;
    va_start(ap, ncols);
    e->ncols = ncols;
    fputs(e->html ? "<table>\n<tr>" : "|", e->o);
    for (int i = 0; i < ncols; i++) {
        em_cell(e, "th", va_arg(ap, const char *));
    }
    va_end(ap);
    if (e->html) {
        fputs("</tr>\n", e->o);
    } else {
        fputs("\n|", e->o);
        for (int i = 0; i < ncols; i++)
            fputs("---|", e->o);
        fputc('\n', e->o);
    }
}

/* One row; every cell is an allocated string that the emitter frees. */
static void em_row(em *e, ...)
{
    va_list ap;
    va_start(ap, e);
    fputs(e->html ? "<tr>" : "|", e->o);
    for (int i = 0; i < e->ncols; i++) {
        char *c = va_arg(ap, char *);
        em_cell(e, "td", c);
        free(c);
    }
    va_end(ap);
    fputs(e->html ? "</tr>\n" : "\n", e->o);
}

static void em_table_end(em *e)
{
    fputs(e->html ? "</table>\n" : "\n", e->o);
}

static char *S(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *S(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = NULL;
    if (vasprintf(&t, fmt, ap) < 0)
        t = NULL;
    va_end(ap);
    return t ? t : pl_xstrdup("");
}

static char *dist_str(int d)
{
    return d >= 0 ? S("%d", d) : S("-");
}

static void write_doc(const pl_model *m, em *e, const char *svg, const char *svg_err)
{
    em_p(e,
         "Generated by graft plan from %s (paths relative to the project root): %zu files "
         "(%zu failed, %zu parsed with errors), %zu functions, %u lines, %zu components "
         "(%zu third-party), %d cycle%s%s.",
         m->ccdb_rel, m->nfiles, m->files_failed, m->files_partial, m->nfuncs, m->total_lines,
         m->ncomps, m->ncomps - m->nranked, m->ncycles, m->ncycles == 1 ? "" : "s",
         m->history ? "; git history read" : "");
    em_p(e, "Benefit is the security benefit of porting the component (memory-unsafe patterns "
            "weighted by how directly untrusted data reaches them), relative to the highest; "
            "effort is (1 + lines/1000) x (1 + boundary symbols/8), doubled in a cycle. The "
            "order: high benefit and low effort first, then high benefit and high effort, "
            "then lower benefit, then components with no memory-safety signal; within a tier "
            "by score = 100 x benefit / effort. docs/PLAN.md explains every signal.");

    em_h(e, 2, "Migration order");
    em_table(e, 7, "rank", "component", "tier", "benefit", "effort", "score", "reason");
    for (size_t r = 0; r < m->nranked; r++) {
        const pl_comp *c = &m->comps[m->order[r]];
        em_row(e, S("%d", c->rank), S("%s", c->name), S("%d", c->tier), S("%.2f", c->benefit_norm),
               S("%.1f", c->effort), S("%.1f", c->score), S("%s", c->reason));
    }
    em_table_end(e);

    em_h(e, 2, "Benefit and effort");
    if (e->html) {
        char *sc = pl_render_scatter(m);
        fprintf(e->o, "<div class=\"scatter\">%s</div>\n", sc);
        free(sc);
    } else {
        em_p(e, "The scatter of benefit against effort is in the SVG output (graft plan "
                "--format svg); the HTML report embeds it.");
    }

    em_h(e, 2, "Third-party code");
    if (m->nranked == m->ncomps) {
        em_p(e, "None recognised.");
    } else {
        em_p(e, "Vendored or copied-in code is not ranked for porting: replace it with an "
                "existing crate (or keep the C library behind its own API).");
        em_table(e, 4, "component", "files", "lines", "why");
        for (size_t r = m->nranked; r < m->ncomps; r++) {
            const pl_comp *c = &m->comps[m->order[r]];
            em_row(e, S("%s", c->name), S("%zu", c->nfiles), S("%u", c->lines),
                   S("%s", c->vendor_why));
        }
        em_table_end(e);
    }

    em_h(e, 2, "Files by security benefit");
    {
        int *fo = pl_xcalloc(m->nfiles ? m->nfiles : 1, sizeof(int));
        size_t nf = 0;
        for (size_t i = 0; i < m->nfiles; i++)
            if (m->fstat[i].rank > 0)
                fo[m->fstat[i].rank - 1] = (int)i, nf++;
        em_p(e,
             "The security criterion alone, per file (the first %d of %zu): where a review "
             "or a port buys the most memory safety.",
             nf < 25 ? (int)nf : 25, nf);
        em_table(e, 6, "rank", "file", "component", "benefit", "lines", "complexity");
        for (size_t r = 0; r < nf && r < 25; r++) {
            int i = fo[r];
            em_row(e, S("%d", m->fstat[i].rank), S("%s", m->rel[i]),
                   S("%s", m->comps[m->file_comp[i]].name), S("%.1f", m->fstat[i].benefit),
                   S("%u", m->files[i].lines), S("%d", m->fstat[i].complexity));
        }
        em_table_end(e);
        free(fo);
    }

    em_h(e, 2, "Proposed seams");
    em_p(e,
         "For the first %d components: the functions at the boundary and their signatures, "
         "i.e. what the FFI has to carry. Inbound functions are called from other "
         "components (the Rust side implements them); outbound functions are called from "
         "this component into others (the Rust side calls back into C).",
         m->seams);
    for (size_t r = 0; r < m->nranked && (int)r < m->seams; r++) {
        int ci = m->order[r];
        const pl_comp *c = &m->comps[ci];
        em_h(e, 3, "%d. %s", c->rank, c->name);
        seam s;
        seam_build(m, ci, &s);
        int cxx = comp_is_cxx(m, ci);
        if (s.n == 0) {
            em_p(e, "No symbol crosses this component's boundary: it is self-contained; its "
                    "entry points are the functions called from outside the planned sources.");
        } else {
            em_table(e, 5, "direction", "kind", "symbol", "signature", "other side (uses)");
            for (size_t i = 0; i < s.n; i++) {
                const seam_item *it = &s.items[i];
                const char *dir;
                if (it->kind == PL_USE_TYPE || it->kind == PL_USE_VAR)
                    dir = it->dir == 'i' ? "exported" : "imported";
                else
                    dir = it->dir == 'i' ? "inbound" : "outbound";
                em_row(e, S("%s", dir), S("%s", use_names[it->kind]), S("%s", it->name),
                       S("%s", it->sig ? it->sig : ""), S("%s (%d)", it->others, it->count));
            }
            em_table_end(e);
            if (cxx) {
                em_p(e, "C++ component: what crosses the seam and how it maps to a C ABI "
                        "(the cxx crate's model: opaque C++ types behind handles, strings "
                        "and vectors as views, no exception crossing):");
                em_table(e, 2, "inbound", "C ABI");
                for (size_t i = 0; i < s.n; i++) {
                    const seam_item *it = &s.items[i];
                    if (it->dir != 'i' || (it->kind != PL_USE_CALL && it->kind != PL_USE_INDIRECT))
                        continue;
                    em_row(e, S("%s", it->name), cxx_abi(it));
                }
                em_table_end(e);
            }
        }
        seam_free(&s);
    }

    em_h(e, 2, "Component map");
    if (e->html) {
        if (svg)
            fprintf(e->o, "<div class=\"graph\">%s</div>\n", svg);
        else
            em_p(e, "Component graph not rendered: %s.", svg_err ? svg_err : "unknown");
    } else {
        em_p(e, "The component graph is in the dot output (graft plan --format dot); the HTML "
                "report embeds it rendered.");
    }
    em_table(e, 10, "component", "files", "functions", "lines", "fan-in", "fan-out",
             "boundary symbols", "cycle", "untrusted distance", "max complexity");
    for (size_t i = 0; i < m->ncomps; i++) {
        const pl_comp *c = &m->comps[i];
        size_t len = 0, cap = 0;
        char *files = NULL;
        for (size_t j = 0; j < c->nfiles; j++) {
            const char *rf = m->rel[c->files[j]];
            pl_grow((void **)&files, &cap, len + strlen(rf) + 3, 1);
            len += (size_t)sprintf(files + len, "%s%s", j ? ", " : "", rf);
        }
        em_row(e, S("%s", c->name), files ? files : S("-"), S("%zu", c->nfuncs), S("%u", c->lines),
               S("%d", c->fan_in), S("%d", c->fan_out), S("%d", c->boundary),
               c->cycle >= 0 ? S("%d", c->cycle) : S("-"), dist_str(c->dist),
               S("%d", c->max_complexity));
    }
    em_table_end(e);

    em_h(e, 3, "Crossings");
    if (m->nedges == 0)
        em_p(e, "No call, type or global crosses a component boundary.");
    else {
        em_table(e, 6, "from", "to", "calls", "types", "globals", "symbols (uses)");
        for (size_t i = 0; i < m->nedges; i++) {
            const pl_edge *ed = &m->edges[i];
            size_t len = 0, cap = 0;
            char *syms = NULL;
            for (size_t j = 0; j < ed->nsyms; j++) {
                char *one = S("%s%s %s (%d)", j ? ", " : "", use_names[ed->syms[j].kind],
                              ed->syms[j].name, ed->syms[j].count);
                pl_grow((void **)&syms, &cap, len + strlen(one) + 1, 1);
                memcpy(syms + len, one, strlen(one) + 1);
                len += strlen(one);
                free(one);
            }
            em_row(e, S("%s", m->comps[ed->from].name), S("%s", m->comps[ed->to].name),
                   S("%d", ed->ncalls), S("%d", ed->ntypes), S("%d", ed->nvars),
                   syms ? syms : S("-"));
        }
        em_table_end(e);
    }

    em_h(e, 3, "Cycles");
    if (m->ncycles == 0)
        em_p(e, "No cycles between components.");
    for (int cy = 0; cy < m->ncycles; cy++) {
        size_t len = 0, cap = 0;
        char *names = NULL;
        for (size_t i = 0; i < m->ncomps; i++) {
            if (m->comps[i].cycle != cy)
                continue;
            const char *n = m->comps[i].name;
            pl_grow((void **)&names, &cap, len + strlen(n) + 3, 1);
            len += (size_t)sprintf(names + len, "%s%s", len ? ", " : "", n);
        }
        em_p(e, "Cycle %d: %s (migrate together, or cut the cycle with a seam first).", cy,
             names ? names : "");
        free(names);
    }

    em_h(e, 2, "Risk signals");
    for (size_t r = 0; r < m->nranked; r++) {
        const pl_comp *c = &m->comps[m->order[r]];
        em_h(e, 3, "%s", c->name);
        size_t len = 0, cap = 0;
        char *counts = NULL;
        for (int k = 0; k < PL_SIG_COUNT; k++) {
            char *one = S("%s%s %d", k ? ", " : "", pl_sig_names[k], c->sigs[k]);
            pl_grow((void **)&counts, &cap, len + strlen(one) + 1, 1);
            memcpy(counts + len, one, strlen(one) + 1);
            len += strlen(one);
            free(one);
        }
        em_p(e, "Signals: %s.", counts ? counts : "");
        free(counts);
        em_table(e, 8, "function", "location", "lines", "complexity", "untrusted distance", "taint",
                 "risk", "signals (line:col)");
        for (size_t i = 0; i < c->nfuncs; i++) {
            const pl_mfunc *mf = &m->funcs[c->funcs[i]];
            size_t sl = 0, sc = 0;
            char *sigs = NULL;
            for (size_t j = 0; j < mf->f->nsigs; j++) {
                const pl_signal *s = &mf->f->sigs[j];
                char *one = S("%s%s %s @%u:%u", j ? "; " : "", pl_sig_names[s->kind], s->what,
                              s->line, s->col);
                pl_grow((void **)&sigs, &sc, sl + strlen(one) + 1, 1);
                memcpy(sigs + sl, one, strlen(one) + 1);
                sl += strlen(one);
                free(one);
            }
            em_row(e, S("%s", mf->f->name),
                   S("%s:%u", mf->f->header ? mf->f->header : m->rel[mf->file], mf->f->line),
                   S("%u", mf->f->end_line - mf->f->line + 1), S("%d", mf->f->complexity),
                   dist_str(mf->dist), dist_str(mf->taint), S("%.1f", mf->risk),
                   sigs ? sigs : S("-"));
        }
        em_table_end(e);
    }

    em_h(e, 2, "Errors");
    int any = 0;
    for (size_t i = 0; i < m->nwarnings; i++) {
        if (!any)
            em_table(e, 3, "file", "status", "message");
        any = 1;
        em_row(e, S("%s", m->ccdb_rel), S("skipped"), S("%s", m->warnings[i]));
    }
    for (size_t i = 0; i < m->nfiles; i++) {
        const pl_file *f = &m->files[i];
        for (size_t j = 0; j < f->nerrors; j++) {
            if (!any)
                em_table(e, 3, "file", "status", "message");
            any = 1;
            em_row(e, S("%s", m->rel[i]),
                   S("%s", f->status == PL_FILE_FAILED ? "failed (not in the plan)"
                                                       : "partial (parsed with errors)"),
                   S("%s", f->errors[j]));
        }
    }
    if (any)
        em_table_end(e);
    else
        em_p(e, "None: every file parsed cleanly.");
}

int pl_write_md(const pl_model *m, FILE *out)
{
    em e = {.o = out, .html = 0};
    fprintf(out, "# Migration plan\n\n");
    write_doc(m, &e, NULL, NULL);
    return ferror(out) ? -1 : 0;
}

int pl_write_html(const pl_model *m, FILE *out)
{
    char err[256] = "";
    char *svg = pl_render_svg(m, err, sizeof(err));
    if (!svg)
        fprintf(stderr, "graft plan: warning: %s; the HTML report has no graph\n", err);
    em e = {.o = out, .html = 1};
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<title>Migration plan</title>\n<style>\n"
                 "body{font-family:sans-serif;margin:2em;max-width:1400px}\n"
                 "table{border-collapse:collapse;margin:1em 0;font-size:13px}\n"
                 "th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;"
                 "vertical-align:top}\nth{background:#eef}\n"
                 ".graph svg,.scatter svg{max-width:100%%;height:auto}\n</style>\n</head>\n<body>\n"
                 "<h1>Migration plan</h1>\n");
    write_doc(m, &e, svg, err);
    fprintf(out, "</body>\n</html>\n");
    free(svg);
    return ferror(out) ? -1 : 0;
}
