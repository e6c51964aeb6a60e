/*
 * kv_net.c: kvd's networking (see kv_net.h). Level-triggered epoll, one loop per worker.
 * A connection reads while it has no unsent sendable replies; with replies pending it
 * waits for EPOLLOUT instead, so a slow reader cannot make kvd buffer without bound
 * (kv_conn.h bounds what one round of processing may queue).
 */
#define _GNU_SOURCE /* accept4, EPOLLEXCLUSIVE */
#include "kv_store_seam.h"
#include "kv_net.h"

#include "graft/base.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define KV_MAX_EVENTS 64
#define KV_STOP_FLUSH_MS 1000
#define KV_ACCEPT_PAUSE_MS 50
#define KV_IOV_MAX 64
#define KV_RESUME_BATCH 16

typedef struct kv_netconn {
    kv_conn c;
    int fd;
    uint32_t events; /* current epoll interest */
    int closing;     /* close once the sendable bytes are out */
    int queued;      /* on the worker's resume queue */
    struct kv_netconn *prev, *next;
    struct kv_netconn *rprev, *rnext; /* resume queue */
} kv_netconn;

typedef struct kv_worker {
    struct kv_net *net;
    int index;
    int epfd;
    pthread_t thread;
    kv_netconn *conns;
    /* connections whose output drained while requests are still buffered: resumed a
     * batch per loop, after the events, so new clients never wait behind all of them */
    kv_netconn *rq_head, *rq_tail;
    int accept_paused; /* listener removed from epfd until accept_resume */
    struct timespec accept_resume;
} kv_worker;

struct kv_net {
    kv_server *srv;
    int lfd;
    int stopfd; /* eventfd: readable once stopping */
    int port;
    kv_worker *workers;
    int nworkers;
    pthread_t maint;
    int maint_started;
    atomic_int stop;
};

static atomic_uint kv_clock_now;
static atomic_uint_fast64_t kv_next_conn_id = 1;
static struct timespec kv_clock_mono0;

/* tags for the non-connection epoll entries */
static char kv_tag_listen, kv_tag_stop;

void kv_net_clock_init(int64_t started)
{
    (void)started;
    clock_gettime(CLOCK_MONOTONIC, &kv_clock_mono0);
    atomic_store(&kv_clock_now, 2);
}

static void kv__clock_tick(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    atomic_store_explicit(&kv_clock_now, (unsigned)(2 + (t.tv_sec - kv_clock_mono0.tv_sec)),
                          memory_order_relaxed);
}

uint32_t kv_net_now(void)
{
    return atomic_load_explicit(&kv_clock_now, memory_order_relaxed);
}

static void *kv__maint_main(void *arg)
{
    kv_net *n = arg;
    unsigned ticks = 0;
    while (!atomic_load(&n->stop)) {
        struct timespec d = {0, 100 * 1000 * 1000};
        nanosleep(&d, NULL);
        kv__clock_tick();
        if (++ticks % 10 == 0) {
            kv_ss_maintain(n->srv->store, kv_net_now());
        }
    }
    return NULL;
}

static void kv__set_events(kv_worker *w, kv_netconn *nc, uint32_t ev)
{
    if (nc->events == ev) {
        return;
    }
    struct epoll_event e = {.events = ev, .data.ptr = nc};
    if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, nc->fd, &e) == 0) {
        nc->events = ev;
    }
}

static void kv__enqueue(kv_worker *w, kv_netconn *nc)
{
    if (nc->queued) {
        return;
    }
    nc->queued = 1;
    nc->rnext = NULL;
    nc->rprev = w->rq_tail;
    if (w->rq_tail != NULL) {
        w->rq_tail->rnext = nc;
    } else {
        w->rq_head = nc;
    }
    w->rq_tail = nc;
}

static void kv__dequeue(kv_worker *w, kv_netconn *nc)
{
    if (!nc->queued) {
        return;
    }
    if (nc->rprev != NULL) {
        nc->rprev->rnext = nc->rnext;
    } else {
        w->rq_head = nc->rnext;
    }
    if (nc->rnext != NULL) {
        nc->rnext->rprev = nc->rprev;
    } else {
        w->rq_tail = nc->rprev;
    }
    nc->rprev = nc->rnext = NULL;
    nc->queued = 0;
}

