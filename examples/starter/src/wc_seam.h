/*
 * wc_seam.h: the seam in front of the starter's word counter. Callers use
 * wc_seam_count() where they used to call wc_count(); graft decides per call whether
 * the legacy C code, the Rust twin, or both (shadow) run, as configured live.
 */
#ifndef STARTER_WC_SEAM_H
#define STARTER_WC_SEAM_H

#include <stddef.h>

#include <graft/graft.h>

#include "wordcount.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WC_SEAM_NAME "starter.wc"

/* The seam's input: a borrowed buffer. */
typedef struct wc_input {
    const char *text;
    size_t len;
} wc_input;

/* Registers the "starter.wc" seam on rt (legacy: wc_count, candidate: wc_rs_count). */
int wc_seam_register(graft_runtime *rt, graft_seam **out);

/* wc_count through the seam. `key` identifies the request for sticky canary routing.
 * Returns the status of the implementation that served the call. */
int wc_seam_count(graft_seam *seam, uint64_t key, const char *text, size_t len, wc_counts *out);

#ifdef __cplusplus
}
#endif

#endif
