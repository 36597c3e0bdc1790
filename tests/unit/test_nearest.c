/*
 * test_nearest.c — nearest.c: the edit distance against a plain recursive definition of
 * the optimal-string-alignment distance on random short words, known values, and which
 * word slm_nearest suggests (or not).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nearest.h"

/* The definition, written out: the cheapest of the last character deleted, inserted,
 * substituted (free when equal without case), or the last two swapped. Exponential:
 * short words only. */
static size_t osa_ref(const char *a, size_t la, const char *b, size_t lb)
{
    if (!la)
        return lb;
    if (!lb)
        return la;
    int eq = (a[la - 1] | 32) == (b[lb - 1] | 32);
    size_t best = osa_ref(a, la - 1, b, lb - 1) + !eq;
    size_t d = osa_ref(a, la - 1, b, lb) + 1, i = osa_ref(a, la, b, lb - 1) + 1;
    best = d < best ? d : best;
    best = i < best ? i : best;
    if (la > 1 && lb > 1 && (a[la - 1] | 32) == (b[lb - 2] | 32) &&
        (a[la - 2] | 32) == (b[lb - 1] | 32)) {
        size_t t = osa_ref(a, la - 2, b, lb - 2) + 1;
        best = t < best ? t : best;
    }
    return best;
}

static void random_word(char *w, unsigned *seed)
{
    size_t n = (size_t)(rand_r(seed) % 7);
    for (size_t i = 0; i < n; i++)
        w[i] = "abcAB"[rand_r(seed) % 5]; /* few letters: many near words, swaps, cases */
    w[n] = 0;
}

static void distance_matches_the_definition(void **state)
{
    (void)state;
    unsigned seed = 19;
    for (int k = 0; k < 3000; k++) {
        char a[8], b[8];
        random_word(a, &seed);
        random_word(b, &seed);
        assert_int_equal(slm_edit_distance(a, b), osa_ref(a, strlen(a), b, strlen(b)));
        assert_int_equal(slm_edit_distance(a, b), slm_edit_distance(b, a));
    }
}

static void distance_known_values(void **state)
{
    (void)state;
    assert_int_equal(slm_edit_distance("thresds", "threads"), 1);
    assert_int_equal(slm_edit_distance("thraeds", "threads"), 1); /* a swap */
    assert_int_equal(slm_edit_distance("Text", "text"), 0);
    assert_int_equal(slm_edit_distance("", "abc"), 3);
    assert_int_equal(slm_edit_distance("kitten", "sitting"), 3);
    char long_word[SLM_NEAREST_MAX + 1];
    memset(long_word, 'a', SLM_NEAREST_MAX);
    long_word[SLM_NEAREST_MAX] = 0;
    assert_true(slm_edit_distance(long_word, "a") == (size_t)-1);
}

static void nearest_suggests(void **state)
{
    (void)state;
    const char *keys[] = {"name", "evalset", "split", "threads", "warmup", NULL, "limit"};
    size_t n = sizeof keys / sizeof keys[0];
    assert_string_equal(slm_nearest("thresds", keys, n), "threads");
    assert_string_equal(slm_nearest("evalsets", keys, n), "evalset");
    assert_string_equal(slm_nearest("Split", keys, n), "split");
    assert_string_equal(slm_nearest("limt", keys, n), "limit");
    assert_null(slm_nearest("threads", keys, n));  /* not misspelt */
    assert_null(slm_nearest("candidate_model", keys, n)); /* nothing near */
    const char *labels[] = {"billing", "shipping", "refund_return"};
    assert_string_equal(slm_nearest("biling", labels, 3), "billing");
    assert_string_equal(slm_nearest("refund", labels, 3), "refund_return"); /* a prefix */
    assert_null(slm_nearest("xyz", labels, 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(distance_matches_the_definition),
        cmocka_unit_test(distance_known_values),
        cmocka_unit_test(nearest_suggests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
