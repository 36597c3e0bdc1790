/*
 * test_prodstats.c — the pieces of the production review (prodstats.h, prodwords.h)
 * against values computed independently with numpy by
 * tests/fixtures/prodstats/reference.py (run `/usr/bin/python3
 * tests/fixtures/prodstats/reference.py`: it prints the REF_ constants below), and the
 * review's own logic on small months built by hand: which signal decides the verdict,
 * undefined values NaN, bad input refused with the field named.
 *
 * Two of the Kolmogorov values are also the published ones (scipy's kstwobign.sf(0.5)
 * = 0.9639452436648751, sf(1.0) = 0.26999967167735456; 1.3581 is the 5% point of the
 * tables), and the Python evaluates only the alternating series while the C switches to
 * the theta-function form below 1.18, so the two forms check each other.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prodstats.h"

/* ---- tests/fixtures/prodstats/reference.py, pasted ---------------------------------- */
#define REF_PSI_A 0.34284051029790208
#define REF_JS_A 0.26313303264946331
#define REF_PSI_B 3.1273027464955105e-05
#define REF_JS_B 0
#define REF_PSI_C 4.3613284256234124
#define REF_JS_C 1
#define REF_KS_SMALL_D 0.22857142857142865
#define REF_KS_SMALL_P 0.99207656744598238
#define REF_KS_SEQ_D 0.10199999999999998
#define REF_KS_SEQ_P 0.10995145579680804
#define REF_KQ_050 0.96394524366487511
#define REF_KQ_100 0.26999967167735456
#define REF_KQ_117 0.12939004218561884
#define REF_KQ_118 0.12345380942976571
#define REF_KQ_13581 0.0499996304316674
#define REF_KQ_200 0.00067092525577969533
#define REF_CBPE_EST 0.70799999999999996
#define REF_CBPE_SD 0.16939893742287759
#define REF_CBPE_SE 0.12575372757894693
#define REF_WILSON_LO 0.13730192800616042
#define REF_WILSON_HI 0.24457062761151749
#define REF_TEMP_P 0.58579758094112111
#define REF_TEMP_P2 0.70208734802012995
#define REF_OOV_EVAL 0.46153846153846156
#define REF_OOV_EVAL_SE 0.064276807640237965
#define REF_OOV_MONTH 0.44444444444444442
#define REF_OOV_MONTH_SE 0.2444319737434979
#define REF_OOV_REF_SE_ESTY 0.16673376098941267
#define REF_OOV_P 0.95392963158636601

#define TOL 1e-12

