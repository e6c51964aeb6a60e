/*
 * admin.c: the opt-in HTTP control endpoint of a graft runtime (see graft/admin.h and
 * docs/OPERATING.md). libmicrohttpd runs it on its own internal thread, so serving a
 * request never touches the host's threads; every runtime call made here is one of
 * libgraft's thread-safe entry points.
 *
 * Safety rules, in the order a request meets them:
 *   - the listening address must be loopback unless GRAFT_ADMIN_ALLOW_REMOTE=1;
 *   - with a token, every route except the static page needs "Authorization: Bearer",
 *     compared in constant time, checked before any body is read;
 *   - bodies are bounded (GRAFT__ADMIN_MAX_BODY): larger ones get 413 unread;
 *   - a change is fully validated before it is applied, so an invalid one changes nothing.
 * Every error is JSON: {"error": "..."} with the matching HTTP status.
 */
#define _POSIX_C_SOURCE 200809L

#include "graft/admin.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "admin_page.h"

/* Largest request body accepted: a mode change is a few dozen bytes. */
#define GRAFT__ADMIN_MAX_BODY 4096u
/* Longest seam name accepted in a URL. */
#define GRAFT__ADMIN_MAX_NAME 256u
/* Concurrent connections and idle timeout: an operator's tools, not a public server. */
#define GRAFT__ADMIN_MAX_CONNECTIONS 64u
#define GRAFT__ADMIN_TIMEOUT_S 15u
/* Longest injected delay the API accepts, in milliseconds. */
#define GRAFT__ADMIN_MAX_DELAY_MS 60000.0
/* The dashboard runs only its own inline code and talks only to this endpoint. */
#define GRAFT__ADMIN_PAGE_CSP                                                                      \
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "                  \
    "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "                     \
    "frame-ancestors 'none'"

struct graft_admin {
    graft_runtime *rt;
    struct MHD_Daemon *daemon;
    char *token; /* NULL: no authentication */
    size_t token_len;
    uint16_t port;
};

/* Per-request state, created on the first callback and freed when MHD completes it. */
typedef struct graft__admin_req {
    char body[GRAFT__ADMIN_MAX_BODY + 1];
    size_t len;
    int too_big;
} graft__admin_req;

static void graft__admin_log(graft_runtime *rt, int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    graft_runtime_log_sink(rt, level, "graft.admin", msg);
}

/* libmicrohttpd's own diagnostics go through the runtime's log sink. */
static void graft__admin_mhd_log(void *cls, const char *fmt, va_list ap)
{
    graft_admin *admin = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    graft_runtime_log_sink(admin->rt, GRAFT_LOG_WARN, "graft.admin.http", msg);
}

/* Constant-time comparison: the time taken depends only on the expected token's
 * length, never on where (or whether) the given one differs. */
static int graft__admin_token_ok(const graft_admin *admin, const char *given)
{
    size_t given_len = strlen(given);
    volatile unsigned char diff = (unsigned char)(given_len != admin->token_len);
    for (size_t i = 0; i < admin->token_len; i++) {
        unsigned char g = i < given_len ? (unsigned char)given[i] : 0u;
        diff |= (unsigned char)(g ^ (unsigned char)admin->token[i]);
    }
    return diff == 0;
}

static int graft__admin_authorized(const graft_admin *admin, struct MHD_Connection *conn)
{
    if (admin->token == NULL)
        return 1;
    const char *auth =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    static const char scheme[] = "Bearer ";
    if (auth == NULL || strncasecmp(auth, scheme, sizeof scheme - 1) != 0)
        return 0;
    auth += sizeof scheme - 1;
    while (*auth == ' ')
        auth++;
    return graft__admin_token_ok(admin, auth);
}

