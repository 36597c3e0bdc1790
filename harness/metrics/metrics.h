/*
 * metrics.h — the numbers of a run: classification metrics, latency summaries and the
 * probability-based scores used for calibration (DESIGN §6 gives the exact definitions;
 * this header restates each one so it can be checked by an independent implementation).
 *
 * Conventions of this module:
 *   - 0/0 is 0 in the classification metrics (precision of a class never predicted, ...),
 *     as DESIGN §6 asks; elsewhere an undefined result is NaN (no data, bad input), so a
 *     caller cannot mistake "nothing measured" for a real 0.
 *   - No function keeps a pointer to its inputs. Arrays in an slm_cls_metrics belong to
 *     it and are released by slm_cls_metrics_free().
 *   - Nothing here formats numbers, so nothing depends on the locale.
 */
#ifndef SLM_METRICS_H
#define SLM_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* ---- classification ------------------------------------------------------------------ */

/* Classification metrics over n examples. Labels are indices into a label space of
 * n_classes; gold[i] in [0, n_classes); pred[i] in [0, n_classes) — the caller appends a
 * class for each distinct invalid prediction (an output outside the label set) after the
 * real labels, so such classes have no gold examples but still count in macro-F1.
 *
 * Per class c: TP = confusion[c][c], FP = pred_count[c] - TP, FN = support[c] - TP;
 * precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2TP/(2TP+FP+FN) (the same number as
 * 2PR/(P+R), with fewer roundings); each is 0 where its denominator is 0. */
typedef struct slm_cls_metrics {
    size_t n, n_correct, n_classes;
    double accuracy;      /* n_correct / n */
    double macro_f1;      /* mean F1 over classes in (gold ∪ predicted); 0/0 counts as 0 */
    double micro_f1;      /* sum TP / (sum TP + (sum FP + sum FN)/2); equals accuracy for
                           * single-label classification, computed from the definition */
    double weighted_f1;   /* sum over classes of support[c] * f1[c], divided by n */
    double *precision, *recall, *f1;   /* [n_classes]; 0 where 0/0 */
    long *support;        /* [n_classes] gold count */
    long *pred_count;     /* [n_classes] predicted count */
    long *confusion;      /* [n_classes * n_classes], row = gold, column = predicted:
                           * confusion[g * n_classes + p] */
    unsigned char *present; /* [n_classes] 1 if the class is in gold ∪ predicted */
} slm_cls_metrics;

/* Computes every field of *out from gold[0..n) and pred[0..n).
 * Returns 0 on success; *out then owns its arrays (release with slm_cls_metrics_free()).
 * Returns -1 with a message in err when n == 0, n_classes == 0, a label is outside
 * [0, n_classes), or the confusion matrix would not fit in memory; *out is then zeroed
 * (so slm_cls_metrics_free() on it is still safe). Aborts only on memory exhaustion. */
int slm_cls_metrics_compute(const int *gold, const int *pred, size_t n, size_t n_classes,
                            slm_cls_metrics *out, char *err, size_t errlen);

/* Frees the arrays of m and zeroes it (the struct itself is the caller's). NULL-safe, and
 * safe on a zeroed struct or twice in a row. */
void slm_cls_metrics_free(slm_cls_metrics *m);

/* Per-class recall spread: max - min of recall[c] over the real labels c < n_labels that
 * have gold examples (support[c] > 0); the extra classes of invalid outputs have no gold
 * examples and never count. 0 when one label has support, NaN when none has (or m is
 * NULL). A model that is good on average but blind to one class shows a large spread. */
double slm_recall_spread(const slm_cls_metrics *m, size_t n_labels);

/* ---- summaries and percentiles ------------------------------------------------------- */

/* Percentile p in [0, 100] of the ascending, finite values sorted[0..n), with linear
 * interpolation between order statistics exactly as numpy's default 'linear' method:
 * rank r = p/100 * (n-1), i = floor(r), t = r - i, a = sorted[i], b = sorted[i+1]
 * (b = a at the top), result a + (b-a)*t for t < 0.5 and b - (b-a)*(1-t) otherwise
 * (numpy's own rounding, so results match it bit for bit).
 * Returns NaN when n == 0 or p is NaN or outside [0, 100]. The order is not checked. */
double slm_percentile_sorted(const double *sorted, size_t n, double p);

