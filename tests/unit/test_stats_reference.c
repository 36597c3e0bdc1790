/*
 * test_stats_reference.c — every number of metrics.c against a second, independent
 * implementation written here from the DESIGN §6 definitions, to 1e-9.
 *
 * The reference is deliberately naive and shaped differently from the library: ECE loops
 * over bins and scans every example for each; ranks are counted pairwise instead of
 * sorted; AURC takes each k and counts the examples above and tied with the k-th;
 * coverage tries every distinct threshold; F1 is 2PR/(P+R) from a confusion matrix built
 * here; Holm is the O(m^2) max over smaller p-values; McNemar's binomial is Pascal's
 * triangle in doubles; the equal-mass edges come from k-th smallest values found by
 * counting. Nothing here calls the library for the quantity it checks. Equal-mass ECE is
 * also pinned against constants numpy computed (reference_ece_mass_numpy).
 *
 * The inputs are the awkward ones: ties, confidences exactly on bin edges (k/15), 0 and 1,
 * classes never predicted or never gold, one example, all right, all wrong, and a few
 * hundred cases from a fixed-seed generator (its own, not the library's).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "util.h"

#define REF_TOL 1e-9
#define MAXN 64
#define MAXK 6
#define BINS SLM_ECE_BINS
#define N_RANDOM 400

#define assert_close(actual, expected, what)                                               \
    do {                                                                                   \
        double a_ = (actual), e_ = (expected);                                             \
        if (!(fabs(a_ - e_) <= REF_TOL || (isnan(a_) && isnan(e_))))                       \
            fail_msg("%s: library %.17g, reference %.17g (case %s)", what, a_, e_,         \
                     cur_case);                                                            \
    } while (0)

static const char *cur_case = "";

/* ---- a test-only generator (a 64-bit LCG, high bits; nothing to do with slm_rng) ----- */

static uint64_t gen_state;

static uint32_t gen_u32(void)
{
    gen_state = gen_state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return (uint32_t)(gen_state >> 32);
}

static unsigned gen_int(unsigned n) /* [0, n); the slight bias is irrelevant here */
{
    return gen_u32() % n;
}

static double gen_unit(void) /* [0, 1) */
{
    return gen_u32() / 4294967296.0;
}

/* ---- one case ------------------------------------------------------------------------ */

typedef struct ref_case {
    size_t n, k;
    double conf[MAXN];
    unsigned char ok[MAXN];
    double probs[MAXN * MAXK];
    int gold[MAXN], pred[MAXN];
} ref_case;

/* ---- reference implementations ------------------------------------------------------- */

/* Equal-width ECE and MCE: for each bin, scan all examples. */
static double ref_ece_width(const double *conf, const unsigned char *ok, size_t n, int B,
                            double *mce)
{
    double ece = 0;
    *mce = 0;
    for (int m = 1; m <= B; m++) {
        double left = (double)(m - 1) / B, right = (double)m / B;
        double cnt = 0, sc = 0, sa = 0;
        for (size_t i = 0; i < n; i++) {
            int in = (conf[i] > left && conf[i] <= right) || (m == 1 && conf[i] == 0);
            if (in) {
                cnt += 1;
                sc += conf[i];
                sa += ok[i] ? 1 : 0;
            }
        }
        if (cnt == 0)
            continue;
        double gap = fabs(sa / cnt - sc / cnt);
        ece += gap * cnt / (double)n;
        if (gap > *mce)
            *mce = gap;
    }
    return ece;
}

/* The k-th smallest (0-based) of conf[0..n), found by counting: v = conf[i] is it when
 * fewer than k + 1 values lie below v and at least k + 1 lie at or below v. */
static double ref_kth(const double *conf, size_t n, size_t k)
{
    for (size_t i = 0; i < n; i++) {
        size_t below = 0, upto = 0;
        for (size_t j = 0; j < n; j++) {
            below += conf[j] < conf[i];
            upto += conf[j] <= conf[i];
        }
        if (below <= k && k < upto)
            return conf[i];
    }
    return NAN;
}

/* Equal-mass upper edges (Kumar et al. / HELM, DESIGN §6): numpy's array_split sizes
 * (divmod: the first n mod B chunks one longer), midpoints of the k-th smallest values
 * either side of each cut, then 1.0; an edge equal to an earlier one is skipped. */
static size_t ref_mass_edges(const double *conf, size_t n, int B, double *edges)
{
    size_t nb = (size_t)B < n ? (size_t)B : n, each = n / nb, extras = n % nb, cut = 0, ne = 0;
    for (size_t b = 1; b <= nb; b++) {
        cut += b <= extras ? each + 1 : each;
        double e = b == nb ? 1.0 : (ref_kth(conf, n, cut - 1) + ref_kth(conf, n, cut)) / 2.0;
        int dup = 0;
        for (size_t j = 0; j < ne; j++)
            dup |= edges[j] == e;
        if (!dup)
            edges[ne++] = e;
    }
    return ne;
}

/* Equal-mass ECE: bin m holds the confidences with exactly m edges below them (the first
 * edge >= the confidence is the m-th: bisect_left), scanned per bin over every example. */
