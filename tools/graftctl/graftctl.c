/*
 * graftctl: operate a live migration through a process's graft admin endpoint
 * (src/admin.c). Reads and changes seams over HTTP (libcurl), parses the runtime's
 * JSON snapshot (libcjson; shape in docs/RUNTIME.md) and prints tables and reports.
 *
 *   graftctl [--url URL] [--token TOKEN | --token-file PATH] status [-w SECONDS] [--json]
 *   graftctl set SEAM MODE [PERCENT]
 *   graftctl reset SEAM
 *   graftctl plan SEAM [pause | resume | advance | abort]   (also: pause SEAM, ...)
 *   graftctl fault SEAM off | [error=P] [panic=P] [delay=P] [delay_ms=MS]
 *   graftctl watch [-i SECONDS] [-n COUNT]
 *   graftctl report [--json]
 *   graftctl report [--json] --from FILE...   (no endpoint: sums GRAFT_REPORT files)
 *
 *   graftctl dashboard
 *
 * The URL comes from --url or GRAFT_ADMIN ("127.0.0.1:9100" or "http://..."), the token
 * from --token, GRAFT_ADMIN_TOKEN, --token-file, GRAFT_ADMIN_TOKEN_FILE, or else the file
 * an endpoint started without a token writes its generated one to (token_path).
 * Exit status: 0 done, 1 refused or unreachable,
 * 2 usage error.
 */
#define _POSIX_C_SOURCE 200809L

#include <cjson/cJSON.h>
#include <graft/graft.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* " legacy shadow canary candidate candidate-only", from the one list of modes. */
#define GRAFTCTL_MODE_NAME(suffix, number, name, meaning) " " name
#define GRAFTCTL_MODE_NAMES GRAFT_MODE_MAP(GRAFTCTL_MODE_NAME)
#define GRAFTCTL_MAX_RESPONSE (16u << 20) /* a snapshot of many seams stays far below */

typedef struct ctl {
    char url[512]; /* base URL without trailing slash */
    const char *token;
    char token_buf[600];   /* a token read from a file */
    char token_file[1024]; /* the default file looked at, for the hint on a 401 */
    long timeout_s;
} ctl;

typedef struct buf {
    char *data;
    size_t len, cap;
    int overflow;
} buf;

static volatile sig_atomic_t g_stop = 0;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

_Noreturn static void die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("graftctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nrun 'graftctl --help' for usage\n", stderr);
    exit(2);
}

static void usage(FILE *f)
{
    fputs("usage: graftctl [--url URL] [--token TOKEN | --token-file PATH] [--timeout SECONDS] "
          "COMMAND\n"
          "\n"
          "commands:\n"
          "  status [-w SECONDS] [--json]    one line per seam: mode, calls, rates over the last\n"
          "                                  SECONDS (default 1; 0: lifetime only) and lifetime\n"
          "  set SEAM MODE [PERCENT]         MODE:" GRAFTCTL_MODE_NAMES "\n"
          "  reset SEAM                      close SEAM's circuit breaker\n"
          "  plan SEAM                       SEAM's rollout plan: stage, evidence against what\n"
          "                                  the stage needs, gates, last decision and reason\n"
          "  plan SEAM pause|resume|advance|abort\n"
          "  pause|resume|advance|abort SEAM the same as plan SEAM ACTION\n"
          "  fault SEAM off|KEY=VALUE...     inject faults into the candidate: error=P panic=P\n"
          "                                  delay=P delay_ms=MS (P in percent)\n"
          "  watch [-i SECONDS] [-n COUNT]   refreshing status table (Ctrl-C stops)\n"
          "  report [--json]                 migration report from the live metrics\n"
          "  report [--json] --from FILE...  sum the snapshots short-lived processes appended\n"
          "                                  to GRAFT_REPORT files (no endpoint needed)\n"
          "  dashboard                       print the dashboard's URL, token included\n"
          "\n"
          "URL defaults to $GRAFT_ADMIN (HOST:PORT or http://HOST:PORT), TOKEN to "
          "$GRAFT_ADMIN_TOKEN,\nthen the file $GRAFT_ADMIN_TOKEN_FILE, then the file an endpoint "
          "started without a token\nwrote ($XDG_RUNTIME_DIR/graft/admin-PORT.token or "
          "/tmp/graft-UID/admin-PORT.token).\n",
          f);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    buf *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n + 1 > GRAFTCTL_MAX_RESPONSE) {
        b->overflow = 1;
        return 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (p == NULL)
            return 0;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* One HTTP exchange. Returns the HTTP status, or -1 (message printed) when the
 * endpoint could not be reached. *out receives the body (NUL-terminated, may be empty). */
static long http(const ctl *c, const char *method, const char *path, const char *body, char **out)
{
    CURL *h = curl_easy_init();
    if (h == NULL) {
        fprintf(stderr, "graftctl: cannot initialise libcurl\n");
        return -1;
    }
    char url[1024], auth[1024];
    snprintf(url, sizeof url, "%s%s", c->url, path);
    buf b = {0};
    struct curl_slist *hdrs = NULL;
    if (c->token != NULL && c->token[0] != '\0') {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    if (body != NULL)
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    /* The endpoint takes changes only with a header a cross-origin page cannot send. */
    hdrs = curl_slist_append(hdrs, "X-Graft-Admin: graftctl");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_s);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    }
    CURLcode rc = curl_easy_perform(h);
    long status = -1;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    } else if (b.overflow) {
        fprintf(stderr, "graftctl: response from %s larger than %u bytes\n", url,
                GRAFTCTL_MAX_RESPONSE);
    } else {
        fprintf(stderr, "graftctl: cannot reach %s: %s\n", url, curl_easy_strerror(rc));
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (status < 0) {
        free(b.data);
        return -1;
    }
    *out = b.data != NULL ? b.data : calloc(1, 1);
    return status;
}

/* GETs/sends and parses JSON; on any failure prints why and returns NULL. */
static cJSON *call_json(const ctl *c, const char *method, const char *path, const char *body)
{
    char *text = NULL;
    long status = http(c, method, path, body, &text);
    if (status < 0)
        return NULL;
    cJSON *j = cJSON_Parse(text);
    if (status < 200 || status > 299) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        fprintf(stderr, "graftctl: %s %s: HTTP %ld: %s\n", method, path, status,
                cJSON_IsString(e) ? e->valuestring : text);
        if (status == 401 && (c->token == NULL || c->token[0] == '\0'))
            fprintf(stderr,
                    "graftctl: no token: pass --token or --token-file, set GRAFT_ADMIN_TOKEN, "
                    "or start the endpoint without one and read %s\n",
                    c->token_file[0] ? c->token_file : "its token file");
        cJSON_Delete(j);
        free(text);
        return NULL;
    }
    if (j == NULL)
        fprintf(stderr, "graftctl: %s %s: the answer is not JSON\n", method, path);
    free(text);
    return j;
}

