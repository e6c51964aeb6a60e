/*
 * internal.h: libgraft's private structures, shared by the files of src/ only.
 *
 * The layout is driven by the hot path (graft_call): the seam's routing state is one
 * atomic word, counters live in per-thread slots (one writer per slot, so an increment
 * is a relaxed load and store, no lock prefix), and everything slow (breaker window,
 * mismatch samples, capture) sits behind try-locks that the call path never waits on.
 */
#ifndef GRAFT_INTERNAL_H
#define GRAFT_INTERNAL_H

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graft/graft.h"
#include "graft/stateful.h"
#include "breaker.h"
#include "history.h"
#include "metrics.h"
#include "mismatch.h"
#include "shadow.h"
#include "writer.h"

#if defined(__GNUC__)
#define GRAFT__LIKELY(x) __builtin_expect(!!(x), 1)
#define GRAFT__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define GRAFT__TLS_FAST __attribute__((tls_model("initial-exec")))
#define GRAFT__NOINLINE __attribute__((noinline))
#define GRAFT__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define GRAFT__LIKELY(x) (x)
#define GRAFT__UNLIKELY(x) (x)
#define GRAFT__TLS_FAST
#define GRAFT__NOINLINE
#define GRAFT__PRINTF(a, b)
#endif

#define GRAFT__BUCKETS 10000u
/* Per-thread counter slots per seam; threads beyond share the overflow slot. */
#define GRAFT__SLOTS 64
#define GRAFT__OVERFLOW_SLOT GRAFT__SLOTS
/* Timing: 1 call in this many per thread is timed (runtime option default). Two clock
 * reads cost ~51 ns here, so 1 in 256 amortises to ~0.2 ns per call. */
#define GRAFT__TIME_SAMPLE_DEFAULT 256u
#define GRAFT__NAME_MAX 64
#define GRAFT__SHADOW_DEADLINE_DEFAULT (50ull * 1000000ull) /* 50 ms */

/* Route word: mode in bits 0..2, percent_bp in bits 8..21, and flags that send calls
 * to the general path: faults on, compare-when-served on, comparison sampled (1 in N
 * with N > 1), breaker open or half-open. With none set, the common outcome of each
 * mode is handled by a short path that bumps one combined counter. */
#define GRAFT__ROUTE_MODE_MASK 0x7ull
#define GRAFT__ROUTE_PCT_SHIFT 8
#define GRAFT__ROUTE_PCT_MASK 0x3FFFull
#define GRAFT__ROUTE_FAULTS (1ull << 32)
#define GRAFT__ROUTE_CMP_SERVED (1ull << 33)
#define GRAFT__ROUTE_SAMPLED (1ull << 34)
#define GRAFT__ROUTE_BK_ACTIVE (1ull << 35)
#define GRAFT__ROUTE_ASYNC (1ull << 36) /* shadow runs on the executor (async or A/A) */
#define GRAFT__ROUTE_FLAGS                                                                         \
    (GRAFT__ROUTE_FAULTS | GRAFT__ROUTE_CMP_SERVED | GRAFT__ROUTE_SAMPLED |                        \
     GRAFT__ROUTE_BK_ACTIVE | GRAFT__ROUTE_ASYNC)
#define GRAFT__FORCE_MASK (GRAFT_CALL_FORCE_LEGACY | GRAFT_CALL_FORCE_CANDIDATE)

/* The short paths' combined outcomes, the one table of them: each counter stands for a
 * whole common outcome of one call, and this row says what it means, so graft__counters
 * (counters.c) folds it into the canonical counters and the breaker (breaker.c) counts
 * it as candidate runs and comparisons. A new combined outcome is one row here plus
 * the short path that bumps it (call.c).
 *   XX(NAME, mode, legacy ran, candidate ran, served by, compared, meaning) */
