/*
 * graft/graft.h: the public API of libgraft, the runtime that puts a *seam* in front
 * of a component so each call is served by the legacy (C) implementation, the
 * candidate (usually Rust) one, or both, switchable while the program runs.
 *
 * Conventions (see docs/RUNTIME.md):
 * - Functions returning `int` return a graft_status (GRAFT_OK on success).
 * - Out-parameters are written only on success.
 * - Strings passed in are copied; nothing passed in is retained unless said so.
 * - Every function is thread-safe unless its comment says otherwise.
 * - graft_call() is the hot path: it allocates nothing and takes no lock.
 */
#ifndef GRAFT_GRAFT_H
#define GRAFT_GRAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graft/base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GRAFT_VERSION_MAJOR 0
#define GRAFT_VERSION_MINOR 2
#define GRAFT_VERSION_PATCH 0

/* Static, never NULL. "unknown status" for numbers this version does not know. */
const char *graft_strerror(int status);
/* The symbolic name ("GRAFT_EINVAL"), or NULL for an unknown number. */
const char *graft_status_name(int status);
const char *graft_version(void);

/* ------------------------------------------------------------------ modes */

/* The one list of modes: XX(SUFFIX, number, "name", "meaning"). The enum, the names
 * (graft_mode_name, metrics labels, JSON, configuration and its messages) come from it;
 * the dashboard takes them from the JSON snapshot. A new mode is a row here plus the
 * code that routes it (src/call.c). */
#define GRAFT_MODE_MAP(XX)                                                                         \
    XX(LEGACY, 0, "legacy", "only the legacy implementation runs")                                 \
    XX(SHADOW, 1, "shadow", "both run, legacy serves, outputs compared")                           \
    XX(CANARY, 2, "canary", "a sticky percentage is served by the candidate")                      \
    XX(CANDIDATE, 3, "candidate", "candidate serves, legacy is the fallback")                      \
    XX(CANDIDATE_ONLY, 4, "candidate-only", "candidate serves, no fallback")                       \
    XX(DUAL_WRITE, 5, "dual-write",                                                                \
       "stateful seams: writes go to both stores, legacy serves reads (a pure seam: as legacy)")

typedef enum graft_mode {
#define GRAFT__MODE_ENUM(suffix, number, name, meaning) GRAFT_MODE_##suffix = number,
    GRAFT_MODE_MAP(GRAFT__MODE_ENUM)
#undef GRAFT__MODE_ENUM
} graft_mode;
#define GRAFT_MODE_COUNT 6 /* entries of GRAFT_MODE_MAP (checked in libgraft) */

/* "legacy", "shadow", "canary", "candidate", "candidate-only", "dual-write"; NULL if
 * unknown. */
const char *graft_mode_name(int mode);
/* Parses a mode name; returns GRAFT_EINVAL for an unknown name. */
int graft_mode_parse(const char *name, graft_mode *out);

/* Percentages are in basis points: 0..10000 (10000 = 100%, 1 = 0.01%). */
#define GRAFT_PERCENT_SCALE 10000u

/* Parses a percentage as configuration, the admin endpoint and graftctl take it: 0-100
 * with at most two decimals and an optional '%' ("10", "10.5", "0.05", "12.5%"), into
 * basis points. GRAFT_EINVAL for anything else (*bp untouched), GRAFT_ENULL for NULL. */
int graft_percent_parse(const char *text, uint32_t *bp);

typedef enum graft_impl { GRAFT_IMPL_LEGACY = 0, GRAFT_IMPL_CANDIDATE = 1 } graft_impl;

/* ------------------------------------------------------------------ runtime */

typedef struct graft_runtime graft_runtime; /* owns its seams */
typedef struct graft_seam graft_seam;       /* owned by its runtime */

/* Monotonic clock in nanoseconds; injectable so tests need no sleeps. */
typedef uint64_t (*graft_clock_fn)(void *ctx);

