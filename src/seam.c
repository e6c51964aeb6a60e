/*
 * seam.c: a seam's settings, in one place: creating and freeing a seam, the setters
 * and getters of mode, comparison/capture, breaker and faults (which publish what the
 * call path reads atomically), applying a stored configuration entry, and the seam's
 * key hashing (graft_key_from_bytes, graft_seam_bucket).
 *
 * Calls down only (breaker.c, log.c, writer.c); runtime.c and config.c call it.
 */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "probes.h"

/* ------------------------------------------------------------------ lifetime */

/* A seam with default settings, not yet in the runtime's list (runtime.c links it). */
int graft__seam_new(graft_runtime *rt, const graft_seam_def *def, graft_seam **out)
{
    assert(rt && def && def->name && out);
    graft_seam *s = calloc(1, sizeof *s);
    if (!s) {
        return GRAFT_ENOMEM;
    }
    s->slots = aligned_alloc(64, sizeof(graft__slot) * (GRAFT__SLOTS + 1));
    s->recent = malloc(sizeof *s->recent);
    if (!s->slots || !s->recent) {
        free(s->slots);
        free(s->recent);
        free(s);
        return GRAFT_ENOMEM;
    }
    if (def->candidate_only_failure == GRAFT_ON_FAILURE_OUTPUT) {
        s->failure_output = malloc(def->output_size);
        if (!s->failure_output) {
            free(s->slots);
            free(s->recent);
            free(s);
            return GRAFT_ENOMEM;
        }
        memcpy(s->failure_output, def->failure_output, def->output_size);
    }
    memset(s->slots, 0, sizeof(graft__slot) * (GRAFT__SLOTS + 1));
    graft__recent_init(s->recent, graft__now(rt));
    s->def = *def;
    graft__strlcpy(s->name, def->name, sizeof s->name);
    s->def.name = s->name;
    s->def.failure_output = s->failure_output;
    s->legacy = def->legacy;
    s->candidate = def->candidate;
    s->ctx = def->ctx;
    s->rt = rt;
    s->salt = graft_key_from_bytes(s->name, strlen(s->name));
    pthread_mutex_init(&s->cfg_lock, NULL);
    pthread_mutex_init(&s->cap.lock, NULL);
    pthread_mutex_init(&s->samples.lock, NULL);
    pthread_mutex_init(&s->mode_lock, NULL);
    atomic_init(&s->route, (uint64_t)GRAFT_MODE_LEGACY);
    atomic_init(&s->shadow_exec, GRAFT_SHADOW_SYNC);
    atomic_init(&s->shadow_deadline_ns, GRAFT__SHADOW_DEADLINE_DEFAULT);
    atomic_init(&s->pair_tolerance_ppm, 0);
    atomic_init(&s->plan, NULL);
    graft__history_init(&s->hist);
    atomic_init(&s->next, NULL);
    graft_compare_config cc;
    graft_compare_config_init(&cc);
    graft__apply_compare(s, &cc);
    graft__breaker_init(s);
    graft__history_record(s, GRAFT_MODE_LEGACY, 0, GRAFT_BY_START, GRAFT_BREAKER_CLOSED,
                          graft__now(rt));
    *out = s;
    return GRAFT_OK;
}

void graft__seam_free(graft_seam *s)
{
    pthread_mutex_destroy(&s->cfg_lock);
    pthread_mutex_destroy(&s->cap.lock);
    pthread_mutex_destroy(&s->samples.lock);
    pthread_mutex_destroy(&s->mode_lock);
    graft__breaker_destroy(s);
    if (s->recent) {
        graft__recent_destroy(s->recent);
        free(s->recent);
    }
    free(s->slots);
    free(s->failure_output);
    free(s);
}

/* Lock-free (graft__seam_lookup): the list is append-only, published with release stores. */
graft_seam *graft_seam_find(graft_runtime *rt, const char *name)
{
    if (!rt || !name) {
        return NULL;
    }
    return graft__seam_lookup(rt, name);
}

const char *graft_seam_name(const graft_seam *seam)
{
    return seam ? seam->name : NULL;
}

/* ------------------------------------------------------------------ hashing */

