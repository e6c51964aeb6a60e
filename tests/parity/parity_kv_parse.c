/*
 * parity_kv_parse.c: kvd's C parser (server/kv_proto.c) and its Rust twin (rust/kv-proto,
 * exported as kv_rs_parse) must describe every input identically, field for field.
 *
 * Inputs: hand-written edge cases, thousands of generated requests (every command with
 * well-formed, boundary and malformed arguments, every line ending, right and wrong
 * data blocks), random mutations of valid requests, pipelined pairs, and every file of
 * the fuzz corpus and of the fuzz regressions. Each input is parsed whole and split at
 * every byte position (the prefix a partial read would leave), under several limit
 * sets, from an exactly sized heap copy so out-of-bounds reads show under ASan.
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
#include "kv_proto.h"
#include "kv_rs.h"
#include "kv_graft.h"

static const kv_parse_limits LIMITS[] = {
    {1024u * 1024u, 2048u}, /* kvd's defaults */
    {100u, 64u},            /* small: data and lines hit their limits */
    {0u, 16u},              /* degenerate: no value fits, very short lines */
};
#define NLIMITS (sizeof LIMITS / sizeof LIMITS[0])

static unsigned long n_inputs, n_parses, n_diffs;

/* ------------------------------------------------------------------ comparing */

static void report(const char *buf, size_t len, const kv_parse_limits *lim, const kv_request *c,
                   const kv_request *r, int rs_status)
{
    char dc[1024], dr[1024];
    kv_request_describe(buf, len, c, dc, sizeof dc);
    if (rs_status == GRAFT_OK)
        kv_request_describe(buf, len, r, dr, sizeof dr);
    else
        snprintf(dr, sizeof dr, "kv_rs_parse failed with status %d", rs_status);
    fprintf(stderr,
            "parity: difference (limits %u/%u) on %zu bytes:\n  input: ", lim->item_size_max,
            lim->max_line, len);
    for (size_t i = 0; i < len && i < 300; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\')
            fputc(ch, stderr);
        else
            fprintf(stderr, "\\x%02x", ch);
    }
    fprintf(stderr, "%s\n  C:     %s\n  Rust:  %s\n", len > 300 ? "..." : "", dc, dr);
}

/* Parses one exact buffer with both parsers; returns 1 when they agree. */
static int check_exact(const char *buf, size_t len, const kv_parse_limits *lim, kv_request *c_out)
{
    kv_request c, r;
    memset(&c, 0xa5, sizeof c); /* every field must be written */
    memset(&r, 0x5a, sizeof r);
    kv_parse(buf, len, lim, &c);
    int st = kv_rs_parse(buf, len, lim, &r);
    n_parses++;
    if (st != GRAFT_OK || memcmp(&c, &r, sizeof c) != 0 || !kv_request_equal(&c, &r)) {
        if (n_diffs++ < 20)
            report(buf, len, lim, &c, &r, st);
        return 0;
    }
    if (c_out)
        *c_out = c;
    return 1;
}

/* The whole input and every prefix of it, each from its own exactly sized copy. */
static void check_input(const char *data, size_t len)
{
    n_inputs++;
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    for (size_t l = 0; l < NLIMITS; l++) {
        for (size_t cut = 0; cut <= len; cut++) {
            char *p = copy + (len - cut); /* prefix ends exactly at the allocation's end */
            memcpy(p, data, cut);
            kv_request c;
            if (!check_exact(p, cut, &LIMITS[l], &c))
                break;
            /* Pipelined: what follows a complete request parses the same way too. */
            if (cut == len && c.status == KV_PARSE_OK && c.consumed > 0 && c.consumed < len)
                check_exact(p + c.consumed, len - c.consumed, &LIMITS[l], NULL);
        }
    }
    free(copy);
}

static void check_str(const char *s)
{
    check_input(s, strlen(s));
}

/* ------------------------------------------------------------------ hand-written */

