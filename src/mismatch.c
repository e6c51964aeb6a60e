/*
 * mismatch.c: what happens when the two implementations disagree: a structured,
 * rate-limited log line, a sample in the seam's ring of recent mismatches (shown by
 * the JSON snapshot), and optionally a capture file with the serialised input so the
 * mismatch becomes a replayable test case.
 *
 * Called from graft_call, so it allocates nothing, takes no lock and does no I/O:
 * descriptions go to stack buffers, the sample ring is try-locked, and the capture
 * file and log line are a report for the background writer (writer.h), whose ring
 * slot also holds the serialised input. A full ring drops the report (counted).
 *
 * Capture files: <capture_dir>/<seam>-<unix_ns, 19 digits>-<seq, 6 digits>.bin, the
 * raw bytes serialize_input produced, written to a hidden temporary name and renamed,
 * so a reader never sees a partial file and names sort by time.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Default description: the first bytes of the output in hex. */
static void graft__describe(graft_seam *s, const void *input, const void *out, char *buf,
                            size_t cap)
{
    if (s->def.describe_output) {
        size_t n = s->def.describe_output(s->ctx, input, out, buf, cap);
        if (n >= cap) {
            buf[cap - 1] = '\0';
        } else {
            buf[n] = '\0';
        }
        return;
    }
    const unsigned char *p = out;
    size_t n = s->def.output_size < 32 ? s->def.output_size : 32;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 3 < cap; i++) {
        o += (size_t)snprintf(buf + o, cap - o, "%02x", p[i]);
    }
    if (n < s->def.output_size && o + 4 < cap) {
        snprintf(buf + o, cap - o, "...");
    }
}

/* Quotes a description for a key="value" log field. */
static void graft__quote(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 5 < cap; p++) {
        if (*p == '"' || *p == '\\') {
            out[o++] = '\\';
            out[o++] = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", *p);
        } else {
            out[o++] = (char)*p;
        }
    }
    out[o] = '\0';
}

static bool graft__log_allowed(graft_seam *s, uint64_t now_ns)
{
    uint32_t per_sec = atomic_load_explicit(&s->mlog.per_second, memory_order_relaxed);
    if (per_sec == 0) {
        return false;
    }
    uint64_t sec = now_ns / 1000000000ull;
    uint64_t cur = atomic_load_explicit(&s->mlog.window, memory_order_relaxed);
    for (;;) {
        uint64_t csec = cur >> 20, cnt = cur & 0xFFFFF;
        uint64_t next;
        if (csec != (sec & 0xFFFFFFFFFFFull)) {
            next = ((sec & 0xFFFFFFFFFFFull) << 20) | 1;
        } else if (cnt < per_sec && cnt < 0xFFFFF) {
            next = cur + 1;
        } else {
            return false;
        }
        if (atomic_compare_exchange_weak_explicit(&s->mlog.window, &cur, next, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            return true;
        }
    }
}

/* Writer thread: writes one capture file; returns true and fills `name` when written.
 * Blocking on cap_lock is fine here: no call waits for the writer. */
static bool graft__capture_write(graft_seam *s, const unsigned char *data, size_t n,
                                 uint64_t unix_ns, char *name, size_t namecap)
{
    pthread_mutex_lock(&s->cap.lock);
    bool done = false;
    if (!s->cap.dir[0]) {
        atomic_fetch_add_explicit(&s->cap.dropped, 1, memory_order_relaxed);
        goto out;
    }
    uint64_t files = atomic_load_explicit(&s->cap.files, memory_order_relaxed);
    uint64_t bytes = atomic_load_explicit(&s->cap.bytes, memory_order_relaxed);
    if (files >= s->cap.max_files || bytes + n > s->cap.max_bytes) {
        atomic_fetch_add_explicit(&s->cap.dropped, 1, memory_order_relaxed);
        goto out;
    }
    uint64_t seq = atomic_fetch_add_explicit(&s->cap.seq, 1, memory_order_relaxed);
    char path[1400], tmp[1400];
    snprintf(name, namecap, "%s-%019llu-%06llu.bin", s->name, (unsigned long long)unix_ns,
             (unsigned long long)seq);
    snprintf(path, sizeof path, "%s/%s", s->cap.dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", s->cap.dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        graft__log(s->rt, GRAFT_LOG_WARN, "graft.capture", "capture seam=%s path=%s error=%s",
                   s->name, tmp, strerror(errno));
        atomic_fetch_add_explicit(&s->cap.dropped, 1, memory_order_relaxed);
        goto out;
    }
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, data + off, n - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break;
        }
        off += (size_t)w;
    }
    bool ok = off == n;
    if (close(fd) != 0) {
        ok = false;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = false;
    }
    if (!ok) {
        graft__log(s->rt, GRAFT_LOG_WARN, "graft.capture", "capture seam=%s path=%s error=%s",
                   s->name, path, strerror(errno));
        unlink(tmp);
        atomic_fetch_add_explicit(&s->cap.dropped, 1, memory_order_relaxed);
        goto out;
    }
    atomic_store_explicit(&s->cap.files, files + 1, memory_order_relaxed);
    atomic_store_explicit(&s->cap.bytes, bytes + n, memory_order_relaxed);
    done = true;
out:
    pthread_mutex_unlock(&s->cap.lock);
    if (!done) {
        name[0] = '\0';
    }
    return done;
}

