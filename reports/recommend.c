/* recommend.c — see recommend.h. */
#include "recommend.h"
#include "config.h"
#include "ctlesc.h"
#include "json_out.h"
#include "latpairs.h"
#include "mdfmt.h"
#include "pareto.h"
#include "store_read.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the numbers ---- */

static double *nans(size_t n)
{
    double *v = slm_xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = NAN;
    return v;
}

void slm_rec_init(slm_rec *x, size_t n)
{
    memset(x, 0, sizeof *x);
    x->n = n;
    x->min_acc = x->max_ece = x->max_p95 = x->cpus = x->turn = NAN;
    x->acc = nans(n), x->acc_lo = nans(n), x->acc_hi = nans(n);
    x->p95 = nans(n), x->ece = nans(n), x->p_holm = nans(n);
    x->load = nans(n), x->steal = nans(n), x->noisy = nans(n);
    size_t m = n ? n : 1;
    x->ok = slm_xcalloc(m, sizeof *x->ok);
    x->faster = slm_xcalloc(m * m, 1);
    x->tie = slm_xcalloc(m, sizeof *x->tie);
    x->front = slm_xcalloc(m, sizeof *x->front);
    x->meets = slm_xcalloc(m, sizeof *x->meets);
    x->best = x->top = x->pick = x->closest = -1;
}

void slm_rec_free(slm_rec *x)
{
    free(x->acc), free(x->acc_lo), free(x->acc_hi), free(x->p95), free(x->ece);
    free(x->p_holm), free(x->load), free(x->steal), free(x->noisy), free(x->ok);
    free(x->faster), free(x->tie), free(x->front), free(x->meets);
    memset(x, 0, sizeof *x);
}

static int has(const slm_rec *x, size_t i)
{
    return x->ok[i] && !isnan(x->acc[i]) && !isnan(x->p95[i]);
}

/* Requirements candidate i misses (0 when it has no results: it qualifies for nothing),
 * and their relative shortfall summed into *gap. */
static int misses(const slm_rec *x, size_t i, double *gap)
{
    int k = 0;
    double g = 0;
    if (x->acc[i] < x->min_acc)
        k++, g += (x->min_acc - x->acc[i]) / fmax(x->min_acc, 1e-12);
    if (x->ece[i] > x->max_ece)
        k++, g += (x->ece[i] - x->max_ece) / fmax(x->max_ece, 1e-12);
    if (x->p95[i] > x->max_p95)
        k++, g += (x->p95[i] - x->max_p95) / fmax(x->max_p95, 1e-12);
    if (gap)
        *gap = g;
    return k;
}

/* The pick among the candidates that meet the requirements (recommend.h). */
static long pick_of(const slm_rec *x, const double *eff)
{
    size_t n = x->n;
    double topq = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (x->meets[i] && eff[i] > topq)
            topq = eff[i];
    long pick = -1;
    for (size_t i = 0; i < n; i++) {
        if (!x->meets[i] || eff[i] != topq)
            continue;
        int slower = 0;
        for (size_t j = 0; j < n && !slower; j++)
            slower = j != i && x->meets[j] && eff[j] == topq && x->faster[j * n + i];
        if (!slower && (pick < 0 || x->acc[i] > x->acc[pick]))
            pick = (long)i;
    }
    return pick;
}

static long closest_of(const slm_rec *x)
{
    long c = -1;
    int ck = 0;
    double cg = 0;
    for (size_t i = 0; i < x->n; i++) {
        double g;
        int k = misses(x, i, &g);
        if (has(x, i) && (c < 0 || k < ck || (k == ck && g < cg)))
            c = (long)i, ck = k, cg = g;
    }
    return c;
}

void slm_rec_decide(slm_rec *x)
{
    size_t n = x->n;
    x->top = -1;
    for (size_t i = 0; i < n; i++)
        if (has(x, i) && (x->top < 0 || x->acc[i] > x->acc[x->top]))
            x->top = (long)i;
    long ref = x->best >= 0 && (size_t)x->best < n && has(x, (size_t)x->best) ? x->best : x->top;
    double *eff = nans(n);
    for (size_t i = 0; i < n; i++) {
        x->tie[i] = has(x, i) && ref >= 0 &&
                    ((long)i == ref || x->acc[i] >= x->acc[ref] || x->p_holm[i] >= SLM_REC_ALPHA);
        x->meets[i] = has(x, i) && !misses(x, i, NULL);
        if (has(x, i))
            eff[i] = x->tie[i] ? fmax(x->acc[ref], x->acc[i]) : x->acc[i];
    }
    slm_pareto_front(eff, x->p95, x->faster, n, x->front);
    for (size_t i = 0; i < n; i++)
        x->front[i] = x->front[i] && has(x, i);
    x->pick = pick_of(x, eff);
    x->closest = x->pick < 0 ? closest_of(x) : -1;
    free(eff);
}

