/*
 * kv_resp.c: kvd's response formatting (see kv_resp.h). The strings are memcached
 * 1.6.18's, byte for byte; the conformance suite compares them with the real server.
 */
#include "kv_resp.h"

#include <string.h>

size_t kv_resp_u64(char *dst, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++) {
        dst[i] = tmp[n - 1 - i];
    }
    return n;
}

size_t kv_resp_value_header(char *dst, const char *key, uint32_t nkey, uint32_t flags,
                            uint32_t nbytes, int with_cas, uint64_t cas)
{
    char *p = dst;
    memcpy(p, "VALUE ", 6);
    p += 6;
    memcpy(p, key, nkey);
    p += nkey;
    *p++ = ' ';
    p += kv_resp_u64(p, flags);
    *p++ = ' ';
    p += kv_resp_u64(p, nbytes);
    if (with_cas) {
        *p++ = ' ';
        p += kv_resp_u64(p, cas);
    }
    *p++ = '\r';
    *p++ = '\n';
    return (size_t)(p - dst);
}

size_t kv_resp_u64_line(char *dst, uint64_t v)
{
    size_t n = kv_resp_u64(dst, v);
    dst[n] = '\r';
    dst[n + 1] = '\n';
    return n + 2;
}

#define KV_RET(s)                                                                                  \
    do {                                                                                           \
        *len = sizeof(s) - 1;                                                                      \
        return (s);                                                                                \
    } while (0)

const char *kv_resp_parse_error(int error, size_t *len)
{
    switch (error) {
    case KV_ERR_UNKNOWN_COMMAND:
        KV_RET("ERROR\r\n");
    case KV_ERR_BAD_FORMAT:
        KV_RET("CLIENT_ERROR bad command line format\r\n");
    case KV_ERR_BAD_CHUNK:
        KV_RET("CLIENT_ERROR bad data chunk\r\n");
    case KV_ERR_TOO_LARGE:
        KV_RET("SERVER_ERROR object too large for cache\r\n");
    case KV_ERR_INVALID_DELTA:
        KV_RET("CLIENT_ERROR invalid numeric delta argument\r\n");
    case KV_ERR_INVALID_EXPTIME:
        KV_RET("CLIENT_ERROR invalid exptime argument\r\n");
    case KV_ERR_DELETE_USAGE:
        KV_RET("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n");
    case KV_ERR_META_DUP_FLAG:
        KV_RET("CLIENT_ERROR duplicate flag\r\n");
    case KV_ERR_META_INVALID_FLAG:
        KV_RET("CLIENT_ERROR invalid flag\r\n");
    case KV_ERR_META_BAD_TOKEN:
        KV_RET("CLIENT_ERROR bad token in command line format\r\n");
    case KV_ERR_META_KEY_DECODE:
        KV_RET("CLIENT_ERROR error decoding key\r\n");
    case KV_ERR_META_M_LENGTH:
        KV_RET("CLIENT_ERROR incorrect length for M token\r\n");
    case KV_ERR_META_INITIAL:
        KV_RET("CLIENT_ERROR invalid numeric initial value\r\n");
    case KV_ERR_META_DELTA:
        KV_RET("CLIENT_ERROR invalid numeric delta value\r\n");
    case KV_ERR_META_MG_TOO_LONG:
        KV_RET("CLIENT_ERROR options flags are too long\r\n");
    case KV_ERR_META_TOO_LONG:
        KV_RET("CLIENT_ERROR options flags too long\r\n");
    case KV_ERR_META_OPAQUE:
        KV_RET("CLIENT_ERROR opaque token too long\r\n");
    case KV_ERR_META_MS_MODE:
        KV_RET("CLIENT_ERROR invalid mode for ms M token\r\n");
    case KV_ERR_META_MA_MODE:
        KV_RET("CLIENT_ERROR invalid mode for ma M token\r\n");
    case KV_ERR_META_FLAG:
        KV_RET("CLIENT_ERROR invalid or duplicate flag\r\n");
    default:
        *len = 0;
        return NULL;
    }
}

const char *kv_resp_store_result(kv_store_result r, int for_arith, size_t *len)
{
    switch (r) {
    case KV_RES_STORED:
        KV_RET("STORED\r\n");
    case KV_RES_NOT_STORED:
        KV_RET("NOT_STORED\r\n");
    case KV_RES_EXISTS:
        KV_RET("EXISTS\r\n");
    case KV_RES_NOT_FOUND:
        KV_RET("NOT_FOUND\r\n");
    case KV_RES_DELETED:
        KV_RET("DELETED\r\n");
    case KV_RES_TOUCHED:
        KV_RET("TOUCHED\r\n");
    case KV_RES_NON_NUMERIC:
        KV_RET("CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
    case KV_RES_NO_MEMORY:
        if (for_arith) {
            KV_RET("SERVER_ERROR out of memory\r\n");
        }
        KV_RET("SERVER_ERROR out of memory storing object\r\n");
    case KV_RES_OK:
        break;
    }
    KV_RET("SERVER_ERROR Unhandled storage type.\r\n");
}

size_t kv_resp_stat_str(char *dst, size_t cap, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    size_t n = 5 + nl + 1 + vl + 2;
    if (n > cap) {
        return 0;
    }
    char *p = dst;
    memcpy(p, "STAT ", 5);
    p += 5;
    memcpy(p, name, nl);
    p += nl;
    *p++ = ' ';
    memcpy(p, value, vl);
    p += vl;
    *p++ = '\r';
    *p++ = '\n';
    return n;
}

size_t kv_resp_stat_u64(char *dst, size_t cap, const char *name, uint64_t value)
{
    char v[21];
    v[kv_resp_u64(v, value)] = '\0';
    return kv_resp_stat_str(dst, cap, name, v);
}

size_t kv_resp_base64(const unsigned char *src, size_t n, char *dst)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)src[i] << 16;
        if (i + 1 < n) {
            v |= (unsigned)src[i + 1] << 8;
        }
        if (i + 2 < n) {
            v |= src[i + 2];
        }
        dst[o++] = abc[(v >> 18) & 63];
        dst[o++] = abc[(v >> 12) & 63];
        dst[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        dst[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    return o;
}
