/*
 * test_load.c — the load test's pure parts (load.h, loadcfg.h): times with their units,
 * the open-loop schedules against an independent computation, the number of requests a
 * level schedules, a sweep's rates and its "no room", the load: section's defaults and a
 * few of its refusals.
 *
 * Reference values: tests/unit/test_load_reference.py (/usr/bin/python3 with numpy)
 * re-implements xoshiro256** seeded by splitmix64 (as metrics.c documents slm_rng) and the
 * exponential gap -log1p(-u) / rate with u the top 53 bits / 2^53; its output is pasted
 * below as constants.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "load.h"
#include "loadcfg.h"

static void assert_near(double a, double e)
{
    if (!(fabs(a - e) <= 1e-9 * (1 + fabs(e))))
        fail_msg("got %.17g, expected %.17g", a, e);
}

static void test_duration(void **state)
{
    (void)state;
    double ms = -1;
    assert_int_equal(slm_parse_duration_ms("500ms", &ms), 0);
    assert_near(ms, 500);
    assert_int_equal(slm_parse_duration_ms("1.5s", &ms), 0);
    assert_near(ms, 1500);
    assert_int_equal(slm_parse_duration_ms("0s", &ms), 0);
    assert_near(ms, 0);
    const char *bad[] = {"30", "ms", "s", "-1s", "1.5", "2m", "1e999s", "nans", "", "5 ms x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (slm_parse_duration_ms(bad[i], &ms) == 0)
            fail_msg("'%s' was accepted as %g ms", bad[i], ms);
}

/* test_load_reference.py, seed 12345, rate 4/s: the first six due times in ms. */
static const double POISSON_12345_R4[6] = {0, 340.45718811625477, 375.28578995523128,
                                           1201.7654974505558, 1214.1523903275886,
                                           1416.675388354804};

static void test_schedule(void **state)
{
    (void)state;
    double t[6];
    slm_load_schedule(SLM_PROFILE_POISSON, 4, 12345, t, 6);
    for (int i = 0; i < 6; i++)
        assert_near(t[i], POISSON_12345_R4[i]);
    slm_load_schedule(SLM_PROFILE_CONSTANT, 4, 12345, t, 6);
    for (int i = 0; i < 6; i++)
        assert_near(t[i], 250.0 * i);
    /* the same seed, the same schedule; another seed, another */
    double u[6];
    slm_load_schedule(SLM_PROFILE_POISSON, 4, 12346, u, 6);
    assert_true(u[1] != POISSON_12345_R4[1]);
}

/* test_load_reference.py: 200000 gaps of seed 99 at rate 10/s average 100.1136739228164 ms
 * (the mean of an exponential of mean 100 ms, within its standard error 0.22). */
static void test_poisson_mean(void **state)
{
    (void)state;
    size_t n = 200001;
    double *t = malloc(n * sizeof *t);
    assert_non_null(t);
    slm_load_schedule(SLM_PROFILE_POISSON, 10, 99, t, n);
    assert_near(t[n - 1] / (double)(n - 1), 100.1136739228164);
    free(t);
}

static slm_load_cfg cfg_of(const char *load_yaml, int *rc)
{
    char *text = slm_xasprintf("evalset: x\nmode: generate\ncandidates: [{name: a}]\n"
                               "load:\n%s", load_yaml);
    slm_run_cfg *c = NULL;
    char err[512] = "";
    slm_load_cfg lc;
    memset(&lc, 0, sizeof lc);
    *rc = slm_run_cfg_parse("t.yaml", ".", text, strlen(text), &c, err, sizeof err);
    if (*rc == 0)
        *rc = slm_load_cfg_parse(c, &lc, err, sizeof err);
    slm_run_cfg_free(c);
    free(text);
    return lc;
}

