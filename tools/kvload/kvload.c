/*
 * kvload.c: graft's load generator for memcached-protocol servers (kvd, memcached).
 *
 * N connections spread over T threads, each thread an epoll loop; every connection
 * keeps one request in flight (a set or a get, mixed by ratio over a key space),
 * measures its latency, and verifies every reply: a get's value must be one some client
 * really wrote for that key (values carry their key id and a version, and the rest of
 * the bytes are derived from both), a set must answer STORED. With --check every
 * connection owns its own keys and remembers the last acknowledged version of each: a
 * hit with any other version is a lost acknowledged write ("stale"), a miss of an
 * acknowledged key is counted ("miss_after_ack", legitimate only after eviction or
 * expiry). Client-visible errors (error replies, malformed replies, dropped
 * connections) are counted, never hidden.
 *
 * Output: a human summary, then one machine-readable line starting "kvload:" with
 * key=value fields (ops, ops_per_sec, p50_us, p99_us, errors, ...).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Latency histogram: 1 us buckets to 10 ms, 100 us buckets to 1 s, then overflow. */
#define KL_FINE 10000
#define KL_COARSE 9900
#define KL_BUCKETS (KL_FINE + KL_COARSE + 1)

typedef struct kl_opts {
    const char *host;
    int port;
    int conns;
    int threads;
    double duration;
    uint64_t keyspace;
    int value_size;
    double get_ratio;
    int check;
    const char *prefix;
    int quiet;
    double interval;
} kl_opts;

typedef struct kl_stats {
    uint64_t ops, sets, gets, hits, misses, errors, stale, miss_after_ack, conn_errors;
    uint64_t hist[KL_BUCKETS];
} kl_stats;

enum { KL_IDLE, KL_BUSY };

typedef struct kl_conn {
    int fd;
    int idx; /* global connection index */
    int state;
    int is_get;
    uint64_t key;
    uint64_t ver;
    struct timespec t0;
    char *w;
    size_t wlen, wpos;
    char *r;
    size_t rlen, rcap;
    uint64_t next_ver;
    uint64_t *acked; /* --check: last acknowledged version per owned key (0 = none) */
    uint64_t rng;
    struct timespec reconnect_at;
} kl_conn;

typedef struct kl_thread {
    const kl_opts *o;
    pthread_t th;
    int epfd;
    kl_conn *conns;
    int nconns;
    kl_stats st;
    struct timespec end;
    _Atomic uint64_t live_ops, live_errors; /* for -i reports from the main thread */
    atomic_int done;
    struct timespec finished;
} kl_thread;

static const kl_opts *g_opts;
static atomic_int g_stop; /* SIGINT/SIGTERM: finish the requests in flight, report */

static void kl_on_signal(int sig)
{
    (void)sig;
    atomic_store(&g_stop, 1);
}