/* The same percentile over the finite values among x[0..n) (NaN and ±inf are treated as
 * missing and skipped), in any order. x is not modified: a copy is sorted.
 * Returns NaN when there are no finite values or p is invalid. */
double slm_percentile(const double *x, size_t n, double p);

typedef struct slm_summary {
    size_t n;             /* finite values summarised */
    double mean, min, max;
    double stddev;        /* sample standard deviation (divides by n-1); 0 when n == 1 */
    double p50, p90, p95, p99; /* as slm_percentile() */
} slm_summary;

/* Summary of the finite values among x[0..n) (NaN = missing, ±inf skipped too). With no
 * finite value: out->n = 0 and every other field NaN. Never fails (aborts only on memory
 * exhaustion); x is not modified. */
void slm_summarize(const double *x, size_t n, slm_summary *out);

/* ---- probabilities and calibration --------------------------------------------------- */

/* Number of bins DESIGN §6 uses for ECE (equal-width and equal-mass). */
#define SLM_ECE_BINS 15

/* Softmax of logprob[0..k) into p[0..k) (p may alias logprob): p_j = exp(l_j - max) /
 * sum_i exp(l_i - max), subtracting the max so large or very negative log-probabilities
 * neither overflow nor all underflow. An entry of -inf gets probability 0. If every entry
 * is -inf (the model rules out every label) the result is uniform, 1/k each. If any entry
 * is NaN or +inf, every p_j is NaN. k == 0 does nothing. */
void slm_softmax(const double *logprob, size_t k, double *p);

/* Multi-class Brier score: mean over the n examples of sum_j (p_j - y_j)^2, where y is the
 * one-hot vector of gold[i] (not halved, so it lies in [0, 2]). probs is row-major n x k.
 * Returns NaN when n == 0, k == 0 or a gold index is outside [0, k). */
double slm_brier(const double *probs, const int *gold, size_t n, size_t k);

/* Negative log-likelihood: mean over the n examples of -ln p(gold), with p clipped to
 * [1e-15, 1 - 1e-15] first (the rows are not renormalised). probs is row-major n x k.
 * Returns NaN when n == 0, k == 0, a gold index is outside [0, k) or p(gold) is NaN. */
double slm_nll(const double *probs, const int *gold, size_t n, size_t k);

/* Expected calibration error over top-label confidences conf[0..n) and correctness
 * correct[0..n) (non-zero = the prediction was right), with B = n_bins bins
 * (SLM_ECE_BINS for DESIGN §6).
 *
 * Equal width (equal_mass == 0): bin m in 1..B holds the confidences in ((m-1)/B, m/B],
 * right edge included, and confidence 0 goes to bin 1. The edges are the doubles m/B
 * (correctly rounded divisions), and membership is decided by exact comparisons against
 * them, so a confidence written as the double k/B always lands in bin k.
 *
 * Equal mass (equal_mass != 0), as Kumar et al. 2019 ("Verified uncertainty calibration")
 * and HELM define it: the confidences are sorted and cut into B' = min(B, n) chunks of
 * sizes as numpy's array_split (the first n mod B' chunks one longer than the others);
 * the upper edge of each chunk but the last is the midpoint (last + next first) / 2 of the
 * values either side of the cut, the last edge is 1.0, and repeated edges are dropped
 * (slm_ece_mass_edges). Each confidence goes to the first bin whose upper edge is >= it
 * (right-closed, as bisect_left / np.searchsorted(side='left')), so tied confidences never
 * straddle a bin, and the value does not depend on the order of the examples (per-bin sums
 * run in confidence order). Bins are indexed by edge; with ties some may be empty, and
 * those past the last edge are always empty.
 *
 * In both cases, with n_m examples in bin m, acc_m their fraction correct and conf_m their
 * mean confidence: ECE = sum over non-empty bins of (n_m/n) * |acc_m - conf_m|, and
 * *mce (if mce is non-NULL) = the largest |acc_m - conf_m| over non-empty bins.
 * bin_count, bin_conf, bin_acc, where non-NULL, must hold n_bins entries and receive n_m,
 * conf_m and acc_m per bin (index 0 = bin 1 = lowest confidences); an empty bin has count
 * 0 and NaN mean confidence and accuracy.
 *
 * Returns the ECE, or NaN (and *mce NaN, every bin empty) when n == 0, n_bins < 1, or a
 * confidence is NaN or outside [0, 1] — a caller with missing confidences leaves those
 * rows out first (analysis.c does, and reports how many). Aborts only on memory
 * exhaustion (equal mass sorts a copy). */
