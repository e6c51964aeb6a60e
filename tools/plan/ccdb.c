/*
 * ccdb.c: reads a compile_commands.json (CMake's CMAKE_EXPORT_COMPILE_COMMANDS or bear)
 * with libcjson and turns each entry into the argument list libclang needs. Relative
 * paths are resolved against the entry's "directory" here because worker threads share
 * one working directory and libclang resolves relative paths against it.
 */
#define _GNU_SOURCE
#include "plan.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char **pl_split_command(const char *cmd, int *argc)
{
    char **argv = NULL;
    size_t n = 0, cap = 0;
    size_t len = strlen(cmd);
    char *buf = pl_xmalloc(len + 1);
    const char *p = cmd;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        size_t o = 0;
        char quote = 0;
        while (*p && (quote || (*p != ' ' && *p != '\t' && *p != '\n'))) {
            if (quote) {
                if (*p == quote) {
                    quote = 0;
                } else if (*p == '\\' && quote == '"' && p[1] && strchr("\"\\$`", p[1]) != NULL) {
                    buf[o++] = *++p;
                } else {
                    buf[o++] = *p;
                }
            } else if (*p == '\'' || *p == '"') {
                quote = *p;
            } else if (*p == '\\' && p[1]) {
                buf[o++] = *++p;
            } else {
                buf[o++] = *p;
            }
            p++;
        }
        buf[o] = '\0';
        PL_PUSH(argv, n, cap, pl_xstrdup(buf));
    }
    free(buf);
    PL_PUSH(argv, n, cap, NULL);
    *argc = (int)n - 1;
    return argv;
}

static void pl_free_argv(char **argv)
{
    if (!argv)
        return;
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
}

/* Options whose value names a path that must be made absolute. */
static const char *const path_opts[] = {"-I",       "-isystem", "-iquote", "-idirafter",
                                        "-include", "-imacros", "-F",      NULL};
/* Options dropped with their value: outputs and dependency files libclang must not write. */
static const char *const drop_with_value[] = {"-o", "-MF", "-MT", "-MQ", NULL};
static const char *const drop_alone[] = {"-c", "-MD", "-MMD", "-MP", "-M", "-MM", NULL};

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

int pl_unit_is_cxx(const pl_unit *u)
{
    for (int i = 0; i < u->nargs; i++) {
        const char *a = u->args[i];
        if (!strcmp(a, "-x") && i + 1 < u->nargs)
            return !strncmp(u->args[i + 1], "c++", 3);
        if (!strncmp(a, "-std=c++", 8) || !strncmp(a, "-std=gnu++", 10))
            return 1;
    }
    const char *dot = strrchr(u->file, '.');
    static const char *const exts[] = {".cc", ".cpp", ".cxx", ".c++", ".C", ".cp", NULL};
    return dot && in_list(dot, exts);
}

static void unit_from_argv(pl_unit *u, char **argv, int argc, const char *given_file)
{
    size_t n = 0, cap = 0;
    char **out = NULL;
    /* libclang finds its builtin headers (stddef.h, stdatomic.h...) in its resource
     * directory; say where it is unless the entry does, so a libclang whose own guess
     * fails (another prefix, a copied .so) still parses C++ standard headers */
    int has_resdir = 0, has_x = 0;
    for (int i = 1; i < argc; i++) {
        has_resdir |= !strcmp(argv[i], "-resource-dir") || !strncmp(argv[i], "-resource-dir=", 14);
        has_x |= !strncmp(argv[i], "-x", 2);
    }
#ifdef PL_CLANG_RESOURCE_DIR
    struct stat rst;
    if (!has_resdir && stat(PL_CLANG_RESOURCE_DIR "/include", &rst) == 0) {
        PL_PUSH(out, n, cap, pl_xstrdup("-resource-dir"));
        PL_PUSH(out, n, cap, pl_xstrdup(PL_CLANG_RESOURCE_DIR));
    }
#endif
    /* a C++ compiler (c++, g++, clang++) on a file without a C++ extension */
    const char *cc = strrchr(argv[0], '/');
    cc = cc ? cc + 1 : argv[0];
    if (!has_x && strstr(cc, "++")) {
        PL_PUSH(out, n, cap, pl_xstrdup("-x"));
        PL_PUSH(out, n, cap, pl_xstrdup("c++"));
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (in_list(a, drop_with_value)) {
            i++;
            continue;
        }
        if (in_list(a, drop_alone))
            continue;
        if (strcmp(a, given_file) == 0)
            continue;
        if (a[0] != '-') {
            char *abs = pl_path_join(u->dir, a);
            int same = strcmp(abs, u->file) == 0;
            free(abs);
            if (same)
                continue;
        }
        int handled = 0;
        if (in_list(a, path_opts) && i + 1 < argc) {
            PL_PUSH(out, n, cap, pl_xstrdup(a));
            PL_PUSH(out, n, cap, pl_path_join(u->dir, argv[++i]));
            handled = 1;
        } else if ((strncmp(a, "-I", 2) == 0 || strncmp(a, "-F", 2) == 0) && a[2]) {
            /* joined form, e.g. -Iinclude */
            char *p = pl_path_join(u->dir, a + 2);
            PL_PUSH(out, n, cap, pl_xasprintf("%.2s%s", a, p));
            free(p);
            handled = 1;
        }
        if (!handled)
            PL_PUSH(out, n, cap, pl_xstrdup(a));
    }
    u->args = out;
    u->nargs = (int)n;
}

