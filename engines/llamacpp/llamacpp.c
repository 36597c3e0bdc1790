/*
 * llamacpp.c — the llama.cpp engine: GGUF models run in process, on the CPU.
 *
 * The plugin does not link against llama.cpp. init() dlopen()s the library, looks every
 * function it calls up into one table (lib, the plugin's only global state besides
 * llama.cpp's captured log), checks the
 * ABI against the declarations in llama_abi.h and loads ggml's CPU backend variants from
 * the library's folder. A missing library, a missing symbol or a mismatching ABI makes
 * init() fail with a reason, and the harness disables just this engine.
 *
 * Scoring evaluates the prompt once into sequence 0 of a unified KV cache, copies that
 * sequence into one sequence per choice (a metadata-only copy with a unified cache) and
 * decodes the continuations of all choices in one batch.
 *
 * Sequence 0 outlives the request: the engine remembers which tokens it holds (cache),
 * and the next prompt decodes only what follows the longest common token prefix, so an
 * instruction block or few-shot examples shared by every prompt are evaluated once per
 * model (option prefix_cache, on by default).
 *
 * score_batch() (throughput mode) does the same for many requests at once: up to
 * n_parallel prompts are evaluated side by side, one sequence each, in shared batches,
 * then all their choices from sequence copies, again several prompts' in one batch. It
 * starts from an empty memory and leaves it empty, so score()'s cache is simply forgotten.
 *
 * generate_many() (concurrency, and the open loop of a load test) decodes up to N requests
 * together, one sequence each in the same unified cache: one llama_decode step gives every
 * sequence its next token, new prompts go into the same batches, and an ended request's
 * sequence is emptied and taken by the next one (continuous batching). n_ctx stays what
 * one request may use; the cache grows to N × n_ctx cells when a call needs more.
 *
 * llama.cpp's logging is silenced; its error-level messages are kept (llog) so a
 * failure can say why, e.g. "cannot load model 'x.gguf': <llama.cpp's message>".
 */
#include "llama_abi.h"
#include "slm_engine.h"
#include "slm_plugin.h"
#include "../../harness/common/slm_limits.h" /* every size limit, in one place */

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef SLM_LLAMA_LIBDIR
#define SLM_LLAMA_LIBDIR ""
#endif
#ifndef SLM_LLAMA_CUDADIR
#define SLM_LLAMA_CUDADIR ""
#endif

#define ENGINE_VERSION "0.1.0"
#define DEFAULT_N_CTX 2048
#define DEFAULT_N_BATCH 512
#define DEFAULT_N_SEQ_MAX 32
#define DEFAULT_SCORE_GROUP_NODES 128 /* see trie_group_end() */
#define DEFAULT_N_PARALLEL 8
#define PARALLEL_CHOICES 8  /* choice sequences per parallel prompt the context reserves */
#define PARALLEL_CELLS 256  /* KV cells per parallel prompt (prompt and choices) reserved */
#define DEFAULT_MAX_TOKENS 32
#define LOG_KEEP 4    /* error messages kept from llama.cpp's log */
#define LOG_LINE 320

/* ---- the library table ---- */

/* Every function looked up in the library, apart from the three *_default_params (below). */
#define LLAMA_FUNCS(X)                                                                       \
    X(llama_backend_init) X(llama_backend_free) X(llama_log_set)                           \
    X(llama_sampler_chain_default_params) X(llama_model_load_from_file) X(llama_model_free) \
    X(llama_init_from_model) X(llama_free) X(llama_n_ctx) X(llama_n_batch)                 \
    X(llama_get_memory) X(llama_model_get_vocab) X(llama_model_n_ctx_train)                \
    X(llama_model_n_embd) X(llama_model_n_layer) X(llama_model_meta_val_str)               \
    X(llama_model_desc) X(llama_model_ftype) X(llama_model_size) X(llama_model_n_params)   \
    X(llama_model_chat_template) X(llama_model_has_encoder) X(llama_model_quantize)        \
    X(llama_memory_clear) X(llama_memory_seq_rm) X(llama_memory_seq_cp)                   \
    X(llama_batch_init) X(llama_batch_free) X(llama_decode) X(llama_get_logits_ith)       \
    X(llama_vocab_n_tokens) X(llama_vocab_is_eog) X(llama_vocab_get_add_bos)              \
    X(llama_tokenize) X(llama_token_to_piece) X(llama_chat_apply_template)                \
    X(llama_chat_builtin_templates) X(llama_sampler_chain_init) X(llama_sampler_chain_add) \
    X(llama_sampler_init_greedy) X(llama_sampler_init_grammar) X(llama_sampler_init_temp)  \
    X(llama_sampler_init_dist) X(llama_sampler_sample) X(llama_sampler_free)              \
    X(ggml_backend_load_all_from_path)

/* What the model facts need about heads and devices (engine ABI 1.3: KV bytes, GPU layers,
 * device). */
#define LLAMA_FUNCS_DEV(X)                                                                   \
    X(llama_model_n_head) X(llama_model_n_head_kv) X(llama_supports_gpu_offload)            \
    X(ggml_backend_load) X(ggml_backend_dev_count) X(ggml_backend_dev_get)                  \
    X(ggml_backend_dev_description) X(ggml_backend_dev_type)

/*
 * The *_default_params functions return their struct through a hidden pointer to memory
 * the caller provides (x86-64 and AArch64 alike, the structs being large). Calling them
 * as returning a union with spare room keeps a library whose struct grew from writing
 * past our stack before the ABI check has had a chance to refuse it.
 */
typedef union {
    struct llama_context_params p;
    unsigned char room[1024];
} cparams_room;
typedef union {
    struct llama_model_params p;
    unsigned char room[1024];
} mparams_room;
typedef union {
    struct llama_model_quantize_params p;
    unsigned char room[1024];
} qparams_room;

struct llama_lib {
    void *handle;             /* NULL: not loaded */
    char path[PATH_MAX];
    char version[96];         /* for slm_model_info.engine_version */
    cparams_room (*context_default_params)(void);
    mparams_room (*model_default_params)(void);
    qparams_room (*quantize_default_params)(void);
#define LLAMA_FIELD(fn) __typeof__(&fn) fn;
    LLAMA_FUNCS(LLAMA_FIELD)
    LLAMA_FUNCS_DEV(LLAMA_FIELD)
#undef LLAMA_FIELD
};

static struct llama_lib lib;

/*
 * Error-level messages from llama.cpp's log, oldest first, and the one being assembled
 * (messages can arrive in pieces). Part of the library's state like the table above;
 * guarded by a lock because llama.cpp logs from whichever thread calls it.
 */
static struct {
    pthread_mutex_t lock;
    char msgs[LOG_KEEP][LOG_LINE];
    int n;
    char cur[LOG_LINE];
    int level;
    double kv_mib;            /* sum of the "KV buffer size = X MiB" lines since log_reset() */
} llog = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- llama.cpp's log ---- */

static void log_commit(void)
{
    char *s = slm_plugin_trim(llog.cur);
    if (*s) {
        if (llog.n == LOG_KEEP) {
            memmove(llog.msgs[0], llog.msgs[1], sizeof llog.msgs[0] * (LOG_KEEP - 1));
            llog.n--;
        }
        snprintf(llog.msgs[llog.n++], LOG_LINE, "%s", s);
    }
    llog.cur[0] = '\0';
}

static void on_log(enum ggml_log_level level, const char *text, void *ud)
{
    pthread_mutex_lock(&llog.lock);
    const char *kv = text && level != GGML_LOG_LEVEL_ERROR ? strstr(text, "KV buffer size =") : NULL;
    if (kv)
        llog.kv_mib += strtod(kv + strlen("KV buffer size ="), NULL);
    if (level != GGML_LOG_LEVEL_CONT) {
        if (llog.level == GGML_LOG_LEVEL_ERROR)
            log_commit();
        llog.level = level;
        llog.cur[0] = '\0';
    }
    if (llog.level == GGML_LOG_LEVEL_ERROR && text) {
        size_t n = strlen(llog.cur);
        snprintf(llog.cur + n, sizeof llog.cur - n, "%s", text);
        n = strlen(llog.cur);
        if (n && llog.cur[n - 1] == '\n')
            log_commit();
    }
    pthread_mutex_unlock(&llog.lock);
}

static void log_reset(void)
{
    pthread_mutex_lock(&llog.lock);
    llog.n = 0;
    llog.cur[0] = '\0';
    llog.kv_mib = 0;
    pthread_mutex_unlock(&llog.lock);
}

/*
 * The most telling error llama.cpp logged since log_reset(), into buf. The loaders log the
 * cause first and then "failed to load model"-style summaries, so the first message is
 * the useful one; its "function_name: " prefix is dropped.
 */
static const char *log_error(char *buf, size_t n)
{
    pthread_mutex_lock(&llog.lock);
    if (llog.cur[0] && llog.level == GGML_LOG_LEVEL_ERROR)
        log_commit();
    const char *msg = llog.n ? llog.msgs[0] : "no details from llama.cpp";
    const char *colon = strstr(msg, ": ");
    if (colon && strcspn(msg, " ") == (size_t)(colon - msg) + 1)
        msg = colon + 2;
    snprintf(buf, n, "%s", msg);
    pthread_mutex_unlock(&llog.lock);
    return buf;
}

/* ---- loading the library ---- */

static void lib_unload(void)
{
    if (lib.handle)
        dlclose(lib.handle);
    memset(&lib, 0, sizeof lib);
}

static int sym(const char *name, void **slot, char *err, size_t errlen)
{
    dlerror();
    *slot = dlsym(lib.handle, name);
    if (!*slot)
        return slm_plugin_err(err, errlen, "llama.cpp library '%s' lacks '%s'", lib.path, name);
    return 0;
}

/* Compares one default value; fills err and returns -1 on a mismatch. */
#define ABI_EXPECT(fn, field, fmt, got, want)                                                      \
    do {                                                                                           \
        if ((got) != (want))                                                                       \
            return slm_plugin_err(err, errlen,                                                     \
                                  "llama.cpp library '%s' does not match the ABI slmbench was "    \
                                  "built for (%s: %s is " fmt ", expected " fmt ")",               \
                                  lib.path, fn, field, got, want);                                 \
    } while (0)

/*
 * Checks known defaults of the parameter structs. A field added or removed in the middle
 * of a struct shifts the values that follow, which this notices. With a system llama.h
 * the declarations come from the library's own install, and the check is skipped (its
 * defaults may legitimately differ from the release we pinned).
 */
static int abi_check(char *err, size_t errlen)
{
    if (!SLM_LLAMA_OWN_DECLS)
        return 0;
    const char *f = "llama_context_default_params";
    struct llama_context_params c = lib.context_default_params().p;
    ABI_EXPECT(f, "n_ctx", "%u", c.n_ctx, (unsigned)SLM_LLAMA_DEFAULT_N_CTX);
    ABI_EXPECT(f, "n_batch", "%u", c.n_batch, (unsigned)SLM_LLAMA_DEFAULT_N_BATCH);
    ABI_EXPECT(f, "n_ubatch", "%u", c.n_ubatch, (unsigned)SLM_LLAMA_DEFAULT_N_UBATCH);
    ABI_EXPECT(f, "n_seq_max", "%u", c.n_seq_max, (unsigned)SLM_LLAMA_DEFAULT_N_SEQ_MAX);
    ABI_EXPECT(f, "n_outputs_max_per_seq", "%u", c.n_outputs_max_per_seq,
               (unsigned)SLM_LLAMA_DEFAULT_N_OUTPUTS_MAX_PER_SEQ);
    ABI_EXPECT(f, "n_threads", "%d", c.n_threads, SLM_LLAMA_DEFAULT_N_THREADS);
    ABI_EXPECT(f, "n_threads_batch", "%d", c.n_threads_batch, SLM_LLAMA_DEFAULT_N_THREADS);
    ABI_EXPECT(f, "flash_attn_type", "%d", (int)c.flash_attn_type, -1);
    ABI_EXPECT(f, "yarn_ext_factor", "%g", (double)c.yarn_ext_factor, -1.0);
    ABI_EXPECT(f, "type_k", "%d", (int)c.type_k, (int)GGML_TYPE_F16);
    ABI_EXPECT(f, "type_v", "%d", (int)c.type_v, (int)GGML_TYPE_F16);
    ABI_EXPECT(f, "embeddings", "%d", (int)c.embeddings, 0);
    ABI_EXPECT(f, "offload_kqv", "%d", (int)c.offload_kqv, 1);
    ABI_EXPECT(f, "no_perf", "%d", (int)c.no_perf, 1);
    ABI_EXPECT(f, "op_offload", "%d", (int)c.op_offload, 1);
    ABI_EXPECT(f, "swa_full", "%d", (int)c.swa_full, 1);
    ABI_EXPECT(f, "kv_unified", "%d", (int)c.kv_unified, 0);
    ABI_EXPECT(f, "n_samplers", "%zu", c.n_samplers, (size_t)0);

    f = "llama_model_default_params";
    struct llama_model_params m = lib.model_default_params().p;
    ABI_EXPECT(f, "n_gpu_layers", "%d", m.n_gpu_layers, SLM_LLAMA_DEFAULT_N_GPU_LAYERS);
    ABI_EXPECT(f, "split_mode", "%d", (int)m.split_mode, (int)LLAMA_SPLIT_MODE_LAYER);
    ABI_EXPECT(f, "load_mode", "%d", (int)m.load_mode, (int)LLAMA_LOAD_MODE_AUTO);
    ABI_EXPECT(f, "lazy_mode", "%d", (int)m.lazy_mode, (int)LLAMA_LAZY_MODE_AUTO);
    ABI_EXPECT(f, "main_gpu", "%d", m.main_gpu, 0);
    ABI_EXPECT(f, "vocab_only", "%d", (int)m.vocab_only, 0);
    ABI_EXPECT(f, "check_tensors", "%d", (int)m.check_tensors, 0);
    ABI_EXPECT(f, "use_extra_bufts", "%d", (int)m.use_extra_bufts, 1);
    ABI_EXPECT(f, "no_host", "%d", (int)m.no_host, 0);
    ABI_EXPECT(f, "no_alloc", "%d", (int)m.no_alloc, 0);
    ABI_EXPECT(f, "load_mtp", "%d", (int)m.load_mtp, 0);

    f = "llama_model_quantize_default_params";
    struct llama_model_quantize_params q = lib.quantize_default_params().p;
    ABI_EXPECT(f, "ftype", "%d", (int)q.ftype, SLM_LLAMA_DEFAULT_QUANT_FTYPE);
    ABI_EXPECT(f, "output_tensor_type", "%d", (int)q.output_tensor_type, (int)GGML_TYPE_COUNT);
    ABI_EXPECT(f, "quantize_output_tensor", "%d", (int)q.quantize_output_tensor, 1);
    ABI_EXPECT(f, "dry_run", "%d", (int)q.dry_run, 0);
    ABI_EXPECT(f, "max_buf_size", "%zu", q.max_buf_size, SLM_LLAMA_DEFAULT_QUANT_BUF);
    return 0;
}

static const char *lib_default_path(void)
{
    const char *env = getenv("SLM_LLAMA_LIB");
    if (env && *env)
        return env;
    if (SLM_LLAMA_LIBDIR[0])
        return SLM_LLAMA_LIBDIR "/libllama.v0.5.0.so";
    return "libllama.so";
}

/*
 * The CUDA backend of the pinned CUDA build, where scripts/install-deps.sh fetched it (it
 * does so only where an NVIDIA driver is present): $SLM_LLAMA_CUDA_DIR, else the build's
 * SLM_LLAMA_CUDADIR. Only its libggml-cuda.so is loaded (ggml_backend_load), not the whole
 * folder with ggml_backend_load_all_from_path: the folder's CPU variants would register a
 * second CPU device beside the one already loaded. Both builds are the same llama.cpp
 * release, so the backend matches the libggml-base it binds to. A backend that cannot
 * start (no driver, no device) is simply not registered, and the CPU stays.
 */