typedef struct graft_runtime_options {
    graft_clock_fn clock; /* NULL: CLOCK_MONOTONIC */
    void *clock_ctx;
    graft_log_fn log; /* NULL: stderr */
    void *log_ctx;
    int log_level; /* graft_log_level; default GRAFT_LOG_WARN */
    /* Arms a real panic in the candidate's next FFI boundary on this thread, used by
     * fault injection ("panic" faults). The host passes graft_ffi_fault_arm_panic from
     * the FFI crate. NULL: an injected panic is simulated by returning GRAFT_EPANIC. */
    void (*arm_panic)(void);
    /* Optional partner of arm_panic (the FFI crate's graft_ffi_fault_disarm_panic):
     * called after the candidate returns from a panic fault; when it reports the panic
     * was still armed (the candidate never crossed a boundary), the arm is cleared so it
     * cannot fire on a later call, and the call counts as panicked all the same. */
    bool (*disarm_panic)(void);
    /* Waits out a "delay" fault; NULL: nanosleep. Tests pass one that advances their
     * injected clock instead of sleeping. Called with clock_ctx. */
    void (*sleep)(void *clock_ctx, uint64_t ns);
    /* Latency timing is sampled: 1 call in N per thread is timed (two clock reads).
     * 0: GRAFT_TIME_SAMPLE from the environment if it is 1..1000000, else the default,
     * 256. 1 times every call. */
    uint32_t time_sample_every;
    /* Strict configuration: once graft_runtime_ready was called, configuration naming
     * no registered seam is refused (GRAFT_ECONFIG) instead of warned about, and
     * graft_runtime_ready itself fails on it. Also on with GRAFT_STRICT=1 in the
     * environment (read by graft_runtime_new). */
    int strict;
    /* Appends the JSON snapshot as one line to this file at graft_runtime_free, at
     * exit() for a runtime never freed, and at graft_runtime_report (docs/RUNTIME.md,
     * "Reports of short-lived processes"). NULL: GRAFT_REPORT from the environment, if
     * set. Copied. */
    const char *report_path;
    /* The asynchronous shadow executor (started by the first graft_seam_set_shadow with
     * async or aa): worker threads (0: 1) at idle CPU priority, and jobs it queues (a
     * power of two; 0: 256). A full queue drops the shadow call (counted). */
    uint32_t shadow_threads;
    uint32_t shadow_queue;
    /* 1: the executor's workers keep the priority of the thread that started them
     * (tests on a busy machine); 0 (default): SCHED_IDLE, else nice 19. */
    int shadow_keep_priority;
} graft_runtime_options;

/* Initialise options to defaults before setting fields. */
void graft_runtime_options_init(graft_runtime_options *opts);

/* Creates a runtime. opts may be NULL (defaults). Free with graft_runtime_free. */
int graft_runtime_new(const graft_runtime_options *opts, graft_runtime **out);
/* Frees the runtime and all its seams. No call may be in flight. NULL is a no-op. */
void graft_runtime_free(graft_runtime *rt);

/*
 * Tells the runtime the host has registered its seams. From then on configuration that
 * names no registered seam (a typo such as GRAFT_SEAMS=redis.stringmach=shadow) is
 * reported at once: here for what is already stored, and at every later graft_config_*
 * call, reload or graft_runtime_configure_from_env for what they bring. Each such name
 * is logged once at GRAFT_LOG_WARN (with the closest registered name), stays listed in
 * graft_runtime_unmatched and the JSON snapshot ("unmatched_config"), and still applies
 * should a seam of that name register later. Strict runtimes refuse instead: this
 * returns GRAFT_ECONFIG with `err` naming them, and later configuration naming an
 * unknown seam is refused all or nothing. Calling it again checks again.
 */
int graft_runtime_ready(graft_runtime *rt, char *err, size_t errlen);
/* Calls fn with each stored configuration entry's name that matches no registered seam
 * and, when one is near (a likely typo), the closest registered name (else NULL).
 * Returns their number. Before graft_runtime_ready these may be seams still to come. */
size_t graft_runtime_unmatched(graft_runtime *rt,
                               void (*fn)(void *ctx, const char *name, const char *closest),
                               void *ctx);

/* Appends the JSON snapshot as one line to the report file (report_path or
 * GRAFT_REPORT), e.g. from a host's shutdown path; GRAFT_OK without a report file.
 * Each line carries the process, the runtime's start and a sequence number, so a reader
 * keeps the last line of each runtime (graftctl report --from). */
int graft_runtime_report(graft_runtime *rt);

/* Applies GRAFT_CONFIG (INI file) then GRAFT_SEAMS (compact spec) from the environment.
 * On error nothing changes and `err` (may be NULL) receives a message naming the line. */
int graft_runtime_configure_from_env(graft_runtime *rt, char *err, size_t errlen);

/* ------------------------------------------------------------------ seams */

/*
 * An implementation of a component. Reads `input`, writes `output` (a caller-provided
 * object of the seam's output_size). Returns GRAFT_OK when it produced an output, even
 * when that output describes a domain error (e.g. "malformed request"); any other
 * status means the implementation itself failed, which the seam counts and, where the
 * mode allows, answers with the legacy implementation.
 */
typedef int (*graft_impl_fn)(void *ctx, const void *input, void *output);

/* What a call in candidate-only mode answers when the candidate fails there (no
 * fallback is configured), for facades with no error channel such as
 * `int stringmatchlen(...)`: XX(SUFFIX, number, "name", "meaning"). Only failures pay
 * for it: the success path does not look at it. See docs/ADOPTING.md. */
#define GRAFT_ON_FAILURE_MAP(XX)                                                                   \
    XX(STATUS, 0, "status", "graft_call returns the candidate's failure; output is unspecified")   \
    XX(LEGACY, 1, "legacy", "the legacy implementation answers, counted as a fallback")            \
    XX(OUTPUT, 2, "output", "failure_output is copied to output; graft_call returns the failure")

