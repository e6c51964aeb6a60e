/*
 * runtime.c: the runtime object, its clock and log sink, per-thread counter slots, and
 * the registry of seams.
 *
 * Seams are kept in a singly linked list that only grows (seams live until the runtime
 * is freed), so lookups and iteration need no lock; registration takes the runtime lock.
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
    if (idx < 0 || idx >= GRAFT__SLOTS)
        return;
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
    if (t->slot >= 0)
        return;
    pthread_once(&graft__slots_once, graft__slots_setup);
    int idx = -1;
    pthread_mutex_lock(&graft__slots_lock);
    if (graft__slots_nfree > 0)
        idx = graft__slots_free[--graft__slots_nfree];
    else if (graft__slots_next < GRAFT__SLOTS)
        idx = graft__slots_next++;
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
    if (rt->clock)
        return rt->clock(rt->clock_ctx);
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
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ logging */

static const char *graft__level_name(int level)
{
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    if (level < 0)
        level = 0;
    if (level > 4)
        level = 4;
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
        if (!lg)
            break;
        atomic_fetch_add(&lg->active, 1);
        if (atomic_load(&rt->logger) == lg)
            break;
        atomic_fetch_sub_explicit(&lg->active, 1, memory_order_release);
    }
    if (lg && lg->fn)
        lg->fn(lg->ctx, level, target, message);
    else
        graft__stderr_sink(NULL, level, target, message);
    if (lg)
        atomic_fetch_sub_explicit(&lg->active, 1, memory_order_release);
}

