/*
 * main.c: the `graft` command-line tool. One table of subcommands, so more can be added
 * next to `plan` without touching the dispatch.
 */
#include "plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* `graft ledger` is a Python program (tools/ledger/graft_ledger.py: TOML via tomllib,
 * libclang via python3-clang); this runs it with the same arguments. Where: the
 * GRAFT_LEDGER environment variable, else the path configured at build time. */
static int graft_ledger_exec(int argc, char **argv)
{
    const char *script = getenv("GRAFT_LEDGER");
    if (script == NULL || script[0] == '\0')
        script = GRAFT_LEDGER_SCRIPT;
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (args == NULL) {
        fputs("graft ledger: out of memory\n", stderr);
        return 2;
    }
    args[0] = (char *)"python3";
    args[1] = (char *)script;
    for (int i = 1; i < argc; i++)
        args[i + 1] = argv[i];
    execvp("python3", args);
    fprintf(stderr, "graft ledger: cannot run python3 %s: %s\n", script, strerror(errno));
    free(args);
    return 2;
}

typedef struct graft_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
    const char *summary;
} graft_command;

static const graft_command commands[] = {
    {"plan", graft_plan_main,
     "map a C codebase's components, score their risk, rank what to migrate first"},
    {"ledger", graft_ledger_exec,
     "the migration ledger (migration.toml): check drift, revalidate, ratchet, report"},
};

static void usage(FILE *o)
{
    fputs("usage: graft <command> [options]   (graft <command> --help for details)\n\n"
          "commands:\n",
          o);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(o, "  %-8s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "graft: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
