/*
 * kv_proto.c: kvd's request parser for the memcached classic text protocol.
 *
 * It reproduces how memcached 1.6.18 (proto_text.c) reads a request, including its
 * quirks, because clients and the conformance tests compare replies byte for byte:
 *   - a line ends at '\n'; one '\r' before it is dropped unless the line is just "\r\n";
 *     the line is cut at its first NUL byte (memcached works on C strings);
 *   - tokens are separated by ' ' only (tabs and other control bytes belong to tokens);
 *     at most 23 tokens are seen by the command dispatch, get-family commands read
 *     every key;
 *   - numbers are read as strtol/strtoul/strtoull read them (leading whitespace, a sign,
 *     truncation of 64-bit longs to 32 bits) and must be followed by the end of the
 *     token or a whitespace byte;
 *   - a line without '\n' longer than max_line closes the connection unless it starts
 *     like a multi-get;
 *   - a value that would not fit an item of item_size_max bytes is refused and its bytes
 *     swallowed.
 * Pure: no I/O, no allocation, no global state; it never reads outside buf[0..len).
 */
#include "kv_proto.h"

#include <limits.h>
#include <string.h>

/* Longest key memcached accepts (KEY_MAX_LENGTH). */
#define KV_KEY_MAX 250
/* memcached's tokenizer array size: 23 tokens plus the terminal one. */
#define KV_MAX_TOKENS 24
/* Bytes memcached adds to key and value when sizing an item: a 48-byte item header, the
 * 8-byte CAS, the key's NUL and the value's CRLF (59), plus 4 when client flags are
 * non-zero. Measured against memcached 1.6.18 at -I 1m. */
#define KV_ITEM_OVERHEAD 59u
#define KV_ITEM_FLAGS_OVERHEAD 4u
/* The parser looks at no more than this many bytes (keeps every offset in 31 bits). */
#define KV_PARSE_MAX_BUF (1u << 30)

typedef struct kv__tok {
    uint32_t off;
    uint32_t len;
} kv__tok;

typedef struct kv__line {
    const char *buf;
    uint32_t end;   /* effective end of the line (after CR strip and NUL cut) */
    size_t ntokens; /* memcached's count: tokens seen + 1 terminal */
    kv__tok tok[KV_MAX_TOKENS];
} kv__line;

static int kv__isspace(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Splits buf[0..end) on ' ' exactly as memcached's tokenize_command does with
 * max_tokens = 24: at most 23 tokens, then the terminal one. */
static void kv__tokenize(kv__line *l)
{
    const char *b = l->buf;
    uint32_t i = 0;
    size_t n = 0;
    while (i < l->end) {
        while (i < l->end && b[i] == ' ') {
            i++;
        }
        if (i >= l->end) {
            break;
        }
        uint32_t s = i;
        while (i < l->end && b[i] != ' ') {
            i++;
        }
        l->tok[n].off = s;
        l->tok[n].len = i - s;
        n++;
        if (n == KV_MAX_TOKENS - 1) {
            break;
        }
    }
    l->ntokens = n + 1;
}

static int kv__tok_is(const kv__line *l, size_t i, const char *word)
{
    size_t wl = strlen(word);
    return l->tok[i].len == wl && memcmp(l->buf + l->tok[i].off, word, wl) == 0;
}

/* strtoull/strtoul (64-bit long) over one token, with memcached's safe_strtoull rules:
 * digits required, no ERANGE, the byte after the digits ends the token or is whitespace,
 * and a result that is negative as a signed number is refused when the token holds '-'. */
static int kv__safe_u64(const char *s, uint32_t n, uint64_t *out)
{
    uint32_t i = 0;
    int neg = 0;
    while (i < n && kv__isspace((unsigned char)s[i])) {
        i++;
    }
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    uint32_t digits = i;
    uint64_t v = 0;
    int overflow = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            overflow = 1;
        } else {
            v = v * 10 + d;
        }
        i++;
    }
    if (i == digits || overflow) {
        return 0;
    }
    if (i < n && !kv__isspace((unsigned char)s[i])) {
        return 0;
    }
    if (neg) {
        v = (uint64_t)0 - v;
    }
    if ((int64_t)v < 0 && memchr(s, '-', n) != NULL) {
        return 0;
    }
    *out = v;
    return 1;
}