static void kv__close(kv_worker *w, kv_netconn *nc)
{
    kv__dequeue(w, nc);
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, nc->fd, NULL);
    close(nc->fd);
    if (nc->prev != NULL) {
        nc->prev->next = nc->next;
    } else {
        w->conns = nc->next;
    }
    if (nc->next != NULL) {
        nc->next->prev = nc->prev;
    }
    kv_conn_free(&nc->c);
    free(nc);
    atomic_fetch_sub(&w->net->srv->curr_conns, 1);
}

/* Writes what is sendable (copied bytes and referenced items, one sendmsg for up to
 * KV_IOV_MAX pieces). Returns 1 when all of it went out, 0 when the socket is full, -1
 * when the peer is gone. */
static int kv__flush(kv_netconn *nc)
{
    for (;;) {
        struct iovec iov[KV_IOV_MAX];
        int n = kv_conn_iov(&nc->c, iov, KV_IOV_MAX);
        if (n == 0) {
            return 1;
        }
        struct msghdr m;
        memset(&m, 0, sizeof(m));
        m.msg_iov = iov;
        m.msg_iovlen = (size_t)n;
        ssize_t k = sendmsg(nc->fd, &m, MSG_NOSIGNAL);
        if (k > 0) {
            kv_conn_sent(&nc->c, (size_t)k);
            continue;
        }
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        }
        return -1;
    }
}

/* Processes what is buffered, sends, and picks the next epoll interest. */
static void kv__drive(kv_worker *w, kv_netconn *nc)
{
    for (;;) {
        kv_conn_state st = nc->closing ? KV_CONN_CLOSE : kv_conn_process(&nc->c, kv_net_now());
        int f = kv__flush(nc);
        if (f < 0) {
            kv__close(w, nc);
            return;
        }
        if (st == KV_CONN_CLOSE) {
            nc->closing = 1;
            if (f == 1) {
                kv__close(w, nc);
            } else {
                kv__set_events(w, nc, EPOLLOUT);
            }
            return;
        }
        if (f == 0) {
            kv__set_events(w, nc, EPOLLOUT);
            return;
        }
        if (st == KV_CONN_WRITE) {
            /* output drained, requests still buffered: go on from the resume queue,
             * after the pending events and the connections queued before, so one
             * connection's long reply cannot keep a worker from the rest; no events
             * meanwhile (errors and hang-ups are still reported) */
            kv__set_events(w, nc, 0);
            kv__enqueue(w, nc);
            return;
        }
        kv__set_events(w, nc, EPOLLIN);
        return;
    }
}

static void kv__on_readable(kv_worker *w, kv_netconn *nc)
{
    if (nc->c.in_get) {
        /* a paused multi-get owns the input buffer: output first */
        kv__drive(w, nc);
        return;
    }
    char *dst;
    size_t room = kv_conn_input_space(&nc->c, &dst);
    if (room == 0) {
        /* a request larger than the connection's bound: memcached would also give up */
        kv__close(w, nc);
        return;
    }
    ssize_t k = read(nc->fd, dst, room);
    if (k == 0) {
        kv__close(w, nc);
        return;
    }
    if (k < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return;
        }
        kv__close(w, nc);
        return;
    }
    kv_conn_received(&nc->c, (size_t)k);
    kv__drive(w, nc);
}

