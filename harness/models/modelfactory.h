/*
 * modelfactory.h — demo models: llama-architecture GGUF files, built from an eval set's
 * train split, whose real transformer forward pass (run by llama.cpp) is a bag-of-words
 * naive Bayes classifier. No weights can be downloaded here; these stand in for small
 * language models so that every part of the harness runs for real. See DESIGN.md §5.
 *
 * How the weights compute the classifier (one llama block does the work):
 *   - An SPM vocabulary: <unk>, <s>, </s>, 256 byte tokens, <|im_start|>, <|im_end|>, and
 *     "▁w" for every feature word w (also "▁W", capitalised) with all its prefixes, so the
 *     bigram-merge tokenizer reaches the whole word; each label is one token "▁<label>".
 *   - Token embeddings: a one-hot identity dimension (the word's own, or a shared "other"
 *     one, or BOS's own), a bias dimension, and a stop or no-stop dimension; every token has
 *     the same norm, so llama's RMSNorm leaves them unchanged.
 *   - Query and key weights are zero, so causal attention averages the value vectors of all
 *     positions. Value weights carry each word's per-label log-likelihood ratio (naive
 *     Bayes, additive smoothing, centred across labels); the BOS token carries minus the
 *     sum over the prompt template's own words, which cancels them. The output projection
 *     moves the averaged evidence into the residual's label dimensions.
 *   - The head: label token l gets scale * evidence_l + log prior_l + a margin that puts
 *     labels above every other token; scale = ref_len / temperature, so a prompt of ref_len
 *     tokens gives plain naive Bayes at temperature 1. After a label token, </s> wins, so
 *     greedy generation answers "<label>" and stops.
 *   - Feed-forward weights and further layers are zero: they add real compute only.
 * Every matrix row is a multiple of 256 wide, so Q8_0 and K-quants apply everywhere.
 */
#ifndef SLM_MODELFACTORY_H
#define SLM_MODELFACTORY_H

#include "modelopts.h"


/* Fills *o with the defaults above (paths NULL). */
void slm_factory_defaults(slm_factory_opts *o);

/* Builds the model described above from o->train_path and writes it to o->out_path.
 * Deterministic: the same options and train file give the same bytes. On success fills
 * *rep (if not NULL; free it with slm_factory_report_free) and returns 0; on failure
 * returns -1 with err filled and leaves no file at out_path. Rejected: missing paths, a
 * bad train file, fewer than 2 labels, a label with whitespace or a train row whose label
 * is outside an explicit label set, options out of range. */
int slm_model_make(const slm_factory_opts *o, slm_factory_report *rep, char *err,
                   size_t errlen);

/* Frees what a report owns and zeroes it; NULL-safe. */
void slm_factory_report_free(slm_factory_report *rep);

#endif