/* memcached's safe_strtoul: strtoul is 64-bit here, the result is truncated to 32 bits. */
static int kv__safe_u32(const char *s, uint32_t n, uint32_t *out)
{
    uint64_t v;
    if (!kv__safe_u64(s, n, &v)) {
        return 0;
    }
    *out = (uint32_t)v;
    return 1;
}

/* memcached's safe_strtol: strtol (64-bit long, ERANGE outside it), then truncated to
 * int32_t without a range check. */
static int kv__safe_i32(const char *s, uint32_t n, int32_t *out)
{
    uint32_t i = 0;
    int neg = 0;
    while (i < n && kv__isspace((unsigned char)s[i])) {
        i++;
    }
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    uint32_t digits = i;
    uint64_t mag = 0;
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    int overflow = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        unsigned d = (unsigned)(s[i] - '0');
        if (mag > (limit - d) / 10) {
            overflow = 1;
        } else {
            mag = mag * 10 + d;
        }
        i++;
    }
    if (i == digits || overflow) {
        return 0;
    }
    if (i < n && !kv__isspace((unsigned char)s[i])) {
        return 0;
    }
    uint64_t v = neg ? (uint64_t)0 - mag : mag;
    *out = (int32_t)(uint32_t)v;
    return 1;
}

static int kv__num_u64(const kv__line *l, size_t i, uint64_t *out)
{
    return kv__safe_u64(l->buf + l->tok[i].off, l->tok[i].len, out);
}

static int kv__num_u32(const kv__line *l, size_t i, uint32_t *out)
{
    return kv__safe_u32(l->buf + l->tok[i].off, l->tok[i].len, out);
}

static int kv__num_i32(const kv__line *l, size_t i, int32_t *out)
{
    return kv__safe_i32(l->buf + l->tok[i].off, l->tok[i].len, out);
}

/* memcached's set_noreply_maybe: the last token seen is exactly "noreply". */
static uint8_t kv__noreply(const kv__line *l)
{
    return l->ntokens >= 2 && kv__tok_is(l, l->ntokens - 2, "noreply");
}

static void kv__set_key(kv_request *out, const kv__line *l, size_t i)
{
    out->nkeys = 1;
    out->key_off = l->tok[i].off;
    out->key_len = l->tok[i].len;
}

static void kv__fail(kv_request *out, uint8_t cmd, uint8_t err)
{
    out->status = KV_PARSE_ERROR;
    out->cmd = cmd;
    out->error = err;
}

/* Key list of a get-family command: every token from position `from` of the capped
 * token list to the end of the line (memcached re-tokenizes past the 23rd token). */
static void kv__parse_keys(const kv__line *l, size_t from, kv_request *out)
{
    const char *b = l->buf;
    if (from >= l->ntokens - 1) {
        return; /* no keys: "gat 10" answers just END */
    }
    uint32_t i = l->tok[from].off;
    uint32_t first = 0, last_end = 0, n = 0;
    int too_long = 0;
    while (i < l->end) {
        while (i < l->end && b[i] == ' ') {
            i++;
        }
        if (i >= l->end) {
            break;
        }
        uint32_t s = i;
        while (i < l->end && b[i] != ' ') {
            i++;
        }
        if (i - s > KV_KEY_MAX) {
            too_long = 1;
            break;
        }
        if (n == 0) {
            first = s;
        }
        last_end = i;
        n++;
    }
    if (too_long) {
        kv__fail(out, out->cmd, KV_ERR_BAD_FORMAT);
        out->exptime = 0;
        return;
    }
    out->nkeys = n;
    out->key_off = n ? first : 0;
    out->key_len = n ? last_end - first : 0;
}

static void kv__parse_get(const kv__line *l, uint8_t cmd, int touch, kv_request *out)
{
    out->cmd = cmd;
    size_t from = 1;
    if (touch) {
        int32_t e;
        if (!kv__num_i32(l, 1, &e)) {
            kv__fail(out, cmd, KV_ERR_INVALID_EXPTIME);
            return;
        }
        out->exptime = e;
        from = 2;
    }
    kv__parse_keys(l, from, out);
}

