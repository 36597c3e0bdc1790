/*
 * test_prodstats_null.c — the production review (prodstats.h slm_prod_review_run) on
 * simulated deployments: the false-alarm rate of stable months, the coverage of the
 * label-free accuracy band, and the power on planted changes, through the very function
 * the `drift --deployment` command runs.
 *
 * The classifier, with known calibration: K = 8 queues with priors PRIOR; a ticket of
 * true class y has scores z_j = MU [j = y] + N(0, 1); the model answers argmax z with the
 * probabilities softmax(z / T0), T0 = 0.25 (overconfident). The true posterior is
 * softmax(MU z + ln prior), so temperature scaling (T = 1/(MU T0) = 2 at best) leaves a
 * real, prior-shaped miscalibration: the calibration an eval run measures is good, not
 * perfect. Texts: 3 to 12 words drawn from a Zipf(1.1) vocabulary of V words "w<rank>".
 *
 * Each history draws its own REFERENCE (a calibration split of N_CAL tickets, on which
 * slm_fit_temperature fits T, and the evaluated split of N_REF, whose predictions,
 * confidences, probabilities, gold labels, lengths and words are the reference) and six
 * months of N tickets (2,000 or 20,000), CORRECTED of them (a random tenth) carrying
 * their true label as the corrected label.
 *
 * Stable months are drawn like the reference. Planted histories: months 1-3 stable,
 * month 4 a prior shift (class 0 from 25% to 7%, class 7 from 6% to 24%), month 5 new
 * vocabulary (a fifth of the tokens from 500 words the eval set never saw), month 6 a
 * calibration break (a fifth of the tickets change their true label to another class:
 * confidences stay, accuracy falls).
 *
 * Asserted (the margins are the binomial noise of these counts, at least two standard
 * errors): stable months flagged at most ALPHA; each judged test's unadjusted rejection
 * rate at p < 0.05 at most 0.05 + RAW_TOL, and, where the test is not conservative by
 * construction (confidence KS on continuous values, the label chi-square, the estimated
 * accuracy's z test), at least 0.05 - RAW_TOL, so a test that never rejects fails too;
 * the CBPE band (with the allowance) covers the month's true accuracy in [COV_LO,
 * COV_HI] of stable months — not above COV_HI either, so a band made wide enough to
 * cover everything fails; the planted months flagged by the planted signal with the
 * power stated in POWER_*. Every rate is printed.
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

#include "metrics.h"
#include "prodstats.h"
#include "util.h"

#define K 8
#define MU 2.0
#define T0 0.25
#define V 20000
#define V_NEW 500
#define ZIPF_S 1.1
#define N_CAL 1000
#define N_REF 2000
#define MONTHS 6
#define CORRECTED 0.10
#ifndef HISTORIES
#define HISTORIES 200
#endif
#ifndef TRIVIAL_HISTORIES
#define TRIVIAL_HISTORIES 20
#endif
#ifndef PLANT_HISTORIES
#define PLANT_HISTORIES 100
#endif
#define ALPHA 0.05
#define RAW_TOL 0.04
#define COV_LO 0.93
#define COV_HI 0.99
#define THRESHOLD 0.85
#define MAXN 20000
#define MAXTEXT 256

static const double PRIOR[K] = {0.25, 0.18, 0.14, 0.12, 0.10, 0.08, 0.07, 0.06};
static const double SHIFTED[K] = {0.07, 0.18, 0.14, 0.12, 0.10, 0.08, 0.07, 0.24};
static const double TRIVIAL[K] = {0.235, 0.18, 0.14, 0.12, 0.10, 0.08, 0.07, 0.075};

/* ---- the generator: the library's seeded xoshiro256** (metrics.h slm_rng) ---------- */

static slm_rng gen;

static double gen_unit(void) /* (0, 1) */
{
    return ((double)(slm_rng_u64(&gen) >> 11) + 0.5) / 9007199254740992.0;
}

/* Box–Muller, both values of each pair used. */
static double gen_normal(void)
{
    static double spare;
    static int have;
    if (have) {
        have = 0;
        return spare;
    }
    double r = sqrt(-2 * log(gen_unit())), a = 2 * M_PI * gen_unit();
    spare = r * sin(a), have = 1;
    return r * cos(a);
}

