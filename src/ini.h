/*
 * ini.h: libgraft's own INI reader (configuration files, src/config.c), so the core
 * needs no INI library. Strict, line-oriented, and reentrant; it reads a text already
 * in memory and reports what it finds through one callback:
 *
 *   [section]          -> fn(user, line, "section", NULL, NULL)
 *   key = value        -> fn(user, line, "section", "key", "value")   ("" before any section)
 *
 * The grammar, one statement per line (lines end in \n, \r\n is accepted):
 *   - blank lines, and lines whose first non-blank character is ';' or '#', are comments;
 *   - "[name]": name trimmed, not empty, no ']' or '[' inside; after ']' only blanks or a
 *     comment;
 *   - "key = value": key trimmed, not empty, of printable characters other than '[', ']',
 *     '=', ';' and '#'; value trimmed, may be empty; a ';' or '#' that starts the value
 *     or follows a blank starts a comment that runs to the end of the line;
 *   - anything else is an error: a line without '=', a NUL byte or another control
 *     character (tab aside; a CR only as part of CRLF), a line over GRAFT__INI_MAX_LINE
 *     bytes. A UTF-8 byte order mark at the very start is skipped.
 * Unlike libinih there are no continuation lines (an indented line is a statement of
 * its own) and ':' is not a separator.
 *
 * Returns GRAFT_OK after the last line; GRAFT_ECONFIG at the first syntax error (line
 * and message in *err) or when fn returns false (line in *err, message empty: the
 * callback keeps its own). Nothing is allocated.
 */
#ifndef GRAFT_INI_H
#define GRAFT_INI_H

#include <stdbool.h>
#include <stddef.h>

#define GRAFT__INI_MAX_LINE 4096

typedef bool (*graft__ini_fn)(void *user, int line, const char *section, const char *key,
                              const char *value);

typedef struct graft__ini_error {
    int line;      /* 1-based */
    char msg[128]; /* "" when the callback stopped the parse */
} graft__ini_error;

int graft__ini_parse(const char *text, size_t len, graft__ini_fn fn, void *user,
                     graft__ini_error *err);

#endif
