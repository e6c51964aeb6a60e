/* route_dump: which implementation serves each of N client keys on seam NAME at
 * canary PERCENT, as one process of a fleet would route them. Prints one line per key
 * that the candidate served ("user:<i>"). Extra seams named after `--` are registered
 * first, so two runs differ in process state (registration order, heap, ASLR) but must
 * not differ in routing. Usage: route_dump NAME PERCENT N [-- OTHER_SEAM...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graft/graft.h"

static int impl_legacy(void *ctx, const void *input, void *output)
{
    (void)ctx;
    (void)input;
    *(int *)output = 0;
    return GRAFT_OK;
}

static int impl_candidate(void *ctx, const void *input, void *output)
{
    (void)ctx;
    (void)input;
    *(int *)output = 1;
    return GRAFT_OK;
}

static int register_seam(graft_runtime *rt, const char *name, graft_seam **out)
{
    graft_seam_def d = {.name = name,
                        .legacy = impl_legacy,
                        .candidate = impl_candidate,
                        .output_size = sizeof(int)};
    return graft_seam_register(rt, &d, out);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: route_dump NAME PERCENT N [-- OTHER_SEAM...]\n");
        return 2;
    }
    graft_runtime *rt = NULL;
    if (graft_runtime_new(NULL, &rt) != GRAFT_OK) {
        return 1;
    }
    for (int i = 4; i < argc; i++) {
        graft_seam *other = NULL;
        if (strcmp(argv[i], "--") != 0 && register_seam(rt, argv[i], &other) != GRAFT_OK) {
            return 1;
        }
    }
    graft_seam *seam = NULL;
    uint32_t bp = 0;
    if (register_seam(rt, argv[1], &seam) != GRAFT_OK ||
        graft_percent_parse(argv[2], &bp) != GRAFT_OK ||
        graft_seam_set_mode(seam, GRAFT_MODE_CANARY, bp) != GRAFT_OK) {
        fprintf(stderr, "route_dump: bad seam or percent\n");
        return 2;
    }
    long n = strtol(argv[3], NULL, 10);
    for (long i = 0; i < n; i++) {
        char key[32];
        int len = snprintf(key, sizeof key, "user:%ld", i);
        int served = -1;
        if (graft_call(seam, graft_key_from_bytes(key, (size_t)len), 0, NULL, &served, NULL) !=
            GRAFT_OK) {
            return 1;
        }
        if (served == 1) {
            printf("%s\n", key);
        }
    }
    graft_runtime_free(rt);
    return 0;
}
