/*
 * plan.c: the `graft plan` subcommand: options, the pipeline (compile database →
 * parallel libclang analysis → model → report) and exit statuses. Bad input gets a
 * clear message on stderr; files that cannot be parsed are reported and left out, and
 * the plan of everything else is still written (exit status 3).
 */
#define _GNU_SOURCE
#include "plan.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *o)
{
    fputs("usage: graft plan [-p compile_commands.json|build-dir] [--config groups.ini]\n"
          "                  [--format md|json|html|dot|svg] [-o out] [-j N]\n"
          "                  [--root DIR] [--include GLOB]... [--exclude GLOB]... [--seams N]\n"
          "                  [--layout auto|directories] [--no-history] [--no-pch] [-q]\n"
          "\n"
          "Reads a compilation database, parses every source with libclang and writes a\n"
          "migration plan: components, what crosses between them, risk signals, distance\n"
          "to untrusted input, a priority score and the proposed seams (docs/PLAN.md).\n"
          "\n"
          "  -p PATH        compile_commands.json or the directory holding it (default .)\n"
          "  --config FILE  INI: [plan] root/include/exclude/seams, [components] name = globs\n"
          "  --format FMT   md (default), json, html (graphs embedded as SVG), dot, or svg\n"
          "                 (the benefit/effort scatter)\n"
          "  -o FILE        output file (default stdout)\n"
          "  -j N           parser threads (default: number of CPUs)\n"
          "  --root DIR     project root; components and globs are relative to it\n"
          "                 (default: the common directory of all sources)\n"
          "  --include GLOB plan only sources matching GLOB (repeatable)\n"
          "  --exclude GLOB leave out sources matching GLOB (repeatable)\n"
          "  --seams N      propose seams for the first N components (default 3)\n"
          "  --layout L     auto (default: a flat directory is split by call-graph\n"
          "                 coupling) or directories (every directory is a component)\n"
          "  --no-history   do not read git history even when the root is a repository\n"
          "  --no-pch       parse each source's system headers itself (no shared\n"
          "                 precompiled preamble; the plan is the same, only slower)\n"
          "  -q             no progress summary on stderr\n"
          "\n"
          "Exit status: 0 plan written, 3 plan written but some sources could not be\n"
          "parsed or some entries were skipped, 2 usage error, 1 fatal error.\n",
          o);
}

typedef struct warn_list {
    char **items;
    size_t n, cap;
} warn_list;

static void on_warn(void *ud, const char *msg)
{
    warn_list *w = ud;
    fprintf(stderr, "graft plan: warning: %s\n", msg);
    PL_PUSH(w->items, w->n, w->cap, pl_xstrdup(msg));
}

