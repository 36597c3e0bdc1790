/* aggregate.c — see aggregate.h. */
#include "aggregate.h"
#include "analysis.h"
#include "structured.h"
#include "evalset.h"
#include "metrics.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void slm_free_strv(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int slm_run_labels(slm_store *st, int64_t run_id, char ***labels, size_t *n, char *err,
                   size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "SELECT labels_json FROM evalsets WHERE run_id = ?", &s, err,
                          errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    int rc = -1;
    if (sqlite3_step(s) == SQLITE_ROW) {
        json_t *a = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
        if (json_is_array(a)) {
            *n = json_array_size(a);
            *labels = slm_xcalloc(*n, sizeof **labels);
            for (size_t i = 0; i < *n; i++) {
                const char *l = json_string_value(json_array_get(a, i));
                (*labels)[i] = slm_xstrdup(l ? l : "");
            }
            rc = 0;
        } else {
            slm_err(err, errlen, "run %lld: the stored label set is not a JSON array",
                    (long long)run_id);
        }
        json_decref(a);
    } else {
        slm_err(err, errlen, "run %lld has no eval set", (long long)run_id);
    }
    sqlite3_finalize(s);
    return rc;
}

static int put_metric(sqlite3_stmt *ins, int64_t run_id, int64_t cid, const char *name,
                      double v, long n);

int slm_run_is_json_task(slm_store *st, int64_t run_id)
{
    sqlite3_stmt *s;
    int json = 0;
    if (slm_store_prepare(st, "SELECT task FROM evalsets WHERE run_id = ?", &s, NULL, 0))
        return 0;
    sqlite3_bind_int64(s, 1, run_id);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        json = strcmp((const char *)sqlite3_column_text(s, 0), "classification") != 0;
    sqlite3_finalize(s);
    return json;
}

/* Field-level scores of a JSON task: per field, the share of examples whose field equals
 * the label's; for extraction also precision/recall/F1 over non-null fields (a predicted
 * value is a positive, right when it equals a non-null gold value); failure kind counts. */
int slm_structured_metrics(slm_store *st, int64_t run_id, int64_t cid, sqlite3_stmt *ins,
                           char *err, size_t errlen)
{
    sqlite3_stmt *q;
    json_t *fields = NULL;
    char *task = NULL;
    if (slm_store_prepare(st, "SELECT fields_json, task FROM evalsets WHERE run_id = ?", &q, err,
                          errlen))
        return -1;
    sqlite3_bind_int64(q, 1, run_id);
    if (sqlite3_step(q) == SQLITE_ROW) {
        fields = json_loads((const char *)sqlite3_column_text(q, 0), 0, NULL);
        task = slm_xstrdup((const char *)sqlite3_column_text(q, 1));
    }
    sqlite3_finalize(q);
    size_t nf = json_array_size(fields);
    long *eq = slm_xcalloc(nf + 1, sizeof *eq), *tp = slm_xcalloc(nf + 1, sizeof *tp),
         *np = slm_xcalloc(nf + 1, sizeof *np), *ng = slm_xcalloc(nf + 1, sizeof *ng);
    long kinds[7] = {0}, n = 0;
    int rc = -1;
    if (slm_store_prepare(st,
                          "SELECT gold, pred, fail_kinds FROM predictions WHERE run_id = ? AND "
                          "candidate_id = ?",
                          &q, err, errlen))
        goto out;
    sqlite3_bind_int64(q, 1, run_id);
    sqlite3_bind_int64(q, 2, cid);
    while (sqlite3_step(q) == SQLITE_ROW) {
        n++;
        const char *g = (const char *)sqlite3_column_text(q, 0);
        const char *p = (const char *)sqlite3_column_text(q, 1);
        const char *fk = (const char *)sqlite3_column_text(q, 2);
        json_t *gj = g ? json_loads(g, 0, NULL) : NULL, *pj = p && *p ? json_loads(p, 0, NULL) : NULL;
        for (size_t i = 0; i < nf; i++) {
            const char *name = json_string_value(json_object_get(json_array_get(fields, i), "name"));
            json_t *gv = json_object_get(gj, name), *pv = json_object_get(pj, name);
            int same = slm_json_field_equal(p && *p ? p : NULL, g, name);
            eq[i] += same;
            int gpos = gv && !json_is_null(gv), ppos = pv && !json_is_null(pv);
            ng[i] += gpos;
            np[i] += ppos;
            tp[i] += ppos && gpos && same;
        }
        json_decref(gj);
        json_decref(pj);
        for (int k = 0; k < 7 && fk; k++)
            kinds[k] += strstr(fk, slm_fail_kinds[k]) != NULL;
    }
    sqlite3_finalize(q);
    long stp = 0, snp = 0, sng = 0;
    for (size_t i = 0; i < nf; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(fields, i), "name"));
        char key[160];
        snprintf(key, sizeof key, "field_accuracy.%s", name);
        if (put_metric(ins, run_id, cid, key, n ? (double)eq[i] / (double)n : NAN, n))
            goto dberr;
        if (task && !strcmp(task, "extraction")) {
            double pr = np[i] ? (double)tp[i] / (double)np[i] : 0;
            double re = ng[i] ? (double)tp[i] / (double)ng[i] : 0;
            snprintf(key, sizeof key, "field_f1.%s", name);
            if (put_metric(ins, run_id, cid, key, pr + re > 0 ? 2 * pr * re / (pr + re) : 0, n))
                goto dberr;
        }
        stp += tp[i], snp += np[i], sng += ng[i];
    }
    if (task && !strcmp(task, "extraction")) {
        double pr = snp ? (double)stp / (double)snp : 0, re = sng ? (double)stp / (double)sng : 0;
        if (put_metric(ins, run_id, cid, "field_precision", pr, n) ||
            put_metric(ins, run_id, cid, "field_recall", re, n) ||
            put_metric(ins, run_id, cid, "field_f1", pr + re > 0 ? 2 * pr * re / (pr + re) : 0, n))
            goto dberr;
    }
    for (int k = 0; k < 7; k++) {
        char key[64];
        snprintf(key, sizeof key, "fail.%s", slm_fail_kinds[k]);
        if (put_metric(ins, run_id, cid, key, (double)kinds[k], n))
            goto dberr;
    }
    rc = 0;
    goto out;
