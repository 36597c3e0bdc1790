/* store_reports.c — see store_reports.h. Every SQL text the reports room reads with lives
 * here, next to the others of the store. */
#include "store_int.h"
#include "store_reports.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *col_str(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? slm_xstrdup((const char *)t) : NULL;
}

/* col_str, but "" for NULL: for names that callers compare and print */
static char *col_str0(sqlite3_stmt *s, int i)
{
    char *t = col_str(s, i);
    return t ? t : slm_xstrdup("");
}

/* Prepares sql with ?1 bound to id (and ?2 to text when not NULL). */
static int query(slm_store *st, const char *sql, int64_t id, const char *text,
                 sqlite3_stmt **s, char *err, size_t errlen)
{
    if (slm_store_prepare(st, sql, s, err, errlen))
        return -1;
    sqlite3_bind_int64(*s, 1, id);
    if (text)
        sqlite3_bind_text(*s, 2, text, -1, SQLITE_TRANSIENT);
    return 0;
}

/* Finishes a row loop: finalizes s and turns a step code other than DONE into an error. */
static int done(slm_store *st, sqlite3_stmt *s, int step, const char *what, char *err,
                size_t errlen)
{
    int rc = 0;
    if (step != SQLITE_DONE)
        rc = slm_err(err, errlen, "%s: cannot read %s: %s", slm_store_path(st), what,
                     sqlite3_errmsg(slm_store_db(st)));
    sqlite3_finalize(s);
    return rc;
}

/* Grows an array of items of size sz by one and returns the new, zeroed item. */
static void *grow(void *arr, size_t *n, size_t sz)
{
    void **a = arr;
    *a = slm_xrealloc(*a, (*n + 1) * sz);
    void *item = (char *)*a + *n * sz;
    memset(item, 0, sz);
    (*n)++;
    return item;
}

/* ---- a run ---- */

static void cand_facts_read(sqlite3_stmt *s, slm_cand_card *c)
{
    c->id = sqlite3_column_int64(s, 0);
    char **g[] = {&c->name, &c->engine, &c->status, &c->error, &c->quant, &c->arch,
                  &c->model_path, &c->model_sha, &c->engine_version, &c->chat_template};
    for (int i = 0; i < 10; i++)
        *g[i] = col_str(s, i + 1);
    slm_redact_read(&c->error);
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

int slm_store_run_facts(slm_store *st, int64_t id, slm_run_facts *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    sqlite3_stmt *s;
    if (query(st,
              "SELECT r.name, r.status, r.created_at, r.finished_at, r.mode, "
              "r.harness_version, r.git_rev, r.host_json, r.error, "
              "r.quantization_policy, e.name, e.version, e.split, e.path, e.sha256, "
              "e.prompt_sha256, e.labels_json, e.n_rows FROM runs r LEFT JOIN "
              "evalsets e ON e.run_id = r.id WHERE r.id = ?",
              id, NULL, &s, err, errlen))
        return -1;
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_finalize(s);
        return slm_err(err, errlen, "%s: no run %lld", slm_store_path(st), (long long)id);
    }
    char **f[] = {&r->name, &r->status, &r->created, &r->finished, &r->mode, &r->harness,
                  &r->git, &r->host, &r->error, &r->policy, &r->es_name, &r->es_version,
                  &r->split, &r->es_path, &r->es_sha, &r->prompt_sha, &r->labels_json};
    for (int i = 0; i < 17; i++)
        *f[i] = col_str(s, i);
    slm_redact_read(&r->error);
    r->n_rows = (long)sqlite3_column_int64(s, 17);
    sqlite3_finalize(s);
    if (query(st,
              "SELECT id, name, engine, status, error, quant, arch, model_path, "
              "model_sha256, engine_version, chat_template, chat_template_used, "
              "n_params, size_bytes, n_ctx, n_vocab, n_layer, n_embd, n_threads, "
              "chat_template_sha256, chat_probe_sha256, device, n_ctx_need, "
              "kv_bytes, n_gpu_layers, peak_rss_kb "
              "FROM candidates WHERE run_id = ? ORDER BY idx",
              id, NULL, &s, err, errlen))
        return -1;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW)
        cand_facts_read(s, grow(&r->c, &r->nc, sizeof *r->c));
    return done(st, s, step, "the candidates", err, errlen);
}