static double ref_ece_mass(const double *conf, const unsigned char *ok, size_t n, int B,
                           double *mce)
{
    double edges[128];
    size_t ne = ref_mass_edges(conf, n, B, edges);
    double ece = 0;
    *mce = 0;
    for (size_t m = 0; m < ne; m++) {
        double cnt = 0, sc = 0, sa = 0;
        for (size_t i = 0; i < n; i++) {
            size_t below = 0;
            for (size_t j = 0; j < ne; j++)
                below += edges[j] < conf[i];
            if (below == m) {
                cnt += 1;
                sc += conf[i];
                sa += ok[i] ? 1 : 0;
            }
        }
        if (cnt == 0)
            continue;
        double gap = fabs(sa / cnt - sc / cnt);
        ece += gap * cnt / (double)n;
        if (gap > *mce)
            *mce = gap;
    }
    return ece;
}

static double ref_classwise_ece(const ref_case *c)
{
    double total = 0, conf[MAXN], mce;
    unsigned char hit[MAXN];
    for (size_t cls = 0; cls < c->k; cls++) {
        for (size_t i = 0; i < c->n; i++) {
            conf[i] = c->probs[i * c->k + cls];
            hit[i] = c->gold[i] == (int)cls;
        }
        total += ref_ece_width(conf, hit, c->n, BINS, &mce);
    }
    return total / (double)c->k;
}

/* AURC: sort descending (insertion sort), then for each k count those strictly above the
 * k-th confidence and those tied with it, spreading the tied errors evenly. */
static double ref_aurc(const double *conf, const unsigned char *ok, size_t n)
{
    double s[MAXN];
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && s[j - 1] < conf[i]) {
            s[j] = s[j - 1];
            j--;
        }
        s[j] = conf[i];
    }
    double total = 0;
    for (size_t k = 1; k <= n; k++) {
        double c = s[k - 1], above = 0, above_wrong = 0, tied = 0, tied_wrong = 0;
        for (size_t i = 0; i < n; i++) {
            if (conf[i] > c) {
                above++;
                above_wrong += !ok[i];
            } else if (conf[i] == c) {
                tied++;
                tied_wrong += !ok[i];
            }
        }
        double errors = above_wrong + ((double)k - above) * tied_wrong / tied;
        total += errors / (double)k;
    }
    return total / (double)n;
}

/* Accepted and right-among-accepted for threshold tau. */
static void ref_accept(const double *conf, const unsigned char *ok, size_t n, double tau,
                       double *acc_n, double *right)
{
    *acc_n = *right = 0;
    for (size_t i = 0; i < n; i++) {
        if (conf[i] >= tau) {
            *acc_n += 1;
            *right += ok[i] ? 1 : 0;
        }
    }
}

/* Coverage at target: try every confidence as tau, keep the largest qualifying coverage. */
static void ref_coverage(const double *conf, const unsigned char *ok, size_t n,
                         double target, double *cov, double *thr, double *acc)
{
    *cov = 0;
    *thr = *acc = NAN;
    for (size_t t = 0; t < n; t++) {
        double a, r;
        ref_accept(conf, ok, n, conf[t], &a, &r);
        if (r / a >= target && a / (double)n > *cov) {
            *cov = a / (double)n;
            *thr = conf[t];
            *acc = r / a;
        }
    }
}

/* Risk-coverage: the distinct confidences picked largest-first by repeated scans. */
static size_t ref_risk_coverage(const double *conf, const unsigned char *ok, size_t n,
                                double *cov, double *risk, double *thr)
{
    size_t pts = 0;
    double prev = INFINITY;
    int first = 1;
    for (;;) {
        int found = 0;
        double best = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            if ((first || conf[i] < prev) && (!found || conf[i] > best)) {
                best = conf[i];
                found = 1;
            }
        }
        if (!found)
            return pts;
        double a, r;
        ref_accept(conf, ok, n, best, &a, &r);
        cov[pts] = a / (double)n;
        risk[pts] = (a - r) / a;
        thr[pts] = best;
        pts++;
        prev = best;
        first = 0;
    }
}

static double ref_brier(const ref_case *c)
{
    double total = 0;
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = 0; j < c->k; j++) {
            double y = c->gold[i] == (int)j, d = c->probs[i * c->k + j] - y;
            total += d * d;
        }
    return total / (double)c->n;
}

static double ref_nll(const ref_case *c)
{
    double total = 0;
    for (size_t i = 0; i < c->n; i++) {
        double p = c->probs[i * c->k + (size_t)c->gold[i]];
        if (p < 1e-15)
            p = 1e-15;
        if (p > 1 - 1e-15)
            p = 1 - 1e-15;
        total -= log(p);
    }
    return total / (double)c->n;
}

