/* report.c — see report.h. */
#include "report.h"
#include "aggregate.h"
#include "analysis.h"
#include "fields.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void slm_md_cell(slm_buf *b, const char *s)
{
    if (!s)
        return;
    for (; *s; s++) {
        switch (*s) {
        case '|': slm_buf_puts(b, "\\|"); break;
        case '<': slm_buf_puts(b, "&lt;"); break;
        case '>': slm_buf_puts(b, "&gt;"); break;
        case '&': slm_buf_puts(b, "&amp;"); break;
        case '`': slm_buf_puts(b, "\\`"); break;
        case '*': slm_buf_puts(b, "\\*"); break;
        case '_': slm_buf_puts(b, "\\_"); break;
        case '[': slm_buf_puts(b, "\\["); break;
        case ']': slm_buf_puts(b, "\\]"); break;
        case '\r': break;
        case '\n': slm_buf_puts(b, " "); break;
        default: slm_buf_putc(b, *s);
        }
    }
}

/* ---- reading a run ---- */

typedef struct cand_row {
    int64_t id;
    char *name, *engine, *status, *error, *quant, *arch, *model_path, *model_sha,
        *engine_version, *chat_template;
    int chat_used;
    double n_params, size_bytes, n_ctx, n_vocab, n_layer, n_embd, n_threads;
    /* schema 8: the template as rendered, the sized context, memory, device */
    char *tmpl_sha, *probe_sha, *device;
    double n_ctx_need, kv_bytes, n_gpu_layers, peak_rss_kb;
} cand_row;

typedef struct run_info {
    int64_t id;
    char *name, *status, *created, *finished, *mode, *harness, *git, *host, *error, *policy;
    char *es_name, *es_version, *split, *es_path, *es_sha, *prompt_sha, *labels_json;
    long n_rows;
    cand_row *c;
    size_t nc;
} run_info;

static char *col_str(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? slm_xstrdup((const char *)t) : NULL;
}

static void run_info_free(run_info *r)
{
    free(r->name), free(r->status), free(r->created), free(r->finished), free(r->mode);
    free(r->harness), free(r->git), free(r->host), free(r->error), free(r->policy);
    free(r->es_name), free(r->es_version), free(r->split), free(r->es_path), free(r->es_sha);
    free(r->prompt_sha), free(r->labels_json);
    for (size_t i = 0; i < r->nc; i++) {
        cand_row *c = &r->c[i];
        free(c->name), free(c->engine), free(c->status), free(c->error), free(c->quant);
        free(c->arch), free(c->model_path), free(c->model_sha), free(c->engine_version);
        free(c->chat_template), free(c->tmpl_sha), free(c->probe_sha), free(c->device);
    }
    free(r->c);
}

static int load_run(slm_store *st, int64_t id, run_info *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "SELECT r.name, r.status, r.created_at, r.finished_at, r.mode, "
                          "r.harness_version, r.git_rev, r.host_json, r.error, "
                          "r.quantization_policy, e.name, e.version, e.split, e.path, e.sha256, "
                          "e.prompt_sha256, e.labels_json, e.n_rows FROM runs r LEFT JOIN "
                          "evalsets e ON e.run_id = r.id WHERE r.id = ?",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_finalize(s);
        return slm_err(err, errlen, "%s: no run %lld", slm_store_path(st), (long long)id);
    }
    char **f[] = {&r->name, &r->status, &r->created, &r->finished, &r->mode, &r->harness,
                  &r->git, &r->host, &r->error, &r->policy, &r->es_name, &r->es_version,
                  &r->split, &r->es_path, &r->es_sha, &r->prompt_sha, &r->labels_json};
    for (int i = 0; i < 17; i++)
        *f[i] = col_str(s, i);
    r->n_rows = (long)sqlite3_column_int64(s, 17);
    sqlite3_finalize(s);
    if (slm_store_prepare(st,
                          "SELECT id, name, engine, status, error, quant, arch, model_path, "
                          "model_sha256, engine_version, chat_template, chat_template_used, "
                          "n_params, size_bytes, n_ctx, n_vocab, n_layer, n_embd, n_threads, "
                          "chat_template_sha256, chat_probe_sha256, device, n_ctx_need, "
                          "kv_bytes, n_gpu_layers, peak_rss_kb "
                          "FROM candidates WHERE run_id = ? ORDER BY idx",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, id);
    while (sqlite3_step(s) == SQLITE_ROW) {
        r->c = slm_xrealloc(r->c, (r->nc + 1) * sizeof *r->c);
        cand_row *c = &r->c[r->nc++];
        memset(c, 0, sizeof *c);
        c->id = sqlite3_column_int64(s, 0);
        char **g[] = {&c->name, &c->engine, &c->status, &c->error, &c->quant, &c->arch,
                      &c->model_path, &c->model_sha, &c->engine_version, &c->chat_template};
        for (int i = 0; i < 10; i++)
            *g[i] = col_str(s, i + 1);
        c->chat_used = sqlite3_column_int(s, 11);
        double *h[] = {&c->n_params, &c->size_bytes, &c->n_ctx, &c->n_vocab, &c->n_layer,
                       &c->n_embd, &c->n_threads};
        for (int i = 0; i < 7; i++)
            *h[i] = slm_col_double(s, i + 12);
        c->tmpl_sha = col_str(s, 19);
        c->probe_sha = col_str(s, 20);
        c->device = col_str(s, 21);
        c->n_ctx_need = slm_col_double(s, 22);
        c->kv_bytes = slm_col_double(s, 23);
        c->n_gpu_layers = slm_col_double(s, 24);
        c->peak_rss_kb = slm_col_double(s, 25);
    }
    sqlite3_finalize(s);
    return 0;
}

