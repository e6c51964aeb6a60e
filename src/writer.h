/*
 * writer.h: the runtime's background writer, which takes what the call path must not do
 * itself (mismatch log lines, capture files, breaker and fallback log lines: stdio locks,
 * open/write/rename) off the serving thread.
 *
 * The call path claims a slot of a fixed ring (lock-free, multi-producer: Vyukov's
 * bounded queue with a sequence number per cell), fills it and publishes it; the one
 * writer thread consumes in order. A full ring drops the report and the seam counts it
 * (reports_dropped): the call never waits, allocates or locks. Capture inputs are
 * serialised by the caller straight into the slot's preallocated payload buffer.
 */
#ifndef GRAFT_WRITER_H
#define GRAFT_WRITER_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GRAFT__WRITER_SLOTS 32u /* power of two */
#define GRAFT__WRITER_LINE 640  /* a deferred log line */
#define GRAFT__WRITER_DESC 160  /* an output description (GRAFT__DESC_MAX) */
/* Largest serialised input a capture can hold; larger ones are counted and logged. */
#define GRAFT__CAPTURE_MAX (64u * 1024u)

struct graft_seam;
struct graft_runtime;

typedef enum graft__report_kind {
    GRAFT__REPORT_LOG = 1, /* one preformatted log line */
    GRAFT__REPORT_MISMATCH /* mismatch: optional capture file, optional log line */
} graft__report_kind;

typedef struct graft__report {
    _Atomic uint64_t seq; /* ring protocol: pos = free for producer pos, pos+1 = full */
    uint64_t pos;         /* position claimed (set by graft__writer_claim) */
    /* Run by the writer thread: the producer's file says what the report means, so
     * the writer knows nothing of mismatches or logs. */
    void (*run)(struct graft__report *r);
    graft__report_kind kind;
    struct graft_seam *seam;
    int level;
    const char *target; /* static string */
    /* MISMATCH */
    uint64_t key, unix_ns;
    bool has_key, log;
    size_t capture_len;  /* bytes in the payload to write as a file; 0 = none */
    size_t capture_need; /* > 0: the input needed this many bytes, over GRAFT__CAPTURE_MAX */
    char legacy[GRAFT__WRITER_DESC], candidate[GRAFT__WRITER_DESC];
    /* LOG */
    char line[GRAFT__WRITER_LINE];
} graft__report;

typedef struct graft__writer {
    graft__report ring[GRAFT__WRITER_SLOTS];
    /* GRAFT__WRITER_SLOTS * GRAFT__CAPTURE_MAX bytes, allocated the first time a seam
     * gets a capture directory (NULL until then: captures are dropped). */
    _Atomic(unsigned char *) payload;
    pthread_mutex_t payload_lock;
    _Atomic uint64_t head; /* next position producers claim */
    uint64_t tail;         /* next position the writer reads (writer thread only) */
    _Atomic int sleeping;  /* the writer waits on `wake` */
    sem_t wake;
    pthread_t thread;
    bool running;
    _Atomic bool stop;
    /* flush: reports processed so far, announced under done_lock */
    pthread_mutex_t done_lock;
    pthread_cond_t done_cond;
    uint64_t done;
} graft__writer;

int graft__writer_start(graft__writer *w);
/* Writes out everything queued, then stops the thread and frees the buffers. */
void graft__writer_stop(graft__writer *w);
/* Waits until every report published before the call has been run. */
void graft__writer_flush(graft__writer *w);
/* Makes capture payload buffers exist (not the call path). false when out of memory. */
bool graft__writer_reserve_payload(graft__writer *w);

/* The call path's side: a slot to fill (NULL when the ring is full: the caller counts
 * the drop), its payload buffer (NULL without one), and publishing it. */
graft__report *graft__writer_claim(graft__writer *w);
unsigned char *graft__writer_payload(graft__writer *w, const graft__report *r);
void graft__writer_publish(graft__writer *w, graft__report *r);

#endif /* GRAFT_WRITER_H */