/* Classification from a confusion matrix built here; F1 as 2PR/(P+R). */
static void ref_cls(const ref_case *c, double *acc, double *macro, double *micro,
                    double *weighted, double *f1)
{
    long cm[MAXK][MAXK];
    memset(cm, 0, sizeof cm);
    for (size_t i = 0; i < c->n; i++)
        cm[c->gold[i]][c->pred[i]]++;
    double right = 0, tp_all = 0, fp_all = 0, fn_all = 0, sum_f1 = 0, wsum = 0;
    int present = 0;
    for (size_t a = 0; a < c->k; a++) {
        double tp = cm[a][a], row = 0, col = 0;
        for (size_t b = 0; b < c->k; b++) {
            row += cm[a][b];
            col += cm[b][a];
        }
        double prec = col > 0 ? tp / col : 0, rec = row > 0 ? tp / row : 0;
        /* a class in neither the gold nor the predicted set has no F1 of its own (NaN) */
        f1[a] = row > 0 || col > 0 ? (prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0) : NAN;
        right += tp;
        tp_all += tp;
        fp_all += col - tp;
        fn_all += row - tp;
        if (row > 0 || col > 0) {
            present++;
            sum_f1 += f1[a];
        }
        if (row > 0)
            wsum += row * f1[a];
    }
    *acc = right / (double)c->n;
    *macro = sum_f1 / present;
    double p_micro = tp_all / (tp_all + fp_all), r_micro = tp_all / (tp_all + fn_all);
    *micro = p_micro + r_micro > 0 ? 2 * p_micro * r_micro / (p_micro + r_micro) : 0;
    *weighted = wsum / (double)c->n;
}

/* ---- the comparison ------------------------------------------------------------------ */

static void compare_case(const ref_case *c)
{
    size_t n = c->n;
    double mce_l, mce_r;

    double e = slm_ece(c->conf, c->ok, n, BINS, 0, &mce_l, NULL, NULL, NULL);
    assert_close(e, ref_ece_width(c->conf, c->ok, n, BINS, &mce_r), "ECE");
    assert_close(mce_l, mce_r, "MCE");
    e = slm_ece(c->conf, c->ok, n, BINS, 1, &mce_l, NULL, NULL, NULL);
    assert_close(e, ref_ece_mass(c->conf, c->ok, n, BINS, &mce_r), "equal-mass ECE");
    assert_close(mce_l, mce_r, "equal-mass MCE");
    for (int B = 1; B <= 4; B++) {
        e = slm_ece(c->conf, c->ok, n, B, 0, NULL, NULL, NULL, NULL);
        assert_close(e, ref_ece_width(c->conf, c->ok, n, B, &mce_r), "ECE, few bins");
    }

    assert_close(slm_classwise_ece(c->probs, c->gold, n, c->k, BINS), ref_classwise_ece(c),
                 "class-wise ECE");
    assert_close(slm_brier(c->probs, c->gold, n, c->k), ref_brier(c), "Brier");
    assert_close(slm_nll(c->probs, c->gold, n, c->k), ref_nll(c), "NLL");

    assert_close(slm_aurc(c->conf, c->ok, n), ref_aurc(c->conf, c->ok, n), "AURC");

    const double targets[] = {0, 0.5, 0.8, 0.9, 0.95, 1, 2.0 / 3};
    for (size_t t = 0; t < sizeof targets / sizeof *targets; t++) {
        double cl, tl, al, cr, tr, ar;
        assert_int_equal(slm_coverage_at(c->conf, c->ok, n, targets[t], &cl, &tl, &al), 0);
        ref_coverage(c->conf, c->ok, n, targets[t], &cr, &tr, &ar);
        assert_close(cl, cr, "coverage");
        assert_close(tl, tr, "coverage threshold");
        assert_close(al, ar, "coverage accuracy");
    }

    double cov_l[MAXN], risk_l[MAXN], thr_l[MAXN], cov_r[MAXN], risk_r[MAXN], thr_r[MAXN];
    size_t pl = slm_risk_coverage(c->conf, c->ok, n, cov_l, risk_l, thr_l);
    size_t pr = ref_risk_coverage(c->conf, c->ok, n, cov_r, risk_r, thr_r);
    assert_int_equal(pl, pr);
    for (size_t j = 0; j < pl; j++) {
        assert_close(cov_l[j], cov_r[j], "risk-coverage coverage");
        assert_close(risk_l[j], risk_r[j], "risk-coverage risk");
        assert_close(thr_l[j], thr_r[j], "risk-coverage threshold");
    }

    slm_cls_metrics m;
    char err[SLM_ERRLEN];
    assert_int_equal(slm_cls_metrics_compute(c->gold, c->pred, n, c->k, &m, err, sizeof err),
                     0);
    double acc, macro, micro, weighted, f1[MAXK];
    ref_cls(c, &acc, &macro, &micro, &weighted, f1);
    assert_close(m.accuracy, acc, "accuracy");
    assert_close(m.macro_f1, macro, "macro-F1");
    assert_close(m.micro_f1, micro, "micro-F1");
    assert_close(m.weighted_f1, weighted, "weighted-F1");
    for (size_t a = 0; a < c->k; a++)
        assert_close(m.f1[a], f1[a], "per-class F1");
    slm_cls_metrics_free(&m);
}

/* ---- case construction --------------------------------------------------------------- */

/* A confidence from one of several awkward pools. */
static double gen_conf(int style)
{
    switch (style) {
    case 0: /* exactly on a bin edge, 0 and 1 included */
        return (double)gen_int(BINS + 1) / BINS;
    case 1: /* few distinct values → many ties */
        return (double)(gen_int(4) + 1) / 5;
    case 2: /* the ends */
        return gen_int(2) ? 1.0 : 0.0;
    case 3: /* a hair either side of an edge */
        return nextafter((double)(gen_int(BINS - 1) + 1) / BINS, gen_int(2) ? 2.0 : -1.0);
    default:
        return gen_unit();
    }
}