#define assert_close(actual, expected)                                                    \
    do {                                                                                  \
        double a_ = (actual), e_ = (expected);                                            \
        if (!(fabs(a_ - e_) <= TOL * (1 + fabs(e_))))                                     \
            fail_msg("%s: %.17g, reference %.17g", #actual, a_, e_);                     \
    } while (0)

static void psi_js(void **state)
{
    (void)state;
    long ca[] = {50, 30, 0, 20, 7, 0}, cb[] = {40, 45, 3, 12, 0, 0};
    double contrib[6];
    assert_close(slm_psi(ca, cb, 6, contrib), REF_PSI_A);
    double sum = 0;
    for (int i = 0; i < 6; i++)
        sum += contrib[i];
    assert_close(sum, REF_PSI_A);
    assert_true(contrib[5] == 0); /* empty on both sides: left out */
    assert_close(slm_js_distance(ca, cb, 6), REF_JS_A);
    long b1[] = {10, 20}, b2[] = {20, 40}, c1[] = {5, 0}, c2[] = {0, 7};
    assert_close(slm_psi(b1, b2, 2, NULL), REF_PSI_B);
    assert_close(slm_js_distance(b1, b2, 2), REF_JS_B);
    assert_close(slm_psi(c1, c2, 2, NULL), REF_PSI_C);
    assert_close(slm_js_distance(c1, c2, 2), REF_JS_C);
    long z[] = {0, 0};
    assert_true(isnan(slm_psi(z, b1, 2, NULL)));
    assert_true(isnan(slm_js_distance(b1, z, 2)));
}

static double frac_seq(int i, double mult, double power)
{
    double x = fmod(i * mult, 1.0);
    return floor(pow(x, power) * 100 + 0.5) / 100;
}

static void ks(void **state)
{
    (void)state;
    double a[] = {0.1, 0.2, 0.2, 0.5, 0.9, 0.9, 0.9, NAN}, b[] = {0.2, 0.3, 0.5, 0.5, 0.95};
    slm_prod_ks k;
    assert_int_equal(slm_ks2(a, 8, b, 5, &k), 0);
    assert_int_equal(k.n_a, 7);
    assert_close(k.d, REF_KS_SMALL_D);
    assert_close(k.p, REF_KS_SMALL_P);
    double sa[300], sb[250];
    for (int i = 0; i < 300; i++)
        sa[i] = frac_seq(i + 1, 0.618034, 1.0);
    for (int i = 0; i < 250; i++)
        sb[i] = frac_seq(i + 1, 0.414214, 1.3);
    assert_int_equal(slm_ks2(sa, 300, sb, 250, &k), 0);
    assert_close(k.d, REF_KS_SEQ_D);
    assert_close(k.p, REF_KS_SEQ_P);
    /* equal samples: D = 0, p = 1; nothing finite: -1 and NaN */
    assert_int_equal(slm_ks2(sa, 300, sa, 300, &k), 0);
    assert_true(k.d == 0 && k.p == 1);
    double nan1[] = {NAN};
    assert_int_equal(slm_ks2(nan1, 1, sa, 300, &k), -1);
    assert_true(isnan(k.d) && isnan(k.p));
    assert_close(slm_kolmogorov_q(0.5), REF_KQ_050);
    assert_close(slm_kolmogorov_q(1.0), REF_KQ_100);
    assert_close(slm_kolmogorov_q(1.18), REF_KQ_118);
    assert_close(slm_kolmogorov_q(1.17), REF_KQ_117); /* the theta form, just below */
    assert_close(slm_kolmogorov_q(1.3581), REF_KQ_13581);
    assert_close(slm_kolmogorov_q(2.0), REF_KQ_200);
    assert_true(slm_kolmogorov_q(0) == 1 && isnan(slm_kolmogorov_q(NAN)));
}

/* D on large samples (the radix-sorted path) with negatives, -0, ties and huge values,
 * against the definition counted naively here: max over the pooled values v of
 * |#{a <= v}/na - #{b <= v}/nb|. */
static void ks_naive(void **state)
{
    (void)state;
    enum { NA = 1000, NB = 700 };
    static double a[NA], b[NB];
    uint64_t g = 12345;
    for (int i = 0; i < NA + NB; i++) {
        g = g * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        double u = (double)(g >> 11) / 9007199254740992.0;
        double v = i % 7 == 0 ? floor(u * 20) - 10 : (u - 0.45) * (i % 3 ? 1e6 : 1e-3);
        if (i % 11 == 0)
            v = -0.0;
        if (i < NA)
            a[i] = v;
        else
            b[i - NA] = v + (i % 5 == 0 ? 0.5 : 0);
    }
    double d = 0;
    for (int k = 0; k < NA + NB; k++) {
        double v = k < NA ? a[k] : b[k - NA];
        long ca = 0, cb = 0;
        for (int i = 0; i < NA; i++)
            ca += a[i] <= v;
        for (int i = 0; i < NB; i++)
            cb += b[i] <= v;
        double g2 = fabs((double)ca / NA - (double)cb / NB);
        d = g2 > d ? g2 : d;
    }
    slm_prod_ks k;
    assert_int_equal(slm_ks2(a, NA, b, NB, &k), 0);
    assert_close(k.d, d);
    assert_true(d > 0.01);
}

static void cbpe_calibration(void **state)
{
    (void)state;
    double p[] = {0.9, 0.8, 0.55, NAN, 0.99, 0.3}, est, sd, se;
    assert_int_equal(slm_cbpe(p, 6, &est, &sd, &se), 5);
    assert_close(est, REF_CBPE_EST);
    assert_close(sd, REF_CBPE_SD);
    assert_close(se, REF_CBPE_SE);
    assert_int_equal(slm_cbpe(p + 3, 1, &est, &sd, &se), 0);
    assert_true(isnan(est) && isnan(sd) && isnan(se));
    /* temperature on the log-probabilities; a label outside the set is always wrong */
    double probs[] = {0.7, 0.2, 0.1, 0.25, 0.6, 0.15, 0.3, 0.3, 0.4};
    double conf[] = {0.7, 0.6, 0.4}, out[3];
    int pred[] = {0, 1, 3};
    slm_prod_sample s = {.n = 3, .n_labels = 3, .n_classes = 4, .pred = pred, .conf = conf,
                         .probs = probs};
    assert_int_equal(slm_prod_calibrated(&s, 1.5, out), 1);
    assert_close(out[0], REF_TEMP_P);
    assert_true(out[2] == 0);
    assert_int_equal(slm_prod_calibrated(&s, 0.7, out), 1);
    assert_close(out[1], REF_TEMP_P2);
    assert_int_equal(slm_prod_calibrated(&s, NAN, out), 0); /* no temperature: raw */
    assert_true(out[0] == 0.7 && out[1] == 0.6 && out[2] == 0);
}

static void words_oov(void **state)
{
    (void)state;
    const char *eval[] = {"Refund my order", "order 42 is late", "Refund refund NOW",
                          "late delivery, again"};
    const char *month[] = {"my ORDER is late", "crypto wallet refund", "crypto crypto", ""};
    slm_wordmap *vocab = slm_wordmap_new();
    for (int i = 0; i < 4; i++)
        slm_words_add_text(vocab, eval[i]);
    assert_int_equal(slm_wordmap_get(vocab, "refund", 6), 3);
    assert_int_equal(slm_wordmap_get(vocab, "Refund", 6), 0);
    assert_int_equal(slm_wordmap_size(vocab), 9);
    assert_int_equal(slm_wordmap_total(vocab), 13);
    slm_prod_words ew, mw;
    slm_prod_words_init(&ew);
    slm_prod_words_init(&mw);
    for (int i = 0; i < 4; i++) {
        slm_prod_words_add(&ew, vocab, eval[i], 1);
        slm_prod_words_add(&mw, vocab, month[i], 0);
    }
    slm_prod_words_add(&mw, vocab, NULL, 0); /* no text: not a ticket */
    assert_int_equal(mw.tickets, 4);
    double r, se;
    slm_prod_words_rate(&ew, &r, &se);
    assert_close(r, REF_OOV_EVAL);
    assert_close(se, REF_OOV_EVAL_SE);
    slm_prod_words_rate(&mw, &r, &se);
    assert_close(r, REF_OOV_MONTH);
    assert_close(se, REF_OOV_MONTH_SE);
    assert_int_equal(slm_wordmap_get(mw.seen, "crypto", 6), 3);
    /* many distinct words: the map grows and keeps every count */
    slm_wordmap *big = slm_wordmap_new();
    char w[16];
    for (int rep = 0; rep < 3; rep++)
        for (int i = 0; i < 5000; i++) {
            int len = snprintf(w, sizeof w, "w%d", i);
            slm_wordmap_add(big, w, (size_t)len, 1);
        }
    assert_int_equal(slm_wordmap_size(big), 5000);
    assert_int_equal(slm_wordmap_get(big, "w4999", 5), 3);
    slm_prod_words empty;
    slm_prod_words_init(&empty);
    slm_prod_words_rate(&empty, &r, &se);
    assert_true(isnan(r) && isnan(se));
    slm_prod_words_free(&empty);
    slm_wordmap_free(big);
    slm_prod_words_free(&ew);
    slm_prod_words_free(&mw);
    slm_prod_words_free(NULL);
    slm_wordmap_free(vocab);
    slm_wordmap_free(NULL);
}

/* ---- the review on hand-built months ------------------------------------------------- */

#define N 400
#define K 4

typedef struct side {
    int pred[N], gold[N];
    double conf[N];
    long len[N];
    double lat[N];
} side;

/* n rows: label i % K (or shifted), right unless i % 10 < wrong10, confidence by label. */
static void fill(side *s, int shift_to0, int wrong10, int corrected_every)
{
    for (int i = 0; i < N; i++) {
        int y = (shift_to0 && i % 2) ? 0 : i % K;
        s->pred[i] = y;
        s->gold[i] = -1;
        if (corrected_every && i % corrected_every == 0)
            s->gold[i] = (i / 3) % 10 < wrong10 ? (y + 1) % K : y;
        s->conf[i] = 0.5 + 0.1 * (i % 5);
        s->len[i] = 20 + i % 30;
        s->lat[i] = 10 + (i % 7);
    }
}

static slm_prod_sample as_sample(side *s, int with_gold)
{
    slm_prod_sample x = {.n = N, .n_labels = K, .n_classes = K, .pred = s->pred,
                         .conf = s->conf, .gold = with_gold ? s->gold : NULL, .len = s->len,
                         .lat = s->lat};
    return x;
}

static side g_ref, g_month;

static void review_verdicts(void **state)
{
    (void)state;
    slm_prod_cfg cfg;
    slm_prod_cfg_default(&cfg);
    cfg.threshold = 0.65;
    char err[200];
    slm_prod_review r;
    fill(&g_ref, 0, 2, 1); /* the eval run: every row labelled, 80% right */
    for (int i = 0; i < N; i++)
        g_ref.gold[i] = (i / 3) % 10 < 2 ? (g_ref.pred[i] + 1) % K : g_ref.pred[i];
    slm_prod_ref ref = {.s = as_sample(&g_ref, 1), .temperature = NAN};

    /* the same traffic: stable, every judged signal tested but nothing flagged */
    fill(&g_month, 0, 2, 4);
    slm_prod_sample m = as_sample(&g_month, 1);
    assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), 0);
    assert_int_equal(r.verdict, SLM_PV_STABLE);
    assert_string_equal(slm_prod_verdict_name(r.verdict), "stable");
    assert_true(r.psi == 0 && r.js == 0 && r.conf_ks.d == 0);
    assert_int_equal(r.calibrated, 0);
    assert_close(r.esc_rate, 160.0 / 400); /* 0.5, 0.6 of 0.5..0.9 are below 0.65 */
    assert_true(isnan(r.sig[SLM_PS_OOV].p)); /* no words: not tested */
    assert_int_equal(r.n_tests, 7);
    assert_true(fabs(r.obs_acc - r.ref_acc) < 0.05 && !r.sig[SLM_PS_OBS_ACCURACY].flagged);
    assert_close(r.obs_acc, (double)r.obs_k / (double)r.obs_n);
    assert_true(r.lat_p50 == r.ref_lat_p50);
    { /* the estimate corrected by the reference's gap, computed here from the arrays */
        double sc = 0, sr = 0, sg = 0, sv = 0, ss = 0;
        for (int i = 0; i < N; i++) {
            sc += g_month.conf[i], sv += g_month.conf[i] * (1 - g_month.conf[i]);
            sr += g_ref.gold[i] == g_ref.pred[i];
            sg += (g_ref.gold[i] == g_ref.pred[i]) - g_ref.conf[i];
        }
        for (int i = 0; i < N; i++) {
            double d = (g_ref.gold[i] == g_ref.pred[i]) - g_ref.conf[i] - sg / N;
            ss += d * d;
        }
        double se = sqrt(ss / (N - 1) / N), sd = sqrt(sv) / N;
        assert_close(r.est_cbpe, sc / N);
        assert_close(r.est_sd, sd);
        assert_close(r.ref_acc, sr / N);
        assert_close(r.ref_gap, sg / N);
        assert_close(r.ref_gap_se, se);
        assert_int_equal(r.est_corrected, 1);
        assert_close(r.est, sc / N + sg / N);
        assert_close(r.est_hi - r.est, 1.959963984540054 * sqrt(sd * sd + se * se));
        assert_close(r.est - r.est_lo, r.est_hi - r.est);
    }
    slm_prod_review_free(&r);

    /* half the traffic moves to label 0: drifted by labels, not degraded */
    fill(&g_month, 1, 2, 4);
    m = as_sample(&g_month, 1);
    assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), 0);
    assert_int_equal(r.verdict, SLM_PV_DRIFTED);
    assert_true(r.sig[SLM_PS_LABELS].flagged && r.psi >= 0.1);
    /* labels 1 and 3 (odd rows) vanish: the largest terms, tied, then label 0 */
    assert_int_equal(r.n_movers, 4);
    assert_int_equal(r.movers[0].cls, 1);
    assert_int_equal(r.movers[1].cls, 3);
    assert_true(r.movers[0].share_month == 0 && r.movers[0].diff == -0.25);
    assert_int_equal(r.movers[2].cls, 0);
    assert_close(r.movers[2].share_month, (200.0 + 100) / 400); /* odd rows, i % 4 == 0 */
    assert_close(r.movers[2].diff, 0.75 - 0.25);
    assert_true(r.movers[1].contrib > r.movers[2].contrib &&
                r.movers[2].contrib > r.movers[3].contrib);
    slm_prod_review_free(&r);

    /* corrected tickets 40% wrong against 80% right on the eval run: degraded */
    fill(&g_month, 0, 4, 2);
    m = as_sample(&g_month, 1);
    assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), 0);
    assert_int_equal(r.verdict, SLM_PV_DEGRADED);
    assert_true(r.sig[SLM_PS_OBS_ACCURACY].flagged);
    assert_false(r.sig[SLM_PS_LABELS].flagged);
    assert_close(r.obs_diff.diff, r.obs_acc - r.ref_acc);
    assert_true(r.obs_acc < 0.65 && r.gap < 0 && r.gap_hi < 0);
    for (int c = 0; c < K; c++) { /* per-class recall, counted here */
        long n = 0, k = 0;
        for (int i = 0; i < N; i++)
            if (g_month.gold[i] == c)
                n++, k += g_month.pred[i] == c;
        assert_int_equal(r.recall_n[c], n);
        assert_int_equal(r.recall_k[c], k);
        assert_close(r.recall[c], (double)k / (double)n);
        assert_true(r.recall_lo[c] <= r.recall[c] && r.recall[c] <= r.recall_hi[c] &&
                    r.recall_lo[c] < r.recall_hi[c]);
    }
    slm_prod_review_free(&r);
    /* ... unless observed accuracy is not judged (a biased sample of corrections) */
    cfg.judge_observed = 0;
    assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), 0);
    assert_int_equal(r.verdict, SLM_PV_STABLE);
    assert_true(isnan(r.sig[SLM_PS_OBS_ACCURACY].p));
    slm_prod_review_free(&r);
    slm_prod_review_free(&r); /* twice: harmless */
}

