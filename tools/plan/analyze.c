/*
 * analyze.c: per-file facts for `graft plan`, extracted with libclang's C API.
 *
 * Each worker thread owns one CXIndex (libclang indexes are not shared across threads)
 * and takes the next unit from an atomic counter; results land in the caller's slot for
 * that unit, so the merged plan does not depend on scheduling. Only functions defined in
 * the main file of a unit are analysed, so a function is seen once however many units
 * include its header (static inline functions in headers are therefore not planned).
 *
 * libclang 14 does not expose operator kinds, so the operator of a binary or unary
 * expression is read from the function's token stream: it is the first token at or after
 * the end of the left operand. Complexity is counted on the same tokens.
 */
#define _GNU_SOURCE
#include "plan.h"

#include <clang-c/Index.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PL_SIG_NAME(e, name, weight, what) name,
const char *const pl_sig_names[PL_SIG_COUNT] = {PL_SIGNALS(PL_SIG_NAME)};
#undef PL_SIG_NAME
#define PL_SIG_WEIGHT(e, name, weight, what) weight,
const double pl_sig_weights[PL_SIG_COUNT] = {PL_SIGNALS(PL_SIG_WEIGHT)};
#undef PL_SIG_WEIGHT

/* Library functions by signal; a name may appear in several lists (gets). */
static const char *const memory_fns[] = {
    "memcpy",  "memmove", "memset",   "strcpy",   "strncpy",   "stpcpy", "stpncpy", "strcat",
    "strncat", "sprintf", "vsprintf", "snprintf", "vsnprintf", "gets",   "strtok",  "sscanf",
    "bcopy",   "wcscpy",  "wcscat",   "wmemcpy",  "wmemmove",  "alloca", NULL};
static const char *const alloc_fns[] = {
    "malloc",         "calloc", "realloc",  "reallocarray", "strdup",    "strndup", "aligned_alloc",
    "posix_memalign", "valloc", "memalign", "asprintf",     "vasprintf", NULL};
static const char *const free_fns[] = {"free", NULL};
static const char *const input_fns[] = {
    "recv",    "recvfrom", "recvmsg",        "read",  "pread",  "pread64", "readv",
    "preadv",  "fread",    "fread_unlocked", "fgets", "fgetc",  "getc",    "getc_unlocked",
    "getchar", "getline",  "getdelim",       "scanf", "fscanf", "vscanf",  "vfscanf",
    "gets",    "getenv",   "secure_getenv",  NULL};
/* Parsing helpers: where a function scans or converts bytes itself. */
static const char *const parse_fns[] = {"strtol",  "strtoul", "strtoll",   "strtoull",  "strtod",
                                        "strtof",  "strtold", "strtoimax", "strtoumax", "atoi",
                                        "atol",    "atoll",   "atof",      "memchr",    "memrchr",
                                        "strchr",  "strrchr", "strstr",    "strpbrk",   "strspn",
                                        "strcspn", "memmem",  "strsep",    "strtok_r",  NULL};
/* Calls whose size or length argument (index) is where integer overflow turns into a
 * heap overflow: allocation sizes and copy lengths. -1 ends the list of arguments. */
typedef struct size_fn {
    const char *name;
    int args[3];
} size_fn;
static const size_fn size_fns[] = {{"malloc", {0, -1}},        {"calloc", {0, 1, -1}},
                                   {"realloc", {1, -1}},       {"reallocarray", {1, 2, -1}},
                                   {"aligned_alloc", {1, -1}}, {"alloca", {0, -1}},
                                   {"memcpy", {2, -1}},        {"memmove", {2, -1}},
                                   {"memset", {2, -1}},        {"strncpy", {2, -1}},
                                   {"strncat", {2, -1}},       {"snprintf", {1, -1}},
                                   {"vsnprintf", {1, -1}},     {"memcmp", {2, -1}},
                                   {"strndup", {1, -1}},       {"read", {2, -1}},
                                   {"recv", {2, -1}},          {"fread", {1, 2, -1}},
                                   {"pread", {2, -1}},         {NULL, {-1}}};
static const char *const thread_prefixes[] = {"pthread_",      "thrd_",   "mtx_",      "cnd_",
                                              "sem_",          "atomic_", "__atomic_", "__sync_",
                                              "__c11_atomic_", NULL};

typedef struct pl_tok {
    unsigned off;
    char op[8]; /* spelling of punctuation and keywords shorter than 8, else "" */
} pl_tok;

typedef struct actx {
    CXTranslationUnit tu;
    pl_file *out;
    pl_func *fn;
    pl_tok *toks;
    size_t ntoks;
    CXCursor argv;
    int has_argv;
    int in_callee;
    int depth;         /* nesting of walk(): bounded so deep expressions cannot overflow */
    int char_cmps;     /* character literals compared against (a byte-level parser) */
    CXCursor *tainted; /* local variables that hold data derived from parameters */
    size_t ntainted, taintcap;
    int truncated; /* the current function had subtrees deeper than MAX_DEPTH */
} actx;

/* Deepest cursor nesting analysed; each level costs about 1-2 KiB of the worker's stack
 * (walk plus libclang's visitor), so this stays far inside WORKER_STACK. */
enum { MAX_DEPTH = 4000 };
#define WORKER_STACK (64u << 20)

static char *cx_take(CXString s)
{
    const char *c = clang_getCString(s);
    char *d = pl_xstrdup(c ? c : "");
    clang_disposeString(s);
    return d;
}

static void loc_of(CXSourceLocation l, unsigned *line, unsigned *col, unsigned *off)
{
    unsigned ln = 0, cl = 0, of = 0;
    clang_getFileLocation(l, NULL, &ln, &cl, &of);
    if (line)
        *line = ln;
    if (col)
        *col = cl;
    if (off)
        *off = of;
}

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

static void add_signal(actx *x, pl_sig_kind kind, const char *what, CXCursor at)
{
    pl_signal s = {.kind = kind, .what = pl_xstrdup(what)};
    loc_of(clang_getCursorLocation(at), &s.line, &s.col, NULL);
    PL_PUSH(x->fn->sigs, x->fn->nsigs, x->fn->sigcap, s);
}

static char *decl_file(CXCursor decl)
{
    CXSourceLocation l = clang_getCursorLocation(decl);
    if (clang_Location_isInSystemHeader(l))
        return NULL;
    CXFile f = NULL;
    clang_getFileLocation(l, &f, NULL, NULL, NULL);
    if (!f)
        return NULL;
    char *name = cx_take(clang_getFileName(f));
    char *norm = pl_path_normalize(name);
    free(name);
    return norm;
}

static void add_use(actx *x, pl_use_kind kind, CXCursor decl, const char *name, CXCursor at,
                    int written)
{
    char *usr = cx_take(clang_getCursorUSR(decl));
    if (kind == PL_USE_TYPE) {
        /* one record per type and function: the first mention is enough for a seam */
        for (size_t i = 0; i < x->fn->nuses; i++) {
            const pl_use *u = &x->fn->uses[i];
            if (u->kind == PL_USE_TYPE && strcmp(u->usr, usr) == 0) {
                free(usr);
                return;
            }
        }
    }
    pl_use u = {.kind = kind, .name = pl_xstrdup(name), .usr = usr, .written = written};
    u.decl_file = decl_file(decl);
    loc_of(clang_getCursorLocation(at), &u.line, &u.col, NULL);
    PL_PUSH(x->fn->uses, x->fn->nuses, x->fn->usecap, u);
}

typedef struct kids {
    CXCursor c[8];
    int n;
} kids;

static enum CXChildVisitResult collect_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    kids *k = d;
    if (k->n < 8)
        k->c[k->n++] = c;
    return CXChildVisit_Continue;
}

static kids children(CXCursor c)
{
    kids k = {.n = 0};
    clang_visitChildren(c, collect_cb, &k);
    return k;
}

