/*
 * fuzz_kv_hash.c: golden and property libFuzzer harness of kvd's key hash. kv.hash is
 * retired (server/kv_hash.c deleted), so there is no C twin left to compare against;
 * instead:
 *   - at start-up, every vector the C wrote before it went (tests/golden/kv_hash.vectors)
 *     must come out of kv_rs_hash_key: the golden check, under the fuzz build's
 *     sanitizers and Rust debug assertions;
 *   - on every input, properties that hold for the definition (FNV-1a 64 then fmix64):
 *     the two Rust exports agree; the hash equals this file's step-by-step
 *     transcription of the definition in kv-hash's documentation (a test oracle, not
 *     kvd code: it is compiled into this harness only); and flipping any one byte of
 *     the key changes the hash (each FNV step and fmix64 are bijections, so two keys of
 *     one length that differ in one byte can never collide).
 * Aborts on the first violation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graft/base.h"
#include "kv_rs.h"

static uint64_t oracle(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static void die(const char *what, size_t size, uint64_t a, uint64_t b)
{
    fprintf(stderr, "fuzz kv.hash: %zu-byte key: %s (0x%016llx vs 0x%016llx)\n", size, what,
            (unsigned long long)a, (unsigned long long)b);
    abort();
}

static unsigned hexval(char c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

static size_t unhex(const char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        out[i / 2] = (uint8_t)(hexval(s[i]) << 4 | hexval(s[i + 1]));
    }
    return n / 2;
}

/* The golden vectors (format: tests/golden/README.md). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FILE *f = fopen(KV_GOLDEN_VECTORS, "r");
    if (f == NULL) {
        perror("fuzz kv.hash: " KV_GOLDEN_VECTORS);
        abort();
    }
    static char line[16384];
    static uint8_t buf[8192], key[8192];
    size_t blen = 0, checked = 0;
    while (fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n"), off, len;
        unsigned long long want;
        line[n] = '\0';
        if (strncmp(line, "buffer ", 7) == 0) {
            blen = unhex(line + 7, n - 7, buf);
        } else if (sscanf(line, "prefix %16llx %zu %zu", &want, &off, &len) == 3 &&
                   off + len <= blen) {
            uint64_t got = kv_rs_hash_key(buf + off, len);
            if (got != want)
                die("golden prefix vector differs", len, want, got);
            checked++;
        } else if (strncmp(line, "key ", 4) == 0 && sscanf(line + 4, "%16llx", &want) == 1) {
            const char *hex = line + 21;
            len = strcmp(hex, "-") == 0 ? 0 : unhex(hex, strlen(hex), key);
            uint64_t got = kv_rs_hash_key(key, len);
            if (got != want)
                die("golden key vector differs", len, want, got);
            checked++;
        }
    }
    fclose(f);
    if (checked < 3530)
        die("too few golden vectors read", checked, 3530, checked);
    fprintf(stderr, "fuzz kv.hash: %zu golden vectors match\n", checked);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t h = kv_rs_hash_key(data, size), r = 0;
    int st = kv_rs_hash(data, size, &r);
    if (st != GRAFT_OK || r != h)
        die("kv_rs_hash and kv_rs_hash_key disagree", size, h, r);
    uint64_t o = oracle(data, size);
    if (o != h)
        die("differs from the definition", size, o, h);
    if (size > 0 && size <= 4096) {
        static uint8_t copy[4096];
        memcpy(copy, data, size);
        size_t at = data[0] % size;
        copy[at] ^= (uint8_t)(1u << (data[size - 1] % 8));
        uint64_t flipped = kv_rs_hash_key(copy, size);
        if (flipped == h)
            die("a one-byte change kept the hash", size, h, flipped);
    }
    return 0;
}
