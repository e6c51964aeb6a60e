/* wordcount.c: the legacy C implementation of wc_count (see wordcount.h). */
#include "wordcount.h"

static int wc_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

int wc_count(const char *text, size_t len, wc_counts *out)
{
    if (!out || (!text && len))
        return 2;
    wc_counts c = {0, 0, (uint64_t)len, 0};
    uint64_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)text[i];
        if (b == '\n')
            c.lines++;
        if (wc_is_space(b)) {
            run = 0;
        } else {
            if (run == 0)
                c.words++;
            run++;
            if (run > c.longest)
                c.longest = run;
        }
    }
    *out = c;
    return 0;
}
