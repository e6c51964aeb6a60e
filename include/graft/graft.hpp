/*
 * graft/graft.hpp: a header-only C++17 wrapper over libgraft's C API (graft.h, admin.h).
 *
 * It adds no symbol to libgraft and changes nothing in its C ABI: everything here is
 * inline and calls the C functions. What it adds for C++ hosts:
 *
 * - Seams whose implementations are lambdas (or any callables), typed by the seam's
 *   input and output types: `rt.add_seam<In, Out>("name", legacy, candidate)`.
 * - RAII: graft::runtime owns a graft_runtime (and the callables of its seams),
 *   graft::admin owns a running admin endpoint, graft::buffer owns a string libgraft
 *   allocated (freed with graft_free).
 *
 * Errors (the choice, see docs/ADOPTING.md):
 * - Control plane (creating a runtime, registering seams, modes, configuration,
 *   metrics, admin): failures throw graft::error, which carries the graft_status and,
 *   for configuration, libgraft's message naming the offending item or line. These
 *   calls are rare and a failure there is a setup mistake the host should not ignore.
 * - Data plane (seam::call, the hot path): never throws. It returns graft::result<Out>,
 *   an expected-style value-or-status, because an implementation failing is a normal,
 *   counted outcome there and exceptions would cost on every call. result::value()
 *   throws graft::error for hosts that prefer exceptions anyway.
 * - Callables given to graft must not let exceptions cross into C: the wrapper catches
 *   them at the boundary and returns a status instead (graft::error -> its status,
 *   std::bad_alloc -> GRAFT_ENOMEM, anything else -> GRAFT_EINTERNAL), so a throwing
 *   candidate counts as a failed call and, where the mode allows, legacy answers.
 *
 * Outputs cross the C runtime by value (graft copies and compares them as bytes), so a
 * seam's output type must be trivially copyable, like a C struct; resources it points to
 * are released by the seam's `release` callback. Inputs may be any type.
 */
#ifndef GRAFT_GRAFT_HPP
#define GRAFT_GRAFT_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "graft/admin.h"
#include "graft/graft.h"

namespace graft
{

using mode = graft_mode;
using impl = graft_impl;
using breaker_state = graft_breaker_state;
using seam_stats = graft_seam_stats;
using compare_config = graft_compare_config;
using fault_config = graft_fault_config;

/* A failed control-plane call: the graft_status and a message (libgraft's detail for
 * configuration errors, graft_strerror otherwise). */
class error : public std::runtime_error
{
  public:
    explicit error(int status, const std::string &what = std::string())
        : std::runtime_error(compose(status, what)), status_(status)
    {
    }
    int status() const noexcept
    {
        return status_;
    }
    /* "GRAFT_ECONFIG", or "unknown" for a number this version does not know. */
    const char *status_name() const noexcept
    {
        const char *n = graft_status_name(status_);
        return n ? n : "unknown";
    }

  private:
    static std::string compose(int status, const std::string &what)
    {
        const char *name = graft_status_name(status);
        std::string s = name ? name : "unknown status";
        s += ": ";
        s += what.empty() ? graft_strerror(status) : what;
        return s;
    }
    int status_;
};

namespace detail
{
inline void check(int status)
{
    if (status != GRAFT_OK)
        throw error(status);
}
inline void check(int status, const char *msg)
{
    if (status != GRAFT_OK)
        throw error(status, msg && msg[0] ? std::string(msg) : std::string());
}
} // namespace detail

/* Expected-style outcome of a seam call: the output, or the status of the failure.
 * The output is present exactly when status() == GRAFT_OK. */
template <class T> class result
{
  public:
    result(int status, const T &value) noexcept : status_(status), value_(value)
    {
    }
    explicit result(int status) noexcept : status_(status), value_()
    {
    }

    bool ok() const noexcept
    {
        return status_ == GRAFT_OK;
    }
    explicit operator bool() const noexcept
    {
        return ok();
    }
    int status() const noexcept
    {
        return status_;
    }

    /* The output; throws graft::error when the call failed. */
    const T &value() const
    {
        if (!ok())
            throw error(status_);
        return value_;
    }
    T value_or(const T &fallback) const noexcept
    {
        return ok() ? value_ : fallback;
    }
    /* Unchecked access: only after ok(). */
    const T &operator*() const noexcept
    {
        return value_;
    }
    const T *operator->() const noexcept
    {
        return &value_;
    }

  private:
    int status_;
    T value_;
};

/* A NUL-terminated string allocated by libgraft (metrics, JSON); freed with graft_free. */
class buffer
{
  public:
    buffer() noexcept = default;
    buffer(char *p, std::size_t len) noexcept : p_(p), len_(len)
    {
    }
    const char *c_str() const noexcept
    {
        return p_ ? p_.get() : "";
    }
    std::size_t size() const noexcept
    {
        return len_;
    }
    std::string_view view() const noexcept
    {
        return std::string_view(c_str(), len_);
    }
    std::string str() const
    {
        return std::string(view());
    }

