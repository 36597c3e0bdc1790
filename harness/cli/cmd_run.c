/* cmd_run.c — `slmbench run`: evaluate candidates, or resume an interrupted run. */
#include "asof.h"
#include "cli.h"
#include "config.h"
#include "opts.h"
#include "store_cli.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char ABOUT[] =
    "Evaluates every candidate of CONFIG.yaml on its eval set, writing each prediction to\n"
    "the SQLite database (default slmbench.db) as it completes, then prints the comparison.\n";

static const char FOOTER[] =
    "Exit: 0 ok, 2 usage, 3 bad config/eval set/model, 4 engine failure, 130 interrupted.\n";

/* What the command line asked for. */
typedef struct run_args {
    const char *config, *db, *run_ref, *events;
    int resume, retry, no_progress, quiet;
    long repeat_check;
    int shard[2]; /* I, N */
    int print_defaults;
    char as_of[SLM_AS_OF_LEN]; /* --as-of, normalised to UTC; "" when not given */
} run_args;

/* --shard I/N: 0 <= I < N. */
static int set_shard(const char *v, void *target, char *err, size_t errlen)
{
    int *sh = target, i, n;
    char tail;
    if (sscanf(v, "%d/%d%c", &i, &n, &tail) != 2 || n < 1 || i < 0 || i >= n)
        return slm_err(err, errlen, "needs I/N with 0 <= I < N, got '%s'", v);
    sh[0] = i;
    sh[1] = n;
    return 0;
}

/* --as-of DATE: a date that has come, as UTC (asof.h). */
static int set_as_of(const char *v, void *target, char *err, size_t errlen)
{
    return slm_parse_as_of(v, time(NULL), target, err, errlen);
}

/* --events LIST replaces the config's counter events. */
static void set_events(slm_run_cfg *cfg, const char *events)
{
    for (size_t k = 0; k < cfg->n_events; k++)
        free(cfg->events[k]);
    cfg->n_events = 0;
    char *copy = slm_xstrdup(events), *save = NULL;
    for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        cfg->events = slm_xrealloc(cfg->events, (cfg->n_events + 1) * sizeof *cfg->events);
        cfg->events[cfg->n_events++] = slm_xstrdup(t);
    }
    free(copy);
    cfg->counters = cfg->n_events > 0;
}

/* The options into *a; SLM_OPTS_GO or the exit code to return. */
static int parse_args(int argc, char **argv, run_args *a)
{
    slm_opt opts[] = {
        SLM_OPT_DB(&a->db),
        {.name = "resume", .kind = SLM_OPT_FLAG, .target = &a->resume,
         .help = "finish the newest unfinished run (killed, interrupted or failed)"},
        {.like = &slm_opt_run, .target = &a->run_ref, .help = "with --resume: that run"},
        {.name = "retry-errors", .kind = SLM_OPT_FLAG, .target = &a->retry,
         .help = "with --resume: also redo predictions whose engine call failed"},
        {.name = "events", .arg = "LIST", .kind = SLM_OPT_STR, .target = &a->events,
         .needs = "a list of events",
         .help = "counter events, comma-separated (see slmbench counters)"},
        {.name = "repeat-check", .arg = "N", .kind = SLM_OPT_LONG, .target = &a->repeat_check,
         .needs = "a positive number", .min = 1,
         .help = "re-run the first N examples of each candidate; report the flip\n"
                 "rate"},
        {.name = "shard", .arg = "I/N", .kind = SLM_OPT_CALL, .target = a->shard,
         .needs = "I/N with 0 <= I < N", .set = set_shard,
         .help = "evaluate only examples whose index % N == I (0 <= I < N); join the\n"
                 "shards' databases with slmbench merge"},
        {.name = "as-of", .arg = "DATE", .kind = SLM_OPT_CALL, .target = a->as_of,
         .needs = "YYYY-MM-DD or an RFC 3339 date-time, not in the future", .set = set_as_of,
         .help = "date the run stands for (YYYY-MM-DD or RFC 3339), recorded beside\n"
                 "its real start; the drift review places it in that month"},
        {.name = "print-defaults", .kind = SLM_OPT_FLAG, .target = &a->print_defaults,
         .help = "print every config key with its type, default and bounds (as YAML), and\n"
                 "exit"},
        {.name = "no-progress", .kind = SLM_OPT_FLAG, .target = &a->no_progress,
         .help = "no progress bar even on a terminal"},
        SLM_OPT_QUIET(&a->quiet),
        {0},
    };
    const slm_cmd cmd = {
        .name = "run",
        .synopsis = "run CONFIG.yaml\n"
                    "run --resume [--run RUN] [--retry-errors]",
        .about = ABOUT,
        .footer = FOOTER,
        .opts = opts,
        .max_pos = 1,
    };
    size_t np;
    int rc = slm_opts_parse(&cmd, argc, argv, 1, &a->config, &np);
    if (rc != SLM_OPTS_GO)
        return rc;
    if (a->print_defaults) {
        slm_cfg_print_defaults(stdout);
        return SLM_EXIT_OK;
    }
    if (!a->resume && !a->config)
        return slm_opts_usage_error(&cmd, "missing CONFIG.yaml");
    if (a->resume && a->config)
        return slm_opts_usage_error(&cmd, "--resume takes the run from the database, not a "
                                          "config");
    if (a->resume && a->as_of[0])
        return slm_opts_usage_error(&cmd, "--as-of dates a new run; a resumed run keeps its "
                                          "date");
    if ((a->retry || a->run_ref) && !a->resume)
        return slm_opts_usage_error(&cmd, "--retry-errors and --run go with --resume");
    return SLM_OPTS_GO;
}

