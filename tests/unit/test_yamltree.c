/*
 * test_yamltree.c — the YAML tree: nodes with their lines, typed getters and their
 * messages, unknown keys, and what is refused (syntax errors, anchors).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "slm_limits.h"
#include "util.h"
#include "yamltree.h"

#include <stdio.h>
#include <stdlib.h>
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

/* "key: " then `n` times `open` ("[" or "{a: "), unterminated */
static char *nested(const char *key, size_t n, const char *open)
{
    size_t k = strlen(key), u = strlen(open);
    char *t = slm_xmalloc(k + 2 + n * u + 2), *w = t;
    w += sprintf(w, "%s: ", key);
    for (size_t i = 0; i < n; i++, w += u)
        memcpy(w, open, u);
    strcpy(w, "\n");
    return t;
}

/* Nesting is limited (the tree is built by recursion): 64 levels load, 65 and a hostile
 * 50,000 are a clear error, also through the run config loader, never a crash. */
static void test_depth_limit(void **state)
{
    /* 63 sequences inside the root mapping: 64 levels, accepted */
    char *t = slm_xmalloc(200);
    snprintf(t, 200, "a: %.*s1%.*s\n", 63,
             "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 63,
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    slm_yaml *y = parse(t);
    if (!y)
        fail_msg("64 levels refused: %s", err);
    const slm_ynode *n = slm_ymap_get(y->root, "a");
    for (int i = 1; i < 63; i++)
        n = n->items[0];
    assert_int_equal(n->kind, SLM_Y_SEQ);
    assert_string_equal(n->items[0]->scalar, "1");
    slm_yaml_free(y);
    snprintf(t, 200, "a: %.*s1%.*s\n", 64,
             "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 64,
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    assert_null(parse(t));
    assert_string_equal(err, "c.yaml:1: nested deeper than 64 levels");
    free(t);
    const char *const opens[] = {"[", "{a: "};
    for (int i = 0; i < 2; i++) {
        t = nested("a", 50000, opens[i]);
        assert_null(parse(t));
        assert_string_equal(err, "c.yaml:1: nested deeper than 64 levels");
        slm_run_cfg *cfg = NULL;
        err[0] = '\0';
        assert_int_equal(slm_run_cfg_parse("run.yaml", ".", t, strlen(t), &cfg, err, sizeof err),
                         -1);
        assert_null(cfg);
        assert_string_equal(err, "run.yaml:1: nested deeper than 64 levels");
        free(t);
    }
}

/* A mapping of SLM_MAX_YAML_KEYS (10,000) distinct keys loads whole, its duplicate check
 * hashed (100,000 keys took minutes before it was); a duplicate as the last key is found,
 * with its line; one key more than the limit is refused at its line. */
static void test_many_keys(void **state)
{
    enum { N = SLM_MAX_YAML_KEYS };
    char *t = slm_xmalloc((size_t)N * 24 + 64), *w = t, *last = NULL;
    for (int i = 0; i < N; i++) {
        last = w;
        w += sprintf(w, "k%d: %d\n", i, i);
    }
    slm_yaml *y = parse(t);
    if (!y)
        fail_msg("%s", err);
    assert_int_equal(y->root->n, N);
    assert_string_equal(y->root->keys[N - 1], "k9999");
    assert_string_equal(slm_ymap_str(y->root, "k1234"), "1234");
    assert_int_equal(slm_ymap_get(y->root, "k9999")->line, N);
    slm_yaml_free(y);
    sprintf(w, "k%d: one too many\n", N);
    assert_null(parse(t));
    assert_string_equal(err, "c.yaml:10001: more than 10000 keys in one mapping (the limit)");
    sprintf(last, "k4711: again\n");
    assert_null(parse(t));
    assert_string_equal(err, "c.yaml:10000: duplicate key 'k4711'");
    /* keys equal to a prefix or differing only in the last byte are distinct */
    y = parse("ab: 1\na: 2\nabc: 3\nac: 4\n\"\": 5\n");
    if (!y)
        fail_msg("%s", err);
    assert_int_equal(y->root->n, 5);
    slm_yaml_free(y);
    assert_null(parse("x: {ab: 1, a: 2, ab: 3}\n"));
    assert_string_equal(err, "c.yaml:1: duplicate key 'ab'");
    free(t);
}

/* A flow list of n scalars: n + 1 nodes (the list and its items), all on line 1. */
static char *flow_list(long n)
{
    char *t = slm_xmalloc((size_t)n * 2 + 8), *w = t;
    *w++ = '[';
    for (long i = 0; i < n; i++) {
        *w++ = i ? ',' : '1';
        if (i)
            *w++ = '1';
    }
    strcpy(w, "]\n");
    return t;
}

/* SLM_MAX_YAML_NODES (100,000) nodes load; one more is refused. SLM_MAX_YAML_BYTES of text
 * parse; one byte more is refused before parsing (a comment line pads the text). */
static void test_nodes_and_bytes(void **state)
{
    char *t = flow_list(SLM_MAX_YAML_NODES - 1);
    slm_yaml *y = parse(t);
    if (!y)
        fail_msg("%s", err);
    assert_int_equal(y->root->n, SLM_MAX_YAML_NODES - 1);
    slm_yaml_free(y);
    free(t);
    t = flow_list(SLM_MAX_YAML_NODES);
    assert_null(parse(t));
    assert_string_equal(err, "c.yaml:1: more than 100000 YAML nodes in one document (the limit)");
    free(t);
    size_t n = (size_t)SLM_MAX_YAML_BYTES;
    t = slm_xmalloc(n + 2);
    memset(t, ' ', n + 1);
    memcpy(t, "a: 1\n#", 6);
    t[n - 1] = '\n';
    t[n] = '\0';
    y = parse(t);
    if (!y)
        fail_msg("%s", err);
    assert_string_equal(slm_ymap_str(y->root, "a"), "1");
    slm_yaml_free(y);
    t[n - 1] = ' ';
    t[n] = '\n';
    t[n + 1] = '\0';
    assert_null(parse(t));
    assert_string_equal(err, "c.yaml: 4194305 bytes, more than the limit of 4194304 for a YAML "
                        "file");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_nodes_and_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