  private:
    struct deleter {
        void operator()(char *p) const noexcept
        {
            graft_free(p);
        }
    };
    std::unique_ptr<char, deleter> p_;
    std::size_t len_ = 0;
};

/* Breaker settings starting from libgraft's documented defaults. */
inline graft_breaker_config breaker_defaults() noexcept
{
    graft_breaker_config c;
    graft_breaker_config_init(&c);
    return c;
}

/* Comparison settings starting from libgraft's documented defaults. */
inline graft_compare_config compare_defaults() noexcept
{
    graft_compare_config c;
    graft_compare_config_init(&c);
    return c;
}

/* Optional callbacks of a seam (see graft_seam_def). Empty ones are not installed. */
template <class In, class Out> struct seam_options {
    /* 0 when equal. Default: byte comparison of the (normalized) outputs. */
    std::function<int(const In &, const Out &legacy, const Out &candidate)> compare;
    std::function<void(const In &, Out &)> normalize;
    /* Releases what an output owns; called by graft on every output not returned. */
    std::function<void(Out &)> release;
    /* Describes an output for mismatch logs. */
    std::function<std::string(const In &, const Out &)> describe;
    /* Serialises an input for mismatch capture. */
    std::function<std::string(const In &)> serialize;
    /* What candidate-only answers when the candidate fails (graft_seam_def): the
     * status, legacy, or failure_output (used with GRAFT_ON_FAILURE_OUTPUT). */
    graft_on_failure candidate_only_failure = GRAFT_ON_FAILURE_STATUS;
    std::optional<Out> failure_output;
};

namespace detail
{

/* Runs a host callable at the C boundary: no exception leaves. */
template <class F> int guarded(F &&f) noexcept
{
    try {
        return f();
    } catch (const error &e) {
        return e.status() == GRAFT_OK ? GRAFT_EINTERNAL : e.status();
    } catch (const std::bad_alloc &) {
        return GRAFT_ENOMEM;
    } catch (...) {
        return GRAFT_EINTERNAL;
    }
}

/* An implementation callable may return a status (int) or nothing (success). */
template <class F, class In, class Out> int invoke_impl(F &f, const In &in, Out &out)
{
    if constexpr (std::is_void_v<std::invoke_result_t<F &, const In &, Out &>>) {
        f(in, out);
        return GRAFT_OK;
    } else {
        return static_cast<int>(f(in, out));
    }
}

inline std::size_t copy_out(const std::string &s, void *buf, std::size_t cap, bool nul)
{
    if (buf && cap) {
        std::size_t n = s.size() < cap ? s.size() : cap;
        if (nul && n == cap)
            n = cap - 1;
        std::memcpy(buf, s.data(), n);
        if (nul)
            static_cast<char *>(buf)[n] = '\0';
    }
    return s.size();
}

struct seam_holder_base {
    virtual ~seam_holder_base() = default;
};

/* Owns the callables of one seam; its address is the seam's ctx. */
template <class In, class Out, class L, class C> struct seam_holder : seam_holder_base {
    seam_holder(L l, C c, seam_options<In, Out> o)
        : legacy(std::move(l)), candidate(std::move(c)), opts(std::move(o))
    {
    }
    L legacy;
    C candidate;
    seam_options<In, Out> opts;

    static seam_holder &self(void *ctx)
    {
        return *static_cast<seam_holder *>(ctx);
    }
    static const In &in(const void *p)
    {
        return *static_cast<const In *>(p);
    }

    static int call_legacy(void *ctx, const void *input, void *output)
    {
        return guarded(
            [&] { return invoke_impl(self(ctx).legacy, in(input), *static_cast<Out *>(output)); });
    }
    static int call_candidate(void *ctx, const void *input, void *output)
    {
        return guarded([&] {
            return invoke_impl(self(ctx).candidate, in(input), *static_cast<Out *>(output));
        });
    }
    static int compare(void *ctx, const void *input, const void *l, const void *c)
    {
        /* A comparator that throws cannot say "equal": report a difference. */
        int r = 1;
        guarded([&] {
            r = self(ctx).opts.compare(in(input), *static_cast<const Out *>(l),
                                       *static_cast<const Out *>(c));
            return GRAFT_OK;
        });
        return r;
    }
    static void normalize(void *ctx, const void *input, void *output)
    {
        guarded([&] {
            self(ctx).opts.normalize(in(input), *static_cast<Out *>(output));
            return GRAFT_OK;
        });
    }
    static void release(void *ctx, void *output)
    {
        guarded([&] {
            self(ctx).opts.release(*static_cast<Out *>(output));
            return GRAFT_OK;
        });
    }
    static std::size_t serialize(void *ctx, const void *input, void *buf, std::size_t cap)
    {
        std::size_t n = 0;
        guarded([&] {
            n = copy_out(self(ctx).opts.serialize(in(input)), buf, cap, false);
            return GRAFT_OK;
        });
        return n;
    }
    static std::size_t describe(void *ctx, const void *input, const void *output, char *buf,
                                std::size_t cap)
    {
        std::size_t n = 0;
        if (buf && cap)
            buf[0] = '\0';
        guarded([&] {
            n = copy_out(self(ctx).opts.describe(in(input), *static_cast<const Out *>(output)), buf,
                         cap, true);
            return GRAFT_OK;
        });
        return n;
    }
};

} // namespace detail

/* A registered seam with typed input and output. A non-owning view: the seam lives as
 * long as its runtime. Copyable; all calls are thread-safe. */
template <class In, class Out> class seam
{
    static_assert(std::is_trivially_copyable_v<Out>,
                  "a seam's output crosses the C runtime by value: make it trivially copyable");
    static_assert(std::is_default_constructible_v<Out>,
                  "a seam's output must be default-constructible");

  public:
    seam() noexcept = default;
    explicit seam(graft_seam *s) noexcept : s_(s)
    {
    }

    graft_seam *raw() const noexcept
    {
        return s_;
    }
    const char *name() const noexcept
    {
        return graft_seam_name(s_);
    }

    /* Hot path: routes one call (see graft_call). Never throws, allocates nothing. The
     * result holds the served output, or the status of the implementation that served
     * (GRAFT_OK with the output whenever legacy answered after a candidate failure). */
    result<Out> call(const In &input, std::uint64_t key, unsigned flags = 0) const noexcept
    {
        Out out{};
        Out scratch{};
        int st = graft_call(s_, key, flags, &input, &out, &scratch);
        return st == GRAFT_OK ? result<Out>(st, out) : result<Out>(st);
    }
    /* A call without a request key: canary buckets by call count. */
    result<Out> call(const In &input) const noexcept
    {
        return call(input, 0, GRAFT_CALL_NO_KEY);
    }

    void set_mode(mode m, std::uint32_t percent_bp = 0) const
    {
        detail::check(graft_seam_set_mode(s_, m, percent_bp));
    }
    /* set_mode naming its cause (GRAFT_BY_API, GRAFT_BY_CONFIG or GRAFT_BY_PLAN). */
    void set_mode(mode m, std::uint32_t percent_bp, graft_change_cause by) const
    {
        detail::check(graft_seam_set_mode_by(s_, m, percent_bp, by));
    }
    /* The stage history, oldest first (graft_seam_history). */
    std::vector<graft_mode_change> history() const
    {
        std::vector<graft_mode_change> h(GRAFT_SEAM_HISTORY_CAP);
        std::size_t n = 0;
        detail::check(graft_seam_history(s_, h.data(), h.size(), &n, nullptr));
        h.resize(n);
        return h;
    }
    mode get_mode() const
    {
        graft_mode m;
        std::uint32_t p;
        detail::check(graft_seam_get_mode(s_, &m, &p));
        return m;
    }
    std::uint32_t percent_bp() const
    {
        graft_mode m;
        std::uint32_t p;
        detail::check(graft_seam_get_mode(s_, &m, &p));
        return p;
    }
    std::uint32_t bucket(std::uint64_t key) const noexcept
    {
        return graft_seam_bucket(s_, key);
    }

    void set_compare(const compare_config &c) const
    {
        detail::check(graft_seam_set_compare(s_, &c));
    }
    void set_breaker(const graft_breaker_config &c) const
    {
        detail::check(graft_seam_set_breaker(s_, &c));
    }
    void reset_breaker() const
    {
        detail::check(graft_seam_reset_breaker(s_));
    }
    void set_fault(const fault_config &c) const
    {
        detail::check(graft_seam_set_fault(s_, &c));
    }
    /* Current settings (compare().capture_dir points into the seam: copy it to keep it). */
    compare_config compare() const
    {
        compare_config c;
        detail::check(graft_seam_get_compare(s_, &c));
        return c;
    }
    graft_breaker_config breaker() const
    {
        graft_breaker_config c;
        detail::check(graft_seam_get_breaker(s_, &c));
        return c;
    }
    fault_config fault() const
    {
        fault_config c;
        detail::check(graft_seam_get_fault(s_, &c));
        return c;
    }

    seam_stats stats() const
    {
        seam_stats st;
        detail::check(graft_seam_stats_get(s_, &st));
        return st;
    }
    buffer json() const
    {
        char *p = nullptr;
        std::size_t n = 0;
        detail::check(graft_seam_json(s_, &p, &n));
        return buffer(p, n);
    }

  private:
    graft_seam *s_ = nullptr;
};

/* Construction options of a runtime: graft_runtime_options (graft.h) with callables
 * instead of function pointers and their ctx. Every field of the C struct has its
 * counterpart here (tests/cpp/options_drift.sh fails when one is missing). */
struct runtime_options {
    /* Monotonic nanoseconds; empty: CLOCK_MONOTONIC. Tests inject one to avoid sleeps. */
    std::function<std::uint64_t()> clock;
    /* Log sink; empty: stderr. Called from any thread; must not call back into graft. */
    std::function<void(int level, std::string_view target, std::string_view message)> log;
    int log_level = GRAFT_LOG_WARN;
    /* graft_ffi_fault_arm_panic from the FFI crate, for real injected panics; or NULL. */
    void (*arm_panic)(void) = nullptr;
    /* graft_ffi_fault_disarm_panic from the FFI crate (see graft.h); or NULL. */
    bool (*disarm_panic)(void) = nullptr;
    /* Waits out a delay fault; empty: nanosleep. Tests advance their clock instead. */
    std::function<void(std::uint64_t ns)> sleep;
    /* 1 call in N per thread is timed; 0: the default (256). */
    std::uint32_t time_sample_every = 0;
    /* Refuse configuration naming no registered seam once ready() was called (also
     * GRAFT_STRICT=1). */
    bool strict = false;
    /* Appends the JSON snapshot as a line here at free and exit; empty: GRAFT_REPORT. */
    std::string report_path;
    /* The asynchronous shadow executor: worker threads (0: 1), queued jobs (a power of
     * two; 0: 256), and whether the workers keep their priority (else SCHED_IDLE). */
    std::uint32_t shadow_threads = 0;
    std::uint32_t shadow_queue = 0;
    bool shadow_keep_priority = false;
};

/* Owns a graft_runtime, its seams and the callables given to them. Move-only. */
class runtime
{
  public:
    explicit runtime(runtime_options opts = runtime_options()) : st_(new state)
    {
        st_->opts = std::move(opts);
        graft_runtime_options o;
        graft_runtime_options_init(&o);
        if (st_->opts.clock || st_->opts.sleep)
            o.clock_ctx = st_.get();
        if (st_->opts.clock)
            o.clock = &runtime::clock_tramp;
        if (st_->opts.sleep)
            o.sleep = &runtime::sleep_tramp;
        if (st_->opts.log) {
            o.log = &runtime::log_tramp;
            o.log_ctx = st_.get();
        }
        o.log_level = st_->opts.log_level;
        o.arm_panic = st_->opts.arm_panic;
        o.disarm_panic = st_->opts.disarm_panic;
        o.time_sample_every = st_->opts.time_sample_every;
        o.strict = st_->opts.strict ? 1 : 0;
        o.report_path = st_->opts.report_path.empty() ? nullptr : st_->opts.report_path.c_str();
        o.shadow_threads = st_->opts.shadow_threads;
        o.shadow_queue = st_->opts.shadow_queue;
        o.shadow_keep_priority = st_->opts.shadow_keep_priority ? 1 : 0;
        detail::check(graft_runtime_new(&o, &st_->rt));
    }
    runtime(runtime &&) noexcept = default;
    runtime &operator=(runtime &&) noexcept = default;
    runtime(const runtime &) = delete;
    runtime &operator=(const runtime &) = delete;
    ~runtime() = default; /* frees the C runtime first, then the callables */

