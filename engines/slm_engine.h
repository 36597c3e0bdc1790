/*
 * slm_engine.h — the engine plugin ABI of slmbench.
 *
 * An engine is a shared object exporting one function:
 *
 *     const slm_engine_vtable *slm_engine_entry(void);
 *
 * which returns a pointer to a static, constant table. The harness dlopen()s the plugin,
 * calls slm_engine_entry(), checks the table and then talks to the engine only through it.
 *
 * Rules of the table (modelled on SQLite's sqlite3_io_methods):
 *   - abi_version holds SLM_ENGINE_ABI_MAJOR in its high 16 bits and the minor in the low
 *     16 bits. The loader refuses a table whose major differs from its own.
 *   - struct_size is sizeof(slm_engine_vtable) as the plugin was compiled. Slots are only
 *     ever appended; the loader uses a slot only if struct_size covers it, so an old plugin
 *     works with a newer harness and the reverse.
 *   - Every slot may be NULL unless marked "required".
 *
 * Conventions shared by every slot:
 *   - Functions return 0 on success and -1 on failure. On failure they write a one-line,
 *     lowercase message without trailing period into err (errlen bytes, NUL-terminated).
 *   - Memory crossing the boundary is freed by the side that allocated it: results made by
 *     the engine are released with result_free(); the request, choices and options belong
 *     to the harness and are only borrowed for the duration of the call.
 *   - close(NULL) and result_free(NULL) are harmless no-ops.
 *   - An engine handle is used from one thread at a time.
 */
#ifndef SLM_ENGINE_H
#define SLM_ENGINE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLM_ENGINE_ABI_MAJOR 1
#define SLM_ENGINE_ABI_MINOR 6
#define SLM_ENGINE_ABI_VERSION ((uint32_t)((SLM_ENGINE_ABI_MAJOR << 16) | SLM_ENGINE_ABI_MINOR))
#define SLM_ENGINE_ENTRY "slm_engine_entry"

/* Capability flags: what an engine (table) or an opened model (slm_model_info) can do. */
enum {
    SLM_CAP_SCORE = 1u << 0,          /* score(): log P(choice | prompt) for given choices */
    SLM_CAP_GENERATE = 1u << 1,       /* generate(): free text continuation */
    SLM_CAP_CONSTRAIN = 1u << 2,      /* generate() honours grammar / json_schema */
    SLM_CAP_SERVER_TIMINGS = 1u << 3, /* results carry timings measured by a server */
    SLM_CAP_CHAT_TEMPLATE = 1u << 4,  /* can wrap the prompt in the model's chat template */
    SLM_CAP_QUANTIZE = 1u << 5,       /* quantize() slot works */
    SLM_CAP_TOKEN_LOGPROBS = 1u << 6, /* generate() fills per-token log-probabilities */
    SLM_CAP_BATCH = 1u << 7,          /* score_batch(): many requests scored together (1.1) */
    SLM_CAP_CONCURRENT = 1u << 8,     /* generate_many(): requests in flight at once (1.2) */
    SLM_CAP_MODEL_FILE = 1u << 9,     /* the `model` option is a file: the harness resolves it
                                         against the config's folder and hashes it (1.2);
                                         otherwise it is a name, passed as written */
    SLM_CAP_GGUF = 1u << 10,          /* model files are GGUF: the harness checks the header
                                         and reads the quantization for the policy (1.2) */
    SLM_CAP_TOKENIZE = 1u << 11,      /* tokenize(): the model's own tokens of a text (1.3) */
    SLM_CAP_SCHEDULE = 1u << 12,      /* generate_many() sends request i at send_at_ns[i]
                                         (open loop) and reports slm_req_trace (1.6) */
};

/* Phases marked through the probe. */
typedef enum slm_phase {
    SLM_PHASE_PREFILL = 0, /* evaluating the prompt, up to the first output logits */
    SLM_PHASE_DECODE = 1,  /* generating further tokens, or scoring choice continuations */
    SLM_PHASE_COUNT
} slm_phase;

/*
 * The probe lets an in-process engine mark exactly where each phase starts and ends, so the
 * harness reads its clocks and counters there. Engines call phase_begin/phase_end in pairs,
 * never nested, each phase at most once per request. n_tokens is the number of tokens the
 * phase processed (prompt tokens for prefill; generated or scored tokens for decode).
 * A NULL probe, or NULL callbacks, mean nobody listens.
 */
