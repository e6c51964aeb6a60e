/*
 * kv_graft.c: the seam kv.parse in front of kvd's parser, the facade kvd's hook points
 * to, and kvd's graft start-up (see kv_graft.h). (kv.hash was retired: kvd's storage
 * engine calls the Rust hash directly, see docs/MIGRATION.md "Retiring a seam".)
 *
 * The legacy side is the C code (kv_proto.c), the candidate the Rust twin
 * (kvd-rs: kv_rs_parse). libgraft decides per call which one serves; this
 * file only adapts the component signatures to graft's (ctx, input, output) shape and
 * gives libgraft what it needs to compare, describe and capture.
 */
#include "kv_graft.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graft/admin.h"
#include "graft/graft_ffi.h"
#include "kv_rs.h"
#include "kv_seams.h"

/* Installed seams: written at start-up and shutdown only, while no request is served
 * (thread creation and joining order those writes with every reader). */
static graft_seam *kv__parse_seam;

/* ------------------------------------------------------------------ describe */

/* kv_request has no padding (kv_proto.h made the 4 bytes before exptime the field
 * `reserved`), so equal fields mean equal bytes and memcmp compares every field: one
 * 72-byte vector compare on shadow's hot path instead of 18 branches. */
_Static_assert(sizeof(kv_request) == 4 + 11 * 4 + 3 * 8, "kv_request must have no padding");

