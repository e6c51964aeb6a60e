/*
 * test_runtime.cpp: libgraft from a C++ host through graft.hpp. The scenarios of the C
 * runtime tests (modes, fallback, comparison, breaker, configuration errors, metrics),
 * written the way a C++ codebase would: lambdas as implementations, RAII handles,
 * graft::error from the control plane, graft::result from calls. A fake clock makes
 * the breaker's timing exact without sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include <cmocka.h>
}

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

#include "graft/graft.hpp"

namespace
{

/* The seam's output: plain data, as graft requires. */
struct doubled {
    std::int64_t value;
};

/* What the implementations of the test seam do, switchable per test. */
struct behaviour {
    std::atomic<int> legacy_calls{0};
    std::atomic<int> candidate_calls{0};
    std::atomic<int> candidate_status{GRAFT_OK}; /* returned by the candidate */
    std::atomic<bool> candidate_off_by_one{false};
    std::atomic<bool> candidate_throws{false};
    std::atomic<bool> candidate_bad_alloc{false};
};

struct fixture {
    std::shared_ptr<std::atomic<std::uint64_t>> now =
        std::make_shared<std::atomic<std::uint64_t>>(1000000000ull);
    std::shared_ptr<std::mutex> log_mu = std::make_shared<std::mutex>();
    std::shared_ptr<std::vector<std::string>> logs = std::make_shared<std::vector<std::string>>();
    std::shared_ptr<behaviour> b = std::make_shared<behaviour>();
    graft::runtime rt;
    graft::seam<int, doubled> seam;

    fixture() : rt(options())
    {
        auto bh = b;
        seam = rt.add_seam<int, doubled>(
            "test.double",
            [bh](const int &x, doubled &out) {
                bh->legacy_calls++;
                out.value = 2 * static_cast<std::int64_t>(x);
            },
            [bh](const int &x, doubled &out) -> int {
                bh->candidate_calls++;
                if (bh->candidate_throws)
                    throw std::runtime_error("candidate blew up");
                if (bh->candidate_bad_alloc)
                    throw std::bad_alloc();
                int st = bh->candidate_status;
                if (st != GRAFT_OK)
                    return st;
                out.value = 2 * static_cast<std::int64_t>(x) + (bh->candidate_off_by_one ? 1 : 0);
                return GRAFT_OK;
            });
        graft_breaker_config off = graft::breaker_defaults();
        off.enabled = 0; /* tests that need the breaker turn it on */
        seam.set_breaker(off);
    }

    graft::runtime_options options()
    {
        graft::runtime_options o;
        auto clock = now;
        o.clock = [clock] { return clock->load(); };
        auto mu = log_mu;
        auto sink = logs;
        o.log = [mu, sink](int, std::string_view target, std::string_view msg) {
            std::lock_guard<std::mutex> g(*mu);
            sink->push_back(std::string(target) + ": " + std::string(msg));
        };
        o.log_level = GRAFT_LOG_INFO;
        return o;
    }
    void advance_ms(std::uint64_t ms)
    {
        *now += ms * 1000000ull;
    }
};

graft::compare_config compare_every(std::uint32_t n)
{
    graft::compare_config c = graft::compare_defaults();
    c.sample_every = n;
    c.log_per_second = 100;
    return c;
}

int setup(void **state)
{
    *state = new fixture();
    return 0;
}

int teardown(void **state)
{
    delete static_cast<fixture *>(*state);
    return 0;
}

fixture &fx(void **state)
{
    return *static_cast<fixture *>(*state);
}

/* ------------------------------------------------------------------ modes */

void legacy_mode_runs_only_legacy(void **state)
{
    fixture &f = fx(state);
    assert_int_equal(f.seam.get_mode(), GRAFT_MODE_LEGACY);
    for (int i = 0; i < 100; i++) {
        graft::result<doubled> r = f.seam.call(i, static_cast<std::uint64_t>(i));
        assert_true(r.ok());
        assert_int_equal(r->value, 2 * i);
    }
    assert_int_equal(f.b->legacy_calls.load(), 100);
    assert_int_equal(f.b->candidate_calls.load(), 0);
    graft::seam_stats st = f.seam.stats();
    assert_int_equal(st.calls, 100);
    assert_int_equal(st.impl[GRAFT_IMPL_LEGACY].served, 100);
}

