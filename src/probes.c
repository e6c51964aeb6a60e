/*
 * probes.c: the storage of the `graft` provider's semaphore (probes.h).
 *
 * The semaphore lives in the .probes section, where USDT tools expect it; every probe's
 * note points at it through its alias, so the kernel's count for it is the number of
 * graft probes attached right now.
 */
#include "probes.h"

#ifdef GRAFT__HAVE_SDT
__attribute__((used, section(".probes"),
               visibility("hidden"))) volatile unsigned short graft_probes_semaphore;

#define GRAFT__PROBE_SEMA_DEF(name, n, args)                                                       \
    extern volatile unsigned short graft_##name##_semaphore                                        \
        __attribute__((alias("graft_probes_semaphore"), visibility("hidden")));
GRAFT_PROBE_LIST(GRAFT__PROBE_SEMA_DEF)
#undef GRAFT__PROBE_SEMA_DEF
#else
/* ISO C forbids an empty translation unit. */
typedef int graft__probes_unused;
#endif
