/* load_report.c — see load_report.h. */
#include "load_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gnuplot.h"
#include "json_out.h"
#include "report.h"
#include "report_html.h"

/* ---- Markdown ------------------------------------------------------------------------ */

/* A number with 4 significant digits (no exponent below 1e6), "–" for NaN. */
static void num(slm_buf *b, double v)
{
    if (isnan(v)) {
        slm_buf_puts(b, "–");
        return;
    }
    char t[64];
    if (fabs(v) >= 1e6 || (fabs(v) < 1e-3 && v != 0))
        slm_fmt_double(t, sizeof t, v, 4);
    else
        snprintf(t, sizeof t, "%.4g", v);
    slm_buf_puts(b, t);
}

static void pct(slm_buf *b, double v)
{
    if (isnan(v))
        slm_buf_puts(b, "–");
    else
        slm_buf_printf(b, "%.1f%%", v * 100.0);
}

/* "120 [110, 135]": a percentile and its interval, each end "–" where undefined. */
static void pct_ci(slm_buf *b, const slm_pct_ci *p)
{
    num(b, p->value);
    if (isnan(p->value))
        return;
    slm_buf_puts(b, " [");
    num(b, p->lo);
    slm_buf_puts(b, ", ");
    num(b, p->hi);
    slm_buf_puts(b, "]");
}

static const char *tri(int v, const char *yes, const char *no)
{
    return v == 1 ? yes : v == 0 ? no : "–";
}

static const char *slo_verdict(const slm_load_level_stats *s)
{
    if (s->meets_slo == 1)
        return s->meets_slo_surely == 1 ? "yes (surely)" : "yes";
    if (s->meets_slo == 0)
        return s->fails_slo_surely == 1 ? "no (surely)" : "no";
    return "–";
}

static void md_slo(slm_buf *b, const slm_slo *slo)
{
    const char *names[4] = {"TTFT", "ITL", "TPOT", "E2E"};
    const double lim[4] = {slo->ttft_ms, slo->itl_ms, slo->tpot_ms, slo->e2e_ms};
    slm_buf_puts(b, "SLO: ");
    int any = 0;
    for (int k = 0; k < 4; k++) {
        if (isnan(lim[k]))
            continue;
        slm_buf_printf(b, "%s%s ≤ ", any ? ", " : "", names[k]);
        num(b, lim[k]);
        slm_buf_puts(b, " ms");
        any = 1;
    }
    if (!any)
        slm_buf_puts(b, "no limit set");
    slm_buf_printf(b, " — per request for goodput, at the level's p%g for \"meets\". "
                      "Intervals are 95%% (seeded bootstrap); \"–\" is undefined, e.g. an "
                      "interval end the sample cannot bound (docs/loadstats.md).\n\n",
                   slo->percentile);
}

static void md_row(slm_buf *b, size_t i, const slm_load_report_level *l)
{
    const slm_load_level_stats *s = &l->stats;
    slm_buf_printf(b, "| %zu | ", i + 1);
    slm_md_cell(b, l->profile ? l->profile : "–");
    if (l->concurrency > 0)
        slm_buf_printf(b, " (cap %d)", l->concurrency);
    const double rates[3] = {l->offered_rps, s->achieved_rps, s->goodput_rps};
    for (int k = 0; k < 3; k++) {
        slm_buf_puts(b, " | ");
        num(b, rates[k]);
    }
    slm_buf_puts(b, " | ");
    pct(b, s->goodput_share);
    const slm_pct_ci *cis[4] = {&s->ttft[0], &s->ttft[2], &s->e2e[0], &s->e2e[2]};
    for (int k = 0; k < 4; k++) {
        slm_buf_puts(b, " | ");
        pct_ci(b, cis[k]);
    }
    const double shares[4] = {s->accuracy, s->invalid_rate, s->error_rate, s->timeout_rate};
    for (int k = 0; k < 4; k++) {
        slm_buf_puts(b, " | ");
        pct(b, shares[k]);
    }
    slm_buf_printf(b, " | %ld | %s | %s |\n", s->n_measured, slo_verdict(s),
                   tri(s->saturated, "**yes**", "no"));
}