void slm_run_facts_free(slm_run_facts *r)
{
    if (!r)
        return;
    free(r->name), free(r->status), free(r->created), free(r->finished), free(r->mode);
    free(r->harness), free(r->git), free(r->host), free(r->error), free(r->policy);
    free(r->es_name), free(r->es_version), free(r->split), free(r->es_path), free(r->es_sha);
    free(r->prompt_sha), free(r->labels_json);
    for (size_t i = 0; i < r->nc; i++) {
        slm_cand_card *c = &r->c[i];
        free(c->name), free(c->engine), free(c->status), free(c->error), free(c->quant);
        free(c->arch), free(c->model_path), free(c->model_sha), free(c->engine_version);
        free(c->chat_template), free(c->tmpl_sha), free(c->probe_sha), free(c->device);
    }
    free(r->c);
    memset(r, 0, sizeof *r);
}

int slm_store_run_status(slm_store *st, int64_t run_id, char **status, char *err,
                         size_t errlen)
{
    sqlite3_stmt *s;
    *status = NULL;
    if (query(st, "SELECT status FROM runs WHERE id = ?", run_id, NULL, &s, err, errlen))
        return -1;
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        *status = col_str(s, 0);
        step = SQLITE_DONE;
    }
    return done(st, s, step, "the run", err, errlen);
}

char *slm_store_run_hash(slm_store *st, int64_t run_id, int which)
{
    sqlite3_stmt *s;
    char *v = NULL;
    if (query(st,
              which ? "SELECT prompt_sha256 FROM evalsets WHERE run_id = ?"
                    : "SELECT sha256 FROM evalsets WHERE run_id = ?",
              run_id, NULL, &s, NULL, 0))
        return NULL;
    if (sqlite3_step(s) == SQLITE_ROW)
        v = col_str(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* ---- per-candidate rows ---- */

int slm_store_classes(slm_store *st, int64_t cand_id, int which, slm_class_stat **rows,
                      size_t *n, char *err, size_t errlen)
{
    static const char *const sql[] = {
        [SLM_CLASSES_STORED] = "SELECT label, in_label_set, precision, recall, f1, support, "
                               "predicted FROM per_class WHERE candidate_id = ? ORDER BY rowid",
        [SLM_CLASSES_SET_FIRST] = "SELECT label, in_label_set, precision, recall, f1, support, "
                                  "predicted FROM per_class WHERE candidate_id = ? "
                                  "ORDER BY in_label_set DESC, rowid",
        [SLM_CLASSES_SET] = "SELECT label, in_label_set, precision, recall, f1, support, "
                            "predicted FROM per_class WHERE candidate_id = ? AND "
                            "in_label_set = 1 ORDER BY rowid",
        [SLM_CLASSES_SET_BY_LABEL] = "SELECT label, in_label_set, precision, recall, f1, "
                                     "support, predicted FROM per_class WHERE candidate_id = ? "
                                     "AND in_label_set = 1 ORDER BY label",
    };
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (which < 0 || which > SLM_CLASSES_SET_BY_LABEL)
        return slm_err(err, errlen, "no such per-class selection %d", which);
    if (query(st, sql[which], cand_id, NULL, &s, err, errlen))
        return -1;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        slm_class_stat *r = grow(rows, n, sizeof **rows);
        r->label = col_str0(s, 0);
        r->in_label_set = sqlite3_column_int(s, 1);
        r->precision = slm_col_double(s, 2);
        r->recall = slm_col_double(s, 3);
        r->f1 = slm_col_double(s, 4);
        r->support = (long)sqlite3_column_int64(s, 5);
        r->predicted = (long)sqlite3_column_int64(s, 6);
    }
    return done(st, s, step, "the per-class results", err, errlen);
}

void slm_class_rows_free(slm_class_stat *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        free(rows[i].label);
    free(rows);
}

int slm_store_confusion(slm_store *st, int64_t cand_id, slm_conf_cell **cells, size_t *n,
                        char *err, size_t errlen)
{
    *cells = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (query(st, "SELECT gold, pred, count FROM confusion WHERE candidate_id = ?", cand_id,
              NULL, &s, err, errlen))
        return -1;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        slm_conf_cell *c = grow(cells, n, sizeof **cells);
        c->gold = col_str0(s, 0);
        c->pred = col_str0(s, 1);
        c->count = (long)sqlite3_column_int64(s, 2);
    }
    return done(st, s, step, "the confusion matrix", err, errlen);
}

