/* rt_report_child: a short-lived host for the report tests (tests/runtime/report.py).
 * Creates a runtime (GRAFT_REPORT from the environment), registers the toy seam
 * "toy.report" with GRAFT_SEAMS applied, makes CALLS calls (every third one a
 * candidate failure; the candidate is off by one on inputs divisible by 5, so shadow
 * mode counts mismatches), then leaves as HOW says:
 *   free    graft_runtime_free, then return from main
 *   exit    exit(0) without freeing (the atexit handler writes the line)
 *   kill    graft_runtime_report, CALLS more calls, then SIGKILL (those are lost)
 *   fork    a fork child calls exit(0) (must write nothing), the parent frees
 * Usage: rt_report_child HOW CALLS */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "graft/graft.h"

static int legacy(void *ctx, const void *input, void *output)
{
    (void)ctx;
    *(long *)output = *(const long *)input * 2;
    return GRAFT_OK;
}

static int candidate(void *ctx, const void *input, void *output)
{
    (void)ctx;
    long in = *(const long *)input;
    if (in % 3 == 0) {
        return GRAFT_EIO;
    }
    *(long *)output = in * 2 + (in % 5 == 0);
    return GRAFT_OK;
}

static void calls(graft_seam *s, long n)
{
    for (long i = 1; i <= n; i++) {
        long out = 0, scratch = 0;
        graft_call(s, (uint64_t)i, 0, &i, &out, &scratch);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: rt_report_child free|exit|kill|fork CALLS\n");
        return 2;
    }
    const char *how = argv[1];
    long n = strtol(argv[2], NULL, 10);
    graft_runtime *rt;
    if (graft_runtime_new(NULL, &rt) != GRAFT_OK) {
        return 1;
    }
    graft_seam_def d;
    memset(&d, 0, sizeof d);
    d.name = "toy.report";
    d.legacy = legacy;
    d.candidate = candidate;
    d.output_size = sizeof(long);
    graft_seam *s;
    char err[256];
    if (graft_seam_register(rt, &d, &s) != GRAFT_OK ||
        graft_runtime_configure_from_env(rt, err, sizeof err) != GRAFT_OK ||
        graft_runtime_ready(rt, err, sizeof err) != GRAFT_OK) {
        return 1;
    }
    calls(s, n);
    if (strcmp(how, "free") == 0) {
        graft_runtime_free(rt);
        return 0;
    }
    if (strcmp(how, "exit") == 0) {
        exit(0);
    }
    if (strcmp(how, "kill") == 0) {
        if (graft_runtime_report(rt) != GRAFT_OK) {
            return 1;
        }
        calls(s, n);
        raise(SIGKILL);
        return 1;
    }
    if (strcmp(how, "fork") == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            calls(s, n);
            exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        graft_runtime_free(rt);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    }
    return 2;
}
