/*
 * main.c: the `graft` command-line tool. One table of subcommands, so more can be added
 * next to `plan` without touching the dispatch.
 */
#include "plan.h"

#include <string.h>

typedef struct graft_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
    const char *summary;
} graft_command;

static const graft_command commands[] = {
    {"plan", graft_plan_main,
     "map a C codebase's components, score their risk, rank what to migrate first"},
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
