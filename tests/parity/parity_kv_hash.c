/*
 * parity_kv_hash.c: kvd's C key hash (server/kv_hash.c) and its Rust twin (rust/kv-hash,
 * exported as kv_rs_hash) must agree bit for bit on every key: every length from 0 to
 * 1024 at every alignment, every single byte, hundreds of thousands of random keys,
 * the pinned reference values, and every file of the hash fuzz corpus and regressions.
 */
#include "corpus.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "graft/base.h"
#include "kv_hash.h"
#include "kv_rs.h"

static unsigned long n_keys, n_diffs;

static void check(const void *key, size_t len)
{
    uint64_t c = kv_hash(key, len), r = 0;
    int st = kv_rs_hash(key, len, &r);
    n_keys++;
    if (st != GRAFT_OK || c != r) {
        if (n_diffs++ < 10)
            fprintf(stderr,
                    "parity kv.hash: %zu-byte key: C 0x%016llx, Rust 0x%016llx (status %d)\n", len,
                    (unsigned long long)c, (unsigned long long)r, st);
    }
}

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint8_t rnd8(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint8_t)(rng >> 24);
}

static void test_reference_values(void **state)
{
    (void)state;
    uint64_t h = 0;
    assert_int_equal(kv_rs_hash(NULL, 0, &h), GRAFT_OK);
    assert_true(h == 0xefd01f60ba992926ull && kv_hash(NULL, 0) == h);
    assert_int_equal(kv_rs_hash("a", 1, &h), GRAFT_OK);
    assert_true(h == 0x82a2a958a9bece5bull);
    assert_int_equal(kv_rs_hash("foo", 3, &h), GRAFT_OK);
    assert_true(h == 0xaf85ea5569581d4cull);
    /* The boundary refuses what C must not pass, and writes nothing then. */
    h = 7;
    assert_int_equal(kv_rs_hash(NULL, 3, &h), GRAFT_ENULL);
    assert_int_equal(kv_rs_hash("a", 1, NULL), GRAFT_ENULL);
    assert_true(h == 7);
}

static void test_lengths_alignments_bytes(void **state)
{
    (void)state;
    static unsigned char buf[1024 + 16];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = rnd8();
    for (size_t align = 0; align < 8; align++)
        for (size_t len = 0; len <= 1024; len++)
            check(buf + align, len);
    for (unsigned b = 0; b < 256; b++) {
        unsigned char k[3] = {(unsigned char)b, (unsigned char)b, (unsigned char)b};
        check(k, 1);
        check(k, 3);
    }
    assert_int_equal(n_diffs, 0);
}

static void test_random_keys(void **state)
{
    (void)state;
    unsigned char key[260];
    for (unsigned i = 0; i < 300000; i++) {
        size_t len = rnd8() % 251;
        for (size_t j = 0; j < len; j++)
            key[j] = rnd8();
        check(key, len);
    }
    assert_int_equal(n_diffs, 0);
}

static void check_file(const char *data, size_t len)
{
    check(data, len);
}

static void test_fuzz_corpus_and_regressions(void **state)
{
    (void)state;
    unsigned n = parity_each_file(PARITY_SOURCE_DIR "/fuzz/corpus/hash", check_file);
    n += parity_each_file(PARITY_SOURCE_DIR "/fuzz/regressions/hash", check_file);
    assert_true(n > 0);
    assert_int_equal(n_diffs, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_values),
        cmocka_unit_test(test_lengths_alignments_bytes),
        cmocka_unit_test(test_random_keys),
        cmocka_unit_test(test_fuzz_corpus_and_regressions),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fprintf(stderr, "parity kv.hash: %lu keys, %lu differences\n", n_keys, n_diffs);
    return rc;
}
