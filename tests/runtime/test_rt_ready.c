/* Unit tests of configuration that names no registered seam (issue 18.2.1): silent
 * before graft_runtime_ready (seams may still come), one warning per name at ready and
 * at every later configuration call (with the closest registered name), listed by
 * graft_runtime_unmatched and the JSON snapshot, still applied to a seam registered
 * late; in strict mode (option or GRAFT_STRICT=1) refused with an error naming it. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "rt_fixture.h"

typedef struct warn_log {
    int warnings;
    char last[512];
} warn_log;

static void warn_capture(void *ctx, int level, const char *target, const char *message)
{
    warn_log *w = ctx;
    if (level == GRAFT_LOG_WARN && strcmp(target, "graft.config") == 0) {
        w->warnings++;
        snprintf(w->last, sizeof w->last, "%s", message);
    }
}

typedef struct fx {
    graft_runtime *rt;
    toy t;
    warn_log log;
} fx;

static fx *make(int strict)
{
    fx *f = calloc(1, sizeof *f);
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.log = warn_capture;
    o.log_ctx = &f->log;
    o.strict = strict;
    assert_int_equal(graft_runtime_new(&o, &f->rt), GRAFT_OK);
    graft_seam_def d = toy_def("redis.stringmatch", &f->t);
    assert_int_equal(graft_seam_register(f->rt, &d, NULL), GRAFT_OK);
    d = toy_def("kv.parse", &f->t);
    assert_int_equal(graft_seam_register(f->rt, &d, NULL), GRAFT_OK);
    return f;
}

static void done(fx *f)
{
    graft_runtime_free(f->rt);
    free(f);
}

typedef struct names {
    int n;
    char name[4][80];
    char closest[4][80];
} names;

static void collect(void *ctx, const char *name, const char *closest)
{
    names *n = ctx;
    if (n->n < 4) {
        snprintf(n->name[n->n], sizeof n->name[0], "%s", name);
        snprintf(n->closest[n->n], sizeof n->closest[0], "%s", closest ? closest : "-");
    }
    n->n++;
}

static void warns_once_at_ready_and_after(void **state)
{
    (void)state;
    fx *f = make(0);
    char err[256];
    assert_int_equal(graft_config_apply_spec(f->rt, "redis.stringmach=shadow,kv.parse=candidate",
                                             err, sizeof err),
                     GRAFT_OK);
    assert_int_equal(f->log.warnings, 0); /* not ready: the seam may register later */
    assert_int_equal(graft_runtime_ready(f->rt, err, sizeof err), GRAFT_OK);
    assert_int_equal(f->log.warnings, 1);
    assert_non_null(strstr(f->log.last, "\"redis.stringmach\" applies to no registered seam"));
    assert_non_null(strstr(f->log.last, "did you mean \"redis.stringmatch\"?"));
    /* The typo changed nothing; the right name did. */
    graft_mode m;
    graft_seam_get_mode(graft_seam_find(f->rt, "redis.stringmatch"), &m, NULL);
    assert_int_equal(m, GRAFT_MODE_LEGACY);
    graft_seam_get_mode(graft_seam_find(f->rt, "kv.parse"), &m, NULL);
    assert_int_equal(m, GRAFT_MODE_CANDIDATE);
    /* Once per name: again at ready and at a later spec naming it, no new warning. */
    assert_int_equal(graft_runtime_ready(f->rt, err, sizeof err), GRAFT_OK);
    assert_int_equal(graft_config_apply_spec(f->rt, "redis.stringmach=canary:5", err, sizeof err),
                     GRAFT_OK);
    assert_int_equal(f->log.warnings, 1);
    /* A new unknown name after ready: warned at once, no suggestion when nothing is near. */
    assert_int_equal(graft_config_apply_spec(f->rt, "zzz=shadow", err, sizeof err), GRAFT_OK);
    assert_int_equal(f->log.warnings, 2);
    assert_non_null(strstr(f->log.last, "\"zzz\" applies to no registered seam"));
    assert_null(strstr(f->log.last, "did you mean"));

    names n = {0};
    assert_int_equal(graft_runtime_unmatched(f->rt, collect, &n), 2);
    assert_string_equal(n.name[0], "redis.stringmach");
    assert_string_equal(n.closest[0], "redis.stringmatch");
    assert_string_equal(n.name[1], "zzz");
    assert_string_equal(n.closest[1], "-");

    char *txt;
    assert_int_equal(graft_metrics_json(f->rt, &txt, NULL), GRAFT_OK);
    cJSON *root = cJSON_Parse(txt);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(root, "ready")));
    cJSON *um = cJSON_GetObjectItem(root, "unmatched_config");
    assert_int_equal(cJSON_GetArraySize(um), 2);
    cJSON *e0 = cJSON_GetArrayItem(um, 0);
    assert_string_equal(cJSON_GetObjectItem(e0, "name")->valuestring, "redis.stringmach");
    assert_string_equal(cJSON_GetObjectItem(e0, "closest")->valuestring, "redis.stringmatch");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(um, 1), "closest")));
    cJSON_Delete(root);
    graft_free(txt);

    /* A seam registered late still gets its configuration, and leaves the list. */
    graft_seam_def d = toy_def("zzz", &f->t);
    graft_seam *z;
    assert_int_equal(graft_seam_register(f->rt, &d, &z), GRAFT_OK);
    graft_seam_get_mode(z, &m, NULL);
    assert_int_equal(m, GRAFT_MODE_SHADOW);
    assert_int_equal(graft_runtime_unmatched(f->rt, NULL, NULL), 1);
    done(f);
}

