/* store_prod.c — see store_prod.h. Every SQL text of production logs lives here. */
#include "store_prod.h"
#include "store_int.h"
#include "store_read.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *col_dup(sqlite3_stmt *s, int i)
{
    const char *v = (const char *)sqlite3_column_text(s, i);
    return v ? slm_xstrdup(v) : NULL;
}

/* Runs a statement that returns no rows; its parameters already bound. Finalizes it. */
static int step_done(slm_store *st, sqlite3_stmt *s, const char *what, char *err,
                     size_t errlen)
{
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : slm_store_db_err(st, what, err, errlen);
}

/* ---- deployments ---- */

static void parse_labels(const char *json, char ***labels, size_t *n)
{
    *labels = NULL;
    *n = 0;
    json_t *a = json ? json_loads(json, 0, NULL) : NULL;
    if (json_is_array(a) && json_array_size(a)) {
        *labels = slm_xcalloc(json_array_size(a), sizeof **labels);
        for (size_t i = 0; i < json_array_size(a); i++) {
            const char *l = json_string_value(json_array_get(a, i));
            if (l)
                (*labels)[(*n)++] = slm_xstrdup(l);
        }
    }
    json_decref(a);
}

int slm_prod_deployment(slm_store *st, const char *name, slm_deployment *d, char *err,
                        size_t errlen)
{
    memset(d, 0, sizeof *d);
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "SELECT d.id, d.name, d.run_id, d.candidate_id, c.name, "
                          "d.evalset_sha256, d.labels_json, d.created_at, d.tied_at FROM "
                          "deployments d LEFT JOIN candidates c ON c.id = d.candidate_id "
                          "WHERE d.name = ?",
                          &s, err, errlen))
        return -1;
    slm_bind_text(s, 1, name);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        d->id = sqlite3_column_int64(s, 0);
        d->name = col_dup(s, 1);
        d->run_id = sqlite3_column_int64(s, 2);
        d->candidate_id = sqlite3_column_int64(s, 3);
        d->candidate = col_dup(s, 4);
        d->evalset_sha256 = col_dup(s, 5);
        parse_labels((const char *)sqlite3_column_text(s, 6), &d->labels, &d->n_labels);
        d->created_at = col_dup(s, 7);
        d->tied_at = col_dup(s, 8);
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? 1 : slm_store_db_err(st, "cannot read deployments", err, errlen);
}

void slm_deployment_free(slm_deployment *d)
{
    if (!d)
        return;
    free(d->name);
    free(d->candidate);
    free(d->evalset_sha256);
    slm_free_strv(d->labels, d->n_labels);
    free(d->created_at);
    free(d->tied_at);
    memset(d, 0, sizeof *d);
}

int slm_prod_deployment_ensure(slm_store *st, const char *name, int64_t *id, char *err,
                               size_t errlen)
{
    char now[32];
    slm_utc_iso8601(now, sizeof now);
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "INSERT OR IGNORE INTO deployments (name, created_at) VALUES (?, ?)",
                          &s, err, errlen))
        return -1;
    slm_bind_text(s, 1, name);
    slm_bind_text(s, 2, now);
    if (step_done(st, s, "cannot create the deployment", err, errlen))
        return -1;
    if (slm_store_prepare(st, "SELECT id FROM deployments WHERE name = ?", &s, err, errlen))
        return -1;
    slm_bind_text(s, 1, name);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : slm_store_db_err(st, "cannot read deployments", err, errlen);
}

/* The run's status and eval set, and the candidate's id and status. 0, 1 (absent), -1. */
static int tie_facts(slm_store *st, int64_t run_id, const char *cand, char status[16],
                     char **labels_json, char **sha, int64_t *cid, char cstatus[16],
                     char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "SELECT r.status, e.labels_json, e.sha256, c.id, c.status FROM runs r "
                          "LEFT JOIN evalsets e ON e.run_id = r.id LEFT JOIN candidates c ON "
                          "c.run_id = r.id AND c.name = ?2 WHERE r.id = ?1",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    slm_bind_text(s, 2, cand);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        snprintf(status, 16, "%s", (const char *)sqlite3_column_text(s, 0));
        *labels_json = col_dup(s, 1);
        *sha = col_dup(s, 2);
        *cid = sqlite3_column_int64(s, 3);
        const char *cs = (const char *)sqlite3_column_text(s, 4);
        snprintf(cstatus, 16, "%s", cs ? cs : "");
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? 1 : slm_store_db_err(st, "cannot read the run", err, errlen);
}