void candidate_mode_serves_candidate(void **state)
{
    fixture &f = fx(state);
    f.b->candidate_off_by_one = true; /* tells the served output apart */
    f.seam.set_mode(GRAFT_MODE_CANDIDATE);
    graft::result<doubled> r = f.seam.call(21, 7);
    assert_true(r.ok());
    assert_int_equal(r.value().value, 43);
    assert_int_equal(f.seam.stats().impl[GRAFT_IMPL_CANDIDATE].served, 1);
}

void shadow_mode_serves_legacy_and_runs_both(void **state)
{
    fixture &f = fx(state);
    f.b->candidate_off_by_one = true;
    f.seam.set_mode(GRAFT_MODE_SHADOW);
    graft::result<doubled> r = f.seam.call(5, 1);
    assert_true(r.ok());
    assert_int_equal(r->value, 10); /* legacy's answer, not the candidate's 11 */
    assert_int_equal(f.b->legacy_calls.load(), 1);
    assert_int_equal(f.b->candidate_calls.load(), 1);
}

void canary_is_proportional_and_sticky(void **state)
{
    fixture &f = fx(state);
    f.b->candidate_off_by_one = true;
    f.seam.set_mode(GRAFT_MODE_CANARY, 2500); /* 25.00% */
    assert_int_equal(f.seam.percent_bp(), 2500);
    int by_candidate = 0;
    for (std::uint64_t key = 0; key < 4000; key++) {
        graft::result<doubled> r = f.seam.call(1, key);
        assert_true(r.ok());
        bool candidate = r->value == 3;
        by_candidate += candidate;
        /* Sticky: a key's bucket decides, so the same key is routed the same way. */
        assert_int_equal(f.seam.call(1, key)->value, r->value);
        assert_int_equal(candidate, f.seam.bucket(key) < 2500);
    }
    assert_in_range(by_candidate, 800, 1200);
}

void candidate_only_returns_candidate_failures(void **state)
{
    fixture &f = fx(state);
    f.seam.set_mode(GRAFT_MODE_CANDIDATE_ONLY);
    f.b->candidate_status = GRAFT_EPARSE;
    graft::result<doubled> r = f.seam.call(3, 3);
    assert_false(r.ok());
    assert_int_equal(r.status(), GRAFT_EPARSE);
    assert_int_equal(f.b->legacy_calls.load(), 0);
    assert_int_equal(r.value_or(doubled{-1}).value, -1);
    bool threw = false;
    try {
        (void)r.value();
    } catch (const graft::error &e) {
        threw = e.status() == GRAFT_EPARSE && std::string(e.status_name()) == "GRAFT_EPARSE";
    }
    assert_true(threw);
}

void per_request_overrides(void **state)
{
    fixture &f = fx(state);
    f.b->candidate_off_by_one = true;
    f.seam.set_mode(GRAFT_MODE_CANDIDATE);
    assert_int_equal(f.seam.call(1, 1, GRAFT_CALL_FORCE_LEGACY)->value, 2);
    f.seam.set_mode(GRAFT_MODE_LEGACY);
    assert_int_equal(f.seam.call(1, 1, GRAFT_CALL_FORCE_CANDIDATE)->value, 3);
    assert_int_equal(
        f.seam.call(1, 1, GRAFT_CALL_FORCE_LEGACY | GRAFT_CALL_FORCE_CANDIDATE).status(),
        GRAFT_EINVAL);
}

/* ------------------------------------------------------------------ fallback */

void failing_candidate_falls_back_to_legacy(void **state)
{
    fixture &f = fx(state);
    f.seam.set_mode(GRAFT_MODE_CANDIDATE);
    f.b->candidate_status = GRAFT_EINTERNAL;
    for (int i = 0; i < 10; i++) {
        graft::result<doubled> r = f.seam.call(i, static_cast<std::uint64_t>(i));
        assert_true(r.ok());
        assert_int_equal(r->value, 2 * i);
    }
    graft::seam_stats st = f.seam.stats();
    assert_int_equal(st.fallbacks, 10);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].errors, 10);
    assert_int_equal(st.impl[GRAFT_IMPL_LEGACY].served, 10);
}