static void test_n_open(void **state)
{
    (void)state;
    int rc;
    slm_load_cfg lc = cfg_of("  profile: poisson\n  rate: 4\n  duration: 2s\n", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(slm_load_n_open(&lc, SLM_PROFILE_CONSTANT, 4, 12345), 8);
    assert_int_equal(slm_load_n_open(&lc, SLM_PROFILE_CONSTANT, 3.5, 12345), 7);
    /* test_load_reference.py: seed 12345 at 4/s has 10 due times below 2000 ms */
    assert_int_equal(slm_load_n_open(&lc, SLM_PROFILE_POISSON, 4, 12345), 10);
    lc = cfg_of("  profile: constant\n  rate: 4\n  requests: 17\n", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(slm_load_n_open(&lc, SLM_PROFILE_POISSON, 4, 12345), 17);
}

static void test_sweep(void **state)
{
    (void)state;
    int rc;
    slm_load_cfg lc = cfg_of("  profile: sweep\n  concurrency: 8\n  rates: 4\n", &rc);
    assert_int_equal(rc, 0);
    slm_load_level_plan p[SLM_LOAD_MAX_LEVELS];
    assert_int_equal(slm_load_plan(&lc, p), 6);
    assert_int_equal(p[0].profile, SLM_PROFILE_SYNCHRONOUS);
    assert_int_equal(p[0].concurrency, 1);
    assert_int_equal(p[1].profile, SLM_PROFILE_CONCURRENT);
    assert_int_equal(p[1].concurrency, 8);
    assert_true(isnan(p[2].rate));
    assert_int_equal(slm_load_sweep_rates(&lc, 2, 10, p), 0);
    for (int k = 0; k < 4; k++) {
        assert_int_equal(p[2 + k].profile, SLM_PROFILE_CONSTANT);
        assert_near(p[2 + k].rate, 4 + 2 * k);
    }
    /* no room: rmax below r1 / saturation (2 / 0.9 = 2.222...) */
    assert_int_equal(slm_load_sweep_rates(&lc, 2, 2.2, p), -1);
    assert_int_equal(slm_load_sweep_rates(&lc, 2, 2.23, p), 0);
    assert_int_equal(slm_load_sweep_rates(&lc, NAN, 2.23, p), -1);
    assert_int_equal(slm_load_sweep_rates(&lc, 0, 0, p), -1);
}

static void test_cfg(void **state)
{
    (void)state;
    int rc;
    slm_load_cfg lc = cfg_of("  profile: constant\n  rate: [1, 2.5]\n", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(lc.concurrency, 64);
    assert_int_equal((int)lc.n_rates, 2);
    assert_near(lc.rates[1], 2.5);
    assert_near(lc.duration_ms, 30000);
    assert_near(lc.saturation, 0.9);
    assert_near(lc.slo.percentile, 99);
    assert_true(isnan(lc.slo.ttft_ms) && isnan(lc.slo.e2e_ms));
    lc = cfg_of("  profile: synchronous\n  requests: 5\n  slo: {e2e: 2s, tpot: 50ms}\n", &rc);
    assert_int_equal(rc, 0);
    assert_true(isnan(lc.duration_ms));
    assert_near(lc.slo.e2e_ms, 2000);
    assert_near(lc.slo.tpot_ms, 50);
    const char *bad[] = {"  profile: constant\n  rate: 0\n", "  profile: constant\n  rate: -2\n",
                         "  profile: fast\n", "  profile: synchronous\n  duration: 5\n",
                         "  profile: synchronous\n  rate: 2\n",
                         "  profile: sweep\n  concurrency: 1\n",
                         "  profile: synchronous\n  requests: 5\n  duration: 5s\n",
                         "  profile: synchronous\n  saturation: 1.5\n",
                         "  profile: synchronous\n  slo: {percentile: 100}\n",
                         "  profile: synchronous\n  speed: 3\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cfg_of(bad[i], &rc);
        if (rc == 0)
            fail_msg("accepted: %s", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration),   cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_poisson_mean), cmocka_unit_test(test_n_open),
        cmocka_unit_test(test_sweep),      cmocka_unit_test(test_cfg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