static const char *const HAND[] = {
    "get foo\r\n",
    "get foo\n",
    "get foo",
    "get foo\r",
    "get\r\n",
    "get \r\n",
    "get  foo  bar \r\n",
    "gets a b c d e f g h i j k l m n o p q r s t u v w x y z\r\n",
    "get foo\r\nget bar\r\n",
    "gat 10 foo bar\r\n",
    "gats -1 foo\r\n",
    "gat foo\r\n",
    "gat x foo\r\n",
    "gat 10\r\n",
    "set foo 0 0 3\r\nbar\r\n",
    "set foo 0 0 3\r\nbar",
    "set foo 0 0 3\r\nbarx\r\n",
    "set foo 0 0 3\r\nba\r\n\r\n",
    "set foo 0 0 3 noreply\r\nbar\r\n",
    "set foo 0 0 3\nbar\n",
    "set foo 0 0 3\nbar\r\n",
    "set foo 0 0 0\r\n\r\n",
    "set foo 1 2\r\n",
    "set foo 1 2 3 4 5\r\n",
    "set foo -1 0 3\r\nbar\r\n",
    "set foo 4294967295 0 1\r\nx\r\n",
    "set foo 4294967296 0 1\r\nx\r\n",
    "set foo 0 -1 1\r\nx\r\n",
    "set foo 0 abc 1\r\nx\r\n",
    "set foo 0 0 -1\r\n",
    "set foo 0 0 2147483647\r\n",
    "set foo 0 0 2147483648\r\n",
    "set foo 0 0 1048577\r\n",
    "set foo 0 0 1048576\r\n",
    "add foo 0 0 1\r\nx\r\n",
    "replace foo 0 0 1\r\nx\r\n",
    "append foo 0 0 1\r\nx\r\n",
    "prepend foo 0 0 1\r\nx\r\n",
    "cas foo 0 0 1 99\r\nx\r\n",
    "cas foo 0 0 1\r\nx\r\n",
    "cas foo 0 0 1 18446744073709551615\r\nx\r\n",
    "cas foo 0 0 1 18446744073709551616\r\nx\r\n",
    "cas foo 0 0 1 99 noreply\r\nx\r\n",
    "delete foo\r\n",
    "delete foo noreply\r\n",
    "delete foo 0\r\n",
    "delete foo 0 noreply\r\n",
    "delete foo 5\r\n",
    "delete\r\n",
    "delete a b c d\r\n",
    "incr foo 1\r\n",
    "incr foo -1\r\n",
    "incr foo 18446744073709551615\r\n",
    "incr foo 18446744073709551616\r\n",
    "decr foo x\r\n",
    "incr foo 1 noreply\r\n",
    "incr foo\r\n",
    "touch foo 10\r\n",
    "touch foo x\r\n",
    "touch foo 10 noreply\r\n",
    "flush_all\r\n",
    "flush_all 10\r\n",
    "flush_all noreply\r\n",
    "flush_all 10 noreply\r\n",
    "flush_all x\r\n",
    "flush_all -1\r\n",
    "stats\r\n",
    "stats items\r\n",
    "stats slabs detail\r\n",
    "stats reset\r\n",
    "version\r\n",
    "version x\r\n",
    "verbosity 1\r\n",
    "verbosity\r\n",
    "verbosity 1 noreply\r\n",
    "verbosity x\r\n",
    "quit\r\n",
    "quit now\r\n",
    "\r\n",
    "\n",
    "",
    " ",
    "   \r\n",
    "bogus\r\n",
    "GET foo\r\n",
    "get\tfoo\r\n",
    " get foo\r\n",
    "get foo \r\n",
    "get foo\r\r\n",
    "get foo\n\r\n",
    "get fo\0o\r\n",
    "set foo 0 0 5\r\nab\r\nc\r\n",
    "set foo  0  0  1\r\nx\r\n",
    "set foo 00 00 01\r\nx\r\n",
    "set foo 0 0 +1\r\nx\r\n",
    "set foo 0 0 1 norepl\r\nx\r\n",
    "set foo 0 0 1 noreply x\r\nx\r\n",
    "incr foo 0x10\r\n",
    "incr foo 00000000000000000000001\r\n",
    "touch foo -2147483649\r\n",
    "touch foo 9223372036854775807\r\n",
    "touch foo 9223372036854775808\r\n",
    /* meta commands */
    "mn\r\n",
    "mn x\r\n",
    "mx foo\r\n",
    "mg\r\n",
    "mg foo\r\n",
    "mg foo v k s t c f l h u q O123 Pp Ll\r\n",
    "mg foo v v\r\n",
    "mg foo x\r\n",
    "mg foo E5\r\n",
    "mg foo \xffv\r\n",
    "mg foo Tx\r\n",
    "mg foo N\r\n",
    "mg foo Dx Jx\r\n",
    "mg foo Jx Dx\r\n",
    "mg foo Fx\r\n",
    "mg foo Nx Fx\r\n",
    "mg foo Fx Nx\r\n",
    "mg foo Tx v v\r\n",
    "mg foo MEE\r\n",
    "mg Zm9v b k v\r\n",
    "mg Zm9v= b\r\n",
    "mg Zm9 b\r\n",
    "mg Zg== b\r\n",
    "mg Z=== b\r\n",
    "mg ==== b\r\n",
    "mg Zm9v!! b\r\n",
    "mg Zm9v b b\r\n",
    "mg foo N30 T-1 R10 C5 D7 F9 J1 M+\r\n",
    "mg foo Oaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
    "mg foo Oaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
    "mg foo v v v v v v v v v v v v v v v v v v\r\n",
    "mg foo v s t c f l h k u q P L O1 D1 J1 M+ R1\r\n",
    "ms foo\r\n",
    "ms foo 2\r\nhi\r\n",
    "ms foo 2 T0 F5 c k O1 q I C7 MA\r\nhi\r\n",
    "ms foo 2\r\nhiX\r\n",
    "ms foo 2 q\r\nhi\n",
    "ms foo x\r\n",
    "ms foo -1\r\n",
    "ms foo 2147483646\r\n",
    "ms foo 2147483645\r\n",
    "ms foo 2 x\r\nhi\r\n",
    "ms foo 2 MX\r\nhi\r\n",
    "ms foo 2 Ms\r\nhi\r\n",
    "ms foo 2 M\r\nhi\r\n",
    "ms foo 2 Oaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa MX\r\nhi\r\n",
    "ms foo 2 Oaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nhi\r\n",
    "ms foo 2000000\r\n",
    "ms foo 2000000 F1 q\r\n",
    "ms Zm9v 2 b\r\nhi\r\n",
    "ms Zm9v= 2 b\r\nhi\r\n",
    "ms foo 1 v v v v v v v v v v v v v v v v v\r\nx\r\n",
    "md foo\r\n",
    "md foo q I T30 C5 k O1\r\n",
    "md foo x\r\n",
    "md foo Tx\r\n",
    "md foo Oaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
    "ma foo\r\n",
    "ma foo N0 J10 D5 MD v t c T30 q k O1\r\n",
    "ma foo MX\r\n",
    "ma foo Dx\r\n",
    "ma foo Jx\r\n",
    "ma foo M-\r\n",
    "ma foo MI Oaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
    "me\r\n",
    "me foo\r\n",
    "me Zm9v b\r\n",
    "me Zm9v= b\r\n",
    "me Zm9v= v b\r\n",
    "me Zm9v= bb\r\n",
};

