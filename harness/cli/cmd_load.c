/* cmd_load.c — `slmbench load`: a load test of served candidates (load.h), its levels'
 * statistics printed from the store (loadstats.h). */
#include "cli.h"
#include "load.h"
#include "load_read.h"
#include "loadstats.h"
#include "opts.h"
#include "report.h"
#include "store_load.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char ABOUT[] =
    "Drives every candidate of CONFIG.yaml with the profile of its load: section\n"
    "(synchronous, concurrent, constant, poisson, sweep), judges every answer as run does,\n"
    "stores every request as it finishes and prints a table per level: offered and\n"
    "achieved rate, goodput, TTFT and E2E percentiles with 95% intervals, accuracy.\n";

static const char FOOTER[] =
    "Exit: 0 ok, 2 usage, 3 bad config (or a sweep with no room), 4 engine failure (a level\n"
    "where every request failed), 130 interrupted (resume with --resume RUN).\n";

typedef struct load_args {
    const char *config, *db, *resume, *json;
    int quiet;
} load_args;

static int parse_args(int argc, char **argv, load_args *a)
{
    slm_opt opts[] = {
        SLM_OPT_DB(&a->db),
        {.name = "resume", .arg = "RUN", .kind = SLM_OPT_STR, .target = &a->resume,
         .needs = "a run id",
         .help = "finish load test RUN: its incomplete levels again, then the rest"},
        SLM_OPT_JSON(&a->json),
        SLM_OPT_QUIET(&a->quiet),
        {0},
    };
    const slm_cmd cmd = {.name = "load",
                         .synopsis = "load CONFIG.yaml\nload --resume RUN",
                         .about = ABOUT,
                         .footer = FOOTER,
                         .opts = opts,
                         .max_pos = 1};
    size_t np;
    int rc = slm_opts_parse(&cmd, argc, argv, 1, &a->config, &np);
    if (rc != SLM_OPTS_GO)
        return rc;
    if (!a->resume && !a->config)
        return slm_opts_usage_error(&cmd, "missing CONFIG.yaml");
    if (a->resume && a->config)
        return slm_opts_usage_error(&cmd, "--resume takes the load test from the database, "
                                          "not a config");
    return SLM_OPTS_GO;
}

/* ---- the table ---- */

static void num(slm_buf *b, double v, const char *fmt)
{
    if (isnan(v))
        slm_buf_puts(b, "–");
    else
        slm_buf_printf(b, fmt, v);
}

static void pct_md(slm_buf *b, const slm_pct_ci *p)
{
    num(b, p->value, "%.4g");
    if (!isnan(p->lo) || !isnan(p->hi)) {
        slm_buf_puts(b, " [");
        num(b, p->lo, "%.4g");
        slm_buf_puts(b, ", ");
        num(b, p->hi, "%.4g");
        slm_buf_puts(b, "]");
    }
}

static void row_md(slm_buf *b, const char *cand, const slm_load_level_row *lv,
                   const slm_load_level_stats *s)
{
    slm_buf_puts(b, "| ");
    slm_md_cell(b, cand);
    slm_buf_printf(b, " | %d | %s | ", lv->idx, lv->profile);
    num(b, lv->offered_rps, "%.3g");
    slm_buf_puts(b, " | ");
    num(b, s->achieved_rps, "%.3g");
    slm_buf_puts(b, " | ");
    num(b, s->goodput_rps, "%.3g");
    slm_buf_puts(b, " | ");
    pct_md(b, &s->ttft[0]);
    slm_buf_puts(b, " | ");
    pct_md(b, &s->ttft[2]);
    slm_buf_puts(b, " | ");
    pct_md(b, &s->e2e[0]);
    slm_buf_puts(b, " | ");
    pct_md(b, &s->e2e[2]);
    slm_buf_puts(b, " | ");
    num(b, s->accuracy * 100, "%.1f%%");
    slm_buf_printf(b, " | %ld/%ld | %s |\n", s->n_errors + s->n_timeouts, s->n_measured,
                   lv->status);
}

/* The table of every candidate's levels and best rate, from the one reader (load_read.h)
 * that `report` and `gate` use too: one row per stored level (its index as stored). */
static void table_md(const slm_load_data *d, slm_buf *md)
{
    const double q = d->lc.slo.percentile;
    slm_buf_printf(md, "| candidate | level | profile | offered req/s | achieved req/s | "
                   "goodput req/s | TTFT p50 ms | TTFT p%g ms [95%%] | E2E p50 ms | "
                   "E2E p%g ms [95%%] | accuracy | errors | status |\n"
                   "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
                   q, q);
    for (size_t c = 0; c < d->report.n_cands; c++)
        for (size_t i = 0; i < d->n_rows[c]; i++)
            row_md(md, d->names[c], &d->rows[c][i], &d->levels[c][i].stats);
    slm_buf_putc(md, '\n');
    for (size_t c = 0; c < d->report.n_cands; c++) {
        const slm_load_best *b = &d->cands[c].best;
        slm_buf_printf(md, "%s: highest offered rate meeting the SLO (p%g): ", d->names[c], q);
        num(md, b->rate, "%.3g req/s");
        if (!isnan(b->rate)) {
            slm_buf_puts(md, " [");
            num(md, b->lo, "%.3g");
            slm_buf_puts(md, ", ");
            num(md, b->hi, "%.3g");
            slm_buf_puts(md, "]");
        }
        slm_buf_putc(md, '\n');
    }
}

