/* gate.c — see gate.h. The Markdown, JUnit and JSON renderings are in reports/gate_report.c. */
#include "gate.h"
#include "aggregate.h"
#include "analysis.h"
#include "fields.h"
#include "gate_load.h"
#include "latcmp.h"
#include "latpairs.h"
#include "load_read.h"
#include "metrics.h"
#include "store_reports.h"
#include "yamltree.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The named thresholds of `absolute:` and the field each bounds. Which side it bounds
 * comes from the field's direction (higher is better: a minimum; lower: a maximum) and
 * whether it is shown as a percentage from the field's format; test_gate.c checks that
 * each key's _min/_max suffix agrees. Any other field can be bounded as <name>_min or
 * <name>_max, on the side its direction allows (slm_gate_threshold_field). */
const slm_gate_alias slm_gate_aliases[] = {
    {"accuracy_min", "accuracy"},     {"macro_f1_min", "macro_f1"},
    {"ece_max", "ece_15"},            {"p95_ms_max", "e2e_ms_p95"},
    {"tokens_per_s_min", "tokens_per_s"}, {"invalid_rate_max", "invalid_rate"},
};
const size_t slm_gate_n_aliases = sizeof slm_gate_aliases / sizeof slm_gate_aliases[0];

const slm_field *slm_gate_threshold_field(const char *key)
{
    for (size_t i = 0; i < slm_gate_n_aliases; i++)
        if (!strcmp(slm_gate_aliases[i].key, key))
            return slm_field_find(slm_gate_aliases[i].field);
    size_t n = strlen(key);
    if (n < 5 || (strcmp(key + n - 4, "_min") && strcmp(key + n - 4, "_max")))
        return NULL;
    char name[128];
    if (n - 4 >= sizeof name)
        return NULL;
    memcpy(name, key, n - 4);
    name[n - 4] = '\0';
    const slm_field *f = slm_field_find(name);
    if (!f || slm_field_is_family(f) || !f->higher_better)
        return NULL;
    /* a minimum only where higher is better, a maximum only where lower is */
    return (f->higher_better > 0) == !strcmp(key + n - 4, "_min") ? f : NULL;
}

/* The outcome of one check: add()'s `state` (0 and 1 read as booleans). */
enum { FAILS = 0, PASSES = 1, NOT_JUDGED = 2 };

static void add(slm_gate_result *r, const char *cand, const char *name, int state,
                const char *fmt, ...) SLM_PRINTF(5, 6);

static void add(slm_gate_result *r, const char *cand, const char *name, int state,
                const char *fmt, ...)
{
    r->checks = slm_xrealloc(r->checks, (r->n + 1) * sizeof *r->checks);
    slm_gate_check *c = &r->checks[r->n++];
    c->candidate = slm_xstrdup(cand);
    c->name = slm_xstrdup(name);
    int passed = state != FAILS;
    c->passed = passed;
    c->judged = state != NOT_JUDGED;
    r->n_skipped += !c->judged;
    slm_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    slm_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    c->detail = slm_buf_take(&b);
    if (!passed)
        r->n_failed++;
}

void slm_gate_result_free(slm_gate_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->checks[i].candidate);
        free(r->checks[i].name);
        free(r->checks[i].detail);
    }
    free(r->checks);
    free(r->baseline_note);
    memset(r, 0, sizeof *r);
}

static double metric_of(slm_store *st, int64_t cid, const char *name)
{
    return slm_store_metric(st, cid, name, NULL, NULL);
}

void slm_gate_absolute(slm_gate_result *r, const char *cand, const char *name, double value,
                       double threshold, int is_min, int as_pct)
{
    if (isnan(threshold))
        return;
    int ok = !isnan(value) && (is_min ? value >= threshold : value <= threshold);
    char v[48], t[48];
    if (isnan(value))
        snprintf(v, sizeof v, "not measured");
    else if (as_pct)
        snprintf(v, sizeof v, "%.2f%%", value * 100);
    else
        snprintf(v, sizeof v, "%.4g", value);
    if (as_pct)
        snprintf(t, sizeof t, "%.2f%%", threshold * 100);
    else
        snprintf(t, sizeof t, "%.4g", threshold);
    add(r, cand, name, ok, "%s %s %s %s", v, is_min ? "≥" : "≤", t,
        ok ? "" : (isnan(value) ? "(no value to check)" : "(violated)"));
}

static int get_num(const slm_yaml *y, const slm_ynode *m, const char *k, double *out, char *err,
                   size_t errlen)
{
    *out = NAN;
    int rc = slm_ymap_double(y, m, k, out, err, errlen);
    return rc < 0 ? -1 : 0;
}

