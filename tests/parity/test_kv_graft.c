/*
 * test_kv_graft.c: kvd's seam end to end (server/kv_graft.c on libgraft): in every mode
 * of kv.parse the facade answers exactly what the C parser answers (kv.hash is retired:
 * tests/golden/golden_kv_hash.c);
 * routing is sticky per connection; shadow compares without mismatches; real Rust
 * panics (graft-ffi's arm_panic) fall back to C where the mode allows and close the
 * connection in candidate-only; the capture format round-trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "graft/graft.h"
#include "graft/graft_ffi.h"
#include "kv_graft.h"
#include "kv_seams.h"

static const char *const INPUTS[] = {
    "get foo\r\n",
    "gets a b c\r\n",
    "set foo 1 2 3\r\nbar\r\n",
    "set foo 0 0 3\r\nba",
    "cas k 0 0 1 9\r\nx\r\n",
    "delete k noreply\r\n",
    "incr k x\r\n",
    "touch k 10\r\n",
    "flush_all 5\r\n",
    "stats items\r\n",
    "verbosity 1\r\n",
    "bogus\r\n",
    "GET / HTTP/1.1\r\n",
    "set k 0 0 99999999\r\n",
    "get a\0b\r\n",
    "",
    "get ",
    "gat 10 a b\r\n",
};
#define NINPUTS (sizeof INPUTS / sizeof INPUTS[0])
static const kv_parse_limits LIM = {1024u * 1024u, 2048u};

static graft_runtime *rt;

static int setup(void **state)
{
    (void)state;
    graft_runtime_options opts;
    graft_runtime_options_init(&opts);
    opts.arm_panic = graft_ffi_fault_arm_panic;
    opts.log_level = GRAFT_LOG_ERROR;
    if (graft_runtime_new(&opts, &rt) != GRAFT_OK)
        return -1;
    return kv_graft_install(rt) == GRAFT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    kv_graft_uninstall();
    graft_runtime_free(rt);
    return 0;
}

static void apply(const char *spec)
{
    char err[256] = "";
    int rc = graft_config_apply_spec(rt, spec, err, sizeof err);
    if (rc != GRAFT_OK)
        fprintf(stderr, "spec %s: %s\n", spec, err);
    assert_int_equal(rc, GRAFT_OK);
}

static void stats(graft_seam *s, graft_seam_stats *st)
{
    assert_int_equal(graft_seam_stats_get(s, st), GRAFT_OK);
}

/* Every input through the facades from 64 connections: answers equal C's. */
static void run_all(void)
{
    for (uint64_t conn = 1; conn <= 64; conn++) {
        for (size_t i = 0; i < NINPUTS; i++) {
            size_t len = strlen(INPUTS[i]) + (i == 14 ? 4 : 0);
            kv_request want, got;
            kv_parse(INPUTS[i], len, &LIM, &want);
            assert_int_equal(kv_graft_parse_status(conn, INPUTS[i], len, &LIM, &got), GRAFT_OK);
            assert_true(kv_request_equal(&want, &got));
        }
    }
}

static void test_every_mode_answers_like_c(void **state)
{
    (void)state;
    static const char *const modes[] = {"legacy", "shadow", "canary:50", "candidate",
                                        "candidate-only"};
    graft_seam *ps = kv_graft_parse_seam();
    assert_non_null(ps);
    for (size_t m = 0; m < 5; m++) {
        char spec[128];
        snprintf(spec, sizeof spec, "kv.parse=%s", modes[m]);
        apply(spec);
        graft_seam_stats before, after;
        stats(ps, &before);
        run_all();
        stats(ps, &after);
        uint64_t served_c =
            after.impl[GRAFT_IMPL_LEGACY].served - before.impl[GRAFT_IMPL_LEGACY].served;
        uint64_t served_r =
            after.impl[GRAFT_IMPL_CANDIDATE].served - before.impl[GRAFT_IMPL_CANDIDATE].served;
        assert_int_equal(served_c + served_r, 64 * NINPUTS);
        assert_int_equal(after.mismatches, 0);
        switch (m) {
        case 0:
            assert_int_equal(served_r, 0);
            break;
        case 1:
            assert_int_equal(served_r, 0);
            assert_true(after.compared - before.compared >= 64 * NINPUTS);
            break;
        case 2:
            assert_true(served_r > 0 && served_c > 0);
            break;
        default:
            assert_int_equal(served_c, 0);
            break;
        }
    }
}

