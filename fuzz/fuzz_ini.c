/* libFuzzer harness of src/ini.c, the core's INI reader: any bytes either parse or are
 * refused with a line inside the text; every event has a line that never decreases and
 * lies inside the text, a section name that is not empty, a key that is not empty, and
 * no string with a NUL, '\n' or '\r' cut out of the line, nor a blank at either end.
 * Aborts (libFuzzer saves the input) when one of these fails. Built in fuzz builds
 * (fuzz/CMakeLists.txt); quick run: see fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graft/base.h"
#include "ini.h"

typedef struct state {
    int lines, last;
} state;

static void check_str(const char *s, bool nonempty)
{
    size_t n = strlen(s);
    if ((nonempty && n == 0) || strchr(s, '\n') || strchr(s, '\r')) {
        abort();
    }
    if (n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')) {
        abort();
    }
}

static bool on_event(void *user, int line, const char *section, const char *key, const char *value)
{
    state *st = user;
    if (line < st->last || line < 1 || line > st->lines) {
        abort();
    }
    st->last = line;
    check_str(section, key == NULL);
    if (key) {
        check_str(key, true);
        check_str(value, false);
    } else if (value) {
        abort();
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    state st = {1, 0};
    for (size_t i = 0; i < size; i++) {
        st.lines += data[i] == '\n';
    }
    graft__ini_error err;
    int rc = graft__ini_parse((const char *)data, size, on_event, &st, &err);
    if (rc != GRAFT_OK &&
        (rc != GRAFT_ECONFIG || err.line < 1 || err.line > st.lines || err.msg[0] == '\0')) {
        abort();
    }
    return 0;
}
