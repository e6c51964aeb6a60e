/*
 * golden_kv_hash.c: kvd's key hash is the Rust one now (kv.hash retired, server/kv_hash.c
 * deleted). Every vector the C implementation wrote before it went
 * (tests/golden/kv_hash.vectors, see README.md) must come out of the two Rust exports
 * bit for bit: kv_rs_hash_key, the exact call of kvd's storage engine (kv_store.c), and
 * kv_rs_hash, the status-returning export. kvd places a key by its hash alone (shard =
 * high bits, bucket = low bits), so equal hashes mean every key lands where it did.
 * Each key is hashed from an exactly sized heap copy, so ASan sees any over-read. The
 * spread properties the C unit test pinned are kept here, on the Rust hash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "graft/base.h"
#include "kv_rs.h"

#define LINE_MAX_BYTES 16384

static unsigned long n_vectors, n_diffs;
static unsigned long n_kind[2]; /* key lines, prefix lines */

static int unhex(const char *s, size_t n, unsigned char *out)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        unsigned v;
        if (sscanf(s + i, "%2x", &v) != 1) {
            return -1;
        }
        out[i / 2] = (unsigned char)v;
    }
    return 0;
}

static void check(const unsigned char *key, size_t len, uint64_t want, unsigned line)
{
    unsigned char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len) {
        memcpy(copy, key, len);
    }
    uint64_t direct = kv_rs_hash_key(len ? copy : NULL, len), viaout = 0;
    int st = kv_rs_hash(len ? copy : NULL, len, &viaout);
    free(copy);
    n_vectors++;
    if (direct != want || st != GRAFT_OK || viaout != want) {
        if (n_diffs++ < 10) {
            fprintf(stderr,
                    "golden kv.hash: line %u, %zu-byte key: C had 0x%016llx, kv_rs_hash_key "
                    "0x%016llx, kv_rs_hash 0x%016llx (status %d)\n",
                    line, len, (unsigned long long)want, (unsigned long long)direct,
                    (unsigned long long)viaout, st);
        }
    }
}

static void test_golden_vectors(void **state)
{
    (void)state;
    FILE *f = fopen(GOLDEN_DIR "/kv_hash.vectors", "r");
    assert_non_null(f);
    static char line[LINE_MAX_BYTES];
    static unsigned char buffer[LINE_MAX_BYTES / 2], key[LINE_MAX_BYTES / 2];
    size_t buffer_len = 0;
    unsigned lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strcspn(line, "\r\n");
        assert_true(line[n] != '\0' || feof(f)); /* no line longer than the buffer */
        line[n] = '\0';
        unsigned long long want;
        size_t off, len;
        if (line[0] == '#' || line[0] == '\0') {
            continue;
        } else if (strncmp(line, "buffer ", 7) == 0) {
            buffer_len = (n - 7) / 2;
            assert_int_equal(unhex(line + 7, n - 7, buffer), 0);
        } else if (sscanf(line, "prefix %16llx %zu %zu", &want, &off, &len) == 3) {
            assert_true(off + len <= buffer_len);
            check(buffer + off, len, want, lineno);
            n_kind[1]++;
        } else if (strncmp(line, "key ", 4) == 0 && n > 21 && line[20] == ' ') {
            assert_int_equal(sscanf(line + 4, "%16llx", &want), 1);
            const char *hex = line + 21;
            len = strcmp(hex, "-") == 0 ? 0 : strlen(hex) / 2;
            assert_int_equal(unhex(hex, len * 2, key), 0);
            check(key, len, want, lineno);
            n_kind[0]++;
        } else {
            fail_msg("kv_hash.vectors line %u: not a vector: %.60s", lineno, line);
        }
    }
    fclose(f);
    fprintf(stderr, "golden kv.hash: %lu key and %lu prefix vectors\n", n_kind[0], n_kind[1]);
    /* The file as committed: a truncated or emptied file must not pass. */
    assert_true(n_kind[0] >= 2117 && n_kind[1] >= 1413);
    assert_int_equal(n_diffs, 0);
}

/* Sequential keys must spread evenly over the low bits the table uses. */
static void test_low_bits_spread(void **state)
{
    (void)state;
    enum { BUCKETS = 1024, KEYS = 1024 * 64 };
    static unsigned counts[BUCKETS];
    char key[32];
    for (int i = 0; i < KEYS; i++) {
        int n = snprintf(key, sizeof(key), "key:%d", i);
        counts[kv_rs_hash_key(key, (size_t)n) & (BUCKETS - 1)]++;
    }
    unsigned max = 0, min = KEYS;
    for (int i = 0; i < BUCKETS; i++) {
        max = counts[i] > max ? counts[i] : max;
        min = counts[i] < min ? counts[i] : min;
    }
    /* mean 64; a uniform hash stays well within these bounds */
    assert_true(max < 110);
    assert_true(min > 25);
}

static void test_every_byte_matters(void **state)
{
    (void)state;
    char a[40], b[40];
    memset(a, 'x', sizeof(a));
    for (size_t i = 0; i < sizeof(a); i++) {
        memcpy(b, a, sizeof(a));
        b[i] ^= 1;
        assert_true(kv_rs_hash_key(a, sizeof(a)) != kv_rs_hash_key(b, sizeof(b)));
    }
    assert_true(kv_rs_hash_key("ab", 2) != kv_rs_hash_key("ba", 2));
    assert_true(kv_rs_hash_key("a", 1) != kv_rs_hash_key("a\0", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_vectors),
        cmocka_unit_test(test_low_bits_spread),
        cmocka_unit_test(test_every_byte_matters),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fprintf(stderr, "golden kv.hash: %lu vectors, %lu differences\n", n_vectors, n_diffs);
    return rc;
}
