/* store_read.c — see store_read.h. */
#include "store_read.h"
#include "config.h"
#include "redact.h"
#include "sha256.h"
#include "store_int.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A text column copied (NULL stays NULL). */
static char *col_dup(sqlite3_stmt *s, int i)
{
    const char *v = (const char *)sqlite3_column_text(s, i);
    return v ? slm_xstrdup(v) : NULL;
}

/* Prepares sql and binds the leading int64 arguments (run id, candidate id). */
static sqlite3_stmt *prep_ids(slm_store *st, const char *sql, int64_t a, int64_t b, int nb,
                              char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, sql, &s, err, errlen))
        return NULL;
    sqlite3_bind_int64(s, 1, a);
    if (nb > 1)
        sqlite3_bind_int64(s, 2, b);
    return s;
}

/* Grows an array of elem-sized items to hold one more. */
static void *grow(void *p, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return p;
    *cap = *cap ? 2 * *cap : 64;
    return slm_xrealloc(p, *cap * elem);
}

/* ---- a run ---- */

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
    sqlite3_stmt *s = prep_ids(st, "SELECT labels_json FROM evalsets WHERE run_id = ?", run_id,
                               0, 1, err, errlen);
    if (!s)
        return -1;
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

int slm_run_task_fields(slm_store *st, int64_t run_id, char **task, char **fields_json,
                        char *err, size_t errlen)
{
    *task = *fields_json = NULL;
    sqlite3_stmt *s = prep_ids(st, "SELECT task, fields_json FROM evalsets WHERE run_id = ?",
                               run_id, 0, 1, err, errlen);
    if (!s)
        return -1;
    if (sqlite3_step(s) == SQLITE_ROW) {
        *task = col_dup(s, 0);
        *fields_json = col_dup(s, 1);
    }
    sqlite3_finalize(s);
    return 0;
}

int slm_run_is_json_task(slm_store *st, int64_t run_id)
{
    char *task, *fields;
    if (slm_run_task_fields(st, run_id, &task, &fields, NULL, 0))
        return 0;
    int json = task && strcmp(task, "classification") != 0;
    free(task);
    free(fields);
    return json;
}

/* The stored config text as YAML that parses: where secrets were redacted from it (its
 * SHA-256 is no longer config_sha256), each SLM_REDACTED is read as the plain word
 * REDACTED, since "[redacted]" unquoted is a YAML sequence (and breaks a flow mapping).
 * The settings read back from it never need a secret's value. Caller frees. */
static char *readable_config(const char *text, const char *sha256)
{
    char hex[65];
    slm_sha256_hex(text, strlen(text), hex);
    if (!sha256 || !strcmp(hex, sha256) || !strstr(text, SLM_REDACTED))
        return slm_xstrdup(text);
    slm_buf b = {0};
    for (const char *p = text, *q; *p; p = q + strlen(SLM_REDACTED)) {
        if (!(q = strstr(p, SLM_REDACTED))) {
            slm_buf_puts(&b, p);
            break;
        }
        slm_buf_append(&b, p, (size_t)(q - p));
        slm_buf_puts(&b, "REDACTED");
    }
    return slm_buf_take(&b);
}

int slm_run_cfg_from_db(slm_store *st, int64_t run_id, slm_run_cfg **out, char *err,
                        size_t errlen)
{
    sqlite3_stmt *s = prep_ids(st, "SELECT config_path, config_text, config_sha256 FROM runs "
                                   "WHERE id = ?",
                               run_id, 0, 1, err, errlen);
    if (!s)
        return -1;
    int rc = -1;
    if (sqlite3_step(s) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(s, 0);
        const char *stored = (const char *)sqlite3_column_text(s, 1);
        char *text = readable_config(stored ? stored : "",
                                     (const char *)sqlite3_column_text(s, 2));
        path = path ? path : "<db>";
        /* relative paths in the config are relative to where the config was */
        const char *slash = strrchr(path, '/');
        char *dir = slash ? slm_xstrndup(path, (size_t)(slash - path)) : slm_xstrdup(".");
        rc = slm_run_cfg_parse(path, dir, text, strlen(text), out, err, errlen);
        free(dir);
        free(text);
    } else {
        slm_err(err, errlen, "%s: no run %lld", slm_store_path(st), (long long)run_id);
    }
    sqlite3_finalize(s);
    return rc;
}

