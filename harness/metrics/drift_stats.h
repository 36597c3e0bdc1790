/*
 * drift_stats.h — the statistics of the drift review (drift.h): the test of a
 * month-on-month difference of one metric, the Benjamini–Hochberg adjustment over every
 * test of a review, and the label-distribution test with its value under no drift. Pure
 * functions on samples in memory; the review (drift.c) reads the database and calls them,
 * and so does the null-history simulation of tests/unit/test_drift_null.c, so what the
 * simulation proves is what the review runs.
 *
 * A sample is one month of one series: the stored predictions of the chosen candidate,
 * one entry per example. Two months are PAIRED when the caller says so (drift.c: both
 * runs evaluated the eval set with the same sha256) and then examples are matched by
 * example id (slm_drift_pair); otherwise the two months are independent samples.
 *
 * Every p-value here is two-sided. Nothing allocates that the caller must free, except
 * slm_drift_pair's arrays (slm_drift_pairs_free, NULL-safe).
 */
#ifndef SLM_DRIFT_STATS_H
#define SLM_DRIFT_STATS_H

#include <stddef.h>
#include <stdint.h>

/* One month of one series. gold[i] is in [0, n_labels); pred[i] is a label index, or an
 * index >= n_labels for an answer outside the label set (one index per distinct answer,
 * engine errors together: n_classes counts them all), as aggregate.c numbers them for
 * macro-F1. conf[i] is the top-label confidence, NaN when the engine gave none. lat and
 * ref are per-example latencies (ms) of the reviewed candidate and of the latency
 * reference in the same run, matched by example (NaN where either is missing); both NULL
 * when latency is not judged. ids may be NULL (the month then pairs with nothing). */
typedef struct slm_drift_sample {
    size_t n, n_labels, n_classes;
    const char *const *ids;
    const int *gold, *pred;
    const double *conf;
    const double *lat, *ref;
} slm_drift_sample;

/* Matched examples of two months: a's example ia[k] has the id of b's example ib[k]. */
typedef struct slm_drift_pairs {
    size_t n;
    size_t *ia, *ib;
} slm_drift_pairs;

/* Matches a's examples with b's by example id (an id seen twice in one month is matched
 * once, its first occurrence), in a's order. 0, or -1 when either month has no ids. */
int slm_drift_pair(const slm_drift_sample *a, const slm_drift_sample *b, slm_drift_pairs *out);
void slm_drift_pairs_free(slm_drift_pairs *p);

/* What a metric is judged with. */
typedef enum slm_drift_kind {
    SLM_DK_NONE = 0,   /* no two-sample test in the review: shown, not judged */
    SLM_DK_ACCURACY,   /* a proportion: McNemar (paired) or Fisher / Yates (independent) */
    SLM_DK_MACRO_F1,   /* bootstrap of the difference */
    SLM_DK_WEIGHTED_F1,
    SLM_DK_ECE,        /* 15 equal-width bins, examples without a confidence left out */
    SLM_DK_ECE_MASS,   /* 15 equal-mass bins (slm_ece with equal_mass), the same */
    SLM_DK_LATENCY     /* log of stat(candidate)/stat(reference), bootstrap */
} slm_drift_kind;

/* The kind of a metric by its field name (fields.c); for latency metrics
 * (e2e_ms_p95 and the other <phase>_ms_<mean|p50|p90|p95|p99>) also the percentile in
 * *pct (NaN for the mean) and the phase in *phase (0 e2e, 1 prefill, 2 decode, 3 ttft,
 * 4 tpot). pct and phase may be NULL. */
slm_drift_kind slm_drift_kind_of(const char *metric, double *pct, int *phase);

typedef struct slm_drift_cfg {
    int reps;      /* bootstrap replicates (>= 1) */
    uint64_t seed; /* of this test's bootstrap stream */
    double pct;    /* SLM_DK_LATENCY: the percentile, NaN for the mean */
    int label;     /* SLM_DK_ACCURACY: -1 all examples, else only those whose gold label
                    * is label_a in a and label_b in b (the per-class recall) */
    int label_b;
} slm_drift_cfg;

/* The test of one difference, month b minus month a. */
typedef struct slm_drift_diff {
    double a, b;           /* the statistic in each month, as computed here */
    double diff, lo, hi;   /* b - a, and its 95% interval (not adjusted for multiplicity) */
    double p;              /* two-sided p-value of "no difference"; NaN: no test */
    double se;             /* bootstrap standard error of diff (NaN without bootstrap) */
    const char *method;    /* static: "mcnemar-exact", "mcnemar-chi2-cc", "fisher-exact",
                            * "chi2-yates", "bootstrap-paired", "bootstrap" */
    long n_a, n_b;         /* examples used in each month */
    long n_pairs;          /* matched examples (paired), else 0 */
    long only_a, only_b;   /* paired proportions: right only in a, right only in b */
    int reps;              /* bootstrap replicates kept (0: no bootstrap) */
} slm_drift_diff;