/* ------------------------------------------------------------------ the snapshot */

/* A number at a dotted path ("impl.candidate.latency.p99_ns"), 0 when absent. */
static double jnum(const cJSON *obj, const char *path)
{
    char key[64];
    const cJSON *cur = obj;
    while (cur != NULL && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof key)
            return 0;
        memcpy(key, path, n);
        key[n] = '\0';
        cur = cJSON_GetObjectItemCaseSensitive(cur, key);
        path += n + (dot ? 1 : 0);
    }
    return cJSON_IsNumber(cur) ? cur->valuedouble : 0;
}

static const char *jstr(const cJSON *obj, const char *path, const char *dflt)
{
    char key[64];
    const cJSON *cur = obj;
    while (cur != NULL && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof key)
            return dflt;
        memcpy(key, path, n);
        key[n] = '\0';
        cur = cJSON_GetObjectItemCaseSensitive(cur, key);
        path += n + (dot ? 1 : 0);
    }
    return cJSON_IsString(cur) ? cur->valuestring : dflt;
}

/* The seam array of a /api/seams answer: either {"seams": [...]} or a bare array. */
static const cJSON *seams_of(const cJSON *root)
{
    if (cJSON_IsArray(root))
        return root;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "seams");
    return cJSON_IsArray(s) ? s : NULL;
}

/* Per-seam figures the tables and the report use. */
typedef struct seam_view {
    const char *name, *mode, *breaker;
    double percent, calls, fallbacks, compared, mismatches, faults;
    double opens, transitions, rejected;
    double calls_impl[2], served[2], errors[2], panics[2];
    double p50[2], p90[2], p99[2], maxl[2];
} seam_view;

static void view_of(const cJSON *s, seam_view *v)
{
    static const char *impls[2] = {"legacy", "candidate"};
    char path[96];
    memset(v, 0, sizeof *v);
    v->name = jstr(s, "name", "?");
    v->mode = jstr(s, "mode", "?");
    v->breaker = jstr(s, "breaker.state", "?");
    v->percent = jnum(s, "percent");
    v->calls = jnum(s, "counters.calls");
    v->fallbacks = jnum(s, "counters.fallbacks");
    v->compared = jnum(s, "counters.compared");
    v->mismatches = jnum(s, "counters.mismatches");
    v->faults = jnum(s, "counters.faults_injected");
    v->opens = jnum(s, "breaker.opens");
    v->transitions = jnum(s, "breaker.transitions");
    v->rejected = jnum(s, "breaker.rejected");
    for (int i = 0; i < 2; i++) {
#define GRAFTCTL_FIELD(dst, field)                                                                 \
    snprintf(path, sizeof path, "impl.%s.%s", impls[i], field);                                    \
    dst[i] = jnum(s, path)
        GRAFTCTL_FIELD(v->calls_impl, "calls");
        GRAFTCTL_FIELD(v->served, "served");
        GRAFTCTL_FIELD(v->errors, "errors");
        GRAFTCTL_FIELD(v->panics, "panics");
        GRAFTCTL_FIELD(v->p50, "latency.p50_ns");
        GRAFTCTL_FIELD(v->p90, "latency.p90_ns");
        GRAFTCTL_FIELD(v->p99, "latency.p99_ns");
        GRAFTCTL_FIELD(v->maxl, "latency.max_ns");
#undef GRAFTCTL_FIELD
    }
}

static const char *fmt_ns(double ns, char *out, size_t cap)
{
    if (ns <= 0)
        snprintf(out, cap, "-");
    else if (ns < 1e3)
        snprintf(out, cap, "%.0fns", ns);
    else if (ns < 1e6)
        snprintf(out, cap, "%.1fus", ns / 1e3);
    else
        snprintf(out, cap, "%.2fms", ns / 1e6);
    return out;
}

static const char *fmt_rate(double part, double whole, char *out, size_t cap)
{
    if (whole <= 0)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%.3f%%", 100.0 * part / whole);
    return out;
}

static const char *fmt_mode(const seam_view *v, char *out, size_t cap)
{
    if (strcmp(v->mode, "canary") == 0)
        snprintf(out, cap, "canary:%g", v->percent);
    else
        snprintf(out, cap, "%s", v->mode);
    return out;
}

/* "recent/lifetime" for a rate column: recent from the difference of two snapshots
 * (the runtime keeps lifetime counters only, which millions of old calls dilute). */
static const char *fmt_rates(double part, double whole, double dpart, double dwhole, int recent,
                             char *out, size_t cap)
{
    char r[16], l[16];
    fmt_rate(part, whole, l, sizeof l);
    if (!recent) {
        snprintf(out, cap, "%s", l);
        return out;
    }
    fmt_rate(dpart, dwhole, r, sizeof r);
    snprintf(out, cap, "%s/%s", r, l);
    return out;
}

/* The seam named `name` in a snapshot, or NULL. */
static const cJSON *seam_in(const cJSON *root, const char *name)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, seams_of(root))
    {
        if (strcmp(jstr(p, "name", ""), name) == 0)
            return p;
    }
    return NULL;
}

/* prev: an earlier snapshot (may be NULL), dt its age in seconds: calls/s and the rates
 * over that interval ("recent", before the '/') come from it. Columns are as wide as
 * the longest seam name. */
