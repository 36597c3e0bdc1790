/*
 * test_prompt.c — the prompt template: placeholders checked with their line, rendered
 * byte for byte, and anything else left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "prompt.h"

#include <stdlib.h>
#include <string.h>

static const char *const LABELS[] = {"billing", "bug", "other"};

static void test_render(void **state)
{
    char *s = slm_prompt_render("[{{id}}] {{text}}\nChoose: {{labels}}\n{{text}}", "hi {{id}}",
                                "42", LABELS, 3);
    /* the text's own braces are data, never expanded */
    assert_string_equal(s, "[42] hi {{id}}\nChoose: billing, bug, other\nhi {{id}}");
    free(s);
    s = slm_prompt_render("{{text}} { } {x} }}{", "t", "i", LABELS, 0);
    assert_string_equal(s, "t { } {x} }}{");
    free(s);
    s = slm_prompt_render("{{text}}", "", "", LABELS, 3);
    assert_string_equal(s, "");
    free(s);
}

static void test_check(void **state)
{
    char err[256];
    assert_int_equal(slm_prompt_check("Q: {{text}}\nA:", "p.txt", err, sizeof err), 0);
    assert_int_equal(slm_prompt_check("line 1\n{{text}} {{bogus}}", "p.txt", err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "p.txt:2: unknown placeholder '{{bogus}}'"));
    assert_int_equal(slm_prompt_check("{{labels}} only", "p.txt", err, sizeof err), -1);
    assert_non_null(strstr(err, "p.txt: the template has no {{text}} placeholder"));
    assert_int_equal(slm_prompt_check("{{text}} {{ text }}", "p.txt", err, sizeof err), -1);
    assert_int_equal(slm_prompt_check("{{text}} {{unclosed", "p.txt", err, sizeof err), -1);
    assert_non_null(strstr(err, "p.txt:1: unknown placeholder '{{unclosed'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
