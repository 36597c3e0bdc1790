/*
 * store_reports.h — the reads of the reports room: everything the Markdown, HTML and JSON
 * reports, the plots, the gate and the drift review need from the database, as named
 * functions, so that none of them holds SQL or includes <sqlite3.h>.
 *
 * Conventions (as store.h): each reader returns 0, or -1 with err filled on a database
 * error (err may be NULL); an empty answer is 0 rows, not an error. Every array it fills
 * belongs to the caller and is freed by the matching *_free function (NULL-safe, also
 * after a failure). Doubles read NULL as NaN.
 */
#ifndef SLM_STORE_REPORTS_H
#define SLM_STORE_REPORTS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* ---- a run as the reports describe it ---- */

typedef struct slm_cand_card {
    int64_t id;
    char *name, *engine, *status, *error, *quant, *arch, *model_path, *model_sha,
        *engine_version, *chat_template;
    int chat_used;
    double n_params, size_bytes, n_ctx, n_vocab, n_layer, n_embd, n_threads;
    /* schema 8: the template as rendered, the sized context, memory, device */
    char *tmpl_sha, *probe_sha, *device;
    double n_ctx_need, kv_bytes, n_gpu_layers, peak_rss_kb;
} slm_cand_card;

typedef struct slm_run_facts {
    int64_t id;
    char *name, *status, *created, *finished, *mode, *harness, *git, *host, *error, *policy;
    char *es_name, *es_version, *split, *es_path, *es_sha, *prompt_sha, *labels_json;
    long n_rows;
    slm_cand_card *c; /* candidates in config order */
    size_t nc;
} slm_run_facts;

/* The run row, its eval set row and its candidates. A missing run is an error. */
int slm_store_run_facts(slm_store *st, int64_t run_id, slm_run_facts *out, char *err,
                        size_t errlen);
void slm_run_facts_free(slm_run_facts *r);

/* The status of a run ("complete", ...) in *status (caller frees; NULL when no run). */
int slm_store_run_status(slm_store *st, int64_t run_id, char **status, char *err,
                         size_t errlen);

/* The eval set's data hash (which = 0) or prompt hash (which = 1) of a run; NULL when the
 * run has no eval set row. Caller frees. */
char *slm_store_run_hash(slm_store *st, int64_t run_id, int which);

/* ---- per-candidate rows ---- */

typedef struct slm_class_stat {
    char *label;
    int in_label_set;
    double precision, recall, f1;
    long support, predicted;
} slm_class_stat;

/* Which per-class rows, in which order. */
enum {
    SLM_CLASSES_STORED,       /* every class, in the order aggregation stored them */
    SLM_CLASSES_SET_FIRST,    /* the label set first, then invalid outputs, each as stored */
    SLM_CLASSES_SET,          /* the label set only, as stored */
    SLM_CLASSES_SET_BY_LABEL  /* the label set only, by label */
};

/* The per-class rows of a candidate. */
int slm_store_classes(slm_store *st, int64_t cand_id, int which, slm_class_stat **rows,
                      size_t *n, char *err, size_t errlen);
void slm_class_rows_free(slm_class_stat *rows, size_t n);

typedef struct slm_conf_cell {
    char *gold, *pred;
    long count;
} slm_conf_cell;

/* The non-zero cells of a candidate's confusion matrix, in stored order. */
int slm_store_confusion(slm_store *st, int64_t cand_id, slm_conf_cell **cells, size_t *n,
                        char *err, size_t errlen);
void slm_conf_cells_free(slm_conf_cell *cells, size_t n);

typedef struct slm_metric_value {
    char *name;
    double value;
} slm_metric_value;

/* Every stored metric of a candidate, in stored order. */
int slm_store_metrics_of(slm_store *st, int64_t cand_id, slm_metric_value **v, size_t *n,
                         char *err, size_t errlen);
void slm_metric_values_free(slm_metric_value *v, size_t n);

/* The names of the field-level (field_*) and failure-kind (fail.*) metrics stored for a
 * run, field scores first, each group by name. Caller frees with slm_free_strv(). */
