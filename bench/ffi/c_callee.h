/* The C→C baseline callee of bench_ffi (c_callee.c). */
#ifndef GRAFT_BENCH_C_CALLEE_H
#define GRAFT_BENCH_C_CALLEE_H

#include <stdint.h>

uint64_t bench_c_callee(uint64_t x);

#endif