/* A probability row: sometimes one-hot, sometimes an edge value and the rest spread,
 * otherwise random weights normalised. */
static void gen_row(double *row, size_t k)
{
    unsigned kind = gen_int(4);
    if (kind == 0) {
        for (size_t j = 0; j < k; j++)
            row[j] = 0;
        row[gen_int((unsigned)k)] = 1;
        return;
    }
    if (kind == 1) {
        size_t top = gen_int((unsigned)k);
        double edge = (double)gen_int(BINS + 1) / BINS;
        for (size_t j = 0; j < k; j++)
            row[j] = j == top ? edge : (1 - edge) / (double)(k - 1);
        return;
    }
    double sum = 0;
    for (size_t j = 0; j < k; j++) {
        row[j] = kind == 2 ? (double)gen_int(3) : gen_unit();
        sum += row[j];
    }
    for (size_t j = 0; j < k; j++)
        row[j] = sum > 0 ? row[j] / sum : 1.0 / (double)k;
}

/* A random case of n examples over k classes; gold drawn from the first gold_span classes
 * and predictions from pred_from.. (so some classes are never gold or never predicted);
 * p_right: share of predictions forced to gold (-1: leave them random). */
static void gen_case(ref_case *c, size_t n, size_t k, int conf_style, double p_right)
{
    c->n = n;
    c->k = k;
    unsigned gold_span = 1 + gen_int((unsigned)k), pred_from = gen_int((unsigned)k);
    for (size_t i = 0; i < n; i++) {
        gen_row(c->probs + i * k, k);
        c->gold[i] = (int)gen_int(gold_span);
        c->pred[i] = (int)(pred_from + gen_int((unsigned)k - pred_from));
        if (p_right >= 0 && gen_unit() < p_right)
            c->pred[i] = c->gold[i];
        c->ok[i] = c->pred[i] == c->gold[i];
        int style = conf_style >= 0 ? conf_style : (int)gen_int(5);
        c->conf[i] = style == 4 && gen_int(2) ? c->probs[i * k + (size_t)c->pred[i]]
                                              : gen_conf(style);
    }
}

/* ---- tests --------------------------------------------------------------------------- */

static void reference_fixed_cases(void **state)
{
    (void)state;
    ref_case c;

    /* One example: right and wrong, at 0, at 1, on an edge. */
    const double one_conf[] = {0, 1, 1.0 / BINS, 7.0 / BINS, 0.5};
    for (size_t t = 0; t < 5; t++) {
        for (int right = 0; right <= 1; right++) {
            memset(&c, 0, sizeof c);
            c.n = 1;
            c.k = 3;
            c.conf[0] = one_conf[t];
            c.gold[0] = 1;
            c.pred[0] = right ? 1 : 2;
            c.ok[0] = (unsigned char)right;
            c.probs[0] = 0.2;
            c.probs[1] = one_conf[t] * 0.8;
            c.probs[2] = 0.8 - c.probs[1];
            cur_case = "one example";
            compare_case(&c);
        }
    }

    /* Every edge k/15 (0 included), all right / all wrong / alternating. */
    for (int pattern = 0; pattern < 3; pattern++) {
        memset(&c, 0, sizeof c);
        c.n = BINS + 1;
        c.k = 2;
        for (size_t i = 0; i <= BINS; i++) {
            c.conf[i] = (double)i / BINS;
            c.gold[i] = (int)(i % 2);
            c.pred[i] = pattern == 0 ? c.gold[i] : pattern == 1 ? 1 - c.gold[i] : 0;
            c.ok[i] = c.pred[i] == c.gold[i];
            c.probs[i * 2] = c.conf[i];
            c.probs[i * 2 + 1] = 1 - c.conf[i];
        }
        cur_case = pattern == 0 ? "edges, all right" : pattern == 1 ? "edges, all wrong"
                                                                    : "edges, constant";
        compare_case(&c);
    }

    /* All tied, mixed right and wrong, in several orders. */
    for (int order = 0; order < 4; order++) {
        memset(&c, 0, sizeof c);
        c.n = 8;
        c.k = 4;
        for (size_t i = 0; i < 8; i++) {
            c.conf[i] = 0.6;
            c.gold[i] = (int)(i % 2); /* classes 2 and 3 never gold */
            c.pred[i] = ((i + (size_t)order) % 3 == 0) ? c.gold[i] : 2; /* 1, 3 never predicted */
            c.ok[i] = c.pred[i] == c.gold[i];
            c.probs[i * 4 + (size_t)c.pred[i]] = 0.6;
            c.probs[i * 4 + 3] = 0.4;
        }
        cur_case = "all tied";
        compare_case(&c);
    }

    /* Generated corner cases: each confidence pool, all right, all wrong, tiny n. */
    gen_state = 12345;
    for (int style = 0; style < 5; style++) {
        for (int rightness = 0; rightness < 3; rightness++) {
            for (size_t n = 1; n <= 5; n += 2) {
                gen_case(&c, n * 7, 4, style, rightness == 0 ? 0 : rightness == 1 ? 1 : -1);
                if (rightness == 0) /* all wrong: move every prediction off gold */
                    for (size_t i = 0; i < c.n; i++) {
                        c.pred[i] = (c.gold[i] + 1) % 4;
                        c.ok[i] = 0;
                    }
                cur_case = rightness == 0   ? "generated, all wrong"
                           : rightness == 1 ? "generated, all right"
                                            : "generated, mixed";
                compare_case(&c);
            }
        }
    }
}