static void load_cuda_backend(void)
{
    const char *dir = getenv("SLM_LLAMA_CUDA_DIR");
    if (!dir || !*dir)
        dir = SLM_LLAMA_CUDADIR;
    if (!*dir)
        return;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/libggml-cuda.so", dir);
    if (access(path, R_OK) == 0)
        lib.ggml_backend_load(path);
}

/*
 * Loads llama.cpp: the library named by $SLM_LLAMA_LIB, else the pinned build's
 * SLM_LLAMA_LIBDIR/libllama.v0.5.0.so, else "libllama.so" from the loader's path. Then
 * checks the ABI, silences the log and loads ggml's CPU backends found next to the
 * library. Calling it again once loaded does nothing. On failure nothing stays loaded.
 */
static int engine_init(char *err, size_t errlen)
{
    if (lib.handle)
        return 0;
    snprintf(lib.path, sizeof lib.path, "%s", lib_default_path());
    /* RTLD_LOCAL: llama.cpp's symbols stay out of the global namespace, so they cannot
     * clash with another engine's; dlsym() on the handle still finds those of libggml,
     * which libllama depends on. */
    lib.handle = dlopen(lib.path, RTLD_NOW | RTLD_LOCAL);
    if (!lib.handle) {
        const char *why = dlerror();
        slm_plugin_err(err, errlen, "cannot load llama.cpp library '%s': %s", lib.path,
                       why ? why : "unknown error");
        lib_unload();
        return -1;
    }

    /* The defaults first: a wrong library should be refused for its ABI even when it
     * also lacks functions. */
    if (sym("llama_context_default_params", (void **)&lib.context_default_params, err,
            errlen) ||
        sym("llama_model_default_params", (void **)&lib.model_default_params, err, errlen) ||
        sym("llama_model_quantize_default_params", (void **)&lib.quantize_default_params, err,
            errlen) ||
        abi_check(err, errlen)) {
        lib_unload();
        return -1;
    }
#define LLAMA_SYM(fn)                                                                        \
    if (sym(#fn, (void **)&lib.fn, err, errlen)) {                                           \
        lib_unload();                                                                        \
        return -1;                                                                           \
    }
    LLAMA_FUNCS(LLAMA_SYM)
    LLAMA_FUNCS_DEV(LLAMA_SYM)
#undef LLAMA_SYM

    /* Silence before the first call that may log. */
    lib.llama_log_set(on_log, NULL);
    lib.llama_backend_init();

    /* ggml picks the best CPU variant (libggml-cpu-<arch>.so) it finds in the folder. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", lib.path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        lib.ggml_backend_load_all_from_path(dir);
    } else {
        lib.ggml_backend_load_all_from_path(NULL);
    }
    load_cuda_backend();

    const char *base = slash ? strrchr(lib.path, '/') + 1 : lib.path;
    snprintf(lib.version, sizeof lib.version, "llama.cpp %s (%.64s)",
             SLM_LLAMA_OWN_DECLS ? SLM_LLAMA_RELEASE : "system", base);
    return 0;
}

/* Unloads llama.cpp; init() may load it again afterwards. */
static void engine_shutdown(void)
{
    if (!lib.handle)
        return;
    lib.llama_backend_free();
    lib.llama_log_set(NULL, NULL);
    lib_unload();
}

/* ---- file types ---- */

static const struct {
    const char *name;
    enum llama_ftype ftype;
} ftypes[] = {
    {"F32", LLAMA_FTYPE_ALL_F32},           {"F16", LLAMA_FTYPE_MOSTLY_F16},
    {"BF16", LLAMA_FTYPE_MOSTLY_BF16},      {"Q8_0", LLAMA_FTYPE_MOSTLY_Q8_0},
    {"Q6_K", LLAMA_FTYPE_MOSTLY_Q6_K},      {"Q5_K_M", LLAMA_FTYPE_MOSTLY_Q5_K_M},
    {"Q5_K_S", LLAMA_FTYPE_MOSTLY_Q5_K_S},  {"Q5_1", LLAMA_FTYPE_MOSTLY_Q5_1},
    {"Q5_0", LLAMA_FTYPE_MOSTLY_Q5_0},      {"Q4_K_M", LLAMA_FTYPE_MOSTLY_Q4_K_M},
    {"Q4_K_S", LLAMA_FTYPE_MOSTLY_Q4_K_S},  {"Q4_1", LLAMA_FTYPE_MOSTLY_Q4_1},
    {"Q4_0", LLAMA_FTYPE_MOSTLY_Q4_0},      {"Q3_K_L", LLAMA_FTYPE_MOSTLY_Q3_K_L},
    {"Q3_K_M", LLAMA_FTYPE_MOSTLY_Q3_K_M},  {"Q3_K_S", LLAMA_FTYPE_MOSTLY_Q3_K_S},
    {"Q2_K", LLAMA_FTYPE_MOSTLY_Q2_K},      {"Q2_K_S", LLAMA_FTYPE_MOSTLY_Q2_K_S},
    {"IQ4_XS", LLAMA_FTYPE_MOSTLY_IQ4_XS},  {"IQ4_NL", LLAMA_FTYPE_MOSTLY_IQ4_NL},
    {"IQ3_M", LLAMA_FTYPE_MOSTLY_IQ3_M},    {"IQ3_S", LLAMA_FTYPE_MOSTLY_IQ3_S},
    {"IQ3_XS", LLAMA_FTYPE_MOSTLY_IQ3_XS},  {"IQ3_XXS", LLAMA_FTYPE_MOSTLY_IQ3_XXS},
    {"IQ2_M", LLAMA_FTYPE_MOSTLY_IQ2_M},    {"IQ2_S", LLAMA_FTYPE_MOSTLY_IQ2_S},
    {"IQ2_XS", LLAMA_FTYPE_MOSTLY_IQ2_XS},  {"IQ2_XXS", LLAMA_FTYPE_MOSTLY_IQ2_XXS},
    {"IQ1_M", LLAMA_FTYPE_MOSTLY_IQ1_M},    {"IQ1_S", LLAMA_FTYPE_MOSTLY_IQ1_S},
    {"TQ2_0", LLAMA_FTYPE_MOSTLY_TQ2_0},    {"TQ1_0", LLAMA_FTYPE_MOSTLY_TQ1_0},
    {"MXFP4_MOE", LLAMA_FTYPE_MOSTLY_MXFP4_MOE},
};

static const char *ftype_name(int ftype)
{
    ftype &= ~(int)LLAMA_FTYPE_GUESSED;
    for (size_t i = 0; i < sizeof ftypes / sizeof ftypes[0]; i++)
        if ((int)ftypes[i].ftype == ftype)
            return ftypes[i].name;
    return "";
}

/* ---- the engine ---- */

struct slm_engine {
    struct llama_model *model;
    struct llama_context *ctx;
    const struct llama_vocab *vocab;
    llama_memory_t mem;
    char *path;
    const char *tmpl;         /* the model's chat template (owned by the model), or NULL */
    char tmpl_name[64];       /* built-in name it renders like, "custom", or "" */
    int n_ctx;                /* tokens one request may use (prompt plus a choice) */
    int n_kv;                 /* KV cells: n_ctx, or more for n_parallel prompts at once */
    int n_ctx_train, n_batch, n_threads, n_vocab;
    int n_seq_max;            /* sequences score() uses: the prompt's and the choices' */
    int n_seq_ctx;            /* sequences the context has, for score_batch() */
    int n_parallel;           /* most prompts score_batch() evaluates side by side */
    bool add_bos;
    bool chat_default;        /* open option chat_template=1 */
    struct llama_batch batch; /* n_batch tokens, one sequence id each */
    float *prompt_logits;     /* [n_vocab] logits after the last prompt token */
    bool prefix_cache;        /* open option prefix_cache=1: keep sequence 0 between requests */
    bool score_trie;          /* open option score_trie=1: shared choice prefixes decoded once */
    int score_group_nodes;    /* open option: the most trie nodes one batch decodes */
    llama_token *cache;       /* [n_ctx] the tokens sequence 0 holds, at positions 0.. */
    int n_cache;              /* how many; 0 whenever the memory's content is unknown */
    char tmpl_sha256[65];     /* SHA-256 of the template's text, "" without one */
    int n_gpu_layers;         /* layers offloaded (llama.cpp's count, output layer included) */
    char device[96];          /* "CPU", or the GPU's description */
    uint64_t kv_bytes;        /* the KV cache as allocated, 0 unknown */
    enum llama_flash_attn_type fa; /* open option flash_attn, kept for make_context() */
    int n_reused;             /* prompt tokens taken from the cache by the last request */
    long long n_reused_total; /* and by all requests, for a future ABI (not exposed yet) */
};

/* score() and generate() need weights and a context, which vocab_only leaves out. */
#define NEEDS_CONTEXT(e)                                                                           \
    do {                                                                                           \
        if (!(e)->ctx)                                                                             \
            return slm_plugin_err(err, errlen,                                                     \
                                  "model '%s' was opened with vocab_only: it can only "            \
                                  "tokenize",                                                      \
                                  (e)->path);                                                      \
    } while (0)

static int parse_int_option(const char *key, const char *value, long lo, long hi, int *out,
                            char *err, size_t errlen)
{
    long v;
    if (slm_plugin_parse_long(value, &v) || v < lo || v > hi) {
        if (lo == 1 && hi == INT_MAX)
            return slm_plugin_err(err, errlen, "option '%s': expected a positive integer, got '%s'",
                                  key, value);
        return slm_plugin_err(err, errlen,
                              "option '%s': expected an integer from %ld to %ld, got '%s'", key, lo,
                              hi, value);
    }
    *out = (int)v;
    return 0;
}

/* Checks that path can be read and starts with the GGUF magic. */
static int check_gguf(const char *path, const char *what, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return slm_plugin_err(err, errlen, "cannot open %s '%s': %s", what, path, strerror(errno));
    char magic[4];
    size_t n = fread(magic, 1, 4, f);
    fclose(f);
    if (n != 4 || memcmp(magic, "GGUF", 4) != 0)
        return slm_plugin_err(err, errlen, "%s '%s' is not a GGUF file", what, path);
    return 0;
}

/*
 * Finds which built-in template of llama.cpp renders a probe conversation exactly like
 * the model's own template: that is the name llama.cpp detected. A template it renders
 * but none of the built-ins match is "custom"; one it cannot render leaves the name empty
 * and the model without SLM_CAP_CHAT_TEMPLATE.
 */
static void detect_template(slm_engine *e)
{
    e->tmpl_name[0] = '\0';
    if (!e->tmpl)
        return;
    const llama_chat_message probe[] = {{"system", "S"}, {"user", "U"}};
    char want[512], got[512];
    int32_t n = lib.llama_chat_apply_template(e->tmpl, probe, 2, true, want, sizeof want);
    if (n < 0 || n >= (int32_t)sizeof want) {
        if (n >= (int32_t)sizeof want)
            snprintf(e->tmpl_name, sizeof e->tmpl_name, "custom");
        return;
    }
    const char *names[128];
    int32_t k = lib.llama_chat_builtin_templates(names, 128);
    for (int32_t i = 0; i < k && i < 128; i++) {
        int32_t m = lib.llama_chat_apply_template(names[i], probe, 2, true, got, sizeof got);
        if (m == n && memcmp(want, got, (size_t)n) == 0) {
            snprintf(e->tmpl_name, sizeof e->tmpl_name, "%s", names[i]);
            return;
        }
    }
    snprintf(e->tmpl_name, sizeof e->tmpl_name, "custom");
}

/* SHA-256 of s as 64 lowercase hex digits; "" if libcrypto fails (out of memory). */
static void sha256_hex(const char *s, char hex[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    hex[0] = '\0';
    if (EVP_Digest(s, strlen(s), d, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return;
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* The chat template, the built-in name it renders like and the hash of its text. Needs
 * only the model's metadata, so it works on a vocab_only model too. */
static void template_facts(slm_engine *e)
{
    e->tmpl = lib.llama_model_chat_template(e->model, NULL);
    detect_template(e);
    e->tmpl_sha256[0] = '\0';
    if (e->tmpl)
        sha256_hex(e->tmpl, e->tmpl_sha256);
}

/*
 * Layers offloaded and the device, from the n_gpu_layers asked (0: none, 999: all). The
 * count is llama.cpp's own ("offloaded 13/13 layers"): the n_layer blocks plus the output
 * layer. The device is the first GPU among ggml's devices ("+N" where there are more:
 * llama.cpp splits layers over all of them), else "CPU".
 */
static void gpu_facts(slm_engine *e, int ngl)
{
    int n_layer = lib.llama_model_n_layer(e->model);
    e->n_gpu_layers = ngl <= 0 ? 0 : ngl > n_layer ? n_layer + 1 : ngl;
    snprintf(e->device, sizeof e->device, "CPU");
    if (!e->n_gpu_layers)
        return;
    int found = 0;
    for (size_t i = 0; i < lib.ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t d = lib.ggml_backend_dev_get(i);
        if (lib.ggml_backend_dev_type(d) != GGML_BACKEND_DEVICE_TYPE_GPU)
            continue;
        if (found++ == 0) {
            const char *desc = lib.ggml_backend_dev_description(d);
            snprintf(e->device, sizeof e->device, "%.80s", desc && *desc ? desc : "GPU");
        }
    }
    if (found > 1) {
        size_t n = strlen(e->device);
        snprintf(e->device + n, sizeof e->device - n, " +%d", found - 1);
    }
}

/*
 * Bytes of the KV cache as allocated: n_layer × cells × n_head_kv × (key + value head
 * width) × 2 (F16, llama.cpp's default cache type, which the engine keeps). Head widths
 * are <arch>.attention.key_length / value_length where the file has them (Qwen3: 128 with
 * n_embd/n_head = 64), else n_embd / n_head. Checked against llama.cpp's own account, the
 * "KV buffer size = X MiB" lines it logs while creating the context (kv_mib, 0.01 MiB
 * resolution): where the two disagree beyond rounding — caches this formula does not
 * describe, e.g. recurrent state or per-layer head counts — the logged figure is used.
 */
static uint64_t kv_bytes(slm_engine *e, double logged_mib)
{
    int n_layer = lib.llama_model_n_layer(e->model);
    int n_head = lib.llama_model_n_head(e->model), n_head_kv = lib.llama_model_n_head_kv(e->model);
    int n_embd = lib.llama_model_n_embd(e->model);
    uint64_t b = 0;
    if (n_layer > 0 && n_head > 0 && n_head_kv > 0 && n_embd > 0) {
        char arch[64] = "", key[160], v[32];
        long dk = n_embd / n_head, dv = dk, x;
        if (lib.llama_model_meta_val_str(e->model, "general.architecture", arch, sizeof arch) < 0)
            arch[0] = '\0';
        snprintf(key, sizeof key, "%s.attention.key_length", arch);
        if (lib.llama_model_meta_val_str(e->model, key, v, sizeof v) > 0 &&
            !slm_plugin_parse_long(v, &x) && x > 0)
            dk = x;
        snprintf(key, sizeof key, "%s.attention.value_length", arch);
        if (lib.llama_model_meta_val_str(e->model, key, v, sizeof v) > 0 &&
            !slm_plugin_parse_long(v, &x) && x > 0)
            dv = x;
        b = (uint64_t)n_layer * (uint64_t)e->n_kv * (uint64_t)n_head_kv * (uint64_t)(dk + dv) * 2;
    }
    if (logged_mib > 0 && fabs((double)b / 1048576.0 - logged_mib) > 0.006)
        b = (uint64_t)llround(logged_mib * 1048576.0);
    return b;
}

/*
 * Creates the context: n_kv KV cells in one unified cache shared by n_seq sequences,
 * batches of n_batch tokens, the engine's threads and flash attention. Sets e->ctx,
 * e->mem, e->n_kv (llama.cpp may round up) and e->kv_bytes; -1 (err) leaves e->ctx NULL.
 */
static int make_context(slm_engine *e, int n_kv, int n_batch, int n_seq, char *err,
                        size_t errlen)
{
    struct llama_context_params cp = lib.context_default_params().p;
    cp.n_ctx = (uint32_t)n_kv;
    cp.n_batch = (uint32_t)n_batch;
    cp.n_ubatch = (uint32_t)n_batch;
    cp.n_seq_max = (uint32_t)n_seq;
    cp.n_threads = e->n_threads;
    cp.n_threads_batch = e->n_threads;
    cp.kv_unified = true; /* sequence copies share the prompt's cells instead of copying */
    cp.flash_attn_type = e->fa;
    cp.no_perf = true;
    log_reset();
    e->ctx = lib.llama_init_from_model(e->model, cp);
    if (!e->ctx) {
        char why[LOG_LINE];
        return slm_plugin_err(err, errlen, "cannot create a context for model '%s': %s",
                              e->path, log_error(why, sizeof why));
    }
    pthread_mutex_lock(&llog.lock);
    double kv_mib = llog.kv_mib; /* read before anything else logs */
    pthread_mutex_unlock(&llog.lock);
    e->mem = lib.llama_get_memory(e->ctx);
    e->n_kv = (int)lib.llama_n_ctx(e->ctx);
    e->kv_bytes = kv_bytes(e, kv_mib);
    return 0;
}

/* Closes an engine handle; NULL is a no-op. */
static void engine_close(slm_engine *e)
{
    if (!e)
        return;
    if (!lib.handle) { /* after shutdown(): llama.cpp's part is gone with the library */
        free(e->prompt_logits);
        free(e->cache);
        free(e->path);
        free(e);
        return;
    }
    if (e->batch.token)
        lib.llama_batch_free(e->batch);
    if (e->ctx)
        lib.llama_free(e->ctx);
    if (e->model)
        lib.llama_model_free(e->model);
    free(e->prompt_logits);
    free(e->cache);
    free(e->path);
    free(e);
}

/* The options engine_open() reads, parsed by parse_open_options(). */
typedef struct open_opts {
    const char *model;
    int n_ctx, threads, n_batch, n_seq_max, chat, prefix_cache, n_parallel, vocab_only;
    int score_trie, score_group_nodes;
    int ngl; /* n_gpu_layers; INT_MIN: not given */
    enum llama_flash_attn_type fa;
} open_opts;

/* The integer options and their ranges: the one table that both engine_open() and
 * engine_check_options() read (through parse_open_options()). */
static const struct {
    const char *key;
    long lo, hi;
    size_t off; /* of the int in open_opts */
} int_options[] = {
    {"n_ctx", 1, INT_MAX, offsetof(open_opts, n_ctx)},
    {"threads", 1, INT_MAX, offsetof(open_opts, threads)},
    {"n_batch", 1, INT_MAX, offsetof(open_opts, n_batch)},
    {"n_seq_max", 2, SLM_LLAMA_MAX_N_SEQ, offsetof(open_opts, n_seq_max)},
    {"chat_template", 0, 1, offsetof(open_opts, chat)},
    {"prefix_cache", 0, 1, offsetof(open_opts, prefix_cache)},
    {"score_trie", 0, 1, offsetof(open_opts, score_trie)},
    {"score_group_nodes", 1, INT_MAX, offsetof(open_opts, score_group_nodes)},
    {"n_parallel", 1, SLM_LLAMA_MAX_N_PARALLEL, offsetof(open_opts, n_parallel)},
    {"vocab_only", 0, 1, offsetof(open_opts, vocab_only)},
    {"n_gpu_layers", -1, INT_MAX, offsetof(open_opts, ngl)},
};
#define N_INT_OPTIONS (sizeof int_options / sizeof *int_options)

/* Fills o with the defaults, then with opts (keys it does not know are left to
 * slm_plugin_check_keys()); -1 with err on a value out of range or malformed. */
static int parse_open_options(const slm_options *opts, open_opts *o, char *err, size_t errlen)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    *o = (open_opts){.n_ctx = DEFAULT_N_CTX, .threads = ncpu > 0 ? (int)ncpu : 1,
                     .n_batch = DEFAULT_N_BATCH, .n_seq_max = DEFAULT_N_SEQ_MAX,
                     .prefix_cache = 1, .score_trie = 1,
                     .score_group_nodes = DEFAULT_SCORE_GROUP_NODES, .n_parallel = DEFAULT_N_PARALLEL,
                     .ngl = INT_MIN, .fa = LLAMA_FLASH_ATTN_TYPE_DISABLED};
    for (size_t i = 0; opts && i < opts->n; i++) {
        const char *k = opts->items[i].key, *v = opts->items[i].value;
        if (!k || !v)
            continue;
        if (!strcmp(k, "model")) {
            o->model = v;
        } else if (!strcmp(k, "flash_attn")) {
            if (strcmp(v, "0") && strcmp(v, "1") && strcmp(v, "auto"))
                return slm_plugin_err(err, errlen, "option '%s': expected 0, 1 or auto, got '%s'",
                                      k, v);
            o->fa = !strcmp(v, "auto") ? LLAMA_FLASH_ATTN_TYPE_AUTO
                                       : (enum llama_flash_attn_type)(v[0] - '0');
        }
        for (size_t j = 0; j < N_INT_OPTIONS; j++)
            if (!strcmp(k, int_options[j].key) &&
                parse_int_option(k, v, int_options[j].lo, int_options[j].hi,
                                 (int *)((char *)o + int_options[j].off), err, errlen))
                return -1;
    }
    return 0;
}

/*
 * Opens a GGUF model. Options: model (required), n_ctx (2048, at most the
 * model's training context; the tokens of one request, prompt and output: per sequence,
 * generate_many() holding N sequences grows the cache to N × n_ctx cells), threads (online CPUs), n_batch (512), n_seq_max (32: the
 * prompt plus up to 31 choices scored per batch), chat_template ("1": wrap every prompt),
 * flash_attn ("0" by default, "1", "auto"), prefix_cache ("1" by default: reuse the
 * prompt tokens shared with the previous request; "0": evaluate every prompt from an
 * empty cache), score_trie ("1" by default: score() and score_batch() decode each node of
 * the choices' token trie once, shared label prefixes once for all the labels through them; "0":
 * every choice decodes all its tokens in a sequence of its own, the reference the trie
 * is tested and benchmarked against), score_group_nodes (128: the most trie nodes one
 * llama_decode() of the choices takes, see trie_group_end()), n_parallel (8, at most 128:
 * prompts score_batch() evaluates side by side), vocab_only ("1": the vocabulary alone, no weights and no context; tokenize()
 * and info() work, score() and generate() fail), n_gpu_layers (-1: all, the default where
 * a GPU backend loaded; 0, the default otherwise: CPU only; asking for layers without a
 * GPU backend is an error). Unknown keys are ignored.
 *
 * n_parallel sizes the context for score_batch(): it gets n_parallel * (1 + 8) sequences
 * (a prompt and 8 choices in flight each, at most 256 in all) and max(n_ctx,
 * n_parallel * 256) KV cells. The default n_parallel 8 thus costs no memory beyond the
 * default n_ctx of 2048; score() still uses n_seq_max and n_ctx as before. Longer prompts
 * or more choices only make score_batch() work in smaller groups.
 *
 * Flash attention is off by default because on the CPU it accumulates in half precision
 * in an order that depends on the KV cache layout: a choice scored from the cached
 * prompt then differs from the same text evaluated in one piece by about 1e-3 per token
 * (measured on v0.5.0), against about 1e-6 without it. Scores should not depend on how
 * the batch was laid out.
 *
 * The options are parsed by parse_open_options() from int_options, the table that
 * check_options() reads too.
 *
 * Long (about 120 lines, complexity 27) because it is one straight sequence of
 * llama.cpp calls, each undone in reverse on failure through the one close path; split
 * it where a step gains a second caller.
 */
static int engine_open(const slm_options *opts, slm_engine **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!lib.handle)
        return slm_plugin_err(err, errlen, "llama.cpp library not loaded (init was not called)");
    open_opts o;
    if (parse_open_options(opts, &o, err, errlen))
        return -1;
    const char *model = o.model;
    int n_ctx = o.n_ctx, n_batch = o.n_batch, n_seq_max = o.n_seq_max, threads = o.threads;
    int chat = o.chat, prefix_cache = o.prefix_cache, n_parallel = o.n_parallel;
    int vocab_only = o.vocab_only, ngl = o.ngl;
    enum llama_flash_attn_type fa = o.fa;
    if (!model || !*model)
        return slm_plugin_err(err, errlen, "option 'model' is required (path of a GGUF file)");
    if (check_gguf(model, "model", err, errlen))
        return -1;
    /* Every layer on the GPU where a GPU backend loaded, none otherwise; -1 means all. */
    bool gpu = lib.llama_supports_gpu_offload();
    if (ngl == INT_MIN)
        ngl = gpu ? -1 : 0;
    else if (ngl != 0 && !gpu)
        return slm_plugin_err(err, errlen,
                              "option 'n_gpu_layers': %d asked, but no GPU backend is "
                              "loaded (CPU only; use 0)",
                              ngl);
    if (ngl < 0)
        ngl = 999;

    slm_engine *e = slm_plugin_calloc(1, sizeof *e);
    if (!e || !(e->path = slm_plugin_strdup(model))) {
        free(e);
        return slm_plugin_oom(err, errlen);
    }
    e->chat_default = chat;
    e->prefix_cache = prefix_cache;
    e->score_trie = o.score_trie;
    e->score_group_nodes = o.score_group_nodes;

    struct llama_model_params mp = lib.model_default_params().p;
    mp.n_gpu_layers = ngl; /* the device is recorded with the model facts */
    mp.vocab_only = vocab_only != 0;
    log_reset();
    e->model = lib.llama_model_load_from_file(model, mp);
    if (!e->model) {
        char why[LOG_LINE];
        slm_plugin_err(err, errlen, "cannot load model '%s': %s", model,
                       log_error(why, sizeof why));
        engine_close(e);
        return -1;
    }
    if (lib.llama_model_has_encoder(e->model)) {
        slm_plugin_err(err, errlen, "model '%s' is an encoder-decoder model, not supported", model);
        engine_close(e);
        return -1;
    }
    template_facts(e);
    gpu_facts(e, ngl);
    e->vocab = lib.llama_model_get_vocab(e->model);
    e->n_vocab = lib.llama_vocab_n_tokens(e->vocab);
    e->add_bos = lib.llama_vocab_get_add_bos(e->vocab);
    e->n_ctx_train = lib.llama_model_n_ctx_train(e->model);
    if (e->n_ctx_train > 0 && n_ctx > e->n_ctx_train)
        n_ctx = e->n_ctx_train;
    if (vocab_only) { /* no context: tokenize() and info() only */
        e->tmpl = lib.llama_model_chat_template(e->model, NULL);
        detect_template(e);
        *out = e;
        return 0;
    }

    /* Positions stay below n_ctx in every sequence; only the cache holds more cells. */
    int n_kv = n_ctx;
    if (n_parallel > 1 && n_parallel * PARALLEL_CELLS > n_kv)
        n_kv = n_parallel * PARALLEL_CELLS;
    int n_seq_ctx = n_parallel * (1 + PARALLEL_CHOICES);
    if (n_seq_ctx > SLM_LLAMA_MAX_N_SEQ)
        n_seq_ctx = SLM_LLAMA_MAX_N_SEQ;
    /* llama.cpp reserves an output row per sequence within the batch's rows, and aborts
     * the process when they do not fit (v0.5.0: GGML_ASSERT in output_reserve). */
    if (n_seq_max > n_batch) {
        engine_close(e);
        return slm_plugin_err(err, errlen,
                              "option 'n_seq_max' (%d) exceeds n_batch (%d): llama.cpp needs a "
                              "batch row per sequence; raise n_batch or lower n_seq_max",
                              n_seq_max, n_batch);
    }
    if (n_seq_ctx > n_batch)
        n_seq_ctx = n_batch;
    if (n_seq_ctx < n_seq_max)
        n_seq_ctx = n_seq_max;

    e->n_threads = threads;
    e->fa = fa;
    if (make_context(e, n_kv, n_batch, n_seq_ctx, err, errlen)) {
        engine_close(e);
        return -1;
    }
    /* llama.cpp may round the cells up; without n_parallel's growth they all serve one
     * request, as before the batch mode existed. */
    e->n_ctx = n_kv == n_ctx || n_ctx > e->n_kv ? e->n_kv : n_ctx;
    e->n_batch = (int)lib.llama_n_batch(e->ctx);
    e->n_seq_max = n_seq_max;
    e->n_seq_ctx = n_seq_ctx;
    e->n_parallel = n_parallel;
    e->batch = lib.llama_batch_init(e->n_batch, 0, 1);
    e->prompt_logits = slm_plugin_malloc(sizeof(float) * (size_t)e->n_vocab);
    e->cache = slm_plugin_malloc(sizeof *e->cache * (size_t)e->n_ctx);
    if (!e->prompt_logits || !e->cache) {
        engine_close(e);
        return slm_plugin_oom(err, errlen);
    }
    *out = e;
    return 0;
}

static void meta_str(slm_engine *e, const char *key, char *buf, size_t n)
{
    if (lib.llama_model_meta_val_str(e->model, key, buf, n) < 0)
        buf[0] = '\0';
}

/* Fills the model facts; writes only the part of *info its struct_size covers. */
static int engine_info(slm_engine *e, slm_model_info *info, char *err, size_t errlen)
{
    if (!e || !info)
        return slm_plugin_err(err, errlen, "no engine or no info to fill");
    slm_model_info m;
    memset(&m, 0, sizeof m);
    m.caps = SLM_CAP_TOKENIZE;
    if (e->ctx)
        m.caps |= SLM_CAP_SCORE | SLM_CAP_GENERATE | SLM_CAP_CONSTRAIN | SLM_CAP_QUANTIZE |
                  SLM_CAP_TOKEN_LOGPROBS | SLM_CAP_BATCH | SLM_CAP_CONCURRENT | SLM_CAP_SCHEDULE;
    if (e->tmpl_name[0])
        m.caps |= SLM_CAP_CHAT_TEMPLATE;
    meta_str(e, "general.architecture", m.arch, sizeof m.arch);
    meta_str(e, "general.name", m.name, sizeof m.name);
    snprintf(m.quant, sizeof m.quant, "%s", ftype_name(lib.llama_model_ftype(e->model)));
    snprintf(m.engine_version, sizeof m.engine_version, "%s", lib.version);
    snprintf(m.chat_template, sizeof m.chat_template, "%s", e->tmpl_name);
    if (lib.llama_model_desc(e->model, m.desc, sizeof m.desc) < 0)
        m.desc[0] = '\0';
    m.n_params = lib.llama_model_n_params(e->model);
    m.size_bytes = lib.llama_model_size(e->model);
    m.n_ctx = e->n_ctx;
    m.n_ctx_train = e->n_ctx_train;
    m.n_vocab = e->n_vocab;
    m.n_layer = lib.llama_model_n_layer(e->model);
    m.n_embd = lib.llama_model_n_embd(e->model);
    m.n_threads = e->n_threads;
    m.kv_bytes = e->kv_bytes;
    m.n_gpu_layers = e->n_gpu_layers;
    snprintf(m.device, sizeof m.device, "%s", e->device);
    snprintf(m.chat_template_text_sha256, sizeof m.chat_template_text_sha256, "%s",
             e->tmpl_sha256);

    size_t n = info->struct_size < sizeof m ? info->struct_size : sizeof m;
    size_t skip = sizeof m.struct_size;
    if (n > skip)
        memcpy((char *)info + skip, (char *)&m + skip, n - skip);
    return 0;
}

/* ---- prompts and tokens ---- */

/* Whether a request, as the harness compiled it, has a field. */
#define HAS_FIELD(s, type, field) ((s)->struct_size >= offsetof(type, field) + sizeof((s)->field))

/* Tokenizes text[0..len) into *out (caller frees); *n gets the count. */
static int tokenize(slm_engine *e, const char *text, size_t len, bool add_special,
                    bool parse_special, llama_token **out, int *n, char *err, size_t errlen)
{
    *out = NULL;
    if (len > INT32_MAX / 2)
        return slm_plugin_err(err, errlen, "text of %zu bytes is too long to tokenize", len);
    int32_t cap = (int32_t)len + 8;
    llama_token *t = slm_plugin_malloc(sizeof *t * (size_t)cap);
    if (!t)
        return slm_plugin_oom(err, errlen);
    int32_t k = lib.llama_tokenize(e->vocab, text, (int32_t)len, t, cap, add_special,
                                  parse_special);
    if (k < 0 && k != INT32_MIN) {
        cap = -k;
        llama_token *t2 = slm_plugin_realloc(t, sizeof *t * (size_t)cap);
        if (!t2) {
            free(t);
            return slm_plugin_oom(err, errlen);
        }
        t = t2;
        k = lib.llama_tokenize(e->vocab, text, (int32_t)len, t, cap, add_special, parse_special);
    }
    if (k < 0) {
        free(t);
        return slm_plugin_err(err, errlen, "cannot tokenize the text (%d)", (int)k);
    }
    *out = t;
    *n = k;
    return 0;
}

/*
 * The text the model sees: the prompt, or with a chat template the prompt as one user
 * message followed by the assistant's opening. *special tells whether special tokens in
 * the text are to be parsed: only in text the template wrote, never in a raw prompt.
 */
static int prompt_text(slm_engine *e, const slm_request *req, char **out, size_t *len,
                       bool *special, char *err, size_t errlen)
{
    size_t plen = req->prompt_len ? req->prompt_len : strlen(req->prompt);
    int wrap = e->chat_default;
    if (HAS_FIELD(req, slm_request, chat_template) && req->chat_template)
        wrap = 1;
    *special = false;
    if (!wrap) {
        *out = slm_plugin_strndup(req->prompt, plen);
        *len = plen;
        return *out ? 0 : slm_plugin_oom(err, errlen);
    }
    if (!e->tmpl)
        return slm_plugin_err(err, errlen, "model '%s' has no chat template", e->path);
    if (!e->tmpl_name[0])
        return slm_plugin_err(err, errlen,
                              "the chat template of model '%s' is none of the formats "
                              "llama.cpp can apply (llama_chat_apply_template refuses it)",
                              e->path);
    char *content = slm_plugin_strndup(req->prompt, plen);
    llama_chat_message msg = {"user", content};
    int32_t cap = (int32_t)(2 * plen + 256);
    char *buf = content ? slm_plugin_malloc((size_t)cap) : NULL;
    int32_t n = buf ? lib.llama_chat_apply_template(e->tmpl, &msg, 1, true, buf, cap) : -1;
    if (n >= cap) {
        cap = n + 1;
        char *b2 = slm_plugin_realloc(buf, (size_t)cap);
        if (b2)
            buf = b2;
        n = b2 ? lib.llama_chat_apply_template(e->tmpl, &msg, 1, true, buf, cap) : -1;
        if (!b2)
            cap = 0; /* marks the failure below */
    }
    free(content);
    if (!buf || !cap) {
        free(buf);
        return slm_plugin_oom(err, errlen);
    }
    if (n < 0 || n >= cap) {
        free(buf);
        return slm_plugin_err(err, errlen, "cannot apply the chat template of model '%s'", e->path);
    }
    buf[n] = '\0';
    *out = buf;
    *len = (size_t)n;
    *special = true;
    return 0;
}

static void text_result_free(slm_text_result *r)
{
    if (!r)
        return;
    free(r->text);
    free(r);
}

/*
 * render(): the text prompt_tokens() evaluates for a request, and how many tokens that is
 * (BOS included). The same two functions make it, so the bytes are those score() and
 * generate() see. Needs only the vocabulary and the template.
 */
static int engine_render(slm_engine *e, const slm_request *req, slm_text_result **out,
                         char *err, size_t errlen)
{
    *out = NULL;
    if (!e || !req || !req->prompt)
        return slm_plugin_err(err, errlen, "no engine or no prompt to render");
    char *text;
    size_t len;
    bool special;
    if (prompt_text(e, req, &text, &len, &special, err, errlen))
        return -1;
    llama_token *toks;
    int n;
    if (tokenize(e, text, len, true, special, &toks, &n, err, errlen)) {
        free(text);
        return -1;
    }
    free(toks);
    slm_text_result *r = slm_plugin_calloc(1, sizeof *r);
    if (!r) {
        free(text);
        return slm_plugin_oom(err, errlen);
    }
    r->kind = SLM_RESULT_TEXT;
    r->text = text;
    r->len = len;
    r->n_tokens = n;
    r->flags = SLM_TOKENIZE_ADD_SPECIAL | (special ? SLM_TOKENIZE_PARSE_SPECIAL : 0);
    *out = r;
    return 0;
}

static void probe_begin(const slm_request *req, slm_phase phase)
{
    if (HAS_FIELD(req, slm_request, probe) && req->probe && req->probe->phase_begin)
        req->probe->phase_begin(req->probe->ud, phase);
}

static void probe_end(const slm_request *req, slm_phase phase, int n_tokens)
{
    if (HAS_FIELD(req, slm_request, probe) && req->probe && req->probe->phase_end)
        req->probe->phase_end(req->probe->ud, phase, n_tokens);
}

static void batch_add(struct llama_batch *b, llama_token tok, llama_pos pos, llama_seq_id seq,
                      bool logits)
{
    int i = b->n_tokens++;
    b->token[i] = tok;
    b->pos[i] = pos;
    b->n_seq_id[i] = 1;
    b->seq_id[i][0] = seq;
    b->logits[i] = logits;
}

/*
 * ln sum exp(x) over the vocabulary. It runs once per scored or generated token over
 * 128k-152k logits on real vocabularies, where a scalar double exp() took 0.85 ms a row
 * (3.5% of a 0.5B model's decode step on 2 cores); this takes 0.10 ms with AVX2, 0.46
 * without. Eight lanes of float: e^(x - max) through a degree-6 polynomial after range
 * reduction (about 2 ulp), summed in float for 64 lanes at most, then in double; the
 * result is within 1e-7 of the double-precision sum (test_score_real_vocab compares
 * scores with its own double-precision evaluation).
 */
/* The vectors never cross an ABI boundary (static functions; the clones' resolver is
 * emitted at the end of the file, so this stays on to the end). */
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float lse_v8f __attribute__((vector_size(32)));
typedef int32_t lse_v8i __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) lse_v8f lse_max(lse_v8f a, lse_v8f b)
{
    lse_v8i m = a > b;
    return (lse_v8f)(((lse_v8i)a & m) | ((lse_v8i)b & ~m));
}

/* e^x for x <= 0 (below -87 taken as -87, whose e^x is negligible next to e^0 = 1) */
static inline __attribute__((always_inline)) lse_v8f lse_exp_neg(lse_v8f x)
{
    const lse_v8f floor87 = {-87, -87, -87, -87, -87, -87, -87, -87};
    x = lse_max(x, floor87);
    const float shift = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    lse_v8f k = (x * 1.44269504f + shift) - shift;      /* round(x / ln 2) */
    lse_v8f r = x - k * 0.693145751953125f - k * 1.428606765330187e-06f; /* |r| <= ln2/2 */
    lse_v8f p = r * (1.0f / 720) + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    lse_v8i e = (__builtin_convertvector(k, lse_v8i) + 127) << 23; /* 2^k */
    return p * (lse_v8f)e;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static double log_sum_exp(const float *x, int n)
{
    float mx = x[0];
    int i = 0;
    if (n >= 16) {
        lse_v8f m;
        memcpy(&m, x, sizeof m);
        for (i = 8; i + 8 <= n; i += 8) {
            lse_v8f v;
            memcpy(&v, x + i, sizeof v);
            m = lse_max(m, v);
        }
        for (int l = 0; l < 8; l++)
            mx = m[l] > mx ? m[l] : mx;
    }
    for (; i < n; i++)
        mx = x[i] > mx ? x[i] : mx;
    double s = 0;
    lse_v8f acc = {0};
    for (i = 0; i + 8 <= n; i += 8) {
        lse_v8f v;
        memcpy(&v, x + i, sizeof v);
        acc += lse_exp_neg(v - mx);
        if ((i & 511) == 504) { /* every 64 lanes into the double sum */
            for (int l = 0; l < 8; l++)
                s += acc[l];
            acc = (lse_v8f){0};
        }
    }
    for (int l = 0; l < 8; l++)
        s += acc[l];
    for (; i < n; i++)
        s += exp((double)x[i] - mx);
    return mx + log(s);
}

/* Empties the whole memory and forgets what sequence 0 held: after a failure, or for
 * every request when the prefix cache is off. */
static void cache_reset(slm_engine *e)
{
    lib.llama_memory_clear(e->mem, true);
    e->n_cache = 0;
}

/*
 * Keeps the first p tokens of sequence 0 and drops everything else, the choice sequences
 * included. Returns how many were kept: p, or 0 where the memory cannot cut a sequence
 * short (llama_memory_seq_rm refuses, as recurrent models' memories do) and was cleared.
 */
static int cache_keep(slm_engine *e, int p)
{
    for (llama_seq_id s = 1; s < e->n_seq_max; s++)
        lib.llama_memory_seq_rm(e->mem, s, -1, -1);
    if (p == 0 || !lib.llama_memory_seq_rm(e->mem, 0, p, -1)) {
        cache_reset(e);
        return 0;
    }
    e->n_cache = p;
    return p;
}

/*
 * Evaluates the prompt into sequence 0, in chunks of n_batch, keeping only the logits
 * after its last token (copied into e->prompt_logits). With the prefix cache, the tokens
 * it shares with what sequence 0 already holds stay and only the rest is decoded; the
 * last token always is, so its logits belong to this prompt. Without it, the memory is
 * emptied first. On failure the memory is emptied too: its content is unknown.
 */
static int prefill(slm_engine *e, const llama_token *toks, int n, char *err, size_t errlen)
{
    int p = 0;
    if (e->prefix_cache) {
        int lim = e->n_cache < n - 1 ? e->n_cache : n - 1;
        while (p < lim && e->cache[p] == toks[p])
            p++;
        p = cache_keep(e, p);
    } else {
        cache_reset(e);
    }
    e->n_reused = p;
    e->n_reused_total += p;
    for (int i = p; i < n; i += e->n_batch) {
        int m = n - i < e->n_batch ? n - i : e->n_batch;
        e->batch.n_tokens = 0;
        for (int j = 0; j < m; j++)
            batch_add(&e->batch, toks[i + j], i + j, 0, i + j == n - 1);
        log_reset();
        int32_t rc = lib.llama_decode(e->ctx, e->batch);
        if (rc != 0) {
            char why[LOG_LINE];
            cache_reset(e);
            return slm_plugin_err(err, errlen, "llama_decode failed on the prompt (%d): %s",
                                  (int)rc, log_error(why, sizeof why));
        }
    }
    const float *lg = lib.llama_get_logits_ith(e->ctx, -1);
    if (!lg) {
        cache_reset(e);
        return slm_plugin_err(err, errlen, "llama.cpp returned no logits for the prompt");
    }
    memcpy(e->prompt_logits, lg, sizeof(float) * (size_t)e->n_vocab);
    if (e->prefix_cache) {
        memcpy(e->cache, toks, sizeof *toks * (size_t)n);
        e->n_cache = n;
    }
    return 0;
}

/* Tokenizes the request's prompt (with BOS when the vocabulary wants one). */
static int prompt_tokens(slm_engine *e, const slm_request *req, char **text, size_t *text_len,
                         bool *special, llama_token **toks, int *n, char *err, size_t errlen)
{
    *text = NULL;
    *toks = NULL;
    if (!req || !req->prompt)
        return slm_plugin_err(err, errlen, "request without a prompt");
    if (prompt_text(e, req, text, text_len, special, err, errlen))
        return -1;
    if (tokenize(e, *text, *text_len, true, *special, toks, n, err, errlen)) {
        free(*text);
        *text = NULL;
        return -1;
    }
    if (*n == 0 || *n >= e->n_ctx) {
        int k = *n;
        free(*text);
        free(*toks);
        *text = NULL;
        *toks = NULL;
        if (k == 0)
            return slm_plugin_err(err, errlen, "the prompt is empty");
        return slm_plugin_err(err, errlen, "the prompt has %d tokens, the context only %d", k,
                              e->n_ctx);
    }
    return 0;
}

/* ---- score ---- */

/*
 * Where the prompt's text can be cut so that no choice appended to it changes a token
 * before the cut: after its last newline that a non-space character follows, provided
 * the text before it (with BOS) and the text after it tokenize to exactly the prompt's
 * tokens. A byte-level BPE tokenizer splits text into pre-tokens by a regular expression
 * that reads left to right and never behind, and a newline run ends a pre-token, so the
 * joint tokens of prompt + choice are then the *na tokens before the cut followed by the
 * tokens of the rest + choice: tokenizing that rest instead of the whole prompt for each
 * choice saves K tokenizations of the prompt (a 500-token prompt listing 151 labels: 40%
 * of score()'s time on a demo model, most of it llama.cpp's BPE merges). Returns the
 * offset, or 0 where there is no such cut (no newline, a tokenizer that adds a space
 * before a text as SPM does, or one that adds EOS): every joint text is then tokenized
 * whole.
 */
static size_t prompt_cut(slm_engine *e, const char *text, size_t text_len, bool special,
                         const llama_token *ptoks, int np, int *na)
{
    size_t c = text_len;
    while (c > 0 && !(text[c - 1] == '\n' && c < text_len && !isspace((unsigned char)text[c])))
        c--;
    if (c == 0)
        return 0;
    char why[8];
    llama_token *a = NULL, *b = NULL;
    int n_a = 0, n_b = 0, ok = 0;
    if (!tokenize(e, text, c, true, special, &a, &n_a, why, sizeof why) &&
        !tokenize(e, text + c, text_len - c, false, special, &b, &n_b, why, sizeof why))
        ok = n_a + n_b == np && !memcmp(a, ptoks, sizeof *a * (size_t)n_a) &&
             !memcmp(b, ptoks + n_a, sizeof *b * (size_t)n_b);
    free(a);
    free(b);
    *na = n_a;
    return ok ? c : 0;
}

/* The joint tokens of text + choice into *out / *n: whole, or with cut > 0 the prompt's
 * first na tokens and the tokens of the text after the cut + choice (prompt_cut()). */
static int joint_tokens(slm_engine *e, const char *text, size_t text_len, bool special,
                        const llama_token *ptoks, size_t cut, int na, const char *choice,
                        llama_token **out, int *n, char *err, size_t errlen)
{
    size_t clen = strlen(choice), from = cut ? cut : 0;
    char *full = slm_plugin_malloc(text_len - from + clen + 1);
    if (!full)
        return slm_plugin_oom(err, errlen);
    memcpy(full, text + from, text_len - from);
    memcpy(full + text_len - from, choice, clen + 1);
    llama_token *t;
    int k;
    int rc = tokenize(e, full, text_len - from + clen, !cut, special, &t, &k, err, errlen);
    free(full);
    if (rc || !cut) {
        *out = rc ? NULL : t;
        *n = k;
        return rc;
    }
    *out = slm_plugin_malloc(sizeof *t * (size_t)(na + k + 1));
    if (!*out) {
        free(t);
        return slm_plugin_oom(err, errlen);
    }
    memcpy(*out, ptoks, sizeof *t * (size_t)na);
    memcpy(*out + na, t, sizeof *t * (size_t)k);
    free(t);
    *n = na + k;
    return 0;
}

/*
 * The choices' tokens, by the rule of a careful evaluator: each choice's tokens are the
 * tail of the joint tokenization of prompt + choice, never the choice tokenized alone.
 * Usually (choices start with a space, " billing") the prompt's own tokens are a prefix
 * of every joint tokenization and the tails follow the prompt as it is. Where a BPE
 * tokenizer merges across the boundary for some choice (a prompt ending in a space, a
 * choice starting with punctuation), the prompt is cut back to the longest token prefix
 * that every joint tokenization shares, and each choice is scored from there: its tail
 * then begins with the re-tokenized end of the prompt. Every choice is thus scored as
 * ln P(the rest of its own text | the same tokens), which makes the scores comparable,
 * and the cached prompt is exactly a prefix of what a full evaluation of prompt + choice
 * sees. *np becomes that shared length (the prompt's tokens when nothing merges);
 * ct[i] / nc[i] get each tail (caller frees). A prompt that shares no token with the
 * choices (a tokenizer without BOS whose first token merges) is refused. The joint texts
 * are tokenized from the prompt's last line on where prompt_cut() finds that exact.
 */
static int choices_tokens(slm_engine *e, const char *text, size_t text_len, bool special,
                          const llama_token *ptoks, int *np, const char *const *choices,
                          size_t n, llama_token **ct, int *nc, char *err, size_t errlen)
{
    int shared = *np, na = 0;
    size_t cut = n > 1 ? prompt_cut(e, text, text_len, special, ptoks, *np, &na) : 0;
    for (size_t i = 0; i < n; i++) {
        if (!choices[i])
            return slm_plugin_err(err, errlen, "choice %zu is NULL", i);
        if (joint_tokens(e, text, text_len, special, ptoks, cut, na, choices[i], &ct[i], &nc[i],
                         err, errlen))
            return -1;
        int k = 0;
        while (k < shared && k < nc[i] && ct[i][k] == ptoks[k])
            k++;
        shared = k;
    }
    if (shared == 0 && n > 0)
        return slm_plugin_err(err, errlen,
                              "the prompt and its choices share no token at the start");
    for (size_t i = 0; i < n; i++) {
        memmove(ct[i], ct[i] + shared, sizeof *ct[i] * (size_t)(nc[i] - shared));
        nc[i] -= shared;
    }
    *np = shared;
    return 0;
}

static void score_result_free(slm_score_result *r)
{
    if (!r)
        return;
    free(r->logprob);
    free(r->n_tokens);
    free(r);
}

/* A zeroed result for n choices, timings unknown; NULL when out of memory. */
static slm_score_result *score_result_new(size_t n)
{
    slm_score_result *r = slm_plugin_calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->kind = SLM_RESULT_SCORE;
    r->n = n;
    r->logprob = slm_plugin_calloc(n, sizeof *r->logprob);
    r->n_tokens = slm_plugin_calloc(n, sizeof *r->n_tokens);
    r->timings = (slm_timings){-1, -1, -1, -1};
    if (!r->logprob || !r->n_tokens) {
        score_result_free(r);
        return NULL;
    }
    return r;
}

/*
 * Scores the choices of one group (at most n_seq_max-1 of them, their decoded tokens
 * fitting in one batch): each choice i gets sequence 1+i, a copy of the prompt's sequence
 * 0, and its tokens but the last go into a single batch with logits on. Token 0 of a
 * choice is scored from the prompt's logits, token k>0 from the logits after token k-1;
 * the last token never needs decoding itself.
 */
static int score_group(slm_engine *e, int np, llama_token **ct, const int *nc, size_t g0,
                       size_t g1, double lse0, double *lp, char *err, size_t errlen)
{
    e->batch.n_tokens = 0;
    for (size_t i = g0; i < g1; i++) {
        if (nc[i] < 2)
            continue;
        llama_seq_id s = (llama_seq_id)(1 + i - g0);
        lib.llama_memory_seq_cp(e->mem, 0, s, -1, -1);
        for (int k = 0; k < nc[i] - 1; k++)
            batch_add(&e->batch, ct[i][k], np + k, s, true);
    }
    int rc = 0;
    if (e->batch.n_tokens > 0) {
        log_reset();
        int32_t d = lib.llama_decode(e->ctx, e->batch);
        if (d != 0) {
            char why[LOG_LINE];
            rc = slm_plugin_err(err, errlen, "llama_decode failed on the choices (%d): %s", (int)d,
                                log_error(why, sizeof why));
        }
    }
    int row = 0;
    for (size_t i = g0; i < g1 && rc == 0; i++) {
        lp[i] = 0;
        if (nc[i] == 0)
            continue;
        lp[i] = e->prompt_logits[ct[i][0]] - lse0;
        for (int k = 1; k < nc[i]; k++, row++) {
            const float *lg = lib.llama_get_logits_ith(e->ctx, row);
            if (!lg) {
                rc = slm_plugin_err(err, errlen, "llama.cpp returned no logits for a choice");
                break;
            }
            lp[i] += lg[ct[i][k]] - log_sum_exp(lg, e->n_vocab);
        }
    }
    for (size_t i = g0; i < g1; i++)
        if (nc[i] >= 2)
            lib.llama_memory_seq_rm(e->mem, (llama_seq_id)(1 + i - g0), -1, -1);
    if (rc)
        cache_reset(e);
    return rc;
}

/* ---- score: the choices' token trie ---- */

/*
 * Choices share prefixes under real tokenizers (banking77's " card", "_", …; clinc150's
 * " what", " how"), so score() and score_batch() decode the trie of their decoded tokens —
 * ct[i][0 .. nc[i]-2]; the last token is only read — rather than each choice's tokens
 * apart: a node is one token at position np + depth, in the batch once, with the sequence
 * id of every trie leaf below it (llama.cpp's batch carries several per token and the KV
 * cell it fills belongs to all of them). A leaf is a choice's last decoded token that no
 * other choice of the group goes on from; each leaf's sequence is a copy of its prompt's,
 * so a node attends to the prompt and to its ancestors, whose cells hold its leaves' ids
 * too, and to nothing else: the same keys and values as in the choice's own sequence of
 * the per-choice path (score_group), which score_trie=0 keeps as the reference.
 *
 * Each prompt's choices are sorted by their decoded tokens, so that its trie is built by
 * walking them in order (a choice shares with the trie exactly its common prefix with the
 * previous one), the leaves below any node are consecutive and a node's sequence ids are a
 * range of one array. A batch (a round) holds runs of that order, of one prompt's trie or
 * of several (score_batch()), bounded by the free sequences, n_batch, the free KV cells and
 * score_group_nodes (see trie_group_end()).
 */
struct tchoice {
    const llama_token *t; /* the choice's tokens */
    int d;                /* how many it decodes: its tokens but the last */
    int lcp;              /* decoded tokens shared with the previous choice in order */
    size_t i;             /* its index among the choices */
    int *path;            /* [d] its trie node at each depth: a row of the round's batch */
};

static int tchoice_cmp(const void *a, const void *b)
{
    const struct tchoice *x = a, *y = b;
    int n = x->d < y->d ? x->d : y->d;
    for (int k = 0; k < n; k++)
        if (x->t[k] != y->t[k])
            return x->t[k] < y->t[k] ? -1 : 1;
    if (x->d != y->d)
        return x->d < y->d ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* One prompt's choices that decode a token, in trie order. */
struct trie {
    struct tchoice *c;
    size_t n_c;
    int *paths; /* the choices' path arrays */
    int np;     /* the prompt's tokens: node positions start there */
    llama_seq_id src; /* the prompt's sequence, copied to each leaf's */
    double *lp; /* [choices] the log-probabilities being summed */
};

static void trie_free(struct trie *t)
{
    free(t->paths);
    free(t->c);
}

/* Sorts the choices that decode a token; -1 when out of memory (t is then freed by
 * trie_free()). */
static int trie_init(struct trie *t, llama_token **ct, const int *nc, size_t n, int np,
                     llama_seq_id src, double *lp)
{
    size_t total = 0;
    *t = (struct trie){.np = np, .src = src, .lp = lp};
    t->c = slm_plugin_calloc(n ? n : 1, sizeof *t->c);
    if (!t->c)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (nc[i] >= 2) {
            t->c[t->n_c++] = (struct tchoice){ct[i], nc[i] - 1, 0, i, NULL};
            total += (size_t)nc[i] - 1;
        }
    qsort(t->c, t->n_c, sizeof *t->c, tchoice_cmp);
    t->paths = slm_plugin_malloc((total ? total : 1) * sizeof *t->paths);
    if (!t->paths)
        return -1;
    int *p = t->paths;
    for (size_t m = 0; m < t->n_c; m++) {
        struct tchoice *c = &t->c[m];
        c->path = p;
        p += c->d;
        if (m == 0)
            continue;
        const struct tchoice *q = &t->c[m - 1];
        while (c->lcp < c->d && c->lcp < q->d && c->t[c->lcp] == q->t[c->lcp])
            c->lcp++;
    }
    return 0;
}

/*
 * The batch of one round: nodes of one or more tries as the rows llama_decode() takes,
 * the leaves' sequence ids (first, first + 1, …) and the runs of choices it holds.
 */
struct tround {
    int n_nodes, n_leaves, cap_nodes, cap_leaves;
    llama_token *tok;
    llama_pos *pos;
    int32_t *n_seq;     /* leaves below each node */
    llama_seq_id **seq; /* the first of them, in ids */
    int8_t *logits;     /* all 1: every node's logits score a token of each choice below */
    double *lse;        /* ln sum exp of each node's logits row */
    llama_seq_id *ids;  /* [cap_leaves] first, first + 1, … */
    struct trun { struct trie *t; size_t m0, m1; int l0, l1; } *runs; /* choices, leaves */
    int n_runs;
};

static void tround_free(struct tround *r)
{
    free(r->tok);
    free(r->pos);
    free(r->n_seq);
    free(r->seq);
    free(r->logits);
    free(r->lse);
    free(r->ids);
    free(r->runs);
}

/* Rows for cap_nodes nodes, cap_leaves leaves from sequence first on and as many runs;
 * -1 when out of memory (r is then freed by tround_free()). */
static int tround_init(struct tround *r, int cap_nodes, int cap_leaves, llama_seq_id first)
{
    *r = (struct tround){.cap_nodes = cap_nodes, .cap_leaves = cap_leaves};
    size_t cn = (size_t)(cap_nodes > 0 ? cap_nodes : 1), cl = (size_t)(cap_leaves > 0 ? cap_leaves : 1);
    r->tok = slm_plugin_malloc(cn * sizeof *r->tok);
    r->pos = slm_plugin_malloc(cn * sizeof *r->pos);
    r->n_seq = slm_plugin_malloc(cn * sizeof *r->n_seq);
    r->seq = slm_plugin_malloc(cn * sizeof *r->seq);
    r->logits = slm_plugin_malloc(cn * sizeof *r->logits);
    r->lse = slm_plugin_malloc(cn * sizeof *r->lse);
    r->ids = slm_plugin_malloc(cl * sizeof *r->ids);
    r->runs = slm_plugin_malloc(cl * sizeof *r->runs);
    if (!r->tok || !r->pos || !r->n_seq || !r->seq || !r->logits || !r->lse || !r->ids ||
        !r->runs)
        return -1;
    for (int s = 0; s < cap_leaves; s++)
        r->ids[s] = first + s;
    return 0;
}

/*
 * The end of the run of t's choices from m0 that the round r can still take: as many
 * choices in order as keep its leaves within cap_leaves and its nodes within max_nodes,
 * the nodes the round may still add (its free rows and KV cells, and score_group_nodes).
 * The first choice of an empty round is always taken: the callers checked each choice
 * against n_batch and the KV cells. Returns m0 when nothing more fits.
 *
 * score_group_nodes (128 by default) is well below n_batch: without flash attention every
 * node's attention reads all the KV cells of the batch, the other branches' masked out but
 * still multiplied, so a batch of G nodes after a prompt of P tokens costs G * (P + G) in
 * attention where the nodes need about G * P; each llama_decode() has a fixed cost too
 * (the graph, the weights read once). On the benchmarks' 1-layer demo model at K = 64
 * banking77 labels (P about 115, 890 nodes), batches of 128 nodes scored 7-12% faster than
 * batches of up to 512 or of up to 64 (bench/perf/bench_labels.c
 * with BENCH_AFTER_OPTIONS=score_group_nodes=512, and =64). The bound changes which nodes share a batch, not the scores beyond
 * float rounding.
 */
static size_t trie_group_end(const struct tround *r, const struct trie *t, size_t m0,
                             int max_nodes)
{
    int nodes = r->n_nodes, leaves = r->n_leaves;
    size_t m = m0;
    for (; m < t->n_c; m++) {
        const struct tchoice *c = &t->c[m];
        int shared = m == m0 ? 0 : c->lcp;
        int nn = nodes + c->d - shared;
        /* it goes on from the previous leaf, or is a new one */
        int nl = leaves + (m == m0 || c->lcp < t->c[m - 1].d);
        bool first = r->n_nodes == 0 && m == m0;
        if (!first && (nl > r->cap_leaves || nn > max_nodes))
            break;
        nodes = nn;
        leaves = nl;
    }
    return m;
}

/* Adds the trie of t's choices [m0, m1) to the round as a run: each choice's new nodes,
 * then, where it is a leaf, its sequence id on every node of its path. */
static void trie_build(struct tround *r, struct trie *t, size_t m0, size_t m1)
{
    struct trun *u = &r->runs[r->n_runs++];
    *u = (struct trun){t, m0, m1, r->n_leaves, r->n_leaves};
    for (size_t m = m0; m < m1; m++) {
        struct tchoice *c = &t->c[m];
        int shared = m == m0 ? 0 : c->lcp;
        for (int k = 0; k < shared; k++)
            c->path[k] = t->c[m - 1].path[k];
        for (int k = shared; k < c->d; k++) {
            int v = r->n_nodes++;
            r->tok[v] = c->t[k];
            r->pos[v] = t->np + k;
            r->logits[v] = 1;
            r->seq[v] = &r->ids[r->n_leaves]; /* the next leaf is below it: sorted order */
            r->n_seq[v] = 0;
            c->path[k] = v;
        }
        if (m + 1 < m1 && t->c[m + 1].lcp == c->d)
            continue; /* the next choice goes on from here: not a leaf */
        r->n_leaves++;
        for (int k = 0; k < c->d; k++)
            r->n_seq[c->path[k]]++;
    }
    u->l1 = r->n_leaves;
}

/*
 * Decodes the round: each leaf's sequence a copy of its prompt's, one batch, one
 * log-sum-exp per node, then each choice's tokens after its first added to its trie's lp:
 * token k from the row of its node at depth k-1. The leaves' sequences are removed
 * afterwards and the round emptied; on failure the cache is reset.
 */
static int tround_decode(slm_engine *e, struct tround *r, char *err, size_t errlen)
{
    for (int k = 0; k < r->n_runs; k++)
        for (int s = r->runs[k].l0; s < r->runs[k].l1; s++)
            lib.llama_memory_seq_cp(e->mem, r->runs[k].t->src, r->ids[s], -1, -1);
    struct llama_batch b = {r->n_nodes, r->tok, NULL, r->pos, r->n_seq, r->seq, r->logits};
    log_reset();
    int32_t d = lib.llama_decode(e->ctx, b);
    int rc = 0;
    if (d != 0) {
        char why[LOG_LINE];
        rc = slm_plugin_err(err, errlen, "llama_decode failed on the choices (%d): %s", (int)d,
                            log_error(why, sizeof why));
    }
    for (int v = 0; v < r->n_nodes && rc == 0; v++) {
        const float *lg = lib.llama_get_logits_ith(e->ctx, v);
        if (!lg)
            rc = slm_plugin_err(err, errlen, "llama.cpp returned no logits for a choice");
        else
            r->lse[v] = log_sum_exp(lg, e->n_vocab);
    }
    for (int k = 0; k < r->n_runs && rc == 0; k++) {
        const struct trun *u = &r->runs[k];
        for (size_t m = u->m0; m < u->m1; m++) {
            const struct tchoice *c = &u->t->c[m];
            for (int j = 0; j < c->d; j++) /* rows are read in place, one token each */
                u->t->lp[c->i] += lib.llama_get_logits_ith(e->ctx, c->path[j])[c->t[j + 1]] -
                                  r->lse[c->path[j]];
        }
    }
    for (int s = 0; s < r->n_leaves; s++)
        lib.llama_memory_seq_rm(e->mem, r->ids[s], -1, -1);
    if (rc)
        cache_reset(e);
    r->n_nodes = r->n_leaves = r->n_runs = 0;
    return rc;
}

/*
 * Decodes the tries of n_t prompts (their prompts already in the cache, the first
 * token of each choice already in lp) in rounds from sequence `first` on: a round takes
 * runs of one trie after another while they fit its leaves (cap_leaves), rows (n_batch),
 * free KV cells (cells) and score_group_nodes.
 */
static int trie_rounds(slm_engine *e, struct trie *tries, size_t n_t, llama_seq_id first,
                       int cap_leaves, int cells, char *err, size_t errlen)
{
    int cap = e->n_batch < cells ? e->n_batch : cells;
    int group = e->score_group_nodes < cap ? e->score_group_nodes : cap;
    struct tround r;
    int rc = tround_init(&r, cap, cap_leaves, first) ? slm_plugin_oom(err, errlen) : 0;
    size_t i = 0, m = 0;
    while (rc == 0) {
        while (i < n_t && m == tries[i].n_c) {
            i++;
            m = 0;
        }
        size_t m1 = i < n_t ? trie_group_end(&r, &tries[i], m, group) : m;
        if (m1 > m) {
            trie_build(&r, &tries[i], m, m1);
            m = m1;
            continue;
        }
        if (r.n_nodes == 0)
            break; /* every trie done */
        rc = tround_decode(e, &r, err, errlen);
    }
    tround_free(&r);
    return rc;
}

/*
 * Scores every choice from the cached prompt (sequence 0) through the trie (score_trie=1):
 * lp[i] gets the first token's log-probability from the prompt's logits (lse0), the
 * others from trie_rounds().
 */
static int score_trie(slm_engine *e, int np, llama_token **ct, const int *nc, size_t n,
                      double lse0, double *lp, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        lp[i] = nc[i] ? e->prompt_logits[ct[i][0]] - lse0 : 0;
    struct trie t;
    int rc = trie_init(&t, ct, nc, n, np, 0, lp) ? slm_plugin_oom(err, errlen)
             : trie_rounds(e, &t, 1, 1, e->n_seq_max - 1, e->n_ctx - np, err, errlen);
    trie_free(&t);
    return rc;
}

/*
 * Scores n choices as continuations of the prompt: the prompt is decoded once, or only
 * its part after the prefix shared with the previous request (SLM_PHASE_PREFILL, n_tokens
 * = all the prompt's tokens all the same), then the choices in groups of at most
 * n_seq_max-1 per batch from copies of the cached prompt (SLM_PHASE_DECODE, n_tokens = all
 * choice tokens).
 */
static int engine_score(slm_engine *e, const slm_request *req, const char *const *choices,
                        size_t n, slm_score_result **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!e)
        return slm_plugin_err(err, errlen, "no engine");
    NEEDS_CONTEXT(e);
    if (n > 0 && !choices)
        return slm_plugin_err(err, errlen, "no choices to score");
    char *text;
    size_t text_len;
    bool special;
    llama_token *pt;
    int np;
    if (prompt_tokens(e, req, &text, &text_len, &special, &pt, &np, err, errlen))
        return -1;

    llama_token **ct = slm_plugin_calloc(n, sizeof *ct);
    int *nc = slm_plugin_calloc(n, sizeof *nc);
    slm_score_result *r = score_result_new(n);
    if (!ct || !nc || !r) {
        free(ct);
        free(nc);
        score_result_free(r);
        free(pt);
        free(text);
        return slm_plugin_oom(err, errlen);
    }

    int rc = choices_tokens(e, text, text_len, special, pt, &np, choices, n, ct, nc, err,
                            errlen);
    int total = 0;
    r->n_prompt_tokens = np;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (np + nc[i] - 1 > e->n_ctx)
            rc = slm_plugin_err(err, errlen,
                                "prompt and choice %zu (%d tokens) exceed the context "
                                "of %d tokens",
                                i, np + nc[i], e->n_ctx);
        else if (nc[i] - 1 > e->n_batch)
            rc = slm_plugin_err(err, errlen, "choice %zu has %d tokens, more than n_batch (%d) + 1",
                                i, nc[i], e->n_batch);
        else {
            r->n_tokens[i] = nc[i];
            total += nc[i];
        }
    }

    if (rc == 0) {
        probe_begin(req, SLM_PHASE_PREFILL);
        rc = prefill(e, pt, np, err, errlen);
        probe_end(req, SLM_PHASE_PREFILL, np);
    }
    if (rc == 0) {
        double lse0 = log_sum_exp(e->prompt_logits, e->n_vocab);
        probe_begin(req, SLM_PHASE_DECODE);
        size_t i = e->score_trie ? n : 0;
        if (e->score_trie)
            rc = score_trie(e, np, ct, nc, n, lse0, r->logprob, err, errlen);
        while (i < n && rc == 0) {
            size_t g1 = i;
            int ntok = 0;
            /* A group is bounded by the sequences, the batch and the KV cells: with a
             * unified cache the prompt's cells are shared but every decoded choice token
             * takes a cell of its own. */
            while (g1 < n && (int)(g1 - i) < e->n_seq_max - 1 &&
                   ntok + (nc[g1] > 1 ? nc[g1] - 1 : 0) <= e->n_batch &&
                   np + ntok + (nc[g1] > 1 ? nc[g1] - 1 : 0) <= e->n_ctx) {
                ntok += nc[g1] > 1 ? nc[g1] - 1 : 0;
                g1++;
            }
            rc = score_group(e, np, ct, nc, i, g1, lse0, r->logprob, err, errlen);
            i = g1;
        }
        probe_end(req, SLM_PHASE_DECODE, total);
    }

    for (size_t i = 0; i < n; i++)
        free(ct[i]);
    free(ct);
    free(nc);
    free(pt);
    free(text);
    if (rc) {
        score_result_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

/* ---- score_batch ---- */

/* One request of score_batch(): its tokens and the result being filled. */
struct breq {
    llama_token *pt;          /* the prompt's tokens */
    int np;
    llama_token **ct;         /* [n_choices] each choice's tokens */
    int *nc;
    int max_dec;              /* most tokens one of its choices decodes (tokens - 1) */
    slm_score_result *r;
};

static void breq_free(struct breq *b, size_t n_choices)
{
    for (size_t j = 0; b->ct && j < n_choices; j++)
        free(b->ct[j]);
    free(b->ct);
    free(b->nc);
    free(b->pt);
    score_result_free(b->r);
}

/* Tokenizes a request's prompt and choices as score() does, checks that each choice fits
 * the context and a batch, and makes its result. On failure err says why (no prefix). */
static int breq_prepare(slm_engine *e, const slm_request *req, const char *const *choices,
                        size_t n, struct breq *b, char *err, size_t errlen)
{
    char *text;
    size_t text_len;
    bool special;
    if (!req)
        return slm_plugin_err(err, errlen, "no request");
    if (prompt_tokens(e, req, &text, &text_len, &special, &b->pt, &b->np, err, errlen))
        return -1;
    b->ct = slm_plugin_calloc(n, sizeof *b->ct);
    b->nc = slm_plugin_calloc(n, sizeof *b->nc);
    b->r = score_result_new(n);
    if (!b->ct || !b->nc || !b->r) { /* the caller frees what was made with breq_free() */
        free(text);
        return slm_plugin_oom(err, errlen);
    }
    int rc = choices_tokens(e, text, text_len, special, b->pt, &b->np, choices, n, b->ct,
                            b->nc, err, errlen);
    b->r->n_prompt_tokens = b->np;
    for (size_t j = 0; j < n && rc == 0; j++) {
        int d = b->nc[j] > 1 ? b->nc[j] - 1 : 0;
        if (b->np + d > e->n_ctx)
            rc = slm_plugin_err(err, errlen,
                                "prompt and choice %zu (%d tokens) exceed the context "
                                "of %d tokens",
                                j, b->np + b->nc[j], e->n_ctx);
        else if (d > e->n_batch)
            rc = slm_plugin_err(err, errlen, "choice %zu has %d tokens, more than n_batch (%d) + 1",
                                j, b->nc[j], e->n_batch);
        else {
            b->r->n_tokens[j] = b->nc[j];
            b->max_dec = d > b->max_dec ? d : b->max_dec;
        }
    }
    free(text);
    return rc;
}

static int decode_batch(slm_engine *e, const char *what, char *err, size_t errlen)
{
    log_reset();
    int32_t d = lib.llama_decode(e->ctx, e->batch);
    if (d == 0)
        return 0;
    char why[LOG_LINE];
    return slm_plugin_err(err, errlen, "llama_decode failed on %s (%d): %s", what, (int)d,
                          log_error(why, sizeof why));
}

/*
 * Evaluates the prompts of requests [g0, g1) side by side, request g0+k in sequence k,
 * filling each batch to n_batch tokens with as many prompts (or parts of one) as fit. As
 * a prompt's last token comes out, the first token of each of its choices is scored from
 * its logits, exactly as score() does from the cached prompt's.
 */
static int prefill_group(slm_engine *e, struct breq *b, size_t g0, size_t g1, size_t n,
                         char *err, size_t errlen)
{
    size_t *ends = slm_plugin_malloc(sizeof *ends * (g1 - g0)); /* requests ending in the batch */
    int *rows = slm_plugin_malloc(sizeof *rows * (g1 - g0));    /* and their last token's row */
    int n_ends = 0, rc = ends && rows ? 0 : slm_plugin_oom(err, errlen);
    e->batch.n_tokens = 0;
    for (size_t i = g0; i < g1 && rc == 0; i++) {
        for (int k = 0; k < b[i].np && rc == 0; k++) {
            bool last = k == b[i].np - 1;
            if (last) {
                ends[n_ends] = i;
                rows[n_ends++] = e->batch.n_tokens;
            }
            batch_add(&e->batch, b[i].pt[k], k, (llama_seq_id)(i - g0), last);
            if (e->batch.n_tokens < e->n_batch && !(last && i == g1 - 1))
                continue;
            rc = decode_batch(e, "the prompts", err, errlen);
            for (int m = 0; m < n_ends && rc == 0; m++) {
                const float *lg = lib.llama_get_logits_ith(e->ctx, rows[m]);
                if (!lg) {
                    rc = slm_plugin_err(err, errlen, "llama.cpp returned no logits for a prompt");
                    break;
                }
                struct breq *q = &b[ends[m]];
                double lse0 = log_sum_exp(lg, e->n_vocab);
                for (size_t j = 0; j < n; j++)
                    q->r->logprob[j] = q->nc[j] ? lg[q->ct[j][0]] - lse0 : 0;
            }
            n_ends = 0;
            e->batch.n_tokens = 0;
        }
    }
    free(ends);
    free(rows);
    return rc;
}

/*
 * Scores the choices of requests [g0, g1) after prefill_group(): in rounds, each choice
 * of more than one token gets a sequence copied from its prompt's (those after the
 * prompts' own), and the choices of several requests share one batch, bounded by the
 * free sequences, n_batch and the cells the prompts left free (cells). Token k>0 of a
 * choice is scored from the logits after token k-1, as in score_group().
 */
static int choices_group(slm_engine *e, struct breq *b, size_t g0, size_t g1, size_t n,
                         int cells, char *err, size_t errlen)
{
    int first_seq = (int)(g1 - g0), max_round = e->n_seq_ctx - first_seq;
    size_t *ri = slm_plugin_malloc(sizeof *ri * (size_t)max_round); /* the round's requests */
    size_t *rj = slm_plugin_malloc(sizeof *rj * (size_t)max_round); /* and choices */
    int rc = ri && rj ? 0 : slm_plugin_oom(err, errlen);
    size_t i = g0, j = 0;
    while (rc == 0) {
        /* Fill a round from where the last one stopped. */
        int n_round = 0, ntok = 0;
        e->batch.n_tokens = 0;
        for (; i < g1; i++, j = 0) {
            for (; j < n; j++) {
                int d = b[i].nc[j] - 1;
                if (d < 1)
                    continue;
                if (n_round == max_round || ntok + d > e->n_batch || ntok + d > cells)
                    goto full;
                llama_seq_id s = (llama_seq_id)(first_seq + n_round);
                lib.llama_memory_seq_cp(e->mem, (llama_seq_id)(i - g0), s, -1, -1);
                for (int k = 0; k < d; k++)
                    batch_add(&e->batch, b[i].ct[j][k], b[i].np + k, s, true);
                ri[n_round] = i;
                rj[n_round++] = j;
                ntok += d;
            }
        }
    full:
        if (n_round == 0) {
            if (i < g1) /* cannot happen: the group was sized for its longest choice */
                rc = slm_plugin_err(err, errlen, "no room in the KV cache for a choice");
            break;
        }
        rc = decode_batch(e, "the choices", err, errlen);
        int row = 0;
        for (int m = 0; m < n_round && rc == 0; m++) {
            struct breq *q = &b[ri[m]];
            llama_token *t = q->ct[rj[m]];
            for (int k = 1; k < q->nc[rj[m]]; k++, row++) {
                const float *lg = lib.llama_get_logits_ith(e->ctx, row);
                if (!lg) {
                    rc = slm_plugin_err(err, errlen, "llama.cpp returned no logits for a choice");
                    break;
                }
                q->r->logprob[rj[m]] += lg[t[k]] - log_sum_exp(lg, e->n_vocab);
            }
        }
        for (int m = 0; m < n_round; m++)
            lib.llama_memory_seq_rm(e->mem, (llama_seq_id)(first_seq + m), -1, -1);
    }
    free(ri);
    free(rj);
    return rc;
}

/*
 * Scores the choices of requests [g0, g1) after prefill_group() through their tries
 * (score_trie=1), as score() does: request g0+k's leaves copy its prompt's sequence k, and
 * a round takes runs of one request's trie after another from sequence g1-g0 on.
 */
static int choices_trie(slm_engine *e, struct breq *b, size_t g0, size_t g1, size_t n,
                        int cells, char *err, size_t errlen)
{
    struct trie *t = slm_plugin_calloc(g1 - g0, sizeof *t);
    int rc = t ? 0 : slm_plugin_oom(err, errlen);
    size_t made = 0;
    for (; made < g1 - g0 && rc == 0; made++) {
        struct breq *q = &b[g0 + made];
        if (trie_init(&t[made], q->ct, q->nc, n, q->np, (llama_seq_id)made, q->r->logprob))
            rc = slm_plugin_oom(err, errlen);
    }
    if (rc == 0)
        rc = trie_rounds(e, t, g1 - g0, (llama_seq_id)(g1 - g0),
                         e->n_seq_ctx - (int)(g1 - g0), cells, err, errlen);
    for (size_t k = 0; t && k < made; k++)
        trie_free(&t[k]);
    free(t);
    return rc;
}

/*
 * Throughput mode: scores the choices of every request as score() would, evaluating the
 * requests in groups of at most n_parallel whose prompts, plus the longest choice of any
 * of them, fit the KV cells together. Each group starts from an empty memory (the prefix
 * cache plays no part: its state is dropped, and score() starts afresh afterwards). The
 * probe of reqs[0] marks PREFILL around the first group's prompts (n_tokens: all the
 * prompts' tokens) and DECODE from there to the end (n_tokens: all choice tokens); with a
 * single group that is exactly the prompts and the choices of the whole batch, with more,
 * DECODE also covers the later groups' prompts.
 */
static int engine_score_batch(slm_engine *e, const slm_request *const *reqs, size_t n_reqs,
                              const char *const *choices, size_t n, slm_score_result **out,
                              char *err, size_t errlen)
{
    if (!e)
        return slm_plugin_err(err, errlen, "no engine");
    if (n_reqs > 0 && (!reqs || !out))
        return slm_plugin_err(err, errlen, "no requests or no results to fill");
    for (size_t i = 0; i < n_reqs; i++)
        out[i] = NULL;
    NEEDS_CONTEXT(e);
    if (n > 0 && !choices)
        return slm_plugin_err(err, errlen, "no choices to score");
    if (n_reqs == 0)
        return 0;

    struct breq *b = slm_plugin_calloc(n_reqs, sizeof *b);
    if (!b)
        return slm_plugin_oom(err, errlen);
    int rc = 0, total_np = 0, total_nc = 0;
    for (size_t i = 0; i < n_reqs && rc == 0; i++) {
        char why[SLM_PLUGIN_ERRLEN];
        if (breq_prepare(e, reqs[i], choices, n, &b[i], why, sizeof why)) {
            const char *id = reqs[i] && reqs[i]->id ? reqs[i]->id : "";
            rc = slm_plugin_err(err, errlen, "request %zu ('%s'): %s", i, id, why);
            break;
        }
        total_np += b[i].np;
        for (size_t j = 0; j < n; j++)
            total_nc += b[i].nc[j];
    }

    const slm_request *pr = reqs[0];
    size_t g0 = 0;
    if (rc == 0)
        probe_begin(pr, SLM_PHASE_PREFILL);
    while (rc == 0 && g0 < n_reqs) {
        /* A group: at most n_parallel prompts, a choice sequence to spare, and cells for
         * all its prompts and its longest choice. The first request always fits alone. */
        size_t g1 = g0;
        int cells = 0, max_dec = 0;
        while (g1 < n_reqs && (int)(g1 - g0) < e->n_parallel &&
               (int)(g1 - g0) + 2 <= e->n_seq_ctx) {
            int md = b[g1].max_dec > max_dec ? b[g1].max_dec : max_dec;
            if (g1 > g0 && cells + b[g1].np + md > e->n_kv)
                break;
            cells += b[g1].np;
            max_dec = md;
            g1++;
        }
        cache_reset(e);
        rc = prefill_group(e, b, g0, g1, n, err, errlen);
        if (g0 == 0) {
            probe_end(pr, SLM_PHASE_PREFILL, total_np);
            probe_begin(pr, SLM_PHASE_DECODE);
        }
        if (rc == 0)
            rc = e->score_trie ? choices_trie(e, b, g0, g1, n, e->n_kv - cells, err, errlen)
                               : choices_group(e, b, g0, g1, n, e->n_kv - cells, err, errlen);
        g0 = g1;
    }
    if (g0 > 0) /* the phases were begun: DECODE is open now */
        probe_end(pr, SLM_PHASE_DECODE, total_nc);
    cache_reset(e);

    for (size_t i = 0; i < n_reqs; i++) {
        if (rc == 0) {
            out[i] = b[i].r;
            b[i].r = NULL;
        }
        breq_free(&b[i], n);
    }
    free(b);
    return rc ? -1 : 0;
}

/* ---- generate ---- */

static void gen_result_free(slm_gen_result *r)
{
    if (!r)
        return;
    free(r->text);
    free(r->token_logprobs);
    free(r);
}

/* Appends the text of a token (special tokens render as nothing). */
static void append_piece(slm_engine *e, slm_plugin_buf *b, llama_token tok)
{
    char small[64];
    int32_t n = lib.llama_token_to_piece(e->vocab, tok, small, sizeof small, 0, false);
    if (n >= 0) {
        slm_plugin_buf_append(b, small, (size_t)n); /* b->oom says whether it failed */
        return;
    }
    char *big = slm_plugin_malloc((size_t)-n);
    if (!big) {
        b->oom = 1;
        return;
    }
    n = lib.llama_token_to_piece(e->vocab, tok, big, -n, 0, false);
    if (n > 0)
        slm_plugin_buf_append(b, big, (size_t)n);
    free(big);
}

/*
 * The offset of the earliest stop string in b that ends after old_len (text added since
 * the last check, so a stop string spanning tokens is found once complete), or -1.
 */
static long find_stop(const slm_plugin_buf *b, size_t old_len, const char *const *stop,
                      size_t n_stop)
{
    long best = -1;
    for (size_t i = 0; i < n_stop; i++) {
        if (!stop[i] || !*stop[i])
            continue;
        size_t sl = strlen(stop[i]);
        size_t from = old_len >= sl - 1 ? old_len - (sl - 1) : 0;
        if (from >= b->len)
            continue;
        const char *hit = memmem(b->data + from, b->len - from, stop[i], sl);
        if (hit && (best < 0 || hit - b->data < best))
            best = hit - b->data;
    }
    return best;
}

static int make_sampler(slm_engine *e, const slm_gen_params *p, struct llama_sampler **out,
                        char *err, size_t errlen)
{
    const char *grammar = p && HAS_FIELD(p, slm_gen_params, grammar) ? p->grammar : NULL;
    const char *schema = p && HAS_FIELD(p, slm_gen_params, json_schema) ? p->json_schema : NULL;
    double temp = p && HAS_FIELD(p, slm_gen_params, temperature) ? p->temperature : 0;
    uint32_t seed = p && HAS_FIELD(p, slm_gen_params, seed) ? p->seed : 0;
    if (schema && *schema && !(grammar && *grammar))
        return slm_plugin_err(err, errlen, "json_schema not supported yet, pass a grammar");
    struct llama_sampler *chain =
        lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params());
    if (grammar && *grammar) {
        log_reset();
        struct llama_sampler *g = lib.llama_sampler_init_grammar(e->vocab, grammar, "root");
        if (!g) {
            char why[LOG_LINE];
            lib.llama_sampler_free(chain);
            return slm_plugin_err(err, errlen, "cannot use the grammar: %s",
                                  log_error(why, sizeof why));
        }
        lib.llama_sampler_chain_add(chain, g);
    }
    if (temp > 0) {
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_temp((float)temp));
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_dist(seed));
    } else {
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_greedy());
    }
    *out = chain;
    return 0;
}

/*
 * What generating one request keeps, from its prompt's logits to its end: shared by
 * generate() and generate_many(), so both take tokens and stop by the same rules.
 */
struct gen_state {
    struct llama_sampler *smpl;
    slm_plugin_buf b;         /* the text so far */
    double *lps;              /* [max_tokens] ln P of each output token */
    int np;                   /* prompt tokens */
    int n_out, n_decoded, max_tokens;
    const char *const *stop;
    size_t n_stop;
    slm_finish finish;
};

static void gen_state_free(struct gen_state *g)
{
    if (g->smpl)
        lib.llama_sampler_free(g->smpl);
    slm_plugin_buf_free(&g->b);
    free(g->lps);
    memset(g, 0, sizeof *g);
}

/* Sets up g for a request under params (sampler, limits, stop strings); -1 with err. */
static int gen_state_init(slm_engine *e, const slm_gen_params *params, struct gen_state *g,
                          char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    g->max_tokens = params && HAS_FIELD(params, slm_gen_params, max_tokens) &&
                            params->max_tokens > 0
                        ? params->max_tokens
                        : DEFAULT_MAX_TOKENS;
    g->stop = params && HAS_FIELD(params, slm_gen_params, n_stop) ? params->stop : NULL;
    g->n_stop = g->stop ? params->n_stop : 0;
    g->finish = SLM_FINISH_LENGTH;
    if (make_sampler(e, params, &g->smpl, err, errlen))
        return -1;
    g->lps = slm_plugin_malloc(sizeof *g->lps * (size_t)g->max_tokens);
    if (!g->lps) {
        gen_state_free(g);
        return slm_plugin_oom(err, errlen);
    }
    return 0;
}

/*
 * Samples the next token from the logits of batch row `row` (-1: the last) and takes it:
 * 1 when the request has ended (g->finish says why: an end-of-generation token, a stop
 * string, max_tokens or a full context), 0 when *tok is to be decoded at position
 * np + n_out - 1 before the next call, -1 (err) on a failure.
 */
static int gen_step(slm_engine *e, struct gen_state *g, int row, llama_token *tok, char *err,
                    size_t errlen)
{
    const float *lg = lib.llama_get_logits_ith(e->ctx, row);
    llama_token t = lib.llama_sampler_sample(g->smpl, e->ctx, row);
    if (!lg || t < 0 || t >= e->n_vocab)
        return slm_plugin_err(err, errlen, "llama.cpp gave no token to sample");
    if (lib.llama_vocab_is_eog(e->vocab, t)) {
        g->finish = SLM_FINISH_STOP;
        return 1;
    }
    g->lps[g->n_out++] = lg[t] - log_sum_exp(lg, e->n_vocab);
    size_t old_len = g->b.len;
    append_piece(e, &g->b, t);
    if (g->b.oom)
        return slm_plugin_oom(err, errlen);
    long at = find_stop(&g->b, old_len, g->stop, g->n_stop);
    if (at >= 0) {
        g->b.len = (size_t)at;
        g->b.data[at] = '\0';
        g->finish = SLM_FINISH_STOP;
        return 1;
    }
    if (g->n_out >= g->max_tokens || g->np + g->n_out >= e->n_ctx)
        return 1; /* SLM_FINISH_LENGTH */
    *tok = t;
    return 0;
}

/* The result of an ended request, taking g's text and log-probabilities; NULL when out of
 * memory (g keeps them then). */
static slm_gen_result *gen_take(struct gen_state *g)
{
    slm_gen_result *r = slm_plugin_calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->kind = SLM_RESULT_GENERATE;
    r->text_len = g->b.len;
    r->text = slm_plugin_buf_take(&g->b);
    if (!r->text) {
        free(r);
        return NULL;
    }
    r->n_prompt_tokens = g->np;
    r->n_output_tokens = g->n_out;
    r->token_logprobs = g->lps;
    g->lps = NULL;
    r->finish = g->finish;
    r->timings = (slm_timings){-1, -1, -1, -1};
    return r;
}

/*
 * Generates up to max_tokens (32 by default) tokens, greedily unless temperature > 0,
 * under params->grammar when given. Stops at an end-of-generation token (not part of the
 * output), at the first stop string (cut from the text; the tokens that produced it are
 * still counted in n_output_tokens and token_logprobs), at max_tokens or when the
 * context is full (SLM_FINISH_LENGTH). token_logprobs are ln softmax of the raw logits
 * at each chosen token, before any grammar. SLM_PHASE_DECODE covers everything after the
 * prompt; its n_tokens counts the tokens decoded (the first output token needs none).
 */
static int engine_generate(slm_engine *e, const slm_request *req, const slm_gen_params *params,
                           slm_gen_result **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!e)
        return slm_plugin_err(err, errlen, "no engine");
    NEEDS_CONTEXT(e);
    struct gen_state g;
    if (gen_state_init(e, params, &g, err, errlen))
        return -1;
    char *text;
    size_t text_len;
    bool special;
    llama_token *pt;
    if (prompt_tokens(e, req, &text, &text_len, &special, &pt, &g.np, err, errlen)) {
        gen_state_free(&g);
        return -1;
    }
    free(text);

    probe_begin(req, SLM_PHASE_PREFILL);
    int rc = prefill(e, pt, g.np, err, errlen);
    probe_end(req, SLM_PHASE_PREFILL, g.np);
    free(pt);
    if (rc) {
        gen_state_free(&g);
        return -1;
    }

    probe_begin(req, SLM_PHASE_DECODE);
    llama_token tok = 0;
    while ((rc = gen_step(e, &g, -1, &tok, err, errlen)) == 0) {
        e->batch.n_tokens = 0;
        batch_add(&e->batch, tok, g.np + g.n_out - 1, 0, true);
        if (decode_batch(e, "a generated token", err, errlen)) {
            cache_reset(e);
            rc = -1;
            break;
        }
        if (e->prefix_cache) /* sequence 0 holds it now: a later prompt may share it */
            e->cache[e->n_cache++] = tok;
        g.n_decoded++;
    }
    probe_end(req, SLM_PHASE_DECODE, g.n_decoded);
    if (rc < 0) {
        gen_state_free(&g);
        return -1;
    }
    *out = gen_take(&g);
    gen_state_free(&g);
    return *out ? 0 : slm_plugin_oom(err, errlen);
}