typedef enum graft_on_failure {
#define GRAFT__ON_FAILURE_ENUM(suffix, number, name, meaning) GRAFT_ON_FAILURE_##suffix = number,
    GRAFT_ON_FAILURE_MAP(GRAFT__ON_FAILURE_ENUM)
#undef GRAFT__ON_FAILURE_ENUM
} graft_on_failure;
#define GRAFT_ON_FAILURE_COUNT 3 /* entries of GRAFT_ON_FAILURE_MAP (checked in libgraft) */

/* "status", "legacy", "output"; NULL if unknown. */
const char *graft_on_failure_name(int policy);

/* What a seam declares about its implementations, which decides how they may both run:
 * XX(SUFFIX, number, "name", "meaning"). See docs/RUNTIME.md, "Asynchronous shadow". */
#define GRAFT_PURITY_MAP(XX)                                                                       \
    XX(UNDECLARED, 0, "undeclared", "not declared: synchronous shadow only (as before)")           \
    XX(PURE, 1, "pure", "output depends on the input alone: shadow may run on the executor")       \
    XX(STATEFUL, 2, "stateful", "each implementation keeps its own state: synchronous shadow")     \
    XX(IMPURE, 3, "impure", "side effects outside the seam: shadow is refused (GRAFT_EUNSUPPORTED)")

typedef enum graft_purity {
#define GRAFT__PURITY_ENUM(suffix, number, name, meaning) GRAFT_PURITY_##suffix = number,
    GRAFT_PURITY_MAP(GRAFT__PURITY_ENUM)
#undef GRAFT__PURITY_ENUM
} graft_purity;
#define GRAFT_PURITY_COUNT 4 /* entries of GRAFT_PURITY_MAP (checked in libgraft) */

/* "undeclared", "pure", "stateful", "impure"; NULL if unknown. */
const char *graft_purity_name(int purity);

typedef struct graft_seam_def {
    const char *name;        /* required, e.g. "kv.parse"; copied */
    void *ctx;               /* passed to every callback; owned by the host */
    graft_impl_fn legacy;    /* required */
    graft_impl_fn candidate; /* required */
    size_t output_size;      /* required: sizeof the output object */
    /* Optional. 0 when equal. NULL: memcmp over output_size (after normalize). */
    int (*compare)(void *ctx, const void *input, const void *legacy_out, const void *candidate_out);
    /* Optional. Canonicalises an output in place before comparing. */
    void (*normalize)(void *ctx, const void *input, void *output);
    /* Optional. Releases what an output owns; called on every output not returned. */
    void (*release)(void *ctx, void *output);
    /* Optional. Serialises the input for capture; snprintf-style: returns the size
     * needed, writes at most cap bytes. */
    size_t (*serialize_input)(void *ctx, const void *input, void *buf, size_t cap);
    /* Optional. Describes an output for logs, snprintf-style, NUL-terminated. */
    size_t (*describe_output)(void *ctx, const void *input, const void *output, char *buf,
                              size_t cap);
    /* Optional (0: GRAFT_ON_FAILURE_STATUS). What candidate-only answers when the
     * candidate fails; see GRAFT_ON_FAILURE_MAP. */
    graft_on_failure candidate_only_failure;
    /* Required with GRAFT_ON_FAILURE_OUTPUT: output_size bytes, copied at registration
     * (so a plain value: it must own nothing release would free). */
    const void *failure_output;
    /* Optional (0: GRAFT_PURITY_UNDECLARED). Shadow of an IMPURE seam is refused;
     * asynchronous shadow and A/A need PURE and copy_input. */
    graft_purity purity;
    /* Optional; needed for asynchronous shadow. Copies `input` into buf (cap bytes,
     * 16-byte aligned) as a self-contained input object the implementations accept
     * (pointers inside it point into buf), snprintf-style: returns the bytes needed;
     * more than cap means nothing usable was written and the shadow call is dropped.
     * Runs on the serving thread: keep it a copy. */
    size_t (*copy_input)(void *ctx, const void *input, void *buf, size_t cap);
} graft_seam_def;

/* Registers a seam. Configuration already given for this name applies at once.
 * GRAFT_EEXIST if the name is taken. The seam lives until graft_runtime_free. */
int graft_seam_register(graft_runtime *rt, const graft_seam_def *def, graft_seam **out);
/* NULL if no seam has that name. */
graft_seam *graft_seam_find(graft_runtime *rt, const char *name);
const char *graft_seam_name(const graft_seam *seam);

/* graft_call flags */
#define GRAFT_CALL_NO_KEY 0x1u          /* no request key: canary buckets by call count */
#define GRAFT_CALL_FORCE_LEGACY 0x2u    /* per-request override */
#define GRAFT_CALL_FORCE_CANDIDATE 0x4u /* per-request override (no fallback) */

/*
 * Calls the seam. `key` identifies the request for sticky routing (e.g. a connection
 * or client id; see graft_key_from_bytes). `output` receives the served result.
 * `scratch` is a second output object (same size) used when both implementations
 * run; it may be NULL, in which case calls that need it skip the comparison.
 * Returns the status of the implementation that served the call.
 * Hot path: no allocation, no lock.
 */
