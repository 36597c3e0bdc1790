/* aggregate.c — see aggregate.h. One pass over a candidate's predictions (read through
 * store_read.h) gathers the class indices and the timings; named steps then turn them
 * into metrics, per-class rows and the confusion matrix. */
#include "aggregate.h"
#include "analysis.h"
#include "evalset.h"
#include "metrics.h"
#include "structured.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct dvec {
    double *v;
    size_t n, cap;
} dvec;

static void dpush(dvec *d, double x)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        d->v = slm_xrealloc(d->v, d->cap * sizeof *d->v);
    }
    d->v[d->n++] = x;
}

/* Where the metrics of one candidate go. */
typedef struct sink {
    slm_store *st;
    int64_t run_id, cid;
    char *err;
    size_t errlen;
} sink;

static int put(const sink *k, const char *name, double v, long n)
{
    return slm_store_put_metric(k->st, k->run_id, k->cid, name, v, NAN, NAN, n, k->err,
                                k->errlen);
}

/* What one pass over a candidate's predictions gathers. */
typedef struct agg {
    const char *const *labels;
    size_t n_labels;
    int json_task;
    size_t n;
    int *gold, *pred;       /* label indices; pred beyond the labels: an extra class */
    char **extra;           /* predicted strings outside the label set, "<error>" */
    size_t n_extra;
    long n_invalid, n_errors;
    dvec e2e, pre, dec, ttft, tpot, ptok, otok;
    double sum_e2e, sum_pre, sum_ptok_pre, sum_tok;
    double sum_dec, sum_dec_tok; /* decode time and tokens after the first */
} agg;

static void agg_free(agg *a)
{
    free(a->gold);
    free(a->pred);
    slm_free_strv(a->extra, a->n_extra);
    dvec *d[] = {&a->e2e, &a->pre, &a->dec, &a->ttft, &a->tpot, &a->ptok, &a->otok};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        free(d[i]->v);
}

/* The class of a prediction outside the label set: one extra class per distinct string,
 * engine errors together as "<error>". */
static int extra_class(agg *a, const char *key)
{
    size_t k = 0;
    while (k < a->n_extra && strcmp(a->extra[k], key))
        k++;
    if (k == a->n_extra) {
        a->extra = slm_xrealloc(a->extra, (a->n_extra + 1) * sizeof *a->extra);
        a->extra[a->n_extra++] = slm_xstrdup(key);
    }
    return (int)(a->n_labels + k);
}

/* Gold and predicted class of example i. JSON answers are right or wrong as a whole here
 * (class 0 or 1); their fields are scored by structured_metrics. */
static int classify(agg *a, const slm_pred *p, size_t i, int64_t run_id, char *err,
                    size_t errlen)
{
    if (a->json_task) {
        a->gold[i] = 0;
        a->pred[i] = p->correct ? 0 : 1;
        if (p->error)
            a->n_errors++;
        else if (!p->valid)
            a->n_invalid++;
        return 0;
    }
    int gi = slm_label_index(a->labels, a->n_labels, p->gold ? p->gold : "");
    if (gi < 0)
        return slm_err(err, errlen, "run %lld: gold label '%s' is not in the run's label set",
                       (long long)run_id, p->gold ? p->gold : "");
    int pi = p->pred ? slm_label_index(a->labels, a->n_labels, p->pred) : -1;
    if (pi < 0) {
        /* an invalid output, or an engine error: a class of its own */
        if (p->pred)
            a->n_invalid++;
        else
            a->n_errors++;
        pi = extra_class(a, p->pred ? p->pred : "<error>");
    }
    a->gold[i] = gi;
    a->pred[i] = pi;
    return 0;
}

