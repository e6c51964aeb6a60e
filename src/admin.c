/*
 * admin.c: the opt-in HTTP control endpoint of a graft runtime (see graft/admin.h and
 * docs/OPERATING.md). It runs on a thread of its own (driving libmicrohttpd), so serving a
 * request never touches the host's threads; every runtime call made here is one of
 * libgraft's thread-safe entry points.
 *
 * Safety rules, in the order a request meets them:
 *   - the listening address must be loopback unless GRAFT_ADMIN_ALLOW_REMOTE=1 and a
 *     token is given;
 *   - connections: at most GRAFT__ADMIN_MAX_CONNECTIONS; a new one beyond that evicts the
 *     oldest, and none lives longer than GRAFT__ADMIN_DEADLINE_MS per request (headers,
 *     body and answer), so slow clients cannot hold the door shut on a rollback;
 *   - the endpoint accepts connections itself and peeks (MSG_PEEK: nothing consumed) at
 *     each one's request line and headers before handing it to libmicrohttpd
 *     (MHD_add_connection): a raw NUL or a bare CR there gets 400, since libmicrohttpd
 *     0.9.75 would silently cut the line or value at it; a header block over
 *     libmicrohttpd's memory gets 431. Pending connections count against the budget
 *     and the deadline above, and are polled together, so a trickler holds up no one.
 *     Every answer says "Connection: close": only a connection's first header block is
 *     checked;
 *   - a NUL anywhere in the URL (%00) gets 400 (decoded, it would cut the URL short);
 *   - Host must name this endpoint (its bound address or a loopback name, with its port),
 *     against DNS rebinding; a foreign Origin gets 403; a change must carry a header a
 *     cross-origin page cannot send without a CORS preflight (which is never granted);
 *   - every route except the static page needs "Authorization: Bearer <token>",
 *     compared in constant time, checked before any body is read; without a token
 *     given, one is generated and written to a 0600 file graftctl reads;
 *   - bodies are bounded (GRAFT__ADMIN_MAX_BODY): larger ones get 413 unread;
 *   - a change is fully validated before it is applied, so an invalid one changes nothing.
 * Every error is JSON: {"error": "..."} with the matching HTTP status.
 *
 * Threading: the endpoint runs its own thread (graft__admin_loop: one poll over the
 * listening socket, the pending connections and libmicrohttpd's epoll descriptor, then
 * MHD_run), so every callback and the connection tables below run on that one thread,
 * lock-free.
 */
#define _POSIX_C_SOURCE 200809L

#include "graft/admin.h"
#include "graft/stateful.h"

#include <arpa/inet.h>
#include <assert.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin_page.h"

/* " legacy shadow canary candidate candidate-only", from the one list of modes. */
#define GRAFT__ADMIN_MODE_NAME(suffix, number, name, meaning) " " name
#define GRAFT__ADMIN_MODE_NAMES GRAFT_MODE_MAP(GRAFT__ADMIN_MODE_NAME)

/* Largest request body accepted: a mode change is a few dozen bytes. */
#define GRAFT__ADMIN_MAX_BODY 4096u
/* Longest seam name accepted in a URL. */
#define GRAFT__ADMIN_MAX_NAME 256u
/* Connection budget: an operator's tools, not a public server. A connection beyond it
 * evicts the oldest one, so the newest (a rollback) always gets in; libmicrohttpd's own
 * hard limit leaves room for evicted ones to finish closing. */
#define GRAFT__ADMIN_MAX_CONNECTIONS 64u
#define GRAFT__ADMIN_HARD_CONNECTIONS (GRAFT__ADMIN_MAX_CONNECTIONS + 16u)
/* Connections one non-loopback address may hold (loopback peers are the operator's). */
#define GRAFT__ADMIN_PER_IP 8u
/* Total time a connection may take for one request, from its accept (or the end of its
 * previous request) to the end of the answer, however slowly it trickles bytes. */
#define GRAFT__ADMIN_DEADLINE_MS 10000u
/* libmicrohttpd's idle timeout; the deadline above is the real bound. */
#define GRAFT__ADMIN_TIMEOUT_S 10u
/* How often the endpoint's thread checks deadlines (and notices a stop). */
#define GRAFT__ADMIN_TICK_MS 100u
/* The endpoint accepts connections itself and reads (MSG_PEEK, consuming nothing) each
 * one's request line and headers before libmicrohttpd gets it: at most this many wait
 * at once (they count against the connection budget, and the oldest is evicted the same
 * way), each within the same total deadline. */
#define GRAFT__ADMIN_MAX_PENDING GRAFT__ADMIN_MAX_CONNECTIONS
/* libmicrohttpd's per-connection memory (set explicitly: its 0.9.75 default). A header
 * block that does not fit in it gets 431 before libmicrohttpd sees it. */
#define GRAFT__ADMIN_CONN_MEMORY (32u * 1024u)
/* Connections taken from the listening socket per round, so accepting cannot starve
 * the connections already in. */
#define GRAFT__ADMIN_ACCEPT_BATCH 16u
/* Longest Host header accepted. */
#define GRAFT__ADMIN_MAX_HOST 300u
/* Longest injected delay the API accepts, in milliseconds. */
#define GRAFT__ADMIN_MAX_DELAY_MS 60000.0
/* The dashboard runs only its own inline code and talks only to this endpoint. */
#define GRAFT__ADMIN_PAGE_CSP                                                                      \
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "                  \
    "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "                     \
    "frame-ancestors 'none'"

/* One accepted connection, in the table the endpoint's thread keeps. */
typedef struct graft__admin_conn {
    int fd;            /* -1: free slot */
    bool closing;      /* shut down by us; libmicrohttpd has not closed it yet */
    uint64_t since_ms; /* accept, or the end of its previous request */
    bool loopback;
    unsigned char ip[16]; /* the peer's address, for the per-address limit */
    size_t iplen;
} graft__admin_conn;

/* One accepted connection whose header block is still being read (peeked). */
typedef struct graft__admin_pending {
    int fd; /* -1: free slot */
    uint64_t since_ms;
    size_t scanned;  /* bytes of the peeked stream already checked */
    size_t peeked;   /* bytes the last peek saw (SO_RCVLOWAT is one more) */
    size_t line_len; /* bytes of the current line so far, its CR excluded */
    bool seen_line;  /* a non-empty line (the request line) has been seen */
    bool loopback;
    unsigned char ip[16];
    size_t iplen;
    struct sockaddr_storage addr;
    socklen_t addrlen;
} graft__admin_pending;

struct graft_admin {
    graft_runtime *rt;
    struct MHD_Daemon *daemon;
    int listen_fd; /* ours, not libmicrohttpd's (MHD_USE_NO_LISTEN_SOCKET) */
    char *token;   /* always set: given, or generated at start */
    size_t token_len;
    char *token_file; /* where a generated token was written (removed at stop), or NULL */
    uint16_t port;
    char bound_host[GRAFT__ADMIN_MAX_HOST]; /* the host part of the address, as given */
    pthread_t thread;
    bool thread_started;
    atomic_int stop;
    /* Touched only on the endpoint's thread (and by graft_admin_stop after joining it). */
    graft__admin_conn conns[GRAFT__ADMIN_HARD_CONNECTIONS];
    graft__admin_pending pending[GRAFT__ADMIN_MAX_PENDING];
    /* The connection being handed to libmicrohttpd (its notify callback picks up the
     * accept time, so the deadline counts from the accept), or -1. */
    int handing_fd;
    uint64_t handing_since_ms;
    /* One peek buffer, used only on the endpoint's thread. */
    char peek[GRAFT__ADMIN_CONN_MEMORY];
    uint64_t evicted, expired, refused_ip, refused_raw; /* totals */
    uint64_t logged_evicted, logged_expired, logged_refused_ip, logged_refused_raw;
    uint64_t logged_ms;
};