static uint64_t kl_rand(uint64_t *s)
{
    /* xorshift64* */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static double kl_since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static char kl_fill(uint64_t key, uint64_t ver, size_t i)
{
    return (char)('a' + (key * 31 + ver * 17 + i * 7) % 26);
}

/* Value layout: "<key>:<ver>:" then filler derived from (key, ver, position). */
static void kl_make_value(char *dst, int n, uint64_t key, uint64_t ver)
{
    int h = snprintf(dst, (size_t)n + 1, "%llu:%llu:", (unsigned long long)key,
                     (unsigned long long)ver);
    if (h > n) {
        h = n;
    }
    for (int i = h; i < n; i++) {
        dst[i] = kl_fill(key, ver, (size_t)i);
    }
}

/* Returns the version in a value written for `key`, or 0 when it is not such a value. */
static uint64_t kl_check_value(const char *v, size_t n, uint64_t key)
{
    char tmp[48];
    size_t m = n < sizeof(tmp) - 1 ? n : sizeof(tmp) - 1;
    memcpy(tmp, v, m);
    tmp[m] = '\0';
    unsigned long long k, ver;
    int used = 0;
    if (sscanf(tmp, "%llu:%llu:%n", &k, &ver, &used) != 2 || used == 0 || k != key) {
        return 0;
    }
    for (size_t i = (size_t)used; i < n; i++) {
        if (v[i] != kl_fill(key, ver, i)) {
            return 0;
        }
    }
    return ver;
}

static int kl_connect(const kl_opts *o)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", o->port);
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(o->host, port, &hints, &res) != 0) {
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void kl_err(kl_thread *t)
{
    t->st.errors++;
    atomic_store_explicit(&t->live_errors, t->st.errors, memory_order_relaxed);
}

static void kl_op(kl_thread *t)
{
    t->st.ops++;
    atomic_store_explicit(&t->live_ops, t->st.ops, memory_order_relaxed);
}

/* Still issuing requests: before the deadline (none with -d 0) and no stop signal. */
static int kl_running(const kl_thread *t, const struct timespec *now)
{
    if (atomic_load_explicit(&g_stop, memory_order_relaxed)) {
        return 0;
    }
    return t->o->duration == 0 || kl_since(now, &t->end) > 0;
}

static void kl_record(kl_stats *st, double secs)
{
    double us = secs * 1e6;
    size_t b;
    if (us < KL_FINE) {
        b = (size_t)us;
    } else if (us < 1e6) {
        b = KL_FINE + (size_t)((us - KL_FINE) / 100);
        if (b >= KL_FINE + KL_COARSE) {
            b = KL_FINE + KL_COARSE - 1;
        }
    } else {
        b = KL_BUCKETS - 1;
    }
    st->hist[b]++;
}

static double kl_bucket_us(size_t b)
{
    if (b < KL_FINE) {
        return (double)b + 0.5;
    }
    if (b < KL_FINE + KL_COARSE) {
        return KL_FINE + (double)(b - KL_FINE) * 100 + 50;
    }
    return 1e6;
}

static double kl_percentile(const kl_stats *st, double p)
{
    uint64_t total = 0;
    for (size_t i = 0; i < KL_BUCKETS; i++) {
        total += st->hist[i];
    }
    if (total == 0) {
        return 0;
    }
    uint64_t want = (uint64_t)(p * (double)total);
    if (want >= total) {
        want = total - 1;
    }
    uint64_t acc = 0;
    for (size_t i = 0; i < KL_BUCKETS; i++) {
        acc += st->hist[i];
        if (acc > want) {
            return kl_bucket_us(i);
        }
    }
    return kl_bucket_us(KL_BUCKETS - 1);
}

static void kl_drop(kl_thread *t, kl_conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(t->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    c->state = KL_IDLE;
    c->rlen = 0;
    clock_gettime(CLOCK_MONOTONIC, &c->reconnect_at);
    c->reconnect_at.tv_nsec += 20 * 1000 * 1000;
    if (c->reconnect_at.tv_nsec >= 1000000000L) {
        c->reconnect_at.tv_sec++;
        c->reconnect_at.tv_nsec -= 1000000000L;
    }
}

static int kl_want(kl_thread *t, kl_conn *c, uint32_t ev)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};
    return epoll_ctl(t->epfd, EPOLL_CTL_MOD, c->fd, &e);
}

/* Builds and starts the next request of c. */
static void kl_issue(kl_thread *t, kl_conn *c)
{
    const kl_opts *o = t->o;
    uint64_t r = kl_rand(&c->rng);
    if (o->check) {
        /* connection idx owns the keys idx, idx + conns, idx + 2 * conns, ... */
        uint64_t owned = o->keyspace / (uint64_t)o->conns;
        if (owned == 0) {
            owned = 1;
        }
        uint64_t slot = r % owned;
        c->key = (uint64_t)c->idx + slot * (uint64_t)o->conns;
    } else {
        c->key = r % o->keyspace;
    }
    double u = (double)(kl_rand(&c->rng) >> 11) / 9007199254740992.0;
    c->is_get = u < o->get_ratio;
    int n;
    if (c->is_get) {
        n = snprintf(c->w, 64 + strlen(o->prefix), "get %s%llu\r\n", o->prefix,
                     (unsigned long long)c->key);
    } else {
        c->ver = ++c->next_ver * (uint64_t)o->conns + (uint64_t)c->idx;
        n = snprintf(c->w, 96 + strlen(o->prefix), "set %s%llu 0 0 %d\r\n", o->prefix,
                     (unsigned long long)c->key, o->value_size);
        kl_make_value(c->w + n, o->value_size, c->key, c->ver);
        n += o->value_size;
        c->w[n++] = '\r';
        c->w[n++] = '\n';
    }
    c->wlen = (size_t)n;
    c->wpos = 0;
    c->rlen = 0;
    c->state = KL_BUSY;
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    ssize_t k = send(c->fd, c->w, c->wlen, MSG_NOSIGNAL);
    if (k > 0) {
        c->wpos = (size_t)k;
    } else if (k < 0 && errno != EAGAIN) {
        t->st.conn_errors++;
        kl_err(t);
        kl_drop(t, c);
        return;
    }
    kl_want(t, c, c->wpos < c->wlen ? EPOLLOUT : EPOLLIN);
}