static void md_best(slm_buf *b, const slm_load_best *best)
{
    slm_buf_puts(b, "\nHighest offered rate meeting the SLO: ");
    if (isnan(best->rate)) {
        slm_buf_puts(b, "**none** of the levels");
    } else {
        slm_buf_puts(b, "**");
        num(b, best->rate);
        slm_buf_printf(b, "/s** (level %zu)", best->level + 1);
    }
    slm_buf_puts(b, "; interval: surely met up to ");
    num(b, best->lo);
    slm_buf_puts(b, "/s, surely failed from ");
    num(b, best->hi);
    slm_buf_puts(b, "/s (\"–\": no level decides it).\n");
}

void slm_load_report_markdown(slm_buf *out, const slm_load_report *r)
{
    slm_buf_puts(out, "## Load test\n\n");
    md_slo(out, &r->slo);
    for (size_t c = 0; c < r->n_cands; c++) {
        const slm_load_report_cand *rc = &r->cands[c];
        slm_buf_puts(out, "### ");
        slm_md_cell(out, rc->name ? rc->name : "–");
        slm_buf_printf(out, "\n\n| level | profile | offered/s | achieved/s | goodput/s | good | "
                            "TTFT p50 ms | TTFT p%g ms | E2E p50 ms | E2E p%g ms | accuracy | "
                            "invalid | errors | timeouts | measured | meets SLO | saturated |\n"
                            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
                            "---:|---:|---|---|\n",
                       r->slo.percentile, r->slo.percentile);
        for (size_t i = 0; i < rc->n_levels; i++)
            md_row(out, i, &rc->levels[i]);
        for (size_t i = 0; i < rc->n_levels; i++)
            if (rc->levels[i].stats.saturated == 1 && rc->levels[i].saturated_why) {
                slm_buf_printf(out, "\nLevel %zu saturated: ", i + 1);
                slm_md_cell(out, rc->levels[i].saturated_why);
                slm_buf_puts(out, ".\n");
            }
        md_best(out, &rc->best);
        slm_buf_puts(out, "\n");
    }
}

/* ---- JSON ---------------------------------------------------------------------------- */

static json_t *j_tri(int v)
{
    return v == 1 ? json_true() : v == 0 ? json_false() : json_null();
}

static json_t *j_pct(const slm_pct_ci *p)
{
    return json_pack("{s:o, s:o, s:o, s:I}", "value", slm_json_num(p->value), "lo",
                     slm_json_num(p->lo), "hi", slm_json_num(p->hi), "n", (json_int_t)p->n);
}

static json_t *j_metric(const slm_pct_ci p[3])
{
    return json_pack("{s:o, s:o, s:o}", "p50", j_pct(&p[0]), "p90", j_pct(&p[1]), "p_slo",
                     j_pct(&p[2]));
}

static json_t *j_level(size_t i, const slm_load_report_level *l)
{
    const slm_load_level_stats *s = &l->stats;
    json_t *o = json_pack(
        "{s:I, s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
        "level", (json_int_t)(i + 1), "profile", slm_json_str(l->profile), "offered_rps",
        slm_json_num(l->offered_rps), "concurrency", l->concurrency, "achieved_rps",
        slm_json_num(s->achieved_rps), "throughput_rps", slm_json_num(s->throughput_rps),
        "output_tok_s", slm_json_num(s->output_tok_s), "goodput_rps",
        slm_json_num(s->goodput_rps), "goodput_share", slm_json_num(s->goodput_share),
        "send_err_p50_ms", slm_json_num(s->send_err_p50_ms), "send_err_p99_ms",
        slm_json_num(s->send_err_p99_ms), "error_rate", slm_json_num(s->error_rate),
        "timeout_rate", slm_json_num(s->timeout_rate), "accuracy", slm_json_num(s->accuracy),
        "invalid_rate", slm_json_num(s->invalid_rate), "saturated_why",
        slm_json_str(s->saturated == 1 ? l->saturated_why : NULL));
    if (!o)
        return NULL;
    json_object_set_new(o, "ttft_ms", j_metric(s->ttft));
    json_object_set_new(o, "itl_ms", j_metric(s->itl));
    json_object_set_new(o, "tpot_ms", j_metric(s->tpot));
    json_object_set_new(o, "e2e_ms", j_metric(s->e2e));
    json_object_set_new(o, "n_measured", json_integer(s->n_measured));
    json_object_set_new(o, "n_answered", json_integer(s->n_answered));
    json_object_set_new(o, "n_errors", json_integer(s->n_errors));
    json_object_set_new(o, "n_timeouts", json_integer(s->n_timeouts));
    json_object_set_new(o, "meets_slo", j_tri(s->meets_slo));
    json_object_set_new(o, "meets_slo_surely", j_tri(s->meets_slo_surely));
    json_object_set_new(o, "fails_slo_surely", j_tri(s->fails_slo_surely));
    json_object_set_new(o, "saturated", j_tri(s->saturated));
    return o;
}

