/*
 * kv_compat.h: memcached's ASCII commands that kvd's parser does not know (it reports
 * them as unknown), answered as memcached 1.6.18 answers them where they mean something
 * for kvd (shutdown under -A, cache_memlimit, slabs, lru, lru_crawler, ...), and with
 * memcached's own error lines where kvd lacks the feature (watch and dumps answer as
 * memcached -W / -X does). Also the "stats" sub-commands beyond kv_conn's own.
 *
 * Called from kv_conn.c on the worker thread that owns the connection; replies go
 * through kv_conn_emit. Nothing here allocates or blocks.
 */
#ifndef KV_COMPAT_H
#define KV_COMPAT_H

#include <stddef.h>
#include <stdint.h>

#include "kv_conn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* `line` is one command line without its "\n" (and "\r"), already cut at its first NUL.
 * Returns 1 when answered (may set c->swallow for a value that follows, or
 * c->close_after), 0 when kvd has no such command: the caller answers "ERROR". */
int kv_compat_command(kv_conn *c, const char *line, size_t len, uint32_t now);

/* "stats <arg>" sub-commands kv_conn_stats does not know. Returns 1 when answered, 0
 * when memcached has no such sub-command either (caller answers "ERROR"). */
int kv_compat_stats(kv_conn *c, const char *arg, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* KV_COMPAT_H */
