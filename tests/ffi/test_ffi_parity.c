/* libgraft (C, src/status.c) and graft-ffi (Rust) describe every status number with
 * identical names and messages, so a status reads the same whichever side produced it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "graft/graft.h"
#include "graft_ffi_testkit.h"

static void names_and_messages_agree(void **state)
{
    (void)state;
    for (int s = -2; s <= GRAFT_STATUS_MAX + 2; s++) {
        const char *c_name = graft_status_name(s);
        const char *rust_name = graft_ffi_status_name(s);
        if (s < 0 || s > GRAFT_STATUS_MAX) {
            assert_null(c_name);
            assert_null(rust_name);
        } else {
            assert_non_null(c_name);
            assert_non_null(rust_name);
            assert_string_equal(c_name, rust_name);
        }
        assert_non_null(graft_strerror(s));
        assert_string_equal(graft_strerror(s), graft_ffi_strerror(s));
    }
    assert_string_equal(graft_strerror(INT32_MIN), graft_ffi_strerror(INT32_MIN));
    assert_string_equal(graft_strerror(INT32_MAX), "unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_and_messages_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