/* One field threshold of the gate file. */
typedef struct gate_bound {
    char *key;
    const slm_field *f;
    double threshold;
} gate_bound;

/* The gate file, read. */
typedef struct gate_cfg {
    slm_yaml *y;
    const slm_ynode *abs_, *base, *want, *class_recall;
    gate_bound *bounds; /* the aliases first (in their order), then <field>_min/_max keys
                           in file order */
    size_t nb;
    double drop_max, alpha, lat_max;
    const char *base_cand;   /* baseline: candidate: the baseline's name; NULL the same name */
    const char *lat_ref;     /* baseline: latency_reference: a candidate of both runs */
    int across_jobs;         /* baseline: latency_across_jobs: true */
    double rate_ratio;       /* baseline: max_rate_at_slo: {min_ratio: R}; NaN none */
} gate_cfg;

static void gate_cfg_free(gate_cfg *g)
{
    for (size_t i = 0; i < g->nb; i++)
        free(g->bounds[i].key);
    free(g->bounds);
    slm_yaml_free(g->y);
}

/* Every key `absolute:` may hold, for slm_ymap_check_keys (caller frees the array). */
static const char **absolute_keys(void)
{
    size_t n = 0;
    const char **k = slm_xcalloc(slm_gate_n_aliases + 2 * slm_n_fields + 2, sizeof *k);
    for (size_t i = 0; i < slm_gate_n_aliases; i++)
        k[n++] = slm_gate_aliases[i].key;
    k[n++] = "class_recall_min";
    return k;
}

/* 1 when key is allowed in `absolute:`. */
static int absolute_key_ok(const char *key)
{
    return !strcmp(key, "class_recall_min") || slm_gate_threshold_field(key);
}

static int add_bound(gate_cfg *g, const char *key, char *err, size_t errlen)
{
    double t;
    if (get_num(g->y, g->abs_, key, &t, err, errlen))
        return -1;
    g->bounds = slm_xrealloc(g->bounds, (g->nb + 1) * sizeof *g->bounds);
    g->bounds[g->nb++] = (gate_bound){slm_xstrdup(key), slm_gate_threshold_field(key), t};
    return 0;
}

/* Reads and checks the gate file: keys, thresholds, baseline settings. */
static int gate_parse(const char *gate_path, gate_cfg *g, char *err, size_t errlen)
{
    static const char *const keys[] = {"run", "candidates", "absolute", "baseline", "name", NULL};
    static const char *const bkeys[] = {"ref", "candidate", "accuracy_drop_max_points", "alpha",
                                        "latency_increase_max_pct", "latency_reference",
                                        "latency_across_jobs", "max_rate_at_slo", NULL};
    memset(g, 0, sizeof *g);
    if (slm_yaml_load(gate_path, &g->y, err, errlen))
        return -1;
    const slm_ynode *r = g->y->root;
    if (!r || r->kind != SLM_Y_MAP)
        return slm_err(err, errlen, "%s: expected a mapping with absolute: and/or baseline:",
                       gate_path);
    g->abs_ = slm_ymap_get(r, "absolute");
    g->base = slm_ymap_get(r, "baseline");
    g->want = slm_ymap_get(r, "candidates");
    if (slm_ymap_check_keys(g->y, r, keys, "the gate file", err, errlen) ||
        slm_ymap_check_keys(g->y, g->base, bkeys, "baseline", err, errlen))
        return -1;
    if (g->abs_ && g->abs_->kind == SLM_Y_MAP)
        for (size_t i = 0; i < g->abs_->n; i++)
            if (!absolute_key_ok(g->abs_->keys[i])) {
                const char **k = absolute_keys(); /* the message of an unknown key */
                int rc = slm_ymap_check_keys(g->y, g->abs_, k, "absolute", err, errlen);
                free(k);
                return rc ? rc : -1;
            }
    if ((g->abs_ && g->abs_->kind != SLM_Y_MAP) || (g->base && g->base->kind != SLM_Y_MAP))
        return slm_err(err, errlen, "%s: 'absolute' and 'baseline' must be mappings", gate_path);
    for (size_t i = 0; i < slm_gate_n_aliases; i++)
        if (add_bound(g, slm_gate_aliases[i].key, err, errlen))
            return -1;
    for (size_t i = 0; g->abs_ && i < g->abs_->n; i++) {
        const char *k = g->abs_->keys[i];
        int alias = 0;
        for (size_t a = 0; a < slm_gate_n_aliases; a++)
            alias |= !strcmp(slm_gate_aliases[a].key, k);
        if (!alias && strcmp(k, "class_recall_min") && add_bound(g, k, err, errlen))
            return -1;
    }
    g->class_recall = slm_ymap_get(g->abs_, "class_recall_min");
    if (get_num(g->y, g->base, "accuracy_drop_max_points", &g->drop_max, err, errlen) ||
        get_num(g->y, g->base, "alpha", &g->alpha, err, errlen) ||
        get_num(g->y, g->base, "latency_increase_max_pct", &g->lat_max, err, errlen))
        return -1;
    if (isnan(g->alpha))
        g->alpha = 0.05;
    if (!(g->alpha > 0 && g->alpha < 0.5))
        return slm_err(err, errlen, "%s: baseline alpha must lie in (0, 0.5)", gate_path);
    g->base_cand = slm_ymap_str(g->base, "candidate");
    g->lat_ref = slm_ymap_str(g->base, "latency_reference");
    if (slm_ymap_bool(g->y, g->base, "latency_across_jobs", &g->across_jobs, err, errlen) < 0)
        return -1;
    return slm_gate_load_parse(g->y, g->base, &g->rate_ratio, err, errlen);
}