/* Skips parentheses and implicit conversions (libclang shows them as UnexposedExpr). */
static CXCursor strip(CXCursor c)
{
    for (;;) {
        enum CXCursorKind k = clang_getCursorKind(c);
        if (k != CXCursor_ParenExpr && k != CXCursor_UnexposedExpr)
            return c;
        kids ch = children(c);
        if (ch.n != 1 || !clang_isExpression(clang_getCursorKind(ch.c[0])))
            return c;
        c = ch.c[0];
    }
}

static int type_is_ptr(CXType t)
{
    return clang_getCanonicalType(t).kind == CXType_Pointer;
}

static int type_is_void_ptr(CXType t)
{
    CXType c = clang_getCanonicalType(t);
    return c.kind == CXType_Pointer &&
           clang_getCanonicalType(clang_getPointeeType(c)).kind == CXType_Void;
}

static int is_global_var(CXCursor v)
{
    if (clang_getCursorKind(v) != CXCursor_VarDecl)
        return 0;
    if (clang_Location_isInSystemHeader(clang_getCursorLocation(v)))
        return 0;
    enum CXCursorKind pk = clang_getCursorKind(clang_getCursorSemanticParent(v));
    return pk == CXCursor_TranslationUnit || clang_Cursor_getStorageClass(v) == CX_SC_Static;
}

static int is_func_kind(enum CXCursorKind k)
{
    return k == CXCursor_FunctionDecl || k == CXCursor_CXXMethod || k == CXCursor_Constructor ||
           k == CXCursor_Destructor || k == CXCursor_ConversionFunction ||
           k == CXCursor_FunctionTemplate;
}

static int is_record_kind(enum CXCursorKind k)
{
    return k == CXCursor_StructDecl || k == CXCursor_UnionDecl || k == CXCursor_ClassDecl ||
           k == CXCursor_ClassTemplate || k == CXCursor_ClassTemplatePartialSpecialization;
}

