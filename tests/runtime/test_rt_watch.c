/* Unit tests of graft_config_watch: an edited file (written in place, replaced by
 * rename, or swapped the way a Kubernetes ConfigMap volume swaps its `..data` symlink)
 * is applied within a second; a bad file is refused, logged and counted while the
 * running configuration stays; an unchanged rewrite is not a reload; the watcher stops
 * with the runtime. Real inotify and real time: each wait polls with a 5 s deadline. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rt_fixture.h"

typedef struct fx {
    graft_runtime *rt;
    graft_seam *seam;
    toy t;
    char dir[128];
    char path[256];
    char err[512];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.log_level = GRAFT_LOG_ERROR;
    if (graft_runtime_new(&o, &f->rt) != GRAFT_OK) {
        return -1;
    }
    graft_seam_def d = toy_def("kv.parse", &f->t);
    if (graft_seam_register(f->rt, &d, &f->seam) != GRAFT_OK) {
        return -1;
    }
    snprintf(f->dir, sizeof f->dir, "/tmp/graft-rt-watch-XXXXXX");
    if (!mkdtemp(f->dir)) {
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/graft.ini", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    graft_runtime_free(f->rt);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void write_at(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

/* Writes a sibling temporary file and renames it over path (what editors and config
 * managers do). */
static void replace_by_rename(fx *f, const char *text)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s/.graft.ini.tmp", f->dir);
    write_at(tmp, text);
    assert_int_equal(rename(tmp, f->path), 0);
}

