/*
 * test_load_report.c — the load test's report section (reports/load_report.c) on synthetic
 * levels: the Markdown table's cells (rates, shares, percentiles with intervals, "–" for
 * every undefined number and interval end, escaped names, the best rate line), the JSON
 * (null for NaN, true/false/null verdicts), the charts (written with their .dat and .gp;
 * drawn when gnuplot runs, skipped with a reason when there is nothing to draw or gnuplot
 * is missing) and the HTML (figures embedded, skipped charts said).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "load_report.h"

#define DIR "/tmp/slm_test_load_report"

static slm_pct_ci ci(double v, double lo, double hi, long n)
{
    slm_pct_ci p = {v, lo, hi, n};
    return p;
}

/* Stats by hand, so every cell is known; intervals with undefined ends where the rule of
 * loadstats.h puts them (a p99 of 120 has no upper bound). */
static slm_load_level_stats stats(double offered, double achieved, int meets, int sure, int sat)
{
    slm_load_level_stats s;
    memset(&s, 0, sizeof s);
    s.offered_rps = offered;
    s.achieved_rps = achieved;
    s.throughput_rps = achieved * 0.98;
    s.output_tok_s = achieved * 20;
    s.goodput_rps = achieved * 0.95;
    s.goodput_share = 0.95;
    for (int k = 0; k < 3; k++) {
        s.ttft[k] = ci(120 + 90 * k, 110 + 80 * k, k == 2 ? NAN : 130 + 100 * k, 120);
        s.e2e[k] = ci(800 + 300 * k, 700 + 250 * k, k == 2 ? NAN : 900 + 350 * k, 120);
        s.itl[k] = s.tpot[k] = ci(NAN, NAN, NAN, 0);
    }
    s.send_err_p50_ms = 0.4;
    s.send_err_p99_ms = NAN;
    s.error_rate = 0.0125;
    s.timeout_rate = 0;
    s.accuracy = 0.8125;
    s.invalid_rate = NAN;
    s.n_measured = 120;
    s.n_answered = 118;
    s.n_errors = 2;
    s.meets_slo = meets;
    s.meets_slo_surely = sure;
    s.fails_slo_surely = meets == 0;
    s.saturated = sat;
    return s;
}

static slm_load_req REQ[6] = {
    {SLM_LOAD_WARMUP, SLM_LOAD_OK, 0, 0, 5, 50, 1, 1, 1, 3, 1, 1},
    {SLM_LOAD_MEASURE, SLM_LOAD_OK, 10, 10, 20, 300, 1, 1, 1, 3, 1, 1},
    {SLM_LOAD_MEASURE, SLM_LOAD_OK, 20, 21, 40, 500, 1, 1, 1, 3, 1, 1},
    {SLM_LOAD_MEASURE, SLM_LOAD_OK, 30, 30, 10, 200, 1, 1, 1, 3, 1, 1},
    {SLM_LOAD_MEASURE, SLM_LOAD_ERROR, 40, 40, NAN, 30, NAN, NAN, NAN, 0, -1, -1},
    {SLM_LOAD_MEASURE, SLM_LOAD_OK, 50, 50, NAN, 250, 1, 1, 1, 3, 1, 1},
};

static slm_load_report_level LA[3], LB[1];
static slm_load_report_cand CANDS[2];

static slm_load_report make(void)
{
    LA[0] = (slm_load_report_level){"synchronous", NAN, 0, stats(NAN, 1.5, 1, 1, -1), NULL,
                                    REQ, 6};
    LA[1] = (slm_load_report_level){"constant", 2, 8, stats(2, 1.98, 1, 1, 0), NULL, REQ, 6};
    LA[2] = (slm_load_report_level){"poisson", 4, 8, stats(4, 3.1, 0, 0, 1),
                                    "achieved 3.1/s is 0.775 of the offered 4/s (< 0.90)", REQ,
                                    4};
    slm_load_level_stats none;
    slm_slo slo = {500, NAN, NAN, 2000, 99};
    slm_load_level_summarise(NULL, 0, 10000, 1, &slo, 10, 1, &none); /* everything undefined */
    LB[0] = (slm_load_report_level){"constant", 1, 0, none, NULL, NULL, 0};
    CANDS[0] = (slm_load_report_cand){"nb-q8", LA, 3, {2, 2, 4, 1}};
    CANDS[1] = (slm_load_report_cand){"b|<x>", LB, 1, {NAN, NAN, NAN, (size_t)-1}};
    slm_load_report r = {CANDS, 2, slo};
    return r;
}

