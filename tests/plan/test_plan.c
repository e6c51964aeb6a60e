/*
 * test_plan.c: `graft plan` on fixture projects with known answers, checked exactly
 * (components, signals with locations, distances to untrusted input, crossings, cycles,
 * scores, order, seams), and on bad input: missing or malformed compile databases and
 * sources that fail to parse give clear errors and a partial plan, never a crash.
 * The planner runs in-process through graft_plan_main, as `graft plan` would.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "plan.h"

static char tmpdir[256];

static char *tmp_path(const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
        abort();
    return p;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t r = fread(s, 1, (size_t)n, f);
    s[r] = '\0';
    fclose(f);
    return s;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Runs `graft plan <args...> -q -o out`, returns the exit status. */
static int run_plan(const char *out, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "plan";
    va_list ap;
    va_start(ap, out);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;)
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc++] = "-q";
    argv[argc++] = "--no-history";
    if (out) {
        argv[argc++] = "-o";
        argv[argc++] = (char *)out;
    }
    argv[argc] = NULL;
    return graft_plan_main(argc, argv);
}

static cJSON *plan_json(int *rc, ...)
{
    char *out = tmp_path("plan.json");
    unlink(out);
    char *argv[32];
    int argc = 0;
    argv[argc++] = "plan";
    va_list ap;
    va_start(ap, rc);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;)
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc++] = "--format";
    argv[argc++] = "json";
    argv[argc++] = "-q";
    argv[argc++] = "--no-history"; /* the fixtures live in graft's own repository */
    argv[argc++] = "-o";
    argv[argc++] = out;
    argv[argc] = NULL;
    *rc = graft_plan_main(argc, argv);
    char *text = slurp(out);
    free(out);
    if (!text)
        return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    return j;
}

static const cJSON *get(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        fail_msg("missing key '%s'", key);
    return v;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = get(o, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = get(o, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static const cJSON *component(const cJSON *plan, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, get(plan, "components")) if (!strcmp(str(c, "name"), name)) return c;
    fail_msg("no component '%s'", name);
    return NULL;
}

/* "kind what @line:col; ..." of every signal of the component's function `fn`. */
static char *signals_of(const cJSON *comp, const char *fn)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, get(comp, "function_list"))
    {
        if (strcmp(str(f, "name"), fn))
            continue;
        char *acc = calloc(1, 1);
        const cJSON *s;
        cJSON_ArrayForEach(s, get(f, "signals"))
        {
            char *n = NULL;
            if (asprintf(&n, "%s%s%s %s @%d:%d", acc, *acc ? "; " : "", str(s, "kind"),
                         str(s, "what"), (int)num(s, "line"), (int)num(s, "col")) < 0)
                abort();
            free(acc);
            acc = n;
        }
        return acc;
    }
    fail_msg("no function '%s'", fn);
    return NULL;
}

static void expect_signals(const cJSON *comp, const char *fn, const char *want)
{
    char *got = signals_of(comp, fn);
    assert_string_equal(got, want);
    free(got);
}

/* Signal counts in PL_SIGNALS order: memory, pointer_arith, void_cast, alloc, free,
 * index_write, untrusted_input, global_write, thread, size_arith, parse, data_size. */
static void expect_counts(const cJSON *comp, const int want[PL_SIG_COUNT])
{
    const cJSON *s = get(comp, "signals");
    for (int k = 0; k < PL_SIG_COUNT; k++) {
        if ((int)num(s, pl_sig_names[k]) != want[k])
            fail_msg("%s: %s is %d, want %d", str(comp, "name"), pl_sig_names[k],
                     (int)num(s, pl_sig_names[k]), want[k]);
    }
}

static void expect_distance(const cJSON *comp, int want)
{
    const cJSON *d = get(comp, "untrusted_distance");
    if (want < 0)
        assert_true(cJSON_IsNull(d));
    else
        assert_int_equal((int)d->valuedouble, want);
}

