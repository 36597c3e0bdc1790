/*
 * real_vocab.h — shared by the unit tests that make demo models over a real tokenizer's
 * vocabulary through the llamacpp engine (test_score_real_vocab.c, test_score_trie.c):
 * where the tokenizers are, and a model made over one of them.
 */
#ifndef SLM_TEST_REAL_VOCAB_H
#define SLM_TEST_REAL_VOCAB_H

#include "hftokenizer.h"
#include "llamacpp_plugin.h"
#include "modelfactory.h"
#include "slm_engine.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The folder of the fetched tokenizers into dir, or "" with why saying where it looked.
 * A sanitizer build lives in build/sanitize, away from the tokenizers make fetched, so
 * without SLM_TOKENIZERS_DIR the source tree's build/ is tried too. */
static inline void test_tokenizers_dir(char *dir, size_t n, char *why, size_t whylen)
{
    if (!getenv("SLM_TOKENIZERS_DIR")) {
        char *p = slm_xasprintf("%s/build/third_party/tokenizers", test_root());
        char probe[512], err[SLM_ERRLEN];
        if (slm_hf_tokenizers_dir(probe, sizeof probe, err, sizeof err) && test_is_dir(p))
            setenv("SLM_TOKENIZERS_DIR", p, 1);
        free(p);
    }
    if (slm_hf_tokenizers_dir(dir, n, why, whylen))
        dir[0] = '\0';
}

/* An engine that tokenizes for the model factory (its tokenize_ud). */
struct test_tokenizer {
    const slm_engine_vtable *vt;
    slm_engine *e;
};

/* The factory's tokenize callback, through the engine's tokenize slot. */
static inline int test_tokenize(void *ud, const char *text, int32_t **ids, size_t *n, char *err,
                                size_t errlen)
{
    const struct test_tokenizer *t = ud;
    slm_token_result *r = NULL;
    if (t->vt->tokenize(t->e, text, strlen(text), 0, &r, err, errlen))
        return -1;
    *ids = slm_xmalloc((r->n + 1) * sizeof **ids);
    memcpy(*ids, r->ids, r->n * sizeof **ids);
    *n = r->n;
    t->vt->result_free(r);
    return 0;
}

/* Makes o's model over the real tokenizer's vocabulary: written as a vocab-only GGUF to
 * vocab (removed afterwards) and opened with vt to tokenize the factory's texts. 0, or -1
 * with err. */
static inline int test_make_real_model(const slm_engine_vtable *vt, const char *tokenizer,
                                       const char *vocab, slm_factory_opts *o, char *err,
                                       size_t errlen)
{
    slm_hf_vocab *hv;
    if (slm_hf_vocab_load(tokenizer, &hv, err, errlen))
        return -1;
    int rc = slm_hf_vocab_write_gguf(hv, vocab, err, errlen);
    slm_hf_vocab_free(hv);
    if (rc)
        return -1;
    slm_option items[] = {{"model", vocab}, {"threads", "2"}, {"vocab_only", "1"}};
    slm_options opts = {items, 3};
    struct test_tokenizer t = {vt, NULL};
    rc = vt->open(&opts, &t.e, err, errlen);
    if (rc == 0) {
        o->tokenizer_gguf = vocab;
        o->tokenize = test_tokenize;
        o->tokenize_ud = &t;
        rc = slm_model_make(o, NULL, err, errlen);
        o->tokenize_ud = NULL;
        vt->close(t.e);
    }
    unlink(vocab);
    return rc ? -1 : 0;
}
#endif
