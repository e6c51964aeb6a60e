/*
 * test_admin_api.c: the admin endpoint's HTTP API, in process: a runtime with the fake
 * seams, the endpoint on a free loopback port with a token, and libcurl as the client.
 * Covers authentication, routing, validation (every refused change must leave the seam
 * as it was), body limits, the fault and breaker routes, and address checks.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "fake_seams.h"
#include "graft/admin.h"

#define TOKEN "s3cret-token"

typedef struct fixture {
    graft_runtime *rt;
    graft_seam *sum, *upper;
    graft_admin *admin;
    char base[64];
} fixture;

typedef struct reply {
    long status;
    char body[65536];
    size_t len;
    char headers[4096];
    size_t hlen;
} reply;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    size_t len = size * n;
    size_t room = sizeof r->body - 1 - r->len;
    size_t take = len < room ? len : room;
    memcpy(r->body + r->len, p, take);
    r->len += take;
    r->body[r->len] = '\0';
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    size_t len = size * n;
    size_t room = sizeof r->headers - 1 - r->hlen;
    size_t take = len < room ? len : room;
    memcpy(r->headers + r->hlen, p, take);
    r->hlen += take;
    r->headers[r->hlen] = '\0';
    return len;
}

/* Extra header lines for the next requests (NULL-terminated), and whether to leave out
 * the X-Graft-Admin header that requests carry by default (as graftctl's do). */
static const char *const *g_extra = NULL;
static int g_plain = 0;

/* One request. token: NULL sends no Authorization; auth_raw overrides the header. */
static void request(const fixture *f, const char *method, const char *path, const char *token,
                    const char *body, size_t body_len, int chunked, reply *r)
{
    memset(r, 0, sizeof *r);
    CURL *h = curl_easy_init();
    assert_non_null(h);
    char url[512], auth[256];
    snprintf(url, sizeof url, "%s%s", f->base, path);
    struct curl_slist *hdrs = NULL;
    if (token != NULL) {
        snprintf(auth, sizeof auth, "Authorization: %s", token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    if (chunked)
        hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (!g_plain)
        hdrs = curl_slist_append(hdrs, "X-Graft-Admin: test");
    for (size_t i = 0; g_extra != NULL && g_extra[i] != NULL; i++)
        hdrs = curl_slist_append(hdrs, g_extra[i]);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        if (!chunked)
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
}

static void req_json(const fixture *f, const char *method, const char *path, const char *body,
                     reply *r)
{
    request(f, method, path, "Bearer " TOKEN, body, body ? strlen(body) : 0, 0, r);
}

/* The body is {"error": "<non-empty>"} and the message contains `needle`. */
static void assert_error(const reply *r, long status, const char *needle)
{
    if (r->status != status)
        fail_msg("expected HTTP %ld, got %ld: %s", status, r->status, r->body);
    cJSON *j = cJSON_Parse(r->body);
    assert_non_null(j);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    assert_true(cJSON_IsString(e));
    assert_true(strlen(e->valuestring) > 0);
    if (needle != NULL && strstr(e->valuestring, needle) == NULL)
        fail_msg("error '%s' does not mention '%s'", e->valuestring, needle);
    assert_non_null(strstr(r->headers, "application/json"));
    cJSON_Delete(j);
}

static void assert_mode(graft_seam *s, graft_mode want, uint32_t want_bp)
{
    graft_mode m;
    uint32_t bp;
    assert_int_equal(graft_seam_get_mode(s, &m, &bp), GRAFT_OK);
    assert_int_equal(m, want);
    assert_int_equal(bp, want_bp);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.log_level = GRAFT_LOG_ERROR;
    assert_int_equal(graft_runtime_new(&o, &f->rt), GRAFT_OK);
    assert_int_equal(fake_seams_register(f->rt, &f->sum, &f->upper), GRAFT_OK);
    assert_int_equal(graft_seam_set_mode(f->sum, GRAFT_MODE_SHADOW, 0), GRAFT_OK);
    fake_seams_drive(f->sum, f->upper, 0, 2000);
    assert_int_equal(graft_admin_start(f->rt, "127.0.0.1:0", TOKEN, &f->admin), GRAFT_OK);
    assert_true(graft_admin_port(f->admin) > 0);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u", graft_admin_port(f->admin));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    graft_admin_stop(f->admin);
    graft_runtime_free(f->rt);
    free(f);
    return 0;
}

static void test_page_needs_no_token(void **state)
{
    fixture *f = *state;
    reply r;
    request(f, "GET", "/", NULL, NULL, 0, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "text/html"));
    assert_non_null(strstr(r.headers, "Content-Security-Policy: default-src 'none'"));
    assert_non_null(strstr(r.body, "<html"));
    assert_non_null(strstr(r.body, "/api/seams"));
    /* Self-contained: nothing is loaded from another origin. */
    assert_null(strstr(r.body, "src=\"http"));
    assert_null(strstr(r.body, "href=\"http"));
}

static void test_reads_need_the_token(void **state)
{
    fixture *f = *state;
    static const char *bad[] = {
        NULL,      "Bearer wrong-token!",    "Bearer s3cret-toke", "Bearer s3cret-token-and-more",
        "Bearer ", "Basic czNjcmV0LXRva2Vu", "s3cret-token"};
    static const char *paths[] = {"/api/seams", "/api/seams/demo.sum", "/metrics"};
    for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            reply r;
            request(f, "GET", paths[p], bad[i], NULL, 0, 0, &r);
            assert_error(&r, 401, "token");
            assert_non_null(strstr(r.headers, "WWW-Authenticate: Bearer"));
        }
    }
}

