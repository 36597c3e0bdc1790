/*
 * test_loadstats.c — harness/metrics/loadstats.c: one level's statistics against numpy,
 * the percentile bootstrap against a naive sort-every-resample bootstrap, saturation on
 * synthetic levels from a small queue simulation written here (a stable server, a slow
 * one that keeps up, saturation at the in-flight cap, saturation of the server's queue
 * with no cap, a slight overload seen only in the lateness), and the best rate of a sweep.
 *
 * The numpy reference (numpy 1.24, /usr/bin/python3) is tests/unit/test_loadstats_ref.py,
 * which holds LEVEL's rows: it keeps the measured, sent requests, counts them over the 8 s window, applies the
 * per-request limits (a NaN TTFT fails a TTFT limit, a NaN TPOT meets a TPOT limit), and
 * takes np.percentile (linear) of the answered requests' finite values; the lateness slope
 * is np.polyfit(x, late, 1) with se = sqrt(RSS/(n-2)/Sxx), widened by sqrt((1+rho)/(1-rho))
 * (rho: the residuals' lag-1 autocorrelation), and t(0.975, 10) = 2.2281.
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

#include "loadstats.h"
#include "metrics.h"

#define W SLM_LOAD_WARMUP
#define M SLM_LOAD_MEASURE
#define C SLM_LOAD_COOLDOWN
#define OK SLM_LOAD_OK
#define ERR SLM_LOAD_ERROR
#define TO SLM_LOAD_TIMEOUT
#define UNS SLM_LOAD_UNSENT

/* phase status scheduled sent ttft e2e itl_mean itl_max tpot ntok correct valid */
static const slm_load_req LEVEL[] = {
    {W, OK, 0, 1, 50, 400, 20, 30, 25, 15, 1, 1},
    {W, OK, 100, 101, 60, 500, 22, 40, 27, 16, 1, 1},
    {M, OK, 200, 203, 80, 600, 25, 60, 30, 18, 1, 1},
    {M, OK, 300, 302, 120, 700, 28, 80, 32, 19, 0, 1},
    {M, OK, 400, 410, 150, 650, 20, 31, 22, 23, 1, 1},
    {M, OK, 500, 505, 90, 1200, 35, 90, 40, 31, 1, 1},
    {M, OK, 600, 601, 300, 900, 18, 25, 20, 31, 0, 0},
    {M, OK, 700, 712, 110, 800, 26, 44, 28, 26, 1, 1},
    {M, OK, 800, 809, 70, 300, NAN, NAN, NAN, 1, 1, 1},
    {M, OK, 900, 950, NAN, 500, 15, 20, 17, 25, 1, 1},
    {M, OK, 1000, 1004, 130, 950, 29, 70, 31, 27, -1, -1},
    {M, ERR, 1100, 1102, NAN, 30, NAN, NAN, NAN, 0, -1, -1},
    {M, ERR, 1200, 1230, NAN, 45, NAN, NAN, NAN, 0, -1, -1},
    {M, TO, 1300, 1301, NAN, 5000, NAN, NAN, NAN, 0, -1, -1},
    {M, UNS, 1400, NAN, NAN, NAN, NAN, NAN, NAN, 0, -1, -1},
    {C, OK, 1500, 1500, 40, 350, 19, 22, 20, 14, 1, 1},
};
#define NLEVEL (sizeof LEVEL / sizeof *LEVEL)

static void close_to(double got, double want)
{
    if (!(fabs(got - want) <= 1e-9 * fmax(1.0, fabs(want))))
        fail_msg("got %.17g, want %.17g", got, want);
}