static void print_table(FILE *f, const cJSON *root, const cJSON *prev, double dt)
{
    const cJSON *seams = seams_of(root);
    const cJSON *s;
    int w = 16;
    cJSON_ArrayForEach(s, seams)
    {
        int n = (int)strlen(jstr(s, "name", "?"));
        if (n > w)
            w = n;
    }
    int recent = prev != NULL && dt > 0;
    const char *rh = recent ? "%s now/all" : "%s";
    char h1[32], h2[32], h3[32];
    snprintf(h1, sizeof h1, rh, "MISMATCH");
    snprintf(h2, sizeof h2, rh, "RUST-ERR");
    snprintf(h3, sizeof h3, rh, "C-ERR");
    fprintf(f, "%-*s %-15s %12s %9s %17s %17s %17s %9s %-9s %17s %17s\n", w, "SEAM", "MODE",
            "CALLS", "CALLS/S", h1, h2, h3, "FALLBACK", "BREAKER", "C p50/p99", "RUST p50/p99");
    cJSON_ArrayForEach(s, seams)
    {
        seam_view v, p;
        view_of(s, &v);
        const cJSON *ps = recent ? seam_in(prev, v.name) : NULL;
        if (ps != NULL)
            view_of(ps, &p);
        else
            memset(&p, 0, sizeof p);
        char mode[32], rate[24], mm[40], re[40], ce[40], a[16], b[16], lc[40], lr[40];
        snprintf(rate, sizeof rate, "-");
        if (ps != NULL)
            snprintf(rate, sizeof rate, "%.0f", (v.calls - p.calls) / dt);
        snprintf(lc, sizeof lc, "%s/%s", fmt_ns(v.p50[0], a, sizeof a),
                 fmt_ns(v.p99[0], b, sizeof b));
        snprintf(lr, sizeof lr, "%s/%s", fmt_ns(v.p50[1], a, sizeof a),
                 fmt_ns(v.p99[1], b, sizeof b));
        double rerr = v.errors[1] + v.panics[1], cerr = v.errors[0] + v.panics[0];
        double prerr = p.errors[1] + p.panics[1], pcerr = p.errors[0] + p.panics[0];
        fprintf(f, "%-*s %-15s %12.0f %9s %17s %17s %17s %9.0f %-9s %17s %17s\n", w, v.name,
                fmt_mode(&v, mode, sizeof mode), v.calls, rate,
                fmt_rates(v.mismatches, v.compared, v.mismatches - p.mismatches,
                          v.compared - p.compared, ps != NULL, mm, sizeof mm),
                fmt_rates(rerr, v.calls_impl[1], rerr - prerr, v.calls_impl[1] - p.calls_impl[1],
                          ps != NULL, re, sizeof re),
                fmt_rates(cerr, v.calls_impl[0], cerr - pcerr, v.calls_impl[0] - p.calls_impl[0],
                          ps != NULL, ce, sizeof ce),
                v.fallbacks, v.breaker, lc, lr);
    }
}

/* Stateful seams (graft/stateful.h): what the two stores hold, the backfill as a bar, the
 * last verify and the write comparison, one block under the table per such seam. */
static void print_stateful(FILE *f, const cJSON *root)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, seams_of(root))
    {
        const cJSON *sf = cJSON_GetObjectItemCaseSensitive(s, "stateful");
        if (!cJSON_IsObject(sf)) {
            continue;
        }
        double done = jnum(sf, "backfill.done"), total = jnum(sf, "backfill.total");
        double frac = total > 0 ? done / total : 0;
        if (frac > 1) {
            frac = 1;
        }
        int running = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(sf, "backfill"), "running"));
        int complete = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(sf, "backfill"), "complete"));
        if (complete) {
            frac = 1;
        }
        char bar[32];
        int filled = (int)(frac * 24 + 0.5);
        for (int i = 0; i < 24; i++) {
            bar[i] = i < filled ? '#' : '.';
        }
        bar[24] = '\0';
        const char *dir = jstr(sf, "backfill.direction", "?");
        fprintf(f, "\n%s  stage %s, writes to %s\n", jstr(s, "name", "?"), jstr(sf, "stage", "?"),
                jstr(sf, "writes_to", "?"));
        fprintf(
            f, "  backfill  [%s] %3.0f%%  %.0f/%.0f keys  %s  (%s)\n", bar, frac * 100, done, total,
            strcmp(dir, "candidate-to-legacy") == 0 ? "candidate -> legacy" : "legacy -> candidate",
            running ? "running" : (complete ? "complete" : "idle"));
        const char *pending = jstr(sf, "pending_stage", NULL);
        if (pending != NULL) {
            fprintf(f, "  pending   moves to %s when the backfill is done\n", pending);
        }
        fprintf(f,
                "  verify    %s: %.0f/%.0f shards equal, %.0f divergent, %.0f evictions "
                "reconciled\n",
                jstr(sf, "verify.state", "?"), jnum(sf, "verify.shards_equal"),
                jnum(sf, "verify.shards"), jnum(sf, "verify.divergent"),
                jnum(sf, "verify.evictions_reconciled"));
        fprintf(f,
                "  writes    %.0f (%.0f to both), %.0f mismatches, %.0f candidate failures, "
                "%.0f repaired\n",
                jnum(sf, "writes.total"), jnum(sf, "writes.both"), jnum(sf, "writes.mismatches"),
                jnum(sf, "writes.candidate_failures"), jnum(sf, "writes.repairs"));
        fprintf(f, "  memory    legacy %.1f MiB (%.0f items), candidate %.1f MiB (%.0f items)\n",
                jnum(sf, "memory.legacy_bytes") / 1048576.0, jnum(sf, "memory.legacy_items"),
                jnum(sf, "memory.candidate_bytes") / 1048576.0, jnum(sf, "memory.candidate_items"));
        const char *refusal = jstr(sf, "last_refusal", NULL);
        if (refusal != NULL) {
            fprintf(f, "  refused   %s\n", refusal);
        }
    }
}

/* Configuration entries that name no registered seam ("unmatched_config" of the
 * snapshot): a typo in GRAFT_SEAMS or GRAFT_CONFIG applies to nothing, and says so. */
static void print_unmatched(FILE *f, const cJSON *root)
{
    const cJSON *um = cJSON_GetObjectItemCaseSensitive(root, "unmatched_config");
    if (!cJSON_IsArray(um) || cJSON_GetArraySize(um) == 0) {
        return;
    }
    const cJSON *ready = cJSON_GetObjectItemCaseSensitive(root, "ready");
    fprintf(f, "\nconfiguration that applies to nothing (no registered seam of that name)%s:\n",
            cJSON_IsTrue(ready) ? ""
                                : " [the host has not called graft_runtime_ready: these seams "
                                  "may still register]");
    const cJSON *e;
    cJSON_ArrayForEach(e, um)
    {
        const char *closest = jstr(e, "closest", NULL);
        fprintf(f, "  %s%s%s%s\n", jstr(e, "name", "?"), closest ? " (did you mean " : "",
                closest ? closest : "", closest ? "?)" : "");
    }
}

/* ------------------------------------------------------------------ report --from */

/* One runtime's last line: a process appends a line per graft_runtime_report and one at
 * free or exit, each cumulative, so only the one with the highest seq counts. */
typedef struct report_run {
    double pid, start_ms, seq;
    cJSON *line;
} report_run;

typedef struct report_runs {
    report_run *v;
    size_t n, cap;
    size_t lines, skipped;
} report_runs;

static int report_keep(report_runs *r, cJSON *line)
{
    double pid = jnum(line, "pid"), start = jnum(line, "start_unix_ms"), seq = jnum(line, "seq");
    for (size_t i = 0; i < r->n; i++) {
        if (r->v[i].pid == pid && r->v[i].start_ms == start) {
            if (seq > r->v[i].seq) {
                cJSON_Delete(r->v[i].line);
                r->v[i].line = line;
                r->v[i].seq = seq;
            } else {
                cJSON_Delete(line);
            }
            return 1;
        }
    }
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 16;
        report_run *nv = realloc(r->v, ncap * sizeof *nv);
        if (nv == NULL) {
            cJSON_Delete(line);
            return 0;
        }
        r->v = nv;
        r->cap = ncap;
    }
    r->v[r->n++] = (report_run){pid, start, seq, line};
    return 1;
}