static void test_list_and_one(void **state)
{
    fixture *f = *state;
    reply r;
    req_json(f, "GET", "/api/seams", NULL, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    assert_non_null(j);
    const cJSON *seams = cJSON_IsArray(j) ? j : cJSON_GetObjectItemCaseSensitive(j, "seams");
    assert_true(cJSON_IsArray(seams));
    int found = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, seams)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
        assert_true(cJSON_IsString(name));
        found += strcmp(name->valuestring, "demo.sum") == 0 ||
                 strcmp(name->valuestring, "demo.upper") == 0;
    }
    assert_int_equal(found, 2);
    cJSON_Delete(j);

    req_json(f, "GET", "/api/seams/demo.sum", NULL, &r);
    assert_int_equal(r.status, 200);
    j = cJSON_Parse(r.body);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "name")->valuestring, "demo.sum");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "mode")->valuestring, "shadow");
    cJSON_Delete(j);

    request(f, "HEAD", "/api/seams", "Bearer " TOKEN, NULL, 0, 0, &r);
    assert_int_equal(r.status, 200);
}

static void test_unknown_things(void **state)
{
    fixture *f = *state;
    reply r;
    req_json(f, "GET", "/api/seams/no.such.seam", NULL, &r);
    assert_error(&r, 404, "no.such.seam");
    req_json(f, "PUT", "/api/seams/no.such.seam", "{\"mode\":\"legacy\"}", &r);
    assert_error(&r, 404, "unknown seam");
    req_json(f, "POST", "/api/seams/no.such.seam/breaker/reset", NULL, &r);
    assert_error(&r, 404, "unknown seam");
    req_json(f, "GET", "/nothing/here", NULL, &r);
    assert_error(&r, 404, NULL);
    req_json(f, "GET", "/api/seams/a/b", NULL, &r);
    assert_error(&r, 404, NULL);
    req_json(f, "DELETE", "/api/seams/demo.sum", NULL, &r);
    assert_error(&r, 405, "DELETE");
    assert_non_null(strstr(r.headers, "Allow: GET, HEAD, PUT"));
    req_json(f, "GET", "/api/seams/demo.sum/breaker/reset", NULL, &r);
    assert_error(&r, 405, NULL);
    req_json(f, "POST", "/metrics", "{}", &r);
    assert_error(&r, 405, NULL);
}

static void test_change_mode(void **state)
{
    fixture *f = *state;
    reply r;
    req_json(f, "PUT", "/api/seams/demo.sum", "{\"mode\":\"canary\",\"percent\":12.5}", &r);
    assert_int_equal(r.status, 200);
    assert_mode(f->sum, GRAFT_MODE_CANARY, 1250);
    cJSON *j = cJSON_Parse(r.body);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "mode")->valuestring, "canary");
    /* The stage history records the change, its cause the API (issue 16). */
    cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "history");
    assert_true(cJSON_IsArray(h) && cJSON_GetArraySize(h) >= 2);
    cJSON *first = cJSON_GetArrayItem(h, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "by")->valuestring, "start");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "mode")->valuestring, "legacy");
    cJSON *last = cJSON_GetArrayItem(h, cJSON_GetArraySize(h) - 1);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(last, "mode")->valuestring, "canary");
    assert_true(cJSON_GetObjectItemCaseSensitive(last, "percent")->valuedouble == 12.5);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(last, "by")->valuestring, "api");
    assert_true(cJSON_GetObjectItemCaseSensitive(last, "unix_ms")->valuedouble > 1.6e12);
    assert_true(cJSON_GetObjectItemCaseSensitive(j, "history_total")->valuedouble >=
                cJSON_GetArraySize(h));
    cJSON_Delete(j);
    /* Percent alone keeps the mode; two decimals are the resolution. */
    req_json(f, "PUT", "/api/seams/demo.sum", "{\"percent\":0.05}", &r);
    assert_int_equal(r.status, 200);
    assert_mode(f->sum, GRAFT_MODE_CANARY, 5);
    req_json(f, "PUT", "/api/seams/demo.sum", "{\"mode\":\"shadow\",\"percent\":0}", &r);
    assert_int_equal(r.status, 200);
    assert_mode(f->sum, GRAFT_MODE_SHADOW, 0);
}

