/*
 * analysis.h — what a team needs beyond accuracy before trusting a small model in a
 * cascade (DESIGN §6): calibration (ECE equal-width and equal-mass, MCE, Brier, NLL,
 * classwise ECE, reliability bins), selective prediction (risk–coverage, AURC, coverage
 * at target accuracies), the cascade scenario, seeded bootstrap intervals (percentile for
 * accuracy; BCa for macro-F1 and ECE, whose resampled values sit off-centre), and paired
 * comparisons (McNemar, paired bootstrap of the macro-F1 difference, Holm across every
 * pair of candidates). Reads stored predictions only; writes metrics (value, lo, hi),
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
    long f1_crossed;  /* bootstrap replicates on the far side of 0 (0: f1_p is its floor
                       * 2/(reps + 1), see slm_paired_bootstrap_test()); -1 without one */
} slm_paired;

/* Pairs candidates cand_a (A) and cand_b (B) of a run on their shared examples: McNemar
 * on accuracy, and with reps > 0 a paired bootstrap (seeded) of the macro-F1 difference
 * (reps == 0 leaves f1_lo, f1_hi, f1_p NaN and f1_crossed -1). Returns 0, or -1 with err
 * when either cannot be read or they share no example id. */
int slm_paired_compare(slm_store *st, int64_t cand_a, int64_t cand_b,
                       const char *const *labels, size_t n_labels, int reps, uint64_t seed,
                       slm_paired *out, char *err, size_t errlen);

/* Stores every ok candidate of the run paired with the best (highest accuracy, then
 * macro-F1, then config order).
 *
 * The best is picked on the very examples it is then tested on, so a family of "best
 * against each other" would be chosen by the data. Instead every one of the k(k−1)/2 pairs
 * is tested, and the Holm adjustment of each p-value (McNemar, and the macro-F1 bootstrap)
 * runs over all of them; the rows stored are the k−1 pairs with the best, with the family
 * size. Holm controls the family-wise error over all pairs at once, so it does so for any
 * subset picked after looking, this one included. The best's lead itself (Δ accuracy) is
 * still an optimistic estimate of the true gap — the winner's curse — and reports say so.
 * Costs k(k−1)/2 paired comparisons. */
int slm_compare_run(slm_store *st, int64_t run_id, char *err, size_t errlen);

#endif
