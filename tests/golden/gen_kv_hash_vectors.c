/*
 * gen_kv_hash_vectors.c: writes the golden vectors of kvd's key hash from the C
 * implementation (server/kv_hash.c) to stdout, before that C is deleted. The vectors
 * then pin the Rust hash (tests/golden/README.md says how they were made and how to
 * run this again from git history).
 *
 * Build: cc -O2 -I server tests/golden/gen_kv_hash_vectors.c server/kv_hash.c
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kv_hash.h"

#define BUF_LEN 4105 /* 4097 (largest boundary length) + 8 offsets */

static uint64_t rng = 0x243f6a8885a308d3ull; /* xorshift64 seed, recorded in the file */

static uint8_t rnd8(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint8_t)(rng >> 24);
}

static void hex(const unsigned char *p, size_t n)
{
    if (n == 0) {
        fputs("-", stdout);
    }
    for (size_t i = 0; i < n; i++) {
        printf("%02x", p[i]);
    }
}

static void key(const void *p, size_t n)
{
    printf("key %016llx ", (unsigned long long)kv_hash(p, n));
    hex(p, n);
    putchar('\n');
}

static void prefix(const unsigned char *buf, size_t off, size_t n)
{
    printf("prefix %016llx %zu %zu\n", (unsigned long long)kv_hash(buf + off, n), off, n);
}

int main(void)
{
    static unsigned char buf[BUF_LEN];
    printf("# kv_hash golden vectors, written by tests/golden/gen_kv_hash_vectors.c from the C\n"
           "# implementation server/kv_hash.c (see tests/golden/README.md).\n"
           "# key <hash> <key hex, - when empty>\n"
           "# buffer <hex>: the bytes the prefix lines refer to\n"
           "# prefix <hash> <offset> <length>: hash of buffer[offset .. offset+length)\n"
           "# seed 0x243f6a8885a308d3 (xorshift64 13/7/17, byte = state >> 24)\n");

    puts("# reference values of the definition (kv_hash.h)");
    key(NULL, 0);
    key("a", 1);
    key("foo", 3);
    key("key:12345", 9);

    puts("# every single byte, and every byte three times");
    for (unsigned b = 0; b < 256; b++) {
        unsigned char k[3] = {(unsigned char)b, (unsigned char)b, (unsigned char)b};
        key(k, 1);
        key(k, 3);
    }

    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = rnd8();
    }
    fputs("buffer ", stdout);
    hex(buf, sizeof buf);
    putchar('\n');
    puts("# every length 0..1100 at offset 0");
    for (size_t n = 0; n <= 1100; n++) {
        prefix(buf, 0, n);
    }
    puts("# lengths 2^k-1, 2^k, 2^k+1 (k = 0..12) at offsets 0..7 (word and vector "
         "boundaries of any unrolled or SIMD twin)");
    for (size_t off = 0; off < 8; off++) {
        for (unsigned k = 0; k <= 12; k++) {
            size_t p = (size_t)1 << k;
            prefix(buf, off, p - 1);
            prefix(buf, off, p);
            prefix(buf, off, p + 1);
        }
    }

    puts("# memcached-style text keys, and the longest key memcached allows (250 bytes)");
    for (unsigned i = 0; i < 1000; i++) {
        char k[32];
        int n = snprintf(k, sizeof k, "key:%u", i);
        key(k, (size_t)n);
    }
    {
        char k[250];
        memset(k, 'k', sizeof k);
        key(k, sizeof k);
    }

    puts("# 600 random binary keys, lengths 0..250");
    for (unsigned i = 0; i < 600; i++) {
        unsigned char k[251];
        size_t n = rnd8() % 251;
        for (size_t j = 0; j < n; j++) {
            k[j] = rnd8();
        }
        key(k, n);
    }
    return 0;
}