/* ---- generate_many ---- */

/*
 * One request in flight in generate_many(): its sequence in the KV cache, its prompt
 * (pf of its np tokens in the cache so far), the token it decodes next, and its clocks.
 */
struct many_slot {
    size_t i;                 /* the request's index; SIZE_MAX: the slot is free */
    llama_seq_id seq;
    const slm_request *req;
    llama_token *pt;          /* the prompt's tokens */
    int pf;                   /* how many are in the cache */
    llama_token next;         /* the token to decode next, once the prompt is in */
    int row;                  /* its logits' row in the batch being decoded; -1 none */
    struct gen_state g;
    slm_req_trace tr;
    double *gaps;             /* [max_tokens] gaps between output tokens, ms */
    uint64_t last_ns;         /* when its latest output token came */
};

/* What generate_many() runs on: the call's arguments and its slots. */
struct many_run {
    slm_engine *e;
    const slm_request *const *reqs;
    size_t n_reqs, next;      /* requests, and the first not yet admitted */
    const slm_gen_params *params;
    const slm_gen_many *m;
    const uint64_t *send_at;  /* NULL: closed loop */
    struct many_slot *s;
    int n_slots, active;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Whether the caller asked to stop (its Ctrl-C flag). */
static bool many_stopped(const struct many_run *mr)
{
    return mr->m->stop && *mr->m->stop;
}

/* Hands request i's outcome to the caller (traced() where given, else done() with the
 * time from entering the batch to the end); its nonzero return stops the call. */
static int many_report(struct many_run *mr, size_t i, slm_gen_result *r, slm_req_trace *tr,
                       const char *err)
{
    if (!tr->end_ns)
        tr->end_ns = now_ns();
    if (HAS_FIELD(mr->m, slm_gen_many, traced) && mr->m->traced)
        return mr->m->traced(mr->m->ud, i, r, tr, err);
    double e2e = tr->sent_ns ? (double)(tr->end_ns - tr->sent_ns) / 1e6 : 0;
    return mr->m->done(mr->m->ud, i, r, e2e, err);
}

/* Empties a slot: its sequence leaves the cache, its state is freed. */
static void slot_clear(struct many_run *mr, struct many_slot *s)
{
    if (s->i == SIZE_MAX)
        return;
    lib.llama_memory_seq_rm(mr->e->mem, s->seq, -1, -1);
    gen_state_free(&s->g);
    free(s->pt);
    free(s->gaps);
    llama_seq_id seq = s->seq;
    memset(s, 0, sizeof *s);
    s->seq = seq;
    s->i = SIZE_MAX;
    s->row = -1;
    mr->active--;
}

/*
 * Takes request mr->next into the free slot s: tokenizes its prompt and makes its
 * sampler. A request that cannot start (a prompt too long for n_ctx, a bad grammar) is
 * reported failed at once and the slot stays free. Returns the caller's stop (nonzero
 * from many_report) or 0.
 */
static int slot_admit(struct many_run *mr, struct many_slot *s)
{
    size_t i = mr->next++;
    const slm_request *req = mr->reqs[i];
    char err[SLM_PLUGIN_ERRLEN] = "";
    slm_req_trace tr = {.struct_size = sizeof tr, .server_id = ""};
    tr.scheduled_ns = mr->send_at ? mr->send_at[i] : 0;
    struct gen_state g;
    char *text = NULL;
    size_t text_len;
    bool special;
    llama_token *pt = NULL;
    int np = 0;
    if (gen_state_init(mr->e, mr->params, &g, err, sizeof err))
        return many_report(mr, i, NULL, &tr, err);
    double *gaps = slm_plugin_malloc(sizeof *gaps * (size_t)g.max_tokens);
    if (!gaps || prompt_tokens(mr->e, req, &text, &text_len, &special, &pt, &np, err,
                               sizeof err)) {
        if (!gaps)
            slm_plugin_oom(err, sizeof err);
        free(gaps);
        gen_state_free(&g);
        return many_report(mr, i, NULL, &tr, err);
    }
    free(text);
    g.np = np;
    s->i = i;
    s->req = req;
    s->pt = pt;
    s->pf = 0;
    s->row = -1;
    s->g = g;
    s->gaps = gaps;
    s->tr = tr;
    s->tr.attempts = 1;
    s->tr.sent_ns = now_ns(); /* it enters the next batch */
    mr->active++;
    probe_begin(req, SLM_PHASE_PREFILL);
    return 0;
}

/* Admits the requests that are due (all, in a closed loop) while slots are free; waits
 * (at most 100 ms, the stop flag's period) when nothing is in flight and the next request
 * is not due yet. Returns nonzero when the caller stopped the call. */
static int many_admit(struct many_run *mr)
{
    for (int k = 0; k < mr->n_slots && mr->next < mr->n_reqs; k++) {
        if (mr->s[k].i != SIZE_MAX)
            continue;
        if (mr->send_at && now_ns() < mr->send_at[mr->next])
            break;
        int stop = slot_admit(mr, &mr->s[k]);
        if (stop || many_stopped(mr))
            return 1;
        k--; /* the slot may still be free (the request failed): try it again */
    }
    if (mr->active == 0 && mr->next < mr->n_reqs && mr->send_at) {
        uint64_t now = now_ns(), due = mr->send_at[mr->next];
        if (due > now) {
            uint64_t wait = due - now < 100000000u ? due - now : 100000000u;
            struct timespec ts = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u)};
            nanosleep(&ts, NULL);
        }
    }
    return 0;
}

