/*
 * kv_replay.c: `kv-replay`, reproduce a production mismatch in one command.
 *
 *   kv-replay [-q] PATH...
 *
 * Every PATH is a capture file or a directory of them, searched recursively (the
 * kv.parse / kv.hash seams' capture.dir, fuzzer artefacts, fuzz/corpus,
 * fuzz/regressions). Each input is run through the C implementation and its Rust twin,
 * and the differences are printed field by field. kv.hash is retired (its C is deleted):
 * its old captures are read and their Rust hash printed, with nothing left to compare. Kind: a name
 * starting "kv.hash-" or content starting "KVH1" is a hash input; anything else is a parse input
 * ("KVP1" header with the limits it was parsed under, or raw bytes under kvd's default limits; see
 * server/kv_graft.h). Exit status: 0 all identical, 1 some differ, 2 usage or I/O error.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "graft/graft_ffi.h"
#include "kv_graft.h"
#include "kv_rs.h"

static int quiet;
static unsigned long n_files, n_diff, n_err;

static int read_file(const char *path, unsigned char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    size_t cap = 4096, n = 0;
    unsigned char *b = malloc(cap);
    while (b != NULL) {
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        unsigned char *nb = realloc(b, cap * 2);
        if (nb == NULL) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int bad = ferror(f) || b == NULL;
    fclose(f);
    if (bad) {
        free(b);
        return -1;
    }
    *data = b;
    *len = n;
    return 0;
}

#define FIELD(name, fmt, cast)                                                                     \
    if (c->name != r->name) {                                                                      \
        printf("    %-9s C=%" fmt "  Rust=%" fmt "\n", #name, (cast)c->name, (cast)r->name);       \
    }

static void print_field_diff(const kv_request *c, const kv_request *r)
{
    if (c->status != r->status)
        printf("    %-9s C=%s  Rust=%s\n", "status", kv_parse_status_name(c->status),
               kv_parse_status_name(r->status));
    if (c->cmd != r->cmd)
        printf("    %-9s C=%s  Rust=%s\n", "cmd", kv_cmd_name(c->cmd), kv_cmd_name(r->cmd));
    if (c->error != r->error)
        printf("    %-9s C=%s  Rust=%s\n", "error", kv_parse_error_name(c->error),
               kv_parse_error_name(r->error));
    FIELD(noreply, "u", unsigned)
    FIELD(consumed, PRIu32, uint32_t)
    FIELD(swallow, PRIu32, uint32_t)
    FIELD(nkeys, PRIu32, uint32_t)
    FIELD(key_off, PRIu32, uint32_t)
    FIELD(key_len, PRIu32, uint32_t)
    FIELD(data_off, PRIu32, uint32_t)
    FIELD(data_len, PRIu32, uint32_t)
    FIELD(arg_off, PRIu32, uint32_t)
    FIELD(arg_len, PRIu32, uint32_t)
    FIELD(flags, PRIu32, uint32_t)
    FIELD(reserved, PRIu32, uint32_t)
    FIELD(exptime, PRId64, int64_t)
    FIELD(cas, PRIu64, uint64_t)
    FIELD(delta, PRIu64, uint64_t)
}

static void show_input(const char *buf, size_t len)
{
    printf("  input (%zu bytes): \"", len);
    for (size_t i = 0; i < len && i < 200; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
            putchar(ch);
        else
            printf("\\x%02x", ch);
    }
    printf("\"%s\n", len > 200 ? "..." : "");
}

static void replay_parse(const char *path, const unsigned char *data, size_t len)
{
    kv_parse_input in;
    kv_parse_input_deserialize(data, len, &in);
    kv_request c, r;
    kv_parse(in.buf, in.len, &in.limits, &c);
    int st = kv_rs_parse(in.buf, in.len, &in.limits, &r);
    char dc[1024], dr[1024];
    kv_request_describe(in.buf, in.len, &c, dc, sizeof dc);
    if (st != GRAFT_OK) {
        char msg[256];
        graft_ffi_last_error_message(msg, sizeof msg);
        printf("DIFF kv.parse %s (limits %" PRIu32 "/%" PRIu32 ")\n", path, in.limits.item_size_max,
               in.limits.max_line);
        show_input(in.buf, in.len);
        printf("  C:    %s\n  Rust: failed: %s (%s)\n", dc, graft_ffi_status_name(st), msg);
        n_diff++;
        return;
    }
    kv_request_describe(in.buf, in.len, &r, dr, sizeof dr);
    if (kv_request_equal(&c, &r)) {
        if (!quiet)
            printf("same kv.parse %s: %s\n", path, dc);
        return;
    }
    n_diff++;
    printf("DIFF kv.parse %s (limits %" PRIu32 "/%" PRIu32 ")\n", path, in.limits.item_size_max,
           in.limits.max_line);
    show_input(in.buf, in.len);
    printf("  C:    %s\n  Rust: %s\n  fields that differ:\n", dc, dr);
    print_field_diff(&c, &r);
}

static void replay_hash(const char *path, const unsigned char *data, size_t len)
{
    /* "KVH1" | key was the capture format of the retired kv.hash seam. */
    if (len >= 4 && memcmp(data, "KVH1", 4) == 0) {
        data += 4;
        len -= 4;
    }
    if (!quiet)
        printf("retired kv.hash %s: Rust 0x%016" PRIx64
               " (no C twin left; tests/golden pins its values)\n",
               path, kv_rs_hash_key(data, len));
}

static void replay_file(const char *path, const char *name)
{
    unsigned char *data;
    size_t len;
    if (read_file(path, &data, &len) != 0) {
        fprintf(stderr, "kv-replay: %s: %s\n", path, strerror(errno));
        n_err++;
        return;
    }
    n_files++;
    int hash = strncmp(name, "kv.hash-", 8) == 0 || (len >= 4 && memcmp(data, "KVH1", 4) == 0);
    if (hash)
        replay_hash(path, data, len);
    else
        replay_parse(path, data, len);
    free(data);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "kv-replay: %s: %s\n", path, strerror(errno));
        n_err++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        const char *slash = strrchr(path, '/');
        replay_file(path, slash ? slash + 1 : path);
        return;
    }
    DIR *d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "kv-replay: %s: %s\n", path, strerror(errno));
        n_err++;
        return;
    }
    /* Sorted, so a capture directory replays in time order (names sort by time). */
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* also skips the seam's .tmp files */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *names);
            if (nn == NULL)
                break;
            names = nn;
        }
        names[n] = strdup(e->d_name);
        if (names[n] != NULL)
            n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        struct stat fs;
        if (stat(full, &fs) == 0 && S_ISREG(fs.st_mode))
            replay_file(full, names[i]);
        else if (stat(full, &fs) == 0 && S_ISDIR(fs.st_mode))
            replay_path(full);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "-q") == 0) {
        quiet = 1;
        first = 2;
    }
    if (first >= argc || strcmp(argv[first], "-h") == 0 || strcmp(argv[first], "--help") == 0) {
        fprintf(stderr, "usage: kv-replay [-q] CAPTURE_FILE_OR_DIR...\n"
                        "Runs captured kv.parse / kv.hash inputs through the C and the Rust\n"
                        "implementation and prints the differences (-q: only differences).\n"
                        "Exit: 0 identical, 1 differences, 2 errors.\n");
        return 2;
    }
    for (int i = first; i < argc; i++)
        replay_path(argv[i]);
    printf("kv-replay: %lu inputs, %lu differ, %lu unreadable\n", n_files, n_diff, n_err);
    if (n_err)
        return 2;
    return n_diff ? 1 : 0;
}
