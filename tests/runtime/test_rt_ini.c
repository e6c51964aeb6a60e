/* Unit and property tests of src/ini.c, the core's INI reader (no libinih):
 *   - exact cases: comments, blanks, CRLF, BOM, inline comments, every syntax error
 *     with its line;
 *   - property: random documents generated from a model (sections, keys, values,
 *     random blanks, comments, line endings) parse to exactly the model's events;
 *   - mutation: random byte edits of valid documents never crash, and either parse or
 *     fail with a line within the text.
 * A fixed-seed generator, so a failure is reproducible (the seed is printed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "graft/base.h"
#include "ini.h"

#define MAX_EVENTS 256

typedef struct ev {
    int line;
    char section[64], key[64], value[128];
    int is_section;
} ev;

typedef struct rec {
    ev v[MAX_EVENTS];
    int n;
    int stop_at; /* 1-based event index at which the callback returns false; 0 never */
} rec;

static bool on_event(void *user, int line, const char *section, const char *key, const char *value)
{
    rec *r = user;
    assert_true(r->n < MAX_EVENTS);
    ev *e = &r->v[r->n++];
    memset(e, 0, sizeof *e);
    e->line = line;
    snprintf(e->section, sizeof e->section, "%s", section);
    e->is_section = key == NULL;
    if (key) {
        assert_non_null(value);
        snprintf(e->key, sizeof e->key, "%s", key);
        snprintf(e->value, sizeof e->value, "%s", value);
    } else {
        assert_null(value);
    }
    return r->stop_at == 0 || r->n < r->stop_at;
}

static int parse(const char *text, rec *r, graft__ini_error *err)
{
    memset(r, 0, sizeof *r);
    return graft__ini_parse(text, strlen(text), on_event, r, err);
}

static void exact_cases(void **state)
{
    (void)state;
    rec r;
    graft__ini_error err;
    const char *doc = "\xEF\xBB\xBF; comment\r\n"
                      "# another\n"
                      "\n"
                      "  [ seam kv.parse ]   ; trailing comment\n"
                      "mode=canary\n"
                      "\tpercent =  10.5 ; canary share\n"
                      "capture.dir = /tmp/a;b\n"
                      "empty =\n"
                      "hash = #x\n"
                      "[graft]\r\n"
                      "log_level = info";
    assert_int_equal(parse(doc, &r, &err), GRAFT_OK);
    assert_int_equal(r.n, 8);
    assert_true(r.v[0].is_section && r.v[0].line == 4);
    assert_string_equal(r.v[0].section, "seam kv.parse");
    assert_string_equal(r.v[1].key, "mode");
    assert_string_equal(r.v[1].value, "canary");
    assert_int_equal(r.v[2].line, 6);
    assert_string_equal(r.v[2].value, "10.5");
    assert_string_equal(r.v[3].value, "/tmp/a;b"); /* ';' not after a blank: kept */
    assert_string_equal(r.v[4].key, "empty");
    assert_string_equal(r.v[4].value, "");
    assert_string_equal(r.v[5].value, ""); /* '#' after a blank: a comment */
    assert_string_equal(r.v[6].section, "graft");
    assert_true(r.v[6].is_section && r.v[6].line == 10);
    assert_string_equal(r.v[7].section, "graft");
    assert_string_equal(r.v[7].value, "info"); /* last line without a newline */

    /* An indented line is a statement of its own, not a continuation (libinih's
     * multi-line values are gone). */
    assert_int_equal(parse("[s]\na = 1\n  b = 2\n", &r, &err), GRAFT_OK);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.v[2].key, "b");
    assert_string_equal(r.v[1].value, "1");

    static const struct {
        const char *text;
        int line;
        const char *needle;
    } bad[] = {
        {"[s]\nno equals sign\n", 2, "syntax"},
        {"[s]\nkey: value\n", 2, "syntax"}, /* ':' is not a separator */
        {"\n\n[unclosed\n", 3, "']'"},
        {"[s] junk\n", 1, "after the section"},
        {"[]\n", 1, "section name"},
        {"[ ]\n", 1, "section name"},
        {"[a[b]\n", 1, "section name"},
        {"[s]\n = value\n", 2, "key"},
        {"[s]\nsp ace\n", 2, "syntax"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(bad[i].text, &r, &err);
        if (rc != GRAFT_ECONFIG || err.line != bad[i].line || !strstr(err.msg, bad[i].needle)) {
            fail_msg("case %zu: rc %d line %d msg \"%s\"", i, rc, err.line, err.msg);
        }
    }
    /* A CR inside a line (found by fuzz/fuzz_ini.c: it reached a section name). */
    assert_int_equal(parse("[kv\r.parse]\n", &r, &err), GRAFT_ECONFIG);
    assert_int_equal(err.line, 1);
    assert_non_null(strstr(err.msg, "control character"));
    assert_int_equal(parse("[s]\na = b\x1b[0m\n", &r, &err), GRAFT_ECONFIG);
    assert_int_equal(err.line, 2);
    /* A NUL byte inside a line, and a line over the limit. */
    static const char nul[] = "[s]\na = b\0c\n";
    memset(&r, 0, sizeof r);
    assert_int_equal(graft__ini_parse(nul, sizeof nul - 1, on_event, &r, &err), GRAFT_ECONFIG);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.msg, "NUL"));
    char *lng = malloc(GRAFT__INI_MAX_LINE + 32);
    assert_non_null(lng);
    memcpy(lng, "[s]\nk = ", 8);
    memset(lng + 8, 'x', GRAFT__INI_MAX_LINE);
    lng[8 + GRAFT__INI_MAX_LINE] = '\0';
    assert_int_equal(parse(lng, &r, &err), GRAFT_ECONFIG);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.msg, "too long"));
    free(lng);
    /* The callback stops the parse: its line, no message of the reader's. */
    memset(&r, 0, sizeof r);
    r.stop_at = 2;
    const char *two = "[s]\na = 1\nb = 2\n";
    assert_int_equal(graft__ini_parse(two, strlen(two), on_event, &r, &err), GRAFT_ECONFIG);
    assert_int_equal(err.line, 2);
    assert_string_equal(err.msg, "");
    assert_int_equal(r.n, 2);
    /* Empty text: nothing, OK. */
    assert_int_equal(graft__ini_parse("", 0, on_event, &r, &err), GRAFT_OK);
}