dberr:
    slm_err(err, errlen, "%s: cannot store field metrics", slm_store_path(st));
out:
    free(eq);
    free(tp);
    free(np);
    free(ng);
    free(task);
    json_decref(fields);
    return rc;
}

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

static int put_metric(sqlite3_stmt *ins, int64_t run_id, int64_t cid, const char *name,
                      double v, long n)
{
    sqlite3_reset(ins);
    sqlite3_bind_int64(ins, 1, run_id);
    sqlite3_bind_int64(ins, 2, cid);
    sqlite3_bind_text(ins, 3, name, -1, SQLITE_STATIC);
    slm_bind_double(ins, 4, v);
    sqlite3_bind_int64(ins, 5, n);
    return sqlite3_step(ins) == SQLITE_DONE ? 0 : -1;
}

static int put_summary(sqlite3_stmt *ins, int64_t run_id, int64_t cid, const char *prefix,
                       const dvec *d)
{
    slm_summary s;
    slm_summarize(d->v, d->n, &s);
    const struct {
        const char *suf;
        double v;
    } parts[] = {{"mean", s.mean}, {"p50", s.p50}, {"p90", s.p90}, {"p95", s.p95}, {"p99", s.p99}};
    for (size_t i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s_%s", prefix, parts[i].suf);
        if (put_metric(ins, run_id, cid, name, s.n ? parts[i].v : NAN, (long)s.n))
            return -1;
    }
    return 0;
}