/* 1 when ref names a run that may simply not exist yet: a tag or run name (not 'last', not
 * a run id) that slm_store_resolve_run() did not find (its message says "no run '...'";
 * any other failure is the database's). */
static int ref_not_yet(const char *ref, const char *resolve_err)
{
    long num;
    return strcmp(ref, "last") && slm_parse_long(ref, &num) != 0 &&
           strstr(resolve_err, ": no run '") != NULL;
}

/* Resolves the baseline ref into res->baseline_id; a ref naming no run yet, or the gated
 * run itself, leaves it 0 with res->baseline_note saying why (an error with
 * require_baseline). Returns an SLM_GATE_* code. */
static int gate_baseline(slm_store *st, const gate_cfg *g, const char *bref,
                         const slm_gate_opts *o, slm_gate_result *res, char *err,
                         size_t errlen)
{
    char e2[SLM_ERRLEN];
    slm_buf note = {0};
    if (slm_store_resolve_run(st, bref, &res->baseline_id, e2, sizeof e2)) {
        res->baseline_id = 0;
        if (o->require_baseline || !ref_not_yet(bref, e2)) {
            slm_err(err, errlen, "%s%s", e2, o->require_baseline && ref_not_yet(bref, e2)
                    ? " (--require-baseline: a gate needs its baseline)" : "");
            return SLM_GATE_INVALID;
        }
        slm_buf_printf(&note, "no run tagged '%s' yet: tag one on your main branch with "
                       "slmbench tag last %s", bref, bref);
    } else if (res->baseline_id == res->run_id && !g->base_cand) {
        if (o->require_baseline) {
            slm_err(err, errlen, "baseline '%s' is the gated run itself (run %lld; "
                    "--require-baseline)", bref, (long long)res->run_id);
            return SLM_GATE_INVALID;
        }
        res->baseline_id = 0;
        slm_buf_printf(&note, "baseline '%s' is the gated run itself (run %lld): nothing to "
                       "compare with", bref, (long long)res->run_id);
    }
    res->baseline_note = note.len ? slm_buf_take(&note) : NULL;
    slm_buf_free(&note);
    return SLM_GATE_PASS;
}

/* The gated run and baseline: resolved, complete, and on the same data and prompt unless
 * allow_different. Returns an SLM_GATE_* code (PASS when all is well). */
static int gate_runs(slm_store *st, const gate_cfg *g, const slm_gate_opts *o,
                     slm_gate_result *res, char *err, size_t errlen)
{
    const slm_ynode *r = g->y->root;
    const char *ref = o->run_ref ? o->run_ref
                      : slm_ymap_str(r, "run") ? slm_ymap_str(r, "run") : "last";
    if (slm_store_resolve_run(st, ref, &res->run_id, err, errlen))
        return SLM_GATE_INVALID;
    const char *bref = o->baseline_ref ? o->baseline_ref : slm_ymap_str(g->base, "ref");
    int rc;
    if (bref && (rc = gate_baseline(st, g, bref, o, res, err, errlen)))
        return rc;
    if (!bref && g->base_cand)
        res->baseline_id = res->run_id; /* the baseline model ran in the same job */
    char *status = NULL;
    if (slm_store_run_status(st, res->run_id, &status, err, errlen))
        return SLM_GATE_ERROR;
    int complete = status && !strcmp(status, "complete");
    free(status);
    if (!complete) {
        slm_err(err, errlen, "run %lld is not complete; a gate judges complete runs only",
                (long long)res->run_id);
        return SLM_GATE_ERROR;
    }
    int one_run = res->baseline_id == res->run_id;
    for (int k = 0; res->baseline_id && !one_run && !o->allow_different && k < 2; k++) {
        char *a = slm_store_run_hash(st, res->run_id, k);
        char *b = slm_store_run_hash(st, res->baseline_id, k);
        int same = a && b && !strcmp(a, b);
        free(a);
        free(b);
        if (!same) {
            slm_err(err, errlen, "run %lld and baseline %lld differ in their %s; the "
                    "comparison is invalid (--allow-different to compare anyway)",
                    (long long)res->run_id, (long long)res->baseline_id,
                    k ? "prompt (template hash)" : "eval set data (hash)");
            return SLM_GATE_INVALID;
        }
    }
    return SLM_GATE_PASS;
}