static void level_matches_numpy(void **state)
{
    (void)state;
    slm_slo slo = {200.0, NAN, 30.0, 1000.0, 90.0};
    slm_load_level_stats s;
    assert_int_equal(slm_load_level_summarise(LEVEL, NLEVEL, 8000.0, 1.5, &slo, 400, 7, &s), 0);
    assert_int_equal(s.n_measured, 12);
    assert_int_equal(s.n_answered, 9);
    assert_int_equal(s.n_errors, 2);
    assert_int_equal(s.n_timeouts, 1);
    close_to(s.offered_rps, 1.5);
    /* an open loop: per the span of the send times (1.098 s) x 12/11, not the window */
    close_to(s.achieved_rps, 10.018214936247723);
    close_to(s.throughput_rps, 7.513661202185792);
    close_to(s.output_tok_s, 167.80510018214935);
    close_to(s.goodput_rps, 3.339404978749241);
    close_to(s.goodput_share, 0.3333333333333333);
    close_to(s.error_rate, 0.16666666666666666);
    close_to(s.timeout_rate, 0.08333333333333333);
    close_to(s.accuracy, 0.75);
    close_to(s.invalid_rate, 0.125);
    const double ttft[3] = {115.0, 194.99999999999997, 194.99999999999997};
    const double itl[3] = {25.5, 30.799999999999997, 30.799999999999997};
    const double tpot[3] = {29.0, 34.4, 34.4};
    const double e2e[3] = {700.0, 1000.0, 1000.0};
    for (int k = 0; k < 3; k++) {
        close_to(s.ttft[k].value, ttft[k]);
        close_to(s.itl[k].value, itl[k]);
        close_to(s.tpot[k].value, tpot[k]);
        close_to(s.e2e[k].value, e2e[k]);
    }
    assert_int_equal(s.ttft[0].n, 8);
    assert_int_equal(s.e2e[0].n, 9);
    close_to(s.send_err_p50_ms, 4.5);
    close_to(s.send_err_p99_ms, 47.80000000000001);
    /* the interval rule: a p90 of 8 needs 0.9^n <= 0.025 (n >= 36): no upper bound; the
     * p50 of 8 is bounded both ways (0.5^8 = 0.0039) and its bounds enclose it */
    assert_true(isnan(s.ttft[1].hi) && !isnan(s.ttft[1].lo));
    assert_true(s.ttft[0].lo <= s.ttft[0].value && s.ttft[0].value <= s.ttft[0].hi);
    assert_true(s.e2e[0].lo >= 300 && s.e2e[0].hi <= 1200);
    /* TPOT p90 34.4 > 30, and 3 of 12 failed > the 10% a p90 allows */
    assert_int_equal(s.meets_slo, 0);
    assert_int_equal(s.fails_slo_surely, 1);
    assert_int_equal(s.meets_slo_surely, 0);
    /* a looser SLO at the median: met, and surely (every p50 upper bound within) */
    slm_slo loose = {200.0, NAN, 40.0, 1500.0, 50.0};
    assert_int_equal(slm_load_level_summarise(LEVEL, NLEVEL, 8000.0, 1.5, &loose, 400, 7, &s), 0);
    assert_int_equal(s.meets_slo, 1);
    assert_int_equal(s.meets_slo_surely, 1);
    assert_int_equal(s.fails_slo_surely, 0);
    close_to(s.goodput_share, 7.0 / 12); /* numpy script's good() with these limits: 7 */
}

