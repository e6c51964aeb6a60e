/*
 * config.c: configuration from a compact spec (GRAFT_SEAMS) and an INI file
 * (GRAFT_CONFIG, read by libgraft's own strict reader, src/ini.h), reload, the
 * bookkeeping that lets configuration name seams that are registered later, and, once
 * the host said registration is done (graft_runtime_ready), the check that
 * configuration names only registered seams (warned once per name, or refused in strict
 * mode).
 *
 * Every entry point parses and validates everything first into a new set, and only
 * then applies it, so a bad file or spec changes nothing. A seam's INI section is
 * declarative: keys it leaves out take their documented defaults. A spec item sets
 * only the mode (and canary percentage). See docs/RUNTIME.md for the reference.
 */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ini.h"
#include "internal.h"
#include "rollout.h"

/* ------------------------------------------------------------------ value parsers */

static bool graft__parse_u64(const char *v, uint64_t *out)
{
    if (!isdigit((unsigned char)v[0])) {
        return false;
    }
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end) {
        return false;
    }
    *out = x;
    return true;
}

static bool graft__parse_u32(const char *v, uint32_t *out)
{
    uint64_t x;
    if (!graft__parse_u64(v, &x) || x > UINT32_MAX) {
        return false;
    }
    *out = (uint32_t)x;
    return true;
}

/* graft_percent_parse (status.c) as a predicate. */
static bool graft__parse_percent(const char *v, uint32_t *bp)
{
    return graft_percent_parse(v, bp) == GRAFT_OK;
}

/* "250ms", "10s", "1m", "500us", "100ns", "2h"; "0" alone is allowed. */
static bool graft__parse_duration(const char *v, uint64_t *ns)
{
    if (strcmp(v, "0") == 0) {
        *ns = 0;
        return true;
    }
    if (!isdigit((unsigned char)v[0])) {
        return false;
    }
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno) {
        return false;
    }
    uint64_t mul;
    if (strcmp(end, "ns") == 0) {
        mul = 1;
    } else if (strcmp(end, "us") == 0) {
        mul = 1000ull;
    } else if (strcmp(end, "ms") == 0) {
        mul = 1000000ull;
    } else if (strcmp(end, "s") == 0) {
        mul = 1000000000ull;
    } else if (strcmp(end, "m") == 0) {
        mul = 60ull * 1000000000ull;
    } else if (strcmp(end, "h") == 0) {
        mul = 3600ull * 1000000000ull;
    } else {
        return false;
    }
    if (x > UINT64_MAX / mul) {
        return false;
    }
    *ns = x * mul;
    return true;
}

/* "1048576", "64K", "16M", "1G" (binary multiples). */
static bool graft__parse_size(const char *v, uint64_t *out)
{
    if (!isdigit((unsigned char)v[0])) {
        return false;
    }
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno) {
        return false;
    }
    uint64_t mul = 1;
    if (*end == 'K' || *end == 'k') {
        mul = 1024ull;
    } else if (*end == 'M' || *end == 'm') {
        mul = 1024ull * 1024;
    } else if (*end == 'G' || *end == 'g') {
        mul = 1024ull * 1024 * 1024;
    } else if (*end) {
        return false;
    }
    if (*end && end[1] && strcmp(end + 1, "B") != 0 && strcmp(end + 1, "iB") != 0) {
        return false;
    }
    if (x > UINT64_MAX / mul) {
        return false;
    }
    *out = x * mul;
    return true;
}

static bool graft__parse_bool(const char *v, int *out)
{
    if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
        !strcasecmp(v, "on")) {
        *out = 1;
        return true;
    }
    if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
        !strcasecmp(v, "off")) {
        *out = 0;
        return true;
    }
    return false;
}

static bool graft__parse_level(const char *v, int *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    for (int i = 0; i < 5; i++) {
        if (!strcasecmp(v, names[i])) {
            *out = i;
            return true;
        }
    }
    if (!strcasecmp(v, "warning")) {
        *out = GRAFT_LOG_WARN;
        return true;
    }
    return false;
}

static graft__seam_conf *graft__conf_add(graft__conf_set *c, const char *name)
{
    graft__seam_conf *e = graft__conf_find(c, name);
    if (e) {
        return e;
    }
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 8;
        graft__seam_conf *nv = realloc(c->v, ncap * sizeof *nv);
        if (!nv) {
            return NULL;
        }
        c->v = nv;
        c->cap = ncap;
    }
    e = &c->v[c->n++];
    memset(e, 0, sizeof *e);
    graft__strlcpy(e->name, name, sizeof e->name);
    return e;
}