/* 1 when the candidate called name is to be gated: --candidate, else the file's
 * `candidates`, else every one. */
static int gate_wants(const gate_cfg *g, const char *only, const char *name)
{
    if (only)
        return !strcmp(only, name);
    int take = !g->want;
    for (size_t k = 0; g->want && g->want->kind == SLM_Y_SEQ && k < g->want->n; k++)
        take |= g->want->items[k]->kind == SLM_Y_SCALAR &&
                !strcmp(g->want->items[k]->scalar, name);
    return take;
}

/* The candidates to gate (gate_wants), in config order. */
static int gate_candidates(slm_store *st, const gate_cfg *g, const char *only, int64_t run_id,
                           slm_cand **out, size_t *n, char *err, size_t errlen)
{
    slm_cand *c;
    size_t nc;
    if (slm_store_candidates(st, run_id, &c, &nc, err, errlen))
        return SLM_GATE_ERROR;
    slm_buf names = {0}; /* for the message when none is left */
    *n = 0;
    for (size_t i = 0; i < nc; i++) {
        slm_buf_printf(&names, "%s%s", i ? ", " : "", c[i].name);
        if (gate_wants(g, only, c[i].name)) {
            slm_cand t = c[i];
            c[i] = c[*n];
            c[(*n)++] = t;
        }
    }
    for (size_t i = *n; i < nc; i++) /* the candidates left out */
        free(c[i].name), free(c[i].engine), free(c[i].status);
    *out = c;
    if (*n) {
        slm_buf_free(&names);
        return SLM_GATE_PASS;
    }
    free(c);
    *out = NULL;
    if (only)
        slm_err(err, errlen, "run %lld has no candidate '%s' (it has: %s)", (long long)run_id,
                only, names.len ? names.data : "none");
    else
        slm_err(err, errlen, "run %lld has no candidate to gate%s", (long long)run_id,
                g->want ? " (none of the gate's 'candidates')" : "");
    slm_buf_free(&names);
    return SLM_GATE_INVALID;
}

/* The recall of label for a candidate; NaN when the label has no gold examples. */
static double class_recall(const slm_class_stat *rows, size_t n, const char *label)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].label, label))
            return rows[i].support > 0 ? rows[i].recall : NAN;
    return NAN;
}

/* A label without gold examples in the run has no recall (0/0): its check is not judged —
 * it neither fails nor passes silently; the detail says why. */
static void class_recall_check(slm_gate_result *res, const char *cn, const char *name,
                               double recall, double t)
{
    if (!isnan(recall)) {
        slm_gate_absolute(res, cn, name, recall, t, 1, 1);
        return;
    }
    add(res, cn, name, NOT_JUDGED,
        "not judged: no gold example of this label in the run (recall undefined), threshold "
        "%.2f%%", t * 100);
}

/* Absolute checks of one candidate: the field thresholds, then per-class recall. */
static void gate_absolute_checks(slm_store *st, const gate_cfg *g, int64_t cid,
                                 const char *cn, char *const *labels, size_t nl,
                                 slm_gate_result *res)
{
    for (size_t i = 0; i < g->nb; i++) {
        const slm_field *f = g->bounds[i].f;
        slm_gate_absolute(res, cn, g->bounds[i].key, metric_of(st, cid, f->name),
                          g->bounds[i].threshold, f->higher_better > 0,
                          f->fmt == SLM_FMT_PCT);
    }
    const slm_ynode *cr = g->class_recall;
    if (!cr)
        return;
    slm_class_stat *rows = NULL;
    size_t nr = 0;
    if (slm_store_classes(st, cid, SLM_CLASSES_STORED, &rows, &nr, NULL, 0))
        nr = 0;
    for (size_t k = 0; k < nl; k++) {
        double t = NAN;
        if (cr->kind == SLM_Y_SCALAR)
            slm_parse_double(cr->scalar, &t);
        else if (cr->kind == SLM_Y_MAP && slm_ymap_str(cr, labels[k]))
            slm_parse_double(slm_ymap_str(cr, labels[k]), &t);
        if (isnan(t))
            continue;
        char nm[256];
        snprintf(nm, sizeof nm, "class_recall_min[%s]", labels[k]);
        class_recall_check(res, cn, nm, class_recall(rows, nr, labels[k]), t);
    }
    slm_class_rows_free(rows, nr);
}

