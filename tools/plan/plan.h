/*
 * plan.h: internal interfaces of `graft plan`, the migration planner.
 *
 * Pipeline: ccdb.c loads compile_commands.json into a list of translation units;
 * config.c maps files to components; analyze.c parses each unit with libclang (one
 * CXIndex per worker thread) into per-file facts; model.c merges the facts into the
 * component map, the call graph, risk signals, scores and the migration order;
 * report.c writes the plan as Markdown, JSON, HTML or Graphviz dot.
 */
#ifndef GRAFT_PLAN_H
#define GRAFT_PLAN_H

#include <stddef.h>
#include <stdio.h>

/* ---- small utilities (util.c) ---- */

void *pl_xmalloc(size_t n);
void *pl_xcalloc(size_t n, size_t size);
void *pl_xrealloc(void *p, size_t n);
char *pl_xstrdup(const char *s);
char *pl_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grows a dynamic array `*items` of `*cap` slots to hold at least `need` items. */
void pl_grow(void **items, size_t *cap, size_t need, size_t item_size);
#define PL_PUSH(arr, n, cap, value)                                                                \
    do {                                                                                           \
        pl_grow((void **)&(arr), &(cap), (n) + 1, sizeof(*(arr)));                                 \
        (arr)[(n)++] = (value);                                                                    \
    } while (0)

/* String → int map (open addressing); keys are copied. */
typedef struct pl_strmap {
    char **keys;
    int *vals;
    size_t cap, len;
} pl_strmap;
void pl_strmap_init(pl_strmap *m);
void pl_strmap_free(pl_strmap *m);
/* Returns the value for key, or -1. */
int pl_strmap_get(const pl_strmap *m, const char *key);
void pl_strmap_put(pl_strmap *m, const char *key, int val);

/* Normalises an absolute path lexically (removes ".", "..", duplicate slashes). */
char *pl_path_normalize(const char *path);
/* Joins dir and path unless path is absolute, then normalises. */
char *pl_path_join(const char *dir, const char *path);
/* Path of `path` relative to directory `root`, or NULL when outside it. */
const char *pl_path_under(const char *path, const char *root);
/* Directory part of a relative path ("." when none). Caller frees. */
char *pl_path_dirname(const char *rel);

/* ---- compilation database (ccdb.c) ---- */

typedef struct pl_unit {
    char *file;  /* absolute, normalised source path */
    char *dir;   /* working directory of the compile command */
    char **args; /* compiler arguments for libclang (no compiler, -o, -c, source) */
    int nargs;
} pl_unit;

typedef struct pl_ccdb {
    pl_unit *units;
    size_t n, cap;
    char *path; /* the compile_commands.json that was read */
} pl_ccdb;

/* Loads `path` (a compile_commands.json, or a directory holding one). On failure returns
 * -1 and writes a one-line reason into err. Entries that are malformed are skipped with
 * a warning appended through `warn` (may be NULL). Duplicate files keep the first entry. */
int pl_ccdb_load(const char *path, pl_ccdb *db, char *err, size_t errlen,
                 void (*warn)(void *ud, const char *msg), void *ud);
void pl_ccdb_free(pl_ccdb *db);
/* 1 when the unit is compiled as C++ (by its -x/-std options or its extension). */
int pl_unit_is_cxx(const pl_unit *u);
/* Splits a shell-quoted command line into argv (handles '', "", backslash). */
char **pl_split_command(const char *cmd, int *argc);

/* ---- component configuration (config.c) ---- */

typedef struct pl_group {
    char *glob; /* fnmatch pattern on the path relative to the root; '*' crosses '/' */
    char *component;
} pl_group;

typedef struct pl_config {
    pl_group *groups;
    size_t ngroups, gcap;
    char **include; /* globs a source must match to be planned (none: all) */
    size_t ninclude, icap;
    char **exclude;
    size_t nexclude, ecap;
    char **third; /* globs of third-party files beyond the recognised vendoring dirs */
    size_t nthird, tcap;
    char *root;      /* project root; NULL: common directory of all sources */
    int seams;       /* how many top components get a proposed seam */
    int directories; /* layout = directories: never split a flat directory */
    int history;     /* read git history when the root is a repository (default 1) */
} pl_config;