/* Per-request state, created when the request line arrives and freed when MHD completes
 * the request. */
typedef struct graft__admin_req {
    bool started;    /* the handler has seen the request */
    bool nul_in_url; /* the raw URL had %00 */
    char body[GRAFT__ADMIN_MAX_BODY + 1];
    size_t len;
    bool too_big;
} graft__admin_req;

static uint64_t graft__admin_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

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
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) {
        msg[--n] = '\0';
    }
    graft_runtime_log_sink(admin->rt, GRAFT_LOG_WARN, "graft.admin.http", msg);
}

/* Constant-time comparison: the time taken depends only on the expected token's
 * length, never on where (or whether) the given one differs. */
static bool graft__admin_token_ok(const graft_admin *admin, const char *given)
{
    size_t given_len = strlen(given);
    volatile unsigned char diff = (unsigned char)(given_len != admin->token_len);
    for (size_t i = 0; i < admin->token_len; i++) {
        unsigned char g = i < given_len ? (unsigned char)given[i] : 0u;
        diff |= (unsigned char)(g ^ (unsigned char)admin->token[i]);
    }
    return diff == 0;
}

static bool graft__admin_authorized(const graft_admin *admin, struct MHD_Connection *conn)
{
    assert(admin->token);
    const char *auth =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    static const char scheme[] = "Bearer ";
    if (!auth || strncasecmp(auth, scheme, sizeof scheme - 1) != 0) {
        return false;
    }
    auth += sizeof scheme - 1;
    while (*auth == ' ') {
        auth++;
    }
    return graft__admin_token_ok(admin, auth);
}

/* Queues `body` (taken over: freed with `release`, or copied when release is NULL). */
static enum MHD_Result graft__admin_send(struct MHD_Connection *conn, unsigned status,
                                         const char *content_type, char *body, size_t len,
                                         void (*release)(void *), const char *hname,
                                         const char *hvalue)
{
    struct MHD_Response *resp;
    if (release) {
        resp = MHD_create_response_from_buffer_with_free_callback(len, body, release);
    } else {
        resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_COPY);
    }
    if (!resp) {
        if (release) {
            release(body);
        }
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* One request per connection: only a connection's first header block is checked for
     * NUL and bare CR (graft__admin_scan), so a second one must never be read. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (hname) {
        MHD_add_response_header(resp, hname, hvalue);
    }
    if (status == MHD_HTTP_UNAUTHORIZED) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"graft\"");
    }
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
    if (obj && cJSON_AddStringToObject(obj, "error", msg)) {
        body = cJSON_PrintUnformatted(obj);
    }
    cJSON_Delete(obj);
    if (!body) {
        static const char oom[] = "{\"error\":\"out of memory\"}";
        return graft__admin_send(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json",
                                 (char *)oom, sizeof oom - 1, NULL, NULL, NULL);
    }
    size_t len = strlen(body);
    return graft__admin_send(conn, status, "application/json", body, len, cJSON_free,
                             allow ? MHD_HTTP_HEADER_ALLOW : NULL, allow);
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
    if (st != GRAFT_OK) {
        return graft__admin_error(conn, graft__admin_http_status(st), NULL,
                                  "cannot describe seam: %s", graft_strerror(st));
    }
    return graft__admin_send(conn, MHD_HTTP_OK, "application/json", json, len, graft_free, NULL,
                             NULL);
}

/* A percentage field into basis points, by graft_percent_parse (the one parser that
 * configuration and graftctl use too): the JSON number (10.5) is read through its shortest
 * decimal form. */
static bool graft__admin_percent(const cJSON *item, const char *field, uint32_t *out_bp, char *err,
                                 size_t errlen)
{
    if (!cJSON_IsNumber(item)) {
        snprintf(err, errlen, "'%s' must be a number (0 to 100)", field);
        return false;
    }
    /* %.15g prints every double that a JSON number of 15 significant digits or fewer
     * denotes as that number's shortest text (10.5 -> "10.5", 0.05 -> "0.05", 1e2 ->
     * "100"); infinities print as "inf" and are refused like any other text. */
    char given[64];
    snprintf(given, sizeof given, "%.15g", item->valuedouble);
    if (graft_percent_parse(given, out_bp) != GRAFT_OK) {
        snprintf(err, errlen,
                 "'%s' must be between 0 and 100 with at most two decimals (0.01%% steps), "
                 "not %.32s",
                 field, given);
        return false;
    }
    return true;
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
    if (!root) {
        size_t at = end ? (size_t)(end - req->body) : 0;
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
    if (!root) {
        return graft__admin_error(conn, MHD_HTTP_BAD_REQUEST, NULL, "%s", err);
    }

    graft_mode mode;
    uint32_t bp;
    int st = graft_seam_get_mode(seam, &mode, &bp);
    if (st != GRAFT_OK) {
        cJSON_Delete(root);
        return graft__admin_error(conn, graft__admin_http_status(st), NULL,
                                  "cannot read the current mode: %s", graft_strerror(st));
    }
    bool have_mode = false, have_percent = false;
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        if (strcmp(item->string, "mode") == 0) {
            if (!cJSON_IsString(item) || graft_mode_parse(item->valuestring, &mode) != GRAFT_OK) {
                cJSON_Delete(root);
                return graft__admin_error(conn, MHD_HTTP_BAD_REQUEST, NULL,
                                          "'mode' must be one of:" GRAFT__ADMIN_MODE_NAMES);
            }
            have_mode = true;
        } else if (strcmp(item->string, "percent") == 0) {
            if (!graft__admin_percent(item, "percent", &bp, err, sizeof err)) {
                cJSON_Delete(root);
                return graft__admin_error(conn, MHD_HTTP_BAD_REQUEST, NULL, "%s", err);
            }
            have_percent = true;
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
    if (!have_mode && !have_percent) {
        return graft__admin_error(conn, MHD_HTTP_BAD_REQUEST, NULL,
                                  "nothing to change: give 'mode' and/or 'percent'");
    }
    st = graft_seam_set_mode(seam, mode, bp);
    if (st != GRAFT_OK) {
        return graft__admin_error(conn, graft__admin_http_status(st), NULL,
                                  "mode change refused: %s", graft_strerror(st));
    }
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
        if (!root) {
            return graft__admin_error(conn, MHD_HTTP_BAD_REQUEST, NULL, "%s", err);
        }
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
    if (st != GRAFT_OK) {
        return graft__admin_error(conn, graft__admin_http_status(st), NULL,
                                  "fault change refused: %s", graft_strerror(st));
    }
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
    GRAFT__ROUTE_FAULT,
    GRAFT__ROUTE_VERIFY,
    GRAFT__ROUTE_PLAN /* POST .../plan/{pause,resume,advance,abort} */
} graft__admin_route;

static bool graft__admin_ends_with(const char *s, size_t len, const char *suffix, size_t *stem)
{
    size_t n = strlen(suffix);
    if (len <= n || memcmp(s + len - n, suffix, n) != 0) {
        return false;
    }
    *stem = len - n;
    return true;
}

/* Splits the URL into a route and, for seam routes, the seam name (copied to `name`);
 * for plan routes the action (*action). */
static graft__admin_route graft__admin_route_of(const char *url, char *name, size_t cap,
                                                graft_plan_action *action)
{
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0) {
        return GRAFT__ROUTE_PAGE;
    }
    if (strcmp(url, "/metrics") == 0) {
        return GRAFT__ROUTE_METRICS;
    }
    if (strcmp(url, "/api/seams") == 0 || strcmp(url, "/api/seams/") == 0) {
        return GRAFT__ROUTE_SEAMS;
    }
    static const char prefix[] = "/api/seams/";
    if (strncmp(url, prefix, sizeof prefix - 1) != 0) {
        return GRAFT__ROUTE_NONE;
    }
    const char *rest = url + sizeof prefix - 1;
    size_t len = strlen(rest), stem = len;
    graft__admin_route route = GRAFT__ROUTE_SEAM;
    if (graft__admin_ends_with(rest, len, "/breaker/reset", &stem)) {
        route = GRAFT__ROUTE_BREAKER_RESET;
    } else if (graft__admin_ends_with(rest, len, "/fault", &stem)) {
        route = GRAFT__ROUTE_FAULT;
    } else if (graft__admin_ends_with(rest, len, "/verify", &stem)) {
        route = GRAFT__ROUTE_VERIFY;
    } else {
        const char *plan = strstr(rest, "/plan/");
        if (plan && graft_plan_action_parse(plan + 6, action) == GRAFT_OK) {
            route = GRAFT__ROUTE_PLAN;
            stem = (size_t)(plan - rest);
        }
    }
    if (stem == 0 || stem >= cap || memchr(rest, '/', stem)) {
        return GRAFT__ROUTE_NONE;
    }
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
    case GRAFT__ROUTE_VERIFY:
    case GRAFT__ROUTE_PLAN:
        return "POST";
    case GRAFT__ROUTE_FAULT:
        return "PUT, DELETE";
    default:
        return NULL;
    }
}

