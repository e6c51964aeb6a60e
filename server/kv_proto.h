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
    KV_PARSE_NEED_MORE = 1, /* incomplete: read more, parse again from the same start */
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
    KV_ERR_DELETE_USAGE = 8,    /* "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]" */
    KV_ERR_HTTP = 9             /* unknown command whose last token starts "HTTP/": close */
    /* The server issue may append further kinds; the Rust twin mirrors every one. */
} kv_parse_error;

/* Limits the parser enforces; the server passes its settings. */
typedef struct kv_parse_limits {
    uint32_t item_size_max; /* -I: largest value accepted (bytes) */
    uint32_t max_line;      /* longest command line before the connection is closed */
} kv_parse_limits;

typedef struct kv_request {
    uint8_t status;   /* kv_parse_status */
    uint8_t cmd;      /* kv_cmd */
    uint8_t error;    /* kv_parse_error, when status is KV_PARSE_ERROR */
    uint8_t noreply;  /* 1 when the request ended with "noreply" */
    uint32_t consumed; /* bytes of the buffer this request (line, data, CRLF) takes */
    uint32_t swallow;  /* after an error: further bytes to discard (a rejected value) */
    uint32_t nkeys;    /* keys in the key list */
    uint32_t key_off;  /* key list: from the first key's first byte ... */
    uint32_t key_len;  /* ... to the last key's last byte; keys separated by spaces */
    uint32_t data_off; /* value of a storage command (without its CRLF) */
    uint32_t data_len;
    uint32_t arg_off;  /* free argument: stats sub-command, verbosity level text */
    uint32_t arg_len;
    uint32_t flags;    /* client flags of a storage command */
    uint32_t reserved; /* always 0: makes the 4 bytes before exptime a field, not padding,
                          so memcmp of two descriptions compares only written bytes */
    int64_t exptime;   /* as sent (relative or absolute, negative allowed) */
    uint64_t cas;      /* cas unique of a "cas" command */
    uint64_t delta;    /* incr/decr amount; flush_all delay */
} kv_request;

/* Parses the request at the start of buf[0..len). Always writes *out completely.
 * Never reads outside buf[0..len). */
void kv_parse(const char *buf, size_t len, const kv_parse_limits *limits, kv_request *out);

/* Iterates the keys of a parsed request over the same buffer: *pos starts at 0; returns
 * 0 when there are no more, 1 with *off/*len describing the next key. */
int kv_request_next_key(const char *buf, const kv_request *req, uint32_t *pos, uint32_t *off,
                        uint32_t *len);

#ifdef __cplusplus
}
#endif

#endif /* KV_PROTO_H */