void slm_conf_cells_free(slm_conf_cell *cells, size_t n)
{
    for (size_t i = 0; cells && i < n; i++)
        free(cells[i].gold), free(cells[i].pred);
    free(cells);
}

int slm_store_metrics_of(slm_store *st, int64_t cand_id, slm_metric_value **v, size_t *n,
                         char *err, size_t errlen)
{
    *v = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (query(st, "SELECT name, value FROM metrics WHERE candidate_id = ?", cand_id, NULL, &s,
              err, errlen))
        return -1;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        slm_metric_value *m = grow(v, n, sizeof **v);
        m->name = col_str0(s, 0);
        m->value = slm_col_double(s, 1);
    }
    return done(st, s, step, "the metrics", err, errlen);
}

void slm_metric_values_free(slm_metric_value *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].name);
    free(v);
}

int slm_store_structured_names(slm_store *st, int64_t run_id, char ***names, size_t *n,
                               char *err, size_t errlen)
{
    *names = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (query(st,
              "SELECT DISTINCT name FROM metrics WHERE run_id = ? AND (name LIKE "
              "'field\\_%' ESCAPE '\\' OR name LIKE 'fail.%') ORDER BY name LIKE "
              "'fail.%', name",
              run_id, NULL, &s, err, errlen))
        return -1;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW)
        *(char **)grow(names, n, sizeof **names) = col_str0(s, 0);
    return done(st, s, step, "the metric names", err, errlen);
}

int slm_store_reliability(slm_store *st, int64_t cand_id, const char *scheme,
                          slm_rel_bin **bins, size_t *n, char *err, size_t errlen)
{
    *bins = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (query(st,
              "SELECT bin, count, confidence, accuracy FROM reliability WHERE "
              "candidate_id = ?1 AND scheme = ?2 ORDER BY bin",
              cand_id, scheme, &s, err, errlen))
        return -1;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        slm_rel_bin *b = grow(bins, n, sizeof **bins);
        b->bin = sqlite3_column_int(s, 0);
        b->count = (long)sqlite3_column_int64(s, 1);
        b->conf = slm_col_double(s, 2);
        b->acc = slm_col_double(s, 3);
    }
    return done(st, s, step, "the reliability bins", err, errlen);
}

int slm_store_latencies(slm_store *st, int64_t cand_id, double **v, size_t *n, char *err,
                        size_t errlen)
{
    *v = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (query(st,
              "SELECT e2e_ms FROM predictions WHERE candidate_id = ? AND "
              "e2e_ms IS NOT NULL ORDER BY e2e_ms",
              cand_id, NULL, &s, err, errlen))
        return -1;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        double e = sqlite3_column_double(s, 0);
        if (isfinite(e))
            *(double *)grow(v, n, sizeof **v) = e;
    }
    return done(st, s, step, "the latencies", err, errlen);
}