int graft_call(graft_seam *seam, uint64_t key, unsigned flags, const void *input, void *output,
               void *scratch);

/* Stable 64-bit key from bytes (documented hash: FNV-1a 64). */
uint64_t graft_key_from_bytes(const void *data, size_t len);
/* The bucket 0..9999 of `key` on this seam (salted by the seam's name). */
uint32_t graft_seam_bucket(const graft_seam *seam, uint64_t key);

/* Mode and canary percentage (basis points), changed atomically, live. */
int graft_seam_set_mode(graft_seam *seam, graft_mode mode, uint32_t percent_bp);
int graft_seam_get_mode(const graft_seam *seam, graft_mode *mode, uint32_t *percent_bp);

/* ------------------------------------------------------------------ comparison */

typedef struct graft_compare_config {
    uint32_t sample_every;      /* compare 1 call in N while both could run; 1 = every call */
    uint32_t log_per_second;    /* rate limit of mismatch log lines */
    const char *capture_dir;    /* NULL: no capture. Copied. */
    uint32_t capture_max_files; /* bound on files written */
    uint64_t capture_max_bytes; /* bound on bytes written */
    /* 0: compare only in shadow mode. 1: also when the candidate serves (canary,
     * candidate, candidate-only), legacy runs on 1 call in sample_every into scratch. */
    int compare_served;
} graft_compare_config;

/* Documented defaults: sample_every 1, log_per_second 10, no capture (files 1000,
 * bytes 64 MiB once a capture_dir is set), compare_served 0. */
void graft_compare_config_init(graft_compare_config *cfg);

int graft_seam_set_compare(graft_seam *seam, const graft_compare_config *cfg);

/* ------------------------------------------------------------------ shadow execution */

/* Where shadow mode runs the second implementation: XX(SUFFIX, number, "name", "meaning"). */
#define GRAFT_SHADOW_EXEC_MAP(XX)                                                                  \
    XX(SYNC, 0, "sync", "on the serving thread, after legacy (the default)")                       \
    XX(ASYNC, 1, "async", "legacy serves and returns; the candidate runs on the executor")         \
    XX(AA, 2, "aa", "A/A: like async, but legacy runs again instead of the candidate (noise)")

typedef enum graft_shadow_exec {
#define GRAFT__SHADOW_EXEC_ENUM(suffix, number, name, meaning) GRAFT_SHADOW_##suffix = number,
    GRAFT_SHADOW_EXEC_MAP(GRAFT__SHADOW_EXEC_ENUM)
#undef GRAFT__SHADOW_EXEC_ENUM
} graft_shadow_exec;
#define GRAFT_SHADOW_EXEC_COUNT 3 /* entries of GRAFT_SHADOW_EXEC_MAP (checked in libgraft) */

/* "sync", "async", "aa"; NULL if unknown. */
const char *graft_shadow_exec_name(int exec);
int graft_shadow_exec_parse(const char *name, graft_shadow_exec *out);

typedef struct graft_shadow_config {
    graft_shadow_exec exec;
    /* A shadow run on the executor slower than this (from the serving thread's enqueue
     * to the end of the run) is counted as overran and fed to the breaker as a slow
     * call. 0: the default, 50 ms. */
    uint64_t deadline_ns;
} graft_shadow_config;

void graft_shadow_config_init(graft_shadow_config *cfg); /* sync, 50 ms */
/* GRAFT_EUNSUPPORTED (and a log line naming the reason) for async/aa on a seam that is
 * not declared pure, has no copy_input, has a release callback (its served output is
 * copied by value), or whose output_size exceeds GRAFT_SHADOW_OUTPUT_MAX. Starts the
 * runtime's executor the first time. */
int graft_seam_set_shadow(graft_seam *seam, const graft_shadow_config *cfg);
int graft_seam_get_shadow(const graft_seam *seam, graft_shadow_config *cfg);

/* Bounds of one executor job: the input copy and each output object. */
#define GRAFT_SHADOW_INPUT_MAX 4096u
#define GRAFT_SHADOW_OUTPUT_MAX 512u

/* ------------------------------------------------------------------ breaker */

/* The one list of breaker states: XX(SUFFIX, number, "name"). */
#define GRAFT_BREAKER_STATE_MAP(XX)                                                                \
    XX(CLOSED, 0, "closed")                                                                        \
    XX(OPEN, 1, "open")                                                                            \
    XX(HALF_OPEN, 2, "half-open")                                                                  \
    XX(DISABLED, 3, "disabled")

typedef enum graft_breaker_state {
#define GRAFT__BREAKER_STATE_ENUM(suffix, number, name) GRAFT_BREAKER_##suffix = number,
    GRAFT_BREAKER_STATE_MAP(GRAFT__BREAKER_STATE_ENUM)
#undef GRAFT__BREAKER_STATE_ENUM
} graft_breaker_state;
#define GRAFT_BREAKER_STATE_COUNT 4