/* Each candidate's measurement conditions, and the run's CPUs and turn. */
static void load_conditions(slm_store *st, const slm_run_facts *r, slm_rec *x)
{
    for (size_t i = 0; i < r->nc; i++) {
        slm_cand_facts f;
        if (slm_store_cand_facts(st, r->c[i].id, &f, NULL, 0) != 0)
            continue;
        double a = f.load1_before, b = f.load1_after;
        x->load[i] = isnan(a) ? b : isnan(b) ? a : fmax(a, b);
        x->steal[i] = f.steal_pct;
        x->noisy[i] = f.noisy;
        if (isnan(x->cpus))
            x->cpus = f.cpus_online;
        if (isnan(x->turn))
            x->turn = f.interleave_turn;
    }
}

static long cand_index(const slm_run_facts *r, const char *name)
{
    for (size_t i = 0; name && i < r->nc; i++)
        if (r->c[i].name && !strcmp(r->c[i].name, name))
            return (long)i;
    return -1;
}

void slm_rec_load(slm_store *st, const slm_run_facts *r, slm_rec *x)
{
    slm_rec_init(x, r->nc);
    slm_run_cfg *cfg = NULL;
    if (slm_run_cfg_from_db(st, r->id, &cfg, NULL, 0) == 0) {
        x->min_acc = cfg->req_min_accuracy;
        x->max_ece = cfg->req_max_ece;
        x->max_p95 = cfg->req_max_p95_ms;
    }
    slm_run_cfg_free(cfg);
    size_t n = r->nc;
    int64_t *ids = slm_xcalloc(n ? n : 1, sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        ids[i] = r->c[i].id;
        x->acc[i] = slm_store_metric(st, ids[i], "accuracy", &x->acc_lo[i], &x->acc_hi[i]);
        x->p95[i] = slm_store_metric(st, ids[i], "e2e_ms_p95", NULL, NULL);
        x->ece[i] = slm_store_metric(st, ids[i], "ece_15", NULL, NULL);
        x->ok[i] = r->c[i].status && !strcmp(r->c[i].status, "ok");
    }
    free(x->faster);
    x->faster = slm_faster_matrix(st, ids, x->p95, n, x->note, sizeof x->note);
    free(ids);
    slm_comparison_stat *cs;
    size_t nk;
    if (slm_store_comparisons(st, r->id, &cs, &nk, NULL, 0) == 0) {
        for (size_t k = 0; k < nk; k++) {
            long i = cand_index(r, cs[k].name);
            if (i >= 0)
                x->p_holm[i] = cs[k].mcnemar_p_holm;
            if (!k)
                x->best = cand_index(r, cs[k].baseline);
        }
        slm_comparison_rows_free(cs, nk);
    }
    load_conditions(st, r, x);
    slm_rec_decide(x);
}

/* ---- writing it ---- */

static void name_of(slm_buf *b, const slm_run_facts *r, size_t i, int fmt)
{
    if (fmt == SLM_REC_MD)
        slm_md_cell(b, r->c[i].name);
    else
        slm_ctl_text(b, r->c[i].name);
}

static void ms(slm_buf *b, double v)
{
    slm_md_num(b, v, 3);
}

/* "1.4× faster at p95 (7.58 vs 10.5 ms)": i against j. */
static void speedup(slm_buf *b, const slm_rec *x, size_t i, size_t j)
{
    slm_buf_printf(b, "%.1f× faster at p95 (", x->p95[j] / x->p95[i]);
    ms(b, x->p95[i]);
    slm_buf_puts(b, " vs ");
    ms(b, x->p95[j]);
    slm_buf_puts(b, " ms)");
}