/* The config of a new run, with --events applied and its path made absolute (so --resume
 * finds its relative paths). Returns an exit code, 0 with *cfg set (NULL for --resume). */
static int load_config(const run_args *a, slm_run_cfg **cfg)
{
    char err[SLM_ERRLEN];
    *cfg = NULL;
    if (!a->config)
        return SLM_EXIT_OK;
    if (slm_run_cfg_load(a->config, cfg, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    if (a->events)
        set_events(*cfg, a->events);
    char *abs = realpath(a->config, NULL);
    if (abs) {
        free((*cfg)->path);
        (*cfg)->path = abs;
    }
    return SLM_EXIT_OK;
}

/* After a complete run: the comparison on stdout; failed engine calls are stored (wrong,
 * with their error), never lost, but the exit code says not everything was answered. */
static int finish(slm_store *st, const run_args *a, int64_t run_id, char *err, size_t errlen)
{
    slm_buf table = {0};
    if (slm_report_summary_table(st, run_id, &table, err, errlen) == 0)
        fputs(table.data ? table.data : "", stdout);
    slm_buf_free(&table);
    if (!a->quiet)
        fprintf(stderr, "slmbench: run %lld complete, stored in %s\n", (long long)run_id, a->db);
    long n_err;
    if (slm_store_run_errors(st, run_id, &n_err, err, errlen) == 0 && n_err > 0) {
        snprintf(err, errlen,
                 "%ld engine call%s failed (stored as errors, counted wrong); retry them with: "
                 "slmbench run --resume --retry-errors --db %s",
                 n_err, n_err == 1 ? "" : "s", a->db);
        return SLM_RUN_ENGINE;
    }
    return SLM_RUN_OK;
}

static int exit_code(int run_rc)
{
    switch (run_rc) {
    case SLM_RUN_OK:
        return SLM_EXIT_OK;
    case SLM_RUN_BAD_INPUT:
        return SLM_EXIT_BAD_INPUT;
    case SLM_RUN_INTERRUPTED:
        return SLM_EXIT_INTERRUPTED;
    default:
        return SLM_EXIT_ENGINE;
    }
}

int cmd_run(int argc, char **argv)
{
    run_args a = {.db = "slmbench.db"};
    int rc = parse_args(argc, argv, &a);
    if (rc != SLM_OPTS_GO)
        return rc;
    char err[SLM_ERRLEN];
    slm_run_cfg *cfg;
    if ((rc = load_config(&a, &cfg)) != SLM_EXIT_OK)
        return rc;
    if (a.resume && access(a.db, F_OK) != 0) {
        slm_run_cfg_free(cfg);
        return slm_die(SLM_EXIT_BAD_INPUT, "cannot resume: no database '%s'", a.db);
    }
    slm_plugins *ps = slm_plugins_load();
    slm_store *st = NULL;
    if (slm_store_open(a.db, 1, &st, err, sizeof err)) {
        slm_plugins_free(ps);
        slm_run_cfg_free(cfg);
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    }
    const volatile sig_atomic_t *stop = slm_cli_catch_stop();

    slm_run_opts o = {.progress = !a.no_progress && !a.quiet && isatty(2),
                      .quiet = a.quiet,
                      .stop = stop,
                      .retry_errors = a.retry,
                      .repeat_check = (int)a.repeat_check,
                      .shard_i = a.shard[0],
                      .shard_n = a.shard[1],
                      .as_of = a.as_of[0] ? a.as_of : NULL};
    int64_t run_id = 0;
    if (!a.resume)
        rc = slm_run_start(cfg, st, ps, &o, &run_id, err, sizeof err);
    else if (a.run_ref && slm_store_resolve_run(st, a.run_ref, &run_id, err, sizeof err))
        rc = SLM_RUN_BAD_INPUT;
    else
        rc = slm_run_resume(st, ps, &o, &run_id, err, sizeof err);
    if (rc == SLM_RUN_OK)
        rc = finish(st, &a, run_id, err, sizeof err);
    if (rc != SLM_RUN_OK)
        slm_die(rc, "%s", err);
    slm_store_close(st);
    slm_plugins_free(ps);
    slm_run_cfg_free(cfg);
    return exit_code(rc);
}
