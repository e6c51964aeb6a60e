/*
 * call.c: graft_call, the hot path. Every call is one pipeline:
 *
 *   route   (mode, sticky bucket, override, breaker admission: who runs, who serves)
 *   run     (graft__run: faults, sampled timing, counting the run and its failure)
 *   compare (graft__outputs_differ: normalise, compare; a mismatch is reported)
 *   account (counters, the breaker's feedback, fallback)
 *
 * The general path (graft__call_general) does each stage explicitly. The short paths
 * are the same pipeline specialised for the common outcome of a mode: route from the
 * route word alone, run, compare inline, and account with one combined counter (a row
 * of GRAFT__OUTCOME_MAP) bumped before the run; when the run fails or the outputs
 * differ, one out-of-line helper takes the counter back and accounts exactly.
 *
 * Cost model: legacy mode is one relaxed load of the route word, one thread-local
 * countdown and one per-thread counter update around the call. The common outcome of
 * the other modes has a similar short path (one combined counter); everything else goes
 * through graft__call_general, which reads the clock only on sampled calls (1 in
 * time_sample_every per thread), while the breaker is open or half-open, and when a
 * delay fault fires.
 */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "probes.h"
#include "validate.h"

/* The probes' clock: real monotonic time, whatever clock the runtime was given. */
static inline uint64_t graft__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t graft__rand(graft__tls *t)
{
    /* xorshift64*: per thread, so NO_KEY calls need no shared counter. */
    uint64_t x = t->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    t->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* ------------------------------------------------------------------ one call */

typedef struct graft__cx {
    graft_seam *s;
    graft__slot *sl;
    graft__tls *t;
    bool shared;
    bool timed;
    uint64_t now; /* last clock reading (valid when have_now) */
    bool have_now;
    const void *input;
    uint64_t key;     /* for probes; 0 on the short paths' helpers */
    int served;       /* graft_impl that served, -1 until one did (seam__return probe) */
    uint64_t last_ns; /* duration of the last timed graft__run */
} graft__cx;

/* The context of one call on this thread's slot. */
static inline graft__cx graft__cx_make(graft_seam *s, graft__tls *t, const void *input)
{
    graft__cx cx = {s, &s->slots[t->slot], t, t->shared, false, 0, false, input, 0, -1, 0};
    return cx;
}

/* account: one call, in the mode the seam was in. */
static inline void graft__count_call(graft__cx *cx, graft_mode mode)
{
    graft__inc(cx->sl, cx->shared, GRAFT__C_CALLS, 1);
    graft__inc(cx->sl, cx->shared, GRAFT__C_BY_MODE + (int)mode, 1);
}

/* account: a run that happened outside graft__run (a short path's). */
static void graft__count_ran(graft__cx *cx, graft_impl impl, int rc)
{
    graft__inc(cx->sl, cx->shared, GRAFT__CI(impl, GRAFT__I_CALLS), 1);
    if (rc != GRAFT_OK) {
        graft__inc(cx->sl, cx->shared,
                   GRAFT__CI(impl, rc == GRAFT_EPANIC ? GRAFT__I_PANICS : GRAFT__I_ERRORS), 1);
    }
}

static inline void graft__count_served(graft__cx *cx, graft_impl impl)
{
    cx->served = (int)impl;
    graft__inc(cx->sl, cx->shared, GRAFT__CI(impl, GRAFT__I_SERVED), 1);
}

/* account: the latencies of both implementations on one request (rollout.c's sign
 * test): the candidate against legacy's scaled by 1 + the plan's tolerance. */
static void graft__count_pair(graft__cx *cx, uint64_t legacy_ns, uint64_t candidate_ns)
{
    uint64_t ppm = atomic_load_explicit(&cx->s->pair_tolerance_ppm, memory_order_relaxed);
    /* legacy_ns < 2^37 (137 s): the product fits in 64 bits for ppm < 2^26. */
    uint64_t lim = legacy_ns + legacy_ns * ppm / 1000000u;
    int ctr = candidate_ns > lim   ? GRAFT__C_PAIR_SLOWER
              : candidate_ns < lim ? GRAFT__C_PAIR_FASTER
                                   : GRAFT__C_PAIR_TIES;
    graft__inc(cx->sl, cx->shared, ctr, 1);
}

/* compare: normalises both outputs, then the seam's compare (default memcmp). */
static inline bool graft__outputs_differ(graft_seam *s, const void *input, void *legacy_out,
                                         void *candidate_out)
{
    if (s->def.normalize) {
        s->def.normalize(s->ctx, input, legacy_out);
        s->def.normalize(s->ctx, input, candidate_out);
    }
    int diff = s->def.compare ? s->def.compare(s->ctx, input, legacy_out, candidate_out)
                              : memcmp(legacy_out, candidate_out, s->def.output_size);
    return diff != 0;
}

/* The output libgraft does not return (the shadow copy, a compared legacy copy). */
static inline void graft__release(graft_seam *s, void *out)
{
    if (s->def.release) {
        s->def.release(s->ctx, out);
    }
    GRAFT__VALIDATE_POISON(out, s->def.output_size);
}

static void graft__record_latency(graft__cx *cx, int impl, uint64_t ns)
{
    graft__slot *sl = cx->sl;
    size_t b = graft__hist_index(ns);
    if (cx->shared) {
        atomic_fetch_add_explicit(&sl->hist[impl][b], 1, memory_order_relaxed);
        uint64_t m = atomic_load_explicit(&sl->max_ns[impl], memory_order_relaxed);
        while (ns > m && !atomic_compare_exchange_weak_explicit(
                             &sl->max_ns[impl], &m, ns, memory_order_relaxed, memory_order_relaxed))
            ;
    } else {
        uint64_t v = atomic_load_explicit(&sl->hist[impl][b], memory_order_relaxed);
        atomic_store_explicit(&sl->hist[impl][b], v + 1, memory_order_relaxed);
        if (ns > atomic_load_explicit(&sl->max_ns[impl], memory_order_relaxed)) {
            atomic_store_explicit(&sl->max_ns[impl], ns, memory_order_relaxed);
        }
    }
    graft__inc(sl, cx->shared, GRAFT__CI(impl, GRAFT__I_TIMED), 1);
    graft__inc(sl, cx->shared, GRAFT__CI(impl, GRAFT__I_SUM_NS), ns);
}

static void graft__sleep(graft_runtime *rt, uint64_t ns)
{
    if (rt->sleep) {
        rt->sleep(rt->clock_ctx, ns);
        return;
    }
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Runs one implementation into `out`, counting it; faults only for routed candidate
 * runs. Sets *slow when a timed candidate call exceeded the breaker's slow threshold. */
static int graft__run(graft__cx *cx, int impl, void *out, bool faults, bool *slow)
{
    graft_seam *s = cx->s;
    graft_runtime *rt = s->rt;
    graft__inc(cx->sl, cx->shared, GRAFT__CI(impl, GRAFT__I_CALLS), 1);
    enum { INJECT_NONE, INJECT_ERROR, INJECT_PANIC } inject = INJECT_NONE;
    assert(impl == GRAFT_IMPL_LEGACY || impl == GRAFT_IMPL_CANDIDATE);
    assert(!faults || impl == GRAFT_IMPL_CANDIDATE); /* faults hit routed candidate runs */
    uint64_t delay = 0;
    bool timed = cx->timed;
    if (faults) {
        uint32_t r = (uint32_t)(graft__rand(cx->t) % GRAFT__BUCKETS);
        uint32_t e = atomic_load_explicit(&s->fault_error_bp, memory_order_relaxed);
        uint32_t p = atomic_load_explicit(&s->fault_panic_bp, memory_order_relaxed);
        if (r < e) {
            inject = INJECT_ERROR;
        } else if (r < e + p) {
            inject = INJECT_PANIC;
        }
        uint32_t d = atomic_load_explicit(&s->fault_delay_bp, memory_order_relaxed);
        if (d && (uint32_t)(graft__rand(cx->t) % GRAFT__BUCKETS) < d) {
            delay = atomic_load_explicit(&s->fault_delay_ns, memory_order_relaxed);
            timed = true; /* a delayed call is always timed so the breaker sees it */
        }
        if (inject || delay) {
            graft__inc(cx->sl, cx->shared, GRAFT__C_FAULTS, 1);
        }
    }
    uint64_t t0 = timed ? graft__now(rt) : 0;
    uint64_t probe_t0 = 0;
    if (GRAFT_PROBES_ON()) {
        GRAFT_PROBE(impl__enter, s->name, impl, cx->key);
        probe_t0 = graft__mono_ns();
    }
    if (delay) {
        graft__sleep(rt, delay);
    }
    int rc;
    if (inject == INJECT_ERROR) {
        rc = GRAFT_EINJECTED;
    } else if (inject == INJECT_PANIC) {
        if (rt->arm_panic) {
            /* The FFI crate's boundary panics for real on this thread's next call. */
            rt->arm_panic();
            rc = s->candidate(s->ctx, cx->input, out);
            if (rt->disarm_panic && rt->disarm_panic()) {
                rc = GRAFT_EPANIC; /* never reached a boundary: still a panic fault */
            }
        } else {
            rc = GRAFT_EPANIC;
        }
    } else {
        graft_impl_fn fn = impl == GRAFT_IMPL_CANDIDATE ? s->candidate : s->legacy;
        rc = GRAFT__VALIDATE_INVOKE(s, (graft_impl)impl, fn, cx->input, out);
    }
    if (GRAFT_PROBES_ON() && probe_t0) {
        GRAFT_PROBE(impl__return, s->name, impl, rc, graft__mono_ns() - probe_t0, cx->key);
    }
    if (timed) {
        uint64_t t1 = graft__now(rt);
        uint64_t ns = t1 > t0 ? t1 - t0 : 0;
        cx->now = t1;
        cx->have_now = true;
        cx->last_ns = ns;
        graft__record_latency(cx, impl, ns);
        if (impl == GRAFT_IMPL_CANDIDATE) {
            uint64_t lim = atomic_load_explicit(&s->slow_call_ns, memory_order_relaxed);
            if (lim && ns > lim) {
                graft__inc(cx->sl, cx->shared, GRAFT__C_SLOW, 1);
                *slow = true;
            }
        }
    }
    if (GRAFT__UNLIKELY(rc != GRAFT_OK)) {
        graft__inc(cx->sl, cx->shared,
                   GRAFT__CI(impl, rc == GRAFT_EPANIC ? GRAFT__I_PANICS : GRAFT__I_ERRORS), 1);
    }
    return rc;
}

static int graft__serve_legacy(graft__cx *cx, void *output)
{
    bool slow = false;
    int rc = graft__run(cx, GRAFT_IMPL_LEGACY, output, false, &slow);
    graft__count_served(cx, GRAFT_IMPL_LEGACY);
    return rc;
}

static bool graft__sampled(graft__cx *cx)
{
    uint32_t n = atomic_load_explicit(&cx->s->sample_every, memory_order_relaxed);
    return n <= 1 || (++cx->t->compare_tick % n) == 0;
}

/* compare (general path): counts the comparison; returns true on a mismatch, which is
 * counted and reported. */
static bool graft__compare(graft__cx *cx, uint64_t key, bool has_key, void *legacy_out,
                           void *candidate_out)
{
    graft_seam *s = cx->s;
    graft__inc(cx->sl, cx->shared, GRAFT__C_COMPARED, 1);
    bool differ = graft__outputs_differ(s, cx->input, legacy_out, candidate_out);
    if (GRAFT_PROBES_ON()) {
        GRAFT_PROBE(compare, s->name, key, differ ? 0 : 1);
    }
    if (!differ) {
        return false;
    }
    graft__inc(cx->sl, cx->shared, GRAFT__C_MISMATCHES, 1);
    graft__on_mismatch(s, key, has_key, cx->input, legacy_out, candidate_out);
    return true;
}

static uint64_t graft__cx_now(graft__cx *cx)
{
    if (!cx->have_now) {
        cx->now = graft__now(cx->s->rt);
        cx->have_now = true;
    }
    return cx->now;
}

/* Tells the breaker about one candidate run. */
static void graft__feedback(graft__cx *cx, bool failed, bool slow, bool mismatch, bool trial)
{
    graft_seam *s = cx->s;
    int st = atomic_load_explicit(&s->brk.state, memory_order_acquire);
    if (st == GRAFT_BREAKER_DISABLED) {
        return;
    }
    bool bad = failed || slow || mismatch;
    if (st == GRAFT_BREAKER_HALF_OPEN && trial) {
        graft__breaker_trial_done(s, !bad);
        graft__breaker_poll(s, graft__cx_now(cx), true);
    } else if (bad) {
        graft__breaker_poll(s, graft__cx_now(cx), true);
    } else if (cx->have_now) {
        graft__breaker_poll(s, cx->now, false);
    }
}

/* Candidate-only's candidate failed and there is no fallback: the answer the seam
 * declared (graft_seam_def.candidate_only_failure). Out of line: only failures pay. */
static GRAFT__NOINLINE int graft__candidate_only_failed(graft__cx *cx, void *output, int rc)
{
    graft_seam *s = cx->s;
    switch (s->def.candidate_only_failure) {
    case GRAFT_ON_FAILURE_LEGACY:
        graft__inc(cx->sl, cx->shared, GRAFT__C_FALLBACKS, 1);
        return graft__serve_legacy(cx, output);
    case GRAFT_ON_FAILURE_OUTPUT:
        assert(s->failure_output);
        memcpy(output, s->failure_output, s->def.output_size);
        graft__inc(cx->sl, cx->shared, GRAFT__C_FAIL_OUTPUTS, 1);
        graft__count_served(cx, GRAFT_IMPL_CANDIDATE);
        return rc;
    case GRAFT_ON_FAILURE_STATUS:
    default:
        graft__count_served(cx, GRAFT_IMPL_CANDIDATE);
        return rc;
    }
}

/* The candidate serves (canary in-bucket, candidate, candidate-only). */
static int graft__candidate_route(graft__cx *cx, uint64_t key, bool has_key, void *output,
                                  void *scratch, bool fallback, bool faults)
{
    graft_seam *s = cx->s;
    bool trial = false;
    int st = atomic_load_explicit(&s->brk.state, memory_order_acquire);
    if (GRAFT__UNLIKELY(st == GRAFT_BREAKER_OPEN || st == GRAFT_BREAKER_HALF_OPEN)) {
        uint64_t now = graft__cx_now(cx);
        if (fallback) {
            if (!graft__breaker_admit(s, &now, &trial)) {
                graft__inc(cx->sl, cx->shared, GRAFT__C_BREAKER_REJECTED, 1);
                if (GRAFT_PROBES_ON()) {
                    GRAFT_PROBE(fallback, s->name, key, "breaker_open", GRAFT_OK);
                }
                return graft__serve_legacy(cx, output);
            }
        } else {
            /* candidate-only has no legacy to send traffic to: the breaker observes. */
            graft__breaker_poll(s, now, true);
            trial = atomic_load_explicit(&s->brk.state, memory_order_acquire) ==
                    GRAFT_BREAKER_HALF_OPEN;
        }
        cx->timed = true; /* trials are timed: slow trials count */
        cx->have_now = false;
    }
    bool slow = false;
    int rc = graft__run(cx, GRAFT_IMPL_CANDIDATE, output, faults, &slow);
    if (rc == GRAFT_OK) {
        graft__count_served(cx, GRAFT_IMPL_CANDIDATE);
        bool mismatch = false;
        if (atomic_load_explicit(&s->compare_served, memory_order_relaxed)) {
            if (!scratch || !graft__sampled(cx)) {
                graft__inc(cx->sl, cx->shared, GRAFT__C_COMPARE_SKIPPED, 1);
            } else {
                bool ls = false;
                bool was_timed = cx->timed;
                cx->timed = false;
                if (graft__run(cx, GRAFT_IMPL_LEGACY, scratch, false, &ls) == GRAFT_OK) {
                    mismatch = graft__compare(cx, key, has_key, scratch, output);
                    graft__release(s, scratch);
                } else {
                    graft__inc(cx->sl, cx->shared, GRAFT__C_COMPARE_SKIPPED, 1);
                }
                cx->timed = was_timed;
            }
        }
        graft__feedback(cx, false, slow, mismatch, trial);
        return GRAFT_OK;
    }
    graft__feedback(cx, true, slow, false, trial);
    if (!fallback) {
        return graft__candidate_only_failed(cx, output, rc);
    }
    graft__inc(cx->sl, cx->shared, GRAFT__C_FALLBACKS, 1);
    if (GRAFT_PROBES_ON()) {
        GRAFT_PROBE(fallback, s->name, key, graft_status_name(rc) ? graft_status_name(rc) : "?",
                    rc);
    }
    int lrc = graft__serve_legacy(cx, output);
    if (graft__log_enabled(s->rt, GRAFT_LOG_DEBUG)) {
        graft__log_deferred(s, GRAFT_LOG_DEBUG, "graft.seam", "fallback seam=%s candidate=%s",
                            s->name, graft_status_name(rc) ? graft_status_name(rc) : "?");
    }
    return lrc;
}

static int graft__shadow(graft__cx *cx, uint64_t key, bool has_key, void *output, void *scratch,
                         bool faults)
{
    graft_seam *s = cx->s;
    int rc = graft__serve_legacy(cx, output);
    if (rc != GRAFT_OK || !scratch || !graft__sampled(cx)) {
        graft__inc(cx->sl, cx->shared, GRAFT__C_COMPARE_SKIPPED, 1);
        return rc;
    }
    bool trial = false;
    int st = atomic_load_explicit(&s->brk.state, memory_order_acquire);
    if (GRAFT__UNLIKELY(st == GRAFT_BREAKER_OPEN || st == GRAFT_BREAKER_HALF_OPEN)) {
        uint64_t now = graft__cx_now(cx);
        if (!graft__breaker_admit(s, &now, &trial)) {
            graft__inc(cx->sl, cx->shared, GRAFT__C_BREAKER_REJECTED, 1);
            return rc;
        }
        cx->timed = true;
        cx->have_now = false;
    }
    bool slow = false;
    bool paired = cx->timed; /* legacy's run above was timed too */
    uint64_t lns = cx->last_ns;
    int crc = graft__run(cx, GRAFT_IMPL_CANDIDATE, scratch, faults, &slow);
    bool mismatch = false;
    if (crc == GRAFT_OK) {
        if (paired) {
            graft__count_pair(cx, lns, cx->last_ns);
        }
        mismatch = graft__compare(cx, key, has_key, output, scratch);
        graft__release(s, scratch);
    }
    graft__feedback(cx, crc != GRAFT_OK, slow, mismatch, trial);
    return rc;
}

/* ------------------------------------------------------------------ async shadow */

/* A claimed job that turned out not to be wanted: cells cannot be given back unrun. */
static void graft__shadow_job_none(graft__job *j, void *out_a, void *out_b)
{
    (void)j;
    (void)out_a;
    (void)out_b;
}

/* Runs on an executor worker: the candidate (A/A: legacy again) on the input copy,
 * compared with the served output copied by value; legacy runs first on the same copy
 * so the two latencies are a pair of the same request. */
static void graft__shadow_job(graft__job *j, void *out_a, void *out_b)
{
    graft_seam *s = j->seam;
    graft_runtime *rt = s->rt;
    graft__tls *t = &graft__t;
    if (GRAFT__UNLIKELY(t->slot < 0)) {
        graft__tls_init();
    }
    graft__cx cx = graft__cx_make(s, t, j->input);
    uint64_t deadline = atomic_load_explicit(&s->shadow_deadline_ns, memory_order_relaxed);
    uint64_t t0 = graft__now(rt);
    if (deadline && t0 > j->enq_ns && t0 - j->enq_ns > deadline) {
        /* Waited in the queue past its deadline: the executor is starved, which says
         * nothing of the candidate. */
        graft__inc(cx.sl, cx.shared, GRAFT__C_SH_DROPPED, 1);
        return;
    }
    bool aa = atomic_load_explicit(&s->shadow_exec, memory_order_relaxed) == GRAFT_SHADOW_AA;
    bool mismatch = false;
    bool failed = false;
    bool slow = false;
    if (aa) {
        int rc = s->legacy(s->ctx, j->input, out_a);
        uint64_t t1 = graft__now(rt);
        if (rc == GRAFT_OK) {
            mismatch = graft__compare(&cx, j->key, j->has_key, j->served, out_a);
            graft__release(s, out_a);
        }
        if (deadline && t1 - t0 > deadline) {
            graft__inc(cx.sl, cx.shared, GRAFT__C_SH_OVERRAN, 1);
        }
        graft__inc(cx.sl, cx.shared, GRAFT__C_SH_DONE, 1);
        return;
    }
    int lrc = s->legacy(s->ctx, j->input, out_b);
    uint64_t t1 = graft__now(rt);
    if (lrc == GRAFT_OK) {
        graft__release(s, out_b);
    }
    bool faults =
        (atomic_load_explicit(&s->route, memory_order_relaxed) & GRAFT__ROUTE_FAULTS) != 0;
    cx.timed = true; /* every executor run is timed: the deadline needs it */
    int crc = graft__run(&cx, GRAFT_IMPL_CANDIDATE, out_a, faults, &slow);
    uint64_t cns = cx.last_ns;
    if (deadline && cns > deadline) {
        /* Overran: a slow call for the breaker, whatever its own slow threshold. */
        graft__inc(cx.sl, cx.shared, GRAFT__C_SH_OVERRAN, 1);
        if (!slow) {
            graft__inc(cx.sl, cx.shared, GRAFT__C_SLOW, 1);
            slow = true;
        }
    }
    if (crc == GRAFT_OK) {
        if (lrc == GRAFT_OK) {
            graft__count_pair(&cx, t1 - t0, cns);
        }
        mismatch = graft__compare(&cx, j->key, j->has_key, j->served, out_a);
        graft__release(s, out_a);
    } else {
        failed = true;
    }
    graft__feedback(&cx, failed, slow, mismatch, j->trial);
    graft__inc(cx.sl, cx.shared, GRAFT__C_SH_DONE, 1);
}

/* The enqueue time of a job: the runtime's clock when one is injected, else the kernel's
 * coarse monotonic clock (same base as CLOCK_MONOTONIC, a few ms resolution, a fifth of
 * the cost): it only decides staleness against a deadline of tens of ms. */
static inline uint64_t graft__enqueue_now(const graft_runtime *rt)
{
#ifdef CLOCK_MONOTONIC_COARSE
    if (!rt->clock) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    }
#endif
    return graft__now(rt);
}

/* Shadow on the executor: legacy serves; the input and the served output are copied
 * into a job and the call returns. Queue full or input too large: dropped, counted. */
static int graft__shadow_async(graft__cx *cx, uint64_t key, bool has_key, void *output)
{
    graft_seam *s = cx->s;
    int rc = graft__serve_legacy(cx, output);
    if (rc != GRAFT_OK || !graft__sampled(cx)) {
        graft__inc(cx->sl, cx->shared, GRAFT__C_COMPARE_SKIPPED, 1);
        return rc;
    }
    graft__executor *e = &s->rt->exec;
    graft__job *j = graft__exec_claim(e);
    if (!j) {
        graft__inc(cx->sl, cx->shared, GRAFT__C_SH_DROPPED, 1);
        return rc;
    }
    assert(s->def.copy_input && s->def.output_size <= sizeof j->served); /* seam.c checks */
    size_t need = s->def.copy_input(s->ctx, cx->input, j->input, sizeof j->input);
    if (need > sizeof j->input) {
        j->run = graft__shadow_job_none;
        graft__exec_publish(e, j);
        graft__inc(cx->sl, cx->shared, GRAFT__C_SH_DROPPED, 1);
        return rc;
    }
    bool trial = false;
    int st = atomic_load_explicit(&s->brk.state, memory_order_acquire);
    if (GRAFT__UNLIKELY(st == GRAFT_BREAKER_OPEN || st == GRAFT_BREAKER_HALF_OPEN)) {
        uint64_t now = graft__cx_now(cx);
        if (!graft__breaker_admit(s, &now, &trial)) {
            j->run = graft__shadow_job_none;
            graft__exec_publish(e, j);
            graft__inc(cx->sl, cx->shared, GRAFT__C_BREAKER_REJECTED, 1);
            return rc;
        }
    }
    memcpy(j->served, output, s->def.output_size);
    j->seam = s;
    j->key = key;
    j->has_key = has_key;
    j->trial = trial;
    j->enq_ns = cx->have_now ? cx->now : graft__enqueue_now(s->rt);
    j->run = graft__shadow_job;
    graft__exec_publish(e, j);
    graft__inc(cx->sl, cx->shared, GRAFT__C_SH_ENQUEUED, 1);
    return rc;
}

/* The general path on a call's context (cx->key set): every stage explicitly. */
static int graft__general(graft__cx *cx, uint64_t key, unsigned flags, void *output, void *scratch,
                          uint64_t w)
{
    graft_seam *s = cx->s;
    graft__tls *t = cx->t;
    unsigned force = flags & GRAFT__FORCE_MASK;
    graft_runtime *rt = s->rt;
    /* The countdown is per thread, shared by every seam the thread calls: a fixed period
     * would alias with a program's call pattern (kvd alternates kv.parse and kv.hash, so
     * every 256th call was always a parse). A jittered period, uniform in [N/2, 3N/2)
     * (mean N, never below N/2), times every seam in proportion to its calls. */
    uint32_t every = rt->time_sample_every;
    if (t->shared) {
        cx->timed = graft__rand(t) % every == 0;
    } else if (t->countdown > 1) {
        t->countdown--;
    } else {
        t->countdown = (every / 2 ? every / 2 : 1) + (uint32_t)(graft__rand(t) % every);
        cx->timed = true;
    }
    graft_mode mode = (graft_mode)(w & GRAFT__ROUTE_MODE_MASK);
    graft__count_call(cx, mode);
    bool has_key = !(flags & GRAFT_CALL_NO_KEY);
    bool faults = (w & GRAFT__ROUTE_FAULTS) != 0;

    if (GRAFT__UNLIKELY(force)) {
        if (force == GRAFT_CALL_FORCE_LEGACY) {
            return graft__serve_legacy(cx, output);
        }
        /* Forced candidate: the real candidate, no faults, no fallback, no breaker. */
        bool slow = false;
        int rc = graft__run(cx, GRAFT_IMPL_CANDIDATE, output, false, &slow);
        graft__count_served(cx, GRAFT_IMPL_CANDIDATE);
        return rc;
    }

    switch (mode) {
    case GRAFT_MODE_SHADOW:
        if (w & GRAFT__ROUTE_ASYNC) {
            return graft__shadow_async(cx, key, has_key, output);
        }
        return graft__shadow(cx, key, has_key, output, scratch, faults);
    case GRAFT_MODE_CANARY: {
        uint32_t pct = (uint32_t)((w >> GRAFT__ROUTE_PCT_SHIFT) & GRAFT__ROUTE_PCT_MASK);
        uint32_t b = has_key ? (uint32_t)(graft__bucket_hash(s->salt, key) % GRAFT__BUCKETS)
                             : (uint32_t)(graft__rand(t) % GRAFT__BUCKETS);
        if (b >= pct) {
            return graft__serve_legacy(cx, output);
        }
        return graft__candidate_route(cx, key, has_key, output, scratch, true, faults);
    }
    case GRAFT_MODE_CANDIDATE:
        return graft__candidate_route(cx, key, has_key, output, scratch, true, faults);
    case GRAFT_MODE_CANDIDATE_ONLY:
        return graft__candidate_route(cx, key, has_key, output, scratch, false, faults);
    case GRAFT_MODE_DUAL_WRITE: /* reads of a stateful seam, and pure seams: legacy */
    case GRAFT_MODE_LEGACY:
    default:
        return graft__serve_legacy(cx, output);
    }
}

/* A call's context on this thread (its slot claimed on first use); GRAFT_EINVAL when
 * both force flags are given. */
static inline int graft__cx_begin(graft_seam *s, uint64_t key, unsigned flags, const void *input,
                                  graft__cx *cx)
{
    graft__tls *t = &graft__t;
    if (GRAFT__UNLIKELY(t->slot < 0)) {
        graft__tls_init();
    }
    if (GRAFT__UNLIKELY((flags & GRAFT__FORCE_MASK) == GRAFT__FORCE_MASK)) {
        return GRAFT_EINVAL;
    }
    *cx = graft__cx_make(s, t, input);
    cx->key = key;
    return GRAFT_OK;
}

static GRAFT__NOINLINE int graft__call_general(graft_seam *s, uint64_t key, unsigned flags,
                                               const void *input, void *output, void *scratch,
                                               uint64_t w)
{
    graft__cx cx;
    int rc = graft__cx_begin(s, key, flags, input, &cx);
    return rc != GRAFT_OK ? rc : graft__general(&cx, key, flags, output, scratch, w);
}

/* Every call while a tracer is attached (probes.h) or in a validation build
 * (validate.h): the general path, between the seam__call and seam__return probes. */
static GRAFT__NOINLINE int graft__call_traced(graft_seam *s, uint64_t key, unsigned flags,
                                              const void *input, void *output, void *scratch)
{
    GRAFT__VALIDATE_CALL(s, input, output, scratch);
    uint64_t w = atomic_load_explicit(&s->route, memory_order_relaxed);
    graft__cx cx;
    int rc = graft__cx_begin(s, key, flags, input, &cx);
    if (rc != GRAFT_OK || !GRAFT_PROBES_ON()) {
        return rc != GRAFT_OK ? rc : graft__general(&cx, key, flags, output, scratch, w);
    }
    GRAFT_PROBE(seam__call, s->name, key, (int)(w & GRAFT__ROUTE_MODE_MASK), flags);
    uint64_t t0 = graft__mono_ns();
    rc = graft__general(&cx, key, flags, output, scratch, w);
    GRAFT_PROBE(seam__return, s->name, key, cx.served, rc, graft__mono_ns() - t0);
    (void)t0; /* unused when probes are compiled out */
    return rc;
}

/* ------------------------------------------------------------------ short paths */

/* Own-slot increment for the short paths (they only run on threads with an own slot). */
static inline void graft__bump(graft_seam *s, const graft__tls *t, int ctr)
{
    graft__slot *sl = (graft__slot *)((char *)s->slots + t->slot_off);
    _Atomic uint64_t *p = &sl->c[ctr];
    atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* The short paths count their outcome before calling (keeps the counter's load/store
 * off the return path); when the run fails, the helper takes it back. */
static void graft__unbump(graft_seam *s, int ctr)
{
    graft__tls *t = &graft__t;
    graft__slot *sl = (graft__slot *)((char *)s->slots + t->slot_off);
    atomic_store_explicit(&sl->c[ctr], atomic_load_explicit(&sl->c[ctr], memory_order_relaxed) - 1,
                          memory_order_relaxed);
}

/* A short path's serving legacy run failed (bumped: the combined counter to take back,
 * or -1 when none was bumped yet): account it exactly. */
static GRAFT__NOINLINE int graft__short_legacy_failed(graft_seam *s, const void *input,
                                                      graft_mode mode, int bumped, int rc)
{
    if (bumped >= 0) {
        graft__unbump(s, bumped);
    }
    graft__cx cx = graft__cx_make(s, &graft__t, input);
    graft__count_call(&cx, mode);
    graft__count_ran(&cx, GRAFT_IMPL_LEGACY, rc);
    graft__count_served(&cx, GRAFT_IMPL_LEGACY);
    if (mode == GRAFT_MODE_SHADOW) {
        graft__inc(cx.sl, cx.shared, GRAFT__C_COMPARE_SKIPPED, 1);
    }
    return rc;
}

/* A short path's serving candidate run failed: take the combined counter back, account,
 * tell the breaker, fall back (not in candidate-only). */
static GRAFT__NOINLINE int graft__short_candidate_failed(graft_seam *s, const void *input,
                                                         void *output, graft_mode mode, int bumped,
                                                         int rc)
{
    graft__unbump(s, bumped);
    graft__cx cx = graft__cx_make(s, &graft__t, input);
    graft__count_call(&cx, mode);
    graft__count_ran(&cx, GRAFT_IMPL_CANDIDATE, rc);
    graft__feedback(&cx, true, false, false, false);
    if (mode == GRAFT_MODE_CANDIDATE_ONLY) {
        return graft__candidate_only_failed(&cx, output, rc);
    }
    graft__inc(cx.sl, cx.shared, GRAFT__C_FALLBACKS, 1);
    return graft__serve_legacy(&cx, output);
}

/* Shadow short path after both ran: the candidate failed (crc), or the outputs
 * differed (crc == OK). Nothing was bumped yet. */
static GRAFT__NOINLINE int graft__short_shadow_slow(graft_seam *s, uint64_t key, bool has_key,
                                                    const void *input, void *output, void *scratch,
                                                    int crc)
{
    graft__cx cx = graft__cx_make(s, &graft__t, input);
    graft__count_call(&cx, GRAFT_MODE_SHADOW);
    graft__count_ran(&cx, GRAFT_IMPL_LEGACY, GRAFT_OK);
    graft__count_served(&cx, GRAFT_IMPL_LEGACY);
    graft__count_ran(&cx, GRAFT_IMPL_CANDIDATE, crc);
    if (crc != GRAFT_OK) {
        graft__feedback(&cx, true, false, false, false);
        return GRAFT_OK;
    }
    graft__inc(cx.sl, cx.shared, GRAFT__C_COMPARED, 1);
    graft__inc(cx.sl, cx.shared, GRAFT__C_MISMATCHES, 1);
    graft__on_mismatch(s, key, has_key, input, output, scratch);
    graft__release(s, scratch);
    graft__feedback(&cx, false, false, true, false);
    return GRAFT_OK;
}

/* The candidate serves (candidate, candidate-only, canary in the buckets): the one
 * specialisation graft_call and graft__call_short share. */
static inline __attribute__((always_inline)) int
graft__short_candidate(graft_seam *s, graft__tls *t, const void *input, void *output,
                       graft_mode mode, int fast_ctr)
{
    graft__bump(s, t, fast_ctr);
    int rc = s->candidate(s->ctx, input, output);
    if (GRAFT__LIKELY(rc == GRAFT_OK)) {
        return GRAFT_OK;
    }
    return graft__short_candidate_failed(s, input, output, mode, fast_ctr, rc);
}

/* Legacy serves (legacy, canary out of the buckets). */
static inline __attribute__((always_inline)) int graft__short_legacy(graft_seam *s, graft__tls *t,
                                                                     const void *input,
                                                                     void *output, graft_mode mode,
                                                                     int fast_ctr)
{
    graft__bump(s, t, fast_ctr);
    int rc = s->legacy(s->ctx, input, output);
    if (GRAFT__LIKELY(rc == GRAFT_OK)) {
        return rc;
    }
    return graft__short_legacy_failed(s, input, mode, fast_ctr, rc);
}

static inline int graft__short_shadow(graft_seam *s, graft__tls *t, uint64_t key, bool has_key,
                                      const void *input, void *output, void *scratch)
{
    int rc = s->legacy(s->ctx, input, output);
    if (GRAFT__UNLIKELY(rc != GRAFT_OK)) {
        return graft__short_legacy_failed(s, input, GRAFT_MODE_SHADOW, -1, rc);
    }
    int crc = s->candidate(s->ctx, input, scratch);
    if (GRAFT__UNLIKELY(crc != GRAFT_OK)) {
        return graft__short_shadow_slow(s, key, has_key, input, output, scratch, crc);
    }
    if (GRAFT__UNLIKELY(graft__outputs_differ(s, input, output, scratch))) {
        return graft__short_shadow_slow(s, key, has_key, input, output, scratch, GRAFT_OK);
    }
    graft__release(s, scratch);
    graft__bump(s, t, GRAFT__C_FAST_SHADOW);
    return GRAFT_OK;
}

/* Short paths of the modes other than legacy: not a timed call, no override, no fault,
 * breaker closed, no sampling or compare-when-served. Anything unusual takes the general
 * path, or (after the implementations ran) an out-of-line helper. Kept out of
 * graft_call so the legacy path's frame stays small. */
static GRAFT__NOINLINE int graft__call_short(graft_seam *seam, uint64_t key, unsigned flags,
                                             const void *input, void *output, void *scratch,
                                             uint64_t w)
{
    graft__tls *t = &graft__t;
    uint32_t c = t->countdown;
    if (c > 1 && !(flags & GRAFT__FORCE_MASK) && !(w & GRAFT__ROUTE_FLAGS)) {
        graft_mode mode = (graft_mode)(w & GRAFT__ROUTE_MODE_MASK);
        switch (mode) {
        case GRAFT_MODE_CANDIDATE:
            t->countdown = c - 1;
            return graft__short_candidate(seam, t, input, output, mode, GRAFT__C_FAST_CAND);
        case GRAFT_MODE_CANDIDATE_ONLY:
            t->countdown = c - 1;
            return graft__short_candidate(seam, t, input, output, mode, GRAFT__C_FAST_CAND_ONLY);
        case GRAFT_MODE_CANARY: {
            t->countdown = c - 1;
            uint32_t pct = (uint32_t)((w >> GRAFT__ROUTE_PCT_SHIFT) & GRAFT__ROUTE_PCT_MASK);
            uint64_t h =
                (flags & GRAFT_CALL_NO_KEY) ? graft__rand(t) : graft__bucket_hash(seam->salt, key);
            if ((uint32_t)(h % GRAFT__BUCKETS) < pct) {
                return graft__short_candidate(seam, t, input, output, mode, GRAFT__C_FAST_CANARY_C);
            }
            return graft__short_legacy(seam, t, input, output, mode, GRAFT__C_FAST_CANARY_L);
        }
        case GRAFT_MODE_SHADOW:
            if (!scratch) {
                break;
            }
            t->countdown = c - 1;
            return graft__short_shadow(seam, t, key, !(flags & GRAFT_CALL_NO_KEY), input, output,
                                       scratch);
        default:
            break;
        }
    }
    return graft__call_general(seam, key, flags, input, output, scratch, w);
}

int graft_call(graft_seam *seam, uint64_t key, unsigned flags, const void *input, void *output,
               void *scratch)
{
    if (GRAFT__UNLIKELY(!seam || !output)) {
        return GRAFT_ENULL;
    }
    /* One load of the probes' semaphore (0 unless a tracer is attached; compiled out
     * without <sys/sdt.h>); a validation build always takes the checked path. */
    if (GRAFT__UNLIKELY(GRAFT_PROBES_ON() || GRAFT__VALIDATE)) {
        return graft__call_traced(seam, key, flags, input, output, scratch);
    }
    uint64_t w = atomic_load_explicit(&seam->route, memory_order_relaxed);
    graft__tls *t = &graft__t;
    uint32_t c = t->countdown;
    /* Fast paths of legacy and candidate mode: one counter (calls, runs and served
     * derive from it). Counted before the call (keeps the counter's load/store off the
     * return path) and taken back by the helper if the call fails. Candidate mode also
     * needs no route flag (faults, breaker, compare-when-served) set. */
    if (GRAFT__LIKELY(c > 1 && !(flags & GRAFT__FORCE_MASK))) {
        uint64_t m = w & (GRAFT__ROUTE_MODE_MASK | GRAFT__ROUTE_FLAGS);
        if (GRAFT__LIKELY((w & GRAFT__ROUTE_MODE_MASK) == GRAFT_MODE_LEGACY)) {
            t->countdown = c - 1;
            return graft__short_legacy(seam, t, input, output, GRAFT_MODE_LEGACY,
                                       GRAFT__C_FAST_LEGACY);
        }
        if (m == GRAFT_MODE_CANDIDATE) {
            t->countdown = c - 1;
            return graft__short_candidate(seam, t, input, output, GRAFT_MODE_CANDIDATE,
                                          GRAFT__C_FAST_CAND);
        }
    }
    return graft__call_short(seam, key, flags, input, output, scratch, w);
}