void exceptions_never_cross_into_c(void **state)
{
    fixture &f = fx(state);
    f.seam.set_mode(GRAFT_MODE_CANDIDATE);
    f.b->candidate_throws = true;
    graft::result<doubled> r = f.seam.call(4, 4);
    assert_true(r.ok()); /* the throw became GRAFT_EINTERNAL; legacy answered */
    assert_int_equal(r->value, 8);
    f.b->candidate_throws = false;
    f.b->candidate_bad_alloc = true;
    f.seam.set_mode(GRAFT_MODE_CANDIDATE_ONLY);
    assert_int_equal(f.seam.call(4, 4).status(), GRAFT_ENOMEM);
    graft::seam_stats st = f.seam.stats();
    assert_int_equal(st.fallbacks, 1);
    assert_int_equal(st.impl[GRAFT_IMPL_CANDIDATE].errors, 2);
}

void injected_faults_fall_back(void **state)
{
    fixture &f = fx(state);
    f.seam.set_mode(GRAFT_MODE_CANDIDATE);
    f.seam.set_fault(graft::fault_config{GRAFT_PERCENT_SCALE, 0, 0, 0}); /* every call */
    for (int i = 0; i < 20; i++)
        assert_int_equal(f.seam.call(i, static_cast<std::uint64_t>(i))->value, 2 * i);
    graft::seam_stats st = f.seam.stats();
    assert_int_equal(st.faults_injected, 20);
    assert_int_equal(st.fallbacks, 20);
    assert_int_equal(f.b->candidate_calls.load(), 0); /* injected before it ran */
}

/* ------------------------------------------------------------------ compare */

void shadow_counts_mismatches(void **state)
{
    fixture &f = fx(state);
    f.seam.set_mode(GRAFT_MODE_SHADOW);
    f.seam.set_compare(compare_every(1));
    for (int i = 0; i < 50; i++)
        f.seam.call(i, static_cast<std::uint64_t>(i));
    f.b->candidate_off_by_one = true;
    for (int i = 0; i < 30; i++)
        f.seam.call(i, static_cast<std::uint64_t>(i));
    graft::seam_stats st = f.seam.stats();
    assert_int_equal(st.compared, 80);
    assert_int_equal(st.mismatches, 30);
}

void custom_compare_and_normalize_lambdas(void **state)
{
    fixture &f = fx(state);
    /* A second seam whose comparison ignores the lowest bit, through lambdas. */
    graft::seam_options<int, doubled> opts;
    int normalized = 0;
    opts.normalize = [&normalized](const int &, doubled &o) {
        normalized++;
        o.value &= ~std::int64_t{1};
    };
    opts.compare = [](const int &, const doubled &a, const doubled &b) {
        return a.value == b.value ? 0 : 1;
    };
    opts.describe = [](const int &x, const doubled &o) {
        return "x=" + std::to_string(x) + " value=" + std::to_string(o.value);
    };
    auto s = f.rt.add_seam<int, doubled>(
        "test.lenient", [](const int &x, doubled &o) { o.value = 2 * x; },
        [](const int &x, doubled &o) { o.value = 2 * x + 1; }, opts);
    s.set_mode(GRAFT_MODE_SHADOW);
    s.set_compare(compare_every(1));
    for (int i = 0; i < 10; i++)
        assert_int_equal(s.call(i, static_cast<std::uint64_t>(i))->value & ~std::int64_t{1}, 2 * i);
    graft::seam_stats st = s.stats();
    assert_int_equal(st.compared, 10);
    assert_int_equal(st.mismatches, 0);
    assert_int_equal(normalized, 20);
}

void sampling_compares_one_in_n(void **state)
{
    fixture &f = fx(state);
    f.seam.set_mode(GRAFT_MODE_SHADOW);
    f.seam.set_compare(compare_every(4));
    for (int i = 0; i < 100; i++)
        f.seam.call(i, static_cast<std::uint64_t>(i));
    graft::seam_stats st = f.seam.stats();
    assert_int_equal(st.compared, 25);
    assert_int_equal(st.compare_skipped, 75);
}