static void basic_fixture_exact(void **state)
{
    (void)state;
    int rc = -1;
    cJSON *p = plan_json(&rc, "-p", PLAN_CCDB, "--root", PLAN_FIXTURES "/basic", "-j", "2", NULL);
    assert_non_null(p);
    assert_int_equal(rc, 3); /* partial: bad.c has errors, gone/missing.c is missing */

    const cJSON *sum = get(p, "summary");
    assert_int_equal((int)num(sum, "files"), 8);
    assert_int_equal((int)num(sum, "files_failed"), 1);
    assert_int_equal((int)num(sum, "files_partial"), 1);
    assert_int_equal((int)num(sum, "functions"), 8);
    assert_int_equal((int)num(sum, "components"), 7);
    assert_int_equal((int)num(sum, "cycles"), 1);
    assert_int_equal((int)num(sum, "lines"), 87);

    /* errors: the skipped database entry, the parse error, the missing file */
    const cJSON *errs = get(p, "errors");
    assert_int_equal(cJSON_GetArraySize(errs), 3);
    assert_string_equal(str(cJSON_GetArrayItem(errs, 0), "status"), "skipped");
    assert_non_null(strstr(str(cJSON_GetArrayItem(errs, 0), "message"),
                           "entry 10 skipped: missing string \"file\""));
    assert_string_equal(str(cJSON_GetArrayItem(errs, 1), "file"), "bad/bad.c");
    assert_string_equal(str(cJSON_GetArrayItem(errs, 1), "status"), "partial");
    assert_non_null(strstr(str(cJSON_GetArrayItem(errs, 1), "message"),
                           "bad.c:9:16: error: expected expression"));
    assert_string_equal(str(cJSON_GetArrayItem(errs, 2), "file"), "gone/missing.c");
    assert_string_equal(str(cJSON_GetArrayItem(errs, 2), "status"), "failed");
    assert_non_null(
        strstr(str(cJSON_GetArrayItem(errs, 2), "message"), "No such file or directory"));

    /* risk signals, counted and located */
    const cJSON *net = component(p, "net"), *proto = component(p, "proto");
    const cJSON *app = component(p, "app"), *util = component(p, "util");
    const cJSON *ca = component(p, "cyc_a"), *cb = component(p, "cyc_b");
    const cJSON *bad = component(p, "bad");
    expect_counts(net, (int[]){1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0});
    expect_signals(net, "net_serve", "untrusted_input recv @12:17; memory memcpy @15:5");
    expect_counts(proto, (int[]){0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0});
    expect_signals(proto, "proto_parse",
                   "pointer_arith pointer + @7:23; index_write key[...] = @10:9; "
                   "pointer_arith pointer ++ @10:26; index_write key[...] = @12:5");
    expect_counts(app, (int[]){0, 0, 1, 1, 1, 0, 2, 1, 2, 0, 1, 0});
    expect_signals(app, "main",
                   "untrusted_input getenv @12:21; void_cast implicit (char *) from void * "
                   "@14:21; alloc malloc @14:21; free free @15:5; thread pthread_mutex_lock "
                   "@16:5; global_write runs @17:5; thread pthread_mutex_unlock @18:5; "
                   "parse atoi @19:22; untrusted_input argv @19:27");
    expect_counts(util, (int[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    assert_int_equal((int)num(proto, "max_complexity"), 5);
    assert_int_equal((int)num(app, "max_complexity"), 3);
    assert_int_equal((int)num(util, "max_complexity"), 2);
    assert_int_equal((int)num(bad, "functions"), 2); /* fine() and broken() survive */

    /* distance to untrusted input along the call graph */
    expect_distance(net, 0);
    expect_distance(app, 0);
    expect_distance(proto, 1);
    expect_distance(ca, 1);
    expect_distance(cb, 2);
    expect_distance(util, -1);

    /* isolation: util has no crossings at all */
    assert_int_equal((int)num(util, "fan_in"), 0);
    assert_int_equal((int)num(util, "fan_out"), 0);
    assert_int_equal((int)num(util, "boundary_symbols"), 0);
    assert_int_equal((int)num(net, "fan_in"), 1);
    assert_int_equal((int)num(net, "fan_out"), 1);
    assert_int_equal((int)num(net, "boundary_symbols"), 3);

    /* crossings with their symbols */
    const char *want_edges[] = {
        "app>net calls=1 types=0: call net_serve x1",
        "app>cyc_a calls=1 types=0: call a_ping x1",
        "net>proto calls=1 types=1: type struct proto_msg x1, call proto_parse x1",
        "cyc_a>cyc_b calls=1 types=0: call b_pong x1",
        "cyc_b>cyc_a calls=1 types=0: call a_ping x1",
    };
    const cJSON *edges = get(p, "edges");
    assert_int_equal(cJSON_GetArraySize(edges), 5);
    for (int i = 0; i < 5; i++) {
        const cJSON *e = cJSON_GetArrayItem(edges, i);
        char buf[512];
        int n = snprintf(buf, sizeof(buf), "%s>%s calls=%d types=%d:", str(e, "from"), str(e, "to"),
                         (int)num(e, "calls"), (int)num(e, "types"));
        const cJSON *s;
        int first = 1;
        cJSON_ArrayForEach(s, get(e, "symbols"))
        {
            n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s %s %s x%d", first ? "" : ",",
                          str(s, "kind"), str(s, "name"), (int)num(s, "count"));
            first = 0;
        }
        assert_string_equal(buf, want_edges[i]);
        assert_int_equal(cJSON_IsTrue(get(e, "in_cycle")), i >= 3);
    }

    /* the cycle */
    const cJSON *cycles = get(p, "cycles");
    assert_int_equal(cJSON_GetArraySize(cycles), 1);
    const cJSON *cy = cJSON_GetArrayItem(cycles, 0);
    assert_int_equal(cJSON_GetArraySize(cy), 2);
    assert_string_equal(cJSON_GetArrayItem(cy, 0)->valuestring, "cyc_a");
    assert_string_equal(cJSON_GetArrayItem(cy, 1)->valuestring, "cyc_b");
    assert_int_equal((int)num(ca, "cycle"), 0);
    assert_true(cJSON_IsNull(get(util, "cycle")));

    /* taint: net_serve reads (0), proto_parse is passed the bytes (1), main's reads are
     * getenv and argv, a weaker source (2) */
    const cJSON *f0 = cJSON_GetArrayItem(get(proto, "function_list"), 0);
    assert_int_equal((int)num(f0, "taint"), 1);
    assert_int_equal((int)num(cJSON_GetArrayItem(get(net, "function_list"), 0), "taint"), 0);
    assert_int_equal((int)num(cJSON_GetArrayItem(get(app, "function_list"), 0), "taint"), 2);

    /* the order and scores (docs/PLAN.md, computed by hand): benefit = risk x 1/(1 +
     * 0.25 taint) + 2 per read: app = (1+1+1+1) / 1.5 + 2*2 = 6.67, proto = (2*2 + 2*2) /
     * 1.25 = 6.4, net = 3 + 2 = 5; effort = (1 + lines/1000)(1 + boundary/8), doubled in
     * a cycle: proto = 1.015 * 1.25 = 1.27; score = 100 b / effort: proto = 100 * 0.96 /
     * 1.27 = 75.67. Tiers split at the medians of the risky components (benefit 6.4):
     * app and proto are tier 1, net (5 < 6.4) tier 3, the rest have no signal (tier 4,
     * cheapest first). */
    const char *want_order[] = {"app", "proto", "net", "util", "bad", "cyc_a", "cyc_b"};
    const double want_score[] = {78.43, 75.67, 53.58, 0, 0, 0, 0};
    const int want_tier[] = {1, 1, 3, 4, 4, 4, 4};
    const cJSON *order = get(p, "order");
    assert_int_equal(cJSON_GetArraySize(order), 7);
    for (int i = 0; i < 7; i++) {
        const cJSON *o = cJSON_GetArrayItem(order, i);
        assert_int_equal((int)num(o, "rank"), i + 1);
        assert_string_equal(str(o, "component"), want_order[i]);
        assert_float_equal(num(o, "score"), want_score[i], 1e-9);
        assert_int_equal((int)num(o, "tier"), want_tier[i]);
        assert_true(strlen(str(o, "reason")) > 20);
    }
    assert_float_equal(num(get(proto, "score"), "benefit"), 6.4, 1e-9);
    assert_float_equal(num(get(proto, "score"), "isolation"), 0.8, 1e-9);
    assert_float_equal(num(get(proto, "score"), "effort"), 1.27, 1e-9);
    /* the plan names no absolute path: the root is ".", files are root-relative */
    assert_string_equal(str(p, "root"), ".");
    const cJSON *fl;
    cJSON_ArrayForEach(fl, get(p, "files")) assert_true(str(fl, "file")[0] != '/');
    assert_non_null(strstr(str(cJSON_GetArrayItem(order, 2), "reason"),
                           "reads untrusted input (1 read, first: recv at net/net.c:12)"));
    assert_non_null(strstr(str(cJSON_GetArrayItem(order, 1), "reason"),
                           "untrusted data reaches it through 1 call"));

    /* seams of the top three: proto's inbound parser and the type it exports */
    const cJSON *pseam = get(cJSON_GetArrayItem(order, 1), "seam");
    const cJSON *in = get(pseam, "inbound");
    assert_int_equal(cJSON_GetArraySize(in), 1);
    assert_string_equal(str(cJSON_GetArrayItem(in, 0), "name"), "proto_parse");
    assert_string_equal(str(cJSON_GetArrayItem(in, 0), "signature"),
                        "int proto_parse(const char *buf, size_t len, struct proto_msg *out)");
    assert_string_equal(str(cJSON_GetArrayItem(in, 0), "used_by"), "net");
    assert_int_equal(cJSON_GetArraySize(get(pseam, "outbound")), 0);
    const cJSON *types = get(pseam, "types");
    assert_int_equal(cJSON_GetArraySize(types), 1);
    assert_string_equal(str(cJSON_GetArrayItem(types, 0), "name"), "struct proto_msg");
    assert_string_equal(str(cJSON_GetArrayItem(types, 0), "direction"), "exported");
    const cJSON *nseam = get(cJSON_GetArrayItem(order, 2), "seam");
    assert_int_equal(cJSON_GetArraySize(get(nseam, "inbound")), 1);
    assert_string_equal(str(cJSON_GetArrayItem(get(nseam, "outbound"), 0), "name"), "proto_parse");
    assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(order, 3), "seam"));
    cJSON_Delete(p);
}