void pl_config_init(pl_config *c);
void pl_config_free(pl_config *c);
/* Reads an INI file ([plan] root/include/exclude/seams, [components] name = globs). */
int pl_config_load(pl_config *c, const char *path, char *err, size_t errlen);
/* 1 when rel passes the include/exclude filters. */
int pl_config_selected(const pl_config *c, const char *rel);
/* Component name of a relative path: first matching group, else its directory. */
char *pl_config_component(const pl_config *c, const char *rel);
/* The first matching group's component, or NULL. Caller frees. */
char *pl_config_group(const pl_config *c, const char *rel);

/* ---- per-file facts (analyze.c) ---- */

/* Risk signals: X(ENUM, name, weight, what counts). Weights are documented in
 * docs/PLAN.md ("Risk signals"); untrusted input is not weighted in risk: it seeds the
 * taint that scales everything else. */
#define PL_SIGNALS(X)                                                                              \
    X(MEMORY, "memory", 3.0, "memcpy/strcpy/sprintf/gets and friends")                             \
    X(PTR_ARITH, "pointer_arith", 6.0, "+ - += -= ++ -- on a pointer")                             \
    X(VOID_CAST, "void_cast", 1.0, "conversion from void * to another pointer type")               \
    X(ALLOC, "alloc", 1.0, "malloc/calloc/realloc/strdup/new")                                     \
    X(FREE, "free", 1.0, "free/delete")                                                            \
    X(INDEX_WRITE, "index_write", 2.0, "fixed-size array written through an index")                \
    X(INPUT, "untrusted_input", 0.0, "reads untrusted input: recv/read/fread/getenv/argv")         \
    X(GLOBAL_WRITE, "global_write", 0.0, "a global (or static) variable is written")               \
    X(THREAD, "thread", 0.0, "threads, locks, atomics")                                            \
    X(SIZE_ARITH, "size_arith", 3.0,                                                               \
      "integer arithmetic in an allocation size, copy length "                                     \
      "or index")                                                                                  \
    X(PARSE, "parse", 0.25, "byte-level parsing: character comparisons, strtol/memchr...")         \
    X(DATA_SIZE, "data_size", 6.0,                                                                 \
      "an allocation size, copy length or index computed from the "                                \
      "function's parameters (data its callers pass in)")

typedef enum pl_sig_kind {
#define PL_SIG_ENUM(e, name, weight, what) PL_SIG_##e,
    PL_SIGNALS(PL_SIG_ENUM)
#undef PL_SIG_ENUM
        PL_SIG_COUNT
} pl_sig_kind;

extern const char *const pl_sig_names[PL_SIG_COUNT];
extern const double pl_sig_weights[PL_SIG_COUNT];

typedef struct pl_signal {
    pl_sig_kind kind;
    char *what; /* e.g. "memcpy", "p += n", "argv" */
    unsigned line, col;
} pl_signal;

/* CALL: direct call; REF: a function's address taken; TYPE, VAR: type and global uses;
 * INDIRECT: a call through a function pointer (name: the pointee type, canonical). */
typedef enum pl_use_kind {
    PL_USE_CALL,
    PL_USE_REF,
    PL_USE_TYPE,
    PL_USE_VAR,
    PL_USE_INDIRECT
} pl_use_kind;

/* A use of a symbol declared elsewhere: call, function reference, type or variable. */
typedef struct pl_use {
    pl_use_kind kind;
    char *name;
    char *usr;
    char *decl_file; /* absolute path of the declaration; NULL for system/builtin */
    int written;     /* variable uses: written here */
    int virt;        /* calls: a virtual method called through dispatch */
    int nargs;       /* calls: arguments passed (data can flow to the callee) */
    unsigned line, col;
} pl_use;

typedef struct pl_func {
    char *name, *usr, *sig;
    char *ftype; /* canonical function type, matched against indirect calls */
    int is_static;
    int noexcept_; /* C++: declared noexcept (no exception can cross a seam) */
    char *header;  /* inline function defined in a project header: that header, else NULL */
    unsigned line, end_line;
    int complexity;
    pl_signal *sigs;
    size_t nsigs, sigcap;
    pl_use *uses;
    size_t nuses, usecap;
    char **overrides; /* C++: USRs of the virtual methods this one overrides */
    size_t noverrides, ovcap;
} pl_func;

