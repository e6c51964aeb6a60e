/*
 * validate.h: the checks of a validation build (-DGRAFT_VALIDATE=ON, also `make asan`;
 * docs/RUNTIME.md, "Validation build"). In a normal build every macro here is the plain
 * operation and GRAFT__VALIDATE is 0, so the checks cost nothing.
 *
 * With GRAFT_VALIDATE, every graft_call takes the general path and:
 *   - an implementation writes its output into a copy with guard bytes on both sides,
 *     checked when it returns (catches an implementation writing past output_size);
 *   - an output libgraft does not return (shadow copy, compared legacy copy) is
 *     poisoned once released (catches a host reading scratch after the call, or a
 *     release function leaving pointers that are used later);
 *   - the buffers of one call are asserted to be distinct: output, scratch and input
 *     must not overlap (catches scratch == output, which hides every mismatch).
 * A failed check prints one line naming the seam and the implementation, then aborts.
 * A debug build: each implementation run allocates its guarded copy (malloc/free), which
 * the call path of a normal build never does.
 */
#ifndef GRAFT_VALIDATE_H
#define GRAFT_VALIDATE_H

#include <stddef.h>

#include "graft/graft.h"

/* Bytes of guard on each side of an output, and the patterns (docs/RUNTIME.md). */
#define GRAFT__GUARD_BYTES 64
#define GRAFT__GUARD_FILL 0xA7
#define GRAFT__POISON_FILL 0xDB

#if defined(GRAFT_VALIDATE) && GRAFT_VALIDATE
#define GRAFT__VALIDATE 1
/* Runs fn(s->ctx, input, out) into a guarded copy of *out; aborts on damaged guards. */
int graft__validate_invoke(graft_seam *s, graft_impl impl, graft_impl_fn fn, const void *input,
                           void *out);
/* Fills a released output with GRAFT__POISON_FILL. */
void graft__validate_poison(void *out, size_t size);
/* Asserts that the buffers of one call do not overlap. */
void graft__validate_call(const graft_seam *s, const void *input, const void *output,
                          const void *scratch);
#define GRAFT__VALIDATE_INVOKE(s, impl, fn, in, out) graft__validate_invoke(s, impl, fn, in, out)
#define GRAFT__VALIDATE_POISON(out, size) graft__validate_poison(out, size)
#define GRAFT__VALIDATE_CALL(s, in, out, scratch) graft__validate_call(s, in, out, scratch)
#else
#define GRAFT__VALIDATE 0
#define GRAFT__VALIDATE_INVOKE(s, impl, fn, in, out) ((void)(impl), (fn)((s)->ctx, (in), (out)))
#define GRAFT__VALIDATE_POISON(out, size) ((void)0)
#define GRAFT__VALIDATE_CALL(s, in, out, scratch) ((void)0)
#endif

#endif /* GRAFT_VALIDATE_H */