/* Indirect calls through a hook pointer reach the address-taken functions of the same
 * type; a function that only forwards one call adds no distance. */
static void hooks_fixture_indirect_calls(void **state)
{
    (void)state;
    int rc = -1;
    cJSON *p = plan_json(&rc, "-p", PLAN_HOOKS_CCDB, NULL);
    assert_non_null(p);
    assert_int_equal(rc, 0);
    expect_distance(component(p, "reader"), 0);
    expect_distance(component(p, "hook"), 0); /* legacy_parse only forwards */
    expect_distance(component(p, "parser"), 1);
    const cJSON *edges = get(p, "edges");
    assert_int_equal(cJSON_GetArraySize(edges), 2);
    const cJSON *e0 = cJSON_GetArrayItem(edges, 0);
    assert_string_equal(str(e0, "from"), "reader");
    assert_string_equal(str(e0, "to"), "hook");
    const cJSON *s0 = cJSON_GetArrayItem(get(e0, "symbols"), 0);
    assert_string_equal(str(s0, "kind"), "indirect call");
    assert_string_equal(str(s0, "name"), "legacy_parse");
    assert_string_equal(str(s0, "first_use"), "reader/reader.c:11:12");
    const cJSON *s1 = cJSON_GetArrayItem(get(e0, "symbols"), 1);
    assert_string_equal(str(s1, "kind"), "var");
    assert_string_equal(str(s1, "name"), "parse_hook");
    const cJSON *order = get(p, "order");
    assert_string_equal(str(cJSON_GetArrayItem(order, 0), "component"), "parser");
    assert_string_equal(str(cJSON_GetArrayItem(order, 1), "component"), "reader");
    assert_string_equal(str(cJSON_GetArrayItem(order, 2), "component"), "hook");
    assert_non_null(strstr(str(cJSON_GetArrayItem(order, 2), "reason"),
                           "untrusted data reaches it through forwarders"));
    cJSON_Delete(p);
}

