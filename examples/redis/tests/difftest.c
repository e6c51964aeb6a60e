/* difftest.c: Redis's C stringmatchlen (extracted from util.c by build.sh) against the
 * Rust twin redis_rs_stringmatchlen, on random cases and on the C's read past the end.
 *
 *   redis-difftest [CASES [SEED]]   random cases (each with nocase 0 and 1); exit 1 on
 *                                   any difference, printing the first ones
 *   redis-difftest --overread       the latent C bug: the same pattern bytes answer
 *                                   differently depending on the byte *after* the
 *                                   pattern; exit 0 when the C still has it and the
 *                                   twin does not
 *
 * Patterns sit in a buffer followed by a NUL, as every pattern Redis passes is an sds
 * string: with that byte the C's answers are what it means, and the twin must agree. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_match_rs.h"

int stringmatchlen_legacy(const char *p, int plen, const char *s, int slen, int nocase);

static uint64_t rng_state;
static uint64_t rng(void)
{
    /* xorshift64*: reproducible from the printed seed */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

/* Bytes that mean something to the matcher, letters in both cases, the ends of a range,
 * signed-char territory (0xe9, 0xff), and NUL. */
static const char alphabet[] = "*?[]^-\\\\aAbBzZ09\xe9\xff";
#define ALPHABET_LEN (sizeof alphabet - 1 + 1) /* + the NUL byte */

static void fill(char *buf, int len, int redis_fuzz)
{
    for (int i = 0; i < len; i++) {
        uint64_t r = rng();
        /* Redis's own DEBUG STRINGMATCH-TEST draws bytes 0..127 uniformly. */
        buf[i] = redis_fuzz ? (char)(r % 128) : alphabet[r % ALPHABET_LEN];
    }
}

static void show(const char *what, const char *b, int len)
{
    printf("%s \"", what);
    for (int i = 0; i < len; i++) {
        unsigned char c = (unsigned char)b[i];
        if (c >= 32 && c < 127 && c != '"' && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    printf("\"");
}

static int rust(const char *p, int plen, const char *s, int slen, int nocase)
{
    int out = -1;
    int rc = redis_rs_stringmatchlen(p, plen, s, slen, nocase, &out);
    if (rc != 0) {
        printf("redis_rs_stringmatchlen failed with status %d\n", rc);
        exit(2);
    }
    return out;
}

static int overread(void)
{
    /* Every pattern of 1..3 bytes over a small alphabet, against every string of 0..2
     * bytes over it, with the byte after the pattern a NUL or a special byte. */
    static const char a[] = "E*?[]\\^-";
    const int n = (int)sizeof a - 1;
    static const char next[] = {'*', '[', ']', '^', '\\', '-'};
    long cases = 0, differ = 0;
    int bad_twin = 0;
    static char pat[64], str[4]; /* room: the C reads past plen */
    for (int plen = 1; plen <= 3; plen++) {
        int total = 1;
        for (int i = 0; i < plen; i++)
            total *= n;
        for (int pi = 0; pi < total; pi++) {
            for (int i = 0, v = pi; i < plen; i++, v /= n)
                pat[i] = a[v % n];
            for (int slen = 0; slen <= 2; slen++) {
                int stotal = 1;
                for (int i = 0; i < slen; i++)
                    stotal *= n;
                for (int si = 0; si < stotal; si++) {
                    for (int i = 0, v = si; i < slen; i++, v /= n)
                        str[i] = a[v % n];
                    pat[plen] = '\0';
                    int c_nul = stringmatchlen_legacy(pat, plen, str, slen, 0);
                    int r = rust(pat, plen, str, slen, 0);
                    if (r != c_nul)
                        bad_twin = 1;
                    for (size_t k = 0; k < sizeof next; k++) {
                        /* then a ']' and a NUL: with its length gone negative the C
                         * scans a '[' set for a ']' through memory (it would crash) */
                        pat[plen] = next[k];
                        pat[plen + 1] = ']';
                        pat[plen + 2] = '\0';
                        int c = stringmatchlen_legacy(pat, plen, str, slen, 0);
                        int r2 = rust(pat, plen, str, slen, 0);
                        cases++;
                        if (r2 != r)
                            bad_twin = 1;
                        if (c != c_nul) {
                            if (differ < 5) {
                                show("  C reads past the end: pattern", pat, plen);
                                printf(" + next byte '%c',", next[k]);
                                show(" string", str, slen);
                                printf(": C %d (with a NUL after: %d), Rust %d\n", c, c_nul, r2);
                            }
                            differ++;
                        }
                    }
                }
            }
        }
    }
    /* The case shadow mode found in Redis (DEBUG STRINGMATCH-TEST). */
    const char buf[] = "E*";
    int c = stringmatchlen_legacy(buf, 1, "E", 1, 0);
    int r = rust(buf, 1, "E", 1, 0);
    printf("overread: pattern \"E\" (next byte '*') vs \"E\": C %d, Rust %d\n", c, r);
    printf("overread: %ld of %ld (pattern, string, next byte) cases change the C's answer; "
           "the twin's never changes: %s\n",
           differ, cases, bad_twin ? "NO" : "yes");
    return (c == 0 && r == 1 && differ > 0 && !bad_twin) ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--overread"))
        return overread();
    long cases = argc > 1 ? atol(argv[1]) : 2000000;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x9e3779b97f4a7c15ull;
    char pat[40], str[40];
    long differ = 0, matches = 0;
    rng_state = seed ? seed : 1;
    /* The nesting limit (1000 stars deep: no match) on both sides of it. */
    for (int n = 996; n <= 1004; n++) {
        static char deep_p[2 * 1100 + 2], deep_s[1100 + 2];
        for (int tail = 0; tail < 2; tail++) {
            int pl = 0, sl = 0;
            for (int i = 0; i < n; i++)
                deep_p[pl++] = '*', deep_p[pl++] = 'a';
            for (int i = 0; i < n; i++)
                deep_s[sl++] = 'a';
            if (tail)
                deep_p[pl++] = '*', deep_s[sl++] = 'b';
            deep_p[pl] = '\0';
            int c = stringmatchlen_legacy(deep_p, pl, deep_s, sl, 0);
            int r = rust(deep_p, pl, deep_s, sl, 0);
            if (c != r) {
                printf("differ: %d stars deep (tail %d): C %d, Rust %d\n", n, tail, c, r);
                differ++;
            }
        }
    }
    for (long i = 0; i < cases; i++) {
        int redis_fuzz = (i & 7) == 7; /* 1 in 8 drawn as Redis's own fuzzer does */
        int plen = (int)(rng() % (redis_fuzz ? 32 : 12));
        int slen = (int)(rng() % (redis_fuzz ? 32 : 12));
        fill(pat, plen, redis_fuzz);
        pat[plen] = '\0';
        fill(str, slen, redis_fuzz);
        for (int nocase = 0; nocase <= 1; nocase++) {
            int c = stringmatchlen_legacy(pat, plen, str, slen, nocase);
            int r = rust(pat, plen, str, slen, nocase);
            matches += c;
            if (c != r) {
                if (differ < 10) {
                    show("differ: pattern", pat, plen);
                    show(" string", str, slen);
                    printf(" nocase %d: C %d, Rust %d\n", nocase, c, r);
                }
                differ++;
            }
        }
    }
    printf("difftest: %ld cases x 2 (nocase 0/1), seed 0x%llx: %ld matches, %ld differences\n",
           cases, (unsigned long long)seed, matches, differ);
    return differ ? 1 : 0;
}
