/*
 * analysis.h — what a team needs beyond accuracy before trusting a small model in a
 * cascade (DESIGN §6): calibration (ECE equal-width and equal-mass, MCE, Brier, NLL,
 * classwise ECE, reliability bins), selective prediction (risk–coverage, AURC, coverage
 * at target accuracies), the cascade scenario, seeded bootstrap intervals, and paired
 * comparisons (McNemar, paired bootstrap of the macro-F1 difference, Holm across
 * candidates). Reads stored predictions only; writes metrics (value, lo, hi),
 * reliability, curves and comparisons.
 */
#ifndef SLM_ANALYSIS_H
#define SLM_ANALYSIS_H

#include "config.h"
#include "store.h"
#include "store_read.h" /* slm_run_cfg_from_db, the rows this writes */

/* Calibration, selective prediction, cascade and bootstrap intervals of one candidate,
 * replacing what was stored before. Runs inside the caller's transaction if any. */
int slm_analyze_candidate(slm_store *st, int64_t run_id, int64_t candidate_id,
                          const slm_run_cfg *cfg, const char *const *labels, size_t n_labels,
                          char *err, size_t errlen);

/* A paired comparison of two candidates on the examples both answered (matched by
 * example id). b: A right and B wrong; c: A wrong and B right. */
typedef struct slm_paired {
    size_t n;
    long b, c;
    double acc_a, acc_b, acc_diff;       /* A − B */
    double mcnemar_p;
    int mcnemar_exact;
    double f1_a, f1_b, f1_diff, f1_lo, f1_hi, f1_p; /* macro-F1, paired bootstrap */
} slm_paired;

int slm_paired_compare(slm_store *st, int64_t cand_a, int64_t cand_b,
                       const char *const *labels, size_t n_labels, int reps, uint64_t seed,
                       slm_paired *out, char *err, size_t errlen);

/* Pairs every ok candidate of the run against the best (highest accuracy, then macro-F1,
 * then config order) and stores the comparisons with Holm-adjusted p-values. */
int slm_compare_run(slm_store *st, int64_t run_id, char *err, size_t errlen);

#endif