int slm_store_curve(slm_store *st, int64_t cand_id, const char *curve, slm_curve_pt **pts,
                    size_t *n, char *err, size_t errlen)
{
    *pts = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (query(st,
              "SELECT x, y, threshold FROM curves WHERE candidate_id = ?1 AND curve = ?2 "
              "ORDER BY idx",
              cand_id, curve, &s, err, errlen))
        return -1;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        slm_curve_pt *p = grow(pts, n, sizeof **pts);
        p->x = slm_col_double(s, 0);
        p->y = slm_col_double(s, 1);
        p->threshold = slm_col_double(s, 2);
    }
    return done(st, s, step, "the curves", err, errlen);
}

/* ---- per-run rows ---- */

int slm_store_counter_events(slm_store *st, int64_t run_id, slm_counter_event **ev,
                             size_t *n, char *err, size_t errlen)
{
    *ev = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (query(st, "SELECT event, source, reason FROM counter_events WHERE run_id = ?", run_id,
              NULL, &s, err, errlen))
        return -1;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        slm_counter_event *e = grow(ev, n, sizeof **ev);
        e->event = col_str(s, 0);
        e->source = col_str(s, 1);
        e->reason = col_str(s, 2);
    }
    return done(st, s, step, "the counter events", err, errlen);
}

void slm_counter_events_free(slm_counter_event *ev, size_t n)
{
    for (size_t i = 0; ev && i < n; i++)
        free(ev[i].event), free(ev[i].source), free(ev[i].reason);
    free(ev);
}

int slm_store_comparisons(slm_store *st, int64_t run_id, slm_comparison_stat **rows,
                          size_t *n, char *err, size_t errlen)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (query(st,
              "SELECT c.name, bc.name, x.n, x.b, x.c, x.accuracy_diff, x.mcnemar_p, "
              "x.mcnemar_exact, x.mcnemar_p_holm, x.macro_f1_diff, x.macro_f1_diff_lo, "
              "x.macro_f1_diff_hi, x.macro_f1_p, x.macro_f1_p_holm, x.reps, x.seed, "
              "coalesce(x.macro_f1_crossed, -1), coalesce(x.holm_family, -1) "
              "FROM comparisons x JOIN candidates c ON c.id = x.candidate_id "
              "JOIN candidates bc ON bc.id = x.baseline_id WHERE x.run_id = ? "
              "ORDER BY c.idx",
              run_id, NULL, &s, err, errlen))
        return -1;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        slm_comparison_stat *r = grow(rows, n, sizeof **rows);
        r->name = col_str(s, 0);
        r->baseline = col_str(s, 1);
        r->n = (long)sqlite3_column_int64(s, 2);
        r->b = (long)sqlite3_column_int64(s, 3);
        r->c = (long)sqlite3_column_int64(s, 4);
        r->acc_diff = slm_col_double(s, 5);
        r->mcnemar_p = slm_col_double(s, 6);
        r->mcnemar_exact = sqlite3_column_int(s, 7);
        r->mcnemar_p_holm = slm_col_double(s, 8);
        r->f1_diff = slm_col_double(s, 9);
        r->f1_diff_lo = slm_col_double(s, 10);
        r->f1_diff_hi = slm_col_double(s, 11);
        r->f1_p = slm_col_double(s, 12);
        r->f1_p_holm = slm_col_double(s, 13);
        r->reps = (long)sqlite3_column_int64(s, 14);
        r->seed = (long)sqlite3_column_int64(s, 15);
        r->f1_crossed = (long)sqlite3_column_int64(s, 16);
        r->holm_family = (long)sqlite3_column_int64(s, 17);
    }
    return done(st, s, step, "the comparisons", err, errlen);
}

void slm_comparison_rows_free(slm_comparison_stat *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        free(rows[i].name), free(rows[i].baseline);
    free(rows);
}

/* ---- the drift review ---- */