static bool graft__admin_method_ok(graft__admin_route route, const char *method)
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
    case GRAFT__ROUTE_VERIFY:
    case GRAFT__ROUTE_PLAN:
        return strcmp(method, "POST") == 0;
    case GRAFT__ROUTE_FAULT:
        return strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0;
    default:
        return false;
    }
}

static bool graft__admin_is_loopback(const struct sockaddr *sa);

/* Case-insensitive equality of a counted string and a C string. */
static bool graft__admin_eq(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

/* Whether `host` (a Host header) names this endpoint: a loopback name, the host of the
 * bound address as given, or the address this connection reached (for 0.0.0.0 and ::),
 * with the bound port (or none when that is 80). Any other name (a rebound DNS name
 * above all) is refused. */
static bool graft__admin_host_ok(const graft_admin *admin, struct MHD_Connection *conn,
                                 const char *host)
{
    size_t len = strlen(host);
    if (len == 0 || len >= GRAFT__ADMIN_MAX_HOST) {
        return false;
    }
    const char *port = NULL;
    size_t nlen = len;
    if (host[0] == '[') {
        const char *close = memchr(host, ']', len);
        if (!close) {
            return false;
        }
        nlen = (size_t)(close - host) + 1;
        if (nlen < len) {
            if (host[nlen] != ':') {
                return false;
            }
            port = host + nlen + 1;
        }
    } else {
        const char *colon = strrchr(host, ':');
        if (colon) {
            nlen = (size_t)(colon - host);
            port = colon + 1;
        }
    }
    unsigned long want = admin->port;
    if (port) {
        size_t plen = strlen(port);
        if (plen == 0 || plen > 5 || strspn(port, "0123456789") != plen ||
            strtoul(port, NULL, 10) != want) {
            return false;
        }
    } else if (want != 80u) {
        return false;
    }
    if (graft__admin_eq(host, nlen, "localhost") || graft__admin_eq(host, nlen, "127.0.0.1") ||
        graft__admin_eq(host, nlen, "[::1]") || graft__admin_eq(host, nlen, admin->bound_host)) {
        return true;
    }
    /* The local address of this connection, as a literal. */
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (!ci || getsockname(ci->connect_fd, (struct sockaddr *)&ss, &sl) != 0) {
        return false;
    }
    char lit[INET6_ADDRSTRLEN + 2];
    if (ss.ss_family == AF_INET) {
        if (!inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, lit, sizeof lit)) {
            return false;
        }
    } else if (ss.ss_family == AF_INET6) {
        const struct in6_addr *a6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        lit[0] = '[';
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            /* An IPv4 client on a dual-stack socket names the IPv4 address. */
            if (!inet_ntop(AF_INET, &a6->s6_addr[12], lit, sizeof lit)) {
                return false;
            }
            return graft__admin_eq(host, nlen, lit);
        }
        if (!inet_ntop(AF_INET6, a6, lit + 1, sizeof lit - 2)) {
            return false;
        }
        strcat(lit, "]");
    } else {
        return false;
    }
    return graft__admin_eq(host, nlen, lit);
}

/* Same-origin: the Origin header, when a browser sends one, must be this endpoint as the
 * (already checked) Host header names it. "null" and every other origin are foreign. */
static bool graft__admin_origin_ok(const char *origin, const char *host)
{
    if (!origin) {
        return true;
    }
    size_t skip;
    if (strncasecmp(origin, "http://", 7) == 0) {
        skip = 7;
    } else if (strncasecmp(origin, "https://", 8) == 0) {
        skip = 8;
    } else {
        return false;
    }
    return strcasecmp(origin + skip, host) == 0;
}

/* A change must carry something a cross-origin page can only send after a CORS
 * preflight (which this endpoint never grants): a JSON content type or the
 * X-Graft-Admin header. A CORS "simple request" (a form POST, a no-cors fetch)
 * therefore changes nothing. (Authorization would do as well, but one rule that holds
 * with or without a token is easier to check.) */
