/*
 * kv_compat.c: memcached's other ASCII commands (see kv_compat.h). Every reply line
 * below was checked against memcached 1.6.18; the conformance suite compares them.
 * Token counts follow memcached's: `n` here is the number of tokens, memcached's
 * `ntokens` is n + 1 (it counts a terminal empty token).
 */
#define _GNU_SOURCE
#include "kv_store_seam.h"
#include "kv_compat.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kv_store.h"

#define KV_COMPAT_MAX_TOKENS 24 /* memcached's MAX_TOKENS */
#define KV_COMPAT_TOKEN_MAX 64  /* longer tokens are never valid numbers or names here */
#define KV_LIT(s) (s), (sizeof(s) - 1)
#define KV_CRAWL_GAP_MS 100 /* a crawl (sweep slice) at most every 100 ms, process-wide */

/* memcached's crawler is global and answers BUSY while a crawl runs; kvd's crawl is a
 * sweep slice on the asking worker, so a client looping on it is held to 10 a second */
static atomic_llong kv__last_crawl_ms = -KV_CRAWL_GAP_MS;

typedef struct kv__toks {
    const char *p[KV_COMPAT_MAX_TOKENS];
    size_t len[KV_COMPAT_MAX_TOKENS];
    unsigned n;
} kv__toks;

/* Splits on ' ' as memcached's tokenize_command (runs of spaces make no empty tokens);
 * past 23 tokens the count stays 24, which no command below accepts. */
static void kv__tokenize(const char *s, size_t len, kv__toks *t)
{
    t->n = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && s[i] == ' ') {
            i++;
        }
        if (i == len) {
            break;
        }
        size_t b = i;
        while (i < len && s[i] != ' ') {
            i++;
        }
        if (t->n == KV_COMPAT_MAX_TOKENS) {
            return;
        }
        t->p[t->n] = s + b;
        t->len[t->n] = i - b;
        t->n++;
    }
}

static int kv__is(const kv__toks *t, unsigned i, const char *w)
{
    size_t n = strlen(w);
    return i < t->n && t->len[i] == n && memcmp(t->p[i], w, n) == 0;
}

/* memcached's safe_strtoul / safe_strtol on one token: the whole token is the number. */
static int kv__num(const kv__toks *t, unsigned i, int is_signed, long long *out)
{
    if (i >= t->n || t->len[i] == 0 || t->len[i] >= KV_COMPAT_TOKEN_MAX) {
        return 0;
    }
    char b[KV_COMPAT_TOKEN_MAX];
    memcpy(b, t->p[i], t->len[i]);
    b[t->len[i]] = '\0';
    char *end;
    errno = 0;
    long long v;
    if (is_signed) {
        v = strtoll(b, &end, 10);
    } else {
        unsigned long long u = strtoull(b, &end, 10);
        if (strchr(b, '-') != NULL || u > 0xffffffffULL) {
            return 0;
        }
        v = (long long)u;
    }
    if (errno != 0 || end == b || *end != '\0') {
        return 0;
    }
    *out = v;
    return 1;
}

static void kv__say(kv_conn *c, const char *s, size_t n)
{
    kv_conn_emit(c, s, n);
}

static int kv__shutdown(kv_conn *c, const kv__toks *t)
{
    if (!c->srv->enable_shutdown) {
        kv__say(c, KV_LIT("ERROR: shutdown not enabled\r\n"));
    } else if (t->n == 1 || (t->n == 2 && kv__is(t, 1, "graceful"))) {
        /* memcached raises SIGINT (plain) or SIGUSR1 (graceful); main's sigwait stops
         * kvd gracefully either way. This connection closes at once, as memcached's. */
        c->close_after = 1;
        kill(getpid(), t->n == 1 ? SIGINT : SIGUSR1);
    } else {
        kv__say(c, KV_LIT("CLIENT_ERROR invalid shutdown mode\r\n"));
    }
    return 1;
}

static int kv__memlimit(kv_conn *c, const kv__toks *t)
{
    if (t->n != 2 && t->n != 3) {
        return 0; /* ERROR */
    }
    int noreply = t->n == 3 && kv__is(t, 2, "noreply");
    long long mb;
    const char *r;
    size_t rn;
    if (!kv__num(t, 1, 0, &mb)) {
        r = "ERROR\r\n";
    } else if (mb < 8) {
        r = "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n";
    } else if (mb > 1000000000) {
        r = "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\n";
    } else {
        /* kvd's store sizes its accounting once, at start-up (-m) */
        r = "MEMLIMIT_ADJUST_FAILED out of bounds or unable to adjust\r\n";
    }
    rn = strlen(r);
    if (!noreply) {
        kv__say(c, r, rn);
    }
    return 1;
}

