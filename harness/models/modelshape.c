/*
 * modelshape.c — naive Bayes classifiers over a real vocabulary, in a real model's shape.
 * modelshape.h says how the weights compute the classifier; this file says why each
 * number is what it is.
 */
#include "modelshape.h"

#include "evalset.h"
#include "gguf.h"
#include "prompt.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

/* Published shapes. Parameter counts: the models' safetensors totals as their model
 * cards give them (tied embeddings counted once). */
static const slm_shape SHAPES[] = {
    {"qwen2.5-0.5b", "qwen2", "qwen3", 151936, 896, 24, 14, 2, 64, 4864, 32768, 1000000.0f,
     1e-6f, 1, 0, 0, 494032768u, "Qwen2.5-0.5B model card: 0.49B (494,032,768 in its safetensors)"},
    {"qwen3-0.6b", "qwen3", "qwen3", 151936, 1024, 28, 16, 8, 128, 3072, 40960, 1000000.0f,
     1e-6f, 0, 1, 0, 600000000u, "Qwen3-0.6B model card: 0.6B (0.44B non-embedding)"},
    {"llama-3.2-1b", "llama", "llama3", 128256, 2048, 16, 32, 8, 64, 8192, 131072, 500000.0f,
     1e-5f, 0, 0, 1, 1235814400u, "Llama-3.2-1B model card: 1.23B (1,235,814,400 in its safetensors)"},
};

const slm_shape *slm_shape_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof SHAPES / sizeof SHAPES[0]; i++)
        if (strcmp(SHAPES[i].name, name) == 0)
            return &SHAPES[i];
    return NULL;
}

const slm_shape *const *slm_shapes(void)
{
    static const slm_shape *list[sizeof SHAPES / sizeof SHAPES[0] + 1];
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++)
        list[i] = &SHAPES[i];
    return list;
}

uint64_t slm_shape_params(const slm_shape *s, uint64_t n_vocab)
{
    uint64_t D = s->n_embd, q = (uint64_t)s->n_head * s->head_dim,
             kv = (uint64_t)s->n_head_kv * s->head_dim;
    uint64_t layer = D * q + 2 * D * kv + q * D + 3 * D * s->n_ff + 2 * D;
    if (s->qkv_bias)
        layer += q + 2 * kv;
    if (s->qk_norm)
        layer += 2 * (uint64_t)s->head_dim;
    return n_vocab * D + s->n_layer * layer + D + (s->llama3_rope ? s->head_dim / 2 : 0);
}

/* ---- pseudo-random weights ------------------------------------------------------------ */

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* n values uniform in [-a, a), a = sigma * sqrt(3) (standard deviation sigma), from a
 * stream fixed by (seed, tensor, row): the same options give the same bytes. */
static void fill_random(float *out, size_t n, float sigma, uint64_t seed, uint64_t tensor,
                        uint64_t row)
{
    uint64_t x = seed * 0x100000001b3ull ^ (tensor << 40) ^ row;
    splitmix(&x);
    float a = sigma * 1.7320508f;
    for (size_t i = 0; i < n; i++)
        out[i] = a * (float)((double)(splitmix(&x) >> 11) * (2.0 / 9007199254740992.0) - 1.0);
}

/* ---- the model being built ------------------------------------------------------------- */

/* Standard deviations: embeddings' random part and the reads of random layers as in
 * common initialisations; writes into R of SIGMA_WRITE / sqrt(fan-in), so that even after
 * 2 x 28 blocks R's squared norm stays near 1e-3 of the fixed embedding norm D and
 * RMSNorm's scale does not move the logits (a deep shape with writes of 1e-3 moved them
 * by a quarter). */
#define SIGMA_EMB 0.02f
#define SIGMA_READ 0.02f
#define SIGMA_WRITE 0.002f
/* What layer 0 writes into A+ and m+ is this small next to the embedding's entries. */
#define EPS_WRITE (1.0 / 64)
/* Successor logits sit this far above the label tokens' margin. */
#define SUCC_EXTRA 40.0
/* The gate of layer 0's successor neurons reads the bias times this: silu(10) is 10 to
 * 5e-5, so the neuron is linear in what its up row reads. */
#define FFN_GATE 10.0

enum tensor_kind {
    T_EMBD, T_OUT_NORM, T_ROPE, T_ATTN_NORM, T_Q, T_K, T_V, T_O, T_QB, T_KB, T_VB, T_QN, T_KN,
    T_FFN_NORM, T_GATE, T_UP, T_DOWN
};

typedef struct mb mb;

typedef struct gen_ctx {
    const mb *b;
    int kind;
    int layer;
    uint64_t id;       /* stream of the tensor */
} gen_ctx;

struct mb {
    slm_shape sh;      /* the shape built (a copy; the demo shape is computed) */
    uint64_t seed;
    size_t V, L, W;    /* vocabulary, labels, word features */
    /* dimensions */
    size_t dF, dAp, dAm, dMp, dMm, dS, dWant, dBias, dFill, DC;
    size_t n_succ;     /* successor tokens */
    size_t n_ckv;      /* kv heads layer 0 gives the classifier */
    int32_t *feat;     /* [V] feature index, or -1 */
    int32_t *extra;    /* [V] row in ex, or -1 */
    float *ex;         /* [n_ex][DC] the classifier's entries of label and successor tokens */
    size_t n_ex, cap_ex;
    double *llr;       /* [W][L] */
    double *log_prior; /* [L] */
    double kappa;      /* F = kappa * llr */
    double scale;      /* ref_len / temperature */
    double margin;
    double bound;      /* the largest |evidence| of a label on the train prompts */
    float *g;          /* [D] output norm */
    gen_ctx *gens;
    size_t n_gens, cap_gens;
};

static float *ex_row(mb *b, int32_t tok)
{
    if (b->extra[tok] < 0) {
        if (b->n_ex == b->cap_ex) {
            b->cap_ex = b->cap_ex ? 2 * b->cap_ex : 64;
            b->ex = slm_xrealloc(b->ex, b->cap_ex * b->DC * sizeof *b->ex);
        }
        b->extra[tok] = (int32_t)b->n_ex++;
        memset(b->ex + (size_t)b->extra[tok] * b->DC, 0, b->DC * sizeof *b->ex);
    }
    return b->ex + (size_t)b->extra[tok] * b->DC;
}

