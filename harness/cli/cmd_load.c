/* cmd_load.c — `slmbench load`: a load test of served candidates (load.h), its levels'
 * statistics printed from the store (loadstats.h). */
#include "cli.h"
#include "load.h"
#include "loadstats.h"
#include "opts.h"
#include "report.h"
#include "store_load.h"

#include <jansson.h>
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

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

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

static json_t *jnum(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

static json_t *pct_json(const slm_pct_ci *p)
{
    return json_pack("{s:o, s:o, s:o, s:I}", "value", jnum(p->value), "lo", jnum(p->lo), "hi",
                     jnum(p->hi), "n", (json_int_t)p->n);
}

static void row_md(slm_buf *b, const char *cand, const slm_load_level_row *lv,
                   const slm_load_level_stats *s, double q)
{
    (void)q;
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

static json_t *row_json(const slm_load_level_row *lv, const slm_load_level_stats *s)
{
    json_t *o = json_pack("{s:i, s:s, s:o, s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "level",
                          lv->idx, "profile", lv->profile, "offered_rps", jnum(lv->offered_rps),
                          "concurrency", lv->concurrency, "status", lv->status, "reason",
                          lv->reason ? json_string(lv->reason) : json_null(), "window_ms",
                          jnum(lv->window_ms), "achieved_rps", jnum(s->achieved_rps),
                          "throughput_rps", jnum(s->throughput_rps), "goodput_rps",
                          jnum(s->goodput_rps), "output_tok_s", jnum(s->output_tok_s));
    static const char *const names[] = {"p50", "p90", "p_slo"};
    json_t *tt = json_object(), *ee = json_object(), *tp = json_object(), *it = json_object();
    for (int k = 0; k < 3; k++) {
        json_object_set_new(tt, names[k], pct_json(&s->ttft[k]));
        json_object_set_new(ee, names[k], pct_json(&s->e2e[k]));
        json_object_set_new(tp, names[k], pct_json(&s->tpot[k]));
        json_object_set_new(it, names[k], pct_json(&s->itl[k]));
    }
    json_object_set_new(o, "ttft_ms", tt);
    json_object_set_new(o, "e2e_ms", ee);
    json_object_set_new(o, "tpot_ms", tp);
    json_object_set_new(o, "itl_ms", it);
    json_object_set_new(o, "send_err_p50_ms", jnum(s->send_err_p50_ms));
    json_object_set_new(o, "send_err_p99_ms", jnum(s->send_err_p99_ms));
    json_object_set_new(o, "goodput_share", jnum(s->goodput_share));
    json_object_set_new(o, "n_errors", json_integer(s->n_errors));
    json_object_set_new(o, "n_timeouts", json_integer(s->n_timeouts));
    json_object_set_new(o, "accuracy", jnum(s->accuracy));
    json_object_set_new(o, "invalid_rate", jnum(s->invalid_rate));
    json_object_set_new(o, "error_rate", jnum(s->error_rate));
    json_object_set_new(o, "timeout_rate", jnum(s->timeout_rate));
    json_object_set_new(o, "n_measured", json_integer(s->n_measured));
    json_object_set_new(o, "n_answered", json_integer(s->n_answered));
    json_object_set_new(o, "meets_slo", s->meets_slo < 0 ? json_null()
                                                         : json_boolean(s->meets_slo));
    return o;
}

/* One candidate's levels summarised (stats[i] for lv[i]). */
static int summarise_levels(slm_store *st, const slm_run_cfg *cfg, const slm_load_cfg *lc,
                            const slm_load_level_row *lv, size_t n, slm_load_level_stats *stats,
                            char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        slm_load_req *rq;
        size_t nr;
        if (slm_load_requests(st, lv[i].id, &rq, &nr, err, errlen))
            return -1;
        int rc = slm_load_level_summarise(rq, nr, lv[i].window_ms, lv[i].offered_rps, &lc->slo,
                                          cfg->bootstrap, (uint64_t)cfg->seed, &stats[i]);
        free(rq);
        if (rc)
            return slm_err(err, errlen, "out of memory summarising level %d", lv[i].idx);
    }
    return 0;
}

/* The highest offered rate meeting the SLO over the candidate's levels (closed-loop ones
 * are skipped): a level counts saturated as it was judged when it ran (the config's
 * saturation ratio), an unfinished one not at all. */
static slm_load_best best_rate(const slm_load_level_row *lv, slm_load_level_stats *s,
                               size_t n)
{
    slm_load_level_stats *ended = slm_xcalloc(n ? n : 1, sizeof *ended);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        s[i].saturated = !strcmp(lv[i].status, "saturated");
        if (!strcmp(lv[i].status, "complete") || s[i].saturated)
            ended[k++] = s[i];
    }
    slm_load_best b = {NAN, NAN, NAN, (size_t)-1};
    slm_load_best_rate(ended, k, &b);
    free(ended);
    return b;
}