int slm_store_latest_month(slm_store *st, char month[8], char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "SELECT strftime('%Y-%m', coalesce(as_of, created_at)) AS m FROM runs "
                          "WHERE status = "
                          "'complete' AND m IS NOT NULL ORDER BY m DESC LIMIT 1",
                          &s, err, errlen))
        return -1;
    int rc = 1, step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(s, 0);
        snprintf(month, 8, "%s", m ? m : "");
        rc = 0;
        step = SQLITE_DONE;
    }
    return done(st, s, step, "the runs", err, errlen) ? -1 : rc;
}

int slm_store_window(slm_store *st, const char *from, const char *to, slm_window_row **rows,
                     size_t *n, char *err, size_t errlen)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "SELECT c.id, c.name, c.model_sha256, r.id, r.created_at, e.name, "
                          "e.version, e.sha256, "
                          "strftime('%Y-%m', coalesce(r.as_of, r.created_at)) AS m, r.as_of "
                          "FROM runs r JOIN evalsets e ON e.run_id = r.id "
                          "JOIN candidates c ON c.run_id = r.id "
                          "WHERE r.status = 'complete' AND c.status = 'ok' AND m BETWEEN ? AND ? "
                          "ORDER BY julianday(coalesce(r.as_of, r.created_at)), r.id, c.idx",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_text(s, 1, from, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, to, -1, SQLITE_TRANSIENT);
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        slm_window_row *w = grow(rows, n, sizeof **rows);
        w->cand_id = sqlite3_column_int64(s, 0);
        w->model = col_str0(s, 1);
        w->model_sha = col_str(s, 2);
        w->run_id = sqlite3_column_int64(s, 3);
        w->created_at = col_str(s, 4);
        w->es_name = col_str0(s, 5);
        w->es_version = col_str(s, 6);
        w->es_sha = col_str(s, 7);
        w->month = col_str(s, 8);
        w->as_of = col_str(s, 9);
    }
    return done(st, s, step, "the runs", err, errlen);
}

void slm_window_rows_free(slm_window_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        slm_window_row *w = &rows[i];
        free(w->model), free(w->model_sha), free(w->created_at), free(w->es_name);
        free(w->es_version), free(w->es_sha), free(w->month), free(w->as_of);
    }
    free(rows);
}

int slm_store_find_rescore(slm_store *st, const char *model_sha, const char *es_sha,
                           int64_t *cand_id, int64_t *run_id, char **name, char *err,
                           size_t errlen)
{
    *name = NULL;
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "SELECT c.id, r.id, c.name FROM candidates c "
                          "JOIN runs r ON r.id = c.run_id JOIN evalsets e ON e.run_id = r.id "
                          "WHERE r.status = 'complete' AND c.status = 'ok' "
                          "AND c.model_sha256 = ? AND e.sha256 = ? "
                          "ORDER BY julianday(coalesce(r.as_of, r.created_at)) DESC, r.id DESC, "
                          "c.idx LIMIT 1",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_text(s, 1, model_sha, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, es_sha, -1, SQLITE_TRANSIENT);
    int rc = 1, step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        *cand_id = sqlite3_column_int64(s, 0);
        *run_id = sqlite3_column_int64(s, 1);
        *name = col_str0(s, 2);
        rc = 0;
        step = SQLITE_DONE;
    }
    return done(st, s, step, "the runs", err, errlen) ? -1 : rc;
}

int slm_store_gold_counts(slm_store *st, int64_t run_id, slm_label_count **c, size_t *n,
                          char *err, size_t errlen)
{
    *c = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (query(st,
              "SELECT label, count(*) FROM examples WHERE run_id = ? GROUP BY label "
              "ORDER BY label",
              run_id, NULL, &s, err, errlen))
        return -1;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        slm_label_count *l = grow(c, n, sizeof **c);
        l->label = col_str0(s, 0);
        l->n = (long)sqlite3_column_int64(s, 1);
    }
    return done(st, s, step, "the examples", err, errlen);
}

void slm_label_counts_free(slm_label_count *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++)
        free(c[i].label);
    free(c);
}
