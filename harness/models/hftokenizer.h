/*
 * hftokenizer.h — real tokenizers: a Hugging Face tokenizer.json (with the
 * tokenizer_config.json beside it) converted into the vocabulary llama.cpp reads from a
 * GGUF file (tokenizer.ggml.*), as llama.cpp's own converter (convert_hf_to_gguf.py)
 * would write it.
 *
 * Converted today: byte-level BPE (GGUF model "gpt2") whose pre-tokenizer is one that
 * llama.cpp knows by name — the regex of Qwen2/Qwen3 ("qwen2"), of Llama 3
 * ("llama-bpe"), or GPT-2's built-in byte-level split ("gpt-2"). WordPiece, Unigram and
 * SentencePiece-style BPE (byte fallback) are recognised and refused as "not converted
 * yet"; anything else is refused as not a tokenizer this module knows.
 *
 * Ownership: a vocabulary from slm_hf_vocab_load() owns all its strings and arrays and is
 * released with slm_hf_vocab_free() (NULL-safe).
 */
#ifndef SLM_HFTOKENIZER_H
#define SLM_HFTOKENIZER_H

#include "gguf.h"

#include <stddef.h>
#include <stdint.h>

/* Token types (GGUF tokenizer.ggml.token_type, llama.cpp's numbering). */
enum {
    SLM_TOKEN_NORMAL = 1,
    SLM_TOKEN_UNKNOWN = 2,
    SLM_TOKEN_CONTROL = 3,
    SLM_TOKEN_USER_DEFINED = 4,
    SLM_TOKEN_UNUSED = 5,
    SLM_TOKEN_BYTE = 6
};

typedef struct slm_hf_vocab {
    char *family;          /* the known name ("qwen3"), or the file's folder name */
    char *path;            /* the tokenizer.json read */
    char *model;           /* tokenizer.ggml.model: "gpt2" (byte-level BPE) */
    char *pre;             /* tokenizer.ggml.pre: "qwen2", "llama-bpe", "gpt-2" */
    char **tokens;         /* [n] in id order, byte-level text as the file holds it; ids
                              no token has are "[PAD<id>]" of type SLM_TOKEN_UNUSED */
    int32_t *types;        /* [n] SLM_TOKEN_* */
    float *scores;         /* [n] or NULL (BPE has none) */
    size_t n;
    char **merges;         /* [n_merges] "a b", in rank order */
    size_t n_merges;
    int32_t bos, eos, eot, pad, unk; /* token ids, -1 when none */
    int add_bos, add_eos;  /* whether tokenizing adds BOS / EOS */
    char *chat_template;   /* from tokenizer_config.json, or NULL */
    char sha256[65];       /* of tokenizer.json */
} slm_hf_vocab;

/*
 * Where the known tokenizers live: $SLM_TOKENIZERS_DIR when set, else the first of
 * <dir of the executable>/third_party/tokenizers, <dir>/../third_party/tokenizers
 * (build/ and build/sanitize/, tests/ binaries) and <dir>/../lib/slmbench/tokenizers
 * that exists. Writes the folder into buf (size n) and returns 0, or returns -1 with err
 * saying where it looked.
 */
int slm_hf_tokenizers_dir(char *buf, size_t n, char *err, size_t errlen);

/*
 * Loads and converts a tokenizer. spec is either a known name — a folder of the
 * tokenizers dir (slm_hf_tokenizers_dir) holding tokenizer.json, such as "qwen3" or
 * "llama3" that scripts/install-deps.sh fetches — or the path of a tokenizer.json (any
 * spec containing '/' or ending in ".json"); tokenizer_config.json is read from the same
 * folder when it is there. On success *out is a new vocabulary and 0 is returned; on
 * failure -1 and err says what is wrong, naming the file ("x/tokenizer.json: not JSON:
 * ...", "...: WordPiece tokenizers are not converted yet", "...: BPE model without
 * merges", "...: vocabulary id 7 is used twice ('a', 'b')", "...: pre-tokenizer regex
 * not known to llama.cpp: '...'").
 */
int slm_hf_vocab_load(const char *spec, slm_hf_vocab **out, char *err, size_t errlen);

/* Frees a vocabulary and everything it holds; NULL-safe. */
void slm_hf_vocab_free(slm_hf_vocab *v);

/*
 * Adds the vocabulary's tokenizer keys to w: tokenizer.ggml.model, .pre, .tokens,
 * .token_type, .scores (when present), .merges, the special token ids that exist
 * (bos/eos/eot/padding/unknown_token_id), add_bos_token, add_eos_token,
 * tokenizer.chat_template (when present), and the provenance keys
 * slmbench.tokenizer.family and slmbench.tokenizer.sha256. Sets none of general.* or the
 * architecture's keys, so a model writer can add it next to its own.
 */
void slm_hf_vocab_add_to_gguf(const slm_hf_vocab *v, slm_gguf_writer *w);

/*
 * Writes a vocabulary-only GGUF file (no tensors) that llama.cpp loads with vocab_only,
 * like the ggml-vocab-*.gguf files of llama.cpp's tests: general.architecture "llama"
 * with token-sized placeholder hyperparameters, general.name the family, and the keys of
 * slm_hf_vocab_add_to_gguf(). Written to a temporary file and renamed over path. Returns
 * 0, or -1 with err filled.
 */
int slm_hf_vocab_write_gguf(const slm_hf_vocab *v, const char *path, char *err,
                            size_t errlen);

#endif