static void review_wilson_and_nan(void **state)
{
    (void)state;
    slm_prod_cfg cfg;
    slm_prod_cfg_default(&cfg);
    cfg.threshold = 0.5;
    char err[200];
    slm_prod_review r;
    fill(&g_ref, 0, 2, 1);
    slm_prod_ref ref = {.s = as_sample(&g_ref, 0), .temperature = NAN};
    fill(&g_month, 0, 2, 0);
    for (int i = 0; i < N; i++) /* 37 of the first 200 below 0.5, the rest unknown */
        g_month.conf[i] = i < 200 ? (i < 37 ? 0.3 : 0.9) : NAN;
    slm_prod_sample m = as_sample(&g_month, 0);
    m.len = NULL, m.lat = NULL;
    assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), 0);
    assert_int_equal(r.esc_n, 200);
    assert_close(r.esc_lo, REF_WILSON_LO);
    assert_close(r.esc_hi, REF_WILSON_HI);
    /* nothing labelled, no lengths, no latency: NaN, left out of the family */
    assert_true(isnan(r.obs_acc) && isnan(r.gap) && isnan(r.ref_acc));
    assert_true(isnan(r.len_ks.d) && isnan(r.lat_p95) && isnan(r.recall[0]));
    assert_true(isnan(r.sig[SLM_PS_LENGTH].p) && isnan(r.sig[SLM_PS_OBS_ACCURACY].p_adj));
    assert_int_equal(r.n_tests, 5);
    assert_true(r.est_corrected == 0 && r.est == r.est_cbpe && isnan(r.ref_gap));
    slm_prod_review_free(&r);
}