static bool graft__admin_not_simple(struct MHD_Connection *conn)
{
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    if (ct) {
        static const char json[] = "application/json";
        size_t n = sizeof json - 1;
        if (strncasecmp(ct, json, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ')) {
            return true;
        }
    }
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Graft-Admin");
}

/* Checks done before any body byte is read: NUL, Host, Origin, route, method, token,
 * CSRF, declared size. */
static enum MHD_Result graft__admin_precheck(graft_admin *admin, struct MHD_Connection *conn,
                                             const char *url, const char *method,
                                             const graft__admin_req *req, bool *replied)
{
    *replied = true;
    if (req->nul_in_url) {
        return graft__admin_error(conn, MHD_HTTP_BAD_REQUEST, NULL, "URL contains a NUL (%%00)");
    }
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!host) {
        return graft__admin_error(conn, MHD_HTTP_BAD_REQUEST, NULL, "a Host header is required");
    }
    if (!graft__admin_host_ok(admin, conn, host)) {
        return graft__admin_error(conn, MHD_HTTP_FORBIDDEN, NULL,
                                  "Host '%.200s' does not name this endpoint (use %s:%u, "
                                  "localhost, 127.0.0.1 or [::1] with port %u)",
                                  host, admin->bound_host, (unsigned)admin->port,
                                  (unsigned)admin->port);
    }
    if (!graft__admin_origin_ok(
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN), host)) {
        return graft__admin_error(conn, MHD_HTTP_FORBIDDEN, NULL,
                                  "cross-origin request refused (Origin is not http://%.200s)",
                                  host);
    }
    char name[GRAFT__ADMIN_MAX_NAME];
    graft_plan_action action = GRAFT_PLAN_ACTION_PAUSE;
    graft__admin_route route = graft__admin_route_of(url, name, sizeof name, &action);
    if (route == GRAFT__ROUTE_NONE) {
        return graft__admin_error(conn, MHD_HTTP_NOT_FOUND, NULL, "no such resource: %.200s", url);
    }
    if (!graft__admin_method_ok(route, method)) {
        return graft__admin_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, graft__admin_allowed(route),
                                  "method %.16s not allowed on %.200s (allowed: %s)", method, url,
                                  graft__admin_allowed(route));
    }
    /* The page is static and holds no data: it loads without a token and then asks
     * for one, so an operator can paste it in the browser. */
    if (route != GRAFT__ROUTE_PAGE && !graft__admin_authorized(admin, conn)) {
        return graft__admin_error(conn, MHD_HTTP_UNAUTHORIZED, NULL,
                                  "missing or wrong bearer token");
    }
    int change = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
    if (change && !graft__admin_not_simple(conn)) {
        return graft__admin_error(conn, MHD_HTTP_FORBIDDEN, NULL,
                                  "a change needs Content-Type: application/json or an "
                                  "X-Graft-Admin header (a cross-origin page cannot send "
                                  "either)");
    }
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end = NULL;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end == cl || n > GRAFT__ADMIN_MAX_BODY) {
            return graft__admin_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
                                      "request body larger than %u bytes", GRAFT__ADMIN_MAX_BODY);
        }
    }
    *replied = false;
    return MHD_YES;
}

static enum MHD_Result graft__admin_dispatch(graft_admin *admin, struct MHD_Connection *conn,
                                             const char *url, const char *method,
                                             graft__admin_req *req)
{
    char name[GRAFT__ADMIN_MAX_NAME];
    graft_plan_action action = GRAFT_PLAN_ACTION_PAUSE;
    graft__admin_route route = graft__admin_route_of(url, name, sizeof name, &action);
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
        if (st != GRAFT_OK) {
            return graft__admin_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
                                      "metrics unavailable: %s", graft_strerror(st));
        }
        return graft__admin_send(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                                 text, len, graft_free, NULL, NULL);
    case GRAFT__ROUTE_SEAMS:
        st = graft_metrics_json(admin->rt, &text, &len);
        if (st != GRAFT_OK) {
            return graft__admin_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
                                      "metrics unavailable: %s", graft_strerror(st));
        }
        return graft__admin_send(conn, MHD_HTTP_OK, "application/json", text, len, graft_free, NULL,
                                 NULL);
    default:
        break;
    }
    graft_seam *seam = graft_seam_find(admin->rt, name);
    if (!seam) {
        return graft__admin_error(conn, MHD_HTTP_NOT_FOUND, NULL, "unknown seam '%s'", name);
    }
    if (req->too_big) {
        return graft__admin_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
                                  "request body larger than %u bytes", GRAFT__ADMIN_MAX_BODY);
    }
    switch (route) {
    case GRAFT__ROUTE_SEAM:
        if (strcmp(method, "PUT") == 0) {
            return graft__admin_put_mode(admin, conn, seam, req);
        }
        return graft__admin_send_seam(conn, seam);
    case GRAFT__ROUTE_BREAKER_RESET:
        st = graft_seam_reset_breaker(seam);
        if (st != GRAFT_OK) {
            return graft__admin_error(conn, graft__admin_http_status(st), NULL,
                                      "breaker reset refused: %s", graft_strerror(st));
        }
        graft__admin_log(admin->rt, GRAFT_LOG_INFO, "seam %s: breaker reset", name);
        return graft__admin_send_seam(conn, seam);
    case GRAFT__ROUTE_FAULT:
        return graft__admin_put_fault(conn, seam, req, strcmp(method, "DELETE") == 0);
    case GRAFT__ROUTE_VERIFY: {
        /* A stateful seam's verify pass (graft/stateful.h); the result is in the seam's
         * "stateful.verify". */
        graft_stateful *sf = graft_stateful_of(seam);
        if (!sf) {
            return graft__admin_error(conn, MHD_HTTP_BAD_REQUEST, NULL,
                                      "seam %s is not a stateful seam", name);
        }
        st = graft_stateful_verify(sf, NULL);
        if (st != GRAFT_OK) {
            return graft__admin_error(conn, graft__admin_http_status(st), NULL,
                                      "verify refused: %s (a backfill runs, or the stage writes "
                                      "one store only)",
                                      graft_strerror(st));
        }
        graft__admin_log(admin->rt, GRAFT_LOG_INFO, "seam %s: verify", name);
        return graft__admin_send_seam(conn, seam);
    }
    case GRAFT__ROUTE_PLAN:
        st = graft_seam_plan_control(seam, action);
        if (st != GRAFT_OK) {
            graft_plan_status ps;
            graft_seam_plan_status(seam, &ps);
            return graft__admin_error(conn, graft__admin_http_status(st), NULL,
                                      "plan action refused: the plan is %s",
                                      graft_plan_state_name(ps.state));
        }
        graft__admin_log(admin->rt, GRAFT_LOG_INFO, "seam %s: plan action applied", name);
        return graft__admin_send_seam(conn, seam);
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
    if (!req) {
        return MHD_NO; /* graft__admin_uri_log could not allocate: close */
    }
    if (!req->started) {
        req->started = true;
        bool replied = false;
        enum MHD_Result r = graft__admin_precheck(admin, conn, url, method, req, &replied);
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
            req->too_big = true;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return graft__admin_dispatch(admin, conn, url, method, req);
}

/* Called with the raw request URI before it is decoded: its return value is the
 * request's state. A decoded "%00" would silently end the URL early
 * ("/api/seams/kv.parse%00junk" read as kv.parse), so it is noted here. */
static void *graft__admin_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    graft__admin_req *req = calloc(1, sizeof *req);
    if (!req) {
        return NULL;
    }
    for (const char *p = uri; (p = strchr(p, '%')); p++) {
        if (p[1] == '0' && p[2] == '0') {
            req->nul_in_url = true;
        }
    }
    return req;
}

static void graft__admin_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                                   enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
    /* The next request on this connection gets a deadline of its own. */
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci && ci->socket_context) {
        ((graft__admin_conn *)ci->socket_context)->since_ms = graft__admin_now_ms();
    }
}