/* "closed", "open", "half-open", "disabled" */
const char *graft_breaker_state_name(int state);

typedef struct graft_breaker_config {
    int enabled;               /* 0: never opens */
    int observe_only;          /* records transitions without rerouting traffic */
    uint64_t window_ns;        /* sliding time window of candidate outcomes */
    uint32_t min_calls;        /* calls in the window before rates are judged */
    uint32_t error_rate_bp;    /* open at or above this error+panic rate (basis points) */
    uint32_t slow_rate_bp;     /* open at or above this slow-call rate */
    uint64_t slow_call_ns;     /* a candidate call slower than this is slow */
    uint32_t mismatch_rate_bp; /* open at or above this mismatch rate among compared */
    uint64_t cooldown_ns;      /* open -> half-open after this */
    uint64_t max_cooldown_ns;  /* cool-down doubles on repeated openings up to this */
    uint32_t half_open_calls;  /* trial calls let through while half-open */
    uint64_t half_open_max_ns; /* half-open without enough trials goes back to open */
} graft_breaker_config;

void graft_breaker_config_init(graft_breaker_config *cfg); /* documented defaults */
int graft_seam_set_breaker(graft_seam *seam, const graft_breaker_config *cfg);
/* Forces the breaker closed and clears its window. */
int graft_seam_reset_breaker(graft_seam *seam);

/* ------------------------------------------------------------------ stage history */

/* The one list of the causes of a mode change: XX(SUFFIX, number, "name", "meaning"). */
#define GRAFT_CHANGE_CAUSE_MAP(XX)                                                                 \
    XX(START, 0, "start", "the seam was registered (in legacy mode)")                              \
    XX(CONFIG, 1, "config", "GRAFT_SEAMS, GRAFT_CONFIG, graft_config_* or a reload")               \
    XX(API, 2, "api", "graft_seam_set_mode: the admin endpoint, graftctl or the host")             \
    XX(BREAKER, 3, "breaker", "the breaker opened (legacy serves) or closed (the mode again)")     \
    XX(PLAN, 4, "plan", "a step of a rollout plan (graft_seam_set_mode_by)")

typedef enum graft_change_cause {
#define GRAFT__CAUSE_ENUM(suffix, number, name, meaning) GRAFT_BY_##suffix = number,
    GRAFT_CHANGE_CAUSE_MAP(GRAFT__CAUSE_ENUM)
#undef GRAFT__CAUSE_ENUM
} graft_change_cause;
#define GRAFT_CHANGE_CAUSE_COUNT 5 /* entries of GRAFT_CHANGE_CAUSE_MAP (checked in libgraft) */

/* "start", "config", "api", "breaker", "plan"; NULL if unknown. */
const char *graft_change_cause_name(int by);

/* Changes kept per seam (a ring: older ones are overwritten; the totals keep counting). */
#define GRAFT_SEAM_HISTORY_CAP 32

/* One entry of a seam's stage history: the mode serving calls from then on. */
typedef struct graft_mode_change {
    graft_mode mode;     /* by BREAKER and the breaker opened: GRAFT_MODE_LEGACY */
    uint32_t percent_bp; /* canary percentage (basis points), 0 for the other modes */
    graft_change_cause by;
    /* by BREAKER: the state entered (GRAFT_BREAKER_OPEN, or GRAFT_BREAKER_CLOSED when it
     * gave the traffic back); other causes: the breaker's state at the time. */
    graft_breaker_state breaker;
    uint64_t unix_ns; /* wall clock */
    uint64_t mono_ns; /* the runtime's clock (graft_runtime_options.clock) */
} graft_mode_change;

/*
 * Copies the seam's most recent changes, oldest first: at most `cap` (and at most
 * GRAFT_SEAM_HISTORY_CAP) into out[0..*n). *total (may be NULL) receives the number of
 * changes since registration, the first being the GRAFT_BY_START entry. Only real
 * changes are recorded (setting the mode a seam is already in records nothing), where
 * the mode is stored: graft_seam_set_mode, configuration, a breaker transition that
 * reroutes (opened, or closed after opening; observe-only breakers record nothing).
 * Never on the call path's success, and lock-free for its writers: a reader racing a
 * change may see it in *total before it is copied (it is then left out).
 */
int graft_seam_history(const graft_seam *seam, graft_mode_change *out, size_t cap, size_t *n,
                       uint64_t *total);

/* graft_seam_set_mode naming its cause: GRAFT_BY_API, GRAFT_BY_CONFIG or GRAFT_BY_PLAN
 * (GRAFT_BY_START and GRAFT_BY_BREAKER are the runtime's own: GRAFT_EINVAL).
 * graft_seam_set_mode(s, m, p) is graft_seam_set_mode_by(s, m, p, GRAFT_BY_API). */
int graft_seam_set_mode_by(graft_seam *seam, graft_mode mode, uint32_t percent_bp,
                           graft_change_cause by);

/* ------------------------------------------------------------------ rollout plans */

