/*
 * kv_conn.h: one client connection's protocol engine: bytes in, requests executed
 * against the store, reply bytes out. No sockets here (kv_net.c moves the bytes), so the
 * whole request/reply behaviour is testable in memory.
 *
 * Output follows memcached's flush points, because a "get" with an over-long key makes
 * memcached drop every reply it has not sent yet: replies become sendable (up to
 * `flush_mark`) after a get-family reply, after every 20 requests since the last read,
 * when the input runs out between requests or inside a command line, on quit; not while
 * a value is still arriving or being swallowed.
 *
 * Memory is bounded whatever the peer sends and however slowly it reads (docs/SERVER.md,
 * "Bounded resources"):
 *  - input: KV_IN_INITIAL bytes of its own; a request that needs more (a value, a long
 *    multi-get line) grows the buffer with bytes claimed from the store's limit (-m,
 *    kv_store_reserve, evicting items as a store would), up to item_size_max +
 *    KV_IN_SLACK for a storage request and KV_GETLINE_MAX for a multi-get line;
 *  - output: values up to KV_COPY_MAX bytes are copied (under the shard lock, as before:
 *    a short memcpy); larger ones are sent from the item itself (a reference, writev),
 *    so pending output is at most KV_OUT_HIGH copied bytes + one reply's header and small
 *    value, and KV_OUT_REFS references. Past either mark (or KV_REF_HIGH referenced
 *    bytes) the connection stops executing, even in the middle of a multi-get, until
 *    the peer has taken its output.
 */
#ifndef KV_CONN_H
#define KV_CONN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "kv_proto.h"
#include "kv_store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KV_VERSION "1.6.18-kvd-0.1.0"
#define KV_IN_INITIAL 16384
#define KV_IN_SLACK 65536
#define KV_OUT_INITIAL 16384
#define KV_OUT_HIGH 32768          /* copied output bytes pending before pausing */
#define KV_COPY_MAX 4096           /* values (with CRLF) up to this are copied */
#define KV_OUT_REFS 64             /* item references per connection */
#define KV_REF_HIGH (256u << 10)   /* referenced bytes pending before pausing */
#define KV_GETLINE_MAX (16u << 20) /* longest multi-get line */
#define KV_REQS_PER_EVENT 20

/* Per-worker counters: written only by their worker, read by "stats" from any thread
 * (relaxed atomics: single writer, no read-modify-write needed). */
typedef struct __attribute__((aligned(64))) kv_thread_stats {
    _Atomic uint64_t cmd_get, get_hits, get_misses;
    _Atomic uint64_t cmd_set, cmd_touch, touch_hits, touch_misses;
    _Atomic uint64_t delete_hits, delete_misses, incr_hits, incr_misses, decr_hits, decr_misses;
    _Atomic uint64_t cas_hits, cas_misses, cas_badval, cmd_flush;
    _Atomic uint64_t bytes_read, bytes_written;
} kv_thread_stats;

#define KV_STAT_ADD(st, field, n)                                                                  \
    atomic_store_explicit(&(st)->field,                                                            \
                          atomic_load_explicit(&(st)->field, memory_order_relaxed) + (n),          \
                          memory_order_relaxed)

/* What all connections share. Owned by main; fields are set before workers start. */
typedef struct kv_server {
    kv_store *store;
    kv_parse_limits limits;
    uint32_t max_in; /* input buffer bound */
    int port;
    const char *listen_addr;
    int threads;
    int maxconns;
    size_t mem_limit;
    int64_t started; /* unix time */
    _Atomic uint32_t verbosity;
    _Atomic uint64_t curr_conns, total_conns, rejected_conns;
    kv_thread_stats *stats; /* one per worker */
    int nstats;
    /* memcached's switches (kv_opts.h); zero means memcached's default */
    const char *unix_path;   /* -s: listen on this UNIX socket instead of TCP */
    unsigned unix_mask;      /* -a: socket file mode bits (main's default 0700; 0 is 0) */
    int backlog;             /* -b (0: 1024) */
    uint32_t reqs_per_event; /* -R (0: KV_REQS_PER_EVENT) */
    uint8_t disable_flush;   /* -F: flush_all answers "CLIENT_ERROR flush_all not allowed" */
    uint8_t disable_cas;     /* -C: gets shows cas 0, cas never matches */
    uint8_t enable_shutdown; /* -A: the "shutdown" command stops kvd */
} kv_server;