/* ------------------------------------------------------------------ generated */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? (uint32_t)(rng_state % n) : 0;
}

static const char *const CMDS[] = {
    "get",       "gets",     "gat",     "gats",      "set",  "add",      "replace",
    "append",    "prepend",  "cas",     "delete",    "incr", "decr",     "touch",
    "flush_all", "stats",    "version", "verbosity", "quit", "GET",      "gett",
    "bget",      "shutdown", "mg",      "sett",      "s",    "flush_al", "",
};
#define NCMDS (sizeof CMDS / sizeof CMDS[0])

static const char *const NUMS[] = {
    "0",
    "1",
    "3",
    "42",
    "-1",
    "-0",
    "+5",
    "1a",
    "a1",
    "0x10",
    "4294967295",
    "4294967296",
    "2147483647",
    "2147483648",
    "-2147483648",
    "-2147483649",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "00000000000000000000000000001",
    "1048576",
    "1048577",
    "99",
    "100",
    "101",
    "1.5",
    "",
};
#define NNUMS (sizeof NUMS / sizeof NUMS[0])

static void gen_key(char *out, size_t cap)
{
    static const size_t lens[] = {1, 3, 8, 249, 250, 251, 300};
    size_t n = lens[rnd(7)];
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)('a' + rnd(26));
    if (rnd(10) == 0 && n > 1)
        out[rnd((uint32_t)n)] = (char)(rnd(2) ? 0x01 : 0x7f);
    out[n] = '\0';
}