#define GRAFT__OUTCOME_MAP(XX)                                                                     \
    XX(FAST_LEGACY, LEGACY, 1, 0, LEGACY, 0, "legacy mode, legacy ran and served")                 \
    XX(FAST_CAND, CANDIDATE, 0, 1, CANDIDATE, 0, "candidate mode, candidate ran and served")       \
    XX(FAST_CAND_ONLY, CANDIDATE_ONLY, 0, 1, CANDIDATE, 0,                                         \
       "candidate-only mode, candidate ran and served")                                            \
    XX(FAST_CANARY_L, CANARY, 1, 0, LEGACY, 0, "canary mode, out of the buckets, legacy served")   \
    XX(FAST_CANARY_C, CANARY, 0, 1, CANDIDATE, 0, "canary mode, in the buckets, candidate served") \
    XX(FAST_SHADOW, SHADOW, 1, 1, LEGACY, 1, "shadow mode, both ran, compared equal, legacy served")

/* Counters of one slot: the combined outcomes above, then the canonical counters that
 * the general path bumps one by one and snapshots report. */
#define GRAFT__OUTCOME_ENUM(name, mode, ran_l, ran_c, served, compared, meaning) GRAFT__C_##name,
enum graft__outcome { GRAFT__OUTCOME_MAP(GRAFT__OUTCOME_ENUM) GRAFT__C_OUTCOMES };
#undef GRAFT__OUTCOME_ENUM
enum graft__ctr {
    GRAFT__C_CALLS = GRAFT__C_OUTCOMES,
    GRAFT__C_BY_MODE,                                    /* GRAFT_MODE_COUNT entries */
    GRAFT__C_IMPL = GRAFT__C_BY_MODE + GRAFT_MODE_COUNT, /* 2 x GRAFT__I_COUNT */
    GRAFT__C_FALLBACKS = GRAFT__C_IMPL + 2 * 6,
    GRAFT__C_COMPARED,
    GRAFT__C_MISMATCHES,
    GRAFT__C_COMPARE_SKIPPED,
    GRAFT__C_BREAKER_REJECTED,
    GRAFT__C_FAULTS,
    GRAFT__C_SLOW,         /* timed candidate calls over breaker slow_call_ns */
    GRAFT__C_FAIL_OUTPUTS, /* candidate-only failures answered by failure_output */
    GRAFT__C_SH_ENQUEUED,  /* shadow calls handed to the executor */
    GRAFT__C_SH_DROPPED,   /* queue full, input too large, or stale when taken */
    GRAFT__C_SH_OVERRAN,   /* executor runs past the shadow deadline */
    GRAFT__C_SH_DONE,      /* executor jobs run to the end */
    /* Paired latencies of one request (the executor runs both on the same input copy;
     * sync shadow's timed calls): candidate slower than legacy x (1 + tolerance),
     * faster, or equal to it (rollout.c's sign test). */
    GRAFT__C_PAIR_SLOWER,
    GRAFT__C_PAIR_FASTER,
    GRAFT__C_PAIR_TIES,
    GRAFT__C_COUNT
};
/* Per-implementation counter offsets within GRAFT__C_IMPL + impl * 6. */
enum graft__impl_ctr {
    GRAFT__I_CALLS = 0,
    GRAFT__I_SERVED,
    GRAFT__I_ERRORS,
    GRAFT__I_PANICS,
    GRAFT__I_TIMED,
    GRAFT__I_SUM_NS,
    GRAFT__I_COUNT
};
_Static_assert(GRAFT__I_COUNT == 6, "GRAFT__C_IMPL reserves 6 counters per implementation");
#define GRAFT__CI(impl, k) (GRAFT__C_IMPL + (impl)*GRAFT__I_COUNT + (k))

/* What the breaker's window counts, as canonical counters: XX(counter, field of
 * graft__bk_counts). The combined outcomes add theirs from GRAFT__OUTCOME_MAP (a
 * candidate run is `calls`, a compared one `compared`). */
#define GRAFT__BK_INPUT_MAP(XX)                                                                    \
    XX(GRAFT__CI(GRAFT_IMPL_CANDIDATE, GRAFT__I_CALLS), calls)                                     \
    XX(GRAFT__CI(GRAFT_IMPL_CANDIDATE, GRAFT__I_ERRORS), failures)                                 \
    XX(GRAFT__CI(GRAFT_IMPL_CANDIDATE, GRAFT__I_PANICS), failures)                                 \
    XX(GRAFT__CI(GRAFT_IMPL_CANDIDATE, GRAFT__I_TIMED), timed)                                     \
    XX(GRAFT__C_SLOW, slow)                                                                        \
    XX(GRAFT__C_COMPARED, compared)                                                                \
    XX(GRAFT__C_MISMATCHES, mismatches)