int slm_aggregate_candidate(slm_store *st, int64_t run_id, int64_t cid,
                            const char *const *labels, size_t n_labels, char *err,
                            size_t errlen)
{
    sqlite3 *db = slm_store_db(st);
    sqlite3_stmt *q = NULL, *ins = NULL, *pc = NULL, *cf = NULL;
    int *gold = NULL, *pred = NULL;
    char **extra = NULL; /* predicted strings outside the label set */
    size_t n_extra = 0, n = 0, cap = 0;
    long n_invalid = 0, n_errors = 0;
    dvec e2e = {0}, pre = {0}, dec = {0}, ttft = {0}, tpot = {0}, ptok = {0}, otok = {0};
    double sum_e2e = 0, sum_pre = 0, sum_ptok_pre = 0, sum_tok = 0;
    double sum_dec = 0, sum_dec_tok = 0; /* decode time and tokens after the first */
    slm_cls_metrics m;
    memset(&m, 0, sizeof m);
    int rc = -1;
    int json_task = slm_run_is_json_task(st, run_id);

    if (slm_store_prepare(st,
                          "SELECT gold, pred, valid, e2e_ms, prefill_ms, decode_ms, ttft_ms, "
                          "tpot_ms, n_prompt_tokens, n_output_tokens, error, correct FROM predictions "
                          "WHERE run_id = ? AND candidate_id = ? ORDER BY example_idx",
                          &q, err, errlen))
        goto done;
    sqlite3_bind_int64(q, 1, run_id);
    sqlite3_bind_int64(q, 2, cid);
    int step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 512;
            gold = slm_xrealloc(gold, cap * sizeof *gold);
            pred = slm_xrealloc(pred, cap * sizeof *pred);
        }
        const char *g = (const char *)sqlite3_column_text(q, 0);
        const char *p = (const char *)sqlite3_column_text(q, 1);
        if (json_task) {
            /* JSON answers: right or wrong as a whole here; fields are scored below */
            gold[n] = 0;
            pred[n] = sqlite3_column_int(q, 11) ? 0 : 1;
            if (sqlite3_column_type(q, 10) != SQLITE_NULL)
                n_errors++;
            else if (!sqlite3_column_int(q, 2))
                n_invalid++;
            n++;
            goto timings;
        }
        int gi = slm_label_index(labels, n_labels, g ? g : "");
        if (gi < 0) {
            slm_err(err, errlen, "run %lld: gold label '%s' is not in the run's label set",
                    (long long)run_id, g ? g : "");
            goto done;
        }
        int pi = p ? slm_label_index(labels, n_labels, p) : -1;
        if (pi < 0) {
            /* an invalid output, or an engine error: a class of its own */
            const char *key = p ? p : "<error>";
            if (!p)
                n_errors++;
            else
                n_invalid++;
            size_t k = 0;
            while (k < n_extra && strcmp(extra[k], key))
                k++;
            if (k == n_extra) {
                extra = slm_xrealloc(extra, (n_extra + 1) * sizeof *extra);
                extra[n_extra++] = slm_xstrdup(key);
            }
            pi = (int)(n_labels + k);
        }
        gold[n] = gi;
        pred[n] = pi;
        n++;
    timings:;
        double v;
        if (!isnan(v = slm_col_double(q, 3))) {
            dpush(&e2e, v);
            sum_e2e += v;
        }
        if (!isnan(v = slm_col_double(q, 4))) {
            dpush(&pre, v);
            double pt = slm_col_double(q, 8);
            if (!isnan(pt)) {
                sum_pre += v;
                sum_ptok_pre += pt;
            }
        }
        if (!isnan(v = slm_col_double(q, 5))) {
            dpush(&dec, v);
            double ot2 = slm_col_double(q, 9);
            if (!isnan(ot2) && ot2 >= 2) {
                sum_dec += v;
                sum_dec_tok += ot2 - 1;
            }
        }
        if (!isnan(v = slm_col_double(q, 6)))
            dpush(&ttft, v);
        if (!isnan(v = slm_col_double(q, 7)))
            dpush(&tpot, v);
        double pt = slm_col_double(q, 8), ot = slm_col_double(q, 9);
        if (!isnan(pt))
            dpush(&ptok, pt);
        if (!isnan(ot))
            dpush(&otok, ot);
        sum_tok += (isnan(pt) ? 0 : pt) + (isnan(ot) ? 0 : ot);
    }
    if (step != SQLITE_DONE) {
        slm_err(err, errlen, "%s: cannot read predictions: %s", slm_store_path(st),
                sqlite3_errmsg(db));
        goto done;
    }
    if (slm_store_begin(st, err, errlen))
        goto done;
    const char *dels[] = {"DELETE FROM metrics WHERE run_id = ?1 AND candidate_id = ?2",
                          "DELETE FROM per_class WHERE run_id = ?1 AND candidate_id = ?2",
                          "DELETE FROM confusion WHERE run_id = ?1 AND candidate_id = ?2"};
    for (size_t i = 0; i < 3; i++) {
        sqlite3_stmt *d;
        if (slm_store_prepare(st, dels[i], &d, err, errlen))
            goto rollback;
        sqlite3_bind_int64(d, 1, run_id);
        sqlite3_bind_int64(d, 2, cid);
        int ok = sqlite3_step(d) == SQLITE_DONE;
        sqlite3_finalize(d);
        if (!ok)
            goto dberr;
    }
    if (n == 0) {
        rc = slm_store_commit(st, err, errlen);
        goto done;
    }
    if (slm_cls_metrics_compute(gold, pred, n, json_task ? 2 : n_labels + n_extra, &m, err,
                                errlen))
        goto rollback;
    if (slm_store_prepare(st,
                          "INSERT INTO metrics (run_id, candidate_id, name, value, n) "
                          "VALUES (?,?,?,?,?)",
                          &ins, err, errlen))
        goto rollback;
    long maj = 0;
    for (size_t k = 0; k < n_labels; k++)
        if (m.support[k] > maj)
            maj = m.support[k];
    struct {
        const char *name;
        double v;
    } scal[] = {
        {"n", (double)n},
        {"n_correct", (double)m.n_correct},
        {"n_invalid", (double)n_invalid},
        {"n_errors", (double)n_errors},
        {"accuracy", m.accuracy},
        {"macro_f1", json_task ? NAN : m.macro_f1},
        {"micro_f1", json_task ? NAN : m.micro_f1},
        {"weighted_f1", json_task ? NAN : m.weighted_f1},
        {"invalid_rate", (double)(n_invalid + n_errors) / (double)n},
        {"majority_rate", json_task ? NAN : (double)maj / (double)n},
        {"prompt_tokens_mean", NAN},
        {"output_tokens_mean", NAN},
        {"prefill_tokens_per_s", sum_pre > 0 ? sum_ptok_pre / (sum_pre / 1000.0) : NAN},
        {"tokens_per_s", sum_e2e > 0 ? sum_tok / (sum_e2e / 1000.0) : NAN},
        {"examples_per_s", sum_e2e > 0 ? (double)e2e.n / (sum_e2e / 1000.0) : NAN},
        {"recall_spread", json_task ? NAN : slm_recall_spread(&m, n_labels)},
    };
    slm_summary s;
    slm_summarize(ptok.v, ptok.n, &s);
    scal[10].v = s.n ? s.mean : NAN;
    slm_summarize(otok.v, otok.n, &s);
    scal[11].v = s.n ? s.mean : NAN;
    for (size_t i = 0; i < sizeof scal / sizeof scal[0]; i++)
        if (put_metric(ins, run_id, cid, scal[i].name, scal[i].v, (long)n))
            goto dberr;
    if (put_summary(ins, run_id, cid, "e2e_ms", &e2e) ||
        put_summary(ins, run_id, cid, "prefill_ms", &pre) ||
        put_summary(ins, run_id, cid, "decode_ms", &dec) ||
        put_summary(ins, run_id, cid, "ttft_ms", &ttft) ||
        put_summary(ins, run_id, cid, "tpot_ms", &tpot))
        goto dberr;
    /* Repeats: the spread of each example's samples (coefficient of variation of the
     * end-to-end time), summarised by its median over examples; above 10% the candidate's
     * latency is flagged as noisy. */
    {
        sqlite3_stmt *q2;
        if (slm_store_prepare(st,
                              "SELECT example_idx, e2e_ms FROM samples WHERE run_id = ? AND "
                              "candidate_id = ? AND e2e_ms IS NOT NULL ORDER BY example_idx, rep",
                              &q2, err, errlen))
            goto rollback;
        sqlite3_bind_int64(q2, 1, run_id);
        sqlite3_bind_int64(q2, 2, cid);
        dvec cvs = {0}, cur = {0};
        long cur_idx = -1;
        int more = 1;
        while (more) {
            more = sqlite3_step(q2) == SQLITE_ROW;
            long idx = more ? (long)sqlite3_column_int64(q2, 0) : -2;
            if (idx != cur_idx && cur.n >= 2) {
                slm_summary sm;
                slm_summarize(cur.v, cur.n, &sm);
                if (sm.mean > 0)
                    dpush(&cvs, sm.stddev / sm.mean);
            }
            if (idx != cur_idx)
                cur.n = 0;
            cur_idx = idx;
            if (more)
                dpush(&cur, sqlite3_column_double(q2, 1));
        }
        sqlite3_finalize(q2);
        if (cvs.n) {
            double med = slm_percentile(cvs.v, cvs.n, 50);
            if (put_metric(ins, run_id, cid, "repeat_cv", med, (long)cvs.n) ||
                put_metric(ins, run_id, cid, "noisy", med > 0.10 ? 1.0 : 0.0, (long)cvs.n)) {
                free(cvs.v);
                free(cur.v);
                goto dberr;
            }
        }
        free(cvs.v);
        free(cur.v);
    }
    /* Counters (whole process, read at the phase boundaries), turned into figures per
     * token and per example; an event that was unavailable yields NULL, never 0. */
    {
        sqlite3_stmt *q3;
        if (slm_store_prepare(st,
                              "SELECT event, sum(value), count(value) FROM counters WHERE "
                              "run_id = ? AND candidate_id = ? AND value IS NOT NULL "
                              "GROUP BY event",
                              &q3, err, errlen))
            goto rollback;
        sqlite3_bind_int64(q3, 1, run_id);
        sqlite3_bind_int64(q3, 2, cid);
        double ins_ = NAN, cyc = NAN, cmiss = NAN, bmiss = NAN, tclk = NAN, pf = NAN, cs = NAN,
               cpu = NAN;
        while (sqlite3_step(q3) == SQLITE_ROW) {
            const char *ev = (const char *)sqlite3_column_text(q3, 0);
            double v = sqlite3_column_double(q3, 1);
            if (!strcmp(ev, "instructions"))
                ins_ = v;
            else if (!strcmp(ev, "cycles"))
                cyc = v;
            else if (!strcmp(ev, "cache-misses"))
                cmiss = v;
            else if (!strcmp(ev, "branch-misses"))
                bmiss = v;
            else if (!strcmp(ev, "task-clock"))
                tclk = v;
            else if (!strcmp(ev, "page-faults"))
                pf = v;
            else if (!strcmp(ev, "context-switches"))
                cs = v;
            else if (!strcmp(ev, "process_cpu_ns"))
                cpu = v;
        }
        sqlite3_finalize(q3);
        double phase_ns = 0;
        for (size_t i = 0; i < pre.n; i++)
            phase_ns += pre.v[i] * 1e6;
        for (size_t i = 0; i < dec.n; i++)
            phase_ns += dec.v[i] * 1e6;
        double tok = sum_tok > 0 ? sum_tok : NAN;
        struct {
            const char *name;
            double v;
        } cm[] = {
            {"instructions_per_token", ins_ / tok},
            {"cycles_per_token", cyc / tok},
            {"ipc", ins_ / cyc},
            {"cache_misses_per_kinstr", 1000.0 * cmiss / ins_},
            {"branch_misses_per_kinstr", 1000.0 * bmiss / ins_},
            /* ratios of clocks need enough time to mean anything (replay engines take µs) */
            {"cpu_utilisation", phase_ns > 5e7 ? tclk / phase_ns : NAN},
            {"task_clock_ms", tclk / 1e6},
            {"process_cpu_ms", cpu / 1e6},
            {"task_clock_vs_cpu_time", cpu > 5e7 ? tclk / cpu : NAN},
            {"page_faults_per_example", pf / (double)n},
            {"context_switches_per_example", cs / (double)n},
            {"energy_per_token_j", NAN},
        };
        for (size_t i = 0; i < sizeof cm / sizeof cm[0]; i++)
            if (put_metric(ins, run_id, cid, cm[i].name, isfinite(cm[i].v) ? cm[i].v : NAN, (long)n))
                goto dberr;
    }
    /* load, wall and engine share come from the candidate row */
    {
        sqlite3_stmt *c;
        if (slm_store_prepare(st,
                              "SELECT c.load_ms, c.wall_ms, c.engine_ms, c.n_params, c.size_bytes, "
                              "r.bandwidth_gbs, r.mode, c.peak_rss_kb, c.load1_before, "
                              "c.load1_after, c.steal_pct, c.throughput_s, "
                              "c.throughput_tokens, c.throughput_n, c.throughput_mismatches, "
                              "c.repeat_check_n, c.repeat_check_flips, c.concurrency, "
                              "c.concurrent_s, c.concurrent_n "
                              "FROM candidates c "
                              "JOIN runs r ON r.id = c.run_id WHERE c.id = ?",
                              &c, err, errlen))
            goto rollback;
        sqlite3_bind_int64(c, 1, cid);
        if (sqlite3_step(c) == SQLITE_ROW) {
            double load = slm_col_double(c, 0), wall = slm_col_double(c, 1), eng = slm_col_double(c, 2);
            double params = slm_col_double(c, 3), bytes = slm_col_double(c, 4), bw = slm_col_double(c, 5);
            /* Roofline: prefill as achieved GFLOP/s (2 FLOPs per parameter per token);
             * decode (generated tokens after the first) against the bound set by reading
             * every weight once per token at the measured bandwidth. */
            double gflops = sum_pre > 0 && !isnan(params)
                                ? 2.0 * params * sum_ptok_pre / (sum_pre / 1000.0) / 1e9
                                : NAN;
            const char *mode = (const char *)sqlite3_column_text(c, 6);
            int gen = mode && !strcmp(mode, "generate"); /* score mode's decode scores labels */
            double dec_tps = gen && sum_dec > 0 ? sum_dec_tok / (sum_dec / 1000.0) : NAN;
            double bound = bw > 0 && bytes > 0 ? bw * 1e9 / bytes : NAN;
            if (put_metric(ins, run_id, cid, "load_ms", load, (long)n) ||
                put_metric(ins, run_id, cid, "wall_s", wall / 1000.0, (long)n) ||
                put_metric(ins, run_id, cid, "peak_rss_mb",
                           sqlite3_column_type(c, 7) == SQLITE_NULL ? NAN
                                                                   : slm_col_double(c, 7) / 1024.0,
                           (long)n) ||
                put_metric(ins, run_id, cid, "load1_before", slm_col_double(c, 8), (long)n) ||
                put_metric(ins, run_id, cid, "load1_after", slm_col_double(c, 9), (long)n) ||
                put_metric(ins, run_id, cid, "steal_pct", slm_col_double(c, 10), (long)n) ||
                put_metric(ins, run_id, cid, "bandwidth_gbs", bw, (long)n) ||
                put_metric(ins, run_id, cid, "prefill_gflops", gflops, (long)n) ||
                put_metric(ins, run_id, cid, "decode_tokens_per_s", dec_tps, (long)n) ||
                put_metric(ins, run_id, cid, "decode_bound_tokens_per_s", bound, (long)n) ||
                put_metric(ins, run_id, cid, "roofline_decode_pct",
                           !isnan(dec_tps) && bound > 0 ? 100.0 * dec_tps / bound : NAN, (long)n) ||
                put_metric(ins, run_id, cid, "throughput_examples_per_s",
                           slm_col_double(c, 11) > 0 ? slm_col_double(c, 13) / slm_col_double(c, 11) : NAN,
                           (long)n) ||
                put_metric(ins, run_id, cid, "throughput_tokens_per_s",
                           slm_col_double(c, 11) > 0 ? slm_col_double(c, 12) / slm_col_double(c, 11) : NAN,
                           (long)n) ||
                put_metric(ins, run_id, cid, "throughput_mismatches", slm_col_double(c, 14), (long)n) ||
                put_metric(ins, run_id, cid, "flip_rate",
                           slm_col_double(c, 15) > 0 ? slm_col_double(c, 16) / slm_col_double(c, 15) : NAN,
                           (long)n) ||
                put_metric(ins, run_id, cid, "concurrency",
                           sqlite3_column_type(c, 17) == SQLITE_NULL ? 1.0 : slm_col_double(c, 17),
                           (long)n) ||
                put_metric(ins, run_id, cid, "concurrent_examples_per_s",
                           slm_col_double(c, 18) > 0 ? slm_col_double(c, 19) / slm_col_double(c, 18) : NAN,
                           (long)n) ||
                put_metric(ins, run_id, cid, "engine_share",
                           wall > 0 && !isnan(eng) ? eng / wall : NAN, (long)n)) {
                sqlite3_finalize(c);
                goto dberr;
            }
        }
        sqlite3_finalize(c);
    }
    if (slm_store_prepare(st,
                          "INSERT INTO per_class (run_id, candidate_id, label, in_label_set, "
                          "precision, recall, f1, support, predicted) VALUES (?,?,?,?,?,?,?,?,?)",
                          &pc, err, errlen) ||
        slm_store_prepare(st,
                          "INSERT INTO confusion (run_id, candidate_id, gold, pred, count) "
                          "VALUES (?,?,?,?,?)",
                          &cf, err, errlen))
        goto rollback;
    if (json_task && slm_structured_metrics(st, run_id, cid, ins, err, errlen))
        goto rollback;
    size_t nc = json_task ? 0 : n_labels + n_extra;
    for (size_t k = 0; k < nc; k++) {
        const char *name = k < n_labels ? labels[k] : extra[k - n_labels];
        {
            sqlite3_reset(pc);
            sqlite3_bind_int64(pc, 1, run_id);
            sqlite3_bind_int64(pc, 2, cid);
            sqlite3_bind_text(pc, 3, name, -1, SQLITE_STATIC);
            sqlite3_bind_int(pc, 4, k < n_labels);
            sqlite3_bind_double(pc, 5, m.precision[k]);
            sqlite3_bind_double(pc, 6, m.recall[k]);
            sqlite3_bind_double(pc, 7, m.f1[k]);
            sqlite3_bind_int64(pc, 8, m.support[k]);
            sqlite3_bind_int64(pc, 9, m.pred_count[k]);
            if (sqlite3_step(pc) != SQLITE_DONE)
                goto dberr;
        }
        for (size_t j = 0; j < nc; j++) {
            long cnt = m.confusion[k * nc + j];
            if (!cnt)
                continue;
            sqlite3_reset(cf);
            sqlite3_bind_int64(cf, 1, run_id);
            sqlite3_bind_int64(cf, 2, cid);
            sqlite3_bind_text(cf, 3, name, -1, SQLITE_STATIC);
            sqlite3_bind_text(cf, 4, j < n_labels ? labels[j] : extra[j - n_labels], -1,
                              SQLITE_STATIC);
            sqlite3_bind_int64(cf, 5, cnt);
            if (sqlite3_step(cf) != SQLITE_DONE)
                goto dberr;
        }
    }
    rc = slm_store_commit(st, err, errlen);
    if (rc == 0 && !json_task) {
        slm_run_cfg *cfg = NULL;
        rc = slm_run_cfg_from_db(st, run_id, &cfg, err, errlen) ||
             slm_analyze_candidate(st, run_id, cid, cfg, labels, n_labels, err, errlen);
        slm_run_cfg_free(cfg);
        rc = rc ? -1 : 0;
    }
    goto done;