/* Returns 1 when a complete reply was consumed, 0 when more bytes are needed, -1 on a
 * malformed or error reply (counted). */
static int kl_parse_reply(kl_thread *t, kl_conn *c)
{
    const kl_opts *o = t->o;
    char *nl = memchr(c->r, '\n', c->rlen);
    if (nl == NULL) {
        return c->rlen > 1024 ? -1 : 0;
    }
    size_t line = (size_t)(nl - c->r) + 1;
    if (!c->is_get) {
        if (line == 8 && memcmp(c->r, "STORED\r\n", 8) == 0) {
            t->st.sets++;
            if (o->check) {
                c->acked[c->key / (uint64_t)o->conns] = c->ver;
            }
            return 1;
        }
        return -1;
    }
    if (line == 5 && memcmp(c->r, "END\r\n", 5) == 0) {
        t->st.gets++;
        t->st.misses++;
        if (o->check && c->acked[c->key / (uint64_t)o->conns] != 0) {
            t->st.miss_after_ack++;
        }
        return 1;
    }
    if (line < 6 || memcmp(c->r, "VALUE ", 6) != 0) {
        return -1;
    }
    char key[128];
    unsigned flags, len;
    char hdr[192];
    size_t hl = line < sizeof(hdr) - 1 ? line : sizeof(hdr) - 1;
    memcpy(hdr, c->r, hl);
    hdr[hl] = '\0';
    if (sscanf(hdr, "VALUE %127s %u %u", key, &flags, &len) != 3) {
        return -1;
    }
    size_t need = line + len + 2 + 5;
    if (c->rlen < need) {
        return 0;
    }
    const char *v = c->r + line;
    if (memcmp(v + len, "\r\nEND\r\n", 7) != 0) {
        return -1;
    }
    char want[128];
    snprintf(want, sizeof(want), "%s%llu", o->prefix, (unsigned long long)c->key);
    uint64_t ver = strcmp(key, want) == 0 ? kl_check_value(v, len, c->key) : 0;
    if (ver == 0) {
        return -1;
    }
    t->st.gets++;
    t->st.hits++;
    /* a key not written in this run may hold a previous run's value */
    uint64_t acked = o->check ? c->acked[c->key / (uint64_t)o->conns] : 0;
    if (acked != 0 && acked != ver) {
        t->st.stale++;
    }
    return 1;
}

static void kl_on_readable(kl_thread *t, kl_conn *c, const struct timespec *now)
{
    for (;;) {
        if (c->rcap - c->rlen < 4096) {
            size_t cap = c->rcap * 2;
            char *p = realloc(c->r, cap);
            if (p == NULL) {
                kl_err(t);
                kl_drop(t, c);
                return;
            }
            c->r = p;
            c->rcap = cap;
        }
        ssize_t k = recv(c->fd, c->r + c->rlen, c->rcap - c->rlen, 0);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
            t->st.conn_errors++;
            kl_err(t);
            kl_drop(t, c);
            return;
        }
        if (k < 0) {
            return;
        }
        c->rlen += (size_t)k;
        if (c->state != KL_BUSY) {
            kl_err(t); /* bytes nobody asked for */
            kl_drop(t, c);
            return;
        }
        int rc = kl_parse_reply(t, c);
        if (rc == 0) {
            continue;
        }
        struct timespec done;
        clock_gettime(CLOCK_MONOTONIC, &done);
        if (rc < 0) {
            kl_err(t);
            if (!g_opts->quiet && t->st.errors <= 5) {
                fprintf(stderr, "kvload: unexpected reply to %s of key %llu: %.60s\n",
                        c->is_get ? "get" : "set", (unsigned long long)c->key, c->r);
            }
            kl_drop(t, c); /* resynchronise on a fresh connection */
            return;
        }
        kl_op(t);
        kl_record(&t->st, kl_since(&c->t0, &done));
        c->state = KL_IDLE;
        if (kl_running(t, now)) {
            kl_issue(t, c);
        }
        return;
    }
}

