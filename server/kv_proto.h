/*
 * kv_proto.h: kvd's request parser, the component that reads untrusted network bytes.
 *
 * Bytes in, request description out. Pure: no I/O, no allocation, no global state.
 * The description borrows the caller's buffer: keys, values and arguments are reported
 * as offsets and lengths into it (zero-copy), so it is valid only while the buffer is.
 *
 * This struct is the contract between the legacy C parser (kv_proto.c) and its Rust
 * twin (rust/kv-proto): for the same bytes and limits both must produce the same
 * description, field for field. Every field is written on every call, unused fields
 * are zero, so two descriptions can be compared with memcmp.
 */
#ifndef KV_PROTO_H
#define KV_PROTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The parser's enumerations, one X-macro list each: XX(SUFFIX, number, "name"). The C
 * enums, the name tables (kv_cmd_name, ... in kv_proto.c) and the Rust twin's constants
 * (rust/kv-proto/build.rs generates `kv_proto::{status, cmd, error}` from this file)
 * all come from them. Append; never renumber (the values cross the FFI boundary). */
#define KV_CMD_MAP(XX)                                                                             \
    XX(NONE, 0, "none")                                                                            \
    XX(GET, 1, "get")                                                                              \
    XX(GETS, 2, "gets")                                                                            \
    XX(GAT, 3, "gat")                                                                              \
    XX(GATS, 4, "gats")                                                                            \
    XX(SET, 5, "set")                                                                              \
    XX(ADD, 6, "add")                                                                              \
    XX(REPLACE, 7, "replace")                                                                      \
    XX(APPEND, 8, "append")                                                                        \
    XX(PREPEND, 9, "prepend")                                                                      \
    XX(CAS, 10, "cas")                                                                             \
    XX(DELETE, 11, "delete")                                                                       \
    XX(INCR, 12, "incr")                                                                           \
    XX(DECR, 13, "decr")                                                                           \
    XX(TOUCH, 14, "touch")                                                                         \
    XX(FLUSH_ALL, 15, "flush_all")                                                                 \
    XX(STATS, 16, "stats")                                                                         \
    XX(VERSION, 17, "version")                                                                     \
    XX(VERBOSITY, 18, "verbosity")                                                                 \
    XX(QUIT, 19, "quit")                                                                           \
    XX(MG, 20, "mg")                                                                               \
    XX(MS, 21, "ms")                                                                               \
    XX(MD, 22, "md")                                                                               \
    XX(MA, 23, "ma")                                                                               \
    XX(MN, 24, "mn")                                                                               \
    XX(ME, 25, "me")

/* OK: a complete request occupies the first `consumed` bytes.
 * NEED_MORE: incomplete: read more, parse again from the same start (consumed: bytes
 *   needed in all, when known, else 0).
 * ERROR: malformed: reply per `error`, drop `consumed` bytes, then discard `swallow`
 *   more bytes as they arrive.
 * CLOSE: unrecoverable (e.g. over-long line): close the connection. */
#define KV_PARSE_STATUS_MAP(XX)                                                                    \
    XX(OK, 0, "OK")                                                                                \
    XX(NEED_MORE, 1, "NEED_MORE")                                                                  \
    XX(ERROR, 2, "ERROR")                                                                          \
    XX(CLOSE, 3, "CLOSE")

