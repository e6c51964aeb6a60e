/*
 * shadow.c: the asynchronous shadow executor (see shadow.h): a bounded MPMC ring of
 * jobs and worker threads at idle priority that run them.
 *
 * Producers never block: a claim is a CAS on `head` guarded by the cell's sequence
 * number, a full ring returns NULL. Consumers CAS `tail` the same way and run the job in
 * place; the cell is handed back (seq = pos + size) after the job ran. A worker that
 * finds the ring empty polls it with a timed wait, and only after GRAFT__EXEC_IDLE_POLLS
 * empty polls waits untimed, counted in `deep`; a producer posts the semaphore only
 * when it sees a deep sleeper, so under load publishing is one store.
 */
#define _GNU_SOURCE /* SCHED_IDLE, syscall(SYS_gettid) */
#include "shadow.h"

#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define GRAFT__EXEC_PRIO_NAME(suffix, name) name,
static const char *const graft__exec_prio_names[GRAFT__EXEC_PRIO_COUNT] = {
    GRAFT__EXEC_PRIO_MAP(GRAFT__EXEC_PRIO_NAME)};
#undef GRAFT__EXEC_PRIO_NAME

const char *graft__exec_prio_name(int prio)
{
    if (prio < 0 || prio >= GRAFT__EXEC_PRIO_COUNT) {
        return "?";
    }
    return graft__exec_prio_names[prio];
}

void graft__exec_init(graft__executor *e)
{
    memset(e, 0, sizeof *e);
    atomic_init(&e->head, 0);
    atomic_init(&e->tail, 0);
    atomic_init(&e->deep, 0);
    atomic_init(&e->stop, false);
    atomic_init(&e->running, false);
    atomic_init(&e->prio, GRAFT__EXEC_PRIO_NORMAL);
    atomic_init(&e->wakes, 0);
    pthread_mutex_init(&e->start_lock, NULL);
}

graft__job *graft__exec_claim(graft__executor *e)
{
    if (!atomic_load_explicit(&e->running, memory_order_acquire)) {
        return NULL;
    }
    uint64_t pos = atomic_load_explicit(&e->head, memory_order_relaxed);
    for (;;) {
        graft__job *j = &e->ring[pos & e->mask];
        uint64_t seq = atomic_load_explicit(&j->seq, memory_order_acquire);
        int64_t dif = (int64_t)(seq - pos);
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&e->head, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed)) {
                j->pos = pos;
                j->run = NULL;
                return j;
            }
        } else if (dif < 0) {
            return NULL; /* full: no worker has freed this cell yet */
        } else {
            pos = atomic_load_explicit(&e->head, memory_order_relaxed);
        }
    }
}

void graft__exec_publish(graft__executor *e, graft__job *j)
{
    assert(j->run != NULL);
    /* seq_cst store and load pair with a worker's increment of `deep` and its re-check
     * of the ring: either it sees this job before sleeping or we see it asleep. */
    atomic_store(&j->seq, j->pos + 1);
    uint32_t d = atomic_load(&e->deep);
    while (d > 0) {
        if (atomic_compare_exchange_weak(&e->deep, &d, d - 1)) {
            atomic_fetch_add_explicit(&e->wakes, 1, memory_order_relaxed);
            sem_post(&e->wake);
            break;
        }
    }
}

uint64_t graft__exec_depth(const graft__executor *e)
{
    uint64_t h = atomic_load_explicit(&e->head, memory_order_relaxed);
    uint64_t t = atomic_load_explicit(&e->tail, memory_order_relaxed);
    return h > t ? h - t : 0;
}

/* Takes and runs one published job; false when the cell at the tail is not published. */
static bool graft__exec_step(graft__executor *e, void *out_a, void *out_b)
{
    uint64_t pos = atomic_load_explicit(&e->tail, memory_order_relaxed);
    for (;;) {
        graft__job *j = &e->ring[pos & e->mask];
        uint64_t seq = atomic_load(&j->seq);
        int64_t dif = (int64_t)(seq - (pos + 1));
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&e->tail, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed)) {
                j->run(j, out_a, out_b);
                atomic_store_explicit(&j->seq, pos + e->mask + 1, memory_order_release);
                return true;
            }
        } else if (dif < 0) {
            return false; /* empty, or claimed and not yet published */
        } else {
            pos = atomic_load_explicit(&e->tail, memory_order_relaxed);
        }
    }
}

/* SCHED_IDLE for this thread, else nice 19 (Linux applies both per thread). */
static graft__exec_prio graft__exec_lower_priority(void)
{
#ifdef SCHED_IDLE
    struct sched_param sp = {0};
    if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) == 0) {
        return GRAFT__EXEC_PRIO_IDLE;
    }
#endif
#ifdef SYS_gettid
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19) == 0) {
        return GRAFT__EXEC_PRIO_NICE;
    }
#endif
    return GRAFT__EXEC_PRIO_NORMAL;
}

