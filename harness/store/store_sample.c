/* store_sample.c — audit samples in the store (store_sample.h). */
#include "store_sample.h"

#include "store_int.h"

#include <stdlib.h>
#include <string.h>

static int put_header(slm_store *st, slm_audit *a, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    char now[32];
    slm_utc_iso8601(now, sizeof now);
    if (slm_store_prepare(st, "INSERT INTO audit_samples (deployment_id, month, strategy, "
                              "design, seed, n, n_drawn, population, created_at) VALUES "
                              "(?, ?, ?, ?, ?, ?, ?, ?, ?)", &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, a->deployment_id);
    slm_bind_text(s, 2, a->month);
    slm_bind_text(s, 3, a->strategy);
    slm_bind_text(s, 4, a->design);
    sqlite3_bind_int64(s, 5, a->seed);
    sqlite3_bind_int64(s, 6, a->n);
    sqlite3_bind_int64(s, 7, a->n_drawn);
    sqlite3_bind_int64(s, 8, a->population);
    slm_bind_text(s, 9, now);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return slm_store_db_err(st, "cannot store the audit sample", err, errlen);
    a->id = sqlite3_last_insert_rowid(slm_store_db(st));
    free(a->created_at);
    a->created_at = slm_xstrdup(now);
    return 0;
}

static int put_rows(slm_store *st, int64_t id, const slm_audit_row *r, size_t n, char *err,
                    size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "INSERT INTO audit_sample_rows (sample_id, log_id, stratum, "
                              "stratum_size, inclusion_prob) VALUES (?, ?, ?, ?, ?)",
                          &s, err, errlen))
        return -1;
    int rc = SQLITE_DONE;
    for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, id);
        slm_bind_text(s, 2, r[i].log_id);
        slm_bind_redacted(s, 3, r[i].stratum);
        sqlite3_bind_int64(s, 4, r[i].stratum_size);
        slm_bind_double(s, 5, r[i].pi);
        rc = sqlite3_step(s);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : slm_store_db_err(st, "cannot store the audit sample's rows",
                                                    err, errlen);
}

int slm_audit_put(slm_store *st, slm_audit *a, const slm_audit_row *rows, size_t n_rows,
                  char *err, size_t errlen)
{
    if (slm_store_begin(st, err, errlen))
        return -1;
    if (put_header(st, a, err, errlen) || put_rows(st, a->id, rows, n_rows, err, errlen) ||
        slm_store_commit(st, err, errlen)) {
        slm_store_rollback(st);
        return -1;
    }
    return 0;
}

static char *col_str(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? slm_xstrdup((const char *)t) : NULL;
}

static int read_header(slm_store *st, int64_t id, slm_audit *a, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "SELECT deployment_id, month, strategy, design, seed, n, n_drawn, "
                              "population, created_at FROM audit_samples WHERE id = ?",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        a->id = id;
        a->deployment_id = sqlite3_column_int64(s, 0);
        a->month = col_str(s, 1);
        a->strategy = col_str(s, 2);
        a->design = col_str(s, 3);
        a->seed = (long)sqlite3_column_int64(s, 4);
        a->n = (long)sqlite3_column_int64(s, 5);
        a->n_drawn = (long)sqlite3_column_int64(s, 6);
        a->population = (long)sqlite3_column_int64(s, 7);
        a->created_at = col_str(s, 8);
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE)
        return 1;
    return rc == SQLITE_ROW ? 0 : slm_store_db_err(st, "cannot read audit_samples", err, errlen);
}

int slm_audit_read(slm_store *st, int64_t id, slm_audit *a, slm_audit_row **rows, size_t *n,
                   char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    *rows = NULL;
    *n = 0;
    int f = read_header(st, id, a, err, errlen);
    if (f)
        return f;
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "SELECT r.log_id, r.stratum, r.stratum_size, r.inclusion_prob, "
                              "p.pred FROM audit_sample_rows r LEFT JOIN prod_predictions p ON "
                              "p.deployment_id = ? AND p.log_id = r.log_id WHERE r.sample_id = ? "
                              "ORDER BY r.log_id", &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, a->deployment_id);
    sqlite3_bind_int64(s, 2, id);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap)
            *rows = slm_xrealloc(*rows, (cap = cap ? 2 * cap : 64) * sizeof **rows);
        slm_audit_row *r = &(*rows)[(*n)++];
        r->log_id = col_str(s, 0);
        r->stratum = col_str(s, 1);
        r->stratum_size = (long)sqlite3_column_int64(s, 2);
        r->pi = slm_col_double(s, 3);
        r->pred = col_str(s, 4);
        slm_redact_read(&r->pred);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : slm_store_db_err(st, "cannot read audit_sample_rows", err,
                                                    errlen);
}

void slm_audit_free(slm_audit *a)
{
    if (!a)
        return;
    free(a->month), free(a->strategy), free(a->design), free(a->created_at);
    memset(a, 0, sizeof *a);
}

void slm_audit_rows_free(slm_audit_row *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++)
        free(r[i].log_id), free(r[i].stratum), free(r[i].pred);
    free(r);
}