typedef struct slm_probe {
    void *ud;
    void (*phase_begin)(void *ud, slm_phase phase);
    void (*phase_end)(void *ud, slm_phase phase, int n_tokens);
} slm_probe;

/* A key/value option, as written in the run config for a candidate (all values strings). */
typedef struct slm_option {
    const char *key;
    const char *value;
} slm_option;

/*
 * Options passed to open(). Well-known keys (every engine accepts them, ignoring those it
 * does not use; since 1.5 check_options() refuses other keys the engine does not know, and
 * open() reports an error for values it cannot parse):
 *   model         path of the model file (llamacpp), model name (openai), ...
 *   n_ctx         context size in tokens
 *   threads       number of CPU threads
 *   seed          integer seed, where the engine samples
 *   chat_template "1" to wrap prompts in the model's own chat template by default
 *   vocab_only    "1": load the tokenizer only (no weights, no context): info() and
 *                 tokenize() work, score() and generate() fail (1.3)
 *   n_gpu_layers  layers to offload to a GPU (1.3; llamacpp: all where a GPU backend
 *                 loads, else 0)
 */
typedef struct slm_options {
    const slm_option *items;
    size_t n;
} slm_options;

/* Facts about an opened model, filled by info(). Unknown strings stay "", unknown
 * numbers stay 0 (the harness stores them as NULL). */
typedef struct slm_model_info {
    uint32_t struct_size;     /* set by the harness before the call */
    uint32_t caps;            /* SLM_CAP_* for this model (may be fewer than the engine's) */
    char arch[64];            /* e.g. "llama" */
    char name[128];           /* general.name or server model id */
    char quant[32];           /* quantization type read from the file, e.g. "Q4_K_M" */
    char engine_version[96];  /* e.g. "llama.cpp v0.5.0 (node-llama-cpp 3.22.1)" */
    char chat_template[64];   /* name of the model's chat template, "" if none */
    char desc[160];           /* free text description (llama_model_desc) */
    uint64_t n_params;        /* parameter count */
    uint64_t size_bytes;      /* size of the weights */
    int32_t n_ctx;            /* context size in use */
    int32_t n_ctx_train;      /* context size the model was trained with */
    int32_t n_vocab;
    int32_t n_layer;
    int32_t n_embd;
    int32_t n_threads;
    /* ---- version 1.3 ---- */
    uint64_t kv_bytes;        /* bytes of the KV cache as allocated for n_ctx, 0 unknown */
    int32_t n_gpu_layers;     /* layers offloaded to a GPU (0: CPU only) */
    char device[96];          /* where the weights run, e.g. "CPU" or the GPU's name */
    char chat_template_text_sha256[65]; /* SHA-256 of the model's template text, "" none */
} slm_model_info;

/* One request: the rendered prompt, the same bytes for every candidate. */
typedef struct slm_request {
    uint32_t struct_size;     /* sizeof(slm_request) as the harness was compiled */
    const char *id;           /* example id (replay engines look answers up by it) */
    const char *prompt;       /* UTF-8, NUL-terminated */
    size_t prompt_len;
    int chat_template;        /* 1: wrap in the model's chat template; 0: send raw */
    const slm_probe *probe;   /* may be NULL */
} slm_request;

/* Result kinds, the first field of every result so result_free() can dispatch. */
typedef enum slm_result_kind {
    SLM_RESULT_SCORE = 1,
    SLM_RESULT_GENERATE = 2,
    SLM_RESULT_TOKENS = 3,    /* 1.3 */
    SLM_RESULT_TEXT = 4       /* 1.3 */
} slm_result_kind;

/* Engine-measured timings in milliseconds; negative means not measured. Servers report
 * these (SLM_CAP_SERVER_TIMINGS); in-process engines may leave them at -1 because the
 * harness measures through the probe. */
typedef struct slm_timings {
    double prefill_ms;
    double decode_ms;
    double ttft_ms;
    double total_ms;
} slm_timings;

typedef struct slm_score_result {
    slm_result_kind kind;     /* SLM_RESULT_SCORE */
    size_t n;                 /* number of choices, as asked */
    double *logprob;          /* [n] sum over the choice's tokens of ln P(token | ...) */
    int32_t *n_tokens;        /* [n] tokens in each choice's continuation */
    int32_t n_prompt_tokens;  /* tokens in the prompt as evaluated */
    slm_timings timings;
} slm_score_result;