/* Accuracy drop against the baseline candidate: too large AND significant fails. */
static void gate_accuracy_drop(slm_store *st, const gate_cfg *g, int64_t cid, int64_t bid,
                               const char *cn, char *const *labels, size_t nl,
                               slm_gate_result *res)
{
    slm_paired pr;
    char e2[SLM_ERRLEN];
    if (slm_paired_compare(st, cid, bid, (const char *const *)labels, nl, 0, 1, &pr, e2,
                           sizeof e2)) {
        add(res, cn, "accuracy_drop", 0, "cannot pair with the baseline: %s", e2);
        return;
    }
    double drop = -pr.acc_diff * 100.0;
    int big = drop > g->drop_max, sig = pr.mcnemar_p < g->alpha;
    /* what a drop would have needed to be significant at this n and b + c (McNemar
     * conditions on b + c): "not significant" says how much it could have seen */
    char needed[160] = "";
    if (big && !sig) {
        double need = slm_mcnemar_needed_pt((long)pr.n, pr.b + pr.c, g->alpha);
        if (isinf(need))
            snprintf(needed, sizeof needed, " — larger than allowed but not significant at "
                     "n = %zu: with b + c = %ld no drop could be", pr.n, pr.b + pr.c);
        else
            snprintf(needed, sizeof needed, " — larger than allowed but not significant at "
                     "n = %zu (a drop of %.1f points would be needed)", pr.n, need);
    }
    add(res, cn, "accuracy_drop", !(big && sig),
        "accuracy %.2f%% vs baseline %.2f%%: drop %.2f pt (allowed %.2f pt); McNemar "
        "p = %.4g (%s, b=%ld, c=%ld, n=%zu) %s α = %.3g%s",
        pr.acc_a * 100, pr.acc_b * 100, drop, g->drop_max, pr.mcnemar_p,
        pr.mcnemar_exact ? "exact" : "chi-square", pr.b, pr.c, pr.n, sig ? "<" : "≥", g->alpha,
        big && sig ? " — a real regression" : needed);
}

/* ---- latency: like with like ---- */

/* The verdict on a latency ratio and its interval at level 1 − 2α: a one-sided test of
 * "no slower than allowed" at α. Fails when the whole interval lies above 1 + allowed (a
 * real slowdown, wrongly declared with probability at most α), passes when it lies at or
 * below, and is not judged when it straddles the allowance: the measurement is too noisy
 * (or too short) to say. */
static void judge_ratio(slm_gate_result *res, const gate_cfg *g, const char *cn,
                        const slm_lat_ratio *q, const char *how)
{
    double allow = 1.0 + g->lat_max / 100.0;
    if (isnan(q->lo)) {
        add(res, cn, "latency_increase", NOT_JUDGED,
            "not judged: %s; %zu turns of paired examples, too few for an interval (6 at "
            "least)", how, q->n_blocks);
        return;
    }
    int state = q->lo > allow ? FAILS : q->hi <= allow ? PASSES : NOT_JUDGED;
    add(res, cn, "latency_increase", state,
        "%s%s: latency ratio %.3f, %.0f%% interval [%.3f, %.3f] (sign test over %zu turns, "
        "%zu paired examples); allowed +%.1f%%%s",
        state == NOT_JUDGED ? "not judged: " : "", how, q->ratio, q->level * 100, q->lo, q->hi,
        q->n_blocks, q->n_pairs, g->lat_max,
        state == FAILS    ? " — a real slowdown"
        : state == PASSES ? ""
                          : " — the interval straddles the allowance: too noisy or too few "
                            "examples to decide");
}

/* Across jobs, on request (latency_across_jobs: true): the p95 of two runs measured at
 * different times, judged only where neither ran in conditions that make it meaningless;
 * too large AND beyond the spread measured by repeats fails. */
