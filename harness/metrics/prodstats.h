/*
 * prodstats.h — the statistics and the verdict of the monthly review of production
 * traffic (issue 17, `drift --deployment`): one month of a deployment's log against the
 * REFERENCE, the eval run of the candidate that was shipped. Pure functions on arrays in
 * memory: no SQL, no I/O; the command reads the store, fills the two slm_prod_sample
 * structs and calls slm_prod_review_run(), and tests/unit/test_prodstats_null.c runs the
 * very same function on simulated months, so what the simulation proves is what the
 * review runs. docs/prodstats.md explains every choice and gives the measured rates.
 *
 * Reused, not copied: Wilson and Newcombe intervals, the two-proportion test (Fisher /
 * Yates through slm_drift_compare), the 2 x K homogeneity test (slm_label_test_run) and
 * Benjamini–Hochberg from drift_stats.h; temperature scaling, percentiles and the normal
 * distribution from metrics.h.
 *
 * Conventions: an undefined value (0/0, no data) is NaN; every p-value is two-sided;
 * intervals are 95% and not adjusted for multiplicity. "Share" means a proportion in
 * [0, 1]; accuracy differences are in the same unit (0.02 = 2 points).
 */
#ifndef SLM_PRODSTATS_H
#define SLM_PRODSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "drift_stats.h"
#include "prodwords.h"

/* ---- the pieces (exposed so tests can check each against an independent computation) */

/*
 * Population stability index of two count vectors ca (reference) and cb (month) over k
 * bins (labels): bins empty on both sides are left out; with n_a, n_b the totals and k'
 * the bins kept, each count is smoothed by adding 0.5 (so an empty bin on one side gives
 * a finite term): a_i = (ca_i + 0.5)/(n_a + 0.5 k'), b_i likewise, and
 *     PSI = sum_i (b_i - a_i) ln(b_i / a_i).
 * contrib (k entries, may be NULL) receives each bin's term (0 for bins left out).
 * NaN when a side is empty or k' = 0. (Siddiqi 2006 for the index; the 0.5 is the
 * Jeffreys / Haldane–Anscombe correction.) Rules of thumb: < 0.1 no real shift, 0.1–0.25
 * moderate, > 0.25 large.
 */
double slm_psi(const long *ca, const long *cb, size_t k, double *contrib);

/* Jensen–Shannon distance of the unsmoothed shares a_i = ca_i/n_a, b_i = cb_i/n_b:
 * sqrt(JSD), JSD = H(m) - (H(a) + H(b))/2, m = (a + b)/2, H the entropy in bits
 * (0 log 0 = 0), so it lies in [0, 1]: 0 for equal shares, 1 for disjoint supports.
 * NaN when a side is empty. */
double slm_js_distance(const long *ca, const long *cb, size_t k);

/* The two-sample Kolmogorov–Smirnov test. */
typedef struct slm_prod_ks {
    double d;     /* sup_x |F_a(x) - F_b(x)| of the empirical distribution functions */
    double p;     /* slm_kolmogorov_q(lambda), see slm_ks2 */
    long n_a, n_b; /* finite values used */
} slm_prod_ks;

/*
 * D over the finite values of a[0..na) and b[0..nb) (NaN and ±inf left out), evaluated
 * after each distinct value, so tied values move both functions together (ties never
 * inflate D). p: with n_e = n_a n_b/(n_a + n_b), lambda = (sqrt(n_e) + 0.12 +
 * 0.11/sqrt(n_e)) D (Stephens 1970's correction for small samples, as Numerical Recipes
 * §14.3) and p = Q_KS(lambda). The asymptotic p is exact only for continuous data; with
 * ties the true distribution of D is stochastically smaller (Conover 1999 §6.1), so
 * this p is conservative there (the null simulation measures it). Returns 0, or -1
 * (d, p NaN) when a side has no finite value.
 */
int slm_ks2(const double *a, size_t na, const double *b, size_t nb, slm_prod_ks *out);

/* The Kolmogorov distribution's survival function Q_KS(l) = 2 sum_{j>=1} (-1)^(j-1)
 * exp(-2 j^2 l^2), computed for l < 1.18 from the equivalent theta-function form
 * 1 - sqrt(2 pi)/l sum_{j>=1} exp(-(2j-1)^2 pi^2/(8 l^2)); 1 for l <= 0, NaN for NaN. */
