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
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "rollout.h"

/* ------------------------------------------------------------------ reports */

/* Runtimes with a report file that were not freed yet: the exit handler (a destructor) writes
 * their final line. The list is the process's; each runtime also keeps the pid that
 * created it, so a fork child that calls exit() does not report its parent's counts. */
static pthread_mutex_t graft__reports_lock = PTHREAD_MUTEX_INITIALIZER;
static graft_runtime *graft__reports;
static pthread_once_t graft__reports_once = PTHREAD_ONCE_INIT;

/* One write(2) of the whole line to a file opened O_APPEND: the kernel places it at
 * the end atomically, so lines of concurrent processes do not interleave. */
static int graft__report_write(graft_runtime *rt, bool final)
{
    if (!rt->report_path || rt->report_pid != (long)getpid()) {
        return GRAFT_OK;
    }
    char *json = NULL;
    size_t jlen = 0;
    int rc = graft__metrics_json(rt, true, &json, &jlen);
    if (rc != GRAFT_OK) {
        return rc;
    }
    char head[256];
    uint64_t seq = atomic_fetch_add_explicit(&rt->report_seq, 1, memory_order_relaxed) + 1;
    int hn = snprintf(head, sizeof head,
                      "{\"graft_report\":1,\"pid\":%ld,\"start_unix_ms\":%" PRIu64
                      ",\"seq\":%" PRIu64 ",\"unix_ms\":%" PRIu64 ",\"final\":%s,\"metrics\":",
                      rt->report_pid, rt->report_start_unix_ns / 1000000u, seq,
                      graft__unix_ns() / 1000000u, final ? "true" : "false");
    assert(hn > 0 && (size_t)hn < sizeof head);
    size_t total = (size_t)hn + jlen + 2;
    char *line = malloc(total);
    if (!line) {
        graft_free(json);
        return GRAFT_ENOMEM;
    }
    memcpy(line, head, (size_t)hn);
    memcpy(line + hn, json, jlen);
    memcpy(line + hn + jlen, "}\n", 2);
    graft_free(json);
    rc = GRAFT_OK;
    int saved = 0;
    int fd = open(rt->report_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        saved = errno;
        rc = GRAFT_EIO;
    } else {
        ssize_t w = write(fd, line, total);
        if (w < 0 || (size_t)w != total) {
            saved = w < 0 ? errno : ENOSPC;
            rc = GRAFT_EIO;
        }
        close(fd);
    }
    free(line);
    if (rc != GRAFT_OK) {
        graft__log(rt, GRAFT_LOG_WARN, "graft.report", "cannot append the report to %s: %s",
                   rt->report_path, strerror(saved));
    }
    return rc;
}

/* Runs at exit() (and when a shared libgraft is unloaded): a destructor rather than
 * atexit(), which glibc keeps in libc_nonshared.a (the core links with libc alone:
 * tools/check-core-deps.sh) and which would need registering. Destructors of the
 * executable run after the handlers the host registered with atexit, so a host that
 * frees its runtime in one of those has written its line already. */
#if defined(__GNUC__)
__attribute__((destructor))
#endif
static void
graft__reports_at_exit(void)
{
    pthread_mutex_lock(&graft__reports_lock);
    for (graft_runtime *rt = graft__reports; rt; rt = rt->report_next) {
        graft__report_write(rt, true);
        rt->report_done = true;
    }
    graft__reports = NULL;
    pthread_mutex_unlock(&graft__reports_lock);
}

/* fork() while another thread holds the list's lock would leave it held forever in
 * the child (whose exit() then runs the handler): hold it across fork instead. */
static void graft__reports_prefork(void)
{
    pthread_mutex_lock(&graft__reports_lock);
}

static void graft__reports_postfork(void)
{
    pthread_mutex_unlock(&graft__reports_lock);
}

static void graft__reports_hook(void)
{
#if !defined(__GNUC__)
    /* Without the hook (atexit's table full), free still writes the line. */
    (void)atexit(graft__reports_at_exit);
#endif
    (void)pthread_atfork(graft__reports_prefork, graft__reports_postfork, graft__reports_postfork);
}

/* Sets the report file from the options or GRAFT_REPORT and puts the runtime on the
 * exit list. */
static int graft__report_init(graft_runtime *rt, const char *path)
{
    if (!path) {
        path = getenv("GRAFT_REPORT");
    }
    if (!path || !*path) {
        return GRAFT_OK;
    }
    rt->report_path = strdup(path);
    if (!rt->report_path) {
        return GRAFT_ENOMEM;
    }
    rt->report_pid = (long)getpid();
    rt->report_start_unix_ns = graft__unix_ns();
    pthread_once(&graft__reports_once, graft__reports_hook);
    pthread_mutex_lock(&graft__reports_lock);
    rt->report_next = graft__reports;
    graft__reports = rt;
    pthread_mutex_unlock(&graft__reports_lock);
    return GRAFT_OK;
}