void graft__log(graft_runtime *rt, int level, const char *target, const char *fmt, ...)
{
    if (!graft__log_enabled(rt, level))
        return;
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
    if (!graft__log_enabled(s->rt, level))
        return;
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

void graft_runtime_flush(graft_runtime *rt)
{
    if (rt)
        graft__writer_flush(&rt->writer);
}

void graft_runtime_set_log(graft_runtime *rt, graft_log_fn fn, void *ctx, int level)
{
    if (!rt)
        return;
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
    if (level < GRAFT_LOG_ERROR)
        level = GRAFT_LOG_ERROR;
    if (level > GRAFT_LOG_TRACE)
        level = GRAFT_LOG_TRACE;
    atomic_store_explicit(&rt->log_level, level, memory_order_relaxed);
}

void graft_runtime_log_sink(void *rt, int level, const char *target, const char *message)
{
    graft_runtime *r = rt;
    if (!r || !graft__log_enabled(r, level))
        return;
    graft__emit(r, level, target ? target : "graft", message ? message : "");
}

/* ------------------------------------------------------------------ runtime */

void graft_runtime_options_init(graft_runtime_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->log_level = GRAFT_LOG_WARN;
}

int graft_runtime_new(const graft_runtime_options *opts, graft_runtime **out)
{
    if (!out)
        return GRAFT_ENULL;
    graft_runtime_options def;
    if (!opts) {
        graft_runtime_options_init(&def);
        opts = &def;
    }
    if (opts->log_level < GRAFT_LOG_ERROR || opts->log_level > GRAFT_LOG_TRACE)
        return GRAFT_EINVAL;
    graft_runtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return GRAFT_ENOMEM;
    rt->clock = opts->clock;
    rt->clock_ctx = opts->clock_ctx;
    rt->sleep = opts->sleep;
    rt->arm_panic = opts->arm_panic;
    rt->disarm_panic = opts->disarm_panic;
    rt->time_sample_every =
        opts->time_sample_every ? opts->time_sample_every : GRAFT__TIME_SAMPLE_DEFAULT;
    atomic_init(&rt->log_level, opts->log_level);
    atomic_init(&rt->logger, NULL);
    atomic_init(&rt->head, NULL);
    if (pthread_mutex_init(&rt->lock, NULL) != 0) {
        free(rt);
        return GRAFT_ENOMEM;
    }
    if (opts->log) {
        graft__logger *lg = calloc(1, sizeof *lg);
        if (!lg) {
            pthread_mutex_destroy(&rt->lock);
            free(rt);
            return GRAFT_ENOMEM;
        }
        lg->fn = opts->log;
        lg->ctx = opts->log_ctx;
        atomic_init(&lg->active, 0);
        atomic_init(&rt->logger, lg);
    }
    if (graft__writer_start(&rt->writer) != 0) {
        free(atomic_load_explicit(&rt->logger, memory_order_relaxed));
        pthread_mutex_destroy(&rt->lock);
        free(rt);
        return GRAFT_ENOMEM;
    }
    *out = rt;
    return GRAFT_OK;
}

static void graft__seam_free(graft_seam *s)
{
    pthread_mutex_destroy(&s->cfg_lock);
    pthread_mutex_destroy(&s->cap.lock);
    pthread_mutex_destroy(&s->samples.lock);
    pthread_mutex_destroy(&s->brk.lock);
    if (s->recent) {
        graft__recent_destroy(s->recent);
        free(s->recent);
    }
    free(s->slots);
    free(s);
}

void graft_runtime_free(graft_runtime *rt)
{
    if (!rt)
        return;
    /* Queued reports name seams and the sink: write them out first. */
    graft__writer_stop(&rt->writer);
    graft_seam *s = atomic_load_explicit(&rt->head, memory_order_acquire);
    while (s) {
        graft_seam *next = atomic_load_explicit(&s->next, memory_order_relaxed);
        graft__seam_free(s);
        s = next;
    }
    graft__logger *lg = atomic_load_explicit(&rt->logger, memory_order_relaxed);
    while (lg) {
        graft__logger *prev = lg->prev;
        free(lg);
        lg = prev;
    }
    graft__conf_free(&rt->conf);
    free(rt->config_path);
    pthread_mutex_destroy(&rt->lock);
    free(rt);
}

/* ------------------------------------------------------------------ seams */

bool graft__valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > GRAFT__NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

int graft_seam_register(graft_runtime *rt, const graft_seam_def *def, graft_seam **out)
{
    if (!rt || !def || !def->name || !def->legacy || !def->candidate)
        return GRAFT_ENULL;
    if (def->output_size == 0 || !graft__valid_name(def->name))
        return GRAFT_EINVAL;
    graft_seam *s = calloc(1, sizeof *s);
    if (!s)
        return GRAFT_ENOMEM;
    s->slots = aligned_alloc(64, sizeof(graft__slot) * (GRAFT__SLOTS + 1));
    if (!s->slots) {
        free(s);
        return GRAFT_ENOMEM;
    }
    memset(s->slots, 0, sizeof(graft__slot) * (GRAFT__SLOTS + 1));
    s->recent = malloc(sizeof *s->recent);
    if (!s->recent) {
        free(s->slots);
        free(s);
        return GRAFT_ENOMEM;
    }
    graft__recent_init(s->recent, graft__now(rt));
    s->def = *def;
    graft__strlcpy(s->name, def->name, sizeof s->name);
    s->def.name = s->name;
    s->legacy = def->legacy;
    s->candidate = def->candidate;
    s->ctx = def->ctx;
    s->rt = rt;
    s->salt = graft_key_from_bytes(s->name, strlen(s->name));
    pthread_mutex_init(&s->cfg_lock, NULL);
    pthread_mutex_init(&s->cap.lock, NULL);
    pthread_mutex_init(&s->samples.lock, NULL);
    pthread_mutex_init(&s->brk.lock, NULL);
    atomic_init(&s->route, (uint64_t)GRAFT_MODE_LEGACY);
    atomic_init(&s->next, NULL);
    graft_compare_config cc;
    graft_compare_config_init(&cc);
    graft__apply_compare(s, &cc);
    graft__breaker_init(s);

    pthread_mutex_lock(&rt->lock);
    for (graft_seam *p = atomic_load_explicit(&rt->head, memory_order_relaxed); p;
         p = atomic_load_explicit(&p->next, memory_order_relaxed)) {
        if (strcmp(p->name, s->name) == 0) {
            pthread_mutex_unlock(&rt->lock);
            graft__seam_free(s);
            return GRAFT_EEXIST;
        }
    }
    /* Configuration given before the seam existed applies before anyone can call it. */
    graft__conf_apply_to_seam(rt, s);
    if (rt->tail)
        atomic_store_explicit(&rt->tail->next, s, memory_order_release);
    else
        atomic_store_explicit(&rt->head, s, memory_order_release);
    rt->tail = s;
    rt->nseams++;
    pthread_mutex_unlock(&rt->lock);
    graft__log(rt, GRAFT_LOG_INFO, "graft.seam", "registered seam %s", s->name);
    if (out)
        *out = s;
    return GRAFT_OK;
}

graft_seam *graft_seam_find(graft_runtime *rt, const char *name)
{
    if (!rt || !name)
        return NULL;
    for (graft_seam *p = atomic_load_explicit(&rt->head, memory_order_acquire); p;
         p = atomic_load_explicit(&p->next, memory_order_acquire)) {
        if (strcmp(p->name, name) == 0)
            return p;
    }
    return NULL;
}

const char *graft_seam_name(const graft_seam *seam)
{
    return seam ? seam->name : NULL;
}

void graft_runtime_foreach_seam(graft_runtime *rt, void (*fn)(void *ctx, graft_seam *seam),
                                void *ctx)
{
    if (!rt || !fn)
        return;
    for (graft_seam *p = atomic_load_explicit(&rt->head, memory_order_acquire); p;
         p = atomic_load_explicit(&p->next, memory_order_acquire))
        fn(ctx, p);
}

void graft_free(void *p)
{
    free(p);
}