/* The connection's peer address bytes (4 or 16) and whether it is loopback. */
static size_t graft__admin_peer(const struct sockaddr *sa, unsigned char ip[16], bool *loopback)
{
    *loopback = sa && graft__admin_is_loopback(sa);
    if (sa && sa->sa_family == AF_INET) {
        memcpy(ip, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 4;
    }
    if (sa && sa->sa_family == AF_INET6) {
        memcpy(ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return 16;
    }
    return 0;
}

/* Ends a connection from our side: libmicrohttpd sees it closed on its next poll and
 * cleans it up (NOTIFY_CLOSED), on this same thread, so the fd is still its own. */
static void graft__admin_shut(graft__admin_conn *c)
{
    assert(c->fd >= 0 && !c->closing);
    shutdown(c->fd, SHUT_RDWR);
    c->closing = true;
}

/* Accept policy: a non-loopback address may hold at most GRAFT__ADMIN_PER_IP
 * connections, so one remote host cannot fill the budget. */
static enum MHD_Result graft__admin_accept(void *cls, const struct sockaddr *addr,
                                           socklen_t addrlen)
{
    (void)addrlen;
    graft_admin *admin = cls;
    unsigned char ip[16];
    bool loopback;
    size_t iplen = graft__admin_peer(addr, ip, &loopback);
    if (loopback) {
        return MHD_YES;
    }
    unsigned n = 0;
    for (size_t i = 0; i < GRAFT__ADMIN_HARD_CONNECTIONS; i++) {
        const graft__admin_conn *c = &admin->conns[i];
        if (c->fd >= 0 && !c->closing && c->iplen == iplen && memcmp(c->ip, ip, iplen) == 0) {
            n++;
        }
    }
    if (n >= GRAFT__ADMIN_PER_IP) {
        admin->refused_ip++;
        return MHD_NO;
    }
    return MHD_YES;
}

/* Connection start and end: the table the budget and the deadline work on. */
static void graft__admin_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                                enum MHD_ConnectionNotificationCode toe)
{
    graft_admin *admin = cls;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        graft__admin_conn *c = *socket_context;
        if (c) {
            c->fd = -1;
        }
        *socket_context = NULL;
        return;
    }
    const union MHD_ConnectionInfo *fdi =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *addr =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    graft__admin_conn *slot = NULL, *oldest = NULL;
    unsigned live = 0;
    for (size_t i = 0; i < GRAFT__ADMIN_HARD_CONNECTIONS; i++) {
        graft__admin_conn *c = &admin->conns[i];
        if (c->fd < 0) {
            if (!slot) {
                slot = c;
            }
        } else if (!c->closing) {
            live++;
            if (!oldest || c->since_ms < oldest->since_ms) {
                oldest = c;
            }
        }
    }
    *socket_context = NULL;
    if (!fdi) {
        return;
    }
    if (!slot) {
        /* Cannot happen (the table is libmicrohttpd's limit), but never run untracked. */
        shutdown(fdi->connect_fd, SHUT_RDWR);
        return;
    }
    memset(slot, 0, sizeof *slot);
    slot->fd = fdi->connect_fd;
    slot->since_ms =
        fdi->connect_fd == admin->handing_fd ? admin->handing_since_ms : graft__admin_now_ms();
    slot->iplen = graft__admin_peer(addr ? addr->client_addr : NULL, slot->ip, &slot->loopback);
    *socket_context = slot;
    /* Over budget: the oldest goes, so the newcomer is served. Trickling clients are
     * always older than a rollback that has just connected. */
    if (live >= GRAFT__ADMIN_MAX_CONNECTIONS && oldest) {
        graft__admin_shut(oldest);
        admin->evicted++;
    }
}

/* Ends a connection libmicrohttpd has not been given. */
static void graft__admin_drop_pending(graft__admin_pending *p)
{
    assert(p->fd >= 0);
    close(p->fd);
    p->fd = -1;
}

/* After each round of libmicrohttpd's work: end connections past their deadline, and
 * say so (at most once a second). */
static void graft__admin_reap(graft_admin *admin)
{
    uint64_t now = graft__admin_now_ms();
    for (size_t i = 0; i < GRAFT__ADMIN_HARD_CONNECTIONS; i++) {
        graft__admin_conn *c = &admin->conns[i];
        if (c->fd >= 0 && !c->closing && now - c->since_ms > GRAFT__ADMIN_DEADLINE_MS) {
            graft__admin_shut(c);
            admin->expired++;
        }
    }
    for (size_t i = 0; i < GRAFT__ADMIN_MAX_PENDING; i++) {
        graft__admin_pending *p = &admin->pending[i];
        if (p->fd >= 0 && now - p->since_ms > GRAFT__ADMIN_DEADLINE_MS) {
            graft__admin_drop_pending(p);
            admin->expired++;
        }
    }
    if (now - admin->logged_ms < 1000u) {
        return;
    }
    if (admin->expired != admin->logged_expired || admin->evicted != admin->logged_evicted ||
        admin->refused_ip != admin->logged_refused_ip ||
        admin->refused_raw != admin->logged_refused_raw) {
        graft__admin_log(
            admin->rt, GRAFT_LOG_WARN,
            "closed %llu connection(s) over the %u ms request deadline, evicted "
            "%llu over the %u-connection budget, refused %llu over %u per remote "
            "address, refused %llu with NUL, bare CR or oversize headers (since the "
            "last report)",
            (unsigned long long)(admin->expired - admin->logged_expired), GRAFT__ADMIN_DEADLINE_MS,
            (unsigned long long)(admin->evicted - admin->logged_evicted),
            GRAFT__ADMIN_MAX_CONNECTIONS,
            (unsigned long long)(admin->refused_ip - admin->logged_refused_ip), GRAFT__ADMIN_PER_IP,
            (unsigned long long)(admin->refused_raw - admin->logged_refused_raw));
        admin->logged_expired = admin->expired;
        admin->logged_evicted = admin->evicted;
        admin->logged_refused_ip = admin->refused_ip;
        admin->logged_refused_raw = admin->refused_raw;
    }
    admin->logged_ms = now;
}

/* Refuses a connection that has not reached libmicrohttpd: what it sent so far is read
 * (so closing does not reset the answer away), a JSON error is sent, and it is closed. */
static void graft__admin_refuse_raw(graft_admin *admin, graft__admin_pending *p, const char *status,
                                    const char *msg)
{
    assert(p->fd >= 0);
    for (unsigned i = 0; i < 4u; i++) {
        if (recv(p->fd, admin->peek, sizeof admin->peek, MSG_DONTWAIT) <= 0) {
            break;
        }
    }
    char out[512];
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %s\r\nContent-Type: application/json\r\nCache-Control: "
                     "no-store\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n"
                     "{\"error\":\"%s\"}",
                     status, strlen(msg) + 12u, msg);
    if (n > 0 && (size_t)n < sizeof out) {
        /* Best effort: a few hundred bytes fit in any fresh socket's send buffer. */
        ssize_t w = send(p->fd, out, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
        (void)w;
    }
    shutdown(p->fd, SHUT_WR);
    close(p->fd);
    p->fd = -1;
    admin->refused_raw++;
}

typedef enum {
    GRAFT__ADMIN_SCAN_MORE,
    GRAFT__ADMIN_SCAN_DONE,
    GRAFT__ADMIN_SCAN_BAD
} graft__admin_scan_result;

/* Checks bytes [p->scanned, n) of the peeked stream: the request line and every header
 * line up to the blank line must hold no NUL and no CR that is not followed by LF,
 * the bytes libmicrohttpd 0.9.75 would silently cut a line or value at. Empty lines
 * before the request line are skipped (as libmicrohttpd does). A CR at the end of what
 * has arrived waits for the next byte. */
