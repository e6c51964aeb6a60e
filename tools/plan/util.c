/*
 * util.c: allocation wrappers, dynamic arrays, a string map and lexical path helpers
 * for `graft plan`. Allocation failure aborts with a message: the planner is a batch
 * tool, and a half-built model would produce a wrong plan rather than a partial one.
 */
#define _GNU_SOURCE
#include "plan.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void pl_oom(void)
{
    fputs("graft plan: out of memory\n", stderr);
    abort();
}

void *pl_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        pl_oom();
    return p;
}

void *pl_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        pl_oom();
    return p;
}

void *pl_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        pl_oom();
    return q;
}

char *pl_xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        pl_oom();
    return d;
}

char *pl_xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0)
        pl_oom();
    return s;
}

void pl_grow(void **items, size_t *cap, size_t need, size_t item_size)
{
    if (need <= *cap)
        return;
    size_t ncap = *cap ? *cap * 2 : 8;
    while (ncap < need)
        ncap *= 2;
    *items = pl_xrealloc(*items, ncap * item_size);
    *cap = ncap;
}

static uint64_t pl_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void pl_strmap_init(pl_strmap *m)
{
    memset(m, 0, sizeof(*m));
}

void pl_strmap_free(pl_strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

int pl_strmap_get(const pl_strmap *m, const char *key)
{
    if (!m->cap)
        return -1;
    size_t i = pl_hash(key) & (m->cap - 1);
    while (m->keys[i]) {
        if (strcmp(m->keys[i], key) == 0)
            return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

static void pl_strmap_insert(char **keys, int *vals, size_t cap, char *key, int val)
{
    size_t i = pl_hash(key) & (cap - 1);
    while (keys[i])
        i = (i + 1) & (cap - 1);
    keys[i] = key;
    vals[i] = val;
}

void pl_strmap_put(pl_strmap *m, const char *key, int val)
{
    if ((m->len + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        char **nk = pl_xcalloc(ncap, sizeof(char *));
        int *nv = pl_xcalloc(ncap, sizeof(int));
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i])
                pl_strmap_insert(nk, nv, ncap, m->keys[i], m->vals[i]);
        free(m->keys);
        free(m->vals);
        m->keys = nk;
        m->vals = nv;
        m->cap = ncap;
    }
    size_t i = pl_hash(key) & (m->cap - 1);
    while (m->keys[i]) {
        if (strcmp(m->keys[i], key) == 0) {
            m->vals[i] = val;
            return;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = pl_xstrdup(key);
    m->vals[i] = val;
    m->len++;
}

char *pl_path_normalize(const char *path)
{
    size_t len = strlen(path);
    char *out = pl_xmalloc(len + 2);
    size_t o = 0;
    int absolute = path[0] == '/';
    if (absolute)
        out[o++] = '/';
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 1 && p[0] == '.') {
            /* skip */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            size_t base = absolute ? 1 : 0;
            if (o > base) {
                while (o > base && out[o - 1] != '/')
                    o--;
                if (o > base)
                    o--; /* the slash before the removed segment */
            } else if (!absolute) {
                if (o)
                    out[o++] = '/';
                memcpy(out + o, "..", 2);
                o += 2;
            }
        } else {
            if (o && out[o - 1] != '/')
                out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
    }
    if (o == 0)
        out[o++] = '.';
    out[o] = '\0';
    return out;
}

char *pl_path_join(const char *dir, const char *path)
{
    if (path[0] == '/' || !dir || !*dir)
        return pl_path_normalize(path);
    char *j = pl_xasprintf("%s/%s", dir, path);
    char *n = pl_path_normalize(j);
    free(j);
    return n;
}

const char *pl_path_under(const char *path, const char *root)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/')
        return path[0] == '/' ? path + 1 : NULL;
    if (strncmp(path, root, n) != 0 || path[n] != '/')
        return NULL;
    return path + n + 1;
}

char *pl_path_dirname(const char *rel)
{
    const char *s = strrchr(rel, '/');
    if (!s)
        return pl_xstrdup(".");
    char *d = pl_xmalloc((size_t)(s - rel) + 1);
    memcpy(d, rel, (size_t)(s - rel));
    d[s - rel] = '\0';
    return d;
}
