/* vec_race.c: races on Rust Vec-backed memory that tests/tsan.supp must treat right
 * (run under TSan by vec_race.sh, which says what each case must produce).
 *
 * Rust is not instrumented under `make tsan`: TSan sees only its calls into the
 * allocator and libc (malloc, calloc, realloc, free, memset, ...), each with one Rust
 * frame (the caller), and none of its locks (std's RwLock is futex-based). Each case
 * orders its two steps in time with a relaxed atomic flag, which gives TSan no
 * happens-before edge, so a race is found on every run, not by luck.
 *
 *   publish    a Rust-allocated buffer (graft_testkit_repeat(0, ...): a zeroed Vec<u8>)
 *              handed to another C thread with no synchronisation, which reads it.
 *              A real C-versus-Rust race: must be REPORTED.
 *   free       a C thread reads a Rust buffer while another frees it through
 *              graft_ffi_buffer_free (Rust drops the Vec). Real: must be REPORTED.
 *   grow       two threads insert into the testkit's shared handle map one after the
 *              other; the second insert grows the map's slot Vec (realloc) that the
 *              first allocated. Both under Rust's RwLock, which TSan cannot see: a
 *              false positive, which the suppression must SILENCE.
 *   clean      the publish case ordered by pthread_join: must be silent. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "graft_ffi_testkit.h"

static graft_ffi_buffer buf;
static atomic_int step_done;
static volatile unsigned sink;

static void wait_step(void)
{
    while (!atomic_load_explicit(&step_done, memory_order_relaxed))
        ;
}

static void signal_step(void)
{
    atomic_store_explicit(&step_done, 1, memory_order_relaxed); /* no release: no edge */
}

static unsigned read_buffer(void)
{
    unsigned s = 0;
    for (size_t i = 0; i < buf.len; i += 64)
        s += buf.data[i];
    return s;
}

static void *publish_make(void *arg)
{
    (void)arg;
    if (graft_testkit_repeat(0, 4096, &buf) != GRAFT_OK)
        buf.len = 0;
    signal_step();
    return NULL;
}

static void *publish_use(void *arg)
{
    (void)arg;
    wait_step();
    sink = read_buffer();
    return NULL;
}

static void *free_use(void *arg)
{
    (void)arg;
    sink = read_buffer();
    signal_step();
    return NULL;
}

static void *free_free(void *arg)
{
    (void)arg;
    wait_step();
    graft_ffi_buffer_free(&buf);
    return NULL;
}

static graft_ffi_handle handles[5];

static void *grow_first(void *arg)
{
    (void)arg;
    if (graft_testkit_counter_new(1, &handles[0]) != GRAFT_OK)
        handles[0] = 0;
    signal_step();
    return NULL;
}

static void *grow_more(void *arg)
{
    (void)arg;
    wait_step();
    for (int i = 1; i < 5; i++) {
        if (graft_testkit_counter_new(i, &handles[i]) != GRAFT_OK)
            handles[i] = 0;
    }
    return NULL;
}

static int two_threads(void *(*a)(void *), void *(*b)(void *), int join_a_first)
{
    pthread_t ta, tb;
    if (pthread_create(&ta, NULL, a, NULL) != 0)
        return -1;
    if (join_a_first && pthread_join(ta, NULL) != 0)
        return -1;
    if (pthread_create(&tb, NULL, b, NULL) != 0)
        return -1;
    if (!join_a_first && pthread_join(ta, NULL) != 0)
        return -1;
    return pthread_join(tb, NULL) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    int rc;
    if (strcmp(mode, "publish") == 0 || strcmp(mode, "clean") == 0) {
        rc = two_threads(publish_make, publish_use, strcmp(mode, "clean") == 0);
        graft_ffi_buffer_free(&buf);
    } else if (strcmp(mode, "free") == 0) {
        if (graft_testkit_repeat(0xab, 4096, &buf) != GRAFT_OK)
            return 2;
        rc = two_threads(free_use, free_free, 0);
    } else if (strcmp(mode, "grow") == 0) {
        /* The map must be empty for the first insert to allocate its slots. */
        if (graft_testkit_counter_live() != 0)
            return 2;
        rc = two_threads(grow_first, grow_more, 0);
        for (int i = 0; i < 5; i++) {
            if (handles[i] == 0 || graft_testkit_counter_free(handles[i]) != GRAFT_OK)
                rc = -1;
        }
    } else {
        fprintf(stderr, "usage: vec_race publish|free|grow|clean\n");
        return 2;
    }
    if (rc != 0) {
        fprintf(stderr, "vec_race %s: a step failed\n", mode);
        return 2;
    }
    printf("vec_race %s: done\n", mode);
    return 0;
}