static void strict_refuses(void **state)
{
    (void)state;
    fx *f = make(1);
    char err[256] = "";
    /* Before ready, stored as usual (the seam may come). */
    assert_int_equal(graft_config_apply_spec(f->rt, "redis.stringmach=shadow", err, sizeof err),
                     GRAFT_OK);
    assert_int_equal(graft_runtime_ready(f->rt, err, sizeof err), GRAFT_ECONFIG);
    assert_non_null(strstr(err, "1 unregistered seam"));
    assert_non_null(strstr(err, "\"redis.stringmach\" (did you mean \"redis.stringmatch\"?)"));
    /* After ready: all or nothing, the known seam in the same spec is not changed. */
    err[0] = '\0';
    assert_int_equal(
        graft_config_apply_spec(f->rt, "kv.parse=candidate,kv.prase=shadow", err, sizeof err),
        GRAFT_ECONFIG);
    assert_non_null(
        strstr(err, "no registered seam named \"kv.prase\" (did you mean \"kv.parse\"?)"));
    graft_mode m;
    graft_seam_get_mode(graft_seam_find(f->rt, "kv.parse"), &m, NULL);
    assert_int_equal(m, GRAFT_MODE_LEGACY);
    assert_int_equal(graft_config_apply_spec(f->rt, "kv.parse=candidate", err, sizeof err),
                     GRAFT_OK);
    graft_seam_get_mode(graft_seam_find(f->rt, "kv.parse"), &m, NULL);
    assert_int_equal(m, GRAFT_MODE_CANDIDATE);
    assert_int_equal(f->log.warnings, 0); /* refused, not warned */

    /* A file naming an unknown seam, through the environment, refused naming the file. */
    char path[] = "/tmp/graft-ready-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fputs("[seam kv.pars]\nmode = shadow\n", fp);
    fclose(fp);
    err[0] = '\0';
    assert_int_equal(graft_config_load_file(f->rt, path, err, sizeof err), GRAFT_ECONFIG);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "\"kv.pars\""));
    unlink(path);
    done(f);
}

static void strict_from_env(void **state)
{
    (void)state;
    setenv("GRAFT_STRICT", "1", 1);
    fx *f = make(0);
    unsetenv("GRAFT_STRICT");
    char err[256];
    setenv("GRAFT_SEAMS", "redis.stringmach=shadow", 1);
    assert_int_equal(graft_runtime_configure_from_env(f->rt, err, sizeof err), GRAFT_OK);
    unsetenv("GRAFT_SEAMS");
    assert_int_equal(graft_runtime_ready(f->rt, err, sizeof err), GRAFT_ECONFIG);
    assert_non_null(strstr(err, "redis.stringmach"));
    done(f);
    /* Without it, the same is a warning. */
    f = make(0);
    assert_int_equal(graft_config_apply_spec(f->rt, "redis.stringmach=shadow", err, sizeof err),
                     GRAFT_OK);
    assert_int_equal(graft_runtime_ready(f->rt, err, sizeof err), GRAFT_OK);
    assert_int_equal(f->log.warnings, 1);
    done(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(warns_once_at_ready_and_after),
        cmocka_unit_test(strict_refuses),
        cmocka_unit_test(strict_from_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
