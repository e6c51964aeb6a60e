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

    /* the order and scores (docs/PLAN.md, computed by hand): risk = signals x weights
     * (pointer_arith 6, index_write 2, memory 3, void_cast, alloc, free 1, parse 0.25), x
     * 1.5 in a parser of untrusted data (tainted, with a parse signal: app's main); benefit
     * = risk x 1 where untrusted data reaches (any number of calls) + 2 per read: proto =
     * 2*6 + 2*2 = 16, app = (1+1+1+0.25) * 1.5 + 2*2 = 8.875, net = 3 + 2 = 5; effort = (1 +
     * lines/1000)(1 + boundary/8), doubled in a cycle: proto = 1.015 * 1.25 = 1.27; score =
     * 100 b / effort: proto = 100 / 1.27 = 78.82, app = 100 * 0.5547 / 1.275 = 43.50, net =
     * 100 * 0.3125 / 1.4 = 22.33. Benefit splits at the median of the risky components
     * (8.875, above a fifth of the highest), effort at their median (1.275): proto and app
     * are tier 1, net tier 3, the rest have no signal (tier 4, cheapest first). */
    const char *want_order[] = {"proto", "app", "net", "util", "bad", "cyc_a", "cyc_b"};
    const double want_score[] = {78.82, 43.50, 22.33, 0, 0, 0, 0};
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
    assert_float_equal(num(get(proto, "score"), "benefit"), 16, 1e-9);
    assert_float_equal(num(get(proto, "score"), "isolation"), 0.8, 1e-9);
    assert_float_equal(num(get(proto, "score"), "effort"), 1.27, 1e-9);
    /* the plan names no absolute path: the root is ".", files are root-relative */
    assert_string_equal(str(p, "root"), ".");
    const cJSON *fl;
    cJSON_ArrayForEach(fl, get(p, "files")) assert_true(str(fl, "file")[0] != '/');
    assert_non_null(strstr(str(cJSON_GetArrayItem(order, 2), "reason"),
                           "reads untrusted input (1 read, first: recv at net/net.c:12)"));
    assert_non_null(strstr(str(cJSON_GetArrayItem(order, 0), "reason"),
                           "untrusted data reaches it through 1 call"));

    /* seams of the top three: proto's inbound parser and the type it exports */
    const cJSON *pseam = get(cJSON_GetArrayItem(order, 0), "seam");
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
    assert_non_null(strstr(t, "| 1 | proto | 1 | 1.00 | 1.3 | 78.8 |"));
    assert_non_null(strstr(t, "Cycle 0: cyc_a, cyc_b"));
    assert_non_null(strstr(t, "| inbound | call | proto_parse | int proto_parse(const char "
                              "\\*buf, size_t len, struct proto_msg \\*out) | net (1) |"));
    free(t);
    assert_int_equal(run_plan(out, "-p", PLAN_CCDB, "--format", "html", NULL), 3);
    t = slurp(out);
    assert_non_null(strstr(t, "<!DOCTYPE html>"));
    assert_non_null(strstr(t, "<div class=\"graph\"><svg"));   /* graphviz rendered inline */
    assert_non_null(strstr(t, "<div class=\"scatter\"><svg")); /* benefit against effort */
    assert_non_null(strstr(t, "<td>proto_parse</td>"));
    assert_non_null(strstr(t, "</html>"));
    free(t);
    /* svg: the scatter alone, one dot per ranked component, the first ones labelled */
    assert_int_equal(run_plan(out, "-p", PLAN_CCDB, "--format", "svg", NULL), 3);
    t = slurp(out);
    assert_non_null(strstr(t, "<?xml version=\"1.0\""));
    int dots = 0;
    for (const char *c = t; (c = strstr(c, "<circle cx=")) != NULL; c++)
        dots++;
    assert_int_equal(dots, 7 + 4); /* 7 components and the 4 tiers of the legend */
    assert_non_null(strstr(t, ">1 proto</text>"));
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

/* C++: methods, constructors, operators, a template counted once, a lambda inside its
 * function, namespaces, inline methods of a header, virtual dispatch as an indirect call,
 * new/delete/std::memcpy/pointer arithmetic as signals, standard headers parsed with
 * libclang's builtin headers (<atomic>, <cstddef>), and the seam's C ABI mapping. */