static void kl_open(kl_thread *t, kl_conn *c)
{
    c->fd = kl_connect(t->o);
    if (c->fd < 0) {
        t->st.conn_errors++;
        kl_err(t);
        kl_drop(t, c);
        return;
    }
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(t->epfd, EPOLL_CTL_ADD, c->fd, &e);
    kl_issue(t, c);
}

static void *kl_thread_main(void *arg)
{
    kl_thread *t = arg;
    for (int i = 0; i < t->nconns; i++) {
        kl_open(t, &t->conns[i]);
    }
    struct epoll_event ev[64];
    struct timespec stopped = {0, 0};
    int stopping = 0;
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int busy = 0;
        int running = kl_running(t, &now);
        if (!running && !stopping) {
            stopping = 1;
            stopped = now;
        }
        for (int i = 0; i < t->nconns; i++) {
            kl_conn *c = &t->conns[i];
            if (c->fd < 0 && running && kl_since(&c->reconnect_at, &now) >= 0) {
                kl_open(t, c);
            }
            busy |= c->state == KL_BUSY;
        }
        if (!running && !busy) {
            break;
        }
        /* Past the grace period, replies that never came are errors, not a hang. The
         * check follows one more poll, so replies that arrived while this thread itself
         * was descheduled (a stalled machine) are read before anything is counted. */
        int grace_over = stopping && kl_since(&stopped, &now) > 5;
        int k = epoll_wait(t->epfd, ev, 64, grace_over ? 0 : 10);
        clock_gettime(CLOCK_MONOTONIC, &now);
        for (int i = 0; i < k; i++) {
            kl_conn *c = ev[i].data.ptr;
            if (c->fd < 0) {
                continue;
            }
            if (ev[i].events & EPOLLOUT && c->wpos < c->wlen) {
                ssize_t n = send(c->fd, c->w + c->wpos, c->wlen - c->wpos, MSG_NOSIGNAL);
                if (n > 0) {
                    c->wpos += (size_t)n;
                } else if (n < 0 && errno != EAGAIN) {
                    t->st.conn_errors++;
                    kl_err(t);
                    kl_drop(t, c);
                    continue;
                }
                if (c->wpos == c->wlen) {
                    kl_want(t, c, EPOLLIN);
                }
            }
            if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                kl_on_readable(t, c, &now);
            }
        }
        if (grace_over) {
            for (int i = 0; i < t->nconns; i++) {
                if (t->conns[i].state == KL_BUSY) {
                    kl_err(t);
                }
            }
            break;
        }
    }
    for (int i = 0; i < t->nconns; i++) {
        if (t->conns[i].fd >= 0) {
            close(t->conns[i].fd);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t->finished);
    atomic_store(&t->done, 1);
    return NULL;
}

static void kl_usage(FILE *f)
{
    fprintf(f, "usage: kvload [options]\n"
               "  -s HOST      server (default 127.0.0.1)\n"
               "  -p PORT      port (default 11211)\n"
               "  -c N         connections (default 50)\n"
               "  -t N         threads (default 2)\n"
               "  -d SECONDS   duration (default 10, fractions allowed; 0 = until SIGINT/SIGTERM)\n"
               "  -i SECONDS   also print a progress line every SECONDS\n"
               "  -k N         key space (default 10000)\n"
               "  -v BYTES     value size, >= 32 (default 100)\n"
               "  -g RATIO     share of gets, 0..1 (default 0.9)\n"
               "  -K PREFIX    key prefix (default \"kvload:\")\n"
               "  --check      per-connection keys; detect lost acknowledged writes\n"
               "  -q           quiet: only the summary line\n");
}