void compare_when_candidate_serves(void **state)
{
    fixture &f = fx(state);
    graft::compare_config c = compare_every(1);
    c.compare_served = 1;
    f.seam.set_compare(c);
    f.seam.set_mode(GRAFT_MODE_CANDIDATE);
    f.b->candidate_off_by_one = true;
    for (int i = 0; i < 12; i++)
        assert_int_equal(f.seam.call(i, static_cast<std::uint64_t>(i))->value, 2 * i + 1);
    graft::seam_stats st = f.seam.stats();
    assert_int_equal(st.compared, 12);
    assert_int_equal(st.mismatches, 12);
    assert_int_equal(f.b->legacy_calls.load(), 12); /* legacy ran only to compare */
    assert_int_equal(f.seam.compare().compare_served, 1);
}

void mismatches_reach_the_log_lambda(void **state)
{
    fixture &f = fx(state);
    f.seam.set_mode(GRAFT_MODE_SHADOW);
    f.seam.set_compare(compare_every(1));
    f.b->candidate_off_by_one = true;
    f.seam.call(1, 1);
    std::lock_guard<std::mutex> g(*f.log_mu);
    bool found = false;
    for (const std::string &line : *f.logs)
        found = found || line.find("test.double") != std::string::npos;
    assert_true(found);
}

void breaker_opens_on_mismatch_rate_in_shadow(void **state)
{
    fixture &f = fx(state);
    graft_breaker_config cfg = graft::breaker_defaults();
    cfg.min_calls = 10;
    cfg.error_rate_bp = 0;
    cfg.mismatch_rate_bp = 2000;
    f.seam.set_breaker(cfg);
    assert_int_equal(f.seam.breaker().mismatch_rate_bp, 2000);
    f.seam.set_mode(GRAFT_MODE_SHADOW);
    f.seam.set_compare(compare_every(1));
    f.b->candidate_off_by_one = true;
    for (int i = 0; i < 10; i++)
        assert_int_equal(f.seam.call(i, static_cast<std::uint64_t>(i))->value, 2 * i);
    assert_int_equal(f.seam.stats().breaker_state, GRAFT_BREAKER_OPEN);
    int before = f.b->candidate_calls;
    f.seam.call(1, 1);
    assert_int_equal(f.b->candidate_calls.load(), before); /* shadow stopped too */
}

/* ------------------------------------------------------------------ breaker */

void breaker_opens_rejects_and_recovers(void **state)
{
    fixture &f = fx(state);
    graft_breaker_config cfg = graft::breaker_defaults();
    cfg.enabled = 1;
    cfg.min_calls = 10;
    cfg.error_rate_bp = 5000;
    cfg.window_ns = 1000000000ull;
    cfg.cooldown_ns = 500000000ull;
    cfg.max_cooldown_ns = 2000000000ull;
    cfg.half_open_calls = 3;
    cfg.half_open_max_ns = 5000000000ull;
    f.seam.set_breaker(cfg);
    f.seam.set_mode(GRAFT_MODE_CANDIDATE);
    f.b->candidate_status = GRAFT_EINTERNAL;
    for (int i = 0; i < 10; i++)
        assert_true(f.seam.call(i, static_cast<std::uint64_t>(i)).ok());
    graft::seam_stats st = f.seam.stats();
    assert_int_equal(st.breaker_state, GRAFT_BREAKER_OPEN);
    assert_int_equal(st.breaker_opens, 1);

    /* Open: the candidate is not even called; legacy serves. */
    int before = f.b->candidate_calls;
    for (int i = 0; i < 5; i++)
        assert_int_equal(f.seam.call(i, static_cast<std::uint64_t>(i))->value, 2 * i);
    assert_int_equal(f.b->candidate_calls.load(), before);
    assert_int_equal(f.seam.stats().breaker_rejected, 5);

    /* After the cool-down, trial calls reach the (now healthy) candidate and close it. */
    f.b->candidate_status = GRAFT_OK;
    f.advance_ms(600);
    for (int i = 0; i < 3; i++)
        assert_true(f.seam.call(i, static_cast<std::uint64_t>(i)).ok());
    assert_int_equal(f.b->candidate_calls.load(), before + 3);
    st = f.seam.stats();
    assert_int_equal(st.breaker_state, GRAFT_BREAKER_CLOSED);
    assert_true(st.breaker_transitions >= 3); /* open, half-open, closed */
}