int slm_store_structured_names(slm_store *st, int64_t run_id, char ***names, size_t *n,
                               char *err, size_t errlen);

typedef struct slm_rel_bin {
    int bin;
    long count;
    double conf, acc;
} slm_rel_bin;

/* The reliability bins of a candidate for scheme ("width" or "mass"), by bin. */
int slm_store_reliability(slm_store *st, int64_t cand_id, const char *scheme,
                          slm_rel_bin **bins, size_t *n, char *err, size_t errlen);

/* A candidate's end-to-end latencies (finite ones), ascending. Caller frees *v. */
int slm_store_latencies(slm_store *st, int64_t cand_id, double **v, size_t *n, char *err,
                        size_t errlen);

typedef struct slm_curve_pt {
    double x, y, threshold;
} slm_curve_pt;

/* The points of a stored curve ("risk_coverage", ...) of a candidate, in order. */
int slm_store_curve(slm_store *st, int64_t cand_id, const char *curve, slm_curve_pt **pts,
                    size_t *n, char *err, size_t errlen);

/* ---- per-run rows ---- */

typedef struct slm_counter_event {
    char *event, *source, *reason;
} slm_counter_event;

/* The counter events of a run that were unavailable, with the reason. */
int slm_store_counter_events(slm_store *st, int64_t run_id, slm_counter_event **ev,
                             size_t *n, char *err, size_t errlen);
void slm_counter_events_free(slm_counter_event *ev, size_t n);

typedef struct slm_comparison_stat {
    char *name, *baseline;
    long n, b, c;
    double acc_diff, mcnemar_p;
    int mcnemar_exact;
    double mcnemar_p_holm, f1_diff, f1_diff_lo, f1_diff_hi, f1_p, f1_p_holm;
    long reps, seed;
    long f1_crossed;  /* bootstrap replicates beyond 0 (0: f1_p is its floor); -1 if NULL */
    long holm_family; /* p-values in the Holm family; -1 if NULL (before schema 10) */
} slm_comparison_stat;

/* The significance rows of a run (each candidate against the best), in config order. */
int slm_store_comparisons(slm_store *st, int64_t run_id, slm_comparison_stat **rows,
                          size_t *n, char *err, size_t errlen);
void slm_comparison_rows_free(slm_comparison_stat *rows, size_t n);

/* ---- the drift review ---- */

/* The month (UTC, "YYYY-MM") of the newest complete run (its as_of where set, else its
 * created_at) into month[8]; 1 when there is none. */
int slm_store_latest_month(slm_store *st, char month[8], char *err, size_t errlen);

typedef struct slm_window_row {
    int64_t cand_id, run_id;
    char *model, *model_sha, *created_at, *es_name, *es_version, *es_sha;
    char *month; /* strftime('%Y-%m') of as_of where set, else of created_at, UTC */
    char *as_of; /* run --as-of, or NULL */
} slm_window_row;

/* Every ok candidate of every complete run whose month lies in [from, to] ("YYYY-MM"),
 * by date (as_of where set, else creation time), run id, then config order. */
int slm_store_window(slm_store *st, const char *from, const char *to, slm_window_row **rows,
                     size_t *n, char *err, size_t errlen);
void slm_window_rows_free(slm_window_row *rows, size_t n);

/* The newest ok candidate of a complete run (by its date: as_of, else created_at; then
 * id) whose model file had sha256 model_sha and whose evaluated eval-set data had sha256
 * es_sha: its candidate id, run id and name (*name owned). 0 when found, 1 when there is
 * none, -1 with err. */
int slm_store_find_rescore(slm_store *st, const char *model_sha, const char *es_sha,
                           int64_t *cand_id, int64_t *run_id, char **name, char *err,
                           size_t errlen);

typedef struct slm_label_count {
    char *label;
    long n;
} slm_label_count;

/* The gold label counts of a run's examples, by label. */
int slm_store_gold_counts(slm_store *st, int64_t run_id, slm_label_count **c, size_t *n,
                          char *err, size_t errlen);
void slm_label_counts_free(slm_label_count *c, size_t n);

#endif