static void kv__parse_update(const kv__line *l, uint8_t cmd, int with_cas, size_t len,
                             const kv_parse_limits *limits, kv_request *out)
{
    uint32_t flags;
    int32_t exptime, vlen;
    uint64_t cas = 0;

    out->noreply = kv__noreply(l);
    if (l->tok[1].len > KV_KEY_MAX) {
        kv__fail(out, cmd, KV_ERR_BAD_FORMAT);
        return;
    }
    if (!kv__num_u32(l, 2, &flags) || !kv__num_i32(l, 3, &exptime) || !kv__num_i32(l, 4, &vlen)) {
        kv__fail(out, cmd, KV_ERR_BAD_FORMAT);
        return;
    }
    if (with_cas && !kv__num_u64(l, 5, &cas)) {
        kv__fail(out, cmd, KV_ERR_BAD_FORMAT);
        return;
    }
    if (vlen < 0 || vlen > INT_MAX - 2) {
        kv__fail(out, cmd, KV_ERR_BAD_FORMAT);
        return;
    }
    uint64_t item = (uint64_t)KV_ITEM_OVERHEAD + l->tok[1].len + (uint64_t)vlen +
                    (flags != 0 ? KV_ITEM_FLAGS_OVERHEAD : 0);
    if (item > limits->item_size_max) {
        /* refused; the value's bytes (and its CRLF) are swallowed as they arrive */
        kv__fail(out, cmd, KV_ERR_TOO_LARGE);
        kv__set_key(out, l, 1);
        out->swallow = (uint32_t)vlen + 2;
        return;
    }
    uint64_t total = (uint64_t)out->consumed + (uint64_t)vlen + 2;
    if (total > KV_PARSE_MAX_BUF) {
        kv__fail(out, cmd, KV_ERR_TOO_LARGE);
        kv__set_key(out, l, 1);
        out->swallow = (uint32_t)vlen + 2;
        return;
    }
    if (len < total) {
        /* line complete, value not yet: report how many bytes the request needs */
        uint32_t need = (uint32_t)total;
        memset(out, 0, sizeof(*out));
        out->status = KV_PARSE_NEED_MORE;
        out->consumed = need;
        return;
    }
    const char *data = l->buf + out->consumed;
    kv__set_key(out, l, 1);
    if (data[vlen] != '\r' || data[vlen + 1] != '\n') {
        kv__fail(out, cmd, KV_ERR_BAD_CHUNK);
        out->consumed = (uint32_t)total;
        return;
    }
    out->status = KV_PARSE_OK;
    out->cmd = cmd;
    out->flags = flags;
    out->exptime = exptime;
    out->cas = cas;
    out->data_off = out->consumed;
    out->data_len = (uint32_t)vlen;
    out->consumed = (uint32_t)total;
}

static void kv__parse_delete(const kv__line *l, kv_request *out)
{
    out->cmd = KV_CMD_DELETE;
    if (l->ntokens > 3) {
        int hold_is_zero = kv__tok_is(l, 2, "0");
        int sets_noreply = kv__noreply(l);
        out->noreply = (uint8_t)sets_noreply;
        int valid = (l->ntokens == 4 && (hold_is_zero || sets_noreply)) ||
                    (l->ntokens == 5 && hold_is_zero && sets_noreply);
        if (!valid) {
            kv__fail(out, KV_CMD_DELETE, KV_ERR_DELETE_USAGE);
            return;
        }
    }
    if (l->tok[1].len > KV_KEY_MAX) {
        kv__fail(out, KV_CMD_DELETE, KV_ERR_BAD_FORMAT);
        return;
    }
    kv__set_key(out, l, 1);
}

static void kv__parse_arith(const kv__line *l, uint8_t cmd, kv_request *out)
{
    out->cmd = cmd;
    out->noreply = kv__noreply(l);
    if (l->tok[1].len > KV_KEY_MAX) {
        kv__fail(out, cmd, KV_ERR_BAD_FORMAT);
        return;
    }
    uint64_t delta;
    if (!kv__num_u64(l, 2, &delta)) {
        kv__fail(out, cmd, KV_ERR_INVALID_DELTA);
        return;
    }
    kv__set_key(out, l, 1);
    out->delta = delta;
}

static void kv__parse_touch(const kv__line *l, kv_request *out)
{
    out->cmd = KV_CMD_TOUCH;
    out->noreply = kv__noreply(l);
    if (l->tok[1].len > KV_KEY_MAX) {
        kv__fail(out, KV_CMD_TOUCH, KV_ERR_BAD_FORMAT);
        return;
    }
    int32_t e;
    if (!kv__num_i32(l, 2, &e)) {
        kv__fail(out, KV_CMD_TOUCH, KV_ERR_INVALID_EXPTIME);
        return;
    }
    kv__set_key(out, l, 1);
    out->exptime = e;
}