static void undefined_is_nan(void **state)
{
    (void)state;
    slm_slo slo = {NAN, NAN, NAN, 100.0, 99.0};
    slm_load_level_stats s;
    /* nothing measured: rates over a window are 0, ratios 0/0 NaN, no percentile */
    assert_int_equal(slm_load_level_summarise(LEVEL, 2, 8000.0, NAN, &slo, 100, 1, &s), 0);
    assert_int_equal(s.n_measured, 0);
    close_to(s.achieved_rps, 0.0);
    assert_true(isnan(s.goodput_share) && isnan(s.error_rate) && isnan(s.accuracy));
    assert_true(isnan(s.e2e[2].value) && isnan(s.e2e[2].lo) && isnan(s.e2e[2].hi));
    assert_true(isnan(s.send_err_p50_ms));
    assert_int_equal(s.meets_slo, -1);
    assert_int_equal(s.saturated, -1);
    /* an open loop's rates do not depend on the window; a closed loop's (no scheduled
     * times) are per the window: 12 measured over 8 s, and NaN without a window */
    assert_int_equal(slm_load_level_summarise(LEVEL, NLEVEL, 0.0, NAN, &slo, 100, 1, &s), 0);
    close_to(s.achieved_rps, 10.018214936247723);
    slm_load_req closed[NLEVEL];
    memcpy(closed, LEVEL, sizeof closed);
    for (size_t i = 0; i < NLEVEL; i++)
        closed[i].scheduled_ms = NAN;
    assert_int_equal(slm_load_level_summarise(closed, NLEVEL, 8000.0, NAN, &slo, 100, 1, &s), 0);
    close_to(s.achieved_rps, 1.5);
    close_to(s.throughput_rps, 1.125); /* 9 answered / 8 s */
    assert_int_equal(slm_load_level_summarise(closed, NLEVEL, 0.0, NAN, &slo, 100, 1, &s), 0);
    assert_true(isnan(s.achieved_rps) && isnan(s.goodput_rps) && isnan(s.output_tok_s));
    assert_int_equal(slm_load_level_summarise(LEVEL, NLEVEL, 0.0, NAN, &slo, 100, 1, &s), 0);
    /* the p99 of 9 answered: one-sided (no upper bound) */
    assert_true(isnan(s.e2e[2].hi) && !isnan(s.e2e[2].lo));
    assert_int_equal(slm_load_level_summarise(LEVEL, NLEVEL, 1.0, NAN, NULL, 100, 1, &s), -1);
    slm_slo bad = {NAN, NAN, NAN, 100.0, 100.0};
    assert_int_equal(slm_load_level_summarise(LEVEL, NLEVEL, 1.0, NAN, &bad, 100, 1, &s), -1);
    /* a TTFT limit where no TTFT was measured (not streamed): not met, not surely failed */
    slm_load_req nott[NLEVEL];
    memcpy(nott, LEVEL, sizeof nott);
    for (size_t i = 0; i < NLEVEL; i++)
        nott[i].ttft_ms = NAN;
    slm_slo ttft = {200.0, NAN, NAN, NAN, 50.0};
    assert_int_equal(slm_load_level_summarise(nott, NLEVEL, 8000.0, NAN, &ttft, 100, 1, &s), 0);
    assert_int_equal(s.meets_slo, 0);
    assert_int_equal(s.meets_slo_surely, 0);
    assert_int_equal(s.fails_slo_surely, 0);
    close_to(s.goodput_share, 0.0);
    /* a TPOT limit where every answer has one token: met (no gap to exceed) */
    for (size_t i = 0; i < NLEVEL; i++)
        nott[i].tpot_ms = NAN;
    slm_slo tpot = {NAN, NAN, 1.0, NAN, 50.0};
    assert_int_equal(slm_load_level_summarise(nott, NLEVEL, 8000.0, NAN, &tpot, 100, 1, &s), 0);
    assert_int_equal(s.meets_slo, 1);
    close_to(s.goodput_share, 0.75);
}

/* One answered request, infinities and NaN (treated as missing, as slm_percentile does),
 * equal values (a zero-width interval), a negative scheduled time (a level's t0 after the
 * first due time), a percentile out of range, no values at all. */