/* A file section starts from every documented default. */
static void graft__conf_defaults(graft__seam_conf *e)
{
    e->has_mode = true;
    e->mode = GRAFT_MODE_LEGACY;
    e->percent_bp = 0;
    e->has_compare = true;
    graft_compare_config_init(&e->compare);
    e->capture_dir[0] = '\0';
    e->has_breaker = true;
    graft_breaker_config_init(&e->breaker);
    e->has_fault = true;
    memset(&e->fault, 0, sizeof e->fault);
    e->has_shadow = true;
    graft_shadow_config_init(&e->shadow);
    e->has_plan = false;
}

/* Merges src into dst: src's groups replace dst's. */
static bool graft__conf_merge(graft__conf_set *dst, const graft__conf_set *src)
{
    for (size_t i = 0; i < src->n; i++) {
        const graft__seam_conf *s = &src->v[i];
        graft__seam_conf *d = graft__conf_add(dst, s->name);
        if (!d) {
            return false;
        }
        d->warned = d->warned || s->warned;
        if (s->has_mode) {
            d->has_mode = true;
            d->mode = s->mode;
            d->percent_bp = s->percent_bp;
        }
        if (s->has_compare) {
            d->has_compare = true;
            d->compare = s->compare;
            memcpy(d->capture_dir, s->capture_dir, sizeof d->capture_dir);
        }
        if (s->has_breaker) {
            d->has_breaker = true;
            d->breaker = s->breaker;
        }
        if (s->has_fault) {
            d->has_fault = true;
            d->fault = s->fault;
        }
        if (s->has_shadow) {
            d->has_shadow = true;
            d->shadow = s->shadow;
        }
        /* A file section is declarative: without plan keys, it has no plan. */
        if (s->has_plan || s->has_compare) {
            d->has_plan = s->has_plan;
            d->plan = s->plan;
        }
    }
    if (src->has_log_level) {
        dst->has_log_level = true;
        dst->log_level = src->log_level;
    }
    return true;
}

static bool graft__conf_copy(graft__conf_set *dst, const graft__conf_set *src)
{
    memset(dst, 0, sizeof *dst);
    return graft__conf_merge(dst, src);
}

/* ------------------------------------------------------------------ unknown seams */

/* Edit distance (insertions, deletions, substitutions) between two seam names, both at
 * most GRAFT__NAME_MAX long. */
