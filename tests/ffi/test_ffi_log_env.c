/* Logs one message at each level through graft-ffi with no callback registered, so
 * ctest can check what GRAFT_FFI_LOG sends to stderr (see CMakeLists.txt). */
#include <stdio.h>

#include "graft_ffi_testkit.h"

int main(void)
{
    static const char *const messages[] = {"msg-error", "msg-warn", "msg-info", "msg-debug",
                                           "msg-trace"};
    for (int level = GRAFT_LOG_ERROR; level <= GRAFT_LOG_TRACE; level++) {
        if (graft_testkit_log(level, "testkit", messages[level]) != GRAFT_OK) {
            fprintf(stderr, "graft_testkit_log failed at level %d\n", level);
            return 1;
        }
    }
    return 0;
}