static void add_timings(agg *a, const slm_pred *p)
{
    double pt = p->n_prompt_tokens, ot = p->n_output_tokens;
    if (!isnan(p->e2e_ms)) {
        dpush(&a->e2e, p->e2e_ms);
        a->sum_e2e += p->e2e_ms;
    }
    if (!isnan(p->prefill_ms)) {
        dpush(&a->pre, p->prefill_ms);
        if (!isnan(pt)) {
            a->sum_pre += p->prefill_ms;
            a->sum_ptok_pre += pt;
        }
    }
    if (!isnan(p->decode_ms)) {
        dpush(&a->dec, p->decode_ms);
        if (!isnan(ot) && ot >= 2) {
            a->sum_dec += p->decode_ms;
            a->sum_dec_tok += ot - 1;
        }
    }
    if (!isnan(p->ttft_ms))
        dpush(&a->ttft, p->ttft_ms);
    if (!isnan(p->tpot_ms))
        dpush(&a->tpot, p->tpot_ms);
    if (!isnan(pt))
        dpush(&a->ptok, pt);
    if (!isnan(ot))
        dpush(&a->otok, ot);
    a->sum_tok += (isnan(pt) ? 0 : pt) + (isnan(ot) ? 0 : ot);
}

static int gather(agg *a, const slm_pred *p, size_t n, int64_t run_id, char *err,
                  size_t errlen)
{
    a->gold = slm_xcalloc(n ? n : 1, sizeof *a->gold);
    a->pred = slm_xcalloc(n ? n : 1, sizeof *a->pred);
    for (size_t i = 0; i < n; i++) {
        if (classify(a, &p[i], i, run_id, err, errlen))
            return -1;
        add_timings(a, &p[i]);
    }
    a->n = n;
    return 0;
}

/* Field-level scores of a JSON task: per field, the share of examples whose field equals
 * the label's; for extraction also precision/recall/F1 over non-null fields (a predicted
 * value is a positive, right when it equals a non-null gold value); failure kind counts. */
typedef struct field_counts {
    long eq, tp, np, ng;
} field_counts;

static void count_fields(json_t *fields, const slm_pred *p, field_counts *fc, long kinds[7])
{
    const char *pr = p->pred && *p->pred ? p->pred : NULL;
    json_t *gj = p->gold ? json_loads(p->gold, 0, NULL) : NULL;
    json_t *pj = pr ? json_loads(pr, 0, NULL) : NULL;
    for (size_t i = 0; i < json_array_size(fields); i++) {
        const char *name = json_string_value(json_object_get(json_array_get(fields, i), "name"));
        json_t *gv = json_object_get(gj, name), *pv = json_object_get(pj, name);
        int same = slm_json_field_equal(pr, p->gold, name);
        int gpos = gv && !json_is_null(gv), ppos = pv && !json_is_null(pv);
        fc[i].eq += same;
        fc[i].ng += gpos;
        fc[i].np += ppos;
        fc[i].tp += ppos && gpos && same;
    }
    json_decref(gj);
    json_decref(pj);
    for (int k = 0; k < 7 && p->fail_kinds; k++)
        kinds[k] += strstr(p->fail_kinds, slm_fail_kinds[k]) != NULL;
}

static double f1_of(double pr, double re)
{
    return pr + re > 0 ? 2 * pr * re / (pr + re) : 0;
}

static int structured_metrics(const sink *k, const slm_pred *p, size_t n)
{
    char *task = NULL, *fj = NULL;
    if (slm_run_task_fields(k->st, k->run_id, &task, &fj, k->err, k->errlen))
        return -1;
    json_t *fields = fj ? json_loads(fj, 0, NULL) : NULL;
    size_t nf = json_array_size(fields);
    field_counts *fc = slm_xcalloc(nf + 1, sizeof *fc), sum = {0};
    long kinds[7] = {0};
    int extraction = task && !strcmp(task, "extraction"), bad = 0;
    for (size_t i = 0; i < n; i++)
        count_fields(fields, &p[i], fc, kinds);
    for (size_t i = 0; i < nf && !bad; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(fields, i), "name"));
        char key[160];
        snprintf(key, sizeof key, "field_accuracy.%s", name);
        bad = put(k, key, n ? (double)fc[i].eq / (double)n : NAN, (long)n);
        if (extraction && !bad) {
            snprintf(key, sizeof key, "field_f1.%s", name);
            bad = put(k, key, f1_of(fc[i].np ? (double)fc[i].tp / (double)fc[i].np : 0,
                                    fc[i].ng ? (double)fc[i].tp / (double)fc[i].ng : 0),
                      (long)n);
        }
        sum.tp += fc[i].tp, sum.np += fc[i].np, sum.ng += fc[i].ng;
    }
    if (extraction && !bad) {
        double pr = sum.np ? (double)sum.tp / (double)sum.np : 0;
        double re = sum.ng ? (double)sum.tp / (double)sum.ng : 0;
        bad = put(k, "field_precision", pr, (long)n) || put(k, "field_recall", re, (long)n) ||
              put(k, "field_f1", f1_of(pr, re), (long)n);
    }
    for (int i = 0; i < 7 && !bad; i++) {
        char key[64];
        snprintf(key, sizeof key, "fail.%s", slm_fail_kinds[i]);
        bad = put(k, key, (double)kinds[i], (long)n);
    }
    free(fc);
    free(task);
    free(fj);
    json_decref(fields);
    return bad ? -1 : 0;
}

