/* report.c — see report.h. */
#include "report.h"
#include "report_classes.h"
#include "run_scope.h"
#include "aggregate.h"
#include "analysis.h"
#include "fields.h"
#include "json_out.h"
#include "latpairs.h"
#include "metrics.h"
#include "recommend.h"
#include "store_reports.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading a run ---- */

typedef slm_cand_card cand_row;
typedef slm_run_facts run_info;

static void run_info_free(run_info *r)
{
    slm_run_facts_free(r);
}

static int load_run(slm_store *st, int64_t id, run_info *r, char *err, size_t errlen)
{
    return slm_store_run_facts(st, id, r, err, errlen);
}

static double metric(slm_store *st, int64_t cid, const char *name)
{
    return slm_store_metric(st, cid, name, NULL, NULL);
}

/* ---- number formatting ---- */

static void num(slm_buf *b, double v, int digits)
{
    slm_md_num(b, v, digits);
}

static void pct(slm_buf *b, double v)
{
    slm_md_pct(b, v);
}

static void human_count(slm_buf *b, double v)
{
    if (isnan(v)) {
        slm_buf_puts(b, "–");
        return;
    }
    char t[32];
    if (v >= 1e9)
        snprintf(t, sizeof t, "%.2fB", v / 1e9);
    else if (v >= 1e6)
        snprintf(t, sizeof t, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(t, sizeof t, "%.1fk", v / 1e3);
    else
        snprintf(t, sizeof t, "%.0f", v);
    slm_buf_puts(b, t);
}

static void field_val(slm_buf *b, const char *name, double v)
{
    slm_md_field_val(b, name, v);
}

/* " | value" of a candidate's stored metric. */
static void field_cell(slm_buf *b, slm_store *st, int64_t cid, const char *name)
{
    slm_buf_puts(b, " | ");
    field_val(b, name, metric(st, cid, name));
}

/* The header of a table of metric columns after `first`: titles from the field table,
 * right-aligned. */
static void field_header(slm_buf *b, const char *first, const char *const *names, size_t n)
{
    slm_buf_printf(b, "| %s |", first);
    for (size_t i = 0; i < n; i++) {
        const slm_field *f = slm_field_lookup(names[i]);
        slm_buf_printf(b, " %s |", f ? slm_field_col(f) : names[i]);
    }
    slm_buf_puts(b, "\n|---|");
    for (size_t i = 0; i < n; i++)
        slm_buf_puts(b, "---:|");
    slm_buf_puts(b, "\n");
}

/* A table of metric columns, one row per candidate of the run: header from the field
 * table, each cell formatted by its field. */
static void field_table(slm_store *st, const run_info *r, const char *const *cols, size_t n,
                        slm_buf *b)
{
    field_header(b, "candidate", cols, n);
    for (size_t i = 0; i < r->nc; i++) {
        slm_buf_puts(b, "| ");
        slm_md_cell(b, r->c[i].name);
        for (size_t k = 0; k < n; k++)
            field_cell(b, st, r->c[i].id, cols[k]);
        slm_buf_puts(b, " |\n");
    }
}

static void comparison(slm_store *st, const run_info *r, slm_buf *b)
{
    /* the summary fields by column title; times add their unit ("e2e p50 ms"), rates
     * name theirs in the title ("tokens/s") */
    slm_buf_puts(b, "| candidate | engine | quant | params |");
    for (size_t k = 0; k < slm_n_summary_fields; k++) {
        const slm_field *f = slm_field_find(slm_summary_fields[k]);
        slm_buf_printf(b, " %s%s%s |", slm_field_col(f), !strcmp(f->unit, "ms") ? " " : "",
                       !strcmp(f->unit, "ms") ? f->unit : "");
    }
    slm_buf_puts(b, " status |\n|---|---|---|---:|");
    for (size_t k = 0; k < slm_n_summary_fields; k++)
        slm_buf_puts(b, "---:|");
    slm_buf_puts(b, "---|\n");
    for (size_t i = 0; i < r->nc; i++) {
        const cand_row *c = &r->c[i];
        slm_buf_puts(b, "| ");
        slm_md_cell(b, c->name);
        slm_buf_puts(b, " | ");
        slm_md_cell(b, c->engine);
        slm_buf_puts(b, " | ");
        slm_md_cell(b, c->quant ? c->quant : "–");
        slm_buf_puts(b, " | ");
        human_count(b, c->n_params);
        for (size_t k = 0; k < slm_n_summary_fields; k++)
            field_cell(b, st, c->id, slm_summary_fields[k]);
        slm_buf_puts(b, " | ");
        slm_md_cell(b, c->status);
        slm_buf_puts(b, " |\n");
    }
}

int slm_report_summary_table(slm_store *st, int64_t run_id, slm_buf *out, char *err,
                             size_t errlen)
{
    run_info r;
    if (load_run(st, run_id, &r, err, errlen)) {
        run_info_free(&r);
        return -1;
    }
    slm_buf_printf(out, "\nrun %lld '", (long long)r.id);
    slm_ctl_text(out, r.name); /* the name, eval set and split come from files */
    slm_buf_printf(out, "': %s on ", r.status);
    slm_ctl_text(out, r.es_name ? r.es_name : "?");
    slm_buf_putc(out, '/');
    slm_ctl_text(out, r.split ? r.split : "?");
    slm_buf_puts(out, " (");
    slm_report_run_scope(st, r.id, r.n_rows, out); /* a shard: "616 of 3,080 examples" */
    slm_buf_printf(out, ", mode %s)\n", r.mode);
    slm_recommend_text(st, &r, out); /* the answer and the warnings lead */
    slm_buf_puts(out, "\n");
    comparison(st, &r, out);
    if (r.nc) {
        double maj = metric(st, r.c[0].id, "majority_rate");
        if (!isnan(maj)) {
            slm_buf_puts(out, "\nmajority-class rate: ");
            pct(out, maj);
            slm_buf_puts(out, "\n");
        }
    }
    run_info_free(&r);
    return 0;
}

static void short_sha(slm_buf *b, const char *sha)
{
    if (!sha) {
        slm_buf_puts(b, "–");
        return;
    }
    slm_buf_printf(b, "`%.12s`", sha);
}

/* A metric with its stored interval, "0.712 [0.675, 0.748]", formatted as its field. */
static void metric_ci(slm_store *st, int64_t cid, const char *name, slm_buf *b)
{
    double lo, hi;
    double v = slm_store_metric(st, cid, name, &lo, &hi);
    field_val(b, name, v);
    if (!isnan(lo) && !isnan(hi)) {
        slm_buf_puts(b, " [");
        field_val(b, name, lo);
        slm_buf_puts(b, ", ");
        field_val(b, name, hi);
        slm_buf_puts(b, "]");
    }
}

/* Under the calibration table, per candidate that has any, the rows its calibration
 * metrics leave out (conf_missing, probs_missing: analysis.c). */
static void left_out_note(slm_store *st, const run_info *r, slm_buf *b)
{
    int said = 0;
    for (size_t i = 0; i < r->nc; i++) {
        double cm = metric(st, r->c[i].id, "conf_missing");
        double pm = metric(st, r->c[i].id, "probs_missing");
        if (!(cm > 0 || pm > 0))
            continue;
        slm_buf_puts(b, said++ ? "" : "\n");
        slm_md_cell(b, r->c[i].name);
        slm_buf_printf(b, ": %.0f rows without a confidence are left out of ECE, MCE, AURC "
                          "and coverage, %.0f without probabilities out of Brier and NLL "
                          "(accuracy counts them as wrong).\n",
                       cm > 0 ? cm : 0, pm > 0 ? pm : 0);
    }
}

static void calibration(slm_store *st, const run_info *r, slm_buf *b)
{
    slm_buf_puts(b, "\n### Calibration and selective prediction\n\n"
                    "Intervals are 95% bootstrap intervals from one set of seeded resamples: "
                    "percentile for accuracy; BCa (bias-corrected and accelerated) for macro-F1 "
                    "and ECE, whose resampled values sit off-centre, so their intervals need not "
                    "be centred on the value (none is shown where BCa is undefined: the value "
                    "beyond every replicate, or the whole interval between the two outermost "
                    "ones). Coverage at a target accuracy is the "
                    "largest share of examples the model may answer alone (confidence ≥ τ) while "
                    "its accuracy on them meets the target.\n\n"
                    "| candidate | accuracy | macro-F1 | ECE | ECE (equal mass) | MCE | Brier | NLL "
                    "| AURC | coverage @90% (τ) | coverage @95% (τ) | coverage @99% (τ) |\n"
                    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < r->nc; i++) {
        const cand_row *c = &r->c[i];
        slm_buf_puts(b, "| ");
        slm_md_cell(b, c->name);
        slm_buf_puts(b, " | ");
        metric_ci(st, c->id, "accuracy", b);
        slm_buf_puts(b, " | ");
        metric_ci(st, c->id, "macro_f1", b);
        slm_buf_puts(b, " | ");
        metric_ci(st, c->id, "ece_15", b);
        static const char *const plain[] = {"ece_15_mass", "mce_15", "brier", "nll", "aurc"};
        for (size_t k = 0; k < 5; k++)
            field_cell(b, st, c->id, plain[k]);
        static const char *const cov[] = {"0.90", "0.95", "0.99"};
        for (size_t k = 0; k < 3; k++) {
            char n1[64], n2[64];
            snprintf(n1, sizeof n1, "coverage_at_%s", cov[k]);
            snprintf(n2, sizeof n2, "coverage_at_%s_threshold", cov[k]);
            field_cell(b, st, c->id, n1);
            double t = metric(st, c->id, n2);
            if (!isnan(t)) {
                slm_buf_puts(b, " (");
                field_val(b, n2, t);
                slm_buf_puts(b, ")");
            }
        }
        slm_buf_puts(b, " |\n");
    }
    left_out_note(st, r, b);
}

static void temperature(slm_store *st, const run_info *r, slm_buf *b)
{
    if (!r->nc)
        return;
    int any = 0;
    for (size_t i = 0; i < r->nc; i++)
        any |= !isnan(metric(st, r->c[i].id, "temperature"));
    if (!any)
        return;
    slm_buf_puts(b, "\nTemperature scaling: one temperature T per candidate, fitted by "
                    "minimising NLL on the calibration split (never on the evaluated split), "
                    "then applied to the evaluated split's label scores; predictions do not "
                    "change, confidences do.\n\n| candidate | calibration examples | T | ECE "
                    "before → after | NLL before → after | Brier before → after |\n"
                    "|---|---:|---:|---|---|---|\n");
    for (size_t i = 0; i < r->nc; i++) {
        int64_t id = r->c[i].id;
        slm_buf_puts(b, "| ");
        slm_md_cell(b, r->c[i].name);
        field_cell(b, st, id, "calibration_n");
        field_cell(b, st, id, "temperature");
        static const char *const pairs[][2] = {
            {"ece_15", "ece_15_ts"}, {"nll", "nll_ts"}, {"brier", "brier_ts"}};
        for (size_t k = 0; k < 3; k++) {
            field_cell(b, st, id, pairs[k][0]);
            slm_buf_puts(b, " → ");
            field_val(b, pairs[k][1], metric(st, id, pairs[k][1]));
        }
        slm_buf_puts(b, " |\n");
    }
}

/* Hardware counters: every figure, or why it is unavailable. */
static void counters(slm_store *st, const run_info *r, slm_buf *b)
{
    static const char *const cn[] = {"instructions_per_token", "cycles_per_token", "ipc",
                                     "cache_misses_per_kinstr", "branch_misses_per_kinstr",
                                     "cpu_utilisation", "task_clock_vs_cpu_time",
                                     "page_faults_per_example", "context_switches_per_example",
                                     "energy_per_token_j"};
    const size_t ncn = sizeof cn / sizeof cn[0];
    slm_buf_puts(b, "\nCounters (whole process, all threads, read at the prefill and decode "
                    "boundaries):\n\n");
    field_header(b, "candidate", cn, ncn);
    for (size_t i = 0; i < r->nc; i++) {
        slm_buf_puts(b, "| ");
        slm_md_cell(b, r->c[i].name);
        for (size_t j = 0; j < ncn; j++) {
            double v = metric(st, r->c[i].id, cn[j]);
            slm_buf_puts(b, " | ");
            if (isnan(v))
                slm_buf_puts(b, "unavailable");
            else
                field_val(b, cn[j], v);
        }
        slm_buf_puts(b, " |\n");
    }
    slm_counter_event *ev;
    size_t nev;
    if (slm_store_counter_events(st, r->id, &ev, &nev, NULL, 0))
        return;
    for (size_t i = 0; i < nev; i++) {
        if (!i)
            slm_buf_puts(b, "\n| event | source | why unavailable |\n|---|---|---|\n");
        slm_buf_puts(b, "| ");
        slm_md_cell(b, ev[i].event);
        slm_buf_puts(b, " | ");
        slm_md_cell(b, ev[i].source);
        slm_buf_puts(b, " | ");
        slm_md_cell(b, ev[i].reason ? ev[i].reason : "");
        slm_buf_puts(b, " |\n");
    }
    slm_counter_events_free(ev, nev);
}

/* Throughput mode beside single-stream, when any candidate ran it. */
static void throughput(slm_store *st, const run_info *r, slm_buf *b)
{
    int any_tp = 0;
    for (size_t i = 0; i < r->nc; i++)
        any_tp |= !isnan(metric(st, r->c[i].id, "throughput_examples_per_s"));
    if (!any_tp)
        return;
    slm_buf_puts(b, "\nThroughput mode (many examples as parallel sequences in one batch, "
                    "like MLPerf's Offline scenario) beside single-stream:\n\n"
                    "| candidate | examples/s single-stream | examples/s batched | tokens/s "
                    "single-stream | tokens/s batched | predictions differing |\n"
                    "|---|---:|---:|---:|---:|---:|\n");
    static const char *const t[] = {"examples_per_s", "throughput_examples_per_s",
                                    "tokens_per_s", "throughput_tokens_per_s",
                                    "throughput_mismatches"};
    for (size_t i = 0; i < r->nc; i++) {
        slm_buf_puts(b, "| ");
        slm_md_cell(b, r->c[i].name);
        for (size_t j = 0; j < 5; j++)
            field_cell(b, st, r->c[i].id, t[j]);
        slm_buf_puts(b, " |\n");
    }
}

/* Concurrency, when any candidate kept more than one request in flight. */
static void concurrency(slm_store *st, const run_info *r, slm_buf *b)
{
    int any_conc = 0;
    for (size_t i = 0; i < r->nc; i++)
        any_conc |= metric(st, r->c[i].id, "concurrency") > 1;
    if (!any_conc)
        return;
    slm_buf_puts(b, "\nConcurrency (requests kept in flight at once, as a served model sees "
                    "under load; latencies above were measured under that load, from each "
                    "request's start, and examples/s is over the time requests were in "
                    "flight):\n\n| candidate | concurrency | examples/s | e2e p50 ms | "
                    "e2e p95 ms |\n|---|---:|---:|---:|---:|\n");
    static const char *const t[] = {"concurrency", "concurrent_examples_per_s", "e2e_ms_p50",
                                    "e2e_ms_p95"};
    for (size_t i = 0; i < r->nc; i++) {
        int64_t id = r->c[i].id;
        slm_buf_puts(b, "| ");
        slm_md_cell(b, r->c[i].name);
        for (size_t j = 0; j < 4; j++) {
            double v = metric(st, id, t[j]);
            if (j == 1 && isnan(v) && metric(st, id, "concurrency") <= 1)
                v = metric(st, id, "examples_per_s"); /* one at a time: the same thing */
            slm_buf_puts(b, " | ");
            field_val(b, t[j], v);
        }
        slm_buf_puts(b, " |\n");
    }
}

static void performance(slm_store *st, const run_info *r, slm_buf *b)
{
    if (!r->nc)
        return;
    slm_buf_puts(b, "\n### Performance and measurement conditions\n\n"
                    "| candidate | load ms | peak memory MiB | repeat spread (CV) | noisy | "
                    "load avg before → after | steal % | prefill GFLOP/s | decode tok/s | "
                    "decode bound tok/s | % of bound |\n"
                    "|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|\n");
    static const char *const k[] = {"steal_pct", "prefill_gflops", "decode_tokens_per_s",
                                    "decode_bound_tokens_per_s", "roofline_decode_pct"};
    for (size_t i = 0; i < r->nc; i++) {
        int64_t id = r->c[i].id;
        slm_buf_puts(b, "| ");
        slm_md_cell(b, r->c[i].name);
        field_cell(b, st, id, "load_ms");
        field_cell(b, st, id, "peak_rss_mb");
        field_cell(b, st, id, "repeat_cv");
        double noisy = metric(st, id, "noisy");
        slm_buf_puts(b, isnan(noisy) ? " | – (no repeats)" : noisy > 0 ? " | **noisy**" : " | no");
        field_cell(b, st, id, "load1_before");
        slm_buf_puts(b, " → ");
        field_val(b, "load1_after", metric(st, id, "load1_after"));
        for (size_t j = 0; j < 5; j++)
            field_cell(b, st, id, k[j]);
        slm_buf_puts(b, " |\n");
    }
    counters(st, r, b);
    throughput(st, r, b);
    concurrency(st, r, b);
    double bw = metric(st, r->c[0].id, "bandwidth_gbs");
    slm_buf_puts(b, "\nMemory bandwidth measured with a STREAM-style triad at the start of the run: ");
    field_val(b, "bandwidth_gbs", bw);
    slm_buf_puts(b, " GB/s. The decode bound is that bandwidth divided by the model's bytes (every "
                    "weight read once per generated token); decode figures exist in generate "
                    "mode. A candidate is noisy when the median coefficient of variation of its "
                    "repeated end-to-end times exceeds 10%.\n");
    size_t turn = slm_cand_turn(st, r->c[0].id);
    if (turn && r->nc > 1)
        slm_buf_printf(b, "\nThe candidates took turns of %zu examples with every model open at "
                          "once (interleave), so their latencies were measured under the same "
                          "conditions; the peak memory is the process's, all models together.\n",
                       turn);
}

/* JSON tasks: exact match, field scores and the failure kinds, one row per candidate. */
static void structured_outputs(slm_store *st, const run_info *r, slm_buf *b)
{
    if (!r->nc || !slm_run_is_json_task(st, r->id))
        return;
    char **names;
    size_t nn;
    if (slm_store_structured_names(st, r->id, &names, &nn, NULL, 0))
        return;
    slm_cand *cands = NULL;
    size_t ncands = 0;
    if (slm_store_candidates(st, r->id, &cands, &ncands, NULL, 0))
        ncands = 0;
    slm_buf_puts(b, "\n### Structured outputs\n\nAnswers are JSON objects, judged field by field. "
                    "Exact match needs every field right; failure kinds are counted per answer "
                    "(an answer can show several).\n\n| candidate | constrained | exact match | "
                    "valid answers |");
    for (size_t k = 0; k < nn; k++) {
        slm_buf_puts(b, " ");
        slm_md_cell(b, names[k]);
        slm_buf_puts(b, " |");
    }
    slm_buf_puts(b, "\n|---|---|---:|---:|");
    for (size_t k = 0; k < nn; k++)
        slm_buf_puts(b, "---:|");
    slm_buf_puts(b, "\n");
    for (size_t i = 0; i < r->nc; i++) {
        int64_t id = r->c[i].id;
        int constrained = 0;
        for (size_t k = 0; k < ncands; k++)
            if (cands[k].id == id)
                constrained = cands[k].constrained;
        slm_buf_puts(b, "| ");
        slm_md_cell(b, r->c[i].name);
        slm_buf_printf(b, " | %s | ", constrained ? "grammar" : "no");
        pct(b, metric(st, id, "accuracy"));
        slm_buf_puts(b, " | ");
        pct(b, 1.0 - metric(st, id, "invalid_rate"));
        for (size_t k = 0; k < nn; k++)
            field_cell(b, st, id, names[k]);
        slm_buf_puts(b, " |\n");
    }
    slm_cands_free(cands, ncands);
    slm_free_strv(names, nn);
}

/* The explanation above the significance table: the tests, the p-value floor, the pick of
 * the best and the Holm family (M p-values; from a database before schema 9, -1: the rows
 * shown were the family), and what "needed" means. */
static void significance_intro(slm_buf *b, const slm_comparison_stat *x, size_t n, long M,
                               double alpha_needed)
{
    slm_buf_printf(b, "\n### Is the difference real?\n\nEvery candidate paired with the best "
                      "(`%s`) on the same examples: McNemar's test on the examples only one of "
                      "them got right (b: only this candidate, c: only the best; exact binomial "
                      "when b+c < 25, else chi-square with continuity correction), and a paired "
                      "bootstrap of the macro-F1 difference (B = %ld replicates, seed %ld; "
                      "p = 2(r+1)/(B+1) with r the replicates beyond 0, so never 0: \"≤\" marks "
                      "one where none crossed, whose p is at most that). ",
                   x[0].baseline, x[0].reps, x[0].seed);
    slm_buf_puts(b, "The best was picked by accuracy on these same examples, so its lead is an "
                    "optimistic estimate of the true gap. ");
    if (M == 1)
        slm_buf_puts(b, "One pair, so nothing to correct for (Holm p = p)");
    else if (x[0].holm_family > (long)n)
        slm_buf_printf(b, "So that the pick cannot shrink the p-values, all %ld pairs of "
                          "candidates were tested and the p-values Holm-corrected across all of "
                          "them, not only the rows shown",
                       M);
    else
        slm_buf_printf(b, "P-values Holm-corrected across the %ld comparisons shown", M);
    char t[128] = "0.05";
    if (M > 1) {
        char a[32];
        slm_fmt_double(a, sizeof a, alpha_needed, 3);
        snprintf(t, sizeof t, "0.05/%ld = %s (enough after Holm whatever the other pairs show)",
                 M, a);
    }
    slm_buf_printf(b, "; significant: a Holm p below 0.05. Needed: the smallest accuracy "
                      "difference McNemar would call significant at this n and b + c, at %s: "
                      "a smaller difference is not significant at this n, which is not the same "
                      "as no difference.\n\n"
                      "| candidate | n | b | c | Δ accuracy | needed | McNemar p | Holm p | "
                      "Δ macro-F1 [95%% CI] | bootstrap p | Holm p | significant |\n"
                      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
                   t);
}

/* A bootstrap p at its floor (no replicate crossed 0), as "≤ v" with v rounded up to 3
 * significant digits so the bound stays true. */
static void p_bound(slm_buf *b, double p)
{
    double e = pow(10.0, floor(log10(p)) - 2.0);
    char t[32];
    slm_fmt_double(t, sizeof t, ceil(p / e - 1e-9) * e, 3);
    slm_buf_printf(b, "≤ %s", t);
}

/* "±4.5 pt": the smallest significant accuracy difference at this n and b + c. */
static void needed_cell(slm_buf *b, const slm_comparison_stat *x, double alpha)
{
    double need = slm_mcnemar_needed_pt(x->n, x->b + x->c, alpha);
    if (isnan(need))
        slm_buf_puts(b, "–");
    else if (isinf(need))
        slm_buf_printf(b, "none with b+c = %ld", x->b + x->c);
    else
        slm_buf_printf(b, "±%.1f pt", need);
}

static void significance(slm_store *st, const run_info *r, slm_buf *b)
{
    slm_comparison_stat *x;
    size_t n;
    if (slm_store_comparisons(st, r->id, &x, &n, NULL, 0))
        return;
    long M = n && x[0].holm_family > 0 ? x[0].holm_family : (long)n;
    double alpha = M > 0 ? 0.05 / (double)M : 0.05;
    for (size_t i = 0; i < n; i++) {
        if (!i)
            significance_intro(b, x, n, M, alpha);
        slm_buf_puts(b, "| ");
        slm_md_cell(b, x[i].name);
        slm_buf_printf(b, " | %ld | %ld | %ld | %+.1f pt | ", x[i].n, x[i].b, x[i].c,
                       x[i].acc_diff * 100.0);
        needed_cell(b, &x[i], alpha);
        slm_buf_puts(b, " | ");
        num(b, x[i].mcnemar_p, 3);
        slm_buf_puts(b, x[i].mcnemar_exact ? " (exact)" : " (χ²)");
        slm_buf_puts(b, " | ");
        num(b, x[i].mcnemar_p_holm, 3);
        slm_buf_printf(b, " | %+.1f pt [%+.1f, %+.1f] | ", x[i].f1_diff * 100.0,
                       x[i].f1_diff_lo * 100.0, x[i].f1_diff_hi * 100.0);
        if (x[i].f1_crossed == 0 && x[i].f1_p > 0)
            p_bound(b, x[i].f1_p);
        else
            num(b, x[i].f1_p, 3);
        slm_buf_puts(b, " | ");
        num(b, x[i].f1_p_holm, 3);
        double hm = x[i].mcnemar_p_holm, hf = x[i].f1_p_holm;
        slm_buf_puts(b, (hm < 0.05 || hf < 0.05) ? " | **yes** |\n" : " | no |\n");
    }
    slm_comparison_rows_free(x, n);
}

static void cascade(slm_store *st, const run_info *r, slm_buf *b)
{
    if (!r->nc || isnan(metric(st, r->c[0].id, "cascade_threshold")))
        return;
    static const char *const cols[] = {"cascade_threshold", "cascade_slm_share",
                                       "cascade_slm_accuracy", "cascade_escalation_accuracy",
                                       "cascade_accuracy", "cascade_cost",
                                       "cascade_cost_all_large", "cascade_cost_ratio"};
    const size_t n = sizeof cols / sizeof cols[0];
    slm_buf_puts(b, "\n### Cascade scenario\n\nThe small model answers when its confidence "
                    "reaches the threshold; otherwise the example is escalated to the larger "
                    "model or a person (assumed accuracy below). The small model is always "
                    "called first.\n\n");
    field_table(st, r, cols, n, b);
}

static void run_title(const run_info *r, slm_buf *b)
{
    slm_buf_printf(b, "## Run %lld: ", (long long)r->id);
    slm_md_cell(b, r->name);
    slm_buf_puts(b, "\n\n");
}

/* The run's identity: status, eval set, hashes, mode, times, versions, host, and the
 * measurement conditions. */
static void run_facts(slm_store *st, const run_info *r, slm_buf *b)
{
    slm_buf_puts(b, "| | |\n|---|---|\n");
    slm_buf_puts(b, "| status | ");
    slm_md_cell(b, r->status);
    if (r->error) {
        slm_buf_puts(b, " — ");
        slm_md_cell(b, r->error);
    }
    slm_buf_puts(b, " |\n| eval set | ");
    slm_md_cell(b, r->es_name);
    slm_buf_puts(b, " v");
    slm_md_cell(b, r->es_version);
    slm_buf_puts(b, ", split ");
    slm_md_cell(b, r->split);
    slm_buf_puts(b, ", ");
    slm_report_run_scope(st, r->id, r->n_rows, b); /* "616 of 3,080 examples (shard 1/5)" */
    slm_buf_puts(b, " |\n| data sha256 | ");
    short_sha(b, r->es_sha);
    slm_buf_puts(b, " |\n| prompt sha256 | ");
    short_sha(b, r->prompt_sha);
    slm_buf_puts(b, " (the same rendered bytes for every candidate) |\n| mode | ");
    slm_md_cell(b, r->mode);
    slm_buf_puts(b, " |\n| quantization policy | ");
    slm_md_cell(b, r->policy);
    slm_buf_puts(b, " |\n| started / finished | ");
    slm_md_cell(b, r->created);
    slm_buf_puts(b, " / ");
    slm_md_cell(b, r->finished ? r->finished : "–");
    slm_buf_puts(b, " |\n| slmbench | ");
    slm_md_cell(b, r->harness);
    slm_buf_puts(b, " (");
    slm_md_cell(b, r->git);
    slm_buf_puts(b, ") |\n| host | ");
    slm_host_facts(r->host, SLM_REC_MD, b);
    slm_buf_puts(b, " |\n| conditions | ");
    slm_recommend_conditions(st, r, b);
    slm_buf_puts(b, " |\n\n");
}

int slm_report_run_header(slm_store *st, int64_t run_id, slm_buf *out, char *err,
                          size_t errlen)
{
    run_info r;
    int rc = load_run(st, run_id, &r, err, errlen);
    if (!rc) {
        run_title(&r, out);
        run_facts(st, &r, out);
    }
    run_info_free(&r);
    return rc;
}

/* One row per candidate: what model, how big, how configured, which bytes. */
static void model_facts(const run_info *r, slm_buf *b)
{
    slm_buf_puts(b, "\n### Model facts\n\n| candidate | arch | params | size | quant | ctx | "
                    "ctx needed | KV cache | vocab | layers | embd | threads | device | "
                    "chat template | template sha256 | file sha256 | engine |\n"
                    "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|---|\n");
    for (size_t i = 0; i < r->nc; i++) {
        const cand_row *c = &r->c[i];
        slm_buf_puts(b, "| ");
        slm_md_cell(b, c->name);
        slm_buf_puts(b, " | ");
        slm_md_cell(b, c->arch ? c->arch : "–");
        slm_buf_puts(b, " | ");
        human_count(b, c->n_params);
        slm_buf_puts(b, " | ");
        if (isnan(c->size_bytes))
            slm_buf_puts(b, "–");
        else
            slm_buf_printf(b, "%.1f MiB", c->size_bytes / 1048576.0);
        slm_buf_puts(b, " | ");
        slm_md_cell(b, c->quant ? c->quant : "–");
        double ints[] = {c->n_ctx, c->n_ctx_need, NAN, c->n_vocab, c->n_layer, c->n_embd,
                         c->n_threads};
        for (int k = 0; k < 7; k++) {
            slm_buf_puts(b, " | ");
            if (k == 2 && !isnan(c->kv_bytes))
                slm_buf_printf(b, "%.1f MiB", c->kv_bytes / 1048576.0);
            else if (isnan(ints[k]))
                slm_buf_puts(b, "–");
            else
                slm_buf_printf(b, "%.0f", ints[k]);
        }
        slm_buf_puts(b, " | ");
        if (c->device && !isnan(c->n_gpu_layers) && c->n_gpu_layers > 0) {
            slm_md_cell(b, c->device);
            slm_buf_printf(b, " (%.0f layers)", c->n_gpu_layers);
        } else {
            slm_md_cell(b, c->device ? c->device : "–");
        }
        slm_buf_puts(b, " | ");
        slm_md_cell(b, c->chat_used ? (c->chat_template ? c->chat_template : "yes") : "raw prompt");
        slm_buf_puts(b, " | ");
        short_sha(b, c->tmpl_sha);
        slm_buf_puts(b, " | ");
        short_sha(b, c->model_sha);
        slm_buf_puts(b, " | ");
        slm_md_cell(b, c->engine_version ? c->engine_version : c->engine);
        slm_buf_puts(b, " |\n");
    }
}

/* The latency table: columns from the field table. */
static void latency(slm_store *st, const run_info *r, slm_buf *b)
{
    static const char *const lat[] = {"e2e_ms_mean", "e2e_ms_p50", "e2e_ms_p90", "e2e_ms_p95",
                                      "e2e_ms_p99", "prefill_ms_p50", "prefill_ms_p95",
                                      "decode_ms_p50", "ttft_ms_p50", "ttft_ms_p95",
                                      "tpot_ms_p50", "prompt_tokens_mean",
                                      "prefill_tokens_per_s", "tokens_per_s", "engine_share"};
    const size_t n = sizeof lat / sizeof lat[0];
    slm_buf_puts(b, "\n### Latency (ms per example; warm-up excluded)\n\n");
    field_table(st, r, lat, n, b);
}

static void one_run_md(slm_store *st, const run_info *r, slm_buf *b)
{
    /* the first screen: the answer, what makes latency untrustworthy, the table */
    run_title(r, b);
    slm_recommend_top_md(st, r, b);
    slm_buf_puts(b, "### Comparison\n\n");
    comparison(st, r, b);
    if (r->nc) {
        double maj = metric(st, r->c[0].id, "majority_rate");
        slm_buf_puts(b, "\nMajority-class rate (always answering the most frequent label): ");
        pct(b, maj);
        slm_buf_puts(b, "\n");
    }
    slm_buf_puts(b, "\n### Run\n\n");
    run_facts(st, r, b);
    slm_recommend_md(st, r, b);
    structured_outputs(st, r, b);
    calibration(st, r, b);
    temperature(st, r, b);
    significance(st, r, b);
    cascade(st, r, b);
    performance(st, r, b);
    model_facts(r, b);
    latency(st, r, b);
    slm_report_classes_md(st, r, b);
}

int slm_report_markdown(slm_store *st, const int64_t *ids, size_t n_runs, slm_buf *out,
                        char *err, size_t errlen)
{
    run_info *runs = slm_xcalloc(n_runs ? n_runs : 1, sizeof *runs);
    int rc = 0;
    for (size_t i = 0; i < n_runs && !rc; i++)
        rc = load_run(st, ids[i], &runs[i], err, errlen);
    if (!rc) {
        slm_buf_puts(out, "# slmbench report\n\n");
        if (n_runs > 1) {
            slm_buf_puts(out, "Runs side by side:\n\n| run | candidate | quant | accuracy | "
                              "macro-F1 | e2e p50 ms | e2e p95 ms |\n"
                              "|---|---|---|---:|---:|---:|---:|\n");
            for (size_t i = 0; i < n_runs; i++)
                for (size_t k = 0; k < runs[i].nc; k++) {
                    const cand_row *c = &runs[i].c[k];
                    slm_buf_printf(out, "| %lld ", (long long)runs[i].id);
                    slm_md_cell(out, runs[i].name);
                    slm_buf_puts(out, " | ");
                    slm_md_cell(out, c->name);
                    slm_buf_puts(out, " | ");
                    slm_md_cell(out, c->quant ? c->quant : "–");
                    static const char *const cols[] = {"accuracy", "macro_f1", "e2e_ms_p50",
                                                       "e2e_ms_p95"};
                    for (size_t f = 0; f < 4; f++)
                        field_cell(out, st, c->id, cols[f]);
                    slm_buf_puts(out, " |\n");
                }
            slm_buf_puts(out, "\n");
        }
        for (size_t i = 0; i < n_runs; i++)
            one_run_md(st, &runs[i], out);
        slm_buf_puts(out, "\n---\nMetric definitions: accuracy = exact label match after "
                          "trimming; macro-F1 = mean F1 over the labels that occur as gold or "
                          "prediction (0/0 counts as 0); latency percentiles interpolate "
                          "linearly between order statistics. Written by slmbench.\n");
    }
    for (size_t i = 0; i < n_runs; i++)
        run_info_free(&runs[i]);
    free(runs);
    return rc;
}



/* Every stored metric of a candidate, in the order of the field table, then any other
 * (the families: field scores and failure kinds) in stored order. */
static json_t *metrics_json(slm_store *st, int64_t cid)
{
    json_t *m = json_object(), *tmp = json_object();
    slm_metric_value *v;
    size_t n;
    if (slm_store_metrics_of(st, cid, &v, &n, NULL, 0) == 0) {
        for (size_t i = 0; i < n; i++)
            json_object_set_new(tmp, v[i].name, slm_json_num(v[i].value));
        slm_metric_values_free(v, n);
    }
    for (size_t f = 0; f < slm_n_fields; f++) {
        json_t *x = json_object_get(tmp, slm_fields[f].name);
        if (x) {
            json_object_set(m, slm_fields[f].name, x);
            json_object_del(tmp, slm_fields[f].name);
        }
    }
    json_object_update(m, tmp);
    json_decref(tmp);
    return m;
}

/* The per-class rows of a candidate, as stored. */
static json_t *classes_json(slm_store *st, int64_t cid)
{
    json_t *pcs = json_array();
    slm_class_stat *rows;
    size_t n;
    if (slm_store_classes(st, cid, SLM_CLASSES_STORED, &rows, &n, NULL, 0))
        return pcs;
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_object();
        json_object_set_new(p, "label", json_string(rows[i].label));
        json_object_set_new(p, "in_label_set", json_boolean(rows[i].in_label_set));
        json_object_set_new(p, "precision", slm_json_num(rows[i].precision));
        json_object_set_new(p, "recall", slm_json_num(rows[i].recall));
        json_object_set_new(p, "f1", slm_json_num(rows[i].f1));
        json_object_set_new(p, "support", json_integer(rows[i].support));
        json_object_set_new(p, "predicted", json_integer(rows[i].predicted));
        json_array_append_new(pcs, p);
    }
    slm_class_rows_free(rows, n);
    return pcs;
}