/* Which reply a malformed request gets, exactly as memcached 1.6 replies. The server's
 * formatter owns the strings; the parser only classifies:
 *   UNKNOWN_COMMAND "ERROR"; BAD_FORMAT "CLIENT_ERROR bad command line format";
 *   BAD_CHUNK "CLIENT_ERROR bad data chunk"; TOO_LARGE "SERVER_ERROR object too large
 *   for cache"; INVALID_DELTA "CLIENT_ERROR invalid numeric delta argument";
 *   INVALID_EXPTIME "CLIENT_ERROR invalid exptime argument"; LINE_TOO_LONG: the
 *   connection is closed; DELETE_USAGE "CLIENT_ERROR bad command line format.  Usage:
 *   delete <key> [noreply]"; HTTP: unknown command whose last token starts "HTTP/":
 *   close. Meta commands (memcached 1.6.18's wording; such errors are always sent, q or
 *   not): META_DUP_FLAG "CLIENT_ERROR duplicate flag"; META_INVALID_FLAG "CLIENT_ERROR
 *   invalid flag"; META_BAD_TOKEN "CLIENT_ERROR bad token in command line format";
 *   META_KEY_DECODE "CLIENT_ERROR error decoding key"; META_M_LENGTH "CLIENT_ERROR
 *   incorrect length for M token"; META_INITIAL "CLIENT_ERROR invalid numeric initial
 *   value"; META_DELTA "CLIENT_ERROR invalid numeric delta value"; META_MG_TOO_LONG
 *   "CLIENT_ERROR options flags are too long" (mg); META_TOO_LONG "CLIENT_ERROR options
 *   flags too long" (ms, md, ma); META_OPAQUE "CLIENT_ERROR opaque token too long";
 *   META_MS_MODE "CLIENT_ERROR invalid mode for ms M token"; META_MA_MODE "CLIENT_ERROR
 *   invalid mode for ma M token"; META_FLAG "CLIENT_ERROR invalid or duplicate flag"
 *   (md and ma report every flag error so). The Rust twin mirrors every kind (generated
 *   from this list). */
#define KV_PARSE_ERROR_MAP(XX)                                                                     \
    XX(NONE, 0, "NONE")                                                                            \
    XX(UNKNOWN_COMMAND, 1, "UNKNOWN_COMMAND")                                                      \
    XX(BAD_FORMAT, 2, "BAD_FORMAT")                                                                \
    XX(BAD_CHUNK, 3, "BAD_CHUNK")                                                                  \
    XX(TOO_LARGE, 4, "TOO_LARGE")                                                                  \
    XX(INVALID_DELTA, 5, "INVALID_DELTA")                                                          \
    XX(INVALID_EXPTIME, 6, "INVALID_EXPTIME")                                                      \
    XX(LINE_TOO_LONG, 7, "LINE_TOO_LONG")                                                          \
    XX(DELETE_USAGE, 8, "DELETE_USAGE")                                                            \
    XX(HTTP, 9, "HTTP")                                                                            \
    XX(META_DUP_FLAG, 10, "META_DUP_FLAG")                                                         \
    XX(META_INVALID_FLAG, 11, "META_INVALID_FLAG")                                                 \
    XX(META_BAD_TOKEN, 12, "META_BAD_TOKEN")                                                       \
    XX(META_KEY_DECODE, 13, "META_KEY_DECODE")                                                     \
    XX(META_M_LENGTH, 14, "META_M_LENGTH")                                                         \
    XX(META_INITIAL, 15, "META_INITIAL")                                                           \
    XX(META_DELTA, 16, "META_DELTA")                                                               \
    XX(META_MG_TOO_LONG, 17, "META_MG_TOO_LONG")                                                   \
    XX(META_TOO_LONG, 18, "META_TOO_LONG")                                                         \
    XX(META_OPAQUE, 19, "META_OPAQUE")                                                             \
    XX(META_MS_MODE, 20, "META_MS_MODE")                                                           \
    XX(META_MA_MODE, 21, "META_MA_MODE")                                                           \
    XX(META_FLAG, 22, "META_FLAG")

typedef enum kv_cmd {
#define KV__CMD_ENUM(suffix, number, name) KV_CMD_##suffix = number,
    KV_CMD_MAP(KV__CMD_ENUM)
#undef KV__CMD_ENUM
} kv_cmd;

typedef enum kv_parse_status {
#define KV__PARSE_STATUS_ENUM(suffix, number, name) KV_PARSE_##suffix = number,
    KV_PARSE_STATUS_MAP(KV__PARSE_STATUS_ENUM)
#undef KV__PARSE_STATUS_ENUM
} kv_parse_status;

typedef enum kv_parse_error {
#define KV__PARSE_ERROR_ENUM(suffix, number, name) KV_ERR_##suffix = number,
    KV_PARSE_ERROR_MAP(KV__PARSE_ERROR_ENUM)
#undef KV__PARSE_ERROR_ENUM
} kv_parse_error;

/* Names of the values ("get", "NEED_MORE", "BAD_FORMAT"); "?" for unknown ones. */
const char *kv_parse_status_name(unsigned status);
const char *kv_cmd_name(unsigned cmd);
const char *kv_parse_error_name(unsigned error);