typedef enum kv_conn_state {
    KV_CONN_READ = 0,  /* process more when bytes arrive */
    KV_CONN_WRITE = 1, /* too much output pending: send before processing further */
    KV_CONN_CLOSE = 2  /* send what is sendable (out[sent..flush_mark)), then close */
} kv_conn_state;

/* An item sent by reference: its bytes follow out[at - 1] in the output stream. */
typedef struct kv_outref {
    size_t at;
    kv_item *it;
    const char *data; /* value + CRLF */
    size_t len;
} kv_outref;

typedef struct kv_conn {
    uint64_t id;
    kv_server *srv;
    kv_thread_stats *stats;
    char *in;
    size_t in_pos, in_len, in_cap;
    char *out;
    size_t out_sent, out_len, out_cap, flush_mark;
    uint64_t swallow;
    uint32_t need;      /* bytes the pending request needs, when the parser said */
    unsigned cmds;      /* requests since the last read (memcached's reqs_per_event) */
    int close_after;    /* quit or protocol close: no more processing */
    int out_failed;     /* an output buffer could not grow */
    size_t in_reserved; /* bytes of the input buffer claimed from the store's limit */
    size_t scanned;     /* bytes of a long pending multi-get line known to hold no '\n' */
    /* references: refs[ref_head .. nref) unsent, the first ref_off bytes of
     * refs[ref_head] sent; [ref_head .. flush_nref) sendable (with flush_mark) */
    unsigned ref_head, nref, flush_nref;
    size_t ref_off;
    size_t ref_bytes; /* unsent referenced bytes */
    /* a multi-get paused on full output: resumes at key cursor get_pos of get_req,
     * whose line is still at in + in_pos */
    int in_get;
    uint32_t get_pos;
    kv_request get_req;
    kv_outref refs[KV_OUT_REFS];
} kv_conn;

/* GRAFT_OK, or GRAFT_ENOMEM when buffers cannot be allocated (graft/base.h). */
int kv_conn_init(kv_conn *c, uint64_t id, kv_server *srv, kv_thread_stats *stats);
void kv_conn_free(kv_conn *c);

/* Where to read into: returns the free space at *dst (compacting the buffer as needed;
 * kv_conn_process grew it for the request in hand); 0 means the connection must be
 * closed. Not to be called while kv_conn_process last returned KV_CONN_WRITE. */
size_t kv_conn_input_space(kv_conn *c, char **dst);
/* n bytes were read into the space given by kv_conn_input_space. */
void kv_conn_received(kv_conn *c, size_t n);

/* Parses and executes every complete request. `now` is kvd's relative time. */
kv_conn_state kv_conn_process(kv_conn *c, uint32_t now);

/* The sendable output as up to `max` (>= 2) iovecs, in order; returns how many (0: none).
 * Further sendable bytes may follow when all `max` are used. */
struct iovec;
int kv_conn_iov(const kv_conn *c, struct iovec *iov, int max);
/* Sendable bytes in all. */
size_t kv_conn_sendable_len(const kv_conn *c);
/* n sendable bytes (from kv_conn_iov's front) were written. */
void kv_conn_sent(kv_conn *c, size_t n);

/* Appends n reply bytes to the connection's output (kv_compat's way to answer). */
void kv_conn_emit(kv_conn *c, const char *s, size_t n);

/* Appends the "stats" family replies; exported for tests. Returns 0, or -1 when the
 * sub-command is unknown (the caller answers ERROR). */
int kv_conn_stats(kv_conn *c, const char *arg, uint32_t arg_len, uint32_t now);

#ifdef __cplusplus
}
#endif

#endif /* KV_CONN_H */
