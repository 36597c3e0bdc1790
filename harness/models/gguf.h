/*
 * gguf.h — GGUF v3 files: a writer (metadata and F32/F16 tensors, written atomically) and
 * a reader that validates a file's header and reports the facts the harness records.
 *
 * The reader never trusts the file: every count and length is bounded by the file's size
 * before anything is allocated, and every tensor's data must lie inside the file. Its
 * messages name the file and what is wrong ("x.gguf: not a GGUF file (bad magic)").
 *
 * Ownership: a writer owns everything added to it (keys and values are copied; tensor data
 * is taken over); slm_gguf_writer_free() releases it all (NULL-safe).
 */
#ifndef SLM_GGUF_H
#define SLM_GGUF_H

#include <stddef.h>
#include <stdint.h>

/* Tensor element types (the ggml numbering, which GGUF stores). */
enum {
    SLM_GGUF_TYPE_F32 = 0,
    SLM_GGUF_TYPE_F16 = 1,
    SLM_GGUF_TYPE_Q4_0 = 2,
    SLM_GGUF_TYPE_Q8_0 = 8,
    SLM_GGUF_TYPE_Q4_K = 12,
    SLM_GGUF_TYPE_Q6_K = 14,
    SLM_GGUF_TYPE_BF16 = 30
};

/* Metadata value types (GGUF numbering). */
enum {
    SLM_GGUF_KV_U8 = 0, SLM_GGUF_KV_I8 = 1, SLM_GGUF_KV_U16 = 2, SLM_GGUF_KV_I16 = 3,
    SLM_GGUF_KV_U32 = 4, SLM_GGUF_KV_I32 = 5, SLM_GGUF_KV_F32 = 6, SLM_GGUF_KV_BOOL = 7,
    SLM_GGUF_KV_STRING = 8, SLM_GGUF_KV_ARRAY = 9, SLM_GGUF_KV_U64 = 10,
    SLM_GGUF_KV_I64 = 11, SLM_GGUF_KV_F64 = 12
};

#define SLM_GGUF_ALIGNMENT 32
#define SLM_GGUF_MAX_DIMS 4

/* Name of a tensor type ("f32", "q4_K", ...), or NULL if unknown or removed. */
const char *slm_gguf_type_name(uint32_t type);

/* Block size (elements) and bytes per block of a tensor type; 0 on both if unknown. */
void slm_gguf_type_layout(uint32_t type, uint32_t *block_elems, uint32_t *block_bytes);

/* Quantization name of a llama file type (general.file_type): "F32", "F16", "Q8_0",
 * "Q4_K_M", ...; NULL if the number is not a known llama file type. */
const char *slm_gguf_ftype_name(int ftype);

/* ---- writer ---------------------------------------------------------------------- */

typedef struct slm_gguf_writer slm_gguf_writer;

/* A new empty writer (never NULL). */
slm_gguf_writer *slm_gguf_writer_new(void);
/* Frees the writer and all it holds; NULL-safe. */
void slm_gguf_writer_free(slm_gguf_writer *w);

/* Metadata setters. Keys are written in the order they are set; setting a key twice adds
 * it twice (the caller's mistake, which readers reject), so don't. Values are copied. */
void slm_gguf_set_str(slm_gguf_writer *w, const char *key, const char *val);
void slm_gguf_set_u32(slm_gguf_writer *w, const char *key, uint32_t val);
void slm_gguf_set_i32(slm_gguf_writer *w, const char *key, int32_t val);
void slm_gguf_set_u64(slm_gguf_writer *w, const char *key, uint64_t val);
void slm_gguf_set_f32(slm_gguf_writer *w, const char *key, float val);
void slm_gguf_set_bool(slm_gguf_writer *w, const char *key, int val);
void slm_gguf_set_arr_str(slm_gguf_writer *w, const char *key, const char *const *vals,
                          size_t n);
void slm_gguf_set_arr_f32(slm_gguf_writer *w, const char *key, const float *vals, size_t n);
void slm_gguf_set_arr_i32(slm_gguf_writer *w, const char *key, const int32_t *vals, size_t n);

/* Adds a tensor of n_dims dimensions ne[0..n_dims) (ggml order: ne[0] is the contiguous
 * row length) whose elements are the floats in data (ne[0]*ne[1]*... of them), stored as
 * type SLM_GGUF_TYPE_F32 or SLM_GGUF_TYPE_F16. The writer takes ownership of data (a
 * malloc'd buffer), also on failure. Returns 0, or -1 with err filled (bad type, bad
 * shape, duplicate name). */