/*
 * The test of month b against month a for kind, on pairs when pairs is non-NULL (an
 * independent two-sample test otherwise). Fills *out and returns 0; returns -1 (out->p
 * NaN) when either month has nothing to compute the statistic on.
 *
 * SLM_DK_ACCURACY (with cfg->label: a class's recall) — paired: McNemar's test as
 *   slm_mcnemar_p (exact binomial below 25 discordant pairs, chi-square with continuity
 *   correction otherwise); interval of the paired difference by Agresti–Min (Wald after
 *   adding 1/2 to each cell of the paired table). Independent: the 2 x 2 table of right
 *   and wrong by month, Fisher's exact test when an expected count is below 5, otherwise
 *   the chi-square test with Yates' correction (the two-proportion z test with continuity
 *   correction); interval by Newcombe's hybrid score method (Wilson intervals of each
 *   month, Newcombe 1998 method 10).
 * The other kinds: a seeded bootstrap of the difference, cfg->reps replicates from one
 *   slm_rng stream seeded with cfg->seed — paired: the same resampled pairs on both
 *   sides; independent: each month resampled on its own (a's n_a draws, then b's n_b
 *   draws, replicate after replicate). Replicates where the statistic is undefined are
 *   dropped. se = the standard deviation of the kept differences (n - 1 divisor); the
 *   test is the normal one of diff / se: p = erfc(|diff| / (se sqrt 2)), interval
 *   diff ± 1.96 se, centred on the observed difference (a percentile interval of a
 *   biased statistic such as ECE sits off-centre) and continuous (a count of crossing
 *   replicates cannot go below 2/(reps + 1), too coarse for a family of many tests);
 *   se = 0 gives p = 1 when diff = 0, else 0.
 *   SLM_DK_LATENCY's statistic is ln(stat(lat) / stat(ref)) over the examples where both
 *   are finite and positive; diff, lo, hi are differences of logs (exp(diff) is the
 *   ratio of the two months' normalised latencies).
 */
int slm_drift_compare(slm_drift_kind kind, const slm_drift_sample *a, const slm_drift_sample *b,
                      const slm_drift_pairs *pairs, const slm_drift_cfg *cfg,
                      slm_drift_diff *out);

/* ---- the pieces, exposed to be checked against independent computations ---- */

/* The 2 x 2 table [[x11, x12], [x21, x22]]. Pearson's chi-square with Yates' correction:
 * x = N (|x11 x22 - x12 x21| - min(N/2, |x11 x22 - x12 x21|))^2 / (r1 r2 c1 c2), p its
 * chi-square(1) upper tail (as R's chisq.test, the correction never overshoots). *chi2
 * (may be NULL) receives x. NaN when a margin is 0 or a count negative. */
double slm_yates_p(long x11, long x12, long x21, long x22, double *chi2);

/* Fisher's exact test of the same table, two-sided: the sum of the hypergeometric
 * probabilities of the tables with the same margins that are no more likely than the one
 * observed (relative tolerance 1e-7, as R's fisher.test). NaN on a negative count. */
double slm_fisher_p(long x11, long x12, long x21, long x22);

/* 1 when an expected count of the 2 x 2 table (r_i c_j / N) is below 5. */
int slm_2x2_small(long x11, long x12, long x21, long x22);

/* Wilson score interval of k successes in n at the normal quantile z. */
void slm_wilson(long k, long n, double z, double *lo, double *hi);

/* Newcombe's hybrid score interval (method 10) of p2 - p1, p1 = k1/n1, p2 = k2/n2. */
void slm_newcombe(long k1, long n1, long k2, long n2, double z, double *lo, double *hi);

/* Benjamini–Hochberg adjusted p-values: over the m' finite entries of p (NaN entries are
 * no test: left out of the family and adjusted to NaN), sorted ascending p_(1..m'),
 * adjusted_(i) = min over j >= i of min(1, m' p_(j) / j), written in input order
 * (adjusted may alias p). A flag at adjusted < alpha keeps the false discovery rate at
 * alpha (independent or positively dependent tests). Aborts only on memory exhaustion. */
void slm_bh(const double *p, size_t m, double *adjusted);

/* Label-distribution drift of two count vectors ca[k], cb[k] (k labels; labels with no
 * example on either side are dropped). */
typedef struct slm_label_test {
    double tvd;       /* half the L1 distance of the two label shares */
    double tvd_null;  /* its mean over `reps` random splits of the pooled labels into
                       * groups of na and nb (its expected value under no drift at these
                       * sample sizes) */
    double tvd_null_hi; /* the 95th percentile of those splits */
    double chi2;      /* Pearson's statistic; with df = 1 Yates-corrected */
    int df;           /* labels kept - 1 */
    double p;         /* see slm_label_test_run */
    const char *method; /* "chi2", "chi2-yates", "fisher-exact", "monte-carlo" */
    int small;        /* an expected count below 5 */
    int reps;
} slm_label_test;

/*
 * Fills *out. The test of homogeneity of the 2 x K table: with every expected count at
 * least 5, Pearson's chi-square on K - 1 df (Yates-corrected when df = 1); with an
 * expected count below 5, Fisher's exact test when K = 2, otherwise a Monte-Carlo
 * permutation test: p = (1 + #{X*^2 >= X^2}) / (reps + 1) over `reps` random splits of the
 * pooled labels (the same splits as tvd_null), seeded with seed. Returns -1 (p NaN)
 * when a side has no example or fewer than 2 labels are seen (df = 0).
 */
int slm_label_test_run(const long *ca, const long *cb, size_t k, int reps, uint64_t seed,
                       slm_label_test *out);

/* A stable seed for one test: the top 63 bits of the FNV-1a hash of the base seed, the
 * two run ids (8 bytes each, little end first) and the bytes of what. */
uint64_t slm_drift_seed(uint64_t base, int64_t run_a, int64_t run_b, const char *what);

#endif