static void markdown(void **state)
{
    (void)state;
    slm_load_report r = make();
    slm_buf b = {0};
    slm_load_report_markdown(&b, &r);
    const char *md = b.data;
    printf("%s", md);
    assert_non_null(strstr(md, "## Load test\n\nSLO: TTFT ≤ 500 ms, E2E ≤ 2000 ms — per request "
                               "for goodput, at the level's p99 for \"meets\"."));
    assert_non_null(strstr(md, "### nb-q8\n"));
    assert_non_null(strstr(md, "| TTFT p50 ms | TTFT p99 ms | E2E p50 ms | E2E p99 ms |"));
    assert_non_null(strstr(md, "| 1 | synchronous | – | 1.5 | 1.425 | 95.0% | "
                               "120 [110, 130] | 300 [270, –] | 800 [700, 900] | "
                               "1400 [1200, –] | 81.2% | – | 1.2% | 0.0% | 120 | "
                               "yes (surely) | – |\n"));
    assert_non_null(strstr(md, "| 3 | poisson (cap 8) | 4 | 3.1 | 2.945 | 95.0% |"));
    assert_non_null(strstr(md, "| no (surely) | **yes** |\n"));
    assert_non_null(strstr(md, "Level 3 saturated: achieved 3.1/s is 0.775 of the offered 4/s "
                               "(&lt; 0.90).\n"));
    assert_non_null(strstr(md, "Highest offered rate meeting the SLO: **2/s** (level 2); "
                               "interval: surely met up to 2/s, surely failed from 4/s"));
    /* the second candidate: its name escaped, every number undefined */
    assert_non_null(strstr(md, "### b\\|&lt;x&gt;\n"));
    assert_null(strstr(md, "b|<x>"));
    /* (nothing measured in a 10 s window: 0/s, shares 0/0 undefined) */
    assert_non_null(strstr(md, "| 1 | constant | 1 | 0 | 0 | – | – | – | – | – | – | – | – | – "
                               "| 0 | – | – |\n"));
    assert_non_null(strstr(md, "Highest offered rate meeting the SLO: **none** of the levels; "
                               "interval: surely met up to –/s, surely failed from –/s"));
    assert_null(strstr(md, "nan"));
    slm_buf_free(&b);
}

static void json(void **state)
{
    (void)state;
    slm_load_report r = make();
    slm_buf b = {0};
    assert_int_equal(slm_load_report_json(&b, &r), 0);
    json_error_t e;
    json_t *root = json_loads(b.data, 0, &e);
    assert_non_null(root);
    assert_true(json_is_null(json_object_get(json_object_get(root, "slo"), "itl_ms")));
    assert_true(json_real_value(json_object_get(json_object_get(root, "slo"), "e2e_ms")) == 2000);
    json_t *cands = json_object_get(root, "candidates");
    assert_int_equal(json_array_size(cands), 2);
    json_t *a = json_array_get(cands, 0), *lv = json_object_get(a, "levels");
    json_t *l1 = json_array_get(lv, 0), *l3 = json_array_get(lv, 2);
    assert_true(json_is_null(json_object_get(l1, "offered_rps")));
    assert_true(json_real_value(json_object_get(l1, "achieved_rps")) == 1.5);
    json_t *p99 = json_object_get(json_object_get(l1, "ttft_ms"), "p_slo");
    assert_true(json_real_value(json_object_get(p99, "value")) == 300);
    assert_true(json_is_null(json_object_get(p99, "hi")));
    assert_true(json_is_null(json_object_get(l1, "send_err_p99_ms")));
    assert_true(json_is_null(json_object_get(l1, "saturated")));
    assert_true(json_is_true(json_object_get(l1, "meets_slo")));
    assert_true(json_is_false(json_object_get(l3, "meets_slo")));
    assert_true(json_is_true(json_object_get(l3, "saturated")));
    assert_string_equal(json_string_value(json_object_get(l3, "saturated_why")),
                        "achieved 3.1/s is 0.775 of the offered 4/s (< 0.90)");
    json_t *best = json_object_get(a, "best_rate");
    assert_int_equal(json_integer_value(json_object_get(best, "level")), 2);
    assert_true(json_real_value(json_object_get(best, "hi")) == 4);
    json_t *bb = json_object_get(json_array_get(cands, 1), "best_rate");
    assert_true(json_is_null(json_object_get(bb, "rate")));
    assert_true(json_is_null(json_object_get(bb, "level")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(cands, 1), "name")),
                        "b|<x>");
    json_t *bl = json_array_get(json_object_get(json_array_get(cands, 1), "levels"), 0);
    assert_true(json_is_null(json_object_get(bl, "accuracy")));
    assert_true(json_is_null(json_object_get(bl, "meets_slo")));
    json_decref(root);
    slm_buf_free(&b);
}

