/*
 * status.c: names and messages of graft's status codes, modes, breaker states and
 * candidate-only failure policies.
 *
 * Every table here is generated from the X-macro lists of the public headers
 * (GRAFT_STATUS_MAP in base.h, GRAFT_MODE_MAP, GRAFT_BREAKER_STATE_MAP and
 * GRAFT_ON_FAILURE_MAP in graft.h);
 * the graft-ffi crate generates its status texts from the same list.
 */
#include <ctype.h>
#include <string.h>

#include "internal.h"

#define GRAFT__STATUS_NAME(suffix, number, rust, message) [number] = "GRAFT_" #suffix,
static const char *const graft__status_names[GRAFT_STATUS_MAX + 1] = {
    GRAFT_STATUS_MAP(GRAFT__STATUS_NAME)};
#undef GRAFT__STATUS_NAME

#define GRAFT__STATUS_TEXT(suffix, number, rust, message) [number] = message,
static const char *const graft__status_text[GRAFT_STATUS_MAX + 1] = {
    GRAFT_STATUS_MAP(GRAFT__STATUS_TEXT)};
#undef GRAFT__STATUS_TEXT

/* GRAFT_STATUS_MAX is the map's last number, and the numbers are 0..MAX, no gaps. */
#define GRAFT__STATUS_ONE(suffix, number, rust, message) +1
_Static_assert(0 GRAFT_STATUS_MAP(GRAFT__STATUS_ONE) == GRAFT_STATUS_MAX + 1,
               "GRAFT_STATUS_MAX must be the number of GRAFT_STATUS_MAP entries minus one");
#undef GRAFT__STATUS_ONE

const char *graft_strerror(int status)
{
    if (status < 0 || status > GRAFT_STATUS_MAX) {
        return "unknown status";
    }
    return graft__status_text[status];
}

const char *graft_status_name(int status)
{
    if (status < 0 || status > GRAFT_STATUS_MAX) {
        return NULL;
    }
    return graft__status_names[status];
}

const char *graft_version(void)
{
#define GRAFT__STR2(x) #x
#define GRAFT__STR(x) GRAFT__STR2(x)
    return GRAFT__STR(GRAFT_VERSION_MAJOR) "." GRAFT__STR(GRAFT_VERSION_MINOR) "." GRAFT__STR(
        GRAFT_VERSION_PATCH);
}

#define GRAFT__MODE_NAME(suffix, number, name, meaning) [number] = name,
static const char *const graft__mode_names[GRAFT_MODE_COUNT] = {GRAFT_MODE_MAP(GRAFT__MODE_NAME)};
#undef GRAFT__MODE_NAME
#define GRAFT__MODE_ONE(suffix, number, name, meaning) +1
_Static_assert(0 GRAFT_MODE_MAP(GRAFT__MODE_ONE) == GRAFT_MODE_COUNT,
               "GRAFT_MODE_COUNT must be the number of GRAFT_MODE_MAP entries");
#undef GRAFT__MODE_ONE

/* "legacy, shadow, canary, candidate, candidate-only": each entry adds ", name", and
 * the leading ", " is skipped (a constant expression). */
#define GRAFT__MODE_LIST_ITEM(suffix, number, name, meaning) ", " name
const char *const graft__mode_list = (GRAFT_MODE_MAP(GRAFT__MODE_LIST_ITEM)) + 2;
#undef GRAFT__MODE_LIST_ITEM

const char *graft_mode_name(int mode)
{
    if (mode < 0 || mode >= GRAFT_MODE_COUNT) {
        return NULL;
    }
    return graft__mode_names[mode];
}