/* The requirements as "accuracy ≥ 80.0%, ECE ≤ 0.100"; 0 when none is set. */
static int requirements(slm_buf *b, const slm_rec *x)
{
    int k = 0;
    if (!isnan(x->min_acc))
        slm_buf_printf(b, "%saccuracy ≥ %.1f%%", k++ ? ", " : "", x->min_acc * 100);
    if (!isnan(x->max_ece))
        slm_buf_printf(b, "%sECE ≤ %.3f", k++ ? ", " : "", x->max_ece);
    if (!isnan(x->max_p95))
        slm_buf_printf(b, "%sp95 latency ≤ %.1f ms", k++ ? ", " : "", x->max_p95);
    return k;
}

/* What candidate i misses, with its figure and by how much: "accuracy 70.2% [67.1%,
 * 73.2%], 9.8 points short of 80.0%; ECE 0.120, 0.020 above 0.100". */
static void shortfalls(slm_buf *b, const slm_rec *x, size_t i)
{
    int k = 0;
    if (x->acc[i] < x->min_acc) {
        slm_buf_printf(b, "accuracy %.1f%%", x->acc[i] * 100);
        if (!isnan(x->acc_lo[i]) && !isnan(x->acc_hi[i]))
            slm_buf_printf(b, " [%.1f%%, %.1f%%]", x->acc_lo[i] * 100, x->acc_hi[i] * 100);
        slm_buf_printf(b, ", %.1f points short of %.1f%%", (x->min_acc - x->acc[i]) * 100,
                       x->min_acc * 100);
        k++;
    }
    if (x->ece[i] > x->max_ece)
        slm_buf_printf(b, "%sECE %.3f, %.3f above %.3f", k++ ? "; " : "", x->ece[i],
                       x->ece[i] - x->max_ece, x->max_ece);
    if (x->p95[i] > x->max_p95) {
        slm_buf_puts(b, k++ ? "; p95 " : "p95 ");
        ms(b, x->p95[i]);
        slm_buf_puts(b, " ms, ");
        ms(b, x->p95[i] - x->max_p95);
        slm_buf_printf(b, " ms above %.1f ms", x->max_p95);
    }
}

/* The fastest candidate with results that is measurably faster than i, or -1. */
static long fastest_than(const slm_rec *x, size_t i)
{
    long f = -1;
    for (size_t j = 0; j < x->n; j++)
        if (has(x, j) && x->faster[j * x->n + i] && (f < 0 || x->p95[j] < x->p95[f]))
            f = (long)j;
    return f;
}

static void holm_p(slm_buf *b, double p)
{
    slm_buf_puts(b, "McNemar Holm p ");
    slm_md_num(b, p, 2);
}

/* "; beta's 58.3% is not significantly lower (McNemar Holm p 0.062)" when others tie
 * with the most accurate pick on accuracy. */
static void tied_note(const slm_rec *x, const slm_run_facts *r, int fmt, slm_buf *b)
{
    size_t k = 0, last = 0;
    for (size_t i = 0; i < x->n; i++)
        if (x->tie[i] && (long)i != x->pick)
            k++, last = i;
    if (k == 1) {
        slm_buf_puts(b, "; ");
        name_of(b, r, last, fmt);
        slm_buf_printf(b, "'s %.1f%% is not significantly lower", x->acc[last] * 100);
        if (!isnan(x->p_holm[last])) {
            slm_buf_puts(b, ", ");
            holm_p(b, x->p_holm[last]);
        }
    } else if (k > 1)
        slm_buf_printf(b, "; %zu others are not significantly less accurate", k);
}

/* The pick is the most accurate: what the others offer instead. */
static void sentence_top(const slm_rec *x, const slm_run_facts *r, int fmt, slm_buf *b)
{
    size_t p = (size_t)x->pick, others = 0;
    for (size_t i = 0; i < x->n; i++)
        others += i != p && has(x, i);
    if (!others) {
        slm_buf_printf(b, "the only candidate with results (accuracy %.1f%%, p95 ",
                       x->acc[p] * 100);
        ms(b, x->p95[p]);
        slm_buf_puts(b, " ms)");
        return;
    }
    slm_buf_printf(b, "the most accurate (%.1f%%", x->acc[p] * 100);
    tied_note(x, r, fmt, b);
    slm_buf_puts(b, ")");
    long f = fastest_than(x, p);
    if (f < 0) {
        slm_buf_puts(b, ", and no other candidate is measurably faster at p95 (");
        ms(b, x->p95[p]);
        slm_buf_puts(b, " ms)");
        return;
    }
    slm_buf_puts(b, "; ");
    name_of(b, r, (size_t)f, fmt);
    slm_buf_puts(b, " is ");
    speedup(b, x, (size_t)f, p);
    if (x->tie[f]) {
        slm_buf_puts(b, " and as accurate, but misses ");
        shortfalls(b, x, (size_t)f);
        return;
    }
    slm_buf_printf(b, " but significantly less accurate (%.1f%%", x->acc[f] * 100);
    if ((long)p == x->best && !isnan(x->p_holm[f])) {
        slm_buf_puts(b, ", ");
        holm_p(b, x->p_holm[f]);
    }
    slm_buf_puts(b, ")");
}