static void groups_config_merges_cycle(void **state)
{
    (void)state;
    int rc = -1;
    cJSON *p = plan_json(&rc, "-p", PLAN_CCDB, "--config", PLAN_FIXTURES "/groups.ini", NULL);
    assert_non_null(p);
    assert_int_equal(rc, 3); /* entry 10 of the database is still malformed */
    const cJSON *sum = get(p, "summary");
    assert_int_equal((int)num(sum, "files"), 6);
    assert_int_equal((int)num(sum, "files_failed"), 0);
    assert_int_equal((int)num(sum, "components"), 5);
    assert_int_equal((int)num(sum, "cycles"), 0);
    const cJSON *cyc = component(p, "cycle");
    assert_int_equal((int)num(cyc, "functions"), 2);
    assert_int_equal(cJSON_GetArraySize(get(cyc, "files")), 2);
    assert_int_equal((int)num(cyc, "fan_in"), 1);
    assert_int_equal((int)num(cyc, "fan_out"), 0);
    assert_int_equal(cJSON_GetArraySize(get(p, "errors")), 1);
    /* seams = 1 in the config */
    const cJSON *order = get(p, "order");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(order, 0), "seam"));
    assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(order, 1), "seam"));
    cJSON_Delete(p);
}

static void parallel_plan_is_deterministic(void **state)
{
    (void)state;
    char *a = tmp_path("j1.json"), *b = tmp_path("j4.json");
    assert_int_equal(run_plan(a, "-p", PLAN_CCDB, "--format", "json", "-j", "1", NULL), 3);
    assert_int_equal(run_plan(b, "-p", PLAN_CCDB, "--format", "json", "-j", "4", NULL), 3);
    char *ta = slurp(a), *tb = slurp(b);
    assert_non_null(ta);
    assert_non_null(tb);
    assert_string_equal(ta, tb);
    free(ta);
    free(tb);
    free(a);
    free(b);
}