int main(int argc, char **argv)
{
    static kl_opts o = {"127.0.0.1", 11211, 50, 2, 10.0, 10000, 100, 0.9, 0, "kvload:", 0, 0};
    static const struct option lo[] = {
        {"check", no_argument, NULL, 'C'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "s:p:c:t:d:k:v:g:K:i:qh", lo, NULL)) != -1) {
        switch (opt) {
        case 's':
            o.host = optarg;
            break;
        case 'p':
            o.port = atoi(optarg);
            break;
        case 'c':
            o.conns = atoi(optarg);
            break;
        case 't':
            o.threads = atoi(optarg);
            break;
        case 'd':
            o.duration = atof(optarg);
            break;
        case 'k':
            o.keyspace = strtoull(optarg, NULL, 10);
            break;
        case 'v':
            o.value_size = atoi(optarg);
            break;
        case 'g':
            o.get_ratio = atof(optarg);
            break;
        case 'K':
            o.prefix = optarg;
            break;
        case 'C':
            o.check = 1;
            break;
        case 'q':
            o.quiet = 1;
            break;
        case 'i':
            o.interval = atof(optarg);
            break;
        case 'h':
            kl_usage(stdout);
            return 0;
        default:
            kl_usage(stderr);
            return 2;
        }
    }
    if (o.port <= 0 || o.port > 65535 || o.conns < 1 || o.threads < 1 || o.duration < 0 ||
        o.interval < 0 || o.keyspace < 1 || o.value_size < 32 || o.value_size > 1000000 ||
        o.get_ratio < 0 || o.get_ratio > 1 || strlen(o.prefix) > 200 ||
        (o.check && o.keyspace < (uint64_t)o.conns)) {
        fprintf(stderr, "kvload: invalid options\n");
        kl_usage(stderr);
        return 2;
    }
    if (o.threads > o.conns) {
        o.threads = o.conns;
    }
    g_opts = &o;
    kl_thread *ts = calloc((size_t)o.threads, sizeof(kl_thread));
    if (ts == NULL) {
        return 1;
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct timespec end = start;
    end.tv_sec += (time_t)o.duration;
    end.tv_nsec += (long)((o.duration - (double)(time_t)o.duration) * 1e9);
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    uint64_t owned = o.keyspace / (uint64_t)o.conns + 1;
    for (int i = 0; i < o.threads; i++) {
        kl_thread *t = &ts[i];
        t->o = &o;
        t->end = end;
        t->epfd = epoll_create1(EPOLL_CLOEXEC);
        int first = o.conns * i / o.threads, last = o.conns * (i + 1) / o.threads;
        t->nconns = last - first;
        t->conns = calloc((size_t)t->nconns, sizeof(kl_conn));
        if (t->epfd < 0 || t->conns == NULL) {
            fprintf(stderr, "kvload: out of resources\n");
            return 1;
        }
        for (int j = 0; j < t->nconns; j++) {
            kl_conn *c = &t->conns[j];
            c->fd = -1;
            c->idx = first + j;
            c->rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(c->idx + 1) ^ (uint64_t)start.tv_nsec;
            if (c->rng == 0) {
                c->rng = 1;
            }
            c->w = malloc((size_t)o.value_size + 512);
            c->rcap = (size_t)o.value_size + 8192;
            c->r = malloc(c->rcap);
            c->acked = o.check ? calloc(owned, sizeof(uint64_t)) : NULL;
            if (c->w == NULL || c->r == NULL || (o.check && c->acked == NULL)) {
                fprintf(stderr, "kvload: out of memory\n");
                return 1;
            }
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = kl_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    for (int i = 0; i < o.threads; i++) {
        pthread_create(&ts[i].th, NULL, kl_thread_main, &ts[i]);
    }
    if (o.interval > 0) {
        /* progress lines: ops/s and errors over the last interval */
        uint64_t last_ops = 0;
        struct timespec last = start;
        for (;;) {
            struct timespec d = {(time_t)o.interval,
                                 (long)((o.interval - (double)(time_t)o.interval) * 1e9)};
            nanosleep(&d, NULL);
            int all_done = 1;
            uint64_t ops = 0, errs = 0;
            for (int i = 0; i < o.threads; i++) {
                all_done &= atomic_load(&ts[i].done);
                ops += atomic_load_explicit(&ts[i].live_ops, memory_order_relaxed);
                errs += atomic_load_explicit(&ts[i].live_errors, memory_order_relaxed);
            }
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (all_done) {
                break;
            }
            printf("kvload-progress: t=%.1f ops_per_sec=%.0f ops=%llu errors=%llu\n",
                   kl_since(&start, &now), (double)(ops - last_ops) / kl_since(&last, &now),
                   (unsigned long long)ops, (unsigned long long)errs);
            fflush(stdout);
            last_ops = ops;
            last = now;
        }
    }
    kl_stats *tot = calloc(1, sizeof(kl_stats));
    if (tot == NULL) {
        return 1;
    }
    for (int i = 0; i < o.threads; i++) {
        pthread_join(ts[i].th, NULL);
        kl_stats *s = &ts[i].st;
        tot->ops += s->ops;
        tot->sets += s->sets;
        tot->gets += s->gets;
        tot->hits += s->hits;
        tot->misses += s->misses;
        tot->errors += s->errors;
        tot->stale += s->stale;
        tot->miss_after_ack += s->miss_after_ack;
        tot->conn_errors += s->conn_errors;
        for (size_t b = 0; b < KL_BUCKETS; b++) {
            tot->hist[b] += s->hist[b];
        }
    }
    /* the run ends when its last thread does (not when progress reporting notices) */
    struct timespec fin = ts[0].finished;
    for (int i = 1; i < o.threads; i++) {
        if (kl_since(&fin, &ts[i].finished) > 0) {
            fin = ts[i].finished;
        }
    }
    double secs = kl_since(&start, &fin);
    double p50 = kl_percentile(tot, 0.50), p99 = kl_percentile(tot, 0.99);
    double p999 = kl_percentile(tot, 0.999);
    if (!o.quiet) {
        printf("kvload %s:%d  %d conns / %d threads  %.1f s  keys %llu  value %d B  gets %.0f%%\n",
               o.host, o.port, o.conns, o.threads, secs, (unsigned long long)o.keyspace,
               o.value_size, o.get_ratio * 100);
        printf("  %llu ops (%.0f ops/s): %llu sets, %llu gets (%llu hits)\n",
               (unsigned long long)tot->ops, (double)tot->ops / secs, (unsigned long long)tot->sets,
               (unsigned long long)tot->gets, (unsigned long long)tot->hits);
        printf("  latency p50 %.0f us  p99 %.0f us  p99.9 %.0f us\n", p50, p99, p999);
        printf("  errors %llu (connections %llu), stale %llu, miss_after_ack %llu\n",
               (unsigned long long)tot->errors, (unsigned long long)tot->conn_errors,
               (unsigned long long)tot->stale, (unsigned long long)tot->miss_after_ack);
    }
    printf("kvload: ops=%llu ops_per_sec=%.0f p50_us=%.0f p99_us=%.0f p999_us=%.0f errors=%llu "
           "conn_errors=%llu sets=%llu gets=%llu hits=%llu misses=%llu stale=%llu "
           "miss_after_ack=%llu seconds=%.2f conns=%d threads=%d\n",
           (unsigned long long)tot->ops, (double)tot->ops / secs, p50, p99, p999,
           (unsigned long long)tot->errors, (unsigned long long)tot->conn_errors,
           (unsigned long long)tot->sets, (unsigned long long)tot->gets,
           (unsigned long long)tot->hits, (unsigned long long)tot->misses,
           (unsigned long long)tot->stale, (unsigned long long)tot->miss_after_ack, secs, o.conns,
           o.threads);
    fflush(stdout);
    int rc = tot->errors == 0 && tot->stale == 0 ? 0 : 1;
    for (int i = 0; i < o.threads; i++) {
        for (int j = 0; j < ts[i].nconns; j++) {
            free(ts[i].conns[j].w);
            free(ts[i].conns[j].r);
            free(ts[i].conns[j].acked);
        }
        free(ts[i].conns);
        close(ts[i].epfd);
    }
    free(ts);
    free(tot);
    return rc;
}
