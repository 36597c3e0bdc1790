/*
 * audit.h — the audit sample of a production month (`slmbench sample`): drawing it with
 * known inclusion probabilities, and the unbiased estimate of accuracy from it once it
 * is labelled. Pure: no I/O, no SQL. README "Production logs" says how each design is
 * drawn and estimated; tests/cli/test_prodreview.sh measures the intervals' coverage.
 *
 * Designs:
 *   SRS         n rows without replacement (Knuth's selection sampling): pi = n/N.
 *   stratified  strata given (the predicted label); proportional allocation n_h =
 *               n N_h/N by largest remainders, then at least min(2, N_h) per stratum
 *               (a stratum's variance needs two rows: the size may exceed n by that);
 *               SRS in each: pi = n_h/N_h.
 *   Poisson     each row drawn on its own with pi_i = min(1, c size_i), c making the pi
 *               sum to n (rows reaching 1 are taken with certainty and the rest
 *               rescaled); the size is random with expectation n.
 * Estimators (accuracy: y_i = 1 when the label is the prediction):
 *   SRS, stratified  sum_h W_h ybar_h, W_h = N_h/N; variance
 *                    sum_h W_h^2 (1 - n_h/N_h) s_h^2/n_h (Cochran 1977 §5.3).
 *   Poisson          Horvitz–Thompson (1/N) sum y_i/pi_i; variance, unbiased for
 *                    Poisson sampling, (1/N^2) sum (1 - pi_i) y_i^2/pi_i^2 (Särndal et
 *                    al. 1992 §3.5).
 *   95% interval: estimate ± 1.96 se, cut to [0, 1].
 */
#ifndef SLM_AUDIT_H
#define SLM_AUDIT_H

#include <stddef.h>
#include <stdint.h>

typedef enum slm_audit_design {
    SLM_AD_SRS = 0,
    SLM_AD_STRATIFIED,
    SLM_AD_POISSON
} slm_audit_design;

/* "srs", "stratified", "poisson". */
const char *slm_audit_design_name(slm_audit_design d);

/*
 * Draws from N rows: stratum[i] in [0, k) (STRATIFIED; else ignored, may be NULL),
 * size[i] > 0 (POISSON; else ignored, may be NULL). Fills pi[i] (every row's inclusion
 * probability) and chosen[i] (1 drawn); returns the number drawn. n >= N takes every
 * row (pi = 1). The same seed gives the same draw.
 */
size_t slm_audit_draw(size_t N, slm_audit_design d, const int *stratum, size_t k,
                      const double *size, long n, uint64_t seed, double *pi,
                      unsigned char *chosen);

typedef struct slm_audit_est {
    double est, se, lo, hi; /* NaN when undefined (no row; a stratum of one sampled row
                             * out of more) */
    long n, right;          /* labelled rows used, right among them */
} slm_audit_est;

/*
 * The estimate from n labelled sample rows: y[i] 0/1, pi[i] their inclusion
 * probabilities, stratum[i] (any int: rows with the same value form a stratum; SRS: all
 * the same) and stratum_size[i] = N_h; N the month's rows. Returns 0, -1 when an input
 * is out of range (pi outside (0, 1], N_h < 1).
 */
int slm_audit_estimate(slm_audit_design d, const int *y, const double *pi, const int *stratum,
                       const long *stratum_size, size_t n, long N, slm_audit_est *out);

#endif
