/*
 * status.c: names and messages of graft's status codes, modes and breaker states.
 *
 * The strings are part of the contract: the graft-ffi crate returns the identical text
 * for the same numbers (tests/ffi compares them), so they are copied from the comments
 * of include/graft/base.h and must change together with them.
 */
#include <string.h>

#include "internal.h"

static const char *const graft__status_names[GRAFT_STATUS_MAX + 1] = {
    "GRAFT_OK",      "GRAFT_EINVAL",    "GRAFT_ENULL",        "GRAFT_ETOOSMALL", "GRAFT_EUTF8",
    "GRAFT_EPARSE",  "GRAFT_ENOTFOUND", "GRAFT_EUNSUPPORTED", "GRAFT_EINTERNAL", "GRAFT_EPANIC",
    "GRAFT_ENOMEM",  "GRAFT_EHANDLE",   "GRAFT_EEXIST",       "GRAFT_ESTATE",    "GRAFT_EIO",
    "GRAFT_ECONFIG", "GRAFT_EINJECTED",
};

static const char *const graft__status_text[GRAFT_STATUS_MAX + 1] = {
    "success",
    "an argument is out of its documented range",
    "a required pointer was NULL",
    "the caller's buffer is too small; the needed size was reported",
    "a string was not valid UTF-8",
    "input could not be parsed",
    "no such item (seam, key, file, ...)",
    "valid request this build or object cannot do",
    "a bug: an invariant did not hold",
    "Rust code panicked; the panic was caught at the boundary",
    "an allocation failed",
    "a handle was stale, freed twice, or never issued",
    "the item already exists (e.g. seam registered twice)",
    "the object is not in a state that allows this call",
    "an I/O operation failed (see the message for errno)",
    "configuration rejected (the message names the line)",
    "a failure injected on purpose by fault injection",
};

const char *graft_strerror(int status)
{
    if (status < 0 || status > GRAFT_STATUS_MAX)
        return "unknown status";
    return graft__status_text[status];
}

const char *graft_status_name(int status)
{
    if (status < 0 || status > GRAFT_STATUS_MAX)
        return NULL;
    return graft__status_names[status];
}

const char *graft_version(void)
{
#define GRAFT__STR2(x) #x
#define GRAFT__STR(x) GRAFT__STR2(x)
    return GRAFT__STR(GRAFT_VERSION_MAJOR) "." GRAFT__STR(GRAFT_VERSION_MINOR) "." GRAFT__STR(
        GRAFT_VERSION_PATCH);
}

static const char *const graft__mode_names[GRAFT_MODE_COUNT] = {
    "legacy", "shadow", "canary", "candidate", "candidate-only",
};

const char *graft_mode_name(int mode)
{
    if (mode < 0 || mode >= GRAFT_MODE_COUNT)
        return NULL;
    return graft__mode_names[mode];
}

int graft_mode_parse(const char *name, graft_mode *out)
{
    if (!name || !out)
        return GRAFT_ENULL;
    for (int i = 0; i < GRAFT_MODE_COUNT; i++) {
        if (strcmp(name, graft__mode_names[i]) == 0) {
            *out = (graft_mode)i;
            return GRAFT_OK;
        }
    }
    /* The underscore spelling is accepted too: it is what people type in INI files. */
    if (strcmp(name, "candidate_only") == 0) {
        *out = GRAFT_MODE_CANDIDATE_ONLY;
        return GRAFT_OK;
    }
    return GRAFT_EINVAL;
}

const char *graft_breaker_state_name(int state)
{
    switch (state) {
    case GRAFT_BREAKER_CLOSED:
        return "closed";
    case GRAFT_BREAKER_OPEN:
        return "open";
    case GRAFT_BREAKER_HALF_OPEN:
        return "half-open";
    case GRAFT_BREAKER_DISABLED:
        return "disabled";
    default:
        return NULL;
    }
}