/* prefix_mean, prefix_p50, ... prefix_p99 (each followed by tail) of the values of d. */
static int put_summary(const sink *k, const char *prefix, const char *tail, const dvec *d)
{
    slm_summary s;
    slm_summarize(d->v, d->n, &s);
    const struct {
        const char *suf;
        double v;
    } parts[] = {{"mean", s.mean}, {"p50", s.p50}, {"p90", s.p90}, {"p95", s.p95}, {"p99", s.p99}};
    for (size_t i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s_%s%s", prefix, parts[i].suf, tail);
        if (put(k, name, s.n ? parts[i].v : NAN, (long)s.n))
            return -1;
    }
    return 0;
}

static double mean_of(const dvec *d)
{
    slm_summary s;
    slm_summarize(d->v, d->n, &s);
    return s.n ? s.mean : NAN;
}

/* Counts, accuracy and F1, rates. */
static int put_scalars(const sink *k, const agg *a, const slm_cls_metrics *m)
{
    double n = (double)a->n;
    long maj = 0;
    for (size_t i = 0; i < a->n_labels; i++)
        if (m->support[i] > maj)
            maj = m->support[i];
    int js = a->json_task;
    const struct {
        const char *name;
        double v;
    } scal[] = {
        {"n", n},
        {"n_correct", (double)m->n_correct},
        {"n_invalid", (double)a->n_invalid},
        {"n_errors", (double)a->n_errors},
        {"accuracy", m->accuracy},
        {"macro_f1", js ? NAN : m->macro_f1},
        {"micro_f1", js ? NAN : m->micro_f1},
        {"weighted_f1", js ? NAN : m->weighted_f1},
        {"invalid_rate", (double)(a->n_invalid + a->n_errors) / n},
        {"majority_rate", js ? NAN : (double)maj / n},
        {"prompt_tokens_mean", mean_of(&a->ptok)},
        {"output_tokens_mean", mean_of(&a->otok)},
        {"prefill_tokens_per_s",
         a->sum_pre > 0 ? a->sum_ptok_pre / (a->sum_pre / 1000.0) : NAN},
        {"tokens_per_s", a->sum_e2e > 0 ? a->sum_tok / (a->sum_e2e / 1000.0) : NAN},
        {"examples_per_s", a->sum_e2e > 0 ? (double)a->e2e.n / (a->sum_e2e / 1000.0) : NAN},
        {"recall_spread", js ? NAN : slm_recall_spread(m, a->n_labels)},
    };
    for (size_t i = 0; i < sizeof scal / sizeof scal[0]; i++)
        if (put(k, scal[i].name, scal[i].v, (long)a->n))
            return -1;
    return 0;
}

/* The timings of every request, with repeats: per prediction (p[0..n) in example order)
 * its samples (s[0..ns), by example then repeat), or its own row's timings where it has
 * none; NaN timings left out. req: e2e, prefill, decode, TTFT. */
