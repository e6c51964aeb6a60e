/*
 * history.c: per-file git history for `graft plan`, a well-established defect predictor:
 * how many commits touched a file, how many of them were bug fixes (subject names a fix,
 * bug, crash, overflow, CVE...), and the churn (lines added plus deleted). Read with
 * `git log --numstat` run in the project root; no git or no repository: no history.
 */
#define _GNU_SOURCE
#include "plan.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

enum { MAX_COMMITS = 20000 }; /* the most recent ones: bounded time on huge histories */

static const char *const fix_words[] = {
    "fix", "bug",          "crash",     "overflow",  "cve-",     "security", "corrupt", "leak",
    "oob", "out of bound", "use after", "use-after", "segfault", "asan",     NULL};

/* A fix word at the start of a word: "Fix overflow", "bugfix" no, "prefix" no. */
static int is_fix(const char *subject)
{
    for (const char *const *w = fix_words; *w; w++)
        for (const char *p = subject; (p = strcasestr(p, *w)) != NULL; p++)
            if (p == subject || !isalpha((unsigned char)p[-1]))
                return 1;
    return 0;
}

int pl_history(const char *root, char *const *rel, size_t n, pl_fstat *fstat)
{
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    posix_spawn_file_actions_addclose(&fa, pipefd[1]);
    char limit[32];
    snprintf(limit, sizeof(limit), "-n%d", MAX_COMMITS);
    char *argv[] = {
        "git",          "-C",        (char *)root,      "log", "--relative", "--no-merges",
        "--no-renames", "--numstat", "--format=%x01%s", limit, NULL};
    pid_t pid;
    int sr = posix_spawnp(&pid, "git", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (sr != 0) {
        close(pipefd[0]);
        return -1;
    }
    pl_strmap ix;
    pl_strmap_init(&ix);
    for (size_t i = 0; i < n; i++)
        pl_strmap_put(&ix, rel[i], (int)i);
    int *commits = pl_xcalloc(n, sizeof(int)), *fixes = pl_xcalloc(n, sizeof(int));
    int *churn = pl_xcalloc(n, sizeof(int));
    FILE *in = fdopen(pipefd[0], "r");
    char *line = NULL;
    size_t cap = 0;
    int fix = 0, ncommits = 0;
    while (in && getline(&line, &cap, in) > 0) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '\001') {
            fix = is_fix(line + 1);
            ncommits++;
            continue;
        }
        char *t1 = strchr(line, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2)
            continue;
        int k = pl_strmap_get(&ix, t2 + 1);
        if (k < 0)
            continue;
        commits[k]++;
        fixes[k] += fix;
        churn[k] += atoi(line) + atoi(t1 + 1); /* "-" for binary files counts 0 */
    }
    free(line);
    if (in)
        fclose(in);
    else
        close(pipefd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && ncommits > 0;
    if (ok) {
        for (size_t i = 0; i < n; i++) {
            fstat[i].commits = commits[i];
            fstat[i].fixes = fixes[i];
            fstat[i].churn = churn[i];
        }
    }
    free(commits);
    free(fixes);
    free(churn);
    pl_strmap_free(&ix);
    return ok ? 0 : -1;
}