int slm_store_ranked_candidates(slm_store *st, int64_t run_id, int64_t **ids, size_t *n,
                                char *err, size_t errlen)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *s = prep_ids(st,
                               "SELECT c.id FROM candidates c "
                               "LEFT JOIN metrics a ON a.candidate_id = c.id AND a.name = 'accuracy' "
                               "LEFT JOIN metrics f ON f.candidate_id = c.id AND f.name = 'macro_f1' "
                               "WHERE c.run_id = ? AND c.status = 'ok' "
                               "ORDER BY a.value DESC, f.value DESC, c.idx",
                               run_id, 0, 1, err, errlen);
    if (!s)
        return -1;
    size_t cap = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        *ids = grow(*ids, *n, &cap, sizeof **ids);
        (*ids)[(*n)++] = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return 0;
}

/* ---- a candidate ---- */

int slm_store_predictions(slm_store *st, int64_t cid, slm_pred **out, size_t *n, char *err,
                          size_t errlen)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = prep_ids(st,
                               "SELECT example_idx, example_id, gold, pred, error, fail_kinds, "
                               "probs_json, correct, valid, confidence, e2e_ms, prefill_ms, "
                               "decode_ms, ttft_ms, tpot_ms, n_prompt_tokens, n_output_tokens "
                               "FROM predictions WHERE candidate_id = ? ORDER BY example_idx",
                               cid, 0, 1, err, errlen);
    if (!s)
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        *out = grow(*out, *n, &cap, sizeof **out);
        slm_pred *p = &(*out)[(*n)++];
        p->example_idx = (long)sqlite3_column_int64(s, 0);
        p->example_id = col_dup(s, 1);
        p->gold = col_dup(s, 2);
        p->pred = col_dup(s, 3);
        p->error = col_dup(s, 4);
        slm_redact_read(&p->error);
        p->fail_kinds = col_dup(s, 5);
        p->probs_json = col_dup(s, 6);
        p->correct = sqlite3_column_int(s, 7);
        p->valid = sqlite3_column_int(s, 8);
        p->confidence = slm_col_double(s, 9);
        p->e2e_ms = slm_col_double(s, 10);
        p->prefill_ms = slm_col_double(s, 11);
        p->decode_ms = slm_col_double(s, 12);
        p->ttft_ms = slm_col_double(s, 13);
        p->tpot_ms = slm_col_double(s, 14);
        p->n_prompt_tokens = slm_col_double(s, 15);
        p->n_output_tokens = slm_col_double(s, 16);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        slm_preds_free(*out, *n);
        *out = NULL;
        *n = 0;
        return slm_store_db_err(st, "cannot read predictions", err, errlen);
    }
    return 0;
}

void slm_preds_free(slm_pred *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++) {
        free(p[i].example_id);
        free(p[i].gold);
        free(p[i].pred);
        free(p[i].error);
        free(p[i].fail_kinds);
        free(p[i].probs_json);
    }
    free(p);
}

int slm_store_score_rows(slm_store *st, int64_t cid, int calib, slm_score_row **out,
                         size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = prep_ids(st,
                               calib ? "SELECT gold, logprobs_json, ntok_json FROM "
                                       "calib_predictions WHERE candidate_id = ? AND "
                                       "logprobs_json IS NOT NULL ORDER BY example_idx"
                                     : "SELECT gold, logprobs_json, ntok_json FROM predictions "
                                       "WHERE candidate_id = ? AND logprobs_json IS NOT NULL "
                                       "ORDER BY example_idx",
                               cid, 0, 1, err, errlen);
    if (!s)
        return -1;
    size_t cap = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        *out = grow(*out, *n, &cap, sizeof **out);
        slm_score_row *r = &(*out)[(*n)++];
        r->gold = col_dup(s, 0);
        r->logprobs_json = col_dup(s, 1);
        r->ntok_json = col_dup(s, 2);
    }
    sqlite3_finalize(s);
    return 0;
}

void slm_score_rows_free(slm_score_row *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++) {
        free(r[i].gold);
        free(r[i].logprobs_json);
        free(r[i].ntok_json);
    }
    free(r);
}