/* The table (or JSON) of run_id's levels on stdout. */
static int print_run(slm_store *st, int64_t run_id, const load_args *a)
{
    char err[SLM_ERRLEN];
    slm_load_data d;
    if (slm_load_read(st, run_id, &d, err, sizeof err))
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    slm_buf out = {0};
    int rc = 0;
    if (a->json)
        rc = slm_load_data_json(&d, &out);
    else
        table_md(&d, &out);
    if (!rc)
        fwrite(out.data ? out.data : "", 1, out.len, stdout);
    slm_buf_free(&out);
    slm_load_data_free(&d);
    return rc ? slm_die(SLM_EXIT_ENGINE, "cannot encode the load test as JSON") : SLM_EXIT_OK;
}

/* ---- the command ---- */

static int exit_code(int run_rc)
{
    return run_rc == SLM_RUN_OK            ? SLM_EXIT_OK
           : run_rc == SLM_RUN_BAD_INPUT   ? SLM_EXIT_BAD_INPUT
           : run_rc == SLM_RUN_INTERRUPTED ? SLM_EXIT_INTERRUPTED
                                           : SLM_EXIT_ENGINE;
}

/* The config (a new load test's file, or a resumed one's stored text) and its load
 * section. SLM_RUN_* with err. */
static int get_config(const load_args *a, slm_store *st, int64_t run_id, slm_run_cfg **cfg,
                      slm_load_cfg *lc, char *err, size_t errlen)
{
    int rc = SLM_RUN_OK;
    if (a->config) {
        if (slm_run_cfg_load(a->config, cfg, err, errlen))
            return SLM_RUN_BAD_INPUT;
        char *abs = realpath(a->config, NULL);
        if (abs) { /* so --resume finds its relative paths */
            free((*cfg)->path);
            (*cfg)->path = abs;
        }
    } else {
        char mode[16];
        if (slm_load_run_mode(st, run_id, mode, sizeof mode, err, errlen))
            return SLM_RUN_ENGINE;
        if (strcmp(mode, "load")) {
            slm_err(err, errlen, "run %lld is not a load test (mode %s); resume it with: "
                    "slmbench run --resume --run %lld", (long long)run_id, mode,
                    (long long)run_id);
            return SLM_RUN_BAD_INPUT;
        }
        rc = slm_session_stored_cfg(st, run_id, cfg, err, errlen);
    }
    if (rc == SLM_RUN_OK && slm_load_cfg_parse(*cfg, lc, err, errlen))
        rc = SLM_RUN_BAD_INPUT;
    if (rc != SLM_RUN_OK) {
        slm_run_cfg_free(*cfg);
        *cfg = NULL;
    }
    return rc;
}

int cmd_load(int argc, char **argv)
{
    load_args a = {.db = "slmbench.db"};
    int rc = parse_args(argc, argv, &a);
    if (rc != SLM_OPTS_GO)
        return rc;
    char err[SLM_ERRLEN];
    int64_t run_id = 0;
    if (a.resume && access(a.db, F_OK) != 0)
        return slm_die(SLM_EXIT_BAD_INPUT, "cannot resume: no database '%s'", a.db);
    slm_run_cfg *cfg = NULL;
    slm_load_cfg lc;
    slm_store *st = NULL;
    if (a.config && (rc = get_config(&a, NULL, 0, &cfg, &lc, err, sizeof err)) != SLM_RUN_OK)
        return slm_die(exit_code(rc), "%s", err);
    if (slm_store_open(a.db, 1, &st, err, sizeof err)) {
        slm_run_cfg_free(cfg);
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    }
    if (a.resume && (slm_store_resolve_run(st, a.resume, &run_id, err, sizeof err) ||
                     (rc = get_config(&a, st, run_id, &cfg, &lc, err, sizeof err)))) {
        slm_store_close(st);
        slm_run_cfg_free(cfg);
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    }
    slm_plugins *ps = slm_plugins_load();
    slm_loadtest_opts o = {.stop = slm_cli_catch_stop(), .quiet = a.quiet};
    rc = a.resume ? slm_load_resume(st, ps, &o, run_id, err, sizeof err)
                  : slm_load_start(cfg, &lc, st, ps, &o, &run_id, err, sizeof err);
    int code = exit_code(rc);
    if (rc != SLM_RUN_OK)
        slm_die(code, "%s", err);
    if (run_id > 0 && rc != SLM_RUN_INTERRUPTED && print_run(st, run_id, &a))
        code = code ? code : SLM_EXIT_ENGINE;
    if (!a.quiet && run_id > 0)
        fprintf(stderr, "slmbench: load test %lld stored in %s\n", (long long)run_id, a.db);
    slm_store_close(st);
    slm_plugins_free(ps);
    slm_run_cfg_free(cfg);
    return code;
}