double slm_ece(const double *conf, const unsigned char *correct, size_t n, int n_bins,
               int equal_mass, double *mce, long *bin_count, double *bin_conf,
               double *bin_acc);

/* The upper bin edges of the equal-mass scheme (see slm_ece) for the ascending
 * confidences sorted[0..n), written to edges (room for n_bins values), ascending and
 * distinct, the last 1.0. Returns their count (1..min(n_bins, n)), 0 when n == 0 or
 * n_bins < 1. The order of sorted is not checked. */
size_t slm_ece_mass_edges(const double *sorted, size_t n, int n_bins, double *edges);

/* The equal-width bin (1..n_bins) of one confidence in [0, 1], as slm_ece() assigns it;
 * 0 when conf is NaN or outside [0, 1] or n_bins < 1. Exposed so reports and tests can
 * name the bin of an example. */
int slm_ece_bin(double conf, int n_bins);

/* Class-wise ECE: the mean over the k classes c of the equal-width ECE (as slm_ece() with
 * equal_mass == 0, same bins: bin m = ((m-1)/B, m/B], 0 in bin 1) of the probabilities
 * probs[i*k + c] against the indicator gold[i] == c. Every class counts, including one that
 * never occurs as gold (its ECE is then its mean probability mass).
 * Returns NaN when n == 0, k == 0, n_bins < 1, a gold index is outside [0, k) or a
 * probability is NaN or outside [0, 1]. Aborts only on memory exhaustion. */
double slm_classwise_ece(const double *probs, const int *gold, size_t n, size_t k,
                         int n_bins);

/* ---- selective prediction ------------------------------------------------------------ */

/* Selective prediction (DESIGN §6) ranks the examples by confidence conf[i], highest
 * first; correct[i] != 0 means example i was right. Only the order of the confidences
 * matters, so any real scores work (±inf included); a NaN confidence is an error.
 *
 * Ties: examples with equal confidence form a group that a threshold accepts or rejects
 * as a whole, so no order among them exists to exploit. Where a quantity needs the top k
 * for k inside a group occupying sorted positions [s, e) (k in s+1..e), the group's
 * errors are counted as spread evenly: errors(top k) = errors before the group +
 * (k - s) * (errors in group)/(e - s) — the expectation over every order of the group,
 * so neither input order nor a lucky tie-break can lower the score. */

/* Area under the risk-coverage curve: AURC = (1/n) * sum over k = 1..n of
 * errors(top k)/k, with ties spread evenly as above. 0 when every example is right; with
 * no ties and every example wrong, 1. Returns NaN when n == 0 or a confidence is NaN.
 * Aborts only on memory exhaustion (a copy is sorted). */
double slm_aurc(const double *conf, const unsigned char *correct, size_t n);

/* Coverage at a target accuracy: among the rules "accept example i if conf[i] >= tau",
 * tau ranging over the distinct confidences (so tied confidences are accepted or rejected
 * together), the one with the largest coverage (accepted/n) whose accuracy on the
 * accepted examples (right/accepted, compared as a double with >= target) meets target.
 * Fills *coverage, *threshold (that tau) and *accuracy, and returns 0. If no tau
 * qualifies, returns 0 too (not an error) with *coverage = 0 and *threshold, *accuracy
 * NaN. Returns -1 (outputs NaN) when n == 0, target is NaN or a confidence is NaN.
 * Aborts only on memory exhaustion. */
int slm_coverage_at(const double *conf, const unsigned char *correct, size_t n,
                    double target, double *coverage, double *threshold, double *accuracy);

/* The risk-coverage curve: one point per distinct confidence, highest first. Point j is
 * the rule "accept if conf >= threshold[j]": coverage[j] = accepted/n, risk[j] =
 * wrong/accepted (1 - accuracy). coverage, risk and threshold must each hold n entries
 * (at most n points); the last point has coverage 1. Returns the number of points, or 0
 * (nothing written) when n == 0 or a confidence is NaN. Aborts only on memory
 * exhaustion. */
