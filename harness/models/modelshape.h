/*
 * modelshape.h — demo classifiers over a real model's vocabulary, in a real model's shape.
 *
 * slm_model_make() (modelfactory.h) comes here when it is given a tokenizer (a GGUF file
 * whose tokenizer.* keys are taken over as they are: Qwen's or Llama 3's byte-level BPE,
 * any vocabulary llama.cpp reads) or a shape. The model is the same naive Bayes classifier
 * as the own-SPM demo models, but over the real tokenizer's tokens, with tied embeddings
 * like every small model of 2024-25, and with the dimensions of a published model when a
 * shape is named: every weight outside the classifier's subspace is seeded pseudo-random,
 * so prefill, decode, memory and counters cost what that model costs, while the answers
 * are the classifier's.
 *
 * How the residual stream is laid out (dimensions, in 32-aligned groups):
 *   F[L]        per label, the token's naive Bayes log-likelihood ratio (feature tokens)
 *   A+[L] A-[L] label dimensions: the first token of a label holds 1 in both; layer 0's
 *               attention writes the averaged evidence into A+ only, and the output norm
 *               weighs A+ by +G and A- by -G, so a label token's logit is G * evidence
 *               and the token's own entries (in the residual when it is the input) cancel
 *   m+ m-       the margin that lifts label tokens over the other 150k, the same way
 *   S[n] W[n]   successor keys: for each token b that follows another inside a label
 *               (and for end-of-sequence after a label's last token), b holds 1 in its S
 *               and each of its predecessors 1 in its W; layer 0's feed-forward block
 *               maps W - S into S (one neuron per successor, linear through a saturated
 *               gate), so after a predecessor the residual holds S_b = 1 and b's logit
 *               (output weight G_s on S) is G_s: a bigram that completes multi-token
 *               labels and then stops, in one direction only (a token after itself or
 *               its successor gets nothing)
 *   bias, fill  in a 256-block of their own: a constant, and what makes every embedding
 *               the same norm, so RMSNorm is a fixed scale
 *   R           everything else: pseudo-random (small), never read by the output norm
 * Layer 0's first kv heads and feed-forward neurons carry the classifier: zero keys (uniform causal attention),
 * values that copy F and the bias, an output projection into A+ and m+. Every other
 * head and every feed-forward block writes into R only, with weights small enough that
 * the residual's norm, and so every logit's scale, stays within about 1e-3.
 * Labels that share a first token (card_arrival, card_linking) split the evidence at the
 * token where they part; a label's score is then close to, not exactly, naive Bayes.
 */
#ifndef SLM_MODELSHAPE_H
#define SLM_MODELSHAPE_H

#include "modelopts.h"

#include <stdint.h>

typedef struct slm_shape {
    const char *name;         /* "qwen2.5-0.5b" */
    const char *arch;         /* GGUF architecture: "llama", "qwen2", "qwen3" */
    const char *tokenizer;    /* the vocabulary it is published with: "qwen3", "llama3" */
    uint32_t n_vocab;         /* embedding rows as published (may be padded) */
    uint32_t n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_ctx_train;
    float rope_base, rms_eps;
    int qkv_bias;             /* biases on q, k, v (qwen2) */
    int qk_norm;              /* RMSNorm on each head's q and k (qwen3) */
    int llama3_rope;          /* rope_freqs with Llama 3.1's long-context scaling */
    uint64_t published_params;
    const char *published_source;
} slm_shape;

/* The shape of that name, or NULL. */
const slm_shape *slm_shape_find(const char *name);

/* The known shapes, NULL-terminated. */
const slm_shape *const *slm_shapes(void);

/* Parameters of a model of this shape with n_vocab embedding rows (tied embeddings). */
uint64_t slm_shape_params(const slm_shape *s, uint64_t n_vocab);

/* Builds the model described above (called by slm_model_make() when o->tokenizer_gguf or
 * o->shape is set; same contract). */
int slm_model_make_real(const slm_factory_opts *o, slm_factory_report *rep, char *err,
                        size_t errlen);

#endif
