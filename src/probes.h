/*
 * probes.h: libgraft's USDT probes, the `graft` provider (docs/RUNTIME.md, "Tracing").
 *
 * Each probe is a `nop` in the code plus an ELF note (.note.stapsdt) naming it and the
 * location of its arguments, written by <sys/sdt.h> (Debian's systemtap-sdt-dev);
 * bpftrace, perf and any libbpf tool attach to it by name:
 *
 *   bpftrace -l 'usdt:/path/to/kvd:graft:*'
 *
 * Arguments cost nothing while no tracer is attached: every probe of the provider
 * shares one semaphore (a 16-bit counter in the .probes section that the kernel
 * increments for each attached probe), and libgraft reads it before computing any
 * argument. graft_call reads it once; while it is zero the fast paths run unchanged, and
 * while it is not, every call takes the general path, which fires the probes and reads
 * the clock for their latencies. One semaphore rather than one per probe because the
 * fast path can afford one load, not eight: attaching any graft probe enables them all.
 *
 * The argument layout is part of graft's interface (scripts in tools/trace/ rely on
 * it): a probe may gain arguments at the end, never change or lose one. At most 6
 * arguments: bpftrace reads no arg6 on x86_64. Enumerations are passed by name.
 *   XX(name, count, "argument list")
 */
#ifndef GRAFT_PROBES_H
#define GRAFT_PROBES_H

#define GRAFT_PROBE_LIST(XX)                                                                       \
    XX(seam__call, 4, "seam (char *), key (u64), mode (int graft_mode), flags (unsigned)")         \
    XX(seam__return, 5,                                                                            \
       "seam (char *), key (u64), served (int graft_impl, -1 none), status (int), ns (u64)")       \
    XX(impl__enter, 3, "seam (char *), impl (int graft_impl), key (u64)")                          \
    XX(impl__return, 5, "seam (char *), impl (int graft_impl), status (int), ns (u64), key (u64)") \
    XX(compare, 3, "seam (char *), key (u64), equal (int 0/1)")                                    \
    XX(fallback, 4, "seam (char *), key (u64), reason (char *), status (int)")                     \
    XX(breaker, 4, "seam (char *), from (char * state name), to (char *), reason (char *)")        \
    XX(mode, 5, "seam (char *), from (char * mode name), to (char *), from_bp (u32), to_bp (u32)")

/* GRAFT_PROBES=1 is set by the build when <sys/sdt.h> exists (CMakeLists.txt). */
#if defined(GRAFT_PROBES) && GRAFT_PROBES
#define GRAFT__HAVE_SDT 1
#endif

#ifdef GRAFT__HAVE_SDT
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

/* The provider's semaphore (probes.c); each probe's name for it is an alias, because
 * <sys/sdt.h> names a probe's semaphore graft_<probe>_semaphore. */
extern volatile unsigned short graft_probes_semaphore __attribute__((visibility("hidden")));
#define GRAFT__PROBE_SEMA_DECL(name, n, args)                                                      \
    extern volatile unsigned short graft_##name##_semaphore __attribute__((visibility("hidden")));
GRAFT_PROBE_LIST(GRAFT__PROBE_SEMA_DECL)
#undef GRAFT__PROBE_SEMA_DECL

/* True while a tracer has any graft probe attached. */
#define GRAFT_PROBES_ON() __builtin_expect(graft_probes_semaphore != 0, 0)
/* Fires probe `name` (unconditionally: guard argument work with GRAFT_PROBES_ON()). */
#define GRAFT_PROBE(name, ...) GRAFT__PROBE_PICK(__VA_ARGS__, 6, 5, 4, 3, 2, 1)(name, __VA_ARGS__)
#define GRAFT__PROBE_PICK(a, b, c, d, e, f, n, ...) GRAFT__PROBE_##n
#define GRAFT__PROBE_1(name, a) DTRACE_PROBE1(graft, name, a)
#define GRAFT__PROBE_2(name, a, b) DTRACE_PROBE2(graft, name, a, b)
#define GRAFT__PROBE_3(name, a, b, c) DTRACE_PROBE3(graft, name, a, b, c)
#define GRAFT__PROBE_4(name, a, b, c, d) DTRACE_PROBE4(graft, name, a, b, c, d)
#define GRAFT__PROBE_5(name, a, b, c, d, e) DTRACE_PROBE5(graft, name, a, b, c, d, e)
#define GRAFT__PROBE_6(name, a, b, c, d, e, f) DTRACE_PROBE6(graft, name, a, b, c, d, e, f)
#else
/* Built without <sys/sdt.h> (or with -DGRAFT_PROBES=OFF): no notes, no code. */
#define GRAFT_PROBES_ON() 0
#define GRAFT_PROBE(name, ...) ((void)0)
#endif

#endif /* GRAFT_PROBES_H */