static void kv__parse_flush(const kv__line *l, kv_request *out)
{
    out->cmd = KV_CMD_FLUSH_ALL;
    out->noreply = kv__noreply(l);
    int32_t delay = 0;
    if (l->ntokens != (out->noreply ? 3u : 2u)) {
        if (!kv__num_i32(l, 1, &delay)) {
            kv__fail(out, KV_CMD_FLUSH_ALL, KV_ERR_INVALID_EXPTIME);
            return;
        }
    }
    /* memcached treats a delay <= 0 as "now" */
    out->delta = delay > 0 ? (uint64_t)delay : 0;
}

static void kv__parse_verbosity(const kv__line *l, kv_request *out)
{
    out->cmd = KV_CMD_VERBOSITY;
    out->noreply = kv__noreply(l);
    uint32_t level;
    if (!kv__num_u32(l, 1, &level)) {
        kv__fail(out, KV_CMD_VERBOSITY, KV_ERR_BAD_FORMAT);
        return;
    }
    out->arg_off = l->tok[1].off;
    out->arg_len = l->tok[1].len;
    out->delta = level;
}

static void kv__parse_stats(const kv__line *l, kv_request *out)
{
    out->cmd = KV_CMD_STATS;
    if (l->ntokens > 2) {
        /* from the first argument to the end of the line's last token */
        uint32_t s = l->tok[1].off;
        uint32_t e = l->end;
        while (e > s && l->buf[e - 1] == ' ') {
            e--;
        }
        out->arg_off = s;
        out->arg_len = e - s;
    }
}

/* Commands memcached knows that kvd does not implement: they get "ERROR" without the
 * HTTP check memcached applies only to names it does not know. */
static int kv__known_unsupported(const kv__line *l)
{
    static const char *const names[] = {"lru_crawler", "watch", "lru", "extstore", "refresh_certs"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (kv__tok_is(l, 0, names[i])) {
            return 1;
        }
    }
    return 0;
}

#define KV_WANT(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            kv__fail(out, KV_CMD_NONE, KV_ERR_UNKNOWN_COMMAND);                                    \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* ------------------------------------------------------------------ meta commands */

/* Longest O (opaque) token, and the token count (with the terminal one) from which a
 * meta line is refused (memcached's MFLAG_MAX_OPAQUE_LENGTH, MFLAG_MAX_OPT_LENGTH). */
#define KV_META_OPAQUE_MAX 32
#define KV_META_MAX_TOKENS 20

/* memcached's decoding alphabet: value of each byte, 0x80 for bytes it skips. */
static unsigned char kv__b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return (unsigned char)(c - 'A');
    }
    if (c >= 'a' && c <= 'z') {
        return (unsigned char)(c - 'a' + 26);
    }
    if (c >= '0' && c <= '9') {
        return (unsigned char)(c - '0' + 52);
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    if (c == '=') {
        return 0;
    }
    return 0x80;
}

size_t kv_base64_decode(const char *src, size_t n, unsigned char *dst, size_t cap)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (kv__b64_value((unsigned char)src[i]) != 0x80) {
            count++;
        }
    }
    if (count == 0 || count % 4 != 0) {
        return 0;
    }
    if (dst != NULL && count / 4 * 3 > cap) {
        return 0;
    }
    unsigned char block[4];
    size_t k = 0, out = 0;
    int pad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char v = kv__b64_value((unsigned char)src[i]);
        if (v == 0x80) {
            continue;
        }
        if (src[i] == '=') {
            pad++;
        }
        block[k++] = v;
        if (k < 4) {
            continue;
        }
        k = 0;
        if (dst != NULL) {
            dst[out] = (unsigned char)((block[0] << 2) | (block[1] >> 4));
            dst[out + 1] = (unsigned char)((block[1] << 4) | (block[2] >> 2));
            dst[out + 2] = (unsigned char)((block[2] << 6) | block[3]);
        }
        out += 3;
        if (pad > 0) {
            if (pad > 2) {
                return 0; /* invalid padding */
            }
            out -= (size_t)pad;
            break;
        }
    }
    return out;
}

/* Sets the meta request's arg to the tokens from `from` to the last one. */
static void kv__meta_arg(const kv__line *l, size_t from, kv_request *out)
{
    if (from < l->ntokens - 1) {
        const kv__tok *last = &l->tok[l->ntokens - 2];
        out->arg_off = l->tok[from].off;
        out->arg_len = last->off + last->len - l->tok[from].off;
    }
}

