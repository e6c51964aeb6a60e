/*
 * testhost.c: a tiny host program for the admin endpoint's script and browser tests.
 * It registers the fake seams (fake_seams.h), drives a steady trickle of calls through
 * them, and serves the admin endpoint.
 *
 *   graft_admin_testhost ADDR [TOKEN] [--seconds N] [--extra NAME]
 *
 * --extra registers one more (idle) upper-casing seam called NAME.
 *
 * Prints "port N" on stdout once listening. Stops on SIGTERM/SIGINT or after N seconds
 * (default 300), so a test that dies never leaves it running for long.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_seams.h"
#include "graft/admin.h"

static volatile sig_atomic_t g_stop = 0;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

int main(int argc, char **argv)
{
    const char *addr = NULL, *token = NULL, *extra = NULL;
    long seconds = 300;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--extra") == 0 && i + 1 < argc)
            extra = argv[++i];
        else if (addr == NULL)
            addr = argv[i];
        else if (token == NULL)
            token = argv[i];
    }
    if (addr == NULL || seconds <= 0) {
        fprintf(stderr, "usage: graft_admin_testhost ADDR [TOKEN] [--seconds N] [--extra NAME]\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    graft_runtime *rt = NULL;
    graft_seam *sum = NULL, *up = NULL;
    graft_admin *admin = NULL;
    graft_runtime_options o;
    graft_runtime_options_init(&o);
    o.log_level = GRAFT_LOG_ERROR; /* the fake mismatches would flood the test logs */
    int st = graft_runtime_new(&o, &rt);
    if (st == GRAFT_OK)
        st = fake_seams_register(rt, &sum, &up);
    if (st == GRAFT_OK && extra != NULL) {
        graft_seam *x = NULL;
        st = fake_seams_register_upper(rt, extra, &x);
    }
    if (st == GRAFT_OK)
        st = graft_seam_set_mode(sum, GRAFT_MODE_SHADOW, 0);
    /* GRAFT_SEAMS applies; registration is done (names of no seam are then reported). */
    char err[256] = "";
    if (st == GRAFT_OK)
        st = graft_runtime_configure_from_env(rt, err, sizeof err);
    if (st == GRAFT_OK)
        st = graft_runtime_ready(rt, err, sizeof err);
    if (st != GRAFT_OK && err[0] != '\0')
        fprintf(stderr, "graft_admin_testhost: %s\n", err);
    if (st == GRAFT_OK)
        st = graft_admin_start(rt, addr, token, &admin);
    if (st != GRAFT_OK) {
        fprintf(stderr, "graft_admin_testhost: %s\n", graft_strerror(st));
        graft_runtime_free(rt);
        return 1;
    }
    printf("port %u\n", (unsigned)graft_admin_port(admin));
    fflush(stdout);

    /* About 2,000 calls per second per seam: enough to move every counter, cheap. */
    struct timespec tick = {0, 10 * 1000 * 1000};
    uint64_t base = 0;
    for (long n = 0; !g_stop && n < seconds * 100; n++) {
        fake_seams_drive(sum, up, base, 20);
        base += 20;
        nanosleep(&tick, NULL);
    }
    graft_admin_stop(admin);
    graft_runtime_free(rt);
    return 0;
}