/* kvd has no slab classes; ids are judged as memcached's default classes 0..63 */
static int kv__slabs(kv_conn *c, const kv__toks *t)
{
    long long a, b;
    if (t->n == 4 && kv__is(t, 1, "reassign")) {
        if (!kv__num(t, 2, 1, &a) || !kv__num(t, 3, 1, &b)) {
            kv__say(c, KV_LIT("CLIENT_ERROR bad command line format\r\n"));
        } else if (a == b) {
            kv__say(c, KV_LIT("SAME src and dst class are identical\r\n"));
        } else if (a < 0 || a > 63 || b < 0 || b > 63) {
            kv__say(c, KV_LIT("BADCLASS invalid src or dst class id\r\n"));
        } else {
            kv__say(c, KV_LIT("NOSPARE source class has no spare pages\r\n"));
        }
        return 1;
    }
    if (t->n == 3 && kv__is(t, 1, "automove")) {
        if (!kv__num(t, 2, 0, &a)) {
            kv__say(c, KV_LIT("CLIENT_ERROR bad command line format\r\n"));
            return 1;
        }
        if (a > 2) {
            return 0;
        }
        kv__say(c, KV_LIT("OK\r\n")); /* a tuning knob without effect in kvd */
        return 1;
    }
    return 0;
}

