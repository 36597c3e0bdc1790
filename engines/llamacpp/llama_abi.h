/*
 * llama_abi.h — the part of the llama.cpp C API that the llamacpp engine calls.
 *
 * When the system has llama.cpp (pkg-config llama), the Makefile defines SLM_HAVE_LLAMA_H
 * and this header simply includes <llama.h>: the declarations come from the installed
 * library itself.
 *
 * Otherwise these are slmbench's own declarations of that subset, written against the
 * ABI of the pinned prebuilt release (npm @node-llama-cpp/linux-x64 3.22.1, llama.cpp
 * release tag v0.5.0). Only what the engine uses is declared, but every struct passed or
 * returned by value is declared in full: its layout must be byte-for-byte the library's.
 * The plugin never links against llama.cpp; it dlopen()s the library and looks every
 * function up by name, and the prototypes below only give those pointers their types.
 * At start-up the plugin compares known default values of the parameter structs with
 * the ones below (SLM_LLAMA_DEFAULT_*) and refuses a library that disagrees, since a
 * layout change usually shows up as shifted defaults.
 */
#ifndef SLM_LLAMA_ABI_H
#define SLM_LLAMA_ABI_H

#ifdef SLM_HAVE_LLAMA_H
#include <llama.h>
#define SLM_LLAMA_OWN_DECLS 0
#else
#define SLM_LLAMA_OWN_DECLS 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- ggml: only the types that appear in llama.h signatures ---- */

/* Tensor element types; only the values the engine names. */
enum ggml_type {
    GGML_TYPE_F32 = 0,
    GGML_TYPE_F16 = 1,
    GGML_TYPE_COUNT = 43, /* "not set" in llama_model_quantize_params */
};

enum ggml_log_level {
    GGML_LOG_LEVEL_NONE = 0,
    GGML_LOG_LEVEL_DEBUG = 1,
    GGML_LOG_LEVEL_INFO = 2,
    GGML_LOG_LEVEL_WARN = 3,
    GGML_LOG_LEVEL_ERROR = 4,
    GGML_LOG_LEVEL_CONT = 5, /* the text continues the previous message, same level */
};

struct ggml_tensor;
typedef struct ggml_backend_device *ggml_backend_dev_t;
typedef struct ggml_backend_buffer_type *ggml_backend_buffer_type_t;

typedef void (*ggml_log_callback)(enum ggml_log_level level, const char *text, void *user_data);
typedef bool (*ggml_abort_callback)(void *data);
typedef bool (*ggml_backend_sched_eval_callback)(struct ggml_tensor *t, bool ask, void *user_data);

/* Loads the best backend variant of each kind found in dir_path (libggml). */
void ggml_backend_load_all_from_path(const char *dir_path);

/* Loads one backend library file, e.g. libggml-cuda.so; NULL on failure (libggml). */
typedef struct ggml_backend_reg *ggml_backend_reg_t;
ggml_backend_reg_t ggml_backend_load(const char *path);

/* Devices of the loaded backends (libggml, libggml-base). Only the first two kinds are
 * named: later ggml releases insert kinds after GPU, never before. */
enum ggml_backend_dev_type {
    GGML_BACKEND_DEVICE_TYPE_CPU = 0,
    GGML_BACKEND_DEVICE_TYPE_GPU = 1,
};
size_t ggml_backend_dev_count(void);
ggml_backend_dev_t ggml_backend_dev_get(size_t index);
const char *ggml_backend_dev_description(ggml_backend_dev_t device);
enum ggml_backend_dev_type ggml_backend_dev_type(ggml_backend_dev_t device);

/* ---- llama.h ---- */

#define LLAMA_TOKEN_NULL -1

struct llama_vocab;
struct llama_model;
struct llama_context;
struct llama_sampler;
typedef struct llama_memory_i *llama_memory_t;

typedef int32_t llama_pos;
typedef int32_t llama_token;
typedef int32_t llama_seq_id;

