/*
 * mismatch.c: what happens when the two implementations disagree: a structured,
 * rate-limited log line, a sample in the seam's ring of recent mismatches (shown by
 * the JSON snapshot), and optionally a capture file with the serialised input so the
 * mismatch becomes a replayable test case.
 *
 * Called from graft_call, so it allocates nothing: descriptions go to stack buffers,
 * the capture buffer is preallocated per seam, and the locks are only try-locked (a
 * sample or capture that would have to wait is dropped and counted instead).
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
        if (n >= cap)
            buf[cap - 1] = '\0';
        else
            buf[n] = '\0';
        return;
    }
    const unsigned char *p = out;
    size_t n = s->def.output_size < 32 ? s->def.output_size : 32;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 3 < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%02x", p[i]);
    if (n < s->def.output_size && o + 4 < cap)
        snprintf(buf + o, cap - o, "...");
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
    uint32_t per_sec = atomic_load_explicit(&s->log_per_second, memory_order_relaxed);
    if (per_sec == 0)
        return false;
    uint64_t sec = now_ns / 1000000000ull;
    uint64_t cur = atomic_load_explicit(&s->log_window, memory_order_relaxed);
    for (;;) {
        uint64_t csec = cur >> 20, cnt = cur & 0xFFFFF;
        uint64_t next;
        if (csec != (sec & 0xFFFFFFFFFFFull))
            next = ((sec & 0xFFFFFFFFFFFull) << 20) | 1;
        else if (cnt < per_sec && cnt < 0xFFFFF)
            next = cur + 1;
        else
            return false;
        if (atomic_compare_exchange_weak_explicit(&s->log_window, &cur, next, memory_order_relaxed,
                                                  memory_order_relaxed))
            return true;
    }
}

/* Writes one capture file; returns true and fills `name` when written. */
static bool graft__capture(graft_seam *s, const void *input, uint64_t unix_ns, char *name,
                           size_t namecap)
{
    if (!s->def.serialize_input)
        return false;
    if (pthread_mutex_trylock(&s->cap_lock) != 0) {
        atomic_fetch_add_explicit(&s->capture_dropped, 1, memory_order_relaxed);
        return false;
    }
    bool done = false;
    if (!s->capture_dir[0] || !s->capture_buf)
        goto out;
    uint64_t files = atomic_load_explicit(&s->captures, memory_order_relaxed);
    uint64_t bytes = atomic_load_explicit(&s->capture_bytes, memory_order_relaxed);
    if (files >= s->capture_max_files) {
        atomic_fetch_add_explicit(&s->capture_dropped, 1, memory_order_relaxed);
        goto out;
    }
    size_t n = s->def.serialize_input(s->ctx, input, s->capture_buf, s->capture_buf_len);
    if (n > s->capture_buf_len || bytes + n > s->capture_max_bytes) {
        atomic_fetch_add_explicit(&s->capture_dropped, 1, memory_order_relaxed);
        goto out;
    }
    uint64_t seq = atomic_fetch_add_explicit(&s->capture_seq, 1, memory_order_relaxed);
    char path[1400], tmp[1400];
    snprintf(name, namecap, "%s-%019llu-%06llu.bin", s->name, (unsigned long long)unix_ns,
             (unsigned long long)seq);
    snprintf(path, sizeof path, "%s/%s", s->capture_dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", s->capture_dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        graft__log(s->rt, GRAFT_LOG_WARN, "graft.capture", "capture seam=%s path=%s error=%s",
                   s->name, tmp, strerror(errno));
        atomic_fetch_add_explicit(&s->capture_dropped, 1, memory_order_relaxed);
        goto out;
    }
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, s->capture_buf + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    bool ok = off == n;
    if (close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        graft__log(s->rt, GRAFT_LOG_WARN, "graft.capture", "capture seam=%s path=%s error=%s",
                   s->name, path, strerror(errno));
        unlink(tmp);
        atomic_fetch_add_explicit(&s->capture_dropped, 1, memory_order_relaxed);
        goto out;
    }
    atomic_store_explicit(&s->captures, files + 1, memory_order_relaxed);
    atomic_store_explicit(&s->capture_bytes, bytes + n, memory_order_relaxed);
    done = true;
out:
    pthread_mutex_unlock(&s->cap_lock);
    return done;
}

void graft__on_mismatch(graft_seam *s, uint64_t key, bool has_key, const void *input,
                        const void *legacy_out, const void *candidate_out)
{
    char ld[GRAFT__DESC_MAX], cd[GRAFT__DESC_MAX];
    graft__describe(s, input, legacy_out, ld, sizeof ld);
    graft__describe(s, input, candidate_out, cd, sizeof cd);
    uint64_t unix_ns = graft__unix_ns();

    if (pthread_mutex_trylock(&s->sample_lock) == 0) {
        graft__sample *smp = &s->samples[s->sample_total % GRAFT__SAMPLES];
        smp->unix_ns = unix_ns;
        smp->key = key;
        smp->has_key = has_key;
        memcpy(smp->legacy, ld, sizeof ld);
        memcpy(smp->candidate, cd, sizeof cd);
        s->sample_total++;
        pthread_mutex_unlock(&s->sample_lock);
    }

    char file[160];
    file[0] = '\0';
    graft__capture(s, input, unix_ns, file, sizeof file);

    if (!graft__log_enabled(s->rt, GRAFT_LOG_WARN))
        return;
    if (!graft__log_allowed(s, unix_ns)) {
        atomic_fetch_add_explicit(&s->log_suppressed, 1, memory_order_relaxed);
        return;
    }
    char lq[2 * GRAFT__DESC_MAX + 8], cq[2 * GRAFT__DESC_MAX + 8], keybuf[24];
    graft__quote(ld, lq, sizeof lq);
    graft__quote(cd, cq, sizeof cq);
    if (has_key)
        snprintf(keybuf, sizeof keybuf, "%llu", (unsigned long long)key);
    else
        snprintf(keybuf, sizeof keybuf, "-");
    uint64_t sup = atomic_exchange_explicit(&s->log_suppressed, 0, memory_order_relaxed);
    graft__log(s->rt, GRAFT_LOG_WARN, "graft.mismatch",
               "mismatch seam=%s key=%s legacy=\"%s\" candidate=\"%s\"%s%s%s suppressed=%llu",
               s->name, keybuf, lq, cq, file[0] ? " capture=\"" : "", file, file[0] ? "\"" : "",
               (unsigned long long)sup);
}
