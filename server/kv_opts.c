/*
 * kv_opts.c: kvd's command line (see kv_opts.h). One table of memcached 1.6.18's flags,
 * one of its -o sub-options; getopt_long's strings, the help text and every decision
 * (apply / note / refuse) come from them.
 */
#define _GNU_SOURCE
#include "kv_opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "kv_conn.h" /* KV_VERSION, KV_REQS_PER_EVENT */

typedef enum kv_opt_kind {
    KV_OPT_APPLY = 0,  /* kvd does what memcached does */
    KV_OPT_NOTE = 1,   /* accepted; changes nothing in kvd (the reason is logged) */
    KV_OPT_REFUSE = 2, /* kvd lacks the feature the flag asks for: exit 2 with the reason */
    KV_OPT_EXIT = 3    /* prints something and exits 0 */
} kv_opt_kind;

/* X(short, long name, takes an argument, kind, argument name, help or reason) */
#define KV_OPT_TABLE(X)                                                                            \
    X('p', "port", 1, KV_OPT_APPLY, "<num>", "TCP port to listen on (default 11211; 0: any free)") \
    X('U', "udp-port", 1, KV_OPT_APPLY, "<num>", "UDP port: only 0 (off, memcached's default)")    \
    X('s', "unix-socket", 1, KV_OPT_APPLY, "<file>", "UNIX socket to listen on (disables TCP)")    \
    X('a', "unix-mask", 1, KV_OPT_APPLY, "<mask>", "access mask of the UNIX socket, octal (700)")  \
    X('A', "enable-shutdown", 0, KV_OPT_APPLY, "", "enable the ASCII \"shutdown\" command")        \
    X('l', "listen", 1, KV_OPT_APPLY, "<addr>", "interface to listen on (default 127.0.0.1)")      \
    X('d', "daemon", 0, KV_OPT_APPLY, "", "run as a daemon")                                       \
    X('r', "enable-coredumps", 0, KV_OPT_APPLY, "", "maximize the core file limit")                \
    X('u', "user", 1, KV_OPT_APPLY, "<user>", "assume the identity of <user> (only as root)")      \
    X('m', "memory-limit", 1, KV_OPT_APPLY, "<num>", "item memory in megabytes (default 64)")      \
    X('M', "disable-evictions", 0, KV_OPT_REFUSE, "",                                              \
      "kvd always evicts from the LRU when -m is full; it cannot answer "                          \
      "\"SERVER_ERROR out of memory storing object\" instead")                                     \
    X('c', "conn-limit", 1, KV_OPT_APPLY, "<num>", "max simultaneous connections (default 1024)")  \
    X('k', "lock-memory", 0, KV_OPT_APPLY, "", "lock down all paged memory (mlockall)")            \
    X('v', "verbose", 0, KV_OPT_APPLY, "", "verbose (-vv: more)")                                  \
    X('h', "help", 0, KV_OPT_EXIT, "", "print this help and exit")                                 \
    X('i', "license", 0, KV_OPT_EXIT, "", "print the license and exit")                            \
    X('V', "version", 0, KV_OPT_EXIT, "", "print the version and exit")                            \
    X('P', "pidfile", 1, KV_OPT_APPLY, "<file>", "save the PID in <file> (removed at exit)")       \
    X('f', "slab-growth-factor", 1, KV_OPT_NOTE, "<num>",                                          \
      "kvd has no slab classes (items are malloc'd to size)")                                      \
    X('n', "slab-min-size", 1, KV_OPT_NOTE, "<bytes>",                                             \
      "kvd has no slab classes (items are malloc'd to size)")                                      \
    X('L', "enable-largepages", 0, KV_OPT_NOTE, "",                                                \
      "kvd preallocates no slab arena to back with large pages")                                   \
    X('D', "prefix-delimiter", 1, KV_OPT_NOTE, "<char>", "kvd keeps no per-prefix statistics")     \
    X('t', "threads", 1, KV_OPT_APPLY, "<num>", "worker threads (default 4)")                      \
    X('R', "max-reqs-per-event", 1, KV_OPT_APPLY, "<num>",                                         \
      "requests served per connection before yielding (default 20)")                               \
    X('C', "disable-cas", 0, KV_OPT_APPLY, "", "disable use of CAS")                               \
    X('b', "listen-backlog", 1, KV_OPT_APPLY, "<num>", "listen backlog (default 1024)")            \
    X('B', "protocol", 1, KV_OPT_APPLY, "<name>", "ascii or auto (kvd has no binary protocol)")    \
    X('I', "max-item-size", 1, KV_OPT_APPLY, "<num>", "max item size (default 1m, 1k..1024m)")     \
    X('S', "enable-sasl", 0, KV_OPT_REFUSE, "", "kvd has no SASL authentication")                  \
    X('F', "disable-flush-all", 0, KV_OPT_APPLY, "", "disable the flush_all command")              \
    X('X', "disable-dumping", 0, KV_OPT_APPLY, "",                                                 \
      "disable stats cachedump and lru_crawler metadump")                                          \
    X('W', "disable-watch", 0, KV_OPT_APPLY, "", "disable watch commands")                         \
    X('Y', "auth-file", 1, KV_OPT_REFUSE, "<file>",                                                \
      "kvd has no ASCII authentication: it would serve every client unauthenticated")              \
    X('e', "memory-file", 1, KV_OPT_REFUSE, "<file>",                                              \
      "kvd keeps items in process memory only (no restartable cache)")                             \
    X('Z', "enable-ssl", 0, KV_OPT_REFUSE, "", "kvd has no TLS")                                   \
    X('o', "extended", 1, KV_OPT_APPLY, "<opts>", "comma separated extended options (below)")      \
    X('N', "napi_ids", 1, KV_OPT_NOTE, "<num>", "kvd does not steer connections by NAPI id")

