/* store_history.c — see store_history.h. Every SQL text of history and diff is here. */
#include "store_int.h"
#include "store_history.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const slm_hist_metrics[SLM_HIST_N_METRICS] = {"accuracy", "ece_15", "e2e_ms_p95"};

static char *col_str(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? slm_xstrdup((const char *)t) : NULL;
}

/* The candidates of run r->id with their history metrics. */
static int hist_cands(slm_store *st, slm_hist_run *r, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "SELECT c.name, c.status, m.name, m.value, m.lo, m.hi "
                          "FROM candidates c LEFT JOIN metrics m ON m.candidate_id = c.id "
                          "AND m.name IN (?2, ?3, ?4) WHERE c.run_id = ?1 ORDER BY c.idx, c.id",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, r->id);
    for (int k = 0; k < SLM_HIST_N_METRICS; k++)
        sqlite3_bind_text(s, k + 2, slm_hist_metrics[k], -1, SQLITE_STATIC);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        slm_hist_cand *c = r->n_cands ? &r->cands[r->n_cands - 1] : NULL;
        if (!c || strcmp(c->name, name)) { /* the rows of one candidate follow each other */
            if (r->n_cands == cap) {
                cap = cap ? 2 * cap : 4;
                r->cands = slm_xrealloc(r->cands, cap * sizeof *r->cands);
            }
            c = &r->cands[r->n_cands++];
            c->name = slm_xstrdup(name);
            c->status = col_str(s, 1);
            for (int k = 0; k < SLM_HIST_N_METRICS; k++)
                c->value[k] = c->lo[k] = c->hi[k] = NAN;
        }
        const char *m = (const char *)sqlite3_column_text(s, 2);
        for (int k = 0; m && k < SLM_HIST_N_METRICS; k++) {
            if (strcmp(m, slm_hist_metrics[k]))
                continue;
            c->value[k] = slm_col_double(s, 3);
            c->lo[k] = slm_col_double(s, 4);
            c->hi[k] = slm_col_double(s, 5);
        }
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return slm_store_db_err(st, "cannot read the candidates' metrics", err, errlen);
    return 0;
}

int slm_store_history(slm_store *st, slm_hist_run **out, size_t *n, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    *out = NULL;
    *n = 0;
    if (slm_store_prepare(st,
                          "SELECT r.id, r.name, r.status, COALESCE(r.as_of, r.created_at), "
                          "r.mode, e.name, e.version, e.sha256, e.split, "
                          "(SELECT group_concat(name, ', ') FROM (SELECT name FROM tags "
                          "WHERE run_id = r.id ORDER BY name)) "
                          "FROM runs r LEFT JOIN evalsets e ON e.run_id = r.id "
                          "ORDER BY COALESCE(r.as_of, r.created_at), r.id",
                          &s, err, errlen))
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *out = slm_xrealloc(*out, cap * sizeof **out);
        }
        slm_hist_run *r = &(*out)[(*n)++];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(s, 0);
        r->name = col_str(s, 1);
        r->status = col_str(s, 2);
        r->date = col_str(s, 3);
        r->mode = col_str(s, 4);
        r->evalset = col_str(s, 5);
        r->version = col_str(s, 6);
        r->sha256 = col_str(s, 7);
        r->split = col_str(s, 8);
        r->tags = col_str(s, 9);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        slm_store_db_err(st, "cannot read the runs", err, errlen);
        goto fail;
    }
    for (size_t i = 0; i < *n; i++)
        if (hist_cands(st, &(*out)[i], err, errlen))
            goto fail;
    return 0;
fail:
    slm_hist_runs_free(*out, *n);
    *out = NULL;
    *n = 0;
    return -1;
}

