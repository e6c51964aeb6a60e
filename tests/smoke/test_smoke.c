/* Smoke test of the hybrid build: C calls Rust through the cbindgen header, in one
 * statically linked executable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "graft_ffi_testkit.h"

static void c_reaches_rust(void **state)
{
    (void)state;
    assert_int_equal(graft_testkit_add(40, 2), 42);
    assert_int_equal(graft_testkit_add(INT32_MAX, 1), INT32_MIN); /* defined wrap */
}

static void rust_version_is_a_c_string(void **state)
{
    (void)state;
    const char *v = graft_ffi_version();
    assert_non_null(v);
    assert_true(strlen(v) >= 5);
    assert_int_equal(v[0], '0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(c_reaches_rust),
        cmocka_unit_test(rust_version_is_a_c_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