/* Index of the first token at or after byte offset off. */
static const pl_tok *tok_at(const actx *x, unsigned off)
{
    size_t lo = 0, hi = x->ntoks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (x->toks[mid].off < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < x->ntoks ? &x->toks[lo] : NULL;
}

static const char *op_after(const actx *x, CXCursor lhs)
{
    unsigned off = 0;
    loc_of(clang_getRangeEnd(clang_getCursorExtent(lhs)), NULL, NULL, &off);
    const pl_tok *t = tok_at(x, off);
    return t ? t->op : "";
}

static const char *op_at_start(const actx *x, CXCursor c)
{
    unsigned off = 0;
    loc_of(clang_getRangeStart(clang_getCursorExtent(c)), NULL, NULL, &off);
    const pl_tok *t = tok_at(x, off);
    return t && t->off == off ? t->op : "";
}

static int is_constant(CXCursor e)
{
    enum CXCursorKind k = clang_getCursorKind(strip(e));
    return k == CXCursor_IntegerLiteral || k == CXCursor_CharacterLiteral ||
           k == CXCursor_UnaryExpr /* sizeof, alignof */;
}

enum { MAX_TAINTED_LOCALS = 256 };

static int local_tainted(const actx *x, CXCursor v)
{
    for (size_t i = 0; i < x->ntainted; i++)
        if (clang_equalCursors(x->tainted[i], v))
            return 1;
    return 0;
}

static void taint_local(actx *x, CXCursor v)
{
    if (clang_getCursorKind(v) != CXCursor_VarDecl || is_global_var(v) || local_tainted(x, v) ||
        x->ntainted >= MAX_TAINTED_LOCALS)
        return;
    PL_PUSH(x->tainted, x->ntainted, x->taintcap, v);
}

/* 1 when the expression reads a parameter, or a local that holds data derived from one:
 * the data callers pass in (and, for the functions the taint reaches, untrusted data). */
static int expr_tainted(const actx *x, CXCursor e, int depth)
{
    if (depth > 24)
        return 0;
    enum CXCursorKind k = clang_getCursorKind(e);
    if (k == CXCursor_DeclRefExpr) {
        CXCursor r = clang_getCursorReferenced(e);
        enum CXCursorKind rk = clang_getCursorKind(r);
        if (rk == CXCursor_ParmDecl)
            return 1;
        if (rk == CXCursor_VarDecl && local_tainted(x, r))
            return 1;
        return 0;
    }
    if (k == CXCursor_UnaryExpr) /* sizeof */
        return 0;
    kids ch = children(e);
    for (int i = 0; i < ch.n; i++)
        if (clang_isExpression(clang_getCursorKind(ch.c[i])) && expr_tainted(x, ch.c[i], depth + 1))
            return 1;
    return 0;
}

/* 1 when the expression computes with + - * or << on a non-constant operand: where an
 * unchecked integer overflow becomes a short allocation or a long copy; 2 when an
 * operand is derived from the function's parameters. */
static int has_arith(const actx *x, CXCursor e, int depth)
{
    e = strip(e);
    if (depth > 16)
        return 0;
    enum CXCursorKind k = clang_getCursorKind(e);
    kids ch = children(e);
    if (k == CXCursor_BinaryOperator && ch.n == 2) {
        const char *op = op_after(x, ch.c[0]);
        if ((!strcmp(op, "+") || !strcmp(op, "-") || !strcmp(op, "*") || !strcmp(op, "<<")) &&
            !(is_constant(ch.c[0]) && is_constant(ch.c[1])) && !type_is_ptr(clang_getCursorType(e)))
            return expr_tainted(x, e, 0) ? 2 : 1;
    }
    if (k == CXCursor_CallExpr || k == CXCursor_UnaryExpr)
        return 0; /* a call's own arguments are its business; sizeof computes nothing */
    int best = 0;
    for (int i = 0; i < ch.n && best < 2; i++) {
        if (clang_isExpression(clang_getCursorKind(ch.c[i]))) {
            int r = has_arith(x, ch.c[i], depth + 1);
            best = r > best ? r : best;
        }
    }
    return best;
}

static int is_compare(const char *op)
{
    return !strcmp(op, "==") || !strcmp(op, "!=") || !strcmp(op, "<") || !strcmp(op, ">") ||
           !strcmp(op, "<=") || !strcmp(op, ">=");
}

static char *ref_name(CXCursor e)
{
    CXCursor r = clang_getCursorReferenced(e);
    if (!clang_Cursor_isNull(r))
        return cx_take(clang_getCursorSpelling(r));
    return pl_xstrdup("array");
}

/* An assignment or increment writes `lhs`: fixed-size arrays written through an index,
 * and globals written (directly, through array elements or struct members). */
static void on_write(actx *x, CXCursor lhs)
{
    CXCursor e = strip(lhs);
    if (clang_getCursorKind(e) == CXCursor_ArraySubscriptExpr) {
        kids k = children(e);
        if (k.n >= 1) {
            CXCursor base = strip(k.c[0]);
            if (clang_getCanonicalType(clang_getCursorType(base)).kind == CXType_ConstantArray) {
                char *n = ref_name(base);
                char *what = pl_xasprintf("%s[...] =", n);
                add_signal(x, PL_SIG_INDEX_WRITE, what, e);
                free(what);
                free(n);
            }
        }
    }
    for (int guard = 0; guard < 64; guard++) {
        e = strip(e);
        enum CXCursorKind k = clang_getCursorKind(e);
        if (k == CXCursor_ArraySubscriptExpr || k == CXCursor_MemberRefExpr) {
            kids ch = children(e);
            if (ch.n < 1)
                return;
            CXCursor base = strip(ch.c[0]);
            CXType bt = clang_getCanonicalType(clang_getCursorType(base));
            /* writes through a pointer do not write the variable holding the pointer */
            if (k == CXCursor_ArraySubscriptExpr && bt.kind != CXType_ConstantArray)
                return;
            if (k == CXCursor_MemberRefExpr && bt.kind == CXType_Pointer)
                return;
            e = base;
            continue;
        }
        if (k == CXCursor_DeclRefExpr) {
            CXCursor v = clang_getCursorReferenced(e);
            if (is_global_var(v)) {
                char *name = cx_take(clang_getCursorSpelling(v));
                add_signal(x, PL_SIG_GLOBAL_WRITE, name, lhs);
                add_use(x, PL_USE_VAR, v, name, lhs, 1);
                free(name);
            }
        }
        return;
    }
}

/* Arithmetic in the size and length arguments of allocations and copies. Project
 * allocators (names with "alloc", e.g. zmalloc, xrealloc) are checked on every argument. */
static void size_signal(actx *x, CXCursor c, const char *name, int arith, int tainted)
{
    if (arith == 2 || (!arith && tainted)) {
        char *what = pl_xasprintf("%s %s from parameters", name, arith ? "size" : "length");
        add_signal(x, PL_SIG_DATA_SIZE, what, c);
        free(what);
    } else if (arith) {
        char *what = pl_xasprintf("%s size", name);
        add_signal(x, PL_SIG_SIZE_ARITH, what, c);
        free(what);
    }
}

static void check_size_args(actx *x, CXCursor c, const char *name, int system)
{
    int nargs = clang_Cursor_getNumArguments(c);
    if (nargs <= 0)
        return;
    if (system) {
        for (const size_fn *f = size_fns; f->name; f++) {
            if (strcmp(f->name, name))
                continue;
            int arith = 0, tainted = 0;
            for (int i = 0; i < 3 && f->args[i] >= 0; i++) {
                if (f->args[i] >= nargs)
                    continue;
                CXCursor a = clang_Cursor_getArgument(c, (unsigned)f->args[i]);
                int r = has_arith(x, a, 0);
                arith = r > arith ? r : arith;
                tainted |= !is_constant(a) && expr_tainted(x, strip(a), 0);
            }
            size_signal(x, c, name, arith, tainted);
            return;
        }
        return;
    }
    if (!strcasestr(name, "alloc"))
        return;
    int arith = 0;
    for (int i = 0; i < nargs; i++) {
        CXCursor a = clang_Cursor_getArgument(c, (unsigned)i);
        CXType t = clang_getCanonicalType(clang_getCursorType(a));
        if (t.kind >= CXType_FirstBuiltin && t.kind <= CXType_LastBuiltin) {
            int r = has_arith(x, a, 0);
            arith = r > arith ? r : arith;
        }
    }
    size_signal(x, c, name, arith, 0);
}

/* A call given parameter-derived data and &local writes the local from that data
 * (Redis parses a command argument with getLongLongFromObject(c->argv[2], &count)). */
static void taint_out_params(actx *x, CXCursor c)
{
    int n = clang_Cursor_getNumArguments(c), any = 0;
    for (int i = 0; i < n && !any; i++)
        any = expr_tainted(x, clang_Cursor_getArgument(c, (unsigned)i), 0);
    if (!any)
        return;
    for (int i = 0; i < n; i++) {
        CXCursor a = strip(clang_Cursor_getArgument(c, (unsigned)i));
        if (clang_getCursorKind(a) != CXCursor_UnaryOperator || strcmp(op_at_start(x, a), "&"))
            continue;
        kids k = children(a);
        if (k.n == 1 && clang_getCursorKind(strip(k.c[0])) == CXCursor_DeclRefExpr)
            taint_local(x, clang_getCursorReferenced(strip(k.c[0])));
    }
}

static void on_call(actx *x, CXCursor c)
{
    CXCursor ref = clang_getCursorReferenced(c);
    enum CXCursorKind rk = clang_getCursorKind(ref);
    if (clang_Cursor_isNull(ref) || !is_func_kind(rk)) {
        /* a call through a pointer: remember the function type; the model links it to
         * the address-taken functions of that type */
        kids k = children(c);
        if (k.n < 1)
            return;
        CXType t = clang_getCanonicalType(clang_getCursorType(k.c[0]));
        if (t.kind == CXType_Pointer)
            t = clang_getCanonicalType(clang_getPointeeType(t));
        if (t.kind != CXType_FunctionProto && t.kind != CXType_FunctionNoProto)
            return;
        char *ts = cx_take(clang_getTypeSpelling(t));
        pl_use u = {.kind = PL_USE_INDIRECT, .name = ts, .usr = pl_xstrdup(ts)};
        u.nargs = clang_Cursor_getNumArguments(c);
        loc_of(clang_getCursorLocation(c), &u.line, &u.col, NULL);
        PL_PUSH(x->fn->uses, x->fn->nuses, x->fn->usecap, u);
        return;
    }
    char *name = cx_take(clang_getCursorSpelling(ref));
    CXSourceLocation dl = clang_getCursorLocation(ref);
    CXFile df = NULL;
    clang_getFileLocation(dl, &df, NULL, NULL, NULL);
    int system = clang_Location_isInSystemHeader(dl) || !df;
    if (system) {
        if (in_list(name, memory_fns))
            add_signal(x, PL_SIG_MEMORY, name, c);
        if (in_list(name, alloc_fns))
            add_signal(x, PL_SIG_ALLOC, name, c);
        if (in_list(name, free_fns))
            add_signal(x, PL_SIG_FREE, name, c);
        if (in_list(name, input_fns))
            add_signal(x, PL_SIG_INPUT, name, c);
        if (in_list(name, parse_fns))
            add_signal(x, PL_SIG_PARSE, name, c);
        for (const char *const *p = thread_prefixes; *p; p++) {
            if (strncmp(name, *p, strlen(*p)) == 0) {
                add_signal(x, PL_SIG_THREAD, name, c);
                break;
            }
        }
    }
    check_size_args(x, c, name, system);
    taint_out_params(x, c);
    add_use(x, PL_USE_CALL, ref, name, c, 0);
    pl_use *u = &x->fn->uses[x->fn->nuses - 1];
    int n = clang_Cursor_getNumArguments(c);
    /* a method also receives its object: data reaches it through `this` */
    u->nargs = (n > 0 ? n : 0) + (rk == CXCursor_CXXMethod && !clang_CXXMethod_isStatic(ref));
    u->virt = rk == CXCursor_CXXMethod && clang_CXXMethod_isVirtual(ref);
    free(name);
}

static void on_binop(actx *x, CXCursor c)
{
    kids k = children(c);
    if (k.n != 2)
        return;
    const char *op = op_after(x, k.c[0]);
    if (!strcmp(op, "+") || !strcmp(op, "-") || !strcmp(op, "+=") || !strcmp(op, "-=")) {
        if (type_is_ptr(clang_getCursorType(k.c[0])) || type_is_ptr(clang_getCursorType(k.c[1]))) {
            char *what = pl_xasprintf("pointer %s", op);
            add_signal(x, PL_SIG_PTR_ARITH, what, c);
            free(what);
        }
    }
    if (is_compare(op) && (clang_getCursorKind(strip(k.c[0])) == CXCursor_CharacterLiteral ||
                           clang_getCursorKind(strip(k.c[1])) == CXCursor_CharacterLiteral))
        x->char_cmps++;
    if (op[0] && op[strlen(op) - 1] == '=' && !is_compare(op) &&
        clang_getCursorKind(strip(k.c[0])) == CXCursor_DeclRefExpr && expr_tainted(x, k.c[1], 0))
        taint_local(x, clang_getCursorReferenced(strip(k.c[0])));
    size_t n = strlen(op);
    if (n >= 1 && op[n - 1] == '=' && strcmp(op, "==") && strcmp(op, "!=") && strcmp(op, "<=") &&
        strcmp(op, ">="))
        on_write(x, k.c[0]);
}

static void on_unop(actx *x, CXCursor c)
{
    kids k = children(c);
    if (k.n != 1)
        return;
    const char *op = op_at_start(x, c);
    if (strcmp(op, "++") && strcmp(op, "--"))
        op = op_after(x, k.c[0]);
    if (strcmp(op, "++") && strcmp(op, "--"))
        return;
    if (type_is_ptr(clang_getCursorType(k.c[0]))) {
        char *what = pl_xasprintf("pointer %s", op);
        add_signal(x, PL_SIG_PTR_ARITH, what, c);
        free(what);
    }
    on_write(x, k.c[0]);
}

static int is_null_constant(CXCursor e)
{
    e = strip(e);
    if (clang_getCursorKind(e) == CXCursor_CStyleCastExpr) {
        kids k = children(e);
        return k.n >= 1 && clang_getCursorKind(strip(k.c[k.n - 1])) == CXCursor_IntegerLiteral;
    }
    return clang_getCursorKind(e) == CXCursor_IntegerLiteral;
}

static void on_cast(actx *x, CXCursor c, int explicit_cast)
{
    CXType to = clang_getCursorType(c);
    if (!type_is_ptr(to) || type_is_void_ptr(to))
        return;
    kids k = children(c);
    int expr = -1, nexpr = 0;
    for (int i = 0; i < k.n; i++) {
        if (clang_isExpression(clang_getCursorKind(k.c[i]))) {
            expr = i;
            nexpr++;
        }
    }
    if (expr < 0 || (!explicit_cast && nexpr != 1))
        return;
    if (!type_is_void_ptr(clang_getCursorType(k.c[expr])) || is_null_constant(k.c[expr]))
        return;
    char *ts = cx_take(clang_getTypeSpelling(to));
    char *what = pl_xasprintf("%s(%s) from void *", explicit_cast ? "" : "implicit ", ts);
    add_signal(x, PL_SIG_VOID_CAST, what, c);
    free(what);
    free(ts);
}

static void on_typeref(actx *x, CXCursor c)
{
    CXCursor ref = clang_getCursorReferenced(c);
    if (clang_Cursor_isNull(ref) || clang_Location_isInSystemHeader(clang_getCursorLocation(ref)))
        return;
    char *name = cx_take(clang_getCursorSpelling(c));
    add_use(x, PL_USE_TYPE, ref, name, c, 0);
    free(name);
}

static void on_memberref(actx *x, CXCursor c)
{
    CXCursor field = clang_getCursorReferenced(c);
    if (clang_Cursor_isNull(field))
        return;
    CXCursor rec = clang_getCursorSemanticParent(field);
    enum CXCursorKind rk = clang_getCursorKind(rec);
    if (!is_record_kind(rk))
        return;
    if (clang_Location_isInSystemHeader(clang_getCursorLocation(rec)))
        return;
    char *name = cx_take(clang_getTypeSpelling(clang_getCursorType(rec)));
    add_use(x, PL_USE_TYPE, rec, name, c, 0);
    free(name);
}

static void on_declref(actx *x, CXCursor c)
{
    CXCursor ref = clang_getCursorReferenced(c);
    if (clang_Cursor_isNull(ref))
        return;
    enum CXCursorKind k = clang_getCursorKind(ref);
    if (is_func_kind(k) && !x->in_callee) {
        char *name = cx_take(clang_getCursorSpelling(ref));
        if (!strncmp(name, "operator", 8) && !isalnum((unsigned char)name[8]) && name[8] != '_') {
            free(name); /* an overloaded operator's own name in its call, not a reference */
            return;
        }
        add_use(x, PL_USE_REF, ref, name, c, 0);
        free(name);
    } else if (k == CXCursor_VarDecl && is_global_var(ref)) {
        char *name = cx_take(clang_getCursorSpelling(ref));
        add_use(x, PL_USE_VAR, ref, name, c, 0);
        free(name);
    } else if (k == CXCursor_ParmDecl && x->has_argv && clang_equalCursors(ref, x->argv)) {
        add_signal(x, PL_SIG_INPUT, "argv", c);
    }
}

static void walk(actx *x, CXCursor c);

/* C++ new: manual lifetime like malloc; `new T[n * m]` is a computed allocation size. */
static void on_new(actx *x, CXCursor c)
{
    add_signal(x, PL_SIG_ALLOC, "new", c);
    kids k = children(c);
    for (int i = 0; i < k.n; i++) {
        if (clang_isExpression(clang_getCursorKind(k.c[i])) && has_arith(x, k.c[i], 0)) {
            add_signal(x, PL_SIG_SIZE_ARITH, "new[] size", c);
            break;
        }
    }
}

typedef struct walker {
    actx *x;
    int idx;
    int call; /* parent is a call: its first child is the callee expression */
    int keep; /* parent is transparent (parens, implicit cast): children inherit in_callee */
} walker;

static enum CXChildVisitResult walk_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    walker *w = d;
    actx *x = w->x;
    int saved = x->in_callee;
    if (w->call)
        x->in_callee = w->idx == 0;
    else if (!w->keep)
        x->in_callee = 0;
    w->idx++;
    walk(x, c);
    x->in_callee = saved;
    return CXChildVisit_Continue;
}