/*
 * Fills the batch for one step: the next token of every sequence that is generating,
 * then as much of the admitted prompts as fits in n_batch (a long prompt goes in over
 * several steps, its logits only after its last token). Sets each slot's row.
 */
static void many_fill(struct many_run *mr)
{
    slm_engine *e = mr->e;
    e->batch.n_tokens = 0;
    for (int k = 0; k < mr->n_slots; k++) {
        struct many_slot *s = &mr->s[k];
        s->row = -1;
        if (s->i != SIZE_MAX && s->pf == s->g.np) {
            s->row = e->batch.n_tokens;
            batch_add(&e->batch, s->next, s->g.np + s->g.n_out - 1, s->seq, true);
        }
    }
    for (int k = 0; k < mr->n_slots && e->batch.n_tokens < e->n_batch; k++) {
        struct many_slot *s = &mr->s[k];
        if (s->i == SIZE_MAX || s->pf == s->g.np)
            continue;
        while (s->pf < s->g.np && e->batch.n_tokens < e->n_batch) {
            bool last = s->pf == s->g.np - 1;
            if (last)
                s->row = e->batch.n_tokens;
            batch_add(&e->batch, s->pt[s->pf], s->pf, s->seq, last);
            s->pf++;
        }
    }
}

/* After a step: the slot whose logits are in row s->row takes its next token; a request
 * that ended is reported and its slot emptied. Returns the caller's stop or 0. */