static void cxx_fixture(void **state)
{
    (void)state;
    int rc = -1;
    cJSON *p = plan_json(&rc, "-p", PLAN_CXX_CCDB, NULL);
    assert_non_null(p);
    assert_int_equal(rc, 0); /* every file parsed cleanly */
    assert_int_equal((int)num(get(p, "summary"), "functions"), 8);
    const cJSON *geo = component(p, "geo");
    expect_signals(geo, "copy_name",
                   "pointer_arith pointer + @28:17; memory memcpy @29:5; data_size memcpy "
                   "length from parameters @29:5; alloc new @30:19; size_arith new[] size "
                   "@30:19; free delete @32:5; pointer_arith pointer - @33:26");
    expect_signals(geo, "make_circle", "parse strtod @20:16; alloc new @23:12");
    expect_signals(geo, "Circle::Circle", "");
    expect_signals(geo, "Vec::operator+", "");
    const cJSON *f;
    int twice = 0;
    cJSON_ArrayForEach(f, get(geo, "function_list"))
    {
        twice += !strcmp(str(f, "name"), "twice");
        if (!strcmp(str(f, "name"), "Vec::operator+"))
            assert_string_equal(str(f, "file"), "geo/shape.h"); /* inline in the header */
    }
    assert_int_equal(twice, 1); /* used with int and double, analysed once */
    /* the virtual call s->area() reaches the override */
    const cJSON *e = cJSON_GetArrayItem(get(p, "edges"), 0);
    char syms[512] = "";
    const cJSON *y;
    cJSON_ArrayForEach(y, get(e, "symbols"))
    {
        strcat(syms, str(y, "kind"));
        strcat(syms, " ");
        strcat(syms, str(y, "name"));
        strcat(syms, "; ");
    }
    assert_string_equal(syms, "type class geo::Shape; call make_circle; type struct geo::Vec; "
                              "call Vec::operator+; call copy_name; indirect call "
                              "Circle::area; ");
    /* the seam says how each inbound function maps to a C ABI */
    const cJSON *order = get(p, "order");
    assert_string_equal(str(cJSON_GetArrayItem(order, 0), "component"), "geo");
    const cJSON *in;
    int checked = 0;
    cJSON_ArrayForEach(in, get(get(cJSON_GetArrayItem(order, 0), "seam"), "inbound"))
    {
        const char *abi = str(in, "c_abi");
        assert_non_null(strstr(abi, "-fno-exceptions"));
        if (!strcmp(str(in, "name"), "make_circle")) {
            assert_non_null(strstr(abi, "std::string: by const& or value as a view"));
            checked++;
        }
        if (!strcmp(str(in, "name"), "Circle::area")) {
            assert_non_null(strstr(abi, "opaque `Circle *` first argument"));
            checked++;
        }
    }
    assert_int_equal(checked, 2);
    cJSON_Delete(p);
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, rel) < 0)
        abort();
    char *slash = strrchr(path, '/');
    *slash = '\0';
    char *cmd = NULL;
    if (asprintf(&cmd, "mkdir -p '%s'", path) < 0)
        abort();
    assert_int_equal(system(cmd), 0);
    free(cmd);
    *slash = '/';
    spit(path, text);
    free(path);
}

/* A flat layout (one directory of 18 sources, over 10,000 lines) is split into units
 * from the code: tightly coupled files merge, a utility every file calls stays alone;
 * vendored code (deps/) and a file under another project's licence are set apart. */