static void odd_inputs(void **state)
{
    (void)state;
    slm_slo slo = {NAN, NAN, NAN, 1000.0, 90.0};
    slm_load_level_stats s;
    slm_load_req one = {M, OK, -5, -4, 10, 50, NAN, NAN, NAN, 1, 1, 1};
    assert_int_equal(slm_load_level_summarise(&one, 1, 1000.0, 1, &slo, 50, 3, &s), 0);
    close_to(s.e2e[0].value, 50);
    assert_true(isnan(s.e2e[0].lo) && isnan(s.e2e[0].hi)); /* 0.5^1 > 0.025 both ways */
    assert_true(isnan(s.tpot[0].value));
    assert_int_equal(s.tpot[0].n, 0);
    close_to(s.send_err_p50_ms, 1);
    slm_pct_ci ci;
    const double v[8] = {INFINITY, 7, 7, 7, -INFINITY, NAN, 7, 7};
    assert_int_equal(slm_load_percentile_ci(v, 8, 50, 100, 1, &ci), 0);
    assert_int_equal(ci.n, 5);
    close_to(ci.value, 7);
    assert_true(isnan(ci.lo) && isnan(ci.hi)); /* n = 5: 0.5^5 = 0.031 > 0.025 */
    const double w[6] = {7, 7, 7, 7, 7, 7};
    assert_int_equal(slm_load_percentile_ci(w, 6, 50, 100, 1, &ci), 0);
    assert_true(ci.lo == 7 && ci.hi == 7); /* n = 6: 0.5^6 = 0.016, both ends defined */
    assert_int_equal(slm_load_percentile_ci(w, 6, 101, 100, 1, &ci), -1);
    assert_true(isnan(ci.value));
    assert_int_equal(slm_load_percentile_ci(NULL, 0, 50, 100, 1, &ci), 0);
    assert_true(isnan(ci.value) && ci.n == 0);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The counting trick of loadstats.c against the plain bootstrap: the same slm_rng stream
 * (indices into the ascending finite values, as slm_bootstrap_ci draws them), each
 * resample copied, sorted and given to slm_percentile_sorted. */
static void bootstrap_matches_naive(void **state)
{
    (void)state;
    enum { N = 38, REPS = 300 };
    double x[N + 1], all[N], rep[REPS], tmp[N];
    uint64_t s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        all[i] = x[i] = (double)(s >> 40) / 1000.0 + (i % 5 == 0 ? 7.0 : 0.0);
    }
    all[N - 1] = x[N - 1] = all[3]; /* a tie */
    x[N] = NAN;                      /* skipped */
    qsort(all, N, sizeof *all, cmp_double);
    const double ps[4] = {50, 90, 99, 2.5};
    for (int k = 0; k < 4; k++) {
        slm_rng rng;
        slm_rng_seed(&rng, 99);
        for (int r = 0; r < REPS; r++) {
            for (int i = 0; i < N; i++)
                tmp[i] = all[slm_rng_below(&rng, N)];
            qsort(tmp, N, sizeof *tmp, cmp_double);
            rep[r] = slm_percentile_sorted(tmp, N, ps[k]);
        }
        qsort(rep, REPS, sizeof *rep, cmp_double);
        slm_pct_ci ci;
        assert_int_equal(slm_load_percentile_ci(x, N + 1, ps[k], REPS, 99, &ci), 0);
        assert_int_equal(ci.n, N);
        close_to(ci.value, slm_percentile_sorted(all, N, ps[k]));
        double q = ps[k] / 100;
        if (pow(q, N) > 0.025)
            assert_true(isnan(ci.hi));
        else
            close_to(ci.hi, slm_percentile_sorted(rep, REPS, 97.5));
        if (pow(1 - q, N) > 0.025)
            assert_true(isnan(ci.lo));
        else
            close_to(ci.lo, slm_percentile_sorted(rep, REPS, 2.5));
    }
}

/* ---- saturation: an open loop against `slots` FIFO servers of service time svc_ms
 * (+-20% from this file's own LCG), at most `cap` requests in flight; request i is due at
 * i/rate, sent when due or when one in flight ends. The first `warm` are warm-up. */