static size_t graft__distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    assert(la <= GRAFT__NAME_MAX && lb <= GRAFT__NAME_MAX);
    size_t row[GRAFT__NAME_MAX + 1];
    for (size_t j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) {
                best = up + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The registered seam whose name is nearest `name`, when near enough to be the one
 * meant (at most 3 edits and under half the name), else NULL. */
static const char *graft__closest(graft_runtime *rt, const char *name)
{
    const char *best = NULL;
    size_t bd = SIZE_MAX;
    for (graft_seam *p = atomic_load_explicit(&rt->head, memory_order_acquire); p;
         p = atomic_load_explicit(&p->next, memory_order_acquire)) {
        size_t d = graft__distance(name, p->name);
        if (d < bd) {
            bd = d;
            best = p->name;
        }
    }
    size_t len = strlen(name);
    return best && bd <= 3 && bd * 2 < len ? best : NULL;
}

/* Appends "name (did you mean x?)" to a message of unknown names. */
static void graft__unknown_append(graft_runtime *rt, char *msg, size_t cap, const char *name)
{
    size_t used = strlen(msg);
    if (used >= cap) {
        return;
    }
    const char *near = graft__closest(rt, name);
    snprintf(msg + used, cap - used, "%s\"%s\"%s%s%s", used ? ", " : "", name,
             near ? " (did you mean \"" : "", near ? near : "", near ? "\"?)" : "");
}

/* Logs, once per name, the stored entries that match no registered seam. Under rt->lock,
 * after graft_runtime_ready. */
static void graft__warn_unmatched(graft_runtime *rt)
{
    GRAFT__ASSERT_HELD(&rt->lock);
    for (size_t i = 0; i < rt->conf.n; i++) {
        graft__seam_conf *e = &rt->conf.v[i];
        if (e->warned || graft__seam_lookup(rt, e->name)) {
            continue;
        }
        e->warned = true;
        const char *near = graft__closest(rt, e->name);
        graft__log(rt, GRAFT_LOG_WARN, "graft.config",
                   "configuration for seam \"%s\" applies to no registered seam%s%s%s "
                   "(kept in case it registers later; GRAFT_STRICT=1 refuses it)",
                   e->name, near ? " (did you mean \"" : "", near ? near : "", near ? "\"?)" : "");
    }
}

int graft_runtime_ready(graft_runtime *rt, char *err, size_t errlen)
{
    if (!rt) {
        return GRAFT_ENULL;
    }
    pthread_mutex_lock(&rt->lock);
    atomic_store_explicit(&rt->ready, true, memory_order_release);
    int rc = GRAFT_OK;
    if (rt->strict) {
        char msg[512] = "";
        size_t bad = 0;
        for (size_t i = 0; i < rt->conf.n; i++) {
            if (!graft__seam_lookup(rt, rt->conf.v[i].name)) {
                graft__unknown_append(rt, msg, sizeof msg, rt->conf.v[i].name);
                bad++;
            }
        }
        if (bad) {
            graft__seterr(err, errlen, "configuration names %zu unregistered seam%s: %s", bad,
                          bad == 1 ? "" : "s", msg);
            rc = GRAFT_ECONFIG;
        }
    } else {
        graft__warn_unmatched(rt);
    }
    pthread_mutex_unlock(&rt->lock);
    return rc;
}

size_t graft_runtime_unmatched(graft_runtime *rt,
                               void (*fn)(void *ctx, const char *name, const char *closest),
                               void *ctx)
{
    if (!rt) {
        return 0;
    }
    size_t n = 0;
    pthread_mutex_lock(&rt->lock);
    for (size_t i = 0; i < rt->conf.n; i++) {
        const char *name = rt->conf.v[i].name;
        if (graft__seam_lookup(rt, name)) {
            continue;
        }
        n++;
        if (fn) {
            fn(ctx, name, graft__closest(rt, name));
        }
    }
    pthread_mutex_unlock(&rt->lock);
    return n;
}

/* ------------------------------------------------------------------ commit */

/* Makes `parsed` the running configuration: merge into the stored set, then apply to
 * the registered seams it names. Takes rt->lock. After graft_runtime_ready, names of no
 * registered seam are refused (strict) or warned about once. */
static int graft__commit(graft_runtime *rt, const graft__conf_set *parsed, const char *path,
                         char *err, size_t errlen)
{
    pthread_mutex_lock(&rt->lock);
    bool ready = atomic_load_explicit(&rt->ready, memory_order_relaxed);
    if (ready && rt->strict) {
        char msg[512] = "";
        size_t bad = 0;
        for (size_t i = 0; i < parsed->n; i++) {
            if (!graft__seam_lookup(rt, parsed->v[i].name)) {
                graft__unknown_append(rt, msg, sizeof msg, parsed->v[i].name);
                bad++;
            }
        }
        if (bad) {
            pthread_mutex_unlock(&rt->lock);
            graft__seterr(err, errlen, "%s%sno registered seam named %s (strict configuration)",
                          path ? path : "", path ? ": " : "", msg);
            return GRAFT_ECONFIG;
        }
    }
    /* Settings a registered seam refuses fail the whole configuration. */
    for (size_t i = 0; i < parsed->n; i++) {
        const graft__seam_conf *e = &parsed->v[i];
        graft_seam *s = graft_seam_find(rt, e->name);
        const char *why = s && e->has_shadow ? graft__shadow_refusal(s, e->shadow.exec) : NULL;
        if (!why && s &&
            ((e->has_mode && !e->has_plan && e->mode == GRAFT_MODE_SHADOW) ||
             (e->has_plan && e->plan.stages[0].mode == GRAFT_MODE_SHADOW))) {
            why = graft__shadow_refusal(s, GRAFT_SHADOW_SYNC);
        }
        if (why) {
            pthread_mutex_unlock(&rt->lock);
            graft__seterr(err, errlen, "%s%sseam %s: shadow=%s refused: %s", path ? path : "",
                          path ? ": " : "", e->name,
                          graft_shadow_exec_name(e->has_shadow ? e->shadow.exec : 0), why);
            return GRAFT_EUNSUPPORTED;
        }
    }
    graft__conf_set next;
    if (!graft__conf_copy(&next, &rt->conf) || !graft__conf_merge(&next, parsed)) {
        graft__conf_free(&next);
        pthread_mutex_unlock(&rt->lock);
        graft__seterr(err, errlen, "out of memory");
        return GRAFT_ENOMEM;
    }
    char *npath = NULL;
    if (path) {
        npath = strdup(path);
        if (!npath) {
            graft__conf_free(&next);
            pthread_mutex_unlock(&rt->lock);
            graft__seterr(err, errlen, "out of memory");
            return GRAFT_ENOMEM;
        }
    }
    graft__conf_free(&rt->conf);
    rt->conf = next;
    if (npath) {
        free(rt->config_path);
        rt->config_path = npath;
    }
    for (size_t i = 0; i < parsed->n; i++) {
        graft_seam *s = graft__seam_lookup(rt, parsed->v[i].name);
        if (s) {
            graft__seam_apply_conf(s, &parsed->v[i]);
            if (parsed->v[i].has_plan) {
                (void)graft__plan_apply_conf(s, &parsed->v[i].plan);
            }
        }
    }
    if (parsed->has_log_level) {
        atomic_store_explicit(&rt->log_level, parsed->log_level, memory_order_relaxed);
    }
    if (ready && !rt->strict) {
        graft__warn_unmatched(rt);
    }
    pthread_mutex_unlock(&rt->lock);
    return GRAFT_OK;
}

/* ------------------------------------------------------------------ spec */

static int graft__parse_spec(const char *spec, const char *origin, graft__conf_set *out, char *err,
                             size_t errlen)
{
    size_t len = strlen(spec);
    char *copy = malloc(len + 1);
    if (!copy) {
        graft__seterr(err, errlen, "out of memory");
        return GRAFT_ENOMEM;
    }
    memcpy(copy, spec, len + 1);
    int rc = GRAFT_OK;
    int item = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        item++;
        while (isspace((unsigned char)*tok)) {
            tok++;
        }
        char *e = tok + strlen(tok);
        while (e > tok && isspace((unsigned char)e[-1])) {
            *--e = '\0';
        }
        if (!*tok) {
            continue;
        }
        char orig[160];
        graft__strlcpy(orig, tok, sizeof orig);
        char *eq = strchr(tok, '=');
        if (!eq) {
            graft__seterr(err, errlen, "%s: item %d \"%s\": expected name=mode[:percent]", origin,
                          item, orig);
            rc = GRAFT_ECONFIG;
            break;
        }
        *eq = '\0';
        char *name = tok, *mode = eq + 1;
        char *ne = eq;
        while (ne > name && isspace((unsigned char)ne[-1])) {
            *--ne = '\0';
        }
        while (isspace((unsigned char)*mode)) {
            mode++;
        }
        if (!graft__valid_name(name)) {
            graft__seterr(err, errlen,
                          "%s: item %d \"%s\": invalid seam name (1-64 of A-Z a-z 0-9 . _ -)",
                          origin, item, orig);
            rc = GRAFT_ECONFIG;
            break;
        }
        char *colon = strchr(mode, ':');
        if (colon) {
            *colon = '\0';
        }
        graft_mode m;
        if (graft_mode_parse(mode, &m) != GRAFT_OK) {
            graft__seterr(err, errlen, "%s: item %d \"%s\": unknown mode \"%s\" (%s)", origin, item,
                          orig, mode, graft__mode_list);
            rc = GRAFT_ECONFIG;
            break;
        }
        uint32_t bp = 0;
        if (m == GRAFT_MODE_CANARY) {
            if (!colon || !graft__parse_percent(colon + 1, &bp)) {
                graft__seterr(err, errlen,
                              "%s: item %d \"%s\": canary needs a percentage 0-100 with at most "
                              "two decimals (canary:10, canary:0.05)",
                              origin, item, orig);
                rc = GRAFT_ECONFIG;
                break;
            }
        } else if (colon) {
            graft__seterr(err, errlen, "%s: item %d \"%s\": only canary takes a percentage", origin,
                          item, orig);
            rc = GRAFT_ECONFIG;
            break;
        }
        graft__seam_conf *c = graft__conf_add(out, name);
        if (!c) {
            graft__seterr(err, errlen, "out of memory");
            rc = GRAFT_ENOMEM;
            break;
        }
        c->has_mode = true;
        c->mode = m;
        c->percent_bp = bp;
    }
    free(copy);
    return rc;
}