/* File types (what general.file_type holds). The gaps are retired values. */
enum llama_ftype {
    LLAMA_FTYPE_ALL_F32 = 0,
    LLAMA_FTYPE_MOSTLY_F16 = 1,
    LLAMA_FTYPE_MOSTLY_Q4_0 = 2,
    LLAMA_FTYPE_MOSTLY_Q4_1 = 3,
    LLAMA_FTYPE_MOSTLY_Q8_0 = 7,
    LLAMA_FTYPE_MOSTLY_Q5_0 = 8,
    LLAMA_FTYPE_MOSTLY_Q5_1 = 9,
    LLAMA_FTYPE_MOSTLY_Q2_K = 10,
    LLAMA_FTYPE_MOSTLY_Q3_K_S = 11,
    LLAMA_FTYPE_MOSTLY_Q3_K_M = 12,
    LLAMA_FTYPE_MOSTLY_Q3_K_L = 13,
    LLAMA_FTYPE_MOSTLY_Q4_K_S = 14,
    LLAMA_FTYPE_MOSTLY_Q4_K_M = 15,
    LLAMA_FTYPE_MOSTLY_Q5_K_S = 16,
    LLAMA_FTYPE_MOSTLY_Q5_K_M = 17,
    LLAMA_FTYPE_MOSTLY_Q6_K = 18,
    LLAMA_FTYPE_MOSTLY_IQ2_XXS = 19,
    LLAMA_FTYPE_MOSTLY_IQ2_XS = 20,
    LLAMA_FTYPE_MOSTLY_Q2_K_S = 21,
    LLAMA_FTYPE_MOSTLY_IQ3_XS = 22,
    LLAMA_FTYPE_MOSTLY_IQ3_XXS = 23,
    LLAMA_FTYPE_MOSTLY_IQ1_S = 24,
    LLAMA_FTYPE_MOSTLY_IQ4_NL = 25,
    LLAMA_FTYPE_MOSTLY_IQ3_S = 26,
    LLAMA_FTYPE_MOSTLY_IQ3_M = 27,
    LLAMA_FTYPE_MOSTLY_IQ2_S = 28,
    LLAMA_FTYPE_MOSTLY_IQ2_M = 29,
    LLAMA_FTYPE_MOSTLY_IQ4_XS = 30,
    LLAMA_FTYPE_MOSTLY_IQ1_M = 31,
    LLAMA_FTYPE_MOSTLY_BF16 = 32,
    LLAMA_FTYPE_MOSTLY_TQ1_0 = 36,
    LLAMA_FTYPE_MOSTLY_TQ2_0 = 37,
    LLAMA_FTYPE_MOSTLY_MXFP4_MOE = 38,
    LLAMA_FTYPE_GUESSED = 1024, /* or-ed in when the file does not say */
};

/* Enums that only occur as fields of the parameter structs (int-sized). */
enum llama_split_mode { LLAMA_SPLIT_MODE_NONE = 0, LLAMA_SPLIT_MODE_LAYER = 1 };
enum llama_load_mode { LLAMA_LOAD_MODE_AUTO = -1 };
enum llama_lazy_mode { LLAMA_LAZY_MODE_OFF = 0, LLAMA_LAZY_MODE_AUTO = 1 };
enum llama_context_type { LLAMA_CONTEXT_TYPE_DEFAULT = 0 };
enum llama_rope_scaling_type { LLAMA_ROPE_SCALING_TYPE_UNSPECIFIED = -1 };
enum llama_pooling_type { LLAMA_POOLING_TYPE_UNSPECIFIED = -1 };
enum llama_attention_type { LLAMA_ATTENTION_TYPE_UNSPECIFIED = -1 };
enum llama_flash_attn_type {
    LLAMA_FLASH_ATTN_TYPE_AUTO = -1,
    LLAMA_FLASH_ATTN_TYPE_DISABLED = 0,
    LLAMA_FLASH_ATTN_TYPE_ENABLED = 1,
};

/* Tokens handed to llama_decode(); arrays of n_tokens entries, made by llama_batch_init. */
typedef struct llama_batch {
    int32_t n_tokens;
    llama_token *token;     /* token ids (used when embd is NULL) */
    float *embd;            /* or input embeddings, n_embd floats per token */
    llama_pos *pos;         /* position of each token in its sequence(s) */
    int32_t *n_seq_id;      /* how many sequences each token belongs to */
    llama_seq_id **seq_id;  /* and which */
    int8_t *logits;         /* nonzero: keep the output logits of this token */
} llama_batch;

struct llama_model_kv_override; /* only passed by pointer; the engine passes NULL */
struct llama_model_tensor_buft_override;

typedef bool (*llama_progress_callback)(float progress, void *user_data);

/* How a model is loaded (llama_model_default_params() fills it). */
struct llama_model_params {
    ggml_backend_dev_t *devices;
    const struct llama_model_tensor_buft_override *tensor_buft_overrides;
    int32_t n_gpu_layers;              /* layers offloaded to a GPU; <0: all (default) */
    enum llama_split_mode split_mode;
    enum llama_load_mode load_mode;    /* mmap / mlock / direct I/O; AUTO by default */
    enum llama_lazy_mode lazy_mode;
    int32_t main_gpu;
    const float *tensor_split;
    llama_progress_callback progress_callback;
    void *progress_callback_user_data;
    const struct llama_model_kv_override *kv_overrides;
    bool vocab_only;
    bool check_tensors;
    bool use_extra_bufts;              /* weight repacking for the CPU backend */
    bool no_host;
    bool no_alloc;
    bool load_mtp;
};