static void other_formats(void **state)
{
    (void)state;
    char *out = tmp_path("plan.out");
    assert_int_equal(run_plan(out, "-p", PLAN_CCDB, "--format", "dot", NULL), 3);
    char *t = slurp(out);
    assert_non_null(strstr(t, "digraph plan {"));
    assert_non_null(strstr(t, "\"cyc_a\" -> \"cyc_b\" [label=\"1 call\", color=\"#c0392b\""));
    assert_non_null(strstr(t, "\"net\" -> \"proto\" [label=\"1 call, 1 type\"];"));
    free(t);
    assert_int_equal(run_plan(out, "-p", PLAN_CCDB, "--format", "md", NULL), 3);
    t = slurp(out);
    assert_non_null(strstr(t, "| 1 | app | 1 | 1.00 | 1.3 | 78.4 |"));
    assert_non_null(strstr(t, "Cycle 0: cyc_a, cyc_b"));
    assert_non_null(strstr(t, "| inbound | call | proto_parse | int proto_parse(const char "
                              "\\*buf, size_t len, struct proto_msg \\*out) | net (1) |"));
    free(t);
    assert_int_equal(run_plan(out, "-p", PLAN_CCDB, "--format", "html", NULL), 3);
    t = slurp(out);
    assert_non_null(strstr(t, "<!DOCTYPE html>"));
    assert_non_null(strstr(t, "<div class=\"graph\"><svg")); /* graphviz rendered inline */
    assert_non_null(strstr(t, "<td>proto_parse</td>"));
    assert_non_null(strstr(t, "</html>"));
    free(t);
    free(out);
}

