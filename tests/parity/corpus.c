/* corpus.c: the folder walker behind parity_each_file (see corpus.h). */
#define _POSIX_C_SOURCE 200809L
#include "corpus.h"

#include <dirent.h>
#include <stdio.h>

unsigned parity_each_file(const char *dir, void (*fn)(const char *data, size_t len))
{
    DIR *d = opendir(dir);
    unsigned n = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char file[1024];
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        FILE *f = fopen(file, "rb");
        if (!f)
            continue;
        static char data[1 << 16];
        size_t len = fread(data, 1, sizeof data, f);
        fclose(f);
        fn(data, len);
        n++;
    }
    closedir(d);
    return n;
}
