/*
 * main.c: the starter's program: counts stdin like wc(1), through the seam. The
 * implementation serving the call is chosen by the environment, e.g.
 *   GRAFT_SEAMS=starter.wc=shadow ./starter < file
 * With STARTER_STATS=1 it also prints the runtime's metrics (JSON) to stderr.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <graft/graft.h>
#include <graft/graft_ffi.h>

#include "wc_seam.h"

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            return NULL;
        }
        buf = bigger;
        cap *= 2;
    }
    *len = n;
    return buf;
}

int main(void)
{
    graft_runtime_options opts;
    graft_runtime_options_init(&opts);
    opts.arm_panic = graft_ffi_fault_arm_panic; /* injected panics are real Rust panics */
    graft_runtime *rt = NULL;
    graft_seam *seam = NULL;
    char err[256] = "";
    int rc = graft_runtime_new(&opts, &rt);
    if (rc == GRAFT_OK)
        rc = wc_seam_register(rt, &seam);
    if (rc == GRAFT_OK)
        rc = graft_runtime_configure_from_env(rt, err, sizeof err);
    if (rc != GRAFT_OK) {
        fprintf(stderr, "starter: %s%s%s\n", graft_strerror(rc), err[0] ? ": " : "", err);
        graft_runtime_free(rt);
        return 2;
    }

    size_t len = 0;
    char *text = read_all(stdin, &len);
    if (!text) {
        fprintf(stderr, "starter: out of memory reading stdin\n");
        graft_runtime_free(rt);
        return 2;
    }
    wc_counts c;
    rc = wc_seam_count(seam, graft_key_from_bytes("stdin", 5), text, len, &c);
    free(text);
    if (rc != GRAFT_OK) {
        fprintf(stderr, "starter: %s\n", graft_strerror(rc));
        graft_runtime_free(rt);
        return 1;
    }
    printf("%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", c.lines, c.words, c.bytes,
           c.longest);

    const char *stats = getenv("STARTER_STATS");
    if (stats && strcmp(stats, "1") == 0) {
        char *json = NULL;
        size_t jlen = 0;
        if (graft_metrics_json(rt, &json, &jlen) == GRAFT_OK) {
            fprintf(stderr, "%s\n", json);
            graft_free(json);
        }
    }
    graft_runtime_free(rt);
    return 0;
}