void pl_ccdb_free(pl_ccdb *db)
{
    for (size_t i = 0; i < db->n; i++) {
        pl_unit *u = &db->units[i];
        free(u->file);
        free(u->dir);
        for (int j = 0; j < u->nargs; j++)
            free(u->args[j]);
        free(u->args);
    }
    free(db->units);
    free(db->path);
    memset(db, 0, sizeof(*db));
}

static char *read_whole(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = pl_xmalloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = pl_xrealloc(buf, cap);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "cannot read %s", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int pl_ccdb_load(const char *path, pl_ccdb *db, char *err, size_t errlen,
                 void (*warn)(void *ud, const char *msg), void *ud)
{
    memset(db, 0, sizeof(*db));
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    db->path =
        S_ISDIR(st.st_mode) ? pl_xasprintf("%s/compile_commands.json", path) : pl_xstrdup(path);
    size_t len = 0;
    char *text = read_whole(db->path, &len, err, errlen);
    if (!text)
        return -1;
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        unsigned line = 1, col = 1;
        if (at && at >= text && at <= text + len) {
            for (const char *c = text; c < at; c++) {
                if (*c == '\n') {
                    line++;
                    col = 1;
                } else {
                    col++;
                }
            }
        }
        snprintf(err, errlen, "%s: not valid JSON (error near line %u, column %u)", db->path, line,
                 col);
        free(text);
        return -1;
    }
    free(text);
    if (!cJSON_IsArray(root)) {
        snprintf(err, errlen, "%s: expected a JSON array of compile commands", db->path);
        cJSON_Delete(root);
        return -1;
    }
    pl_strmap seen;
    pl_strmap_init(&seen);
    int idx = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, root)
    {
        idx++;
        const cJSON *jdir = cJSON_GetObjectItemCaseSensitive(e, "directory");
        const cJSON *jfile = cJSON_GetObjectItemCaseSensitive(e, "file");
        const cJSON *jargs = cJSON_GetObjectItemCaseSensitive(e, "arguments");
        const cJSON *jcmd = cJSON_GetObjectItemCaseSensitive(e, "command");
        const char *why = NULL;
        if (!cJSON_IsObject(e))
            why = "not an object";
        else if (!cJSON_IsString(jdir))
            why = "missing string \"directory\"";
        else if (!cJSON_IsString(jfile))
            why = "missing string \"file\"";
        else if (!cJSON_IsArray(jargs) && !cJSON_IsString(jcmd))
            why = "needs \"arguments\" (array) or \"command\" (string)";
        if (why) {
            if (warn) {
                char *m = pl_xasprintf("%s: entry %d skipped: %s", db->path, idx, why);
                warn(ud, m);
                free(m);
            }
            continue;
        }
        char **argv = NULL;
        int argc = 0;
        if (cJSON_IsArray(jargs)) {
            size_t n = 0, cap = 0;
            const cJSON *a;
            int ok = 1;
            cJSON_ArrayForEach(a, jargs)
            {
                if (!cJSON_IsString(a)) {
                    ok = 0;
                    break;
                }
                PL_PUSH(argv, n, cap, pl_xstrdup(a->valuestring));
            }
            PL_PUSH(argv, n, cap, NULL);
            argc = (int)n - 1;
            if (!ok || argc < 1) {
                if (warn) {
                    char *m = pl_xasprintf("%s: entry %d skipped: \"arguments\" must be a "
                                           "non-empty array of strings",
                                           db->path, idx);
                    warn(ud, m);
                    free(m);
                }
                pl_free_argv(argv);
                continue;
            }
        } else {
            argv = pl_split_command(jcmd->valuestring, &argc);
            if (argc < 1) {
                if (warn) {
                    char *m =
                        pl_xasprintf("%s: entry %d skipped: empty \"command\"", db->path, idx);
                    warn(ud, m);
                    free(m);
                }
                pl_free_argv(argv);
                continue;
            }
        }
        char *dir = pl_path_normalize(jdir->valuestring);
        char *file = pl_path_join(dir, jfile->valuestring);
        if (pl_strmap_get(&seen, file) >= 0) {
            free(dir);
            free(file);
            pl_free_argv(argv);
            continue;
        }
        pl_strmap_put(&seen, file, 1);
        pl_unit u = {.file = file, .dir = dir};
        unit_from_argv(&u, argv, argc, jfile->valuestring);
        pl_free_argv(argv);
        PL_PUSH(db->units, db->n, db->cap, u);
    }
    pl_strmap_free(&seen);
    cJSON_Delete(root);
    if (db->n == 0) {
        snprintf(err, errlen, "%s: no usable compile commands", db->path);
        return -1;
    }
    return 0;
}
