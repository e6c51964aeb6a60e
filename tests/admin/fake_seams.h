/*
 * fake_seams.h: two small seams for the admin endpoint's tests and test host, so the
 * endpoint, graftctl and the dashboard can be exercised without kvd:
 *   "demo.sum"   adds two numbers; the candidate is wrong when a % 997 == 0, so the
 *                endpoint has mismatches (and samples) to show;
 *   "demo.upper" upper-cases a short string; both implementations agree.
 */
#ifndef GRAFT_TESTS_FAKE_SEAMS_H
#define GRAFT_TESTS_FAKE_SEAMS_H

#include <stdint.h>

#include "graft/graft.h"

typedef struct fake_sum_in {
    uint32_t a, b;
} fake_sum_in;

typedef struct fake_sum_out {
    uint64_t sum;
} fake_sum_out;

typedef struct fake_upper_in {
    char text[32];
} fake_upper_in;

typedef struct fake_upper_out {
    char text[32];
} fake_upper_out;

/* Registers both seams on rt; returns a graft status. */
int fake_seams_register(graft_runtime *rt, graft_seam **sum, graft_seam **upper);
/* Registers one more upper-casing seam under `name` (for names of any length). */
int fake_seams_register_upper(graft_runtime *rt, const char *name, graft_seam **up);
/* Makes `n` calls on each seam with inputs derived from `base`. */
void fake_seams_drive(graft_seam *sum, graft_seam *upper, uint64_t base, unsigned n);

#endif /* GRAFT_TESTS_FAKE_SEAMS_H */