/* A discrete distribution by its cumulative weights, with a guide table (Chen and Asau
 * 1974): guide[b] is the first index whose cumulative weight reaches b/GUIDE of the
 * total, so a draw scans a few entries from there. */
#define GUIDE 4096
typedef struct discrete {
    const double *cdf;
    int n;
    int guide[GUIDE];
} discrete;

static void discrete_init(discrete *d, const double *cdf, int n)
{
    d->cdf = cdf, d->n = n;
    for (int b = 0, i = 0; b < GUIDE; b++) {
        while (i < n - 1 && cdf[i] < cdf[n - 1] * b / GUIDE)
            i++;
        d->guide[b] = i;
    }
}

static int gen_discrete(const discrete *d)
{
    double u = gen_unit() * d->cdf[d->n - 1];
    int i = d->guide[(int)(u / d->cdf[d->n - 1] * GUIDE)];
    while (i < d->n - 1 && d->cdf[i] < u)
        i++;
    return i;
}

static double zipf_cdf[V], new_cdf[V_NEW], prior_cdf[K], shifted_cdf[K], trivial_cdf[K];
static discrete zipf_d, new_d, prior_d, shifted_d, trivial_d;

static void zipf_init(void)
{
    double s = 0;
    for (int r = 0; r < V; r++)
        zipf_cdf[r] = s += pow(r + 1, -ZIPF_S);
    s = 0;
    for (int r = 0; r < V_NEW; r++)
        new_cdf[r] = s += pow(r + 1, -ZIPF_S);
    for (int j = 0; j < K; j++) {
        prior_cdf[j] = PRIOR[j] + (j ? prior_cdf[j - 1] : 0);
        shifted_cdf[j] = SHIFTED[j] + (j ? shifted_cdf[j - 1] : 0);
        trivial_cdf[j] = TRIVIAL[j] + (j ? trivial_cdf[j - 1] : 0);
    }
    discrete_init(&zipf_d, zipf_cdf, V);
    discrete_init(&new_d, new_cdf, V_NEW);
    discrete_init(&prior_d, prior_cdf, K);
    discrete_init(&shifted_d, shifted_cdf, K);
    discrete_init(&trivial_d, trivial_cdf, K);
}

/* ---- tickets ----------------------------------------------------------------------- */

enum { PLANT_NONE, PLANT_PRIOR, PLANT_VOCAB, PLANT_CONCEPT, PLANT_TRIVIAL };

typedef struct sample {
    int pred[MAXN], gold[MAXN], truth[MAXN];
    double conf[MAXN], probs[MAXN * K], logp[N_CAL * K]; /* logp: calibration split */
    long len[MAXN];
    slm_prod_words words;
    size_t n;
} sample;

static sample g_cal, g_ref, g_month;

/* A text of 3-12 words; new_share of them from the new vocabulary. */
static void draw_text(char *text, double new_share)
{
    int words = 3 + (int)(gen_unit() * 10);
    char *t = text;
    for (int w = 0; w < words; w++) {
        int fresh = gen_unit() < new_share;
        int r = gen_discrete(fresh ? &new_d : &zipf_d);
        char digits[12];
        int nd = 0;
        do
            digits[nd++] = (char)('0' + r % 10);
        while (r /= 10);
        if (w)
            *t++ = ' ';
        *t++ = fresh ? 'n' : 'w';
        while (nd)
            *t++ = digits[--nd];
    }
    *t = '\0';
}