static int slot_take(struct many_run *mr, struct many_slot *s)
{
    char err[SLM_PLUGIN_ERRLEN] = "";
    if (s->g.n_out == 0) { /* the prompt's logits: its first token (gen_step's 0 means one) */
        probe_end(s->req, SLM_PHASE_PREFILL, s->g.np);
        probe_begin(s->req, SLM_PHASE_DECODE);
    } else {
        s->g.n_decoded++;
    }
    int n_out = s->g.n_out;
    int st = gen_step(mr->e, &s->g, s->row, &s->next, err, sizeof err);
    if (s->g.n_out > n_out) { /* an output token came */
        uint64_t t = now_ns();
        if (!s->tr.first_token_ns)
            s->tr.first_token_ns = t;
        else
            s->gaps[s->tr.n_gaps++] = (double)(t - s->last_ns) / 1e6;
        s->last_ns = t;
    }
    if (st == 0)
        return 0;
    probe_end(s->req, SLM_PHASE_DECODE, s->g.n_decoded);
    slm_gen_result *r = st > 0 ? gen_take(&s->g) : NULL;
    if (st > 0 && !r)
        slm_plugin_oom(err, sizeof err);
    s->tr.end_ns = now_ns();
    s->tr.gaps_ms = s->gaps;
    size_t i = s->i;
    slm_req_trace tr = s->tr;
    int stop = many_report(mr, i, r, &tr, r ? NULL : err); /* the slot's gaps still live */
    slot_clear(mr, s);
    return stop;
}