static void test_invalid_changes_change_nothing(void **state)
{
    fixture *f = *state;
    assert_int_equal(graft_seam_set_mode(f->upper, GRAFT_MODE_CANARY, 2500), GRAFT_OK);
    static const struct {
        const char *body;
        const char *needle;
    } bad[] = {
        {"", "empty"},
        {"{\"mode\":", "JSON"},
        {"{\"mode\":\"canary\"} trailing", "JSON"},
        {"[\"canary\"]", "object"},
        {"\"canary\"", "object"},
        {"{}", "nothing to change"},
        {"{\"mode\":\"sideways\"}", "mode"},
        {"{\"mode\":3}", "mode"},
        {"{\"mode\":null}", "mode"},
        {"{\"mode\":\"canary\",\"percent\":-1}", "percent"},
        {"{\"mode\":\"canary\",\"percent\":100.5}", "percent"},
        {"{\"mode\":\"canary\",\"percent\":\"10\"}", "percent"},
        {"{\"mode\":\"canary\",\"percent\":12.345}", "decimals"},
        {"{\"mode\":\"canary\",\"percent\":1e400}", "percent"},
        {"{\"mode\":\"legacy\",\"colour\":\"red\"}", "colour"},
        {"{\"mode\":\"legacy\",\"percent\":10,\"percent\":\"x\"}", "percent"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        reply r;
        req_json(f, "PUT", "/api/seams/demo.upper", bad[i].body, &r);
        assert_error(&r, 400, bad[i].needle);
        assert_mode(f->upper, GRAFT_MODE_CANARY, 2500);
    }
    /* A NUL inside the body. */
    static const char nul[] = "{\"mode\":\"legacy\"}\0xx";
    reply r;
    request(f, "PUT", "/api/seams/demo.upper", "Bearer " TOKEN, nul, sizeof nul - 1, 0, &r);
    assert_error(&r, 400, "NUL");
    /* Right body, no or wrong token. */
    request(f, "PUT", "/api/seams/demo.upper", NULL, "{\"mode\":\"legacy\"}", 17, 0, &r);
    assert_error(&r, 401, "token");
    request(f, "PUT", "/api/seams/demo.upper", "Bearer nope", "{\"mode\":\"legacy\"}", 17, 0, &r);
    assert_error(&r, 401, "token");
    assert_mode(f->upper, GRAFT_MODE_CANARY, 2500);
}

static void test_oversize_bodies(void **state)
{
    fixture *f = *state;
    assert_int_equal(graft_seam_set_mode(f->upper, GRAFT_MODE_SHADOW, 0), GRAFT_OK);
    /* Valid JSON padded with whitespace past the limit: refused by size alone. */
    size_t n = 5000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, ' ', n);
    memcpy(big, "{\"mode\":\"legacy\"}", 17);
    big[n] = '\0';
    reply r;
    request(f, "PUT", "/api/seams/demo.upper", "Bearer " TOKEN, big, n, 0, &r);
    assert_error(&r, 413, "4096");
    request(f, "PUT", "/api/seams/demo.upper", "Bearer " TOKEN, big, n, 1, &r);
    assert_error(&r, 413, "4096");
    assert_mode(f->upper, GRAFT_MODE_SHADOW, 0);
    /* Exactly at the limit is fine. */
    request(f, "PUT", "/api/seams/demo.upper", "Bearer " TOKEN, big, 4096, 0, &r);
    assert_int_equal(r.status, 200);
    assert_mode(f->upper, GRAFT_MODE_LEGACY, 0);
    free(big);
}

static void test_metrics(void **state)
{
    fixture *f = *state;
    reply r;
    req_json(f, "GET", "/metrics", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "text/plain; version=0.0.4"));
    assert_non_null(strstr(r.body, "# TYPE "));
    assert_non_null(strstr(r.body, "demo.sum"));
    assert_non_null(strstr(r.body, "demo.upper"));
    assert_non_null(strstr(r.body, "# TYPE graft_seam_mode_since_seconds gauge"));
    assert_non_null(strstr(r.body,
                           "graft_seam_mode_changes_total{seam=\"demo.upper\",mode=\"legacy\","
                           "by=\"start\"} 1"));
}

static uint64_t stat_opens(graft_seam *s, graft_breaker_state *state)
{
    graft_seam_stats st;
    assert_int_equal(graft_seam_stats_get(s, &st), GRAFT_OK);
    *state = st.breaker_state;
    return st.breaker_opens;
}