static void requests_of(const slm_pred *p, size_t n, const slm_sample *s, size_t ns,
                        dvec req[4])
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        while (j < ns && s[j].example_idx < p[i].example_idx)
            j++; /* a sample without a prediction row describes nothing stored */
        size_t from = j;
        for (; j < ns && s[j].example_idx == p[i].example_idx; j++) {
            const double v[4] = {s[j].e2e_ms, s[j].prefill_ms, s[j].decode_ms, s[j].ttft_ms};
            for (int c = 0; c < 4; c++)
                if (!isnan(v[c]))
                    dpush(&req[c], v[c]);
        }
        if (j > from)
            continue;
        const double v[4] = {p[i].e2e_ms, p[i].prefill_ms, p[i].decode_ms, p[i].ttft_ms};
        for (int c = 0; c < 4; c++)
            if (!isnan(v[c]))
                dpush(&req[c], v[c]);
    }
}

/* The latency summaries (mean and percentiles, DESIGN §6). Without repeats, over the
 * examples. With repeats (samples stored), over every request — the tail a user sees — and
 * over the per-example medians (the prediction rows) as the *_of_medians family. TPOT has
 * no samples: its summary is over the prediction rows either way. */
static int put_latency(const sink *k, const agg *a, const slm_pred *p)
{
    slm_sample *s;
    size_t ns;
    if (slm_store_samples(k->st, k->run_id, k->cid, &s, &ns, k->err, k->errlen))
        return -1;
    static const char *const prefix[] = {"e2e_ms", "prefill_ms", "decode_ms", "ttft_ms"};
    const dvec *med[] = {&a->e2e, &a->pre, &a->dec, &a->ttft};
    dvec req[4] = {{0}};
    if (ns)
        requests_of(p, a->n, s, ns, req);
    int rc = 0;
    for (int c = 0; c < 4 && !rc; c++)
        rc = put_summary(k, prefix[c], "", ns ? &req[c] : med[c]) ||
             (ns && put_summary(k, prefix[c], "_of_medians", med[c]));
    rc = rc || put_summary(k, "tpot_ms", "", &a->tpot);
    for (int c = 0; c < 4; c++)
        free(req[c].v);
    free(s);
    return rc ? -1 : 0;
}

/* Repeats: the spread of each example's samples (coefficient of variation of the
 * end-to-end time), summarised by its median over examples; above 10% the candidate's
 * latency is flagged as noisy. */
static int put_repeat_spread(const sink *k)
{
    long *idx;
    double *v;
    size_t n;
    if (slm_store_samples_e2e(k->st, k->run_id, k->cid, &idx, &v, &n, k->err, k->errlen))
        return -1;
    dvec cvs = {0};
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i; j < n && idx[j] == idx[i]; j++)
            ;
        if (j - i < 2)
            continue;
        slm_summary sm;
        slm_summarize(v + i, j - i, &sm);
        if (sm.mean > 0)
            dpush(&cvs, sm.stddev / sm.mean);
    }
    int rc = 0;
    if (cvs.n) {
        double med = slm_percentile(cvs.v, cvs.n, 50);
        rc = put(k, "repeat_cv", med, (long)cvs.n) ||
             put(k, "noisy", med > 0.10 ? 1.0 : 0.0, (long)cvs.n);
    }
    free(cvs.v);
    free(idx);
    free(v);
    return rc ? -1 : 0;
}

/* The sum of one counter event, NaN when it was never available. */
static double event_sum(const slm_counter_sum *c, size_t n, const char *event)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(c[i].event, event))
            return c[i].sum;
    return NAN;
}

/* Counters (whole process, read at the phase boundaries), turned into figures per token
 * and per example; an event that was unavailable yields NULL, never 0. */