size_t slm_risk_coverage(const double *conf, const unsigned char *correct, size_t n,
                         double *coverage, double *risk, double *threshold);

/* ---- uncertainty: bootstrap, McNemar, Holm ------------------------------------------- */

/* A small seeded PRNG: xoshiro256** (Blackman and Vigna), its state filled from the seed
 * by splitmix64, as its authors recommend. The same seed gives the same stream on every
 * platform. The struct is the caller's; there is no global state. */
typedef struct slm_rng {
    uint64_t s[4];
} slm_rng;

/* Seeds r from seed (any value, 0 included). */
void slm_rng_seed(slm_rng *r, uint64_t seed);

/* The next 64 uniformly distributed bits. */
uint64_t slm_rng_u64(slm_rng *r);

/* A uniform integer in [0, n), without modulo bias (draws below 2^64 mod n are rejected
 * and redrawn). Returns 0 when n == 0 or 1 (n == 0 consumes no draw). */
uint64_t slm_rng_below(slm_rng *r, uint64_t n);

/* A statistic of a bootstrap resample: idx[0..n) are the indices (into the caller's data,
 * reached through ud) of the resample, drawn with replacement; may return NaN for "not
 * defined on this resample". It must not keep idx. */
typedef double (*slm_resample_stat)(const size_t *idx, size_t n, void *ud);

/* Percentile bootstrap interval of a statistic over n examples: reps resamples of n
 * indices drawn uniformly with replacement by slm_rng seeded with seed (one stream, the
 * indices of replicate r drawn in order after those of r-1), stat evaluated on each.
 * Replicates that are NaN or ±inf are skipped. *lo and *hi are the (1-level)/2 and
 * (1+level)/2 quantiles of the kept replicates (level 0.95 → 2.5th and 97.5th
 * percentiles), with linear interpolation as slm_percentile(); *se their sample standard
 * deviation (n-1 divisor; 0 with one replicate). Any output pointer may be NULL.
 * Returns 0; -1 with the outputs NaN when n == 0, reps < 1, stat is NULL, level is not in
 * (0, 1), or every replicate was skipped. Aborts only on memory exhaustion. */
int slm_bootstrap_ci(size_t n, slm_resample_stat stat, void *ud, int reps, uint64_t seed,
                     double level, double *lo, double *hi, double *se);

/* The test a paired bootstrap makes of "no difference". */
typedef struct slm_boot_test {
    double lo, hi;  /* the 95% percentile interval of the kept replicates */
    double p;       /* two-sided p-value, min(1, 2 (r + 1)/(B + 1)); never 0 */
    long crossed;   /* r: the kept replicates on the smaller side of 0 (<= 0 or >= 0; a
                     * replicate exactly 0 counts on both sides) */
    long kept;      /* B: the finite replicates */
} slm_boot_test;

/* Paired bootstrap of a difference between two candidates scored on the same n examples
 * (diff returns statistic(A) - statistic(B) on a resample; both candidates see the same
 * indices, which is what makes it paired). Resampling and skipping as slm_bootstrap_ci().
 *
 * The p-value follows the add-one rule of Monte Carlo tests (Davison and Hinkley 1997,
 * ch. 4; North, Curtis and Sham 2002): with r of the B kept replicates on the far side
 * of 0, the one-sided p is (r + 1)/(B + 1) and the two-sided p = min(1, 2 (r + 1)/(B + 1)).
 * It is never 0: when no replicate crosses 0 (r = 0) it is 2/(B + 1), the smallest value
 * B replicates can support (0.002 for B = 1000), and means "p at most 2/(B + 1)", not a
 * measured value; out->crossed == 0 says so, and reports print it with "≤". An all-zero
 * distribution gives 1.
 * Returns 0, or -1 (out's numbers NaN, counts -1) on the errors of slm_bootstrap_ci().
 * Aborts only on memory exhaustion. */
int slm_paired_bootstrap_test(size_t n, slm_resample_stat diff, void *ud, int reps,
                              uint64_t seed, slm_boot_test *out);

/* slm_paired_bootstrap_test() with its interval and p-value written to separate pointers,
 * any of which may be NULL. Returns 0, or -1 with the outputs NaN. */