typedef enum slm_finish {
    SLM_FINISH_STOP = 0,      /* end-of-generation token or a stop string */
    SLM_FINISH_LENGTH = 1,    /* max_tokens reached */
    SLM_FINISH_ERROR = 2
} slm_finish;

typedef struct slm_gen_params {
    uint32_t struct_size;
    int32_t max_tokens;       /* <= 0: engine default (32) */
    const char *const *stop;  /* stop strings; generation ends before the first match */
    size_t n_stop;
    const char *grammar;      /* GBNF grammar, or NULL */
    const char *json_schema;  /* JSON schema, or NULL (engines turn it into a grammar) */
    double temperature;       /* 0: greedy (the default) */
    uint32_t seed;
} slm_gen_params;

typedef struct slm_gen_result {
    slm_result_kind kind;     /* SLM_RESULT_GENERATE */
    char *text;               /* generated text, stop string excluded, NUL-terminated */
    size_t text_len;
    int32_t n_prompt_tokens;
    int32_t n_output_tokens;
    double *token_logprobs;   /* [n_output_tokens] ln P of each generated token, or NULL */
    slm_finish finish;
    slm_timings timings;
} slm_gen_result;

/*
 * How generate_many() runs its requests (1.2).
 *
 * done() is called once for each request that finished, in the order they finish, from the
 * thread that called generate_many(), never from two places at once: with the request's
 * index, its result (now owned by the harness, freed with result_free()) or NULL and a
 * message on failure, and e2e_ms — the time from the request's first attempt leaving the
 * engine (after any rate limit let it go, before its retries) to its end, so time spent
 * queued behind other requests is not counted. A nonzero return from done() stops the call.
 */
struct slm_req_trace; /* below (1.6) */

typedef struct slm_gen_many {
    uint32_t struct_size;     /* sizeof(slm_gen_many) as the harness was compiled */
    uint32_t concurrency;     /* at most this many requests in flight at once (>= 1) */
    int (*done)(void *ud, size_t i, slm_gen_result *result, double e2e_ms, const char *err);
    void *ud;
    /* Read between events (at least every 100 ms): nonzero stops the call too (the
     * harness's Ctrl-C flag). May be NULL. */
    const volatile sig_atomic_t *stop;

    /* ---- version 1.6: read only where struct_size covers them, by an engine (model)
     * with SLM_CAP_SCHEDULE; an engine without it ignores them and calls done() ---- */

    /*
     * Open loop (a load test's arrivals): send_at_ns[i] is the CLOCK_MONOTONIC time at
     * which request i is due, non-decreasing in i. The engine starts request i no earlier
     * than that, and as soon after it as it can, whether or not earlier requests have
     * finished — but never with more than `concurrency` in flight (the in-flight cap): a
     * request due while the cap is reached waits for a free slot, and its lateness shows
     * in its trace (sent_ns - scheduled_ns). NULL: each request as soon as a slot is free
     * (closed loop, as before 1.6).
     */
    const uint64_t *send_at_ns;

    /* Where non-NULL, called instead of done() (same rules: once per request, from the
     * calling thread, in the order they finish; nonzero stops the call), with what the
     * engine measured of the request, borrowed for the duration of the callback. */
    int (*traced)(void *ud, size_t i, slm_gen_result *result, const struct slm_req_trace *trace,
                  const char *err);
} slm_gen_many;

/*
 * What an engine measured of one request of generate_many() (1.6). Times are
 * CLOCK_MONOTONIC nanoseconds (clock_gettime), 0 where not known.
 */
typedef struct slm_req_trace {
    uint32_t struct_size;     /* sizeof(slm_req_trace) as the engine was compiled */
    int32_t attempts;         /* attempts made (1 + retries); 0 if it was never sent */
    uint64_t scheduled_ns;    /* send_at_ns[i]; 0 in a closed loop */
    uint64_t sent_ns;         /* its first attempt left the engine (the first byte
                                 written, or the sequence entered the batch) */
    uint64_t first_token_ns;  /* its first output token arrived (streamed / in process);
                                 0 unknown (not streamed) */
    uint64_t end_ns;          /* answered or failed */
    const double *gaps_ms;    /* [n_gaps] gaps between consecutive output tokens (or SSE
                                 content events) in order; NULL when not measured */
    int32_t n_gaps;
    int32_t http_status;      /* of the last attempt; 0 none (in process, no answer) */
    int32_t timed_out;        /* 1: the request ended by its timeout */
    const char *server_id;    /* the server's request id (x-request-id header, else the
                                 answer's "id"), "" none; never NULL */
} slm_req_trace;