static void review_bad_input(void **state)
{
    (void)state;
    slm_prod_cfg cfg;
    slm_prod_cfg_default(&cfg);
    char err[200];
    slm_prod_review r;
    fill(&g_ref, 0, 2, 1);
    fill(&g_month, 0, 2, 0);
    slm_prod_ref ref = {.s = as_sample(&g_ref, 1), .temperature = NAN};
    slm_prod_sample m = as_sample(&g_month, 0);
    g_month.pred[7] = K;
    assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), -1);
    assert_string_equal(err, "month: pred outside [0, n_classes) (entry 7)");
    g_month.pred[7] = 0;
    g_month.conf[9] = 1.5;
    assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), -1);
    assert_string_equal(err, "month: confidence outside [0, 1] (entry 9)");
    g_month.conf[9] = 0.5;
    g_ref.gold[3] = K;
    assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), -1);
    assert_string_equal(err, "reference: gold outside [-1, n_labels) (entry 3)");
    g_ref.gold[3] = 0;
    m.n = 0;
    assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), -1);
    assert_string_equal(err, "month: no rows (entry 0)");
    slm_prod_review_free(&r);
    /* an answer outside the label set is a class of its own in the distribution */
    m.n = N, m.n_classes = K + 1;
    for (int i = 0; i < N; i += 2)
        g_month.pred[i] = K;
    assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), 0);
    assert_int_equal(r.movers[0].cls, K);
    assert_true(r.sig[SLM_PS_LABELS].flagged);
    /* and always wrong: the estimate falls with it, so the month is degraded */
    assert_true(r.sig[SLM_PS_EST_ACCURACY].flagged && r.verdict == SLM_PV_DEGRADED);
    slm_prod_review_free(&r);
}