int slm_paired_bootstrap(size_t n, slm_resample_stat diff, void *ud, int reps,
                         uint64_t seed, double *lo, double *hi, double *p_two_sided);

/* The standard normal distribution function Φ(x) = erfc(-x/√2)/2, accurate in both tails. */
double slm_norm_cdf(double x);

/* Its inverse Φ⁻¹(p) by Wichura's algorithm AS241 (relative error about 1e-16):
 * -inf at 0, +inf at 1, NaN for p NaN or outside [0, 1]. */
double slm_norm_quantile(double p);

/* BCa interval (bias-corrected and accelerated; Efron 1987, Efron and Tibshirani 1993
 * §14.3) from explicit inputs, so it can be checked against an independent computation:
 * the estimate on the full sample, the bootstrap replicates reps[0..m) (any order;
 * non-finite ones skipped), the jackknife values jack[0..nj) (the statistic with each
 * example left out in turn) and the level (e.g. 0.95).
 *   z0 = Φ⁻¹(share of replicates below the estimate, ties counting one half),
 *   a  = Σ d_i³ / (6 (Σ d_i²)^(3/2)), d_i = mean(jack) - jack_i (0 if all jack are equal),
 *   for q = (1 - level)/2 and (1 + level)/2: q' = Φ(z0 + (z0 + z_q)/(1 - a (z0 + z_q))),
 *   endpoint = the 100 q' percentile of the replicates as slm_percentile().
 * With z0 = a = 0 this is the percentile interval. *z0_out and *a_out (if non-NULL)
 * receive z0 and a. Returns 0; -1 with *lo, *hi NaN when the estimate is not finite,
 * m or nj is 0, level is not in (0, 1), no replicate is finite, a jackknife value is not
 * finite, or BCa is undefined: the estimate lies below or above every replicate (share 0
 * or 1, z0 infinite), 1 - a (z0 + z_q) <= 0, or the whole interval falls between the two
 * outermost replicates of one side (upper q' < 1/m or lower q' > 1 - 1/m: m resamples
 * cannot place it, and it would collapse to a point). A lower q' below 1/m alone is kept:
 * that endpoint is then the smallest replicate, as far as m resamples reach (the usual
 * case for ECE, whose bias is large next to its spread). Aborts only on memory
 * exhaustion. */
int slm_bca_endpoints(double estimate, const double *reps, size_t m, const double *jack,
                      size_t nj, double level, double *lo, double *hi, double *z0_out,
                      double *a_out);

/* BCa bootstrap interval of stat over n >= 2 examples: the estimate is stat on all n
 * examples (indices 0..n-1 in order), the replicates are exactly those of
 * slm_bootstrap_ci() with the same reps and seed (so both kinds of interval come from one
 * set of resamples), the jackknife calls stat n times on n - 1 indices (example i left
 * out, the others in order), then slm_bca_endpoints(). Meant for statistics whose
 * resampled values sit off-centre (biased ones such as ECE and macro-F1), where the
 * percentile interval would be shifted. Costs reps + n + 1 evaluations of stat.
 * Returns 0; -1 with *lo, *hi NaN on the errors of slm_bootstrap_ci(), n < 2, a
 * non-finite estimate, or the failures of slm_bca_endpoints() (BCa undefined).
 * Aborts only on memory exhaustion. */
int slm_bootstrap_bca(size_t n, slm_resample_stat stat, void *ud, int reps, uint64_t seed,
                      double level, double *lo, double *hi);

/* McNemar's test, two-sided, for paired right/wrong outcomes: b = examples only
 * candidate A got right, c = only B got right. With b + c < 25 the exact binomial test:
 * p = min(1, 2 * P[X <= min(b, c)]), X ~ Bin(b + c, 1/2), computed with exact integer
 * arithmetic (so b=10, c=2 gives 158/4096 = 0.03857421875 exactly); *exact = 1.
 * Otherwise the chi-square test with continuity correction: x = (|b - c| - 1)^2/(b + c),
 * p = erfc(sqrt(x/2)) (the chi-square(1) upper tail); *exact = 0. As written in DESIGN
 * §6 the correction is not floored at 0, so b == c gives x = 1/(b + c) and p just below 1.
 * b + c == 0 gives p = 1 (*exact = 1). Returns NaN (*exact = 0) when b or c is negative.
 * exact may be NULL. */