static slm_load_req *simulate(int n, double rate, int slots, double svc_ms, int cap, int warm)
{
    slm_load_req *r = calloc((size_t)n, sizeof *r);
    double *end = calloc((size_t)n, sizeof *end), *free_at = calloc((size_t)slots, sizeof *free_at);
    assert_true(r && end && free_at);
    uint64_t s = 777;
    for (int i = 0; i < n; i++) {
        double due = i * 1000.0 / rate, sent = due;
        if (i >= cap) { /* the cap: wait for the cap-th latest end among those before */
            double *e = malloc((size_t)i * sizeof *e);
            memcpy(e, end, (size_t)i * sizeof *e);
            qsort(e, (size_t)i, sizeof *e, cmp_double);
            sent = fmax(due, e[i - cap]);
            free(e);
        }
        int k = 0;
        for (int j = 1; j < slots; j++)
            if (free_at[j] < free_at[k])
                k = j;
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double svc = svc_ms * (0.8 + 0.4 * (double)(s >> 11) / 9007199254740992.0);
        double start = fmax(sent, free_at[k]);
        free_at[k] = end[i] = start + svc;
        r[i] = (slm_load_req){i < warm ? W : M, OK, due, sent, start - sent + 20, end[i] - sent,
                              5, 9, 5, 40, 1, 1};
    }
    free(end);
    free(free_at);
    return r;
}

static int sat_of(int n, double rate, int slots, double svc, int cap, char *why, size_t wl)
{
    slm_load_req *r = simulate(n, rate, slots, svc, cap, 20);
    int s = slm_load_saturated(r, (size_t)n, rate, 0.9, why, wl);
    printf("# rate %g slots %d svc %g cap %d: %d %s\n", rate, slots, svc, cap, s, why);
    free(r);
    return s;
}

static void saturation_synthetic(void **state)
{
    (void)state;
    char why[200];
    /* stable: 5/s against 4 slots of 200 ms (a quarter used) */
    assert_int_equal(sat_of(200, 5, 4, 200, 8, why, sizeof why), 0);
    assert_string_equal(why, "");
    /* slow but keeping up: 1.5 s answers, 16 slots at 5/s (half used) */
    assert_int_equal(sat_of(200, 5, 16, 1500, 32, why, sizeof why), 0);
    /* at the in-flight cap: 20/s offered, 10/s served: sends are held back */
    assert_int_equal(sat_of(200, 20, 4, 400, 4, why, sizeof why), 1);
    assert_non_null(strstr(why, "of the offered"));
    /* no cap: every request leaves on time, the server's queue grows (in the TTFT; in
     * the E2E where no TTFT was measured) */
    assert_int_equal(sat_of(200, 12, 4, 400, 1000, why, sizeof why), 1);
    assert_non_null(strstr(why, "time to first token grows"));
    slm_load_req *nt = simulate(200, 12, 4, 400, 1000, 20);
    for (int i = 0; i < 200; i++)
        nt[i].ttft_ms = NAN;
    assert_int_equal(slm_load_saturated(nt, 200, 12, 0.9, why, sizeof why), 1);
    assert_non_null(strstr(why, "end-to-end latency grows"));
    free(nt);
    /* 10.5/s offered, 10/s served, cap 4: the ratio (0.95) passes, the lateness grows */
    assert_int_equal(sat_of(300, 10.5, 4, 400, 4, why, sizeof why), 1);
    assert_non_null(strstr(why, "send lateness grows"));
    /* closed loop (no schedule), too few requests, a bad ratio: undefined */
    slm_load_req *r = simulate(30, 5, 4, 200, 8, 0);
    assert_int_equal(slm_load_saturated(r, 9, 5, 0.9, why, sizeof why), -1);
    assert_int_equal(slm_load_saturated(r, 30, 5, 1.5, why, sizeof why), -1);
    for (int i = 0; i < 30; i++)
        r[i].scheduled_ms = NAN;
    assert_int_equal(slm_load_saturated(r, 30, 5, 0.9, why, sizeof why), -1);
    free(r);
}