static void review_words(void **state)
{
    (void)state;
    const char *eval[] = {"Refund my order", "order 42 is late", "Refund refund NOW",
                          "late delivery, again"};
    const char *month[] = {"my ORDER is late", "crypto wallet refund", "crypto crypto", ""};
    int pred[4] = {0, 1, 0, 1};
    slm_wordmap *vocab = slm_wordmap_new();
    slm_prod_words ew, mw;
    slm_prod_words_init(&ew);
    slm_prod_words_init(&mw);
    for (int i = 0; i < 4; i++)
        slm_words_add_text(vocab, eval[i]);
    for (int i = 0; i < 4; i++) {
        slm_prod_words_add(&ew, vocab, eval[i], 1);
        slm_prod_words_add(&mw, vocab, month[i], 0);
    }
    slm_prod_ref ref = {.s = {.n = 4, .n_labels = 2, .n_classes = 2, .pred = pred,
                              .words = &ew},
                        .temperature = NAN, .vocab = vocab};
    slm_prod_sample m = {.n = 4, .n_labels = 2, .n_classes = 2, .pred = pred, .words = &mw};
    slm_prod_cfg cfg;
    slm_prod_cfg_default(&cfg);
    slm_prod_review r;
    char err[200];
    assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), 0);
    assert_close(r.oov, REF_OOV_MONTH);
    assert_close(r.oov_ref, REF_OOV_EVAL);
    assert_close(r.oov_ref_se, REF_OOV_REF_SE_ESTY);
    assert_close(r.oov_p, REF_OOV_P);
    assert_close(r.sig[SLM_PS_OOV].effect, REF_OOV_MONTH - REF_OOV_EVAL);
    assert_int_equal(r.n_new_words, 0); /* "crypto" 3 times: below the default 5 */
    /* no confidence: no KS, no estimate, no escalation; labels (both tests) and oov */
    assert_true(isnan(r.conf_ks.d) && isnan(r.est) && isnan(r.esc_rate));
    assert_int_equal(r.n_tests, 3);
    slm_prod_review_free(&r);
    cfg.new_words_min = 1;
    assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), 0);
    assert_int_equal(r.n_new_words, 2);
    assert_string_equal(r.new_words[0].word, "crypto");
    assert_int_equal(r.new_words[0].count, 3);
    assert_string_equal(r.new_words[1].word, "wallet");
    slm_prod_review_free(&r);
    slm_prod_words_free(&ew);
    slm_prod_words_free(&mw);
    slm_wordmap_free(vocab);
}