static int kv__lru_crawler(kv_conn *c, const kv__toks *t, uint32_t now)
{
    long long v;
    if (t->n == 3 && kv__is(t, 1, "crawl")) {
        if (!kv__is(t, 2, "all")) {
            /* a comma-separated list of class ids, each 1..62 */
            const char *p = t->p[2], *e = t->p[2] + t->len[2];
            while (p <= e) {
                const char *q = memchr(p, ',', (size_t)(e - p));
                if (q == NULL) {
                    q = e;
                }
                kv__toks one = {{p}, {(size_t)(q - p)}, 1};
                if (!kv__num(&one, 0, 0, &v) || v < 1 || v > 62) {
                    kv__say(c, KV_LIT("BADCLASS invalid class id\r\n"));
                    return 1;
                }
                p = q + 1;
            }
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        long long last = atomic_load(&kv__last_crawl_ms);
        if (ms - last < KV_CRAWL_GAP_MS ||
            !atomic_compare_exchange_strong(&kv__last_crawl_ms, &last, ms)) {
            kv__say(c, KV_LIT("BUSY currently processing crawler request\r\n"));
            return 1;
        }
        /* the crawler's job in kvd is the expiry sweep: run a slice of it now */
        kv_ss_maintain(c->srv->store, now);
        kv__say(c, KV_LIT("OK\r\n"));
        return 1;
    }
    if (t->n == 3 && kv__is(t, 1, "metadump")) {
        /* kvd cannot list its keys: answered as memcached -X (dumping disabled) */
        kv__say(c, KV_LIT("ERROR metadump not allowed\r\n"));
        return 1;
    }
    if (t->n == 3 && kv__is(t, 1, "tocrawl")) {
        if (!kv__num(t, 2, 0, &v)) {
            kv__say(c, KV_LIT("CLIENT_ERROR bad command line format\r\n"));
        } else {
            kv__say(c, KV_LIT("OK\r\n"));
        }
        return 1;
    }
    if (t->n == 3 && kv__is(t, 1, "sleep")) {
        if (!kv__num(t, 2, 0, &v)) {
            kv__say(c, KV_LIT("CLIENT_ERROR bad command line format\r\n"));
        } else if (v > 1000000) {
            kv__say(c, KV_LIT("CLIENT_ERROR sleep must be one second or less\r\n"));
        } else {
            kv__say(c, KV_LIT("OK\r\n"));
        }
        return 1;
    }
    if (t->n == 2 && kv__is(t, 1, "enable")) {
        /* kvd's sweep always runs: memcached's answer when its crawler already runs */
        kv__say(c, KV_LIT("ERROR failed to start lru crawler thread\r\n"));
        return 1;
    }
    if (t->n == 2 && kv__is(t, 1, "disable")) {
        /* the sweep is what frees expired items in kvd: it cannot be stopped */
        kv__say(c, KV_LIT("ERROR failed to stop lru crawler thread\r\n"));
        return 1;
    }
    return 0;
}

static int kv__lru(kv_conn *c, const kv__toks *t)
{
    long long v;
    if (t->n == 3 && kv__is(t, 1, "mode")) {
        /* kvd's LRU is flat; it has no segmented mode to switch to */
        if (kv__is(t, 2, "flat")) {
            kv__say(c, KV_LIT("OK\r\n"));
            return 1;
        }
        return 0;
    }
    if (t->n == 3 && kv__is(t, 1, "temp_ttl")) {
        if (!kv__num(t, 2, 1, &v)) {
            return 0;
        }
        kv__say(c, KV_LIT("OK\r\n"));
        return 1;
    }
    if (t->n == 6 && kv__is(t, 1, "tune")) {
        long long a, b;
        for (unsigned i = 4; i < 6; i++) {
            char buf[KV_COMPAT_TOKEN_MAX], *end;
            if (t->len[i] >= sizeof buf) {
                return 0;
            }
            memcpy(buf, t->p[i], t->len[i]);
            buf[t->len[i]] = '\0';
            (void)strtod(buf, &end);
            if (end == buf || *end != '\0') {
                return 0;
            }
        }
        if (!kv__num(t, 2, 0, &a) || !kv__num(t, 3, 0, &b)) {
            return 0;
        }
        kv__say(c, KV_LIT("OK\r\n"));
        return 1;
    }
    return 0;
}

int kv_compat_command(kv_conn *c, const char *line, size_t len, uint32_t now)
{
    kv__toks t;
    kv__tokenize(line, len, &t);
    if (t.n == 0) {
        return 0;
    }
    if (kv__is(&t, 0, "shutdown")) {
        return kv__shutdown(c, &t);
    }
    if (kv__is(&t, 0, "cache_memlimit")) {
        return kv__memlimit(c, &t);
    }
    if (kv__is(&t, 0, "slabs")) {
        return kv__slabs(c, &t);
    }
    if (kv__is(&t, 0, "lru_crawler")) {
        return kv__lru_crawler(c, &t, now);
    }
    if (kv__is(&t, 0, "lru")) {
        return kv__lru(c, &t);
    }
    if (kv__is(&t, 0, "watch")) {
        /* kvd has no live log stream: answered as memcached -W */
        kv__say(c, KV_LIT("CLIENT_ERROR watch commands not allowed\r\n"));
        return 1;
    }
    if (kv__is(&t, 0, "refresh_certs")) {
        kv__say(c, KV_LIT("Error TLS not enabled\r\n"));
        return 1;
    }
    /* extstore (not configured), misbehave (debug builds): ERROR. Meta commands are the
     * parser's (kv_proto.c); "ms" with fewer than 3 tokens is ERROR there too. */
    return 0;
}

int kv_compat_stats(kv_conn *c, const char *arg, size_t len)
{
    kv__toks t;
    kv__tokenize(arg, len, &t);
    if (kv__is(&t, 0, "sizes") && t.n == 1) {
        kv__say(c, KV_LIT("STAT sizes_status disabled\r\nEND\r\n"));
        return 1;
    }
    if (kv__is(&t, 0, "cachedump")) {
        /* kvd cannot list its keys: answered as memcached -X */
        kv__say(c, KV_LIT("CLIENT_ERROR stats cachedump not allowed\r\n"));
        return 1;
    }
    if (kv__is(&t, 0, "detail")) {
        if (t.n == 2 && (kv__is(&t, 1, "on") || kv__is(&t, 1, "off"))) {
            kv__say(c, KV_LIT("OK\r\n"));
        } else if (t.n == 2 && kv__is(&t, 1, "dump")) {
            kv__say(c, KV_LIT("END\r\n")); /* kvd collects no per-prefix statistics */
        } else {
            kv__say(c, KV_LIT("CLIENT_ERROR usage: stats detail on|off|dump\r\n"));
        }
        return 1;
    }
    if (kv__is(&t, 0, "extstore") && t.n == 1) {
        kv__say(c, KV_LIT("END\r\n"));
        return 1;
    }
    if (kv__is(&t, 0, "slabs") && t.n == 1) {
        kv_store_stats st;
        kv_ss_get_stats(c->srv->store, &st);
        char buf[128];
        int n = snprintf(buf, sizeof buf, "STAT active_slabs 0\r\nSTAT total_malloced %llu\r\n",
                         (unsigned long long)st.bytes);
        kv__say(c, buf, (size_t)n);
        kv__say(c, KV_LIT("END\r\n"));
        return 1;
    }
    if (kv__is(&t, 0, "conns") && t.n == 1) {
        /* this connection only: kvd's workers own their connection lists */
        char buf[160];
        int n = snprintf(buf, sizeof buf,
                         "STAT %llu:state conn_parse_cmd\r\nSTAT %llu:secs_since_last_cmd 0\r\n",
                         (unsigned long long)c->id, (unsigned long long)c->id);
        kv__say(c, buf, (size_t)n);
        kv__say(c, KV_LIT("END\r\n"));
        return 1;
    }
    return 0;
}