void breaker_reset_closes(void **state)
{
    fixture &f = fx(state);
    graft_breaker_config cfg = graft::breaker_defaults();
    cfg.min_calls = 5;
    f.seam.set_breaker(cfg);
    f.seam.set_mode(GRAFT_MODE_CANDIDATE);
    f.b->candidate_status = GRAFT_EIO;
    for (int i = 0; i < 5; i++)
        f.seam.call(i, static_cast<std::uint64_t>(i));
    assert_int_equal(f.seam.stats().breaker_state, GRAFT_BREAKER_OPEN);
    f.seam.reset_breaker();
    assert_int_equal(f.seam.stats().breaker_state, GRAFT_BREAKER_CLOSED);
}

/* ------------------------------------------------------------------ configuration */

template <class F> int status_of(F &&f)
{
    try {
        f();
    } catch (const graft::error &e) {
        return e.status();
    }
    return GRAFT_OK;
}

void spec_applies_modes(void **state)
{
    fixture &f = fx(state);
    f.rt.apply_spec("test.double=canary:12.5");
    assert_int_equal(f.seam.get_mode(), GRAFT_MODE_CANARY);
    assert_int_equal(f.seam.percent_bp(), 1250);
    f.rt.apply_spec("test.double=shadow");
    assert_int_equal(f.seam.get_mode(), GRAFT_MODE_SHADOW);
}

void bad_spec_is_an_error_and_changes_nothing(void **state)
{
    fixture &f = fx(state);
    f.rt.apply_spec("test.double=shadow");
    std::string what;
    int st = GRAFT_OK;
    try {
        f.rt.apply_spec("test.double=candidate,test.double=sideways");
    } catch (const graft::error &e) {
        st = e.status();
        what = e.what();
    }
    assert_int_not_equal(st, GRAFT_OK);
    assert_true(what.find("sideways") != std::string::npos);
    assert_int_equal(f.seam.get_mode(), GRAFT_MODE_SHADOW); /* all or nothing */
    assert_int_not_equal(status_of([&] { f.rt.apply_spec("test.double=canary:101"); }), GRAFT_OK);
    assert_int_not_equal(status_of([&] { f.rt.apply_spec("=legacy"); }), GRAFT_OK);
}

void bad_config_file_names_the_line(void **state)
{
    fixture &f = fx(state);
    char path[] = "/tmp/graft-cpp-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "[seam test.double]\nmode = shadow\nmode = bogus\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    std::string what;
    try {
        f.rt.load_file(path);
    } catch (const graft::error &e) {
        what = e.what();
    }
    unlink(path);
    assert_false(what.empty());
    assert_true(what.find('3') != std::string::npos); /* the offending line */
    assert_int_equal(f.seam.get_mode(), GRAFT_MODE_LEGACY);
    assert_int_not_equal(status_of([&] { f.rt.load_file("/nonexistent/graft.ini"); }), GRAFT_OK);
}

void config_before_registration_applies_at_once(void **state)
{
    fixture &f = fx(state);
    f.rt.apply_spec("test.later=canary:0.05");
    auto later = f.rt.add_seam<int, doubled>(
        "test.later", [](const int &x, doubled &o) { o.value = x; },
        [](const int &x, doubled &o) { o.value = x; });
    assert_int_equal(later.get_mode(), GRAFT_MODE_CANARY);
    assert_int_equal(later.percent_bp(), 5);
}

