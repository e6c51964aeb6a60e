/* fuzz_stringmatch.c: libFuzzer target, Redis's C stringmatchlen (extracted from util.c
 * by build.sh, built with ASan+UBSan) against the Rust twin. Input: byte 0 = flags
 * (bit 0 nocase), byte 1 = pattern length (mod the rest), then pattern, then string.
 *
 * The pattern is copied into an allocation of exactly its length plus a NUL, as Redis's
 * sds strings are, and the string into one of exactly its length: ASan reports any read
 * past either. With GRAFT_FUZZ_EXACT=1 the pattern gets no NUL after it, and ASan
 * finds the C's read past the pattern's end in seconds (docs/REDIS.md).
 *   redis-fuzz-stringmatch -max_total_time=60 [corpus dir] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_match_rs.h"

int stringmatchlen_legacy(const char *p, int plen, const char *s, int slen, int nocase);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int exact = -1;
    if (exact < 0)
        exact = getenv("GRAFT_FUZZ_EXACT") != NULL && getenv("GRAFT_FUZZ_EXACT")[0] == '1';
    if (size < 2 || size > 4096)
        return 0;
    int nocase = data[0] & 1;
    size_t rest = size - 2;
    size_t plen = rest ? data[1] % (rest + 1) : 0;
    size_t slen = rest - plen;
    char *p = malloc(plen + (exact ? 0 : 1));
    char *s = malloc(slen ? slen : 1); /* exact: ASan sees a read past the string */
    if (!p || !s)
        abort();
    memcpy(p, data + 2, plen);
    if (!exact)
        p[plen] = '\0';
    memcpy(s, data + 2 + plen, slen);
    int c = stringmatchlen_legacy(p, (int)plen, s, (int)slen, nocase);
    int r = -1;
    int rc = redis_rs_stringmatchlen(p, (int)plen, s, (int)slen, nocase, &r);
    if (rc != 0 || c != r) {
        fprintf(stderr,
                "fuzz_stringmatch: C %d, Rust %d (status %d), plen %zu slen %zu nocase %d\n", c, r,
                rc, plen, slen, nocase);
        abort();
    }
    free(p);
    free(s);
    return 0;
}
