/*
 * aggregate.h — turns a candidate's stored predictions into metrics (DESIGN §6, the
 * fields of fields.h), per-class results and the confusion matrix, and stores them.
 * Reads only the database, so metrics can be recomputed for old runs at any time.
 */
#ifndef SLM_AGGREGATE_H
#define SLM_AGGREGATE_H

#include "store.h"
#include "store_read.h" /* slm_run_labels, slm_run_is_json_task, slm_free_strv */

/* Recomputes and replaces the metrics, per_class and confusion rows of one candidate
 * (and, for a classification task, its calibration and selective prediction through
 * analysis.h). labels: the eval set's label set in order. */
int slm_aggregate_candidate(slm_store *st, int64_t run_id, int64_t candidate_id,
                            const char *const *labels, size_t n_labels, char *err,
                            size_t errlen);

/* The same for every candidate of a run (labels read from the run's eval set row). */
int slm_aggregate_run(slm_store *st, int64_t run_id, char *err, size_t errlen);

#endif
