/*
 * prodwords.h — the words of the production review's input drift (prodstats.h): a small
 * hash map word → count, the tokeniser that fills it, and the out-of-vocabulary (OOV)
 * accumulator of a month or of the eval set itself. Pure: no I/O, no SQL.
 *
 * A WORD is a maximal run of bytes that are ASCII letters, ASCII digits or any byte
 * >= 0x80 (so the UTF-8 letters of any script stay inside a word), with the ASCII
 * letters folded to lower case: "Refund-ID 42é" is the words "refund", "id", "42é".
 * Everything else (spaces, ASCII punctuation, control bytes) separates words.
 *
 * Ownership: a map owns copies of its keys; slm_wordmap_free and slm_prod_words_free are
 * NULL-safe. Aborts only on memory exhaustion.
 */
#ifndef SLM_PRODWORDS_H
#define SLM_PRODWORDS_H

#include <stddef.h>

typedef struct slm_wordmap slm_wordmap;

slm_wordmap *slm_wordmap_new(void);
void slm_wordmap_free(slm_wordmap *m);

/* Adds count (> 0) occurrences of the len bytes at word (taken as they are: the caller
 * tokenises) and returns the new total. */
long slm_wordmap_add(slm_wordmap *m, const char *word, size_t len, long count);

/* The count of a word, 0 when absent or m is NULL. */
long slm_wordmap_get(const slm_wordmap *m, const char *word, size_t len);

/* Distinct words, and the sum of all counts. */
size_t slm_wordmap_size(const slm_wordmap *m);
long slm_wordmap_total(const slm_wordmap *m);

/* The i-th distinct word in insertion order (i < size): its bytes (not NUL-terminated
 * when len says otherwise: they are, but use *len), length and count. */
const char *slm_wordmap_at(const slm_wordmap *m, size_t i, size_t *len, long *count);

/* Tokenises text (NUL-terminated; NULL adds nothing) as defined above and adds every
 * word to m. Returns the number of words. */
long slm_words_add_text(slm_wordmap *m, const char *text);

/*
 * The OOV accumulator: fed one text (ticket) at a time against a fixed vocabulary (the
 * eval set's word map), it keeps the month's own word map and the sums that give the
 * OOV share of word tokens and its standard error with the ticket as the sampling unit
 * (words of one ticket are not independent draws):
 *   R = O / T (O OOV tokens, T tokens over all tickets),
 *   se(R)^2 = sum_j (o_j - R t_j)^2 / T^2        (the ratio estimator's linearisation,
 *            = (S_oo - 2 R S_ot + R^2 S_tt) / T^2   Cochran 1977 §6.4, n/(n-1) omitted).
 * A token is OOV when its word's count in the vocabulary is 0; with loo = 1 (the eval
 * set measured against its own vocabulary) when the vocabulary holds no occurrence of
 * the word outside this ticket (count in vocab <= count in this ticket): the
 * leave-one-ticket-out OOV share, what a new ticket drawn like the eval set would show
 * against the vocabulary of the others (slightly above what it shows against all of
 * them: a conservative null).
 */
typedef struct slm_prod_words {
    slm_wordmap *seen;   /* the words of the texts added, with counts */
    long tickets;        /* texts added (NULL texts are not counted) */
    long tokens, oov;    /* T and O */
    double s_oo, s_ot, s_tt; /* sums over tickets of o_j^2, o_j t_j, t_j^2 */
} slm_prod_words;

/* Zeroes *w and gives it an empty map. */
void slm_prod_words_init(slm_prod_words *w);
void slm_prod_words_free(slm_prod_words *w);

/* Adds one ticket's text against vocab (NULL: every token is OOV) as described above.
 * A NULL text adds nothing; an empty one counts as a ticket of 0 tokens. */
void slm_prod_words_add(slm_prod_words *w, const slm_wordmap *vocab, const char *text, int loo);

/* R and its standard error (both NaN when no token was seen). */
void slm_prod_words_rate(const slm_prod_words *w, double *rate, double *se);

#endif