/*
 * The loop of generate_many(): admit, decode one step for every request in flight, take
 * each one's token, until every request is reported or the caller stops. Returns 0, or
 * -1 (err) when llama_decode fails: the engine cannot go on.
 */
static int many_loop(struct many_run *mr, char *err, size_t errlen)
{
    slm_engine *e = mr->e;
    while (!many_stopped(mr)) {
        if (many_admit(mr))
            return 0;
        if (mr->active == 0) {
            if (mr->next >= mr->n_reqs)
                return 0;
            continue; /* waiting for the next request's time */
        }
        many_fill(mr);
        if (decode_batch(e, "the batch of sequences", err, errlen))
            return -1;
        for (int k = 0; k < mr->n_slots; k++) {
            struct many_slot *s = &mr->s[k];
            if (s->i != SIZE_MAX && s->row >= 0 && slot_take(mr, s))
                return 0;
        }
    }
    return 0;
}

/*
 * Makes the context hold n_slots sequences of n_ctx tokens each (n_ctx is per sequence):
 * n_slots × n_ctx KV cells in the unified cache and n_slots sequence ids, recreating it
 * once where the one open() made is smaller (it then stays at that size). On failure the
 * old size is restored where it can be; -1 with err.
 */
static int many_context(slm_engine *e, int n_slots, char *err, size_t errlen)
{
    long need = (long)n_slots * e->n_ctx;
    if (need <= e->n_kv && n_slots <= e->n_seq_ctx)
        return 0;
    int old_kv = e->n_kv, old_seq = e->n_seq_ctx;
    int n_kv = need > old_kv ? (int)need : old_kv, n_seq = n_slots > old_seq ? n_slots : old_seq;
    if (need > INT_MAX)
        return slm_plugin_err(err, errlen, "%d sequences of %d tokens exceed the KV cache's "
                              "reach", n_slots, e->n_ctx);
    lib.llama_free(e->ctx);
    e->ctx = NULL;
    e->n_cache = 0;
    if (make_context(e, n_kv, e->n_batch, n_seq, err, errlen) == 0) {
        e->n_seq_ctx = n_seq;
        return 0;
    }
    char keep[SLM_PLUGIN_ERRLEN];
    snprintf(keep, sizeof keep, "%s", err);
    if (make_context(e, old_kv, e->n_batch, old_seq, err, errlen) == 0)
        e->n_seq_ctx = old_seq;
    return slm_plugin_err(err, errlen, "%d sequences at once: %s", n_slots, keep);
}

