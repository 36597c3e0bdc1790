/*
 * fake_llama.c — a stand-in for libllama with the wrong ABI, built as
 * $(OUT)/tests/libfake_llama.so. It exports the three *_default_params functions the
 * llamacpp engine checks first, with the struct layouts slmbench expects but defaults
 * of another release (n_batch 512 where v0.5.0 has 2048), so init() must refuse it with
 * "does not match the ABI". Nothing else is exported: a library that passed the check
 * by mistake would then fail on the first missing function, never run.
 */
#include "llamacpp/llama_abi.h"

#include <string.h>

struct llama_context_params llama_context_default_params(void)
{
    struct llama_context_params p;
    memset(&p, 0, sizeof p);
    p.n_ctx = 512;
    p.n_batch = 512; /* the mismatch */
    p.n_ubatch = 512;
    p.n_seq_max = 1;
    p.n_threads = 4;
    p.n_threads_batch = 4;
    return p;
}

struct llama_model_params llama_model_default_params(void)
{
    struct llama_model_params p;
    memset(&p, 0, sizeof p);
    p.n_gpu_layers = 999;
    return p;
}

struct llama_model_quantize_params llama_model_quantize_default_params(void)
{
    struct llama_model_quantize_params p;
    memset(&p, 0, sizeof p);
    return p;
}