/*
 * A rollout plan drives one seam through stages on evidence, inside the process
 * (docs/RUNTIME.md, "Rollout plans"). Each stage must collect its evidence (compared
 * calls, served calls, time) and pass its gates before the plan advances; a gate that
 * fails rolls back one stage (a mode change by GRAFT_BY_PLAN, its reason kept); an
 * inconclusive gate holds, never promotes. The breaker keeps acting within a stage: an
 * opening fails the stage. Time is the runtime's clock (graft_runtime_options.clock).
 *
 * Gates (confidence `confidence`, e.g. 0.95):
 *   mismatch: exact (Clopper-Pearson) upper bound of mismatches/compared < mismatch_max;
 *   errors:   upper bound of (candidate's failure rate - legacy's) < error_diff_max;
 *   latency:  shadow: sign test on paired per-request latencies (candidate against
 *             legacy x (1 + latency_tolerance)); canary/candidate: Mann-Whitney on the
 *             stage's latency histograms, same tolerance. Off when latency_tolerance < 0.
 */
#define GRAFT_PLAN_STAGES_MAX 8

typedef struct graft_plan_stage {
    graft_mode mode; /* shadow, canary, candidate or candidate-only */
    uint32_t percent_bp;
} graft_plan_stage;

typedef struct graft_plan {
    graft_plan_stage stages[GRAFT_PLAN_STAGES_MAX];
    uint32_t nstages;
    uint64_t min_compared;    /* compared calls a stage needs where calls are compared */
    uint64_t min_served;      /* calls the candidate ran in a stage (shadow: on the executor or
                                 synchronously; canary: served) */
    uint64_t min_stage_ns;    /* time in a stage before it may advance */
    double mismatch_max;      /* rate, e.g. 0.001 */
    double error_diff_max;    /* rate difference, e.g. 0.001 */
    double latency_tolerance; /* relative, e.g. 0.25; < 0: no latency gate */
    uint64_t latency_min;     /* pairs (shadow) or timed calls per side (canary) needed */
    /* 0: the latency gate runs in shadow only (paired, both implementations warm); a
     * candidate serving a small canary share runs with cold caches and measures slower. */
    int latency_in_canary;
    double confidence; /* 0.5 < confidence < 1 */
    /* The runtime's evaluator thread evaluates every interval_ns (real time; the
     * decisions use the runtime's clock). 0: only graft_seam_plan_evaluate. */
    uint64_t interval_ns;
} graft_plan;

/* Defaults: shadow, canary 1, 5, 25, 50, candidate; 2000 compared and 2000 served per
 * stage, 10 s, mismatch_max 0.001, error_diff_max 0.001, latency_tolerance 0.25 with
 * 200 samples (in shadow and canary), confidence 0.95, evaluated every second. */
void graft_plan_init(graft_plan *plan);
/* Parses "shadow,canary:1,canary:5,candidate" into plan->stages (at most
 * GRAFT_PLAN_STAGES_MAX). GRAFT_EINVAL with err naming the item. */
int graft_plan_parse_stages(graft_plan *plan, const char *text, char *err, size_t errlen);

/* State of a plan: XX(SUFFIX, number, "name", "meaning"). */
#define GRAFT_PLAN_STATE_MAP(XX)                                                                   \
    XX(NONE, 0, "none", "the seam has no plan")                                                    \
    XX(RUNNING, 1, "running", "collecting evidence, advancing on passed gates")                    \
    XX(PAUSED, 2, "paused", "evidence is kept, nothing changes until resume")                      \
    XX(DONE, 3, "done", "the last stage passed its gates")                                         \
    XX(ABORTED, 4, "aborted", "stopped by an operator or a failed first stage: legacy serves")

typedef enum graft_plan_state {
#define GRAFT__PLAN_STATE_ENUM(suffix, number, name, meaning) GRAFT_PLAN_##suffix = number,
    GRAFT_PLAN_STATE_MAP(GRAFT__PLAN_STATE_ENUM)
#undef GRAFT__PLAN_STATE_ENUM
} graft_plan_state;
#define GRAFT_PLAN_STATE_COUNT 5 /* entries of GRAFT_PLAN_STATE_MAP (checked in libgraft) */
const char *graft_plan_state_name(int state);

/* An evaluation's outcome: XX(SUFFIX, number, "name"). */
#define GRAFT_PLAN_DECISION_MAP(XX)                                                                \
    XX(NONE, 0, "none")                                                                            \
    XX(HOLD, 1, "hold")                                                                            \
    XX(ADVANCE, 2, "advance")                                                                      \
    XX(ROLLBACK, 3, "rollback")                                                                    \
    XX(DONE, 4, "done")                                                                            \
    XX(ABORT, 5, "abort")

typedef enum graft_plan_decision {
#define GRAFT__PLAN_DECISION_ENUM(suffix, number, name) GRAFT_DECISION_##suffix = number,
    GRAFT_PLAN_DECISION_MAP(GRAFT__PLAN_DECISION_ENUM)
#undef GRAFT__PLAN_DECISION_ENUM
} graft_plan_decision;
#define GRAFT_PLAN_DECISION_COUNT 6
const char *graft_plan_decision_name(int decision);