struct llama_sampler_seq_config {
    llama_seq_id seq_id;
    struct llama_sampler *sampler;
};

/* How a context (KV cache, batch sizes, threads) is made. */
struct llama_context_params {
    uint32_t n_ctx;                 /* context size in tokens; 0: the model's */
    uint32_t n_batch;               /* most tokens one llama_decode() call may take */
    uint32_t n_ubatch;              /* tokens computed at once inside a decode */
    uint32_t n_seq_max;             /* distinct sequence ids */
    uint32_t n_rs_seq;
    uint32_t n_outputs_max;         /* most output rows per decode; 0: n_batch */
    uint32_t n_outputs_max_per_seq; /* only limits backend (on-device) samplers */
    int32_t n_threads;              /* threads for single-token decodes */
    int32_t n_threads_batch;        /* threads for prompt batches */
    enum llama_context_type ctx_type;
    enum llama_rope_scaling_type rope_scaling_type;
    enum llama_pooling_type pooling_type;
    enum llama_attention_type attention_type;
    enum llama_flash_attn_type flash_attn_type;
    float rope_freq_base;
    float rope_freq_scale;
    float yarn_ext_factor;
    float yarn_attn_factor;
    float yarn_beta_fast;
    float yarn_beta_slow;
    uint32_t yarn_orig_ctx;
    float defrag_thold;
    ggml_backend_sched_eval_callback cb_eval;
    void *cb_eval_user_data;
    enum ggml_type type_k;          /* KV cache element types */
    enum ggml_type type_v;
    ggml_abort_callback abort_callback;
    void *abort_callback_data;
    bool embeddings;
    bool offload_kqv;
    bool no_perf;
    bool op_offload;
    bool swa_full;
    bool kv_unified;                /* one KV buffer shared by all sequences */
    struct llama_sampler_seq_config *samplers;
    size_t n_samplers;
    struct llama_context *ctx_other;
};

struct llama_model_imatrix_data;
struct llama_model_tensor_override;

/* Parameters of llama_model_quantize(). */
typedef struct llama_model_quantize_params {
    int32_t nthread;                  /* <= 0: all hardware threads */
    enum llama_ftype ftype;           /* the target file type */
    enum ggml_type output_tensor_type;      /* GGML_TYPE_COUNT: by ftype */
    enum ggml_type token_embedding_type;    /* GGML_TYPE_COUNT: by ftype */
    bool allow_requantize;
    bool quantize_output_tensor;
    bool only_copy;
    bool pure;
    bool keep_split;
    bool dry_run;
    const struct llama_model_imatrix_data *imatrix;
    const struct llama_model_kv_override *kv_overrides;
    const struct llama_model_tensor_override *tt_overrides;
    const int32_t *prune_layers;
    size_t max_buf_size;              /* 0: the library's default */
} llama_model_quantize_params;

typedef struct llama_sampler_chain_params {
    bool no_perf;
} llama_sampler_chain_params;

typedef struct llama_chat_message {
    const char *role;
    const char *content;
} llama_chat_message;

/* Library and defaults. */
const char *llama_version(void);
struct llama_model_params llama_model_default_params(void);
struct llama_context_params llama_context_default_params(void);
struct llama_sampler_chain_params llama_sampler_chain_default_params(void);
struct llama_model_quantize_params llama_model_quantize_default_params(void);
void llama_backend_init(void);
void llama_backend_free(void);
void llama_log_set(ggml_log_callback log_callback, void *user_data);

/* Models and contexts. */
struct llama_model *llama_model_load_from_file(const char *path_model,
                                               struct llama_model_params params);
void llama_model_free(struct llama_model *model);
struct llama_context *llama_init_from_model(struct llama_model *model,
                                            struct llama_context_params params);
void llama_free(struct llama_context *ctx);
uint32_t llama_n_ctx(const struct llama_context *ctx);
uint32_t llama_n_batch(const struct llama_context *ctx);
llama_memory_t llama_get_memory(const struct llama_context *ctx);

/* Facts about a model. Metadata getters return the string length or -1. */
const struct llama_vocab *llama_model_get_vocab(const struct llama_model *model);
int32_t llama_model_n_ctx_train(const struct llama_model *model);
int32_t llama_model_n_embd(const struct llama_model *model);
int32_t llama_model_n_layer(const struct llama_model *model);
int32_t llama_model_n_head(const struct llama_model *model);
int32_t llama_model_n_head_kv(const struct llama_model *model);
bool llama_supports_gpu_offload(void);
int32_t llama_model_meta_val_str(const struct llama_model *model, const char *key, char *buf,
                                 size_t buf_size);