double slm_kolmogorov_q(double lambda);

/*
 * Confidence-based performance estimation (CBPE, as NannyML): p[0..n) are the calibrated
 * probabilities that each prediction is right (NaN left out). The estimate is their mean;
 * treating correctness as independent Bernoulli(p_i), the accuracy of these n tickets
 * has, around it, the sampling standard deviation sd = sqrt(sum p_i (1 - p_i))/n;
 * se_mean = the sample standard deviation of p / sqrt(n) is the standard error of the
 * estimate as an estimate of the population's mean confidence (for tests between
 * samples). Fills *est, *sd, *se_mean (NaN when no finite p); returns the count used.
 */
long slm_cbpe(const double *p, size_t n, double *est, double *sd, double *se_mean);

/* ---- the inputs --------------------------------------------------------------------- */

/*
 * One side of the review: the reference (the eval run's predictions on the evaluated
 * split) or one month of the production log. Label indices: [0, n_labels) is the label
 * set; pred[i] may be >= n_labels (< n_classes) for an answer outside it, as
 * aggregate.c numbers them (one index per distinct answer) — counted in the label
 * distribution (a drift signal) and always wrong.
 */
typedef struct slm_prod_sample {
    size_t n, n_labels, n_classes;
    const int *pred;        /* [n], in [0, n_classes) */
    const double *conf;     /* [n] top-label confidence in [0, 1], NaN missing */
    const double *probs;    /* [n * n_labels] per-label probabilities, rows summing to 1,
                             * or NULL (then conf is used raw) */
    const int *gold;        /* [n] reference: the gold label; month: the corrected label;
                             * -1 missing; the pointer NULL when none */
    const long *len;        /* [n] text length in bytes, -1 missing; NULL when none */
    const double *lat;      /* [n] end-to-end latency in ms, NaN missing; NULL when none */
    const slm_prod_words *words; /* reference: its texts added with loo = 1 against vocab;
                             * month: with loo = 0 against vocab; NULL when no text */
} slm_prod_sample;

typedef struct slm_prod_ref {
    slm_prod_sample s;
    double temperature;        /* fitted on the eval run's calibration split; NaN none */
    const slm_wordmap *vocab;  /* the eval set's words (slm_words_add_text); NULL none */
} slm_prod_ref;

/* Thresholds and options (slm_prod_cfg_default gives the documented defaults). */
typedef struct slm_prod_cfg {
    double alpha;        /* BH level of the month's family of tests: 0.05 */
    double threshold;    /* cascade threshold (escalate below it); NaN: no escalation */
    double psi_min;      /* effect floors a flag needs besides adjusted p < alpha:   0.05 */
    double class_min;    /*   one class's PSI term (its share moved, relative to it): 0.01 */
    double ks_min;       /*   KS D (confidence, text length):                        0.05 */
    double esc_min;      /*   |escalation rate - reference rate|:                    0.02 */
    double oov_min;      /*   OOV share increase:                                    0.02 */
    double acc_drop_min; /*   accuracy drop (estimated or observed):                 0.02 */
    int allowance;       /* 1: correct the estimate by the reference's calibration gap,
                          * with its uncertainty (see slm_prod_review.est); 0: plain CBPE */
    int judge_observed;  /* 1: observed accuracy on corrected tickets is judged */
    int top_n;           /* classes that moved most, kept: 5 */
    int new_words_n;     /* new frequent words kept: 10 */
    long new_words_min;  /*   with at least this count: 5 */
    int reps;            /* Monte-Carlo replicates of the label test when sparse: 2000 */
    uint64_t seed;       /* its seed */
} slm_prod_cfg;

void slm_prod_cfg_default(slm_prod_cfg *c);

/* ---- the outputs -------------------------------------------------------------------- */

typedef struct slm_prod_mover {
    int cls;                     /* label index (>= n_labels: outside the label set) */
    double share_ref, share_month, diff; /* unsmoothed shares; diff = month - ref */
    double contrib;              /* its PSI term */
} slm_prod_mover;