static void test_fault_and_breaker_reset(void **state)
{
    fixture *f = *state;
    reply r;
    static const char *bad[] = {
        "{\"error_percent\":101}", "{\"panic_percent\":-2}", "{\"delay_ms\":-1}",
        "{\"delay_ms\":1e9}",      "{\"boom\":1}",           "[1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        req_json(f, "PUT", "/api/seams/demo.sum/fault", bad[i], &r);
        assert_error(&r, 400, NULL);
    }
    graft_breaker_config bc;
    graft_breaker_config_init(&bc);
    bc.enabled = 1;
    bc.min_calls = 20;
    bc.error_rate_bp = 5000;
    bc.window_ns = 60ull * 1000 * 1000 * 1000;
    bc.cooldown_ns = 3600ull * 1000 * 1000 * 1000;
    bc.max_cooldown_ns = bc.cooldown_ns;
    assert_int_equal(graft_seam_set_breaker(f->sum, &bc), GRAFT_OK);
    req_json(f, "PUT", "/api/seams/demo.sum", "{\"mode\":\"candidate\"}", &r);
    assert_int_equal(r.status, 200);
    req_json(f, "PUT", "/api/seams/demo.sum/fault", "{\"error_percent\":100}", &r);
    assert_int_equal(r.status, 200);

    graft_breaker_state bs;
    uint64_t opens0 = stat_opens(f->sum, &bs);
    fake_seams_drive(f->sum, f->upper, 100000, 200);
    uint64_t opens1 = stat_opens(f->sum, &bs);
    assert_true(opens1 > opens0);
    assert_int_equal(bs, GRAFT_BREAKER_OPEN);

    req_json(f, "DELETE", "/api/seams/demo.sum/fault", NULL, &r);
    assert_int_equal(r.status, 200);
    req_json(f, "POST", "/api/seams/demo.sum/breaker/reset", NULL, &r);
    assert_int_equal(r.status, 200);
    stat_opens(f->sum, &bs);
    assert_int_equal(bs, GRAFT_BREAKER_CLOSED);
    request(f, "POST", "/api/seams/demo.sum/breaker/reset", NULL, NULL, 0, 0, &r);
    assert_error(&r, 401, "token");
}

/* A NUL must not cut a URL or a header short. */
static void test_nul_refused(void **state)
{
    fixture *f = *state;
    reply r;
    assert_int_equal(graft_seam_set_mode(f->upper, GRAFT_MODE_LEGACY, 0), GRAFT_OK);
    /* Before: served as demo.sum. */
    req_json(f, "GET", "/api/seams/demo.sum%00junk", NULL, &r);
    assert_error(&r, 400, "NUL");
    req_json(f, "GET", "/api/seams?x=%00", NULL, &r);
    assert_error(&r, 400, "NUL");
    req_json(f, "PUT", "/api/seams/demo.upper%00x", "{\"mode\":\"candidate-only\"}", &r);
    assert_error(&r, 400, "NUL");
    assert_mode(f->upper, GRAFT_MODE_LEGACY, 0);
}

/* One request written as raw bytes (curl cannot put a NUL in a header); the status of
 * the answer, or 0 if none came. */