/* Writer thread: the capture file, then the log line naming it. */
static void graft__mismatch_run(graft__report *r)
{
    graft_seam *s = r->seam;
    char file[160];
    file[0] = '\0';
    if (r->capture_len) {
        const unsigned char *data = graft__writer_payload(&s->rt->writer, r);
        graft__capture_write(s, data, r->capture_len, r->unix_ns, file, sizeof file);
    }
    if (!r->log) {
        return;
    }
    char lq[2 * GRAFT__DESC_MAX + 8], cq[2 * GRAFT__DESC_MAX + 8], keybuf[24], big[96];
    graft__quote(r->legacy, lq, sizeof lq);
    graft__quote(r->candidate, cq, sizeof cq);
    if (r->has_key) {
        snprintf(keybuf, sizeof keybuf, "%llu", (unsigned long long)r->key);
    } else {
        snprintf(keybuf, sizeof keybuf, "-");
    }
    big[0] = '\0';
    if (r->capture_need) {
        snprintf(big, sizeof big, " capture_dropped=\"input of %zu bytes over the %u-byte limit\"",
                 r->capture_need, GRAFT__CAPTURE_MAX);
    }
    uint64_t sup = atomic_exchange_explicit(&s->mlog.suppressed, 0, memory_order_relaxed);
    graft__log(s->rt, GRAFT_LOG_WARN, "graft.mismatch",
               "mismatch seam=%s key=%s legacy=\"%s\" candidate=\"%s\"%s%s%s%s suppressed=%llu",
               s->name, keybuf, lq, cq, file[0] ? " capture=\"" : "", file, file[0] ? "\"" : "",
               big, (unsigned long long)sup);
}

/* The serving thread's part: descriptions, the sample (try-locked), the rate-limit
 * decision and the capture bytes, handed to the writer. No I/O, no lock, no malloc. */
void graft__on_mismatch(graft_seam *s, uint64_t key, bool has_key, const void *input,
                        const void *legacy_out, const void *candidate_out)
{
    char ld[GRAFT__DESC_MAX], cd[GRAFT__DESC_MAX];
    graft__describe(s, input, legacy_out, ld, sizeof ld);
    graft__describe(s, input, candidate_out, cd, sizeof cd);
    uint64_t unix_ns = graft__unix_ns();

    if (pthread_mutex_trylock(&s->samples.lock) == 0) {
        graft__sample *smp = &s->samples.ring[s->samples.total % GRAFT__SAMPLES];
        smp->unix_ns = unix_ns;
        smp->key = key;
        smp->has_key = has_key;
        memcpy(smp->legacy, ld, sizeof ld);
        memcpy(smp->candidate, cd, sizeof cd);
        s->samples.total++;
        pthread_mutex_unlock(&s->samples.lock);
    }

    bool want_cap =
        s->def.serialize_input && atomic_load_explicit(&s->cap.on, memory_order_relaxed) != 0;
    bool want_log = false;
    if (graft__log_enabled(s->rt, GRAFT_LOG_WARN)) {
        want_log = graft__log_allowed(s, unix_ns);
        if (!want_log) {
            atomic_fetch_add_explicit(&s->mlog.suppressed, 1, memory_order_relaxed);
        }
    }
    if (!want_cap && !want_log) {
        return;
    }
    graft__writer *w = &s->rt->writer;
    graft__report *r = graft__writer_claim(w);
    if (!r) {
        /* The writer is behind: drop, and count what was lost. */
        atomic_fetch_add_explicit(&s->reports_dropped, 1, memory_order_relaxed);
        if (want_cap) {
            atomic_fetch_add_explicit(&s->cap.dropped, 1, memory_order_relaxed);
        }
        if (want_log) {
            atomic_fetch_add_explicit(&s->mlog.suppressed, 1, memory_order_relaxed);
        }
        return;
    }
    r->run = graft__mismatch_run;
    r->kind = GRAFT__REPORT_MISMATCH;
    r->seam = s;
    r->key = key;
    r->has_key = has_key;
    r->unix_ns = unix_ns;
    r->log = want_log;
    r->capture_len = 0;
    r->capture_need = 0;
    memcpy(r->legacy, ld, sizeof r->legacy);
    memcpy(r->candidate, cd, sizeof r->candidate);
    if (want_cap) {
        unsigned char *buf = graft__writer_payload(w, r);
        size_t n = buf ? s->def.serialize_input(s->ctx, input, buf, GRAFT__CAPTURE_MAX) : 0;
        if (!buf) {
            atomic_fetch_add_explicit(&s->cap.dropped, 1, memory_order_relaxed);
        } else if (n > GRAFT__CAPTURE_MAX) {
            /* Loud: counted on its own, named in the log line, and warned once. */
            r->capture_need = n;
            atomic_fetch_add_explicit(&s->cap.dropped, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&s->cap.too_large, 1, memory_order_relaxed);
            if (!atomic_exchange_explicit(&s->cap.too_large_warned, 1, memory_order_relaxed)) {
                graft__log_deferred(s, GRAFT_LOG_WARN, "graft.capture",
                                    "capture seam=%s: an input of %zu bytes is over the %u-byte "
                                    "capture limit and is not captured (counted in "
                                    "capture_too_large; warned once)",
                                    s->name, n, GRAFT__CAPTURE_MAX);
            }
        } else {
            r->capture_len = n;
        }
    }
    graft__writer_publish(w, r);
}