/* Off the exit list; returns whether the final line is still to be written. */
static bool graft__report_unlist(graft_runtime *rt)
{
    if (!rt->report_path) {
        return false;
    }
    pthread_mutex_lock(&graft__reports_lock);
    for (graft_runtime **pp = &graft__reports; *pp; pp = &(*pp)->report_next) {
        if (*pp == rt) {
            *pp = rt->report_next;
            break;
        }
    }
    bool due = !rt->report_done;
    rt->report_done = true;
    pthread_mutex_unlock(&graft__reports_lock);
    return due;
}

int graft_runtime_report(graft_runtime *rt)
{
    if (!rt) {
        return GRAFT_ENULL;
    }
    return graft__report_write(rt, false);
}

/* ------------------------------------------------------------------ runtime */

/* GRAFT_TIME_SAMPLE=N (1..1000000) when the host left time_sample_every 0: rollout
 * plans judge canary latency from timed calls, and a demo wants them sooner. Anything
 * else: the default. */
static uint32_t graft__time_sample_env(void)
{
    const char *v = getenv("GRAFT_TIME_SAMPLE");
    if (!v || !*v) {
        return GRAFT__TIME_SAMPLE_DEFAULT;
    }
    char *end = NULL;
    unsigned long n = strtoul(v, &end, 10);
    if (*end != '\0' || n == 0 || n > 1000000ul) {
        return GRAFT__TIME_SAMPLE_DEFAULT;
    }
    return (uint32_t)n;
}

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
    uint32_t q = opts->shadow_queue;
    if ((q & (q - 1)) != 0 || q > GRAFT__EXEC_QUEUE_MAX ||
        opts->shadow_threads > GRAFT__EXEC_THREADS_MAX) {
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
        opts->time_sample_every ? opts->time_sample_every : graft__time_sample_env();
    const char *strict = getenv("GRAFT_STRICT");
    rt->strict = opts->strict != 0 || (strict && strcmp(strict, "1") == 0);
    atomic_init(&rt->ready, false);
    atomic_init(&rt->log_level, opts->log_level);
    atomic_init(&rt->logger, NULL);
    atomic_init(&rt->head, NULL);
    rt->shadow_threads = opts->shadow_threads;
    rt->shadow_queue = opts->shadow_queue;
    rt->shadow_keep_priority = opts->shadow_keep_priority != 0;
    graft__exec_init(&rt->exec);
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
    if (graft__report_init(rt, opts->report_path) != GRAFT_OK) {
        graft_runtime_free(rt);
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
    /* The final report line, unless the exit handler wrote it already. */
    if (graft__report_unlist(rt)) {
        graft__report_write(rt, true);
    }
    /* Plans change modes and the executor's jobs compare into the seams (and queue
     * reports): both stop before the writer and the seams go. */
    graft__planner_stop(rt);
    graft__exec_stop(&rt->exec);
    /* Queued reports name seams and the sink: write them out first. */
    graft__writer_stop(&rt->writer);
    graft_seam *s = atomic_load_explicit(&rt->head, memory_order_acquire);
    while (s) {
        graft_seam *next = atomic_load_explicit(&s->next, memory_order_relaxed);
        graft__plan_free(atomic_load_explicit(&s->plan, memory_order_relaxed));
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
    free(rt->report_path);
    pthread_mutex_destroy(&rt->lock);
    free(rt);
}

int graft_seam_register(graft_runtime *rt, const graft_seam_def *def, graft_seam **out)
{
    return graft__seam_register(rt, def, NULL, NULL, out);
}

int graft__seam_register(graft_runtime *rt, const graft_seam_def *def, struct graft_stateful *sf,
                         const graft__stateful_ops *ops, graft_seam **out)
{
    if (!rt || !def || !def->name || !def->legacy || !def->candidate) {
        return GRAFT_ENULL;
    }
    if (def->output_size == 0 || !graft__valid_name(def->name)) {
        return GRAFT_EINVAL;
    }
    if ((int)def->candidate_only_failure < 0 ||
        (int)def->candidate_only_failure >= GRAFT_ON_FAILURE_COUNT ||
        (def->candidate_only_failure == GRAFT_ON_FAILURE_OUTPUT && !def->failure_output)) {
        return GRAFT_EINVAL;
    }
    graft_seam *s;
    int rc = graft__seam_new(rt, def, &s);
    if (rc != GRAFT_OK) {
        return rc;
    }
    s->stateful = sf;
    s->sf_ops = ops;

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
        if (e->has_plan) {
            (void)graft__plan_apply_conf(s, &e->plan);
        }
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