static json_t *j_cand(const slm_load_report_cand *c)
{
    const slm_load_best *b = &c->best;
    json_t *levels = json_array();
    for (size_t i = 0; i < c->n_levels; i++)
        json_array_append_new(levels, j_level(i, &c->levels[i]));
    json_t *best = json_pack("{s:o, s:o, s:o, s:o}", "rate", slm_json_num(b->rate), "lo",
                             slm_json_num(b->lo), "hi", slm_json_num(b->hi), "level",
                             b->level == (size_t)-1 ? json_null()
                                                    : json_integer((json_int_t)b->level + 1));
    return json_pack("{s:o, s:o, s:o}", "name", slm_json_str(c->name), "best_rate", best,
                     "levels", levels);
}

int slm_load_report_json(slm_buf *out, const slm_load_report *r)
{
    const slm_slo *s = &r->slo;
    json_t *cands = json_array();
    for (size_t c = 0; c < r->n_cands; c++)
        json_array_append_new(cands, j_cand(&r->cands[c]));
    json_t *root = json_pack("{s:{s:o, s:o, s:o, s:o, s:o}, s:o}", "slo", "ttft_ms",
                             slm_json_num(s->ttft_ms), "itl_ms", slm_json_num(s->itl_ms),
                             "tpot_ms", slm_json_num(s->tpot_ms), "e2e_ms",
                             slm_json_num(s->e2e_ms), "percentile", slm_json_num(s->percentile),
                             "candidates", cands);
    int rc = root ? slm_json_emit(out, root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : -1;
    json_decref(root);
    return rc;
}

/* ---- charts -------------------------------------------------------------------------- */

/* The chart context: where, and what they are collected into. */
typedef struct chart_ctx {
    const slm_load_report *r;
    char *dir;
    slm_plots_result *res;
    char **gp_missing;
} chart_ctx;

static void dat_nums(slm_buf *b, const double *v, int n)
{
    for (int k = 0; k < n; k++) {
        if (k)
            slm_buf_putc(b, ' ');
        slm_gp_num(b, v[k]);
    }
    slm_buf_putc(b, '\n');
}

/* One data block per candidate with its levels that have an offered rate (columns from
 * row()); plot[] gets the plot commands of each block (cmd: printf with %zu the index,
 * then the candidate's title). Returns the blocks written. */
static size_t rate_blocks(const chart_ctx *x, slm_buf *dat, const char *header,
                          void (*row)(const slm_load_report_level *, slm_buf *), slm_buf *titles)
{
    size_t nb = 0;
    slm_buf_puts(dat, header);
    for (size_t c = 0; c < x->r->n_cands; c++) {
        const slm_load_report_cand *rc = &x->r->cands[c];
        size_t rows = 0;
        for (size_t i = 0; i < rc->n_levels; i++)
            rows += isfinite(rc->levels[i].offered_rps) != 0;
        if (!rows)
            continue;
        slm_buf_puts(dat, nb ? "\n\n# candidate " : "# candidate ");
        slm_gp_dat_str(dat, rc->name ? rc->name : "");
        slm_buf_putc(dat, '\n');
        for (size_t i = 0; i < rc->n_levels; i++)
            if (isfinite(rc->levels[i].offered_rps))
                row(&rc->levels[i], dat);
        slm_gp_str(&titles[nb], rc->name ? rc->name : "");
        nb++;
    }
    return nb;
}

static void row_latency(const slm_load_report_level *l, slm_buf *b)
{
    const slm_load_level_stats *s = &l->stats;
    const slm_pct_ci *p[4] = {&s->ttft[0], &s->ttft[2], &s->e2e[0], &s->e2e[2]};
    double v[13];
    v[0] = l->offered_rps;
    for (int k = 0; k < 4; k++) {
        v[1 + 3 * k] = p[k]->value;
        v[2 + 3 * k] = p[k]->lo;
        v[3 + 3 * k] = p[k]->hi;
    }
    dat_nums(b, v, 13);
}

static void row_goodput(const slm_load_report_level *l, slm_buf *b)
{
    const double v[3] = {l->offered_rps, l->stats.goodput_rps, l->stats.throughput_rps};
    dat_nums(b, v, 3);
}

static void row_achieved(const slm_load_report_level *l, slm_buf *b)
{
    const double v[2] = {l->offered_rps, l->stats.achieved_rps};
    dat_nums(b, v, 2);
}

static void titles_free(slm_buf *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        slm_buf_free(&t[i]);
    free(t);
}

/* One latency panel: columns c (p50) and c+3 (the SLO percentile) of each block. */
static void latency_panel(slm_buf *body, const char *what, double limit, double q, int c,
                          const slm_buf *titles, size_t nb)
{
    slm_buf_printf(body, "    set title '%s against the offered rate'\n"
                         "    set xlabel 'offered rate (requests/s)'\n"
                         "    set ylabel '%s (ms)'\n"
                         "    set grid lc rgb '#dddddd'\n"
                         "    set key top left box opaque\n"
                         "    set yrange [0:*]\n"
                         "    set offsets graph 0.05, graph 0.05, 0, 0\n",
                   what, what);
    for (size_t i = 0; i < nb; i++) {
        const char *sep = i ? ", \\\n         " : "    plot ";
        slm_buf_printf(body, "%s'load_latency.dat' index %zu using 1:%d with linespoints "
                             "lt %zu dt 2 title %s.' p50', \\\n"
                             "         '' index %zu using 1:%d:%d:%d with yerrorbars lt %zu "
                             "notitle, \\\n"
                             "         '' index %zu using 1:%d with linespoints lt %zu title "
                             "%s.' p%g', \\\n"
                             "         '' index %zu using 1:%d:%d:%d with yerrorbars lt %zu "
                             "notitle",
                       sep, i, c, i + 1, titles[i].data, i, c, c + 1, c + 2, i + 1, i, c + 3,
                       i + 1, titles[i].data, q, i, c + 3, c + 4, c + 5, i + 1);
    }
    /* the limit as a line the y range takes in */
    if (!isnan(limit)) {
        slm_buf_puts(body, ", \\\n         ");
        slm_gp_num(body, limit);
        slm_buf_puts(body, " with lines dt 2 lc rgb '#d62728' title 'limit'");
    }
    slm_buf_putc(body, '\n');
}

static int chart_latency(chart_ctx *x, char *err, size_t errlen)
{
    const char *name = "load_latency";
    const char *caption = "p50 (dashed) and the SLO percentile (solid) of TTFT and E2E "
                          "latency against the offered rate, one colour per candidate; "
                          "bars: 95% intervals (left out where an end is undefined); "
                          "red dashes: the SLO limits.";
    slm_buf dat = {0}, body = {0};
    slm_buf *titles = slm_xcalloc(x->r->n_cands + 1, sizeof *titles);
    size_t nb = rate_blocks(x, &dat,
                            "# offered_rps ttft_p50 lo hi ttft_pslo lo hi e2e_p50 lo hi "
                            "e2e_pslo lo hi (ms)\n",
                            row_latency, titles);
    if (!nb) {
        slm_buf_free(&dat);
        titles_free(titles, x->r->n_cands + 1);
        slm_plot_skip(x->dir, x->res, name, caption, "no level with an offered rate");
        return 0;
    }
    slm_buf_puts(&body, "    set multiplot layout 1,2\n");
    latency_panel(&body, "TTFT", x->r->slo.ttft_ms, x->r->slo.percentile, 2, titles, nb);
    latency_panel(&body, "E2E", x->r->slo.e2e_ms, x->r->slo.percentile, 8, titles, nb);
    slm_buf_puts(&body, "    unset multiplot\n");
    titles_free(titles, x->r->n_cands + 1);
    return slm_plot_emit(x->dir, x->res, x->gp_missing, name, caption, &dat, &body, 1200, 500,
                         err, errlen);
}

/* A chart of rate columns against the offered rate: goodput or achieved. */
static int chart_rates(chart_ctx *x, int achieved, char *err, size_t errlen)
{
    const char *name = achieved ? "load_achieved" : "load_goodput";
    const char *caption = achieved ? "Achieved against offered rate per candidate; the dashed "
                                     "line is achieved = offered (below it: saturation)."
                                   : "Goodput (solid: requests/s meeting every per-request "
                                     "limit) and throughput (dashed: answered/s) against the "
                                     "offered rate, one colour per candidate.";
    slm_buf dat = {0}, body = {0};
    slm_buf *titles = slm_xcalloc(x->r->n_cands + 1, sizeof *titles);
    size_t nb = rate_blocks(x, &dat,
                            achieved ? "# offered_rps achieved_rps\n"
                                     : "# offered_rps goodput_rps throughput_rps\n",
                            achieved ? row_achieved : row_goodput, titles);
    if (!nb) {
        slm_buf_free(&dat);
        titles_free(titles, x->r->n_cands + 1);
        slm_plot_skip(x->dir, x->res, name, caption, "no level with an offered rate");
        return 0;
    }
    slm_buf_printf(&body, "    set title '%s'\n"
                          "    set xlabel 'offered rate (requests/s)'\n"
                          "    set ylabel 'requests/s'\n"
                          "    set grid lc rgb '#dddddd'\n"
                          "    set key top left box opaque\n"
                          "    set xrange [0:*]\n    set yrange [0:*]\n",
                   achieved ? "Achieved against offered rate" : "Goodput against offered rate");
    for (size_t i = 0; i < nb; i++) {
        slm_buf_printf(&body, "%s'%s.dat' index %zu using 1:2 with linespoints lt %zu title %s",
                       i ? ", \\\n         " : "    plot ", name, i, i + 1, titles[i].data);
        if (!achieved)
            slm_buf_printf(&body, ", \\\n         '' index %zu using 1:3 with linespoints lt %zu "
                                  "dt 2 notitle",
                           i, i + 1);
    }
    if (achieved)
        slm_buf_puts(&body, ", \\\n         x with lines dt 2 lc rgb '#7f7f7f' "
                            "title 'achieved = offered'");
    slm_buf_putc(&body, '\n');
    titles_free(titles, x->r->n_cands + 1);
    return slm_plot_emit(x->dir, x->res, x->gp_missing, name, caption, &dat, &body, 800, 500,
                         err, errlen);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Writes the CDF block of one metric of one level (answered measured requests); returns
 * 1 when written, 0 when the level has no value of it. */
static int cdf_block(const slm_load_report_level *l, int e2e, size_t idx, slm_buf *dat)
{
    double *v = slm_xmalloc((l->n_req ? l->n_req : 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < l->n_req; i++) {
        const slm_load_req *q = &l->req[i];
        double x = e2e ? q->e2e_ms : q->ttft_ms;
        if (q->phase == SLM_LOAD_MEASURE && q->status == SLM_LOAD_OK && isfinite(x))
            v[n++] = x;
    }
    if (n) {
        qsort(v, n, sizeof *v, cmp_double);
        slm_buf_printf(dat, "%s# block %zu: %s\n", idx ? "\n\n" : "", idx, e2e ? "e2e" : "ttft");
        const double first[2] = {v[0], 0};
        dat_nums(dat, first, 2);
        for (size_t k = 0; k < n; k++) {
            const double row[2] = {v[k], (double)(k + 1) / (double)n};
            dat_nums(dat, row, 2);
        }
    }
    free(v);
    return n > 0;
}

/* The level's legend title: "L2 constant 4/s". */
static void level_title(slm_buf *b, size_t i, const slm_load_report_level *l)
{
    slm_buf t = {0};
    slm_buf_printf(&t, "L%zu %s", i + 1, l->profile ? l->profile : "");
    if (isfinite(l->offered_rps))
        slm_buf_printf(&t, " %.4g/s", l->offered_rps);
    slm_gp_str(b, t.data);
    slm_buf_free(&t);
}

static int chart_cdf(chart_ctx *x, size_t c, char *err, size_t errlen)
{
    const slm_load_report_cand *rc = &x->r->cands[c];
    char *name = slm_xasprintf("load_cdf_%zu", c + 1);
    slm_buf cap = {0}, dat = {0}, body = {0}, plot[2] = {{0}};
    slm_buf_puts(&cap, "Empirical CDFs of TTFT (left) and E2E latency (right) of the answered "
                       "measured requests of each level of ");
    slm_buf_puts(&cap, rc->name ? rc->name : "–");
    slm_buf_puts(&cap, ".");
    slm_buf_puts(&dat, "# latency_ms fraction_at_or_below; blocks: each level's TTFT, then "
                       "each level's E2E (gnuplot: index k)\n");
    size_t idx = 0, np[2] = {0, 0};
    for (int m = 0; m < 2; m++)
        for (size_t i = 0; i < rc->n_levels; i++) {
            if (!cdf_block(&rc->levels[i], m, idx, &dat))
                continue;
            slm_buf_printf(&plot[m], "%s'%s.dat' index %zu using 1:2 with steps lt %zu title ",
                           np[m] ? ", \\\n         " : "    plot ", name, idx, i + 1);
            level_title(&plot[m], i, &rc->levels[i]);
            idx++, np[m]++;
        }
    int rc_ = 0;
    if (!np[0] && !np[1]) {
        slm_buf_free(&dat);
        slm_plot_skip(x->dir, x->res, name, cap.data, "no answered measured request");
    } else {
        slm_buf_puts(&body, "    set multiplot layout 1,2\n");
        const char *what[2] = {"TTFT", "E2E latency"};
        for (int m = 0; m < 2; m++) {
            slm_buf_printf(&body, "    set title '%s (empirical CDF)'\n"
                                  "    set xlabel '%s (ms)'\n"
                                  "    set ylabel 'share of requests at or below'\n"
                                  "    set yrange [0:1.02]\n    set grid lc rgb '#dddddd'\n"
                                  "    set key bottom right box opaque\n",
                           what[m], what[m]);
            if (np[m])
                slm_buf_append(&body, plot[m].data, plot[m].len);
            else /* an empty panel keeps the layout */
                slm_buf_puts(&body, "    set xrange [0:1]\n    plot NaN notitle");
            slm_buf_puts(&body, "\n    set autoscale x\n");
        }
        slm_buf_puts(&body, "    unset multiplot\n");
        rc_ = slm_plot_emit(x->dir, x->res, x->gp_missing, name, cap.data, &dat, &body, 1200,
                            500, err, errlen);
    }
    slm_buf_free(&plot[0]);
    slm_buf_free(&plot[1]);
    slm_buf_free(&cap);
    free(name);
    return rc_;
}

int slm_load_report_plots(const slm_load_report *r, const char *outdir, slm_plots_result *res,
                          char **gp_missing, char *err, size_t errlen)
{
    chart_ctx x = {r, slm_xasprintf("%s/plots", outdir), res, gp_missing};
    int rc = -1;
    if (slm_mkdir_p(x.dir, err, errlen) || chart_latency(&x, err, errlen) ||
        chart_rates(&x, 0, err, errlen) || chart_rates(&x, 1, err, errlen))
        goto out;
    for (size_t c = 0; c < r->n_cands; c++)
        if (chart_cdf(&x, c, err, errlen))
            goto out;
    rc = 0;
out:
    free(x.dir);
    return rc;
}

/* ---- HTML ---------------------------------------------------------------------------- */

int slm_load_report_html(slm_buf *out, const slm_load_report *r, const slm_plots_result *plots,
                         const char *outdir)
{
    slm_buf md = {0};
    slm_load_report_markdown(&md, r);
    slm_md_to_html(md.data, out);
    slm_buf_free(&md);
    for (size_t i = 0; plots && i < plots->n; i++) {
        const slm_plot *p = &plots->plots[i];
        if (strncmp(p->name, "load_", 5) != 0)
            continue;
        if (p->skipped) {
            slm_buf_puts(out, "<p class=\"note\">Chart ");
            slm_html_esc(out, p->name);
            slm_buf_puts(out, " not drawn: ");
            slm_html_esc(out, p->skipped);
            slm_buf_puts(out, "</p>\n");
            continue;
        }
        char *svg = slm_xasprintf("%s/%s", outdir, p->svg);
        slm_figure f = {.name = p->name, .caption = p->caption, .svg_path = svg,
                        .data_path = p->data};
        int rc = slm_html_figure(out, &f);
        free(svg);
        if (rc)
            return -1;
    }
    return 0;
}