static void kv__accept(kv_worker *w)
{
    kv_net *n = w->net;
    kv_server *srv = n->srv;
    for (int i = 0; i < 64; i++) {
        int fd = accept4(n->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* out of descriptors or memory: the level-triggered listener would wake
                 * us at once, so this worker stops accepting for a moment */
                epoll_ctl(w->epfd, EPOLL_CTL_DEL, n->lfd, NULL);
                w->accept_paused = 1;
                clock_gettime(CLOCK_MONOTONIC, &w->accept_resume);
                w->accept_resume.tv_nsec += KV_ACCEPT_PAUSE_MS * 1000000L;
                if (w->accept_resume.tv_nsec >= 1000000000L) {
                    w->accept_resume.tv_sec++;
                    w->accept_resume.tv_nsec -= 1000000000L;
                }
            }
            return; /* EAGAIN, or a transient error: retried on the next event */
        }
        /* reserve the slot first: workers accept concurrently */
        if (atomic_fetch_add(&srv->curr_conns, 1) >= (uint64_t)srv->maxconns) {
            atomic_fetch_sub(&srv->curr_conns, 1);
            static const char msg[] = "ERROR Too many open connections\r\n";
            ssize_t ignored = send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL);
            (void)ignored;
            close(fd);
            atomic_fetch_add(&srv->rejected_conns, 1);
            continue;
        }
        int one = 1;
        if (srv->unix_path == NULL) {
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        kv_netconn *nc = calloc(1, sizeof(*nc));
        uint64_t id = atomic_fetch_add(&kv_next_conn_id, 1);
        if (nc == NULL || kv_conn_init(&nc->c, id, srv, &srv->stats[w->index]) != 0) {
            free(nc);
            close(fd);
            atomic_fetch_sub(&srv->curr_conns, 1);
            continue;
        }
        nc->fd = fd;
        nc->events = EPOLLIN;
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = nc};
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
            kv_conn_free(&nc->c);
            free(nc);
            close(fd);
            atomic_fetch_sub(&srv->curr_conns, 1);
            continue;
        }
        nc->next = w->conns;
        if (w->conns != NULL) {
            w->conns->prev = nc;
        }
        w->conns = nc;
        atomic_fetch_add(&srv->total_conns, 1);
    }
}

/* Graceful end of a worker: every connection gets a bounded chance to take its
 * sendable replies, then is closed. */
static void kv__worker_drain(kv_worker *w)
{
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->net->lfd, NULL);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (w->conns != NULL) {
        kv_netconn *nc = w->conns;
        int f = kv__flush(nc);
        clock_gettime(CLOCK_MONOTONIC, &t);
        long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (f != 0 || ms > KV_STOP_FLUSH_MS) {
            kv__close(w, nc);
        } else {
            struct timespec d = {0, 1000 * 1000};
            nanosleep(&d, NULL);
        }
    }
}

/* Resumes up to KV_RESUME_BATCH queued connections (each may queue itself again). */
static void kv__resume(kv_worker *w)
{
    for (int i = 0; i < KV_RESUME_BATCH && w->rq_head != NULL; i++) {
        kv_netconn *nc = w->rq_head;
        kv__dequeue(w, nc);
        kv__drive(w, nc);
    }
}

static void *kv__worker_main(void *arg)
{
    kv_worker *w = arg;
    struct epoll_event ev[KV_MAX_EVENTS];
    for (;;) {
        int timeout = w->rq_head != NULL ? 0 : -1;
        if (w->accept_paused) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            long ms = (w->accept_resume.tv_sec - t.tv_sec) * 1000 +
                      (w->accept_resume.tv_nsec - t.tv_nsec) / 1000000;
            if (ms <= 0) {
                struct epoll_event le = {.events = EPOLLIN | EPOLLEXCLUSIVE,
                                         .data.ptr = &kv_tag_listen};
                epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->net->lfd, &le);
                w->accept_paused = 0;
            } else if (timeout != 0) {
                timeout = (int)ms;
            }
        }
        int k = epoll_wait(w->epfd, ev, KV_MAX_EVENTS, timeout);
        if (k < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        int stopping = 0;
        for (int i = 0; i < k; i++) {
            void *p = ev[i].data.ptr;
            if (p == &kv_tag_stop) {
                stopping = 1;
            } else if (p == &kv_tag_listen) {
                kv__accept(w);
            } else {
                kv_netconn *nc = p;
                kv__dequeue(w, nc); /* an error or hang-up while queued: drive it now */
                if (ev[i].events & EPOLLIN) {
                    kv__on_readable(w, nc);
                } else if (ev[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
                    kv__drive(w, nc);
                }
            }
        }
        if (stopping) {
            break;
        }
        kv__resume(w);
    }
    kv__worker_drain(w);
    return NULL;
}

/* -s: a UNIX socket instead of TCP, as memcached (a stale socket file is replaced; the
 * file's mode is 0777 & mask, memcached's umask(~mask) around bind). */
