/* gate.c — see gate.h. */
#include "gate.h"
#include "aggregate.h"
#include "analysis.h"
#include "report.h"
#include "yamltree.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void add(slm_gate_result *r, const char *cand, const char *name, int passed,
                const char *fmt, ...) SLM_PRINTF(5, 6);

static void add(slm_gate_result *r, const char *cand, const char *name, int passed,
                const char *fmt, ...)
{
    r->checks = slm_xrealloc(r->checks, (r->n + 1) * sizeof *r->checks);
    slm_gate_check *c = &r->checks[r->n++];
    c->candidate = slm_xstrdup(cand);
    c->name = slm_xstrdup(name);
    c->passed = passed;
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
    memset(r, 0, sizeof *r);
}

static double metric_of(slm_store *st, int64_t cid, const char *name)
{
    return slm_store_metric(st, cid, name, NULL, NULL);
}

static char *run_hash(slm_store *st, int64_t run, const char *col)
{
    char *sql = slm_xasprintf("SELECT %s FROM evalsets WHERE run_id = ?", col);
    sqlite3_stmt *s;
    char *v = NULL;
    if (slm_store_prepare(st, sql, &s, NULL, 0) == 0) {
        sqlite3_bind_int64(s, 1, run);
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
            v = slm_xstrdup((const char *)sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
    }
    free(sql);
    return v;
}

/* Absolute threshold: min (lower bound) or max (upper bound). */
static void absolute(slm_gate_result *r, const char *cand, const char *name, double value,
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

int slm_gate_eval(slm_store *st, const char *gate_path, const char *run_ref,
                  const char *baseline_ref, int allow_different, slm_gate_result *res,
                  char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    slm_yaml *y = NULL;
    if (slm_yaml_load(gate_path, &y, err, errlen))
        return SLM_GATE_INVALID;
    int rc = SLM_GATE_INVALID;
    char **labels = NULL;
    size_t nl = 0;
    int64_t *cids = NULL;
    char **cnames = NULL;
    size_t nc = 0;
    const slm_ynode *r = y->root;
    static const char *const keys[] = {"run", "candidates", "absolute", "baseline", "name", NULL};
    static const char *const akeys[] = {"accuracy_min", "macro_f1_min", "class_recall_min",
                                        "ece_max", "p95_ms_max", "tokens_per_s_min",
                                        "invalid_rate_max", NULL};
    static const char *const bkeys[] = {"ref", "accuracy_drop_max_points", "alpha",
                                        "latency_increase_max_pct", NULL};
    if (!r || r->kind != SLM_Y_MAP) {
        slm_err(err, errlen, "%s: expected a mapping with absolute: and/or baseline:", gate_path);
        goto out;
    }
    const slm_ynode *abs_ = slm_ymap_get(r, "absolute"), *base = slm_ymap_get(r, "baseline");
    if (slm_ymap_check_keys(y, r, keys, "the gate file", err, errlen) ||
        slm_ymap_check_keys(y, abs_, akeys, "absolute", err, errlen) ||
        slm_ymap_check_keys(y, base, bkeys, "baseline", err, errlen))
        goto out;
    if ((abs_ && abs_->kind != SLM_Y_MAP) || (base && base->kind != SLM_Y_MAP)) {
        slm_err(err, errlen, "%s: 'absolute' and 'baseline' must be mappings", gate_path);
        goto out;
    }
    double acc_min, f1_min, ece_max, p95_max, tps_min, inv_max, drop_max, alpha, lat_max;
    if (get_num(y, abs_, "accuracy_min", &acc_min, err, errlen) ||
        get_num(y, abs_, "macro_f1_min", &f1_min, err, errlen) ||
        get_num(y, abs_, "ece_max", &ece_max, err, errlen) ||
        get_num(y, abs_, "p95_ms_max", &p95_max, err, errlen) ||
        get_num(y, abs_, "tokens_per_s_min", &tps_min, err, errlen) ||
        get_num(y, abs_, "invalid_rate_max", &inv_max, err, errlen) ||
        get_num(y, base, "accuracy_drop_max_points", &drop_max, err, errlen) ||
        get_num(y, base, "alpha", &alpha, err, errlen) ||
        get_num(y, base, "latency_increase_max_pct", &lat_max, err, errlen))
        goto out;
    if (isnan(alpha))
        alpha = 0.05;
    const char *ref = run_ref ? run_ref : slm_ymap_str(r, "run") ? slm_ymap_str(r, "run") : "last";
    if (slm_store_resolve_run(st, ref, &res->run_id, err, errlen))
        goto out;
    const char *bref = baseline_ref ? baseline_ref : slm_ymap_str(base, "ref");
    if (bref && slm_store_resolve_run(st, bref, &res->baseline_id, err, errlen))
        goto out;
    if (res->baseline_id == res->run_id && bref) {
        slm_err(err, errlen, "baseline '%s' is the gated run itself (run %lld)", bref,
                (long long)res->run_id);
        goto out;
    }
    {
        sqlite3_stmt *s;
        if (slm_store_prepare(st, "SELECT status FROM runs WHERE id = ?", &s, err, errlen)) {
            rc = SLM_GATE_ERROR;
            goto out;
        }
        sqlite3_bind_int64(s, 1, res->run_id);
        int complete = sqlite3_step(s) == SQLITE_ROW &&
                       !strcmp((const char *)sqlite3_column_text(s, 0), "complete");
        sqlite3_finalize(s);
        if (!complete) {
            slm_err(err, errlen, "run %lld is not complete; a gate judges complete runs only",
                    (long long)res->run_id);
            rc = SLM_GATE_ERROR;
            goto out;
        }
    }
    if (res->baseline_id && !allow_different) {
        static const char *const cols[] = {"sha256", "prompt_sha256"};
        for (int k = 0; k < 2; k++) {
            char *a = run_hash(st, res->run_id, cols[k]), *b = run_hash(st, res->baseline_id, cols[k]);
            int same = a && b && !strcmp(a, b);
            free(a);
            free(b);
            if (!same) {
                slm_err(err, errlen, "run %lld and baseline %lld differ in their %s; the "
                        "comparison is invalid (--allow-different to compare anyway)",
                        (long long)res->run_id, (long long)res->baseline_id,
                        k ? "prompt (template hash)" : "eval set data (hash)");
                goto out;
            }
        }
    }
    if (slm_run_labels(st, res->run_id, &labels, &nl, err, errlen)) {
        rc = SLM_GATE_ERROR;
        goto out;
    }
    /* candidates to gate */
    {
        const slm_ynode *want = slm_ymap_get(r, "candidates");
        sqlite3_stmt *s;
        if (slm_store_prepare(st, "SELECT id, name, status FROM candidates WHERE run_id = ? ORDER BY idx",
                              &s, err, errlen)) {
            rc = SLM_GATE_ERROR;
            goto out;
        }
        sqlite3_bind_int64(s, 1, res->run_id);
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *nm = (const char *)sqlite3_column_text(s, 1);
            int take = !want;
            for (size_t i = 0; want && want->kind == SLM_Y_SEQ && i < want->n; i++)
                take |= want->items[i]->kind == SLM_Y_SCALAR && !strcmp(want->items[i]->scalar, nm);
            if (!take)
                continue;
            cids = slm_xrealloc(cids, (nc + 1) * sizeof *cids);
            cnames = slm_xrealloc(cnames, (nc + 1) * sizeof *cnames);
            cids[nc] = sqlite3_column_int64(s, 0);
            cnames[nc++] = slm_xstrdup(nm);
        }
        sqlite3_finalize(s);
        if (!nc) {
            slm_err(err, errlen, "run %lld has no candidate to gate%s", (long long)res->run_id,
                    want ? " (none of the gate's 'candidates')" : "");
            goto out;
        }
    }
    for (size_t i = 0; i < nc; i++) {
        int64_t cid = cids[i];
        const char *cn = cnames[i];
        absolute(res, cn, "accuracy_min", metric_of(st, cid, "accuracy"), acc_min, 1, 1);
        absolute(res, cn, "macro_f1_min", metric_of(st, cid, "macro_f1"), f1_min, 1, 1);
        absolute(res, cn, "ece_max", metric_of(st, cid, "ece_15"), ece_max, 0, 0);
        absolute(res, cn, "p95_ms_max", metric_of(st, cid, "e2e_ms_p95"), p95_max, 0, 0);
        absolute(res, cn, "tokens_per_s_min", metric_of(st, cid, "tokens_per_s"), tps_min, 1, 0);
        absolute(res, cn, "invalid_rate_max", metric_of(st, cid, "invalid_rate"), inv_max, 0, 1);
        const slm_ynode *cr = slm_ymap_get(abs_, "class_recall_min");
        if (cr) {
            for (size_t k = 0; k < nl; k++) {
                double t = NAN;
                if (cr->kind == SLM_Y_SCALAR)
                    slm_parse_double(cr->scalar, &t);
                else if (cr->kind == SLM_Y_MAP && slm_ymap_str(cr, labels[k]))
                    slm_parse_double(slm_ymap_str(cr, labels[k]), &t);
                if (isnan(t))
                    continue;
                sqlite3_stmt *s;
                double rec = NAN;
                if (slm_store_prepare(st, "SELECT recall, support FROM per_class WHERE "
                                          "candidate_id = ? AND label = ?", &s, NULL, 0) == 0) {
                    sqlite3_bind_int64(s, 1, cid);
                    sqlite3_bind_text(s, 2, labels[k], -1, SQLITE_STATIC);
                    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 1) > 0)
                        rec = sqlite3_column_double(s, 0);
                    sqlite3_finalize(s);
                }
                char nm[256];
                snprintf(nm, sizeof nm, "class_recall_min[%s]", labels[k]);
                absolute(res, cn, nm, rec, t, 1, 1);
            }
        }
        if (!res->baseline_id)
            continue;
        /* relative: the same candidate name in the baseline */
        int64_t bid = -1;
        {
            sqlite3_stmt *s;
            if (slm_store_prepare(st, "SELECT id FROM candidates WHERE run_id = ? AND name = ?", &s,
                                  NULL, 0) == 0) {
                sqlite3_bind_int64(s, 1, res->baseline_id);
                sqlite3_bind_text(s, 2, cn, -1, SQLITE_STATIC);
                if (sqlite3_step(s) == SQLITE_ROW)
                    bid = sqlite3_column_int64(s, 0);
                sqlite3_finalize(s);
            }
        }
        if (bid < 0) {
            add(res, cn, "baseline", 1, "no candidate '%s' in baseline run %lld: relative checks "
                "skipped", cn, (long long)res->baseline_id);
            continue;
        }
        if (!isnan(drop_max)) {
            slm_paired pr;
            char e2[SLM_ERRLEN];
            if (slm_paired_compare(st, cid, bid, (const char *const *)labels, nl, 0, 1, &pr, e2,
                                   sizeof e2)) {
                add(res, cn, "accuracy_drop", 0, "cannot pair with the baseline: %s", e2);
            } else {
                double drop = -pr.acc_diff * 100.0;
                int big = drop > drop_max, sig = pr.mcnemar_p < alpha;
                add(res, cn, "accuracy_drop", !(big && sig),
                    "accuracy %.2f%% vs baseline %.2f%%: drop %.2f pt (allowed %.2f pt); McNemar "
                    "p = %.4g (%s, b=%ld, c=%ld, n=%zu) %s α = %.3g%s",
                    pr.acc_a * 100, pr.acc_b * 100, drop, drop_max, pr.mcnemar_p,
                    pr.mcnemar_exact ? "exact" : "chi-square", pr.b, pr.c, pr.n,
                    sig ? "<" : "≥", alpha,
                    big && sig ? " — a real regression"
                    : big      ? " — larger than allowed but not significant: noise"
                               : "");
            }
        }
        if (!isnan(lat_max)) {
            double p_new = metric_of(st, cid, "e2e_ms_p95"), p_old = metric_of(st, bid, "e2e_ms_p95");
            double cv_new = metric_of(st, cid, "repeat_cv"), cv_old = metric_of(st, bid, "repeat_cv");
            double inc = (p_new / p_old - 1.0) * 100.0;
            /* the spread measured by repeats: twice the larger median CV, as a percentage */
            double spread = NAN;
            if (!isnan(cv_new) || !isnan(cv_old))
                spread = 200.0 * fmax(isnan(cv_new) ? 0 : cv_new, isnan(cv_old) ? 0 : cv_old);
            int big = inc > lat_max, beyond = isnan(spread) || inc > spread;
            char sp[96];
            if (isnan(spread))
                snprintf(sp, sizeof sp, "unknown (no repeats: the threshold alone decides)");
            else
                snprintf(sp, sizeof sp, "±%.1f%%", spread);
            add(res, cn, "latency_increase", !(big && beyond),
                "p95 %.4g ms vs baseline %.4g ms: %+.1f%% (allowed %.1f%%); repeat spread %s%s",
                p_new, p_old, inc, lat_max, sp,
                big && beyond ? " — a real slowdown"
                : big         ? " — within the measured noise"
                              : "");
        }
    }
    rc = res->n_failed ? SLM_GATE_FAIL : SLM_GATE_PASS;