/* One ticket i of s: true class, the model's answer and probabilities, the text. */
static void draw_ticket(sample *s, size_t i, int plant, char *text)
{
    const discrete *prior = plant == PLANT_PRIOR ? &shifted_d
                          : plant == PLANT_TRIVIAL ? &trivial_d : &prior_d;
    int y = gen_discrete(prior), best = 0;
    double z[K];
    for (int j = 0; j < K; j++) {
        z[j] = (j == y ? MU : 0) + gen_normal();
        best = z[j] > z[best] ? j : best;
    }
    double *p = &s->probs[i * K], sum = 0; /* softmax(z / T0), the largest score first */
    for (int j = 0; j < K; j++)
        sum += p[j] = exp((z[j] - z[best]) / T0);
    for (int j = 0; j < K; j++)
        p[j] /= sum;
    for (int j = 0; s == &g_cal && j < K; j++)
        s->logp[i * K + j] = log(p[j]);
    if (plant == PLANT_CONCEPT && gen_unit() < 0.2)
        y = (y + 1 + (int)(gen_unit() * (K - 1))) % K;
    s->truth[i] = y;
    s->pred[i] = best;
    s->conf[i] = p[best];
    draw_text(text, plant == PLANT_VOCAB ? 0.2 : 0);
    s->len[i] = (long)strlen(text);
}

/* n tickets; labelled: every gold label known (the eval run), else a random tenth. */
static void draw_sample(sample *s, size_t n, int plant, int labelled, const slm_wordmap *vocab,
                        slm_wordmap *build_vocab)
{
    static char texts[MAXN][MAXTEXT];
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        draw_ticket(s, i, plant, texts[i]);
        s->gold[i] = labelled || gen_unit() < CORRECTED ? s->truth[i] : -1;
        if (build_vocab)
            slm_words_add_text(build_vocab, texts[i]);
    }
    slm_prod_words_init(&s->words);
    for (size_t i = 0; vocab && i < n; i++)
        slm_prod_words_add(&s->words, vocab, texts[i], build_vocab != NULL);
}

static slm_prod_sample as_prod(const sample *s)
{
    slm_prod_sample x = {.n = s->n, .n_labels = K, .n_classes = K, .pred = s->pred,
                         .conf = s->conf, .probs = s->probs, .gold = s->gold, .len = s->len,
                         .words = &s->words};
    return x;
}

/* ---- histories --------------------------------------------------------------------- */

typedef struct tally {
    long months, flagged, degraded, covered, covered_raw, covered_wide;
    long raw[SLM_PS_COUNT], tested[SLM_PS_COUNT], sig[SLM_PS_COUNT];
    double t_sum, gap_sum, width_sum;
} tally;

static size_t g_n_ref = N_REF;
static const char *g_names[SLM_PS_COUNT];

/* A fresh reference: temperature from the calibration split, the evaluated split with
 * the eval set's vocabulary. */
static void draw_reference(slm_prod_ref *ref, slm_wordmap **vocab)
{
    draw_sample(&g_cal, N_CAL, PLANT_NONE, 1, NULL, NULL);
    double T = slm_fit_temperature(g_cal.logp, g_cal.truth, N_CAL, K);
    slm_prod_words_free(&g_cal.words);
    *vocab = slm_wordmap_new();
    draw_sample(&g_ref, g_n_ref, PLANT_NONE, 1, *vocab, *vocab);
    ref->s = as_prod(&g_ref);
    ref->temperature = T;
    ref->vocab = *vocab;
}

static void count_month(tally *t, const slm_prod_review *r, const sample *m)
{
    long right = 0;
    for (size_t i = 0; i < m->n; i++)
        right += m->pred[i] == m->truth[i];
    double acc = (double)right / (double)m->n;
    t->months++;
    t->flagged += r->verdict != SLM_PV_STABLE;
    t->degraded += r->verdict == SLM_PV_DEGRADED;
    t->covered += r->est_lo <= acc && acc <= r->est_hi;
    double half = 1.959963984540054 * r->est_sd, wide = half + fabs(r->ref_gap);
    t->covered_raw += r->est_cbpe - half <= acc && acc <= r->est_cbpe + half;
    t->covered_wide += r->est_cbpe - wide <= acc && acc <= r->est_cbpe + wide;
    t->gap_sum += fabs(r->ref_gap);
    t->width_sum += r->est_hi - r->est_lo;
    for (int s = 0; s < SLM_PS_COUNT; s++) {
        g_names[s] = r->sig[s].name;
        t->tested[s] += isfinite(r->sig[s].p);
        t->raw[s] += r->sig[s].p < 0.05;
        t->sig[s] += r->sig[s].flagged;
    }
}

/* Runs `histories` histories of six months of n tickets; plants[m] is month m's plant;
 * per[m] tallies month m. */