int32_t llama_model_desc(const struct llama_model *model, char *buf, size_t buf_size);
enum llama_ftype llama_model_ftype(const struct llama_model *model);
uint64_t llama_model_size(const struct llama_model *model);
uint64_t llama_model_n_params(const struct llama_model *model);
const char *llama_model_chat_template(const struct llama_model *model, const char *name);
bool llama_model_has_encoder(const struct llama_model *model);
uint32_t llama_model_quantize(const char *fname_inp, const char *fname_out,
                              const llama_model_quantize_params *params);

/* KV memory. Position ranges are [p0, p1); negative bounds mean open ends. */
void llama_memory_clear(llama_memory_t mem, bool data);
bool llama_memory_seq_rm(llama_memory_t mem, llama_seq_id seq_id, llama_pos p0, llama_pos p1);
void llama_memory_seq_cp(llama_memory_t mem, llama_seq_id seq_id_src, llama_seq_id seq_id_dst,
                         llama_pos p0, llama_pos p1);

/* Decoding. llama_decode() returns 0 on success, 1 when no KV slot was found, 2 when
 * aborted, negative on errors. */
struct llama_batch llama_batch_init(int32_t n_tokens, int32_t embd, int32_t n_seq_max);
void llama_batch_free(struct llama_batch batch);
int32_t llama_decode(struct llama_context *ctx, struct llama_batch batch);
float *llama_get_logits_ith(struct llama_context *ctx, int32_t i);

/* Vocabulary and tokenizer. llama_tokenize() returns the token count, or minus the
 * count needed when n_tokens_max is too small. */
int32_t llama_vocab_n_tokens(const struct llama_vocab *vocab);
bool llama_vocab_is_eog(const struct llama_vocab *vocab, llama_token token);
bool llama_vocab_get_add_bos(const struct llama_vocab *vocab);
int32_t llama_tokenize(const struct llama_vocab *vocab, const char *text, int32_t text_len,
                       llama_token *tokens, int32_t n_tokens_max, bool add_special,
                       bool parse_special);
int32_t llama_token_to_piece(const struct llama_vocab *vocab, llama_token token, char *buf,
                             int32_t length, int32_t lstrip, bool special);

/* Chat templates. tmpl is a template text or a built-in name; the result length is
 * returned (it may exceed length), negative when the template is not supported. */
int32_t llama_chat_apply_template(const char *tmpl, const struct llama_chat_message *chat,
                                  size_t n_msg, bool add_ass, char *buf, int32_t length);
int32_t llama_chat_builtin_templates(const char **output, size_t len);

/* Samplers. */
struct llama_sampler *llama_sampler_chain_init(struct llama_sampler_chain_params params);
void llama_sampler_chain_add(struct llama_sampler *chain, struct llama_sampler *smpl);
struct llama_sampler *llama_sampler_init_greedy(void);
struct llama_sampler *llama_sampler_init_temp(float t);
struct llama_sampler *llama_sampler_init_dist(uint32_t seed);
struct llama_sampler *llama_sampler_init_grammar(const struct llama_vocab *vocab,
                                                 const char *grammar_str,
                                                 const char *grammar_root);
llama_token llama_sampler_sample(struct llama_sampler *smpl, struct llama_context *ctx,
                                 int32_t idx);
void llama_sampler_free(struct llama_sampler *smpl);

#ifdef __cplusplus
}
#endif
#endif /* SLM_HAVE_LLAMA_H */

/*
 * Defaults of the release the declarations above were written for, checked at start-up.
 * (4 is ggml's default thread count; 8 GiB the quantizer's default buffer.)
 */
#define SLM_LLAMA_DEFAULT_N_CTX 512
#define SLM_LLAMA_DEFAULT_N_BATCH 2048
#define SLM_LLAMA_DEFAULT_N_UBATCH 512
#define SLM_LLAMA_DEFAULT_N_SEQ_MAX 1
#define SLM_LLAMA_DEFAULT_N_OUTPUTS_MAX_PER_SEQ 1
#define SLM_LLAMA_DEFAULT_N_THREADS 4
#define SLM_LLAMA_DEFAULT_N_GPU_LAYERS (-1)
#define SLM_LLAMA_DEFAULT_QUANT_FTYPE 7 /* Q8_0 */
#define SLM_LLAMA_DEFAULT_QUANT_BUF ((size_t)8 << 30)

/* The release these declarations describe, for engine_version. */
#define SLM_LLAMA_RELEASE "v0.5.0"

#endif /* SLM_LLAMA_ABI_H */