static double metric(slm_store *st, int64_t cid, const char *name)
{
    return slm_store_metric(st, cid, name, NULL, NULL);
}

/* ---- number formatting ---- */

static void num(slm_buf *b, double v, int digits)
{
    if (isnan(v)) {
        slm_buf_puts(b, "–");
        return;
    }
    char t[64];
    if (fabs(v) >= 1e6 || (fabs(v) < 1e-3 && v != 0))
        slm_fmt_double(t, sizeof t, v, digits);
    else {
        /* fixed notation with `digits` significant digits, at most 3 decimals */
        int dec = digits - 1 - (v == 0 ? 0 : (int)floor(log10(fabs(v))));
        if (dec < 0)
            dec = 0;
        if (dec > 3)
            dec = 3;
        snprintf(t, sizeof t, "%.*f", dec, v);
    }
    slm_buf_puts(b, t);
}

static void pct(slm_buf *b, double v)
{
    if (isnan(v)) {
        slm_buf_puts(b, "–");
        return;
    }
    char t[32];
    snprintf(t, sizeof t, "%.1f%%", v * 100.0);
    slm_buf_puts(b, t);
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

static void comparison(slm_store *st, const run_info *r, slm_buf *b)
{
    slm_buf_puts(b, "| candidate | engine | quant | params | accuracy | macro-F1 | e2e p50 ms | "
                    "e2e p95 ms | tokens/s | status |\n");
    slm_buf_puts(b, "|---|---|---|---:|---:|---:|---:|---:|---:|---|\n");
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
        slm_buf_puts(b, " | ");
        pct(b, metric(st, c->id, "accuracy"));
        slm_buf_puts(b, " | ");
        pct(b, metric(st, c->id, "macro_f1"));
        slm_buf_puts(b, " | ");
        num(b, metric(st, c->id, "e2e_ms_p50"), 3);
        slm_buf_puts(b, " | ");
        num(b, metric(st, c->id, "e2e_ms_p95"), 3);
        slm_buf_puts(b, " | ");
        num(b, metric(st, c->id, "tokens_per_s"), 4);
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
    slm_buf_printf(out, "\nrun %lld '%s': %s on %s/%s (%ld examples, mode %s)\n\n",
                   (long long)r.id, r.name, r.status, r.es_name ? r.es_name : "?",
                   r.split ? r.split : "?", r.n_rows, r.mode);
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

static void per_class(slm_store *st, const cand_row *c, slm_buf *b)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "SELECT label, in_label_set, precision, recall, f1, support, predicted "
                          "FROM per_class WHERE candidate_id = ? ORDER BY in_label_set DESC, "
                          "rowid",
                          &s, NULL, 0))
        return;
    sqlite3_bind_int64(s, 1, c->id);
    slm_buf_puts(b, "| label | precision | recall | F1 | support | predicted |\n");
    slm_buf_puts(b, "|---|---:|---:|---:|---:|---:|\n");
    while (sqlite3_step(s) == SQLITE_ROW) {
        slm_buf_puts(b, "| ");
        if (!sqlite3_column_int(s, 1))
            slm_buf_puts(b, "(invalid) ");
        slm_md_cell(b, (const char *)sqlite3_column_text(s, 0));
        for (int k = 2; k <= 4; k++) {
            slm_buf_puts(b, " | ");
            num(b, slm_col_double(s, k), 3);
        }
        slm_buf_printf(b, " | %lld | %lld |\n", (long long)sqlite3_column_int64(s, 5),
                       (long long)sqlite3_column_int64(s, 6));
    }
    sqlite3_finalize(s);
}

static void confusion(slm_store *st, const run_info *r, const cand_row *c, slm_buf *b)
{
    json_t *labels = json_loads(r->labels_json ? r->labels_json : "[]", 0, NULL);
    size_t nl = json_array_size(labels);
    /* predicted strings outside the label set become extra columns */
    sqlite3_stmt *s;
    char **cols = slm_xcalloc(nl ? nl : 1, sizeof *cols);
    size_t ncols = 0;
    for (size_t i = 0; i < nl; i++)
        cols[ncols++] = slm_xstrdup(json_string_value(json_array_get(labels, i)));
    if (slm_store_prepare(st,
                          "SELECT DISTINCT pred FROM confusion WHERE candidate_id = ? ORDER BY pred",
                          &s, NULL, 0) == 0) {
        sqlite3_bind_int64(s, 1, c->id);
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *p = (const char *)sqlite3_column_text(s, 0);
            size_t k = 0;
            while (k < ncols && strcmp(cols[k], p))
                k++;
            if (k == ncols) {
                cols = slm_xrealloc(cols, (ncols + 1) * sizeof *cols);
                cols[ncols++] = slm_xstrdup(p);
            }
        }
        sqlite3_finalize(s);
    }
    long *m = slm_xcalloc(nl * ncols + 1, sizeof *m);
    if (slm_store_prepare(st, "SELECT gold, pred, count FROM confusion WHERE candidate_id = ?", &s,
                          NULL, 0) == 0) {
        sqlite3_bind_int64(s, 1, c->id);
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *g = (const char *)sqlite3_column_text(s, 0);
            const char *p = (const char *)sqlite3_column_text(s, 1);
            size_t gi = 0, pi = 0;
            while (gi < nl && strcmp(cols[gi], g))
                gi++;
            while (pi < ncols && strcmp(cols[pi], p))
                pi++;
            if (gi < nl && pi < ncols)
                m[gi * ncols + pi] += (long)sqlite3_column_int64(s, 2);
        }
        sqlite3_finalize(s);
    }
    slm_buf_puts(b, "| gold \\ predicted |");
    for (size_t j = 0; j < ncols; j++) {
        slm_buf_puts(b, " ");
        slm_md_cell(b, cols[j]);
        slm_buf_puts(b, " |");
    }
    slm_buf_puts(b, "\n|---|");
    for (size_t j = 0; j < ncols; j++)
        slm_buf_puts(b, "---:|");
    slm_buf_puts(b, "\n");
    for (size_t i = 0; i < nl; i++) {
        slm_buf_puts(b, "| ");
        slm_md_cell(b, cols[i]);
        slm_buf_puts(b, " |");
        for (size_t j = 0; j < ncols; j++)
            slm_buf_printf(b, i == j ? " **%ld** |" : " %ld |", m[i * ncols + j]);
        slm_buf_puts(b, "\n");
    }
    for (size_t j = 0; j < ncols; j++)
        free(cols[j]);
    free(cols);
    free(m);
    json_decref(labels);
}


