/* cmd_run.c — `slmbench run`: evaluate candidates, or resume an interrupted run. */
#include "cli.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: slmbench run CONFIG.yaml [--db FILE] [--no-progress] [--quiet]\n"
    "       slmbench run --resume [--db FILE] [--run ID] [--retry-errors]\n"
    "\n"
    "Evaluates every candidate of CONFIG.yaml on its eval set, writing each prediction to\n"
    "the SQLite database (default slmbench.db) as it completes, then prints the comparison.\n"
    "  --db FILE        database file (created if missing)\n"
    "  --resume         finish the newest unfinished run (killed, interrupted or failed)\n"
    "  --run ID         with --resume: that run\n"
    "  --retry-errors   with --resume: also redo predictions whose engine call failed\n"
    "  --events LIST    counter events, comma-separated (see slmbench counters)\n"
    "  --repeat-check N re-run the first N examples of each candidate; report the flip rate\n"
    "  --shard I/N      evaluate only examples whose index % N == I (0 <= I < N); join the\n"
    "                   shards' databases with slmbench merge\n"
    "  --no-progress    no progress bar even on a terminal\n"
    "  --quiet          only errors on stderr\n"
    "Exit: 0 ok, 2 usage, 3 bad config/eval set/model, 4 engine failure, 130 interrupted.\n";

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

int cmd_run(int argc, char **argv)
{
    const char *config = NULL, *db = "slmbench.db", *run_ref = NULL, *events = NULL;
    int resume = 0, retry = 0, no_progress = 0, quiet = 0;
    long repeat_check = 0;
    int shard_i = 0, shard_n = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (slm_is_help(argv[i])) {
            fputs(USAGE, stdout);
            return SLM_EXIT_OK;
        } else if ((r = slm_opt_value(argc, argv, &i, "db", &v))) {
            if (r < 0)
                return slm_usage_error(USAGE, "option '--db' needs a file");
            db = v;
        } else if ((r = slm_opt_value(argc, argv, &i, "events", &v))) {
            if (r < 0)
                return slm_usage_error(USAGE, "option '--events' needs a list of events");
            events = v;
        } else if ((r = slm_opt_value(argc, argv, &i, "repeat-check", &v))) {
            if (r < 0 || slm_parse_long(v, &repeat_check) || repeat_check < 1)
                return slm_usage_error(USAGE, "option '--repeat-check' needs a positive number");
        } else if ((r = slm_opt_value(argc, argv, &i, "shard", &v))) {
            char tail;
            if (r < 0 || sscanf(v, "%d/%d%c", &shard_i, &shard_n, &tail) != 2 || shard_n < 1 ||
                shard_i < 0 || shard_i >= shard_n)
                return slm_usage_error(USAGE, "option '--shard' needs I/N with 0 <= I < N, got '%s'",
                                       r < 0 ? "" : v);
        } else if ((r = slm_opt_value(argc, argv, &i, "run", &v))) {
            if (r < 0)
                return slm_usage_error(USAGE, "option '--run' needs a run id");
            run_ref = v;
        } else if (slm_opt_flag(argv[i], "resume"))
            resume = 1;
        else if (slm_opt_flag(argv[i], "retry-errors"))
            retry = 1;
        else if (slm_opt_flag(argv[i], "no-progress"))
            no_progress = 1;
        else if (slm_opt_flag(argv[i], "quiet"))
            quiet = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return slm_usage_error(USAGE, "unknown option '%s'", argv[i]);
        else if (!config)
            config = argv[i];
        else
            return slm_usage_error(USAGE, "unexpected argument '%s'", argv[i]);
    }
    if (!resume && !config)
        return slm_usage_error(USAGE, "missing CONFIG.yaml");
    if (resume && config)
        return slm_usage_error(USAGE, "--resume takes the run from the database, not a config");
    if ((retry || run_ref) && !resume)
        return slm_usage_error(USAGE, "--retry-errors and --run go with --resume");

    char err[SLM_ERRLEN];
    slm_run_cfg *cfg = NULL;
    if (config && slm_run_cfg_load(config, &cfg, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    if (cfg && events) {
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
    if (cfg) {
        /* Remember where the config was, absolutely, so --resume finds relative paths. */
        char *abs = realpath(config, NULL);
        if (abs) {
            free(cfg->path);
            cfg->path = abs;
        }
    }
    if (resume && access(db, F_OK) != 0) {
        slm_run_cfg_free(cfg);
        return slm_die(SLM_EXIT_BAD_INPUT, "cannot resume: no database '%s'", db);
    }
    slm_plugins *ps = slm_plugins_load();
    slm_store *st = NULL;
    if (slm_store_open(db, 1, &st, err, sizeof err)) {
        slm_plugins_free(ps);
        slm_run_cfg_free(cfg);
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    slm_run_opts o = {.progress = !no_progress && !quiet && isatty(2),
                      .quiet = quiet,
                      .stop = &g_stop,
                      .retry_errors = retry,
                      .repeat_check = (int)repeat_check,
                      .shard_i = shard_i,
                      .shard_n = shard_n};
    int64_t run_id = 0;
    int rc;
    if (resume) {
        if (run_ref && slm_store_resolve_run(st, run_ref, &run_id, err, sizeof err)) {
            rc = SLM_RUN_BAD_INPUT;
            goto out;
        }
        rc = slm_run_resume(st, ps, &o, &run_id, err, sizeof err);
    } else {
        rc = slm_run_start(cfg, st, ps, &o, &run_id, err, sizeof err);
    }
    if (rc != SLM_RUN_OK)
        goto out;
    slm_buf table = {0};
    if (slm_report_summary_table(st, run_id, &table, err, sizeof err) == 0)
        fputs(table.data ? table.data : "", stdout);
    slm_buf_free(&table);
    if (!quiet)
        fprintf(stderr, "slmbench: run %lld complete, stored in %s\n", (long long)run_id, db);
    /* Failed engine calls are stored (wrong, with their error), never lost; the run is
     * complete, but the exit code says not everything was answered. */
    sqlite3_stmt *q;
    if (slm_store_prepare(st, "SELECT count(*) FROM predictions WHERE run_id = ? AND error IS NOT NULL",
                          &q, err, sizeof err) == 0) {
        sqlite3_bind_int64(q, 1, run_id);
        long n_err = sqlite3_step(q) == SQLITE_ROW ? (long)sqlite3_column_int64(q, 0) : 0;
        sqlite3_finalize(q);
        if (n_err > 0) {
            snprintf(err, sizeof err,
                     "%ld engine call%s failed (stored as errors, counted wrong); retry them with: "
                     "slmbench run --resume --retry-errors --db %s",
                     n_err, n_err == 1 ? "" : "s", db);
            rc = SLM_RUN_ENGINE;
        }
    }
out:
    if (rc != SLM_RUN_OK)
        slm_die(rc, "%s", err);
    slm_store_close(st);
    slm_plugins_free(ps);
    slm_run_cfg_free(cfg);
    switch (rc) {
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