int graft_mode_parse(const char *name, graft_mode *out)
{
    if (!name || !out) {
        return GRAFT_ENULL;
    }
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

#define GRAFT__BREAKER_STATE_NAME(suffix, number, name) [number] = name,
static const char *const graft__breaker_state_names[GRAFT_BREAKER_STATE_COUNT] = {
    GRAFT_BREAKER_STATE_MAP(GRAFT__BREAKER_STATE_NAME)};
#undef GRAFT__BREAKER_STATE_NAME
#define GRAFT__BREAKER_STATE_ONE(suffix, number, name) +1
_Static_assert(0 GRAFT_BREAKER_STATE_MAP(GRAFT__BREAKER_STATE_ONE) == GRAFT_BREAKER_STATE_COUNT,
               "GRAFT_BREAKER_STATE_COUNT must be the number of GRAFT_BREAKER_STATE_MAP entries");
#undef GRAFT__BREAKER_STATE_ONE

const char *graft_breaker_state_name(int state)
{
    if (state < 0 || state >= GRAFT_BREAKER_STATE_COUNT) {
        return NULL;
    }
    return graft__breaker_state_names[state];
}

#define GRAFT__ON_FAILURE_NAME(suffix, number, name, meaning) [number] = name,
static const char *const graft__on_failure_names[GRAFT_ON_FAILURE_COUNT] = {
    GRAFT_ON_FAILURE_MAP(GRAFT__ON_FAILURE_NAME)};
#undef GRAFT__ON_FAILURE_NAME
#define GRAFT__ON_FAILURE_ONE(suffix, number, name, meaning) +1
_Static_assert(0 GRAFT_ON_FAILURE_MAP(GRAFT__ON_FAILURE_ONE) == GRAFT_ON_FAILURE_COUNT,
               "GRAFT_ON_FAILURE_COUNT must be the number of GRAFT_ON_FAILURE_MAP entries");
#undef GRAFT__ON_FAILURE_ONE

const char *graft_on_failure_name(int policy)
{
    if (policy < 0 || policy >= GRAFT_ON_FAILURE_COUNT) {
        return NULL;
    }
    return graft__on_failure_names[policy];
}

#define GRAFT__PURITY_NAME(suffix, number, name, meaning) [number] = name,
static const char *const graft__purity_names[GRAFT_PURITY_COUNT] = {
    GRAFT_PURITY_MAP(GRAFT__PURITY_NAME)};
#undef GRAFT__PURITY_NAME
#define GRAFT__PURITY_ONE(suffix, number, name, meaning) +1
_Static_assert(0 GRAFT_PURITY_MAP(GRAFT__PURITY_ONE) == GRAFT_PURITY_COUNT,
               "GRAFT_PURITY_COUNT must be the number of GRAFT_PURITY_MAP entries");
#undef GRAFT__PURITY_ONE

const char *graft_purity_name(int purity)
{
    if (purity < 0 || purity >= GRAFT_PURITY_COUNT) {
        return NULL;
    }
    return graft__purity_names[purity];
}

#define GRAFT__SHADOW_EXEC_NAME(suffix, number, name, meaning) [number] = name,
static const char *const graft__shadow_exec_names[GRAFT_SHADOW_EXEC_COUNT] = {
    GRAFT_SHADOW_EXEC_MAP(GRAFT__SHADOW_EXEC_NAME)};
#undef GRAFT__SHADOW_EXEC_NAME
#define GRAFT__SHADOW_EXEC_ONE(suffix, number, name, meaning) +1
_Static_assert(0 GRAFT_SHADOW_EXEC_MAP(GRAFT__SHADOW_EXEC_ONE) == GRAFT_SHADOW_EXEC_COUNT,
               "GRAFT_SHADOW_EXEC_COUNT must be the number of GRAFT_SHADOW_EXEC_MAP entries");
#undef GRAFT__SHADOW_EXEC_ONE

const char *graft_shadow_exec_name(int exec)
{
    if (exec < 0 || exec >= GRAFT_SHADOW_EXEC_COUNT) {
        return NULL;
    }
    return graft__shadow_exec_names[exec];
}

int graft_shadow_exec_parse(const char *name, graft_shadow_exec *out)
{
    if (!name || !out) {
        return GRAFT_ENULL;
    }
    for (int i = 0; i < GRAFT_SHADOW_EXEC_COUNT; i++) {
        if (strcmp(name, graft__shadow_exec_names[i]) == 0) {
            *out = (graft_shadow_exec)i;
            return GRAFT_OK;
        }
    }
    return GRAFT_EINVAL;
}

/* "10", "10.5", "0.05", "12.5%": basis points, at most two decimals, 0..100. Here, with
 * the names, so every file may parse percentages without depending on config.c. */
static bool graft__percent(const char *v, uint32_t *bp)
{
    const char *p = v;
    uint64_t whole = 0, frac = 0;
    int nd = 0, nf = 0;
    while (isdigit((unsigned char)*p) && nd < 4) {
        whole = whole * 10 + (uint64_t)(*p++ - '0');
        nd++;
    }
    if (nd == 0) {
        return false;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p) && nf < 3) {
            frac = frac * 10 + (uint64_t)(*p++ - '0');
            nf++;
        }
        if (nf == 0 || nf > 2) {
            return false;
        }
        if (nf == 1) {
            frac *= 10;
        }
    }
    if (*p == '%') {
        p++;
    }
    if (*p) {
        return false;
    }
    uint64_t r = whole * 100 + frac;
    if (r > GRAFT_PERCENT_SCALE) {
        return false;
    }
    *bp = (uint32_t)r;
    return true;
}

int graft_percent_parse(const char *text, uint32_t *bp)
{
    if (!text || !bp) {
        return GRAFT_ENULL;
    }
    return graft__percent(text, bp) ? GRAFT_OK : GRAFT_EINVAL;
}
