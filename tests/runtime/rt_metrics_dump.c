/* Prints the Prometheus exposition of a runtime with seams in every mode, with
 * mismatches, fallbacks, faults and an open breaker, for `promtool check metrics`
 * (tests/runtime/CMakeLists.txt). With "json" as argument prints the JSON snapshot. */
#include <stdio.h>
#include <string.h>

#include "rt_fixture.h"

int main(int argc, char **argv)
{
    static toy t;
    graft_runtime *rt;
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.log_level = GRAFT_LOG_ERROR;
    if (graft_runtime_new(&o, &rt) != GRAFT_OK)
        return 1;
    const char *names[] = {"kv.parse", "kv.hash", "kv.store", "kv-evict_1", "kv.only"};
    graft_seam *s[5];
    for (int i = 0; i < 5; i++) {
        graft_seam_def d = toy_def(names[i], &t);
        if (graft_seam_register(rt, &d, &s[i]) != GRAFT_OK)
            return 1;
    }
    graft_seam_set_mode(s[0], GRAFT_MODE_SHADOW, 0);
    graft_seam_set_mode(s[1], GRAFT_MODE_CANARY, 1050);
    graft_seam_set_mode(s[2], GRAFT_MODE_CANDIDATE, 0);
    graft_seam_set_mode(s[4], GRAFT_MODE_CANDIDATE_ONLY, 0);
    graft_fault_config fc = {3000, 1000, 0, 0};
    graft_seam_set_fault(s[2], &fc);
    t.candidate_bias = 1;
    long in = 1;
    toy_out out, scratch;
    for (int r = 0; r < 2000; r++)
        for (int i = 0; i < 5; i++)
            graft_call(s[i], (uint64_t)r, 0, &in, &out, &scratch);
    char *txt;
    size_t len;
    int rc = argc > 1 && strcmp(argv[1], "json") == 0 ? graft_metrics_json(rt, &txt, &len)
                                                      : graft_metrics_prometheus(rt, &txt, &len);
    if (rc != GRAFT_OK)
        return 1;
    fwrite(txt, 1, len, stdout);
    graft_free(txt);
    graft_runtime_free(rt);
    return 0;
}