/* memcached's _meta_flag_preparse over tokens[from..]: fills noreply, flags, exptime,
 * cas and delta; returns KV_ERR_NONE or the error memcached reports (see kv_proto.h). */
static uint8_t kv__meta_flags(const kv__line *l, size_t from, kv_request *out, uint32_t *nkey)
{
    uint8_t seen[127] = {0};
    uint8_t noted = KV_ERR_NONE;
    int has_error = 0;
    for (size_t i = from; i < l->ntokens - 1; i++) {
        const char *t = l->buf + l->tok[i].off;
        uint32_t n = l->tok[i].len;
        unsigned char o = (unsigned char)t[0];
        if (o >= 127 || seen[o]) {
            return KV_ERR_META_DUP_FLAG;
        }
        seen[o] = 1;
        int32_t i32;
        switch (o) {
        case 'b':
            *nkey = (uint32_t)kv_base64_decode(l->buf + l->tok[1].off, l->tok[1].len, NULL, 0);
            if (*nkey == 0) {
                noted = KV_ERR_META_KEY_DECODE;
                has_error = 1;
            }
            break;
        case 'N':
        case 'R':
        case 'T':
            if (!kv__safe_i32(t + 1, n - 1, &i32)) {
                noted = KV_ERR_META_BAD_TOKEN;
                has_error = 1;
            } else if (o == 'T') {
                out->exptime = i32;
            }
            break;
        case 'q':
            out->noreply = 1;
            break;
        case 'F':
            if (!kv__safe_u32(t + 1, n - 1, &out->flags)) {
                out->flags = 0;
                has_error = 1;
            }
            break;
        case 'C':
            if (!kv__safe_u64(t + 1, n - 1, &out->cas)) {
                out->cas = 0;
                noted = KV_ERR_META_BAD_TOKEN;
                has_error = 1;
            }
            break;
        case 'M':
            if (n != 2) {
                noted = KV_ERR_META_M_LENGTH;
                has_error = 1;
            }
            break;
        case 'J': {
            uint64_t j;
            if (!kv__safe_u64(t + 1, n - 1, &j)) {
                noted = KV_ERR_META_INITIAL;
                has_error = 1;
            }
            break;
        }
        case 'D':
            if (!kv__safe_u64(t + 1, n - 1, &out->delta)) {
                out->delta = 0;
                noted = KV_ERR_META_DELTA;
                has_error = 1;
            }
            break;
        case 'O':
        case 'P':
        case 'L':
        case 'k':
        case 's':
        case 't':
        case 'c':
        case 'f':
        case 'v':
        case 'h':
        case 'l':
        case 'u':
        case 'I':
            break;
        default:
            return KV_ERR_META_INVALID_FLAG;
        }
    }
    if (!has_error) {
        return KV_ERR_NONE;
    }
    return noted != KV_ERR_NONE ? noted : KV_ERR_BAD_FORMAT;
}

/* The M token's character among tokens[from..], or 0. */
static char kv__meta_mode(const kv__line *l, size_t from)
{
    for (size_t i = from; i < l->ntokens - 1; i++) {
        if (l->buf[l->tok[i].off] == 'M') {
            return l->tok[i].len == 2 ? l->buf[l->tok[i].off + 1] : 0;
        }
    }
    return 0;
}

static int kv__meta_opaque_ok(const kv__line *l, size_t from)
{
    for (size_t i = from; i < l->ntokens - 1; i++) {
        if (l->buf[l->tok[i].off] == 'O' && l->tok[i].len > KV_META_OPAQUE_MAX) {
            return 0;
        }
    }
    return 1;
}

/* The failure of a meta request: the error alone (meta errors are always sent). */
static void kv__meta_fail(kv_request *out, uint8_t cmd, uint8_t err)
{
    uint32_t consumed = out->consumed;
    memset(out, 0, sizeof(*out));
    out->consumed = consumed;
    kv__fail(out, cmd, err);
}