int graft_config_apply_spec(graft_runtime *rt, const char *spec, char *err, size_t errlen)
{
    if (!rt || !spec) {
        return GRAFT_ENULL;
    }
    graft__conf_set parsed = {0};
    int rc = graft__parse_spec(spec, "spec", &parsed, err, errlen);
    if (rc == GRAFT_OK) {
        rc = graft__commit(rt, &parsed, NULL, err, errlen);
    }
    graft__conf_free(&parsed);
    return rc;
}

/* ------------------------------------------------------------------ INI file */

typedef struct graft__ini {
    graft__conf_set *set;
    graft__seam_conf *cur; /* current [seam NAME] entry, NULL in [graft] */
    char section[128];
    bool in_graft;
    int line; /* line of the statement being handled */
    bool failed;
    char msg[256];
} graft__ini;

#define GRAFT__INI_FAIL(...)                                                                       \
    do {                                                                                           \
        if (!p->failed) {                                                                          \
            p->failed = true;                                                                      \
            snprintf(p->msg, sizeof p->msg, __VA_ARGS__);                                          \
        }                                                                                          \
        return 0;                                                                                  \
    } while (0)

static int graft__ini_section(graft__ini *p, const char *section)
{
    if (strcmp(section, p->section) == 0 && (p->cur || p->in_graft)) {
        return 1;
    }
    graft__strlcpy(p->section, section, sizeof p->section);
    p->cur = NULL;
    p->in_graft = false;
    if (strcmp(section, "graft") == 0) {
        p->in_graft = true;
        return 1;
    }
    if (strncmp(section, "seam ", 5) == 0) {
        char name[GRAFT__NAME_MAX + 8];
        const char *n = section + 5;
        while (*n == ' ') {
            n++;
        }
        graft__strlcpy(name, n, sizeof name);
        size_t l = strlen(name);
        if (l >= 2 && name[0] == '"' && name[l - 1] == '"') {
            memmove(name, name + 1, l - 2);
            name[l - 2] = '\0';
        }
        if (!graft__valid_name(name)) {
            GRAFT__INI_FAIL("section [%s]: invalid seam name (1-64 of A-Z a-z 0-9 . _ -)", section);
        }
        bool fresh = graft__conf_find(p->set, name) == NULL;
        p->cur = graft__conf_add(p->set, name);
        if (!p->cur) {
            GRAFT__INI_FAIL("out of memory");
        }
        if (fresh) {
            graft__conf_defaults(p->cur);
        }
        return 1;
    }
    GRAFT__INI_FAIL("unknown section [%s] (expected [graft] or [seam NAME])", section);
}