/* The slope and its bound against numpy on 12 points (docstring at the top). */
static void lateness_slope_matches_numpy(void **state)
{
    (void)state;
    const double late[12] = {0, 3, 1, 40, 90, 120, 180, 200, 260, 310, 330, 400};
    slm_load_req r[12];
    for (int i = 0; i < 12; i++)
        r[i] = (slm_load_req){M, OK, i * 100.0, i * 100.0 + late[i], 10, 50, 5, 5, 5, 9, 1, 1};
    char why[200];
    /* the sends span 1500 ms for 1100 scheduled: ratio 0.73 — saturated by the ratio */
    assert_int_equal(slm_load_saturated(r, 12, 10, 0.9, why, sizeof why), 1);
    assert_non_null(strstr(why, "0.733 of the offered"));
    /* with a ratio floor it cannot trip, the lateness regression speaks */
    assert_int_equal(slm_load_saturated(r, 12, 10, 0.5, why, sizeof why), 1);
    double g, b, lb;
    assert_int_equal(sscanf(why, "send lateness grows %lf ms over the level (slope %lf ms/ms, "
                                 "lower 95%% bound %lf)", &g, &b, &lb), 3);
    assert_true(fabs(g - 422.92307692307685) < 0.5);        /* printed %.0f */
    assert_true(fabs(b - 0.3844755244755244) < 5e-5);       /* printed %.4g */
    assert_true(fabs(lb - 0.3257848287542051) < 5e-5);       /* AR(1)-widened, rho 0.244 */
}

static slm_load_level_stats lvl(double rate, int meets, int sure_met, int sure_fail, int sat)
{
    slm_load_level_stats s;
    memset(&s, 0, sizeof s);
    s.offered_rps = rate;
    s.meets_slo = meets;
    s.meets_slo_surely = sure_met;
    s.fails_slo_surely = sure_fail;
    s.saturated = sat;
    return s;
}

static void best_rate(void **state)
{
    (void)state;
    slm_load_best b;
    /* synchronous (no rate) first, then 1..5/s: surely met to 2, met at 3, undecided 4,
     * surely failed at 5 */
    slm_load_level_stats sweep[] = {lvl(NAN, 1, 1, 0, -1), lvl(1, 1, 1, 0, 0), lvl(2, 1, 1, 0, 0),
                                    lvl(3, 1, 0, 0, 0), lvl(4, 0, 0, 0, 0), lvl(5, 0, 0, 1, 0)};
    assert_int_equal(slm_load_best_rate(sweep, 6, &b), 0);
    close_to(b.rate, 3);
    close_to(b.lo, 2);
    close_to(b.hi, 5);
    assert_int_equal((long)b.level, 3);
    /* saturation counts as a sure failure and is never the best rate */
    sweep[4] = lvl(4, 1, 1, 0, 1);
    assert_int_equal(slm_load_best_rate(sweep, 6, &b), 0);
    close_to(b.rate, 3);
    close_to(b.hi, 4);
    /* the sweep never failed surely: unbounded above; order does not matter */
    slm_load_level_stats up[] = {lvl(8, 1, 0, 0, 0), lvl(4, 1, 1, 0, 0)};
    assert_int_equal(slm_load_best_rate(up, 2, &b), 0);
    close_to(b.rate, 8);
    close_to(b.lo, 4);
    assert_true(isnan(b.hi));
    /* nothing meets: rate and lo NaN, hi the lowest sure failure */
    slm_load_level_stats none[] = {lvl(2, 0, 0, 0, 0), lvl(6, 0, 0, 1, 0), lvl(3, 0, 0, 1, 0)};
    assert_int_equal(slm_load_best_rate(none, 3, &b), 0);
    assert_true(isnan(b.rate) && isnan(b.lo));
    close_to(b.hi, 3);
    assert_true(b.level == (size_t)-1);
    assert_int_equal(slm_load_best_rate(NULL, 1, &b), -1);
    assert_int_equal(slm_load_best_rate(NULL, 0, &b), 0);
    assert_true(isnan(b.rate));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(level_matches_numpy),
        cmocka_unit_test(undefined_is_nan),
        cmocka_unit_test(odd_inputs),
        cmocka_unit_test(bootstrap_matches_naive),
        cmocka_unit_test(saturation_synthetic),
        cmocka_unit_test(lateness_slope_matches_numpy),
        cmocka_unit_test(best_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