void env_and_reload(void **state)
{
    fixture &f = fx(state);
    char path[] = "/tmp/graft-cpp-env-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char v1[] = "[seam test.double]\nmode = shadow\nfault.error = 10\n";
    assert_int_equal(write(fd, v1, sizeof v1 - 1), (ssize_t)(sizeof v1 - 1));
    close(fd);
    setenv("GRAFT_CONFIG", path, 1);
    unsetenv("GRAFT_SEAMS");
    f.rt.configure_from_env();
    assert_int_equal(f.seam.get_mode(), GRAFT_MODE_SHADOW);
    assert_int_equal(f.seam.fault().error_bp, 1000);
    FILE *fp = std::fopen(path, "w");
    assert_non_null(fp);
    std::fputs("[seam test.double]\nmode = candidate\n", fp);
    std::fclose(fp);
    f.rt.reload();
    assert_int_equal(f.seam.get_mode(), GRAFT_MODE_CANDIDATE);
    fp = std::fopen(path, "w");
    assert_non_null(fp);
    std::fputs("[seam test.double]\nmode = maybe\n", fp);
    std::fclose(fp);
    assert_int_not_equal(status_of([&] { f.rt.reload(); }), GRAFT_OK);
    assert_int_equal(f.seam.get_mode(), GRAFT_MODE_CANDIDATE); /* the bad file changed nothing */
    unsetenv("GRAFT_CONFIG");
    unlink(path);
}

void control_plane_errors_throw(void **state)
{
    fixture &f = fx(state);
    assert_int_equal(status_of([&] {
                         f.rt.add_seam<int, doubled>(
                             "test.double", [](const int &, doubled &) {},
                             [](const int &, doubled &) {});
                     }),
                     GRAFT_EEXIST);
    assert_int_equal(status_of([&] { graft::parse_mode("sideways"); }), GRAFT_EINVAL);
    assert_int_equal(graft::parse_mode("candidate-only"), GRAFT_MODE_CANDIDATE_ONLY);
    assert_int_not_equal(status_of([&] { f.seam.set_mode(GRAFT_MODE_CANARY, 10001); }), GRAFT_OK);
    assert_non_null(f.rt.find("test.double"));
    assert_null(f.rt.find("test.nothing"));
}

/* ------------------------------------------------------------------ metrics */

void metrics_name_every_seam(void **state)
{
    fixture &f = fx(state);
    f.seam.set_mode(GRAFT_MODE_SHADOW);
    for (int i = 0; i < 7; i++)
        f.seam.call(i, static_cast<std::uint64_t>(i));
    graft::buffer prom = f.rt.metrics_prometheus();
    assert_true(prom.size() > 0);
    assert_int_equal(prom.size(), std::string(prom.c_str()).size());
    assert_true(prom.view().find("test.double") != std::string_view::npos);
    std::string json = f.rt.metrics_json().str();
    assert_true(json.find("\"test.double\"") != std::string::npos);
    assert_true(f.seam.json().view().find("shadow") != std::string_view::npos);
    int n = 0;
    f.rt.for_each_seam([&n](graft_seam *) { n++; });
    assert_int_equal(n, 1);
    graft::seam_stats st = f.seam.stats();
    assert_int_equal(st.calls, 7);
    assert_int_equal(st.calls_by_mode[GRAFT_MODE_SHADOW], 7);
}

void admin_endpoint_is_raii(void **state)
{
    fixture &f = fx(state);
    {
        graft::admin a(f.rt, "127.0.0.1:0");
        assert_true(a.running());
        assert_true(a.port() > 0);
    } /* stopped here */
    graft::admin none;
    assert_false(none.running());
    assert_int_not_equal(status_of([&] { graft::admin bad(f.rt, "not-an-address"); }), GRAFT_OK);
}

void runtime_moves_keep_seams_working(void **state)
{
    fixture &f = fx(state);
    graft::runtime moved(std::move(f.rt));
    assert_int_equal(f.seam.call(8, 8)->value, 16); /* callables still owned, by `moved` */
    f.rt = std::move(moved);
}