/* The keys of a [seam NAME] section that hold one number, flag or duration: parsed by
 * kind into the field at `offset` of graft__seam_conf. mode and capture.dir have their
 * own rules in the handler. */
typedef enum graft__ini_kind {
    GRAFT__KEY_PERCENT,  /* uint32_t basis points */
    GRAFT__KEY_U32,      /* uint32_t */
    GRAFT__KEY_U32_POS,  /* uint32_t, at least 1 */
    GRAFT__KEY_BOOL,     /* int 0/1 */
    GRAFT__KEY_DURATION, /* uint64_t nanoseconds */
    GRAFT__KEY_SIZE      /* uint64_t bytes */
} graft__ini_kind;

static const char *const graft__ini_kind_text[] = {
    [GRAFT__KEY_PERCENT] = "a percentage 0-100 with at most two decimals",
    [GRAFT__KEY_U32] = "an integer",
    [GRAFT__KEY_U32_POS] = "a positive integer",
    [GRAFT__KEY_BOOL] = "a boolean",
    [GRAFT__KEY_DURATION] = "a duration (e.g. 250ms, 10s, 500us, 1m)",
    [GRAFT__KEY_SIZE] = "a size (e.g. 65536, 64K, 16M)",
};

typedef struct graft__ini_key {
    const char *name;
    graft__ini_kind kind;
    size_t offset;
} graft__ini_key;

#define GRAFT__KEY(n, k, field)                                                                    \
    {                                                                                              \
        n, GRAFT__KEY_##k, offsetof(graft__seam_conf, field)                                       \
    }
static const graft__ini_key graft__ini_keys[] = {
    GRAFT__KEY("percent", PERCENT, percent_bp),
    GRAFT__KEY("compare.sample_every", U32_POS, compare.sample_every),
    GRAFT__KEY("compare.log_per_second", U32, compare.log_per_second),
    GRAFT__KEY("compare.served", BOOL, compare.compare_served),
    GRAFT__KEY("capture.max_files", U32, compare.capture_max_files),
    GRAFT__KEY("capture.max_bytes", SIZE, compare.capture_max_bytes),
    GRAFT__KEY("breaker.enabled", BOOL, breaker.enabled),
    GRAFT__KEY("breaker.observe_only", BOOL, breaker.observe_only),
    GRAFT__KEY("breaker.min_calls", U32, breaker.min_calls),
    GRAFT__KEY("breaker.half_open_calls", U32_POS, breaker.half_open_calls),
    GRAFT__KEY("breaker.error_rate", PERCENT, breaker.error_rate_bp),
    GRAFT__KEY("breaker.slow_rate", PERCENT, breaker.slow_rate_bp),
    GRAFT__KEY("breaker.mismatch_rate", PERCENT, breaker.mismatch_rate_bp),
    GRAFT__KEY("breaker.window", DURATION, breaker.window_ns),
    GRAFT__KEY("breaker.slow_call", DURATION, breaker.slow_call_ns),
    GRAFT__KEY("breaker.cooldown", DURATION, breaker.cooldown_ns),
    GRAFT__KEY("breaker.max_cooldown", DURATION, breaker.max_cooldown_ns),
    GRAFT__KEY("breaker.half_open_max", DURATION, breaker.half_open_max_ns),
    GRAFT__KEY("fault.error", PERCENT, fault.error_bp),
    GRAFT__KEY("fault.panic", PERCENT, fault.panic_bp),
    GRAFT__KEY("fault.delay", PERCENT, fault.delay_bp),
    GRAFT__KEY("fault.delay_time", DURATION, fault.delay_ns),
};
#undef GRAFT__KEY