static void missing_database(void **state)
{
    (void)state;
    char *out = tmp_path("none.md");
    unlink(out);
    assert_int_equal(run_plan(out, "-p", "/nonexistent/compile_commands.json", NULL), 1);
    assert_int_equal(access(out, F_OK), -1);                /* nothing half-written */
    assert_int_equal(run_plan(out, "-p", tmpdir, NULL), 1); /* directory without one */
    free(out);
}

static void malformed_databases(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",                                                                  /* empty */
        "[{\"directory\": \"/\", ",                                          /* truncated */
        "{\"directory\": \"/\"}",                                            /* not an array */
        "[]",                                                                /* no entries */
        "[1, \"x\", {\"file\": \"a.c\"}]",                                   /* no usable entry */
        "[{\"directory\": \"/\", \"file\": \"a.c\", \"arguments\": [1]}]",   /* bad args */
        "[{\"directory\": \"/\", \"file\": \"a.c\", \"command\": \"   \"}]", /* empty cmd */
    };
    char *db = tmp_path("compile_commands.json");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        spit(db, bad[i]);
        assert_int_equal(run_plan(NULL, "-p", db, NULL), 1);
    }
    /* a usable entry next to broken ones: a partial plan, exit 3 */
    char *text = NULL;
    if (asprintf(&text,
                 "[7, {\"directory\": \"%s/basic\", \"file\": \"util/util.c\", "
                 "\"command\": \"cc -c util/util.c\"}, {\"file\": 1}]",
                 PLAN_FIXTURES) < 0)
        abort();
    spit(db, text);
    free(text);
    int rc = -1;
    cJSON *p = plan_json(&rc, "-p", tmpdir, NULL); /* directory form of -p */
    assert_int_equal(rc, 3);
    assert_non_null(p);
    assert_int_equal((int)num(get(p, "summary"), "functions"), 1);
    assert_int_equal(cJSON_GetArraySize(get(p, "errors")), 2);
    cJSON_Delete(p);
    free(db);
}

/* Sources libclang or the walker could choke on: expressions nested far deeper than any
 * real code (the walker's depth is bounded, libclang parses on the worker's big stack),
 * and a database entry naming a directory. */
static void pathological_sources(void **state)
{
    (void)state;
    char *src = tmp_path("deep.c");
    FILE *f = fopen(src, "w");
    assert_non_null(f);
    fputs("int sum(int x)\n{\n    return x", f);
    for (int i = 0; i < 30000; i++)
        fputs(" + x", f);
    fputs(";\n}\nint two(char *p)\n{\n    return *(p + 1);\n}\n", f);
    fclose(f);
    char *db = tmp_path("compile_commands.json");
    char *text = NULL;
    if (asprintf(&text,
                 "[{\"directory\": \"%s\", \"file\": \"deep.c\", \"command\": \"cc -c "
                 "deep.c\"}, {\"directory\": \"%s\", \"file\": \".\", \"command\": \"cc -c "
                 "x.c\"}]",
                 tmpdir, tmpdir) < 0)
        abort();
    spit(db, text);
    free(text);
    int rc = -1;
    cJSON *p = plan_json(&rc, "-p", db, "-j", "1", NULL);
    assert_non_null(p);
    assert_int_equal(rc, 3);
    const cJSON *errs = get(p, "errors");
    assert_int_equal(cJSON_GetArraySize(errs), 2);
    assert_non_null(
        strstr(str(cJSON_GetArrayItem(errs, 0), "message"),
               ":1: sum: expressions nested deeper than 4000 levels were not analysed"));
    assert_non_null(strstr(str(cJSON_GetArrayItem(errs, 1), "message"), "not a regular file"));
    const cJSON *c = cJSON_GetArrayItem(get(p, "components"), 0);
    expect_signals(c, "two", "pointer_arith pointer + @7:14");
    cJSON_Delete(p);
    unlink(src);
    free(src);
    free(db);
}

