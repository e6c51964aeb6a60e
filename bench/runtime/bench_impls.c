/* bench_impls.c: the two implementations the runtime benchmark calls, in their own
 * translation unit so neither the direct baseline nor graft_call can inline them. */
#include <string.h>

#include "graft/graft.h"

typedef struct bench_out {
    unsigned long v;
} bench_out;

__attribute__((noinline)) int bench_legacy(void *ctx, const void *input, void *output)
{
    (void)ctx;
    ((bench_out *)output)->v = *(const unsigned long *)input * 2654435761ul;
    return GRAFT_OK;
}

__attribute__((noinline)) int bench_candidate(void *ctx, const void *input, void *output)
{
    (void)ctx;
    ((bench_out *)output)->v = *(const unsigned long *)input * 2654435761ul;
    return GRAFT_OK;
}

__attribute__((noinline)) int bench_compare(void *ctx, const void *input, const void *a,
                                            const void *b)
{
    (void)ctx;
    (void)input;
    return memcmp(a, b, sizeof(bench_out));
}