out:
    for (size_t i = 0; i < nc; i++)
        free(cnames[i]);
    free(cnames);
    free(cids);
    slm_free_strv(labels, nl);
    slm_yaml_free(y);
    return rc;
}

void slm_gate_markdown(const slm_gate_result *r, slm_buf *b)
{
    slm_buf_printf(b, "### slmbench gate: %s\n\n", r->n_failed ? "**FAILED**" : "passed");
    slm_buf_printf(b, "Run %lld", (long long)r->run_id);
    if (r->baseline_id)
        slm_buf_printf(b, " against baseline run %lld", (long long)r->baseline_id);
    slm_buf_printf(b, ": %zu checks, %zu failed.\n\n| | candidate | check | detail |\n|---|---|---|---|\n",
                   r->n, r->n_failed);
    for (size_t i = 0; i < r->n; i++) {
        const slm_gate_check *c = &r->checks[i];
        slm_buf_puts(b, c->passed ? "| ✅ | " : "| ❌ | ");
        slm_md_cell(b, c->candidate);
        slm_buf_puts(b, " | ");
        slm_md_cell(b, c->name);
        slm_buf_puts(b, " | ");
        slm_md_cell(b, c->detail);
        slm_buf_puts(b, " |\n");
    }
}

static void xml_text(slm_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': slm_buf_puts(b, "&lt;"); break;
        case '>': slm_buf_puts(b, "&gt;"); break;
        case '&': slm_buf_puts(b, "&amp;"); break;
        case '"': slm_buf_puts(b, "&quot;"); break;
        case '\'': slm_buf_puts(b, "&apos;"); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n')
                slm_buf_putc(b, *s);
        }
    }
}

