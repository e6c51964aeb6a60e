/*
 * kv_resp.h: kvd's response formatting: the exact bytes memcached 1.6 sends for each
 * outcome, written into a caller's buffer. Pure: no I/O, no allocation, no state.
 */
#ifndef KV_RESP_H
#define KV_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "kv_proto.h"
#include "kv_store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest "VALUE <key> <flags> <bytes> <cas>\r\n" line for a 250-byte key. */
#define KV_VALUE_HEADER_MAX 320
/* Longest "<u64>\r\n" line. */
#define KV_U64_LINE_MAX 24

/* Writes "VALUE key flags nbytes[ cas]\r\n" at dst (room for KV_VALUE_HEADER_MAX when
 * nkey <= 250); returns its length. */
size_t kv_resp_value_header(char *dst, const char *key, uint32_t nkey, uint32_t flags,
                            uint32_t nbytes, int with_cas, uint64_t cas);

/* Writes "<v>\r\n" (the incr/decr reply); returns its length. */
size_t kv_resp_u64_line(char *dst, uint64_t v);

/* Writes the decimal digits of v (no terminator); returns their count (1..20). */
size_t kv_resp_u64(char *dst, uint64_t v);

/* Standard base64 with padding of src[0..n) at dst (4 * ceil(n / 3) bytes, no NUL), as
 * memcached writes binary meta keys; returns the length written. */
size_t kv_resp_base64(const unsigned char *src, size_t n, char *dst);

/* The reply line (with CRLF) of a parse error kind; NULL for kinds that close the
 * connection or are not errors. *len receives its length. */
const char *kv_resp_parse_error(int error, size_t *len);

/* The reply line of a storage outcome (STORED, NOT_STORED, EXISTS, NOT_FOUND, DELETED,
 * TOUCHED, NON_NUMERIC, NO_MEMORY as memcached words them for `for_arith` or storage). */
const char *kv_resp_store_result(kv_store_result r, int for_arith, size_t *len);

/* Writes "STAT <name> <value>\r\n" into dst[0..cap); returns the length, or 0 when it
 * does not fit. */
size_t kv_resp_stat_str(char *dst, size_t cap, const char *name, const char *value);
size_t kv_resp_stat_u64(char *dst, size_t cap, const char *name, uint64_t value);

#define KV_RESP_LIT(s) (s), (sizeof(s) - 1)

#ifdef __cplusplus
}
#endif

#endif /* KV_RESP_H */
