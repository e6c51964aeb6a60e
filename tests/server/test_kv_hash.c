/*
 * test_kv_hash.c: pins kv_hash to the values of its published definition (computed
 * independently with a short Python transcription of kv_hash.h), so the C code and its
 * Rust twin cannot drift apart, and checks basic spreading over table buckets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kv_hash.h"

static void test_reference_values(void **state)
{
    (void)state;
    unsigned char all[256];
    for (int i = 0; i < 256; i++) {
        all[i] = (unsigned char)i;
    }
    char ks[250];
    memset(ks, 'k', sizeof(ks));
    assert_true(kv_hash(NULL, 0) == 0xefd01f60ba992926ULL);
    assert_true(kv_hash("", 0) == 0xefd01f60ba992926ULL);
    assert_true(kv_hash("a", 1) == 0x82a2a958a9bece5bULL);
    assert_true(kv_hash("foo", 3) == 0xaf85ea5569581d4cULL);
    assert_true(kv_hash("key:12345", 9) == 0x27b77821d82d0367ULL);
    assert_true(kv_hash(all, sizeof(all)) == 0x2067db6dbd4efa06ULL);
    assert_true(kv_hash(ks, sizeof(ks)) == 0x219c73374413461dULL);
}

/* Sequential keys must spread evenly over the low bits the table uses. */
static void test_low_bits_spread(void **state)
{
    (void)state;
    enum { BUCKETS = 1024, KEYS = 1024 * 64 };
    static unsigned counts[BUCKETS];
    memset(counts, 0, sizeof(counts));
    char key[32];
    for (int i = 0; i < KEYS; i++) {
        int n = snprintf(key, sizeof(key), "key:%d", i);
        counts[kv_hash(key, (size_t)n) & (BUCKETS - 1)]++;
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
        assert_true(kv_hash(a, sizeof(a)) != kv_hash(b, sizeof(b)));
    }
    assert_true(kv_hash("ab", 2) != kv_hash("ba", 2));
    assert_true(kv_hash("a", 1) != kv_hash("a\0", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_values),
        cmocka_unit_test(test_low_bits_spread),
        cmocka_unit_test(test_every_byte_matters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