/* -o sub-options of memcached 1.6.18. X(name, kind, reason). */
#define KV_SUBOPT_NOSLAB "kvd has no slab allocator"
#define KV_SUBOPT_NOLRU "kvd's per-shard LRU has no segments or background maintainer"
#define KV_SUBOPT_NOEXT "kvd has no external storage (extstore)"
#define KV_SUBOPT_NOTLS "kvd has no TLS"
#define KV_SUBOPT_TABLE(X)                                                                         \
    X("maxconns_fast", KV_OPT_APPLY, "kvd always refuses connections over -c at once")             \
    X("no_maxconns_fast", KV_OPT_NOTE, "kvd always refuses connections over -c at once")           \
    X("hashpower", KV_OPT_APPLY, "initial hash table size, 2^N buckets over all shards")           \
    X("no_hashexpand", KV_OPT_NOTE, "kvd's tables always grow incrementally")                      \
    X("hash_algorithm", KV_OPT_NOTE, "kvd hashes keys with its own FNV-1a/fmix64")                 \
    X("tail_repair_time", KV_OPT_NOTE, "kvd's items hold no references to repair")                 \
    X("slab_reassign", KV_OPT_NOTE, KV_SUBOPT_NOSLAB)                                              \
    X("no_slab_reassign", KV_OPT_NOTE, KV_SUBOPT_NOSLAB)                                           \
    X("slab_automove", KV_OPT_NOTE, KV_SUBOPT_NOSLAB)                                              \
    X("no_slab_automove", KV_OPT_NOTE, KV_SUBOPT_NOSLAB)                                           \
    X("slab_automove_ratio", KV_OPT_NOTE, KV_SUBOPT_NOSLAB)                                        \
    X("slab_automove_window", KV_OPT_NOTE, KV_SUBOPT_NOSLAB)                                       \
    X("slab_automove_freeratio", KV_OPT_NOTE, KV_SUBOPT_NOSLAB)                                    \
    X("slab_chunk_max", KV_OPT_NOTE, KV_SUBOPT_NOSLAB)                                             \
    X("slab_sizes", KV_OPT_NOTE, KV_SUBOPT_NOSLAB)                                                 \
    X("no_chunked_items", KV_OPT_NOTE, KV_SUBOPT_NOSLAB)                                           \
    X("track_sizes", KV_OPT_NOTE, "kvd keeps no item size histogram (stats sizes: disabled)")      \
    X("lru_crawler", KV_OPT_NOTE, "kvd expires items lazily and with a periodic sweep")            \
    X("no_lru_crawler", KV_OPT_NOTE, "kvd expires items lazily and with a periodic sweep")         \
    X("lru_crawler_sleep", KV_OPT_NOTE, "kvd expires items lazily and with a periodic sweep")      \
    X("lru_crawler_tocrawl", KV_OPT_NOTE, "kvd expires items lazily and with a periodic sweep")    \
    X("lru_maintainer", KV_OPT_NOTE, KV_SUBOPT_NOLRU)                                              \
    X("no_lru_maintainer", KV_OPT_NOTE, KV_SUBOPT_NOLRU)                                           \
    X("lru_segmented", KV_OPT_NOTE, KV_SUBOPT_NOLRU)                                               \
    X("no_lru_segmented", KV_OPT_NOTE, KV_SUBOPT_NOLRU)                                            \
    X("hot_lru_pct", KV_OPT_NOTE, KV_SUBOPT_NOLRU)                                                 \
    X("warm_lru_pct", KV_OPT_NOTE, KV_SUBOPT_NOLRU)                                                \
    X("hot_max_factor", KV_OPT_NOTE, KV_SUBOPT_NOLRU)                                              \
    X("warm_max_factor", KV_OPT_NOTE, KV_SUBOPT_NOLRU)                                             \
    X("temporary_ttl", KV_OPT_NOTE, KV_SUBOPT_NOLRU)                                               \
    X("idle_timeout", KV_OPT_NOTE, "kvd does not close idle connections (memcached's default)")    \
    X("watcher_logbuf_size", KV_OPT_NOTE, "kvd has no watch log stream")                           \
    X("worker_logbuf_size", KV_OPT_NOTE, "kvd has no watch log stream")                            \
    X("read_buf_mem_limit", KV_OPT_NOTE, "kvd bounds each connection's buffers instead")           \
    X("resp_obj_mem_limit", KV_OPT_NOTE, "kvd bounds each connection's buffers instead")           \
    X("no_inline_ascii_resp", KV_OPT_NOTE, "kvd formats replies as it sends them")                 \
    X("modern", KV_OPT_NOTE, "memcached 1.6: currently nothing")                                   \
    X("no_modern", KV_OPT_NOTE, "kvd has no 1.4-era slab/LRU defaults to go back to")              \
    X("drop_privileges", KV_OPT_NOTE, "kvd applies no seccomp/pledge sandbox")                     \
    X("no_drop_privileges", KV_OPT_NOTE, "kvd applies no seccomp/pledge sandbox")                  \
    X("sock_cookie_id", KV_OPT_NOTE, "kvd sets no SO_MARK on its sockets")                         \
    X("ext_path", KV_OPT_REFUSE, KV_SUBOPT_NOEXT)                                                  \
    X("ext_page_size", KV_OPT_REFUSE, KV_SUBOPT_NOEXT)                                             \
    X("ext_wbuf_size", KV_OPT_REFUSE, KV_SUBOPT_NOEXT)                                             \
    X("ext_threads", KV_OPT_REFUSE, KV_SUBOPT_NOEXT)                                               \
    X("ext_io_depth", KV_OPT_REFUSE, KV_SUBOPT_NOEXT)                                              \
    X("ext_item_size", KV_OPT_REFUSE, KV_SUBOPT_NOEXT)                                             \
    X("ext_item_age", KV_OPT_REFUSE, KV_SUBOPT_NOEXT)                                              \
    X("ext_low_ttl", KV_OPT_REFUSE, KV_SUBOPT_NOEXT)                                               \
    X("ext_drop_unread", KV_OPT_REFUSE, KV_SUBOPT_NOEXT)                                           \
    X("ext_recache_rate", KV_OPT_REFUSE, KV_SUBOPT_NOEXT)                                          \
    X("ext_compact_under", KV_OPT_REFUSE, KV_SUBOPT_NOEXT)                                         \
    X("ext_drop_under", KV_OPT_REFUSE, KV_SUBOPT_NOEXT)                                            \
    X("ext_max_frag", KV_OPT_REFUSE, KV_SUBOPT_NOEXT)                                              \
    X("ext_max_sleep", KV_OPT_REFUSE, KV_SUBOPT_NOEXT)                                             \
    X("ssl_chain_cert", KV_OPT_REFUSE, KV_SUBOPT_NOTLS)                                            \
    X("ssl_key", KV_OPT_REFUSE, KV_SUBOPT_NOTLS)                                                   \
    X("ssl_keyformat", KV_OPT_REFUSE, KV_SUBOPT_NOTLS)                                             \
    X("ssl_verify_mode", KV_OPT_REFUSE, KV_SUBOPT_NOTLS)                                           \
    X("ssl_ciphers", KV_OPT_REFUSE, KV_SUBOPT_NOTLS)                                               \
    X("ssl_ca_cert", KV_OPT_REFUSE, KV_SUBOPT_NOTLS)                                               \
    X("ssl_wbuf_size", KV_OPT_REFUSE, KV_SUBOPT_NOTLS)                                             \
    X("ssl_session_cache", KV_OPT_REFUSE, KV_SUBOPT_NOTLS)                                         \
    X("ssl_kernel_tls", KV_OPT_REFUSE, KV_SUBOPT_NOTLS)                                            \
    X("ssl_min_version", KV_OPT_REFUSE, KV_SUBOPT_NOTLS)