int slm_store_samples_e2e(slm_store *st, int64_t run_id, int64_t cid, long **example_idx,
                          double **e2e_ms, size_t *n, char *err, size_t errlen)
{
    *example_idx = NULL;
    *e2e_ms = NULL;
    *n = 0;
    sqlite3_stmt *s = prep_ids(st,
                               "SELECT example_idx, e2e_ms FROM samples WHERE run_id = ? AND "
                               "candidate_id = ? AND e2e_ms IS NOT NULL ORDER BY example_idx, rep",
                               run_id, cid, 2, err, errlen);
    if (!s)
        return -1;
    size_t cap = 0, cap2 = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        *example_idx = grow(*example_idx, *n, &cap, sizeof **example_idx);
        *e2e_ms = grow(*e2e_ms, *n, &cap2, sizeof **e2e_ms);
        (*example_idx)[*n] = (long)sqlite3_column_int64(s, 0);
        (*e2e_ms)[(*n)++] = sqlite3_column_double(s, 1);
    }
    sqlite3_finalize(s);
    return 0;
}

int slm_store_samples(slm_store *st, int64_t run_id, int64_t cid, slm_sample **out, size_t *n,
                      char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = prep_ids(st,
                               "SELECT example_idx, e2e_ms, prefill_ms, decode_ms, ttft_ms "
                               "FROM samples WHERE run_id = ? AND candidate_id = ? "
                               "ORDER BY example_idx, rep",
                               run_id, cid, 2, err, errlen);
    if (!s)
        return -1;
    size_t cap = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        *out = grow(*out, *n, &cap, sizeof **out);
        slm_sample *x = &(*out)[(*n)++];
        x->example_idx = (long)sqlite3_column_int64(s, 0);
        x->e2e_ms = slm_col_double(s, 1);
        x->prefill_ms = slm_col_double(s, 2);
        x->decode_ms = slm_col_double(s, 3);
        x->ttft_ms = slm_col_double(s, 4);
    }
    sqlite3_finalize(s);
    return 0;
}

int slm_store_counter_sums(slm_store *st, int64_t run_id, int64_t cid, slm_counter_sum **out,
                           size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = prep_ids(st,
                               "SELECT event, sum(value) FROM counters WHERE run_id = ? AND "
                               "candidate_id = ? AND value IS NOT NULL GROUP BY event",
                               run_id, cid, 2, err, errlen);
    if (!s)
        return -1;
    size_t cap = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        *out = grow(*out, *n, &cap, sizeof **out);
        (*out)[*n].event = col_dup(s, 0);
        (*out)[(*n)++].sum = sqlite3_column_double(s, 1);
    }
    sqlite3_finalize(s);
    return 0;
}

void slm_counter_sums_free(slm_counter_sum *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++)
        free(c[i].event);
    free(c);
}

int slm_store_cand_facts(slm_store *st, int64_t cid, slm_cand_facts *f, char *err,
                         size_t errlen)
{
    sqlite3_stmt *s = prep_ids(st,
                               "SELECT c.load_ms, c.wall_ms, c.engine_ms, c.n_params, "
                               "c.size_bytes, r.bandwidth_gbs, r.mode, c.peak_rss_kb, "
                               "c.load1_before, c.load1_after, c.steal_pct, c.throughput_s, "
                               "c.throughput_tokens, c.throughput_n, c.throughput_mismatches, "
                               "c.repeat_check_n, c.repeat_check_flips, c.concurrency, "
                               "c.concurrent_s, c.concurrent_n, r.interleave_turn, "
                               "json_extract(r.host_json, '$.cpus_online'), "
                               "(SELECT value FROM metrics m WHERE m.candidate_id = c.id AND "
                               "m.name = 'noisy') FROM candidates c "
                               "JOIN runs r ON r.id = c.run_id WHERE c.id = ?",
                               cid, 0, 1, err, errlen);
    if (!s)
        return -1;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(s, 6);
        double *dst[] = {&f->load_ms, &f->wall_ms, &f->engine_ms, &f->n_params, &f->size_bytes,
                         &f->bandwidth_gbs, NULL, &f->peak_rss_kb, &f->load1_before,
                         &f->load1_after, &f->steal_pct, &f->throughput_s,
                         &f->throughput_tokens, &f->throughput_n, &f->throughput_mismatches,
                         &f->repeat_check_n, &f->repeat_check_flips, &f->concurrency,
                         &f->concurrent_s, &f->concurrent_n, &f->interleave_turn,
                         &f->cpus_online, &f->noisy};
        for (int i = 0; i < (int)(sizeof dst / sizeof dst[0]); i++)
            if (dst[i])
                *dst[i] = slm_col_double(s, i);
        f->generate = mode && !strcmp(mode, "generate");
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? 1 : slm_store_db_err(st, "cannot read a candidate", err, errlen);
}