static void run(int histories, size_t n, const int *plants, tally *per, uint64_t seed)
{
    slm_rng_seed(&gen, seed);
    slm_prod_cfg cfg;
    slm_prod_cfg_default(&cfg);
    cfg.threshold = THRESHOLD;
    char err[200];
    for (int h = 0; h < histories; h++) {
        slm_prod_ref ref;
        slm_wordmap *vocab;
        draw_reference(&ref, &vocab);
        for (int mo = 0; mo < MONTHS; mo++) {
            draw_sample(&g_month, n, plants[mo], 0, vocab, NULL);
            slm_prod_sample m = as_prod(&g_month);
            slm_prod_review r;
            cfg.seed = (uint64_t)h * 16 + (uint64_t)mo;
            assert_int_equal(slm_prod_review_run(&ref, &m, &cfg, &r, err, sizeof err), 0);
            per[mo].t_sum += ref.temperature;
            count_month(&per[mo], &r, &g_month);
            slm_prod_review_free(&r);
            slm_prod_words_free(&g_month.words);
        }
        slm_prod_words_free(&g_ref.words);
        slm_wordmap_free(vocab);
    }
}

static double rate(long k, long n)
{
    return n ? (double)k / (double)n : NAN;
}

static void null_months(size_t n, uint64_t seed)
{
    static const int plants[MONTHS] = {0};
    tally per[MONTHS], t;
    memset(per, 0, sizeof per);
    memset(&t, 0, sizeof t);
    run(HISTORIES, n, plants, per, seed);
    for (int mo = 0; mo < MONTHS; mo++) { /* pool the months */
        long *a = (long *)&t, *b = (long *)&per[mo];
        for (size_t f = 0; f < offsetof(tally, t_sum) / sizeof(long); f++)
            a[f] += b[f];
        t.t_sum += per[mo].t_sum, t.gap_sum += per[mo].gap_sum;
        t.width_sum += per[mo].width_sum;
    }
    printf("# null, n = %zu: %ld months (%d histories x %d), mean T %.3f\n", n, t.months,
           HISTORIES, MONTHS, t.t_sum / (double)t.months);
    printf("#   months flagged %.4f (degraded %.4f)\n", rate(t.flagged, t.months),
           rate(t.degraded, t.months));
    printf("#   the band covers the true accuracy in %.4f (mean width %.4f); plain CBPE band "
           "%.4f, widened by |reference gap| %.4f (mean |gap| %.4f)\n",
           rate(t.covered, t.months), t.width_sum / (double)t.months,
           rate(t.covered_raw, t.months), rate(t.covered_wide, t.months),
           t.gap_sum / (double)t.months);
    for (int s = 0; s < SLM_PS_COUNT; s++)
        printf("#   %-18s tested %ld, p < 0.05 in %.4f, flagged %.4f\n", g_names[s],
               t.tested[s], rate(t.raw[s], t.tested[s]), rate(t.sig[s], t.tested[s]));
    assert_true(rate(t.flagged, t.months) <= ALPHA);
    for (int s = 0; s < SLM_PS_COUNT; s++) {
        assert_int_equal(t.tested[s], t.months);
        assert_true(rate(t.raw[s], t.tested[s]) <= 0.05 + RAW_TOL);
    }
    assert_true(rate(t.raw[SLM_PS_LABELS], t.months) >= 0.05 - RAW_TOL);
    assert_true(rate(t.raw[SLM_PS_CONFIDENCE], t.months) >= 0.05 - RAW_TOL);
    assert_true(rate(t.raw[SLM_PS_EST_ACCURACY], t.months) >= 0.05 - RAW_TOL);
    assert_true(rate(t.covered, t.months) >= COV_LO);
    assert_true(rate(t.covered, t.months) <= COV_HI);
}

static void null_2000(void **state)
{
    (void)state;
    null_months(2000, 11);
}

static void null_20000(void **state)
{
    (void)state;
    null_months(20000, 12);
}