/* The pick is not the most accurate candidate t: why it still is the pick. */
static void sentence_other(const slm_rec *x, const slm_run_facts *r, int fmt, slm_buf *b)
{
    size_t p = (size_t)x->pick, t = (size_t)x->top;
    if (!x->tie[p]) {
        slm_buf_printf(b, "the most accurate candidate that meets the requirements (%.1f%%); ",
                       x->acc[p] * 100);
        name_of(b, r, t, fmt);
        slm_buf_printf(b, " is more accurate (%.1f%%) but misses ", x->acc[t] * 100);
        shortfalls(b, x, t);
        return;
    }
    slm_buf_printf(b, "as accurate as the best (%.1f%% vs %.1f%%, ", x->acc[p] * 100,
                   x->acc[t] * 100);
    if (isnan(x->p_holm[p]))
        slm_buf_puts(b, "the same)");
    else {
        slm_buf_puts(b, "difference not significant, ");
        holm_p(b, x->p_holm[p]);
        slm_buf_puts(b, ")");
    }
    if (x->faster[p * x->n + t]) {
        slm_buf_puts(b, " and ");
        speedup(b, x, p, t);
        slm_buf_puts(b, "; ");
        name_of(b, r, t, fmt);
        slm_buf_puts(b, " is the most accurate but slower");
    } else if (!x->meets[t]) {
        slm_buf_puts(b, "; ");
        name_of(b, r, t, fmt);
        slm_buf_puts(b, ", the most accurate, misses ");
        shortfalls(b, x, t);
    } else {
        slm_buf_puts(b, "; ");
        name_of(b, r, t, fmt);
        slm_buf_puts(b, " is the most accurate, but another candidate as accurate is "
                        "measurably faster than it");
    }
}

void slm_rec_sentence(const slm_rec *x, const slm_run_facts *r, int fmt, slm_buf *b)
{
    const char *bo = fmt == SLM_REC_MD ? "**" : "";
    if (x->pick >= 0) {
        slm_buf_printf(b, "%sPick ", bo);
        name_of(b, r, (size_t)x->pick, fmt);
        slm_buf_printf(b, "%s: ", bo);
        if (x->pick == x->top)
            sentence_top(x, r, fmt, b);
        else
            sentence_other(x, r, fmt, b);
        slm_buf_puts(b, ".");
        return;
    }
    slm_buf_printf(b, "%sNo candidate qualifies%s: ", bo, bo);
    if (x->closest < 0) {
        slm_buf_puts(b, "no candidate has results (see each candidate's status and error).");
        return;
    }
    slm_buf_printf(b, "none of the %zu meets the requirements (", x->n);
    requirements(b, x);
    slm_buf_puts(b, "); closest: ");
    name_of(b, r, (size_t)x->closest, fmt);
    slm_buf_puts(b, ", ");
    shortfalls(b, x, (size_t)x->closest);
    slm_buf_puts(b, ".");
}

/* ---- measurement warnings ---- */

enum { W_CPUS, W_LOAD, W_STEAL, W_NOISY, W_N };
static const char *const warn_kind[W_N] = {"cpus_unknown", "load", "steal", "noisy"};

/* Whether candidate i shows warning w, and its figure. */
static int flagged(const slm_rec *x, int w, size_t i, double *v)
{
    switch (w) {
    case W_LOAD: *v = x->load[i]; return x->cpus >= 1 && x->load[i] > x->cpus;
    case W_STEAL: *v = x->steal[i]; return x->steal[i] > SLM_STEAL_MAX_PCT;
    case W_NOISY: *v = x->noisy[i]; return x->noisy[i] > 0;
    default: *v = NAN; return 0;
    }
}

