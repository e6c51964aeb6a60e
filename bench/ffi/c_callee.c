/* The C→C baseline callee of bench_ffi, in its own translation unit and marked noinline
 * so the call is a real call, like a call into the Rust staticlib. */
#include <stdint.h>

#include "c_callee.h"

__attribute__((noinline)) uint64_t bench_c_callee(uint64_t x)
{
    __asm__ volatile("" : "+r"(x)); /* keep the body from being folded away */
    return x + 1;
}