uint64_t graft_key_from_bytes(const void *data, size_t len)
{
    /* FNV-1a 64: stable, documented, and good enough to spread ids before mixing. */
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

uint32_t graft_seam_bucket(const graft_seam *seam, uint64_t key)
{
    if (!seam) {
        return 0;
    }
    return (uint32_t)(graft__bucket_hash(seam->salt, key) % GRAFT__BUCKETS);
}

/* ------------------------------------------------------------------ settings */

int graft_seam_set_mode(graft_seam *seam, graft_mode mode, uint32_t percent_bp)
{
    return graft_seam_set_mode_by(seam, mode, percent_bp, GRAFT_BY_API);
}

int graft_seam_set_mode_by(graft_seam *seam, graft_mode mode, uint32_t percent_bp,
                           graft_change_cause by)
{
    if (!seam) {
        return GRAFT_ENULL;
    }
    if (by != GRAFT_BY_API && by != GRAFT_BY_CONFIG && by != GRAFT_BY_PLAN) {
        return GRAFT_EINVAL;
    }
    return graft__seam_set_mode(seam, mode, percent_bp, by);
}

int graft__seam_set_mode(graft_seam *seam, graft_mode mode, uint32_t percent_bp,
                         graft_change_cause by)
{
    assert(seam);
    if ((int)mode < 0 || (int)mode >= GRAFT_MODE_COUNT || percent_bp > GRAFT_PERCENT_SCALE) {
        return GRAFT_EINVAL;
    }
    if (mode == GRAFT_MODE_SHADOW && seam->def.purity == GRAFT_PURITY_IMPURE) {
        graft__log(seam->rt, GRAFT_LOG_ERROR, "graft.seam",
                   "shadow refused seam=%s: declared impure (running both implementations "
                   "would repeat its side effects)",
                   seam->name);
        return GRAFT_EUNSUPPORTED;
    }
    /* mode_lock orders concurrent changes with their history entries: the last entry is
     * the mode the seam is in. Not taken by calls (they read the route word only). */
    pthread_mutex_lock(&seam->mode_lock);
    /* One atomic word: a call sees the old mode and percentage or the new ones, never a
     * mix. Flags (set by other writers) are preserved by the CAS. */
    uint64_t old = atomic_load_explicit(&seam->route, memory_order_relaxed);
    graft_mode from = (graft_mode)(old & GRAFT__ROUTE_MODE_MASK);
    if (seam->stateful && from != mode) {
        /* A stateful seam's stage passes its gate first (graft/stateful.h); the mode bits
         * change only under mode_lock, so `from` is the stage the gate judges. */
        int gate = seam->sf_ops->gate(seam->stateful, from, mode, percent_bp);
        if (gate != GRAFT_OK) {
            pthread_mutex_unlock(&seam->mode_lock);
            return gate;
        }
    }
    uint64_t w;
    do {
        w = (old & GRAFT__ROUTE_FLAGS) | (uint64_t)mode |
            ((uint64_t)percent_bp << GRAFT__ROUTE_PCT_SHIFT);
    } while (!atomic_compare_exchange_weak_explicit(&seam->route, &old, w, memory_order_acq_rel,
                                                    memory_order_relaxed));
    graft_mode om = (graft_mode)(old & GRAFT__ROUTE_MODE_MASK);
    uint32_t op = (uint32_t)((old >> GRAFT__ROUTE_PCT_SHIFT) & GRAFT__ROUTE_PCT_MASK);
    if (GRAFT_PROBES_ON()) {
        GRAFT_PROBE(mode, seam->name, graft_mode_name(om), graft_mode_name(mode), op, percent_bp);
    }
    bool changed = om != mode || op != percent_bp;
    if (seam->stateful && om != mode) {
        seam->sf_ops->after(seam->stateful, om, mode);
    }
    if (changed) {
        graft__history_record(
            seam, mode, percent_bp, by,
            (graft_breaker_state)atomic_load_explicit(&seam->brk.state, memory_order_relaxed),
            graft__now(seam->rt));
    }
    pthread_mutex_unlock(&seam->mode_lock);
    if (changed) {
        graft__log(seam->rt, GRAFT_LOG_INFO, "graft.seam",
                   "mode seam=%s from=%s to=%s percent=%u.%02u by=%s", seam->name,
                   graft_mode_name(om), graft_mode_name(mode), percent_bp / 100, percent_bp % 100,
                   graft_change_cause_name(by));
    }
    return GRAFT_OK;
}

int graft_seam_get_mode(const graft_seam *seam, graft_mode *mode, uint32_t *percent_bp)
{
    if (!seam) {
        return GRAFT_ENULL;
    }
    uint64_t w = atomic_load_explicit(&seam->route, memory_order_acquire);
    if (mode) {
        *mode = (graft_mode)(w & GRAFT__ROUTE_MODE_MASK);
    }
    if (percent_bp) {
        *percent_bp = (uint32_t)((w >> GRAFT__ROUTE_PCT_SHIFT) & GRAFT__ROUTE_PCT_MASK);
    }
    return GRAFT_OK;
}

void graft_compare_config_init(graft_compare_config *cfg)
{
    if (!cfg) {
        return;
    }
    memset(cfg, 0, sizeof *cfg);
    cfg->sample_every = 1;
    cfg->log_per_second = 10;
    cfg->capture_dir = NULL;
    cfg->capture_max_files = 1000;
    cfg->capture_max_bytes = 64ull * 1024 * 1024;
    cfg->compare_served = 0;
}

void graft__apply_compare(graft_seam *s, const graft_compare_config *cfg)
{
    atomic_store_explicit(&s->sample_every, cfg->sample_every ? cfg->sample_every : 1,
                          memory_order_relaxed);
    atomic_store_explicit(&s->mlog.per_second, cfg->log_per_second, memory_order_relaxed);
    atomic_store_explicit(&s->compare_served, cfg->compare_served ? 1 : 0, memory_order_relaxed);
    graft__route_flag(s, GRAFT__ROUTE_CMP_SERVED, cfg->compare_served != 0);
    graft__route_flag(s, GRAFT__ROUTE_SAMPLED, cfg->sample_every > 1);
    bool on =
        cfg->capture_dir && cfg->capture_dir[0] && graft__writer_reserve_payload(&s->rt->writer);
    pthread_mutex_lock(&s->cap.lock);
    graft__strlcpy(s->cap.dir, cfg->capture_dir ? cfg->capture_dir : "", sizeof s->cap.dir);
    s->cap.max_files = cfg->capture_max_files;
    s->cap.max_bytes = cfg->capture_max_bytes;
    atomic_store_explicit(&s->cap.on, on ? 1 : 0, memory_order_relaxed);
    pthread_mutex_unlock(&s->cap.lock);
}

int graft_seam_set_compare(graft_seam *seam, const graft_compare_config *cfg)
{
    if (!seam || !cfg) {
        return GRAFT_ENULL;
    }
    if (cfg->sample_every == 0) {
        return GRAFT_EINVAL;
    }
    if (cfg->capture_dir && (cfg->capture_dir[0] == '\0' || strlen(cfg->capture_dir) >= 1024)) {
        return GRAFT_EINVAL;
    }
    graft__apply_compare(seam, cfg);
    if (cfg->capture_dir && !atomic_load_explicit(&seam->cap.on, memory_order_relaxed)) {
        return GRAFT_ENOMEM;
    }
    return GRAFT_OK;
}

int graft_seam_get_compare(graft_seam *seam, graft_compare_config *cfg)
{
    if (!seam || !cfg) {
        return GRAFT_ENULL;
    }
    graft_seam *s = seam;
    graft_compare_config c;
    memset(&c, 0, sizeof c);
    c.sample_every = atomic_load_explicit(&s->sample_every, memory_order_relaxed);
    c.log_per_second = atomic_load_explicit(&s->mlog.per_second, memory_order_relaxed);
    c.compare_served = atomic_load_explicit(&s->compare_served, memory_order_relaxed);
    pthread_mutex_lock(&s->cap.lock);
    c.capture_dir = s->cap.dir[0] ? s->cap.dir : NULL;
    c.capture_max_files = s->cap.max_files;
    c.capture_max_bytes = s->cap.max_bytes;
    pthread_mutex_unlock(&s->cap.lock);
    *cfg = c;
    return GRAFT_OK;
}

/* ------------------------------------------------------------------ shadow execution */

void graft_shadow_config_init(graft_shadow_config *cfg)
{
    if (!cfg) {
        return;
    }
    memset(cfg, 0, sizeof *cfg);
    cfg->exec = GRAFT_SHADOW_SYNC;
    cfg->deadline_ns = GRAFT__SHADOW_DEADLINE_DEFAULT;
}

const char *graft__shadow_refusal(const graft_seam *s, graft_shadow_exec exec)
{
    if (exec == GRAFT_SHADOW_SYNC) {
        return s->def.purity == GRAFT_PURITY_IMPURE ? "the seam is declared impure" : NULL;
    }
    if (s->def.purity != GRAFT_PURITY_PURE) {
        return "asynchronous shadow needs a seam declared pure (graft_seam_def.purity)";
    }
    if (!s->def.copy_input) {
        return "asynchronous shadow needs graft_seam_def.copy_input";
    }
    if (s->def.release) {
        return "asynchronous shadow copies the served output by value: the seam's outputs "
               "own memory (release is set)";
    }
    if (s->def.output_size > GRAFT_SHADOW_OUTPUT_MAX) {
        return "output_size exceeds GRAFT_SHADOW_OUTPUT_MAX";
    }
    return NULL;
}

int graft_seam_set_shadow(graft_seam *seam, const graft_shadow_config *cfg)
{
    if (!seam || !cfg) {
        return GRAFT_ENULL;
    }
    if ((int)cfg->exec < 0 || (int)cfg->exec >= GRAFT_SHADOW_EXEC_COUNT) {
        return GRAFT_EINVAL;
    }
    const char *why = graft__shadow_refusal(seam, cfg->exec);
    if (why) {
        graft__log(seam->rt, GRAFT_LOG_ERROR, "graft.seam", "shadow=%s refused seam=%s: %s",
                   graft_shadow_exec_name(cfg->exec), seam->name, why);
        return GRAFT_EUNSUPPORTED;
    }
    graft_runtime *rt = seam->rt;
    if (cfg->exec != GRAFT_SHADOW_SYNC &&
        graft__exec_start(&rt->exec, rt->shadow_threads, rt->shadow_queue,
                          !rt->shadow_keep_priority) != 0) {
        return GRAFT_ENOMEM;
    }
    pthread_mutex_lock(&seam->cfg_lock);
    atomic_store_explicit(&seam->shadow_deadline_ns,
                          cfg->deadline_ns ? cfg->deadline_ns : GRAFT__SHADOW_DEADLINE_DEFAULT,
                          memory_order_relaxed);
    atomic_store_explicit(&seam->shadow_exec, (int)cfg->exec, memory_order_relaxed);
    graft__route_flag(seam, GRAFT__ROUTE_ASYNC, cfg->exec != GRAFT_SHADOW_SYNC);
    pthread_mutex_unlock(&seam->cfg_lock);
    return GRAFT_OK;
}

int graft_seam_get_shadow(const graft_seam *seam, graft_shadow_config *cfg)
{
    if (!seam || !cfg) {
        return GRAFT_ENULL;
    }
    graft_shadow_config c;
    memset(&c, 0, sizeof c);
    c.exec = (graft_shadow_exec)atomic_load_explicit(&seam->shadow_exec, memory_order_relaxed);
    c.deadline_ns = atomic_load_explicit(&seam->shadow_deadline_ns, memory_order_relaxed);
    *cfg = c;
    return GRAFT_OK;
}

void graft__apply_fault(graft_seam *s, const graft_fault_config *cfg)
{
    pthread_mutex_lock(&s->cfg_lock);
    atomic_store_explicit(&s->fault_error_bp, cfg->error_bp, memory_order_relaxed);
    atomic_store_explicit(&s->fault_panic_bp, cfg->panic_bp, memory_order_relaxed);
    atomic_store_explicit(&s->fault_delay_bp, cfg->delay_ns ? cfg->delay_bp : 0,
                          memory_order_relaxed);
    atomic_store_explicit(&s->fault_delay_ns, cfg->delay_ns, memory_order_relaxed);
    bool on = cfg->error_bp || cfg->panic_bp || (cfg->delay_bp && cfg->delay_ns);
    graft__route_flag(s, GRAFT__ROUTE_FAULTS, on);
    pthread_mutex_unlock(&s->cfg_lock);
}

int graft_seam_set_fault(graft_seam *seam, const graft_fault_config *cfg)
{
    if (!seam || !cfg) {
        return GRAFT_ENULL;
    }
    if (cfg->error_bp > GRAFT_PERCENT_SCALE || cfg->panic_bp > GRAFT_PERCENT_SCALE ||
        cfg->delay_bp > GRAFT_PERCENT_SCALE ||
        cfg->error_bp + cfg->panic_bp > GRAFT_PERCENT_SCALE) {
        return GRAFT_EINVAL;
    }
    graft__apply_fault(seam, cfg);
    if (cfg->error_bp || cfg->panic_bp || cfg->delay_bp) {
        graft__log(seam->rt, GRAFT_LOG_WARN, "graft.fault",
                   "faults seam=%s error=%u.%02u%% panic=%u.%02u%% delay=%u.%02u%% "
                   "delay_ns=%llu",
                   seam->name, cfg->error_bp / 100, cfg->error_bp % 100, cfg->panic_bp / 100,
                   cfg->panic_bp % 100, cfg->delay_bp / 100, cfg->delay_bp % 100,
                   (unsigned long long)cfg->delay_ns);
    }
    return GRAFT_OK;
}

int graft_seam_get_fault(const graft_seam *seam, graft_fault_config *cfg)
{
    if (!seam || !cfg) {
        return GRAFT_ENULL;
    }
    const graft_seam *s = seam;
    graft_fault_config c;
    c.error_bp = atomic_load_explicit(&s->fault_error_bp, memory_order_relaxed);
    c.panic_bp = atomic_load_explicit(&s->fault_panic_bp, memory_order_relaxed);
    c.delay_bp = atomic_load_explicit(&s->fault_delay_bp, memory_order_relaxed);
    c.delay_ns = atomic_load_explicit(&s->fault_delay_ns, memory_order_relaxed);
    *cfg = c;
    return GRAFT_OK;
}

int graft_seam_set_breaker(graft_seam *seam, const graft_breaker_config *cfg)
{
    if (!seam || !cfg) {
        return GRAFT_ENULL;
    }
    if (!graft__validate_breaker(cfg, NULL, 0)) {
        return GRAFT_EINVAL;
    }
    graft__breaker_apply(seam, cfg);
    return GRAFT_OK;
}

int graft_seam_get_breaker(graft_seam *seam, graft_breaker_config *cfg)
{
    if (!seam || !cfg) {
        return GRAFT_ENULL;
    }
    graft_seam *s = seam;
    pthread_mutex_lock(&s->brk.lock);
    *cfg = s->brk.cfg;
    pthread_mutex_unlock(&s->brk.lock);
    return GRAFT_OK;
}

int graft_seam_reset_breaker(graft_seam *seam)
{
    if (!seam) {
        return GRAFT_ENULL;
    }
    graft__breaker_reset(seam);
    return GRAFT_OK;
}

/* Applies one stored configuration entry (a file section or spec item) to a seam:
 * at registration (runtime.c) and on every load or reload (config.c). */
void graft__seam_apply_conf(graft_seam *s, const graft__seam_conf *e)
{
    assert(s && e);
    GRAFT__ASSERT_HELD(&s->rt->lock); /* registration or a config commit */
    if (e->has_compare) {
        graft_compare_config cc = e->compare;
        cc.capture_dir = e->capture_dir[0] ? e->capture_dir : NULL;
        graft__apply_compare(s, &cc);
    }
    if (e->has_breaker) {
        graft_breaker_config cur;
        graft_seam_get_breaker(s, &cur);
        /* Re-applying an identical breaker would clear its window and state: skip. */
        if (memcmp(&cur, &e->breaker, sizeof cur) != 0) {
            graft__breaker_apply(s, &e->breaker);
        }
    }
    if (e->has_fault) {
        graft__apply_fault(s, &e->fault);
    }
    if (e->has_shadow) {
        /* Refusals were reported when the configuration was checked (config.c) or are
         * logged here for a seam registered after it. */
        (void)graft_seam_set_shadow(s, &e->shadow);
    }
    /* A plan sets the mode itself (config.c applies it after this). */
    if (e->has_mode && !e->has_plan) {
        graft__seam_set_mode(s, e->mode, e->percent_bp, GRAFT_BY_CONFIG);
    }
}
