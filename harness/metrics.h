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
 * Equal mass (equal_mass != 0): the examples are sorted by confidence ascending, ties by
 * their original index (so the split is deterministic; tied confidences may straddle a
 * boundary), and bin b in 0..B-1 gets sorted positions [floor(b*n/B), floor((b+1)*n/B)).
 * Counts differ by at most one; with n < B some bins are empty.
 *
 * In both cases, with n_m examples in bin m, acc_m their fraction correct and conf_m their
 * mean confidence: ECE = sum over non-empty bins of (n_m/n) * |acc_m - conf_m|, and
 * *mce (if mce is non-NULL) = the largest |acc_m - conf_m| over non-empty bins.
 * bin_count, bin_conf, bin_acc, where non-NULL, must hold n_bins entries and receive n_m,
 * conf_m and acc_m per bin (index 0 = bin 1 = lowest confidences); an empty bin has count
 * 0 and NaN mean confidence and accuracy.
 *
 * Returns the ECE, or NaN (and *mce NaN, every bin empty) when n == 0, n_bins < 1, or a
 * confidence is NaN or outside [0, 1]. Aborts only on memory exhaustion (equal mass
 * sorts a copy). */
double slm_ece(const double *conf, const unsigned char *correct, size_t n, int n_bins,
               int equal_mass, double *mce, long *bin_count, double *bin_conf,
               double *bin_acc);

/* The equal-width bin (1..n_bins) of one confidence in [0, 1], as slm_ece() assigns it;
 * 0 when conf is NaN or outside [0, 1] or n_bins < 1. Exposed so reports and tests can
 * name the bin of an example. */
int slm_ece_bin(double conf, int n_bins);

#endif
