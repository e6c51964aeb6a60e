/*
 * kv_seams.h: the place where kvd calls a component another implementation may replace
 * (the graft integration puts a libgraft seam behind it).
 *
 *   kv_parse_fn: the connection code calls it in exactly one place
 *                (kv_conn.c, kv__parse_request), with the connection's 64-bit id so a
 *                router can keep a connection on one implementation ("sticky").
 *
 * (kv_hash_fn was the second; kv.hash was retired and kv_store.c calls the Rust hash
 * kv_rs_hash_key directly: no hook, no seam.)
 *
 * The pointer starts as the legacy C implementation. Set them at startup, before any
 * worker thread runs (they are read without synchronisation on the hot path).
 */
#ifndef KV_SEAMS_H
#define KV_SEAMS_H

#include <stddef.h>
#include <stdint.h>

#include "kv_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*kv_parse_fn)(uint64_t conn_id, const char *buf, size_t len,
                            const kv_parse_limits *limits, kv_request *out);

/* Current implementation (default: kv_parse_legacy). */
extern kv_parse_fn kv_parse_impl;

/* kv_parse with the connection id ignored: the legacy parser is stateless. */
void kv_parse_legacy(uint64_t conn_id, const char *buf, size_t len, const kv_parse_limits *limits,
                     kv_request *out);

#ifdef __cplusplus
}
#endif

#endif /* KV_SEAMS_H */