static const graft__ini_key *graft__ini_key_find(const char *name)
{
    for (size_t i = 0; i < sizeof graft__ini_keys / sizeof graft__ini_keys[0]; i++) {
        if (strcmp(graft__ini_keys[i].name, name) == 0) {
            return &graft__ini_keys[i];
        }
    }
    return NULL;
}

/* Parses into *dst only on success. */
static bool graft__ini_parse_value(graft__ini_kind kind, const char *value, void *dst)
{
    uint32_t u32;
    switch (kind) {
    case GRAFT__KEY_PERCENT:
        return graft__parse_percent(value, dst);
    case GRAFT__KEY_U32:
        return graft__parse_u32(value, dst);
    case GRAFT__KEY_U32_POS:
        if (!graft__parse_u32(value, &u32) || u32 == 0) {
            return false;
        }
        *(uint32_t *)dst = u32;
        return true;
    case GRAFT__KEY_BOOL:
        return graft__parse_bool(value, dst);
    case GRAFT__KEY_DURATION:
        return graft__parse_duration(value, dst);
    case GRAFT__KEY_SIZE:
        return graft__parse_size(value, dst);
    }
    return false;
}

/* A plan.* key of a [seam NAME] section (docs/RUNTIME.md, "Rollout plans"). The first
 * one gives the seam a plan with graft_plan_init's defaults. */
static int graft__ini_plan_key(graft__ini *p, graft__seam_conf *e, const char *name,
                               const char *value)
{
    if (!e->has_plan) {
        e->has_plan = true;
        graft_plan_init(&e->plan);
    }
    graft_plan *pl = &e->plan;
    const char *k = name + 5;
    uint32_t u32 = 0, bp = 0;
    uint64_t ns = 0;
    char msg[160];
    if (strcmp(k, "stages") == 0) {
        if (graft_plan_parse_stages(pl, value, msg, sizeof msg) != GRAFT_OK) {
            GRAFT__INI_FAIL("plan.stages: %s", msg);
        }
        return 1;
    }
    if (strcmp(k, "min_compared") == 0 || strcmp(k, "min_served") == 0 ||
        strcmp(k, "latency_min") == 0) {
        if (!graft__ini_parse_value(GRAFT__KEY_U32, value, &u32)) {
            GRAFT__INI_FAIL("%s: \"%s\" is not an integer", name, value);
        }
        uint64_t *dst = k[0] == 'l'   ? &pl->latency_min
                        : k[4] == 'c' ? &pl->min_compared
                                      : &pl->min_served;
        *dst = u32;
        return 1;
    }
    if (strcmp(k, "min_time") == 0 || strcmp(k, "interval") == 0) {
        if (!graft__ini_parse_value(GRAFT__KEY_DURATION, value, &ns)) {
            GRAFT__INI_FAIL("%s: \"%s\" is not a duration", name, value);
        }
        *(k[0] == 'm' ? &pl->min_stage_ns : &pl->interval_ns) = ns;
        return 1;
    }
    if (strcmp(k, "latency_canary") == 0) {
        int on = 0;
        if (!graft__ini_parse_value(GRAFT__KEY_BOOL, value, &on)) {
            GRAFT__INI_FAIL("%s: \"%s\" is not a boolean", name, value);
        }
        pl->latency_in_canary = on;
        return 1;
    }
    if (strcmp(k, "latency_tolerance") == 0 && strcmp(value, "off") == 0) {
        pl->latency_tolerance = -1;
        return 1;
    }
    if (strcmp(k, "mismatch_max") == 0 || strcmp(k, "error_diff_max") == 0 ||
        strcmp(k, "latency_tolerance") == 0 || strcmp(k, "confidence") == 0) {
        if (graft_percent_parse(value, &bp) != GRAFT_OK) {
            GRAFT__INI_FAIL("%s: \"%s\" is not a percentage 0-100 with at most two decimals", name,
                            value);
        }
        double rate = (double)bp / GRAFT_PERCENT_SCALE;
        if (k[0] == 'm') {
            pl->mismatch_max = rate;
        } else if (k[0] == 'e') {
            pl->error_diff_max = rate;
        } else if (k[0] == 'l') {
            pl->latency_tolerance = rate;
        } else {
            pl->confidence = rate;
        }
        if (!graft__plan_check(pl, msg, sizeof msg)) {
            GRAFT__INI_FAIL("%s: %s", name, msg);
        }
        return 1;
    }
    GRAFT__INI_FAIL("unknown key \"%s\" (plan keys: stages, min_compared, min_served, min_time, "
                    "mismatch_max, error_diff_max, latency_tolerance, latency_min, latency_canary, "
                    "confidence, interval)",
                    name);
}