typedef struct graft__slot {
    _Atomic uint64_t c[GRAFT__C_COUNT];
    _Atomic uint64_t max_ns[2];
    _Atomic uint64_t hist[2][GRAFT__HIST_BUCKETS];
} __attribute__((aligned(64))) graft__slot;

/* Per-thread state of the hot path. */
typedef struct graft__tls {
    uint32_t countdown; /* fast path allowed while > 1; 0 = not initialised/shared */
    int slot;           /* index into a seam's slots; -1 = none yet */
    size_t slot_off;    /* slot * sizeof(graft__slot): saves a multiply on the fast path */
    bool shared;        /* slot is the overflow slot: use fetch_add */
    uint32_t compare_tick;
    uint64_t rng; /* xorshift64* state for NO_KEY and fault draws */
} graft__tls;

extern _Thread_local graft__tls graft__t GRAFT__TLS_FAST;
void graft__tls_init(void);

typedef struct graft__logger {
    graft_log_fn fn;
    void *ctx;
    /* Deliveries to this sink in progress: graft_runtime_set_log waits for 0 after
     * unpublishing it, so the host may free ctx once it returns. */
    _Atomic uint32_t active;
    struct graft__logger *prev; /* kept until the runtime is freed: readers never race a free */
} graft__logger;

/* Stored configuration for one seam name (from a file or a spec). */
typedef struct graft__seam_conf {
    char name[GRAFT__NAME_MAX + 1];
    bool warned; /* named no registered seam after graft_runtime_ready: logged once */
    bool has_mode;
    graft_mode mode;
    uint32_t percent_bp;
    bool has_compare; /* file sections carry every group (declarative) */
    graft_compare_config compare;
    char capture_dir[1024];
    bool has_breaker;
    graft_breaker_config breaker;
    bool has_fault;
    graft_fault_config fault;
    bool has_shadow; /* shadow = sync | async | aa, shadow.deadline */
    graft_shadow_config shadow;
    bool has_plan; /* plan.* keys: the seam's rollout plan (it then sets the mode) */
    graft_plan plan;
} graft__seam_conf;

typedef struct graft__conf_set {
    graft__seam_conf *v;
    size_t n, cap;
    bool has_log_level;
    int log_level;
} graft__conf_set;

/* A seam: the state the call path reads (first), then one sub-struct per owner,
 * defined beside the file that owns it. */
struct graft_seam {
    /* hot, read-mostly */
    _Atomic uint64_t route; /* mode, percent and GRAFT__ROUTE_* flags */
    graft_impl_fn legacy, candidate;
    void *ctx;
    uint64_t salt;
    graft_runtime *rt;
    graft__slot *slots; /* GRAFT__SLOTS + 1 */
    /* comparison sampling (call.c reads; seam.c sets) */
    _Atomic uint32_t sample_every;
    _Atomic int compare_served;
    _Atomic uint64_t slow_call_ns; /* breaker's slow threshold, 0 when disabled */
    /* fault injection (call.c reads; seam.c sets) */
    _Atomic uint32_t fault_error_bp, fault_panic_bp, fault_delay_bp;
    _Atomic uint64_t fault_delay_ns;
    /* shadow execution (call.c reads; seam.c sets) */
    _Atomic int shadow_exec;             /* graft_shadow_exec */
    _Atomic uint64_t shadow_deadline_ns; /* executor runs past this are overran */
    _Atomic uint32_t pair_tolerance_ppm; /* paired latency: slower means > l x (1+tol) */

    graft_seam_def def;
    char name[GRAFT__NAME_MAX + 1];
    void *failure_output; /* def's, copied (GRAFT_ON_FAILURE_OUTPUT), else NULL */
    struct graft_seam *_Atomic next;
    pthread_mutex_t cfg_lock; /* writers of route word and configs */