static int write_tie(slm_store *st, int64_t dep, int64_t run_id, int64_t cid,
                     const char *labels, const char *sha, int forced, char *err, size_t errlen)
{
    char now[32];
    slm_utc_iso8601(now, sizeof now);
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "UPDATE deployments SET run_id = ?, candidate_id = ?, "
                              "labels_json = ?, evalset_sha256 = ?, tied_at = ? WHERE id = ?",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, cid);
    slm_bind_text(s, 3, labels);
    slm_bind_text(s, 4, sha);
    slm_bind_text(s, 5, now);
    sqlite3_bind_int64(s, 6, dep);
    if (step_done(st, s, "cannot tie the deployment", err, errlen))
        return -1;
    if (slm_store_prepare(st, "INSERT INTO deployment_ties (deployment_id, run_id, "
                              "candidate_id, tied_at, forced) VALUES (?, ?, ?, ?, ?)",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, dep);
    sqlite3_bind_int64(s, 2, run_id);
    sqlite3_bind_int64(s, 3, cid);
    slm_bind_text(s, 4, now);
    sqlite3_bind_int(s, 5, forced);
    return step_done(st, s, "cannot record the tie", err, errlen);
}

/* The checks of slm_prod_tie, then the tie; inside the caller's transaction. */
static int tie_in_tx(slm_store *st, const char *name, int64_t run_id, const char *cand,
                     int force, int *changed, int *bad_input, char *err, size_t errlen)
{
    char status[16] = "", cstatus[16] = "";
    char *labels = NULL, *sha = NULL;
    int64_t cid = 0;
    int rc = tie_facts(st, run_id, cand, status, &labels, &sha, &cid, cstatus, err, errlen);
    slm_deployment d = {0};
    if (rc >= 0) /* from here on, a refusal is the user's input */
        *bad_input = 1;
    if (rc == 1)
        rc = slm_err(err, errlen, "no run %lld in %s", (long long)run_id, slm_store_path(st));
    else if (!rc && strcmp(status, "complete"))
        rc = slm_err(err, errlen, "run %lld is %s, not complete: only a complete run can be "
                     "a deployment's reference", (long long)run_id, status);
    else if (!rc && !cid)
        rc = slm_err(err, errlen, "run %lld has no candidate '%s'", (long long)run_id, cand);
    else if (!rc && strcmp(cstatus, "ok"))
        rc = slm_err(err, errlen, "candidate '%s' of run %lld has status %s, not ok", cand,
                     (long long)run_id, cstatus);
    if (!rc)
        *bad_input = 0;
    int64_t dep = 0;
    if (!rc)
        rc = slm_prod_deployment_ensure(st, name, &dep, err, errlen);
    if (!rc)
        rc = slm_prod_deployment(st, name, &d, err, errlen) < 0 ? -1 : 0;
    if (!rc && d.run_id && (d.run_id != run_id || d.candidate_id != cid) && !force) {
        rc = slm_err(err, errlen, "deployment '%s' is tied to run %lld candidate '%s' (since "
                     "%s); deploy --force ties it to another", name, (long long)d.run_id,
                     d.candidate ? d.candidate : "?", d.tied_at ? d.tied_at : "?");
        *bad_input = 1;
    }
    *changed = !rc && !(d.run_id == run_id && d.candidate_id == cid);
    if (!rc && *changed)
        rc = write_tie(st, dep, run_id, cid, labels, sha, d.run_id != 0, err, errlen);
    slm_deployment_free(&d);
    free(labels);
    free(sha);
    return rc;
}