/*
 * Generates for n_reqs requests as generate() does for each, up to many->concurrency at
 * once as sequences of one context (continuous batching): each request in flight has its
 * own sequence id, its prompt is evaluated into it (in the same batches as the others'
 * tokens), then every step decodes one token of each such sequence in one llama_decode;
 * a request that ends leaves the cache and the next one takes its sequence. Sampling,
 * grammars, stop strings and limits are generate()'s (gen_step). Closed loop, or with
 * many->send_at_ns an open loop: request i enters the batch, between two steps, no
 * earlier than its time. Each request's probe marks its own PREFILL (entering the batch
 * to its prompt's logits) and DECODE; traced() gets sent (entering the batch), first
 * token, end and the gaps between output tokens. The prefix cache is forgotten (the
 * memory is emptied before and after).
 *
 * Greedy texts are generate()'s. The logits of a sequence decoded beside others may
 * differ from its logits alone in the last bits (ggml's matrix kernels depend on the
 * batch's size), which could flip an argmax between two tokens that tie within that
 * rounding; nothing here breaks such ties specially (generate() does not either).
 * test_llamacpp_many accepts a parted text only at such a tie and counts them (none so
 * far on the demo models).
 */
static int engine_generate_many(slm_engine *e, const slm_request *const *reqs, size_t n_reqs,
                                const slm_gen_params *params, const slm_gen_many *many,
                                char *err, size_t errlen)
{
    if (!e || !many || (!reqs && n_reqs))
        return slm_plugin_err(err, errlen, "no engine, no requests or no way to report them");
    if (!HAS_FIELD(many, slm_gen_many, stop) || many->concurrency < 1 ||
        (!many->done && !(HAS_FIELD(many, slm_gen_many, traced) && many->traced)))
        return slm_plugin_err(err, errlen, "generate_many needs a concurrency of at least 1 "
                              "and a done() callback");
    NEEDS_CONTEXT(e);
    if (n_reqs == 0)
        return 0;
    long n_slots = many->concurrency < n_reqs ? (long)many->concurrency : (long)n_reqs;
    if (n_slots > SLM_LLAMA_MAX_N_PARALLEL)
        n_slots = SLM_LLAMA_MAX_N_PARALLEL;
    if (n_slots > e->n_batch) /* every sequence's token fits in each step */
        n_slots = e->n_batch;
    if (many_context(e, (int)n_slots, err, errlen))
        return -1;
    struct many_run mr = {.e = e, .reqs = reqs, .n_reqs = n_reqs, .params = params, .m = many,
                          .n_slots = (int)n_slots};
    mr.send_at = HAS_FIELD(many, slm_gen_many, send_at_ns) ? many->send_at_ns : NULL;
    mr.s = slm_plugin_calloc((size_t)n_slots, sizeof *mr.s);
    if (!mr.s)
        return slm_plugin_oom(err, errlen);
    for (int k = 0; k < mr.n_slots; k++) {
        mr.s[k].i = SIZE_MAX;
        mr.s[k].seq = k;
        mr.s[k].row = -1;
    }
    cache_reset(e);
    int rc = many_loop(&mr, err, errlen);
    for (int k = 0; k < mr.n_slots; k++)
        slot_clear(&mr, &mr.s[k]);
    cache_reset(e);
    free(mr.s);
    return rc;
}