static void reference_random_cases(void **state)
{
    (void)state;
    gen_state = UINT64_C(0x5eed);
    char name[64];
    ref_case c;
    for (int t = 0; t < N_RANDOM; t++) {
        size_t n = 1 + gen_int(MAXN), k = 2 + gen_int(MAXK - 1);
        double p_right = gen_int(3) == 0 ? -1 : gen_unit();
        gen_case(&c, n, k, -1, p_right);
        snprintf(name, sizeof name, "random #%d (n=%zu, k=%zu)", t, n, k);
        cur_case = name;
        compare_case(&c);
    }
}

/* ---- equal-mass ECE against numpy ----------------------------------------------------
 * The constants below were written by /usr/bin/python3 (numpy 1.24) running this, the
 * definition as Kumar et al.'s uncertainty-calibration code (get_equal_bins, get_bin) and
 * HELM compute it; the inputs come from np.random.default_rng(20261215) (random37: 37
 * distinct values; ties50: six levels, most at 0.9 and 1.0, so a chunk boundary falls
 * inside a tie and one bin is empty; n7: fewer examples than bins; round100: two
 * decimals, 0 and 1 included; same20: one value), printed with repr (exact doubles):
 *
 *   def ece_mass(conf, ok, B=15):
 *       conf = np.asarray(conf, dtype=np.float64); ok = np.asarray(ok, dtype=np.float64)
 *       s = np.sort(conf); B = min(B, len(s)); ch = np.array_split(s, B)
 *       edges = [(ch[i][-1] + ch[i + 1][0]) / 2.0 for i in range(B - 1)] + [1.0]
 *       edges = sorted(set(edges))
 *       b = np.searchsorted(edges, conf, side="left")
 *       ece, mce, counts = 0.0, 0.0, []
 *       for m in range(len(edges)):
 *           sel = b == m; counts.append(int(sel.sum()))
 *           if sel.sum() == 0: continue
 *           gap = abs(ok[sel].mean() - conf[sel].mean())
 *           ece += sel.sum() / len(conf) * gap; mce = max(mce, gap)
 *       return ece, mce, edges, counts
 */
static const double random37_conf[] = {0.5395835396242067, 0.37298762436507227, 0.7746806473237139, 0.35505757982388186, 0.5697682207809658, 0.6246882378803255, 0.5001509581104452, 0.8530049527184205, 0.7911214734725338, 0.8356458698784093, 0.8841885714072353, 0.6397904214031773, 0.31733159381560944, 0.3345635997964004, 0.9451705453377266, 0.7495328821790366, 0.852509189586315, 0.784161439279107, 0.9169458877228069, 0.4944768178842147, 0.7422324734261478, 0.30873978688979253, 0.8681586366052394, 0.43689556395393925, 0.7577484915640644, 0.42468922725613484, 0.8269323164513085, 0.5276020587745336, 0.5135137643747543, 0.4521996282754177, 0.9170136040472663, 0.8710957795889849, 0.5808657237803379, 0.9851223784638055, 0.6408784426990655, 0.5944132490848597, 0.3977017529083246};
static const unsigned char random37_ok[] = {1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1};
static const double random37_edges[] = {0.3448105898101411, 0.4111954900822297, 0.4733382230798162, 0.5205579115746439, 0.5753169722806518, 0.6322393296417514, 0.7458826778025922, 0.7662145694438891, 0.7876414563758204, 0.8312890931648589, 0.8527570711523678, 0.8696272080971121, 0.9005672295650211, 0.9310920746924964, 1.0};
static const long random37_counts[] = {3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2};
static const double ties50_conf[] = {1.0, 0.9, 1.0, 0.9, 0.9, 0.7, 1.0, 0.9, 0.7, 1.0, 0.9, 0.9, 1.0, 1.0, 0.9, 0.55, 1.0, 0.55, 0.9, 0.9, 0.7, 1.0, 0.7, 0.9, 0.9, 1.0, 0.55, 1.0, 0.9, 0.7, 1.0, 0.9, 1.0, 1.0, 0.9, 0.9, 0.9, 0.7, 0.9, 0.55, 0.7, 0.55, 1.0, 1.0, 1.0, 0.55, 1.0, 0.4, 0.2, 0.55};
static const unsigned char ties50_ok[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0};
static const double ties50_edges[] = {0.55, 0.7, 0.8, 0.9, 1.0};
static const long ties50_counts[] = {9, 7, 0, 17, 17};
static const double n7_conf[] = {0.95, 0.35, 0.6, 0.95, 0.8, 0.5, 0.72};
static const unsigned char n7_ok[] = {1, 0, 1, 0, 1, 1, 0};
static const double n7_edges[] = {0.425, 0.55, 0.6599999999999999, 0.76, 0.875, 0.95, 1.0};
static const long n7_counts[] = {1, 1, 1, 1, 1, 2, 0};
static const double round100_conf[] = {0.41, 0.41, 0.02, 0.0, 0.75, 0.73, 0.65, 0.56, 0.45, 0.88, 1.0, 0.77, 0.37, 0.15, 0.49, 0.59, 0.01, 0.03, 0.08, 0.73, 0.56, 0.26, 0.51, 0.77, 0.18, 0.1, 0.39, 0.62, 0.08, 0.36, 0.62, 0.49, 0.35, 0.36, 0.05, 0.37, 0.04, 0.11, 0.82, 0.87, 0.7, 0.61, 0.19, 0.46, 0.65, 0.13, 0.13, 0.23, 0.1, 0.15, 0.42, 0.65, 0.77, 0.12, 0.21, 0.64, 0.97, 0.5, 0.94, 0.06, 0.21, 0.94, 0.23, 0.73, 0.58, 0.01, 0.21, 0.08, 0.35, 0.74, 0.59, 0.93, 0.08, 0.59, 0.56, 0.19, 0.54, 0.18, 0.93, 0.81, 0.67, 0.8, 0.05, 0.11, 0.51, 0.71, 0.88, 0.43, 0.88, 0.93, 0.6, 0.22, 0.26, 0.66, 0.91, 0.14, 0.49, 0.9, 0.12, 0.12};
static const unsigned char round100_ok[] = {0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0};
static const double round100_edges[] = {0.05, 0.1, 0.13, 0.19, 0.245, 0.37, 0.455, 0.525, 0.59, 0.65, 0.72, 0.77, 0.875, 0.93, 1.0};
static const long round100_counts[] = {8, 7, 7, 7, 6, 8, 6, 7, 8, 8, 4, 8, 4, 8, 4};
static const double same20_conf[] = {0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8};
static const unsigned char same20_ok[] = {0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1};
static const double same20_edges[] = {0.8, 1.0};
static const long same20_counts[] = {20, 0};