typedef struct pl_gvar {
    char *name, *usr;
} pl_gvar;

typedef enum pl_file_status { PL_FILE_OK, PL_FILE_PARTIAL, PL_FILE_FAILED } pl_file_status;

typedef struct pl_file {
    char *path; /* absolute */
    pl_file_status status;
    char **errors; /* clear messages: diagnostics or why the file could not be parsed */
    size_t nerrors, errcap;
    unsigned lines;
    pl_func *funcs;
    size_t nfuncs, funccap;
    pl_gvar *gvars;
    size_t ngvars, gvarcap;
    char **taken; /* USRs of functions whose address a file-scope initializer takes */
    size_t ntaken, takencap;
    int cxx;           /* parsed as C++ */
    int no_exceptions; /* compiled with -fno-exceptions */
    char *holders;     /* copyright holders named in the licence header, '\n'-separated */
    char *head;        /* the first 4 KiB of the source: its licence header */
    int public_domain; /* the header says the file is in the public domain */
} pl_file;

/* Parses units[0..n) with `jobs` threads; files[i] receives the facts of units[i]. With
 * shared_preamble, units opening with the same system #includes (and arguments) share one
 * precompiled header of them (docs/PLAN.md, "Speed"): the facts are the same. Returns
 * how many units were parsed with a shared preamble. */
size_t pl_analyze(const pl_unit *units, size_t n, int jobs, int shared_preamble, pl_file *files);
/* Copyright holders and public-domain notice from the leading comments of a source text
 * (exposed for tests). Caller frees *holders. */
void pl_licence_scan(const char *text, size_t len, char **holders, int *public_domain);
/* The licence header of a source text: its first 4 KiB (caller frees). */
char *pl_licence_head(const char *text, size_t len);
/* 1 when text names word as a word ("Neither the name of Redis", not "Redistribution"). */
int pl_mentions_word(const char *text, const char *word);
void pl_file_free(pl_file *f);

/* ---- components without a groups file (components.c) ---- */

typedef struct pl_fedge {
    int a, b; /* files */
    int w;    /* calls and function references between them */
} pl_fedge;

/* Names the component of every file (project: the project's name, e.g. "redis", which
 * a file's licence header mentions when the file is the project's own) (comp_name[i], allocated;
 * NULL for failed files) and says why a file is third-party (vendor_why[i], allocated, else NULL).
 */
/* "deps/lua" for "deps/lua/src/lapi.c"; NULL when rel is not under a vendoring dir. */
char *pl_vendor_component(const char *rel);
void pl_components_assign(const pl_config *cfg, const char *project, const pl_file *files,
                          char *const *rel, size_t n, const pl_fedge *edges, size_t nedges,
                          char **comp_name, char **vendor_why);

/* ---- git history (history.c) ---- */

typedef struct pl_fstat pl_fstat;

/* Fills commits/fixes/churn of fstat[i] for rel[i] from `git log` in root; returns 0
 * when the history was read, -1 when root is not a git work tree (fstat untouched). */
int pl_history(const char *root, char *const *rel, size_t n, pl_fstat *fstat);

/* ---- merged model (model.c) ---- */

typedef struct pl_mfunc {
    const pl_func *f;
    int file;      /* index in model files */
    int comp;      /* component index */
    int dist;      /* call-graph distance to untrusted input, -1: unreachable */
    int taint;     /* calls along which untrusted data flows to it, -1: none (docs/PLAN.md) */
    int forwarder; /* only forwards one call: adds no distance (docs/PLAN.md) */
    int address_taken;
    double risk; /* weighted signals and complexity (docs/PLAN.md) */
    int *adj;    /* undirected call-graph neighbours (defined functions) */
    size_t nadj, adjcap;
} pl_mfunc;

typedef struct pl_sym {
    pl_use_kind kind;
    char *name;
    int count;
    int from_func; /* first user (model function index) */
    unsigned line, col;
    int target_func; /* model function index of the callee (calls/refs), else -1 */
} pl_sym;