static graft_mode mode_of(fx *f)
{
    graft_mode m;
    uint32_t bp;
    assert_int_equal(graft_seam_get_mode(f->seam, &m, &bp), GRAFT_OK);
    return m;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits up to 5 s for the seam to reach mode. */
static bool wait_mode(fx *f, graft_mode want)
{
    for (int i = 0; i < 500; i++) {
        if (mode_of(f) == want) {
            return true;
        }
        sleep_ms(10);
    }
    return false;
}

static bool wait_refused(fx *f, uint64_t want)
{
    for (int i = 0; i < 500; i++) {
        uint64_t a = 0, r = 0;
        assert_int_equal(graft_config_watch_stats(f->rt, &a, &r), GRAFT_OK);
        if (r >= want) {
            return true;
        }
        sleep_ms(10);
    }
    return false;
}

static void load_and_watch(fx *f, const char *path)
{
    assert_int_equal(graft_config_load_file(f->rt, path, f->err, sizeof f->err), GRAFT_OK);
    assert_int_equal(graft_config_watch(f->rt, f->err, sizeof f->err), GRAFT_OK);
}

static void test_edit_in_place_and_by_rename(void **state)
{
    fx *f = *state;
    write_at(f->path, "[seam kv.parse]\nmode = shadow\n");
    load_and_watch(f, f->path);
    assert_int_equal(mode_of(f), GRAFT_MODE_SHADOW);

    write_at(f->path, "[seam kv.parse]\nmode = candidate\n");
    assert_true(wait_mode(f, GRAFT_MODE_CANDIDATE));

    replace_by_rename(f, "[seam kv.parse]\nmode = legacy\n");
    assert_true(wait_mode(f, GRAFT_MODE_LEGACY));

    uint64_t applied = 0, refused = 0;
    assert_int_equal(graft_config_watch_stats(f->rt, &applied, &refused), GRAFT_OK);
    assert_true(applied >= 2);
    assert_int_equal(refused, 0);
}

static void test_bad_file_refused_running_config_kept(void **state)
{
    fx *f = *state;
    write_at(f->path, "[seam kv.parse]\nmode = canary\npercent = 10\n");
    load_and_watch(f, f->path);
    assert_int_equal(mode_of(f), GRAFT_MODE_CANARY);

    replace_by_rename(f, "[seam kv.parse]\nmode = candidate\nmystery = 1\n");
    assert_true(wait_refused(f, 1));
    assert_int_equal(mode_of(f), GRAFT_MODE_CANARY);

    /* The next good version is applied: a refusal does not stop the watcher. */
    replace_by_rename(f, "[seam kv.parse]\nmode = candidate\n");
    assert_true(wait_mode(f, GRAFT_MODE_CANDIDATE));
}

/* A ConfigMap volume: path is `graft.ini -> ..data/graft.ini`, `..data -> ..v1`; an
 * update writes `..v2`, points `..data_tmp` at it and renames `..data_tmp` over `..data`.
 * Only the directory sees the rename. */
static void test_configmap_symlink_swap(void **state)
{
    fx *f = *state;
    char v1[300], v2[300], data_tmp[300], data[300];
    snprintf(v1, sizeof v1, "%s/..v1", f->dir);
    snprintf(v2, sizeof v2, "%s/..v2", f->dir);
    snprintf(data_tmp, sizeof data_tmp, "%s/..data_tmp", f->dir);
    snprintf(data, sizeof data, "%s/..data", f->dir);
    assert_int_equal(mkdir(v1, 0700), 0);
    char file[320];
    snprintf(file, sizeof file, "%s/graft.ini", v1);
    write_at(file, "[seam kv.parse]\nmode = shadow\n");
    assert_int_equal(symlink("..v1", data), 0);
    assert_int_equal(symlink("..data/graft.ini", f->path), 0);
    load_and_watch(f, f->path);
    assert_int_equal(mode_of(f), GRAFT_MODE_SHADOW);

    assert_int_equal(mkdir(v2, 0700), 0);
    snprintf(file, sizeof file, "%s/graft.ini", v2);
    write_at(file, "[seam kv.parse]\nmode = candidate-only\n");
    assert_int_equal(symlink("..v2", data_tmp), 0);
    assert_int_equal(rename(data_tmp, data), 0);
    assert_true(wait_mode(f, GRAFT_MODE_CANDIDATE_ONLY));
}

/* Rewriting the same bytes (a config manager's periodic sync) is not a reload, and a
 * file in the same directory that is not the config does not reload it either. */
static void test_unchanged_bytes_not_reloaded(void **state)
{
    fx *f = *state;
    const char *text = "[seam kv.parse]\nmode = shadow\n";
    write_at(f->path, text);
    load_and_watch(f, f->path);
    /* An API change the file does not know about: a reload would undo it. */
    assert_int_equal(graft_seam_set_mode(f->seam, GRAFT_MODE_LEGACY, 0), GRAFT_OK);
    write_at(f->path, text);
    char other[300];
    snprintf(other, sizeof other, "%s/unrelated.txt", f->dir);
    write_at(other, "x");
    sleep_ms(300);
    assert_int_equal(mode_of(f), GRAFT_MODE_LEGACY);
    uint64_t applied = 1, refused = 1;
    assert_int_equal(graft_config_watch_stats(f->rt, &applied, &refused), GRAFT_OK);
    assert_int_equal(applied, 0);
    assert_int_equal(refused, 0);
}

static void test_refusals(void **state)
{
    fx *f = *state;
    /* Nothing loaded: nothing to watch. */
    assert_int_equal(graft_config_watch(f->rt, f->err, sizeof f->err), GRAFT_ESTATE);
    assert_non_null(strstr(f->err, "no configuration file"));
    uint64_t a, r;
    assert_int_equal(graft_config_watch_stats(f->rt, &a, &r), GRAFT_ESTATE);
    write_at(f->path, "[seam kv.parse]\nmode = shadow\n");
    load_and_watch(f, f->path);
    assert_int_equal(graft_config_watch(f->rt, f->err, sizeof f->err), GRAFT_EEXIST);
    /* Unwatch, then watch again: allowed; unwatch twice is harmless. */
    graft_config_unwatch(f->rt);
    graft_config_unwatch(f->rt);
    assert_int_equal(graft_config_watch(f->rt, f->err, sizeof f->err), GRAFT_OK);
    assert_int_equal(graft_config_watch(NULL, f->err, sizeof f->err), GRAFT_ENULL);
    /* teardown frees the runtime with the watcher running: it must stop and join. */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_edit_in_place_and_by_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_file_refused_running_config_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configmap_symlink_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unchanged_bytes_not_reloaded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