void history_ready_and_failure_policy(void **state)
{
    fixture &f = fx(state);
    f.seam.set_mode(GRAFT_MODE_CANARY, 2500);
    f.seam.set_mode(GRAFT_MODE_CANDIDATE, 0, GRAFT_BY_PLAN);
    std::vector<graft_mode_change> h = f.seam.history();
    assert_true(h.size() >= 3);
    assert_int_equal(h.front().by, GRAFT_BY_START);
    assert_int_equal(h[h.size() - 2].percent_bp, 2500);
    assert_int_equal(h.back().by, GRAFT_BY_PLAN);
    assert_int_equal(h.back().mode, GRAFT_MODE_CANDIDATE);

    /* A seam that answers candidate-only failures with legacy. */
    graft::seam_options<int, doubled> o;
    o.candidate_only_failure = GRAFT_ON_FAILURE_LEGACY;
    auto bh = f.b;
    graft::seam<int, doubled> s = f.rt.add_seam<int, doubled>(
        "test.policy", [](const int &in, doubled &out) { out.value = 2 * in; },
        [bh](const int &, doubled &) { return bh->candidate_status.load(); }, o);
    s.set_mode(GRAFT_MODE_CANDIDATE_ONLY);
    f.b->candidate_status = GRAFT_EIO;
    graft::result<doubled> r = s.call(21, 1);
    assert_true(r.ok());
    assert_int_equal(r->value, 42);
    /* GRAFT_ON_FAILURE_OUTPUT without a failure_output is refused. */
    graft::seam_options<int, doubled> bad;
    bad.candidate_only_failure = GRAFT_ON_FAILURE_OUTPUT;
    assert_int_equal(status_of([&] {
                         f.rt.add_seam<int, doubled>(
                             "test.bad", [](const int &, doubled &) {},
                             [](const int &, doubled &) {}, bad);
                     }),
                     GRAFT_EINVAL);

    /* Strict: a typo is an error naming it once registration is done. */
    graft::runtime_options so;
    so.strict = true;
    graft::runtime strict(so);
    strict.add_seam<int, doubled>(
        "test.double", [](const int &, doubled &) {}, [](const int &, doubled &) {});
    strict.apply_spec("test.doubel=shadow");
    bool named = false;
    try {
        strict.ready();
    } catch (const graft::error &e) {
        named = e.status() == GRAFT_ECONFIG &&
                std::string(e.what()).find("did you mean \"test.double\"") != std::string::npos;
    }
    assert_true(named);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(legacy_mode_runs_only_legacy, setup, teardown),
        cmocka_unit_test_setup_teardown(candidate_mode_serves_candidate, setup, teardown),
        cmocka_unit_test_setup_teardown(shadow_mode_serves_legacy_and_runs_both, setup, teardown),
        cmocka_unit_test_setup_teardown(canary_is_proportional_and_sticky, setup, teardown),
        cmocka_unit_test_setup_teardown(candidate_only_returns_candidate_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(per_request_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(failing_candidate_falls_back_to_legacy, setup, teardown),
        cmocka_unit_test_setup_teardown(exceptions_never_cross_into_c, setup, teardown),
        cmocka_unit_test_setup_teardown(injected_faults_fall_back, setup, teardown),
        cmocka_unit_test_setup_teardown(shadow_counts_mismatches, setup, teardown),
        cmocka_unit_test_setup_teardown(custom_compare_and_normalize_lambdas, setup, teardown),
        cmocka_unit_test_setup_teardown(sampling_compares_one_in_n, setup, teardown),
        cmocka_unit_test_setup_teardown(compare_when_candidate_serves, setup, teardown),
        cmocka_unit_test_setup_teardown(mismatches_reach_the_log_lambda, setup, teardown),
        cmocka_unit_test_setup_teardown(breaker_opens_on_mismatch_rate_in_shadow, setup, teardown),
        cmocka_unit_test_setup_teardown(breaker_opens_rejects_and_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(breaker_reset_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(spec_applies_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_spec_is_an_error_and_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_config_file_names_the_line, setup, teardown),
        cmocka_unit_test_setup_teardown(config_before_registration_applies_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(env_and_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(control_plane_errors_throw, setup, teardown),
        cmocka_unit_test_setup_teardown(metrics_name_every_seam, setup, teardown),
        cmocka_unit_test_setup_teardown(admin_endpoint_is_raii, setup, teardown),
        cmocka_unit_test_setup_teardown(runtime_moves_keep_seams_working, setup, teardown),
        cmocka_unit_test_setup_teardown(history_ready_and_failure_policy, setup, teardown),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