/* ------------------------------------------------------------------ property */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void rnd_word(char *out, size_t cap, const char *alphabet)
{
    size_t n = 1 + rnd() % (cap - 2 < 12 ? cap - 2 : 12);
    size_t al = strlen(alphabet);
    for (size_t i = 0; i < n; i++) {
        out[i] = alphabet[rnd() % al];
    }
    out[n] = '\0';
}

static const char *rnd_blank(void)
{
    static const char *const b[] = {"", "", " ", "  ", "\t", " \t "};
    return b[rnd() % 6];
}

typedef struct buf {
    char p[65536];
    size_t len;
} buf;

static void put(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, sizeof b->p - b->len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof b->p - b->len);
    b->len += (size_t)n;
}

/* One random document and the events it must produce. */
static void generate(buf *b, rec *want)
{
    static const char keych[] = "abcdefghijklmnopqrstuvwxyz0123456789._-";
    static const char valch[] = "abcXYZ019./_-%:;#=[]\"' ";
    b->len = 0;
    memset(want, 0, sizeof *want);
    int line = 1;
    int statements = 1 + (int)(rnd() % 40);
    char section[64] = "";
    for (int i = 0; i < statements && want->n < MAX_EVENTS; i++) {
        const char *eol = rnd() % 4 == 0 ? "\r\n" : "\n";
        switch (rnd() % 6) {
        case 0: /* comment or blank line */
            put(b, "%s%s%s", rnd_blank(), rnd() % 2 ? "; note = [x]" : "", eol);
            break;
        case 1: { /* section */
            char name[40];
            rnd_word(name, sizeof name, keych);
            if (rnd() % 2) {
                size_t l = strlen(name);
                if (l + 6 < sizeof name) {
                    memmove(name + 5, name, l + 1);
                    memcpy(name, "seam ", 5);
                }
            }
            put(b, "%s[%s%s%s]%s%s%s", rnd_blank(), rnd_blank(), name, rnd_blank(), rnd_blank(),
                rnd() % 3 == 0 ? " ; c" : "", eol);
            snprintf(section, sizeof section, "%s", name);
            ev *e = &want->v[want->n++];
            memset(e, 0, sizeof *e);
            e->line = line;
            e->is_section = 1;
            snprintf(e->section, sizeof e->section, "%s", name);
            break;
        }
        default: { /* key = value */
            char key[40], value[100];
            rnd_word(key, sizeof key, keych);
            rnd_word(value, sizeof value, valch);
            /* The model of the value: a ';' or '#' at the start or after a blank starts
             * a comment; blanks around are trimmed. */
            char model[100];
            snprintf(model, sizeof model, "%s", value);
            for (char *c = model; *c; c++) {
                if ((*c == ';' || *c == '#') && (c == model || c[-1] == ' ')) {
                    *c = '\0';
                    break;
                }
            }
            size_t ml = strlen(model);
            while (ml > 0 && model[ml - 1] == ' ') {
                model[--ml] = '\0';
            }
            char *m = model;
            while (*m == ' ') {
                m++;
            }
            const char *lead = rnd_blank();
            /* A value starting with ';'/'#' right after '=' is a comment too. */
            put(b, "%s%s%s=%s%s%s", rnd_blank(), key, rnd_blank(), lead, value, eol);
            ev *e = &want->v[want->n++];
            memset(e, 0, sizeof *e);
            e->line = line;
            snprintf(e->section, sizeof e->section, "%s", section);
            snprintf(e->key, sizeof e->key, "%s", key);
            snprintf(e->value, sizeof e->value, "%s", m);
            break;
        }
        }
        line++;
    }
}