/* Queues `body` (taken over: freed with `release`, or copied when release is NULL). */
static enum MHD_Result graft__admin_send(struct MHD_Connection *conn, unsigned status,
                                         const char *content_type, char *body, size_t len,
                                         void (*release)(void *), const char *hname,
                                         const char *hvalue)
{
    struct MHD_Response *resp;
    if (release != NULL)
        resp = MHD_create_response_from_buffer_with_free_callback(len, body, release);
    else
        resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) {
        if (release != NULL)
            release(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (hname != NULL)
        MHD_add_response_header(resp, hname, hvalue);
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"graft\"");
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result graft__admin_error(struct MHD_Connection *conn, unsigned status,
                                          const char *allow, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *body = NULL;
    cJSON *obj = cJSON_CreateObject();
    if (obj != NULL && cJSON_AddStringToObject(obj, "error", msg) != NULL)
        body = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (body == NULL) {
        static const char oom[] = "{\"error\":\"out of memory\"}";
        return graft__admin_send(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json",
                                 (char *)oom, sizeof oom - 1, NULL, NULL, NULL);
    }
    size_t len = strlen(body);
    return graft__admin_send(conn, status, "application/json", body, len, cJSON_free,
                             allow != NULL ? MHD_HTTP_HEADER_ALLOW : NULL, allow);
}

/* Maps a runtime status to the HTTP status of a refused or failed request. */
static unsigned graft__admin_http_status(int st)
{
    switch (st) {
    case GRAFT_EINVAL:
    case GRAFT_EPARSE:
    case GRAFT_EUTF8:
        return MHD_HTTP_BAD_REQUEST;
    case GRAFT_ENOTFOUND:
        return MHD_HTTP_NOT_FOUND;
    case GRAFT_ESTATE:
    case GRAFT_EEXIST:
        return MHD_HTTP_CONFLICT;
    case GRAFT_EUNSUPPORTED:
        return MHD_HTTP_NOT_IMPLEMENTED;
    default:
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

static enum MHD_Result graft__admin_send_seam(struct MHD_Connection *conn, graft_seam *seam)
{
    char *json = NULL;
    size_t len = 0;
    int st = graft_seam_json(seam, &json, &len);
    if (st != GRAFT_OK)
        return graft__admin_error(conn, graft__admin_http_status(st), NULL,
                                  "cannot describe seam: %s", graft_strerror(st));
    return graft__admin_send(conn, MHD_HTTP_OK, "application/json", json, len, graft_free, NULL,
                             NULL);
}

/* Parses a percentage (0..100, at most two decimals) into basis points. */
static int graft__admin_percent(const cJSON *item, const char *field, uint32_t *out_bp, char *err,
                                size_t errlen)
{
    if (!cJSON_IsNumber(item)) {
        snprintf(err, errlen, "'%s' must be a number (0 to 100)", field);
        return 0;
    }
    double p = item->valuedouble;
    if (!isfinite(p) || p < 0.0 || p > 100.0) {
        snprintf(err, errlen, "'%s' must be between 0 and 100", field);
        return 0;
    }
    double bp = p * 100.0;
    double r = round(bp);
    if (fabs(bp - r) > 1e-6) {
        snprintf(err, errlen, "'%s' allows at most two decimals (0.01%% steps)", field);
        return 0;
    }
    *out_bp = (uint32_t)r;
    return 1;
}

/* Parses the body as one JSON object; on failure writes a message. */
static cJSON *graft__admin_parse_object(graft__admin_req *req, char *err, size_t errlen)
{
    if (req->len == 0) {
        snprintf(err, errlen, "empty body: a JSON object is required");
        return NULL;
    }
    req->body[req->len] = '\0';
    if (strlen(req->body) != req->len) {
        snprintf(err, errlen, "body contains a NUL byte");
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(req->body, &end, 1);
    if (root == NULL) {
        size_t at = end != NULL ? (size_t)(end - req->body) : 0;
        snprintf(err, errlen, "body is not valid JSON (near byte %zu)", at);
        return NULL;
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        snprintf(err, errlen, "body must be a JSON object");
        return NULL;
    }
    return root;
}

/* PUT /api/seams/{name}: {"mode": "canary", "percent": 10.5}. Either field may be left
 * out (the current value is kept); unknown fields are refused. */
static enum MHD_Result graft__admin_put_mode(graft_admin *admin, struct MHD_Connection *conn,
                                             graft_seam *seam, graft__admin_req *req)
{
    char err[256];
    cJSON *root = graft__admin_parse_object(req, err, sizeof err);
    if (root == NULL)
        return graft__admin_error(conn, MHD_HTTP_BAD_REQUEST, NULL, "%s", err);

    graft_mode mode;
    uint32_t bp;
    int st = graft_seam_get_mode(seam, &mode, &bp);
    if (st != GRAFT_OK) {
        cJSON_Delete(root);
        return graft__admin_error(conn, graft__admin_http_status(st), NULL,
                                  "cannot read the current mode: %s", graft_strerror(st));
    }
    int have_mode = 0, have_percent = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        if (strcmp(item->string, "mode") == 0) {
            if (!cJSON_IsString(item) || graft_mode_parse(item->valuestring, &mode) != GRAFT_OK) {
                cJSON_Delete(root);
                return graft__admin_error(conn, MHD_HTTP_BAD_REQUEST, NULL,
                                          "'mode' must be one of legacy, shadow, canary, "
                                          "candidate, candidate-only");
            }
            have_mode = 1;
        } else if (strcmp(item->string, "percent") == 0) {
            if (!graft__admin_percent(item, "percent", &bp, err, sizeof err)) {
                cJSON_Delete(root);
                return graft__admin_error(conn, MHD_HTTP_BAD_REQUEST, NULL, "%s", err);
            }
            have_percent = 1;
        } else {
            char name[64];
            snprintf(name, sizeof name, "%s", item->string);
            cJSON_Delete(root);
            return graft__admin_error(conn, MHD_HTTP_BAD_REQUEST, NULL,
                                      "unknown field '%s' (expected 'mode' and/or 'percent')",
                                      name);
        }
    }
    cJSON_Delete(root);
    if (!have_mode && !have_percent)
        return graft__admin_error(conn, MHD_HTTP_BAD_REQUEST, NULL,
                                  "nothing to change: give 'mode' and/or 'percent'");
    st = graft_seam_set_mode(seam, mode, bp);
    if (st != GRAFT_OK)
        return graft__admin_error(conn, graft__admin_http_status(st), NULL,
                                  "mode change refused: %s", graft_strerror(st));
    graft__admin_log(admin->rt, GRAFT_LOG_INFO, "seam %s set to %s %u.%02u%%",
                     graft_seam_name(seam), graft_mode_name(mode), bp / 100u, bp % 100u);
    return graft__admin_send_seam(conn, seam);
}

/* PUT /api/seams/{name}/fault: {"error_percent": 100, "panic_percent": 0,
 * "delay_percent": 0, "delay_ms": 0}. Fields left out are 0: the body describes the
 * whole fault configuration. DELETE clears it. */
static enum MHD_Result graft__admin_put_fault(struct MHD_Connection *conn, graft_seam *seam,
                                              graft__admin_req *req, int clear)
{
    graft_fault_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (!clear) {
        char err[256];
        cJSON *root = graft__admin_parse_object(req, err, sizeof err);
        if (root == NULL)
            return graft__admin_error(conn, MHD_HTTP_BAD_REQUEST, NULL, "%s", err);
        const cJSON *item;
        cJSON_ArrayForEach(item, root)
        {
            int ok = 1;
            if (strcmp(item->string, "error_percent") == 0) {
                ok = graft__admin_percent(item, "error_percent", &cfg.error_bp, err, sizeof err);
            } else if (strcmp(item->string, "panic_percent") == 0) {
                ok = graft__admin_percent(item, "panic_percent", &cfg.panic_bp, err, sizeof err);
            } else if (strcmp(item->string, "delay_percent") == 0) {
                ok = graft__admin_percent(item, "delay_percent", &cfg.delay_bp, err, sizeof err);
            } else if (strcmp(item->string, "delay_ms") == 0) {
                double ms = cJSON_IsNumber(item) ? item->valuedouble : -1.0;
                if (!isfinite(ms) || ms < 0.0 || ms > GRAFT__ADMIN_MAX_DELAY_MS) {
                    snprintf(err, sizeof err, "'delay_ms' must be a number from 0 to %.0f",
                             GRAFT__ADMIN_MAX_DELAY_MS);
                    ok = 0;
                } else {
                    cfg.delay_ns = (uint64_t)llround(ms * 1e6);
                }
            } else {
                snprintf(err, sizeof err,
                         "unknown field '%.64s' (expected error_percent, panic_percent, "
                         "delay_percent, delay_ms)",
                         item->string);
                ok = 0;
            }
            if (!ok) {
                cJSON_Delete(root);
                return graft__admin_error(conn, MHD_HTTP_BAD_REQUEST, NULL, "%s", err);
            }
        }
        cJSON_Delete(root);
    }
    int st = graft_seam_set_fault(seam, &cfg);
    if (st != GRAFT_OK)
        return graft__admin_error(conn, graft__admin_http_status(st), NULL,
                                  "fault change refused: %s", graft_strerror(st));
    return graft__admin_send_seam(conn, seam);
}

/* What a URL names. */
typedef enum graft__admin_route {
    GRAFT__ROUTE_NONE,
    GRAFT__ROUTE_PAGE,
    GRAFT__ROUTE_METRICS,
    GRAFT__ROUTE_SEAMS,
    GRAFT__ROUTE_SEAM,
    GRAFT__ROUTE_BREAKER_RESET,
    GRAFT__ROUTE_FAULT
} graft__admin_route;

static int graft__admin_ends_with(const char *s, size_t len, const char *suffix, size_t *stem)
{
    size_t n = strlen(suffix);
    if (len <= n || memcmp(s + len - n, suffix, n) != 0)
        return 0;
    *stem = len - n;
    return 1;
}

/* Splits the URL into a route and, for seam routes, the seam name (copied to `name`). */
static graft__admin_route graft__admin_route_of(const char *url, char *name, size_t cap)
{
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
        return GRAFT__ROUTE_PAGE;
    if (strcmp(url, "/metrics") == 0)
        return GRAFT__ROUTE_METRICS;
    if (strcmp(url, "/api/seams") == 0 || strcmp(url, "/api/seams/") == 0)
        return GRAFT__ROUTE_SEAMS;
    static const char prefix[] = "/api/seams/";
    if (strncmp(url, prefix, sizeof prefix - 1) != 0)
        return GRAFT__ROUTE_NONE;
    const char *rest = url + sizeof prefix - 1;
    size_t len = strlen(rest), stem = len;
    graft__admin_route route = GRAFT__ROUTE_SEAM;
    if (graft__admin_ends_with(rest, len, "/breaker/reset", &stem))
        route = GRAFT__ROUTE_BREAKER_RESET;
    else if (graft__admin_ends_with(rest, len, "/fault", &stem))
        route = GRAFT__ROUTE_FAULT;
    if (stem == 0 || stem >= cap || memchr(rest, '/', stem) != NULL)
        return GRAFT__ROUTE_NONE;
    memcpy(name, rest, stem);
    name[stem] = '\0';
    return route;
}

static const char *graft__admin_allowed(graft__admin_route route)
{
    switch (route) {
    case GRAFT__ROUTE_PAGE:
    case GRAFT__ROUTE_METRICS:
    case GRAFT__ROUTE_SEAMS:
        return "GET, HEAD";
    case GRAFT__ROUTE_SEAM:
        return "GET, HEAD, PUT";
    case GRAFT__ROUTE_BREAKER_RESET:
        return "POST";
    case GRAFT__ROUTE_FAULT:
        return "PUT, DELETE";
    default:
        return NULL;
    }
}

static int graft__admin_method_ok(graft__admin_route route, const char *method)
{
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    switch (route) {
    case GRAFT__ROUTE_PAGE:
    case GRAFT__ROUTE_METRICS:
    case GRAFT__ROUTE_SEAMS:
        return get;
    case GRAFT__ROUTE_SEAM:
        return get || strcmp(method, "PUT") == 0;
    case GRAFT__ROUTE_BREAKER_RESET:
        return strcmp(method, "POST") == 0;
    case GRAFT__ROUTE_FAULT:
        return strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0;
    default:
        return 0;
    }
}

/* Checks done before any body byte is read: route, method, token, declared size. */
static enum MHD_Result graft__admin_precheck(graft_admin *admin, struct MHD_Connection *conn,
                                             const char *url, const char *method, int *replied)
{
    char name[GRAFT__ADMIN_MAX_NAME];
    graft__admin_route route = graft__admin_route_of(url, name, sizeof name);
    *replied = 1;
    if (route == GRAFT__ROUTE_NONE)
        return graft__admin_error(conn, MHD_HTTP_NOT_FOUND, NULL, "no such resource: %.200s", url);
    if (!graft__admin_method_ok(route, method))
        return graft__admin_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, graft__admin_allowed(route),
                                  "method %.16s not allowed on %.200s (allowed: %s)", method, url,
                                  graft__admin_allowed(route));
    /* The page is static and holds no data: it loads without a token and then asks
     * for one, so an operator can paste it in the browser. */
    if (route != GRAFT__ROUTE_PAGE && !graft__admin_authorized(admin, conn))
        return graft__admin_error(conn, MHD_HTTP_UNAUTHORIZED, NULL,
                                  "missing or wrong bearer token");
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL) {
        char *end = NULL;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end == cl || n > GRAFT__ADMIN_MAX_BODY)
            return graft__admin_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
                                      "request body larger than %u bytes", GRAFT__ADMIN_MAX_BODY);
    }
    *replied = 0;
    return MHD_YES;
}