    graft__mlog mlog;                 /* mismatch.c */
    graft__capture cap;               /* mismatch.c; files written by the background writer */
    graft__samples samples;           /* mismatch.c */
    _Atomic uint64_t reports_dropped; /* writer ring full: a log line or capture lost */
    graft__recent *recent;            /* metrics.c, snapshot side only */
    graft__breaker brk;               /* breaker.c */
    graft__history hist;              /* history.c: stage history */
    struct graft__plan *_Atomic plan; /* rollout.c: the seam's rollout plan, or NULL */
    pthread_mutex_t mode_lock;        /* seam.c: orders mode changes with their records */
    /* stateful.c: the layer of a stateful seam (graft/stateful.h), else NULL. Set before
     * the seam is published and never changed; its gates run under mode_lock. */
    struct graft_stateful *stateful;
    const struct graft__stateful_ops *sf_ops;
};

struct graft_runtime {
    graft_clock_fn clock;
    void *clock_ctx;
    void (*sleep)(void *ctx, uint64_t ns);
    void (*arm_panic)(void);
    bool (*disarm_panic)(void);
    uint32_t time_sample_every;
    _Atomic(graft__logger *) logger;
    _Atomic int log_level;

    pthread_mutex_t lock; /* registration and configuration */
    struct graft_seam *_Atomic head;
    struct graft_seam *tail;
    size_t nseams;

    graft__conf_set conf;       /* applied configuration, also for seams not yet registered */
    char *config_path;          /* last file loaded, for reload */
    struct graft__watch *watch; /* watch.c: reloads config_path on change, or NULL */
    _Atomic bool ready;         /* graft_runtime_ready was called: unknown names are typos */
    bool strict;                /* refuse configuration naming no registered seam */

    /* Reports (runtime.c): the file, this runtime's identity in it, lines written. */
    char *report_path;
    uint64_t report_start_unix_ns;
    _Atomic uint64_t report_seq;
    long report_pid;  /* the process that created the runtime (fork children skip) */
    bool report_done; /* final line written (graft_runtime_free or the atexit handler) */
    struct graft_runtime *report_next;

    graft__writer writer; /* mismatch reports and deferred log lines */
    graft__executor exec; /* asynchronous shadow (shadow.c), started on first use */
    uint32_t shadow_threads, shadow_queue;
    bool shadow_keep_priority;
    struct graft__planner *planner; /* rollout.c: evaluates plans on a timer, or NULL */
};

/* log.c */
uint64_t graft__now(const graft_runtime *rt);
uint64_t graft__unix_ns(void);
void graft__log(graft_runtime *rt, int level, const char *target, const char *fmt, ...)
    GRAFT__PRINTF(4, 5);
bool graft__log_enabled(graft_runtime *rt, int level);
/* graft__log for the call path: formats into a writer slot; the sink runs on the writer
 * thread. A full ring drops the line (counted in the seam's reports_dropped). */
void graft__log_deferred(graft_seam *s, int level, const char *target, const char *fmt, ...)
    GRAFT__PRINTF(4, 5);
size_t graft__strlcpy(char *dst, const char *src, size_t cap);
void graft__seterr(char *err, size_t errlen, const char *fmt, ...) GRAFT__PRINTF(3, 4);
bool graft__valid_name(const char *name);

/* counters.c (with metrics.h's histogram helpers): sums every slot and folds the combined outcomes
 * into the canonical counters. */
void graft__counters(const graft_seam *s, uint64_t c[GRAFT__C_COUNT]);

/* seam.c */
int graft__seam_new(graft_runtime *rt, const graft_seam_def *def, graft_seam **out);
void graft__seam_free(graft_seam *s);
void graft__seam_apply_conf(graft_seam *s, const graft__seam_conf *e);
void graft__apply_fault(graft_seam *s, const graft_fault_config *cfg);
void graft__apply_compare(graft_seam *s, const graft_compare_config *cfg);
/* graft_seam_set_mode with its cause (any cause; the public one refuses the runtime's). */
int graft__seam_set_mode(graft_seam *s, graft_mode mode, uint32_t percent_bp,
                         graft_change_cause by);
