/*
 * rollout.h: what the rest of libgraft needs of rollout plans (src/rollout.c): freeing
 * a seam's plan and stopping the runtime's evaluator thread. The plan itself is private
 * to rollout.c; snapshots read it through graft_seam_plan_status.
 */
#ifndef GRAFT_ROLLOUT_H
#define GRAFT_ROLLOUT_H

struct graft__plan;
struct graft_runtime;

#include <stdbool.h>
#include <stddef.h>

#include "graft/graft.h"

/* Whether a plan is well formed; err names what is not. */
bool graft__plan_check(const graft_plan *plan, char *err, size_t errlen);
/* Configuration's graft_seam_set_plan, with rt->lock held (config commit, registration).
 * Idempotent: the same plan on a seam whose plan runs (or finished) keeps its progress,
 * so reloading an unchanged file does not restart a rollout. */
int graft__plan_apply_conf(graft_seam *seam, const graft_plan *plan);

/* Frees a seam's plan (runtime.c, when the seam is freed). NULL is a no-op. */
void graft__plan_free(struct graft__plan *p);
/* Stops and joins the evaluator thread, if it was started (graft_runtime_free). */
void graft__planner_stop(struct graft_runtime *rt);

#endif /* GRAFT_ROLLOUT_H */