/* Reads one GRAFT_REPORT file; lines that are not report lines (a line cut short by a
 * process killed while writing, another program's output) are skipped and counted. */
static int report_read(report_runs *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "graftctl: cannot read %s: %s\n", path, strerror(errno));
        return 0;
    }
    char *text = NULL;
    size_t cap = 0;
    ssize_t n;
    size_t lineno = 0;
    int ok = 1;
    while ((n = getline(&text, &cap, f)) >= 0) {
        lineno++;
        if (n == 0 || (n == 1 && text[0] == '\n')) {
            continue;
        }
        cJSON *line = cJSON_Parse(text);
        if (line == NULL || jnum(line, "graft_report") != 1 ||
            !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(line, "metrics"))) {
            fprintf(stderr, "graftctl: %s:%zu: not a report line, skipped\n", path, lineno);
            cJSON_Delete(line);
            r->skipped++;
            continue;
        }
        r->lines++;
        if (!report_keep(r, line)) {
            ok = 0;
            break;
        }
    }
    free(text);
    fclose(f);
    return ok;
}

/* A merged latency histogram: the runtime's buckets are the same in every process, so
 * buckets with the same upper bound add up. */
typedef struct report_hist {
    double upper[512], count[512];
    size_t n;
    double total;
} report_hist;

static void hist_add(report_hist *h, const cJSON *pairs)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, pairs)
    {
        const cJSON *u = cJSON_GetArrayItem(p, 0), *c = cJSON_GetArrayItem(p, 1);
        if (!cJSON_IsNumber(u) || !cJSON_IsNumber(c)) {
            continue;
        }
        size_t i = 0;
        while (i < h->n && h->upper[i] != u->valuedouble) {
            i++;
        }
        if (i == h->n) {
            if (h->n == sizeof h->upper / sizeof h->upper[0]) {
                continue;
            }
            h->upper[h->n] = u->valuedouble;
            h->count[h->n++] = 0;
        }
        h->count[i] += c->valuedouble;
        h->total += c->valuedouble;
    }
}

/* The upper bound of the bucket holding the q-quantile (0 when empty), as the runtime
 * computes its own percentiles. */
static double hist_quantile(const report_hist *h, double q)
{
    double best = 0, acc = 0;
    int done[512] = {0};
    for (size_t k = 0; k < h->n; k++) {
        size_t m = h->n;
        for (size_t i = 0; i < h->n; i++) {
            if (!done[i] && (m == h->n || h->upper[i] < h->upper[m])) {
                m = i;
            }
        }
        done[m] = 1;
        acc += h->count[m];
        best = h->upper[m];
        if (acc >= q * h->total) {
            return best;
        }
    }
    return best;
}

/* Sums of one seam over the processes. */
typedef struct report_sum {
    const char *name;
    double processes, calls, by_mode[GRAFT_MODE_COUNT], served[2], compared, mismatches;
    double fallbacks, runs[2], errors[2], panics[2], failure_outputs, opens, faults;
    double worst_p99[2], max_ns[2];
    report_hist hist[2]; /* merged "latency_hist" of the lines that carry one */
} report_sum;

static report_sum *report_sum_of(report_sum **v, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*v)[i].name, name) == 0) {
            return &(*v)[i];
        }
    }
    report_sum *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (nv == NULL) {
        return NULL;
    }
    *v = nv;
    memset(&nv[*n], 0, sizeof nv[*n]);
    nv[*n].name = name;
    return &nv[(*n)++];
}