/* The classifier's part of token t's embedding (dims [0, DC)), fill excluded. */
static void classifier_part(const mb *b, uint64_t t, float *e)
{
    if (b->extra[t] >= 0)
        memcpy(e, b->ex + (size_t)b->extra[t] * b->DC, b->DC * sizeof *e);
    else
        memset(e, 0, b->DC * sizeof *e);
    if (b->feat[t] >= 0) /* added: the template's carrier also holds minus its evidence */
        for (size_t l = 0; l < b->L; l++)
            e[b->dF + l] += (float)(b->kappa * b->llr[(size_t)b->feat[t] * b->L + l]);
    e[b->dBias] = 1.0f;
}

/* Token embeddings: random, the classifier's part, and the fill that gives every row
 * squared norm D, so RMSNorm leaves it as it is. */
static void gen_embd(const gen_ctx *gc, uint64_t row, float *out)
{
    const mb *b = gc->b;
    const size_t D = b->sh.n_embd;
    fill_random(out, D, SIGMA_EMB, b->seed, gc->id, row);
    classifier_part(b, row, out); /* leaves the fill 0 */
    double n2 = 0;
    for (size_t i = 0; i < D; i++)
        n2 += (double)out[i] * out[i];
    out[b->dFill] = (float)sqrt(n2 < (double)D ? (double)D - n2 : 0.0);
}

/* Llama 3.1's scaling of the rotary frequencies (factor 32, low 1, high 4, original
 * context 8192), as stored in rope_freqs: a divisor per frequency. */
static void gen_rope(const slm_shape *s, float *out)
{
    const double factor = 32, low = 1, high = 4, orig = 8192;
    const size_t hd = s->head_dim;
    for (size_t i = 0; i < hd / 2; i++) {
        double freq = pow(s->rope_base, -2.0 * (double)i / (double)hd);
        double wavelen = 2 * M_PI / freq;
        double f;
        if (wavelen < orig / high)
            f = 1;
        else if (wavelen > orig / low)
            f = factor;
        else {
            double smooth = (orig / wavelen - low) / (high - low);
            f = 1 / ((1 - smooth) / factor + smooth);
        }
        out[i] = (float)f;
    }
}

/* Gate and up rows: layer 0's successor neurons, random elsewhere. */
static void gen_ffn_in(const gen_ctx *gc, uint64_t row, float *out)
{
    const mb *b = gc->b;
    const size_t D = b->sh.n_embd;
    if (gc->layer == 0 && row < b->n_succ) {
        /* neuron k: silu(c * bias) * (want_k - succ_k), a linear map */
        memset(out, 0, D * sizeof *out);
        if (gc->kind == T_GATE)
            out[b->dBias] = (float)FFN_GATE;
        else {
            out[b->dWant + row] = 1.0f;
            out[b->dS + row] = -1.0f;
        }
        return;
    }
    fill_random(out, D, SIGMA_READ, b->seed, gc->id, row);
}

/* Key and value rows: layer 0's first kv heads belong to the classifier. */
static void gen_kv(const gen_ctx *gc, uint64_t row, float *out)
{
    const mb *b = gc->b;
    const size_t D = b->sh.n_embd, hd = b->sh.head_dim;
    if (gc->layer == 0 && row / hd < b->n_ckv) {
        memset(out, 0, D * sizeof *out);
        if (gc->kind == T_V) {
            /* slot j: label j's evidence and, through the bias, its prior; slot L:
             * the bias alone, for the margin */
            size_t j = row;
            if (j < b->L) {
                out[b->dF + j] = 1.0f;
                out[b->dBias] = (float)(b->kappa * b->log_prior[j] / b->scale);
            } else if (j == b->L) {
                out[b->dBias] = 1.0f;
            }
        }
        return;
    }
    fill_random(out, D, SIGMA_READ, b->seed, gc->id, row);
}

/* Attention output rows: small random writes outside the classifier; layer 0 writes each
 * slot into its label (or margin) dimension. */
static void gen_attn_out(const gen_ctx *gc, uint64_t row, float *out)
{
    const mb *b = gc->b;
    const slm_shape *s = &b->sh;
    const size_t hd = s->head_dim, G = s->n_head / s->n_head_kv;
    size_t nin = (size_t)s->n_head * hd;
    if (row >= b->DC) {
        fill_random(out, nin, SIGMA_WRITE / sqrtf((float)nin), b->seed, gc->id, row);
        return;
    }
    memset(out, 0, nin * sizeof *out);
    if (gc->layer != 0)
        return;
    /* slot j lives in kv head j / hd, read by q heads (j / hd) * G ...: take the first */
    size_t j = (size_t)-1;
    if (row >= b->dAp && row < b->dAp + b->L)
        j = row - b->dAp;
    else if (row == b->dMp)
        j = b->L;
    if (j != (size_t)-1)
        out[(j / hd) * G * hd + j % hd] = (float)EPS_WRITE;
}

/* Down rows: small random writes outside the classifier; layer 0's successor neurons
 * write into the successor dimensions. */
static void gen_ffn_down(const gen_ctx *gc, uint64_t row, float *out)
{
    const mb *b = gc->b;
    const size_t n_ff = b->sh.n_ff;
    if (row >= b->DC) {
        fill_random(out, n_ff, SIGMA_WRITE / sqrtf((float)n_ff), b->seed, gc->id, row);
        return;
    }
    memset(out, 0, n_ff * sizeof *out);
    if (gc->layer == 0 && row >= b->dS && row < b->dS + b->n_succ)
        out[row - b->dS] = (float)(1.0 / (FFN_GATE / (1.0 + exp(-FFN_GATE))));
}

/* One row of a tensor, by its kind (the writer calls this as it writes). */
static void gen_row(void *ud, uint64_t row, float *out)
{
    const gen_ctx *gc = ud;
    const mb *b = gc->b;
    const slm_shape *s = &b->sh;
    const size_t D = s->n_embd, hd = s->head_dim;
    switch (gc->kind) {
    case T_EMBD:
        gen_embd(gc, row, out);
        return;
    case T_OUT_NORM:
        memcpy(out, b->g, D * sizeof *out);
        return;
    case T_ROPE:
        gen_rope(s, out);
        return;
    case T_ATTN_NORM: case T_FFN_NORM: case T_QN: case T_KN: {
        size_t n = gc->kind == T_QN || gc->kind == T_KN ? hd : D;
        for (size_t i = 0; i < n; i++)
            out[i] = 1.0f;
        return;
    }
    case T_GATE: case T_UP:
        gen_ffn_in(gc, row, out);
        return;
    case T_Q:
        fill_random(out, D, SIGMA_READ, b->seed, gc->id, row);
        return;
    case T_K: case T_V:
        gen_kv(gc, row, out);
        return;
    case T_QB: case T_KB: case T_VB: {
        size_t n = gc->kind == T_QB ? (size_t)s->n_head * hd : (size_t)s->n_head_kv * hd;
        fill_random(out, n, SIGMA_READ, b->seed, gc->id, row);
        if (gc->kind != T_QB)
            memset(out, 0, b->n_ckv * hd * sizeof *out);
        return;
    }
    case T_O:
        gen_attn_out(gc, row, out);
        return;
    case T_DOWN:
        gen_ffn_down(gc, row, out);
        return;
    }
}

