/*
 * host.cpp: the smallest C++ host of an installed graft, built with pkg-config only:
 * graft.hpp's lambdas and RAII on top of libgraft (see tests/install/run.sh).
 */
#include <cstdio>
#include <string>

#include <graft/graft.hpp>

struct square_out {
    long value;
};

int main()
{
    try {
        graft::runtime rt;
        auto seam = rt.add_seam<long, square_out>(
            "host.square", [](const long &x, square_out &o) { o.value = x * x; },
            [](const long &x, square_out &o) {
                long r = 0;
                for (long i = 0; i < (x < 0 ? -x : x); i++)
                    r += x < 0 ? -x : x;
                o.value = r;
            });
        rt.apply_spec("host.square=candidate");
        for (long x = -50; x <= 50; x++) {
            graft::result<square_out> r = seam.call(x, static_cast<std::uint64_t>(x));
            if (!r || r->value != x * x) {
                std::fprintf(stderr, "host.cpp: %ld squared wrong (status %d)\n", x, r.status());
                return 1;
            }
        }
        if (seam.stats().impl[GRAFT_IMPL_CANDIDATE].served != 101) {
            std::fprintf(stderr, "host.cpp: the candidate did not serve\n");
            return 1;
        }
        try {
            rt.apply_spec("host.square=nonsense");
            std::fprintf(stderr, "host.cpp: a bad spec was accepted\n");
            return 1;
        } catch (const graft::error &e) {
            std::printf("host.cpp: ok (bad spec rejected: %s)\n", e.what());
        }
    } catch (const graft::error &e) {
        std::fprintf(stderr, "host.cpp: %s\n", e.what());
        return 1;
    }
    return 0;
}