int slm_report_json(slm_store *st, const int64_t *ids, size_t n_runs, slm_buf *out, char *err,
                    size_t errlen)
{
    json_t *root = json_object(), *runs = json_array();
    json_object_set_new(root, "runs", runs);
    int rc = 0;
    for (size_t i = 0; i < n_runs && !rc; i++) {
        run_info r;
        if ((rc = load_run(st, ids[i], &r, err, errlen))) {
            run_info_free(&r);
            break;
        }
        json_t *jr = json_object(), *cands = json_array();
        json_object_set_new(jr, "run_id", json_integer(r.id));
        json_object_set_new(jr, "name", slm_json_str(r.name));
        json_object_set_new(jr, "status", slm_json_str(r.status));
        json_object_set_new(jr, "mode", slm_json_str(r.mode));
        json_object_set_new(jr, "created_at", slm_json_str(r.created));
        json_object_set_new(jr, "finished_at", slm_json_str(r.finished));
        json_object_set_new(jr, "evalset", slm_json_str(r.es_name));
        json_object_set_new(jr, "split", slm_json_str(r.split));
        json_object_set_new(jr, "n_examples", json_integer(r.n_rows));
        json_object_set_new(jr, "data_sha256", slm_json_str(r.es_sha));
        json_object_set_new(jr, "prompt_sha256", slm_json_str(r.prompt_sha));
        json_object_set_new(jr, "harness_version", slm_json_str(r.harness));
        json_object_set_new(jr, "git_rev", slm_json_str(r.git));
        json_object_set_new(jr, "recommendation", slm_recommend_json(st, &r));
        json_object_set_new(jr, "candidates", cands);
        for (size_t k = 0; k < r.nc; k++) {
            const cand_row *c = &r.c[k];
            json_t *jc = json_object();
            json_object_set_new(jc, "name", slm_json_str(c->name));
            json_object_set_new(jc, "engine", slm_json_str(c->engine));
            json_object_set_new(jc, "status", slm_json_str(c->status));
            json_object_set_new(jc, "error", slm_json_str(c->error));
            json_object_set_new(jc, "model_path", slm_json_str(c->model_path));
            json_object_set_new(jc, "model_sha256", slm_json_str(c->model_sha));
            json_object_set_new(jc, "arch", slm_json_str(c->arch));
            json_object_set_new(jc, "quant", slm_json_str(c->quant));
            json_object_set_new(jc, "n_params", slm_json_num(c->n_params));
            json_object_set_new(jc, "engine_version", slm_json_str(c->engine_version));
            json_object_set_new(jc, "n_ctx", slm_json_num(c->n_ctx));
            json_object_set_new(jc, "n_ctx_need", slm_json_num(c->n_ctx_need));
            json_object_set_new(jc, "kv_bytes", slm_json_num(c->kv_bytes));
            json_object_set_new(jc, "peak_rss_kb", slm_json_num(c->peak_rss_kb));
            json_object_set_new(jc, "n_gpu_layers", slm_json_num(c->n_gpu_layers));
            json_object_set_new(jc, "device", slm_json_str(c->device));
            json_object_set_new(jc, "chat_template", slm_json_str(c->chat_template));
            json_object_set_new(jc, "chat_template_used", json_boolean(c->chat_used));
            json_object_set_new(jc, "chat_template_sha256", slm_json_str(c->tmpl_sha));
            json_object_set_new(jc, "chat_probe_sha256", slm_json_str(c->probe_sha));
            json_object_set_new(jc, "metrics", metrics_json(st, c->id));
            json_object_set_new(jc, "per_class", classes_json(st, c->id));
            json_array_append_new(cands, jc);
        }
        json_array_append_new(runs, jr);
        run_info_free(&r);
    }
    if (!rc) {
        if (slm_json_emit(out, root, JSON_INDENT(2) | JSON_REAL_PRECISION(12)))
            rc = slm_err(err, errlen, "cannot encode the report as JSON");
    }
    json_decref(root);
    return rc;
}