/* ini.h's callback: a section header (name NULL) or one key = value. */
static bool graft__ini_handler(void *user, int line, const char *section, const char *name,
                               const char *value)
{
    graft__ini *p = user;
    p->line = line;
    if (!section[0]) {
        GRAFT__INI_FAIL("key \"%s\" outside a section (expected [graft] or [seam NAME] first)",
                        name);
    }
    if (!graft__ini_section(p, section)) {
        return false;
    }
    if (!name) {
        return true;
    }
    if (p->in_graft) {
        if (strcmp(name, "log_level") == 0) {
            if (!graft__parse_level(value, &p->set->log_level)) {
                GRAFT__INI_FAIL("log_level: \"%s\" is not error, warn, info, debug or trace",
                                value);
            }
            p->set->has_log_level = true;
            return 1;
        }
        GRAFT__INI_FAIL("unknown key \"%s\" in [graft] (known: log_level)", name);
    }
    graft__seam_conf *e = p->cur;
    if (strcmp(name, "mode") == 0) {
        if (graft_mode_parse(value, &e->mode) != GRAFT_OK) {
            GRAFT__INI_FAIL("mode: unknown mode \"%s\" (%s)", value, graft__mode_list);
        }
        return 1;
    }
    if (strcmp(name, "capture.dir") == 0) {
        char v[1024];
        graft__strlcpy(v, value, sizeof v);
        size_t l = strlen(v);
        if (l >= 2 && v[0] == '"' && v[l - 1] == '"') {
            memmove(v, v + 1, l - 2);
            v[l - 2] = '\0';
        }
        if (!v[0] || strlen(value) >= sizeof e->capture_dir) {
            GRAFT__INI_FAIL("capture.dir: empty or longer than 1023 bytes");
        }
        graft__strlcpy(e->capture_dir, v, sizeof e->capture_dir);
        return 1;
    }
    if (strcmp(name, "shadow") == 0) {
        if (graft_shadow_exec_parse(value, &e->shadow.exec) != GRAFT_OK) {
            GRAFT__INI_FAIL("shadow: \"%s\" is not sync, async or aa", value);
        }
        return 1;
    }
    if (strcmp(name, "shadow.deadline") == 0) {
        if (!graft__ini_parse_value(GRAFT__KEY_DURATION, value, &e->shadow.deadline_ns) ||
            e->shadow.deadline_ns == 0) {
            GRAFT__INI_FAIL("shadow.deadline: \"%s\" is not a positive duration", value);
        }
        return 1;
    }
    if (strncmp(name, "plan.", 5) == 0) {
        return graft__ini_plan_key(p, e, name, value);
    }
    const graft__ini_key *k = graft__ini_key_find(name);
    if (!k) {
        GRAFT__INI_FAIL("unknown key \"%s\" in [%s]", name, section);
    }
    void *dst = (char *)e + k->offset;
    if (!graft__ini_parse_value(k->kind, value, dst)) {
        GRAFT__INI_FAIL("%s: \"%s\" is not %s", name, value, graft__ini_kind_text[k->kind]);
    }
    if (e->fault.error_bp + e->fault.panic_bp > GRAFT_PERCENT_SCALE) {
        GRAFT__INI_FAIL("%s: fault.error and fault.panic together exceed 100%%", name);
    }
    return 1;
}

/* A configuration file is read whole; larger ones are refused, not cut. */
#define GRAFT__CONFIG_MAX_BYTES (1u << 20)