typedef struct numpy_case {
    const double *conf;
    const unsigned char *ok;
    size_t n;
    const double *edges;
    const long *counts;
    size_t n_edges;
    double ece, mce;
} numpy_case;

static const numpy_case NUMPY_MASS[] = {
    {random37_conf, random37_ok, 37, random37_edges, random37_counts, 15, 0.2816977392726997, 0.7794210433014104},
    {ties50_conf, ties50_ok, 50, ties50_edges, ties50_counts, 5, 0.08499999999999996, 0.27222222222222225},
    {n7_conf, n7_ok, 7, n7_edges, n7_counts, 7, 0.4385714285714285, 0.72},
    {round100_conf, round100_ok, 100, round100_edges, round100_counts, 15, 0.07890000000000001, 0.2516666666666667},
    {same20_conf, same20_ok, 20, same20_edges, same20_counts, 2, 0.15000000000000013, 0.15000000000000013},
};

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Edges bit for bit (the same IEEE operations as numpy), counts exactly, ECE and MCE to
 * 1e-12 (numpy's pairwise sums differ in the last bits); the naive reference above agrees
 * too; and any order of the examples gives the very same bits. */
static void reference_ece_mass_numpy(void **state)
{
    (void)state;
    enum { NMAX = 128 };
    for (size_t t = 0; t < sizeof NUMPY_MASS / sizeof NUMPY_MASS[0]; t++) {
        const numpy_case *c = &NUMPY_MASS[t];
        assert_true(c->n <= NMAX);
        double sorted[NMAX], edges[BINS], bconf[BINS], bacc[BINS], mce, mce_r;
        long cnt[BINS];
        memcpy(sorted, c->conf, c->n * sizeof *sorted);
        qsort(sorted, c->n, sizeof *sorted, cmp_dbl);
        assert_int_equal(slm_ece_mass_edges(sorted, c->n, BINS, edges), c->n_edges);
        for (size_t m = 0; m < c->n_edges; m++)
            assert_true(edges[m] == c->edges[m]);
        double e = slm_ece(c->conf, c->ok, c->n, BINS, 1, &mce, cnt, bconf, bacc);
        cur_case = "numpy equal mass";
        if (fabs(e - c->ece) > 1e-12 || fabs(mce - c->mce) > 1e-12)
            fail_msg("case %zu: ECE %.17g MCE %.17g, numpy %.17g %.17g", t, e, mce, c->ece,
                     c->mce);
        for (size_t m = 0; m < BINS; m++)
            assert_int_equal(cnt[m], m < c->n_edges ? c->counts[m] : 0);
        assert_close(ref_ece_mass(c->conf, c->ok, c->n, BINS, &mce_r), c->ece, "naive vs numpy");
        assert_close(mce_r, c->mce, "naive MCE vs numpy");
        /* reversed, and rotated by 7: bit-identical ECE, MCE and bins */
        for (int shape = 0; shape < 2; shape++) {
            double pc[NMAX], pmce, pconf[BINS];
            unsigned char pok[NMAX];
            long pcnt[BINS];
            for (size_t i = 0; i < c->n; i++) {
                size_t j = shape ? (i + 7) % c->n : c->n - 1 - i;
                pc[i] = c->conf[j];
                pok[i] = c->ok[j];
            }
            assert_true(slm_ece(pc, pok, c->n, BINS, 1, &pmce, pcnt, pconf, NULL) == e);
            assert_true(pmce == mce);
            for (size_t m = 0; m < c->n_edges; m++)
                assert_true(pcnt[m] == cnt[m] && (!cnt[m] || pconf[m] == bconf[m]));
        }
    }
}

/* McNemar: exact binomial via Pascal's triangle in doubles; chi-square via 1 - erf. */
static void reference_mcnemar(void **state)
{
    (void)state;
    double row[64];
    for (long b = 0; b <= 40; b++) {
        for (long c = 0; c <= 40; c++) {
            long nn = b + c;
            double want;
            int exact;
            if (nn == 0) {
                want = 1;
            } else if (nn < 25) {
                for (long i = 0; i <= nn; i++)
                    row[i] = 1;
                for (long r = 2; r <= nn; r++) /* build row nn in place, right to left */
                    for (long i = r - 1; i >= 1; i--)
                        row[i] += row[i - 1];
                double tail = 0;
                for (long i = 0; i <= (b < c ? b : c); i++)
                    tail += row[i];
                want = fmin(1.0, 2 * tail / ldexp(1.0, (int)nn));
            } else {
                double x = pow(labs(b - c) - 1.0, 2) / (double)nn;
                want = 1 - erf(sqrt(x / 2));
            }
            double got = slm_mcnemar_p(b, c, &exact);
            cur_case = "mcnemar";
            assert_close(got, want, "McNemar p");
            assert_int_equal(exact, nn < 25);
        }
    }
}

/* Holm: adjusted_i = min(1, max over j with p_j <= p_i of (m - #{l: p_l < p_j}) p_j). */
static void reference_holm(void **state)
{
    (void)state;
    gen_state = 777;
    double p[20], adj[20];
    for (int t = 0; t < 300; t++) {
        size_t m = 1 + gen_int(20);
        for (size_t i = 0; i < m; i++)
            p[i] = gen_int(3) == 0 ? (double)gen_int(5) / 100 : gen_unit() * 0.3;
        slm_holm(p, m, adj);
        for (size_t i = 0; i < m; i++) {
            double want = 0;
            for (size_t j = 0; j < m; j++) {
                if (p[j] > p[i])
                    continue;
                double below = 0;
                for (size_t l = 0; l < m; l++)
                    below += p[l] < p[j];
                want = fmax(want, ((double)m - below) * p[j]);
            }
            cur_case = "holm";
            assert_close(adj[i], fmin(1.0, want), "Holm");
        }
    }
}

/* Temperature: the reference minimises the same NLL by a dense scan of ln T plus
 * bisection on the sign of a central difference; the two optima must agree in NLL to 1e-9
 * and in T to 1e-5 relative (the NLL is flat at its minimum, so T is only determined to
 * about the square root of the NLL's precision). */
static double ref_temp_nll(const double *logits, const int *gold, size_t n, size_t k,
                           double T)
{
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        double z = 0, mx = -INFINITY;
        for (size_t j = 0; j < k; j++)
            mx = fmax(mx, logits[i * k + j] / T);
        for (size_t j = 0; j < k; j++)
            z += exp(logits[i * k + j] / T - mx);
        total += -(logits[i * k + (size_t)gold[i]] / T - mx - log(z));
    }
    return total / (double)n;
}