int kv_request_equal(const kv_request *a, const kv_request *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

/* A bounded string builder: keeps counting past the end, like snprintf. */
typedef struct kv__sb {
    char *p;
    size_t cap;
    size_t len;
} kv__sb;

static void kv__sb_printf(kv__sb *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = sb->len < sb->cap ? sb->cap - sb->len : 0;
    int n = vsnprintf(room ? sb->p + sb->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) {
        sb->len += (size_t)n;
    }
}

/* Quotes buf[off..off+n) escaped, at most 48 bytes of it, if it lies inside buf. */
static void kv__sb_quote(kv__sb *sb, const char *buf, size_t len, uint32_t off, uint32_t n)
{
    if (buf == NULL || n == 0) {
        return;
    }
    if ((uint64_t)off + n > len) {
        kv__sb_printf(sb, " (outside the %zu-byte buffer)", len);
        return;
    }
    kv__sb_printf(sb, " \"");
    for (uint32_t i = 0; i < n && i < 48; i++) {
        unsigned char c = (unsigned char)buf[off + i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            kv__sb_printf(sb, "%c", c);
        } else {
            kv__sb_printf(sb, "\\x%02x", c);
        }
    }
    kv__sb_printf(sb, "\"%s", n > 48 ? "..." : "");
}

size_t kv_request_describe(const char *buf, size_t len, const kv_request *req, char *out,
                           size_t cap)
{
    kv__sb sb = {out, cap, 0};
    if (cap > 0) {
        out[0] = '\0';
    }
    kv__sb_printf(&sb, "%s cmd=%s error=%s noreply=%u consumed=%" PRIu32 " swallow=%" PRIu32,
                  kv_parse_status_name(req->status), kv_cmd_name(req->cmd),
                  kv_parse_error_name(req->error), (unsigned)req->noreply, req->consumed,
                  req->swallow);
    kv__sb_printf(&sb, " keys=%" PRIu32 "@%" PRIu32 "+%" PRIu32, req->nkeys, req->key_off,
                  req->key_len);
    kv__sb_quote(&sb, buf, len, req->key_off, req->key_len);
    kv__sb_printf(&sb, " data=%" PRIu32 "+%" PRIu32 " arg=%" PRIu32 "+%" PRIu32, req->data_off,
                  req->data_len, req->arg_off, req->arg_len);
    kv__sb_quote(&sb, buf, len, req->arg_off, req->arg_len);
    kv__sb_printf(&sb,
                  " flags=%" PRIu32 " reserved=%" PRIu32 " exptime=%" PRId64 " cas=%" PRIu64
                  " delta=%" PRIu64,
                  req->flags, req->reserved, req->exptime, req->cas, req->delta);
    return sb.len;
}

/* ------------------------------------------------------------------ capture format */

static void kv__put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t kv__get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t kv_parse_input_serialize(const kv_parse_input *in, void *buf, size_t cap)
{
    size_t need = 12 + in->len;
    if (cap >= need) {
        unsigned char *p = buf;
        memcpy(p, "KVP1", 4);
        kv__put_u32(p + 4, in->limits.item_size_max);
        kv__put_u32(p + 8, in->limits.max_line);
        if (in->len) {
            memcpy(p + 12, in->buf, in->len);
        }
    }
    return need;
}

void kv_parse_input_deserialize(const void *data, size_t len, kv_parse_input *in)
{
    const unsigned char *p = data;
    if (len >= 12 && memcmp(p, "KVP1", 4) == 0) {
        in->limits.item_size_max = kv__get_u32(p + 4);
        in->limits.max_line = kv__get_u32(p + 8);
        in->buf = (const char *)p + 12;
        in->len = len - 12;
        return;
    }
    in->limits.item_size_max = KV_GRAFT_DEFAULT_ITEM_SIZE_MAX;
    in->limits.max_line = KV_GRAFT_DEFAULT_MAX_LINE;
    in->buf = (const char *)p;
    in->len = len;
}

/* ------------------------------------------------------------------ kv.parse */

static int kv__parse_legacy(void *ctx, const void *input, void *output)
{
    (void)ctx;
    const kv_parse_input *in = input;
    kv_parse(in->buf, in->len, &in->limits, output);
    return GRAFT_OK;
}

static int kv__parse_candidate(void *ctx, const void *input, void *output)
{
    (void)ctx;
    const kv_parse_input *in = input;
    return kv_rs_parse(in->buf, in->len, &in->limits, output);
}

static int kv__parse_compare(void *ctx, const void *input, const void *legacy_out,
                             const void *candidate_out)
{
    (void)ctx;
    (void)input;
    return kv_request_equal(legacy_out, candidate_out) ? 0 : 1;
}

static size_t kv__parse_serialize(void *ctx, const void *input, void *buf, size_t cap)
{
    (void)ctx;
    return kv_parse_input_serialize(input, buf, cap);
}

static size_t kv__parse_describe(void *ctx, const void *input, const void *output, char *buf,
                                 size_t cap)
{
    (void)ctx;
    const kv_parse_input *in = input;
    return kv_request_describe(in->buf, in->len, output, buf, cap);
}

/* The input copy asynchronous shadow runs on: the kv_parse_input, then the bytes it
 * points at, its buf pointing into the copy. Pure: kv_parse reads only these. */
static size_t kv__parse_copy(void *ctx, const void *input, void *buf, size_t cap)
{
    (void)ctx;
    const kv_parse_input *in = input;
    size_t head = (sizeof(kv_parse_input) + 15u) & ~(size_t)15u;
    size_t need = head + in->len;
    if (need <= cap) {
        kv_parse_input *c = buf;
        char *bytes = (char *)buf + head;
        memcpy(bytes, in->buf, in->len);
        c->buf = bytes;
        c->len = in->len;
        c->limits = in->limits;
    }
    return need;
}

/* ------------------------------------------------------------------ install */

int kv_graft_install(graft_runtime *rt)
{
    /* A candidate panicking on every call must not print two stderr lines per call. */
    graft_ffi_rate_limit_panic_hook();
    graft_seam_def parse = {
        .name = "kv.parse",
        .legacy = kv__parse_legacy,
        .candidate = kv__parse_candidate,
        .output_size = sizeof(kv_request),
        .compare = kv__parse_compare,
        .serialize_input = kv__parse_serialize,
        .describe_output = kv__parse_describe,
        .purity = GRAFT_PURITY_PURE,
        .copy_input = kv__parse_copy,
    };
    graft_seam *ps;
    int rc = graft_seam_register(rt, &parse, &ps);
    if (rc != GRAFT_OK) {
        return rc;
    }
    kv__parse_seam = ps;
    return GRAFT_OK;
}

void kv_graft_uninstall(void)
{
    kv__parse_seam = NULL;
}

graft_seam *kv_graft_parse_seam(void)
{
    return kv__parse_seam;
}

/* ------------------------------------------------------------------ facade */

int kv_graft_parse_status(uint64_t conn_id, const char *buf, size_t len,
                          const kv_parse_limits *limits, kv_request *out)
{
    graft_seam *seam = kv__parse_seam;
    if (seam == NULL) {
        kv_parse(buf, len, limits, out);
        return GRAFT_OK;
    }
    kv_parse_input in = {buf, len, *limits};
    kv_request scratch;
    int rc = graft_call(seam, conn_id, 0, &in, out, &scratch);
    if (rc != GRAFT_OK) {
        /* No implementation could answer (candidate-only without fallback): this
         * connection cannot be served safely; the failure is counted by the seam. */
        memset(out, 0, sizeof(*out));
        out->status = KV_PARSE_CLOSE;
    }
    return rc;
}

void kv_graft_parse(uint64_t conn_id, const char *buf, size_t len, const kv_parse_limits *limits,
                    kv_request *out)
{
    (void)kv_graft_parse_status(conn_id, buf, len, limits, out);
}

/* ------------------------------------------------------------------ start-up */

struct kv_graft {
    graft_runtime *rt;
    graft_admin *admin;
    kv_graft_hooks hooks; /* installed ones (uninstall before the runtime is freed) */
};

int kv_graft_start(kv_graft **out, char *err, size_t errlen)
{
    return kv_graft_start_with(out, NULL, err, errlen);
}

int kv_graft_start_with(kv_graft **out, const kv_graft_hooks *hooks, char *err, size_t errlen)
{
    kv_graft *g = calloc(1, sizeof *g);
    if (g == NULL) {
        snprintf(err, errlen, "out of memory");
        return GRAFT_ENOMEM;
    }
    graft_runtime_options opts;
    graft_runtime_options_init(&opts);
    opts.arm_panic = graft_ffi_fault_arm_panic;
    int rc = graft_runtime_new(&opts, &g->rt);
    if (rc != GRAFT_OK) {
        snprintf(err, errlen, "graft runtime: %s", graft_strerror(rc));
        free(g);
        return rc;
    }
    /* Rust-side logs (caught panics, ...) go to the same sink as the runtime's. */
    graft_ffi_set_logger(graft_runtime_log_sink, g->rt, GRAFT_LOG_WARN);
    rc = kv_graft_install(g->rt);
    if (rc != GRAFT_OK) {
        snprintf(err, errlen, "registering kv.parse: %s", graft_strerror(rc));
        goto fail;
    }
    if (hooks != NULL && hooks->install != NULL) {
        rc = hooks->install(g->rt, hooks->ctx);
        if (rc != GRAFT_OK) {
            snprintf(err, errlen, "registering the host's seams: %s", graft_strerror(rc));
            goto fail;
        }
        g->hooks = *hooks;
    }
    rc = graft_runtime_configure_from_env(g->rt, err, errlen);
    if (rc != GRAFT_OK) {
        goto fail;
    }
    /* Every seam is registered: configuration naming another is a typo, warned about
     * (refused with GRAFT_STRICT=1). */
    rc = graft_runtime_ready(g->rt, err, errlen);
    if (rc != GRAFT_OK) {
        goto fail;
    }
    /* A fleet steered by one distributed file (docs/OPERATING.md): GRAFT_CONFIG_WATCH=1
     * reloads GRAFT_CONFIG whenever it changes, as SIGHUP does. */
    const char *watch = getenv("GRAFT_CONFIG_WATCH");
    if (watch && strcmp(watch, "1") == 0) {
        rc = graft_config_watch(g->rt, err, errlen);
        if (rc != GRAFT_OK) {
            goto fail;
        }
    }
    rc = graft_admin_start_from_env(g->rt, &g->admin);
    if (rc != GRAFT_OK) {
        snprintf(err, errlen, "admin endpoint (GRAFT_ADMIN): %s", graft_strerror(rc));
        goto fail;
    }
    kv_parse_impl = kv_graft_parse;
    *out = g;
    return GRAFT_OK;
fail:
    if (g->hooks.uninstall != NULL) {
        g->hooks.uninstall(g->hooks.ctx);
    }
    kv_graft_uninstall();
    graft_ffi_set_logger(NULL, NULL, GRAFT_LOG_WARN);
    graft_runtime_free(g->rt);
    free(g);
    return rc;
}

void kv_graft_stop(kv_graft *g)
{
    if (g == NULL) {
        return;
    }
    kv_parse_impl = kv_parse_legacy;
    graft_admin_stop(g->admin);
    if (g->hooks.uninstall != NULL) {
        g->hooks.uninstall(g->hooks.ctx);
    }
    kv_graft_uninstall();
    graft_ffi_set_logger(NULL, NULL, GRAFT_LOG_WARN);
    graft_runtime_free(g->rt);
    free(g);
}

graft_runtime *kv_graft_runtime(kv_graft *g)
{
    return g ? g->rt : NULL;
}