static int graft__parse_file(const char *path, graft__conf_set *out, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        graft__seterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return GRAFT_EIO;
    }
    graft__ini *p = calloc(1, sizeof *p);
    char *text = malloc(GRAFT__CONFIG_MAX_BYTES + 1);
    if (!p || !text) {
        fclose(fp);
        free(p);
        free(text);
        graft__seterr(err, errlen, "out of memory");
        return GRAFT_ENOMEM;
    }
    size_t len = fread(text, 1, GRAFT__CONFIG_MAX_BYTES + 1, fp);
    bool rerr = ferror(fp) != 0;
    fclose(fp);
    int rc = GRAFT_OK;
    if (rerr) {
        graft__seterr(err, errlen, "%s: read error", path);
        rc = GRAFT_EIO;
    } else if (len > GRAFT__CONFIG_MAX_BYTES) {
        graft__seterr(err, errlen, "%s: larger than %u bytes", path, GRAFT__CONFIG_MAX_BYTES);
        rc = GRAFT_ECONFIG;
    } else {
        p->set = out;
        graft__ini_error ie;
        if (graft__ini_parse(text, len, graft__ini_handler, p, &ie) != GRAFT_OK) {
            graft__seterr(err, errlen, "%s:%d: %s", path, ie.line, p->failed ? p->msg : ie.msg);
            rc = GRAFT_ECONFIG;
        }
    }
    free(text);
    free(p);
    if (rc != GRAFT_OK) {
        return rc;
    }
    /* Cross-key checks, named by section. */
    for (size_t i = 0; i < out->n; i++) {
        graft__seam_conf *e = &out->v[i];
        char m[200];
        if (e->has_breaker && !graft__validate_breaker(&e->breaker, m, sizeof m)) {
            graft__seterr(err, errlen, "%s: [seam %s]: %s", path, e->name, m);
            return GRAFT_ECONFIG;
        }
    }
    return GRAFT_OK;
}

int graft_config_load_file(graft_runtime *rt, const char *path, char *err, size_t errlen)
{
    if (!rt || !path) {
        return GRAFT_ENULL;
    }
    graft__conf_set parsed = {0};
    int rc = graft__parse_file(path, &parsed, err, errlen);
    if (rc == GRAFT_OK) {
        rc = graft__commit(rt, &parsed, path, err, errlen);
    }
    graft__conf_free(&parsed);
    if (rc == GRAFT_OK) {
        graft__log(rt, GRAFT_LOG_INFO, "graft.config", "loaded %s", path);
    }
    return rc;
}

/* File (path may be NULL) then GRAFT_SEAMS, parsed together, applied together. */
static int graft__load_env_like(graft_runtime *rt, const char *path, char *err, size_t errlen)
{
    graft__conf_set parsed = {0};
    int rc = GRAFT_OK;
    if (path && *path) {
        rc = graft__parse_file(path, &parsed, err, errlen);
    }
    const char *spec = getenv("GRAFT_SEAMS");
    if (rc == GRAFT_OK && spec && *spec) {
        graft__conf_set sp = {0};
        rc = graft__parse_spec(spec, "GRAFT_SEAMS", &sp, err, errlen);
        if (rc == GRAFT_OK && !graft__conf_merge(&parsed, &sp)) {
            graft__seterr(err, errlen, "out of memory");
            rc = GRAFT_ENOMEM;
        }
        graft__conf_free(&sp);
    }
    if (rc == GRAFT_OK) {
        rc = graft__commit(rt, &parsed, path && *path ? path : NULL, err, errlen);
    }
    graft__conf_free(&parsed);
    return rc;
}

int graft_runtime_configure_from_env(graft_runtime *rt, char *err, size_t errlen)
{
    if (!rt) {
        return GRAFT_ENULL;
    }
    return graft__load_env_like(rt, getenv("GRAFT_CONFIG"), err, errlen);
}

int graft_config_reload(graft_runtime *rt, char *err, size_t errlen)
{
    if (!rt) {
        return GRAFT_ENULL;
    }
    char *path = NULL;
    pthread_mutex_lock(&rt->lock);
    if (rt->config_path) {
        path = strdup(rt->config_path);
    }
    bool oom = rt->config_path && !path;
    pthread_mutex_unlock(&rt->lock);
    if (oom) {
        graft__seterr(err, errlen, "out of memory");
        return GRAFT_ENOMEM;
    }
    int rc = graft__load_env_like(rt, path, err, errlen);
    if (rc == GRAFT_OK) {
        graft__log(rt, GRAFT_LOG_INFO, "graft.config", "reloaded%s%s", path ? " " : "",
                   path ? path : "");
    }
    free(path);
    return rc;
}