/* A metric with its stored interval, "0.712 [0.675, 0.748]" (percent when pct_). */
static void metric_ci(slm_store *st, int64_t cid, const char *name, int as_pct, slm_buf *b)
{
    double lo, hi;
    double v = slm_store_metric(st, cid, name, &lo, &hi);
    if (as_pct)
        pct(b, v);
    else
        num(b, v, 3);
    if (!isnan(lo) && !isnan(hi)) {
        slm_buf_puts(b, " [");
        if (as_pct) {
            pct(b, lo);
            slm_buf_puts(b, ", ");
            pct(b, hi);
        } else {
            num(b, lo, 3);
            slm_buf_puts(b, ", ");
            num(b, hi, 3);
        }
        slm_buf_puts(b, "]");
    }
}

static void calibration(slm_store *st, const run_info *r, slm_buf *b)
{
    slm_buf_puts(b, "\n### Calibration and selective prediction\n\n"
                    "Intervals are 95% bootstrap intervals. Coverage at a target accuracy is the "
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
        metric_ci(st, c->id, "accuracy", 1, b);
        slm_buf_puts(b, " | ");
        metric_ci(st, c->id, "macro_f1", 1, b);
        slm_buf_puts(b, " | ");
        metric_ci(st, c->id, "ece_15", 0, b);
        static const char *const plain[] = {"ece_15_mass", "mce_15", "brier", "nll", "aurc"};
        for (size_t k = 0; k < 5; k++) {
            slm_buf_puts(b, " | ");
            num(b, metric(st, c->id, plain[k]), 3);
        }
        static const char *const cov[] = {"0.90", "0.95", "0.99"};
        for (size_t k = 0; k < 3; k++) {
            char n1[64], n2[64];
            snprintf(n1, sizeof n1, "coverage_at_%s", cov[k]);
            snprintf(n2, sizeof n2, "coverage_at_%s_threshold", cov[k]);
            slm_buf_puts(b, " | ");
            pct(b, metric(st, c->id, n1));
            double t = metric(st, c->id, n2);
            if (!isnan(t)) {
                slm_buf_puts(b, " (");
                num(b, t, 3);
                slm_buf_puts(b, ")");
            }
        }
        slm_buf_puts(b, " |\n");
    }
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
        slm_buf_puts(b, " | ");
        double ncal = metric(st, id, "calibration_n");
        if (isnan(ncal))
            slm_buf_puts(b, "–");
        else
            slm_buf_printf(b, "%.0f", ncal);
        slm_buf_puts(b, " | ");
        num(b, metric(st, id, "temperature"), 3);
        static const char *const pairs[][2] = {
            {"ece_15", "ece_15_ts"}, {"nll", "nll_ts"}, {"brier", "brier_ts"}};
        for (size_t k = 0; k < 3; k++) {
            slm_buf_puts(b, " | ");
            num(b, metric(st, id, pairs[k][0]), 3);
            slm_buf_puts(b, " → ");
            num(b, metric(st, id, pairs[k][1]), 3);
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
    for (size_t i = 0; i < r->nc; i++) {
        int64_t id = r->c[i].id;
        slm_buf_puts(b, "| ");
        slm_md_cell(b, r->c[i].name);
        slm_buf_puts(b, " | ");
        num(b, metric(st, id, "load_ms"), 4);
        slm_buf_puts(b, " | ");
        num(b, metric(st, id, "peak_rss_mb"), 4);
        slm_buf_puts(b, " | ");
        pct(b, metric(st, id, "repeat_cv"));
        double noisy = metric(st, id, "noisy");
        slm_buf_puts(b, isnan(noisy) ? " | – (no repeats) | " : noisy > 0 ? " | **noisy** | " : " | no | ");
        num(b, metric(st, id, "load1_before"), 3);
        slm_buf_puts(b, " → ");
        num(b, metric(st, id, "load1_after"), 3);
        static const char *const k[] = {"steal_pct", "prefill_gflops", "decode_tokens_per_s",
                                        "decode_bound_tokens_per_s", "roofline_decode_pct"};
        for (size_t j = 0; j < 5; j++) {
            slm_buf_puts(b, " | ");
            num(b, metric(st, id, k[j]), 3);
        }
        slm_buf_puts(b, " |\n");
    }
    /* counters: every figure, or why it is unavailable */
    slm_buf_puts(b, "\nCounters (whole process, all threads, read at the prefill and decode "
                    "boundaries):\n\n| candidate | instructions/token | cycles/token | IPC | "
                    "cache misses/1k instr | branch misses/1k instr | CPU utilisation | "
                    "task-clock / process CPU | page faults/example | context switches/example "
                    "| energy/token J |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    static const char *const cn[] = {"instructions_per_token", "cycles_per_token", "ipc",
                                     "cache_misses_per_kinstr", "branch_misses_per_kinstr",
                                     "cpu_utilisation", "task_clock_vs_cpu_time",
                                     "page_faults_per_example", "context_switches_per_example",
                                     "energy_per_token_j"};
    for (size_t i = 0; i < r->nc; i++) {
        slm_buf_puts(b, "| ");
        slm_md_cell(b, r->c[i].name);
        for (size_t j = 0; j < sizeof cn / sizeof cn[0]; j++) {
            double v = metric(st, r->c[i].id, cn[j]);
            slm_buf_puts(b, " | ");
            if (isnan(v))
                slm_buf_puts(b, "unavailable");
            else
                num(b, v, 4);
        }
        slm_buf_puts(b, " |\n");
    }
    sqlite3_stmt *q;
    if (slm_store_prepare(st, "SELECT event, source, reason FROM counter_events WHERE run_id = ?",
                          &q, NULL, 0) == 0) {
        sqlite3_bind_int64(q, 1, r->id);
        int any = 0;
        while (sqlite3_step(q) == SQLITE_ROW) {
            if (!any)
                slm_buf_puts(b, "\n| event | source | why unavailable |\n|---|---|---|\n");
            any = 1;
            slm_buf_puts(b, "| ");
            slm_md_cell(b, (const char *)sqlite3_column_text(q, 0));
            slm_buf_puts(b, " | ");
            slm_md_cell(b, (const char *)sqlite3_column_text(q, 1));
            slm_buf_puts(b, " | ");
            const char *why = (const char *)sqlite3_column_text(q, 2);
            slm_md_cell(b, why ? why : "");
            slm_buf_puts(b, " |\n");
        }
        sqlite3_finalize(q);
    }
    int any_tp = 0;
    for (size_t i = 0; i < r->nc; i++)
        any_tp |= !isnan(metric(st, r->c[i].id, "throughput_examples_per_s"));
    if (any_tp) {
        slm_buf_puts(b, "\nThroughput mode (many examples as parallel sequences in one batch, "
                        "like MLPerf's Offline scenario) beside single-stream:\n\n"
                        "| candidate | examples/s single-stream | examples/s batched | tokens/s "
                        "single-stream | tokens/s batched | predictions differing |\n"
                        "|---|---:|---:|---:|---:|---:|\n");
        for (size_t i = 0; i < r->nc; i++) {
            int64_t id = r->c[i].id;
            slm_buf_puts(b, "| ");
            slm_md_cell(b, r->c[i].name);
            static const char *const t[] = {"examples_per_s", "throughput_examples_per_s",
                                            "tokens_per_s", "throughput_tokens_per_s",
                                            "throughput_mismatches"};
            for (size_t j = 0; j < 5; j++) {
                slm_buf_puts(b, " | ");
                num(b, metric(st, id, t[j]), 4);
            }
            slm_buf_puts(b, " |\n");
        }
    }
    int any_conc = 0;
    for (size_t i = 0; i < r->nc; i++)
        any_conc |= metric(st, r->c[i].id, "concurrency") > 1;
    if (any_conc) {
        slm_buf_puts(b, "\nConcurrency (requests kept in flight at once, as a served model sees "
                        "under load; latencies above were measured under that load, from each "
                        "request's start, and examples/s is over the time requests were in "
                        "flight):\n\n| candidate | concurrency | examples/s | e2e p50 ms | "
                        "e2e p95 ms |\n|---|---:|---:|---:|---:|\n");
        for (size_t i = 0; i < r->nc; i++) {
            int64_t id = r->c[i].id;
            slm_buf_puts(b, "| ");
            slm_md_cell(b, r->c[i].name);
            static const char *const t[] = {"concurrency", "concurrent_examples_per_s",
                                            "e2e_ms_p50", "e2e_ms_p95"};
            for (size_t j = 0; j < 4; j++) {
                double v = metric(st, id, t[j]);
                if (j == 1 && isnan(v) && metric(st, id, "concurrency") <= 1)
                    v = metric(st, id, "examples_per_s"); /* one at a time: the same thing */
                slm_buf_puts(b, " | ");
                if (j == 0 && !isnan(v))
                    slm_buf_printf(b, "%.0f", v);
                else
                    num(b, v, 4);
            }
            slm_buf_puts(b, " |\n");
        }
    }
    double bw = metric(st, r->c[0].id, "bandwidth_gbs");
    slm_buf_puts(b, "\nMemory bandwidth measured with a STREAM-style triad at the start of the run: ");
    num(b, bw, 3);
    slm_buf_puts(b, " GB/s. The decode bound is that bandwidth divided by the model's bytes (every "
                    "weight read once per generated token); decode figures exist in generate "
                    "mode. A candidate is noisy when the median coefficient of variation of its "
                    "repeated end-to-end times exceeds 10%.\n");
}

/* JSON tasks: exact match, field scores and the failure kinds, one row per candidate. */
static void structured_outputs(slm_store *st, const run_info *r, slm_buf *b)
{
    if (!r->nc || !slm_run_is_json_task(st, r->id))
        return;
    sqlite3_stmt *q;
    if (slm_store_prepare(st,
                          "SELECT DISTINCT name FROM metrics WHERE run_id = ? AND (name LIKE "
                          "'field\\_%' ESCAPE '\\' OR name LIKE 'fail.%') ORDER BY name LIKE "
                          "'fail.%', name",
                          &q, NULL, 0))
        return;
    sqlite3_bind_int64(q, 1, r->id);
    char **names = NULL;
    size_t nn = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        names = slm_xrealloc(names, (nn + 1) * sizeof *names);
        names[nn++] = slm_xstrdup((const char *)sqlite3_column_text(q, 0));
    }
    sqlite3_finalize(q);
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
        if (slm_store_prepare(st, "SELECT constrained FROM candidates WHERE id = ?", &q, NULL, 0) == 0) {
            sqlite3_bind_int64(q, 1, id);
            if (sqlite3_step(q) == SQLITE_ROW)
                constrained = sqlite3_column_int(q, 0);
            sqlite3_finalize(q);
        }
        slm_buf_puts(b, "| ");
        slm_md_cell(b, r->c[i].name);
        slm_buf_printf(b, " | %s | ", constrained ? "grammar" : "no");
        pct(b, metric(st, id, "accuracy"));
        slm_buf_puts(b, " | ");
        pct(b, 1.0 - metric(st, id, "invalid_rate"));
        for (size_t k = 0; k < nn; k++) {
            slm_buf_puts(b, " | ");
            double v = metric(st, id, names[k]);
            if (!strncmp(names[k], "fail.", 5))
                slm_buf_printf(b, isnan(v) ? "–" : "%.0f", v);
            else
                pct(b, v);
        }
        slm_buf_puts(b, " |\n");
    }
    for (size_t k = 0; k < nn; k++)
        free(names[k]);
    free(names);
}

