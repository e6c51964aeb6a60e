/*
 * kv_net.h: kvd's networking: a non-blocking TCP listener shared by -t worker threads,
 * each running its own epoll loop over its connections (accepts are spread with
 * EPOLLEXCLUSIVE), plus a maintenance thread that ticks the clock and runs the store's
 * periodic expiry. Stopping is graceful: listeners close, each connection gets its
 * sendable replies (bounded wait), then closes.
 */
#ifndef KV_NET_H
#define KV_NET_H

#include <stdint.h>

#include "kv_conn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kv_net kv_net;

/* Binds srv->listen_addr:srv->port (port 0 picks a free one), starts the threads.
 * Returns GRAFT_OK, GRAFT_EIO (cannot listen; message on stderr) or GRAFT_ENOMEM
 * (statuses of graft/base.h). */
int kv_net_start(kv_server *srv, kv_net **out);

/* The port actually bound. */
int kv_net_port(const kv_net *n);

/* Stops accepting, flushes and closes every connection, joins the threads, frees. */
void kv_net_stop(kv_net *n);

/* kvd's relative clock: seconds since srv->started - 2 (memcached's current_time). */
uint32_t kv_net_now(void);

/* Starts the clock at `started` (unix time); kv_net_start does it. */
void kv_net_clock_init(int64_t started);

#ifdef __cplusplus
}
#endif

#endif /* KV_NET_H */