static graft__admin_scan_result graft__admin_scan(graft__admin_pending *p, const char *buf,
                                                  size_t n)
{
    size_t i = p->scanned;
    for (; i < n; i++) {
        unsigned char b = (unsigned char)buf[i];
        if (b == '\0') {
            return GRAFT__ADMIN_SCAN_BAD;
        }
        if (b == '\r') {
            if (i + 1 == n) {
                break; /* its LF has not arrived yet */
            }
            if (buf[i + 1] != '\n') {
                return GRAFT__ADMIN_SCAN_BAD;
            }
            continue;
        }
        if (b != '\n') {
            p->line_len++;
            continue;
        }
        if (p->line_len != 0) {
            p->seen_line = true;
            p->line_len = 0;
        } else if (p->seen_line) {
            p->scanned = i + 1;
            return GRAFT__ADMIN_SCAN_DONE;
        }
    }
    p->scanned = i;
    return GRAFT__ADMIN_SCAN_MORE;
}

/* A pending connection has bytes: peek at all of them, check what is new, and when the
 * header block is complete and clean hand the socket (nothing consumed) to
 * libmicrohttpd. */
static void graft__admin_peek_one(graft_admin *admin, graft__admin_pending *p)
{
    ssize_t got = recv(p->fd, admin->peek, sizeof admin->peek, MSG_PEEK | MSG_DONTWAIT);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        graft__admin_drop_pending(p); /* gone before it finished its headers */
        return;
    }
    if (got < 0) {
        return;
    }
    if (p->peeked != 0 && (size_t)got == p->peeked) {
        /* Readable below the low-water mark with nothing new: the peer has shut its side
         * down part-way through its headers. */
        graft__admin_drop_pending(p);
        return;
    }
    switch (graft__admin_scan(p, admin->peek, (size_t)got)) {
    case GRAFT__ADMIN_SCAN_BAD:
        graft__admin_refuse_raw(admin, p, "400 Bad Request",
                                "NUL or bare CR in the request line or a header");
        return;
    case GRAFT__ADMIN_SCAN_MORE: {
        if ((size_t)got == sizeof admin->peek) {
            graft__admin_refuse_raw(admin, p, "431 Request Header Fields Too Large",
                                    "request line and headers too large");
            return;
        }
        /* Peeked bytes stay readable, so a level-triggered poll would report this
         * socket at once, forever: wake only when more than these have arrived (or the
         * peer is gone). */
        int lowat = (int)got + 1;
        if (setsockopt(p->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat) != 0) {
            graft__admin_drop_pending(p);
            return;
        }
        p->peeked = (size_t)got;
        return;
    }
    case GRAFT__ADMIN_SCAN_DONE:
        break;
    }
    int fd = p->fd;
    p->fd = -1;
    if (p->peeked != 0) {
        int one = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one) != 0) {
            close(fd);
            return;
        }
    }
    admin->handing_fd = fd;
    admin->handing_since_ms = p->since_ms;
    /* libmicrohttpd closes the socket itself if it cannot take it. */
    if (MHD_add_connection(admin->daemon, fd, (const struct sockaddr *)&p->addr, p->addrlen) !=
        MHD_YES) {
        graft__admin_log(admin->rt, GRAFT_LOG_WARN, "admin endpoint: a connection was dropped: %s",
                         strerror(errno));
    }
    admin->handing_fd = -1;
}

/* Takes what the listening socket has, within the budget: a non-loopback address may
 * hold GRAFT__ADMIN_PER_IP connections, pending or served; beyond
 * GRAFT__ADMIN_MAX_CONNECTIONS in all, the oldest (pending or served) is evicted so the
 * newcomer, a rollback above all, gets in. */
static void graft__admin_accept_some(graft_admin *admin)
{
    for (unsigned k = 0; k < GRAFT__ADMIN_ACCEPT_BATCH; k++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept(admin->listen_fd, (struct sockaddr *)&ss, &sl);
        if (fd >= 0 && (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
                        fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)) {
            close(fd);
            continue;
        }
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED) {
                graft__admin_log(admin->rt, GRAFT_LOG_WARN, "admin endpoint: accept: %s",
                                 strerror(errno));
            }
            return;
        }
        unsigned char ip[16];
        bool loopback;
        size_t iplen = graft__admin_peer((const struct sockaddr *)&ss, ip, &loopback);
        unsigned live = 0, same = 0;
        graft__admin_conn *oldest = NULL;
        graft__admin_pending *oldest_p = NULL, *slot = NULL;
        for (size_t i = 0; i < GRAFT__ADMIN_HARD_CONNECTIONS; i++) {
            graft__admin_conn *c = &admin->conns[i];
            if (c->fd < 0 || c->closing) {
                continue;
            }
            live++;
            same += c->iplen == iplen && memcmp(c->ip, ip, iplen) == 0;
            if (!oldest || c->since_ms < oldest->since_ms) {
                oldest = c;
            }
        }
        for (size_t i = 0; i < GRAFT__ADMIN_MAX_PENDING; i++) {
            graft__admin_pending *p = &admin->pending[i];
            if (p->fd < 0) {
                slot = slot ? slot : p;
                continue;
            }
            live++;
            same += p->iplen == iplen && memcmp(p->ip, ip, iplen) == 0;
            if (!oldest_p || p->since_ms < oldest_p->since_ms) {
                oldest_p = p;
            }
        }
        if (!loopback && same >= GRAFT__ADMIN_PER_IP) {
            admin->refused_ip++;
            close(fd);
            continue;
        }
        if (live >= GRAFT__ADMIN_MAX_CONNECTIONS || !slot) {
            /* Evict the oldest; a full pending table always gives up one of its own. */
            if (oldest_p && (!slot || !oldest || oldest_p->since_ms <= oldest->since_ms)) {
                graft__admin_drop_pending(oldest_p);
                slot = slot ? slot : oldest_p;
            } else {
                assert(oldest);
                graft__admin_shut(oldest);
            }
            admin->evicted++;
        }
        assert(slot && slot->fd < 0);
        memset(slot, 0, sizeof *slot);
        slot->fd = fd;
        slot->since_ms = graft__admin_now_ms();
        slot->loopback = loopback;
        memcpy(slot->ip, ip, sizeof ip);
        slot->iplen = iplen;
        memcpy(&slot->addr, &ss, sl);
        slot->addrlen = sl;
    }
}

/* The endpoint's thread: one poll over the listening socket, the pending connections
 * and libmicrohttpd's epoll descriptor; then libmicrohttpd's work, the pending
 * connections' headers, new connections and the deadlines, at least every tick. */