static enum MHD_Result graft__admin_dispatch(graft_admin *admin, struct MHD_Connection *conn,
                                             const char *url, const char *method,
                                             graft__admin_req *req)
{
    char name[GRAFT__ADMIN_MAX_NAME];
    graft__admin_route route = graft__admin_route_of(url, name, sizeof name);
    char *text = NULL;
    size_t len = 0;
    int st;
    switch (route) {
    case GRAFT__ROUTE_PAGE:
        /* The policy enforces what the page promises: nothing loads from elsewhere. */
        return graft__admin_send(conn, MHD_HTTP_OK, "text/html; charset=utf-8",
                                 (char *)graft__admin_page, graft__admin_page_len, NULL,
                                 MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY, GRAFT__ADMIN_PAGE_CSP);
    case GRAFT__ROUTE_METRICS:
        st = graft_metrics_prometheus(admin->rt, &text, &len);
        if (st != GRAFT_OK)
            return graft__admin_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
                                      "metrics unavailable: %s", graft_strerror(st));
        return graft__admin_send(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                                 text, len, graft_free, NULL, NULL);
    case GRAFT__ROUTE_SEAMS:
        st = graft_metrics_json(admin->rt, &text, &len);
        if (st != GRAFT_OK)
            return graft__admin_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
                                      "metrics unavailable: %s", graft_strerror(st));
        return graft__admin_send(conn, MHD_HTTP_OK, "application/json", text, len, graft_free, NULL,
                                 NULL);
    default:
        break;
    }
    graft_seam *seam = graft_seam_find(admin->rt, name);
    if (seam == NULL)
        return graft__admin_error(conn, MHD_HTTP_NOT_FOUND, NULL, "unknown seam '%s'", name);
    if (req->too_big)
        return graft__admin_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
                                  "request body larger than %u bytes", GRAFT__ADMIN_MAX_BODY);
    switch (route) {
    case GRAFT__ROUTE_SEAM:
        if (strcmp(method, "PUT") == 0)
            return graft__admin_put_mode(admin, conn, seam, req);
        return graft__admin_send_seam(conn, seam);
    case GRAFT__ROUTE_BREAKER_RESET:
        st = graft_seam_reset_breaker(seam);
        if (st != GRAFT_OK)
            return graft__admin_error(conn, graft__admin_http_status(st), NULL,
                                      "breaker reset refused: %s", graft_strerror(st));
        graft__admin_log(admin->rt, GRAFT_LOG_INFO, "seam %s: breaker reset", name);
        return graft__admin_send_seam(conn, seam);
    case GRAFT__ROUTE_FAULT:
        return graft__admin_put_fault(conn, seam, req, strcmp(method, "DELETE") == 0);
    default:
        return graft__admin_error(conn, MHD_HTTP_NOT_FOUND, NULL, "no such resource");
    }
}