/* ---- what the metrics write ---- */

/* Runs each statement of sqls with ?1 = run_id, ?2 = cid. */
static int delete_rows(slm_store *st, const char *const *sqls, size_t n, int64_t run_id,
                       int64_t cid, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *s = prep_ids(st, sqls[i], run_id, cid, 2, err, errlen);
        if (!s)
            return -1;
        int ok = sqlite3_step(s) == SQLITE_DONE;
        sqlite3_finalize(s);
        if (!ok)
            return slm_store_db_err(st, "cannot delete old results", err, errlen);
    }
    return 0;
}

int slm_store_clear_metrics(slm_store *st, int64_t run_id, int64_t cid, char *err,
                            size_t errlen)
{
    static const char *const sqls[] = {
        "DELETE FROM metrics WHERE run_id = ?1 AND candidate_id = ?2",
        "DELETE FROM per_class WHERE run_id = ?1 AND candidate_id = ?2",
        "DELETE FROM confusion WHERE run_id = ?1 AND candidate_id = ?2"};
    return delete_rows(st, sqls, 3, run_id, cid, err, errlen);
}

int slm_store_clear_analysis(slm_store *st, int64_t run_id, int64_t cid, char *err,
                             size_t errlen)
{
    static const char *const sqls[] = {
        "DELETE FROM reliability WHERE run_id = ?1 AND candidate_id = ?2",
        "DELETE FROM curves WHERE run_id = ?1 AND candidate_id = ?2"};
    return delete_rows(st, sqls, 2, run_id, cid, err, errlen);
}

int slm_store_put_metric(slm_store *st, int64_t run_id, int64_t cid, const char *name,
                         double value, double lo, double hi, long n, char *err, size_t errlen)
{
    sqlite3_stmt *s = slm_store_cached(st, SLM_STMT_PUT_METRIC,
                                       "INSERT OR REPLACE INTO metrics (run_id, candidate_id, "
                                       "name, value, lo, hi, n) VALUES (?,?,?,?,?,?,?)",
                                       err, errlen);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, cid);
    sqlite3_bind_text(s, 3, name, -1, SQLITE_TRANSIENT);
    slm_bind_double(s, 4, value);
    slm_bind_double(s, 5, lo);
    slm_bind_double(s, 6, hi);
    sqlite3_bind_int64(s, 7, n);
    if (sqlite3_step(s) != SQLITE_DONE)
        return slm_err(err, errlen, "%s: cannot store metric '%s': %s", slm_store_path(st),
                       name, sqlite3_errmsg(slm_store_db(st)));
    return 0;
}

int slm_store_put_per_class(slm_store *st, int64_t run_id, int64_t cid, const slm_class_row *r,
                            char *err, size_t errlen)
{
    sqlite3_stmt *s = slm_store_cached(st, SLM_STMT_PUT_PER_CLASS,
                                       "INSERT INTO per_class (run_id, candidate_id, label, "
                                       "in_label_set, precision, recall, f1, support, predicted) "
                                       "VALUES (?,?,?,?,?,?,?,?,?)",
                                       err, errlen);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, cid);
    sqlite3_bind_text(s, 3, r->label, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 4, r->in_label_set);
    slm_bind_double(s, 5, r->precision);
    slm_bind_double(s, 6, r->recall);
    slm_bind_double(s, 7, r->f1);
    sqlite3_bind_int64(s, 8, r->support);
    sqlite3_bind_int64(s, 9, r->predicted);
    if (sqlite3_step(s) != SQLITE_DONE)
        return slm_store_db_err(st, "cannot store per-class results", err, errlen);
    return 0;
}