/* The levels of every candidate of run_id: Markdown on md, or JSON into arr. */
static int print_levels(slm_store *st, int64_t run_id, const slm_run_cfg *cfg,
                        const slm_load_cfg *lc, slm_buf *md, json_t *arr, char *err,
                        size_t errlen)
{
    slm_cand *cands;
    size_t nc;
    if (slm_store_candidates(st, run_id, &cands, &nc, err, errlen))
        return -1;
    int rc = 0;
    slm_buf_printf(md, "| candidate | level | profile | offered req/s | achieved req/s | "
                   "goodput req/s | TTFT p50 ms | TTFT p%g ms [95%%] | E2E p50 ms | "
                   "E2E p%g ms [95%%] | accuracy | errors | status |\n"
                   "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
                   lc->slo.percentile, lc->slo.percentile);
    slm_buf best = {0};
    for (size_t c = 0; c < nc && !rc; c++) {
        slm_load_level_row *lv;
        size_t n;
        if ((rc = slm_load_levels(st, run_id, cands[c].id, &lv, &n, err, errlen)))
            break;
        slm_load_level_stats *s = slm_xcalloc(n ? n : 1, sizeof *s);
        rc = summarise_levels(st, cfg, lc, lv, n, s, err, errlen);
        json_t *levels = json_array();
        for (size_t i = 0; !rc && i < n; i++) {
            row_md(md, cands[c].name, &lv[i], &s[i], lc->slo.percentile);
            json_array_append_new(levels, row_json(&lv[i], &s[i]));
        }
        slm_load_best b = best_rate(lv, s, n);
        slm_buf_printf(&best, "%s: highest offered rate meeting the SLO (p%g): ",
                       cands[c].name, lc->slo.percentile);
        num(&best, b.rate, "%.3g req/s");
        if (!isnan(b.rate)) {
            slm_buf_puts(&best, " [");
            num(&best, b.lo, "%.3g");
            slm_buf_puts(&best, ", ");
            num(&best, b.hi, "%.3g");
            slm_buf_puts(&best, "]");
        }
        slm_buf_putc(&best, '\n');
        json_array_append_new(arr, json_pack("{s:s, s:o, s:{s:o, s:o, s:o}}", "candidate",
                                             cands[c].name, "levels", levels, "best",
                                             "rate_rps", jnum(b.rate), "lo", jnum(b.lo),
                                             "hi", jnum(b.hi)));
        free(s);
        slm_load_levels_free(lv, n);
    }
    slm_buf_printf(md, "\n%s", best.data ? best.data : "");
    slm_buf_free(&best);
    slm_cands_free(cands, nc);
    return rc;
}

/* The table (or JSON) of run_id's levels on stdout. */
static int print_run(slm_store *st, int64_t run_id, const slm_run_cfg *cfg,
                     const slm_load_cfg *lc, const load_args *a)
{
    char err[SLM_ERRLEN];
    slm_buf md = {0};
    json_t *arr = json_array();
    int rc = print_levels(st, run_id, cfg, lc, &md, arr, err, sizeof err);
    if (rc == 0 && a->json) {
        json_t *o = json_pack("{s:I, s:s, s:o}", "run_id", (json_int_t)run_id, "profile",
                              slm_load_profile_name(lc->profile), "candidates", arr);
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        json_decref(arr);
        if (rc == 0)
            fputs(md.data ? md.data : "", stdout);
    }
    slm_buf_free(&md);
    return rc ? slm_die(SLM_EXIT_ENGINE, "%s", err) : SLM_EXIT_OK;
}

/* ---- the command ---- */

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct sigaction old;
    if (sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
        sigaction(SIGHUP, &sa, NULL);
}

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
    catch_signals();
    slm_plugins *ps = slm_plugins_load();
    slm_loadtest_opts o = {.stop = &g_stop, .quiet = a.quiet};
    rc = a.resume ? slm_load_resume(st, ps, &o, run_id, err, sizeof err)
                  : slm_load_start(cfg, &lc, st, ps, &o, &run_id, err, sizeof err);
    int code = exit_code(rc);
    if (rc != SLM_RUN_OK)
        slm_die(code, "%s", err);
    if (run_id > 0 && rc != SLM_RUN_INTERRUPTED && print_run(st, run_id, cfg, &lc, &a))
        code = code ? code : SLM_EXIT_ENGINE;
    if (!a.quiet && run_id > 0)
        fprintf(stderr, "slmbench: load test %lld stored in %s\n", (long long)run_id, a.db);
    slm_store_close(st);
    slm_plugins_free(ps);
    slm_run_cfg_free(cfg);
    return code;
}
