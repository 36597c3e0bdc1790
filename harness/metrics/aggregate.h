/*
 * aggregate.h — turns a candidate's stored predictions into metrics (DESIGN §6, the
 * fields of fields.h), per-class results and the confusion matrix, and stores them.
 * Reads only the database, so metrics can be recomputed for old runs at any time.
 */
#ifndef SLM_AGGREGATE_H
#define SLM_AGGREGATE_H

#include "store.h"

/* Recomputes and replaces the metrics, per_class and confusion rows of one candidate.
 * labels: the eval set's label set in order. */
int slm_aggregate_candidate(slm_store *st, int64_t run_id, int64_t candidate_id,
                            const char *const *labels, size_t n_labels, char *err,
                            size_t errlen);

/* The same for every candidate of a run (labels read from the run's eval set row). */
int slm_aggregate_run(slm_store *st, int64_t run_id, char *err, size_t errlen);

/* 1 if the run's eval set is a structured or extraction task (JSON answers). */
int slm_run_is_json_task(slm_store *st, int64_t run_id);

/* Stores the field-level metrics of a JSON task's candidate through ins (an INSERT into
 * metrics with run_id, candidate_id, name, value, n). */
int slm_structured_metrics(slm_store *st, int64_t run_id, int64_t cid, sqlite3_stmt *ins,
                           char *err, size_t errlen);

/* Reads the run's label set (evalsets.labels_json). Caller frees with slm_free_strv. */
int slm_run_labels(slm_store *st, int64_t run_id, char ***labels, size_t *n, char *err,
                   size_t errlen);
void slm_free_strv(char **v, size_t n);

#endif