static int cmd_report_files(int argc, char **argv, int json)
{
    report_runs r;
    memset(&r, 0, sizeof r);
    int ok = 1;
    for (int i = 0; i < argc && ok; i++) {
        ok = report_read(&r, argv[i]);
    }
    report_sum *sums = NULL;
    size_t ns = 0;
    size_t finals = 0;
    for (size_t k = 0; k < r.n && ok; k++) {
        finals += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r.v[k].line, "final"));
        const cJSON *s;
        cJSON_ArrayForEach(s, seams_of(cJSON_GetObjectItemCaseSensitive(r.v[k].line, "metrics")))
        {
            seam_view v;
            view_of(s, &v);
            report_sum *t = report_sum_of(&sums, &ns, v.name);
            if (t == NULL) {
                ok = 0;
                break;
            }
            t->processes++;
            t->calls += v.calls;
            for (int m = 0; m < GRAFT_MODE_COUNT; m++) {
                char path[64];
                snprintf(path, sizeof path, "counters.calls_by_mode.%s", graft_mode_name(m));
                t->by_mode[m] += jnum(s, path);
            }
            t->compared += v.compared;
            t->mismatches += v.mismatches;
            t->fallbacks += v.fallbacks;
            t->failure_outputs += jnum(s, "counters.failure_outputs");
            t->opens += v.opens;
            t->faults += v.faults;
            for (int im = 0; im < 2; im++) {
                t->served[im] += v.served[im];
                t->runs[im] += v.calls_impl[im];
                t->errors[im] += v.errors[im];
                t->panics[im] += v.panics[im];
                t->worst_p99[im] = fmax(t->worst_p99[im], v.p99[im]);
                t->max_ns[im] = fmax(t->max_ns[im], v.maxl[im]);
                const cJSON *lh = cJSON_GetObjectItemCaseSensitive(s, "latency_hist");
                const cJSON *pairs =
                    cJSON_GetObjectItemCaseSensitive(lh, im ? "candidate" : "legacy");
                if (cJSON_IsArray(pairs)) {
                    hist_add(&t->hist[im], pairs);
                }
            }
        }
    }
    if (ok && json) {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddNumberToObject(out, "files", argc);
        cJSON_AddNumberToObject(out, "lines", (double)r.lines);
        cJSON_AddNumberToObject(out, "skipped", (double)r.skipped);
        cJSON_AddNumberToObject(out, "processes", (double)r.n);
        cJSON_AddNumberToObject(out, "final", (double)finals);
        cJSON *arr = cJSON_AddArrayToObject(out, "seams");
        for (size_t i = 0; i < ns; i++) {
            const report_sum *t = &sums[i];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", t->name);
            cJSON_AddNumberToObject(o, "processes", t->processes);
            cJSON_AddNumberToObject(o, "calls", t->calls);
            cJSON *bm = cJSON_AddObjectToObject(o, "calls_by_mode");
            for (int m = 0; m < GRAFT_MODE_COUNT; m++) {
                cJSON_AddNumberToObject(bm, graft_mode_name(m), t->by_mode[m]);
            }
            cJSON_AddNumberToObject(o, "served_legacy", t->served[0]);
            cJSON_AddNumberToObject(o, "served_candidate", t->served[1]);
            cJSON_AddNumberToObject(o, "compared", t->compared);
            cJSON_AddNumberToObject(o, "mismatches", t->mismatches);
            cJSON_AddNumberToObject(o, "fallbacks", t->fallbacks);
            cJSON_AddNumberToObject(o, "failure_outputs", t->failure_outputs);
            cJSON_AddNumberToObject(o, "legacy_errors", t->errors[0] + t->panics[0]);
            cJSON_AddNumberToObject(o, "candidate_errors", t->errors[1] + t->panics[1]);
            cJSON_AddNumberToObject(o, "candidate_panics", t->panics[1]);
            cJSON_AddNumberToObject(o, "faults_injected", t->faults);
            cJSON_AddNumberToObject(o, "breaker_opens", t->opens);
            cJSON_AddNumberToObject(o, "legacy_worst_p99_ns", t->worst_p99[0]);
            cJSON_AddNumberToObject(o, "candidate_worst_p99_ns", t->worst_p99[1]);
            cJSON_AddNumberToObject(o, "legacy_max_ns", t->max_ns[0]);
            cJSON_AddNumberToObject(o, "candidate_max_ns", t->max_ns[1]);
            /* Percentiles of the merged histograms: every timed call of every process. */
            for (int im = 0; im < 2; im++) {
                char key[40];
                const char *in = im ? "candidate" : "legacy";
                snprintf(key, sizeof key, "%s_timed", in);
                cJSON_AddNumberToObject(o, key, t->hist[im].total);
                snprintf(key, sizeof key, "%s_p50_ns", in);
                cJSON_AddNumberToObject(o, key, hist_quantile(&t->hist[im], 0.50));
                snprintf(key, sizeof key, "%s_p99_ns", in);
                cJSON_AddNumberToObject(o, key, hist_quantile(&t->hist[im], 0.99));
            }
            cJSON_AddItemToArray(arr, o);
        }
        char *t = cJSON_Print(out);
        if (t != NULL) {
            puts(t);
        }
        cJSON_free(t);
        cJSON_Delete(out);
    } else if (ok) {
        printf("graft report from %d file%s: %zu process%s (%zu final, %zu not: killed, or "
               "still running), %zu line%s skipped\n",
               argc, argc == 1 ? "" : "s", r.n, r.n == 1 ? "" : "es", finals, r.n - finals,
               r.skipped, r.skipped == 1 ? "" : "s");
        for (size_t i = 0; i < ns; i++) {
            const report_sum *t = &sums[i];
            char r1[16], r2[16], a[16], b[16], d[16], e[16];
            printf("\nseam %s (%.0f processes)\n", t->name, t->processes);
            printf("  calls           %.0f:", t->calls);
            for (int m = 0; m < GRAFT_MODE_COUNT; m++) {
                printf("%s %s %.0f", m ? "," : "", graft_mode_name(m), t->by_mode[m]);
            }
            printf("\n  served          by C %.0f, by Rust %.0f\n", t->served[0], t->served[1]);
            printf("  mismatches      %.0f of %.0f compared (%s)\n", t->mismatches, t->compared,
                   fmt_rate(t->mismatches, t->compared, r1, sizeof r1));
            printf("  errors          C %.0f, Rust %.0f (%.0f panics; %s of Rust calls)\n",
                   t->errors[0] + t->panics[0], t->errors[1] + t->panics[1], t->panics[1],
                   fmt_rate(t->errors[1] + t->panics[1], t->runs[1], r2, sizeof r2));
            printf("  fallbacks       %.0f (Rust failed, C answered); failure outputs %.0f\n",
                   t->fallbacks, t->failure_outputs);
            printf("  breaker opened  %.0f times; faults injected %.0f\n", t->opens, t->faults);
            printf("  latency p50/p99 C %s / %s, Rust %s / %s (merged histograms, %.0f and %.0f "
                   "timed calls)\n",
                   fmt_ns(hist_quantile(&t->hist[0], 0.50), a, sizeof a),
                   fmt_ns(hist_quantile(&t->hist[0], 0.99), b, sizeof b),
                   fmt_ns(hist_quantile(&t->hist[1], 0.50), d, sizeof d),
                   fmt_ns(hist_quantile(&t->hist[1], 0.99), e, sizeof e), t->hist[0].total,
                   t->hist[1].total);
            printf("  latency         worst p99 / max of any process: C %s / %s, Rust %s / %s\n",
                   fmt_ns(t->worst_p99[0], a, sizeof a), fmt_ns(t->max_ns[0], b, sizeof b),
                   fmt_ns(t->worst_p99[1], d, sizeof d), fmt_ns(t->max_ns[1], e, sizeof e));
        }
    }
    free(sums);
    for (size_t k = 0; k < r.n; k++) {
        cJSON_Delete(r.v[k].line);
    }
    free(r.v);
    return ok ? 0 : 1;
}

/* ------------------------------------------------------------------ commands */

static double now_s(void);
static void nap(double s);
static int parse_number(const char *s, double *out);
static int parse_percent(const char *s, double *out);

static int cmd_status(const ctl *c, int argc, char **argv)
{
    int json = 0;
    double window = 1.0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) {
            if (!parse_number(argv[++i], &window) || window < 0 || window > 3600)
                die_usage("-w wants seconds from 0 to 3600");
        } else {
            die_usage("usage: status [-w SECONDS] [--json]");
        }
    }
    cJSON *first = NULL;
    double t0 = 0;
    if (!json && window > 0) {
        /* Two snapshots `window` apart: the recent rates are their difference. */
        first = call_json(c, "GET", "/api/seams", NULL);
        if (first == NULL)
            return 1;
        t0 = now_s();
        nap(window);
    }
    cJSON *root = call_json(c, "GET", "/api/seams", NULL);
    if (root == NULL) {
        cJSON_Delete(first);
        return 1;
    }
    if (json) {
        char *t = cJSON_Print(root);
        if (t != NULL)
            puts(t);
        cJSON_free(t);
    } else {
        print_table(stdout, root, first, first != NULL ? now_s() - t0 : 0);
        print_stateful(stdout, root);
        print_unmatched(stdout, root);
    }
    cJSON_Delete(first);
    cJSON_Delete(root);
    return 0;
}