static void reference_temperature(void **state)
{
    (void)state;
    gen_state = 4242;
    double logits[40 * 4];
    int gold[40];
    for (int t = 0; t < 40; t++) {
        size_t n = 5 + gen_int(36), k = 2 + gen_int(3);
        double scale = 0.5 + 10 * gen_unit();
        for (size_t i = 0; i < n; i++) {
            gold[i] = (int)gen_int((unsigned)k);
            for (size_t j = 0; j < k; j++)
                logits[i * k + j] = scale * (gen_unit() - 0.5) +
                                    ((int)j == gold[i] ? scale * 0.3 * gen_unit() : 0);
        }
        double lo = log(0.01), hi = log(100.0), best_u = lo, best = INFINITY;
        for (int s = 0; s <= 20000; s++) {
            double u = lo + (hi - lo) * s / 20000.0;
            double v = ref_temp_nll(logits, gold, n, k, exp(u));
            if (v < best) {
                best = v;
                best_u = u;
            }
        }
        double a = fmax(lo, best_u - (hi - lo) / 20000.0), b = fmin(hi, best_u + (hi - lo) / 20000.0);
        for (int it = 0; it < 60; it++) {
            double mid = (a + b) / 2, h = 1e-7;
            double slope = ref_temp_nll(logits, gold, n, k, exp(mid + h)) -
                           ref_temp_nll(logits, gold, n, k, exp(mid - h));
            if (slope > 0)
                b = mid;
            else
                a = mid;
        }
        double t_ref = exp((a + b) / 2), t_lib = slm_fit_temperature(logits, gold, n, k);
        double f_ref = ref_temp_nll(logits, gold, n, k, t_ref);
        double f_lib = ref_temp_nll(logits, gold, n, k, t_lib);
        cur_case = "temperature";
        assert_close(f_lib, f_ref, "NLL at the fitted temperature");
        assert_true(f_lib <= f_ref + 1e-12);
        if (fabs(t_lib - t_ref) > 1e-5 * t_ref)
            fail_msg("temperature: library %.17g, reference %.17g", t_lib, t_ref);

        /* Applying it: softmax(z/T) computed the plain way. */
        double probs[40 * 4];
        slm_apply_temperature(logits, n, k, t_lib, probs);
        for (size_t i = 0; i < n; i++) {
            double z = 0;
            for (size_t j = 0; j < k; j++)
                z += exp(logits[i * k + j] / t_lib);
            for (size_t j = 0; j < k; j++)
                assert_close(probs[i * k + j], exp(logits[i * k + j] / t_lib) / z,
                             "tempered probability");
        }
    }
}