static enum MHD_Result graft__admin_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                            const char *method, const char *version,
                                            const char *upload_data, size_t *upload_data_size,
                                            void **con_cls)
{
    graft_admin *admin = cls;
    graft__admin_req *req = *con_cls;
    if (req == NULL) {
        req = calloc(1, sizeof *req);
        if (req == NULL)
            return MHD_NO;
        *con_cls = req;
        int replied = 0;
        enum MHD_Result r = graft__admin_precheck(admin, conn, url, method, &replied);
        return replied ? r : MHD_YES;
    }
    if (*upload_data_size != 0) {
        /* A body sent without Content-Length (chunked) is counted here; the excess is
         * dropped and the request answered 413 once it has arrived. */
        size_t n = *upload_data_size;
        if (!req->too_big && n <= GRAFT__ADMIN_MAX_BODY - req->len) {
            memcpy(req->body + req->len, upload_data, n);
            req->len += n;
        } else {
            req->too_big = 1;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return graft__admin_dispatch(admin, conn, url, method, req);
}

static void graft__admin_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                                   enum MHD_RequestTerminationCode toe)
{
    free(*con_cls);
    *con_cls = NULL;
}

static int graft__admin_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127u;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return 1;
        /* ::ffff:127.x.y.z */
        return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127u;
    }
    return 0;
}