typedef struct slm_prod_word {
    char *word;                  /* owned by the review; raw production text (it may hold
                                  * a secret a customer pasted): print it through the
                                  * redacting writers (slm_say, the store's binders) */
    long count;                  /* in the month */
} slm_prod_word;

/* The judged signals, in the order of slm_prod_review.sig. */
typedef enum slm_prod_sig_id {
    SLM_PS_LABELS = 0,   /* drift: predicted-label distribution (chi-square, PSI floor) */
    SLM_PS_CLASS,        /* drift: the share of one class (the most significant of the
                          * per-class 2 x 2 tests, Bonferroni over the classes; the floor
                          * on that class's PSI term) */
    SLM_PS_CONFIDENCE,   /* drift: confidence distribution (KS, D floor) */
    SLM_PS_ESCALATION,   /* drift: escalation rate vs the eval run's (2 proportions) */
    SLM_PS_LENGTH,       /* drift: text length (KS, D floor) */
    SLM_PS_OOV,          /* drift: OOV share vs the eval set's leave-one-out share (z) */
    SLM_PS_EST_ACCURACY, /* degraded: estimated accuracy vs the eval run's estimate (z) */
    SLM_PS_OBS_ACCURACY, /* degraded: observed accuracy on corrected tickets vs the eval
                          * run's accuracy (Fisher / Yates) */
    SLM_PS_COUNT
} slm_prod_sig_id;

typedef struct slm_prod_signal {
    const char *name;    /* static: "labels", "confidence", ... (JSON keys) */
    int degrades;        /* 1: a flag means degraded, 0: drifted */
    double effect;       /* the statistic the floor applies to (PSI, D, difference) */
    double floor;        /* the floor (cfg) */
    double p, p_adj;     /* NaN: not tested (no data): left out of the family */
    int flagged;         /* p_adj < alpha and the effect past its floor (in the bad
                          * direction for OOV and accuracy) */
} slm_prod_signal;

typedef enum slm_prod_verdict {
    SLM_PV_STABLE = 0,
    SLM_PV_DRIFTED,      /* a drift signal flagged, no degraded one */
    SLM_PV_DEGRADED      /* a degraded signal flagged */
} slm_prod_verdict;

typedef struct slm_prod_review {
    /* predicted labels */
    double psi, js;
    slm_label_test labels;        /* chi-square / Fisher / Monte-Carlo homogeneity */
    slm_prod_mover *movers;       /* the n_movers largest PSI terms, largest first */
    size_t n_movers;
    slm_prod_mover class_top;     /* the class whose share moved most significantly (the
                                   * smallest p of the per-class 2 x 2 tests); cls -1 none */
    double class_p;               /* that p times the classes tested (Bonferroni, <= 1) */
    /* confidence */
    slm_prod_ks conf_ks;
    long esc_k, esc_n;            /* month tickets below the threshold, with a confidence */
    double esc_rate, esc_lo, esc_hi; /* rate and its Wilson interval */
    double esc_ref;               /* the eval run's share below the threshold */
    slm_drift_diff esc_diff;      /* month - reference, two proportions */
    /* label-free accuracy estimate */
    int calibrated;               /* 1: temperature applied to probs; 0: raw confidence */
    long est_n;                   /* month tickets with a probability */
    double est_cbpe, est_sd;      /* slm_cbpe: mean calibrated probability, sampling sd */
    double ref_gap, ref_gap_se;   /* the eval run's calibration gap: mean of c_i - p_i
                                   * (right or not, minus the calibrated probability) over
                                   * its labelled examples, and its standard error
                                   * sd(c - p)/sqrt(n) */
    int est_corrected;            /* 1: est carries the reference's gap (below) */
    double est, est_lo, est_hi;   /* the estimate and its 95% band. With cfg->allowance
                                   * (the default) and a reference of at least 2 labelled
                                   * examples: est = est_cbpe + ref_gap, band est ± 1.96
                                   * sqrt(est_sd^2 + ref_gap_se^2); else est = est_cbpe,
                                   * band ± 1.96 est_sd. docs/prodstats.md: the plain band
                                   * and one widened by |ref_gap| both cover too rarely */
    double ref_acc, ref_est;      /* the eval run's accuracy (its labelled examples) and
                                   * its mean calibrated
                                   * probability (est_cbpe of the reference) */
    double est_drop, est_drop_lo, est_drop_hi, est_drop_p; /* est_cbpe - ref_est (the
                                   * calibration gap cancels), Welch z: se^2 = the two
                                   * slm_cbpe se_mean^2 */
    /* corrected tickets */
    long obs_n, obs_k;
    double obs_acc, obs_lo, obs_hi;      /* Wilson */
    slm_drift_diff obs_diff;             /* obs_acc - ref_acc, two proportions */
    double obs_est, gap, gap_lo, gap_hi; /* estimate on the same tickets; observed - it */
    long *recall_n, *recall_k;           /* [n_labels]: corrected tickets of each label */
    double *recall, *recall_lo, *recall_hi; /* and Wilson intervals; NaN without tickets */
    size_t n_labels;
    /* input */
    slm_prod_ks len_ks;
    double oov, oov_se;           /* the month's OOV share, its ticket-cluster se */
    double oov_ref, oov_ref_se;   /* the eval set's leave-one-ticket-out share; its se: the
                                   * ticket-cluster se and, added in quadrature,
                                   * sqrt(2 N2)/T (N2 words seen exactly twice, T tokens of
                                   * the eval set): Esty 1983's variance of the Good–Turing
                                   * unseen-mass estimate, (N1 + 2 N2 - N1^2/T)/T^2, has this
                                   * term beyond the binomial part */
    double oov_diff, oov_p;       /* month - reference, two-sided z test */
    slm_prod_word *new_words;
    size_t n_new_words;
    /* latency: shown, not judged (production and eval hardware differ) */
    double lat_p50, lat_p95, ref_lat_p50, ref_lat_p95;
    /* the verdict */
    slm_prod_signal sig[SLM_PS_COUNT];
    int n_tests;                  /* signals with a finite p: the BH family */
    slm_prod_verdict verdict;
} slm_prod_review;