static int kv__listen_unix(kv_net *n)
{
    kv_server *srv = n->srv;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(srv->unix_path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "kvd: UNIX socket path too long: %s\n", srv->unix_path);
        return GRAFT_EIO;
    }
    strcpy(sa.sun_path, srv->unix_path);
    struct stat st;
    if (lstat(srv->unix_path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(srv->unix_path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "kvd: socket(AF_UNIX): %s\n", strerror(errno));
        return GRAFT_EIO;
    }
    mode_t old = umask((mode_t)(~srv->unix_mask & 0777));
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    int err = errno;
    umask(old);
    if (rc != 0 || listen(fd, srv->backlog ? srv->backlog : 1024) != 0) {
        err = rc != 0 ? err : errno;
        fprintf(stderr, "kvd: cannot listen on UNIX socket %s: %s\n", srv->unix_path,
                strerror(err));
        close(fd);
        return GRAFT_EIO;
    }
    n->lfd = fd;
    n->port = 0;
    return 0;
}

static int kv__listen(kv_net *n)
{
    kv_server *srv = n->srv;
    if (srv->unix_path != NULL) {
        return kv__listen_unix(n);
    }
    char port[16];
    snprintf(port, sizeof(port), "%d", srv->port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(srv->listen_addr, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "kvd: cannot resolve listen address %s: %s\n",
                srv->listen_addr ? srv->listen_addr : "*", gai_strerror(rc));
        return GRAFT_EIO;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 &&
            listen(fd, srv->backlog ? srv->backlog : 1024) == 0) {
            break;
        }
        close(fd);
        fd = -1;
    }
    int err = errno;
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "kvd: cannot listen on %s:%d: %s\n",
                srv->listen_addr ? srv->listen_addr : "*", srv->port, strerror(err));
        return GRAFT_EIO;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    n->port = srv->port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            n->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            n->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    }
    n->lfd = fd;
    return 0;
}

int kv_net_port(const kv_net *n)
{
    return n->port;
}

int kv_net_start(kv_server *srv, kv_net **out)
{
    kv_net *n = calloc(1, sizeof(*n));
    if (n == NULL) {
        return GRAFT_ENOMEM;
    }
    n->srv = srv;
    n->lfd = -1;
    atomic_init(&n->stop, 0);
    kv_net_clock_init(srv->started);
    int rc = kv__listen(n);
    if (rc != 0) {
        free(n);
        return rc;
    }
    n->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    n->workers = calloc((size_t)srv->threads, sizeof(kv_worker));
    if (n->stopfd < 0 || n->workers == NULL) {
        close(n->lfd);
        if (n->stopfd >= 0) {
            close(n->stopfd);
        }
        free(n->workers);
        free(n);
        return GRAFT_ENOMEM;
    }
    for (int i = 0; i < srv->threads; i++) {
        kv_worker *w = &n->workers[i];
        w->net = n;
        w->index = i;
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event le = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &kv_tag_listen};
        struct epoll_event se = {.events = EPOLLIN, .data.ptr = &kv_tag_stop};
        if (w->epfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, n->lfd, &le) != 0 ||
            epoll_ctl(w->epfd, EPOLL_CTL_ADD, n->stopfd, &se) != 0 ||
            pthread_create(&w->thread, NULL, kv__worker_main, w) != 0) {
            fprintf(stderr, "kvd: cannot start worker %d: %s\n", i, strerror(errno));
            n->nworkers = i;
            if (w->epfd >= 0) {
                close(w->epfd);
            }
            kv_net_stop(n);
            return GRAFT_EIO;
        }
        n->nworkers = i + 1;
    }
    if (pthread_create(&n->maint, NULL, kv__maint_main, n) != 0) {
        kv_net_stop(n);
        return GRAFT_EIO;
    }
    n->maint_started = 1;
    *out = n;
    return 0;
}

void kv_net_stop(kv_net *n)
{
    if (n == NULL) {
        return;
    }
    atomic_store(&n->stop, 1);
    uint64_t one = 1;
    ssize_t ignored = write(n->stopfd, &one, sizeof(one));
    (void)ignored;
    for (int i = 0; i < n->nworkers; i++) {
        pthread_join(n->workers[i].thread, NULL);
        close(n->workers[i].epfd);
    }
    if (n->maint_started) {
        pthread_join(n->maint, NULL);
    }
    close(n->lfd);
    close(n->stopfd);
    free(n->workers);
    free(n);
}