static void walk(actx *x, CXCursor c)
{
    if (x->depth >= MAX_DEPTH) {
        x->truncated = 1;
        return;
    }
    int call = 0;
    switch (clang_getCursorKind(c)) {
    case CXCursor_CallExpr:
        on_call(x, c);
        call = 1;
        break;
    case CXCursor_DeclRefExpr:
        on_declref(x, c);
        break;
    case CXCursor_MemberRefExpr:
        on_memberref(x, c);
        break;
    case CXCursor_TypeRef:
        on_typeref(x, c);
        break;
    case CXCursor_BinaryOperator:
    case CXCursor_CompoundAssignOperator:
        on_binop(x, c);
        break;
    case CXCursor_UnaryOperator:
        on_unop(x, c);
        break;
    case CXCursor_CStyleCastExpr:
        on_cast(x, c, 1);
        break;
    case CXCursor_UnexposedExpr:
        on_cast(x, c, 0);
        break;
    case CXCursor_CXXNewExpr:
        on_new(x, c);
        break;
    case CXCursor_CXXDeleteExpr:
        add_signal(x, PL_SIG_FREE, "delete", c);
        break;
    case CXCursor_ArraySubscriptExpr: {
        kids k = children(c);
        int r = k.n == 2 ? has_arith(x, k.c[1], 0) : 0;
        if (r)
            add_signal(x, r == 2 ? PL_SIG_DATA_SIZE : PL_SIG_SIZE_ARITH,
                       r == 2 ? "index from parameters" : "index", c);
        break;
    }
    case CXCursor_VarDecl: {
        kids k = children(c);
        for (int i = 0; i < k.n; i++)
            if (clang_isExpression(clang_getCursorKind(k.c[i])) && expr_tainted(x, k.c[i], 0))
                taint_local(x, c);
        break;
    }
    case CXCursor_CaseStmt: {
        kids k = children(c);
        if (k.n >= 1 && clang_getCursorKind(strip(k.c[0])) == CXCursor_CharacterLiteral)
            x->char_cmps++;
        break;
    }
    default:
        break;
    }
    enum CXCursorKind k = clang_getCursorKind(c);
    walker w = {.x = x,
                .idx = 0,
                .call = call,
                .keep = k == CXCursor_UnexposedExpr || k == CXCursor_ParenExpr};
    x->depth++;
    clang_visitChildren(c, walk_cb, &w);
    x->depth--;
}

static char *signature(CXCursor fn)
{
    char *ret = cx_take(clang_getTypeSpelling(clang_getCursorResultType(fn)));
    char *name = cx_take(clang_getCursorSpelling(fn));
    size_t cap = 256, len = 0;
    char *s = pl_xmalloc(cap);
    s[0] = '\0';
#define APPEND(str)                                                                                \
    do {                                                                                           \
        const char *a_ = (str);                                                                    \
        size_t l_ = strlen(a_);                                                                    \
        pl_grow((void **)&s, &cap, len + l_ + 1, 1);                                               \
        memcpy(s + len, a_, l_ + 1);                                                               \
        len += l_;                                                                                 \
    } while (0)
    if (clang_Cursor_getStorageClass(fn) == CX_SC_Static)
        APPEND("static ");
    APPEND(ret);
    APPEND(ret[0] && ret[strlen(ret) - 1] == '*' ? "" : " ");
    APPEND(name);
    APPEND("(");
    int n = clang_Cursor_getNumArguments(fn);
    for (int i = 0; i < n; i++) {
        CXCursor a = clang_Cursor_getArgument(fn, (unsigned)i);
        char *t = cx_take(clang_getTypeSpelling(clang_getCursorType(a)));
        char *an = cx_take(clang_getCursorSpelling(a));
        if (i)
            APPEND(", ");
        APPEND(t);
        if (an[0]) {
            APPEND(t[0] && t[strlen(t) - 1] == '*' ? "" : " ");
            APPEND(an);
        }
        free(t);
        free(an);
    }
    CXType ft = clang_getCursorType(fn);
    if (clang_isFunctionTypeVariadic(ft))
        APPEND(n ? ", ..." : "...");
    else if (n == 0 && ft.kind == CXType_FunctionProto)
        APPEND("void");
    APPEND(")");
#undef APPEND
    free(ret);
    free(name);
    return s;
}