typedef struct kv_opt_desc {
    int ch;
    const char *name;
    int has_arg;
    kv_opt_kind kind;
    const char *argname;
    const char *text;
} kv_opt_desc;

static const kv_opt_desc kv__opts[] = {
#define KV_X(c, n, a, k, an, t) {c, n, a, k, an, t},
    KV_OPT_TABLE(KV_X)
#undef KV_X
};
#define KV_NOPTS (sizeof(kv__opts) / sizeof(kv__opts[0]))

typedef struct kv_subopt_desc {
    const char *name;
    kv_opt_kind kind;
    const char *text;
} kv_subopt_desc;

static const kv_subopt_desc kv__subopts[] = {
#define KV_X(n, k, t) {n, k, t},
    KV_SUBOPT_TABLE(KV_X)
#undef KV_X
};
#define KV_NSUBOPTS (sizeof(kv__subopts) / sizeof(kv__subopts[0]))

void kv_opts_init(kv_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->port = 11211;
    o->addr = "127.0.0.1";
    o->threads = 4;
    o->mem_mb = 64;
    o->maxconns = 1024;
    o->item_max = 1024 * 1024;
    o->backlog = 1024;
    o->reqs_per_event = KV_REQS_PER_EVENT;
    o->unix_mask = 0700;
}

