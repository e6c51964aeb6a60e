/*
 * log.c: the lowest layer of libgraft: the per-thread state and counter slots, the
 * clock, string helpers, and logging (the runtime's sink, its swap, and deferred lines
 * for the call path through the background writer). Calls only writer.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

_Thread_local graft__tls graft__t GRAFT__TLS_FAST = {.slot = -1};

/* ------------------------------------------------------------------ thread slots */

/* Slot indices are process-wide: a thread has the same index in every seam. They are
 * handed back when a thread exits (pthread key destructor) so a long-running server
 * that churns threads keeps them; the mutex hands the counters over with a
 * happens-before edge to the next owner. */
static pthread_once_t graft__slots_once = PTHREAD_ONCE_INIT;
static pthread_key_t graft__slots_key;
static pthread_mutex_t graft__slots_lock = PTHREAD_MUTEX_INITIALIZER;
static int graft__slots_free[GRAFT__SLOTS];
static int graft__slots_nfree;
static int graft__slots_next;

static void graft__slot_release(void *p)
{
    int idx = (int)(intptr_t)p - 1;
    if (idx < 0 || idx >= GRAFT__SLOTS) {
        return;
    }
    pthread_mutex_lock(&graft__slots_lock);
    graft__slots_free[graft__slots_nfree++] = idx;
    pthread_mutex_unlock(&graft__slots_lock);
}

static void graft__slots_setup(void)
{
    (void)pthread_key_create(&graft__slots_key, graft__slot_release);
}

void graft__tls_init(void)
{
    graft__tls *t = &graft__t;
    if (t->slot >= 0) {
        return;
    }
    pthread_once(&graft__slots_once, graft__slots_setup);
    int idx = -1;
    pthread_mutex_lock(&graft__slots_lock);
    if (graft__slots_nfree > 0) {
        idx = graft__slots_free[--graft__slots_nfree];
    } else if (graft__slots_next < GRAFT__SLOTS) {
        idx = graft__slots_next++;
    }
    pthread_mutex_unlock(&graft__slots_lock);
    if (idx >= 0 && pthread_setspecific(graft__slots_key, (void *)(intptr_t)(idx + 1)) != 0) {
        graft__slot_release((void *)(intptr_t)(idx + 1));
        idx = -1;
    }
    if (idx < 0) {
        t->slot = GRAFT__OVERFLOW_SLOT;
        t->shared = true;
    } else {
        t->slot = idx;
        t->shared = false;
    }
    t->slot_off = (size_t)t->slot * sizeof(graft__slot);
    /* Seed the per-thread PRNG from the slot's address and the time: NO_KEY canary
     * routing only needs different threads to differ, not secrecy. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t seed = (uint64_t)(uintptr_t)t ^ ((uint64_t)ts.tv_nsec << 17) ^ (uint64_t)ts.tv_sec;
    seed ^= seed >> 31;
    seed *= 0x9E3779B97F4A7C15ull;
    t->rng = seed ? seed : 0x2545F4914F6CDD1Dull;
}

/* ------------------------------------------------------------------ time */

uint64_t graft__now(const graft_runtime *rt)
{
    if (rt->clock) {
        return rt->clock(rt->clock_ctx);
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t graft__unix_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ strings */

size_t graft__strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = strlen(src);
    if (cap) {
        size_t k = n < cap - 1 ? n : cap - 1;
        memcpy(dst, src, k);
        dst[k] = '\0';
    }
    return n;
}

void graft__seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ logging */

static const char *graft__level_name(int level)
{
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    if (level < 0) {
        level = 0;
    }
    if (level > 4) {
        level = 4;
    }
    return names[level];
}

static void graft__stderr_sink(void *ctx, int level, const char *target, const char *message)
{
    (void)ctx;
    /* One fprintf per line: stdio locks the stream, so lines from threads do not mix. */
    fprintf(stderr, "graft %s %s: %s\n", graft__level_name(level), target, message);
}

bool graft__log_enabled(graft_runtime *rt, int level)
{
    return level <= atomic_load_explicit(&rt->log_level, memory_order_relaxed);
}

/* Delivers one line to the current sink. The sink is pinned by its `active` count and
 * re-checked after pinning: either graft_runtime_set_log's swap comes first (this call
 * sees the new sink) or its wait sees the pin (seq_cst on both sides). */
static void graft__emit(graft_runtime *rt, int level, const char *target, const char *message)
{
    graft__logger *lg;
    for (;;) {
        lg = atomic_load(&rt->logger);
        if (!lg) {
            break;
        }
        atomic_fetch_add(&lg->active, 1);
        if (atomic_load(&rt->logger) == lg) {
            break;
        }
        atomic_fetch_sub_explicit(&lg->active, 1, memory_order_release);
    }
    if (lg && lg->fn) {
        lg->fn(lg->ctx, level, target, message);
    } else {
        graft__stderr_sink(NULL, level, target, message);
    }
    if (lg) {
        atomic_fetch_sub_explicit(&lg->active, 1, memory_order_release);
    }
}

void graft__log(graft_runtime *rt, int level, const char *target, const char *fmt, ...)
{
    if (!graft__log_enabled(rt, level)) {
        return;
    }
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    graft__emit(rt, level, target, line);
}

static void graft__log_run(graft__report *r)
{
    graft__emit(r->seam->rt, r->level, r->target, r->line);
}

void graft__log_deferred(graft_seam *s, int level, const char *target, const char *fmt, ...)
{
    if (!graft__log_enabled(s->rt, level)) {
        return;
    }
    graft__report *r = graft__writer_claim(&s->rt->writer);
    if (!r) {
        atomic_fetch_add_explicit(&s->reports_dropped, 1, memory_order_relaxed);
        return;
    }
    r->run = graft__log_run;
    r->kind = GRAFT__REPORT_LOG;
    r->seam = s;
    r->level = level;
    r->target = target;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->line, sizeof r->line, fmt, ap);
    va_end(ap);
    graft__writer_publish(&s->rt->writer, r);
}

void graft_runtime_set_log(graft_runtime *rt, graft_log_fn fn, void *ctx, int level)
{
    if (!rt) {
        return;
    }
    graft__logger *lg = calloc(1, sizeof *lg);
    if (lg) {
        lg->fn = fn;
        lg->ctx = ctx;
        atomic_init(&lg->active, 0);
        pthread_mutex_lock(&rt->lock);
        graft__logger *old = atomic_load_explicit(&rt->logger, memory_order_relaxed);
        lg->prev = old;
        atomic_store(&rt->logger, lg);
        pthread_mutex_unlock(&rt->lock);
        /* Wait out deliveries still running in the old sink (a sink must not call back
         * into graft, so none of them waits for us). New ones go to the new sink. */
        if (old) {
            while (atomic_load_explicit(&old->active, memory_order_acquire) != 0) {
                struct timespec ts = {0, 50 * 1000};
                nanosleep(&ts, NULL);
            }
        }
    }
    if (level < GRAFT_LOG_ERROR) {
        level = GRAFT_LOG_ERROR;
    }
    if (level > GRAFT_LOG_TRACE) {
        level = GRAFT_LOG_TRACE;
    }
    atomic_store_explicit(&rt->log_level, level, memory_order_relaxed);
}

void graft_runtime_log_sink(void *rt, int level, const char *target, const char *message)
{
    graft_runtime *r = rt;
    if (!r || !graft__log_enabled(r, level)) {
        return;
    }
    graft__emit(r, level, target ? target : "graft", message ? message : "");
}

bool graft__valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > GRAFT__NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}
