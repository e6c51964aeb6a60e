/*
 * validate.c: the checks of a validation build (validate.h). Compiled in every build;
 * empty unless GRAFT_VALIDATE is set.
 */
#include "validate.h"

#if GRAFT__VALIDATE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *graft__impl_label(graft_impl impl)
{
    return impl == GRAFT_IMPL_CANDIDATE ? "candidate" : "legacy";
}

__attribute__((noreturn)) static void graft__validate_fail(const graft_seam *s, const char *what)
{
    fprintf(stderr, "graft validate: seam %s: %s\n", s->name, what);
    fflush(stderr);
    abort();
}

/* Index of the first byte of g[0..n) that is not the guard pattern, or -1. */
static long graft__guard_damage(const unsigned char *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (g[i] != GRAFT__GUARD_FILL) {
            return (long)i;
        }
    }
    return -1;
}

int graft__validate_invoke(graft_seam *s, graft_impl impl, graft_impl_fn fn, const void *input,
                           void *out)
{
    size_t size = s->def.output_size;
    assert(size > 0);
    /* Owned here, freed before returning: guard | output copy | guard. The copy starts
     * GRAFT__GUARD_BYTES (a multiple of max_align_t) into malloc's block, so it is as
     * aligned as the caller's object. */
    unsigned char *block = malloc(size + 2 * GRAFT__GUARD_BYTES);
    if (block == NULL) {
        return fn(s->ctx, input, out); /* no memory for the check: run unchecked */
    }
    unsigned char *copy = block + GRAFT__GUARD_BYTES;
    memset(block, GRAFT__GUARD_FILL, GRAFT__GUARD_BYTES);
    memcpy(copy, out, size);
    memset(copy + size, GRAFT__GUARD_FILL, GRAFT__GUARD_BYTES);
    int rc = fn(s->ctx, input, copy);
    long before = graft__guard_damage(block, GRAFT__GUARD_BYTES);
    long after = graft__guard_damage(copy + size, GRAFT__GUARD_BYTES);
    if (before >= 0 || after >= 0) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "the %s implementation wrote %s its output (guard byte %ld %s the %zu-byte "
                 "object damaged)",
                 graft__impl_label(impl), after >= 0 ? "past the end of" : "before",
                 after >= 0 ? after : GRAFT__GUARD_BYTES - before, after >= 0 ? "after" : "before",
                 size);
        free(block);
        graft__validate_fail(s, msg);
    }
    memcpy(out, copy, size);
    free(block);
    return rc;
}

void graft__validate_poison(void *out, size_t size)
{
    memset(out, GRAFT__POISON_FILL, size);
}

static int graft__overlap(const void *a, size_t an, const void *b, size_t bn)
{
    uintptr_t x = (uintptr_t)a;
    uintptr_t y = (uintptr_t)b;
    return x < y + bn && y < x + an;
}

void graft__validate_call(const graft_seam *s, const void *input, const void *output,
                          const void *scratch)
{
    size_t size = s->def.output_size;
    if (scratch && graft__overlap(output, size, scratch, size)) {
        graft__validate_fail(s, "output and scratch overlap: the shadow copy would overwrite "
                                "the served output and every comparison would be equal");
    }
    if (input && graft__overlap(input, 1, output, size)) {
        graft__validate_fail(s, "input lies inside output: an implementation writing its "
                                "output would overwrite its own input");
    }
    if (input && scratch && graft__overlap(input, 1, scratch, size)) {
        graft__validate_fail(s, "input lies inside scratch: the shadow run would overwrite "
                                "the input");
    }
}
#else
typedef int graft__validate_unused; /* ISO C forbids an empty translation unit */
#endif