static void flat_layout_and_third_party(void **state)
{
    (void)state;
    char *dir = tmp_path("flat");
    static const char *const licence =
        "/* Copyright (c) 2020, Flat Project authors. Part of flat, BSD licence. */\n";
    char *pad = calloc(1, 64 * 700 + 1);
    for (int i = 0; i < 700; i++)
        strcat(pad, "/* padding to make the directory a large flat one.  */\n");
    char *db = NULL;
    size_t dl = 0;
    FILE *dbf = open_memstream(&db, &dl);
    fprintf(dbf, "[");
    for (int i = 0; i < 18; i++) {
        char name[32], text[4096];
        snprintf(name, sizeof(name), "src/m%02d.c", i);
        /* m00 and m01 call each other all the time; everyone calls util */
        snprintf(text, sizeof(text),
                 "%s#include <string.h>\nint util_len(const char *s);\n"
                 "int m%02d_f(const char *s, char *d, unsigned n);\n"
                 "int m%02d_f(const char *s, char *d, unsigned n)\n{\n"
                 "    memcpy(d, s, n + 1);\n    return util_len(s)%s;\n}\n",
                 licence, (i ^ 1) < 2 ? i ^ 1 : i, i,
                 i < 2 ? (i == 0 ? " + m01_f(s, d, n) + m01_f(s, d, 1) + m01_f(s, d, 2)"
                                 : " + m00_f(s, d, n) + m00_f(s, d, 1) + m00_f(s, d, 2)")
                       : "");
        char *full = NULL;
        if (asprintf(&full, "%s%s", text, pad) < 0)
            abort();
        write_file(dir, name, full);
        free(full);
        fprintf(dbf, "%s{\"directory\": \"%s\", \"file\": \"%s\", \"command\": \"cc -c %s\"}",
                i ? ", " : "", dir, name, name);
    }
    write_file(dir, "src/util.c",
               "/* Copyright (c) 2020, Flat Project authors. */\n"
               "int util_len(const char *s)\n{\n    int n = 0;\n    while (s[n])\n"
               "        n++;\n    return n;\n}\n");
    write_file(dir, "src/lzf.c",
               "/* Copyright (c) 2000-2010 Marc Alexander Lehmann <schmorp@schmorp.de>\n"
               " * Redistribution and use in source and binary forms... */\n"
               "#include <string.h>\nvoid lzf_copy(char *d, const char *s, unsigned n)\n{\n"
               "    memcpy(d, s, n);\n}\n");
    write_file(
        dir, "deps/zlib/inflate.c",
        "/* inflate.c -- zlib decompression */\n#include <string.h>\n"
        "void inflate_copy(char *d, const char *s, unsigned n)\n{\n    memcpy(d, s, n);\n}\n");
    fprintf(dbf,
            ", {\"directory\": \"%s\", \"file\": \"src/util.c\", \"command\": \"cc -c src/util.c\"}"
            ", {\"directory\": \"%s\", \"file\": \"src/lzf.c\", \"command\": \"cc -c src/lzf.c\"}"
            ", {\"directory\": \"%s\", \"file\": \"deps/zlib/inflate.c\", \"command\": \"cc -c "
            "deps/zlib/inflate.c\"}]",
            dir, dir, dir);
    fclose(dbf);
    char *dbpath = tmp_path("flat/compile_commands.json");
    spit(dbpath, db);
    free(db);
    free(pad);
    int rc = -1;
    cJSON *p = plan_json(&rc, "-p", dbpath, NULL);
    assert_non_null(p);
    assert_int_equal(rc, 0);
    /* m00+m01 merged, util alone, each other file its own unit; lzf and deps/zlib apart */
    const cJSON *pair = component(p, "src/m00+m01");
    assert_int_equal(cJSON_GetArraySize(get(pair, "files")), 2);
    assert_int_equal(cJSON_GetArraySize(get(component(p, "src/util"), "files")), 1);
    assert_int_equal(cJSON_GetArraySize(get(component(p, "src/m07"), "files")), 1);
    assert_int_equal((int)num(get(p, "summary"), "components"), 17 + 1 + 2);
    const cJSON *third = get(p, "third_party");
    assert_int_equal(cJSON_GetArraySize(third), 2);
    assert_string_equal(str(cJSON_GetArrayItem(third, 0), "component"), "deps/zlib");
    assert_string_equal(str(cJSON_GetArrayItem(third, 0), "why"), "vendored under deps/zlib/");
    assert_string_equal(str(cJSON_GetArrayItem(third, 1), "component"), "src/lzf");
    assert_string_equal(str(cJSON_GetArrayItem(third, 1), "why"),
                        "licence header names marc alexander lehmann");
    assert_string_equal(str(cJSON_GetArrayItem(third, 1), "advice"),
                        "replace with an existing crate");
    /* third-party code is not ranked */
    const cJSON *o;
    cJSON_ArrayForEach(o, get(p, "order"))
    {
        assert_true(strcmp(str(o, "component"), "src/lzf") != 0);
        assert_true(strcmp(str(o, "component"), "deps/zlib") != 0);
    }
    assert_int_equal((int)num(component(p, "deps/zlib"), "rank"), 0);
    cJSON_Delete(p);
    /* layout = directories keeps the directory whole; the groups file still wins */
    p = plan_json(&rc, "-p", dbpath, "--layout", "directories", NULL);
    assert_int_equal(cJSON_GetArraySize(get(component(p, "src"), "files")), 19);
    cJSON_Delete(p);
    char *ini = tmp_path("flat/groups.ini");
    spit(ini, "[components]\nlzf = src/lzf.c\nmost = src/m0*\n");
    p = plan_json(&rc, "-p", dbpath, "--config", ini, NULL);
    assert_int_equal(cJSON_GetArraySize(get(component(p, "most"), "files")), 10);
    assert_false(cJSON_IsTrue(get(component(p, "lzf"), "third_party")));
    cJSON_Delete(p);
    free(ini);
    free(dbpath);
    char *rm = NULL;
    if (asprintf(&rm, "rm -rf '%s'", dir) < 0)
        abort();
    assert_int_equal(system(rm), 0);
    free(rm);
    free(dir);
}