static void *graft__admin_loop(void *arg)
{
    graft_admin *admin = arg;
    const union MHD_DaemonInfo *ei = MHD_get_daemon_info(admin->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    int epfd = ei ? ei->epoll_fd : -1;
    struct pollfd pfd[2 + GRAFT__ADMIN_MAX_PENDING];
    graft__admin_pending *who[GRAFT__ADMIN_MAX_PENDING];
    while (!atomic_load(&admin->stop)) {
        nfds_t n = 0;
        pfd[n++] = (struct pollfd){.fd = admin->listen_fd, .events = POLLIN};
        pfd[n++] = (struct pollfd){.fd = epfd, .events = POLLIN};
        for (size_t i = 0; i < GRAFT__ADMIN_MAX_PENDING; i++) {
            if (admin->pending[i].fd >= 0) {
                who[n - 2] = &admin->pending[i];
                pfd[n++] = (struct pollfd){.fd = admin->pending[i].fd, .events = POLLIN};
            }
        }
        int timeout = (int)GRAFT__ADMIN_TICK_MS;
        MHD_UNSIGNED_LONG_LONG mt = 0;
        if (MHD_get_timeout(admin->daemon, &mt) == MHD_YES &&
            mt < (MHD_UNSIGNED_LONG_LONG)timeout) {
            timeout = (int)mt;
        }
        if (poll(pfd, n, timeout) < 0 && errno != EINTR) {
            /* Cannot happen with valid descriptors; wait out the tick rather than spin. */
            struct timespec ts = {0, (long)GRAFT__ADMIN_TICK_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
        MHD_run(admin->daemon);
        for (nfds_t i = 2; i < n; i++) {
            if (pfd[i].revents != 0 && who[i - 2]->fd == pfd[i].fd) {
                graft__admin_peek_one(admin, who[i - 2]);
            }
        }
        if (pfd[0].revents != 0) {
            graft__admin_accept_some(admin);
        }
        graft__admin_reap(admin);
    }
    return NULL;
}

static bool graft__admin_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127u;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) {
            return true;
        }
        /* ::ffff:127.x.y.z */
        return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127u;
    }
    return false;
}

/* "127.0.0.1:9100", "[::1]:9100", "localhost:0" -> a socket address. */
static int graft__admin_resolve(graft_runtime *rt, const char *addr, struct sockaddr_storage *out,
                                socklen_t *outlen)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || colon[1] == '\0') {
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
    if (rc != 0 || !res) {
        graft__admin_log(rt, GRAFT_LOG_ERROR, "admin address '%s': %s", addr, gai_strerror(rc));
        return GRAFT_EINVAL;
    }
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *outlen = res->ai_addrlen;
    freeaddrinfo(res);
    return GRAFT_OK;
}

/* Bytes of randomness in a generated token (printed as hex: 48 characters). */
#define GRAFT__ADMIN_TOKEN_BYTES 24u

/* Where a generated token goes: $GRAFT_ADMIN_TOKEN_FILE, else
 * $XDG_RUNTIME_DIR/graft/admin-PORT.token, else /tmp/graft-UID/admin-PORT.token; the
 * directory is created 0700 and must be ours and private. graftctl looks in the same
 * place (tools/graftctl/graftctl.c, token_path): keep the two in step. */
static int graft__admin_token_path(graft_runtime *rt, uint16_t port, char *out, size_t cap)
{
    const char *given = getenv("GRAFT_ADMIN_TOKEN_FILE");
    if (given && given[0] != '\0') {
        if ((size_t)snprintf(out, cap, "%s", given) >= cap) {
            return GRAFT_EINVAL;
        }
        return GRAFT_OK;
    }
    char dir[PATH_MAX];
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n = xdg && xdg[0] == '/' ? snprintf(dir, sizeof dir, "%s/graft", xdg)
                                 : snprintf(dir, sizeof dir, "/tmp/graft-%u", (unsigned)geteuid());
    if (n < 0 || (size_t)n >= sizeof dir) {
        return GRAFT_EINVAL;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        graft__admin_log(rt, GRAFT_LOG_ERROR, "cannot create %s for the admin token: %s", dir,
                         strerror(errno));
        return GRAFT_EIO;
    }
    /* In /tmp someone else may have made it first: it must be a real directory of ours
     * that nobody else can read or write. */
    struct stat sb;
    if (lstat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid() ||
        (sb.st_mode & 077) != 0) {
        graft__admin_log(rt, GRAFT_LOG_ERROR,
                         "%s is not a private directory of this user (mode 0700); refusing to "
                         "write the admin token there (set GRAFT_ADMIN_TOKEN or "
                         "GRAFT_ADMIN_TOKEN_FILE)",
                         dir);
        return GRAFT_EIO;
    }
    if ((size_t)snprintf(out, cap, "%s/admin-%u.token", dir, (unsigned)port) >= cap) {
        return GRAFT_EINVAL;
    }
    return GRAFT_OK;
}

/* Writes the token, mode 0600, atomically (a new file renamed over any stale one). */
static int graft__admin_write_token(graft_admin *admin)
{
    char path[PATH_MAX], tmp[PATH_MAX + 32];
    int st = graft__admin_token_path(admin->rt, admin->port, path, sizeof path);
    if (st != GRAFT_OK) {
        return st;
    }
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        graft__admin_log(admin->rt, GRAFT_LOG_ERROR, "cannot write the admin token to %s: %s", tmp,
                         strerror(errno));
        return GRAFT_EIO;
    }
    bool ok = write(fd, admin->token, admin->token_len) == (ssize_t)admin->token_len &&
              write(fd, "\n", 1) == 1;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        graft__admin_log(admin->rt, GRAFT_LOG_ERROR, "cannot write the admin token to %s: %s", path,
                         strerror(errno));
        unlink(tmp);
        return GRAFT_EIO;
    }
    admin->token_file = strdup(path);
    if (!admin->token_file) {
        unlink(path);
        return GRAFT_ENOMEM;
    }
    return GRAFT_OK;
}

/* A fresh token: GRAFT__ADMIN_TOKEN_BYTES from the kernel's generator, in hex. */
static char *graft__admin_new_token(graft_runtime *rt)
{
    unsigned char raw[GRAFT__ADMIN_TOKEN_BYTES];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            graft__admin_log(rt, GRAFT_LOG_ERROR, "cannot generate an admin token: %s",
                             strerror(errno));
            return NULL;
        }
        got += (size_t)n;
    }
    char *t = malloc(2 * sizeof raw + 1);
    if (t) {
        for (size_t i = 0; i < sizeof raw; i++) {
            snprintf(t + 2 * i, 3, "%02x", raw[i]);
        }
    }
    memset(raw, 0, sizeof raw);
    return t;
}

static void graft__admin_free(graft_admin *admin)
{
    for (size_t i = 0; i < GRAFT__ADMIN_MAX_PENDING; i++) {
        if (admin->pending[i].fd >= 0) {
            close(admin->pending[i].fd);
        }
    }
    if (admin->listen_fd >= 0) {
        close(admin->listen_fd);
    }
    if (admin->token_file) {
        unlink(admin->token_file);
        free(admin->token_file);
    }
    if (admin->token) {
        /* Scrub the secret before handing the memory back. */
        volatile char *p = admin->token;
        for (size_t i = 0; i < admin->token_len; i++) {
            p[i] = 0;
        }
        free(admin->token);
    }
    free(admin);
}

/* The endpoint's own listening socket (IPv6 only for an IPv6 address, as
 * libmicrohttpd did), and the port it got (port 0 picks one). */
