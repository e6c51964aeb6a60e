/*
 * wordcount.h: the starter's "legacy" component, a tiny C function standing for the
 * part of an existing codebase that is being moved to Rust. Its Rust twin is
 * rust/wc-rs (include/wc_rs.h); the seam in src/wc_seam.c puts both behind one call.
 */
#ifndef STARTER_WORDCOUNT_H
#define STARTER_WORDCOUNT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What wc(1) would say about a buffer. Plain data: it crosses the seam by value and
 * is compared byte for byte, so it has no padding. */
typedef struct wc_counts {
    uint64_t lines;   /* '\n' bytes */
    uint64_t words;   /* maximal runs of bytes other than ' ', \t \n \v \f \r */
    uint64_t bytes;   /* len */
    uint64_t longest; /* length of the longest word, in bytes */
} wc_counts;

/* Counts `text[0..len]` into *out. text may be NULL only when len is 0.
 * Returns 0, or 2 (GRAFT_ENULL's number) when a required pointer is NULL. */
int wc_count(const char *text, size_t len, wc_counts *out);

#ifdef __cplusplus
}
#endif

#endif