static int put_counter_figures(const sink *k, const agg *a)
{
    slm_counter_sum *c;
    size_t nc;
    if (slm_store_counter_sums(k->st, k->run_id, k->cid, &c, &nc, k->err, k->errlen))
        return -1;
    double ins = event_sum(c, nc, "instructions"), cyc = event_sum(c, nc, "cycles");
    double cmiss = event_sum(c, nc, "cache-misses"), bmiss = event_sum(c, nc, "branch-misses");
    double tclk = event_sum(c, nc, "task-clock"), pf = event_sum(c, nc, "page-faults");
    double cs = event_sum(c, nc, "context-switches"), cpu = event_sum(c, nc, "process_cpu_ns");
    slm_counter_sums_free(c, nc);
    double phase_ns = 0;
    for (size_t i = 0; i < a->pre.n; i++)
        phase_ns += a->pre.v[i] * 1e6;
    for (size_t i = 0; i < a->dec.n; i++)
        phase_ns += a->dec.v[i] * 1e6;
    double tok = a->sum_tok > 0 ? a->sum_tok : NAN, n = (double)a->n;
    const struct {
        const char *name;
        double v;
    } cm[] = {
        {"instructions_per_token", ins / tok},
        {"cycles_per_token", cyc / tok},
        {"ipc", ins / cyc},
        {"cache_misses_per_kinstr", 1000.0 * cmiss / ins},
        {"branch_misses_per_kinstr", 1000.0 * bmiss / ins},
        /* ratios of clocks need enough time to mean anything (replay engines take µs) */
        {"cpu_utilisation", phase_ns > 5e7 ? tclk / phase_ns : NAN},
        {"task_clock_ms", tclk / 1e6},
        {"process_cpu_ms", cpu / 1e6},
        {"task_clock_vs_cpu_time", cpu > 5e7 ? tclk / cpu : NAN},
        {"page_faults_per_example", pf / n},
        {"context_switches_per_example", cs / n},
        {"energy_per_token_j", NAN},
    };
    for (size_t i = 0; i < sizeof cm / sizeof cm[0]; i++)
        if (put(k, cm[i].name, isfinite(cm[i].v) ? cm[i].v : NAN, (long)a->n))
            return -1;
    return 0;
}

/* x / y where y is positive, else NaN. */
static double ratio(double x, double y)
{
    return y > 0 ? x / y : NAN;
}

/* Load, wall and engine share, machine facts and the roofline, from the candidate row. */
static int put_cand_facts(const sink *k, const agg *a)
{
    slm_cand_facts f;
    int found = slm_store_cand_facts(k->st, k->cid, &f, k->err, k->errlen);
    if (found != 0)
        return found < 0 ? -1 : 0;
    /* Roofline: prefill as achieved GFLOP/s (2 FLOPs per parameter per token); decode
     * (generated tokens after the first) against the bound set by reading every weight
     * once per token at the measured bandwidth. Score mode's decode scores labels. */
    double gflops = a->sum_pre > 0 && !isnan(f.n_params)
                        ? 2.0 * f.n_params * a->sum_ptok_pre / (a->sum_pre / 1000.0) / 1e9
                        : NAN;
    double dec_tps = f.generate && a->sum_dec > 0 ? a->sum_dec_tok / (a->sum_dec / 1000.0) : NAN;
    double bound = f.bandwidth_gbs > 0 && f.size_bytes > 0 ? f.bandwidth_gbs * 1e9 / f.size_bytes
                                                           : NAN;
    const struct {
        const char *name;
        double v;
    } fm[] = {
        {"load_ms", f.load_ms},
        {"wall_s", f.wall_ms / 1000.0},
        {"peak_rss_mb", f.peak_rss_kb / 1024.0},
        {"load1_before", f.load1_before},
        {"load1_after", f.load1_after},
        {"steal_pct", f.steal_pct},
        {"bandwidth_gbs", f.bandwidth_gbs},
        {"prefill_gflops", gflops},
        {"decode_tokens_per_s", dec_tps},
        {"decode_bound_tokens_per_s", bound},
        {"roofline_decode_pct", !isnan(dec_tps) && bound > 0 ? 100.0 * dec_tps / bound : NAN},
        {"throughput_examples_per_s", ratio(f.throughput_n, f.throughput_s)},
        {"throughput_tokens_per_s", ratio(f.throughput_tokens, f.throughput_s)},
        {"throughput_mismatches", f.throughput_mismatches},
        {"flip_rate", ratio(f.repeat_check_flips, f.repeat_check_n)},
        {"concurrency", isnan(f.concurrency) ? 1.0 : f.concurrency},
        {"concurrent_examples_per_s", ratio(f.concurrent_n, f.concurrent_s)},
        {"engine_share", f.wall_ms > 0 && !isnan(f.engine_ms) ? f.engine_ms / f.wall_ms : NAN},
    };
    for (size_t i = 0; i < sizeof fm / sizeof fm[0]; i++)
        if (put(k, fm[i].name, fm[i].v, (long)a->n))
            return -1;
    return 0;
}