/* A gate's verdict in the last evaluation: -1 not evaluated, 0 pass, 1 hold, 2 fail. */
typedef struct graft_plan_gate {
    int verdict;
    double value; /* mismatch/errors: the upper bound; latency: the p-value */
    double limit; /* mismatch/errors: the threshold; latency: 1 - confidence */
} graft_plan_gate;

typedef struct graft_plan_status {
    graft_plan_state state;
    uint32_t stage; /* index into plan.stages */
    graft_plan plan;
    /* evidence in this stage against what it needs */
    uint64_t compared, mismatches;
    uint64_t served; /* candidate runs in the stage */
    uint64_t cand_failures, legacy_calls, legacy_failures;
    uint64_t pairs_slower, pairs_faster, pairs_tied; /* shadow's paired latencies */
    uint64_t stage_ns;                               /* time in the stage so far */
    graft_plan_gate mismatch, errors, latency;
    graft_plan_decision last_decision;
    char reason[160]; /* why the last evaluation decided what it did */
    uint64_t evaluations, advances, rollbacks;
    /* samples the stage had when it was decided, per stage (advance or rollback) */
    uint64_t decided_compared[GRAFT_PLAN_STAGES_MAX];
    uint64_t decided_served[GRAFT_PLAN_STAGES_MAX];
} graft_plan_status;

/* Gives the seam a plan (replacing one) and moves it to the first stage (by
 * GRAFT_BY_PLAN). GRAFT_EINVAL for an empty or malformed plan, GRAFT_EUNSUPPORTED when a
 * stage is shadow and the seam is impure. */
int graft_seam_set_plan(graft_seam *seam, const graft_plan *plan);
/* Removes the plan; the mode stays as it is. */
int graft_seam_clear_plan(graft_seam *seam);
/* Evaluates the plan now (what the evaluator thread does each interval): decides hold,
 * advance, rollback or done and applies it. *decision may be NULL. GRAFT_ESTATE without
 * a running plan. */
int graft_seam_plan_evaluate(graft_seam *seam, graft_plan_decision *decision);
/* Operator controls: XX(SUFFIX, number, "name"). */
#define GRAFT_PLAN_ACTION_MAP(XX)                                                                  \
    XX(PAUSE, 0, "pause")                                                                          \
    XX(RESUME, 1, "resume")                                                                        \
    XX(ADVANCE, 2, "advance")                                                                      \
    XX(ABORT, 3, "abort")
typedef enum graft_plan_action {
#define GRAFT__PLAN_ACTION_ENUM(suffix, number, name) GRAFT_PLAN_ACTION_##suffix = number,
    GRAFT_PLAN_ACTION_MAP(GRAFT__PLAN_ACTION_ENUM)
#undef GRAFT__PLAN_ACTION_ENUM
} graft_plan_action;
#define GRAFT_PLAN_ACTION_COUNT 4
int graft_plan_action_parse(const char *name, graft_plan_action *out);
/* pause, resume, advance (to the next stage without its gates: the operator's call,
 * recorded as such) or abort (legacy serves, the plan stops). GRAFT_ESTATE without a
 * plan, or when the action does not apply (resume of a running plan). */
int graft_seam_plan_control(graft_seam *seam, graft_plan_action action);
/* GRAFT_ESTATE when the seam has no plan (out->state is then GRAFT_PLAN_NONE). */
int graft_seam_plan_status(graft_seam *seam, graft_plan_status *out);

/* ------------------------------------------------------------------ faults */

typedef struct graft_fault_config {
    uint32_t error_bp; /* candidate returns GRAFT_EINJECTED at this rate */
    uint32_t panic_bp; /* candidate panics (see arm_panic) at this rate */
    uint32_t delay_bp; /* candidate is delayed by delay_ns at this rate */
    uint64_t delay_ns;
} graft_fault_config;

int graft_seam_set_fault(graft_seam *seam, const graft_fault_config *cfg);

/* Current settings of a seam (capture_dir in *cfg points into the seam and stays valid
 * until the next graft_seam_set_compare; copy it if you keep it). The compare and
 * breaker getters take the seam's settings locks briefly, so the seam is not const. */
int graft_seam_get_compare(graft_seam *seam, graft_compare_config *cfg);
int graft_seam_get_breaker(graft_seam *seam, graft_breaker_config *cfg);
int graft_seam_get_fault(const graft_seam *seam, graft_fault_config *cfg);

/* ------------------------------------------------------------------ metrics */

typedef struct graft_latency {
    uint64_t count; /* timed calls (timing may be sampled) */
    uint64_t p50_ns, p90_ns, p99_ns, max_ns;
} graft_latency;

typedef struct graft_impl_stats {
    uint64_t calls;  /* times this implementation ran */
    uint64_t served; /* times its output was returned to the caller */
    uint64_t errors; /* non-OK returns other than panics */
    uint64_t panics; /* GRAFT_EPANIC returns */
    graft_latency latency;
} graft_impl_stats;