/* Allocation sizes, copy lengths and indices computed from parameters (data_size), from
 * locals (size_arith), and byte-level parsing (parse). */
static void size_and_parse_signals(void **state)
{
    (void)state;
    char *dir = tmp_path("sizes");
    write_file(dir, "s.c",
               "#include <stdlib.h>\n#include <string.h>\n"
               "char *f(size_t n, const char *s)\n{\n"
               "    char *p = malloc(n * 2);\n"
               "    memcpy(p, s, n);\n"
               "    size_t k = n + 1;\n"
               "    char *q = malloc(k + 4);\n"
               "    int z = 3;\n"
               "    char *r = malloc(z * 8);\n"
               "    p[n - 1] = s[0] == ' ' || s[0] == ':';\n"
               "    free(q);\n    free(r);\n    return p;\n}\n");
    char *db = tmp_path("sizes/compile_commands.json");
    char *text = NULL;
    if (asprintf(&text, "[{\"directory\": \"%s\", \"file\": \"s.c\", \"command\": \"cc -c s.c\"}]",
                 dir) < 0)
        abort();
    spit(db, text);
    free(text);
    int rc = -1;
    cJSON *p = plan_json(&rc, "-p", db, NULL);
    assert_non_null(p);
    expect_signals(cJSON_GetArrayItem(get(p, "components"), 0), "f",
                   "void_cast implicit (char *) from void * @5:15; alloc malloc @5:15; "
                   "data_size malloc size from parameters @5:15; memory memcpy @6:5; "
                   "data_size memcpy length from parameters @6:5; void_cast implicit (char *) "
                   "from void * @8:15; alloc malloc @8:15; data_size malloc size from "
                   "parameters @8:15; void_cast implicit (char *) from void * @10:15; alloc "
                   "malloc @10:15; size_arith malloc size @10:15; data_size index from "
                   "parameters @11:5; free free @12:5; free free @13:5; parse character "
                   "comparison @3:7; parse character comparison @3:7");
    cJSON_Delete(p);
    unlink(db);
    free(db);
    char *rm = NULL;
    if (asprintf(&rm, "rm -rf '%s'", dir) < 0)
        abort();
    assert_int_equal(system(rm), 0);
    free(rm);
    free(dir);
}

/* The same project at two absolute paths, planned with -j1 and -j2: byte-identical
 * plans (paths are relative to the root; the root is not recorded). */
