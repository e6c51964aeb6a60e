/*
 * shadow.h: the asynchronous shadow executor, a bounded multi-producer multi-consumer
 * ring of fixed-size jobs (Dmitry Vyukov's bounded queue, as src/writer.c's, with
 * several consumers) and the worker threads that run them at idle CPU priority.
 *
 * The serving thread claims a job (NULL when the ring is full: the caller counts the
 * drop and returns), copies the input and its served output into the job's buffers,
 * and publishes it. Publishing is one release store; a worker is woken (one sem_post)
 * only when every worker sleeps deeply, which they do only after the ring stayed empty
 * for GRAFT__EXEC_IDLE_POLLS polls of GRAFT__EXEC_POLL_NS: under load no call pays for
 * a wake-up, and the workers take jobs in batches as they come round.
 *
 * The executor knows nothing of seams: a job's `run` (set by the producer, call.c) says
 * what it means, as the writer's reports do, so the call graph stays acyclic.
 */
#ifndef GRAFT_SHADOW_H
#define GRAFT_SHADOW_H

#include <pthread.h>
#include <semaphore.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graft/graft.h"

#define GRAFT__EXEC_THREADS_MAX 16u
#define GRAFT__EXEC_QUEUE_DEFAULT 256u
#define GRAFT__EXEC_QUEUE_MAX 65536u
#define GRAFT__EXEC_POLL_NS 1000000ull   /* a worker with nothing to do polls every 1 ms ... */
#define GRAFT__EXEC_IDLE_POLLS 50u       /* ... 50 times, then sleeps until woken */
#define GRAFT__EXEC_DEEP_NS 100000000ull /* (or 100 ms, at the latest) */

struct graft_seam;

typedef struct graft__job {
    _Atomic uint64_t seq; /* ring protocol: pos = free for producer pos, pos+1 = full */
    uint64_t pos;
    /* Run by a worker with two output objects of GRAFT_SHADOW_OUTPUT_MAX bytes it owns. */
    void (*run)(struct graft__job *j, void *out_a, void *out_b);
    struct graft_seam *seam;
    uint64_t key;
    bool has_key;
    bool trial;      /* a half-open breaker's trial call */
    uint64_t enq_ns; /* the runtime's clock at enqueue */
    alignas(16) unsigned char input[GRAFT_SHADOW_INPUT_MAX];
    alignas(16) unsigned char served[GRAFT_SHADOW_OUTPUT_MAX]; /* the served output, by value */
} graft__job;

/* How the workers' priority was lowered: XX(SUFFIX, "name"). */
#define GRAFT__EXEC_PRIO_MAP(XX)                                                                   \
    XX(IDLE, "idle")   /* SCHED_IDLE: runs only on an otherwise idle CPU */                        \
    XX(NICE, "nice19") /* SCHED_IDLE refused: nice 19 */                                           \
    XX(NORMAL, "normal")

typedef enum graft__exec_prio {
#define GRAFT__EXEC_PRIO_ENUM(suffix, name) GRAFT__EXEC_PRIO_##suffix,
    GRAFT__EXEC_PRIO_MAP(GRAFT__EXEC_PRIO_ENUM)
#undef GRAFT__EXEC_PRIO_ENUM
        GRAFT__EXEC_PRIO_COUNT
} graft__exec_prio;

typedef struct graft__executor {
    graft__job *ring; /* queue jobs, allocated at start */
    uint64_t mask;
    alignas(64) _Atomic uint64_t head; /* next position producers claim */
    alignas(64) _Atomic uint64_t tail; /* next position consumers take */
    alignas(64) _Atomic uint32_t deep; /* workers in an untimed wait on `wake` */
    sem_t wake;
    pthread_t threads[GRAFT__EXEC_THREADS_MAX];
    uint32_t nthreads;
    _Atomic bool stop;
    _Atomic bool running;   /* set once started (the call path reads it) */
    _Atomic int prio;       /* graft__exec_prio the workers got (the last one to start) */
    bool lower;             /* lower the workers' priority */
    _Atomic uint64_t wakes; /* sem_posts by producers */
    pthread_mutex_t start_lock;
} graft__executor;

void graft__exec_init(graft__executor *e);
/* Starts the workers once (later calls return 0 at once); -1 on failure. */
int graft__exec_start(graft__executor *e, uint32_t threads, uint32_t queue, bool lower);
/* Runs what is queued, then stops and joins the workers and frees the ring. */
void graft__exec_stop(graft__executor *e);
const char *graft__exec_prio_name(int prio);
/* Jobs claimed but not yet taken by a worker (approximate under concurrency). */
uint64_t graft__exec_depth(const graft__executor *e);

/* The serving thread's side: a job to fill (NULL when full or not running) and
 * publishing it. Neither blocks, allocates nor locks. */
graft__job *graft__exec_claim(graft__executor *e);
void graft__exec_publish(graft__executor *e, graft__job *j);

#endif /* GRAFT_SHADOW_H */
