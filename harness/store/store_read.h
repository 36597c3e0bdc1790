/*
 * store_read.h — the store as the metrics see it (aggregate.c, analysis.c): a run's label
 * set and config, a candidate's predictions, samples and counters as arrays of plain
 * structs, and the rows the metrics write back (metrics, per-class, confusion,
 * reliability bins, curves, comparisons). No caller sees SQL or a statement.
 *
 * Ownership: every array returned here is freed by its matching _free function (NULL-safe).
 * Doubles read from a NULL column are NaN.
 */
#ifndef SLM_STORE_READ_H
#define SLM_STORE_READ_H

#include "store.h"

struct slm_run_cfg;

/* ---- a run ---- */

/* Reads the run's label set (evalsets.labels_json). Caller frees with slm_free_strv. */
int slm_run_labels(slm_store *st, int64_t run_id, char ***labels, size_t *n, char *err,
                   size_t errlen);
void slm_free_strv(char **v, size_t n);

/* 1 if the run's eval set is a structured or extraction task (JSON answers). */
int slm_run_is_json_task(slm_store *st, int64_t run_id);

/* The run's task and field list (evalsets.task, fields_json); either may come back NULL.
 * Caller frees both. */
int slm_run_task_fields(slm_store *st, int64_t run_id, char **task, char **fields_json,
                        char *err, size_t errlen);

/* The run's config as recorded (runs.config_text). Caller frees with slm_run_cfg_free. */
int slm_run_cfg_from_db(slm_store *st, int64_t run_id, struct slm_run_cfg **out, char *err,
                        size_t errlen);

/* The ids of the run's ok candidates, best first: highest accuracy, then macro-F1, then
 * config order. Caller frees *ids. */
int slm_store_ranked_candidates(slm_store *st, int64_t run_id, int64_t **ids, size_t *n,
                                char *err, size_t errlen);

/* ---- a candidate ---- */

/* One stored prediction, as the metrics read it. */
typedef struct slm_pred {
    long example_idx;
    char *example_id, *gold;
    char *pred;               /* NULL when the engine failed */
    char *error, *fail_kinds, *probs_json;
    int correct, valid;
    double confidence;
    double e2e_ms, prefill_ms, decode_ms, ttft_ms, tpot_ms;
    double n_prompt_tokens, n_output_tokens;
} slm_pred;

/* The predictions of candidate cid in example order. */
int slm_store_predictions(slm_store *st, int64_t cid, slm_pred **out, size_t *n, char *err,
                          size_t errlen);
void slm_preds_free(slm_pred *p, size_t n);

/* Label scores of a candidate (rows with scores only, in example order), from its
 * predictions or, with calib set, from its calibration split. */
typedef struct slm_score_row {
    char *gold, *logprobs_json, *ntok_json; /* ntok_json may be NULL */
} slm_score_row;

int slm_store_score_rows(slm_store *st, int64_t cid, int calib, slm_score_row **out,
                         size_t *n, char *err, size_t errlen);
void slm_score_rows_free(slm_score_row *r, size_t n);

/* The repeated end-to-end samples of a candidate (non-NULL ones), by example then repeat. */
int slm_store_samples_e2e(slm_store *st, int64_t run_id, int64_t cid, long **example_idx,
                          double **e2e_ms, size_t *n, char *err, size_t errlen);

/* Every latency sample of a candidate (each request of repeats > 1), by example then
 * repeat; NaN where a phase was not measured (NULL). *out is freed with free(). */
typedef struct slm_sample {
    long example_idx;
    double e2e_ms, prefill_ms, decode_ms, ttft_ms;
} slm_sample;

int slm_store_samples(slm_store *st, int64_t run_id, int64_t cid, slm_sample **out, size_t *n,
                      char *err, size_t errlen);

/* Per event, the sum of a candidate's available counter readings. */
typedef struct slm_counter_sum {
    char *event;
    double sum;
} slm_counter_sum;

int slm_store_counter_sums(slm_store *st, int64_t run_id, int64_t cid, slm_counter_sum **out,
                           size_t *n, char *err, size_t errlen);
void slm_counter_sums_free(slm_counter_sum *c, size_t n);

/* What the candidate row (and its run) say about the machine and the model. */
typedef struct slm_cand_facts {
    double load_ms, wall_ms, engine_ms, n_params, size_bytes, bandwidth_gbs;
    int generate;             /* the run's mode is generate */
    double peak_rss_kb, load1_before, load1_after, steal_pct;
    double throughput_s, throughput_tokens, throughput_n, throughput_mismatches;
    double repeat_check_n, repeat_check_flips;
    double concurrency, concurrent_s, concurrent_n;
    double interleave_turn;   /* the run's: examples per turn, 0 sequential, NaN unknown */
    double cpus_online;       /* the run's host: online CPUs, NaN unknown */
    double noisy;             /* the candidate's `noisy` metric (1, 0), NaN without repeats */
} slm_cand_facts;

/* 0 found, 1 no such candidate, -1 database error. */
int slm_store_cand_facts(slm_store *st, int64_t cid, slm_cand_facts *f, char *err,
                         size_t errlen);

/* ---- what the metrics write ---- */

/* Deletes a candidate's metrics, per-class and confusion rows (aggregate recomputes them). */
int slm_store_clear_metrics(slm_store *st, int64_t run_id, int64_t cid, char *err,
                            size_t errlen);
/* Deletes a candidate's reliability bins and curves (analysis recomputes them). */
int slm_store_clear_analysis(slm_store *st, int64_t run_id, int64_t cid, char *err,
                             size_t errlen);

/* Stores (or replaces) one metric; lo and hi NaN when it has no interval. */
int slm_store_put_metric(slm_store *st, int64_t run_id, int64_t cid, const char *name,
                         double value, double lo, double hi, long n, char *err, size_t errlen);

typedef struct slm_class_row {
    const char *label;
    int in_label_set;
    double precision, recall, f1;
    long support, predicted;
} slm_class_row;

int slm_store_put_per_class(slm_store *st, int64_t run_id, int64_t cid, const slm_class_row *r,
                            char *err, size_t errlen);
int slm_store_put_confusion(slm_store *st, int64_t run_id, int64_t cid, const char *gold,
                            const char *pred, long count, char *err, size_t errlen);

/* One reliability bin (bin counts from 1) of scheme "width" or "mass". */
int slm_store_put_reliability(slm_store *st, int64_t run_id, int64_t cid, const char *scheme,
                              int bin, long count, double confidence, double accuracy,
                              char *err, size_t errlen);
/* Point idx of a curve (e.g. "risk_coverage"). */
int slm_store_put_curve_point(slm_store *st, int64_t run_id, int64_t cid, const char *curve,
                              long idx, double x, double y, double threshold, char *err,
                              size_t errlen);

typedef struct slm_comparison_row {
    int64_t candidate_id, baseline_id;
    long n, b, c;
    double accuracy_diff, mcnemar_p;
    int mcnemar_exact;
    double macro_f1_diff, macro_f1_diff_lo, macro_f1_diff_hi, macro_f1_p;
    double mcnemar_p_holm, macro_f1_p_holm;
    long seed;
    int reps;
    long f1_crossed;  /* bootstrap replicates beyond 0 (slm_paired.f1_crossed); -1: NULL */
    long holm_family; /* how many p-values the Holm adjustment ran over */
} slm_comparison_row;

int slm_store_clear_comparisons(slm_store *st, int64_t run_id, char *err, size_t errlen);
int slm_store_put_comparison(slm_store *st, int64_t run_id, const slm_comparison_row *r,
                             char *err, size_t errlen);

#endif
