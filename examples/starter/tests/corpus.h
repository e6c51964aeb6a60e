/* corpus.h: the inputs of the starter's parity tests: hand-picked edge cases, then
 * deterministic pseudo-random buffers over an alphabet dense in separators. */
#ifndef STARTER_CORPUS_H
#define STARTER_CORPUS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CORPUS_RANDOM 2000
#define CORPUS_MAX_LEN 512

static const char *const corpus_fixed[] = {
    "",
    " ",
    "\n",
    "a",
    "hello world\n",
    "  two  spaces  ",
    "tab\tsep\tvalues\n",
    "\v\f\r\n",
    "no-newline-at-end",
    "\xff\xfe high bytes \x80",
    "a\0b c",
    "\n\n\n",
};
#define CORPUS_FIXED (sizeof corpus_fixed / sizeof corpus_fixed[0])

/* Input i of the corpus (0 <= i < CORPUS_FIXED + CORPUS_RANDOM) into buf; returns len. */
static size_t corpus_input(size_t i, char buf[CORPUS_MAX_LEN])
{
    if (i < CORPUS_FIXED) {
        size_t n = strlen(corpus_fixed[i]);
        if (i == 10) /* "a\0b c": an interior NUL is an ordinary byte */
            n = 5;
        memcpy(buf, corpus_fixed[i], n);
        return n;
    }
    static const char alphabet[] = "ab \n\t\v\f\rxyz\x80\xff-";
    uint64_t s = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
    s ^= s >> 29;
    size_t len = (size_t)(s % CORPUS_MAX_LEN);
    for (size_t k = 0; k < len; k++) {
        s ^= s << 13; /* xorshift64 */
        s ^= s >> 7;
        s ^= s << 17;
        buf[k] = alphabet[s % (sizeof alphabet - 1)];
    }
    return len;
}

#endif