int slm_gguf_add_tensor(slm_gguf_writer *w, const char *name, uint32_t type, int n_dims,
                        const uint64_t *ne, float *data, char *err, size_t errlen);

/* Fills row `row` (ne[0] floats, row counted over all dimensions above the first) of a
 * generated tensor into out. */
typedef void (*slm_gguf_row_fn)(void *ud, uint64_t row, float *out);

/* Adds a tensor like slm_gguf_add_tensor(), whose rows gen(ud, row, buf) makes while the
 * file is written, so a tensor of billions of elements never sits in memory. ud stays the
 * caller's and must live until the writer has written (or been freed). */
int slm_gguf_add_tensor_gen(slm_gguf_writer *w, const char *name, uint32_t type, int n_dims,
                            const uint64_t *ne, slm_gguf_row_fn gen, void *ud, char *err,
                            size_t errlen);

/* Copies every metadata key of the GGUF file at path whose name starts with prefix (for
 * example "tokenizer."), values as they are, skipping the keys in skip (NULL-terminated,
 * may be NULL). Returns the number of keys copied, or -1 with err filled ("<path>: ...")
 * when the file is not a readable GGUF file. */
long slm_gguf_copy_keys(slm_gguf_writer *w, const char *path, const char *prefix,
                        const char *const *skip, char *err, size_t errlen);

/* The string array under key of the GGUF file at path (for example
 * "tokenizer.ggml.tokens"): *out gets n new strings in a new array (free each, then the
 * array). Returns 0, or -1 with err filled when the file is not a readable GGUF file or
 * has no string array of that name. */
int slm_gguf_read_strings(const char *path, const char *key, char ***out, size_t *n,
                          char *err, size_t errlen);

/* Bytes the tensor data of the writer will take in the file (alignment included). */
uint64_t slm_gguf_writer_data_bytes(const slm_gguf_writer *w);

/* Writes the file: header, metadata, tensor infos, 32-byte aligned data. Writes to a
 * temporary file in the same folder and renames it over path, so a failure or crash never
 * leaves a partial file at path. Returns 0, or -1 with err filled. */
int slm_gguf_writer_write(const slm_gguf_writer *w, const char *path, char *err,
                          size_t errlen);

/* ---- reader ---------------------------------------------------------------------- */

typedef struct slm_gguf_info {
    uint32_t version;
    char architecture[64];   /* general.architecture, "" if absent */
    char name[256];          /* general.name, "" if absent (truncated if longer) */
    int file_type;           /* general.file_type, -1 if absent */
    const char *quant;       /* slm_gguf_ftype_name(file_type), or a guess from the
                                tensor types when absent, or "unknown"; static string */
    uint64_t n_tensors;
    uint64_t n_kv;
    uint64_t n_params;       /* sum of the tensors' element counts */
    uint64_t alignment;
    uint64_t data_offset;    /* where tensor data starts in the file */
    uint64_t data_size;      /* bytes of tensor data (end of the last tensor) */
    uint64_t file_size;
    uint64_t context_length; /* <arch>.context_length, 0 if absent */
    uint64_t embedding_length;
    uint64_t block_count;
    uint64_t n_vocab;        /* length of tokenizer.ggml.tokens, 0 if absent */
    int has_chat_template;   /* tokenizer.chat_template present and non-empty */
    int64_t bos_token_id;    /* tokenizer.ggml.bos_token_id, -1 if absent */
    int64_t eos_token_id;    /* tokenizer.ggml.eos_token_id, -1 if absent */
    int64_t eot_token_id;    /* tokenizer.ggml.eot_token_id, -1 if absent */
    char tokenizer_model[32]; /* tokenizer.ggml.model ("llama", "gpt2", ...), "" if absent */
    char tokenizer_pre[64];  /* tokenizer.ggml.pre, "" if absent */
} slm_gguf_info;

/* Reads and validates a GGUF file's header and tensor table and checks that all tensor
 * data lies inside the file. Fills *out and returns 0; on any problem returns -1 with a
 * message "<path>: <what is wrong>" in err. Never allocates more than the file's size
 * allows and never reads past its end. */
int slm_gguf_inspect(const char *path, slm_gguf_info *out, char *err, size_t errlen);

#endif
