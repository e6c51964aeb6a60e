/*
 * kv_seams.c: the replaceable entry point of kvd (see kv_seams.h), set to the legacy
 * C implementation.
 */
#include "kv_seams.h"

void kv_parse_legacy(uint64_t conn_id, const char *buf, size_t len, const kv_parse_limits *limits,
                     kv_request *out)
{
    (void)conn_id;
    kv_parse(buf, len, limits, out);
}

kv_parse_fn kv_parse_impl = kv_parse_legacy;