/* Seam names go into the URL path: keep them to the characters seams use. */
static const char *checked_seam(const char *name)
{
    if (name[0] == '\0' || strlen(name) > 200)
        die_usage("bad seam name '%s'", name);
    for (const char *p = name; *p; p++) {
        char ch = *p;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '.' || ch == '_' || ch == '-' || ch == ':';
        if (!ok)
            die_usage("bad seam name '%s' (letters, digits, '.', '_', '-', ':')", name);
    }
    return name;
}

static int parse_number(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

/* A percentage as libgraft reads one (graft_percent_parse: 0-100, two decimals at most,
 * optional '%'), as the number the endpoint takes. */
static int parse_percent(const char *s, double *out)
{
    uint32_t bp;
    if (graft_percent_parse(s, &bp) != GRAFT_OK)
        return 0;
    *out = (double)bp / 100.0;
    return 1;
}

static int print_seam_change(cJSON *seam, const char *what)
{
    if (seam == NULL)
        return 1;
    seam_view v;
    view_of(seam, &v);
    char mode[32];
    printf("%s: %s (mode %s, breaker %s)\n", v.name, what, fmt_mode(&v, mode, sizeof mode),
           v.breaker);
    cJSON_Delete(seam);
    return 0;
}

static int cmd_set(const ctl *c, int argc, char **argv)
{
    if (argc < 2 || argc > 3)
        die_usage("usage: set SEAM MODE [PERCENT]");
    const char *name = checked_seam(argv[0]);
    graft_mode mode;
    if (graft_mode_parse(argv[1], &mode) != GRAFT_OK)
        die_usage("unknown mode '%s' (MODE:%s)", argv[1], GRAFTCTL_MODE_NAMES);
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "mode", argv[1]);
    if (argc == 3) {
        double p;
        if (!parse_percent(argv[2], &p))
            die_usage("percent is 0 to 100 with at most two decimals, not '%s'", argv[2]);
        cJSON_AddNumberToObject(body, "percent", p);
    }
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    char path[300];
    snprintf(path, sizeof path, "/api/seams/%s", name);
    int rc = print_seam_change(call_json(c, "PUT", path, text), "changed");
    cJSON_free(text);
    return rc;
}

static int cmd_reset(const ctl *c, int argc, char **argv)
{
    if (argc != 1)
        die_usage("usage: reset SEAM");
    char path[300];
    snprintf(path, sizeof path, "/api/seams/%s/breaker/reset", checked_seam(argv[0]));
    return print_seam_change(call_json(c, "POST", path, NULL), "breaker reset");
}

static double num_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

static const char *str_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "-";
}

/* Prints the "plan" object of a seam's JSON (docs/RUNTIME.md). */
static int print_plan(cJSON *seam)
{
    if (seam == NULL) {
        return 1;
    }
    const cJSON *pl = cJSON_GetObjectItemCaseSensitive(seam, "plan");
    const char *name = str_of(seam, "name");
    if (!cJSON_IsObject(pl)) {
        printf("%s: no rollout plan\n", name);
        cJSON_Delete(seam);
        return 0;
    }
    int stage = (int)num_of(pl, "stage");
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(pl, "stages");
    printf("%s: plan %s, stage %d of %d:", name, str_of(pl, "state"), stage,
           cJSON_GetArraySize(stages));
    int i = 0;
    const cJSON *st;
    cJSON_ArrayForEach(st, stages)
    {
        const char *m = str_of(st, "mode");
        if (strcmp(m, "canary") == 0) {
            printf(" %s%s:%g%s", i == stage ? "[" : "", m, num_of(st, "percent"),
                   i == stage ? "]" : "");
        } else {
            printf(" %s%s%s", i == stage ? "[" : "", m, i == stage ? "]" : "");
        }
        i++;
    }
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(pl, "evidence");
    const cJSON *need = cJSON_GetObjectItemCaseSensitive(pl, "needed");
    printf("\n  evidence: compared %.0f/%.0f  candidate calls %.0f/%.0f  time %.1f/%.1f s\n",
           num_of(ev, "compared"), num_of(need, "compared"), num_of(ev, "served"),
           num_of(need, "served"), num_of(ev, "stage_seconds"), num_of(need, "stage_seconds"));
    printf("  mismatches %.0f, candidate failures %.0f, paired latencies %.0f slower / %.0f "
           "faster / %.0f tied\n",
           num_of(ev, "mismatches"), num_of(ev, "candidate_failures"), num_of(ev, "pairs_slower"),
           num_of(ev, "pairs_faster"), num_of(ev, "pairs_tied"));
    const cJSON *gates = cJSON_GetObjectItemCaseSensitive(pl, "gates");
    static const char *const gn[] = {"mismatch", "errors", "latency"};
    printf("  gates:");
    for (size_t k = 0; k < 3; k++) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(gates, gn[k]);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(g, "verdict");
        printf(" %s=%s(%.4g vs %.4g)", gn[k], cJSON_IsString(v) ? v->valuestring : "n/a",
               num_of(g, "value"), num_of(g, "limit"));
    }
    printf("\n  last decision: %s: %s (%.0f evaluations, %.0f advances, %.0f rollbacks)\n",
           str_of(pl, "last_decision"), str_of(pl, "reason"), num_of(pl, "evaluations"),
           num_of(pl, "advances"), num_of(pl, "rollbacks"));
    cJSON_Delete(seam);
    return 0;
}

static int cmd_plan(const ctl *c, int argc, char **argv)
{
    if (argc < 1 || argc > 2) {
        die_usage("usage: plan SEAM [pause|resume|advance|abort]");
    }
    char path[256];
    const char *seam = checked_seam(argv[0]);
    if (argc == 1) {
        snprintf(path, sizeof path, "/api/seams/%s", seam);
        return print_plan(call_json(c, "GET", path, NULL));
    }
    graft_plan_action a;
    if (graft_plan_action_parse(argv[1], &a) != GRAFT_OK) {
        die_usage("unknown plan action '%s' (pause, resume, advance, abort)", argv[1]);
    }
    snprintf(path, sizeof path, "/api/seams/%s/plan/%s", seam, argv[1]);
    return print_plan(call_json(c, "POST", path, NULL));
}