void slm_gate_junit(const slm_gate_result *r, slm_buf *b)
{
    slm_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"%zu\" "
                      "failures=\"%zu\">\n<testsuite name=\"slmbench gate run %lld\" tests=\"%zu\" "
                      "failures=\"%zu\">\n",
                   r->n, r->n_failed, (long long)r->run_id, r->n, r->n_failed);
    for (size_t i = 0; i < r->n; i++) {
        const slm_gate_check *c = &r->checks[i];
        slm_buf_puts(b, "  <testcase classname=\"");
        xml_text(b, c->candidate);
        slm_buf_puts(b, "\" name=\"");
        xml_text(b, c->name);
        slm_buf_puts(b, "\">");
        if (!c->passed) {
            slm_buf_puts(b, "<failure message=\"");
            xml_text(b, c->detail);
            slm_buf_puts(b, "\"/>");
        } else {
            slm_buf_puts(b, "<system-out>");
            xml_text(b, c->detail);
            slm_buf_puts(b, "</system-out>");
        }
        slm_buf_puts(b, "</testcase>\n");
    }
    slm_buf_puts(b, "</testsuite>\n</testsuites>\n");
}

void slm_gate_json(const slm_gate_result *r, slm_buf *b)
{
    json_t *o = json_object(), *arr = json_array();
    json_object_set_new(o, "passed", json_boolean(r->n_failed == 0));
    json_object_set_new(o, "run_id", json_integer(r->run_id));
    json_object_set_new(o, "baseline_id", r->baseline_id ? json_integer(r->baseline_id) : json_null());
    json_object_set_new(o, "n_checks", json_integer((json_int_t)r->n));
    json_object_set_new(o, "n_failed", json_integer((json_int_t)r->n_failed));
    for (size_t i = 0; i < r->n; i++) {
        json_t *c = json_object();
        json_object_set_new(c, "candidate", json_string(r->checks[i].candidate));
        json_object_set_new(c, "check", json_string(r->checks[i].name));
        json_object_set_new(c, "passed", json_boolean(r->checks[i].passed));
        json_object_set_new(c, "detail", json_string(r->checks[i].detail));
        json_array_append_new(arr, c);
    }
    json_object_set_new(o, "checks", arr);
    char *s = json_dumps(o, JSON_INDENT(2));
    slm_buf_puts(b, s);
    slm_buf_putc(b, '\n');
    free(s);
    json_decref(o);
}
