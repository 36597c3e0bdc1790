/*
 * bench_shapes.c — slmbench on models in the shapes of published small models
 * (harness/models/modelshape.h: qwen2.5-0.5b, qwen3-0.6b, llama-3.2-1b at Q4_K_M), against a
 * minimal direct libllama loop and against the machine's memory bandwidth.
 *
 * For each shape, in one process, interleaved A B A B … (so drift of a shared machine
 * hits both alike): the median rate of each side, and as the ratio the median of the
 * rounds' ratios A/B (each from two adjacent runs, so one disturbed run moves one ratio,
 * not a whole side's median):
 *
 *   A  slmbench itself: `slmbench run --shard 1/2` on a generated eval set of two
 *      examples, a short ticket and one whose prompt is PROMPT tokens (counted by the
 *      model's own tokenizer, BOS included); mode generate, max_tokens DECODE, no stop
 *      strings, warmup 1, prefix_cache 0 (every prompt evaluated in full). The warm-up
 *      takes the first example (the short one; warm-up ignores shards) and the shard
 *      leaves the long one as the only example timed and stored, so a round costs one
 *      long request plus a cheap warm-up. prefill_ms, decode_ms and the token counts are
 *      read from the run's database (view v_predictions); the decode rate counts the
 *      tokens after the first, as slmbench's own decode_tokens_per_s: (n_output_tokens
 *      - 1) / decode_ms. Peak RSS is that process's ru_maxrss (see run_child()).
 *   B  the same libllama, dlopen()ed here, with the engine's settings where they change
 *      the work (n_gpu_layers 0, n_ctx 2048, n_batch = n_ubatch 512, the same threads,
 *      flash attention off), llama.cpp's defaults otherwise: the same PROMPT tokens
 *      llama_decode()d in one batch (logits of the last only), then DECODE single-token
 *      decodes, each token the argmax of the last logits. Model loaded once, one short
 *      untimed request first.
 *
 * The engine's generate() does per token what B does not: llama.cpp's greedy sampler
 * and the chosen token's log-probability (a log-sum-exp over the vocabulary). Both are
 * timed on real logits and printed, since with a 150k vocabulary they are a few percent
 * of a small model's decode; the log-sum-exp timed here is the plain scalar double one
 * (0.7-0.9 ms a row), which the engine replaced by an 8-lane float one (0.1 ms with
 * AVX2) after this benchmark showed it.
 *
 * The machine must be quiet for the figures to mean much: llama.cpp's threads wait for
 * each other by spinning, so with another busy process on a 2-core machine a decode
 * slows down many times over (seen here: 20 ms a token quiet, 400 ms under a load
 * average of 4), A and B alike but not evenly. The load average is printed before and
 * after; the raw samples show which rounds were hit.
 *
 * Roofline share: a decoded token must read every weight once (llama_model_size) and
 * the KV cache written so far (F16 K and V at the mean position of the decode); share =
 * A's decode tok/s ÷ (read bandwidth ÷ those bytes). The bandwidth is a streaming read
 * (sum of 64-bit words) over BW_MIB MiB by the same number of threads, the best of 5
 * passes measured at the start, before each shape and at the end: what the machine can
 * do, not what a busy moment left of it (one measurement at a busy start once put a
 * decode at 159% of its ceiling).
 *
 * The models are built once into WORKDIR (`slmbench models make --shape NAME --no-stop`,
 * then `models quantize … Q4_K_M`; the F16 intermediate is deleted) and reused while
 * newer than the slmbench binary. Timings are printed, never judged; raw samples go to
 * WORKDIR/shapes.csv.
 *
 *   bench_shapes SLMBENCH EVALSET WORKDIR
 *
 * EVALSET gives the train split the models learn from, the prompt template and the
 * labels (evalsets/support-triage). Environment: SLM_BENCH_SHAPES (default
 * "qwen2.5-0.5b qwen3-0.6b llama-3.2-1b"), BENCH_THREADS (2), BENCH_SHAPES_REPS (rounds;
 * default 5, and 3 for shapes of 1B parameters or more: about 4-5 minutes in all on a
 * quiet 2-core machine, the first build of the models aside), BENCH_SHAPES_PROMPT (512),
 * BENCH_SHAPES_DECODE (128), SLM_LLAMA_LIB (the library, as for the engine).
 */
#include "bench_common.h"
#include "evalset.h"
#include "llamacpp/llama_abi.h"
#include "modelshape.h"
#include "prompt.h"
#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SLM_LLAMA_LIBDIR
#define SLM_LLAMA_LIBDIR ""
#endif

#define DEFAULT_SHAPES "qwen2.5-0.5b qwen3-0.6b llama-3.2-1b"
#define N_CTX 2048      /* the engine's default context */
#define N_BATCH 512     /* the engine's default n_batch (= n_ubatch) */
#define BW_MIB 1024     /* buffer of the read-bandwidth benchmark */
#define MAX_REPS 16

extern char **environ;

static int threads = 2, n_prompt = 512, n_decode = 128;

/* ---- the library, as the engine loads it ---- */

typedef union {
    struct llama_context_params p;
    unsigned char room[1024]; /* a grown struct cannot write past our stack */
} cparams_room;
typedef union {
    struct llama_model_params p;
    unsigned char room[1024];
} mparams_room;