static void tokenize(actx *x, CXCursor fn)
{
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(x->tu, clang_getCursorExtent(fn), &toks, &n);
    x->toks = pl_xcalloc(n ? n : 1, sizeof(pl_tok));
    x->ntoks = n;
    for (unsigned i = 0; i < n; i++) {
        CXTokenKind k = clang_getTokenKind(toks[i]);
        loc_of(clang_getTokenLocation(x->tu, toks[i]), NULL, NULL, &x->toks[i].off);
        if (k == CXToken_Punctuation || k == CXToken_Keyword) {
            CXString s = clang_getTokenSpelling(x->tu, toks[i]);
            const char *c = clang_getCString(s);
            if (c && strlen(c) < sizeof(x->toks[i].op))
                strcpy(x->toks[i].op, c);
            clang_disposeString(s);
        }
    }
    clang_disposeTokens(x->tu, toks, n);
}

static int complexity(const actx *x)
{
    static const char *const decisions[] = {"if", "for", "while", "case", "&&", "||", "?", NULL};
    int cc = 1;
    for (size_t i = 0; i < x->ntoks; i++)
        if (x->toks[i].op[0] && in_list(x->toks[i].op, decisions))
            cc++;
    return cc;
}

/* A method's name with its classes (not namespaces): "DBImpl::Get", "Arena::Arena". */
static char *qualified_name(CXCursor c)
{
    char *name = cx_take(clang_getCursorSpelling(c));
    for (CXCursor p = clang_getCursorSemanticParent(c); is_record_kind(clang_getCursorKind(p));
         p = clang_getCursorSemanticParent(p)) {
        char *cls = cx_take(clang_getCursorSpelling(p));
        char *q = pl_xasprintf("%s::%s", cls[0] ? cls : "(anonymous)", name);
        free(cls);
        free(name);
        name = q;
    }
    return name;
}

enum { MAX_CHAR_CMPS = 16 }; /* parse signals per function: a lexer is one parser */

static void analyze_function(actx *x, CXCursor c)
{
    pl_func f = {0};
    f.name = qualified_name(c);
    f.usr = cx_take(clang_getCursorUSR(c));
    f.sig = signature(c);
    f.ftype = cx_take(clang_getTypeSpelling(clang_getCanonicalType(clang_getCursorType(c))));
    f.is_static = clang_Cursor_getStorageClass(c) == CX_SC_Static ||
                  (clang_getCursorKind(c) == CXCursor_CXXMethod && clang_CXXMethod_isStatic(c));
    int es = clang_getCursorExceptionSpecificationType(c);
    f.noexcept_ = es == CXCursor_ExceptionSpecificationKind_BasicNoexcept ||
                  es == CXCursor_ExceptionSpecificationKind_ComputedNoexcept ||
                  es == CXCursor_ExceptionSpecificationKind_DynamicNone;
    CXCursor *ov = NULL;
    unsigned nov = 0;
    clang_getOverriddenCursors(c, &ov, &nov);
    for (unsigned i = 0; i < nov; i++)
        PL_PUSH(f.overrides, f.noverrides, f.ovcap, cx_take(clang_getCursorUSR(ov[i])));
    if (ov)
        clang_disposeOverriddenCursors(ov);
    CXSourceRange r = clang_getCursorExtent(c);
    loc_of(clang_getRangeStart(r), &f.line, NULL, NULL);
    loc_of(clang_getRangeEnd(r), &f.end_line, NULL, NULL);
    PL_PUSH(x->out->funcs, x->out->nfuncs, x->out->funccap, f);
    x->fn = &x->out->funcs[x->out->nfuncs - 1];

    x->has_argv = 0;
    if (strcmp(x->fn->name, "main") == 0 && clang_Cursor_getNumArguments(c) >= 2) {
        x->argv = clang_Cursor_getArgument(c, 1);
        x->has_argv = 1;
    }
    tokenize(x, c);
    x->fn->complexity = complexity(x);
    x->in_callee = 0;
    x->depth = 0;
    x->truncated = 0;
    x->char_cmps = 0;
    x->ntainted = 0;
    walker w = {.x = x, .idx = 0, .call = 0};
    clang_visitChildren(c, walk_cb, &w);
    int nparse = x->char_cmps < MAX_CHAR_CMPS ? x->char_cmps : MAX_CHAR_CMPS;
    if (x->char_cmps >= 2) /* one comparison is a check; two or more scan a format */
        for (int i = 0; i < nparse; i++)
            add_signal(x, PL_SIG_PARSE, "character comparison", c);
    if (x->truncated) {
        /* a partial result, said so: the plan lists it under Errors */
        x->out->status = PL_FILE_PARTIAL;
        PL_PUSH(x->out->errors, x->out->nerrors, x->out->errcap,
                pl_xasprintf("%s:%u: %s: expressions nested deeper than %d levels were not "
                             "analysed",
                             x->out->path, x->fn->line, x->fn->name, MAX_DEPTH));
    }
    free(x->toks);
    x->toks = NULL;
    x->ntoks = 0;
    x->fn = NULL;
}

static enum CXChildVisitResult taken_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    pl_file *out = d;
    if (clang_getCursorKind(c) == CXCursor_DeclRefExpr) {
        CXCursor ref = clang_getCursorReferenced(c);
        if (clang_getCursorKind(ref) == CXCursor_FunctionDecl) {
            char *usr = cx_take(clang_getCursorUSR(ref));
            PL_PUSH(out->taken, out->ntaken, out->takencap, usr);
        }
    }
    return CXChildVisit_Recurse;
}

/* Inline functions defined in the project's headers (static inline helpers, C++ class
 * bodies) carry calls the plan needs, e.g. Redis's connRead() forwarding to the socket
 * layer: they are analysed in every unit that includes them and merged once, by USR,
 * in model.c. */
static enum CXChildVisitResult header_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    actx *x = d;
    CXSourceLocation l = clang_getCursorLocation(c);
    if (clang_Location_isInSystemHeader(l) || clang_Location_isFromMainFile(l))
        return CXChildVisit_Continue;
    enum CXCursorKind k = clang_getCursorKind(c);
    if (is_func_kind(k) && clang_isCursorDefinition(c) &&
        (clang_Cursor_isFunctionInlined(c) || k != CXCursor_FunctionDecl)) {
        analyze_function(x, c);
        pl_func *f = &x->out->funcs[x->out->nfuncs - 1];
        f->header = decl_file(c);
    } else if (k == CXCursor_Namespace || k == CXCursor_LinkageSpec || is_record_kind(k)) {
        clang_visitChildren(c, header_cb, x);
    }
    return CXChildVisit_Continue;
}

