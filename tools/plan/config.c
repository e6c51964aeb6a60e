/*
 * config.c: the optional groups file of `graft plan` (INI, read with libinih).
 *
 *   [plan]
 *   root = ..                ; project root, relative to this file
 *   include = server/kv_*.c  ; only plan sources matching these globs (repeatable)
 *   exclude = server/test_*  ; ... and not these
 *   seams = 3                ; top components that get a proposed seam
 *   [components]
 *   proto = server/kv_proto.c server/kv_proto.h   ; globs -> component name
 *
 * Globs are fnmatch patterns on the path relative to the root; '*' also crosses '/'.
 * The first group that matches wins; unmatched files fall back to their directory.
 */
#define _GNU_SOURCE
#include "plan.h"

#include <fnmatch.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pl_config_init(pl_config *c)
{
    memset(c, 0, sizeof(*c));
    c->seams = 3;
    c->history = 1;
}

void pl_config_free(pl_config *c)
{
    for (size_t i = 0; i < c->ngroups; i++) {
        free(c->groups[i].glob);
        free(c->groups[i].component);
    }
    free(c->groups);
    for (size_t i = 0; i < c->ninclude; i++)
        free(c->include[i]);
    free(c->include);
    for (size_t i = 0; i < c->nexclude; i++)
        free(c->exclude[i]);
    free(c->exclude);
    for (size_t i = 0; i < c->nthird; i++)
        free(c->third[i]);
    free(c->third);
    free(c->root);
    memset(c, 0, sizeof(*c));
}

typedef struct cfg_ctx {
    pl_config *c;
    const char *base; /* directory of the config file */
    char *error;      /* first semantic error */
    int line;
} cfg_ctx;

/* Calls fn for each whitespace-separated word of value. */
static void each_word(const char *value, void (*fn)(pl_config *, const char *, const char *),
                      pl_config *c, const char *extra)
{
    char *copy = pl_xstrdup(value);
    char *save = NULL;
    for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
        fn(c, w, extra);
    free(copy);
}

static void add_include(pl_config *c, const char *w, const char *unused)
{
    PL_PUSH(c->include, c->ninclude, c->icap, pl_xstrdup(w));
}

static void add_exclude(pl_config *c, const char *w, const char *unused)
{
    PL_PUSH(c->exclude, c->nexclude, c->ecap, pl_xstrdup(w));
}

static void add_third(pl_config *c, const char *w, const char *unused)
{
    PL_PUSH(c->third, c->nthird, c->tcap, pl_xstrdup(w));
}

static void add_group(pl_config *c, const char *w, const char *name)
{
    pl_group g = {.glob = pl_xstrdup(w), .component = pl_xstrdup(name)};
    PL_PUSH(c->groups, c->ngroups, c->gcap, g);
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    cfg_ctx *x = user;
    if (x->error)
        return 1;
    if (strcmp(section, "plan") == 0) {
        if (strcmp(name, "root") == 0) {
            free(x->c->root);
            x->c->root = pl_path_join(x->base, value);
        } else if (strcmp(name, "include") == 0) {
            each_word(value, add_include, x->c, NULL);
        } else if (strcmp(name, "exclude") == 0) {
            each_word(value, add_exclude, x->c, NULL);
        } else if (strcmp(name, "seams") == 0) {
            char *end = NULL;
            long v = strtol(value, &end, 10);
            if (!*value || *end || v < 0 || v > 1000)
                x->error = pl_xasprintf("[plan] seams must be a number 0..1000, got '%s'", value);
            else
                x->c->seams = (int)v;
        } else if (strcmp(name, "third_party") == 0) {
            each_word(value, add_third, x->c, NULL);
        } else if (strcmp(name, "layout") == 0) {
            if (strcmp(value, "directories") == 0)
                x->c->directories = 1;
            else if (strcmp(value, "auto") == 0)
                x->c->directories = 0;
            else
                x->error =
                    pl_xasprintf("[plan] layout must be auto or directories, got '%s'", value);
        } else if (strcmp(name, "history") == 0) {
            if (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0)
                x->c->history = strcmp(value, "yes") == 0;
            else
                x->error = pl_xasprintf("[plan] history must be yes or no, got '%s'", value);
        } else {
            x->error = pl_xasprintf("unknown key '%s' in [plan] (root, include, exclude, seams, "
                                    "third_party, layout, history)",
                                    name);
        }
    } else if (strcmp(section, "components") == 0) {
        if (!*value)
            x->error = pl_xasprintf("component '%s' has no globs", name);
        else
            each_word(value, add_group, x->c, name);
    } else {
        x->error = pl_xasprintf("unknown section [%s] (plan, components)", section);
    }
    return 1;
}

int pl_config_load(pl_config *c, const char *path, char *err, size_t errlen)
{
    char *cwd = getcwd(NULL, 0); /* the root must be absolute: paths are compared to it */
    char *abs = pl_path_join(cwd ? cwd : "/", path);
    free(cwd);
    char *base = pl_path_dirname(abs);
    cfg_ctx x = {.c = c, .base = base};
    int r = ini_parse(path, on_entry, &x);
    int rc = 0;
    if (r < 0) {
        snprintf(err, errlen, "cannot open config %s", path);
        rc = -1;
    } else if (r > 0) {
        snprintf(err, errlen, "%s:%d: syntax error", path, r);
        rc = -1;
    } else if (x.error) {
        snprintf(err, errlen, "%s: %s", path, x.error);
        rc = -1;
    }
    free(x.error);
    free(base);
    free(abs);
    return rc;
}

int pl_config_selected(const pl_config *c, const char *rel)
{
    if (c->ninclude) {
        int hit = 0;
        for (size_t i = 0; i < c->ninclude && !hit; i++)
            hit = fnmatch(c->include[i], rel, 0) == 0;
        if (!hit)
            return 0;
    }
    for (size_t i = 0; i < c->nexclude; i++)
        if (fnmatch(c->exclude[i], rel, 0) == 0)
            return 0;
    return 1;
}

char *pl_config_group(const pl_config *c, const char *rel)
{
    for (size_t i = 0; i < c->ngroups; i++)
        if (fnmatch(c->groups[i].glob, rel, 0) == 0)
            return pl_xstrdup(c->groups[i].component);
    return NULL;
}

char *pl_config_component(const pl_config *c, const char *rel)
{
    for (size_t i = 0; i < c->ngroups; i++)
        if (fnmatch(c->groups[i].glob, rel, 0) == 0)
            return pl_xstrdup(c->groups[i].component);
    return pl_path_dirname(rel);
}
