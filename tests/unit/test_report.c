/*
 * test_report.c — the Markdown report of the golden fixture run, its digits taken from
 * the field table, and the rule that every metric the code stores has a row in that table
 * (aggregation rerun over the fixture's predictions, then every stored name looked up).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aggregate.h"
#include "fields.h"
#include "fixture_db.h"
#include "report.h"
#include "store_reports.h"

#define DB "/tmp/slm_test_report.db"

/* The fixture's Markdown report is the golden file, byte for byte. */
static void markdown_golden(void **state)
{
    (void)state;
    slm_store *st = fixture_db("report/golden.sql", DB);
    assert_non_null(st);
    int64_t id = 1;
    slm_buf b = {0};
    char err[256];
    assert_int_equal(slm_report_markdown(st, &id, 1, &b, err, sizeof err), 0);
    char *want = fixture_text("report/golden.md");
    assert_non_null(want);
    assert_string_equal(b.data, want);
    /* e2e p50 and p95 (12.5 ms) shown with the table's digits */
    const slm_field *f = slm_field_find("e2e_ms_p50");
    assert_int_equal(f->digits, 4);
    assert_non_null(strstr(b.data, "| 79.2% | 79.5% | 12.50 | 12.50 | 12.50 | ok |"));
    /* column titles of the latency table from the table */
    assert_non_null(strstr(b.data, "| candidate | e2e mean | e2e p50 | e2e p90 |"));
    free(want);
    slm_buf_free(&b);
    slm_store_close(st);
    unlink(DB);
}

/* Families match only names that carry a suffix; unknown names match nothing. */
static void lookup_rules(void **state)
{
    (void)state;
    assert_non_null(slm_field_lookup("accuracy"));
    const slm_field *f = slm_field_lookup("field_accuracy.amount");
    assert_non_null(f);
    assert_string_equal(f->name, "field_accuracy.");
    assert_string_equal(slm_field_lookup("fail.truncated")->name, "fail.");
    assert_string_equal(slm_field_lookup("field_f1")->name, "field_f1");
    assert_string_equal(slm_field_lookup("field_f1.x")->name, "field_f1.");
    assert_null(slm_field_lookup("fail."));
    assert_null(slm_field_lookup("no_such_metric"));
    assert_null(slm_field_lookup("accuracy.x"));
    /* names are unique */
    for (size_t i = 0; i < slm_n_fields; i++)
        assert_ptr_equal(slm_field_find(slm_fields[i].name), &slm_fields[i]);
}

/* Aggregation (and the analysis it runs) over the fixture's predictions stores only
 * names the table knows, the new recall_spread among them. */
static void stored_names_in_table(void **state)
{
    (void)state;
    slm_store *st = fixture_db("report/golden.sql", DB);
    assert_non_null(st);
    char err[512];
    assert_int_equal(slm_aggregate_run(st, 1, err, sizeof err), 0);
    slm_cand *c;
    size_t nc;
    assert_int_equal(slm_store_candidates(st, 1, &c, &nc, err, sizeof err), 0);
    assert_true(nc > 0);
    for (size_t i = 0; i < nc; i++) {
        slm_metric_value *v;
        size_t n;
        assert_int_equal(slm_store_metrics_of(st, c[i].id, &v, &n, err, sizeof err), 0);
        assert_true(n > 50);
        for (size_t k = 0; k < n; k++) {
            if (!slm_field_lookup(v[k].name))
                fail_msg("metric '%s' is stored but has no row in fields.c", v[k].name);
        }
        slm_metric_values_free(v, n);
        double spread = slm_store_metric(st, c[i].id, "recall_spread", NULL, NULL);
        assert_true(spread >= 0 && spread <= 1);
    }
    slm_cands_free(c, nc);
    slm_store_close(st);
    unlink(DB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(markdown_golden),
        cmocka_unit_test(lookup_rules),
        cmocka_unit_test(stored_names_in_table),
    };
    return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
