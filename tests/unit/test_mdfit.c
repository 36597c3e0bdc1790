/*
 * test_mdfit.c — the report cut to fit a comment (mdfit.h) and the <details>
 * lines the HTML converter passes through (report_html.h): a report cut to fit a
 * pull-request comment stays within the limit, counted in characters (not bytes), cut
 * before a heading and saying so; a short one is left alone; only the exact details
 * forms become elements, their summary escaped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mdfit.h"
#include "report_html.h"

/* Code points, not bytes: "–" is 3 bytes, "é" 2. */
static void chars_are_code_points(void **state)
{
    (void)state;
    const char *s = "a–é|";
    assert_int_equal(strlen(s), 7);
    assert_int_equal(slm_md_chars(s, strlen(s)), 4);
}

/* A report of n sections "### section k" of 100 characters each (one "–" in each). */
static void sections(slm_buf *b, int n)
{
    for (int k = 0; k < n; k++) {
        slm_buf_printf(b, "### section %03d\n\n", k);
        for (int i = 0; i < 80; i++)
            slm_buf_putc(b, i == 40 ? '\n' : 'x');
        slm_buf_puts(b, " – \n\n");
    }
}

static void short_report_untouched(void **state)
{
    (void)state;
    slm_buf b = {0};
    sections(&b, 10);
    size_t len = b.len;
    assert_int_equal(slm_md_fit(&b, 65536, "report.html"), 0);
    assert_int_equal(b.len, len);
    slm_buf_free(&b);
}

static void long_report_cut_before_a_heading(void **state)
{
    (void)state;
    slm_buf b = {0};
    sections(&b, 100); /* about 10,400 characters, more bytes */
    size_t total = slm_md_chars(b.data, b.len);
    assert_true(total > 4000);
    assert_int_equal(slm_md_fit(&b, 4000, "report.html"), 1);
    size_t chars = slm_md_chars(b.data, b.len);
    assert_true(chars <= 4000);
    assert_true(chars > 4000 - 400); /* not cut more than a section and the note */
    /* the kept part ends with a whole section, then the note */
    char *note = strstr(b.data, "\n---\n**Cut here to fit a pull-request comment**");
    assert_non_null(note);
    const char *end = " – \n\n";
    assert_memory_equal(note - strlen(end), end, strlen(end));
    assert_non_null(strstr(note, "Everything is in report.html."));
    char want[64];
    snprintf(want, sizeof want, "of %zu characters shown", total);
    assert_non_null(strstr(note, want));
    slm_buf_free(&b);
}

static void details_lines(void **state)
{
    (void)state;
    slm_buf b = {0};
    slm_md_to_html("<details open><summary>Per-class <b>x</b></summary>\n\n| a | b |\n"
                   "|---|---:|\n| x | 1 |\n\n</details>\n<details onclick=\"x\">\n",
                   &b);
    assert_non_null(strstr(b.data, "<details open><summary>Per-class &lt;b&gt;x&lt;/b&gt;"
                                   "</summary>\n"));
    assert_non_null(strstr(b.data, "</details>\n"));
    /* any other form is text */
    assert_null(strstr(b.data, "<details onclick"));
    assert_non_null(strstr(b.data, "&lt;details onclick"));
    /* a table right-aligned but its first column: class rn, cells end at the next one */
    assert_non_null(strstr(b.data, "<table class=\"sortable rn\">"));
    assert_non_null(strstr(b.data, "<tr><td>x<td>1</tr>"));
    slm_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chars_are_code_points),
        cmocka_unit_test(short_report_untouched),
        cmocka_unit_test(long_report_cut_before_a_heading),
        cmocka_unit_test(details_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