static void latency_across_jobs(slm_store *st, const gate_cfg *g, int64_t cid, int64_t bid,
                                const char *cn, slm_gate_result *res)
{
    double p_new = metric_of(st, cid, "e2e_ms_p95"), p_old = metric_of(st, bid, "e2e_ms_p95");
    char why[160];
    if (slm_cand_unquiet(st, cid, "the run", why, sizeof why) ||
        slm_cand_unquiet(st, bid, "the baseline", why, sizeof why)) {
        add(res, cn, "latency_increase", NOT_JUDGED,
            "not judged: p95 %.4g ms vs baseline %.4g ms, measured in different jobs and %s",
            p_new, p_old, why);
        return;
    }
    double cv_new = metric_of(st, cid, "repeat_cv"), cv_old = metric_of(st, bid, "repeat_cv");
    double inc = (p_new / p_old - 1.0) * 100.0;
    /* the spread measured by repeats: twice the larger median CV, as a percentage */
    double spread = NAN;
    if (!isnan(cv_new) || !isnan(cv_old))
        spread = 200.0 * fmax(isnan(cv_new) ? 0 : cv_new, isnan(cv_old) ? 0 : cv_old);
    int big = inc > g->lat_max, beyond = isnan(spread) || inc > spread;
    char sp[96];
    if (isnan(spread))
        snprintf(sp, sizeof sp, "unknown (no repeats: the threshold alone decides)");
    else
        snprintf(sp, sizeof sp, "±%.1f%%", spread);
    add(res, cn, "latency_increase", !(big && beyond),
        "p95 %.4g ms vs baseline %.4g ms, measured in different jobs: %+.1f%% (allowed "
        "%.1f%%); repeat spread %s%s",
        p_new, p_old, inc, g->lat_max, sp,
        big && beyond ? " — a real slowdown"
        : big         ? " — but within the spread measured by repeats"
                      : "");
}

/* Normalised by a reference candidate run in both jobs: how much slower the candidate
 * became relative to the reference, turn by turn on the same examples. */
static void latency_normalised(slm_store *st, const gate_cfg *g, int64_t run_id,
                               int64_t base_id, int64_t cid, int64_t bid, const char *cn,
                               slm_gate_result *res)
{
    int64_t r1, r2;
    size_t t1 = slm_cand_turn(st, cid), t2 = slm_cand_turn(st, bid);
    if (slm_store_candidate_id(st, run_id, g->lat_ref, &r1, NULL, 0) != 0 ||
        slm_store_candidate_id(st, base_id, g->lat_ref, &r2, NULL, 0) != 0) {
        add(res, cn, "latency_increase", NOT_JUDGED,
            "not judged: the latency reference '%s' did not run in both the run and the "
            "baseline", g->lat_ref);
        return;
    }
    if (!t1 || !t2) {
        add(res, cn, "latency_increase", NOT_JUDGED,
            "not judged: the %s did not interleave its candidates (interleave), so '%s' "
            "was not measured alongside '%s'", t1 ? "baseline" : "run", g->lat_ref, cn);
        return;
    }
    double *v[4] = {NULL, NULL, NULL, NULL};
    size_t n[4] = {0, 0, 0, 0};
    int64_t ids[4] = {cid, r1, bid, r2};
    int bad = 0;
    for (int k = 0; k < 4; k++)
        bad |= slm_cand_latencies(st, ids[k], &v[k], &n[k]);
    size_t m = n[0];
    for (int k = 1; k < 4; k++)
        m = n[k] < m ? n[k] : m;
    if (!bad) {
        slm_lat_ratio q;
        slm_lat_ratio_normalised(v[0], v[1], v[2], v[3], m, t1 > t2 ? t1 : t2,
                                 1.0 - 2.0 * g->alpha, &q);
        char how[192];
        snprintf(how, sizeof how, "relative to '%s' measured alongside in both jobs",
                 g->lat_ref);
        judge_ratio(res, g, cn, &q, how);
    } else {
        add(res, cn, "latency_increase", FAILS, "cannot read the latencies");
    }
    for (int k = 0; k < 4; k++)
        free(v[k]);
}

/* In the same job: the candidate against the baseline model, turn by turn. */
static void latency_same_job(slm_store *st, const gate_cfg *g, int64_t cid, int64_t bid,
                             const char *cn, const char *bn, slm_gate_result *res)
{
    size_t turn = slm_cand_turn(st, cid);
    char why[160], how[192];
    if (!turn && slm_cand_unquiet(st, cid, "the run", why, sizeof why)) {
        add(res, cn, "latency_increase", NOT_JUDGED,
            "not judged: '%s' and '%s' ran one after another (not interleaved) and %s", cn,
            bn, why);
        return;
    }
    double *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    if (slm_cand_latencies(st, cid, &a, &na) || slm_cand_latencies(st, bid, &b, &nb)) {
        add(res, cn, "latency_increase", FAILS, "cannot read the latencies");
    } else {
        slm_lat_ratio q;
        slm_lat_ratio_paired(a, b, na < nb ? na : nb, turn ? turn : 4, 1.0 - 2.0 * g->alpha,
                             &q);
        snprintf(how, sizeof how, "against '%s' in the same job, %s", bn,
                 turn ? "interleaved" : "one after another on a quiet machine");
        judge_ratio(res, g, cn, &q, how);
    }
    free(a);
    free(b);
}