void kv_opts_usage(FILE *f)
{
    fprintf(f, "usage: kvd [options]   (memcached 1.6's flags; kvd %s)\n", KV_VERSION);
    for (size_t i = 0; i < KV_NOPTS; i++) {
        const kv_opt_desc *d = &kv__opts[i];
        char left[64];
        snprintf(left, sizeof left, "-%c, --%s%s%s", d->ch, d->name, d->has_arg ? "=" : "",
                 d->argname);
        const char *tag = d->kind == KV_OPT_NOTE     ? "accepted, no effect: "
                          : d->kind == KV_OPT_REFUSE ? "refused: "
                                                     : "";
        fprintf(f, "  %-34s %s%s\n", left, tag, d->text);
    }
    fprintf(f, "  -o options (comma separated, name[=value]):\n");
    for (size_t i = 0; i < KV_NSUBOPTS; i++) {
        const kv_subopt_desc *d = &kv__subopts[i];
        const char *tag = d->kind == KV_OPT_NOTE     ? "accepted, no effect: "
                          : d->kind == KV_OPT_REFUSE ? "refused: "
                                                     : "";
        fprintf(f, "     %-28s %s%s\n", d->name, tag, d->text);
    }
}

static int kv__long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

static int kv__size(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s) {
        return -1;
    }
    if (*end == 'k' || *end == 'K') {
        v *= 1024;
        end++;
    } else if (*end == 'm' || *end == 'M') {
        v *= 1024 * 1024;
        end++;
    }
    if (*end != '\0' || v < 1024 || v > 1024ULL * 1024 * 1024) {
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* -l as memcached reads it: "host", "host:port", "[v6]" or "[v6]:port" (a port there
 * overrides -p), a bare IPv6 literal; kvd listens on one address, not a list. */
static int kv__listen_arg(kv_opts *o, const char *arg, FILE *err)
{
    if (strchr(arg, ',') != NULL) {
        fprintf(err, "kvd: -l %s: kvd listens on one address; a list is not supported\n", arg);
        return -1;
    }
    const char *host = arg, *port = NULL;
    size_t hlen = strlen(arg);
    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
            fprintf(err, "kvd: -l %s: expected [address] or [address]:port\n", arg);
            return -1;
        }
        host = arg + 1;
        hlen = (size_t)(close - host);
        port = close[1] == ':' ? close + 2 : NULL;
    } else {
        const char *c = strchr(arg, ':');
        if (c != NULL && strchr(c + 1, ':') == NULL) { /* one colon: host:port */
            hlen = (size_t)(c - arg);
            port = c + 1;
        }
    }
    if (hlen == 0 || hlen >= sizeof o->addr_buf) {
        fprintf(err, "kvd: -l %s: bad address\n", arg);
        return -1;
    }
    if (port != NULL && kv__long(port, 0, 65535, &o->port) != 0) {
        fprintf(err, "kvd: -l %s: bad port\n", arg);
        return -1;
    }
    memcpy(o->addr_buf, host, hlen);
    o->addr_buf[hlen] = '\0';
    o->addr = o->addr_buf;
    return 0;
}

