/*
 * parity.cpp: the starter's parity test from a C++ host, through graft.hpp: the same
 * seam built from lambdas, run in shadow then candidate mode over the corpus. It also
 * checks the wrapper's error model (graft::error from the control plane, an
 * expected-style result from calls).
 */
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include <graft/graft.hpp>

#include "corpus.h"
#include "wc_rs.h"
#include "wordcount.h"

static int failures;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static bool same(const wc_counts &a, const wc_counts &b)
{
    return std::memcmp(&a, &b, sizeof a) == 0;
}

int main()
{
    const std::uint64_t n = CORPUS_FIXED + CORPUS_RANDOM;
    graft::runtime_options opts;
    opts.log = [](int level, std::string_view target, std::string_view msg) {
        std::fprintf(stderr, "log %d %.*s: %.*s\n", level, (int)target.size(), target.data(),
                     (int)msg.size(), msg.data());
    };
    graft::runtime rt(opts);
    graft::seam_options<std::string_view, wc_counts> so;
    so.describe = [](std::string_view, const wc_counts &c) {
        return "words=" + std::to_string(c.words);
    };
    auto seam = rt.add_seam<std::string_view, wc_counts>(
        "starter.wc",
        [](std::string_view in, wc_counts &out) { return wc_count(in.data(), in.size(), &out); },
        [](std::string_view in, wc_counts &out) { return wc_rs_count(in.data(), in.size(), &out); },
        so);
    graft::compare_config cmp = graft::compare_defaults();
    cmp.sample_every = 1; /* every call */
    seam.set_compare(cmp);

    for (graft::mode m : {GRAFT_MODE_SHADOW, GRAFT_MODE_CANDIDATE}) {
        seam.set_mode(m);
        char buf[CORPUS_MAX_LEN];
        for (std::size_t i = 0; i < n; i++) {
            std::string_view in(buf, corpus_input(i, buf));
            wc_counts want;
            CHECK(wc_count(in.data(), in.size(), &want) == 0);
            graft::result<wc_counts> r = seam.call(in, i);
            CHECK(r.ok());
            if (r && !same(*r, want)) {
                std::fprintf(stderr, "input %zu differs in mode %s\n", i, graft::mode_name(m));
                failures++;
            }
        }
        graft::seam_stats st = seam.stats();
        if (m == GRAFT_MODE_SHADOW) {
            CHECK(st.compared == n);
            CHECK(st.mismatches == 0);
            CHECK(st.impl[GRAFT_IMPL_LEGACY].served == n);
        } else {
            CHECK(st.impl[GRAFT_IMPL_CANDIDATE].served == n);
            CHECK(st.fallbacks == 0);
        }
    }

    /* Control-plane errors are exceptions carrying the status and libgraft's message. */
    bool threw = false;
    try {
        rt.add_seam<std::string_view, wc_counts>(
            "starter.wc", [](std::string_view, wc_counts &) {},
            [](std::string_view, wc_counts &) {});
    } catch (const graft::error &e) {
        threw = e.status() == GRAFT_EEXIST;
    }
    CHECK(threw);
    std::string metrics = rt.metrics_prometheus().str();
    CHECK(metrics.find("starter.wc") != std::string::npos);

    if (failures) {
        std::fprintf(stderr, "parity (C++): %d failure(s)\n", failures);
        return 1;
    }
    std::printf("parity (C++): %" PRIu64 " inputs, shadow and candidate agree with legacy\n", n);
    return 0;
}