typedef struct graft_seam_stats {
    graft_mode mode;
    uint32_t percent_bp;
    uint64_t calls; /* graft_call invocations */
    uint64_t calls_by_mode[GRAFT_MODE_COUNT];
    graft_impl_stats impl[2]; /* indexed by graft_impl */
    uint64_t fallbacks;       /* candidate failed, legacy served */
    uint64_t compared;
    uint64_t mismatches;
    uint64_t compare_skipped; /* sampled out, or no scratch */
    uint64_t captures;        /* mismatch inputs written */
    graft_breaker_state breaker_state;
    uint64_t breaker_opens;
    uint64_t breaker_transitions;
    uint64_t breaker_rejected; /* calls sent to legacy because the breaker was open */
    uint64_t faults_injected;
    /* Candidate-only calls whose candidate failed, answered by the declared
     * failure_output (GRAFT_ON_FAILURE_OUTPUT); with GRAFT_ON_FAILURE_LEGACY they are
     * counted in fallbacks. */
    uint64_t failure_outputs;
    /* Asynchronous shadow: calls handed to the executor, dropped (queue full or input
     * larger than GRAFT_SHADOW_INPUT_MAX: never waited for), run past the deadline,
     * and completed (compared or failed) on the executor. */
    uint64_t shadow_enqueued;
    uint64_t shadow_dropped;
    uint64_t shadow_overran;
    uint64_t shadow_done;
} graft_seam_stats;

/* A snapshot also performs the breaker's due time-based transitions (cool-down over,
 * half-open deadline passed) that no call has noticed yet, so it may change the
 * breaker's state (and log the transition): the seam is not const. */
int graft_seam_stats_get(graft_seam *seam, graft_seam_stats *out);

/* Calls fn for every seam, in registration order. */
void graft_runtime_foreach_seam(graft_runtime *rt, void (*fn)(void *ctx, graft_seam *seam),
                                void *ctx);

/* Prometheus text exposition and JSON snapshot of every seam. *out is NUL-terminated,
 * allocated by libgraft and freed with graft_free. */
int graft_metrics_prometheus(graft_runtime *rt, char **out, size_t *len);
int graft_metrics_json(graft_runtime *rt, char **out, size_t *len);
/* JSON of one seam (same shape as one element of graft_metrics_json). */
int graft_seam_json(graft_seam *seam, char **out, size_t *len);
void graft_free(void *p);

/* ------------------------------------------------------------------ configuration */

/* Applies a compact spec "kv.parse=canary:10,kv.hash=candidate" (percent may have two
 * decimals: canary:0.05). All or nothing; err names the offending item. */
int graft_config_apply_spec(graft_runtime *rt, const char *spec, char *err, size_t errlen);
/* Loads an INI file (see docs/RUNTIME.md). All or nothing; err names file and line. */
int graft_config_load_file(graft_runtime *rt, const char *path, char *err, size_t errlen);
/* Re-reads the file last loaded (and GRAFT_SEAMS). All or nothing. */
int graft_config_reload(graft_runtime *rt, char *err, size_t errlen);
/* Watches the file last loaded (its directory, so rename-on-save and a Kubernetes
 * ConfigMap's symlink swap are seen) and reloads it when its bytes change, all or
 * nothing: a bad file is refused and logged at error level, the running configuration
 * kept. One watcher per runtime (GRAFT_EEXIST); GRAFT_ESTATE if no file was loaded;
 * GRAFT_EUNSUPPORTED where inotify is missing. Runs on its own thread until
 * graft_config_unwatch or graft_runtime_free. */
int graft_config_watch(graft_runtime *rt, char *err, size_t errlen);
void graft_config_unwatch(graft_runtime *rt);
/* Reloads the watcher applied and refused since it started (GRAFT_ESTATE: not watching). */
int graft_config_watch_stats(graft_runtime *rt, uint64_t *applied, uint64_t *refused);

/* ------------------------------------------------------------------ logging */

/* Replaces the log sink (NULL: stderr) and level at run time. When it returns, no call
 * to the previous sink is running or will start, so the previous ctx may be freed (it
 * waits for calls in progress; must not be called from inside a sink). */
void graft_runtime_set_log(graft_runtime *rt, graft_log_fn fn, void *ctx, int level);
/* Mismatch log lines, capture files and log lines from the call path (breaker
 * transitions, fallbacks) are written by the runtime's background thread, so a call does
 * no I/O. This waits until everything queued before it has been written. */
void graft_runtime_flush(graft_runtime *rt);
/* Logs through the runtime's sink; the same signature as graft_log_fn so the host can
 * hand (graft_runtime_log_sink, rt) to the FFI crate's log bridge. */
void graft_runtime_log_sink(void *rt, int level, const char *target, const char *message);

#ifdef __cplusplus
}
#endif

#endif /* GRAFT_GRAFT_H */