typedef struct pl_edge {
    int from, to;
    int ncalls, ntypes, nvars; /* occurrences */
    pl_sym *syms;
    size_t nsyms, symcap;
    int in_cycle;
} pl_edge;

typedef struct pl_comp {
    char *name;
    int *files;
    size_t nfiles, filecap;
    int *funcs;
    size_t nfuncs, funccap;
    unsigned lines, func_lines;
    int sigs[PL_SIG_COUNT];
    int max_complexity;
    int dist; /* min distance of its functions to untrusted input, -1 none */
    int fan_in, fan_out;
    int boundary; /* distinct symbols crossing its boundary, both directions */
    int cycle;    /* id of its cycle (strongly connected group), -1 none */
    double benefit, benefit_norm, isolation, size_factor, score;
    double effort;    /* (1 + lines/1000) (1 + boundary/8), doubled in a cycle */
    int has_risk;     /* any memory-safety signal (not only globals or threads) */
    int tier;         /* 1 high benefit/low effort, 2 high/high, 3 low benefit, 4 no risk */
    int third_party;  /* vendored code: reported apart, not ranked */
    char *vendor_why; /* why it is third-party */
    int rank;         /* 1-based position in the migration order; 0 for third-party code */
    char *reason;
} pl_comp;

/* Per-file figures: the security benefit ranking of files (used by the evaluation) and
 * the git history when the root is a git repository. */
typedef struct pl_fstat {
    double benefit;
    int complexity;            /* total cyclomatic complexity of its functions */
    int rank;                  /* by benefit among the project's own files; 0: third-party/failed */
    int commits, fixes, churn; /* git history (-1 commits: not a git repository) */
} pl_fstat;

typedef struct pl_model {
    const char *root;
    const char *ccdb_path;
    char *ccdb_rel; /* the database's path relative to the root (what plans print) */
    pl_file *files;
    size_t nfiles;
    char **rel;     /* relative path of each file */
    int *file_comp; /* component of each file, -1 when not selected */
    pl_mfunc *funcs;
    size_t nfuncs, funccap;
    pl_comp *comps;
    size_t ncomps, compcap;
    pl_edge *edges;
    size_t nedges, edgecap;
    int ncycles;
    int *order;     /* component indexes in migration order (third-party ones last) */
    size_t nranked; /* components in the order that are not third-party */
    pl_fstat *fstat;
    int history; /* git history was read */
    int seams;
    size_t files_failed, files_partial;
    unsigned total_lines;
    char **warnings; /* compile database entries that were skipped (owned by the caller) */
    size_t nwarnings;
} pl_model;

/* Builds the model from analysed files (takes ownership of files). */
void pl_model_build(pl_model *m, const pl_config *cfg, const char *root, const char *ccdb_path,
                    pl_file *files, size_t nfiles);
void pl_model_free(pl_model *m);
/* Rewrites m->warnings (set by the caller) with root-relative paths. */
void pl_model_relativize_warnings(pl_model *m);
/* "high benefit, low effort", ... for tiers 1-4; "third-party" otherwise. */
const char *pl_tier_name(int tier);

/* ---- reports (report.c) ---- */

typedef enum pl_format { PL_FMT_MD, PL_FMT_JSON, PL_FMT_HTML, PL_FMT_DOT, PL_FMT_SVG } pl_format;

int pl_write_json(const pl_model *m, FILE *out);
int pl_write_md(const pl_model *m, FILE *out);
int pl_write_dot(const pl_model *m, FILE *out);
/* The benefit/effort scatter (scatter.c): as an SVG document, or as an inline string. */
int pl_write_svg(const pl_model *m, FILE *out);
char *pl_render_scatter(const pl_model *m);
/* Renders the dot graph with `dot -Tsvg` when graphviz is installed. */
int pl_write_html(const pl_model *m, FILE *out);
/* The dot graph rendered as an SVG string (caller frees), or NULL with a reason in err. */
char *pl_render_svg(const pl_model *m, char *err, size_t errlen);

/* ---- command line (plan.c) ---- */

/* `graft plan ...`: argv[0] is "plan". Returns the process exit status:
 * 0 complete plan, 3 plan written but some files failed to parse, 2 usage, 1 fatal. */
int graft_plan_main(int argc, char **argv);

#endif