static const kv_opt_desc *kv__desc(int ch)
{
    for (size_t i = 0; i < KV_NOPTS; i++) {
        if (kv__opts[i].ch == ch) {
            return &kv__opts[i];
        }
    }
    return NULL;
}

/* One -o argument: "a,b=1,c". Returns 0 or -1 (message on err). */
static int kv__extended(kv_opts *o, const char *arg, FILE *err)
{
    char buf[1024];
    if (strlen(arg) >= sizeof buf) {
        fprintf(err, "kvd: -o argument too long\n");
        return -1;
    }
    strcpy(buf, arg);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        char *val = strchr(item, '=');
        if (val != NULL) {
            *val++ = '\0';
        }
        const kv_subopt_desc *d = NULL;
        for (size_t i = 0; i < KV_NSUBOPTS; i++) {
            if (strcmp(kv__subopts[i].name, item) == 0) {
                d = &kv__subopts[i];
            }
        }
        if (d == NULL) {
            fprintf(err, "kvd: Illegal suboption \"%s\" (kvd -h lists memcached's)\n", item);
            return -1;
        }
        if (d->kind == KV_OPT_REFUSE) {
            fprintf(err, "kvd: -o %s is not supported: %s\n", item, d->text);
            return -1;
        }
        if (strcmp(item, "hashpower") == 0) {
            long hp;
            /* memcached takes 12..64; kvd's per-shard bucket counts are 32-bit */
            if (val == NULL || kv__long(val, 12, 32, &hp) != 0) {
                fprintf(err, "kvd: -o hashpower=%s: an integer from 12 to 32\n", val ? val : "");
                return -1;
            }
            o->hashpower = (uint32_t)hp;
        } else if (strcmp(item, "hash_algorithm") == 0 &&
                   (val == NULL || (strcmp(val, "jenkins") != 0 && strcmp(val, "murmur3") != 0 &&
                                    strcmp(val, "xxh3") != 0))) {
            fprintf(err, "kvd: Unknown hash_algorithm option (jenkins, murmur3, xxh3)\n");
            return -1;
        }
        if (d->kind == KV_OPT_NOTE) {
            fprintf(err, "kvd: note: -o %s accepted, no effect: %s\n", item, d->text);
        }
    }
    return 0;
}