/* ---- tokenize ---- */

static void token_result_free(slm_token_result *r)
{
    for (size_t i = 0; r->pieces && i < r->n; i++)
        free(r->pieces[i]);
    free(r->pieces);
    free(r->ids);
    free(r);
}

/* The token's text as the vocabulary holds it, special tokens by name (caller frees);
 * NULL when out of memory. */
static char *token_piece(slm_engine *e, llama_token tok)
{
    char small[64];
    int32_t n = lib.llama_token_to_piece(e->vocab, tok, small, sizeof small, 0, true);
    if (n >= 0)
        return slm_plugin_strndup(small, (size_t)n);
    char *big = slm_plugin_malloc((size_t)-n + 1);
    if (!big)
        return NULL;
    n = lib.llama_token_to_piece(e->vocab, tok, big, -n, 0, true);
    big[n > 0 ? n : 0] = '\0';
    return big;
}

/* The model's tokens of text[0..len) with their pieces (SLM_TOKENIZE_* flags). */
static int engine_tokenize(slm_engine *e, const char *text, size_t len, uint32_t flags,
                           slm_token_result **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!e)
        return slm_plugin_err(err, errlen, "no engine");
    if (!text && len)
        return slm_plugin_err(err, errlen, "no text to tokenize");
    llama_token *t;
    int n;
    if (tokenize(e, text ? text : "", len, flags & SLM_TOKENIZE_ADD_SPECIAL,
                 flags & SLM_TOKENIZE_PARSE_SPECIAL, &t, &n, err, errlen))
        return -1;
    slm_token_result *r = slm_plugin_calloc(1, sizeof *r);
    if (r) {
        r->kind = SLM_RESULT_TOKENS;
        r->ids = slm_plugin_calloc((size_t)n + 1, sizeof *r->ids);
        r->pieces = slm_plugin_calloc((size_t)n + 1, sizeof *r->pieces);
    }
    int ok = r && r->ids && r->pieces;
    for (int i = 0; ok && i < n; i++) {
        r->ids[i] = t[i];
        ok = (r->pieces[i] = token_piece(e, t[i])) != NULL;
        r->n = (size_t)i + 1; /* what token_result_free() frees */
    }
    free(t);
    if (!ok) {
        if (r)
            token_result_free(r);
        return slm_plugin_oom(err, errlen);
    }
    r->n = (size_t)n;
    *out = r;
    return 0;
}

/* Frees a result of score(), generate() or tokenize(); NULL is a no-op. */
static void engine_result_free(void *result)
{
    if (!result)
        return;
    switch (*(slm_result_kind *)result) {
    case SLM_RESULT_SCORE:
        score_result_free(result);
        break;
    case SLM_RESULT_GENERATE:
        gen_result_free(result);
        break;
    case SLM_RESULT_TOKENS:
        token_result_free(result);
        break;
    case SLM_RESULT_TEXT:
        text_result_free(result);
        break;
    default:
        break;
    }
}

/* ---- quantize ---- */

/* Writes a copy of in_path quantized to type (a name of the ftypes table) to out_path. */
static int engine_quantize(const char *in_path, const char *out_path, const char *type,
                           int threads, char *err, size_t errlen)
{
    if (!lib.handle)
        return slm_plugin_err(err, errlen, "llama.cpp library not loaded (init was not called)");
    if (!in_path || !out_path || !type)
        return slm_plugin_err(err, errlen, "quantize needs an input, an output and a type");
    int ftype = -1;
    for (size_t i = 0; i < sizeof ftypes / sizeof ftypes[0]; i++)
        if (!strcasecmp(type, ftypes[i].name))
            ftype = ftypes[i].ftype;
    if (ftype < 0) {
        slm_plugin_buf known = {0};
        for (size_t i = 0; i < sizeof ftypes / sizeof ftypes[0]; i++)
            slm_plugin_buf_printf(&known, "%s%s", i ? ", " : "", ftypes[i].name);
        if (known.oom)
            slm_plugin_oom(err, errlen);
        else
            slm_plugin_err(err, errlen, "unknown quantization type '%s' (known: %s)", type,
                           known.data);
        slm_plugin_buf_free(&known);
        return -1;
    }
    if (check_gguf(in_path, "model", err, errlen))
        return -1;
    struct llama_model_quantize_params qp = lib.quantize_default_params().p;
    qp.ftype = (enum llama_ftype)ftype;
    qp.nthread = threads > 0 ? threads : 0;
    log_reset();
    if (lib.llama_model_quantize(in_path, out_path, &qp) != 0) {
        char why[LOG_LINE];
        return slm_plugin_err(err, errlen, "cannot quantize '%s' to %s: %s", in_path, type,
                              log_error(why, sizeof why));
    }
    return 0;
}

/* ---- the table ---- */

/* Checks every option as engine_open() parses it (the same table, the same function),
 * without opening anything (1.5). */
static int engine_check_options(const slm_options *opts, char *err, size_t errlen)
{
    const char *known[N_INT_OPTIONS + 3];
    for (size_t j = 0; j < N_INT_OPTIONS; j++)
        known[j] = int_options[j].key;
    known[N_INT_OPTIONS] = "model";
    known[N_INT_OPTIONS + 1] = "flash_attn";
    known[N_INT_OPTIONS + 2] = NULL;
    open_opts o;
    if (slm_plugin_check_keys(opts, known, "llamacpp", err, errlen) ||
        parse_open_options(opts, &o, err, errlen))
        return -1;
    return 0;
}

static const slm_engine_vtable vtable = {
    .abi_version = SLM_ENGINE_ABI_VERSION,
    .struct_size = sizeof(slm_engine_vtable),
    .name = "llamacpp",
    .version = ENGINE_VERSION,
    .description = "llama.cpp in process: GGUF models on the CPU (or a GPU: n_gpu_layers)",
    .caps = SLM_CAP_SCORE | SLM_CAP_GENERATE | SLM_CAP_CONSTRAIN | SLM_CAP_CHAT_TEMPLATE |
            SLM_CAP_QUANTIZE | SLM_CAP_TOKEN_LOGPROBS | SLM_CAP_BATCH | SLM_CAP_MODEL_FILE |
            SLM_CAP_GGUF | SLM_CAP_TOKENIZE | SLM_CAP_CONCURRENT | SLM_CAP_SCHEDULE,
    .init = engine_init,
    .open = engine_open,
    .info = engine_info,
    .score = engine_score,
    .generate = engine_generate,
    .result_free = engine_result_free,
    .close = engine_close,
    .quantize = engine_quantize,
    .shutdown = engine_shutdown,
    .score_batch = engine_score_batch,
    .generate_many = engine_generate_many,
    .tokenize = engine_tokenize,
    .render = engine_render,
    .check_options = engine_check_options,
};

/* The plugin's entry point: returns the engine's constant table. */
const slm_engine_vtable *slm_engine_entry(void)
{
    return &vtable;
}