#define LLAMA_FUNCS(X)                                                                       \
    X(llama_backend_init) X(llama_backend_free) X(llama_log_set)                           \
    X(ggml_backend_load_all_from_path) X(llama_model_load_from_file) X(llama_model_free)   \
    X(llama_init_from_model) X(llama_free) X(llama_get_memory) X(llama_memory_clear)       \
    X(llama_model_get_vocab) X(llama_vocab_n_tokens) X(llama_tokenize) X(llama_batch_init) \
    X(llama_batch_free) X(llama_decode) X(llama_get_logits_ith) X(llama_model_size)        \
    X(llama_model_n_params) X(llama_sampler_chain_default_params) X(llama_sampler_chain_init) \
    X(llama_sampler_chain_add) X(llama_sampler_init_greedy) X(llama_sampler_sample)        \
    X(llama_sampler_free)

static struct {
    void *handle;
    char path[PATH_MAX];
    cparams_room (*context_default_params)(void);
    mparams_room (*model_default_params)(void);
#define FIELD(fn) __typeof__(&fn) fn;
    LLAMA_FUNCS(FIELD)
#undef FIELD
} L;

static void quiet_log(enum ggml_log_level level, const char *text, void *ud)
{
    (void)level, (void)text, (void)ud;
}

/* Loads the library the llamacpp engine would load ($SLM_LLAMA_LIB, else the pinned
 * build's), checks a few defaults of its parameter structs and loads ggml's CPU
 * variants from its folder, as the engine does. 0, or -1 with err filled. */