static int raw_status(unsigned port, const char *req, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(write(fd, req, len), (ssize_t)len);
    char buf[512];
    size_t got = 0;
    ssize_t n;
    while (got + 1 < sizeof buf && (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0) {
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    int status = 0;
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1) {
        return 0;
    }
    return status;
}

/* A raw NUL inside the Authorization header: libmicrohttpd 0.9.75 ends the value there
 * and reports only that length (MHD_lookup_connection_value_n's value_size, whatever
 * MHD_OPTION_STRICT_FOR_CLIENT says), so what follows it cannot be seen. What must hold
 * (docs/OPERATING.md): the bytes after the NUL never count towards the token. */
static void test_nul_in_header(void **state)
{
    fixture *f = *state;
    unsigned port = graft_admin_port(f->admin);
    static const char a0[] = "Bearer x\0" TOKEN;      /* the token after the NUL */
    static const char a1[] = "Bearer s3cret-toke\0n"; /* its last byte after it */
    static const char a2[] = "Bearer \0" TOKEN;       /* nothing before it */
    static const struct {
        const char *p;
        size_t n;
    } auths[] = {{a0, sizeof a0 - 1}, {a1, sizeof a1 - 1}, {a2, sizeof a2 - 1}};
    for (size_t i = 0; i < sizeof auths / sizeof auths[0]; i++) {
        char req[512];
        int head =
            snprintf(req, sizeof req,
                     "GET /api/seams HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nAuthorization: ", port);
        static const char tail[] = "\r\nConnection: close\r\n\r\n";
        assert_true(head > 0 && (size_t)head + auths[i].n + sizeof tail < sizeof req);
        memcpy(req + head, auths[i].p, auths[i].n);
        memcpy(req + head + auths[i].n, tail, sizeof tail - 1);
        int st = raw_status(port, req, (size_t)head + auths[i].n + sizeof tail - 1);
        if (st != 401 && st != 400) {
            fail_msg("case %zu: HTTP %d (want 401, or 400 from a libmicrohttpd that refuses NUL)",
                     i, st);
        }
    }
    /* The same raw path with the whole token and no NUL is served: the helper works. */
    char ok[512];
    int n = snprintf(ok, sizeof ok,
                     "GET /api/seams HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nAuthorization: Bearer " TOKEN
                     "\r\nConnection: close\r\n\r\n",
                     port);
    assert_int_equal(raw_status(port, ok, (size_t)n), 200);
}

/* DNS rebinding: a page at http://attacker.example:PORT whose name now resolves to
 * 127.0.0.1 sends Host (and Origin) with its own name. Refused even with the token,
 * and the seam is left alone. */
static void test_host_checked(void **state)
{
    fixture *f = *state;
    unsigned port = graft_admin_port(f->admin);
    assert_int_equal(graft_seam_set_mode(f->upper, GRAFT_MODE_LEGACY, 0), GRAFT_OK);
    char h[96], o[96];
    const char *hdrs[3] = {h, NULL, NULL};
    reply r;
    static const char *foreign[] = {"attacker.example:%u", "127.0.0.1:1",      "127.0.0.1",
                                    "localhost.:%u",       "127.0.0.2:%u",     "[::2]:%u",
                                    "127.0.0.1:%u0",       "127.0.0.1:%u junk"};
    g_extra = hdrs;
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        char host[64];
        snprintf(host, sizeof host, foreign[i], port);
        snprintf(h, sizeof h, "Host: %s", host);
        req_json(f, "GET", "/api/seams", NULL, &r);
        assert_error(&r, 403, "Host");
        req_json(f, "GET", "/", NULL, &r);
        assert_int_equal(r.status, 403);
        req_json(f, "PUT", "/api/seams/demo.upper", "{\"mode\":\"candidate-only\"}", &r);
        assert_error(&r, 403, "Host");
        req_json(f, "POST", "/api/seams/demo.sum/breaker/reset", NULL, &r);
        assert_error(&r, 403, "Host");
    }
    assert_mode(f->upper, GRAFT_MODE_LEGACY, 0);
    /* The names that do mean this endpoint. */
    static const char *ours[] = {"127.0.0.1:%u", "localhost:%u", "LocalHost:%u", "[::1]:%u"};
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++) {
        char host[64];
        snprintf(host, sizeof host, ours[i], port);
        snprintf(h, sizeof h, "Host: %s", host);
        req_json(f, "GET", "/api/seams/demo.sum", NULL, &r);
        if (r.status != 200)
            fail_msg("Host %s: HTTP %ld %s", host, r.status, r.body);
        /* Same-origin Origin is fine, any other is not. */
        snprintf(o, sizeof o, "Origin: http://%s", host);
        hdrs[1] = o;
        req_json(f, "GET", "/api/seams/demo.sum", NULL, &r);
        assert_int_equal(r.status, 200);
        hdrs[1] = NULL;
    }
    /* No Host at all (curl drops the header for "Host:"). */
    snprintf(h, sizeof h, "Host:");
    req_json(f, "GET", "/api/seams", NULL, &r);
    assert_int_equal(r.status, 400);
    g_extra = NULL;
}

/* A page elsewhere posting to the endpoint (CSRF): a foreign Origin is refused, and a
 * change must carry a header no CORS "simple request" can. */