/* A sparse 2 x 3 table: the Monte-Carlo permutation p with the configured replicates. */
static void review_sparse_labels(void **state)
{
    (void)state;
    int pa[6] = {0, 1, 2, 0, 1, 2}, pb[6] = {0, 0, 0, 0, 1, 2};
    slm_prod_ref ref = {.s = {.n = 6, .n_labels = 3, .n_classes = 3, .pred = pa},
                        .temperature = NAN};
    slm_prod_sample m = {.n = 6, .n_labels = 3, .n_classes = 3, .pred = pb};
    slm_prod_cfg cfg;
    slm_prod_cfg_default(&cfg);
    slm_prod_review r;
    char err[200];
    assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), 0);
    assert_string_equal(r.labels.method, "monte-carlo");
    assert_int_equal(r.labels.reps, 2000);
    assert_true(r.labels.p > 1.0 / 2001 && r.labels.p <= 1);
    /* the class test: Fisher's p of class 0 (4 of 6 against 2 of 6) is 0.5671 (R's
     * fisher.test, and tests/unit reference code), times 3 classes: 1 */
    assert_true(r.sig[SLM_PS_LABELS].p == r.labels.p && r.n_tests == 2);
    assert_int_equal(r.class_top.cls, 0);
    assert_true(r.class_p == 1.0 && !r.sig[SLM_PS_CLASS].flagged);
    slm_prod_review_free(&r);
}