double slm_mcnemar_p(long b, long c, int *exact);

/* The smallest accuracy difference, in points, that McNemar's test (as slm_mcnemar_p(),
 * two-sided, exact when b + c < 25 else chi-square with continuity correction) would call
 * significant (p < alpha) on n paired examples of which m = b + c are discordant (one
 * candidate right, the other wrong).
 *
 * What is held fixed: n and m. The accuracy difference of such a pair is (b - c)/n, and
 * b - c can only be one of -m, -m + 2, ..., m; this returns 100 d/n for the smallest
 * d = |b - c| in that list whose split b = (m + d)/2, c = (m - d)/2 has p < alpha. McNemar
 * conditions on m, so for the observed m this is exactly the line between "significant"
 * and "not": an observed difference smaller than it was not significant and could not
 * have been at this n and m — "not significant at n = 200 (a drop of 4.5 points would be
 * needed)", not "noise". It is not a power calculation: a real difference would usually
 * come with another m.
 *
 * Returns +inf when no split of m qualifies (too few discordant pairs: m <= 5 at alpha =
 * 0.05, where even b = m, c = 0 has p >= alpha; m = 0 always); NaN when n < 1, m < 0,
 * m > n or alpha is not in (0, 1). */
double slm_mcnemar_needed_pt(long n, long m, double alpha);

/* Holm's step-down adjustment of m p-values: with p sorted ascending p_(1) <= ... <=
 * p_(m), adjusted_(i) = min(1, max over j <= i of (m - j + 1) * p_(j)), written back in
 * the input order (adjusted may alias p). Monotone in p; tied p-values get the same
 * adjusted value. If any p is NaN, every adjusted value is NaN. m == 0 does nothing.
 * Aborts only on memory exhaustion. */
void slm_holm(const double *p, size_t m, double *adjusted);

/* Regularized upper incomplete gamma function Q(a, x) = Gamma(a, x) / Gamma(a) for a > 0,
 * x >= 0: the series of P(a, x) when x < a + 1 (Q = 1 - P), otherwise the continued
 * fraction of Q evaluated by the modified Lentz method (Numerical Recipes §6.2), both to a
 * relative precision of about 1e-14. Q(a, 0) = 1; Q(a, +inf) = 0. Returns NaN when a <= 0,
 * x < 0 or either is NaN. */
double slm_gamma_q(double a, double x);

/* The chi-square survival function P[X >= x] for X ~ chi-square(df): Q(df/2, x/2)
 * (so df = 1, x = 3.841459 gives 0.05). x <= 0 gives 1. Returns NaN when df <= 0 or x is
 * NaN. Used for the chi-square test of homogeneity of label distributions (drift). */
double slm_chi2_sf(double x, double df);

/* ---- temperature scaling ------------------------------------------------------------- */

/* Fits a temperature T for the scores logits (row-major n x k; any real scores, e.g.
 * summed log-probabilities per label; -inf means "impossible") and gold labels: T
 * minimises the mean NLL of softmax(logits/T), -(1/n) sum_i ln softmax(logits_i/T)[gold_i]
 * (unclipped). Search on t = ln T over [ln 0.01, ln 100]: the mean NLL is evaluated on a
 * grid of 81 evenly spaced points (step ln(100)/40, with t = 0 — T = 1 — on the grid),
 * the first smallest is taken, and golden-section search refines t inside the bracket of
 * its two neighbours to a width below 1e-10. The NLL in t is smooth but need not be
 * convex, so the grid guards against the wrong basin; the result is clamped to
 * [0.01, 100] (T at a bound means the optimum lies beyond it, e.g. separable data).
 * If the NLL is the same at every grid point (k == 1, or every row constant) returns 1.
 * Returns NaN when n == 0, k == 0, a gold index is outside [0, k), a logit is NaN or
 * +inf, or a gold logit is -inf. */
double slm_fit_temperature(const double *logits, const int *gold, size_t n, size_t k);

/* probs (row-major n x k) = softmax(logits_i / T) per row, as slm_softmax() of the scaled
 * row (so -inf gives 0, an all -inf row is uniform). probs may alias logits. With T NaN,
 * T <= 0 or T = +inf every entry is NaN. */
void slm_apply_temperature(const double *logits, size_t n, size_t k, double T,
                           double *probs);

#endif