static void test_cross_origin_refused(void **state)
{
    fixture *f = *state;
    unsigned port = graft_admin_port(f->admin);
    assert_int_equal(graft_seam_set_mode(f->upper, GRAFT_MODE_LEGACY, 0), GRAFT_OK);
    char o[96];
    const char *hdrs[2] = {o, NULL};
    static const char *origins[] = {"http://attacker.example", "null", "http://127.0.0.1:1",
                                    "http://localhost:%u.attacker.example", "file://"};
    reply r;
    g_extra = hdrs;
    for (size_t i = 0; i < sizeof origins / sizeof origins[0]; i++) {
        char origin[80];
        snprintf(origin, sizeof origin, origins[i], port);
        snprintf(o, sizeof o, "Origin: %s", origin);
        req_json(f, "PUT", "/api/seams/demo.upper", "{\"mode\":\"candidate-only\"}", &r);
        assert_error(&r, 403, "cross-origin");
        req_json(f, "PUT", "/api/seams/demo.upper/fault", "{\"error_percent\":100}", &r);
        assert_error(&r, 403, "cross-origin");
        req_json(f, "POST", "/api/seams/demo.sum/breaker/reset", NULL, &r);
        assert_error(&r, 403, "cross-origin");
        req_json(f, "GET", "/api/seams", NULL, &r);
        assert_error(&r, 403, "cross-origin");
    }
    g_extra = NULL;
    assert_mode(f->upper, GRAFT_MODE_LEGACY, 0);
    /* A form-style POST (no JSON type, no X-Graft-Admin) changes nothing, even with the
     * token; the same request with either header does. */
    graft_fault_config fc;
    memset(&fc, 0, sizeof fc);
    fc.error_bp = 10000;
    g_plain = 1;
    request(f, "POST", "/api/seams/demo.sum/breaker/reset", "Bearer " TOKEN, "", 0, 0, &r);
    assert_error(&r, 403, "X-Graft-Admin");
    request(f, "PUT", "/api/seams/demo.upper", "Bearer " TOKEN, "{\"mode\":\"candidate\"}", 20, 0,
            &r);
    assert_error(&r, 403, "Content-Type");
    request(f, "DELETE", "/api/seams/demo.upper/fault", "Bearer " TOKEN, NULL, 0, 0, &r);
    assert_error(&r, 403, "X-Graft-Admin");
    assert_mode(f->upper, GRAFT_MODE_LEGACY, 0);
    static const char *json[] = {"Content-Type: application/json; charset=utf-8", NULL};
    g_extra = json;
    request(f, "PUT", "/api/seams/demo.upper", "Bearer " TOKEN, "{\"mode\":\"candidate\"}", 20, 0,
            &r);
    assert_int_equal(r.status, 200);
    assert_mode(f->upper, GRAFT_MODE_CANDIDATE, 0);
    g_extra = NULL;
    g_plain = 0;
    req_json(f, "POST", "/api/seams/demo.sum/breaker/reset", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(graft_seam_set_mode(f->upper, GRAFT_MODE_LEGACY, 0), GRAFT_OK);
}

/* Reads a whole small file into buf; returns its length, -1 when it cannot be read. */
static long slurp(const char *path, char *buf, size_t cap)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return -1;
    size_t n = fread(buf, 1, cap - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return (long)n;
}

/* Started without a token, the endpoint makes one (not "no authentication"), writes it
 * to a private file for graftctl, and removes the file when it stops. */
static void test_generated_token(void **state)
{
    fixture *f = *state;
    char dir[] = "/tmp/graft-admin-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[128], xdg_file[160], buf[256], auth[300];
    snprintf(file, sizeof file, "%s/tok", dir);
    setenv("GRAFT_ADMIN_TOKEN_FILE", file, 1);
    graft_admin *a = NULL;
    assert_int_equal(graft_admin_start(f->rt, "127.0.0.1:0", NULL, &a), GRAFT_OK);
    struct stat sb;
    assert_int_equal(stat(file, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    long n = slurp(file, buf, sizeof buf);
    assert_int_equal(n, 49); /* 48 hex digits and a newline */
    buf[48] = '\0';
    assert_int_equal(strspn(buf, "0123456789abcdef"), 48);
    fixture g = *f;
    g.admin = a;
    snprintf(g.base, sizeof g.base, "http://127.0.0.1:%u", graft_admin_port(a));
    reply r;
    request(&g, "GET", "/api/seams", NULL, NULL, 0, 0, &r);
    assert_error(&r, 401, "token");
    snprintf(auth, sizeof auth, "Bearer %s", buf);
    request(&g, "GET", "/api/seams", auth, NULL, 0, 0, &r);
    assert_int_equal(r.status, 200);
    graft_admin_stop(a);
    assert_int_equal(stat(file, &sb), -1);
    /* "" is no way around it either; a second endpoint gets a different token. */
    char first[64];
    memcpy(first, buf, 49);
    assert_int_equal(graft_admin_start(f->rt, "127.0.0.1:0", "", &a), GRAFT_OK);
    assert_int_equal(slurp(file, buf, sizeof buf), 49);
    assert_true(strncmp(first, buf, 48) != 0);
    graft_admin_stop(a);
    unsetenv("GRAFT_ADMIN_TOKEN_FILE");

    /* The default place: $XDG_RUNTIME_DIR/graft/admin-PORT.token, directory 0700. */
    const char *old_xdg = getenv("XDG_RUNTIME_DIR");
    char saved[256] = "";
    if (old_xdg != NULL)
        snprintf(saved, sizeof saved, "%s", old_xdg);
    setenv("XDG_RUNTIME_DIR", dir, 1);
    assert_int_equal(graft_admin_start(f->rt, "127.0.0.1:0", NULL, &a), GRAFT_OK);
    snprintf(xdg_file, sizeof xdg_file, "%s/graft/admin-%u.token", dir, graft_admin_port(a));
    assert_int_equal(stat(xdg_file, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    snprintf(file, sizeof file, "%s/graft", dir);
    assert_int_equal(stat(file, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    graft_admin_stop(a);
    /* A directory others can write to is refused, and nothing listens. */
    assert_int_equal(chmod(file, 0777), 0);
    a = NULL;
    assert_int_equal(graft_admin_start(f->rt, "127.0.0.1:0", NULL, &a), GRAFT_EIO);
    assert_null(a);
    /* An explicit token writes no file. */
    assert_int_equal(chmod(file, 0700), 0);
    assert_int_equal(graft_admin_start(f->rt, "127.0.0.1:0", "given", &a), GRAFT_OK);
    snprintf(xdg_file, sizeof xdg_file, "%s/graft/admin-%u.token", dir, graft_admin_port(a));
    assert_int_equal(stat(xdg_file, &sb), -1);
    graft_admin_stop(a);
    if (saved[0] != '\0')
        setenv("XDG_RUNTIME_DIR", saved, 1);
    else
        unsetenv("XDG_RUNTIME_DIR");
    assert_int_equal(rmdir(file), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* A local IPv4 address that is not loopback (into buf), or 0 when there is none. */
static int local_ipv4(char *buf, size_t cap)
{
    struct ifaddrs *ifs = NULL, *i;
    int found = 0;
    if (getifaddrs(&ifs) != 0)
        return 0;
    for (i = ifs; i != NULL && !found; i = i->ifa_next) {
        if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
            continue;
        const struct sockaddr_in *in = (const struct sockaddr_in *)i->ifa_addr;
        if ((ntohl(in->sin_addr.s_addr) >> 24) == 127u)
            continue;
        found = inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)cap) != NULL;
    }
    freeifaddrs(ifs);
    return found;
}

static int connect_to(const char *ip, unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    assert_int_equal(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Whether the endpoint closed fd (within wait_ms) without answering. */
static int closed_by_peer(int fd, int wait_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, wait_ms) != 1)
        return 0;
    char c;
    return recv(fd, &c, 1, 0) <= 0;
}

/* Bound to 0.0.0.0 (remote allowed, token given): the address a client reached is a
 * valid Host, and one remote address holds at most 8 connections while loopback
 * clients still get in. Skipped on a machine with no non-loopback IPv4 address. */
static void test_remote_limits(void **state)
{
    fixture *f = *state;
    char ip[INET_ADDRSTRLEN];
    if (!local_ipv4(ip, sizeof ip))
        skip();
    setenv("GRAFT_ADMIN_ALLOW_REMOTE", "1", 1);
    graft_admin *a = NULL;
    assert_int_equal(graft_admin_start(f->rt, "0.0.0.0:0", TOKEN, &a), GRAFT_OK);
    unsetenv("GRAFT_ADMIN_ALLOW_REMOTE");
    unsigned port = graft_admin_port(a);
    fixture g = *f;
    g.admin = a;
    reply r;
    int fds[9];
    for (int i = 0; i < 8; i++)
        fds[i] = connect_to(ip, port);
    struct timespec settle = {0, 300 * 1000 * 1000};
    nanosleep(&settle, NULL); /* time for the endpoint to accept (or refuse) them all */
    for (int i = 0; i < 8; i++) {
        if (closed_by_peer(fds[i], 0))
            fail_msg("connection %d of 8 from %s was closed", i + 1, ip);
    }
    fds[8] = connect_to(ip, port); /* the kernel accepts; the endpoint refuses it */
    assert_true(closed_by_peer(fds[8], 2000));
    snprintf(g.base, sizeof g.base, "http://127.0.0.1:%u", port);
    req_json(&g, "GET", "/api/seams/demo.sum", NULL, &r);
    assert_int_equal(r.status, 200);
    for (int i = 0; i < 9; i++)
        close(fds[i]);
    nanosleep(&settle, NULL);
    snprintf(g.base, sizeof g.base, "http://%s:%u", ip, port);
    req_json(&g, "GET", "/api/seams/demo.sum", NULL, &r);
    if (r.status != 200)
        fail_msg("Host %s:%u: HTTP %ld %s", ip, port, r.status, r.body);
    graft_admin_stop(a);
}

typedef struct driver {
    fixture *f;
    atomic_int stop;
    uint64_t rounds;
} driver;

static void *drive(void *arg)
{
    driver *d = arg;
    while (!atomic_load(&d->stop)) {
        fake_seams_drive(d->f->sum, d->f->upper, d->rounds * 64u, 64);
        d->rounds++;
    }
    return NULL;
}

/* Mode changes, reads and metrics over HTTP while another thread keeps calling the
 * seams: the endpoint's thread and the hot path share the runtime (run under TSan). */
static void test_changes_under_traffic(void **state)
{
    fixture *f = *state;
    driver d = {.f = f, .rounds = 0};
    atomic_init(&d.stop, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, drive, &d), 0);
    static const char *bodies[] = {"{\"mode\":\"shadow\"}", "{\"mode\":\"canary\",\"percent\":33}",
                                   "{\"mode\":\"candidate\"}", "{\"mode\":\"legacy\"}"};
    reply r;
    for (int i = 0; i < 40; i++) {
        req_json(f, "PUT", "/api/seams/demo.upper", bodies[i % 4], &r);
        assert_int_equal(r.status, 200);
        req_json(f, "GET", i % 2 ? "/metrics" : "/api/seams", NULL, &r);
        assert_int_equal(r.status, 200);
    }
    atomic_store(&d.stop, 1);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_true(d.rounds > 0);
    assert_mode(f->upper, GRAFT_MODE_LEGACY, 3300);
}

static void test_addresses(void **state)
{
    fixture *f = *state;
    graft_admin *a = NULL;
    static const char *bad[] = {"nonsense",       "127.0.0.1:", ":9100", "127.0.0.1:99999",
                                "127.0.0.1:12ab", "[::1:9100",  "[]:0",  "0.0.0.0:0",
                                "192.0.2.1:9100", "[::]:0"};
    unsetenv("GRAFT_ADMIN_ALLOW_REMOTE");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a = NULL;
        assert_int_equal(graft_admin_start(f->rt, bad[i], NULL, &a), GRAFT_EINVAL);
        assert_null(a);
    }
    assert_int_equal(graft_admin_start(f->rt, "localhost:0", NULL, &a), GRAFT_OK);
    graft_admin_stop(a);
    assert_int_equal(graft_admin_start(NULL, "127.0.0.1:0", NULL, &a), GRAFT_ENULL);
    /* The port in use by the fixture: cannot listen twice. */
    char taken[32];
    snprintf(taken, sizeof taken, "127.0.0.1:%u", graft_admin_port(f->admin));
    assert_int_equal(graft_admin_start(f->rt, taken, NULL, &a), GRAFT_EIO);

    unsetenv("GRAFT_ADMIN");
    a = (graft_admin *)f; /* must be overwritten with NULL */
    assert_int_equal(graft_admin_start_from_env(f->rt, &a), GRAFT_OK);
    assert_null(a);
    setenv("GRAFT_ADMIN", "127.0.0.1:0", 1);
    setenv("GRAFT_ADMIN_TOKEN", "t", 1);
    assert_int_equal(graft_admin_start_from_env(f->rt, &a), GRAFT_OK);
    assert_non_null(a);
    assert_true(graft_admin_port(a) > 0);
    graft_admin_stop(a);
    setenv("GRAFT_ADMIN", "10.0.0.1:9100", 1);
    assert_int_equal(graft_admin_start_from_env(f->rt, &a), GRAFT_EINVAL);
    /* Remote without a token: refused outright (before: a warning, and it listened). */
    setenv("GRAFT_ADMIN_ALLOW_REMOTE", "1", 1);
    a = NULL;
    assert_int_equal(graft_admin_start(f->rt, "0.0.0.0:0", NULL, &a), GRAFT_EINVAL);
    assert_null(a);
    assert_int_equal(graft_admin_start(f->rt, "0.0.0.0:0", "", &a), GRAFT_EINVAL);
    assert_null(a);
    /* With a token it listens, and a request to the loopback address still works. */
    assert_int_equal(graft_admin_start(f->rt, "0.0.0.0:0", "remote-tok", &a), GRAFT_OK);
    graft_admin_stop(a);
    unsetenv("GRAFT_ADMIN_ALLOW_REMOTE");
    /* Tokens that cannot travel in a header. */
    static const char *bad_tokens[] = {"has space", "tab\there", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad_tokens / sizeof bad_tokens[0]; i++) {
        a = NULL;
        assert_int_equal(graft_admin_start(f->rt, "127.0.0.1:0", bad_tokens[i], &a), GRAFT_EINVAL);
        assert_null(a);
    }
    unsetenv("GRAFT_ADMIN");
    unsetenv("GRAFT_ADMIN_TOKEN");
    graft_admin_stop(NULL);
    assert_int_equal(graft_admin_port(NULL), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_needs_no_token),
        cmocka_unit_test(test_reads_need_the_token),
        cmocka_unit_test(test_list_and_one),
        cmocka_unit_test(test_unknown_things),
        cmocka_unit_test(test_change_mode),
        cmocka_unit_test(test_invalid_changes_change_nothing),
        cmocka_unit_test(test_oversize_bodies),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_fault_and_breaker_reset),
        cmocka_unit_test(test_changes_under_traffic),
        cmocka_unit_test(test_nul_refused),
        cmocka_unit_test(test_nul_in_header),
        cmocka_unit_test(test_host_checked),
        cmocka_unit_test(test_cross_origin_refused),
        cmocka_unit_test(test_generated_token),
        cmocka_unit_test(test_remote_limits),
        cmocka_unit_test(test_addresses),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
