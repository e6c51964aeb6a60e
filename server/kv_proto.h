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

typedef enum kv_cmd {
    KV_CMD_NONE = 0,
    KV_CMD_GET = 1,
    KV_CMD_GETS = 2,
    KV_CMD_GAT = 3,
    KV_CMD_GATS = 4,
    KV_CMD_SET = 5,
    KV_CMD_ADD = 6,
    KV_CMD_REPLACE = 7,
    KV_CMD_APPEND = 8,
    KV_CMD_PREPEND = 9,
    KV_CMD_CAS = 10,
    KV_CMD_DELETE = 11,
    KV_CMD_INCR = 12,
    KV_CMD_DECR = 13,
    KV_CMD_TOUCH = 14,
    KV_CMD_FLUSH_ALL = 15,
    KV_CMD_STATS = 16,
    KV_CMD_VERSION = 17,
    KV_CMD_VERBOSITY = 18,
    KV_CMD_QUIT = 19
} kv_cmd;

typedef enum kv_parse_status {
    KV_PARSE_OK = 0,        /* a complete request occupies the first `consumed` bytes */
    KV_PARSE_NEED_MORE = 1, /* incomplete: read more, parse again from the same start
                               (consumed: bytes needed in all, when known, else 0) */
    KV_PARSE_ERROR = 2,     /* malformed: reply per `error`, drop `consumed` bytes, then
                               discard `swallow` more bytes as they arrive */
    KV_PARSE_CLOSE = 3      /* unrecoverable (e.g. over-long line): close the connection */
} kv_parse_status;

/* Which reply a malformed request gets, exactly as memcached 1.6 replies. The server's
 * formatter owns the strings; the parser only classifies. */
typedef enum kv_parse_error {
    KV_ERR_NONE = 0,
    KV_ERR_UNKNOWN_COMMAND = 1, /* "ERROR" */
    KV_ERR_BAD_FORMAT = 2,      /* "CLIENT_ERROR bad command line format" */
    KV_ERR_BAD_CHUNK = 3,       /* "CLIENT_ERROR bad data chunk" */
    KV_ERR_TOO_LARGE = 4,       /* "SERVER_ERROR object too large for cache" */
    KV_ERR_INVALID_DELTA = 5,   /* "CLIENT_ERROR invalid numeric delta argument" */
    KV_ERR_INVALID_EXPTIME = 6, /* "CLIENT_ERROR invalid exptime argument" */
    KV_ERR_LINE_TOO_LONG = 7,   /* connection is closed */
    /* "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]" */
    KV_ERR_DELETE_USAGE = 8,
    KV_ERR_HTTP = 9 /* unknown command whose last token starts "HTTP/": close */
    /* The server issue may append further kinds; the Rust twin mirrors every one. */
} kv_parse_error;

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
 *             carry the key (nkeys=1): memcached deletes the key on a too-large SET.
 *             A get-family BAD_FORMAT (key over 250 bytes) means memcached also drops
 *             every reply of the connection not yet sent.
 *  CLOSE      error (LINE_TOO_LONG or HTTP), everything else zero: close the connection
 *             without sending replies not yet sent.
 *
 * Too large: a value is refused when 59 + key length + value length (+ 4 when flags are
 * non-zero) exceeds limits->item_size_max, memcached's item size with its 48-byte header,
 * CAS, key NUL and value CRLF. Meta commands (mg, ms, ...) and memcached's admin commands
 * (shutdown, slabs, lru, lru_crawler, watch, cache_memlimit, extstore, refresh_certs) are
 * not implemented by kvd: they parse as ERROR / UNKNOWN_COMMAND.
 */
void kv_parse(const char *buf, size_t len, const kv_parse_limits *limits, kv_request *out);

/* Iterates the keys of a parsed request over the same buffer: *pos starts at 0; returns
 * 0 when there are no more, 1 with *off and *len describing the next key. */
int kv_request_next_key(const char *buf, const kv_request *req, uint32_t *pos, uint32_t *off,
                        uint32_t *len);

#ifdef __cplusplus
}
#endif

#endif /* KV_PROTO_H */