static char *common_dir(const pl_ccdb *db)
{
    char *root = pl_path_dirname(db->units[0].file);
    for (size_t i = 1; i < db->n; i++) {
        while (!pl_path_under(db->units[i].file, root) && strcmp(root, "/") != 0) {
            char *up = pl_path_dirname(root);
            free(root);
            root = up[0] == '.' || up[0] == '\0' ? pl_xstrdup("/") : up;
            if (root != up)
                free(up);
        }
    }
    return root;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

enum {
    OPT_CONFIG = 256,
    OPT_FORMAT,
    OPT_ROOT,
    OPT_INCLUDE,
    OPT_EXCLUDE,
    OPT_SEAMS,
    OPT_LAYOUT,
    OPT_NO_HISTORY,
    OPT_NO_PCH
};

int graft_plan_main(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, OPT_CONFIG},
                                             {"format", required_argument, NULL, OPT_FORMAT},
                                             {"root", required_argument, NULL, OPT_ROOT},
                                             {"include", required_argument, NULL, OPT_INCLUDE},
                                             {"exclude", required_argument, NULL, OPT_EXCLUDE},
                                             {"seams", required_argument, NULL, OPT_SEAMS},
                                             {"layout", required_argument, NULL, OPT_LAYOUT},
                                             {"no-history", no_argument, NULL, OPT_NO_HISTORY},
                                             {"no-pch", no_argument, NULL, OPT_NO_PCH},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *ccdb_arg = ".", *config_path = NULL, *out_path = NULL, *root_arg = NULL;
    pl_format fmt = PL_FMT_MD;
    int jobs = 0, seams = -1, quiet = 0, layout = -1, no_history = 0, no_pch = 0;
    warn_list incl = {0}, excl = {0};
    int rc = 2;

    optind = 0; /* GNU getopt: full re-initialisation, so the parser can run repeatedly */
    opterr = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "p:o:j:qh", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (ch) {
        case 'p':
            ccdb_arg = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'j':
            jobs = (int)strtol(optarg, &end, 10);
            if (!*optarg || *end || jobs < 1 || jobs > 256) {
                fprintf(stderr, "graft plan: -j wants a number 1..256, got '%s'\n", optarg);
                goto out;
            }
            break;
        case 'q':
            quiet = 1;
            break;
        case OPT_CONFIG:
            config_path = optarg;
            break;
        case OPT_FORMAT:
            if (!strcmp(optarg, "md"))
                fmt = PL_FMT_MD;
            else if (!strcmp(optarg, "json"))
                fmt = PL_FMT_JSON;
            else if (!strcmp(optarg, "html"))
                fmt = PL_FMT_HTML;
            else if (!strcmp(optarg, "dot"))
                fmt = PL_FMT_DOT;
            else if (!strcmp(optarg, "svg"))
                fmt = PL_FMT_SVG;
            else {
                fprintf(stderr, "graft plan: unknown format '%s' (md, json, html, dot, svg)\n",
                        optarg);
                goto out;
            }
            break;
        case OPT_ROOT:
            root_arg = optarg;
            break;
        case OPT_INCLUDE:
            PL_PUSH(incl.items, incl.n, incl.cap, pl_xstrdup(optarg));
            break;
        case OPT_EXCLUDE:
            PL_PUSH(excl.items, excl.n, excl.cap, pl_xstrdup(optarg));
            break;
        case OPT_SEAMS:
            seams = (int)strtol(optarg, &end, 10);
            if (!*optarg || *end || seams < 0 || seams > 1000) {
                fprintf(stderr, "graft plan: --seams wants a number 0..1000, got '%s'\n", optarg);
                goto out;
            }
            break;
        case OPT_LAYOUT:
            if (!strcmp(optarg, "auto") || !strcmp(optarg, "directories")) {
                layout = !strcmp(optarg, "directories");
            } else {
                fprintf(stderr, "graft plan: --layout wants auto or directories, got '%s'\n",
                        optarg);
                goto out;
            }
            break;
        case OPT_NO_HISTORY:
            no_history = 1;
            break;
        case OPT_NO_PCH:
            no_pch = 1;
            break;
        case 'h':
            usage(stdout);
            rc = 0;
            goto out;
        default:
            usage(stderr);
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "graft plan: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        goto out;
    }

    rc = 1;
    double t0 = now();
    char err[512];
    pl_config cfg;
    pl_config_init(&cfg);
    if (config_path && pl_config_load(&cfg, config_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "graft plan: error: %s\n", err);
        pl_config_free(&cfg);
        goto out;
    }
    for (size_t i = 0; i < incl.n; i++)
        PL_PUSH(cfg.include, cfg.ninclude, cfg.icap, pl_xstrdup(incl.items[i]));
    for (size_t i = 0; i < excl.n; i++)
        PL_PUSH(cfg.exclude, cfg.nexclude, cfg.ecap, pl_xstrdup(excl.items[i]));
    if (seams >= 0)
        cfg.seams = seams;
    if (layout >= 0)
        cfg.directories = layout;
    if (no_history)
        cfg.history = 0;
    if (root_arg) {
        free(cfg.root);
        char *cwd = getcwd(NULL, 0);
        cfg.root = pl_path_join(cwd ? cwd : "/", root_arg);
        free(cwd);
    }

    warn_list warns = {0};
    pl_ccdb db;
    if (pl_ccdb_load(ccdb_arg, &db, err, sizeof(err), on_warn, &warns) != 0) {
        fprintf(stderr, "graft plan: error: %s\n", err);
        pl_ccdb_free(&db);
        pl_config_free(&cfg);
        for (size_t i = 0; i < warns.n; i++)
            free(warns.items[i]);
        free(warns.items);
        goto out;
    }
    char *root = cfg.root ? pl_xstrdup(cfg.root) : common_dir(&db);

    pl_unit *sel = NULL;
    size_t nsel = 0, selcap = 0;
    for (size_t i = 0; i < db.n; i++) {
        const char *rel = pl_path_under(db.units[i].file, root);
        if (pl_config_selected(&cfg, rel ? rel : db.units[i].file))
            PL_PUSH(sel, nsel, selcap, db.units[i]);
    }
    if (nsel == 0) {
        fprintf(stderr,
                "graft plan: error: no source in %s is selected (root %s; check "
                "--include/--exclude and the config)\n",
                db.path, root);
    } else {
        pl_file *files = pl_xcalloc(nsel, sizeof(pl_file));
        size_t shared = pl_analyze(sel, nsel, jobs, !no_pch, files);
        for (size_t i = 0; i < nsel; i++)
            for (size_t j = 0; j < files[i].nerrors; j++)
                fprintf(stderr, "graft plan: %s: %s\n",
                        files[i].status == PL_FILE_FAILED ? "error" : "parse error",
                        files[i].errors[j]);
        pl_model m;
        pl_model_build(&m, &cfg, root, db.path, files, nsel);
        m.warnings = warns.items;
        m.nwarnings = warns.n;
        pl_model_relativize_warnings(&m);
        FILE *out = out_path ? fopen(out_path, "w") : stdout;
        if (!out) {
            fprintf(stderr, "graft plan: error: cannot write %s\n", out_path);
        } else {
            int wr = fmt == PL_FMT_JSON   ? pl_write_json(&m, out)
                     : fmt == PL_FMT_DOT  ? pl_write_dot(&m, out)
                     : fmt == PL_FMT_HTML ? pl_write_html(&m, out)
                     : fmt == PL_FMT_SVG  ? pl_write_svg(&m, out)
                                          : pl_write_md(&m, out);
            int cl;
            if (out == stdout)
                cl = fflush(stdout);
            else
                cl = fclose(out);
            if (wr != 0 || cl != 0) {
                fprintf(stderr, "graft plan: error: writing %s failed\n",
                        out_path ? out_path : "stdout");
            } else {
                int partial = m.files_failed || m.files_partial || warns.n;
                rc = partial ? 3 : 0;
                if (!quiet)
                    fprintf(stderr,
                            "graft plan: %zu files (%zu failed, %zu with errors), %zu "
                            "functions, %u lines, %zu components, %d cycles in %.2f s; %zu "
                            "parsed with a shared preamble\n",
                            m.nfiles, m.files_failed, m.files_partial, m.nfuncs, m.total_lines,
                            m.ncomps, m.ncycles, now() - t0, shared);
            }
        }
        pl_model_free(&m);
    }
    free(sel);
    free(root);
    for (size_t i = 0; i < warns.n; i++)
        free(warns.items[i]);
    free(warns.items);
    pl_ccdb_free(&db);
    pl_config_free(&cfg);
out:
    for (size_t i = 0; i < incl.n; i++)
        free(incl.items[i]);
    free(incl.items);
    for (size_t i = 0; i < excl.n; i++)
        free(excl.items[i]);
    free(excl.items);
    return rc;
}