/* The candidates showing warning w ("a, b"), into b (and their names into who, may be
 * NULL); the worst figure, NaN when none shows it. */
static double who_shows(const slm_rec *x, const slm_run_facts *r, int w, int fmt, slm_buf *b,
                        json_t *who)
{
    double worst = NAN, v;
    int k = 0;
    for (size_t i = 0; i < x->n; i++)
        if (flagged(x, w, i, &v)) {
            if (b) {
                slm_buf_puts(b, k ? ", " : "");
                name_of(b, r, i, fmt);
            }
            if (who)
                json_array_append_new(who, slm_json_str(r->c[i].name));
            worst = isnan(worst) || v > worst ? v : worst;
            k++;
        }
    return worst;
}

/* What load does to a comparison: fair when the candidates took turns, unjudged when
 * they ran one after another. */
static void load_and_turns(const slm_rec *x, slm_buf *b)
{
    if (x->n < 2)
        return;
    if (x->turn > 0)
        slm_buf_printf(b, " The candidates took turns of %.0f example%s, so the load hit them "
                          "alike and their comparison stays fair; the absolute figures do not.",
                       x->turn, x->turn == 1 ? "" : "s");
    else
        slm_buf_puts(b, " The candidates ran one after another, so the load may have hit them "
                        "unequally: no latency difference between them is judged "
                        "(`interleave: true` pairs them turn by turn).");
}

/* Warning w as one message (nothing, 0, when it does not apply). */
static int warning(const slm_rec *x, const slm_run_facts *r, int w, int fmt, slm_buf *b)
{
    slm_buf names = {0};
    double v = w == W_CPUS ? NAN : who_shows(x, r, w, fmt, &names, NULL);
    int on = w == W_CPUS ? x->n > 0 && !(x->cpus >= 1) : !isnan(v);
    if (on && w == W_CPUS)
        slm_buf_puts(b, "the number of CPUs was not recorded, so the load cannot be judged "
                        "against it: read the latencies with care, and rerun with this "
                        "slmbench, which records it.");
    else if (on && w == W_LOAD) {
        slm_buf_printf(b, "load average up to %.2f on %.0f CPUs while %s ran: other programs "
                          "competed for the CPUs, so these latencies are inflated and noisier "
                          "than on an idle machine (accuracy is unaffected).",
                       v, x->cpus, names.data);
        load_and_turns(x, b);
        slm_buf_puts(b, " Rerun on an idle machine (see `uptime`) or with fewer threads.");
    } else if (on && w == W_STEAL)
        slm_buf_printf(b, "CPU steal up to %.1f%% (above %.0f%%) while %s ran: the hypervisor "
                          "gave this machine's CPU time to others, so these latencies are "
                          "inflated. Rerun on a dedicated host or at a quieter time.",
                       v, SLM_STEAL_MAX_PCT, names.data);
    else if (on)
        slm_buf_printf(b, "%s flagged noisy: the repeats of an example vary by more than 10%% "
                          "(median coefficient of variation), so the latency percentiles are "
                          "unstable. Rerun with more `repeats` on a quieter machine.",
                       names.data);
    slm_buf_free(&names);
    return on;
}

size_t slm_rec_warnings(const slm_rec *x, const slm_run_facts *r, int fmt, slm_buf *b)
{
    size_t k = 0;
    for (int w = 0; w < W_N; w++) {
        slm_buf m = {0};
        if (warning(x, r, w, fmt, &m)) {
            k++;
            if (fmt == SLM_REC_MD)
                slm_buf_printf(b, "**Warning (%s)**: %s\n\n", warn_kind[w], m.data);
            else
                slm_buf_printf(b, "warning: %s\n", m.data);
        }
        slm_buf_free(&m);
    }
    return k;
}

/* ---- the sections ---- */

void slm_recommend_top_md(slm_store *st, const slm_run_facts *r, slm_buf *b)
{
    if (!r->nc)
        return;
    slm_rec x;
    slm_rec_load(st, r, &x);
    slm_rec_sentence(&x, r, SLM_REC_MD, b);
    slm_buf_puts(b, "\n\n");
    slm_rec_warnings(&x, r, SLM_REC_MD, b);
    slm_rec_free(&x);
}