    graft_runtime *raw() const noexcept
    {
        return st_ ? st_->rt : nullptr;
    }

    /* Waits until queued mismatch lines and capture files are written (graft.h). */
    void flush() const noexcept
    {
        graft_runtime_flush(st_->rt);
    }

    /* Registers a seam whose implementations are callables `(const In&, Out&) -> int`
     * (a graft_status) or `-> void` (always GRAFT_OK). Throws graft::error
     * (GRAFT_EEXIST when the name is taken). */
    template <class In, class Out, class L, class C>
    seam<In, Out> add_seam(const std::string &name, L legacy, C candidate,
                           seam_options<In, Out> opts = seam_options<In, Out>())
    {
        using holder = detail::seam_holder<In, Out, L, C>;
        static_assert(std::is_invocable_v<L &, const In &, Out &>,
                      "legacy must be callable as (const In&, Out&)");
        static_assert(std::is_invocable_v<C &, const In &, Out &>,
                      "candidate must be callable as (const In&, Out&)");
        auto h = std::make_unique<holder>(std::move(legacy), std::move(candidate), std::move(opts));
        graft_seam_def def;
        std::memset(&def, 0, sizeof def);
        def.name = name.c_str();
        def.ctx = h.get();
        def.legacy = &holder::call_legacy;
        def.candidate = &holder::call_candidate;
        def.output_size = sizeof(Out);
        if (h->opts.compare)
            def.compare = &holder::compare;
        if (h->opts.normalize)
            def.normalize = &holder::normalize;
        if (h->opts.release)
            def.release = &holder::release;
        if (h->opts.serialize)
            def.serialize_input = &holder::serialize;
        if (h->opts.describe)
            def.describe_output = &holder::describe;
        def.candidate_only_failure = h->opts.candidate_only_failure;
        if (h->opts.failure_output)
            def.failure_output = &*h->opts.failure_output;
        st_->holders.reserve(st_->holders.size() + 1); /* no throw after registering */
        graft_seam *s = nullptr;
        detail::check(graft_seam_register(st_->rt, &def, &s));
        st_->holders.push_back(std::move(h));
        return seam<In, Out>(s);
    }