static enum CXChildVisitResult top_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    actx *x = d;
    if (!clang_Location_isFromMainFile(clang_getCursorLocation(c)))
        return header_cb(c, parent, d);
    enum CXCursorKind k = clang_getCursorKind(c);
    if (is_func_kind(k) && clang_isCursorDefinition(c)) {
        analyze_function(x, c);
    } else if (k == CXCursor_VarDecl && clang_Cursor_getStorageClass(c) != CX_SC_Extern) {
        pl_gvar g = {.name = cx_take(clang_getCursorSpelling(c)),
                     .usr = cx_take(clang_getCursorUSR(c))};
        PL_PUSH(x->out->gvars, x->out->ngvars, x->out->gvarcap, g);
        /* functions stored in globals (hooks, dispatch tables) are indirect-call targets */
        clang_visitChildren(c, taken_cb, x->out);
    } else if (k == CXCursor_Namespace || k == CXCursor_LinkageSpec || is_record_kind(k)) {
        /* C++: functions inside namespaces, extern "C" blocks and class bodies; a
         * template is analysed once, as written (its instantiations are not cursors) */
        clang_visitChildren(c, top_cb, x);
    }
    return CXChildVisit_Continue;
}

static int has_prefix_ci(const char *s, const char *p)
{
    return strncasecmp(s, p, strlen(p)) == 0;
}

char *pl_licence_head(const char *text, size_t len)
{
    /* the first 4 KiB: the licence comment, and the includes after it (a file that
     * includes "memcached.h" was written for memcached, whoever holds its copyright) */
    size_t n = len < 4096 ? len : 4096;
    char *h = pl_xmalloc(n + 1);
    memcpy(h, text, n);
    h[n] = '\0';
    return h;
}

