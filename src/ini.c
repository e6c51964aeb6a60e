/*
 * ini.c: the INI reader of ini.h. Each line is copied into a bounded buffer (the
 * callback gets NUL-terminated strings without the reader allocating), trimmed and
 * classified. Calls nothing but libc.
 */
#include "ini.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "graft/base.h"

static bool graft__ini_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Trims blanks on both sides in place; returns the new start. */
static char *graft__ini_trim(char *s)
{
    while (graft__ini_blank(*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && graft__ini_blank(s[n - 1])) {
        s[--n] = '\0';
    }
    return s;
}

/* Cuts a comment: a ';' or '#' at the start or after a blank ends the text. */
static void graft__ini_cut_comment(char *s)
{
    for (char *p = s; *p; p++) {
        if ((*p == ';' || *p == '#') && (p == s || graft__ini_blank(p[-1]))) {
            *p = '\0';
            return;
        }
    }
}

static int graft__ini_fail(graft__ini_error *err, int line, const char *msg)
{
    err->line = line;
    snprintf(err->msg, sizeof err->msg, "%s", msg);
    return GRAFT_ECONFIG;
}

static bool graft__ini_key_ok(const char *k)
{
    if (!*k) {
        return false;
    }
    for (const char *p = k; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x21 || c == 0x7f || c == '[' || c == ']' || c == '=' || c == ';' || c == '#') {
            if (!graft__ini_blank((char)c)) {
                return false;
            }
        }
    }
    return true;
}

int graft__ini_parse(const char *text, size_t len, graft__ini_fn fn, void *user,
                     graft__ini_error *err)
{
    assert(text || len == 0);
    assert(fn && err);
    err->line = 0;
    err->msg[0] = '\0';
    char buf[GRAFT__INI_MAX_LINE + 1];
    char section[GRAFT__INI_MAX_LINE + 1] = "";
    size_t at = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        at = 3;
    }
    for (int line = 1; at < len; line++) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        size_t next = at + n + (nl ? 1 : 0);
        if (n > 0 && text[at + n - 1] == '\r') {
            n--;
        }
        if (n > GRAFT__INI_MAX_LINE) {
            return graft__ini_fail(err, line, "line too long (at most 4096 bytes)");
        }
        if (memchr(text + at, '\0', n)) {
            return graft__ini_fail(err, line, "NUL byte in the line");
        }
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)text[at + i];
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return graft__ini_fail(err, line, "control character in the line");
            }
        }
        memcpy(buf, text + at, n);
        buf[n] = '\0';
        at = next;
        char *s = graft__ini_trim(buf);
        if (!*s || *s == ';' || *s == '#') {
            continue;
        }
        if (*s == '[') {
            char *close = strchr(s + 1, ']');
            if (!close) {
                return graft__ini_fail(err, line, "section header without ']'");
            }
            *close = '\0';
            char *rest = close + 1;
            graft__ini_cut_comment(rest);
            if (*graft__ini_trim(rest)) {
                return graft__ini_fail(err, line, "text after the section header");
            }
            char *name = graft__ini_trim(s + 1);
            if (!*name || strchr(name, '[')) {
                return graft__ini_fail(err, line, "empty or malformed section name");
            }
            memcpy(section, name, strlen(name) + 1);
            if (!fn(user, line, section, NULL, NULL)) {
                err->line = line;
                return GRAFT_ECONFIG;
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            return graft__ini_fail(err, line,
                                   "syntax error (expected [section], key = value or "
                                   "a comment)");
        }
        *eq = '\0';
        char *key = graft__ini_trim(s);
        if (!graft__ini_key_ok(key)) {
            return graft__ini_fail(err, line, "syntax error (a key before '=' is required)");
        }
        char *value = eq + 1;
        graft__ini_cut_comment(value);
        value = graft__ini_trim(value);
        if (!fn(user, line, section, key, value)) {
            err->line = line;
            return GRAFT_ECONFIG;
        }
    }
    return GRAFT_OK;
}