static void significance(slm_store *st, const run_info *r, slm_buf *b)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "SELECT c.name, bc.name, x.n, x.b, x.c, x.accuracy_diff, x.mcnemar_p, "
                          "x.mcnemar_exact, x.mcnemar_p_holm, x.macro_f1_diff, x.macro_f1_diff_lo, "
                          "x.macro_f1_diff_hi, x.macro_f1_p, x.macro_f1_p_holm, x.reps, x.seed "
                          "FROM comparisons x JOIN candidates c ON c.id = x.candidate_id "
                          "JOIN candidates bc ON bc.id = x.baseline_id WHERE x.run_id = ? "
                          "ORDER BY c.idx",
                          &s, NULL, 0))
        return;
    sqlite3_bind_int64(s, 1, r->id);
    int header = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (!header) {
            slm_buf_printf(b, "\n### Is the difference real?\n\nEvery candidate paired with the "
                              "best (`%s`) on the same examples: McNemar's test on the examples "
                              "only one of them got right (b: only this candidate, c: only the "
                              "best; exact binomial when b+c < 25, else chi-square with "
                              "continuity correction), and a paired bootstrap of the macro-F1 "
                              "difference (%lld replicates, seed %lld); p-values Holm-corrected "
                              "across candidates, significant at 0.05.\n\n"
                              "| candidate | n | b | c | Δ accuracy | McNemar p | Holm p | "
                              "Δ macro-F1 [95%% CI] | bootstrap p | Holm p | significant |\n"
                              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
                           (const char *)sqlite3_column_text(s, 1),
                           (long long)sqlite3_column_int64(s, 14),
                           (long long)sqlite3_column_int64(s, 15));
            header = 1;
        }
        slm_buf_puts(b, "| ");
        slm_md_cell(b, (const char *)sqlite3_column_text(s, 0));
        slm_buf_printf(b, " | %lld | %lld | %lld | ", (long long)sqlite3_column_int64(s, 2),
                       (long long)sqlite3_column_int64(s, 3), (long long)sqlite3_column_int64(s, 4));
        double d = slm_col_double(s, 5);
        char t[48];
        snprintf(t, sizeof t, "%+.1f pt", d * 100.0);
        slm_buf_puts(b, t);
        slm_buf_puts(b, " | ");
        num(b, slm_col_double(s, 6), 3);
        slm_buf_puts(b, sqlite3_column_int(s, 7) ? " (exact)" : " (χ²)");
        slm_buf_puts(b, " | ");
        num(b, slm_col_double(s, 8), 3);
        snprintf(t, sizeof t, " | %+.1f pt [%+.1f, %+.1f] | ", slm_col_double(s, 9) * 100.0,
                 slm_col_double(s, 10) * 100.0, slm_col_double(s, 11) * 100.0);
        slm_buf_puts(b, t);
        num(b, slm_col_double(s, 12), 3);
        slm_buf_puts(b, " | ");
        num(b, slm_col_double(s, 13), 3);
        double hm = slm_col_double(s, 8), hf = slm_col_double(s, 13);
        slm_buf_puts(b, (hm < 0.05 || hf < 0.05) ? " | **yes** |\n" : " | no |\n");
    }
    sqlite3_finalize(s);
}