static void plans_are_reproducible(void **state)
{
    (void)state;
    const char *fmts[] = {"json", "md", "svg", "dot"};
    char *out[2][4];
    for (int k = 0; k < 2; k++) {
        char *dir = tmp_path(k ? "copy-b/deeper/basic" : "copy-a/basic");
        char *cmd = NULL;
        if (asprintf(&cmd,
                     "mkdir -p '%s' && cp -r '%s'/basic/. '%s'/ && sed 's#@FIX@#%s#g' "
                     "'%s'/basic.json.in > '%s'/compile_commands.json",
                     dir, PLAN_FIXTURES, dir, dir, PLAN_FIXTURES, dir) < 0)
            abort();
        assert_int_equal(system(cmd), 0);
        free(cmd);
        char *db = NULL;
        if (asprintf(&db, "%s/compile_commands.json", dir) < 0)
            abort();
        for (int f = 0; f < 4; f++) {
            char *o = tmp_path("repro.out");
            assert_int_equal(run_plan(o, "-p", db, "--root", dir, "--format", fmts[f], "-j",
                                      k ? "2" : "1", NULL),
                             3);
            out[k][f] = slurp(o);
            unlink(o);
            free(o);
            assert_null(strstr(out[k][f], tmpdir)); /* no absolute path anywhere */
        }
        free(db);
        free(dir);
    }
    for (int f = 0; f < 4; f++) {
        assert_string_equal(out[0][f], out[1][f]);
        free(out[0][f]);
        free(out[1][f]);
    }
    char *rm = NULL;
    if (asprintf(&rm, "rm -rf '%s/copy-a' '%s/copy-b'", tmpdir, tmpdir) < 0)
        abort();
    assert_int_equal(system(rm), 0);
    free(rm);
}

/* git history: bug-fix commits and churn per file, and the benefit they add. */
static void git_history(void **state)
{
    (void)state;
    char *dir = tmp_path("hist");
    write_file(dir, "a.c",
               "#include <string.h>\nvoid a(char *d, const char *s) { strcpy(d, s); }\n");
    write_file(dir, "b.c",
               "#include <string.h>\nvoid b(char *d, const char *s) { strcpy(d, s); }\n");
    char *cmd = NULL;
    if (asprintf(&cmd,
                 "cd '%s' && git init -q . && git -c user.name=t -c user.email=t@t add a.c b.c && "
                 "git -c user.name=t -c user.email=t@t commit -qm 'add a and b, prefix b' && "
                 "echo '/* bounds */' >> a.c && git -c user.name=t -c user.email=t@t commit "
                 "-qam 'Fix overflow in a' && echo '[{\"directory\": \"%s\", \"file\": \"a.c\", "
                 "\"command\": \"cc -c a.c\"}, {\"directory\": \"%s\", \"file\": \"b.c\", "
                 "\"command\": \"cc -c b.c\"}]' > compile_commands.json",
                 dir, dir, dir) < 0)
        abort();
    assert_int_equal(system(cmd), 0);
    free(cmd);
    char *db = tmp_path("hist/compile_commands.json");
    char *argv[] = {"plan", "-p", db, "--format", "json", "-q", "-o", NULL, NULL};
    char *out = tmp_path("hist.json");
    argv[7] = out;
    assert_int_equal(graft_plan_main(8, argv), 0);
    char *t = slurp(out);
    cJSON *p = cJSON_Parse(t);
    free(t);
    assert_true(cJSON_IsTrue(get(get(p, "summary"), "git_history")));
    const cJSON *fa = cJSON_GetArrayItem(get(p, "files"), 0);
    const cJSON *fb = cJSON_GetArrayItem(get(p, "files"), 1);
    assert_string_equal(str(fa, "file"), "a.c");
    assert_int_equal((int)num(get(fa, "history"), "commits"), 2);
    assert_int_equal((int)num(get(fa, "history"), "fixes"), 1);
    assert_int_equal((int)num(get(fa, "history"), "churn"), 3);
    assert_int_equal((int)num(get(fb, "history"), "fixes"), 0);
    /* same code, one fix: benefit x (1 + 0.5 log2(1 + 1)) = 1.5 */
    assert_float_equal(num(fa, "benefit"), 1.5 * num(fb, "benefit"), 0.011);
    assert_int_equal((int)num(fa, "benefit_rank"), 1);
    cJSON_Delete(p);
    unlink(out);
    free(out);
    free(db);
    if (asprintf(&cmd, "rm -rf '%s'", dir) < 0)
        abort();
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(dir);
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
        cmocka_unit_test(cxx_fixture),
        cmocka_unit_test(flat_layout_and_third_party),
        cmocka_unit_test(size_and_parse_signals),
        cmocka_unit_test(plans_are_reproducible),
        cmocka_unit_test(git_history),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