int slm_prod_tie(slm_store *st, const char *name, int64_t run_id, const char *cand, int force,
                 int *changed, int *bad_input, char *err, size_t errlen)
{
    *changed = 0;
    *bad_input = 0;
    if (slm_store_begin(st, err, errlen))
        return -1;
    if (tie_in_tx(st, name, run_id, cand, force, changed, bad_input, err, errlen)) {
        slm_store_rollback(st);
        return -1;
    }
    return slm_store_commit(st, err, errlen);
}

/* ---- ingest ---- */

struct slm_prod_writer {
    slm_store *st;
    int64_t deployment_id, ingest_id;
    int keep_text;
    int in_tx;
    char *path; /* the file read: each row's source_file */
    sqlite3_stmt *ins, *find;
};

static const char INSERT_ROW[] =
    "INSERT OR IGNORE INTO prod_predictions (deployment_id, log_id, ts, month, pred, "
    "confidence, probs_json, latency_ms, escalated, corrected_label, model, text, text_sha256, "
    "text_bytes, text_words, tags_json, content_sha256, source_file, source_line, ingest_id) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20)";

static const char FIND_ROW[] = "SELECT content_sha256, source_file, source_line FROM "
                               "prod_predictions WHERE deployment_id = ? AND log_id = ?";

static int writer_begin(slm_prod_writer *w, char *err, size_t errlen)
{
    if (slm_store_begin(w->st, err, errlen))
        return -1;
    w->in_tx = 1;
    return 0;
}

int slm_prod_writer_open(slm_store *st, int64_t deployment_id, const char *path,
                         const char *format, int keep_text, slm_prod_writer **out,
                         char *err, size_t errlen)
{
    *out = NULL;
    char now[32];
    slm_utc_iso8601(now, sizeof now);
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "INSERT INTO ingests (deployment_id, path, format, status, "
                              "started_at) VALUES (?, ?, ?, 'running', ?)",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, deployment_id);
    slm_bind_text(s, 2, path);
    slm_bind_text(s, 3, format);
    slm_bind_text(s, 4, now);
    if (step_done(st, s, "cannot record the ingest", err, errlen))
        return -1;
    slm_prod_writer *w = slm_xcalloc(1, sizeof *w);
    w->st = st;
    w->deployment_id = deployment_id;
    w->ingest_id = sqlite3_last_insert_rowid(slm_store_db(st));
    w->keep_text = keep_text;
    w->path = slm_xstrdup(path);
    /* a larger page cache for the ingest's three B-trees (the table, its UNIQUE key and the
     * month index): with SQLite's default 2 MiB, a million rows re-read index pages from
     * the file at every insert. Bounded: 32 MiB whatever the log's size. A checkpoint
     * every 16,384 WAL pages (64 MiB of WAL on disk) instead of SQLite's 1,000: a page
     * changed by many batches is copied into the database once, not at every 4 MiB;
     * each batch is still committed in the WAL, so a kill -9 loses nothing committed. */
    if (slm_store_exec(st, "PRAGMA cache_size = -32768", err, errlen) ||
        slm_store_exec(st, "PRAGMA wal_autocheckpoint = 16384", err, errlen) ||
        slm_store_prepare(st, INSERT_ROW, &w->ins, err, errlen) ||
        slm_store_prepare(st, FIND_ROW, &w->find, err, errlen) ||
        writer_begin(w, err, errlen)) {
        slm_prod_writer_close(w);
        return -1;
    }
    *out = w;
    return 0;
}