static void cascade(slm_store *st, const run_info *r, slm_buf *b)
{
    if (!r->nc || isnan(metric(st, r->c[0].id, "cascade_threshold")))
        return;
    slm_buf_puts(b, "\n### Cascade scenario\n\nThe small model answers when its confidence "
                    "reaches the threshold; otherwise the example is escalated to the larger "
                    "model or a person (assumed accuracy below). The small model is always "
                    "called first.\n\n| candidate | threshold | handled by the SLM | accuracy "
                    "on that share | escalation accuracy | overall accuracy | cost | cost, all "
                    "to the large model | cost ratio |\n"
                    "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < r->nc; i++) {
        int64_t id = r->c[i].id;
        slm_buf_puts(b, "| ");
        slm_md_cell(b, r->c[i].name);
        slm_buf_puts(b, " | ");
        num(b, metric(st, id, "cascade_threshold"), 3);
        slm_buf_puts(b, " | ");
        pct(b, metric(st, id, "cascade_slm_share"));
        slm_buf_puts(b, " | ");
        pct(b, metric(st, id, "cascade_slm_accuracy"));
        slm_buf_puts(b, " | ");
        pct(b, metric(st, id, "cascade_escalation_accuracy"));
        slm_buf_puts(b, " | ");
        pct(b, metric(st, id, "cascade_accuracy"));
        slm_buf_puts(b, " | ");
        num(b, metric(st, id, "cascade_cost"), 4);
        slm_buf_puts(b, " | ");
        num(b, metric(st, id, "cascade_cost_all_large"), 4);
        slm_buf_puts(b, " | ");
        pct(b, metric(st, id, "cascade_cost_ratio"));
        slm_buf_puts(b, " |\n");
    }
}

