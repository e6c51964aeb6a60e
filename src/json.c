/*
 * json.c: the JSON writer of json.h. Strings are escaped as RFC 8259 requires (quote,
 * backslash, control characters); other bytes pass through, as the C strings they come
 * from (seam names, describe output) are taken to be UTF-8. Calls nothing but libc.
 */
#include "json.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graft/base.h"

void graft__jw_init(graft__jw *w)
{
    memset(w, 0, sizeof *w);
    w->depth = -1;
}

static void graft__jw_put(graft__jw *w, const char *s, size_t n)
{
    if (w->oom) {
        return;
    }
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 1024;
        while (w->len + n + 1 > cap) {
            cap *= 2;
        }
        char *np = realloc(w->p, cap);
        if (!np) {
            w->oom = true;
            return;
        }
        w->p = np;
        w->cap = cap;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
    w->p[w->len] = '\0';
}

static void graft__jw_lit(graft__jw *w, const char *s)
{
    graft__jw_put(w, s, strlen(s));
}

static void graft__jw_quoted(graft__jw *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    graft__jw_put(w, "\"", 1);
    const char *run = s;
    for (const char *c = s; *c; c++) {
        unsigned char ch = (unsigned char)*c;
        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            continue;
        }
        graft__jw_put(w, run, (size_t)(c - run));
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (ch) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            n = 6;
            break;
        }
        graft__jw_put(w, esc, n);
        run = c + 1;
    }
    graft__jw_put(w, run, strlen(run));
    graft__jw_put(w, "\"", 1);
}

/* The separator and key before a value at the current level. */
static void graft__jw_key(graft__jw *w, const char *key)
{
    if (w->depth < 0) {
        assert(!key && w->len == 0); /* one top-level value */
        return;
    }
    assert(w->is_obj[w->depth] ? key != NULL : key == NULL);
    if (!w->first[w->depth]) {
        graft__jw_put(w, ",", 1);
    }
    w->first[w->depth] = false;
    if (key) {
        graft__jw_quoted(w, key);
        graft__jw_put(w, ":", 1);
    }
}

static void graft__jw_open(graft__jw *w, const char *key, bool obj)
{
    graft__jw_key(w, key);
    assert(w->depth + 1 < GRAFT__JW_DEPTH);
    w->depth++;
    w->first[w->depth] = true;
    w->is_obj[w->depth] = obj;
    graft__jw_put(w, obj ? "{" : "[", 1);
}

void graft__jw_obj(graft__jw *w, const char *key)
{
    graft__jw_open(w, key, true);
}

void graft__jw_arr(graft__jw *w, const char *key)
{
    graft__jw_open(w, key, false);
}

void graft__jw_end(graft__jw *w)
{
    assert(w->depth >= 0);
    graft__jw_put(w, w->is_obj[w->depth] ? "}" : "]", 1);
    w->depth--;
}

void graft__jw_str(graft__jw *w, const char *key, const char *s)
{
    graft__jw_key(w, key);
    if (s) {
        graft__jw_quoted(w, s);
    } else {
        graft__jw_lit(w, "null");
    }
}

void graft__jw_u64(graft__jw *w, const char *key, uint64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%" PRIu64, v);
    graft__jw_key(w, key);
    graft__jw_put(w, b, (size_t)n);
}

void graft__jw_num(graft__jw *w, const char *key, double v)
{
    graft__jw_key(w, key);
    if (!isfinite(v)) {
        graft__jw_lit(w, "null"); /* JSON has no infinities */
        return;
    }
    /* The shortest of 15 or 17 significant digits that reads back as v. */
    char b[32];
    int n = snprintf(b, sizeof b, "%.15g", v);
    if (strtod(b, NULL) != v) {
        n = snprintf(b, sizeof b, "%.17g", v);
    }
    graft__jw_put(w, b, (size_t)n);
}

void graft__jw_bool(graft__jw *w, const char *key, bool v)
{
    graft__jw_key(w, key);
    graft__jw_lit(w, v ? "true" : "false");
}

void graft__jw_null(graft__jw *w, const char *key)
{
    graft__jw_key(w, key);
    graft__jw_lit(w, "null");
}

int graft__jw_finish(graft__jw *w, char **out, size_t *len)
{
    assert(w->depth == -1);
    if (w->oom || !w->p) {
        graft__jw_discard(w);
        return GRAFT_ENOMEM;
    }
    *out = w->p;
    if (len) {
        *len = w->len;
    }
    w->p = NULL;
    w->len = w->cap = 0;
    return GRAFT_OK;
}

void graft__jw_discard(graft__jw *w)
{
    free(w->p);
    w->p = NULL;
    w->len = w->cap = 0;
}