dberr:
    slm_err(err, errlen, "%s: cannot store metrics: %s", slm_store_path(st), sqlite3_errmsg(db));
rollback:
    slm_store_rollback(st);
    rc = -1;
done:
    sqlite3_finalize(q);
    sqlite3_finalize(ins);
    sqlite3_finalize(pc);
    sqlite3_finalize(cf);
    slm_cls_metrics_free(&m);
    free(gold);
    free(pred);
    slm_free_strv(extra, n_extra);
    free(e2e.v);
    free(pre.v);
    free(dec.v);
    free(ttft.v);
    free(tpot.v);
    free(ptok.v);
    free(otok.v);
    return rc;
}

int slm_aggregate_run(slm_store *st, int64_t run_id, char *err, size_t errlen)
{
    char **labels = NULL;
    size_t nl = 0;
    if (slm_run_labels(st, run_id, &labels, &nl, err, errlen))
        return -1;
    sqlite3_stmt *s;
    int rc = 0;
    if (slm_store_prepare(st, "SELECT id FROM candidates WHERE run_id = ? ORDER BY idx", &s, err,
                          errlen)) {
        slm_free_strv(labels, nl);
        return -1;
    }
    sqlite3_bind_int64(s, 1, run_id);
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW)
        rc = slm_aggregate_candidate(st, run_id, sqlite3_column_int64(s, 0),
                                     (const char *const *)labels, nl, err, errlen);
    sqlite3_finalize(s);
    slm_free_strv(labels, nl);
    return rc;
}