/* A text the row owns until the statement has run: bound without SQLite's copy. */
static void bind_static(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static void bind_row(slm_prod_writer *w, const slm_prod_row *r)
{
    sqlite3_stmt *s = w->ins;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, w->deployment_id);
    bind_static(s, 2, r->id);
    bind_static(s, 3, r->ts);
    bind_static(s, 4, r->month);
    bind_static(s, 5, r->pred);
    slm_bind_double(s, 6, r->confidence);
    bind_static(s, 7, r->probs_json);
    slm_bind_double(s, 8, r->latency_ms);
    if (r->escalated >= 0)
        sqlite3_bind_int(s, 9, r->escalated);
    else
        sqlite3_bind_null(s, 9);
    bind_static(s, 10, r->corrected_label);
    bind_static(s, 11, r->model);
    /* the text and the free-form tags may carry a secret a customer pasted */
    slm_bind_redacted(s, 12, w->keep_text ? r->text : NULL);
    bind_static(s, 13, r->text ? r->text_sha256 : NULL);
    if (r->text) {
        sqlite3_bind_int64(s, 14, (sqlite3_int64)r->text_bytes);
        sqlite3_bind_int64(s, 15, r->text_words);
    } else {
        sqlite3_bind_null(s, 14);
        sqlite3_bind_null(s, 15);
    }
    slm_bind_redacted(s, 16, r->tags_json);
    bind_static(s, 17, r->content_sha256);
    bind_static(s, 18, w->path);
    sqlite3_bind_int64(s, 19, r->line);
    sqlite3_bind_int64(s, 20, w->ingest_id);
}

int slm_prod_put(slm_prod_writer *w, const slm_prod_row *row, char *first_file,
                 long *first_line, char *err, size_t errlen)
{
    bind_row(w, row);
    if (sqlite3_step(w->ins) != SQLITE_DONE)
        return slm_store_db_err(w->st, "cannot store a production row", err, errlen);
    if (sqlite3_changes(slm_store_db(w->st)) == 1)
        return 0;
    sqlite3_reset(w->find);
    sqlite3_bind_int64(w->find, 1, w->deployment_id);
    bind_static(w->find, 2, row->id);
    if (sqlite3_step(w->find) != SQLITE_ROW)
        return slm_store_db_err(w->st, "cannot read a stored production row", err, errlen);
    const char *sha = (const char *)sqlite3_column_text(w->find, 0);
    if (sha && !strcmp(sha, row->content_sha256))
        return 1;
    const char *f = (const char *)sqlite3_column_text(w->find, 1);
    snprintf(first_file, 1024, "%s", f ? f : "?");
    *first_line = (long)sqlite3_column_int64(w->find, 2);
    return 2;
}

static int write_counts(slm_prod_writer *w, const slm_ingest_counts *c, const char *status,
                        const char *sha, const char *error, char *err, size_t errlen)
{
    char now[32];
    slm_utc_iso8601(now, sizeof now);
    sqlite3_stmt *s;
    if (slm_store_prepare(w->st,
                          "UPDATE ingests SET rows_read = ?, added = ?, already_present = ?, "
                          "conflicting = ?, bad_rows = ?, out_of_order = ?, unknown_labels = ?, "
                          "last_line = ?, status = coalesce(?, status), finished_at = "
                          "CASE WHEN ? IS NULL THEN NULL ELSE ? END, file_sha256 = ?, "
                          "error = ? WHERE id = ?",
                          &s, err, errlen))
        return -1;
    const long v[] = {c->rows_read, c->added, c->present, c->conflicts,
                      c->bad, c->out_of_order, c->unknown_labels, c->last_line};
    for (int i = 0; i < 8; i++)
        sqlite3_bind_int64(s, i + 1, v[i]);
    slm_bind_text(s, 9, status);
    slm_bind_text(s, 10, status);
    slm_bind_text(s, 11, now);
    slm_bind_text(s, 12, sha);
    slm_bind_redacted(s, 13, error);
    sqlite3_bind_int64(s, 14, w->ingest_id);
    return step_done(w->st, s, "cannot record the ingest's counts", err, errlen);
}

int slm_prod_writer_commit(slm_prod_writer *w, const slm_ingest_counts *c, char *err,
                           size_t errlen)
{
    if (write_counts(w, c, NULL, NULL, NULL, err, errlen))
        return -1;
    w->in_tx = 0;
    if (slm_store_commit(w->st, err, errlen))
        return -1;
    return writer_begin(w, err, errlen);
}

void slm_prod_writer_rollback(slm_prod_writer *w)
{
    if (w && w->in_tx) {
        slm_store_rollback(w->st);
        w->in_tx = 0;
    }
}