static void kv__parse_meta(const kv__line *l, uint8_t cmd, size_t len,
                           const kv_parse_limits *limits, kv_request *out)
{
    size_t nt = l->ntokens;
    out->cmd = cmd;
    if (cmd == KV_CMD_MN) {
        return;
    }
    if (cmd == KV_CMD_ME) {
        if (nt < 3 || l->tok[1].len > KV_KEY_MAX) {
            kv__meta_fail(out, cmd, KV_ERR_BAD_FORMAT);
            return;
        }
        if (nt >= 4 && kv__tok_is(l, 2, "b") &&
            kv_base64_decode(l->buf + l->tok[1].off, l->tok[1].len, NULL, 0) == 0) {
            kv__meta_fail(out, cmd, KV_ERR_BAD_FORMAT);
            return;
        }
        kv__set_key(out, l, 1);
        kv__meta_arg(l, 2, out);
        return;
    }
    KV_WANT(nt >= 3);
    if (l->tok[1].len > KV_KEY_MAX || (cmd == KV_CMD_MS && nt == 3)) {
        kv__meta_fail(out, cmd, KV_ERR_BAD_FORMAT);
        return;
    }
    if (nt > KV_META_MAX_TOKENS) {
        kv__meta_fail(out, cmd, cmd == KV_CMD_MG ? KV_ERR_META_MG_TOO_LONG : KV_ERR_META_TOO_LONG);
        return;
    }
    int32_t vlen = 0;
    size_t from = 2;
    if (cmd == KV_CMD_MS) {
        if (!kv__num_i32(l, 2, &vlen) || vlen < 0 || vlen > INT_MAX - 2) {
            kv__meta_fail(out, cmd, KV_ERR_BAD_FORMAT);
            return;
        }
        from = 3;
    }
    if (cmd == KV_CMD_MA) {
        out->delta = 1;
    }
    uint32_t nkey = l->tok[1].len;
    uint8_t err = kv__meta_flags(l, from, out, &nkey);
    if (err != KV_ERR_NONE && (cmd == KV_CMD_MD || cmd == KV_CMD_MA)) {
        err = KV_ERR_META_FLAG;
    }
    if (err == KV_ERR_NONE && cmd == KV_CMD_MS) {
        char m = kv__meta_mode(l, from);
        int opaque_ok = kv__meta_opaque_ok(l, 2);
        if (m != 0 && m != 'E' && m != 'A' && m != 'P' && m != 'R' && m != 'S') {
            err = KV_ERR_META_MS_MODE;
        } else if (!opaque_ok) {
            err = KV_ERR_META_OPAQUE;
        }
    }
    if (err == KV_ERR_NONE && cmd == KV_CMD_MA) {
        char m = kv__meta_mode(l, from);
        if (m != 0 && m != 'I' && m != '+' && m != 'D' && m != '-') {
            err = KV_ERR_META_MA_MODE;
        }
    }
    if (err == KV_ERR_NONE && cmd != KV_CMD_MS && !kv__meta_opaque_ok(l, from)) {
        err = KV_ERR_META_OPAQUE;
        if (cmd != KV_CMD_MD) {
            /* mg and ma: memcached finds the opaque too long only while it writes the
             * reply, after the lookup or the arithmetic: the request stays described */
            kv__fail(out, cmd, err);
            out->noreply = 0;
            kv__set_key(out, l, 1);
            kv__meta_arg(l, from, out);
            return;
        }
    }
    if (err != KV_ERR_NONE) {
        kv__meta_fail(out, cmd, err);
        if (cmd == KV_CMD_MS) {
            out->swallow = (uint32_t)vlen + 2; /* memcached swallows the value */
        }
        return;
    }
    kv__set_key(out, l, 1);
    kv__meta_arg(l, from, out);
    if (cmd != KV_CMD_MS) {
        return;
    }
    uint64_t item = (uint64_t)KV_ITEM_OVERHEAD + nkey + (uint64_t)vlen +
                    (out->flags != 0 ? KV_ITEM_FLAGS_OVERHEAD : 0);
    uint64_t total = (uint64_t)out->consumed + (uint64_t)vlen + 2;
    if (item > limits->item_size_max || total > KV_PARSE_MAX_BUF) {
        /* refused (memcached also unlinks the key); the value is swallowed */
        out->status = KV_PARSE_ERROR;
        out->error = KV_ERR_TOO_LARGE;
        out->noreply = 0;
        out->swallow = (uint32_t)vlen + 2;
        return;
    }
    if (len < total) {
        uint32_t need = (uint32_t)total;
        memset(out, 0, sizeof(*out));
        out->status = KV_PARSE_NEED_MORE;
        out->consumed = need;
        return;
    }
    const char *data = l->buf + out->consumed;
    if (data[vlen] != '\r' || data[vlen + 1] != '\n') {
        uint32_t key_off = out->key_off, key_len = out->key_len;
        kv__meta_fail(out, cmd, KV_ERR_BAD_CHUNK);
        out->nkeys = 1;
        out->key_off = key_off;
        out->key_len = key_len;
        out->consumed = (uint32_t)total;
        return;
    }
    out->data_off = out->consumed;
    out->data_len = (uint32_t)vlen;
    out->consumed = (uint32_t)total;
}

