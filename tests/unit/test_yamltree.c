/*
 * test_yamltree.c — the YAML tree: nodes with their lines, typed getters and their
 * messages, unknown keys, and what is refused (syntax errors, anchors).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "yamltree.h"

#include <string.h>

static char err[256];

static slm_yaml *parse(const char *text)
{
    slm_yaml *y = NULL;
    err[0] = '\0';
    if (slm_yaml_parse("c.yaml", text, strlen(text), &y, err, sizeof err))
        return NULL;
    return y;
}

static void test_tree(void **state)
{
    slm_yaml *y = parse("a: 1\nlist:\n  - x\n  - {k: v}\nmap: {b: true}\n");
    assert_non_null(y);
    const slm_ynode *r = y->root;
    assert_int_equal(r->kind, SLM_Y_MAP);
    assert_int_equal(r->n, 3);
    assert_string_equal(slm_ymap_str(r, "a"), "1");
    const slm_ynode *l = slm_ymap_get(r, "list");
    assert_int_equal(l->kind, SLM_Y_SEQ);
    assert_int_equal(l->n, 2);
    assert_int_equal(l->items[1]->kind, SLM_Y_MAP);
    assert_int_equal(l->items[1]->line, 4);
    assert_null(slm_ymap_str(r, "list")); /* not a scalar */
    assert_null(slm_ymap_get(r, "nope"));
    assert_null(slm_ymap_get(l, "x"));    /* not a map */
    slm_yaml_free(y);
    y = parse("");
    assert_non_null(y);
    assert_null(y->root);
    slm_yaml_free(y);
}

static void test_getters(void **state)
{
    slm_yaml *y = parse("n: -12\nd: 0.25\nb: off\nbad: x\nl: [1]\n");
    const slm_ynode *r = y->root;
    long n;
    double d;
    int b;
    assert_int_equal(slm_ymap_long(y, r, "n", &n, err, sizeof err), 0);
    assert_int_equal(n, -12);
    assert_int_equal(slm_ymap_double(y, r, "d", &d, err, sizeof err), 0);
    assert_true(d == 0.25);
    assert_int_equal(slm_ymap_bool(y, r, "b", &b, err, sizeof err), 0);
    assert_int_equal(b, 0);
    assert_int_equal(slm_ymap_long(y, r, "absent", &n, err, sizeof err), 1);
    assert_int_equal(n, -12);
    assert_int_equal(slm_ymap_long(y, r, "bad", &n, err, sizeof err), -1);
    assert_string_equal(err, "c.yaml:4: key 'bad': expected an integer, got 'x'");
    assert_int_equal(slm_ymap_bool(y, r, "bad", &b, err, sizeof err), -1);
    assert_string_equal(err, "c.yaml:4: key 'bad': expected true or false, got 'x'");
    assert_int_equal(slm_ymap_double(y, r, "l", &d, err, sizeof err), -1);
    assert_string_equal(err, "c.yaml:5: key 'l': expected a number");
    static const char *const allowed[] = {"n", "d", "b", "l", NULL};
    assert_int_equal(slm_ymap_check_keys(y, r, allowed, "the test", err, sizeof err), -1);
    assert_string_equal(err, "c.yaml:4: unknown key 'bad' in the test");
    slm_yaml_free(y);
}

static void test_refused(void **state)
{
    assert_null(parse("a: [1, 2\nb: 3\n"));
    assert_non_null(strstr(err, "c.yaml:"));
    assert_null(parse("a: &x 1\nb: *x\n"));
    assert_non_null(strstr(err, "c.yaml:"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
