/*
 * scoring.h — turning what an engine returns into a prediction (DESIGN §5): per-label
 * log-probabilities (score mode) into probabilities, a predicted label, its confidence and
 * whether it is right; a generated answer's token log-probabilities into a confidence; and
 * the JSON arrays the store keeps of both.
 *
 * Pure functions of their arguments: no engine, no store, so they are tested on numbers.
 */
#ifndef SLM_SCORING_H
#define SLM_SCORING_H

#include <stddef.h>
#include <stdint.h>

/* One scored example. probs and probs_mean are [n] arrays freed by slm_scored_free. */
typedef struct slm_scored {
    size_t best;         /* the predicted label: highest probability under the rule in use,
                            the first one on a tie */
    int correct;         /* best == the gold index given */
    double confidence;   /* probs[best] */
    double *probs;       /* softmax over the labels under the rule in use */
    double *probs_mean;  /* softmax of the mean log-probability per token (always kept) */
} slm_scored;

/* Scores n labels from their summed log-probabilities and continuation token counts.
 * Two normalisations: the summed log-probability of each label's tokens, and the mean
 * per token (a count of 0 counts as 1); mean picks the one that predicts (score_norm),
 * both are kept. gold: the gold label's index, or -1. */
void slm_score_labels(const double *logprob, const int32_t *n_tokens, size_t n, int mean,
                      int gold, slm_scored *out);
void slm_scored_free(slm_scored *s);

/* The label slm_score_labels would predict, without keeping the probabilities. */
size_t slm_score_best(const double *logprob, const int32_t *n_tokens, size_t n, int mean);

/* The confidence of a generated answer: the probability of its whole token sequence
 * (exp of the summed log-probabilities); NaN when there are none. */
double slm_generated_confidence(const double *token_logprobs, int n_tokens);

/* JSON arrays as stored: doubles with 17 significant digits (non-finite as null), ints.
 * Caller frees. */
char *slm_json_doubles(const double *v, size_t n);
char *slm_json_ints(const int32_t *v, size_t n);

#endif