/* Per-class results and the confusion matrix over the labels and the extra classes. */
static int put_classes(const sink *k, const agg *a, const slm_cls_metrics *m)
{
    size_t nc = a->n_labels + a->n_extra, nl = a->n_labels;
    for (size_t i = 0; i < nc; i++) {
        const char *name = i < nl ? a->labels[i] : a->extra[i - nl];
        slm_class_row r = {name, i < nl, m->precision[i], m->recall[i], m->f1[i],
                           m->support[i], m->pred_count[i]};
        if (slm_store_put_per_class(k->st, k->run_id, k->cid, &r, k->err, k->errlen))
            return -1;
        for (size_t j = 0; j < nc; j++) {
            long cnt = m->confusion[i * nc + j];
            if (cnt && slm_store_put_confusion(k->st, k->run_id, k->cid, name,
                                               j < nl ? a->labels[j] : a->extra[j - nl], cnt,
                                               k->err, k->errlen))
                return -1;
        }
    }
    return 0;
}

/* Every metric of a candidate with predictions, inside the caller's transaction. */
static int put_all(const sink *k, const agg *a, const slm_pred *p)
{
    slm_cls_metrics m;
    memset(&m, 0, sizeof m);
    size_t ncls = a->json_task ? 2 : a->n_labels + a->n_extra;
    int rc = slm_cls_metrics_compute(a->gold, a->pred, a->n, ncls, &m, k->err, k->errlen);
    if (rc == 0)
        rc = put_scalars(k, a, &m) || put_latency(k, a, p) || put_repeat_spread(k) ||
             put_counter_figures(k, a) || put_cand_facts(k, a) ||
             (a->json_task ? structured_metrics(k, p, a->n) : put_classes(k, a, &m));
    slm_cls_metrics_free(&m);
    return rc ? -1 : 0;
}

int slm_aggregate_candidate(slm_store *st, int64_t run_id, int64_t cid,
                            const char *const *labels, size_t n_labels, char *err,
                            size_t errlen)
{
    slm_pred *p;
    size_t n;
    if (slm_store_predictions(st, cid, &p, &n, err, errlen))
        return -1;
    agg a = {.labels = labels, .n_labels = n_labels, .json_task = slm_run_is_json_task(st, run_id)};
    sink k = {st, run_id, cid, err, errlen};
    int rc = gather(&a, p, n, run_id, err, errlen);
    if (rc == 0 && (rc = slm_store_begin(st, err, errlen)) == 0) {
        rc = slm_store_clear_metrics(st, run_id, cid, err, errlen) ||
             (n > 0 && put_all(&k, &a, p));
        if (rc)
            slm_store_rollback(st);
        else
            rc = slm_store_commit(st, err, errlen);
    }
    if (rc == 0 && n > 0 && !a.json_task) {
        slm_run_cfg *cfg = NULL;
        rc = slm_run_cfg_from_db(st, run_id, &cfg, err, errlen) ||
             slm_analyze_candidate(st, run_id, cid, cfg, labels, n_labels, err, errlen);
        slm_run_cfg_free(cfg);
    }
    agg_free(&a);
    slm_preds_free(p, n);
    return rc ? -1 : 0;
}

int slm_aggregate_run(slm_store *st, int64_t run_id, char *err, size_t errlen)
{
    char **labels = NULL;
    size_t nl = 0, nc = 0;
    slm_cand *c = NULL;
    if (slm_run_labels(st, run_id, &labels, &nl, err, errlen))
        return -1;
    int rc = slm_store_candidates(st, run_id, &c, &nc, err, errlen);
    for (size_t i = 0; rc == 0 && i < nc; i++)
        rc = slm_aggregate_candidate(st, run_id, c[i].id, (const char *const *)labels, nl, err,
                                     errlen);
    slm_cands_free(c, nc);
    slm_free_strv(labels, nl);
    return rc;
}