/* Canary routing is sticky per connection: a connection's parses are served by the
 * same implementation on every call. */
static void test_canary_is_sticky_per_connection(void **state)
{
    (void)state;
    apply("kv.parse=canary:50");
    graft_seam *ps = kv_graft_parse_seam();
    unsigned rust_conns = 0;
    for (uint64_t conn = 1; conn <= 200; conn++) {
        graft_seam_stats a, b;
        stats(ps, &a);
        kv_request r;
        for (int i = 0; i < 5; i++)
            kv_graft_parse(conn, "get k\r\n", 7, &LIM, &r);
        stats(ps, &b);
        uint64_t by_rust =
            b.impl[GRAFT_IMPL_CANDIDATE].served - a.impl[GRAFT_IMPL_CANDIDATE].served;
        assert_true(by_rust == 0 || by_rust == 5);
        rust_conns += by_rust == 5;
    }
    assert_true(rust_conns > 40 && rust_conns < 160);
}

/* Real panics in the Rust side (armed through graft-ffi) fall back to C in candidate
 * mode; in candidate-only the parse facade closes the connection. */
static void test_panics_fall_back_or_close(void **state)
{
    (void)state;
    graft_seam *ps = kv_graft_parse_seam();
    graft_fault_config f = {0, GRAFT_PERCENT_SCALE, 0, 0};
    graft_fault_config none = {0, 0, 0, 0};
    assert_int_equal(graft_seam_set_fault(ps, &f), GRAFT_OK);
    graft_breaker_config bc;
    graft_breaker_config_init(&bc);
    bc.enabled = 0;
    assert_int_equal(graft_seam_set_breaker(ps, &bc), GRAFT_OK);

    apply("kv.parse=candidate");
    graft_seam_stats a, b;
    stats(ps, &a);
    run_all();
    stats(ps, &b);
    assert_true(b.impl[GRAFT_IMPL_CANDIDATE].panics - a.impl[GRAFT_IMPL_CANDIDATE].panics >=
                64 * NINPUTS);
    assert_true(b.fallbacks - a.fallbacks >= 64 * NINPUTS);

    apply("kv.parse=candidate-only");
    kv_request r;
    assert_int_equal(kv_graft_parse_status(7, "get k\r\n", 7, &LIM, &r), GRAFT_EPANIC);
    assert_int_equal(r.status, KV_PARSE_CLOSE);
    assert_false(graft_ffi_fault_disarm_panic()); /* every armed panic fired */

    assert_int_equal(graft_seam_set_fault(ps, &none), GRAFT_OK);
    apply("kv.parse=legacy");
}

/* Capture encoding and descriptions: what the seams write is what kv-replay reads. */
static void test_capture_format_round_trips(void **state)
{
    (void)state;
    const char raw[] = "set k 0 0 1\r\nx\r\n";
    kv_parse_input in = {raw, sizeof raw - 1, {77u, 99u}}, back;
    unsigned char buf[64];
    size_t n = kv_parse_input_serialize(&in, buf, sizeof buf);
    assert_int_equal(n, 12 + in.len);
    assert_int_equal(kv_parse_input_serialize(&in, buf, 3), n); /* size query, nothing written */
    kv_parse_input_deserialize(buf, n, &back);
    assert_int_equal(back.len, in.len);
    assert_memory_equal(back.buf, raw, in.len);
    assert_int_equal(back.limits.item_size_max, 77);
    assert_int_equal(back.limits.max_line, 99);
    kv_parse_input_deserialize(raw, sizeof raw - 1, &back); /* raw: default limits */
    assert_int_equal(back.limits.max_line, KV_GRAFT_DEFAULT_MAX_LINE);
    char d[512];
    kv_request req;
    kv_parse(raw, sizeof raw - 1, &LIM, &req);
    size_t dl = kv_request_describe(raw, sizeof raw - 1, &req, d, sizeof d);
    assert_int_equal(dl, strlen(d));
    assert_non_null(strstr(d, "OK cmd=set"));
    assert_non_null(strstr(d, "\"k\""));
    assert_int_equal(kv_request_describe(raw, sizeof raw - 1, &req, d, 8),
                     dl); /* cut, same length */
    assert_int_equal(strlen(d), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_mode_answers_like_c),
        cmocka_unit_test(test_canary_is_sticky_per_connection),
        cmocka_unit_test(test_panics_fall_back_or_close),
        cmocka_unit_test(test_capture_format_round_trips),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