static void reliability(slm_store *st, const cand_row *c, slm_buf *b)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "SELECT bin, count, confidence, accuracy FROM reliability WHERE "
                          "candidate_id = ? AND scheme = 'width' ORDER BY bin",
                          &s, NULL, 0))
        return;
    sqlite3_bind_int64(s, 1, c->id);
    int any = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (!any) {
            slm_buf_puts(b, "\nReliability (15 equal-width bins of top-label confidence):\n\n"
                            "| bin | confidence range | examples | mean confidence | accuracy | gap |\n"
                            "|---:|---|---:|---:|---:|---:|\n");
            any = 1;
        }
        int bin = sqlite3_column_int(s, 0);
        long cnt = (long)sqlite3_column_int64(s, 1);
        double conf = slm_col_double(s, 2), acc = slm_col_double(s, 3);
        char t[96];
        snprintf(t, sizeof t, "| %d | %s%.3f, %.3f] | %ld | ", bin, bin == 1 ? "[" : "(",
                 (bin - 1) / 15.0, bin / 15.0, cnt);
        slm_buf_puts(b, t);
        num(b, conf, 3);
        slm_buf_puts(b, " | ");
        num(b, acc, 3);
        slm_buf_puts(b, " | ");
        num(b, cnt ? fabs(acc - conf) : NAN, 3);
        slm_buf_puts(b, " |\n");
    }
    sqlite3_finalize(s);
}

/* The recommendation: candidates on the accuracy–p95-latency Pareto front that meet the
 * config's requirements; the pick is the most accurate of them (then the fastest). */
static void recommendation(slm_store *st, const run_info *r, slm_buf *b)
{
    if (!r->nc)
        return;
    slm_run_cfg *cfg = NULL;
    double min_acc = NAN, max_ece = NAN, max_p95 = NAN;
    if (slm_run_cfg_from_db(st, r->id, &cfg, NULL, 0) == 0) {
        min_acc = cfg->req_min_accuracy;
        max_ece = cfg->req_max_ece;
        max_p95 = cfg->req_max_p95_ms;
    }
    slm_run_cfg_free(cfg);
    size_t n = r->nc;
    double *acc = slm_xcalloc(n, sizeof *acc), *p95 = slm_xcalloc(n, sizeof *p95),
           *ece = slm_xcalloc(n, sizeof *ece);
    int *front = slm_xcalloc(n, sizeof *front), *meets = slm_xcalloc(n, sizeof *meets);
    for (size_t i = 0; i < n; i++) {
        acc[i] = metric(st, r->c[i].id, "accuracy");
        p95[i] = metric(st, r->c[i].id, "e2e_ms_p95");
        ece[i] = metric(st, r->c[i].id, "ece_15");
    }
    for (size_t i = 0; i < n; i++) {
        int ok = !isnan(acc[i]) && !isnan(p95[i]) && r->c[i].status && !strcmp(r->c[i].status, "ok");
        front[i] = ok;
        for (size_t j = 0; j < n && ok; j++)
            if (j != i && !isnan(acc[j]) && !isnan(p95[j]) && acc[j] >= acc[i] &&
                p95[j] <= p95[i] && (acc[j] > acc[i] || p95[j] < p95[i]))
                front[i] = 0;
        meets[i] = ok && !(acc[i] < min_acc) && !(ece[i] > max_ece) && !(p95[i] > max_p95);
    }
    long pick = -1;
    for (size_t i = 0; i < n; i++)
        if (front[i] && meets[i] &&
            (pick < 0 || acc[i] > acc[pick] || (acc[i] == acc[pick] && p95[i] < p95[pick])))
            pick = (long)i;
    slm_buf_puts(b, "### Recommendation\n\n");
    slm_buf_puts(b, "Requirements: ");
    int any_req = 0;
    if (!isnan(min_acc))
        slm_buf_printf(b, "%saccuracy ≥ %.1f%%", any_req++ ? ", " : "", min_acc * 100);
    if (!isnan(max_ece))
        slm_buf_printf(b, "%sECE ≤ %.3f", any_req++ ? ", " : "", max_ece);
    if (!isnan(max_p95))
        slm_buf_printf(b, "%sp95 latency ≤ %.1f ms", any_req++ ? ", " : "", max_p95);
    slm_buf_puts(b, any_req ? " (from the run config).\n\n"
                            : "none set (add `requirements:` to the run config).\n\n");
    if (pick >= 0) {
        slm_buf_puts(b, "**Pick `");
        slm_md_cell(b, r->c[pick].name);
        slm_buf_puts(b, "`**: the most accurate candidate on the accuracy–latency front that "
                        "meets the requirements (accuracy ");
        pct(b, acc[pick]);
        slm_buf_puts(b, ", p95 ");
        num(b, p95[pick], 3);
        slm_buf_puts(b, " ms, ECE ");
        num(b, ece[pick], 3);
        slm_buf_puts(b, ").\n\n");
    } else {
        slm_buf_puts(b, "**No candidate qualifies**: none on the accuracy–latency front meets "
                        "the requirements.\n\n");
    }
    slm_buf_puts(b, "| candidate | accuracy | p95 ms | ECE | on the front | meets requirements | "
                    "why not picked |\n|---|---:|---:|---:|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        slm_buf_puts(b, "| ");
        slm_md_cell(b, r->c[i].name);
        slm_buf_puts(b, " | ");
        pct(b, acc[i]);
        slm_buf_puts(b, " | ");
        num(b, p95[i], 3);
        slm_buf_puts(b, " | ");
        num(b, ece[i], 3);
        slm_buf_printf(b, " | %s | %s | ", front[i] ? "yes" : "no", meets[i] ? "yes" : "no");
        if ((long)i == pick) {
            slm_buf_puts(b, "picked");
        } else if (!front[i]) {
            for (size_t j = 0; j < n; j++)
                if (j != i && front[j] && acc[j] >= acc[i] && p95[j] <= p95[i]) {
                    slm_buf_puts(b, "dominated by ");
                    slm_md_cell(b, r->c[j].name);
                    slm_buf_puts(b, " (as accurate or more, and as fast or faster)");
                    break;
                }
            if (isnan(acc[i]) || isnan(p95[i]))
                slm_buf_puts(b, "no results");
        } else if (!meets[i]) {
            int k = 0;
            if (acc[i] < min_acc)
                slm_buf_printf(b, "%saccuracy below %.1f%%", k++ ? "; " : "", min_acc * 100);
            if (ece[i] > max_ece)
                slm_buf_printf(b, "%sECE above %.3f", k++ ? "; " : "", max_ece);
            if (p95[i] > max_p95)
                slm_buf_printf(b, "%sp95 above %.1f ms", k++ ? "; " : "", max_p95);
        } else {
            slm_buf_puts(b, "less accurate than the pick (faster: consider it if latency "
                            "matters more)");
        }
        slm_buf_puts(b, " |\n");
    }
    slm_buf_puts(b, "\n");
    free(acc);
    free(p95);
    free(ece);
    free(front);
    free(meets);
}