/* Appends a formatted string to buf at *len (bounded). */
static void add(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

/* One generated request: command, 0..7 arguments (keys or numbers), maybe noreply,
 * a line ending, and for storage commands a data block of right or wrong length. */
static size_t gen_request(char *buf, size_t cap, const char *cmd)
{
    size_t len = 0;
    const char *sep = rnd(20) == 0 ? "  " : " ";
    if (rnd(40) == 0)
        add(buf, cap, &len, " ");
    add(buf, cap, &len, "%s", cmd);
    unsigned nargs = rnd(8);
    long declared = -1;
    for (unsigned i = 0; i < nargs; i++) {
        char key[320];
        if ((i == 0 && rnd(4) != 0) || (strncmp(cmd, "get", 3) == 0 && rnd(2))) {
            gen_key(key, sizeof key);
            add(buf, cap, &len, "%s%s", sep, key);
        } else {
            const char *num = NUMS[rnd(NNUMS)];
            if (rnd(3) == 0)
                num = NUMS[rnd(4)];
            add(buf, cap, &len, "%s%s", sep, num);
            if (i == 3)
                declared = strtol(num, NULL, 10);
        }
    }
    if (rnd(6) == 0)
        add(buf, cap, &len, " noreply");
    static const char *const ends[] = {"\r\n", "\r\n", "\r\n", "\n", "\r", "", " \r\n"};
    add(buf, cap, &len, "%s", ends[rnd(7)]);
    if (declared >= 0 && declared < 400) {
        long n = declared;
        switch (rnd(6)) {
        case 0:
            n = declared - 1;
            break;
        case 1:
            n = declared + 1;
            break;
        default:
            break;
        }
        for (long i = 0; i < n && len + 1 < cap; i++)
            buf[len++] = (char)('A' + rnd(26));
        static const char *const dend[] = {"\r\n", "\r\n", "\r\n", "\n",
                                           "\r",   "",     "xx",   "\r\nget k\r\n"};
        add(buf, cap, &len, "%s", dend[rnd(8)]);
    }
    return len;
}

/* One generated meta request: mg/ms/md/ma/mn/me (or a near miss), a key (maybe base64),
 * for ms a datalen, 0..21 flags from memcached's set (with good and bad numbers,
 * duplicates, long opaques, unknown flags), a line ending and for ms a data block. */
static size_t gen_meta(char *buf, size_t cap)
{
    static const char *const mcmds[] = {"mg", "ms", "md", "ma", "mn", "me", "mx", "m", "mgg"};
    static const char flags[] = "bcfhklOqstuvNRTPLFCIMJDEx1";
    static const char *const keys[] = {"foo", "Zm9v", "Zm9v=", "Zg==", "Z===", "!!!!", "a b"};
    static const char *const modes[] = {"E", "A", "P", "R", "S", "I", "+", "D", "-", "X", "", "EE"};
    size_t len = 0;
    const char *cmd = mcmds[rnd(sizeof mcmds / sizeof mcmds[0])];
    add(buf, cap, &len, "%s", cmd);
    if (rnd(12) != 0) {
        if (rnd(3) == 0) {
            char key[320];
            gen_key(key, sizeof key);
            add(buf, cap, &len, " %s", key);
        } else {
            add(buf, cap, &len, " %s", keys[rnd(sizeof keys / sizeof keys[0])]);
        }
    }
    long declared = -1;
    if (strcmp(cmd, "ms") == 0 && rnd(10) != 0) {
        const char *num = rnd(2) ? NUMS[rnd(4)] : NUMS[rnd(NNUMS)];
        add(buf, cap, &len, " %s", num);
        declared = strtol(num, NULL, 10);
    }
    unsigned nflags = rnd(4) == 0 ? rnd(22) : rnd(6);
    for (unsigned i = 0; i < nflags; i++) {
        char f = flags[rnd(sizeof flags - 1)];
        switch (f) {
        case 'N':
        case 'R':
        case 'T':
        case 'F':
        case 'C':
        case 'J':
        case 'D':
        case 'E':
            add(buf, cap, &len, " %c%s", f, rnd(3) ? NUMS[rnd(4)] : NUMS[rnd(NNUMS)]);
            break;
        case 'M':
            add(buf, cap, &len, " M%s", modes[rnd(sizeof modes / sizeof modes[0])]);
            break;
        case 'O': {
            unsigned n = rnd(3) == 0 ? 30 + rnd(5) : rnd(8);
            add(buf, cap, &len, " O");
            for (unsigned k = 0; k < n; k++)
                add(buf, cap, &len, "%c", 'a' + (int)rnd(26));
            break;
        }
        default:
            add(buf, cap, &len, " %c", f);
            break;
        }
    }
    static const char *const ends[] = {"\r\n", "\r\n", "\r\n", "\n", "\r", "", " \r\n"};
    add(buf, cap, &len, "%s", ends[rnd(7)]);
    if (declared >= 0 && declared < 400) {
        long n = declared + (rnd(6) == 0 ? 1 : 0) - (rnd(6) == 0 ? 1 : 0);
        for (long i = 0; i < n && len + 1 < cap; i++)
            buf[len++] = (char)('A' + rnd(26));
        static const char *const dend[] = {"\r\n", "\r\n", "\r\n", "\n", "", "xx", "\r\nmn\r\n"};
        add(buf, cap, &len, "%s", dend[rnd(7)]);
    }
    return len;
}

/* Valid requests, then bytes flipped, inserted or deleted at random places. */
static const char *const VALID[] = {
    "get foo\r\n",
    "gets foo bar baz\r\n",
    "gat 100 foo\r\n",
    "set foo 5 100 3\r\nbar\r\n",
    "cas foo 0 0 2 7\r\nhi\r\n",
    "delete foo noreply\r\n",
    "incr foo 5\r\n",
    "touch foo 1\r\n",
    "flush_all 0\r\n",
    "stats slabs\r\n",
    "verbosity 1\r\n",
    "append k 1 2 4 noreply\r\nabcd\r\n",
    "mg foo v k t c O1 q\r\n",
    "ms Zm9v 3 b F1 T0 MA C5 I\r\nabc\r\n",
    "md foo I T10 q\r\n",
    "ma foo N0 J1 D2 MD v\r\n",
    "me foo b\r\n",
    "mn\r\n",
};

static size_t mutate(char *buf, size_t cap)
{
    const char *v = VALID[rnd(sizeof VALID / sizeof VALID[0])];
    size_t len = strlen(v);
    memcpy(buf, v, len);
    unsigned nmut = 1 + rnd(3);
    for (unsigned m = 0; m < nmut; m++) {
        size_t at = len ? rnd((uint32_t)len) : 0;
        static const char interesting[] = {' ', '\r', '\n', '0',    '9',
                                           '-', 'a',  '\0', '\x7f', '\xff'};
        char ch = rnd(2) ? interesting[rnd(sizeof interesting)] : (char)rnd(256);
        switch (rnd(3)) {
        case 0:
            if (len)
                buf[at] = ch;
            break;
        case 1:
            if (len + 1 < cap) {
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = ch;
                len++;
            }
            break;
        default:
            if (len) {
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
            }
            break;
        }
    }
    return len;
}

/* ------------------------------------------------------------------ files */

static void check_file(const char *data, size_t len)
{
    /* Large files are checked whole and at a sample of cuts only. */
    if (len > 2048) {
        for (size_t l = 0; l < NLIMITS; l++)
            for (size_t cut = 0; cut <= len; cut += 1 + len / 64)
                check_exact(data, cut, &LIMITS[l], NULL);
        n_inputs++;
    } else {
        check_input(data, len);
    }
}

/* ------------------------------------------------------------------ tests */

static void test_hand_written(void **state)
{
    (void)state;
    unsigned long diffs = n_diffs;
    for (size_t i = 0; i < sizeof HAND / sizeof HAND[0]; i++)
        check_str(HAND[i]);
    /* Embedded NUL and a line exactly at, below and above each max_line. */
    check_input("get a\0b\r\n", 9);
    static char line[4200];
    for (size_t n = 0; n < NLIMITS; n++) {
        for (int d = -2; d <= 2; d++) {
            long total = (long)LIMITS[n].max_line + d;
            if (total < 6 || total + 1 >= (long)sizeof line)
                continue;
            memcpy(line, "get ", 4);
            memset(line + 4, 'k', (size_t)total - 6);
            memcpy(line + total - 2, "\r\n", 2);
            check_input(line, (size_t)total);
        }
    }
    assert_int_equal(n_diffs, diffs);
}

static void test_generated(void **state)
{
    (void)state;
    static char buf[2048];
    unsigned long before = n_inputs, diffs = n_diffs;
    for (size_t c = 0; c < NCMDS; c++)
        for (unsigned i = 0; i < 150; i++)
            check_input(buf, gen_request(buf, sizeof buf, CMDS[c]));
    unsigned long before_meta = n_inputs;
    for (unsigned i = 0; i < 3000; i++)
        check_input(buf, gen_meta(buf, sizeof buf));
    fprintf(stderr, "parity kv.parse: %lu generated meta inputs\n", n_inputs - before_meta);
    for (unsigned i = 0; i < 3000; i++)
        check_input(buf, mutate(buf, sizeof buf));
    /* Pipelines of two or three generated requests. */
    for (unsigned i = 0; i < 300; i++) {
        size_t len = 0;
        for (unsigned k = 0; k < 2 + rnd(2); k++)
            len += gen_request(buf + len, sizeof buf - len, CMDS[rnd(20)]);
        check_input(buf, len);
    }
    fprintf(stderr, "parity kv.parse: %lu generated inputs\n", n_inputs - before);
    assert_true(n_inputs - before >= 10000);
    assert_int_equal(n_diffs, diffs);
}

static void test_fuzz_corpus_and_regressions(void **state)
{
    (void)state;
    unsigned long diffs = n_diffs;
    unsigned n = parity_each_file(PARITY_SOURCE_DIR "/fuzz/corpus/parse", check_file);
    unsigned r = parity_each_file(PARITY_SOURCE_DIR "/fuzz/regressions/parse", check_file);
    fprintf(stderr, "parity kv.parse: %u corpus files, %u regression files\n", n, r);
    assert_true(n > 0);
    assert_int_equal(n_diffs, diffs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_written),
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_fuzz_corpus_and_regressions),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fprintf(stderr, "parity kv.parse: %lu inputs, %lu parses per side, %lu differences\n", n_inputs,
            n_parses, n_diffs);
    return rc;
}