static int lib_load(char *err, size_t errlen)
{
    const char *env = getenv("SLM_LLAMA_LIB");
    snprintf(L.path, sizeof L.path, "%s",
             env && *env ? env
                         : SLM_LLAMA_LIBDIR[0] ? SLM_LLAMA_LIBDIR "/libllama.v0.5.0.so"
                                               : "libllama.so");
    L.handle = dlopen(L.path, RTLD_NOW | RTLD_LOCAL);
    if (!L.handle)
        return slm_err(err, errlen, "cannot load '%s': %s", L.path, dlerror());
    *(void **)&L.context_default_params = dlsym(L.handle, "llama_context_default_params");
    *(void **)&L.model_default_params = dlsym(L.handle, "llama_model_default_params");
    if (!L.context_default_params || !L.model_default_params)
        return slm_err(err, errlen, "'%s' lacks the *_default_params functions", L.path);
#define SYM(fn)                                                                              \
    if (!(*(void **)&L.fn = dlsym(L.handle, #fn)))                                           \
        return slm_err(err, errlen, "'%s' lacks '%s'", L.path, #fn);
    LLAMA_FUNCS(SYM)
#undef SYM
    if (SLM_LLAMA_OWN_DECLS) {
        struct llama_context_params c = L.context_default_params().p;
        struct llama_model_params m = L.model_default_params().p;
        if (c.n_ubatch != SLM_LLAMA_DEFAULT_N_UBATCH || c.n_threads != SLM_LLAMA_DEFAULT_N_THREADS ||
            c.kv_unified || m.n_gpu_layers != SLM_LLAMA_DEFAULT_N_GPU_LAYERS)
            return slm_err(err, errlen, "'%s' does not match the ABI of llama_abi.h", L.path);
    }
    L.llama_log_set(quiet_log, NULL);
    L.llama_backend_init();
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", L.path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    L.ggml_backend_load_all_from_path(slash ? dir : NULL);
    return 0;
}

/* ---- the direct loop (B) ---- */

typedef struct direct {
    struct llama_model *model;
    struct llama_context *ctx;
    const struct llama_vocab *vocab;
    struct llama_batch batch;
    int n_vocab;
} direct;

static void direct_close(direct *d)
{
    if (d->batch.token)
        L.llama_batch_free(d->batch);
    if (d->ctx)
        L.llama_free(d->ctx);
    if (d->model)
        L.llama_model_free(d->model);
    memset(d, 0, sizeof *d);
}

static int direct_open(direct *d, const char *path, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    struct llama_model_params mp = L.model_default_params().p;
    mp.n_gpu_layers = 0;
    if (!(d->model = L.llama_model_load_from_file(path, mp)))
        return slm_err(err, errlen, "libllama cannot load '%s'", path);
    struct llama_context_params cp = L.context_default_params().p;
    cp.n_ctx = N_CTX;
    cp.n_batch = cp.n_ubatch = N_BATCH;
    cp.n_threads = cp.n_threads_batch = threads;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED; /* as the engine */
    if (!(d->ctx = L.llama_init_from_model(d->model, cp))) {
        direct_close(d);
        return slm_err(err, errlen, "libllama cannot make a context for '%s'", path);
    }
    d->vocab = L.llama_model_get_vocab(d->model);
    d->n_vocab = L.llama_vocab_n_tokens(d->vocab);
    d->batch = L.llama_batch_init(N_BATCH, 0, 1);
    return 0;
}

/* Tokens of text as the engine makes them (BOS where the vocabulary adds one, special
 * tokens not parsed); caller frees. */
static llama_token *direct_tokenize(direct *d, const char *text, int *n)
{
    int32_t cap = (int32_t)strlen(text) + 8;
    llama_token *t = slm_xmalloc(sizeof *t * (size_t)cap);
    *n = L.llama_tokenize(d->vocab, text, (int32_t)strlen(text), t, cap, true, false);
    if (*n < 0)
        *n = 0;
    return t;
}

static llama_token argmax(direct *d)
{
    const float *lg = L.llama_get_logits_ith(d->ctx, -1);
    llama_token best = 0;
    float mx = lg[0];
    for (int i = 1; i < d->n_vocab; i++)
        if (lg[i] > mx)
            mx = lg[i], best = i;
    return best;
}

/* One request: prefill of toks[n] in one batch, then n_dec greedy decodes; the two
 * times in ms. 0, or -1 when llama_decode fails. */
static int direct_request(direct *d, const llama_token *toks, int n, int n_dec, double *pre_ms,
                          double *dec_ms)
{
    L.llama_memory_clear(L.llama_get_memory(d->ctx), true);
    struct llama_batch *b = &d->batch;
    b->n_tokens = n;
    for (int i = 0; i < n; i++) {
        b->token[i] = toks[i];
        b->pos[i] = i;
        b->n_seq_id[i] = 1;
        b->seq_id[i][0] = 0;
        b->logits[i] = i == n - 1;
    }
    uint64_t t0 = slm_now_ns();
    if (L.llama_decode(d->ctx, *b) != 0 || !L.llama_get_logits_ith(d->ctx, -1))
        return -1;
    uint64_t t1 = slm_now_ns();
    llama_token tok = argmax(d);
    for (int k = 0; k < n_dec; k++) {
        b->n_tokens = 1;
        b->token[0] = tok;
        b->pos[0] = n + k;
        b->logits[0] = 1;
        if (L.llama_decode(d->ctx, *b) != 0)
            return -1;
        tok = argmax(d);
    }
    uint64_t t2 = slm_now_ns();
    *pre_ms = (double)(t1 - t0) / 1e6;
    *dec_ms = (double)(t2 - t1) / 1e6;
    return 0;
}

/*
 * What the engine's generate() does per token besides llama_decode(), timed on the
 * current logits (those of the last decode), the least ms of reps tries (a try a
 * neighbour interrupted says nothing about the work): picking the token with
 * llama.cpp's greedy sampler (which lays out a candidate array over the vocabulary),
 * and ln softmax of the chosen token (a log-sum-exp over the vocabulary in double
 * precision, as the engine computes token_logprobs); *argmax_ms: the direct loop's
 * argmax. Gives the part of a decode-rate gap that is work, not overhead.
 */
static void per_token_extras(direct *d, int reps, double *argmax_ms, double *sampler_ms,
                             double *logprob_ms)
{
    struct llama_sampler *chain =
        L.llama_sampler_chain_init(L.llama_sampler_chain_default_params());
    L.llama_sampler_chain_add(chain, L.llama_sampler_init_greedy());
    const float *lg = L.llama_get_logits_ith(d->ctx, -1);
    volatile double sink = 0;
    double best[3] = {INFINITY, INFINITY, INFINITY};
    for (int r = 0; r < reps; r++) {
        uint64_t t0 = slm_now_ns();
        sink += argmax(d);
        uint64_t t1 = slm_now_ns();
        sink += L.llama_sampler_sample(chain, d->ctx, -1);
        uint64_t t2 = slm_now_ns();
        float mx = lg[0];
        for (int i = 1; i < d->n_vocab; i++)
            mx = lg[i] > mx ? lg[i] : mx;
        double sum = 0;
        for (int i = 0; i < d->n_vocab; i++)
            sum += exp((double)lg[i] - mx);
        sink += mx + log(sum);
        uint64_t t3 = slm_now_ns();
        best[0] = fmin(best[0], (double)(t1 - t0) / 1e6);
        best[1] = fmin(best[1], (double)(t2 - t1) / 1e6);
        best[2] = fmin(best[2], (double)(t3 - t2) / 1e6);
    }
    (void)sink;
    L.llama_sampler_free(chain);
    *argmax_ms = best[0], *sampler_ms = best[1], *logprob_ms = best[2];
}

/* ---- memory bandwidth ---- */

typedef struct reader {
    const uint64_t *p;
    size_t n;
    uint64_t sum;
} reader;

static void *read_slice(void *arg)
{
    reader *r = arg;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= r->n; i += 4) {
        s0 += r->p[i];
        s1 += r->p[i + 1];
        s2 += r->p[i + 2];
        s3 += r->p[i + 3];
    }
    for (; i < r->n; i++)
        s0 += r->p[i];
    r->sum = s0 + s1 + s2 + s3;
    return NULL;
}

/* Streaming read bandwidth in GB/s (1e9 bytes/s) over mib MiB split among nthreads
 * threads, best of reps passes; NaN without the memory. */
static double read_bandwidth_gbs(size_t mib, int nthreads, int reps)
{
    size_t n = mib * 1024 * 1024 / sizeof(uint64_t);
    uint64_t *buf = malloc(n * sizeof *buf);
    if (!buf)
        return NAN;
    for (size_t i = 0; i < n; i++)
        buf[i] = i;
    reader *r = slm_xcalloc((size_t)nthreads, sizeof *r);
    pthread_t *th = slm_xcalloc((size_t)nthreads, sizeof *th);
    double best = 0;
    volatile uint64_t sink = 0;
    for (int rep = 0; rep < reps; rep++) {
        uint64_t t0 = slm_now_ns();
        for (int t = 0; t < nthreads; t++) {
            size_t lo = n / (size_t)nthreads * (size_t)t;
            size_t hi = t == nthreads - 1 ? n : n / (size_t)nthreads * (size_t)(t + 1);
            r[t] = (reader){buf + lo, hi - lo, 0};
            if (pthread_create(&th[t], NULL, read_slice, &r[t]))
                read_slice(&r[t]), th[t] = 0;
        }
        for (int t = 0; t < nthreads; t++) {
            if (th[t])
                pthread_join(th[t], NULL);
            sink += r[t].sum;
        }
        double gbs = (double)(n * sizeof *buf) / ((double)(slm_now_ns() - t0) / 1e9) / 1e9;
        if (gbs > best)
            best = gbs;
    }
    (void)sink;
    free(th);
    free(r);
    free(buf);
    return best;
}

/* ---- child processes ---- */

/* Runs argv with stdout and stderr appended to log; its exit status (-1 if it could not
 * start or died of a signal) and its resource usage. */
static int spawn_wait(char *const *argv, const char *log, struct rusage *ru)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    memset(ru, 0, sizeof *ru);
    if (rc)
        return -1;
    int status;
    while (wait4(pid, &status, 0, ru) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Children are started by a launcher process forked at the very start, while this
 * process is small: Linux hands a child the peak RSS of the process it was forked from
 * (the high-water mark travels through fork and exec into ru_maxrss), so a child of
 * this process once it holds a model and the bandwidth buffer would report that peak,
 * not its own. The launcher reads requests from a pipe (a 4-byte length, then the log
 * path and the arguments, each NUL-terminated) and answers the exit status and
 * ru_maxrss of each.
 */
static int to_launcher = -1, from_launcher = -1;
static pid_t launcher_pid = -1;

static int full_io(int fd, void *p, size_t n, int wr)
{
    for (size_t k = 0; k < n;) {
        ssize_t m = wr ? write(fd, (char *)p + k, n - k) : read(fd, (char *)p + k, n - k);
        if (m < 0 && errno == EINTR)
            continue;
        if (m <= 0)
            return -1;
        k += (size_t)m;
    }
    return 0;
}

static void launcher_loop(int in, int out)
{
    uint32_t len;
    while (full_io(in, &len, sizeof len, 0) == 0) {
        char *buf = malloc((size_t)len + 1), *argv[32];
        if (!buf || full_io(in, buf, len, 0))
            _exit(1);
        buf[len] = '\0';
        size_t n = 0;
        for (char *p = buf + strlen(buf) + 1; p < buf + len && n < 31; p += strlen(p) + 1)
            argv[n++] = p;
        argv[n] = NULL;
        struct rusage ru;
        long res[2] = {n ? spawn_wait(argv, buf, &ru) : -1, 0};
        res[1] = ru.ru_maxrss;
        free(buf);
        if (full_io(out, res, sizeof res, 1))
            _exit(1);
    }
    _exit(0);
}

static int launcher_start(void)
{
    int req[2], ans[2];
    if (pipe(req))
        return -1;
    if (pipe(ans)) {
        close(req[0]), close(req[1]);
        return -1;
    }
    fflush(NULL);
    launcher_pid = fork();
    if (launcher_pid == 0) {
        close(req[1]), close(ans[0]);
        launcher_loop(req[0], ans[1]);
    }
    close(req[0]), close(ans[1]);
    if (launcher_pid < 0) {
        close(req[1]), close(ans[0]);
        return -1;
    }
    to_launcher = req[1], from_launcher = ans[0];
    return 0;
}

static void launcher_stop(void)
{
    if (launcher_pid <= 0)
        return;
    close(to_launcher);
    close(from_launcher);
    waitpid(launcher_pid, NULL, 0);
    launcher_pid = -1;
}

/* Runs argv (NULL-terminated) through the launcher, output appended to log; its exit
 * status (-1: it could not start or died of a signal) and, if asked, its peak RSS in
 * KiB. */
static int run_child(char *const *argv, const char *log, long *maxrss_kb)
{
    slm_buf b = {0};
    slm_buf_append(&b, log, strlen(log) + 1);
    for (size_t i = 0; argv[i]; i++)
        slm_buf_append(&b, argv[i], strlen(argv[i]) + 1);
    uint32_t len = (uint32_t)b.len;
    long res[2] = {-1, 0};
    if (full_io(to_launcher, &len, sizeof len, 1) || full_io(to_launcher, b.data, b.len, 1) ||
        full_io(from_launcher, res, sizeof res, 0))
        res[0] = -1;
    slm_buf_free(&b);
    if (maxrss_kb)
        *maxrss_kb = res[1];
    return (int)res[0];
}

static double mtime(const char *path)
{
    struct stat st;
    return stat(path, &st) ? -1 : (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
}

/* The Q4_K_M model of the shape in work/, built unless present and newer than the
 * slmbench binary. 0, or -1 with err filled. */
static int ensure_model(const char *slmbench, const char *train, const char *evalset,
                        const char *work, const slm_shape *s, const char *out, char *err,
                        size_t errlen)
{
    double bin = mtime(slmbench), have = mtime(out);
    if (have >= 0 && have >= bin)
        return 0;
    /* F16 file (2 bytes a parameter) and the Q4_K_M one (under 1 byte) side by side. */
    double need = 3.0 * (double)s->published_params + 256.0 * 1024 * 1024;
    struct statvfs vfs;
    if (statvfs(work, &vfs) == 0 && (double)vfs.f_bavail * (double)vfs.f_frsize < need)
        return slm_err(err, errlen, "%s: %.1f GiB free in '%s', %.1f GiB needed to build it",
                       s->name, (double)vfs.f_bavail * (double)vfs.f_frsize / 1073741824.0,
                       work, need / 1073741824.0);
    fprintf(stderr, "bench_shapes: building %s (once; reused while newer than %s)\n", s->name,
            slmbench);
    char *f16 = slm_xasprintf("%s/%s-f16.gguf", work, s->name);
    char *tmp = slm_xasprintf("%s.tmp", out);
    char *log = slm_xasprintf("%s/%s-build.log", work, s->name);
    char th[16];
    snprintf(th, sizeof th, "%d", threads);
    char *make[] = {(char *)slmbench, "models", "make", "--train", (char *)train, "--evalset",
                    (char *)evalset, "--shape", (char *)s->name, "--no-stop", "--out", f16, NULL};
    char *quant[] = {(char *)slmbench, "models", "quantize", f16, tmp, "Q4_K_M", "--threads",
                     th, NULL};
    unlink(log);
    int rc = 0;
    if (run_child(make, log, NULL) != 0)
        rc = slm_err(err, errlen, "%s: models make failed (see %s)", s->name, log);
    else if (run_child(quant, log, NULL) != 0)
        rc = slm_err(err, errlen, "%s: models quantize failed (see %s)", s->name, log);
    else if (rename(tmp, out) != 0)
        rc = slm_err(err, errlen, "cannot rename '%s': %s", tmp, strerror(errno));
    unlink(f16);
    unlink(tmp);
    free(f16);
    free(tmp);
    free(log);
    return rc;
}

/* ---- the prompt and the eval set of A ---- */

/* Words of the train split's texts, in order, as a pool to write prompts from. */
static char **train_words(const slm_dataset *train, size_t *n)
{
    size_t cap = 1024;
    char **w = slm_xmalloc(cap * sizeof *w);
    *n = 0;
    for (size_t i = 0; i < train->n; i++) {
        char *copy = slm_xstrdup(train->rows[i].text), *save = NULL;
        for (char *t = strtok_r(copy, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
            if (*n == cap)
                w = slm_xrealloc(w, (cap *= 2) * sizeof *w);
            w[(*n)++] = slm_xstrdup(t);
        }
        free(copy);
    }
    return w;
}

/* Tokens of the prompt rendered from text. */
static int prompt_len(direct *d, const char *tmpl, const char *text, const char *const *labels,
                      size_t n_labels)
{
    int n;
    char *prompt = slm_prompt_render(tmpl, text, "long-1", labels, n_labels);
    free(direct_tokenize(d, prompt, &n));
    free(prompt);
    return n;
}

/*
 * A ticket text whose rendered prompt is exactly want tokens for this model (BOS
 * included), or a token or so short where no word fits (*got): words of the pool in
 * order from start (ordinary support-ticket prose), then " ok" to fill the last tokens.
 */
static char *make_text(direct *d, const char *tmpl, const char *const *labels, size_t n_labels,
                       char **words, size_t n_words, size_t start, int want, int *got)
{
    slm_buf b = {0};
    slm_buf_puts(&b, "Ticket 1.");
    int n = prompt_len(d, tmpl, b.data, labels, n_labels);
    for (int fill = 0; fill < 2 && n < want; fill++)
        for (size_t k = 0; n < want && k < 4 * n_words; k++) {
            size_t old = b.len;
            slm_buf_putc(&b, ' ');
            slm_buf_puts(&b, fill ? "ok" : words[(start + k) % n_words]);
            int m = prompt_len(d, tmpl, b.data, labels, n_labels);
            if (m > want) { /* overshot: take the word back */
                b.len = old;
                b.data[old] = '\0';
                break;
            }
            n = m;
        }
    *got = n;
    return slm_buf_take(&b);
}

/* The text as one CSV field. */
static void csv_field(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
    }
    fputc('"', f);
}

/* Writes dir/{evalset.yaml,prompt.txt,test.csv} and cfg, a run config for it. The test
 * split holds a short ticket (warm-1) and the long one (long-1); the run warms up on the
 * first example and is started with --shard 1/2, so the short one is the untimed warm-up
 * and the long one the only example timed and stored. 0, or -1 with err filled. */
static int write_evalset(const char *dir, const char *cfg, const slm_evalset *es,
                         const char *text, const char *shape, const char *model, char *err,
                         size_t errlen)
{
    if (slm_mkdir_p(dir, err, errlen))
        return -1;
    char *p = slm_xasprintf("%s/prompt.txt", dir);
    int rc = slm_write_file_atomic(p, es->prompt, strlen(es->prompt), err, errlen);
    free(p);
    if (rc)
        return -1;
    char *y = slm_xasprintf("%s/evalset.yaml", dir), *c = slm_xasprintf("%s/test.csv", dir);
    FILE *fy = fopen(y, "w"), *fc = fopen(c, "w"), *fg = fopen(cfg, "w");
    if (fy) {
        fprintf(fy, "name: bench-shapes-%s\nversion: 1\ntask: classification\nlabels: [", shape);
        for (size_t i = 0; i < es->n_labels; i++)
            fprintf(fy, "%s%s", i ? ", " : "", es->labels[i]);
        fprintf(fy, "]\nprompt: prompt.txt\nsplits:\n  test: test.csv\n");
    }
    if (fc) {
        fprintf(fc, "id,text,label\nwarm-1,Ticket 0. Where is my parcel?,%s\nlong-1,",
                es->labels[0]);
        csv_field(fc, text);
        fprintf(fc, ",%s\n", es->labels[0]);
    }
    if (fg)
        fprintf(fg,
                "name: bench-shapes-%s\nevalset: %s\nsplit: test\nmode: generate\n"
                "threads: %d\nwarmup: 1\nmax_tokens: %d\nstop: []\nbandwidth: false\n"
                "bootstrap: 0\ncandidates:\n  - name: %s\n    model: %s\n"
                "    options: {prefix_cache: 0}\n",
                shape, dir, threads, n_decode, shape, model);
    rc = !fy || !fc || !fg;
    rc |= fy && fclose(fy) != 0;
    rc |= fc && fclose(fc) != 0;
    rc |= fg && fclose(fg) != 0;
    if (rc)
        slm_err(err, errlen, "cannot write the eval set in '%s'", dir);
    free(y);
    free(c);
    return rc ? -1 : 0;
}

/* One A sample: `slmbench run` of cfg into a fresh db, its prediction read back. */
typedef struct run_sample {
    double pre_ms, dec_ms;
    int n_prompt, n_out;
    long rss_kb;      /* ru_maxrss of the process */
    long own_rss_kb;  /* what the run stored: the candidate's own peak (candidates table) */
} run_sample;

static int run_once(const char *slmbench, const char *cfg, const char *db, const char *log,
                    run_sample *s, char *err, size_t errlen)
{
    const char *sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char *f = slm_xasprintf("%s%s", db, sfx[i]);
        unlink(f);
        free(f);
    }
    char *argv[] = {(char *)slmbench, "run", (char *)cfg, "--db", (char *)db, "--shard", "1/2",
                    "--quiet", NULL};
    unlink(log);
    if (run_child(argv, log, &s->rss_kb) != 0)
        return slm_err(err, errlen, "slmbench run '%s' failed (see %s)", cfg, log);
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    int rc = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h,
                           "SELECT n_prompt_tokens, n_output_tokens, prefill_ms, decode_ms, "
                           "error FROM v_predictions ORDER BY example_idx",
                           -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 4) == SQLITE_NULL) {
        s->n_prompt = sqlite3_column_int(q, 0);
        s->n_out = sqlite3_column_int(q, 1);
        s->pre_ms = sqlite3_column_double(q, 2);
        s->dec_ms = sqlite3_column_double(q, 3);
        rc = 0;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (rc == 0 &&
        sqlite3_prepare_v2(h, "SELECT peak_rss_kb FROM candidates", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        s->own_rss_kb = sqlite3_column_int64(q, 0);
    if (rc)
        slm_err(err, errlen, "no prediction in '%s' (%s)", db, h ? sqlite3_errmsg(h) : "no db");
    sqlite3_finalize(q);
    sqlite3_close(h);
    return rc;
}

/* ---- per shape ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double s[MAX_REPS];
    memcpy(s, v, sizeof *v * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

typedef struct row {
    const slm_shape *shape;
    uint64_t params, weight_bytes;
    double file_mib, kv_bytes;
    int reps, n_prompt, n_out;
    double a_pre, b_pre, a_dec, b_dec; /* median tok/s */
    double r_pre, r_dec;               /* median of the rounds' ratios A/B */
    double argmax_ms, sampler_ms, logprob_ms; /* per token, see per_token_extras() */
    long rss_kb, own_rss_kb;           /* max over A's processes */
    int ok;
} row;

static int bench_shape(const char *slmbench, const slm_evalset *es, char **words,
                       size_t n_words, const char *work, const slm_shape *s, row *out,
                       FILE *raw, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->shape = s;
    char *model = slm_xasprintf("%s/%s-q4_k_m.gguf", work, s->name);
    char *dir = slm_xasprintf("%s/evalset-%s", work, s->name);
    char *cfg = slm_xasprintf("%s/%s.yaml", work, s->name);
    char *db = slm_xasprintf("%s/%s.db", work, s->name);
    char *log = slm_xasprintf("%s/%s-run.log", work, s->name);
    direct d = {0};
    char *text = NULL;
    llama_token *toks = NULL;
    int rc = -1, n = 0;
    if (ensure_model(slmbench, slm_evalset_split_path(es, "train"), es->dir, work, s, model,
                     err, errlen) ||
        direct_open(&d, model, err, errlen))
        goto out;
    struct stat st;
    out->file_mib = stat(model, &st) ? NAN : (double)st.st_size / 1048576.0;
    out->params = L.llama_model_n_params(d.model);
    out->weight_bytes = L.llama_model_size(d.model);
    text = make_text(&d, es->prompt, (const char *const *)es->labels, es->n_labels, words,
                     n_words, (size_t)(s->n_embd % 97), n_prompt, &n);
    char *prompt = slm_prompt_render(es->prompt, text, "long-1",
                                     (const char *const *)es->labels, es->n_labels);
    toks = direct_tokenize(&d, prompt, &n);
    free(prompt);
    if (n < 2 || n > N_BATCH) {
        slm_err(err, errlen, "%s: a prompt of %d tokens (1 batch of %d at most)", s->name, n,
                N_BATCH);
        goto out;
    }
    out->n_prompt = n;
    if (write_evalset(dir, cfg, es, text, s->name, model, err, errlen))
        goto out;
    /* K and V (F16) of every layer at the mean position of the decode. */
    out->kv_bytes = 2.0 * s->n_layer * s->n_head_kv * s->head_dim * 2.0 * (n + n_decode / 2.0);

    int reps = bench_env_int("BENCH_SHAPES_REPS", s->published_params >= 1000000000ull ? 3 : 5);
    out->reps = reps = reps > MAX_REPS ? MAX_REPS : reps;
    double ap[MAX_REPS], ad[MAX_REPS], bp[MAX_REPS], bd[MAX_REPS], rp[MAX_REPS], rd[MAX_REPS];
    double pre, dec;
    /* B's warm-up: every weight is read by any forward pass, a short one will do. */
    if (direct_request(&d, toks, n < 32 ? n : 32, 8, &pre, &dec)) {
        slm_err(err, errlen, "%s: llama_decode failed", s->name);
        goto out;
    }
    for (int r = 0; r < reps; r++) {
        run_sample a = {0};
        if (run_once(slmbench, cfg, db, log, &a, err, errlen))
            goto out;
        if (a.n_prompt != n)
            fprintf(stderr, "bench_shapes: %s: slmbench saw %d prompt tokens, the direct loop %d\n",
                    s->name, a.n_prompt, n);
        out->n_out = a.n_out;
        ap[r] = a.n_prompt / (a.pre_ms / 1e3);
        ad[r] = (a.n_out - 1) / (a.dec_ms / 1e3);
        if (a.rss_kb > out->rss_kb)
            out->rss_kb = a.rss_kb;
        if (a.own_rss_kb > out->own_rss_kb)
            out->own_rss_kb = a.own_rss_kb;
        if (direct_request(&d, toks, n, n_decode, &pre, &dec)) {
            slm_err(err, errlen, "%s: llama_decode failed", s->name);
            goto out;
        }
        bp[r] = n / (pre / 1e3);
        bd[r] = n_decode / (dec / 1e3);
        rp[r] = ap[r] / bp[r], rd[r] = ad[r] / bd[r];
        fprintf(raw, "%s,%d,slmbench,%d,%.3f,%d,%.3f,%ld\n", s->name, r, a.n_prompt, a.pre_ms,
                a.n_out - 1, a.dec_ms, a.rss_kb);
        fprintf(raw, "%s,%d,direct,%d,%.3f,%d,%.3f,\n", s->name, r, n, pre, n_decode, dec);
        fflush(raw);
    }
    per_token_extras(&d, 20, &out->argmax_ms, &out->sampler_ms, &out->logprob_ms);
    out->a_pre = median(ap, reps), out->a_dec = median(ad, reps);
    out->b_pre = median(bp, reps), out->b_dec = median(bd, reps);
    out->r_pre = median(rp, reps), out->r_dec = median(rd, reps);
    out->ok = 1;
    rc = 0;
out:
    direct_close(&d);
    free(toks);
    free(text);
    free(model);
    free(dir);
    free(cfg);
    free(db);
    free(log);
    return rc;
}

static void print_load(const char *when)
{
    double la[3];
    if (getloadavg(la, 3) == 3)
        printf("   load average %s: %.2f %.2f %.2f\n", when, la[0], la[1], la[2]);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_shapes SLMBENCH EVALSET WORKDIR\n");
        return 2;
    }
    char slmbench[PATH_MAX];
    if (!realpath(argv[1], slmbench)) {
        fprintf(stderr, "bench_shapes: cannot find '%s'\n", argv[1]);
        return 2;
    }
    const char *work = argv[3];
    threads = bench_env_int("BENCH_THREADS", 2);
    n_prompt = bench_env_int("BENCH_SHAPES_PROMPT", 512);
    n_decode = bench_env_int("BENCH_SHAPES_DECODE", 128);
    const char *list = getenv("SLM_BENCH_SHAPES");
    char *names = slm_xstrdup(list && *list ? list : DEFAULT_SHAPES);
    char err[SLM_ERRLEN] = "";
    slm_evalset *es = NULL;
    slm_dataset *train = NULL;
    char **words = NULL;
    size_t n_words = 0, n_rows = 0;
    row rows[8];
    FILE *raw = NULL;
    char *raw_path = slm_xasprintf("%s/shapes.csv", work);
    int rc = 1;

    if (launcher_start()) {
        fprintf(stderr, "bench_shapes: cannot start the launcher: %s\n", strerror(errno));
        goto out;
    }
    if (slm_mkdir_p(work, err, sizeof err) || slm_evalset_load(argv[2], &es, err, sizeof err) ||
        slm_evalset_load_split(es, "train", 0, &train, err, sizeof err) ||
        lib_load(err, sizeof err)) {
        fprintf(stderr, "bench_shapes: %s\n", err);
        goto out;
    }
    char absw[PATH_MAX];
    if (!realpath(work, absw) || !(raw = fopen(raw_path, "w"))) {
        fprintf(stderr, "bench_shapes: cannot write in '%s'\n", work);
        goto out;
    }
    fprintf(raw, "shape,round,side,prompt_tokens,prefill_ms,decode_tokens,decode_ms,rss_kb\n");
    words = train_words(train, &n_words);
    if (n_words == 0) {
        fprintf(stderr, "bench_shapes: no words in the train split\n");
        goto out;
    }
    printf("realistic shapes at Q4_K_M: prompt %d tokens, decode %d tokens, threads %d, "
           "libllama %s\n", n_prompt, n_decode, threads, L.path);
    print_load("before");
    fflush(stdout);
    double bw = read_bandwidth_gbs(BW_MIB, threads, 5);

    char *save = NULL;
    for (char *t = strtok_r(names, " ,", &save); t && n_rows < 8; t = strtok_r(NULL, " ,", &save)) {
        const slm_shape *s = slm_shape_find(t);
        if (!s) {
            fprintf(stderr, "bench_shapes: unknown shape '%s'\n", t);
            goto out;
        }
        bw = fmax(bw, read_bandwidth_gbs(BW_MIB, threads, 5));
        if (bench_shape(slmbench, es, words, n_words, absw, s, &rows[n_rows], raw, err,
                        sizeof err)) {
            fprintf(stderr, "bench_shapes: %s\n", err);
            rows[n_rows].ok = 0;
        }
        n_rows++;
    }

    bw = fmax(bw, read_bandwidth_gbs(BW_MIB, threads, 5));
    printf("\n| shape | params (llama.cpp) | file MiB | prefill tok/s slmbench | direct | ratio "
           "| decode tok/s slmbench | direct | ratio | roofline share | peak RSS MiB | "
           "RSS/file |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < n_rows; i++) {
        row *r = &rows[i];
        if (!r->ok) {
            printf("| %s | failed (see above) |||||||||||\n", r->shape->name);
            continue;
        }
        double bytes = (double)r->weight_bytes + r->kv_bytes;
        double ceiling = bw * 1e9 / bytes;
        printf("| %s | %.2fM | %.1f | %.1f | %.1f | %.3f | %.2f | %.2f | %.3f | %.1f%% | %.0f "
               "| %.2f |\n",
               r->shape->name, (double)r->params / 1e6, r->file_mib, r->a_pre, r->b_pre,
               r->r_pre, r->a_dec, r->b_dec, r->r_dec,
               100.0 * r->a_dec / ceiling, r->rss_kb / 1024.0, r->rss_kb / 1024.0 / r->file_mib);
    }
    printf("\n   read bandwidth %.2f GB/s (%d threads, %d MiB; the best of 5 passes at the start, "
           "before each shape and at the end)\n", bw, threads, BW_MIB);
    for (size_t i = 0; i < n_rows; i++) {
        row *r = &rows[i];
        if (r->ok)
            printf("   %-13s %d rounds; prompt %d tokens, %d generated (%d decoded); a token "
                   "reads %.1f MiB of weights + %.1f MiB of KV cache: ceiling %.1f tok/s; peak RSS "
                   "from model open on (the run's peak_rss_mb) %.0f MiB\n",
                   r->shape->name, r->reps, r->n_prompt, r->n_out, r->n_out - 1,
                   (double)r->weight_bytes / 1048576.0, r->kv_bytes / 1048576.0,
                   bw * 1e9 / ((double)r->weight_bytes + r->kv_bytes), r->own_rss_kb / 1024.0);
    }
    for (size_t i = 0; i < n_rows; i++) {
        row *r = &rows[i];
        if (r->ok)
            printf("   %-13s per token besides llama_decode (%.2f ms direct): slmbench's greedy "
                   "sampler %.3f ms + token log-prob (a scalar double log-sum-exp here %.3f ms; "
                   "the engine's 8-lane one ~0.1 ms with AVX2), the direct loop's argmax "
                   "%.3f ms\n",
                   r->shape->name, 1e3 / r->b_dec, r->sampler_ms, r->logprob_ms, r->argmax_ms);
    }
    printf("   (tok/s: medians of interleaved rounds; ratio: the median of the rounds' ratios "
           "slmbench / direct, each from adjacent runs, goal >= 0.98; decode tok/s counts "
           "the tokens after the first)\n");
    print_load("after");
    printf("   raw samples: %s\n", raw_path);
    rc = 0;
    for (size_t i = 0; i < n_rows; i++)
        if (!rows[i].ok)
            rc = 1;
out:
    launcher_stop();
    if (raw)
        fclose(raw);
    for (size_t i = 0; i < n_words; i++)
        free(words[i]);
    free(words);
    slm_dataset_free(train);
    slm_evalset_free(es);
    if (L.handle) {
        L.llama_backend_free();
        dlclose(L.handle);
    }
    free(names);
    free(raw_path);
    return rc;
}
