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

#include <stddef.h>
#include <stdint.h>

typedef struct slm_factory_opts {
    const char *train_path;      /* id,text,label CSV or JSON lines (required) */
    const char *out_path;        /* the .gguf to write (required); written atomically */
    const char *name;            /* general.name; default "slm-demo-nb" */
    int vocab_words;             /* word features, the most frequent (document frequency)
                                    in the train split; default 1000 */
    double alpha;                /* additive (Laplace) smoothing; default 1.0 */
    double temperature;          /* divides the evidence; default 1.0 */
    double ref_len;              /* prompt length in tokens at which temperature 1 gives
                                    plain naive Bayes; 0 (default): BOS + template tokens +
                                    mean train text tokens */
    int n_layers;                /* transformer blocks, >= 1; default 1 */
    int n_ff;                    /* feed-forward width; default 256; 0: n_embd; rounded up
                                    to a multiple of 256 */
    int n_ctx;                   /* context length; default 2048 */
    int f16;                     /* 1 (default): F16 weights, 0: F32 (llama.cpp runs F32
                                    matrices several times slower on CPU) */
    const char *const *labels;   /* the label set, or NULL: distinct train labels, sorted */
    size_t n_labels;
    const char *prompt_template; /* the eval set's prompt template text ({{text}},
                                    {{labels}}, {{id}}): its words are cancelled; or NULL */
    int capitalised;             /* also "▁Word" tokens for each word; default 1 */
    int no_stop;                 /* 1: no </s> after a label, so greedy generation repeats
                                    labels up to max_tokens (exercises decode); default 0 */

    /* ---- real vocabularies and real shapes (modelshape.h) ---- */
    const char *tokenizer_gguf;  /* a GGUF file whose tokenizer.* keys the model takes over
                                    (a converted vocabulary, or any model); NULL: the own
                                    SPM vocabulary above */
    /* That vocabulary's token ids of a text, without BOS/EOS, as llama.cpp makes them; a
     * new array in *ids (caller frees). Required with tokenizer_gguf. */
    int (*tokenize)(void *ud, const char *text, int32_t **ids, size_t *n, char *err,
                    size_t errlen);
    void *tokenize_ud;
    const char *shape;           /* a published model's shape (slm_shape_find), or NULL: a
                                    small llama model sized to the classifier */
    const char *choice_prefix;   /* what the runner puts before a label; default " " */
    uint64_t seed;               /* for the pseudo-random weights; default 1 */
    const char *chat_template;   /* tokenizer.chat_template text (any, even one llama.cpp
                                    cannot apply), or NULL: a ChatML template; "" writes
                                    none */
} slm_factory_opts;

typedef struct slm_factory_report {
    size_t train_rows;
    size_t n_words;              /* word features actually used */
    size_t n_tokens;             /* vocabulary size (specials, bytes, words, prefixes) */
    size_t n_embd;
    size_t n_ff;
    size_t n_layers;
    uint64_t n_params;
    uint64_t file_size;
    double ref_len;              /* the one used */
    double head_scale;           /* ref_len / temperature */
    size_t n_template_tokens;    /* tokens of the rendered template without text, 0 if none */
    double train_accuracy;       /* the classifier's accuracy on its own train split */
    char **labels;               /* the label set, in label-dimension order */
    size_t n_labels;
    char arch[32];               /* GGUF architecture written */
    size_t n_multi_token_labels; /* labels that take more than one token (real vocabularies) */
} slm_factory_report;

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