/*
 * One class's share (SLM_PS_CLASS). Reference values from Python (math only): each class's
 * 2 x 2 table [month count, month rest; reference count, reference rest] tested by Yates'
 * chi-square, p = erfc(sqrt(x/2)), Fisher's exact sum where an expected count is below 5
 * (none here); the smallest p (class 4: 100 -> 140 of 1,000) times 5 classes, and its PSI
 * term with the 0.5 smoothing of slm_psi.
 */
#define REF_CLASS_P 0.03641718444835743
#define REF_CLASS_TERM 0.01336856902841575

static void review_class_share(void **state)
{
    (void)state;
    static const long ca[5] = {300, 250, 200, 150, 100}, cb[5] = {280, 240, 190, 150, 140};
    int pa[1000], pb[1000];
    size_t na = 0, nb = 0;
    for (int c = 0; c < 5; c++) {
        for (long j = 0; j < ca[c]; j++)
            pa[na++] = c;
        for (long j = 0; j < cb[c]; j++)
            pb[nb++] = c;
    }
    slm_prod_ref ref = {.s = {.n = na, .n_labels = 5, .n_classes = 5, .pred = pa},
                        .temperature = NAN};
    slm_prod_sample m = {.n = nb, .n_labels = 5, .n_classes = 5, .pred = pb};
    slm_prod_cfg cfg;
    slm_prod_cfg_default(&cfg);
    slm_prod_review r;
    char err[200];
    assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), 0);
    assert_int_equal(r.class_top.cls, 4);
    assert_close(r.class_p, REF_CLASS_P);
    assert_close(r.class_top.contrib, REF_CLASS_TERM);
    assert_close(r.class_top.share_ref, 0.100);
    assert_close(r.class_top.share_month, 0.140);
    /* the two label tests alone in the family: BH puts the class test's adjusted p in
     * [p, 2p] (0.036..0.073), not below alpha 0.05 unless the chi-square is below it too */
    assert_true(r.n_tests == 2);
    assert_true(r.sig[SLM_PS_CLASS].p_adj >= REF_CLASS_P - 1e-12 &&
                r.sig[SLM_PS_CLASS].p_adj <= 2 * REF_CLASS_P + 1e-12);
    assert_int_equal(r.sig[SLM_PS_CLASS].flagged, r.sig[SLM_PS_CLASS].p_adj < 0.05);
    slm_prod_review_free(&r);
    /* at alpha 0.10 the p passes; a floor above its PSI term (0.0134) keeps it unflagged */
    cfg.alpha = 0.10;
    cfg.class_min = 0.02;
    assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), 0);
    assert_false(r.sig[SLM_PS_CLASS].flagged);
    slm_prod_review_free(&r);
    cfg.class_min = 0.01;
    assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), 0);
    assert_true(r.sig[SLM_PS_CLASS].p_adj < 0.10 && r.sig[SLM_PS_CLASS].flagged);
    assert_int_equal(r.verdict, SLM_PV_DRIFTED);
    slm_prod_review_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(psi_js),
        cmocka_unit_test(ks),
        cmocka_unit_test(ks_naive),
        cmocka_unit_test(cbpe_calibration),
        cmocka_unit_test(words_oov),
        cmocka_unit_test(review_verdicts),
        cmocka_unit_test(review_wilson_and_nan),
        cmocka_unit_test(review_bad_input),
        cmocka_unit_test(review_words),
        cmocka_unit_test(review_sparse_labels),
        cmocka_unit_test(review_class_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
