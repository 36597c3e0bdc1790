/*
 * store_prod.h — production logs in the store: deployments (a name tied to the eval run's
 * candidate that was shipped), the rows `slmbench ingest` writes, and the read side the
 * monthly review builds on. Tables: deployments, deployment_ties, ingests,
 * prod_predictions (schema.c, version 11).
 *
 * Ownership: every struct or array filled here is freed by its matching _free function
 * (NULL-safe). Doubles read from a NULL column are NaN. Strings handed to a callback are
 * valid during the call only. Errors: -1 with err filled ("path: what: SQLite's message"
 * or a sentence); functions that can also refuse bad input set *bad_input.
 */
#ifndef SLM_STORE_PROD_H
#define SLM_STORE_PROD_H

#include "prodlog.h" /* slm_prod_row */
#include "store.h"

/* ---- deployments ---- */

typedef struct slm_deployment {
    int64_t id;
    char *name;
    int64_t run_id, candidate_id; /* 0, 0: not tied to an eval run yet */
    char *candidate;              /* the candidate's name; NULL when not tied */
    char *evalset_sha256;         /* the tied run's eval set data; NULL when not tied */
    char **labels;                /* the tied run's label set (n_labels, NULL untied) */
    size_t n_labels;
    char *created_at, *tied_at;   /* UTC "YYYY-MM-DDTHH:MM:SSZ"; tied_at NULL untied */
} slm_deployment;

/* Reads the deployment called name: 0 found (d filled; free with slm_deployment_free),
 * 1 no such deployment (d zeroed), -1 database error. */
int slm_prod_deployment(slm_store *st, const char *name, slm_deployment *d, char *err,
                        size_t errlen);
void slm_deployment_free(slm_deployment *d);

/* Creates the deployment called name unless it exists; *id is its id either way. */
int slm_prod_deployment_ensure(slm_store *st, const char *name, int64_t *id, char *err,
                               size_t errlen);

/* Ties the deployment called name (created if absent) to candidate cand of run_id, the
 * eval run of the model that was shipped. Refused (-1, *bad_input = 1): a run that is not
 * complete, a candidate the run does not have or whose status is not ok, a deployment
 * already tied to another run or candidate unless force. Every tie made is recorded in
 * deployment_ties (forced = 1 when it replaced another); tying again to the same run and
 * candidate changes nothing (*changed = 0). */
int slm_prod_tie(slm_store *st, const char *name, int64_t run_id, const char *cand, int force,
                 int *changed, int *bad_input, char *err, size_t errlen);

/* ---- ingest (the writer) ---- */

/* What became of the rows of one ingest; the counts are those of ingests' columns. */
typedef struct slm_ingest_counts {
    long rows_read;      /* rows read: good, bad, present and conflicting alike */
    long added;          /* new rows stored */
    long present;        /* already stored with the same content (a re-ingest) */
    long conflicts;      /* an id already stored with different content: the first kept */
    long bad;            /* refused rows (skipped with --skip-bad-rows) */
    long out_of_order;   /* rows whose ts is before the previous good row's of the file */
    long unknown_labels; /* rows whose pred or corrected_label is outside the label set */
    long last_line;      /* the last line of the last committed batch */
} slm_ingest_counts;

typedef struct slm_prod_writer slm_prod_writer;

/* Starts an ingest of path into deployment_id: records an ingests row (status running,
 * committed at once) and opens the first batch's transaction. keep_text 0 stores the
 * text's hash and length only. */
int slm_prod_writer_open(slm_store *st, int64_t deployment_id, const char *path,
                         const char *format, int keep_text, slm_prod_writer **out,
                         char *err, size_t errlen);

/* Stores one row (INSERT OR IGNORE on deployment_id, log_id). Returns 0 added, 1 already
 * present with the same content hash, 2 present with another content — then first_file
 * and *first_line say where the stored row came from (first_file holds at least 1024
 * bytes) —, or -1 on a database error. */
int slm_prod_put(slm_prod_writer *w, const slm_prod_row *row, char *first_file,
                 long *first_line, char *err, size_t errlen);

/* Writes the counts into the ingests row and commits the batch, then opens the next. */
int slm_prod_writer_commit(slm_prod_writer *w, const slm_ingest_counts *c, char *err,
                           size_t errlen);