static void bad_options_and_config(void **state)
{
    (void)state;
    assert_int_equal(run_plan(NULL, "-p", PLAN_CCDB, "--format", "pdf", NULL), 2);
    assert_int_equal(run_plan(NULL, "-p", PLAN_CCDB, "-j", "0", NULL), 2);
    assert_int_equal(run_plan(NULL, "-p", PLAN_CCDB, "--seams", "x", NULL), 2);
    assert_int_equal(run_plan(NULL, "-p", PLAN_CCDB, "stray", NULL), 2);
    assert_int_equal(run_plan(NULL, "-p", PLAN_CCDB, "--config", "/nonexistent.ini", NULL), 1);
    char *ini = tmp_path("bad.ini");
    spit(ini, "[plan]\nseams = many\n");
    assert_int_equal(run_plan(NULL, "-p", PLAN_CCDB, "--config", ini, NULL), 1);
    spit(ini, "[weird]\nx = 1\n");
    assert_int_equal(run_plan(NULL, "-p", PLAN_CCDB, "--config", ini, NULL), 1);
    spit(ini, "[plan\n");
    assert_int_equal(run_plan(NULL, "-p", PLAN_CCDB, "--config", ini, NULL), 1);
    /* filters that select nothing */
    assert_int_equal(run_plan(NULL, "-p", PLAN_CCDB, "--include", "nothing/*", NULL), 1);
    free(ini);
}

static void command_splitting(void **state)
{
    (void)state;
    int argc = 0;
    char **argv = pl_split_command("cc -DX=\"a b\" 'q u' a\\ b -I\"inc\" \"\\\"\"", &argc);
    assert_int_equal(argc, 6);
    assert_string_equal(argv[0], "cc");
    assert_string_equal(argv[1], "-DX=a b");
    assert_string_equal(argv[2], "q u");
    assert_string_equal(argv[3], "a b");
    assert_string_equal(argv[4], "-Iinc");
    assert_string_equal(argv[5], "\"");
    assert_null(argv[6]);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
    char *n = pl_path_normalize("/a/./b/../c//d/");
    assert_string_equal(n, "/a/c/d");
    free(n);
}

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/graft-plan-test-000000", base && *base ? base : "/tmp");
    memset(tmpdir + strlen(tmpdir) - 6, 'X', 6); /* mkdtemp's template */
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const names[] = {"plan.json", "j1.json", "j4.json",
                                        "plan.out",  "none.md", "compile_commands.json",
                                        "bad.ini"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *p = tmp_path(names[i]);
        unlink(p);
        free(p);
    }
    return rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(basic_fixture_exact),
        cmocka_unit_test(hooks_fixture_indirect_calls),
        cmocka_unit_test(groups_config_merges_cycle),
        cmocka_unit_test(parallel_plan_is_deterministic),
        cmocka_unit_test(other_formats),
        cmocka_unit_test(missing_database),
        cmocka_unit_test(malformed_databases),
        cmocka_unit_test(pathological_sources),
        cmocka_unit_test(bad_options_and_config),
        cmocka_unit_test(command_splitting),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