/* "127.0.0.1:9100", "[::1]:9100", "localhost:0" -> a socket address. */
static int graft__admin_resolve(graft_runtime *rt, const char *addr, struct sockaddr_storage *out,
                                socklen_t *outlen)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr || colon[1] == '\0') {
        graft__admin_log(rt, GRAFT_LOG_ERROR, "admin address '%s' is not HOST:PORT", addr);
        return GRAFT_EINVAL;
    }
    const char *h = addr;
    size_t hlen = (size_t)(colon - addr);
    if (h[0] == '[') {
        if (hlen < 2 || h[hlen - 1] != ']') {
            graft__admin_log(rt, GRAFT_LOG_ERROR, "admin address '%s': bad IPv6 brackets", addr);
            return GRAFT_EINVAL;
        }
        h++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof host) {
        graft__admin_log(rt, GRAFT_LOG_ERROR, "admin address '%s': bad host", addr);
        return GRAFT_EINVAL;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    char *end = NULL;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || port > 65535ul || colon[1] < '0' || colon[1] > '9') {
        graft__admin_log(rt, GRAFT_LOG_ERROR, "admin address '%s': bad port", addr);
        return GRAFT_EINVAL;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%lu", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0 || res == NULL) {
        graft__admin_log(rt, GRAFT_LOG_ERROR, "admin address '%s': %s", addr, gai_strerror(rc));
        return GRAFT_EINVAL;
    }
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *outlen = res->ai_addrlen;
    freeaddrinfo(res);
    return GRAFT_OK;
}

