/*
 * vocab.h — a model's tokenizer, read from its GGUF file through the llamacpp engine
 * (vocab_only: no weights are loaded). The model factory learns its classifier over the
 * tokens this gives, and `slmbench models labels` shows how labels tokenize.
 */
#ifndef SLM_VOCAB_H
#define SLM_VOCAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct slm_vocab slm_vocab;

/* Opens the tokenizer of the GGUF file at path. Returns 0 and a handle in *out; -1 with
 * err filled when the file is not a model llama.cpp reads; -2 with err filled when the
 * llamacpp engine is missing, disabled or too old to tokenize. */
int slm_vocab_open(const char *path, slm_vocab **out, char *err, size_t errlen);

/* The token ids of text[0..len) (flags: SLM_TOKENIZE_* of slm_engine.h) in a new array *ids
 * (caller frees) and, if pieces is not NULL, each token's text in a new array of new
 * strings (free with slm_vocab_pieces_free). Returns 0, or -1 with err filled. */
int slm_vocab_tokenize(slm_vocab *v, const char *text, size_t len, uint32_t flags,
                       int32_t **ids, char ***pieces, size_t *n, char *err, size_t errlen);

void slm_vocab_pieces_free(char **pieces, size_t n);

/* slm_vocab_tokenize() without BOS/EOS or pieces, in the shape of the factory's
 * tokenize callback (ud is the slm_vocab). */
int slm_vocab_tokenize_plain(void *ud, const char *text, int32_t **ids, size_t *n, char *err,
                             size_t errlen);

/* The GGUF file holding the tokenizer spec names: spec itself when it ends in ".gguf",
 * else (a known name such as qwen3, or a tokenizer.json) a vocabulary-only GGUF converted
 * into a temporary file. *path is new; release with slm_tokenizer_gguf_free(spec, path),
 * which also removes a temporary file. Returns 0, or -1 with err filled. */
int slm_tokenizer_gguf(const char *spec, char **path, char *err, size_t errlen);
void slm_tokenizer_gguf_free(const char *spec, char *path);

/* Closes the handle and its engine; NULL-safe. */
void slm_vocab_close(slm_vocab *v);

#endif