/* Limits the parser enforces; the server passes its settings. */
typedef struct kv_parse_limits {
    uint32_t item_size_max; /* -I: largest item (bytes): see "Too large" below */
    uint32_t max_line;      /* longest command line without '\n' before the connection is
                               closed (memcached: 2048) */
} kv_parse_limits;

typedef struct kv_request {
    uint8_t status;    /* kv_parse_status */
    uint8_t cmd;       /* kv_cmd */
    uint8_t error;     /* kv_parse_error, when status is KV_PARSE_ERROR */
    uint8_t noreply;   /* 1 when the request ended with "noreply" */
    uint32_t consumed; /* bytes of the buffer this request (line, data, CRLF) takes */
    uint32_t swallow;  /* after an error: further bytes to discard (a rejected value) */
    uint32_t nkeys;    /* keys in the key list */
    uint32_t key_off;  /* key list: from the first key's first byte ... */
    uint32_t key_len;  /* ... to the last key's last byte; keys separated by spaces */
    uint32_t data_off; /* value of a storage command (without its CRLF) */
    uint32_t data_len;
    uint32_t arg_off; /* free argument: stats sub-command, verbosity level text */
    uint32_t arg_len;
    uint32_t flags;    /* client flags of a storage command */
    uint32_t reserved; /* always 0: makes the 4 bytes before exptime a field, not padding,
                          so memcmp of two descriptions compares only written bytes */
    int64_t exptime;   /* as memcached reads it: strtol truncated to int32 (relative or
                          absolute, negative allowed) */
    uint64_t cas;      /* cas unique of a "cas" command */
    uint64_t delta;    /* incr/decr amount; flush_all delay; verbosity level */
} kv_request;