int slm_prod_writer_finish(slm_prod_writer *w, const char *status, const slm_ingest_counts *c,
                           const char *file_sha256, const char *error, char *err,
                           size_t errlen)
{
    if (!w->in_tx && writer_begin(w, err, errlen))
        return -1;
    if (write_counts(w, c, status, file_sha256, error, err, errlen)) {
        slm_prod_writer_rollback(w);
        return -1;
    }
    w->in_tx = 0;
    return slm_store_commit(w->st, err, errlen);
}

void slm_prod_writer_close(slm_prod_writer *w)
{
    if (!w)
        return;
    slm_prod_writer_rollback(w);
    sqlite3_finalize(w->ins);
    sqlite3_finalize(w->find);
    free(w->path);
    free(w);
}

/* ---- the read side ---- */

int slm_prod_months(slm_store *st, int64_t deployment_id, slm_prod_month **out, size_t *n,
                    char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "SELECT month, count(*) FROM prod_predictions WHERE "
                              "deployment_id = ? GROUP BY month ORDER BY month",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, deployment_id);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *out = slm_xrealloc(*out, cap * sizeof **out);
        }
        const char *m = (const char *)sqlite3_column_text(s, 0);
        snprintf((*out)[*n].month, sizeof (*out)[*n].month, "%s", m ? m : "");
        (*out)[*n].n = (long)sqlite3_column_int64(s, 1);
        (*n)++;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        slm_prod_months_free(*out);
        *out = NULL;
        *n = 0;
        return slm_store_db_err(st, "cannot read the months of a deployment", err, errlen);
    }
    return 0;
}

void slm_prod_months_free(slm_prod_month *m)
{
    free(m);
}

static const char *text_col(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

static void fill_rec(sqlite3_stmt *s, int with_text, slm_prod_rec *r)
{
    r->log_id = text_col(s, 0);
    r->ts = text_col(s, 1);
    r->pred = text_col(s, 2);
    r->confidence = slm_col_double(s, 3);
    r->probs_json = text_col(s, 4);
    r->latency_ms = slm_col_double(s, 5);
    r->escalated = sqlite3_column_type(s, 6) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 6);
    r->corrected_label = text_col(s, 7);
    r->model = text_col(s, 8);
    r->text_sha256 = text_col(s, 9);
    int has = sqlite3_column_type(s, 10) != SQLITE_NULL;
    r->text_bytes = has ? (long)sqlite3_column_int64(s, 10) : -1;
    r->text_words = has ? (long)sqlite3_column_int64(s, 11) : -1;
    r->tags_json = text_col(s, 12);
    r->text = with_text ? text_col(s, 13) : NULL;
}

