/* test_parity_corpus.c: the corpus walker hands every file over whole: a corpus input
 * over 64 KiB (the old fixed buffer) used to be cut silently, so its tail was never
 * compared. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "corpus.h"

static size_t seen_len;
static unsigned long seen_sum;

static void record(const char *data, size_t len)
{
    seen_len += len;
    for (size_t i = 0; i < len; i++)
        seen_sum += (unsigned char)data[i];
}

static void files_over_64k_arrive_whole(void **state)
{
    (void)state;
    char dir[] = "/tmp/graft-corpus-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/big", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    const size_t n = 200 * 1024 + 7;
    unsigned long sum = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)('a' + i % 26);
        sum += c;
        fputc(c, f);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/empty", dir);
    f = fopen(path, "wb");
    assert_non_null(f);
    fclose(f);

    assert_int_equal(parity_each_file(dir, record), 2);
    assert_int_equal(seen_len, n);
    assert_int_equal(seen_sum, sum);

    snprintf(path, sizeof path, "%s/big", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/empty", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(files_over_64k_arrive_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
