/*
 * kv_graft.h: kvd on graft. The seam kv.parse in front of kvd's parser, the facade
 * kvd's hook (kv_seams.h: kv_parse_impl) points to, and the helpers the seam, the parity
 * tests, the fuzzers and kv-replay share.
 *
 *   kv.parse  request parser: kv_parse (C, kv_proto.c)  vs kv_rs_parse (Rust, kv-proto)
 *   kv.hash   retired: the C kv_hash is deleted, kv_store.c calls kv_rs_hash_key directly
 *             (tests/golden/kv_hash.vectors pins what the C answered; migration.toml)
 *
 * Once kv_graft_install() has registered kv.parse on a graft runtime, kv_graft_parse
 * routes every call through libgraft (mode, canary, breaker, compare, capture,
 * metrics). Before that, and after kv_graft_uninstall(), it calls the C parser directly.
 *
 * Sticky routing key: the connection id, so a connection sees one implementation.
 *
 * Capture format of kv.parse (what serialize_input writes and kv-replay reads):
 *   "KVP1" | item_size_max (u32 LE) | max_line (u32 LE) | the raw bytes parsed.
 * Files without a header are read as raw input (fuzzer artefacts, corpus files) with
 * kvd's default limits. ("KVH1" | key was kv.hash's capture format while it had a seam.)
 */
#ifndef KV_GRAFT_H
#define KV_GRAFT_H

#include <stddef.h>
#include <stdint.h>

#include "graft/graft.h"
#include "kv_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Input object of the kv.parse seam. */
typedef struct kv_parse_input {
    const char *buf;
    size_t len;
    kv_parse_limits limits;
} kv_parse_input;

/* Limits used for raw (headerless) parse captures: kvd's defaults. */
#define KV_GRAFT_DEFAULT_ITEM_SIZE_MAX (1024u * 1024u)
#define KV_GRAFT_DEFAULT_MAX_LINE 2048u

/* kvd's graft runtime, set up in one call at start-up. */
typedef struct kv_graft kv_graft;

/* Creates the runtime (graft-ffi's arm_panic for panic faults; graft-ffi's log bridge
 * wired to the runtime's sink), registers and installs the seam, applies GRAFT_CONFIG
 * and GRAFT_SEAMS, points kvd's hook (kv_parse_impl) at the facade, and
 * starts the admin endpoint when GRAFT_ADMIN is set. Call before worker threads start.
 * On failure nothing is left running and err names the cause. */
int kv_graft_start(kv_graft **out, char *err, size_t errlen);
/* More seams of the host: install(rt, ctx) runs right after kv.parse is registered and
 * before configuration applies (kvd registers kv.store there, kv_store_seam.h);
 * uninstall(ctx) runs before the runtime is freed (by kv_graft_stop, or on failure). */
typedef struct kv_graft_hooks {
    int (*install)(graft_runtime *rt, void *ctx);
    void (*uninstall)(void *ctx);
    void *ctx;
} kv_graft_hooks;
/* kv_graft_start with hooks (NULL: none). */
int kv_graft_start_with(kv_graft **out, const kv_graft_hooks *hooks, char *err, size_t errlen);
/* Restores the legacy hook, stops the admin endpoint, frees the runtime. Call after
 * worker threads stopped. NULL: no-op. */
void kv_graft_stop(kv_graft *g);
graft_runtime *kv_graft_runtime(kv_graft *g);

/* Registers kv.parse on rt and makes the facade route through it.
 * GRAFT_EEXIST if already registered on rt. Call while no request is served. */
int kv_graft_install(graft_runtime *rt);
/* The facade goes back to calling C directly (call before graft_runtime_free). */
void kv_graft_uninstall(void);
/* The installed seam (NULL when not installed). */
graft_seam *kv_graft_parse_seam(void);

/* Facade of kv_parse (a kv_parse_fn): routed by kv.parse with the connection id as the
 * sticky key. If no implementation could answer (candidate-only, candidate failed)
 * *out says KV_PARSE_CLOSE with KV_ERR_NONE: that one connection is dropped. */
void kv_graft_parse(uint64_t conn_id, const char *buf, size_t len, const kv_parse_limits *limits,
                    kv_request *out);
/* The same, returning the status of the implementation that served. */
int kv_graft_parse_status(uint64_t conn_id, const char *buf, size_t len,
                          const kv_parse_limits *limits, kv_request *out);

/* 1 when two descriptions are equal field for field. */
int kv_request_equal(const kv_request *a, const kv_request *b);
/* Describes a request for logs and diffs: every field, plus the key list and argument
 * quoted (escaped, shortened) from buf[0..len) when they lie inside it; buf may be NULL.
 * snprintf-style: returns the length needed, writes at most cap bytes with the NUL. */
size_t kv_request_describe(const char *buf, size_t len, const kv_request *req, char *out,
                           size_t cap);
/* kv_parse_status_name, kv_cmd_name, kv_parse_error_name: see kv_proto.h. */

/* Capture encoding of a parse input (snprintf-style: returns the size needed and
 * writes only when it fits). */
size_t kv_parse_input_serialize(const kv_parse_input *in, void *buf, size_t cap);
/* Reads a capture (or raw) file's bytes; in->buf points into data. */
void kv_parse_input_deserialize(const void *data, size_t len, kv_parse_input *in);

#ifdef __cplusplus
}
#endif

#endif /* KV_GRAFT_H */