void pl_licence_scan(const char *text, size_t len, char **holders, int *public_domain)
{
    /* the licence header: the first 4 KiB is enough for every header seen in practice */
    size_t n = len < 4096 ? len : 4096;
    char *head = pl_xmalloc(n + 1);
    memcpy(head, text, n);
    head[n] = '\0';
    *public_domain = strcasestr(head, "public domain") != NULL;
    size_t cap = 0, hl = 0;
    char *out = NULL;
    for (char *line = head; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        /* a notice names a holder after "(c)", a year or both ("the above copyright
         * notice" in licence text does not); "Author: Brad Conte" names one too */
        char *p = strcasestr(line, "copyright");
        int mark = 0;
        if (p) {
            p += 9;
        } else if ((p = strcasestr(line, "author:")) != NULL) {
            p += 7;
            while (*p == ' ' || *p == '\t')
                p++;
            mark = *p && !isdigit((unsigned char)*p);
            if (!mark)
                p = NULL;
        }
        if (p) {
            for (;;) {
                while (*p == ' ' || *p == '\t' || *p == ',' || *p == ':')
                    p++;
                if (has_prefix_ci(p, "(c)")) {
                    p += 3;
                    mark = 1;
                } else if (!strncmp(p, "\xc2\xa9", 2)) {
                    p += 2;
                    mark = 1;
                } else if (*p >= '0' && *p <= '9') {
                    while ((*p >= '0' && *p <= '9') || *p == '-' || *p == ',' || *p == ' ')
                        p++;
                    mark = 1;
                } else {
                    break;
                }
            }
            if (has_prefix_ci(p, "by "))
                p += 3;
            char name[48];
            size_t o = 0;
            for (; *p && o + 1 < sizeof(name); p++) {
                if (strchr("<(,.*/\"", *p) || has_prefix_ci(p, "all rights"))
                    break;
                char ch = (char)tolower((unsigned char)*p);
                if (ch == '\t')
                    ch = ' ';
                if (ch == ' ' && (o == 0 || name[o - 1] == ' '))
                    continue;
                name[o++] = ch;
            }
            while (o && name[o - 1] == ' ')
                o--;
            name[o] = '\0';
            if (mark && o >= 3) {
                pl_grow((void **)&out, &cap, hl + o + 2, 1);
                memcpy(out + hl, name, o);
                hl += o;
                out[hl++] = '\n';
                out[hl] = '\0';
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    free(head);
    *holders = out ? out : pl_xstrdup("");
}

static void add_error(pl_file *f, char *msg)
{
    PL_PUSH(f->errors, f->nerrors, f->errcap, msg);
}

/* ---- the shared preamble (docs/PLAN.md, "Speed") ----
 *
 * Most of a unit's parse is its system headers. Units whose source opens with the same
 * run of `#include <...>` directives (nothing but comments and blank lines before and
 * between them) and that are compiled with the same arguments share that preamble: it is
 * parsed once into a precompiled header, and each unit is parsed with `-include-pch` and
 * its own directives blanked (spaces, newlines kept, so every line and column stays), which
 * is the same translation unit. The PCH is used only when every file it includes is a
 * system header, and a unit that has errors with it is parsed again without it. */

enum { PCH_MIN_UNITS = 2 }; /* a PCH costs about one parse: share it at least this wide */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        pl_grow((void **)&buf, &cap, n + 65536 + 1, 1);
        size_t r = fread(buf + n, 1, 65536, f);
        n += r;
        if (r < 65536)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Where the preamble of text ends (0: none) and its directives ('\n'-terminated, into
 * *dirs, allocated). The preamble is the leading run of `#include <...>` lines, each alone
 * on its line, with only whitespace and comments around them. */
static size_t scan_preamble(const char *t, size_t len, char **dirs)
{
    size_t i = 0, end = 0, dlen = 0, dcap = 0;
    *dirs = NULL;
    while (i < len) {
        char c = t[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            i++;
        } else if (c == '/' && i + 1 < len && t[i + 1] == '/') {
            while (i < len && t[i] != '\n') {
                if (t[i] == '\\')
                    goto done; /* a continued comment: leave it to the compiler */
                i++;
            }
        } else if (c == '/' && i + 1 < len && t[i + 1] == '*') {
            const char *e = memmem(t + i + 2, len - i - 2, "*/", 2);
            if (!e)
                goto done;
            i = (size_t)(e - t) + 2;
        } else if (c == '#') {
            size_t j = i + 1;
            while (j < len && (t[j] == ' ' || t[j] == '\t'))
                j++;
            if (len - j < 7 || memcmp(t + j, "include", 7) != 0)
                goto done;
            j += 7;
            while (j < len && (t[j] == ' ' || t[j] == '\t'))
                j++;
            if (j >= len || t[j] != '<')
                goto done;
            size_t name = j;
            while (j < len && t[j] != '>' && t[j] != '\n')
                j++;
            if (j >= len || t[j] != '>')
                goto done;
            size_t close = ++j;
            while (j < len && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r'))
                j++;
            if (j < len && t[j] != '\n')
                goto done; /* anything else on the line: not a plain directive */
            char *d = pl_xasprintf("#include %.*s\n", (int)(close - name), t + name);
            size_t dl = strlen(d);
            pl_grow((void **)dirs, &dcap, dlen + dl + 1, 1);
            memcpy(*dirs + dlen, d, dl + 1);
            dlen += dl;
            free(d);
            i = end = j;
        } else {
            break;
        }
    }
done:
    if (end == 0) {
        free(*dirs);
        *dirs = NULL;
    }
    return end;
}

/* Blanks the preamble's directives in text[0..end): '#' lines become spaces. */
static void blank_directives(char *t, size_t end)
{
    size_t i = 0;
    while (i < end) {
        if (t[i] == '/' && i + 1 < end && t[i + 1] == '*') {
            const char *e = memmem(t + i + 2, end - i - 2, "*/", 2);
            i = e ? (size_t)(e - t) + 2 : end;
        } else if (t[i] == '/' && i + 1 < end && t[i + 1] == '/') {
            while (i < end && t[i] != '\n')
                i++;
        } else if (t[i] == '#') {
            while (i < end && t[i] != '\n')
                t[i++] = ' ';
        } else {
            i++;
        }
    }
}

/* Arguments that change what precedes the source: such a unit keeps its own preamble. */
static int args_allow_pch(const pl_unit *u)
{
    for (int i = 0; i < u->nargs; i++) {
        const char *a = u->args[i];
        if (!strncmp(a, "-include", 8) || !strncmp(a, "-imacros", 8) ||
            !strncmp(a, "--include", 9) || !strcmp(a, "-E") || !strncmp(a, "-emit", 5))
            return 0;
    }
    return 1;
}

typedef struct pch_group {
    const pl_unit *first; /* the arguments of every unit of the group */
    char *dirs;           /* the shared directives */
    int cxx;
    size_t units;
    char *pch; /* the built PCH, NULL when none (too few units, or it failed) */
} pch_group;

static unsigned count_errors(CXTranslationUnit tu)
{
    unsigned nd = clang_getNumDiagnostics(tu), nerr = 0;
    for (unsigned i = 0; i < nd; i++) {
        CXDiagnostic d = clang_getDiagnostic(tu, i);
        nerr += clang_getDiagnosticSeverity(d) >= CXDiagnostic_Error;
        clang_disposeDiagnostic(d);
    }
    return nerr;
}

typedef struct incl_ctx {
    CXTranslationUnit tu;
    int all_system;
} incl_ctx;

static void inclusion_cb(CXFile inc, CXSourceLocation *stack, unsigned depth, CXClientData d)
{
    incl_ctx *x = d;
    (void)stack;
    if (depth == 0)
        return; /* the preamble header itself */
    if (!clang_Location_isInSystemHeader(clang_getLocationForOffset(x->tu, inc, 0)))
        x->all_system = 0;
}

/* Builds g's PCH at path; returns 0 on success. */
static int build_pch(CXIndex idx, pch_group *g, const char *hdr, const char *path)
{
    FILE *f = fopen(hdr, "wb");
    if (!f)
        return -1;
    int bad = fputs(g->dirs, f) < 0;
    bad |= fclose(f) != 0;
    if (bad)
        return -1;
    const pl_unit *u = g->first;
    const char **args = pl_xcalloc((size_t)u->nargs + 2, sizeof(char *));
    for (int i = 0; i < u->nargs; i++)
        args[i] = u->args[i];
    args[u->nargs] = "-x";
    args[u->nargs + 1] = g->cxx ? "c++-header" : "c-header";
    CXTranslationUnit tu = NULL;
    enum CXErrorCode ec = clang_parseTranslationUnit2(
        idx, hdr, args, u->nargs + 2, NULL, 0,
        CXTranslationUnit_Incomplete | CXTranslationUnit_ForSerialization, &tu);
    free(args);
    if (ec != CXError_Success || !tu)
        return -1;
    int ok = count_errors(tu) == 0;
    if (ok) {
        incl_ctx x = {.tu = tu, .all_system = 1};
        clang_getInclusions(tu, inclusion_cb, &x);
        ok = x.all_system;
    }
    if (ok)
        ok = clang_saveTranslationUnit(tu, path, clang_defaultSaveOptions(tu)) == CXSaveError_None;
    clang_disposeTranslationUnit(tu);
    return ok ? 0 : -1;
}

enum { MAX_DIAGS_PER_FILE = 10 };

/* Parses u (with its shared preamble's PCH when pch is not NULL: the main file's
 * preamble directives are blanked, so the PCH stands exactly where they were). */
static CXTranslationUnit parse_unit(CXIndex idx, const pl_unit *u, const char *pch, size_t pre_end,
                                    enum CXErrorCode *ec)
{
    unsigned opts =
        CXTranslationUnit_KeepGoing | CXTranslationUnit_IgnoreNonErrorsFromIncludedFiles;
    CXTranslationUnit tu = NULL;
    if (!pch) {
        *ec = clang_parseTranslationUnit2(idx, u->file, (const char *const *)u->args, u->nargs,
                                          NULL, 0, opts, &tu);
        return tu;
    }
    size_t len = 0;
    char *text = read_all(u->file, &len);
    if (!text || len < pre_end) {
        free(text);
        return parse_unit(idx, u, NULL, 0, ec);
    }
    blank_directives(text, pre_end);
    const char **args = pl_xcalloc((size_t)u->nargs + 2, sizeof(char *));
    for (int i = 0; i < u->nargs; i++)
        args[i] = u->args[i];
    args[u->nargs] = "-include-pch";
    args[u->nargs + 1] = pch;
    struct CXUnsavedFile uf = {.Filename = u->file, .Contents = text, .Length = len};
    *ec = clang_parseTranslationUnit2(idx, u->file, args, u->nargs + 2, &uf, 1, opts, &tu);
    free(args);
    free(text); /* libclang copied the unsaved contents into its own buffers */
    return tu;
}

/* Returns 1 when the unit was parsed with the shared preamble's PCH. */
static int analyze_unit(CXIndex idx, const pl_unit *u, const char *pch, size_t pre_end,
                        pl_file *out)
{
    memset(out, 0, sizeof(*out));
    out->path = pl_xstrdup(u->file);
    if (access(u->file, R_OK) != 0) {
        out->status = PL_FILE_FAILED;
        add_error(out, pl_xasprintf("cannot read %s: %s", u->file, strerror(errno)));
        return 0;
    }
    struct stat st;
    if (stat(u->file, &st) == 0 && !S_ISREG(st.st_mode)) {
        out->status = PL_FILE_FAILED;
        add_error(out, pl_xasprintf("cannot read %s: not a regular file", u->file));
        return 0;
    }
    enum CXErrorCode ec = CXError_Failure;
    CXTranslationUnit tu = parse_unit(idx, u, pch, pre_end, &ec);
    if (pch && (ec != CXError_Success || !tu || count_errors(tu) > 0)) {
        /* a unit with errors is parsed again on its own, so that what is reported (and
         * recovered) never depends on the shared preamble */
        if (tu)
            clang_disposeTranslationUnit(tu);
        tu = parse_unit(idx, u, NULL, 0, &ec);
        pch = NULL;
    }
    if (ec != CXError_Success || !tu) {
        out->status = PL_FILE_FAILED;
        const char *why = ec == CXError_Crashed            ? "libclang crashed on it"
                          : ec == CXError_InvalidArguments ? "invalid compiler arguments"
                          : ec == CXError_ASTReadError     ? "AST read error"
                                                           : "libclang failure";
        add_error(out, pl_xasprintf("%s: cannot parse: %s", u->file, why));
        return 0;
    }
    unsigned nd = clang_getNumDiagnostics(tu), nerr = 0;
    for (unsigned i = 0; i < nd; i++) {
        CXDiagnostic d = clang_getDiagnostic(tu, i);
        enum CXDiagnosticSeverity sev = clang_getDiagnosticSeverity(d);
        if (sev >= CXDiagnostic_Error) {
            if (nerr < MAX_DIAGS_PER_FILE)
                add_error(out,
                          cx_take(clang_formatDiagnostic(d, CXDiagnostic_DisplaySourceLocation |
                                                                CXDiagnostic_DisplayColumn)));
            nerr++;
        }
        clang_disposeDiagnostic(d);
    }
    if (nerr > MAX_DIAGS_PER_FILE)
        add_error(out, pl_xasprintf("%s: %u more errors", u->file, nerr - MAX_DIAGS_PER_FILE));
    out->status = nerr ? PL_FILE_PARTIAL : PL_FILE_OK;

    CXFile mf = clang_getFile(tu, u->file);
    size_t size = 0;
    const char *text = mf ? clang_getFileContents(tu, mf, &size) : NULL;
    char *orig = NULL; /* with a PCH, libclang saw blanked directives: read the original */
    if (pch && text) {
        orig = read_all(u->file, &size);
        text = orig;
    }
    unsigned lines = 0;
    for (size_t i = 0; text && i < size; i++)
        lines += text[i] == '\n';
    if (text && size && text[size - 1] != '\n')
        lines++;
    out->lines = lines;
    if (text) {
        pl_licence_scan(text, size, &out->holders, &out->public_domain);
        out->head = pl_licence_head(text, size);
    } else {
        out->holders = pl_xstrdup("");
        out->head = pl_xstrdup("");
    }
    out->cxx = pl_unit_is_cxx(u);
    for (int i = 0; i < u->nargs; i++)
        out->no_exceptions |= !strcmp(u->args[i], "-fno-exceptions");

    free(orig);
    actx x = {.tu = tu, .out = out};
    clang_visitChildren(clang_getTranslationUnitCursor(tu), top_cb, &x);
    free(x.tainted);
    clang_disposeTranslationUnit(tu);
    return pch != NULL;
}

void pl_file_free(pl_file *f)
{
    free(f->path);
    for (size_t i = 0; i < f->nerrors; i++)
        free(f->errors[i]);
    free(f->errors);
    for (size_t i = 0; i < f->nfuncs; i++) {
        pl_func *fn = &f->funcs[i];
        free(fn->name);
        free(fn->usr);
        free(fn->sig);
        free(fn->ftype);
        for (size_t j = 0; j < fn->nsigs; j++)
            free(fn->sigs[j].what);
        free(fn->sigs);
        for (size_t j = 0; j < fn->nuses; j++) {
            free(fn->uses[j].name);
            free(fn->uses[j].usr);
            free(fn->uses[j].decl_file);
        }
        free(fn->uses);
        for (size_t j = 0; j < fn->noverrides; j++)
            free(fn->overrides[j]);
        free(fn->overrides);
        free(fn->header);
    }
    free(f->funcs);
    for (size_t i = 0; i < f->ngvars; i++) {
        free(f->gvars[i].name);
        free(f->gvars[i].usr);
    }
    free(f->gvars);
    for (size_t i = 0; i < f->ntaken; i++)
        free(f->taken[i]);
    free(f->taken);
    free(f->holders);
    free(f->head);
    memset(f, 0, sizeof(*f));
}

typedef struct job {
    const pl_unit *units;
    size_t n;
    pl_file *files;
    atomic_size_t next;
    int phase;         /* 0: build the shared preambles' PCHs; 1: parse the units */
    pch_group *groups; /* shared preambles */
    size_t ngroups;
    const int *group;   /* group of each unit, -1 none */
    const size_t *pre;  /* where each unit's preamble ends */
    const char *tmpdir; /* where the PCHs are written */
    atomic_size_t used; /* units parsed with a shared preamble */
} job;

static void *worker(void *arg)
{
    job *j = arg;
    CXIndex idx = clang_createIndex(0, 0);
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (j->phase == 0) {
            if (i >= j->ngroups)
                break;
            pch_group *g = &j->groups[i];
            if (g->units < PCH_MIN_UNITS)
                continue;
            char *hdr = pl_xasprintf("%s/p%zu.h", j->tmpdir, i);
            char *pch = pl_xasprintf("%s/p%zu.pch", j->tmpdir, i);
            if (build_pch(idx, g, hdr, pch) == 0)
                g->pch = pch;
            else
                free(pch);
            free(hdr);
            continue;
        }
        if (i >= j->n)
            break;
        int g = j->group[i];
        const char *pch = g >= 0 ? j->groups[g].pch : NULL;
        if (analyze_unit(idx, &j->units[i], pch, j->pre[i], &j->files[i]))
            atomic_fetch_add(&j->used, 1);
    }
    clang_disposeIndex(idx);
    return NULL;
}

/* Runs one phase of j on `jobs` threads (or here when none can start). */
static void run_phase(job *j, int phase, int jobs)
{
    j->phase = phase;
    atomic_store(&j->next, 0);
    pthread_t *t = pl_xcalloc((size_t)jobs, sizeof(pthread_t));
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    /* deep expression trees recurse in walk(); give workers room (reserved, not touched) */
    pthread_attr_setstacksize(&attr, WORKER_STACK);
    int started = 0;
    for (int i = 0; i < jobs; i++) {
        if (pthread_create(&t[i], &attr, worker, j) != 0)
            break;
        started++;
    }
    pthread_attr_destroy(&attr);
    if (started == 0)
        worker(j); /* no threads available: do the work here */
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    free(t);
}

/* Groups the units by shared preamble and arguments (docs/PLAN.md, "Speed"). */
static void find_preambles(job *j)
{
    pl_strmap keys;
    pl_strmap_init(&keys);
    int *group = pl_xcalloc(j->n ? j->n : 1, sizeof(int));
    size_t *pre = pl_xcalloc(j->n ? j->n : 1, sizeof(size_t));
    size_t cap = 0;
    for (size_t i = 0; i < j->n; i++) {
        const pl_unit *u = &j->units[i];
        group[i] = -1;
        size_t len = 0;
        char *text = args_allow_pch(u) ? read_all(u->file, &len) : NULL;
        char *dirs = NULL;
        size_t end = text ? scan_preamble(text, len, &dirs) : 0;
        free(text);
        if (!end)
            continue;
        int cxx = pl_unit_is_cxx(u);
        size_t klen = strlen(dirs) + 4;
        for (int a = 0; a < u->nargs; a++)
            klen += strlen(u->args[a]) + 1;
        char *key = pl_xmalloc(klen);
        size_t k = (size_t)snprintf(key, klen, "%d\x1e", cxx);
        for (int a = 0; a < u->nargs; a++)
            k += (size_t)snprintf(key + k, klen - k, "%s\x1f", u->args[a]);
        snprintf(key + k, klen - k, "\x1e%s", dirs);
        int g = pl_strmap_get(&keys, key);
        if (g < 0) {
            pch_group ng = {.first = u, .dirs = dirs, .cxx = cxx};
            dirs = NULL;
            PL_PUSH(j->groups, j->ngroups, cap, ng);
            g = (int)j->ngroups - 1;
            pl_strmap_put(&keys, key, g);
        }
        free(dirs);
        free(key);
        j->groups[g].units++;
        group[i] = g;
        pre[i] = end;
    }
    pl_strmap_free(&keys);
    j->group = group;
    j->pre = pre;
}

size_t pl_analyze(const pl_unit *units, size_t n, int jobs, int shared_preamble, pl_file *files)
{
    /* libclang parses on a helper thread with an 8 MiB stack unless LIBCLANG_NOTHREADS is
     * set; parse on our workers instead, whose stacks are WORKER_STACK, so deeply nested
     * sources do not overflow it. Set before any thread exists (setenv is not MT-safe). */
    setenv("LIBCLANG_NOTHREADS", "1", 0);
    job j = {.units = units, .n = n, .files = files};
    atomic_init(&j.next, 0);
    atomic_init(&j.used, 0);
    if (jobs <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = c > 0 ? (int)c : 1;
    }
    if ((size_t)jobs > n)
        jobs = n ? (int)n : 1;
    char *tmpdir = NULL;
    if (shared_preamble) {
        find_preambles(&j);
        size_t shared = 0;
        for (size_t g = 0; g < j.ngroups; g++)
            shared += j.groups[g].units >= PCH_MIN_UNITS;
        const char *t = getenv("TMPDIR");
        tmpdir = shared ? pl_xasprintf("%s/graft-plan-XXXXXX", t && *t ? t : "/tmp") : NULL;
        if (tmpdir && !mkdtemp(tmpdir)) {
            free(tmpdir); /* no scratch space: every unit parses its own headers */
            tmpdir = NULL;
        }
        j.tmpdir = tmpdir;
        if (tmpdir)
            run_phase(&j, 0, jobs < (int)shared ? jobs : (int)shared);
    } else {
        int *none = pl_xcalloc(n ? n : 1, sizeof(int));
        for (size_t i = 0; i < n; i++)
            none[i] = -1;
        j.group = none;
        j.pre = pl_xcalloc(n ? n : 1, sizeof(size_t));
    }
    run_phase(&j, 1, jobs);
    for (size_t g = 0; g < j.ngroups; g++) {
        if (tmpdir && j.groups[g].units >= PCH_MIN_UNITS) {
            char *hdr = pl_xasprintf("%s/p%zu.h", tmpdir, g);
            unlink(hdr);
            free(hdr);
        }
        if (j.groups[g].pch)
            unlink(j.groups[g].pch);
        free(j.groups[g].pch);
        free(j.groups[g].dirs);
    }
    if (tmpdir)
        rmdir(tmpdir);
    free(tmpdir);
    free(j.groups);
    free((void *)j.group);
    free((void *)j.pre);
    return atomic_load(&j.used);
}