    /* The raw seam of that name, or nullptr. */
    graft_seam *find(const std::string &name) const noexcept
    {
        return graft_seam_find(st_->rt, name.c_str());
    }

    /* Configuration: all or nothing; graft::error carries libgraft's message. */
    void apply_spec(const std::string &spec)
    {
        char err[512] = "";
        detail::check(graft_config_apply_spec(st_->rt, spec.c_str(), err, sizeof err), err);
    }
    void load_file(const std::string &path)
    {
        char err[512] = "";
        detail::check(graft_config_load_file(st_->rt, path.c_str(), err, sizeof err), err);
    }
    void reload()
    {
        char err[512] = "";
        detail::check(graft_config_reload(st_->rt, err, sizeof err), err);
    }
    // Reloads the file last loaded whenever it changes (graft_config_watch).
    void watch_config()
    {
        char err[512] = "";
        detail::check(graft_config_watch(st_->rt, err, sizeof err), err);
    }
    void configure_from_env()
    {
        char err[512] = "";
        detail::check(graft_runtime_configure_from_env(st_->rt, err, sizeof err), err);
    }
    /* Registration is done: configuration naming no seam is warned about (strict:
     * graft::error naming it). See graft_runtime_ready. */
    void ready()
    {
        char err[512] = "";
        detail::check(graft_runtime_ready(st_->rt, err, sizeof err), err);
    }
    /* Appends the snapshot to the report file now (graft_runtime_report). */
    void report()
    {
        detail::check(graft_runtime_report(st_->rt));
    }