static int graft__admin_listen(graft_admin *admin, const struct sockaddr_storage *ss,
                               socklen_t sslen)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return GRAFT_EIO;
    }
    int one = 1;
    bool ok = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0;
    if (ok && ss->ss_family == AF_INET6) {
        ok = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0;
    }
    struct sockaddr_storage got;
    socklen_t gl = sizeof got;
    ok = ok && bind(fd, (const struct sockaddr *)ss, sslen) == 0 && listen(fd, SOMAXCONN) == 0 &&
         getsockname(fd, (struct sockaddr *)&got, &gl) == 0;
    if (!ok) {
        int e = errno;
        close(fd);
        errno = e;
        return GRAFT_EIO;
    }
    admin->port = got.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&got)->sin6_port)
                                            : ntohs(((struct sockaddr_in *)&got)->sin_port);
    admin->listen_fd = fd;
    return GRAFT_OK;
}

int graft_admin_start(graft_runtime *rt, const char *addr, const char *token, graft_admin **out)
{
    if (!rt || !addr || !out) {
        return GRAFT_ENULL;
    }
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    int st = graft__admin_resolve(rt, addr, &ss, &sslen);
    if (st != GRAFT_OK) {
        return st;
    }
    if (!graft__admin_is_loopback((const struct sockaddr *)&ss)) {
        const char *allow = getenv("GRAFT_ADMIN_ALLOW_REMOTE");
        if (!allow || strcmp(allow, "1") != 0) {
            graft__admin_log(rt, GRAFT_LOG_ERROR,
                             "admin address '%s' is not loopback; refused "
                             "(set GRAFT_ADMIN_ALLOW_REMOTE=1 and a token to allow it)",
                             addr);
            return GRAFT_EINVAL;
        }
        if (!token || token[0] == '\0') {
            graft__admin_log(rt, GRAFT_LOG_ERROR,
                             "admin address '%s' is not loopback and no token is set; refused "
                             "(set GRAFT_ADMIN_TOKEN: without one anyone who can reach the "
                             "port could switch seams)",
                             addr);
            return GRAFT_EINVAL;
        }
    }
    if (token) {
        /* It travels in a header: printable ASCII without spaces, of a sane length. */
        size_t tl = strlen(token);
        bool ok = tl <= 512u;
        for (size_t i = 0; ok && i < tl; i++) {
            ok = token[i] > ' ' && token[i] < 0x7f;
        }
        if (!ok) {
            graft__admin_log(rt, GRAFT_LOG_ERROR,
                             "admin token refused: it must be at most 512 printable ASCII "
                             "characters without spaces");
            return GRAFT_EINVAL;
        }
    }
    graft_admin *admin = calloc(1, sizeof *admin);
    if (!admin) {
        return GRAFT_ENOMEM;
    }
    admin->rt = rt;
    for (size_t i = 0; i < GRAFT__ADMIN_HARD_CONNECTIONS; i++) {
        admin->conns[i].fd = -1;
    }
    for (size_t i = 0; i < GRAFT__ADMIN_MAX_PENDING; i++) {
        admin->pending[i].fd = -1;
    }
    admin->listen_fd = -1;
    admin->handing_fd = -1;
    atomic_init(&admin->stop, 0);
    /* The host part as given ("127.0.0.1", "[::1]", "myhost"), for the Host check;
     * graft__admin_resolve has checked its form and length. */
    size_t hlen = (size_t)(strrchr(addr, ':') - addr);
    if (hlen >= sizeof admin->bound_host) {
        hlen = sizeof admin->bound_host - 1;
    }
    memcpy(admin->bound_host, addr, hlen);
    admin->bound_host[hlen] = '\0';
    bool generated = !token || token[0] == '\0';
    admin->token = generated ? graft__admin_new_token(rt) : strdup(token);
    if (!admin->token) {
        free(admin);
        return generated ? GRAFT_EIO : GRAFT_ENOMEM;
    }
    admin->token_len = strlen(admin->token);
    /* No internal thread: our own runs libmicrohttpd (graft__admin_loop), so the
     * deadline checks and every callback share one thread. epoll, not select(): a host
     * like kvd may hold file descriptors above FD_SETSIZE (and this libmicrohttpd
     * refuses poll() without its internal thread). */
    st = graft__admin_listen(admin, &ss, sslen);
    if (st != GRAFT_OK) {
        graft__admin_log(rt, GRAFT_LOG_ERROR, "admin endpoint could not listen on '%s': %s", addr,
                         strerror(errno));
        graft__admin_free(admin);
        return st;
    }
    /* The listening socket is ours (graft__admin_accept_some): libmicrohttpd gets each
     * connection only once its header block has been checked. */
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET;
    admin->daemon = MHD_start_daemon(
        flags, 0, graft__admin_accept, admin, graft__admin_handler, admin,
        /* The logger must come first or MHD prints early messages itself. */
        MHD_OPTION_EXTERNAL_LOGGER, graft__admin_mhd_log, admin, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)GRAFT__ADMIN_CONN_MEMORY, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)GRAFT__ADMIN_HARD_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)GRAFT__ADMIN_TIMEOUT_S, MHD_OPTION_URI_LOG_CALLBACK, graft__admin_uri_log, admin,
        MHD_OPTION_NOTIFY_CONNECTION, graft__admin_notify, admin, MHD_OPTION_NOTIFY_COMPLETED,
        graft__admin_completed, admin, MHD_OPTION_END);
    if (!admin->daemon) {
        graft__admin_log(rt, GRAFT_LOG_ERROR, "admin endpoint could not listen on '%s'", addr);
        graft__admin_free(admin);
        return GRAFT_EIO;
    }
    /* Nothing is served before the thread runs, so the file exists before any request. */
    st = generated ? graft__admin_write_token(admin) : GRAFT_OK;
    if (st == GRAFT_OK && pthread_create(&admin->thread, NULL, graft__admin_loop, admin) != 0) {
        graft__admin_log(rt, GRAFT_LOG_ERROR, "admin endpoint: cannot start its thread");
        st = GRAFT_EIO;
    }
    if (st != GRAFT_OK) {
        MHD_stop_daemon(admin->daemon);
        graft__admin_free(admin);
        return st;
    }
    admin->thread_started = true;
    if (generated) {
        graft__admin_log(rt, GRAFT_LOG_INFO,
                         "admin endpoint listening on %s (port %u), token generated into %s", addr,
                         (unsigned)admin->port, admin->token_file);
    } else {
        graft__admin_log(rt, GRAFT_LOG_INFO,
                         "admin endpoint listening on %s (port %u), token required", addr,
                         (unsigned)admin->port);
    }
    *out = admin;
    return GRAFT_OK;
}

int graft_admin_start_from_env(graft_runtime *rt, graft_admin **out)
{
    if (!rt || !out) {
        return GRAFT_ENULL;
    }
    const char *addr = getenv("GRAFT_ADMIN");
    if (!addr || addr[0] == '\0') {
        *out = NULL;
        return GRAFT_OK;
    }
    return graft_admin_start(rt, addr, getenv("GRAFT_ADMIN_TOKEN"), out);
}

uint16_t graft_admin_port(const graft_admin *admin)
{
    return admin ? admin->port : 0;
}

void graft_admin_stop(graft_admin *admin)
{
    if (!admin) {
        return;
    }
    atomic_store(&admin->stop, 1);
    if (admin->thread_started) {
        pthread_join(admin->thread, NULL);
    }
    MHD_stop_daemon(admin->daemon);
    graft__admin_free(admin);
}