/* Rolls back the batch in hand (the rows since the last commit). */
void slm_prod_writer_rollback(slm_prod_writer *w);

/* Closes the ingest: the batch in hand (if not rolled back) is committed, and the ingests row gets its counts, status, finished_at, the file's sha256 (NULL
 * allowed) and error (NULL allowed). */
int slm_prod_writer_finish(slm_prod_writer *w, const char *status, const slm_ingest_counts *c,
                           const char *file_sha256, const char *error, char *err,
                           size_t errlen);

/* Frees the writer (rolling back anything uncommitted); NULL-safe. */
void slm_prod_writer_close(slm_prod_writer *w);

/* ---- the read side (the monthly review) ---- */

/* One month of a deployment's log. */
typedef struct slm_prod_month {
    char month[8]; /* "YYYY-MM" (UTC) */
    long n;        /* rows */
} slm_prod_month;

/* The months that have rows, oldest first, with their row counts. */
int slm_prod_months(slm_store *st, int64_t deployment_id, slm_prod_month **out, size_t *n,
                    char *err, size_t errlen);
void slm_prod_months_free(slm_prod_month *m);

/* One stored production row, as slm_prod_each hands it out. */
typedef struct slm_prod_rec {
    const char *log_id, *ts, *pred; /* ts: "YYYY-MM-DDTHH:MM:SS.mmmZ" */
    double confidence;
    const char *probs_json;         /* JSON object label -> p, or NULL */
    double latency_ms;              /* NaN: not logged */
    int escalated;                  /* 0, 1, -1: not logged */
    const char *corrected_label, *model; /* NULL: not logged */
    const char *text;               /* NULL unless asked for (and stored: not --no-text) */
    long text_bytes, text_words;    /* -1: no text logged */
    const char *text_sha256;        /* NULL: no text logged */
    const char *tags_json;          /* the row's other fields, JSON object, or NULL */
} slm_prod_rec;

/* What slm_prod_each hands each row to; a nonzero return stops the walk. */
typedef int (*slm_prod_fn)(const slm_prod_rec *r, void *ud);

/* Calls fn for every row of deployment_id in month ("YYYY-MM"; NULL: every month), in ts
 * order (then log_id), streaming: one row in memory at a time, whatever the month's size.
 * with_text 0 leaves rec.text NULL (the texts are not even read). Returns 0 (also when fn
 * stopped the walk), or -1 on a database error. */
int slm_prod_each(slm_store *st, int64_t deployment_id, const char *month, int with_text,
                  slm_prod_fn fn, void *ud, char *err, size_t errlen);

/* The reference of a deployment: the tied eval run's predictions of the shipped
 * candidate (example order), with what the review compares production against. */
typedef struct slm_prod_evalref {
    int64_t run_id, candidate_id;
    char **labels;       /* the eval set's label set, in its order */
    size_t n_labels;
    size_t n;            /* predictions (rows of the evaluated split) */
    char **example_id;
    int *gold;           /* index into labels; -1 outside the set */
    int *pred;           /* index into labels; -1: no answer or outside the set */
    double *confidence;  /* NaN: engine error */
    double *probs;       /* n x n_labels, row-major: p of each label (the rule in use), NaN
                            where the run stored none */
    double *logprobs;    /* n x n_labels: summed log-probabilities (score mode), else NaN */
    double *e2e_ms;      /* end-to-end latency per example (NaN: none) */
    double temperature;  /* fitted on the run's calibration split (metric 'temperature'
                            of the candidate); NaN: the run fitted none */
    double accuracy;     /* the candidate's stored accuracy metric (NaN: none) */
    char *evalset_path;  /* the evaluated split's file: the eval set's texts are read from
                            there (the store keeps hashes of them, not the texts) */
    char *evalset_split, *evalset_sha256;
} slm_prod_evalref;

/* Reads the reference of deployment d (which must be tied: else -1 with "deployment 'x'
 * is not tied to an eval run (slmbench deploy)"). Free with slm_prod_ref_free. */
int slm_prod_reference(slm_store *st, const slm_deployment *d, slm_prod_evalref *ref, char *err,
                       size_t errlen);
void slm_prod_ref_free(slm_prod_evalref *ref);

#endif