/* Planted: months 1-3 stable, 4 prior shift, 5 new words, 6 calibration break. */
static void planted(size_t n, int histories, uint64_t seed, double power_min)
{
    static const int plants[MONTHS] = {PLANT_NONE, PLANT_NONE, PLANT_NONE, PLANT_PRIOR,
                                       PLANT_VOCAB, PLANT_CONCEPT};
    static const int signal[MONTHS] = {-1, -1, -1, SLM_PS_LABELS, SLM_PS_OOV,
                                       SLM_PS_OBS_ACCURACY};
    tally per[MONTHS];
    memset(per, 0, sizeof per);
    run(histories, n, plants, per, seed);
    long stable_flagged = 0, stable = 0;
    for (int mo = 0; mo < 3; mo++)
        stable_flagged += per[mo].flagged, stable += per[mo].months;
    printf("# planted, n = %zu, %d histories: stable months 1-3 flagged %.4f\n", n,
           histories, rate(stable_flagged, stable));
    assert_true(rate(stable_flagged, stable) <= ALPHA);
    for (int mo = 3; mo < MONTHS; mo++) {
        const tally *t = &per[mo];
        printf("#   month %d: flagged %.4f (degraded %.4f), by its planted signal (%s) "
               "%.4f; CBPE covers %.4f\n", mo + 1, rate(t->flagged, t->months),
               rate(t->degraded, t->months), g_names[signal[mo]],
               rate(t->sig[signal[mo]], t->months), rate(t->covered, t->months));
        for (int s = 0; s < SLM_PS_COUNT; s++)
            if (t->sig[s])
                printf("#     %-18s flagged %.4f\n", g_names[s], rate(t->sig[s], t->months));
        assert_true(rate(t->sig[signal[mo]], t->months) >= power_min);
    }
    /* the calibration break is a degradation, the other two are drift */
    assert_true(rate(per[5].degraded, per[5].months) >= power_min);
    assert_true(rate(per[3].degraded, per[3].months) <= ALPHA);
    assert_true(rate(per[4].degraded, per[4].months) <= ALPHA);
}

static void planted_2000(void **state)
{
    (void)state;
    planted(2000, PLANT_HISTORIES, 21, 0.80);
}

static void planted_20000(void **state)
{
    (void)state;
    planted(20000, PLANT_HISTORIES / 2, 22, 0.98);
}

/* The effect floor: a trivial prior shift (class 0 from 25% to 23.5%, class 7 from 6% to
 * 7.5%: PSI about 0.004) between a reference and months of 20,000 tickets each is
 * significant, yet must not make the month drifted. */
static void trivial_shift(void **state)
{
    (void)state;
    static const int plants[MONTHS] = {PLANT_TRIVIAL, PLANT_TRIVIAL, PLANT_TRIVIAL,
                                       PLANT_TRIVIAL, PLANT_TRIVIAL, PLANT_TRIVIAL};
    tally per[MONTHS], t;
    memset(per, 0, sizeof per);
    memset(&t, 0, sizeof t);
    g_n_ref = MAXN;
    run(TRIVIAL_HISTORIES, MAXN, plants, per, 31);
    g_n_ref = N_REF;
    for (int mo = 0; mo < MONTHS; mo++)
        t.months += per[mo].months, t.flagged += per[mo].flagged,
            t.raw[SLM_PS_LABELS] += per[mo].raw[SLM_PS_LABELS],
            t.sig[SLM_PS_LABELS] += per[mo].sig[SLM_PS_LABELS];
    printf("# trivial shift, reference and months of %d tickets, %d histories: labels p < "
           "0.05 in %.4f, flagged %.4f; months flagged %.4f\n", MAXN, TRIVIAL_HISTORIES,
           rate(t.raw[SLM_PS_LABELS], t.months), rate(t.sig[SLM_PS_LABELS], t.months),
           rate(t.flagged, t.months));
    assert_true(rate(t.raw[SLM_PS_LABELS], t.months) >= 0.5);
    assert_true(rate(t.sig[SLM_PS_LABELS], t.months) == 0);
    assert_true(rate(t.flagged, t.months) <= ALPHA);
}

int main(void)
{
    zipf_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_2000),
        cmocka_unit_test(planted_2000),
        cmocka_unit_test(null_20000),
        cmocka_unit_test(planted_20000),
        cmocka_unit_test(trivial_shift),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
