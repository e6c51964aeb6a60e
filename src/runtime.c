/*
 * runtime.c: the runtime object and the registry of its seams (creation, lookup,
 * iteration, freeing), the background writer's lifetime and flush. Clock, slots and
 * logging are in log.c, a seam's settings in seam.c.
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

/* ------------------------------------------------------------------ runtime */

void graft_runtime_options_init(graft_runtime_options *opts)
{
    if (!opts) {
        return;
    }
    memset(opts, 0, sizeof *opts);
    opts->log_level = GRAFT_LOG_WARN;
}

int graft_runtime_new(const graft_runtime_options *opts, graft_runtime **out)
{
    if (!out) {
        return GRAFT_ENULL;
    }
    graft_runtime_options def;
    if (!opts) {
        graft_runtime_options_init(&def);
        opts = &def;
    }
    if (opts->log_level < GRAFT_LOG_ERROR || opts->log_level > GRAFT_LOG_TRACE) {
        return GRAFT_EINVAL;
    }
    graft_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) {
        return GRAFT_ENOMEM;
    }
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

void graft_runtime_free(graft_runtime *rt)
{
    if (!rt) {
        return;
    }
    /* The watcher reloads into the seams: stop it before anything is freed. */
    graft_config_unwatch(rt);
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

int graft_seam_register(graft_runtime *rt, const graft_seam_def *def, graft_seam **out)
{
    if (!rt || !def || !def->name || !def->legacy || !def->candidate) {
        return GRAFT_ENULL;
    }
    if (def->output_size == 0 || !graft__valid_name(def->name)) {
        return GRAFT_EINVAL;
    }
    graft_seam *s;
    int rc = graft__seam_new(rt, def, &s);
    if (rc != GRAFT_OK) {
        return rc;
    }

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
    const graft__seam_conf *e = graft__conf_find(&rt->conf, s->name);
    if (e) {
        graft__seam_apply_conf(s, e);
    }
    if (rt->tail) {
        atomic_store_explicit(&rt->tail->next, s, memory_order_release);
    } else {
        atomic_store_explicit(&rt->head, s, memory_order_release);
    }
    rt->tail = s;
    rt->nseams++;
    pthread_mutex_unlock(&rt->lock);
    graft__log(rt, GRAFT_LOG_INFO, "graft.seam", "registered seam %s", s->name);
    if (out) {
        *out = s;
    }
    return GRAFT_OK;
}

void graft_runtime_foreach_seam(graft_runtime *rt, void (*fn)(void *ctx, graft_seam *seam),
                                void *ctx)
{
    if (!rt || !fn) {
        return;
    }
    for (graft_seam *p = atomic_load_explicit(&rt->head, memory_order_acquire); p;
         p = atomic_load_explicit(&p->next, memory_order_acquire)) {
        fn(ctx, p);
    }
}

void graft_runtime_flush(graft_runtime *rt)
{
    if (rt) {
        graft__writer_flush(&rt->writer);
    }
}

void graft_free(void *p)
{
    free(p);
}