static void kv__dispatch(const kv__line *l, size_t len, const kv_parse_limits *limits,
                         kv_request *out)
{
    size_t nt = l->ntokens;
    KV_WANT(nt >= 2 && l->tok[0].len >= 2);
    char first = l->buf[l->tok[0].off];

    if (first == 'm' && l->tok[0].len == 2) {
        static const char codes[] = "gsdane";
        static const uint8_t cmds[] = {KV_CMD_MG, KV_CMD_MS, KV_CMD_MD,
                                       KV_CMD_MA, KV_CMD_MN, KV_CMD_ME};
        const char *c = memchr(codes, l->buf[l->tok[0].off + 1], sizeof(codes) - 1);
        KV_WANT(c != NULL);
        kv__parse_meta(l, cmds[c - codes], len, limits, out);
    } else if (first == 'g') {
        KV_WANT(nt >= 3);
        if (kv__tok_is(l, 0, "get")) {
            kv__parse_get(l, KV_CMD_GET, 0, out);
        } else if (kv__tok_is(l, 0, "gets")) {
            kv__parse_get(l, KV_CMD_GETS, 0, out);
        } else if (kv__tok_is(l, 0, "gat")) {
            kv__parse_get(l, KV_CMD_GAT, 1, out);
        } else if (kv__tok_is(l, 0, "gats")) {
            kv__parse_get(l, KV_CMD_GATS, 1, out);
        } else {
            KV_WANT(0);
        }
    } else if (first == 's') {
        if (kv__tok_is(l, 0, "set")) {
            KV_WANT(nt == 6 || nt == 7);
            kv__parse_update(l, KV_CMD_SET, 0, len, limits, out);
        } else if (kv__tok_is(l, 0, "stats")) {
            kv__parse_stats(l, out);
        } else {
            KV_WANT(0);
        }
    } else if (first == 'a') {
        int add = kv__tok_is(l, 0, "add");
        KV_WANT(add || kv__tok_is(l, 0, "append"));
        KV_WANT(nt == 6 || nt == 7);
        kv__parse_update(l, add ? KV_CMD_ADD : KV_CMD_APPEND, 0, len, limits, out);
    } else if (first == 'c') {
        KV_WANT(kv__tok_is(l, 0, "cas"));
        KV_WANT(nt == 7 || nt == 8);
        kv__parse_update(l, KV_CMD_CAS, 1, len, limits, out);
    } else if (first == 'i') {
        KV_WANT(kv__tok_is(l, 0, "incr"));
        KV_WANT(nt == 4 || nt == 5);
        kv__parse_arith(l, KV_CMD_INCR, out);
    } else if (first == 'd') {
        if (kv__tok_is(l, 0, "delete")) {
            KV_WANT(nt >= 3 && nt <= 5);
            kv__parse_delete(l, out);
        } else if (kv__tok_is(l, 0, "decr")) {
            KV_WANT(nt == 4 || nt == 5);
            kv__parse_arith(l, KV_CMD_DECR, out);
        } else {
            KV_WANT(0);
        }
    } else if (first == 't') {
        KV_WANT(kv__tok_is(l, 0, "touch"));
        KV_WANT(nt == 4 || nt == 5);
        kv__parse_touch(l, out);
    } else if (kv__tok_is(l, 0, "replace") || kv__tok_is(l, 0, "prepend")) {
        KV_WANT(nt == 6 || nt == 7);
        kv__parse_update(l, kv__tok_is(l, 0, "replace") ? KV_CMD_REPLACE : KV_CMD_PREPEND, 0, len,
                         limits, out);
    } else if (kv__tok_is(l, 0, "bget")) {
        /* memcached's ancient alias of get */
        KV_WANT(nt >= 3);
        kv__parse_get(l, KV_CMD_GET, 0, out);
    } else if (kv__tok_is(l, 0, "flush_all")) {
        KV_WANT(nt >= 2 && nt <= 4);
        kv__parse_flush(l, out);
    } else if (kv__tok_is(l, 0, "version")) {
        out->cmd = KV_CMD_VERSION;
    } else if (kv__tok_is(l, 0, "quit")) {
        out->cmd = KV_CMD_QUIT;
    } else if (kv__tok_is(l, 0, "verbosity")) {
        KV_WANT(nt == 3 || nt == 4);
        kv__parse_verbosity(l, out);
    } else if (kv__known_unsupported(l)) {
        KV_WANT(0);
    } else {
        const kv__tok *t = &l->tok[nt - 2];
        if (t->len >= 5 && memcmp(l->buf + t->off, "HTTP/", 5) == 0) {
            out->status = KV_PARSE_CLOSE;
            out->error = KV_ERR_HTTP;
            out->consumed = 0;
            return;
        }
        KV_WANT(0);
    }
}

