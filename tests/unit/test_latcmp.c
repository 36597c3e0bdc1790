/*
 * test_latcmp.c — the paired latency comparison (latcmp.h) against an independent
 * computation: the reference values below were computed with numpy (np.log of block
 * sums, np.median, np.sort) and the sign-test rank by summing math.comb(nb, j) / 2**nb,
 * in /usr/bin/python3, on the same inputs. Also: the false-alarm rate of the one-sided
 * test under the null (identical candidates) on simulated block noise.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "latcmp.h"
#include "pareto.h"

static void sign_rank_matches_binomial(void **state)
{
    (void)state;
    /* math.comb: largest k with sum_{j<k} C(nb, j) / 2^nb <= (1 - level) / 2 */
    assert_int_equal(slm_sign_ci_rank(5, 0.95), 0); /* 1/32 > 0.025: no interval */
    assert_int_equal(slm_sign_ci_rank(6, 0.95), 1);
    assert_int_equal(slm_sign_ci_rank(12, 0.90), 3);
    assert_int_equal(slm_sign_ci_rank(20, 0.95), 6);
    assert_int_equal(slm_sign_ci_rank(75, 0.90), 30);
    assert_int_equal(slm_sign_ci_rank(100, 0.95), 40);
}

static void paired_blocks_match_numpy(void **state)
{
    (void)state;
    const double a[] = {16.251, 18.972, 17.757, 12.252, 13.002, NAN,    10.053, 18.212,
                        17.971, 14.679, 13.03,  12.784, 12.549, 14.451, 15.045, 15.535,
                        19.955, 17.927, 16.222, 19.89,  12.153, 11.602, 16.125};
    const double b[] = {10.439, 10.357, 15.149, 14.662, 19.172, 16.292, 15.141, 14.969,
                        12.475, 10.118, 11.924, 0.0,    12.006, 13.695, 10.037, 18.3,
                        11.545, 12.676, 18.803, 15.098, 18.472, 16.397, 17.418};
    slm_lat_ratio q;
    slm_lat_ratio_paired(a, b, 23, 4, 0.90, &q);
    assert_int_equal(q.n_blocks, 6);
    assert_int_equal(q.n_pairs, 21); /* a NaN and a 0 dropped */
    assert_true(fabs(q.ratio - 1.164700265149812) < 1e-12);
    assert_true(fabs(q.lo - 0.7627134851875228) < 1e-12);
    assert_true(fabs(q.hi - 1.323405857983023) < 1e-12);

    /* one example per block: 12 blocks, k = 3 at 90% */
    slm_lat_ratio_paired(a, b, 12, 1, 0.90, &q);
    assert_int_equal(q.n_blocks, 10); /* a[5] is NaN, b[11] is 0 */
    const double a2[] = {16.251, 18.972, 17.757, 12.252, 13.002, 15.5,
                         10.053, 18.212, 17.971, 14.679, 13.03,  12.784};
    const double b2[] = {10.439, 10.357, 15.149, 14.662, 19.172, 16.292,
                         15.141, 14.969, 12.475, 10.118, 11.924, 13.3};
    slm_lat_ratio_paired(a2, b2, 12, 1, 0.90, &q);
    assert_true(fabs(q.ratio - 1.1317592135313967) < 1e-12);
    assert_true(fabs(q.lo - 0.8356295184831537) < 1e-12);
    assert_true(fabs(q.hi - 1.4507807867167426) < 1e-12);

    /* normalised: (a1/r1) / (a2/r2) by blocks of 3; 4 blocks give no interval at 90% */
    double flat[12], rev[12];
    for (int i = 0; i < 12; i++) {
        flat[i] = 14;
        rev[i] = b2[11 - i];
    }
    slm_lat_ratio_normalised(a2, b2, flat, rev, 12, 3, 0.90, &q);
    assert_int_equal(q.n_blocks, 4);
    assert_true(fabs(q.ratio - 1.1027997610287965) < 1e-12);
    assert_true(isnan(q.lo) && isnan(q.hi));

    slm_lat_ratio_paired(a, b, 0, 4, 0.90, &q);
    assert_int_equal(q.n_blocks, 0);
    assert_true(isnan(q.ratio));
}