/*
 * Parses the request at the start of buf[0..len). Always writes *out completely (memset
 * to zero first, then the fields below). Never reads outside buf[0..len); looks at no
 * more than the first 2^30 bytes. Behaves as memcached 1.6.18's proto_text.c:
 *
 * Line: ends at the first '\n'; one '\r' before it is dropped unless the line is exactly
 * "\r\n"; the line is cut at its first NUL byte. Tokens are split on ' ' only. At most 23
 * tokens take part in command dispatch (memcached's MAX_TOKENS 24); get-family commands
 * read every key to the end of the line.
 *
 * Numbers: as memcached's safe_strtoul/strtol/strtoull: optional leading whitespace and
 * sign, at least one digit, then the token's end or a whitespace byte; 64-bit overflow is
 * an error; flags and lengths/exptimes are then truncated to 32 bits (unsigned / signed),
 * e.g. flags 4294967296 reads as 0 and exptime 4294967295 as -1; a value negative as a
 * signed 64-bit number is refused if the token holds '-'.
 *
 * Results:
 *  NEED_MORE  everything zero except: consumed = total bytes the request needs when
 *             known (storage command whose line is complete but whose value is not),
 *             else 0. A line without '\n' longer than limits->max_line gives instead
 *             CLOSE / LINE_TOO_LONG unless it starts (after at most 100 spaces) with
 *             "get " or "gets ".
 *  OK         cmd and its fields; consumed = line (+ value + CRLF for storage):
 *             GET/GETS/GAT/GATS: nkeys, key_off/key_len spanning the key list (nkeys may
 *               be 0 for "gat <t>"); GAT/GATS: exptime. "bget" parses as GET.
 *             SET/ADD/REPLACE/APPEND/PREPEND/CAS: nkeys=1, key, flags, exptime,
 *               data_off/data_len (value without CRLF), cas (CAS only), noreply.
 *             DELETE: key, noreply.  INCR/DECR: key, delta, noreply.
 *             TOUCH: key, exptime, noreply.
 *             FLUSH_ALL: delta = delay in seconds (memcached treats <= 0 as now: 0), noreply.
 *             VERBOSITY: arg = level token, delta = level, noreply.
 *             STATS: arg = from the first argument to the end of the line (trailing
 *               spaces dropped), 0/0 when none.  VERSION, QUIT: nothing else.
 *  ERROR      cmd (KV_CMD_NONE for unknown commands and wrong token counts), error,
 *             consumed (the line; for BAD_CHUNK line + value + CRLF), noreply when
 *             memcached had already seen "noreply" (the server then sends nothing),
 *             swallow (TOO_LARGE only: value length + 2). TOO_LARGE and BAD_CHUNK also
 *             carry the key (nkeys=1): memcached deletes the key on a too-large SET
 *             (META_OPAQUE of mg/ma: the whole description, see the meta commands).
 *             A get-family BAD_FORMAT (key over 250 bytes) means memcached also drops
 *             every reply of the connection not yet sent.
 *  CLOSE      error (LINE_TOO_LONG or HTTP), everything else zero: close the connection
 *             without sending replies not yet sent.
 *
 * Too large: a value is refused when 59 + key length + value length (+ 4 when flags are
 * non-zero) exceeds limits->item_size_max, memcached's item size with its 48-byte header,
 * CAS, key NUL and value CRLF (ms: the key length after base64 decoding). memcached's
 * admin commands (shutdown, slabs, lru, lru_crawler, watch, cache_memlimit, extstore,
 * refresh_certs) parse as ERROR / UNKNOWN_COMMAND (the server answers those it knows).
 *
 * Meta commands (memcached 1.6.18: "<mg|ms|md|ma|me> <key> [<datalen>] <flag>*", "mn"):
 *   OK for MG/MS/MD/MA/ME: nkeys=1 and key = the key token as sent (base64 text with
 *     the b flag: kv_base64_decode gives the key); arg = the flag tokens, from the first
 *     one to the end of the last (ME: every token after the key; its b counts only as
 *     the first of them); noreply = the q flag; flags = F, exptime = T, cas = C, delta =
 *     D (MA: 1 when absent), each 0 when absent; MS: data_off/data_len as for set.
 *     Flag tokens are single characters with an optional token after them; the server
 *     reads N, R, J and M again from arg in order (validated here, so strtol/strtoull
 *     read the values memcached reads). MN: cmd only.
 *   Checks, in memcached's order (mn has none): fewer than 3 tokens -> UNKNOWN_COMMAND; key
 *     over 250 bytes -> BAD_FORMAT; ms without datalen -> BAD_FORMAT; 20 tokens or more
 *     (command, key, flags) -> META_MG_TOO_LONG (mg) / META_TOO_LONG; ms datalen not a
 *     number in 0..INT_MAX-2 -> BAD_FORMAT; then the flags: a flag seen twice (or a
 *     first byte >= 127) -> META_DUP_FLAG and an unknown one -> META_INVALID_FLAG at
 *     once; bad numbers of N/T/R/C, a bad M length, J, D and an undecodable b key are
 *     noted and the last one noted is reported (F: BAD_FORMAT unless another was noted);
 *     md and ma report any of these as META_FLAG. Then O tokens over 32 bytes ->
 *     META_OPAQUE, ms M not one of E A P R S -> META_MS_MODE (wins over META_OPAQUE),
 *     ma M not one of I + D - -> META_MA_MODE (mg and ma: META_OPAQUE keeps the whole
 *     description, key, arg and numbers: memcached notices it only after the lookup or
 *     the arithmetic, whose effects stay). ms errors from the flags on swallow the
 *     value (swallow = datalen + 2). ME: key over 250 -> BAD_FORMAT, b key that does
 *     not decode -> BAD_FORMAT. Meta errors never carry noreply.
 */
void kv_parse(const char *buf, size_t len, const kv_parse_limits *limits, kv_request *out);

/* Iterates the keys of a parsed request over the same buffer: *pos starts at 0; returns
 * 0 when there are no more, 1 with *off and *len describing the next key. */
int kv_request_next_key(const char *buf, const kv_request *req, uint32_t *pos, uint32_t *off,
                        uint32_t *len);

/* memcached's base64 decoding of meta keys: bytes outside the alphabet are skipped, '='
 * pads; the decoded length (at most cap), or 0 when the text does not decode (a count
 * of alphabet bytes that is 0 or not a multiple of 4, a bad padding, too small a cap).
 * dst may be NULL to validate only (then cap is not checked). */
size_t kv_base64_decode(const char *src, size_t n, unsigned char *dst, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* KV_PROTO_H */