/* The latency check against the baseline, comparing like with like (gate.h). */
static void gate_latency_increase(slm_store *st, const gate_cfg *g, int64_t cid, int64_t bid,
                                  const char *cn, const char *bn, slm_gate_result *res)
{
    double p_new = metric_of(st, cid, "e2e_ms_p95"), p_old = metric_of(st, bid, "e2e_ms_p95");
    if (!(p_old > 0) || !(p_new >= 0)) {
        /* no latency to judge: said, never a silent pass */
        add(res, cn, "latency_increase", NOT_JUDGED,
            "not judged: p95 %.4g ms vs baseline %.4g ms (%s)", p_new, p_old,
            !(p_new >= 0) ? "the run has no p95" : "the baseline has no p95 above 0");
        return;
    }
    if (res->baseline_id == res->run_id)
        latency_same_job(st, g, cid, bid, cn, bn, res);
    else if (g->lat_ref)
        latency_normalised(st, g, res->run_id, res->baseline_id, cid, bid, cn, res);
    else if (g->across_jobs)
        latency_across_jobs(st, g, cid, bid, cn, res);
    else
        add(res, cn, "latency_increase", NOT_JUDGED,
            "not judged: p95 %.4g ms vs baseline %.4g ms were measured in different jobs, "
            "where the machine's load alone moves latency; run the baseline model in the "
            "same job (baseline: candidate:) or a reference candidate in both "
            "(latency_reference:)", p_new, p_old);
}

/* Relative checks of one candidate against the baseline candidate: the same name in the
 * baseline run, or `candidate:` (in the gated run itself when there is no `ref`). */
static void gate_relative_checks(slm_store *st, const gate_cfg *g, int64_t cid, const char *cn,
                                 char *const *labels, size_t nl, slm_gate_result *res)
{
    int64_t bid;
    const char *bn = g->base_cand ? g->base_cand : cn;
    if (res->baseline_id == res->run_id && !strcmp(bn, cn))
        return; /* the baseline itself */
    if (slm_store_candidate_id(st, res->baseline_id, bn, &bid, NULL, 0) != 0) {
        add(res, cn, "baseline", NOT_JUDGED,
            "no candidate '%s' in baseline run %lld: relative checks skipped", bn,
            (long long)res->baseline_id);
        return;
    }
    if (!isnan(g->drop_max))
        gate_accuracy_drop(st, g, cid, bid, cn, labels, nl, res);
    if (!isnan(g->lat_max) && !(g->lat_ref && !strcmp(g->lat_ref, cn)))
        gate_latency_increase(st, g, cid, bid, cn, bn, res);
}

/* ---- load tests: the highest rate at the SLO (gate_load.h) ---- */

/* The gated load test and its baseline's, read for max_rate_at_slo (both empty when the
 * gate has no such key). Both must be load tests: SLM_GATE_INVALID otherwise, with err. */
static int gate_load_read(slm_store *st, const gate_cfg *g, const slm_gate_result *res,
                          slm_load_data *run, slm_load_data *base, char *err, size_t errlen)
{
    memset(run, 0, sizeof *run);
    memset(base, 0, sizeof *base);
    if (isnan(g->rate_ratio))
        return SLM_GATE_PASS;
    if (!res->baseline_id) {
        slm_err(err, errlen, "max_rate_at_slo compares with a baseline load test: give one "
                "(baseline: ref: or --baseline)");
        return SLM_GATE_INVALID;
    }
    const int64_t ids[2] = {res->run_id, res->baseline_id};
    slm_load_data *d[2] = {run, base};
    for (int k = 0; k < 2; k++) {
        char e2[SLM_ERRLEN];
        int rc = slm_load_read(st, ids[k], d[k], e2, sizeof e2);
        if (rc) {
            slm_err(err, errlen, "max_rate_at_slo judges load tests: %s%s", e2,
                    k ? " (the baseline)" : "");
            return rc == SLM_LOAD_READ_NOT_LOAD ? SLM_GATE_INVALID : SLM_GATE_ERROR;
        }
    }
    return SLM_GATE_PASS;
}

/* The candidate called name in d, or NULL. */
static const slm_load_report_cand *load_cand(const slm_load_data *d, const char *name)
{
    for (size_t i = 0; i < d->report.n_cands; i++)
        if (!strcmp(d->report.cands[i].name, name))
            return &d->report.cands[i];
    return NULL;
}

/* 1 when the two SLOs are the same limits at the same percentile (NaN equal to NaN). */
static int same_slo(const slm_slo *a, const slm_slo *b)
{
    const double x[5] = {a->ttft_ms, a->itl_ms, a->tpot_ms, a->e2e_ms, a->percentile};
    const double y[5] = {b->ttft_ms, b->itl_ms, b->tpot_ms, b->e2e_ms, b->percentile};
    for (int k = 0; k < 5; k++)
        if (!(x[k] == y[k] || (isnan(x[k]) && isnan(y[k]))))
            return 0;
    return 1;
}