static void one_run_md(slm_store *st, const run_info *r, slm_buf *b)
{
    slm_buf_printf(b, "## Run %lld: ", (long long)r->id);
    slm_md_cell(b, r->name);
    slm_buf_puts(b, "\n\n");
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
    slm_buf_printf(b, ", %ld examples |\n| data sha256 | ", r->n_rows);
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
    slm_md_cell(b, r->host);
    slm_buf_puts(b, " |\n\n");
    recommendation(st, r, b);
    slm_buf_puts(b, "### Comparison\n\n");
    comparison(st, r, b);
    if (r->nc) {
        double maj = metric(st, r->c[0].id, "majority_rate");
        slm_buf_puts(b, "\nMajority-class rate (always answering the most frequent label): ");
        pct(b, maj);
        slm_buf_puts(b, "\n");
    }
    structured_outputs(st, r, b);
    calibration(st, r, b);
    temperature(st, r, b);
    significance(st, r, b);
    cascade(st, r, b);
    performance(st, r, b);
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
    slm_buf_puts(b, "\n### Latency (ms per example; warm-up excluded)\n\n"
                    "| candidate | e2e mean | e2e p50 | e2e p90 | e2e p95 | e2e p99 | "
                    "prefill p50 | prefill p95 | decode p50 | TTFT p50 | TTFT p95 | TPOT p50 | "
                    "prompt tok | prefill tok/s | tokens/s | engine share |\n"
                    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    static const char *const lat[] = {"e2e_ms_mean", "e2e_ms_p50", "e2e_ms_p90", "e2e_ms_p95",
                                      "e2e_ms_p99", "prefill_ms_p50", "prefill_ms_p95",
                                      "decode_ms_p50", "ttft_ms_p50", "ttft_ms_p95",
                                      "tpot_ms_p50", "prompt_tokens_mean",
                                      "prefill_tokens_per_s", "tokens_per_s"};
    for (size_t i = 0; i < r->nc; i++) {
        slm_buf_puts(b, "| ");
        slm_md_cell(b, r->c[i].name);
        for (size_t k = 0; k < sizeof lat / sizeof lat[0]; k++) {
            slm_buf_puts(b, " | ");
            num(b, metric(st, r->c[i].id, lat[k]), 4);
        }
        slm_buf_puts(b, " | ");
        pct(b, metric(st, r->c[i].id, "engine_share"));
        slm_buf_puts(b, " |\n");
    }
    for (size_t i = 0; i < r->nc; i++) {
        const cand_row *c = &r->c[i];
        slm_buf_puts(b, "\n### ");
        slm_md_cell(b, c->name);
        slm_buf_puts(b, "\n\n");
        if (c->error) {
            slm_buf_puts(b, "Error: ");
            slm_md_cell(b, c->error);
            slm_buf_puts(b, "\n\n");
        }
        slm_buf_puts(b, "Per-class results:\n\n");
        per_class(st, c, b);
        slm_buf_puts(b, "\nConfusion matrix (rows: gold label, columns: prediction):\n\n");
        confusion(st, r, c, b);
        reliability(st, c, b);
    }
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
                    slm_buf_puts(out, " | ");
                    pct(out, metric(st, c->id, "accuracy"));
                    slm_buf_puts(out, " | ");
                    pct(out, metric(st, c->id, "macro_f1"));
                    slm_buf_puts(out, " | ");
                    num(out, metric(st, c->id, "e2e_ms_p50"), 3);
                    slm_buf_puts(out, " | ");
                    num(out, metric(st, c->id, "e2e_ms_p95"), 3);
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

static json_t *jnum(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
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
        json_object_set_new(jr, "name", jstr(r.name));
        json_object_set_new(jr, "status", jstr(r.status));
        json_object_set_new(jr, "mode", jstr(r.mode));
        json_object_set_new(jr, "created_at", jstr(r.created));
        json_object_set_new(jr, "finished_at", jstr(r.finished));
        json_object_set_new(jr, "evalset", jstr(r.es_name));
        json_object_set_new(jr, "split", jstr(r.split));
        json_object_set_new(jr, "n_examples", json_integer(r.n_rows));
        json_object_set_new(jr, "data_sha256", jstr(r.es_sha));
        json_object_set_new(jr, "prompt_sha256", jstr(r.prompt_sha));
        json_object_set_new(jr, "harness_version", jstr(r.harness));
        json_object_set_new(jr, "git_rev", jstr(r.git));
        json_object_set_new(jr, "candidates", cands);
        for (size_t k = 0; k < r.nc; k++) {
            const cand_row *c = &r.c[k];
            json_t *jc = json_object(), *m = json_object();
            json_object_set_new(jc, "name", jstr(c->name));
            json_object_set_new(jc, "engine", jstr(c->engine));
            json_object_set_new(jc, "status", jstr(c->status));
            json_object_set_new(jc, "error", jstr(c->error));
            json_object_set_new(jc, "model_path", jstr(c->model_path));
            json_object_set_new(jc, "model_sha256", jstr(c->model_sha));
            json_object_set_new(jc, "arch", jstr(c->arch));
            json_object_set_new(jc, "quant", jstr(c->quant));
            json_object_set_new(jc, "n_params", jnum(c->n_params));
            json_object_set_new(jc, "engine_version", jstr(c->engine_version));
            json_object_set_new(jc, "n_ctx", jnum(c->n_ctx));
            json_object_set_new(jc, "n_ctx_need", jnum(c->n_ctx_need));
            json_object_set_new(jc, "kv_bytes", jnum(c->kv_bytes));
            json_object_set_new(jc, "peak_rss_kb", jnum(c->peak_rss_kb));
            json_object_set_new(jc, "n_gpu_layers", jnum(c->n_gpu_layers));
            json_object_set_new(jc, "device", jstr(c->device));
            json_object_set_new(jc, "chat_template", jstr(c->chat_template));
            json_object_set_new(jc, "chat_template_used", json_boolean(c->chat_used));
            json_object_set_new(jc, "chat_template_sha256", jstr(c->tmpl_sha));
            json_object_set_new(jc, "chat_probe_sha256", jstr(c->probe_sha));
            /* every stored metric, in the order of the field table, then any other */
            sqlite3_stmt *s;
            if (slm_store_prepare(st, "SELECT name, value FROM metrics WHERE candidate_id = ?",
                                  &s, err, errlen) == 0) {
                sqlite3_bind_int64(s, 1, c->id);
                json_t *tmp = json_object();
                while (sqlite3_step(s) == SQLITE_ROW)
                    json_object_set_new(tmp, (const char *)sqlite3_column_text(s, 0),
                                        jnum(slm_col_double(s, 1)));
                sqlite3_finalize(s);
                for (size_t f = 0; f < slm_n_fields; f++) {
                    json_t *v = json_object_get(tmp, slm_fields[f].name);
                    if (v) {
                        json_object_set(m, slm_fields[f].name, v);
                        json_object_del(tmp, slm_fields[f].name);
                    }
                }
                json_object_update(m, tmp);
                json_decref(tmp);
            }
            json_object_set_new(jc, "metrics", m);
            json_t *pcs = json_array();
            if (slm_store_prepare(st,
                                  "SELECT label, in_label_set, precision, recall, f1, support, "
                                  "predicted FROM per_class WHERE candidate_id = ? ORDER BY rowid",
                                  &s, err, errlen) == 0) {
                sqlite3_bind_int64(s, 1, c->id);
                while (sqlite3_step(s) == SQLITE_ROW) {
                    json_t *p = json_object();
                    json_object_set_new(p, "label", json_string((const char *)sqlite3_column_text(s, 0)));
                    json_object_set_new(p, "in_label_set", json_boolean(sqlite3_column_int(s, 1)));
                    json_object_set_new(p, "precision", jnum(slm_col_double(s, 2)));
                    json_object_set_new(p, "recall", jnum(slm_col_double(s, 3)));
                    json_object_set_new(p, "f1", jnum(slm_col_double(s, 4)));
                    json_object_set_new(p, "support", json_integer(sqlite3_column_int64(s, 5)));
                    json_object_set_new(p, "predicted", json_integer(sqlite3_column_int64(s, 6)));
                    json_array_append_new(pcs, p);
                }
                sqlite3_finalize(s);
            }
            json_object_set_new(jc, "per_class", pcs);
            json_array_append_new(cands, jc);
        }
        json_array_append_new(runs, jr);
        run_info_free(&r);
    }
    if (!rc) {
        char *s = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
        slm_buf_puts(out, s);
        slm_buf_putc(out, '\n');
        free(s);
    }
    json_decref(root);
    return rc;
}