    buffer metrics_prometheus() const
    {
        char *p = nullptr;
        std::size_t n = 0;
        detail::check(graft_metrics_prometheus(st_->rt, &p, &n));
        return buffer(p, n);
    }
    buffer metrics_json() const
    {
        char *p = nullptr;
        std::size_t n = 0;
        detail::check(graft_metrics_json(st_->rt, &p, &n));
        return buffer(p, n);
    }

    /* Calls fn(graft_seam*) for every seam, in registration order. */
    template <class F> void for_each_seam(F &&fn) const
    {
        using fn_type = std::remove_reference_t<F>;
        graft_runtime_foreach_seam(
            st_->rt, [](void *ctx, graft_seam *s) { (*static_cast<fn_type *>(ctx))(s); },
            const_cast<void *>(static_cast<const void *>(&fn)));
    }

  private:
    struct state {
        graft_runtime *rt = nullptr;
        runtime_options opts;
        std::vector<std::unique_ptr<detail::seam_holder_base>> holders;
        ~state()
        {
            graft_runtime_free(rt);
        }
    };
    static std::uint64_t clock_tramp(void *ctx)
    {
        /* A clock cannot report failure: a throwing clock reads as 0. */
        try {
            return static_cast<state *>(ctx)->opts.clock();
        } catch (...) {
            return 0;
        }
    }
    static void sleep_tramp(void *ctx, std::uint64_t ns)
    {
        try {
            static_cast<state *>(ctx)->opts.sleep(ns);
        } catch (...) {
            /* A sleep that throws has waited as long as it could. */
        }
    }
    static void log_tramp(void *ctx, int level, const char *target, const char *message)
    {
        try {
            static_cast<state *>(ctx)->opts.log(level, target ? target : "",
                                                message ? message : "");
        } catch (...) {
            /* A log line that cannot be written is dropped: logging never fails a call. */
        }
    }
    std::unique_ptr<state> st_;
};

/* A running admin endpoint (graft/admin.h; in libgraft-admin: a host that uses this class
 * links graft::graft_admin or pkg-config graft-admin); stopped on destruction. The runtime must
 * outlive it. Move-only. */
class admin
{
  public:
    admin() noexcept = default;
    /* addr "127.0.0.1:0" picks a free port; an empty token disables authentication. */
    admin(runtime &rt, const std::string &addr, const std::string &token = std::string())
    {
        graft_admin *a = nullptr;
        detail::check(
            graft_admin_start(rt.raw(), addr.c_str(), token.empty() ? nullptr : token.c_str(), &a));
        a_.reset(a);
    }
    /* Started from GRAFT_ADMIN / GRAFT_ADMIN_TOKEN; not running when GRAFT_ADMIN is unset. */
    static admin from_env(runtime &rt)
    {
        graft_admin *a = nullptr;
        detail::check(graft_admin_start_from_env(rt.raw(), &a));
        admin r;
        r.a_.reset(a);
        return r;
    }
    bool running() const noexcept
    {
        return a_ != nullptr;
    }
    std::uint16_t port() const noexcept
    {
        return a_ ? graft_admin_port(a_.get()) : 0;
    }
    graft_admin *raw() const noexcept
    {
        return a_.get();
    }

  private:
    struct deleter {
        void operator()(graft_admin *a) const noexcept
        {
            graft_admin_stop(a);
        }
    };
    std::unique_ptr<graft_admin, deleter> a_;
};

inline std::uint64_t key_from_bytes(const void *data, std::size_t len) noexcept
{
    return graft_key_from_bytes(data, len);
}
inline std::uint64_t key_from(std::string_view s) noexcept
{
    return graft_key_from_bytes(s.data(), s.size());
}
inline const char *mode_name(mode m) noexcept
{
    return graft_mode_name(m);
}
/* Throws graft::error(GRAFT_EINVAL) for an unknown name. */
inline mode parse_mode(const std::string &name)
{
    graft_mode m;
    detail::check(graft_mode_parse(name.c_str(), &m));
    return m;
}
inline const char *version() noexcept
{
    return graft_version();
}

} // namespace graft

#endif /* GRAFT_GRAFT_HPP */