/* max_rate_at_slo of candidate cn against the baseline's candidate (the same name, or
 * `candidate:`), judged by slm_gate_load_judge() on both best rates. */
static void gate_load_rate(const gate_cfg *g, const slm_load_data *run,
                           const slm_load_data *base, const char *cn, slm_gate_result *res)
{
    const char *bn = g->base_cand ? g->base_cand : cn;
    if (res->baseline_id == res->run_id && !strcmp(bn, cn))
        return; /* the baseline itself */
    const slm_load_report_cand *c = load_cand(run, cn), *b = load_cand(base, bn);
    if (!c || !b) {
        add(res, cn, "max_rate_at_slo", NOT_JUDGED, "not judged: no candidate '%s' in %s "
            "load test %lld", c ? bn : cn, c ? "the baseline" : "the gated",
            (long long)(c ? res->baseline_id : res->run_id));
        return;
    }
    if (!same_slo(&run->report.slo, &base->report.slo)) {
        add(res, cn, "max_rate_at_slo", NOT_JUDGED, "not judged: load tests %lld and %lld "
            "were judged against different SLOs (limits or percentile), so their best rates "
            "do not compare", (long long)res->run_id, (long long)res->baseline_id);
        return;
    }
    char detail[512];
    int state = slm_gate_load_judge(&c->best, &b->best, g->rate_ratio, detail, sizeof detail);
    add(res, cn, "max_rate_at_slo", state == SLM_GATE_RATE_FAILS    ? FAILS
                                    : state == SLM_GATE_RATE_PASSES ? PASSES
                                                                    : NOT_JUDGED,
        "%s", detail);
}

/* Every relative check the gate file sets, for one candidate, as not judged with the
 * reason there is no baseline to compare with (res->baseline_note). */
static void gate_relative_not_judged(const gate_cfg *g, const char *cn, slm_gate_result *res)
{
    const char *why = res->baseline_note;
    if (!isnan(g->drop_max))
        add(res, cn, "accuracy_drop", NOT_JUDGED, "not judged: %s", why);
    if (!isnan(g->lat_max) && !(g->lat_ref && !strcmp(g->lat_ref, cn)))
        add(res, cn, "latency_increase", NOT_JUDGED, "not judged: %s", why);
    if (!isnan(g->rate_ratio))
        add(res, cn, "max_rate_at_slo", NOT_JUDGED, "not judged: %s", why);
}

int slm_gate_eval_opts(slm_store *st, const char *gate_path, const slm_gate_opts *o,
                       slm_gate_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    gate_cfg g;
    char **labels = NULL;
    size_t nl = 0, nc = 0;
    slm_cand *c = NULL;
    slm_load_data lrun, lbase;
    memset(&lrun, 0, sizeof lrun);
    memset(&lbase, 0, sizeof lbase);
    int rc = SLM_GATE_INVALID;
    if (gate_parse(gate_path, &g, err, errlen))
        goto out;
    if ((rc = gate_runs(st, &g, o, res, err, errlen)))
        goto out;
    if (slm_run_labels(st, res->run_id, &labels, &nl, err, errlen)) {
        rc = SLM_GATE_ERROR;
        goto out;
    }
    if ((rc = gate_candidates(st, &g, o->candidate, res->run_id, &c, &nc, err, errlen)) ||
        (!res->baseline_note &&
         (rc = gate_load_read(st, &g, res, &lrun, &lbase, err, errlen))))
        goto out;
    for (size_t i = 0; i < nc; i++) {
        gate_absolute_checks(st, &g, c[i].id, c[i].name, labels, nl, res);
        if (res->baseline_note)
            gate_relative_not_judged(&g, c[i].name, res);
        if (res->baseline_id)
            gate_relative_checks(st, &g, c[i].id, c[i].name, labels, nl, res);
        if (!isnan(g.rate_ratio) && !res->baseline_note)
            gate_load_rate(&g, &lrun, &lbase, c[i].name, res);
    }
    rc = res->n_failed ? SLM_GATE_FAIL : SLM_GATE_PASS;
out:
    slm_load_data_free(&lrun);
    slm_load_data_free(&lbase);
    slm_cands_free(c, nc);
    slm_free_strv(labels, nl);
    gate_cfg_free(&g);
    return rc;
}

int slm_gate_eval(slm_store *st, const char *gate_path, const char *run_ref,
                  const char *baseline_ref, int allow_different, slm_gate_result *res,
                  char *err, size_t errlen)
{
    const slm_gate_opts o = {run_ref, baseline_ref, NULL, allow_different, 0};
    return slm_gate_eval_opts(st, gate_path, &o, res, err, errlen);
}