/* Bootstrap: the same resampling written again from the published xoshiro256** and
 * splitmix64, the quantiles by numpy's formula a + t(b - a) on a bubble-sorted copy, the
 * standard error by its definition. */
static uint64_t ref_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

typedef struct ref_rng {
    uint64_t s[4];
} ref_rng;

static void ref_seed(ref_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        seed += UINT64_C(0x9e3779b97f4a7c15);
        uint64_t z = seed;
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        r->s[i] = z ^ (z >> 31);
    }
}

static uint64_t ref_next(ref_rng *r)
{
    uint64_t out = ref_rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;
    r->s[2] ^= r->s[0];
    r->s[3] ^= r->s[1];
    r->s[1] ^= r->s[2];
    r->s[0] ^= r->s[3];
    r->s[2] ^= t;
    r->s[3] = ref_rotl(r->s[3], 45);
    return out;
}

static uint64_t ref_below(ref_rng *r, uint64_t n)
{
    /* Accept x only below the largest multiple of n that fits in 2^64. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n + 1) % n;
    for (;;) {
        uint64_t x = ref_next(r);
        if (x <= limit)
            return x % n;
    }
}

static double ref_quantile(double *v, size_t m, double q)
{
    for (size_t i = 0; i < m; i++) /* bubble sort */
        for (size_t j = 0; j + 1 < m - i; j++)
            if (v[j] > v[j + 1]) {
                double t = v[j];
                v[j] = v[j + 1];
                v[j + 1] = t;
            }
    double pos = q * (double)(m - 1);
    size_t i = (size_t)pos;
    if (i + 1 >= m)
        return v[m - 1];
    return v[i] + (pos - (double)i) * (v[i + 1] - v[i]);
}

typedef struct mean_data {
    const double *x;
} mean_data;

static double boot_mean(const size_t *idx, size_t n, void *ud)
{
    const mean_data *d = ud;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += d->x[idx[i]];
    return s / (double)n;
}

static void reference_bootstrap(void **state)
{
    (void)state;
    gen_state = 99;
    double x[30], reps_v[300];
    for (int t = 0; t < 20; t++) {
        size_t n = 1 + gen_int(30);
        /* Half the cases use -1, 0, 1, so replicate diffs of exactly 0 occur (they count
         * on both sides of the p-value). */
        for (size_t i = 0; i < n; i++)
            x[i] = t % 2 ? (double)gen_int(3) - 1.0 : gen_int(2) ? 1.0 : gen_unit() - 0.6;
        int reps = 50 + (int)gen_int(250);
        uint64_t seed = gen_u32();
        double level = t % 4 < 2 ? 0.95 : 0.8;

        ref_rng r;
        ref_seed(&r, seed);
        for (int k = 0; k < reps; k++) {
            double s = 0;
            for (size_t i = 0; i < n; i++)
                s += x[ref_below(&r, n)];
            reps_v[k] = s / (double)n;
        }
        double mean = 0, ss = 0;
        for (int k = 0; k < reps; k++)
            mean += reps_v[k] / reps;
        for (int k = 0; k < reps; k++)
            ss += (reps_v[k] - mean) * (reps_v[k] - mean);
        double le = 0, ge = 0;
        for (int k = 0; k < reps; k++) {
            le += reps_v[k] <= 0;
            ge += reps_v[k] >= 0;
        }
        /* the add-one rule: r replicates beyond 0 give 2 (r + 1)/(B + 1), never 0 */
        double p_ref = fmin(1.0, 2 * (fmin(le, ge) + 1) / (reps + 1));
        double lo_ref = ref_quantile(reps_v, (size_t)reps, (1 - level) / 2);
        double hi_ref = ref_quantile(reps_v, (size_t)reps, (1 + level) / 2);
        double lo95 = ref_quantile(reps_v, (size_t)reps, 0.025);
        double hi95 = ref_quantile(reps_v, (size_t)reps, 0.975);

        mean_data d = {x};
        double lo, hi, se, p;
        cur_case = "bootstrap";
        assert_int_equal(slm_bootstrap_ci(n, boot_mean, &d, reps, seed, level, &lo, &hi, &se),
                         0);
        assert_close(lo, lo_ref, "bootstrap lo");
        assert_close(hi, hi_ref, "bootstrap hi");
        assert_close(se, sqrt(ss / (reps - 1)), "bootstrap se");
        assert_int_equal(slm_paired_bootstrap(n, boot_mean, &d, reps, seed, &lo, &hi, &p), 0);
        assert_close(lo, lo95, "paired lo");
        assert_close(hi, hi95, "paired hi");
        assert_close(p, p_ref, "paired p");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_fixed_cases),
        cmocka_unit_test(reference_random_cases),
        cmocka_unit_test(reference_ece_mass_numpy),
        cmocka_unit_test(reference_mcnemar),
        cmocka_unit_test(reference_holm),
        cmocka_unit_test(reference_temperature),
        cmocka_unit_test(reference_bootstrap),
    };
    return cmocka_run_group_tests_name("stats_reference", tests, NULL, NULL);
}