static void mb_free(mb *b)
{
    free(b->feat);
    free(b->extra);
    free(b->ex);
    free(b->llr);
    free(b->log_prior);
    free(b->g);
    free(b->gens);
}

/* ---- tokens of the train split ------------------------------------------------------ */

typedef struct idlist {
    int32_t *ids;
    size_t n;
} idlist;

static int tok(const slm_factory_opts *o, const char *text, idlist *out, char *err, size_t errlen)
{
    out->ids = NULL;
    out->n = 0;
    if (o->tokenize(o->tokenize_ud, text, &out->ids, &out->n, err, errlen))
        return -1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A token's text folded for counting: a leading space marker ("\u0120" of byte-level
 * BPE, "\u2581" of SPM, or ' ') dropped and ASCII letters lower-cased, when what is left
 * is a non-empty run of ASCII letters and digits; else NULL (the token stays its own). */
static char *fold_token(const char *s)
{
    if (!strncmp(s, "\xc4\xa0", 2))
        s += 2;
    else if (!strncmp(s, "\xe2\x96\x81", 3))
        s += 3;
    else if (*s == ' ')
        s++;
    if (!*s)
        return NULL;
    char *f = slm_xstrdup(s);
    for (char *p = f; *p; p++) {
        if (!isalnum((unsigned char)*p)) {
            free(f);
            return NULL;
        }
        *p = (char)tolower((unsigned char)*p);
    }
    return f;
}

typedef struct folded {
    char *text;
    int32_t id;
} folded;

static int cmp_folded(const void *a, const void *b)
{
    const folded *x = a, *y = b;
    int c = strcmp(x->text, y->text);
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* group[t]: the smallest id whose folded text equals t's ("Refund", " refund",
 * "refund" count as one word), or t. Returns -1 with err when the vocabulary's tokens
 * cannot be read. */
static int fold_groups(const char *gguf, size_t V, int32_t *group, char *err, size_t errlen)
{
    char **toks;
    size_t n;
    if (slm_gguf_read_strings(gguf, "tokenizer.ggml.tokens", &toks, &n, err, errlen))
        return -1;
    folded *fs = slm_xmalloc((n + 1) * sizeof *fs);
    size_t m = 0;
    for (size_t t = 0; t < V; t++)
        group[t] = (int32_t)t;
    for (size_t t = 0; t < n && t < V; t++) {
        char *f = fold_token(toks[t]);
        if (f)
            fs[m++] = (folded){f, (int32_t)t};
    }
    qsort(fs, m, sizeof *fs, cmp_folded);
    for (size_t i = 1; i < m; i++)
        if (!strcmp(fs[i].text, fs[i - 1].text))
            group[fs[i].id] = group[fs[i - 1].id];
    for (size_t i = 0; i < m; i++)
        free(fs[i].text);
    free(fs);
    for (size_t t = 0; t < n; t++)
        free(toks[t]);
    free(toks);
    return 0;
}

/* The label set and each row's label index. */
static int labels_of(const slm_dataset *ds, const slm_factory_opts *o, char ***labels,
                     size_t *n_labels, int **row_label, char *err, size_t errlen)
{
    char **ls = slm_xcalloc(ds->n + o->n_labels + 1, sizeof *ls);
    size_t n = 0;
    if (o->labels) {
        for (size_t i = 0; i < o->n_labels; i++)
            ls[n++] = slm_xstrdup(o->labels[i]);
    } else {
        for (size_t i = 0; i < ds->n; i++)
            if (slm_label_index((const char *const *)ls, n, ds->rows[i].label) < 0)
                ls[n++] = slm_xstrdup(ds->rows[i].label);
        qsort(ls, n, sizeof *ls, cmp_str);
    }
    *labels = ls;
    *n_labels = n;
    *row_label = slm_xcalloc(ds->n + 1, sizeof **row_label);
    for (size_t i = 0; i < n; i++) {
        if (!*ls[i])
            return slm_err(err, errlen, "empty label");
        for (size_t j = 0; j < i; j++)
            if (strcmp(ls[i], ls[j]) == 0)
                return slm_err(err, errlen, "label '%s' given twice", ls[i]);
    }
    if (n < 2)
        return slm_err(err, errlen, "'%s': need at least 2 labels, have %zu", o->train_path, n);
    for (size_t i = 0; i < ds->n; i++) {
        int li = slm_label_index((const char *const *)ls, n, ds->rows[i].label);
        if (li < 0)
            return slm_err(err, errlen, "%s:%ld: label '%s' is not in the label set",
                           o->train_path, ds->rows[i].line, ds->rows[i].label);
        (*row_label)[i] = li;
    }
    return 0;
}

typedef struct dfc {
    int32_t id;
    long df;
} dfc;