void slm_recommend_text(slm_store *st, const slm_run_facts *r, slm_buf *b)
{
    if (!r->nc)
        return;
    slm_rec x;
    slm_rec_load(st, r, &x);
    slm_rec_sentence(&x, r, SLM_REC_TEXT, b);
    slm_buf_puts(b, "\n");
    slm_rec_warnings(&x, r, SLM_REC_TEXT, b);
    slm_rec_free(&x);
}

/* Why candidate i, as accurate as the pick within the test, was not picked. */
static void why_not_tied(const slm_run_facts *r, const slm_rec *x, size_t i, slm_buf *b)
{
    size_t n = x->n, p = (size_t)x->pick;
    long f = x->faster[p * n + i] ? (long)p : -1;
    for (size_t j = 0; j < n && f < 0; j++)
        if (x->meets[j] && x->tie[j] && x->faster[j * n + i])
            f = (long)j;
    if (f >= 0) {
        slm_buf_puts(b, "as accurate as the pick (not significantly below the best), and ");
        if ((size_t)f == p)
            slm_buf_puts(b, "the pick");
        else
            slm_md_cell(b, r->c[f].name);
        slm_buf_puts(b, " is measurably faster");
    } else {
        slm_buf_puts(b, x->acc[i] < x->acc[p] ? "ties with the pick on accuracy and on "
                                                "latency; the pick is more accurate on these "
                                                "examples"
                                              : "ties with the pick on accuracy and on latency "
                                                "(the pick comes first in the config)");
    }
}

/* Why candidate i was not picked. */
static void why_not(const slm_run_facts *r, const slm_rec *x, size_t i, slm_buf *b)
{
    size_t p = (size_t)x->pick;
    if (x->pick >= 0 && i == p) {
        slm_buf_puts(b, "picked");
    } else if (!has(x, i)) {
        slm_buf_puts(b, "no results");
    } else if (!x->meets[i]) {
        slm_buf_puts(b, "misses the requirements: ");
        shortfalls(b, x, i);
    } else if (!x->tie[i] && x->tie[p]) {
        slm_buf_puts(b, "significantly less accurate than the best (");
        holm_p(b, x->p_holm[i]);
        slm_buf_puts(b, x->faster[i * x->n + p] ? "); measurably faster than the pick: "
                                                  "consider it if latency matters more"
                                                : ")");
    } else if (!x->tie[i]) {
        slm_buf_puts(b, "less accurate than the pick");
    } else {
        why_not_tied(r, x, i, b);
    }
}

/* The requirements line above the table. */
static void requirements_line(const slm_rec *x, slm_buf *b)
{
    slm_buf_puts(b, "### Recommendation\n\nRequirements: ");
    if (requirements(b, x))
        slm_buf_puts(b, " (from the run config).\n\n");
    else
        slm_buf_puts(b, "none set (add `requirements:` to the run config).\n\n");
    slm_buf_printf(b, "A candidate whose accuracy is not significantly below the best's "
                      "(paired McNemar test, Holm p ≥ %.2f) is counted as accurate as the best; "
                      "among those that meet the requirements the pick is the one no other is "
                      "measurably faster than.\n\n", SLM_REC_ALPHA);
}

void slm_recommend_md(slm_store *st, const slm_run_facts *r, slm_buf *b)
{
    if (!r->nc)
        return;
    slm_rec x;
    slm_rec_load(st, r, &x);
    requirements_line(&x, b);
    slm_buf_puts(b, "| candidate | accuracy | p95 ms | ECE | as accurate as the best | "
                    "on the front | meets requirements | why not picked |\n"
                    "|---|---:|---:|---:|---|---|---|---|\n");
    for (size_t i = 0; i < x.n; i++) {
        slm_buf_puts(b, "| ");
        slm_md_cell(b, r->c[i].name);
        slm_buf_puts(b, " | ");
        slm_md_field_val(b, "accuracy", x.acc[i]);
        slm_buf_puts(b, " | ");
        slm_md_field_val(b, "e2e_ms_p95", x.p95[i]);
        slm_buf_puts(b, " | ");
        slm_md_field_val(b, "ece_15", x.ece[i]);
        slm_buf_printf(b, " | %s | %s | %s | ", (long)i == x.top ? "best" : x.tie[i] ? "yes" : "no",
                       x.front[i] ? "yes" : "no", x.meets[i] ? "yes" : "no");
        why_not(r, &x, i, b);
        slm_buf_puts(b, " |\n");
    }
    if (x.n > 1 && x.note[0])
        slm_buf_printf(b, "\n%s\n", x.note);
    slm_rec_free(&x);
}

