/*
 * kv_opts.h: kvd's command line, memcached 1.6's flags with memcached's meaning, so kvd
 * drops into an existing memcached init script or container. Every memcached flag is in
 * one table (kv_opts.c) and is either applied, accepted with a logged note saying why it
 * changes nothing in kvd, or refused with a message saying what kvd lacks (a flag whose
 * absence would silently change what the operator relies on: UDP, binary protocol, TLS,
 * SASL, -M, extstore, ...). docs/SERVER.md lists the table.
 */
#ifndef KV_OPTS_H
#define KV_OPTS_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kv_opts {
    long port;             /* -p */
    const char *addr;      /* -l (kvd's default 127.0.0.1, not memcached's INADDR_ANY) */
    long threads;          /* -t */
    long mem_mb;           /* -m */
    long maxconns;         /* -c */
    uint32_t item_max;     /* -I */
    long backlog;          /* -b */
    long reqs_per_event;   /* -R */
    const char *unix_path; /* -s: listen there instead of TCP (memcached: disables TCP) */
    unsigned unix_mask;    /* -a: permission bits of the socket file (octal, default 0700) */
    const char *user;      /* -u: identity to assume when started as root */
    const char *pidfile;   /* -P */
    int verbose;           /* -v count */
    int daemonize;         /* -d */
    int disable_flush;     /* -F */
    int disable_cas;       /* -C */
    int enable_shutdown;   /* -A */
    int disable_dumping;   /* -X */
    int disable_watch;     /* -W */
    int lock_memory;       /* -k */
    int max_core;          /* -r */
    uint32_t hashpower;    /* -o hashpower=N (0: kvd's default) */
    char addr_buf[256];    /* -l "host:port" / "[v6]:port": the host part */
} kv_opts;

/* Fills o with kvd's defaults (those of memcached where kvd has the setting). */
void kv_opts_init(kv_opts *o);

/* Parses argv (short and long options, as memcached's getopt_long). Notes about accepted
 * flags without effect go to err. Returns KV_OPTS_RUN, KV_OPTS_EXIT (help, version or
 * license printed to out: exit 0) or KV_OPTS_USAGE (message on err: exit 2). */
enum { KV_OPTS_RUN = 0, KV_OPTS_EXIT = 1, KV_OPTS_USAGE = 2 };
int kv_opts_parse(kv_opts *o, int argc, char **argv, FILE *out, FILE *err);

/* The help text, generated from the table. */
void kv_opts_usage(FILE *f);

#ifdef __cplusplus
}
#endif

#endif /* KV_OPTS_H */
