/*
 * store_history.h — what `slmbench history` and `slmbench diff` read (reports/
 * history_report.c, diff_report.c): the runs of a database with their eval sets, tags and
 * candidates' stored metrics and intervals; the predictions of two candidates paired by
 * example id. No caller sees SQL.
 *
 * Ownership: each list is freed by its _free function (NULL-safe). Doubles read from a
 * NULL column are NaN; strings from one are NULL.
 */
#ifndef SLM_STORE_HISTORY_H
#define SLM_STORE_HISTORY_H

#include "store.h"

/* The metrics a history row shows, in this order (names of harness/metrics/fields.c). */
#define SLM_HIST_N_METRICS 3
extern const char *const slm_hist_metrics[SLM_HIST_N_METRICS]; /* accuracy, ece_15, e2e_ms_p95 */

typedef struct slm_hist_cand {
    char *name, *status;                  /* status: pending, running, ok, failed */
    double value[SLM_HIST_N_METRICS];     /* NaN where not stored */
    double lo[SLM_HIST_N_METRICS], hi[SLM_HIST_N_METRICS];
} slm_hist_cand;

typedef struct slm_hist_run {
    int64_t id;
    char *name, *tags;      /* tags: the run's tag names, ", "-joined; NULL without one */
    char *status;           /* running, complete, interrupted, failed */
    char *date;             /* as_of when set, else created_at (UTC text) */
    char *mode;             /* score, generate, load */
    char *evalset, *version, *sha256, *split; /* NULL for a run without an eval set */
    slm_hist_cand *cands;   /* config order */
    size_t n_cands;
} slm_hist_run;

/* Every run of the database, oldest first (by date, then id), each with its candidates'
 * metrics. */
int slm_store_history(slm_store *st, slm_hist_run **out, size_t *n, char *err, size_t errlen);
void slm_hist_runs_free(slm_hist_run *r, size_t n);

/* One example of a pair of candidates, by example id. */
typedef struct slm_diff_pair {
    char *example_id, *gold;
    char *pred_a, *pred_b;     /* NULL where the engine call failed */
    int correct_a, correct_b;
    double conf_a, conf_b;
    long idx_b;                /* the example's index in run B (then idx of A) */
} slm_diff_pair;

/* The predictions of candidates cid_a and cid_b on the example ids both have, in run B's
 * example order; *only_a, *only_b count the ids one side has and the other has not. */
int slm_store_diff_pairs(slm_store *st, int64_t cid_a, int64_t cid_b, slm_diff_pair **out,
                         size_t *n, long *only_a, long *only_b, char *err, size_t errlen);
void slm_diff_pairs_free(slm_diff_pair *p, size_t n);

/* What a diff says about one run: its name, the eval set (name, data hash, split file as
 * recorded). Caller frees the strings. 0, or -1 with err. */
typedef struct slm_diff_run_info {
    char *name, *evalset, *sha256, *path;
} slm_diff_run_info;

int slm_store_diff_run_info(slm_store *st, int64_t run_id, slm_diff_run_info *info, char *err,
                            size_t errlen);
void slm_diff_run_info_free(slm_diff_run_info *info);

#endif
