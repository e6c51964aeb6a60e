/*
 * writer.c: the background writer (see writer.h): a bounded multi-producer ring of
 * fixed-size reports and the one thread that runs them in order.
 *
 * Producers (serving threads) never block: a claim is a CAS on `head` guarded by the
 * cell's sequence number (Dmitry Vyukov's bounded queue), a full ring returns NULL, and
 * publishing is one release store plus, only when the writer sleeps, one sem_post.
 */
#define _POSIX_C_SOURCE 200809L
#include "writer.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

_Static_assert((GRAFT__WRITER_SLOTS & (GRAFT__WRITER_SLOTS - 1)) == 0,
               "GRAFT__WRITER_SLOTS must be a power of two");

graft__report *graft__writer_claim(graft__writer *w)
{
    uint64_t pos = atomic_load_explicit(&w->head, memory_order_relaxed);
    for (;;) {
        graft__report *r = &w->ring[pos & (GRAFT__WRITER_SLOTS - 1)];
        uint64_t seq = atomic_load_explicit(&r->seq, memory_order_acquire);
        int64_t dif = (int64_t)(seq - pos);
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&w->head, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed)) {
                r->pos = pos;
                r->run = NULL;
                return r;
            }
        } else if (dif < 0) {
            return NULL; /* full: the writer has not freed this cell yet */
        } else {
            pos = atomic_load_explicit(&w->head, memory_order_relaxed);
        }
    }
}

unsigned char *graft__writer_payload(graft__writer *w, const graft__report *r)
{
    unsigned char *p = atomic_load_explicit(&w->payload, memory_order_acquire);
    if (!p) {
        return NULL;
    }
    return p + (size_t)(r - w->ring) * GRAFT__CAPTURE_MAX;
}

void graft__writer_publish(graft__writer *w, graft__report *r)
{
    assert(r->run != NULL);
    /* seq_cst store and load pair with the writer's store of `sleeping` and load of
     * `seq`: either it sees this report before sleeping or we see it asleep. */
    atomic_store(&r->seq, r->pos + 1);
    if (atomic_load(&w->sleeping) && atomic_exchange(&w->sleeping, 0)) {
        sem_post(&w->wake);
    }
}

bool graft__writer_reserve_payload(graft__writer *w)
{
    if (atomic_load_explicit(&w->payload, memory_order_acquire)) {
        return true;
    }
    pthread_mutex_lock(&w->payload_lock);
    unsigned char *p = atomic_load_explicit(&w->payload, memory_order_relaxed);
    if (!p) {
        p = malloc((size_t)GRAFT__WRITER_SLOTS * GRAFT__CAPTURE_MAX);
        if (p) {
            atomic_store_explicit(&w->payload, p, memory_order_release);
        }
    }
    pthread_mutex_unlock(&w->payload_lock);
    return p != NULL;
}

/* Runs the report at the tail if it is published; false when there is none. */
static bool graft__writer_step(graft__writer *w)
{
    graft__report *r = &w->ring[w->tail & (GRAFT__WRITER_SLOTS - 1)];
    if (atomic_load(&r->seq) != w->tail + 1) {
        return false;
    }
    r->run(r);
    atomic_store_explicit(&r->seq, w->tail + GRAFT__WRITER_SLOTS, memory_order_release);
    w->tail++;
    pthread_mutex_lock(&w->done_lock);
    w->done = w->tail;
    pthread_cond_broadcast(&w->done_cond);
    pthread_mutex_unlock(&w->done_lock);
    return true;
}

static void *graft__writer_main(void *arg)
{
    graft__writer *w = arg;
    for (;;) {
        while (graft__writer_step(w))
            ;
        if (atomic_load(&w->stop)) {
            break;
        }
        atomic_store(&w->sleeping, 1);
        if (graft__writer_step(w) || atomic_load(&w->stop)) {
            atomic_store(&w->sleeping, 0);
            continue;
        }
        while (sem_wait(&w->wake) != 0 && errno == EINTR)
            ;
        atomic_store(&w->sleeping, 0);
    }
    /* Claimed before stop but published late: wait for them (producers never hold a
     * claim long: they fill it and publish). */
    while (w->tail != atomic_load(&w->head)) {
        if (!graft__writer_step(w)) {
            struct timespec ts = {0, 100 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

int graft__writer_start(graft__writer *w)
{
    memset(w, 0, sizeof *w);
    for (uint64_t i = 0; i < GRAFT__WRITER_SLOTS; i++) {
        atomic_init(&w->ring[i].seq, i);
    }
    atomic_init(&w->payload, NULL);
    atomic_init(&w->head, 0);
    atomic_init(&w->sleeping, 0);
    atomic_init(&w->stop, false);
    if (sem_init(&w->wake, 0, 0) != 0) {
        return -1;
    }
    pthread_mutex_init(&w->payload_lock, NULL);
    pthread_mutex_init(&w->done_lock, NULL);
    pthread_cond_init(&w->done_cond, NULL);
    if (pthread_create(&w->thread, NULL, graft__writer_main, w) != 0) {
        pthread_cond_destroy(&w->done_cond);
        pthread_mutex_destroy(&w->done_lock);
        pthread_mutex_destroy(&w->payload_lock);
        sem_destroy(&w->wake);
        return -1;
    }
    w->running = true;
    return 0;
}

void graft__writer_flush(graft__writer *w)
{
    uint64_t target = atomic_load(&w->head);
    if (atomic_exchange(&w->sleeping, 0)) {
        sem_post(&w->wake);
    }
    pthread_mutex_lock(&w->done_lock);
    while (w->done < target) {
        pthread_cond_wait(&w->done_cond, &w->done_lock);
    }
    pthread_mutex_unlock(&w->done_lock);
}

void graft__writer_stop(graft__writer *w)
{
    if (!w->running) {
        return;
    }
    atomic_store(&w->stop, true);
    sem_post(&w->wake);
    pthread_join(w->thread, NULL);
    w->running = false;
    pthread_cond_destroy(&w->done_cond);
    pthread_mutex_destroy(&w->done_lock);
    pthread_mutex_destroy(&w->payload_lock);
    sem_destroy(&w->wake);
    free(atomic_load(&w->payload));
}