int kv_opts_parse(kv_opts *o, int argc, char **argv, FILE *out, FILE *err)
{
    char shorts[2 * KV_NOPTS + 2];
    struct option longs[KV_NOPTS + 1];
    size_t k = 0;
    shorts[k++] = ':'; /* missing arguments reported as ':' */
    for (size_t i = 0; i < KV_NOPTS; i++) {
        shorts[k++] = (char)kv__opts[i].ch;
        if (kv__opts[i].has_arg) {
            shorts[k++] = ':';
        }
        longs[i] =
            (struct option){kv__opts[i].name, kv__opts[i].has_arg ? required_argument : no_argument,
                            NULL, kv__opts[i].ch};
    }
    shorts[k] = '\0';
    memset(&longs[KV_NOPTS], 0, sizeof(longs[0]));

    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        if (opt == '?' || opt == ':') {
            if (optopt != 0) {
                fprintf(err, "kvd: %s -%c\n",
                        opt == ':' ? "option requires an argument:" : "invalid option", optopt);
            } else {
                fprintf(err, "kvd: invalid option '%s'\n", argv[optind - 1]);
            }
            kv_opts_usage(err);
            return KV_OPTS_USAGE;
        }
        const kv_opt_desc *d = kv__desc(opt);
        if (d->kind == KV_OPT_REFUSE) {
            fprintf(err, "kvd: -%c (--%s) is not supported: %s\n", opt, d->name, d->text);
            return KV_OPTS_USAGE;
        }
        int bad = 0;
        long v;
        switch (opt) {
        case 'p':
            bad = kv__long(optarg, 0, 65535, &o->port);
            break;
        case 'U':
            if (kv__long(optarg, 0, 65535, &v) != 0) {
                bad = 1;
            } else if (v != 0) {
                fprintf(err,
                        "kvd: -U %ld: kvd has no UDP listener; use -U 0 (memcached 1.6's "
                        "default, UDP off)\n",
                        v);
                return KV_OPTS_USAGE;
            }
            break;
        case 's':
            o->unix_path = optarg;
            break;
        case 'a': {
            char *end;
            errno = 0;
            unsigned long m = strtoul(optarg, &end, 8);
            bad = errno != 0 || end == optarg || *end != '\0' || m > 0777;
            o->unix_mask = (unsigned)m;
            break;
        }
        case 'A':
            o->enable_shutdown = 1;
            break;
        case 'l':
            if (kv__listen_arg(o, optarg, err) != 0) {
                return KV_OPTS_USAGE;
            }
            break;
        case 'd':
            o->daemonize = 1;
            break;
        case 'r':
            o->max_core = 1;
            break;
        case 'u':
            o->user = optarg;
            break;
        case 'm': {
            /* memcached reads -m with atoi, so "64m" is 64 MB (and "1g" silently 1 MB:
             * kvd refuses that one) */
            char mb[32];
            size_t n = strlen(optarg);
            if (n > 1 && n < sizeof mb && (optarg[n - 1] == 'm' || optarg[n - 1] == 'M')) {
                memcpy(mb, optarg, n - 1);
                mb[n - 1] = '\0';
                bad = kv__long(mb, 1, 1024L * 1024, &o->mem_mb);
            } else {
                bad = kv__long(optarg, 1, 1024L * 1024, &o->mem_mb);
            }
            break;
        }
        case 'c':
            bad = kv__long(optarg, 1, 1000000, &o->maxconns);
            break;
        case 'k':
            o->lock_memory = 1;
            break;
        case 'v':
            o->verbose++;
            break;
        case 'h':
            kv_opts_usage(out);
            return KV_OPTS_EXIT;
        case 'i':
            fprintf(out, "kvd %s: see the LICENSE file of the graft repository\n", KV_VERSION);
            return KV_OPTS_EXIT;
        case 'V':
            fprintf(out, "kvd %s\n", KV_VERSION);
            return KV_OPTS_EXIT;
        case 'P':
            o->pidfile = optarg;
            break;
        case 'f': {
            char *end;
            double f = strtod(optarg, &end);
            bad = end == optarg || *end != '\0' || !(f > 1.0);
            break;
        }
        case 'n':
            bad = kv__long(optarg, 1, 1L << 30, &v);
            break;
        case 'D':
            bad = optarg[0] == '\0';
            break;
        case 't':
            bad = kv__long(optarg, 1, 256, &o->threads);
            break;
        case 'R':
            bad = kv__long(optarg, 1, 1L << 30, &o->reqs_per_event);
            break;
        case 'C':
            o->disable_cas = 1;
            break;
        case 'b':
            bad = kv__long(optarg, 1, 1L << 30, &o->backlog);
            break;
        case 'B':
            if (strcmp(optarg, "binary") == 0) {
                fprintf(err, "kvd: -B binary is not supported: kvd speaks only memcached's ASCII "
                             "protocol (use -B ascii)\n");
                return KV_OPTS_USAGE;
            } else if (strcmp(optarg, "auto") == 0) {
                fprintf(err, "kvd: note: -B auto serves ASCII only: kvd has no binary protocol "
                             "(binary requests are answered ERROR)\n");
            } else if (strcmp(optarg, "ascii") != 0) {
                fprintf(err,
                        "kvd: Invalid value for binding protocol: %s\n"
                        " -- should be one of auto, binary, or ascii\n",
                        optarg);
                return KV_OPTS_USAGE;
            }
            break;
        case 'I':
            bad = kv__size(optarg, &o->item_max);
            break;
        case 'F':
            o->disable_flush = 1;
            break;
        case 'X':
            o->disable_dumping = 1;
            break;
        case 'W':
            o->disable_watch = 1;
            break;
        case 'o':
            if (kv__extended(o, optarg, err) != 0) {
                return KV_OPTS_USAGE;
            }
            break;
        default:
            break;
        }
        if (bad) {
            fprintf(err, "kvd: invalid value for -%c: '%s'\n", opt, optarg);
            kv_opts_usage(err);
            return KV_OPTS_USAGE;
        }
        if (d->kind == KV_OPT_NOTE) {
            fprintf(err, "kvd: note: -%c (--%s) accepted, no effect: %s\n", opt, d->name, d->text);
        }
    }
    if (optind < argc) {
        fprintf(err, "kvd: unexpected argument '%s'\n", argv[optind]);
        kv_opts_usage(err);
        return KV_OPTS_USAGE;
    }
    return KV_OPTS_RUN;
}