/* "stable", "drifted", "degraded". */
const char *slm_prod_verdict_name(slm_prod_verdict v);

/* The assumptions the report prints beside the estimate (static text, Markdown-safe). */
extern const char slm_prod_assumptions[];

/*
 * The review of one month against the reference. Fills *out (release with
 * slm_prod_review_free, also after a failure) and returns 0; returns -1 with a message
 * in err naming the field when an input is inconsistent: a side with n == 0, n_labels
 * == 0 or n_classes < n_labels, the two sides with different n_labels, pred outside
 * [0, n_classes), gold outside [-1, n_labels), a confidence outside [0, 1].
 *
 * Signals judged (slm_prod_sig_id), each left out of the family when its data is
 * missing; the month's family is adjusted by Benjamini–Hochberg (slm_bh), and a signal
 * is flagged when p_adj < cfg->alpha AND its effect passes the floor. The verdict is
 * degraded if an accuracy signal is flagged, else drifted if a distribution signal is,
 * else stable. Shown, not judged: JS distance, the movers, the CBPE band and the gap,
 * per-class recall, new words, latency.
 *
 * Against the previous month instead of the eval run: pass the previous month as ref.s
 * (its corrected labels as gold, its words accumulated with loo = 0 against the eval
 * set's vocabulary; temperature and vocab of the reference) — the signals then compare
 * the two months (the OOV se then carries the eval set's Esty term too: conservative).
 * The verdict is meant against the reference.
 */
int slm_prod_review_run(const slm_prod_ref *ref, const slm_prod_sample *month,
                        const slm_prod_cfg *cfg, slm_prod_review *out, char *err,
                        size_t errlen);

/* Frees what *r owns and zeroes it. NULL-safe; safe twice. */
void slm_prod_review_free(slm_prod_review *r);

/* The calibrated probability that each prediction of s is right, into p[0..s->n):
 * with probs and a finite temperature T > 0, softmax(ln probs_i / T)[pred_i] (T applied
 * to the log-probabilities, as the eval run fitted it: metrics.h slm_apply_temperature);
 * otherwise conf[i] raw. A prediction outside the label set gets 0 (it is always wrong).
 * Returns 1 when calibrated, 0 when raw. */
int slm_prod_calibrated(const slm_prod_sample *s, double temperature, double *p);

#endif
