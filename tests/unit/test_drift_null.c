/*
 * test_drift_null.c — the drift review's tests on simulated histories, through the very
 * functions the review runs (drift_stats.h): twelve months of one model on one eval set,
 * many histories with fixed seeds.
 *
 * The model: each example is "stable right" (72%), "stable wrong" (8%, always the same
 * wrong label) or "unstable" (20%, right with probability 1/2, else a random wrong
 * label), so the true accuracy is 82%; its confidence is 0.90, 0.60 or 0.55 by type, plus
 * a uniform ±0.05. Five labels, 20% each. Two designs:
 *   PAIRED       the same 400 examples every month (same eval-set data), a fresh draw of
 *                the unstable answers each month: McNemar, paired bootstraps;
 *   INDEPENDENT  a fresh sample of 400 examples each month (a new eval-set version): Fisher
 *                / Yates, two-sample bootstraps, and the label-distribution test.
 * Each month is compared with the previous one on accuracy, macro-F1, ECE and the recall of
 * each label (and, INDEPENDENT, the label distribution); one history is one review, its
 * tests (88 paired, 99 independent) adjusted together by Benjamini–Hochberg at 0.05.
 *
 * Under no drift (NULL_HISTORIES histories per design) the share of histories with any
 * flag must stay at most 0.05 + 0.03 (two binomial standard errors at 200 histories),
 * and every unadjusted test must reject at p < 0.05 at most at 0.05 + 0.02 of the time
 * (the Yates and McNemar corrections make those conservative; the bootstraps are normal
 * tests with the bootstrap's standard error, so near 0.05). Planted changes from month 7
 * on — accuracy -8 points at 400 examples (32 stable-right examples become wrong), a label
 * share moved from 20% to 35% — must be flagged at month 7 in at least 80% of histories.
 *
 * The rates (and, with SLM_DRIFT_BEFORE=1 in the environment, those of the rule drift
 * used before: a month flagged when its value lies outside the previous month's 95%
 * percentile bootstrap interval, 200 replicates, as analysis.c computes the stored
 * intervals) are printed, so the numbers in the report come from this program.
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

#include "drift_stats.h"
#include "metrics.h"
#include "util.h"

#define MONTHS 12
#define N_EX 400
#define K 5
#define NULL_HISTORIES 200
#define PLANT_HISTORIES 100
#define PLANT_MONTH 6 /* 0-based: the 7th month */
#define REPS 200
#define ALPHA 0.05
#define FWER_TOL 0.03
#define RAW_TOL 0.02
#define MIN_POWER_ACC 0.70
#define MIN_POWER_LABELS 0.60
#define MAX_TESTS (MONTHS * (3 + K + 1))

/* ---- a test-only generator (splitmix64; nothing to do with slm_rng's xoshiro) ------ */

static uint64_t gen;

