/* ingest.c — see ingest.h. */
#include "ingest.h"
#include "prodlog.h"
#include "slm_limits.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

typedef struct ingest_state {
    const slm_ingest_opts *o;
    slm_ingest_result *res;
    slm_prodlog *log;
    slm_prod_writer *w;
    char **labels; /* sorted copy of the label set (pointers into the deployment's) */
    size_t n_labels;
    char prev_ts[32];
    long n_conflict_notes;
    slm_ingest_counts committed; /* the counts as of the last commit */
} ingest_state;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int in_label_set(const ingest_state *s, const char *l)
{
    return bsearch(&l, s->labels, s->n_labels, sizeof *s->labels, cmp_str) != NULL;
}

/* Adds month to the sorted set of months (a few hundred at most). */
static void add_month(slm_ingest_result *res, const char *month)
{
    size_t lo = 0, hi = res->n_months;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(res->months[mid], month);
        if (!c)
            return;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    res->months = slm_xrealloc(res->months, (res->n_months + 1) * sizeof *res->months);
    memmove(res->months + lo + 1, res->months + lo, (res->n_months - lo) * sizeof *res->months);
    memcpy(res->months[lo], month, 8);
    res->n_months++;
}

/* One good row: counted, checked against the label set and the previous ts, stored. */
static int take_row(ingest_state *s, const slm_prod_row *row, char *err, size_t errlen)
{
    slm_ingest_counts *c = &s->res->c;
    if (s->n_labels && (!in_label_set(s, row->pred) ||
                        (row->corrected_label && !in_label_set(s, row->corrected_label))))
        c->unknown_labels++;
    if (s->prev_ts[0] && strcmp(row->ts, s->prev_ts) < 0)
        c->out_of_order++;
    memcpy(s->prev_ts, row->ts, sizeof s->prev_ts);
    add_month(s->res, row->month);
    char first[1024];
    long first_line = 0;
    int rc = slm_prod_put(s->w, row, first, &first_line, err, errlen);
    if (rc < 0)
        return -1;
    if (rc == 0)
        c->added++;
    else if (rc == 1)
        c->present++;
    else {
        c->conflicts++;
        if (s->o->note) {
            char msg[SLM_ERRLEN + 1200];
            snprintf(msg, sizeof msg, "%s:%ld: id '%s' was ingested from %s:%ld with other "
                     "content; the first is kept", s->o->path, row->line, row->id, first,
                     first_line);
            s->o->note(msg, c->conflicts, s->o->ud);
        }
    }
    return 0;
}

/* Reads the log to its end or its first fault. 0, or -1 with err (*bad_input set for a
 * refused row or file). */
static int read_all(ingest_state *s, int *bad_input, char *err, size_t errlen)
{
    slm_ingest_counts *c = &s->res->c;
    slm_prod_row row;
    for (;;) {
        if (s->o->stop && *s->o->stop) {
            s->res->interrupted = 1;
            return slm_err(err, errlen, "%s: interrupted by a signal after line %ld", s->o->path,
                           c->last_line);
        }
        int rc = slm_prodlog_next(s->log, &row, err, errlen);
        if (rc == SLM_PROD_EOF)
            return 0;
        if (rc == SLM_PROD_FATAL) {
            *bad_input = !strstr(err, "read error");
            return -1;
        }
        c->rows_read++;
        if (rc == SLM_PROD_BAD) {
            c->bad++;
            if (!s->o->skip_bad_rows) {
                *bad_input = 1;
                return -1;
            }
            if (s->o->note)
                s->o->note(err, c->bad, s->o->ud);
        } else if (take_row(s, &row, err, errlen)) {
            return -1;
        } else {
            c->last_line = row.line;
        }
        if (c->rows_read % SLM_PROD_BATCH_ROWS == 0) {
            if (slm_prod_writer_commit(s->w, c, err, errlen))
                return -1;
            s->committed = *c;
        }
    }
}

/* The deployment (tied first when asked) and its sorted label set. */
static int deployment_of(slm_store *st, const slm_ingest_opts *o, slm_deployment *d,
                         int *bad_input, char *err, size_t errlen)
{
    int64_t id;
    int changed;
    if (o->run_id && slm_prod_tie(st, o->deployment, o->run_id, o->candidate, 0, &changed,
                                  bad_input, err, errlen))
        return -1;
    if (slm_prod_deployment_ensure(st, o->deployment, &id, err, errlen) ||
        slm_prod_deployment(st, o->deployment, d, err, errlen) != 0)
        return -1;
    return 0;
}

/* Stopped by a signal: the rows taken so far are committed with the counts; the ingests
 * row is marked 'interrupted', with the line its rows reach. */
static int finish_interrupted(ingest_state *s, const char *why, char *err, size_t errlen)
{
    char e2[SLM_ERRLEN];
    if (slm_prod_writer_finish(s->w, "interrupted", &s->res->c, NULL, why, e2,
                               sizeof e2)) {
        slm_prod_writer_rollback(s->w);
        s->res->c = s->committed;
        snprintf(err, errlen, "%s", e2);
    }
    return -1;
}

static int finish(ingest_state *s, int rc, int bad_input, const char *why, char *err,
                  size_t errlen)
{
    if (s->res->interrupted)
        return finish_interrupted(s, why, err, errlen);
    slm_ingest_counts *c = rc && !bad_input ? &s->committed : &s->res->c;
    if (rc && !bad_input)
        slm_prod_writer_rollback(s->w); /* a database failure: the batch in hand is gone */
    char e2[SLM_ERRLEN];
    if (slm_prod_writer_finish(s->w, rc ? "failed" : "complete", c,
                               rc ? NULL : s->res->file_sha256, rc ? why : NULL, e2,
                               sizeof e2)) {
        if (!rc)
            snprintf(err, errlen, "%s", e2);
        return -1;
    }
    if (rc && !bad_input)
        s->res->c = s->committed;
    return rc;
}

int slm_ingest(slm_store *st, const slm_ingest_opts *o, slm_ingest_result *res,
               int *bad_input, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    *bad_input = 0;
    slm_deployment d = {0};
    ingest_state s = {.o = o, .res = res};
    if (deployment_of(st, o, &d, bad_input, err, errlen))
        return slm_deployment_free(&d), -1;
    if (slm_prodlog_open(o->path, o->format, &s.log, err, errlen)) {
        *bad_input = 1;
        slm_deployment_free(&d);
        return -1;
    }
    s.n_labels = d.n_labels;
    s.labels = s.n_labels ? slm_xmalloc(s.n_labels * sizeof *s.labels) : NULL;
    for (size_t i = 0; i < s.n_labels; i++)
        s.labels[i] = d.labels[i];
    if (s.n_labels)
        qsort(s.labels, s.n_labels, sizeof *s.labels, cmp_str);
    res->labels_known = s.n_labels > 0;
    int rc = slm_prod_writer_open(st, d.id, o->path, slm_prodlog_format(s.log), o->keep_text,
                                  &s.w, err, errlen);
    if (!rc) {
        rc = read_all(&s, bad_input, err, errlen);
        if (!rc)
            slm_prodlog_sha256(s.log, res->file_sha256);
        rc = finish(&s, rc, *bad_input, err, err, errlen);
    }
    slm_prod_writer_close(s.w);
    slm_prodlog_close(s.log);
    free(s.labels);
    slm_deployment_free(&d);
    return rc;
}