/* tokenize() flags (1.3). */
enum {
    SLM_TOKENIZE_ADD_SPECIAL = 1u << 0,   /* add BOS/EOS where the vocabulary adds them */
    SLM_TOKENIZE_PARSE_SPECIAL = 1u << 1, /* texts of special tokens become those tokens */
};

/* The tokens of a text (1.3). */
typedef struct slm_token_result {
    slm_result_kind kind;     /* SLM_RESULT_TOKENS */
    size_t n;
    int32_t *ids;             /* [n] token ids */
    char **pieces;            /* [n] each token's text as the vocabulary holds it (special
                                 tokens by name), NUL-terminated */
} slm_token_result;

/* The text a model is given for a request, from render() (1.3). */
typedef struct slm_text_result {
    slm_result_kind kind;     /* SLM_RESULT_TEXT */
    char *text;               /* the exact bytes evaluated, NUL-terminated */
    size_t len;
    int32_t n_tokens;         /* tokens the engine evaluates for it, BOS included; -1 unknown */
    uint32_t flags;           /* SLM_TOKENIZE_* that tokenize() needs to give those tokens */
} slm_text_result;

typedef struct slm_engine slm_engine; /* opaque, defined by each engine */

typedef struct slm_engine_vtable {
    /* ---- version 1.0 ---- */
    uint32_t abi_version;     /* SLM_ENGINE_ABI_VERSION the plugin was built with (required) */
    uint32_t struct_size;     /* sizeof(slm_engine_vtable) the plugin was built with (required) */
    const char *name;         /* short name used in configs, e.g. "llamacpp" (required) */
    const char *version;      /* version of the plugin itself (required) */
    const char *description;  /* one line for `slmbench engines` */
    uint32_t caps;            /* SLM_CAP_* the engine can offer at best */

    /* Library-wide set-up, called once after loading, before anything else. A failure
     * disables the engine with err as the reason; the other engines go on. May be NULL. */
    int (*init)(char *err, size_t errlen);

    /* Opens a model (required). On success *out is a new handle. */
    int (*open)(const slm_options *opts, slm_engine **out, char *err, size_t errlen);

    /* Fills *info (whose struct_size the harness set) with the model facts (required). */
    int (*info)(slm_engine *e, slm_model_info *info, char *err, size_t errlen);

    /* Scores n choices as continuations of the prompt: logprob[i] = sum over the tokens
     * of choice i of ln P(token | prompt, previous tokens of the choice). The prompt is
     * evaluated once; the choices are scored from it. NULL unless SLM_CAP_SCORE. */
    int (*score)(slm_engine *e, const slm_request *req, const char *const *choices, size_t n,
                 slm_score_result **out, char *err, size_t errlen);

    /* Generates a continuation of the prompt. NULL unless SLM_CAP_GENERATE. */
    int (*generate)(slm_engine *e, const slm_request *req, const slm_gen_params *params,
                    slm_gen_result **out, char *err, size_t errlen);

    /* Frees a result made by score() or generate(); the first field tells which. */
    void (*result_free)(void *result);

    /* Closes a handle from open(). close(NULL) does nothing. */
    void (*close)(slm_engine *e);

    /* Makes a quantized copy of a model file, type by name ("Q8_0", "Q4_K_M", ...).
     * NULL unless SLM_CAP_QUANTIZE. */
    int (*quantize)(const char *in_path, const char *out_path, const char *type, int threads,
                    char *err, size_t errlen);

    /* Library-wide tear-down, called once before the plugin is unloaded. May be NULL. */
    void (*shutdown)(void);

    /* ---- version 1.1 ---- */

    /*
     * Throughput mode (like MLPerf's Offline scenario): scores the same n_choices choices
     * for each of n_reqs requests, as score() would for each request alone, but evaluates
     * the requests' prompts together as parallel sequences in shared decode batches, and
     * their choice continuations too, so more examples are scored per second. The
     * log-probabilities equal score()'s for the same request up to rounding.
     *
     * On success out[i] (the caller's array of n_reqs pointers) is a new result for
     * reqs[i], each freed with result_free(). A failure of any request fails the whole
     * call: -1, err names the request ("request 3 ('id'): ..."), and every out[i] is NULL.
     * n_reqs = 0 succeeds and does nothing.
     *
     * The probe of reqs[0], if any, is the only one called: PREFILL and DECODE once each
     * for the whole call, so their timings and n_tokens (all prompts' tokens, all choices'
     * tokens) are per batch, not per request; divide by n_reqs for an average. The probes
     * of the other requests are ignored.
     *
     * May change state that score() keeps between requests (an engine's prompt cache);
     * score() afterwards gives the same results as before it. NULL unless SLM_CAP_BATCH.
     */
    int (*score_batch)(slm_engine *e, const slm_request *const *reqs, size_t n_reqs,
                       const char *const *choices, size_t n_choices,
                       slm_score_result **out /* [n_reqs] */, char *err, size_t errlen);

    /* ---- version 1.2 ---- */

    /*
     * Bounded concurrency (like a served model's real load): generates for n_reqs requests
     * as generate() would for each, keeping up to many->concurrency of them in flight at
     * once, each with its own retries. Every request is reported through many->done()
     * exactly once — answered or failed with its own error, a failure never failing the
     * others — unless the call stops early (done() returned nonzero, *many->stop was set,
     * or the engine itself broke): then requests not reported are abandoned, neither sent
     * again nor reported, and the caller runs them later.
     *
     * Returns 0 when it ran to the end or was stopped, -1 (err) when the engine could not
     * go on. Each request's probe, if any, is called with PREFILL and DECODE as they happen,
     * interleaved with other requests' (clocks are meaningful per request; process-wide
     * counters read there are not). NULL unless SLM_CAP_CONCURRENT.
     */
    int (*generate_many)(slm_engine *e, const slm_request *const *reqs, size_t n_reqs,
                         const slm_gen_params *params, const slm_gen_many *many, char *err,
                         size_t errlen);

    /* ---- version 1.3 ---- */

    /*
     * The model's own tokens of text[0..len) (SLM_TOKENIZE_* flags). On success *out is a
     * new result, freed with result_free(). Works on a model opened with vocab_only.
     * NULL unless SLM_CAP_TOKENIZE.
     */
    int (*tokenize)(slm_engine *e, const char *text, size_t len, uint32_t flags,
                    slm_token_result **out, char *err, size_t errlen);

    /*
     * The exact text score() and generate() evaluate for req, and its token count: the
     * prompt as it is, or — where req->chat_template or the open option chat_template
     * asks — the prompt as one user message in the model's chat template, followed by
     * the assistant's opening. A template the engine cannot apply fails here, with the
     * reason, as score() and generate() would. The harness hashes the text (what each
     * candidate really saw) and sizes the context from n_tokens before any example runs.
     * On success *out is a new result, freed with result_free(). Works on a model opened
     * with vocab_only. NULL where the engine cannot tell (a server renders on its side).
     */
    int (*render)(slm_engine *e, const slm_request *req, slm_text_result **out, char *err,
                  size_t errlen);
    /* ---- end of version 1.3 ---- */

    /* ---- version 1.4 ---- */

    /*
     * Hands the engine the harness's Ctrl-C flag (never NULL), once after open(); it stays
     * valid until close(). An engine that waits on something outside (a server, a
     * program) reads it at least every 100 ms inside score() and generate() and, once it
     * is nonzero, abandons the call at once — no retry — and fails it; the harness stores
     * nothing for a call that failed with the flag set. May be NULL.
     */
    void (*set_stop)(slm_engine *e, const volatile sig_atomic_t *stop);
    /* ---- end of version 1.4 ---- */

    /* ---- version 1.5 ---- */

    /*
     * Checks options as open() would read them, without opening anything: -1 (err names the
     * option) on a key the engine does not know (the well-known keys above excepted: the
     * harness adds some itself) or a value out of its range. The harness calls it for every
     * candidate before any engine opens and refuses the config on a failure. May be NULL
     * (then open() is the first to see the options).
     */
    int (*check_options)(const slm_options *opts, char *err, size_t errlen);
    /* ---- end of version 1.5; later slots go below, marked with their version ---- */
} slm_engine_vtable;

typedef const slm_engine_vtable *(*slm_engine_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif /* SLM_ENGINE_H */
