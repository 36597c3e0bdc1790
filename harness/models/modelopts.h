/*
 * modelopts.h — what `slmbench models make` asks for and what it reports back: shared by
 * the demo factory (modelfactory.c, the entry point) and the real-shape builder
 * (modelshape.c), which the factory calls; kept apart so neither header includes the other.
 */
#ifndef SLM_MODELOPTS_H
#define SLM_MODELOPTS_H

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

#endif