int slm_prod_each(slm_store *st, int64_t deployment_id, const char *month, int with_text,
                  slm_prod_fn fn, void *ud, char *err, size_t errlen)
{
    /* the text column is selected only when asked for: SQLite then never reads its
     * overflow pages */
    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT log_id, ts, pred, confidence, probs_json, latency_ms, escalated, "
             "corrected_label, model, text_sha256, text_bytes, text_words, tags_json%s FROM "
             "prod_predictions WHERE deployment_id = ?1 AND (?2 IS NULL OR month = ?2) "
             "ORDER BY ts, log_id",
             with_text ? ", text" : "");
    sqlite3_stmt *s;
    if (slm_store_prepare(st, sql, &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, deployment_id);
    slm_bind_text(s, 2, month);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        slm_prod_rec r;
        fill_rec(s, with_text, &r);
        if (fn(&r, ud)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0
                             : slm_store_db_err(st, "cannot read production rows", err, errlen);
}

/* The index of label l in labels, or -1. */
static int label_index(char **labels, size_t n, const char *l)
{
    for (size_t i = 0; l && i < n; i++)
        if (!strcmp(labels[i], l))
            return (int)i;
    return -1;
}

/* A JSON array of numbers into v[0..n) (NaN where absent or not a number). */
static void json_doubles(const char *json, double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = NAN;
    json_t *a = json ? json_loads(json, 0, NULL) : NULL;
    for (size_t i = 0; json_is_array(a) && i < n && i < json_array_size(a); i++) {
        json_t *x = json_array_get(a, i);
        if (json_is_number(x))
            v[i] = json_number_value(x);
    }
    json_decref(a);
}

static void ref_row(slm_prod_evalref *ref, size_t i, sqlite3_stmt *s)
{
    size_t nl = ref->n_labels;
    ref->example_id[i] = col_dup(s, 0);
    ref->gold[i] = label_index(ref->labels, nl, text_col(s, 1));
    ref->pred[i] = label_index(ref->labels, nl, text_col(s, 2));
    ref->confidence[i] = slm_col_double(s, 3);
    json_doubles(text_col(s, 4), ref->probs + i * nl, nl);
    json_doubles(text_col(s, 5), ref->logprobs + i * nl, nl);
    ref->e2e_ms[i] = slm_col_double(s, 6);
}

static void ref_grow(slm_prod_evalref *ref, size_t cap)
{
    size_t nl = ref->n_labels ? ref->n_labels : 1;
    ref->example_id = slm_xrealloc(ref->example_id, cap * sizeof *ref->example_id);
    ref->gold = slm_xrealloc(ref->gold, cap * sizeof *ref->gold);
    ref->pred = slm_xrealloc(ref->pred, cap * sizeof *ref->pred);
    ref->confidence = slm_xrealloc(ref->confidence, cap * sizeof *ref->confidence);
    ref->probs = slm_xrealloc(ref->probs, cap * nl * sizeof *ref->probs);
    ref->logprobs = slm_xrealloc(ref->logprobs, cap * nl * sizeof *ref->logprobs);
    ref->e2e_ms = slm_xrealloc(ref->e2e_ms, cap * sizeof *ref->e2e_ms);
}

static int ref_predictions(slm_store *st, slm_prod_evalref *ref, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "SELECT example_id, gold, pred, confidence, probs_json, "
                              "logprobs_json, e2e_ms FROM predictions WHERE candidate_id = ? "
                              "ORDER BY example_idx",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, ref->candidate_id);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (ref->n == cap)
            ref_grow(ref, cap = cap ? 2 * cap : 256);
        ref_row(ref, ref->n++, s);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0
                             : slm_store_db_err(st, "cannot read the reference run", err, errlen);
}

static int ref_evalset(slm_store *st, slm_prod_evalref *ref, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "SELECT path, split, sha256 FROM evalsets WHERE run_id = ?", &s,
                          err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, ref->run_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        ref->evalset_path = col_dup(s, 0);
        ref->evalset_split = col_dup(s, 1);
        ref->evalset_sha256 = col_dup(s, 2);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE
               ? 0
               : slm_store_db_err(st, "cannot read the reference eval set", err, errlen);
}

int slm_prod_reference(slm_store *st, const slm_deployment *d, slm_prod_evalref *ref, char *err,
                       size_t errlen)
{
    memset(ref, 0, sizeof *ref);
    if (!d->run_id || !d->candidate_id)
        return slm_err(err, errlen, "deployment '%s' is not tied to an eval run (slmbench "
                       "deploy)", d->name);
    ref->run_id = d->run_id;
    ref->candidate_id = d->candidate_id;
    if (slm_run_labels(st, d->run_id, &ref->labels, &ref->n_labels, err, errlen) ||
        ref_predictions(st, ref, err, errlen) || ref_evalset(st, ref, err, errlen)) {
        slm_prod_ref_free(ref);
        return -1;
    }
    ref->temperature = slm_store_metric(st, d->candidate_id, "temperature", NULL, NULL);
    ref->accuracy = slm_store_metric(st, d->candidate_id, "accuracy", NULL, NULL);
    return 0;
}

void slm_prod_ref_free(slm_prod_evalref *ref)
{
    if (!ref)
        return;
    slm_free_strv(ref->labels, ref->n_labels);
    for (size_t i = 0; i < ref->n; i++)
        free(ref->example_id[i]);
    free(ref->example_id);
    free(ref->gold);
    free(ref->pred);
    free(ref->confidence);
    free(ref->probs);
    free(ref->logprobs);
    free(ref->e2e_ms);
    free(ref->evalset_path);
    free(ref->evalset_split);
    free(ref->evalset_sha256);
    memset(ref, 0, sizeof *ref);
}