/* Why graft_seam_set_shadow would refuse exec on this seam (a static sentence), or NULL. */
const char *graft__shadow_refusal(const graft_seam *s, graft_shadow_exec exec);

/* What libgraft's core calls of a stateful seam's layer (src/stateful.c), through
 * pointers so the core does not call into the layer that calls it: the gate of a stage
 * change before the route word is stored (GRAFT_OK or a refusal) and the step after it
 * is stored, both under the seam's mode_lock; and a snapshot for metrics.c. */
typedef struct graft__stateful_ops {
    int (*gate)(struct graft_stateful *sf, graft_mode from, graft_mode to, uint32_t percent_bp);
    void (*after)(struct graft_stateful *sf, graft_mode from, graft_mode to);
    /* graft_stateful_stats, and the name of the write policy ("legacy", "both",
     * "both-candidate-first", "candidate"). */
    void (*snapshot)(struct graft_stateful *sf, graft_sf_stats *out, const char **policy);
} graft__stateful_ops;

/* runtime.c: graft_seam_register with a stateful layer attached before configuration
 * applies (sf and ops NULL for a pure seam). */
int graft__seam_register(graft_runtime *rt, const graft_seam_def *def, struct graft_stateful *sf,
                         const graft__stateful_ops *ops, graft_seam **out);

/* status.c */
extern const char *const graft__mode_list; /* "legacy, shadow, ..." for messages */

/* Sets or clears a GRAFT__ROUTE_* flag of the route word (mode and percent kept). */
static inline void graft__route_flag(graft_seam *s, uint64_t flag, bool on)
{
    if (on) {
        atomic_fetch_or_explicit(&s->route, flag, memory_order_acq_rel);
    } else {
        atomic_fetch_and_explicit(&s->route, ~flag, memory_order_acq_rel);
    }
}

/* The registered seam of that name, or NULL: the list only grows, so no lock. Inline
 * so config.c need not call runtime.c (which calls down into metrics.c and config.c). */
static inline graft_seam *graft__seam_lookup(graft_runtime *rt, const char *name)
{
    for (graft_seam *p = atomic_load_explicit(&rt->head, memory_order_acquire); p;
         p = atomic_load_explicit(&p->next, memory_order_acquire)) {
        if (strcmp(p->name, name) == 0) {
            return p;
        }
    }
    return NULL;
}

/* The stored configuration set (config.c fills it; runtime.c reads it at registration). */
static inline graft__seam_conf *graft__conf_find(graft__conf_set *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->v[i].name, name) == 0) {
            return &c->v[i];
        }
    }
    return NULL;
}

static inline void graft__conf_free(graft__conf_set *c)
{
    free(c->v);
    memset(c, 0, sizeof *c);
}

/* splitmix64's finaliser over key XOR salt: a bijection with full avalanche, so
 * consecutive ids spread evenly and each seam (salt) orders keys differently. The
 * formula is part of the contract (docs/RUNTIME.md): keys must keep their buckets. */
static inline uint64_t graft__bucket_hash(uint64_t salt, uint64_t key)
{
    uint64_t z = (key ^ salt) + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Precondition "this mutex is held (by this thread, in practice)", checked in debug and
 * sanitizer builds: a mutex nobody holds would be taken by the trylock, and fail. */
#define GRAFT__ASSERT_HELD(m) assert(pthread_mutex_trylock(m) == EBUSY)

/* Counter increments. Own slot: relaxed load + store (single writer). Overflow: add. */
static inline void graft__inc(graft__slot *sl, bool shared, int ctr, uint64_t by)
{
    assert(ctr >= 0 && ctr < GRAFT__C_COUNT);
    if (GRAFT__UNLIKELY(shared)) {
        atomic_fetch_add_explicit(&sl->c[ctr], by, memory_order_relaxed);
    } else {
        uint64_t v = atomic_load_explicit(&sl->c[ctr], memory_order_relaxed);
        atomic_store_explicit(&sl->c[ctr], v + by, memory_order_relaxed);
    }
}

#endif /* GRAFT_INTERNAL_H */