void slm_hist_runs_free(slm_hist_run *r, size_t n)
{
    if (!r)
        return;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < r[i].n_cands; j++) {
            free(r[i].cands[j].name);
            free(r[i].cands[j].status);
        }
        free(r[i].cands);
        free(r[i].name);
        free(r[i].tags);
        free(r[i].status);
        free(r[i].date);
        free(r[i].mode);
        free(r[i].evalset);
        free(r[i].version);
        free(r[i].sha256);
        free(r[i].split);
    }
    free(r);
}

/* How many predictions of cid have an example id the predictions of other lack. */
static int count_only(slm_store *st, int64_t cid, int64_t other, long *out, char *err,
                      size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "SELECT count(*) FROM predictions p WHERE p.candidate_id = ?1 AND "
                          "NOT EXISTS (SELECT 1 FROM predictions q WHERE q.candidate_id = ?2 "
                          "AND q.example_id = p.example_id)",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, cid);
    sqlite3_bind_int64(s, 2, other);
    int rc = sqlite3_step(s);
    *out = rc == SQLITE_ROW ? (long)sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return slm_store_db_err(st, "cannot count the unpaired examples", err, errlen);
    return 0;
}

int slm_store_diff_pairs(slm_store *st, int64_t cid_a, int64_t cid_b, slm_diff_pair **out,
                         size_t *n, long *only_a, long *only_b, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    *out = NULL;
    *n = 0;
    if (count_only(st, cid_a, cid_b, only_a, err, errlen) ||
        count_only(st, cid_b, cid_a, only_b, err, errlen))
        return -1;
    if (slm_store_prepare(st,
                          "SELECT b.example_id, b.gold, a.pred, b.pred, a.correct, b.correct, "
                          "a.confidence, b.confidence, b.example_idx "
                          "FROM predictions b JOIN predictions a ON a.candidate_id = ?1 "
                          "AND a.example_id = b.example_id WHERE b.candidate_id = ?2 "
                          "ORDER BY b.example_idx",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, cid_a);
    sqlite3_bind_int64(s, 2, cid_b);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            *out = slm_xrealloc(*out, cap * sizeof **out);
        }
        slm_diff_pair *p = &(*out)[(*n)++];
        p->example_id = col_str(s, 0);
        p->gold = col_str(s, 1);
        p->pred_a = col_str(s, 2);
        p->pred_b = col_str(s, 3);
        p->correct_a = sqlite3_column_int(s, 4);
        p->correct_b = sqlite3_column_int(s, 5);
        p->conf_a = slm_col_double(s, 6);
        p->conf_b = slm_col_double(s, 7);
        p->idx_b = (long)sqlite3_column_int64(s, 8);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        slm_diff_pairs_free(*out, *n);
        *out = NULL;
        *n = 0;
        return slm_store_db_err(st, "cannot read the predictions to compare", err, errlen);
    }
    return 0;
}

void slm_diff_pairs_free(slm_diff_pair *p, size_t n)
{
    if (!p)
        return;
    for (size_t i = 0; i < n; i++) {
        free(p[i].example_id);
        free(p[i].gold);
        free(p[i].pred_a);
        free(p[i].pred_b);
    }
    free(p);
}

int slm_store_diff_run_info(slm_store *st, int64_t run_id, slm_diff_run_info *info, char *err,
                            size_t errlen)
{
    sqlite3_stmt *s;
    memset(info, 0, sizeof *info);
    if (slm_store_prepare(st,
                          "SELECT r.name, e.name, e.sha256, e.path FROM runs r "
                          "LEFT JOIN evalsets e ON e.run_id = r.id WHERE r.id = ?",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        info->name = col_str(s, 0);
        info->evalset = col_str(s, 1);
        info->sha256 = col_str(s, 2);
        info->path = col_str(s, 3);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return slm_store_db_err(st, "cannot read the run", err, errlen);
    return 0;
}

void slm_diff_run_info_free(slm_diff_run_info *info)
{
    if (!info)
        return;
    free(info->name);
    free(info->evalset);
    free(info->sha256);
    free(info->path);
    memset(info, 0, sizeof *info);
}