static int cmp_dfc(const void *a, const void *b)
{
    const dfc *x = a, *y = b;
    if (x->df != y->df)
        return x->df > y->df ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static size_t round_up(size_t x, size_t m)
{
    return (x + m - 1) / m * m;
}

/* Adds a generated tensor with its context. */
static int add_gen(mb *b, slm_gguf_writer *w, const char *name, uint32_t type, int kind,
                   int layer, size_t ne0, size_t ne1, char *err, size_t errlen)
{
    gen_ctx *gc = &b->gens[b->n_gens];
    gc->b = b;
    gc->kind = kind;
    gc->layer = layer;
    gc->id = (uint64_t)b->n_gens + 1;
    b->n_gens++;
    uint64_t ne[2] = {ne0, ne1};
    return slm_gguf_add_tensor_gen(w, name, type, ne1 ? 2 : 1, ne, gen_row, gc, err, errlen);
}

/* Adds one key for the architecture: "<arch>.<suffix>". */
static void set_arch_u32(slm_gguf_writer *w, const char *arch, const char *suffix, uint32_t v)
{
    char key[96];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    slm_gguf_set_u32(w, key, v);
}

static void set_arch_f32(slm_gguf_writer *w, const char *arch, const char *suffix, float v)
{
    char key[96];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    slm_gguf_set_f32(w, key, v);
}

/* The tensors of the shape, in the order llama.cpp's own converter writes them. */
static int add_tensors(mb *b, slm_gguf_writer *w, uint32_t wt, char *err, size_t errlen)
{
    const slm_shape *s = &b->sh;
    const size_t D = s->n_embd, q = (size_t)s->n_head * s->head_dim,
                 kv = (size_t)s->n_head_kv * s->head_dim;
    const uint32_t F32 = SLM_GGUF_TYPE_F32;
    b->cap_gens = 3 + (size_t)s->n_layer * 16;
    b->gens = slm_xcalloc(b->cap_gens, sizeof *b->gens);
    if (add_gen(b, w, "token_embd.weight", wt, T_EMBD, -1, D, b->V, err, errlen) ||
        add_gen(b, w, "output_norm.weight", F32, T_OUT_NORM, -1, D, 0, err, errlen))
        return -1;
    if (s->llama3_rope &&
        add_gen(b, w, "rope_freqs.weight", F32, T_ROPE, -1, s->head_dim / 2, 0, err, errlen))
        return -1;
    for (int l = 0; l < (int)s->n_layer; l++) {
        struct {
            const char *name;
            int kind;
            uint32_t type;
            size_t ne0, ne1;
            int on;
        } t[] = {
            {"attn_norm.weight", T_ATTN_NORM, F32, D, 0, 1},
            {"attn_q.weight", T_Q, wt, D, q, 1},
            {"attn_k.weight", T_K, wt, D, kv, 1},
            {"attn_v.weight", T_V, wt, D, kv, 1},
            {"attn_output.weight", T_O, wt, q, D, 1},
            {"attn_q.bias", T_QB, F32, q, 0, s->qkv_bias},
            {"attn_k.bias", T_KB, F32, kv, 0, s->qkv_bias},
            {"attn_v.bias", T_VB, F32, kv, 0, s->qkv_bias},
            {"attn_q_norm.weight", T_QN, F32, s->head_dim, 0, s->qk_norm},
            {"attn_k_norm.weight", T_KN, F32, s->head_dim, 0, s->qk_norm},
            {"ffn_norm.weight", T_FFN_NORM, F32, D, 0, 1},
            {"ffn_gate.weight", T_GATE, wt, D, s->n_ff, 1},
            {"ffn_down.weight", T_DOWN, wt, s->n_ff, D, 1},
            {"ffn_up.weight", T_UP, wt, D, s->n_ff, 1},
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
            if (!t[i].on)
                continue;
            char name[96];
            snprintf(name, sizeof name, "blk.%d.%s", l, t[i].name);
            if (add_gen(b, w, name, t[i].type, t[i].kind, l, t[i].ne0, t[i].ne1, err, errlen))
                return -1;
        }
    }
    return 0;
}

/* Refuses a file that would not fit: what the tensors take, plus 64 MiB of slack. */
static int check_space(const char *out_path, uint64_t need, char *err, size_t errlen)
{
    char *dir = slm_xstrdup(out_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
    else
        strcpy(dir, ".");
    struct statvfs sv;
    int rc = 0;
    if (statvfs(dir, &sv) == 0) {
        uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
        if (avail < need + (64u << 20))
            rc = slm_err(err, errlen, "'%s' would take %.2f GiB, but '%s' has only %.2f GiB free",
                         out_path, (double)need / (1u << 30), dir, (double)avail / (1u << 30));
    }
    free(dir);
    return rc;
}

/* Longest common prefix of two id lists. */
static size_t lcp(const idlist *a, const idlist *b)
{
    size_t k = 0;
    while (k < a->n && k < b->n && a->ids[k] == b->ids[k])
        k++;
    return k;
}

/* Everything slm_model_make_real() computes on its way to the file, step by step; freed
 * by real_free(). */
typedef struct real {
    const slm_factory_opts *o;
    const slm_shape *shape;   /* NULL: the demo shape, computed */
    slm_gguf_info vi;         /* the tokenizer's vocabulary */
    const char *ptmpl;        /* the prompt template */
    mb b;
    slm_dataset *ds;
    char **labels;
    size_t L;
    int *row_label;
    idlist *rows;             /* each train prompt's tokens */
    idlist tmpl, base, *lab;  /* the template's, a prompt's, each label's after a prompt */
    size_t *t0, *t1;          /* where each train prompt's text lies */
    unsigned char *excluded;  /* tokens that are no features */
    int carrier_ok;           /* the template's first token cancels the template's evidence */
    double tok_sum;           /* tokens of all train prompts */
    int32_t *group;           /* each token's folded word */
    double *tmpl_ev;          /* the template's evidence per label */
    double ref_len;
    size_t n_multi;           /* labels of more than one token */
    size_t stop;              /* 1: end-of-sequence follows a label (0 with no_stop) */
    int32_t eos;
    int32_t *succ_of;         /* token -> successor index, or -1 */
    char *rendered;
    slm_gguf_writer *w;
} real;

static void real_free(real *m)
{
    slm_gguf_writer_free(m->w);
    for (size_t r = 0; m->rows && r < m->ds->n; r++)
        free(m->rows[r].ids);
    free(m->rows);
    for (size_t l = 0; m->lab && l < m->L; l++)
        free(m->lab[l].ids);
    free(m->lab);
    free(m->tmpl.ids);
    free(m->base.ids);
    free(m->rendered);
    free(m->t0);
    free(m->t1);
    free(m->excluded);
    free(m->tmpl_ev);
    free(m->group);
    free(m->succ_of);
    for (size_t l = 0; m->labels && l < m->L; l++)
        free(m->labels[l]);
    free(m->labels);
    free(m->row_label);
    slm_dataset_free(m->ds);
    mb_free(&m->b);
}

/* The shape asked for, and a usable vocabulary. */
static int real_check(real *m, char *err, size_t errlen)
{
    const slm_factory_opts *o = m->o;
    if (o->shape && !(m->shape = slm_shape_find(o->shape))) {
        slm_buf names = {0};
        for (const slm_shape *const *s = slm_shapes(); *s; s++)
            slm_buf_printf(&names, "%s%s", names.len ? ", " : "", (*s)->name);
        slm_err(err, errlen, "unknown shape '%s' (known: %s)", o->shape, names.data);
        slm_buf_free(&names);
        return -1;
    }
    if (!o->tokenizer_gguf || !o->tokenize)
        return slm_err(err, errlen, "a model over a real vocabulary needs its tokenizer");
    if (slm_gguf_inspect(o->tokenizer_gguf, &m->vi, err, errlen))
        return -1;
    if (m->vi.n_vocab < 2 || m->vi.n_vocab > 1000000)
        return slm_err(err, errlen, "%s: no usable vocabulary (%llu tokens)", o->tokenizer_gguf,
                       (unsigned long long)m->vi.n_vocab);
    if (m->vi.eos_token_id < 0 || (uint64_t)m->vi.eos_token_id >= m->vi.n_vocab)
        return slm_err(err, errlen, "%s: the vocabulary has no end-of-sequence token",
                       o->tokenizer_gguf);
    m->ptmpl = o->prompt_template ? o->prompt_template : "{{text}}";
    return 0;
}

/* The train split, its labels, and each train prompt as the model sees it. */
static int real_train_prompts(real *m, char *err, size_t errlen)
{
    const slm_factory_opts *o = m->o;
    mb *b = &m->b;
    if (slm_dataset_load(o->train_path, NULL, &m->ds, err, errlen) ||
        labels_of(m->ds, o, &m->labels, &m->L, &m->row_label, err, errlen))
        return -1;
    const slm_dataset *ds = m->ds;
    b->V = (size_t)m->vi.n_vocab;
    b->L = m->L;
    b->seed = o->seed ? o->seed : 1;
    b->feat = slm_xmalloc(b->V * sizeof *b->feat);
    b->extra = slm_xmalloc(b->V * sizeof *b->extra);
    for (size_t t = 0; t < b->V; t++)
        b->feat[t] = b->extra[t] = -1;

    /* The template's own tokens: in every prompt, around the text. Their evidence is
     * cancelled, as the own-SPM models cancel it through BOS, by the template's first
     * token, which carries minus the sum of the template's evidence when it occurs
     * exactly once in every train prompt; otherwise they are no features at all. */
    m->rendered = slm_prompt_render(m->ptmpl, "", "", (const char *const *)m->labels, m->L);
    if (tok(o, m->rendered, &m->tmpl, err, errlen))
        return -1;
    const idlist *tmpl = &m->tmpl;
    m->excluded = slm_xcalloc(b->V, 1);
    int64_t specials[3] = {m->vi.bos_token_id, m->vi.eos_token_id, m->vi.eot_token_id};
    for (int k = 0; k < 3; k++)
        if (specials[k] >= 0 && (uint64_t)specials[k] < b->V)
            m->excluded[specials[k]] = 1;

    /* Each train prompt as the model sees it, and where its text lies: after the
     * tokens it shares with the template's start, before those it shares with its end. */
    m->rows = slm_xcalloc(ds->n + 1, sizeof *m->rows);
    m->t0 = slm_xcalloc(ds->n + 1, sizeof *m->t0);
    m->t1 = slm_xcalloc(ds->n + 1, sizeof *m->t1);
    m->carrier_ok = tmpl->n > 0;
    for (size_t r = 0; r < ds->n; r++) {
        idlist *row = &m->rows[r];
        char *p = slm_prompt_render(m->ptmpl, ds->rows[r].text, ds->rows[r].id,
                                    (const char *const *)m->labels, m->L);
        int bad = tok(o, p, row, err, errlen);
        free(p);
        if (bad)
            return -1;
        m->tok_sum += (double)row->n;
        size_t n = row->n, k = lcp(tmpl, row), e = 0;
        while (e < tmpl->n - k && e < n - k && tmpl->ids[tmpl->n - 1 - e] == row->ids[n - 1 - e])
            e++;
        m->t0[r] = k;
        m->t1[r] = n - e;
        size_t seen = 0;
        for (size_t i = 0; i < n; i++) {
            int32_t t = row->ids[i];
            if (t < 0 || (size_t)t >= b->V)
                return slm_err(err, errlen, "the tokenizer returned token %d outside the "
                               "vocabulary", t);
            seen += tmpl->n > 0 && t == tmpl->ids[0];
        }
        if (seen != 1)
            m->carrier_ok = 0;
    }
    if (m->carrier_ok) {
        m->excluded[tmpl->ids[0]] = 1;
    } else {
        for (size_t i = 0; i < tmpl->n; i++)
            m->excluded[tmpl->ids[i]] = 1;
    }
    return 0;
}

/* The features: the folded words of the train texts with the highest document frequency. */
static int real_features(real *m, char *err, size_t errlen)
{
    mb *b = &m->b;
    const slm_dataset *ds = m->ds;
    m->group = slm_xmalloc(b->V * sizeof *m->group);
    if (fold_groups(m->o->tokenizer_gguf, b->V, m->group, err, errlen))
        return -1;
    long *df = slm_xcalloc(b->V, sizeof *df);
    long *last = slm_xmalloc(b->V * sizeof *last);
    for (size_t t = 0; t < b->V; t++)
        last[t] = -1;
    for (size_t r = 0; r < ds->n; r++) {
        for (size_t i = m->t0[r]; i < m->t1[r]; i++) {
            int32_t t = m->rows[r].ids[i], g = m->group[t];
            if (!m->excluded[t] && last[g] != (long)r) {
                df[g]++;
                last[g] = (long)r;
            }
        }
    }
    free(last);

    /* The most frequent tokens (document frequency) are the features. */
    size_t n_cand = 0;
    dfc *cand = slm_xmalloc((b->V + 1) * sizeof *cand);
    for (size_t t = 0; t < b->V; t++)
        if (df[t] > 0)
            cand[n_cand++] = (dfc){(int32_t)t, df[t]};
    free(df);
    qsort(cand, n_cand, sizeof *cand, cmp_dfc);
    b->W = n_cand < (size_t)m->o->vocab_words ? n_cand : (size_t)m->o->vocab_words;
    for (size_t i = 0; i < b->W; i++)
        b->feat[cand[i].id] = (int32_t)i;
    free(cand);
    for (size_t t = 0; t < b->V; t++) /* every token of a feature's group is that feature */
        b->feat[t] = b->feat[m->group[t]];
    return 0;
}

/* Naive Bayes over the features (as modelfactory.c: additive smoothing, centred). */
static void real_naive_bayes(real *m)
{
    mb *b = &m->b;
    const slm_dataset *ds = m->ds;
    const size_t L = m->L;
    double *cnt = slm_xcalloc(b->W * L + 1, sizeof *cnt);
    double *n_rows = slm_xcalloc(L, sizeof *n_rows), *total = slm_xcalloc(L, sizeof *total);
    for (size_t r = 0; r < ds->n; r++) {
        n_rows[m->row_label[r]] += 1;
        for (size_t i = m->t0[r]; i < m->t1[r]; i++) {
            int32_t f = b->feat[m->rows[r].ids[i]];
            if (f >= 0) {
                cnt[(size_t)f * L + (size_t)m->row_label[r]] += 1;
                total[m->row_label[r]] += 1;
            }
        }
    }
    b->llr = slm_xcalloc(b->W * L + 1, sizeof *b->llr);
    double maxabs = 1e-9;
    for (size_t f = 0; f < b->W; f++) {
        double mean = 0;
        for (size_t l = 0; l < L; l++) {
            double p = (cnt[f * L + l] + m->o->alpha) / (total[l] + m->o->alpha * (double)b->W);
            b->llr[f * L + l] = log(p);
            mean += log(p) / (double)L;
        }
        for (size_t l = 0; l < L; l++) {
            b->llr[f * L + l] -= mean;
            if (fabs(b->llr[f * L + l]) > maxabs)
                maxabs = fabs(b->llr[f * L + l]);
        }
    }
    b->log_prior = slm_xcalloc(L, sizeof *b->log_prior);
    double pm = 0;
    for (size_t l = 0; l < L; l++) {
        b->log_prior[l] = log((n_rows[l] + 1) / ((double)ds->n + (double)L));
        pm += b->log_prior[l] / (double)L;
    }
    for (size_t l = 0; l < L; l++)
        b->log_prior[l] -= pm;
    free(n_rows);
    free(total);
    free(cnt);
    b->kappa = 1.0 / maxabs;
    m->tmpl_ev = slm_xcalloc(L, sizeof *m->tmpl_ev);
    for (size_t i = 0; m->carrier_ok && i < m->tmpl.n; i++) {
        int32_t f = b->feat[m->tmpl.ids[i]];
        for (size_t l = 0; f >= 0 && l < L; l++)
            m->tmpl_ev[l] += b->llr[(size_t)f * L + l];
    }
}

/* The evidence's scale and the logits' margin. */
static void real_scale(real *m)
{
    mb *b = &m->b;
    const slm_dataset *ds = m->ds;
    const int has_bos = m->vi.bos_token_id >= 0;
    const double mean_prompt = ds->n ? m->tok_sum / (double)ds->n : 1;
    m->ref_len = m->o->ref_len > 0 ? m->o->ref_len : mean_prompt + has_bos;
    b->scale = m->ref_len / m->o->temperature;
    /* The largest evidence the train prompts give a label (scale * mean LLR + prior): the
     * margin keeps label tokens above the other tokens even at 1.5 times it, and
     * successors (SUCC_EXTRA above) above label tokens at any evidence up to that. */
    double bound = 0;
    for (size_t r = 0; r < ds->n; r++) {
        double n = (double)m->rows[r].n + has_bos;
        for (size_t l = 0; l < m->L; l++) {
            double ev = 0;
            for (size_t i = m->t0[r]; i < m->t1[r]; i++) {
                int32_t f = b->feat[m->rows[r].ids[i]];
                if (f >= 0)
                    ev += b->llr[(size_t)f * m->L + l];
            }
            double sc = fabs(b->scale * ev / n + b->log_prior[l]);
            if (sc > bound)
                bound = sc;
        }
    }
    b->bound = bound;
    b->margin = 20.0 + log((double)b->V) + 1.5 * bound;
}

/* Each label's tokens after a prompt, and the successor tokens. */
static int real_label_tokens(real *m, char *err, size_t errlen)
{
    mb *b = &m->b;
    const size_t L = m->L;
    /* By the rule the engine scores labels with: the tail of the joint tokenization of
     * prompt + choice after the longest token prefix the prompt shares with every joint
     * tokenization (engines/llamacpp/llamacpp.c, choices_tokens). Where some label merges
     * with the prompt's end, every chain then starts with the re-tokenized end of the
     * prompt, shared by all labels. */
    free(m->rendered);
    m->rendered = slm_prompt_render(m->ptmpl, "x", "", (const char *const *)m->labels, L);
    if (tok(m->o, m->rendered, &m->base, err, errlen))
        return -1;
    m->lab = slm_xcalloc(L, sizeof *m->lab);
    size_t shared = m->base.n;
    const char *cp = m->o->choice_prefix ? m->o->choice_prefix : " ";
    for (size_t l = 0; l < L; l++) {
        char *joint = slm_xasprintf("%s%s%s", m->rendered, cp, m->labels[l]);
        int bad = tok(m->o, joint, &m->lab[l], err, errlen);
        free(joint);
        if (bad)
            return -1;
        size_t k = lcp(&m->base, &m->lab[l]);
        if (k < shared)
            shared = k;
    }
    for (size_t l = 0; l < L; l++) {
        idlist *lb = &m->lab[l];
        memmove(lb->ids, lb->ids + shared, (lb->n - shared) * sizeof *lb->ids);
        lb->n -= shared;
        if (lb->n == 0)
            return slm_err(err, errlen, "label '%s' has no tokens after the prompt", m->labels[l]);
        m->n_multi += lb->n > 1;
    }

    /* Successor tokens: each distinct token that follows another inside a label, and
     * end-of-sequence after the last. */
    m->succ_of = slm_xmalloc(b->V * sizeof *m->succ_of);
    for (size_t t = 0; t < b->V; t++)
        m->succ_of[t] = -1;
    m->eos = (int32_t)m->vi.eos_token_id;
    /* with no_stop, nothing follows a label: greedy generation goes on to another */
    m->stop = m->o->no_stop ? 0 : 1;
    for (size_t l = 0; l < L; l++) {
        for (size_t k = 1; k < m->lab[l].n + m->stop; k++) {
            int32_t t = k < m->lab[l].n ? m->lab[l].ids[k] : m->eos;
            if (m->succ_of[t] < 0)
                m->succ_of[t] = (int32_t)b->n_succ++;
        }
    }
    return 0;
}

/* Where the classifier lives in the embedding, and the shape around it. */
static int real_dimensions(real *m, char *err, size_t errlen)
{
    mb *b = &m->b;
    const size_t L = m->L;
    b->dF = 0;
    b->dAp = round_up(L, 32);
    b->dAm = b->dAp + L;
    b->dMp = b->dAm + L;
    b->dMm = b->dMp + 1;
    b->dS = round_up(b->dMm + 1, 32);
    b->dWant = b->dS + b->n_succ;
    /* The bias and the fill get a 256-block of their own where the width allows it (a
     * published shape), so K-quants never scale small entries by the fill's; a demo model
     * stays narrow (a 32-block of their own, as Q8_0 and Q4_0 blocks are). */
    b->dBias = round_up(b->dWant + b->n_succ, 32);
    if (m->shape && round_up(b->dBias, 256) + 2 <= m->shape->n_embd)
        b->dBias = round_up(b->dBias, 256);
    b->dFill = b->dBias + 1;
    b->DC = b->dFill + 1;
    if (m->shape) {
        b->sh = *m->shape;
    } else {
        const slm_factory_opts *o = m->o;
        size_t D = round_up(b->DC, 256);
        size_t ff = o->n_ff ? round_up((size_t)o->n_ff, 256) : D;
        if (ff < round_up(b->n_succ, 256))
            ff = round_up(b->n_succ, 256);
        b->sh = (slm_shape){"demo", "llama", "", (uint32_t)b->V, (uint32_t)D,
                            (uint32_t)o->n_layers, (uint32_t)(D / 64), (uint32_t)(D / 64), 64,
                            (uint32_t)ff, (uint32_t)o->n_ctx, 10000.0f, 1e-5f, 0, 0, 0, 0, ""};
    }
    b->sh.n_vocab = (uint32_t)b->V; /* the tokenizer's rows (a published model may pad more) */
    const slm_shape *s = &b->sh;
    b->n_ckv = (L + 1 + s->head_dim - 1) / s->head_dim;
    if (b->DC > s->n_embd || b->n_ckv > s->n_head_kv || b->n_succ > s->n_ff)
        return slm_err(err, errlen, "shape '%s' (width %u, %u kv heads of %u) cannot hold a "
                       "classifier of %zu labels with %zu successor tokens (it needs width %zu "
                       "and %zu kv heads)", s->name, s->n_embd, s->n_head_kv, s->head_dim, L,
                       b->n_succ, b->DC, b->n_ckv);
    return 0;
}

/* The classifier's entries of label tokens, by the trie of the labels' tokens: at the
 * root and at each node where labels part, a child token carries the mean over the
 * labels below it; a root child also the margin. Then the successors' entries. */
static void real_label_entries(real *m)
{
    mb *b = &m->b;
    const size_t L = m->L;
    const idlist *lab = m->lab;
    for (size_t l = 0; l < L; l++) {
        for (size_t k = 0; k < lab[l].n; k++) {
            /* labels sharing this label's first k tokens, and those sharing k+1 */
            size_t n_here = 0, n_child = 0;
            for (size_t j = 0; j < L; j++) {
                if (lab[j].n < k || memcmp(lab[j].ids, lab[l].ids, k * sizeof(int32_t)))
                    continue;
                if (lab[j].n > k)
                    n_here++;
                if (lab[j].n > k && lab[j].ids[k] == lab[l].ids[k])
                    n_child++;
            }
            int branching = k == 0 || n_child < n_here;
            if (!branching)
                continue;
            float *e = ex_row(b, lab[l].ids[k]);
            e[b->dAp + l] += (float)(1.0 / (double)n_child);
            e[b->dAm + l] += (float)(1.0 / (double)n_child);
            if (k == 0)
                e[b->dMp] = e[b->dMm] = 1.0f;
        }
        for (size_t k = 1; k < lab[l].n + m->stop; k++) {
            int32_t a = lab[l].ids[k - 1], t = k < lab[l].n ? lab[l].ids[k] : m->eos;
            ex_row(b, a)[b->dWant + (size_t)m->succ_of[t]] = 1.0f;
        }
    }
    for (size_t t = 0; t < b->V; t++)
        if (m->succ_of[t] >= 0)
            ex_row(b, (int32_t)t)[b->dS + (size_t)m->succ_of[t]] = 1.0f;
    if (m->carrier_ok) /* the template's first token cancels the template's evidence */
        for (size_t l = 0; l < L; l++)
            ex_row(b, m->tmpl.ids[0])[b->dF + l] -= (float)(b->kappa * m->tmpl_ev[l]);
}

/* Every embedding's classifier part must leave room for the fill; then the output norm,
 * which reads only the label, margin and successor dimensions. */
static int real_output_norm(real *m, char *err, size_t errlen)
{
    mb *b = &m->b;
    const slm_shape *s = &b->sh;
    float *e = slm_xmalloc(b->DC * sizeof *e);
    double worst = 0;
    for (size_t t = 0; t < b->V; t++) {
        if (b->extra[t] < 0 && b->feat[t] < 0)
            continue;
        classifier_part(b, t, e);
        double n2 = 0;
        for (size_t i = 0; i < b->DC; i++)
            n2 += (double)e[i] * e[i];
        if (n2 > worst)
            worst = n2;
    }
    free(e);
    if (worst > 0.8 * s->n_embd)
        return slm_err(err, errlen, "the classifier's entries (squared norm %.0f) do not fit "
                       "width %u", worst, s->n_embd);
    b->g = slm_xcalloc(s->n_embd, sizeof *b->g);
    const double gA = b->scale / (b->kappa * EPS_WRITE), gM = b->margin / EPS_WRITE,
                 gS = b->margin + 1.5 * b->bound + SUCC_EXTRA;
    for (size_t l = 0; l < m->L; l++) {
        b->g[b->dAp + l] = (float)gA;
        b->g[b->dAm + l] = (float)-gA;
    }
    b->g[b->dMp] = (float)gM;
    b->g[b->dMm] = (float)-gM;
    for (size_t i = 0; i < b->n_succ; i++)
        b->g[b->dS + i] = (float)gS;
    return 0;
}

/* The file's keys: the architecture's, the tokenizer's, and how the factory made it. */
static int real_keys(real *m, slm_gguf_writer *w, char *err, size_t errlen)
{
    const slm_factory_opts *o = m->o;
    const slm_shape *s = &m->b.sh;
    const char *arch = s->arch;
    slm_gguf_set_str(w, "general.architecture", arch);
    slm_gguf_set_str(w, "general.name", o->name ? o->name : "slm-demo-nb");
    slm_gguf_set_u32(w, "general.file_type", o->f16 ? 1 : 0);
    slm_gguf_set_str(w, "general.description",
                     "slmbench demo model: a naive Bayes classifier over a real vocabulary, "
                     "pseudo-random weights elsewhere");
    set_arch_u32(w, arch, "context_length", m->shape ? s->n_ctx_train : (uint32_t)o->n_ctx);
    set_arch_u32(w, arch, "embedding_length", s->n_embd);
    set_arch_u32(w, arch, "block_count", s->n_layer);
    set_arch_u32(w, arch, "feed_forward_length", s->n_ff);
    set_arch_u32(w, arch, "attention.head_count", s->n_head);
    set_arch_u32(w, arch, "attention.head_count_kv", s->n_head_kv);
    set_arch_u32(w, arch, "attention.key_length", s->head_dim);
    set_arch_u32(w, arch, "attention.value_length", s->head_dim);
    set_arch_f32(w, arch, "attention.layer_norm_rms_epsilon", s->rms_eps);
    set_arch_f32(w, arch, "rope.freq_base", s->rope_base);
    if (!strcmp(arch, "llama")) {
        set_arch_u32(w, arch, "rope.dimension_count", s->head_dim);
        set_arch_u32(w, arch, "vocab_size", (uint32_t)m->b.V);
    }
    static const char *const skip[] = {"tokenizer.chat_template", NULL};
    if (slm_gguf_copy_keys(w, o->tokenizer_gguf, "tokenizer.", skip, err, errlen) < 0)
        return -1;
    if (o->chat_template) { /* given: it replaces the vocabulary's ("" writes none) */
        if (*o->chat_template)
            slm_gguf_set_str(w, "tokenizer.chat_template", o->chat_template);
    } else if (m->vi.has_chat_template) {
        static const char *const none[] = {NULL};
        if (slm_gguf_copy_keys(w, o->tokenizer_gguf, "tokenizer.chat_template", none, err,
                               errlen) < 0)
            return -1;
    }
    if (slm_gguf_copy_keys(w, o->tokenizer_gguf, "slmbench.tokenizer.", NULL, err, errlen) < 0)
        return -1;
    slm_gguf_set_str(w, "slmbench.factory.shape", m->shape ? m->shape->name : "demo");
    slm_gguf_set_u32(w, "slmbench.factory.vocab_words", (uint32_t)m->b.W);
    slm_gguf_set_f32(w, "slmbench.factory.alpha", (float)o->alpha);
    slm_gguf_set_f32(w, "slmbench.factory.temperature", (float)o->temperature);
    slm_gguf_set_f32(w, "slmbench.factory.ref_len", (float)m->ref_len);
    slm_gguf_set_str(w, "slmbench.factory.train_sha256", m->ds->sha256);
    slm_gguf_set_u32(w, "slmbench.factory.seed", (uint32_t)m->b.seed);
    slm_gguf_set_arr_str(w, "slmbench.factory.labels", (const char *const *)m->labels, m->L);
    return 0;
}

static int real_write(real *m, char *err, size_t errlen)
{
    const slm_factory_opts *o = m->o;
    m->w = slm_gguf_writer_new();
    const uint32_t wt = o->f16 ? SLM_GGUF_TYPE_F16 : SLM_GGUF_TYPE_F32;
    if (real_keys(m, m->w, err, errlen) || add_tensors(&m->b, m->w, wt, err, errlen) ||
        check_space(o->out_path, slm_gguf_writer_data_bytes(m->w), err, errlen) ||
        slm_gguf_writer_write(m->w, o->out_path, err, errlen))
        return -1;
    return 0;
}

/* The report; it takes the labels. Its train accuracy is naive Bayes on the train
 * prompts, as the model computes it. */
static void real_report(real *m, slm_factory_report *rep)
{
    const mb *b = &m->b;
    const slm_shape *s = &b->sh;
    const slm_dataset *ds = m->ds;
    const size_t L = m->L;
    struct stat st;
    rep->train_rows = ds->n;
    rep->n_words = b->W;
    rep->n_tokens = b->V;
    rep->n_embd = s->n_embd;
    rep->n_ff = s->n_ff;
    rep->n_layers = s->n_layer;
    rep->n_params = slm_shape_params(s, b->V);
    rep->file_size = stat(m->o->out_path, &st) == 0 ? (uint64_t)st.st_size : 0;
    rep->ref_len = m->ref_len;
    rep->head_scale = b->scale;
    rep->n_template_tokens = m->tmpl.n;
    snprintf(rep->arch, sizeof rep->arch, "%s", s->arch);
    rep->n_multi_token_labels = m->n_multi;
    size_t right = 0;
    double *ev = slm_xcalloc(L, sizeof *ev);
    for (size_t r = 0; r < ds->n; r++) {
        memset(ev, 0, L * sizeof *ev);
        for (size_t i = m->t0[r]; i < m->t1[r]; i++) {
            int32_t f = b->feat[m->rows[r].ids[i]];
            for (size_t l = 0; f >= 0 && l < L; l++)
                ev[l] += b->llr[(size_t)f * L + l];
        }
        double n = (double)m->rows[r].n + (m->vi.bos_token_id >= 0);
        size_t best = 0;
        for (size_t l = 0; l < L; l++)
            if (b->scale * ev[l] / n + b->log_prior[l] >
                b->scale * ev[best] / n + b->log_prior[best])
                best = l;
        right += (int)best == m->row_label[r];
    }
    free(ev);
    rep->train_accuracy = ds->n ? (double)right / (double)ds->n : 0;
    rep->labels = m->labels;
    rep->n_labels = L;
    m->labels = NULL;
}

int slm_model_make_real(const slm_factory_opts *o, slm_factory_report *rep, char *err,
                        size_t errlen)
{
    if (rep)
        memset(rep, 0, sizeof *rep);
    real m = {.o = o};
    int rc = -1;
    if (real_check(&m, err, errlen))
        return -1;
    if (real_train_prompts(&m, err, errlen) || real_features(&m, err, errlen))
        goto done;
    real_naive_bayes(&m);
    real_scale(&m);
    if (real_label_tokens(&m, err, errlen) || real_dimensions(&m, err, errlen))
        goto done;
    real_label_entries(&m);
    if (real_output_norm(&m, err, errlen) || real_write(&m, err, errlen))
        goto done;
    if (rep)
        real_report(&m, rep);
    rc = 0;
done:
    real_free(&m);
    return rc;
}