static void property_model(void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    rng_state = seed;
    buf *b = malloc(sizeof *b);
    rec *want = malloc(sizeof *want), *got = malloc(sizeof *got);
    assert_true(b && want && got);
    for (int iter = 0; iter < 20000; iter++) {
        generate(b, want);
        graft__ini_error err;
        memset(got, 0, sizeof *got);
        int rc = graft__ini_parse(b->p, b->len, on_event, got, &err);
        if (rc != GRAFT_OK) {
            fail_msg("seed %#llx iter %d: line %d: %s\n%.*s", (unsigned long long)seed, iter,
                     err.line, err.msg, (int)b->len, b->p);
        }
        assert_int_equal(got->n, want->n);
        for (int i = 0; i < want->n; i++) {
            const ev *x = &want->v[i], *y = &got->v[i];
            if (x->line != y->line || x->is_section != y->is_section ||
                strcmp(x->section, y->section) != 0 || strcmp(x->key, y->key) != 0 ||
                strcmp(x->value, y->value) != 0) {
                fail_msg("iter %d event %d: want %d [%s] %s=%s, got %d [%s] %s=%s\n%.*s", iter, i,
                         x->line, x->section, x->key, x->value, y->line, y->section, y->key,
                         y->value, (int)b->len, b->p);
            }
        }
    }
    free(b);
    free(want);
    free(got);
}

static void mutations(void **state)
{
    (void)state;
    rng_state = 0x1234567887654321ull;
    buf *b = malloc(sizeof *b);
    rec *want = malloc(sizeof *want), *got = malloc(sizeof *got);
    assert_true(b && want && got);
    int failed = 0;
    for (int iter = 0; iter < 20000; iter++) {
        generate(b, want);
        int edits = 1 + (int)(rnd() % 4);
        for (int k = 0; k < edits && b->len > 0; k++) {
            size_t at = rnd() % b->len;
            b->p[at] = (char)(rnd() % 256);
        }
        int lines = 1;
        for (size_t i = 0; i < b->len; i++) {
            lines += b->p[i] == '\n';
        }
        graft__ini_error err;
        memset(got, 0, sizeof *got);
        int rc = graft__ini_parse(b->p, b->len, on_event, got, &err);
        if (rc != GRAFT_OK) {
            assert_int_equal(rc, GRAFT_ECONFIG);
            assert_true(err.line >= 1 && err.line <= lines);
            assert_true(err.msg[0] != '\0');
            failed++;
        }
        for (int i = 0; i < got->n; i++) {
            assert_true(got->v[i].line >= 1 && got->v[i].line <= lines);
        }
    }
    print_message("ini mutations: %d of 20000 refused with a line\n", failed);
    assert_true(failed > 0);
    free(b);
    free(want);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_cases),
        cmocka_unit_test(property_model),
        cmocka_unit_test(mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