/* xorshift64*, uniform in (0, 1) */
static double unif(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return ((double)((*s * 2685821657736338717ULL) >> 11) + 0.5) / 9007199254740992.0;
}

/* Identical candidates under bursty load: each turn's load multiplies both candidates'
 * latencies alike (what interleaving buys), plus independent per-request noise. The
 * one-sided test "ratio above 1" at α = 0.05 must fire in at most about 5% of
 * simulated runs — checked as at most 8% over 2,000 runs (a binomial 5% would exceed 8%
 * with probability below 1e-8) — while a true 25% slowdown is caught in nearly all. */
static void null_false_alarms_and_power(void **state)
{
    (void)state;
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    enum { RUNS = 2000, N = 120, TURN = 4 };
    int alarms = 0, caught = 0;
    double a[N], b[N];
    for (int run = 0; run < RUNS; run++) {
        for (int slow = 0; slow < 2; slow++) {
            for (int i = 0; i < N; i += TURN) {
                double load = unif(&s) < 0.3 ? 1.0 + 3.0 * unif(&s) : 1.0;
                for (int j = i; j < i + TURN; j++) {
                    double base = 20.0 + 10.0 * unif(&s); /* the example's own cost */
                    double jit_a = exp(0.15 * (unif(&s) - 0.5));
                    double jit_b = exp(0.15 * (unif(&s) - 0.5));
                    double burst = unif(&s) < 0.5 ? load : 1.0; /* half a turn each */
                    a[j] = base * (slow ? 1.25 : 1.0) * jit_a * burst;
                    b[j] = base * jit_b * (burst == 1.0 ? load : 1.0);
                }
            }
            slm_lat_ratio q;
            slm_lat_ratio_paired(a, b, N, TURN, 0.90, &q);
            if (!slow)
                alarms += q.lo > 1.0;
            else
                caught += q.lo > 1.10;
        }
    }
    print_message("null: %d of %d runs flagged a slowdown; 25%% slower: caught %d of %d "
                  "above +10%%\n", alarms, RUNS, caught, RUNS);
    assert_true(alarms <= RUNS * 8 / 100);
    assert_true(caught >= RUNS * 90 / 100);
}

/* The front with latency ties: B is less accurate and nominally faster; without the
 * matrix it is on the front, with "no one measurably faster" it is dominated by A; when B
 * is measurably faster than A it is back on the front. */
static void pareto_latency_ties(void **state)
{
    (void)state;
    const double acc[] = {0.80, 0.75, 0.80};
    const double lat[] = {12.0, 11.5, 12.2};
    int front[3];
    slm_pareto_front(acc, lat, NULL, 3, front);
    assert_true(front[0] && front[1] && !front[2]);
    unsigned char none[9] = {0};
    slm_pareto_front(acc, lat, none, 3, front);
    assert_true(front[0] && !front[1] && front[2]); /* A and C tie on both: both stay */
    assert_true(slm_pareto_dominates(acc, lat, none, 3, 0, 1));
    unsigned char b_faster[9] = {0};
    b_faster[1 * 3 + 0] = b_faster[1 * 3 + 2] = 1;
    slm_pareto_front(acc, lat, b_faster, 3, front);
    assert_true(front[0] && front[1] && front[2]);
    unsigned char a_faster_c[9] = {0};
    a_faster_c[0 * 3 + 2] = 1;
    slm_pareto_front(acc, lat, a_faster_c, 3, front);
    assert_true(front[0] && !front[1] && !front[2]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sign_rank_matches_binomial),
        cmocka_unit_test(paired_blocks_match_numpy),
        cmocka_unit_test(null_false_alarms_and_power),
        cmocka_unit_test(pareto_latency_ties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
