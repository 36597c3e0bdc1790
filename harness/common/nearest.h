/*
 * nearest.h — the word of a set nearest to a misspelt one, for the "did you mean 'x'?" of
 * error messages (config keys, CSV columns, labels, splits, run names).
 */
#ifndef SLM_NEAREST_H
#define SLM_NEAREST_H

#include <stddef.h>

/* The Damerau-Levenshtein distance (optimal string alignment: insertions, deletions,
 * substitutions and swaps of two neighbours, each 1) between a and b, ASCII letters
 * compared without case. (size_t)-1 when either is SLM_NEAREST_MAX bytes or longer. */
size_t slm_edit_distance(const char *a, const char *b);
#define SLM_NEAREST_MAX 256

/* The word of words[0..n) (NULL entries skipped) nearest to word: at an edit distance of
 * at most 2, or a third of word's length when that is more, or one that begins with the
 * other (3 bytes at least, counted as 1); the first of equally near ones. NULL when none
 * is that near, or when word itself is one of them. */
const char *slm_nearest(const char *word, const char *const *words, size_t n);

#endif