int graft_admin_start(graft_runtime *rt, const char *addr, const char *token, graft_admin **out)
{
    if (rt == NULL || addr == NULL || out == NULL)
        return GRAFT_ENULL;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    int st = graft__admin_resolve(rt, addr, &ss, &sslen);
    if (st != GRAFT_OK)
        return st;
    if (!graft__admin_is_loopback((const struct sockaddr *)&ss)) {
        const char *allow = getenv("GRAFT_ADMIN_ALLOW_REMOTE");
        if (allow == NULL || strcmp(allow, "1") != 0) {
            graft__admin_log(rt, GRAFT_LOG_ERROR,
                             "admin address '%s' is not loopback; refused "
                             "(set GRAFT_ADMIN_ALLOW_REMOTE=1 and a token to allow it)",
                             addr);
            return GRAFT_EINVAL;
        }
        if (token == NULL || token[0] == '\0')
            graft__admin_log(rt, GRAFT_LOG_WARN,
                             "admin endpoint on non-loopback '%s' without a token", addr);
    }
    graft_admin *admin = calloc(1, sizeof *admin);
    if (admin == NULL)
        return GRAFT_ENOMEM;
    admin->rt = rt;
    if (token != NULL && token[0] != '\0') {
        admin->token = strdup(token);
        if (admin->token == NULL) {
            free(admin);
            return GRAFT_ENOMEM;
        }
        admin->token_len = strlen(token);
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    admin->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, graft__admin_handler, admin,
        /* The logger must come first or MHD prints early messages itself. */
        MHD_OPTION_EXTERNAL_LOGGER, graft__admin_mhd_log, admin, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, (unsigned)GRAFT__ADMIN_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)GRAFT__ADMIN_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, graft__admin_completed, NULL, MHD_OPTION_END);
    if (admin->daemon == NULL) {
        graft__admin_log(rt, GRAFT_LOG_ERROR, "admin endpoint could not listen on '%s'", addr);
        free(admin->token);
        free(admin);
        return GRAFT_EIO;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(admin->daemon, MHD_DAEMON_INFO_BIND_PORT);
    admin->port = info != NULL ? info->port : 0;
    graft__admin_log(rt, GRAFT_LOG_INFO, "admin endpoint listening on %s (port %u)%s", addr,
                     (unsigned)admin->port, admin->token ? ", token required" : "");
    *out = admin;
    return GRAFT_OK;
}

int graft_admin_start_from_env(graft_runtime *rt, graft_admin **out)
{
    if (rt == NULL || out == NULL)
        return GRAFT_ENULL;
    const char *addr = getenv("GRAFT_ADMIN");
    if (addr == NULL || addr[0] == '\0') {
        *out = NULL;
        return GRAFT_OK;
    }
    return graft_admin_start(rt, addr, getenv("GRAFT_ADMIN_TOKEN"), out);
}

uint16_t graft_admin_port(const graft_admin *admin)
{
    return admin != NULL ? admin->port : 0;
}

void graft_admin_stop(graft_admin *admin)
{
    if (admin == NULL)
        return;
    MHD_stop_daemon(admin->daemon);
    if (admin->token != NULL) {
        /* Scrub the secret before handing the memory back. */
        volatile char *p = admin->token;
        for (size_t i = 0; i < admin->token_len; i++)
            p[i] = 0;
        free(admin->token);
    }
    free(admin);
}