/* ---- report.json ---- */

static json_t *name_json(const slm_run_facts *r, long i)
{
    return i >= 0 ? slm_json_str(r->c[i].name) : json_null();
}

/* {"requirement": "min_accuracy", "limit": .., "value": .., "short_by": ..} per miss. */
static json_t *misses_json(const slm_rec *x, size_t i)
{
    json_t *a = json_array();
    const char *req[3] = {"min_accuracy", "max_ece", "max_p95_ms"};
    double lim[3] = {x->min_acc, x->max_ece, x->max_p95};
    double val[3] = {x->acc[i], x->ece[i], x->p95[i]};
    for (int k = 0; k < 3; k++) {
        double by = k ? val[k] - lim[k] : lim[k] - val[k];
        if (!(by > 0))
            continue;
        json_t *m = json_object();
        json_object_set_new(m, "requirement", json_string(req[k]));
        json_object_set_new(m, "limit", slm_json_num(lim[k]));
        json_object_set_new(m, "value", slm_json_num(val[k]));
        json_object_set_new(m, "short_by", slm_json_num(by));
        json_array_append_new(a, m);
    }
    return a;
}

static json_t *closest_json(const slm_rec *x, const slm_run_facts *r)
{
    if (x->closest < 0)
        return json_null();
    size_t c = (size_t)x->closest;
    json_t *o = json_object();
    json_object_set_new(o, "candidate", name_json(r, x->closest));
    json_object_set_new(o, "accuracy", slm_json_num(x->acc[c]));
    json_object_set_new(o, "accuracy_lo", slm_json_num(x->acc_lo[c]));
    json_object_set_new(o, "accuracy_hi", slm_json_num(x->acc_hi[c]));
    json_object_set_new(o, "ece", slm_json_num(x->ece[c]));
    json_object_set_new(o, "e2e_ms_p95", slm_json_num(x->p95[c]));
    json_object_set_new(o, "misses", misses_json(x, c));
    return o;
}

/* The candidates as accurate as the best, other than the best. */
static json_t *ties_json(const slm_rec *x, const slm_run_facts *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < x->n; i++)
        if (x->tie[i] && (long)i != x->top) {
            json_t *t = json_object();
            json_object_set_new(t, "candidate", name_json(r, (long)i));
            json_object_set_new(t, "accuracy", slm_json_num(x->acc[i]));
            json_object_set_new(t, "mcnemar_p_holm", slm_json_num(x->p_holm[i]));
            json_object_set_new(t, "measurably_faster_than_best",
                                json_boolean(x->top >= 0 && x->faster[i * x->n + x->top]));
            json_array_append_new(a, t);
        }
    return a;
}

static json_t *warnings_json(const slm_rec *x, const slm_run_facts *r)
{
    json_t *a = json_array();
    for (int w = 0; w < W_N; w++) {
        slm_buf m = {0};
        if (warning(x, r, w, SLM_REC_TEXT, &m)) {
            json_t *o = json_object(), *who = json_array();
            if (w != W_CPUS)
                who_shows(x, r, w, SLM_REC_TEXT, NULL, who);
            json_object_set_new(o, "kind", json_string(warn_kind[w]));
            json_object_set_new(o, "message", slm_json_str(m.data));
            json_object_set_new(o, "candidates", who);
            json_array_append_new(a, o);
        }
        slm_buf_free(&m);
    }
    return a;
}

json_t *slm_recommend_json(slm_store *st, const slm_run_facts *r)
{
    slm_rec x;
    slm_rec_load(st, r, &x);
    json_t *o = json_object(), *req = json_object();
    slm_buf reason = {0};
    if (r->nc)
        slm_rec_sentence(&x, r, SLM_REC_TEXT, &reason);
    json_object_set_new(o, "pick", name_json(r, x.pick));
    json_object_set_new(o, "reason", slm_json_str(reason.data));
    json_object_set_new(o, "best", name_json(r, x.top));
    json_object_set_new(o, "ties", ties_json(&x, r));
    json_object_set_new(o, "closest", closest_json(&x, r));
    json_object_set_new(o, "warnings", warnings_json(&x, r));
    json_object_set_new(req, "min_accuracy", slm_json_num(x.min_acc));
    json_object_set_new(req, "max_ece", slm_json_num(x.max_ece));
    json_object_set_new(req, "max_p95_ms", slm_json_num(x.max_p95));
    json_object_set_new(o, "requirements", req);
    slm_buf_free(&reason);
    slm_rec_free(&x);
    return o;
}