static int cmd_fault(const ctl *c, int argc, char **argv)
{
    if (argc < 2)
        die_usage("usage: fault SEAM off | error=P panic=P delay=P delay_ms=MS");
    char path[300];
    snprintf(path, sizeof path, "/api/seams/%s/fault", checked_seam(argv[0]));
    if (argc == 2 && strcmp(argv[1], "off") == 0)
        return print_seam_change(call_json(c, "DELETE", path, NULL), "faults cleared");
    cJSON *body = cJSON_CreateObject();
    for (int i = 1; i < argc; i++) {
        static const char *keys[][2] = {{"error", "error_percent"},
                                        {"panic", "panic_percent"},
                                        {"delay", "delay_percent"},
                                        {"delay_ms", "delay_ms"}};
        const char *eq = strchr(argv[i], '=');
        if (eq == NULL)
            die_usage("fault settings are KEY=NUMBER, not '%s'", argv[i]);
        size_t klen = (size_t)(eq - argv[i]);
        const char *field = NULL;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (strlen(keys[k][0]) == klen && strncmp(argv[i], keys[k][0], klen) == 0)
                field = keys[k][1];
        if (field == NULL)
            die_usage("unknown fault setting '%s' (error, panic, delay, delay_ms)", argv[i]);
        double v;
        if (strcmp(field, "delay_ms") == 0) {
            if (!parse_number(eq + 1, &v))
                die_usage("delay_ms is a number of milliseconds, not '%s'", argv[i]);
        } else if (!parse_percent(eq + 1, &v)) {
            die_usage("fault percentages are 0 to 100 with at most two decimals, not '%s'",
                      argv[i]);
        }
        cJSON_AddNumberToObject(body, field, v);
    }
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    int rc = print_seam_change(call_json(c, "PUT", path, text), "faults set");
    cJSON_free(text);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps up to `s` seconds, returning early on Ctrl-C. */
static void nap(double s)
{
    double end = now_s() + s;
    while (!g_stop) {
        double left = end - now_s();
        if (left <= 0)
            break;
        double step = left < 0.1 ? left : 0.1;
        struct timespec ts = {(time_t)step, (long)((step - (double)(time_t)step) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

static int cmd_watch(const ctl *c, int argc, char **argv)
{
    double interval = 1.0;
    long count = -1;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-i") == 0 && i + 1 < argc) {
            if (!parse_number(argv[++i], &interval) || interval < 0.1 || interval > 3600)
                die_usage("-i wants seconds between 0.1 and 3600");
        } else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            char *end = NULL;
            count = strtol(argv[++i], &end, 10);
            if (*end != '\0' || count < 1)
                die_usage("-n wants a positive count");
        } else {
            die_usage("usage: watch [-i SECONDS] [-n COUNT]");
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int tty = isatty(STDOUT_FILENO);
    cJSON *prev = NULL;
    double prev_t = 0;
    int rc = 0;
    for (long n = 0; !g_stop && (count < 0 || n < count); n++) {
        if (n > 0)
            nap(interval);
        if (g_stop)
            break;
        cJSON *root = call_json(c, "GET", "/api/seams", NULL);
        double t = now_s();
        if (root == NULL) {
            rc = 1;
            break;
        }
        if (tty)
            fputs("\033[H\033[2J", stdout);
        time_t wall = time(NULL);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%H:%M:%S", localtime(&wall));
        printf("graftctl watch %s  every %gs  (Ctrl-C to stop)\n", stamp, interval);
        print_table(stdout, root, prev, prev ? t - prev_t : 0);
        print_stateful(stdout, root);
        fflush(stdout);
        cJSON_Delete(prev);
        prev = root;
        prev_t = t;
    }
    cJSON_Delete(prev);
    return rc;
}

static int cmd_report(const ctl *c, int argc, char **argv)
{
    int json = argc > 0 && strcmp(argv[0], "--json") == 0;
    if (argc > (json ? 1 : 0))
        die_usage("report takes only --json");
    cJSON *root = call_json(c, "GET", "/api/seams", NULL);
    if (root == NULL)
        return 1;
    const cJSON *s;
    if (json) {
        cJSON *out = cJSON_CreateArray();
        cJSON_ArrayForEach(s, seams_of(root))
        {
            seam_view v;
            view_of(s, &v);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "seam", v.name);
            cJSON_AddStringToObject(o, "mode", v.mode);
            cJSON_AddNumberToObject(o, "percent", v.percent);
            cJSON_AddNumberToObject(o, "calls", v.calls);
            cJSON_AddNumberToObject(o, "compared", v.compared);
            cJSON_AddNumberToObject(o, "mismatches", v.mismatches);
            cJSON_AddNumberToObject(o, "legacy_errors", v.errors[0] + v.panics[0]);
            cJSON_AddNumberToObject(o, "candidate_errors", v.errors[1] + v.panics[1]);
            cJSON_AddNumberToObject(o, "candidate_panics", v.panics[1]);
            cJSON_AddNumberToObject(o, "fallbacks", v.fallbacks);
            cJSON_AddNumberToObject(o, "served_legacy", v.served[0]);
            cJSON_AddNumberToObject(o, "served_candidate", v.served[1]);
            cJSON_AddNumberToObject(o, "faults_injected", v.faults);
            cJSON_AddStringToObject(o, "breaker", v.breaker);
            cJSON_AddNumberToObject(o, "breaker_opens", v.opens);
            cJSON_AddNumberToObject(o, "breaker_transitions", v.transitions);
            cJSON_AddNumberToObject(o, "breaker_rejected", v.rejected);
            cJSON_AddNumberToObject(o, "legacy_p50_ns", v.p50[0]);
            cJSON_AddNumberToObject(o, "legacy_p99_ns", v.p99[0]);
            cJSON_AddNumberToObject(o, "candidate_p50_ns", v.p50[1]);
            cJSON_AddNumberToObject(o, "candidate_p99_ns", v.p99[1]);
            cJSON_AddItemToArray(out, o);
        }
        char *t = cJSON_Print(out);
        if (t != NULL)
            puts(t);
        cJSON_free(t);
        cJSON_Delete(out);
        cJSON_Delete(root);
        return 0;
    }
    time_t wall = time(NULL);
    char stamp[40];
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S UTC", gmtime(&wall));
    printf("graft migration report  %s  %s\n", c->url, stamp);
    cJSON_ArrayForEach(s, seams_of(root))
    {
        seam_view v;
        view_of(s, &v);
        char mode[32], r1[16], r2[16], a[16], b[16], d[16], e[16];
        printf("\nseam %s\n", v.name);
        printf("  mode            %s, breaker %s\n", fmt_mode(&v, mode, sizeof mode), v.breaker);
        printf("  calls           %.0f (served by C %.0f, by Rust %.0f)\n", v.calls, v.served[0],
               v.served[1]);
        printf("  mismatches      %.0f of %.0f compared (%s)\n", v.mismatches, v.compared,
               fmt_rate(v.mismatches, v.compared, r1, sizeof r1));
        printf("  errors          C %.0f, Rust %.0f (%.0f panics; %s of Rust calls)\n",
               v.errors[0] + v.panics[0], v.errors[1] + v.panics[1], v.panics[1],
               fmt_rate(v.errors[1] + v.panics[1], v.calls_impl[1], r2, sizeof r2));
        printf("  fallbacks       %.0f (Rust failed, C answered)\n", v.fallbacks);
        printf("  faults injected %.0f\n", v.faults);
        printf("  breaker events  %.0f opened, %.0f transitions, %.0f calls kept on C\n", v.opens,
               v.transitions, v.rejected);
        printf("  latency p50/p99 C %s / %s   Rust %s / %s\n", fmt_ns(v.p50[0], a, sizeof a),
               fmt_ns(v.p99[0], b, sizeof b), fmt_ns(v.p50[1], d, sizeof d),
               fmt_ns(v.p99[1], e, sizeof e));
    }
    cJSON_Delete(root);
    return 0;
}

/* The file an endpoint started without a token writes it to; the same rule as
 * src/admin.c's graft__admin_token_path (minus creating the directory). */
static int token_path(unsigned port, char *out, size_t cap)
{
    const char *given = getenv("GRAFT_ADMIN_TOKEN_FILE");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    if (given != NULL && given[0] != '\0')
        n = snprintf(out, cap, "%s", given);
    else if (xdg != NULL && xdg[0] == '/')
        n = snprintf(out, cap, "%s/graft/admin-%u.token", xdg, port);
    else
        n = snprintf(out, cap, "/tmp/graft-%u/admin-%u.token", (unsigned)geteuid(), port);
    return n >= 0 && (size_t)n < cap;
}

/* Reads a token file (one line). Returns 1 with the token in out, 0 when the file does
 * not exist, -1 (message printed) when it cannot be read or holds no token. */
static int read_token(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT)
            return 0;
        fprintf(stderr, "graftctl: cannot read the token file %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t n = fread(out, 1, cap - 1, f);
    int big = !feof(f);
    fclose(f);
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    int ok = n > 0 && !big && strlen(out) == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = out[i] > ' ' && out[i] < 0x7f;
    if (!ok) {
        fprintf(stderr, "graftctl: %s does not hold a token (one line of printable ASCII)\n", path);
        return -1;
    }
    return 1;
}

/* The port of "http://host:port" (80 or 443 when none is given). */
static unsigned url_port(const char *url)
{
    const char *p = strstr(url, "://");
    int https = p != NULL && p - url == 5 && strncmp(url, "https", 5) == 0;
    p = p != NULL ? p + 3 : url;
    const char *end = p + strcspn(p, "/?#");
    const char *close = memchr(p, ']', (size_t)(end - p));
    const char *colon = NULL;
    for (const char *q = close != NULL ? close : p; q < end; q++)
        if (*q == ':')
            colon = q;
    if (colon == NULL)
        return https ? 443u : 80u;
    return (unsigned)strtoul(colon + 1, NULL, 10);
}

static int cmd_dashboard(const ctl *c, int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        die_usage("dashboard takes no arguments");
    if (c->token == NULL || c->token[0] == '\0') {
        fprintf(stderr, "graftctl: no token known for %s (see --help)\n", c->url);
        return 1;
    }
    /* After '#': the browser never sends it, so the token stays out of request lines and
     * logs; the page moves it to its session storage and drops it from the address. */
    printf("%s/#token=%s\n", c->url, c->token);
    return 0;
}

int main(int argc, char **argv)
{
    ctl c;
    memset(&c, 0, sizeof c);
    c.timeout_s = 10;
    const char *url = getenv("GRAFT_ADMIN");
    c.token = getenv("GRAFT_ADMIN_TOKEN");
    const char *token_file = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--url") == 0 && i + 1 < argc) {
            url = argv[++i];
        } else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc) {
            c.token = argv[++i];
        } else if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc) {
            token_file = argv[++i];
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            char *end = NULL;
            c.timeout_s = strtol(argv[++i], &end, 10);
            if (*end != '\0' || c.timeout_s < 1 || c.timeout_s > 3600)
                die_usage("--timeout wants seconds from 1 to 3600");
        } else {
            die_usage("unknown option '%s'", argv[i]);
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    /* report --from reads files: no endpoint, no token. */
    if (strcmp(argv[i], "report") == 0) {
        int json = 0;
        for (int k = i + 1; k < argc; k++) {
            if (strcmp(argv[k], "--json") == 0) {
                json = 1;
            } else if (strcmp(argv[k], "--from") == 0) {
                int files = argc - k - 1;
                if (files < 1 || (json && k != i + 2) || (!json && k != i + 1)) {
                    die_usage("usage: report [--json] --from FILE...");
                }
                return cmd_report_files(files, argv + k + 1, json);
            }
        }
    }
    if (url == NULL || url[0] == '\0')
        die_usage("no endpoint: pass --url or set GRAFT_ADMIN");
    const char *scheme = strstr(url, "://") ? "" : "http://";
    size_t n = (size_t)snprintf(c.url, sizeof c.url, "%s%s", scheme, url);
    if (n >= sizeof c.url)
        die_usage("URL too long");
    while (n > 0 && c.url[n - 1] == '/')
        c.url[--n] = '\0';
    if (token_file != NULL) {
        /* Asked for by name: it must be there. */
        if (read_token(token_file, c.token_buf, sizeof c.token_buf) != 1) {
            if (access(token_file, F_OK) != 0)
                fprintf(stderr, "graftctl: no token file %s\n", token_file);
            return 1;
        }
        c.token = c.token_buf;
    } else if ((c.token == NULL || c.token[0] == '\0') &&
               token_path(url_port(c.url), c.token_file, sizeof c.token_file)) {
        int r = read_token(c.token_file, c.token_buf, sizeof c.token_buf);
        if (r < 0)
            return 1;
        if (r > 0)
            c.token = c.token_buf;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "graftctl: cannot initialise libcurl\n");
        return 1;
    }
    const char *cmd = argv[i];
    int sub_argc = argc - i - 1;
    char **sub_argv = argv + i + 1;
    int rc;
    if (strcmp(cmd, "status") == 0)
        rc = cmd_status(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "set") == 0)
        rc = cmd_set(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "reset") == 0)
        rc = cmd_reset(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "fault") == 0)
        rc = cmd_fault(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "plan") == 0) {
        rc = cmd_plan(&c, sub_argc, sub_argv);
    } else if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0 ||
               strcmp(cmd, "advance") == 0 || strcmp(cmd, "abort") == 0) {
        if (sub_argc != 1) {
            die_usage("usage: %s SEAM", cmd);
        }
        char *pargv[2] = {sub_argv[0], (char *)cmd};
        rc = cmd_plan(&c, 2, pargv);
    } else if (strcmp(cmd, "watch") == 0)
        rc = cmd_watch(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "report") == 0)
        rc = cmd_report(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "dashboard") == 0)
        rc = cmd_dashboard(&c, sub_argc, sub_argv);
    else
        die_usage("unknown command '%s'", cmd);
    curl_global_cleanup();
    return rc;
}