/* Waits for a post or ns, whichever comes first. */
static void graft__exec_timed_wait(graft__executor *e, uint64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ns / 1000000000ull);
    ts.tv_nsec += (long)(ns % 1000000000ull);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (sem_timedwait(&e->wake, &ts) != 0 && errno == EINTR)
        ;
}

static void *graft__exec_main(void *arg)
{
    graft__executor *e = arg;
    if (e->lower) {
        atomic_store(&e->prio, graft__exec_lower_priority());
    }
    /* The workers' own output objects: jobs write into them, never allocate. */
    alignas(16) unsigned char out_a[GRAFT_SHADOW_OUTPUT_MAX];
    alignas(16) unsigned char out_b[GRAFT_SHADOW_OUTPUT_MAX];
    uint32_t idle = 0;
    for (;;) {
        if (graft__exec_step(e, out_a, out_b)) {
            idle = 0;
            continue;
        }
        if (atomic_load(&e->stop)) {
            break;
        }
        if (idle < GRAFT__EXEC_IDLE_POLLS) {
            idle++;
            graft__exec_timed_wait(e, GRAFT__EXEC_POLL_NS);
            continue;
        }
        /* Deep sleep: announce it, then look once more (pairs with publish). */
        atomic_fetch_add(&e->deep, 1);
        if (graft__exec_step(e, out_a, out_b) || atomic_load(&e->stop)) {
            /* Take our announcement back unless a producer already did (then its post
             * is ours to consume). */
            uint32_t d = atomic_load(&e->deep);
            bool undone = false;
            while (d > 0 && !undone) {
                undone = atomic_compare_exchange_weak(&e->deep, &d, d - 1);
            }
            if (!undone) {
                graft__exec_timed_wait(e, GRAFT__EXEC_DEEP_NS);
            }
            continue;
        }
        /* Bounded even so: a post taken by a polling worker leaves `deep` counting one
         * sleeper fewer than sleep; the bound keeps such a job from waiting long. */
        graft__exec_timed_wait(e, GRAFT__EXEC_DEEP_NS);
    }
    /* Claimed before stop but published late: wait for them (producers fill and publish
     * at once). */
    while (atomic_load(&e->tail) != atomic_load(&e->head)) {
        if (!graft__exec_step(e, out_a, out_b)) {
            struct timespec ts = {0, 100 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

int graft__exec_start(graft__executor *e, uint32_t threads, uint32_t queue, bool lower)
{
    pthread_mutex_lock(&e->start_lock);
    if (atomic_load(&e->running)) {
        pthread_mutex_unlock(&e->start_lock);
        return 0;
    }
    if (threads == 0) {
        threads = 1;
    }
    if (threads > GRAFT__EXEC_THREADS_MAX) {
        threads = GRAFT__EXEC_THREADS_MAX;
    }
    if (queue == 0) {
        queue = GRAFT__EXEC_QUEUE_DEFAULT;
    }
    assert((queue & (queue - 1)) == 0 && queue <= GRAFT__EXEC_QUEUE_MAX); /* runtime.c checks */
    e->ring = aligned_alloc(64, sizeof(graft__job) * queue);
    if (!e->ring || sem_init(&e->wake, 0, 0) != 0) {
        free(e->ring);
        e->ring = NULL;
        pthread_mutex_unlock(&e->start_lock);
        return -1;
    }
    e->mask = queue - 1;
    for (uint64_t i = 0; i < queue; i++) {
        atomic_init(&e->ring[i].seq, i);
    }
    atomic_store(&e->stop, false);
    e->lower = lower;
    e->nthreads = 0;
    for (uint32_t i = 0; i < threads; i++) {
        if (pthread_create(&e->threads[i], NULL, graft__exec_main, e) != 0) {
            break;
        }
        e->nthreads++;
    }
    if (e->nthreads == 0) {
        sem_destroy(&e->wake);
        free(e->ring);
        e->ring = NULL;
        pthread_mutex_unlock(&e->start_lock);
        return -1;
    }
    atomic_store_explicit(&e->running, true, memory_order_release);
    pthread_mutex_unlock(&e->start_lock);
    return 0;
}

void graft__exec_stop(graft__executor *e)
{
    pthread_mutex_lock(&e->start_lock);
    if (!atomic_load(&e->running)) {
        pthread_mutex_unlock(&e->start_lock);
        pthread_mutex_destroy(&e->start_lock);
        return;
    }
    /* No call is in flight (graft_runtime_free's contract): nothing claims any more. */
    atomic_store_explicit(&e->running, false, memory_order_release);
    atomic_store(&e->stop, true);
    for (uint32_t i = 0; i < e->nthreads; i++) {
        sem_post(&e->wake);
    }
    for (uint32_t i = 0; i < e->nthreads; i++) {
        pthread_join(e->threads[i], NULL);
    }
    sem_destroy(&e->wake);
    free(e->ring);
    e->ring = NULL;
    pthread_mutex_unlock(&e->start_lock);
    pthread_mutex_destroy(&e->start_lock);
}
