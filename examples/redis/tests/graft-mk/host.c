/* host.c: calls the twin through the header graft_cbindgen generated (ctest graft-mk). */
#include <stdio.h>
#include <string.h>

#include <graft/graft.h>

#include "redis_match_rs.h"

int main(void)
{
    int m = -1;
    if (redis_rs_stringmatchlen("h?llo", 5, "hello", 5, 0, &m) != GRAFT_OK || m != 1)
        return 1;
    printf("graft-mk host: %s, match %d\n", graft_version(), m);
    return 0;
}