/* ---- the host ---- */

static void host_text(slm_buf *b, const char *s, int fmt)
{
    if (fmt == SLM_REC_MD)
        slm_md_cell(b, s);
    else
        slm_ctl_text(b, s);
}

/* One known key of the host fingerprint as a fact; 0 when k is not one of them. */
static int host_known(slm_buf *b, const char *k, json_t *v, int fmt)
{
    if (!strcmp(k, "cpu") && json_is_string(v))
        host_text(b, json_string_value(v), fmt);
    else if (!strcmp(k, "cpus_online") && json_is_integer(v))
        slm_buf_printf(b, "%lld CPU%s", (long long)json_integer_value(v),
                       json_integer_value(v) == 1 ? "" : "s");
    else if (!strcmp(k, "mem_bytes") && json_is_number(v))
        slm_buf_printf(b, "%.1f GiB memory", json_number_value(v) / 1073741824.0);
    else if (!strcmp(k, "kernel") && json_is_string(v)) {
        slm_buf_puts(b, "Linux ");
        host_text(b, json_string_value(v), fmt);
    } else if (!strcmp(k, "machine") && json_is_string(v))
        host_text(b, json_string_value(v), fmt);
    else if (!strcmp(k, "hostname") && json_is_string(v)) {
        slm_buf_puts(b, "host ");
        host_text(b, json_string_value(v), fmt);
    } else
        return 0;
    return 1;
}

void slm_host_facts(const char *host_json, int fmt, slm_buf *b)
{
    json_t *h = host_json ? json_loads(host_json, 0, NULL) : NULL;
    if (!json_is_object(h)) {
        host_text(b, host_json ? host_json : "–", fmt);
        json_decref(h);
        return;
    }
    static const char *const order[] = {"cpu", "cpus_online", "mem_bytes", "kernel",
                                        "machine", "hostname"};
    int k = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        json_t *v = json_object_get(h, order[i]);
        slm_buf one = {0};
        if (v && host_known(&one, order[i], v, fmt))
            slm_buf_printf(b, "%s%s", k++ ? " · " : "", one.data);
        slm_buf_free(&one);
    }
    const char *key;
    json_t *v;
    json_object_foreach(h, key, v) {
        slm_buf one = {0};
        if (host_known(&one, key, v, fmt)) {
            slm_buf_free(&one);
            continue;
        }
        char *t = json_is_string(v) ? slm_xstrdup(json_string_value(v))
                                    : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        slm_buf_puts(b, k++ ? " · " : "");
        host_text(b, key, fmt);
        slm_buf_puts(b, " ");
        host_text(b, t ? t : "?", fmt);
        free(t);
    }
    if (!k)
        slm_buf_puts(b, "–");
    json_decref(h);
}

void slm_recommend_conditions(slm_store *st, const slm_run_facts *r, slm_buf *b)
{
    slm_rec x;
    slm_rec_init(&x, r->nc);
    load_conditions(st, r, &x);
    double load = NAN, steal = NAN;
    for (size_t i = 0; i < x.n; i++) {
        load = isnan(load) || x.load[i] > load ? x.load[i] : load;
        steal = isnan(steal) || x.steal[i] > steal ? x.steal[i] : steal;
    }
    if (isnan(load))
        slm_buf_puts(b, "load average not recorded");
    else
        slm_buf_printf(b, "load average up to %.2f", load);
    if (x.cpus >= 1)
        slm_buf_printf(b, isnan(load) ? " (%.0f CPUs)" : " on %.0f CPUs", x.cpus);
    slm_buf_puts(b, " · CPU steal ");
    if (isnan(steal))
        slm_buf_puts(b, "not recorded");
    else
        slm_buf_printf(b, "up to %.1f%%", steal);
    if (x.turn > 0)
        slm_buf_printf(b, " · candidates interleaved in turns of %.0f", x.turn);
    else if (x.turn == 0 && x.n > 1)
        slm_buf_puts(b, " · candidates one after another");
    slm_rec_free(&x);
}