int slm_store_put_confusion(slm_store *st, int64_t run_id, int64_t cid, const char *gold,
                            const char *pred, long count, char *err, size_t errlen)
{
    sqlite3_stmt *s = slm_store_cached(st, SLM_STMT_PUT_CONFUSION,
                                       "INSERT INTO confusion (run_id, candidate_id, gold, pred, "
                                       "count) VALUES (?,?,?,?,?)",
                                       err, errlen);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, cid);
    sqlite3_bind_text(s, 3, gold, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, pred, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 5, count);
    if (sqlite3_step(s) != SQLITE_DONE)
        return slm_store_db_err(st, "cannot store the confusion matrix", err, errlen);
    return 0;
}

int slm_store_put_reliability(slm_store *st, int64_t run_id, int64_t cid, const char *scheme,
                              int bin, long count, double confidence, double accuracy,
                              char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "INSERT INTO reliability (run_id, candidate_id, scheme, bin, count, "
                          "confidence, accuracy) VALUES (?,?,?,?,?,?,?)",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, cid);
    sqlite3_bind_text(s, 3, scheme, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 4, bin);
    sqlite3_bind_int64(s, 5, count);
    slm_bind_double(s, 6, confidence);
    slm_bind_double(s, 7, accuracy);
    int ok = sqlite3_step(s) == SQLITE_DONE;
    sqlite3_finalize(s);
    return ok ? 0 : slm_err(err, errlen, "%s: cannot store reliability bins", slm_store_path(st));
}

int slm_store_put_curve_point(slm_store *st, int64_t run_id, int64_t cid, const char *curve,
                              long idx, double x, double y, double threshold, char *err,
                              size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "INSERT INTO curves (run_id, candidate_id, curve, idx, x, y, threshold) "
                          "VALUES (?,?,?,?,?,?,?)",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, cid);
    sqlite3_bind_text(s, 3, curve, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, idx);
    slm_bind_double(s, 5, x);
    slm_bind_double(s, 6, y);
    slm_bind_double(s, 7, threshold);
    int ok = sqlite3_step(s) == SQLITE_DONE;
    sqlite3_finalize(s);
    return ok ? 0 : slm_err(err, errlen, "%s: cannot store the %s curve", slm_store_path(st),
                            curve);
}

int slm_store_clear_comparisons(slm_store *st, int64_t run_id, char *err, size_t errlen)
{
    sqlite3_stmt *s = prep_ids(st, "DELETE FROM comparisons WHERE run_id = ?", run_id, 0, 1,
                               err, errlen);
    if (!s)
        return -1;
    sqlite3_step(s);
    sqlite3_finalize(s);
    return 0;
}

int slm_store_put_comparison(slm_store *st, int64_t run_id, const slm_comparison_row *r,
                             char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "INSERT INTO comparisons (run_id, candidate_id, baseline_id, n, b, c, "
                          "accuracy_diff, mcnemar_p, mcnemar_exact, macro_f1_diff, "
                          "macro_f1_diff_lo, macro_f1_diff_hi, macro_f1_p, mcnemar_p_holm, "
                          "macro_f1_p_holm, seed, reps, macro_f1_crossed, holm_family) "
                          "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, r->candidate_id);
    sqlite3_bind_int64(s, 3, r->baseline_id);
    sqlite3_bind_int64(s, 4, r->n);
    sqlite3_bind_int64(s, 5, r->b);
    sqlite3_bind_int64(s, 6, r->c);
    slm_bind_double(s, 7, r->accuracy_diff);
    slm_bind_double(s, 8, r->mcnemar_p);
    sqlite3_bind_int(s, 9, r->mcnemar_exact);
    slm_bind_double(s, 10, r->macro_f1_diff);
    slm_bind_double(s, 11, r->macro_f1_diff_lo);
    slm_bind_double(s, 12, r->macro_f1_diff_hi);
    slm_bind_double(s, 13, r->macro_f1_p);
    slm_bind_double(s, 14, r->mcnemar_p_holm);
    slm_bind_double(s, 15, r->macro_f1_p_holm);
    sqlite3_bind_int64(s, 16, r->seed);
    sqlite3_bind_int(s, 17, r->reps);
    if (r->f1_crossed >= 0)
        sqlite3_bind_int64(s, 18, r->f1_crossed);
    else
        sqlite3_bind_null(s, 18);
    sqlite3_bind_int64(s, 19, r->holm_family);
    int ok = sqlite3_step(s) == SQLITE_DONE;
    sqlite3_finalize(s);
    return ok ? 0 : slm_err(err, errlen, "%s: cannot store comparisons", slm_store_path(st));
}
