/*
 * test_structured.c — judging JSON answers against a label (each failure kind, recovery
 * from surrounding text, field equality) and the grammar and schema of a field list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "structured.h"

#include <stdlib.h>
#include <string.h>

static char *PRIO_VALUES[] = {"low", "high"};
static const slm_field_def FIELDS[] = {
    {.name = "priority", .type = SLM_FIELD_ENUM, .values = PRIO_VALUES, .n_values = 2},
    {.name = "amount", .type = SLM_FIELD_NUMBER},
    {.name = "product", .type = SLM_FIELD_STRING},
    {.name = "tags", .type = SLM_FIELD_LIST},
};
#define GOLD "{\"priority\": \"high\", \"amount\": 12.5, \"product\": \"router\", \"tags\": [\"a\", \"b\"]}"

/* Judges text; checks validity, correctness and the failure kinds. */
static void judge(const char *text, int truncated, int valid, int correct, const char *kinds)
{
    slm_judgement j;
    slm_judge_json(text, truncated, FIELDS, 4, GOLD, &j);
    if (j.valid != valid || j.correct != correct || strcmp(j.kinds, kinds))
        fail_msg("'%s': valid %d correct %d kinds '%s', expected %d %d '%s'", text, j.valid,
                 j.correct, j.kinds, valid, correct, kinds);
    free(j.pred);
}

static void test_judge(void **state)
{
    judge("{\"priority\": \"high\", \"amount\": 12.5, \"product\": \" router \", "
          "\"tags\": [\"b\", \"a\"]}", 0, 1, 1, "");
    judge("  ", 0, 0, 0, SLM_FAIL_EMPTY);
    judge("{\"priority\": \"hi", 1, 0, 0, SLM_FAIL_TRUNCATED);
    judge("{\"priority\": \"hi", 0, 0, 0, SLM_FAIL_INVALID_JSON);
    judge("Sure! {\"priority\": \"high\", \"amount\": 12.5, \"product\": \"router\", "
          "\"tags\": [\"a\", \"b\"]} Done.", 0, 0, 1, SLM_FAIL_EXTRA_TEXT);
    judge("[1, 2]", 0, 0, 0, SLM_FAIL_SCHEMA);
    judge("{\"priority\": \"urgent\", \"amount\": 12.5, \"product\": \"router\", "
          "\"tags\": [\"a\", \"b\"]}", 0, 0, 0, SLM_FAIL_SCHEMA);
    judge("{\"priority\": \"high\", \"product\": \"router\", \"tags\": [\"a\", \"b\"]}", 0, 0, 0,
          SLM_FAIL_MISSING);
    judge("{\"priority\": \"high\", \"amount\": \"12.5\", \"product\": \"router\", "
          "\"tags\": [\"a\", \"b\"]}", 0, 0, 0, SLM_FAIL_TYPE);
    judge("{\"priority\": \"low\", \"amount\": null, \"product\": null, \"tags\": []}", 0, 1, 0,
          "");
}

static void test_judge_pred(void **state)
{
    slm_judgement j;
    slm_judge_json("x {\"priority\": \"low\", \"amount\": 1, \"product\": \"p\", \"tags\": []}",
                   0, FIELDS, 4, GOLD, &j);
    assert_string_equal(j.pred, "{\"priority\":\"low\",\"amount\":1,\"product\":\"p\",\"tags\":[]}");
    free(j.pred);
    slm_judge_json("", 0, FIELDS, 4, GOLD, &j);
    assert_null(j.pred);
}

static void test_field_equal(void **state)
{
    assert_true(slm_json_field_equal("{\"a\": 1.0}", "{\"a\": 1}", "a"));
    assert_true(slm_json_field_equal("{\"a\": \" x\"}", "{\"a\": \"x\"}", "a"));
    assert_true(slm_json_field_equal("{\"a\": null}", "{\"a\": null}", "a"));
    assert_false(slm_json_field_equal("{\"a\": null}", "{\"a\": 0}", "a"));
    assert_false(slm_json_field_equal("{\"a\": 1.001}", "{\"a\": 1}", "a"));
}

static void test_grammar_and_schema(void **state)
{
    char *g = slm_fields_grammar(FIELDS, 4);
    assert_non_null(g);
    assert_non_null(strstr(g, "root"));
    assert_non_null(strstr(g, "priority"));
    assert_non_null(strstr(g, "high"));
    free(g);
    char *s = slm_fields_schema(FIELDS, 4);
    assert_non_null(strstr(s, "\"required\""));
    assert_non_null(strstr(s, "\"additionalProperties\": false") ||
                    strstr(s, "\"additionalProperties\":false"));
    assert_non_null(strstr(s, "\"enum\""));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_judge),
        cmocka_unit_test(test_judge_pred),
        cmocka_unit_test(test_field_equal),
        cmocka_unit_test(test_grammar_and_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