void kv_parse(const char *buf, size_t len, const kv_parse_limits *limits, kv_request *out)
{
    memset(out, 0, sizeof(*out));
    if (len > KV_PARSE_MAX_BUF) {
        len = KV_PARSE_MAX_BUF;
    }
    const char *nl = len ? memchr(buf, '\n', len) : NULL;
    if (nl == NULL) {
        out->status = KV_PARSE_NEED_MORE;
        if (len > limits->max_line) {
            /* only a multi-get may be that long (memcached: 100 leading spaces at most) */
            size_t sp = 0;
            while (sp < len && buf[sp] == ' ') {
                sp++;
            }
            int multiget = sp <= 100 && ((len - sp >= 4 && memcmp(buf + sp, "get ", 4) == 0) ||
                                         (len - sp >= 5 && memcmp(buf + sp, "gets ", 5) == 0));
            if (!multiget) {
                out->status = KV_PARSE_CLOSE;
                out->error = KV_ERR_LINE_TOO_LONG;
            }
        }
        return;
    }
    uint32_t nlpos = (uint32_t)(nl - buf);
    kv__line l = {.buf = buf, .end = nlpos};
    if (nlpos > 1 && buf[nlpos - 1] == '\r') {
        l.end = nlpos - 1;
    }
    const char *nul = memchr(buf, '\0', l.end);
    if (nul != NULL) {
        l.end = (uint32_t)(nul - buf);
    }
    kv__tokenize(&l);
    out->status = KV_PARSE_OK;
    out->consumed = nlpos + 1;
    kv__dispatch(&l, len, limits, out);
    if (out->status != KV_PARSE_OK && out->status != KV_PARSE_ERROR) {
        return;
    }
    if (out->status == KV_PARSE_ERROR && out->error != KV_ERR_TOO_LARGE &&
        out->error != KV_ERR_BAD_CHUNK && out->error != KV_ERR_META_OPAQUE) {
        /* only the error kinds that need the key keep it */
        out->nkeys = 0;
        out->key_off = 0;
        out->key_len = 0;
        out->exptime = 0;
    }
}

int kv_request_next_key(const char *buf, const kv_request *req, uint32_t *pos, uint32_t *off,
                        uint32_t *len)
{
    if (req->nkeys == 0) {
        return 0;
    }
    uint32_t i = *pos;
    const char *b = buf + req->key_off;
    while (i < req->key_len && b[i] == ' ') {
        i++;
    }
    if (i >= req->key_len) {
        *pos = i;
        return 0;
    }
    uint32_t s = i;
    while (i < req->key_len && b[i] != ' ') {
        i++;
    }
    *off = req->key_off + s;
    *len = i - s;
    *pos = i;
    return 1;
}

/* ------------------------------------------------------------------ names */

#define KV__NAME(suffix, number, name) [number] = name,
static const char *const kv__status_names[] = {KV_PARSE_STATUS_MAP(KV__NAME)};
static const char *const kv__cmd_names[] = {KV_CMD_MAP(KV__NAME)};
static const char *const kv__error_names[] = {KV_PARSE_ERROR_MAP(KV__NAME)};
#undef KV__NAME

const char *kv_parse_status_name(unsigned status)
{
    return status < sizeof kv__status_names / sizeof kv__status_names[0] ? kv__status_names[status]
                                                                         : "?";
}

const char *kv_cmd_name(unsigned cmd)
{
    return cmd < sizeof kv__cmd_names / sizeof kv__cmd_names[0] ? kv__cmd_names[cmd] : "?";
}

const char *kv_parse_error_name(unsigned error)
{
    return error < sizeof kv__error_names / sizeof kv__error_names[0] ? kv__error_names[error]
                                                                      : "?";
}
