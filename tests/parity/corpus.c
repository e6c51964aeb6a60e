/* corpus.c: the folder walker behind parity_each_file (see corpus.h). */
#define _POSIX_C_SOURCE 200809L
#include "corpus.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads all of f into *buf (grown as needed); false on a read error. */
static bool parity__read_all(FILE *f, char **buf, size_t *cap, size_t *len)
{
    *len = 0;
    for (;;) {
        if (*len == *cap) {
            size_t ncap = *cap ? *cap * 2 : 1 << 16;
            char *nb = realloc(*buf, ncap);
            if (!nb)
                return false;
            *buf = nb;
            *cap = ncap;
        }
        size_t n = fread(*buf + *len, 1, *cap - *len, f);
        *len += n;
        if (n == 0)
            return !ferror(f);
    }
}

unsigned parity_each_file(const char *dir, void (*fn)(const char *data, size_t len))
{
    DIR *d = opendir(dir);
    unsigned n = 0;
    if (!d)
        return 0;
    char *data = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char file[1024];
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        FILE *f = fopen(file, "rb");
        if (!f)
            continue;
        size_t len;
        bool ok = parity__read_all(f, &data, &cap, &len);
        int err = errno;
        fclose(f);
        if (!ok) {
            /* A file the test cannot read whole is a broken corpus, not a smaller one. */
            fprintf(stderr, "parity corpus: cannot read %s: %s\n", file, strerror(err));
            exit(1);
        }
        fn(len ? data : "", len);
        n++;
    }
    free(data);
    closedir(d);
    return n;
}