static int exists(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, DIR "/plots/%s", name);
    return access(path, R_OK) == 0;
}

static const slm_plot *find(const slm_plots_result *res, const char *name)
{
    for (size_t i = 0; i < res->n; i++)
        if (!strcmp(res->plots[i].name, name))
            return &res->plots[i];
    return NULL;
}

static void charts_and_html(void **state)
{
    (void)state;
    slm_load_report r = make();
    int have_gnuplot = system("command -v gnuplot >/dev/null 2>&1") == 0;
    assert_int_equal(system("rm -rf " DIR), 0);
    slm_plots_result res = {0};
    char *missing = NULL, err[256];
    assert_int_equal(slm_load_report_plots(&r, DIR, &res, &missing, err, sizeof err), 0);
    static const char *const drawn[] = {"load_latency", "load_goodput", "load_achieved",
                                        "load_cdf_1"};
    for (size_t i = 0; i < 4; i++) {
        const slm_plot *p = find(&res, drawn[i]);
        assert_non_null(p);
        char f[64];
        snprintf(f, sizeof f, "%s.dat", drawn[i]);
        assert_true(exists(f));
        snprintf(f, sizeof f, "%s.gp", drawn[i]);
        assert_true(exists(f));
        snprintf(f, sizeof f, "%s.svg", drawn[i]);
        if (have_gnuplot) {
            if (p->skipped)
                fail_msg("%s skipped: %s", drawn[i], p->skipped);
            assert_true(exists(f));
        } else {
            assert_non_null(p->skipped);
        }
    }
    assert_int_equal(res.n_drawn, have_gnuplot ? 4 : 0);
    const slm_plot *c2 = find(&res, "load_cdf_2");
    assert_non_null(c2);
    assert_string_equal(c2->skipped, "no answered measured request");
    assert_false(exists("load_cdf_2.dat"));
    /* the CDF data: level 1's TTFT block holds the 3 measured answered TTFTs (one NaN
     * left out, the warm-up and the error too), from 0 up to 1 */
    slm_buf html = {0};
    assert_int_equal(slm_load_report_html(&html, &r, &res, DIR), 0);
    assert_non_null(strstr(html.data, "<h2"));
    assert_non_null(strstr(html.data, "load_cdf_2 not drawn: no answered measured request"));
    if (have_gnuplot)
        assert_non_null(strstr(html.data, "id=\"fig-load_latency\""));
    assert_null(strstr(html.data, "b|<x>"));
    slm_buf_free(&html);
    FILE *f = fopen(DIR "/plots/load_cdf_1.dat", "r");
    assert_non_null(f);
    char line[256], all[4096] = "";
    while (fgets(line, sizeof line, f))
        strncat(all, line, sizeof all - strlen(all) - 1);
    fclose(f);
    assert_non_null(strstr(all, "# block 0: ttft\n10 0\n10 0.3333333333\n20 0.6666666667\n40 1\n"));
    slm_plots_result_free(&res);
    free(missing);
    assert_int_equal(system("rm -rf " DIR), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(markdown),
        cmocka_unit_test(json),
        cmocka_unit_test(charts_and_html),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