static uint64_t gen_u64(void)
{
    uint64_t z = (gen += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double gen_unit(void)
{
    return (double)(gen_u64() >> 11) / 9007199254740992.0;
}

static int gen_int(int n)
{
    return (int)(gen_unit() * n);
}

/* ---- one month ---------------------------------------------------------------------- */

enum { STABLE_RIGHT, STABLE_WRONG, UNSTABLE };

typedef struct example {
    int gold, type, wrong; /* wrong: the stable wrong answer */
} example;

typedef struct month {
    char *ids[N_EX];
    int gold[N_EX], pred[N_EX];
    double conf[N_EX];
    slm_drift_sample s;
} month;

static int draw_label(double share0)
{
    double u = gen_unit();
    if (u < share0)
        return 0;
    return 1 + (int)((u - share0) / ((1 - share0) / (K - 1))) % (K - 1);
}

static void draw_example(example *e, double share0)
{
    e->gold = draw_label(share0);
    double u = gen_unit();
    e->type = u < 0.72 ? STABLE_RIGHT : u < 0.80 ? STABLE_WRONG : UNSTABLE;
    e->wrong = (e->gold + 1 + gen_int(K - 1)) % K;
}

/* The answers of one month to examples ex[0..N_EX), ids named by tag. */
static void answer(month *m, const example *ex, int tag)
{
    static const double base[] = {0.90, 0.60, 0.55};
    for (int i = 0; i < N_EX; i++) {
        const example *e = &ex[i];
        int right = e->type == STABLE_RIGHT || (e->type == UNSTABLE && gen_unit() < 0.5);
        int wrong = e->type == STABLE_WRONG ? e->wrong : (e->gold + 1 + gen_int(K - 1)) % K;
        free(m->ids[i]);
        m->ids[i] = slm_xasprintf("e%d-%d", tag, i);
        m->gold[i] = e->gold;
        m->pred[i] = right ? e->gold : wrong;
        m->conf[i] = base[e->type] + (gen_unit() - 0.5) * 0.1;
    }
    m->s = (slm_drift_sample){N_EX, K, K, (const char *const *)m->ids, m->gold, m->pred,
                              m->conf, NULL, NULL};
}

static void month_free(month *m)
{
    for (int i = 0; i < N_EX; i++) {
        free(m->ids[i]);
        m->ids[i] = NULL;
    }
}

/* ---- one history = one review ------------------------------------------------------- */

enum { T_ACC, T_F1, T_ECE, T_RECALL, T_LABELS, N_TYPES };
static const char *const TYPE_NAME[] = {"accuracy", "macro-F1", "ECE", "recall", "labels"};

typedef struct history_result {
    int any_flag;            /* any test flagged */
    int planted_flag[N_TYPES]; /* a test of this type flagged at PLANT_MONTH */
    int planted_any;         /* any test flagged at PLANT_MONTH */
    long n[N_TYPES], raw[N_TYPES], flagged[N_TYPES];
    int before_flag;         /* the old rule flagged something */
    long before_n, before_hits;
} history_result;

typedef struct family {
    double p[MAX_TESTS];
    int type[MAX_TESTS], month[MAX_TESTS];
    size_t m;
} family;

static void add_test(family *f, double p, int type, int mo)
{
    assert_true(isfinite(p) && p >= 0 && p <= 1);
    assert_true(f->m < MAX_TESTS);
    f->p[f->m] = p, f->type[f->m] = type, f->month[f->m++] = mo;
}

/* The review's tests of month j against j-1 (paired or not) into f. */
static void compare_months(const month *a, const month *b, int paired, int j, family *f)
{
    slm_drift_pairs pp = {0}, *use = NULL;
    if (paired) {
        assert_int_equal(slm_drift_pair(&a->s, &b->s, &pp), 0);
        assert_int_equal(pp.n, N_EX);
        use = &pp;
    }
    const slm_drift_kind kinds[] = {SLM_DK_ACCURACY, SLM_DK_MACRO_F1, SLM_DK_ECE};
    for (int t = 0; t < 3; t++) {
        slm_drift_cfg cfg = {REPS, slm_drift_seed(7, j - 1, j, TYPE_NAME[t]), NAN, -1, -1};
        slm_drift_diff r;
        assert_int_equal(slm_drift_compare(kinds[t], &a->s, &b->s, use, &cfg, &r), 0);
        add_test(f, r.p, t, j);
    }
    for (int c = 0; c < K; c++) {
        slm_drift_cfg cfg = {REPS, 0, NAN, c, c};
        slm_drift_diff r;
        assert_int_equal(slm_drift_compare(SLM_DK_ACCURACY, &a->s, &b->s, use, &cfg, &r), 0);
        add_test(f, r.p, T_RECALL, j);
    }
    if (!paired) {
        long ca[K] = {0}, cb[K] = {0};
        for (int i = 0; i < N_EX; i++)
            ca[a->gold[i]]++, cb[b->gold[i]]++;
        slm_label_test lt;
        assert_int_equal(slm_label_test_run(ca, cb, K, REPS, slm_drift_seed(7, j - 1, j, "l"),
                                            &lt), 0);
        add_test(f, lt.p, T_LABELS, j);
    }
    slm_drift_pairs_free(&pp);
}

static void judge_family(const family *f, history_result *h)
{
    double adj[MAX_TESTS];
    slm_bh(f->p, f->m, adj);
    for (size_t i = 0; i < f->m; i++) {
        int t = f->type[i], hit = adj[i] < ALPHA;
        h->n[t]++;
        h->raw[t] += f->p[i] < ALPHA;
        h->flagged[t] += hit;
        h->any_flag |= hit;
        if (hit && f->month[i] == PLANT_MONTH) {
            h->planted_flag[t] = 1;
            h->planted_any = 1;
        }
    }
}

/* ---- the rule of drift before: outside the previous month's percentile interval ---- */

static double old_stat(const month *m, const size_t *idx, size_t n, int t)
{
    if (t == T_ACC) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            k += m->gold[idx[i]] == m->pred[idx[i]];
        return (double)k / (double)n;
    }
    int g[N_EX], p[N_EX];
    double c[N_EX];
    unsigned char ok[N_EX];
    for (size_t i = 0; i < n; i++) {
        g[i] = m->gold[idx[i]], p[i] = m->pred[idx[i]];
        c[i] = m->conf[idx[i]], ok[i] = g[i] == p[i];
    }
    if (t == T_ECE)
        return slm_ece(c, ok, n, SLM_ECE_BINS, 0, NULL, NULL, NULL, NULL);
    slm_cls_metrics cm;
    if (slm_cls_metrics_compute(g, p, n, K, &cm, NULL, 0))
        return NAN;
    double v = cm.macro_f1;
    slm_cls_metrics_free(&cm);
    return v;
}

typedef struct old_ctx {
    const month *m;
    int t;
} old_ctx;

static double old_resample(const size_t *idx, size_t n, void *ud)
{
    const old_ctx *c = ud;
    return old_stat(c->m, idx, n, c->t);
}

static void old_rule(const month *mo, history_result *h)
{
    size_t id[N_EX];
    for (size_t i = 0; i < N_EX; i++)
        id[i] = i;
    for (int t = 0; t < 3; t++)
        for (int j = 1; j < MONTHS; j++) {
            old_ctx c = {&mo[j - 1], t};
            double lo, hi, v = old_stat(&mo[j], id, N_EX, t);
            slm_bootstrap_ci(N_EX, old_resample, &c, REPS, 1, 0.95, &lo, &hi, NULL);
            int hit = v < lo || v > hi;
            h->before_n++;
            h->before_hits += hit;
            h->before_flag |= hit;
        }
}

/* ---- histories ---------------------------------------------------------------------- */

typedef enum plant { PLANT_NONE, PLANT_ACCURACY, PLANT_LABELS } plant;

/* One history of the design (paired or not) with seed, the planted change from
 * PLANT_MONTH on, judged as one review. */
static void history(int paired, plant what, uint64_t seed, int before, history_result *h)
{
    static month mo[MONTHS];
    example ex[N_EX];
    memset(h, 0, sizeof *h);
    gen = seed;
    for (int i = 0; i < N_EX; i++)
        draw_example(&ex[i], 0.2);
    for (int j = 0; j < MONTHS; j++) {
        int planted = j >= PLANT_MONTH;
        if (!paired)
            for (int i = 0; i < N_EX; i++)
                draw_example(&ex[i], planted && what == PLANT_LABELS ? 0.35 : 0.2);
        if (planted && what == PLANT_ACCURACY && (j == PLANT_MONTH || !paired))
            for (int i = 0, moved = 0; i < N_EX && moved < N_EX * 8 / 100; i++)
                if (ex[i].type == STABLE_RIGHT)
                    ex[i].type = STABLE_WRONG, moved++;
        answer(&mo[j], ex, paired ? 0 : j);
    }
    family f = {.m = 0};
    for (int j = 1; j < MONTHS; j++)
        compare_months(&mo[j - 1], &mo[j], paired, j, &f);
    judge_family(&f, h);
    if (before)
        old_rule(mo, h);
    for (int j = 0; j < MONTHS; j++)
        month_free(&mo[j]);
}

typedef struct tally {
    int histories, any, planted_any, planted[N_TYPES], before_any;
    long n[N_TYPES], raw[N_TYPES], flagged[N_TYPES], before_n, before_hits;
} tally;

static void run_design(int paired, plant what, int n_hist, tally *t)
{
    int before = what == PLANT_NONE && getenv("SLM_DRIFT_BEFORE") != NULL;
    memset(t, 0, sizeof *t);
    for (int h = 0; h < n_hist; h++) {
        history_result r;
        history(paired, what, UINT64_C(1000) * (uint64_t)(what + 1) + (uint64_t)h * 7919 +
                                  (uint64_t)paired, before, &r);
        t->histories++;
        t->any += r.any_flag;
        t->planted_any += r.planted_any;
        t->before_any += r.before_flag;
        t->before_n += r.before_n, t->before_hits += r.before_hits;
        for (int k = 0; k < N_TYPES; k++) {
            t->planted[k] += r.planted_flag[k];
            t->n[k] += r.n[k], t->raw[k] += r.raw[k], t->flagged[k] += r.flagged[k];
        }
    }
}

static void print_null(const char *design, const tally *t)
{
    long n = 0, f = 0;
    for (int k = 0; k < N_TYPES; k++)
        n += t->n[k], f += t->flagged[k];
    printf("# %s, no drift: %d histories, %d with a flag (%.3f); %ld tests, %ld flagged "
           "(per-test rate %.5f)\n",
           design, t->histories, t->any, (double)t->any / t->histories, n, f,
           n ? (double)f / (double)n : 0.0);
    for (int k = 0; k < N_TYPES; k++)
        if (t->n[k])
            printf("#   %-9s unadjusted p < 0.05 in %.4f of %ld tests; flagged %ld\n",
                   TYPE_NAME[k], (double)t->raw[k] / (double)t->n[k], t->n[k], t->flagged[k]);
    if (t->before_n)
        printf("#   rule before (outside the previous 95%% interval): %d of %d histories "
               "flagged (%.3f); %ld of %ld metric-months (%.4f)\n",
               t->before_any, t->histories, (double)t->before_any / t->histories,
               t->before_hits, t->before_n, (double)t->before_hits / (double)t->before_n);
}

static void check_null(const tally *t)
{
    assert_true((double)t->any / t->histories <= ALPHA + FWER_TOL);
    /* the rule before fails the same check (it is no test of a difference) */
    if (t->before_n)
        assert_true((double)t->before_any / t->histories > ALPHA + FWER_TOL);
    for (int k = 0; k < N_TYPES; k++)
        if (t->n[k])
            assert_true((double)t->raw[k] / (double)t->n[k] <= ALPHA + RAW_TOL);
}

static void null_paired(void **state)
{
    (void)state;
    tally t;
    run_design(1, PLANT_NONE, NULL_HISTORIES, &t);
    print_null("paired", &t);
    check_null(&t);
    /* the bootstrap tests are not conservative: near the nominal rate, not far below */
    assert_true((double)t.raw[T_F1] / (double)t.n[T_F1] >= ALPHA - RAW_TOL);
}

static void null_independent(void **state)
{
    (void)state;
    tally t;
    run_design(0, PLANT_NONE, NULL_HISTORIES, &t);
    print_null("independent", &t);
    check_null(&t);
    assert_true((double)t.raw[T_F1] / (double)t.n[T_F1] >= ALPHA - RAW_TOL);
}

static void print_planted(const char *what, const tally *t, int type)
{
    printf("# planted %s: flagged at month 7 by its own test in %d of %d histories (%.3f), "
           "by any test of month 7 in %d (%.3f)\n",
           what, t->planted[type], t->histories, (double)t->planted[type] / t->histories,
           t->planted_any, (double)t->planted_any / t->histories);
}

static void planted_accuracy(void **state)
{
    (void)state;
    tally t;
    tally u;
    run_design(0, PLANT_ACCURACY, PLANT_HISTORIES, &u);
    print_planted("accuracy -8 points, independent samples", &u, T_ACC);
    run_design(1, PLANT_ACCURACY, PLANT_HISTORIES, &t);
    print_planted("accuracy -8 points, paired", &t, T_ACC);
    assert_true((double)t.planted[T_ACC] / t.histories >= MIN_POWER_ACC);
}

static void planted_labels(void **state)
{
    (void)state;
    tally t;
    run_design(0, PLANT_LABELS, PLANT_HISTORIES, &t);
    print_planted("label share 20% -> 35%", &t, T_LABELS);
    assert_true((double)t.planted[T_LABELS] / t.histories >= MIN_POWER_LABELS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_paired),
        cmocka_unit_test(null_independent),
        cmocka_unit_test(planted_accuracy),
        cmocka_unit_test(planted_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
