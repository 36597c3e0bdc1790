/*
 * modelfactory.c — demo GGUF models whose forward pass is naive Bayes. See modelfactory.h
 * for the construction; the comments here say why each number is what it is.
 */
#include "modelfactory.h"
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

#define SPIECE "\xe2\x96\x81" /* U+2581, what the SPM tokenizer turns spaces into */
#define SPIECE_LEN 3
#define MAX_WORD_BYTES 40
/* Label tokens sit this far above every other token, so greedy decoding picks a label. */
#define LABEL_MARGIN 20.0
/* The logit of </s> right after a label token: far above anything the evidence can give. */
#define STOP_LOGIT 500.0

enum { TOK_NORMAL = 1, TOK_UNKNOWN = 2, TOK_CONTROL = 3, TOK_BYTE = 6 };

/* ---- a string-to-int hash map (open addressing) ---------------------------------- */

typedef struct smap {
    char **keys;
    int *vals;
    size_t cap;
    size_t n;
} smap;

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void smap_free(smap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* Slot of key s[0..n) : its own if present, else the empty one where it would go. */
static size_t smap_slot(const smap *m, const char *s, size_t n)
{
    size_t i = (size_t)hash_bytes(s, n) & (m->cap - 1);
    while (m->keys[i] && !(strlen(m->keys[i]) == n && memcmp(m->keys[i], s, n) == 0))
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int smap_get(const smap *m, const char *s, size_t n)
{
    if (!m->cap)
        return -1;
    size_t i = smap_slot(m, s, n);
    return m->keys[i] ? m->vals[i] : -1;
}

static void smap_grow(smap *m)
{
    smap old = *m;
    m->cap = old.cap ? old.cap * 2 : 256;
    m->keys = slm_xcalloc(m->cap, sizeof *m->keys);
    m->vals = slm_xcalloc(m->cap, sizeof *m->vals);
    for (size_t i = 0; i < old.cap; i++) {
        if (old.keys[i]) {
            size_t j = smap_slot(m, old.keys[i], strlen(old.keys[i]));
            m->keys[j] = old.keys[i];
            m->vals[j] = old.vals[i];
        }
    }
    free(old.keys);
    free(old.vals);
}

/* Inserts s[0..n) with value v unless present; returns the value now stored. */
static int smap_put(smap *m, const char *s, size_t n, int v)
{
    if (2 * (m->n + 1) > m->cap)
        smap_grow(m);
    size_t i = smap_slot(m, s, n);
    if (m->keys[i])
        return m->vals[i];
    m->keys[i] = slm_xstrndup(s, n);
    m->vals[i] = v;
    m->n++;
    return v;
}

/* ---- words ------------------------------------------------------------------------ */

/* Length of the leading run of ASCII letters and digits of s[0..n), capped. */
static size_t word_run(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && k < MAX_WORD_BYTES && isalnum((unsigned char)s[k]))
        k++;
    return k;
}

typedef struct wcount {
    char *word;
    long df;
} wcount;

static int cmp_wcount(const void *a, const void *b)
{
    const wcount *x = a, *y = b;
    if (x->df != y->df)
        return x->df > y->df ? -1 : 1;
    return strcmp(x->word, y->word);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- the vocabulary ---------------------------------------------------------------- */

typedef struct vocab {
    char **text;      /* token texts */
    float *score;
    int32_t *type;
    int *word;        /* word feature index, or -1 */
    int *label;       /* label index, or -1 */
    size_t n, cap;
    smap index;       /* text -> token id */
} vocab;

static int vocab_add(vocab *v, const char *s, size_t n, int type)
{
    int id = smap_get(&v->index, s, n);
    if (id >= 0)
        return id;
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 1024;
        v->text = slm_xrealloc(v->text, v->cap * sizeof *v->text);
        v->score = slm_xrealloc(v->score, v->cap * sizeof *v->score);
        v->type = slm_xrealloc(v->type, v->cap * sizeof *v->type);
        v->word = slm_xrealloc(v->word, v->cap * sizeof *v->word);
        v->label = slm_xrealloc(v->label, v->cap * sizeof *v->label);
    }
    id = (int)v->n++;
    v->text[id] = slm_xstrndup(s, n);
    /* SPM merges the pair whose merged token scores highest; any order reaches the whole
     * word because every prefix is a token, so the scores only need to be distinct. */
    v->score[id] = type == TOK_NORMAL ? -(float)id : 0.0f;
    v->type[id] = type;
    v->word[id] = -1;
    v->label[id] = -1;
    smap_put(&v->index, s, n, id);
    return id;
}

/* Adds "▁" + s[0..n) and all its prefixes. */
static int vocab_add_prefixed(vocab *v, const char *s, size_t n)
{
    char buf[SPIECE_LEN + 256];
    if (n > 256)
        n = 256;
    memcpy(buf, SPIECE, SPIECE_LEN);
    memcpy(buf + SPIECE_LEN, s, n);
    int id = -1;
    for (size_t k = 0; k <= n; k++)
        id = vocab_add(v, buf, SPIECE_LEN + k, TOK_NORMAL);
    return id;
}

static void vocab_free(vocab *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->text[i]);
    free(v->text);
    free(v->score);
    free(v->type);
    free(v->word);
    free(v->label);
    smap_free(&v->index);
}

/* Tokenizes text as llama.cpp's SPM tokenizer does with this vocabulary (a space prefix,
 * spaces as "▁"; merges reach the longest "▁"-prefix that is a token; everything else
 * falls back to bytes). Calls fn for each feature token; returns the number of tokens. */
static size_t sim_tokenize(const vocab *v, const char *text, int prefix_space,
                           void (*fn)(void *ctx, int token), void *ctx)
{
    size_t ntok = 0;
    const char *p = text;
    size_t len = strlen(text);
    const char *end = text + len;
    char buf[SPIECE_LEN + 260];
    memcpy(buf, SPIECE, SPIECE_LEN);
    int first = 1;
    while (p <= end) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        const char *ce = sp ? sp : end;
        size_t clen = (size_t)(ce - p);
        if (first && !prefix_space) {
            ntok += clen; /* no "▁" start: only byte tokens */
        } else {
            /* The chunk starts with "▁": extend while the prefix is a token. */
            int best = -1;
            size_t k = 0;
            for (size_t j = 0; j <= clen && j < sizeof buf - SPIECE_LEN; j++) {
                if (j > 0)
                    buf[SPIECE_LEN + j - 1] = p[j - 1];
                int id = smap_get(&v->index, buf, SPIECE_LEN + j);
                if (id < 0)
                    break;
                best = id;
                k = j;
            }
            if (best >= 0) {
                ntok += 1 + (clen - k);
                if (fn)
                    fn(ctx, best);
            } else {
                ntok += SPIECE_LEN + clen;
            }
        }
        first = 0;
        if (!sp)
            break;
        p = sp + 1;
    }
    return ntok;
}

/* ---- building --------------------------------------------------------------------- */

void slm_factory_defaults(slm_factory_opts *o)
{
    memset(o, 0, sizeof *o);
    o->name = "slm-demo-nb";
    o->vocab_words = 1000;
    o->alpha = 1.0;
    o->temperature = 1.0;
    o->n_layers = 1;
    o->n_ff = 256;
    o->n_ctx = 2048;
    o->f16 = 1;
    o->capitalised = 1;
    o->choice_prefix = " ";
    o->seed = 1;
}

void slm_factory_report_free(slm_factory_report *rep)
{
    if (!rep)
        return;
    for (size_t i = 0; i < rep->n_labels; i++)
        free(rep->labels[i]);
    free(rep->labels);
    memset(rep, 0, sizeof *rep);
}

typedef struct counter {
    const vocab *v;
    double *counts;   /* [n_words][n_labels] */
    size_t n_labels;
    int label;
    double *acc;      /* [n_labels] evidence sum, for the train accuracy */
    const double *llr;
} counter;

static void count_token(void *ctx, int token)
{
    counter *c = ctx;
    int w = c->v->word[token];
    if (w < 0)
        return;
    if (c->counts)
        c->counts[(size_t)w * c->n_labels + (size_t)c->label] += 1.0;
    if (c->acc)
        for (size_t l = 0; l < c->n_labels; l++)
            c->acc[l] += c->llr[(size_t)w * c->n_labels + l];
}

static size_t round_up(size_t x, size_t m)
{
    return (x + m - 1) / m * m;
}

static float *zeros(size_t n)
{
    return slm_xcalloc(n, sizeof(float));
}

static const char CHATML_TEMPLATE[] =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}";

typedef struct build {
    slm_dataset *ds;
    char **labels;
    size_t n_labels;
    int *row_label;
    char **words;
    size_t n_words;
    vocab v;
    double *llr;       /* [n_words][n_labels] */
    double *template_ev; /* [n_labels] */
    double *log_prior; /* [n_labels] */
    slm_gguf_writer *w;
} build;

static void build_free(build *b)
{
    slm_dataset_free(b->ds);
    for (size_t i = 0; i < b->n_labels; i++)
        free(b->labels[i]);
    free(b->labels);
    free(b->row_label);
    for (size_t i = 0; i < b->n_words; i++)
        free(b->words[i]);
    free(b->words);
    vocab_free(&b->v);
    free(b->llr);
    free(b->template_ev);
    free(b->log_prior);
    slm_gguf_writer_free(b->w);
}

static int check_opts(const slm_factory_opts *o, char *err, size_t errlen)
{
    if (!o->train_path || !*o->train_path)
        return slm_err(err, errlen, "no train file given");
    if (!o->out_path || !*o->out_path)
        return slm_err(err, errlen, "no output file given");
    if (o->vocab_words < 1 || o->vocab_words > 200000)
        return slm_err(err, errlen, "vocabulary size %d out of range (1 to 200000)",
                       o->vocab_words);
    if (!(o->alpha > 0) || o->alpha > 1e6)
        return slm_err(err, errlen, "smoothing alpha must be positive");
    if (!(o->temperature > 0) || o->temperature > 1e6)
        return slm_err(err, errlen, "temperature must be positive");
    if (o->ref_len < 0 || o->ref_len > 1e6)
        return slm_err(err, errlen, "reference length must be 0 or positive");
    if (o->n_layers < 1 || o->n_layers > 256)
        return slm_err(err, errlen, "layer count %d out of range (1 to 256)", o->n_layers);
    if (o->n_ff < 0 || o->n_ff > 65536)
        return slm_err(err, errlen, "feed-forward width %d out of range (0 to 65536)", o->n_ff);
    if (o->n_ctx < 16 || o->n_ctx > 1 << 20)
        return slm_err(err, errlen, "context length %d out of range (16 to 1048576)", o->n_ctx);
    return 0;
}

static int label_ok(const char *l, char *err, size_t errlen)
{
    if (!*l)
        return slm_err(err, errlen, "empty label");
    for (const char *p = l; *p; p++)
        if (isspace((unsigned char)*p))
            return slm_err(err, errlen, "label '%s' contains whitespace", l);
    if (strlen(l) > 200)
        return slm_err(err, errlen, "label '%s' is too long", l);
    return 0;
}

/* The label set, and each train row's label index. */
static int setup_labels(build *b, const slm_factory_opts *o, char *err, size_t errlen)
{
    if (o->labels) {
        b->labels = slm_xcalloc(o->n_labels + 1, sizeof *b->labels);
        for (size_t i = 0; i < o->n_labels; i++) {
            for (size_t j = 0; j < i; j++)
                if (strcmp(o->labels[i], o->labels[j]) == 0)
                    return slm_err(err, errlen, "label '%s' given twice", o->labels[i]);
            b->labels[b->n_labels++] = slm_xstrdup(o->labels[i]);
        }
    } else {
        smap seen = {0};
        b->labels = slm_xcalloc(b->ds->n + 1, sizeof *b->labels);
        for (size_t i = 0; i < b->ds->n; i++) {
            const char *l = b->ds->rows[i].label;
            if (smap_get(&seen, l, strlen(l)) < 0) {
                smap_put(&seen, l, strlen(l), 0);
                b->labels[b->n_labels++] = slm_xstrdup(l);
            }
        }
        smap_free(&seen);
        qsort(b->labels, b->n_labels, sizeof *b->labels, cmp_str);
    }
    if (b->n_labels < 2)
        return slm_err(err, errlen, "'%s': need at least 2 labels, have %zu", o->train_path,
                       b->n_labels);
    for (size_t i = 0; i < b->n_labels; i++)
        if (label_ok(b->labels[i], err, errlen))
            return -1;
    b->row_label = slm_xcalloc(b->ds->n + 1, sizeof *b->row_label);
    for (size_t i = 0; i < b->ds->n; i++) {
        int li = slm_label_index((const char *const *)b->labels, b->n_labels,
                                 b->ds->rows[i].label);
        if (li < 0)
            return slm_err(err, errlen, "%s:%ld: label '%s' is not in the label set",
                           o->train_path, b->ds->rows[i].line, b->ds->rows[i].label);
        b->row_label[i] = li;
    }
    return 0;
}

/* The most frequent words (document frequency), ties alphabetical. */
static void select_words(build *b, int max_words)
{
    smap idx = {0};
    wcount *wc = NULL;
    size_t n = 0, cap = 0;
    long *last_row = NULL;
    for (size_t r = 0; r < b->ds->n; r++) {
        const char *t = b->ds->rows[r].text;
        size_t len = strlen(t);
        for (size_t i = 0; i <= len;) {
            /* A word starts the text or follows a space, as "▁" tokens do. */
            size_t k = word_run(t + i, len - i);
            if (k) {
                char w[MAX_WORD_BYTES + 1];
                for (size_t j = 0; j < k; j++)
                    w[j] = (char)tolower((unsigned char)t[i + j]);
                w[k] = '\0';
                int id = smap_get(&idx, w, k);
                if (id < 0) {
                    if (n == cap) {
                        cap = cap ? 2 * cap : 1024;
                        wc = slm_xrealloc(wc, cap * sizeof *wc);
                        last_row = slm_xrealloc(last_row, cap * sizeof *last_row);
                    }
                    id = smap_put(&idx, w, k, (int)n);
                    wc[n].word = slm_xstrdup(w);
                    wc[n].df = 0;
                    last_row[n] = -1;
                    n++;
                }
                if (last_row[id] != (long)r) {
                    wc[id].df++;
                    last_row[id] = (long)r;
                }
            }
            const char *sp = memchr(t + i, ' ', len - i);
            if (!sp)
                break;
            i = (size_t)(sp - t) + 1;
        }
    }
    qsort(wc, n, sizeof *wc, cmp_wcount);
    size_t keep = n < (size_t)max_words ? n : (size_t)max_words;
    b->words = slm_xcalloc(keep + 1, sizeof *b->words);
    for (size_t i = 0; i < n; i++) {
        if (i < keep)
            b->words[b->n_words++] = wc[i].word;
        else
            free(wc[i].word);
    }
    free(wc);
    free(last_row);
    smap_free(&idx);
}

static void build_vocab(build *b, const slm_factory_opts *o)
{
    vocab *v = &b->v;
    vocab_add(v, "<unk>", 5, TOK_UNKNOWN);
    vocab_add(v, "<s>", 3, TOK_CONTROL);
    vocab_add(v, "</s>", 4, TOK_CONTROL);
    for (int i = 0; i < 256; i++) {
        char t[8];
        snprintf(t, sizeof t, "<0x%02X>", i);
        vocab_add(v, t, strlen(t), TOK_BYTE);
    }
    vocab_add(v, "<|im_start|>", 12, TOK_CONTROL);
    vocab_add(v, "<|im_end|>", 10, TOK_CONTROL);
    vocab_add(v, SPIECE, SPIECE_LEN, TOK_NORMAL);
    for (size_t i = 0; i < b->n_words; i++) {
        const char *w = b->words[i];
        size_t n = strlen(w);
        int id = vocab_add_prefixed(v, w, n);
        v->word[id] = (int)i;
        if (o->capitalised && islower((unsigned char)w[0])) {
            char cap[MAX_WORD_BYTES + 1];
            memcpy(cap, w, n + 1);
            cap[0] = (char)toupper((unsigned char)cap[0]);
            id = vocab_add_prefixed(v, cap, n);
            v->word[id] = (int)i;
        }
    }
    for (size_t l = 0; l < b->n_labels; l++) {
        int id = vocab_add_prefixed(v, b->labels[l], strlen(b->labels[l]));
        v->label[id] = (int)l;
    }
}

/* Naive Bayes from the simulated tokenization of the train split. */
static void train_nb(build *b, const slm_factory_opts *o, double *mean_text_tokens)
{
    size_t L = b->n_labels, W = b->n_words;
    counter c = {&b->v, slm_xcalloc(W * L + 1, sizeof(double)), L, 0, NULL, NULL};
    double *n_rows = slm_xcalloc(L, sizeof(double));
    double tok_sum = 0;
    for (size_t r = 0; r < b->ds->n; r++) {
        c.label = b->row_label[r];
        n_rows[c.label] += 1;
        tok_sum += (double)sim_tokenize(&b->v, b->ds->rows[r].text, 1, count_token, &c);
    }
    *mean_text_tokens = b->ds->n ? tok_sum / (double)b->ds->n : 0;
    double *total = slm_xcalloc(L, sizeof(double));
    for (size_t w = 0; w < W; w++)
        for (size_t l = 0; l < L; l++)
            total[l] += c.counts[w * L + l];
    b->llr = slm_xcalloc(W * L + 1, sizeof(double));
    for (size_t w = 0; w < W; w++) {
        double mean = 0;
        for (size_t l = 0; l < L; l++) {
            double p = (c.counts[w * L + l] + o->alpha) / (total[l] + o->alpha * (double)W);
            b->llr[w * L + l] = log(p);
            mean += log(p);
        }
        mean /= (double)L;
        for (size_t l = 0; l < L; l++)
            b->llr[w * L + l] -= mean;
    }
    b->log_prior = slm_xcalloc(L, sizeof(double));
    double mean = 0;
    for (size_t l = 0; l < L; l++) {
        b->log_prior[l] = log((n_rows[l] + 1) / ((double)b->ds->n + (double)L));
        mean += b->log_prior[l];
    }
    for (size_t l = 0; l < L; l++)
        b->log_prior[l] -= mean / (double)L;
    free(total);
    free(n_rows);
    free(c.counts);
}

/* Evidence of the prompt template's own words, which the BOS token cancels. */
static size_t template_evidence(build *b, const slm_factory_opts *o)
{
    b->template_ev = slm_xcalloc(b->n_labels, sizeof(double));
    if (!o->prompt_template)
        return 0;
    char *r = slm_prompt_render(o->prompt_template, "", "", (const char *const *)b->labels,
                                b->n_labels);
    counter c = {&b->v, NULL, b->n_labels, 0, b->template_ev, b->llr};
    size_t n = sim_tokenize(&b->v, r, 1, count_token, &c);
    free(r);
    return n;
}

static double train_accuracy(build *b, double scale, double ref_extra)
{
    size_t L = b->n_labels, right = 0;
    double *ev = slm_xcalloc(L, sizeof(double));
    for (size_t r = 0; r < b->ds->n; r++) {
        memset(ev, 0, L * sizeof *ev);
        counter c = {&b->v, NULL, L, 0, ev, b->llr};
        size_t n = sim_tokenize(&b->v, b->ds->rows[r].text, 1, count_token, &c);
        size_t best = 0;
        double bv = -1e300;
        for (size_t l = 0; l < L; l++) {
            double s = scale * ev[l] / ((double)n + ref_extra) + b->log_prior[l];
            if (s > bv) {
                bv = s;
                best = l;
            }
        }
        right += (int)best == b->row_label[r];
    }
    free(ev);
    return b->ds->n ? (double)right / (double)b->ds->n : 0;
}

static int add2(build *b, const char *name, size_t ne0, size_t ne1, float *data, int type,
                char *err, size_t errlen)
{
    uint64_t ne[2] = {ne0, ne1};
    return slm_gguf_add_tensor(b->w, name, (uint32_t)type, ne1 ? 2 : 1, ne, data, err, errlen);
}

/* The demo model's layout (see demo_layout) and the numbers its weights are made of. */
typedef struct layout {
    size_t L, W, V;           /* labels, word features, tokens */
    size_t d_bias, d_word, d_other, d_stop, d_nostop, d_bos, d_label;
    size_t D, FF, head_dim, n_head;
    double a, bs, c;          /* the embedding's word, stop and bias entries */
    size_t n_tmpl;            /* the prompt template's tokens */
    double ref_len, scale;
    int wt;                   /* weight type */
} layout;

static void demo_layout(const build *b, const slm_factory_opts *o, size_t n_tmpl,
                        double mean_text_tokens, layout *y)
{
    y->L = b->n_labels;
    y->W = b->n_words;
    y->V = b->v.n;
    /* Dimensions. Quantization shares one scale per block of a weight row (32 values, or
     * 256 for K-quants) and also quantizes the activations a matrix reads in blocks, so
     * values of very different size must not share a 256-block: the label dimensions (the
     * small averaged evidence) get blocks of their own, apart from the embeddings' large
     * entries; the bias, read by the head with the margin, sits in another block than the
     * label dimensions; BOS's cancellation entry in the value rows sits last, next to the
     * rarest words only. */
    y->d_bias = 0;
    y->d_word = 1;
    y->d_other = y->d_word + y->W;
    y->d_stop = y->d_other + 1;
    y->d_nostop = y->d_other + 2;
    y->d_bos = y->d_other + 3;
    y->d_label = round_up(y->d_bos + 1, 256);
    y->D = y->d_label + round_up(y->L, 256);
    y->FF = round_up(o->n_ff ? (size_t)o->n_ff : y->D, 256);
    y->head_dim = 128 <= y->D ? 128 : y->D;
    y->n_head = y->D / y->head_dim;
    /* Every embedding has squared norm D (RMS 1), so RMSNorm is the identity on it. */
    y->a = sqrt((double)y->D / 2);
    y->bs = sqrt((double)y->D / 4);
    y->c = sqrt((double)y->D / 4);
    y->n_tmpl = n_tmpl;
    y->ref_len = o->ref_len > 0 ? o->ref_len : 1.0 + (double)n_tmpl + mean_text_tokens;
    y->scale = y->ref_len / o->temperature;
    y->wt = o->f16 ? SLM_GGUF_TYPE_F16 : SLM_GGUF_TYPE_F32;
}

static void demo_keys(build *b, const slm_factory_opts *o, const layout *y)
{
    slm_gguf_writer *w = b->w;
    slm_gguf_set_str(w, "general.architecture", "llama");
    slm_gguf_set_str(w, "general.name", o->name ? o->name : "slm-demo-nb");
    slm_gguf_set_u32(w, "general.file_type", o->f16 ? 1 : 0);
    slm_gguf_set_str(w, "general.description",
                     "slmbench demo model: a naive Bayes bag-of-words classifier as llama weights");
    slm_gguf_set_u32(w, "llama.context_length", (uint32_t)o->n_ctx);
    slm_gguf_set_u32(w, "llama.embedding_length", (uint32_t)y->D);
    slm_gguf_set_u32(w, "llama.block_count", (uint32_t)o->n_layers);
    slm_gguf_set_u32(w, "llama.feed_forward_length", (uint32_t)y->FF);
    slm_gguf_set_u32(w, "llama.attention.head_count", (uint32_t)y->n_head);
    slm_gguf_set_u32(w, "llama.attention.head_count_kv", (uint32_t)y->n_head);
    slm_gguf_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    slm_gguf_set_u32(w, "llama.rope.dimension_count", (uint32_t)y->head_dim);
    slm_gguf_set_f32(w, "llama.rope.freq_base", 10000.0f);
    slm_gguf_set_u32(w, "llama.vocab_size", (uint32_t)y->V);
    slm_gguf_set_str(w, "tokenizer.ggml.model", "llama");
    slm_gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)b->v.text, y->V);
    slm_gguf_set_arr_f32(w, "tokenizer.ggml.scores", b->v.score, y->V);
    slm_gguf_set_arr_i32(w, "tokenizer.ggml.token_type", b->v.type, y->V);
    slm_gguf_set_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    slm_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    slm_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
    slm_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", 1);
    slm_gguf_set_bool(w, "tokenizer.ggml.add_eos_token", 0);
    slm_gguf_set_bool(w, "tokenizer.ggml.add_space_prefix", 1);
    if (!o->chat_template || o->chat_template[0])
        slm_gguf_set_str(w, "tokenizer.chat_template",
                         o->chat_template ? o->chat_template : CHATML_TEMPLATE);
    slm_gguf_set_u32(w, "slmbench.factory.vocab_words", (uint32_t)y->W);
    slm_gguf_set_f32(w, "slmbench.factory.alpha", (float)o->alpha);
    slm_gguf_set_f32(w, "slmbench.factory.temperature", (float)o->temperature);
    slm_gguf_set_f32(w, "slmbench.factory.ref_len", (float)y->ref_len);
    slm_gguf_set_str(w, "slmbench.factory.train_sha256", b->ds->sha256);
    slm_gguf_set_arr_str(w, "slmbench.factory.labels", (const char *const *)b->labels, y->L);
}

/* Token embeddings, the output norm and the head. */
static int demo_ends(build *b, const slm_factory_opts *o, const layout *y, char *err,
                     size_t errlen)
{
    const size_t D = y->D, V = y->V;
    float *emb = zeros(D * V);
    for (size_t t = 0; t < V; t++) {
        float *e = emb + t * D;
        size_t id = b->v.word[t] >= 0 ? y->d_word + (size_t)b->v.word[t]
                    : t == 1          ? y->d_bos
                                      : y->d_other;
        e[id] = (float)y->a;
        e[y->d_bias] = (float)y->c;
        e[b->v.label[t] >= 0 ? y->d_stop : y->d_nostop] = (float)y->bs;
    }
    if (add2(b, "token_embd.weight", D, V, emb, y->wt, err, errlen))
        return -1;
    float *onorm = zeros(D);
    for (size_t i = 0; i < D; i++)
        onorm[i] = 1.0f;
    if (add2(b, "output_norm.weight", D, 0, onorm, SLM_GGUF_TYPE_F32, err, errlen))
        return -1;
    /* Head [D, V]: only label tokens and </s> read the residual. */
    float *head = zeros(D * V);
    for (size_t t = 0; t < V; t++) {
        int l = b->v.label[t];
        if (l < 0)
            continue;
        float *row = head + t * D;
        row[y->d_label + (size_t)l] = (float)y->scale;
        row[y->d_bias] = (float)((LABEL_MARGIN + b->log_prior[l]) / y->c);
    }
    if (!o->no_stop)
        head[2 * D + y->d_stop] = (float)(STOP_LOGIT / y->bs);
    return add2(b, "output.weight", D, V, head, y->wt, err, errlen);
}

static float *ones(size_t n)
{
    float *v = zeros(n);
    for (size_t i = 0; i < n; i++)
        v[i] = 1.0f;
    return v;
}

/* One transformer block: only layer 0's attention computes (the evidence); the others,
 * and every feed-forward network, are zero and add compute only. */
static int demo_layer(build *b, const layout *y, int layer, char *err, size_t errlen)
{
    const size_t D = y->D, FF = y->FF, L = y->L;
    float *wv = zeros(D * D), *wo = zeros(D * D);
    if (layer == 0) {
        /* Value row (output dim) d_label+l reads every word's evidence for label l and
         * the BOS token's cancellation of the template. */
        for (size_t l = 0; l < L; l++) {
            float *row = wv + (y->d_label + l) * D;
            for (size_t i = 0; i < y->W; i++)
                row[y->d_word + i] = (float)(b->llr[i * L + l] / y->a);
            row[y->d_bos] = (float)(-b->template_ev[l] / y->a);
            wo[(y->d_label + l) * D + y->d_label + l] = 1.0f;
        }
    }
    struct {
        const char *name;
        size_t ne0, ne1;
        float *data;
        int type;
    } t[] = {
        {"attn_norm.weight", D, 0, ones(D), SLM_GGUF_TYPE_F32},
        {"attn_q.weight", D, D, zeros(D * D), y->wt},
        {"attn_k.weight", D, D, zeros(D * D), y->wt},
        {"attn_v.weight", D, D, wv, y->wt},
        {"attn_output.weight", D, D, wo, y->wt},
        {"ffn_norm.weight", D, 0, ones(D), SLM_GGUF_TYPE_F32},
        {"ffn_gate.weight", D, FF, zeros(D * FF), y->wt},
        {"ffn_down.weight", FF, D, zeros(D * FF), y->wt},
        {"ffn_up.weight", D, FF, zeros(D * FF), y->wt},
    };
    const size_t n = sizeof t / sizeof t[0];
    for (size_t i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%d.%s", layer, t[i].name);
        if (add2(b, name, t[i].ne0, t[i].ne1, t[i].data, t[i].type, err, errlen)) {
            for (size_t j = i + 1; j < n; j++) /* add2 took the failed one's data */
                free(t[j].data);
            return -1;
        }
    }
    return 0;
}

static void demo_report(build *b, const slm_factory_opts *o, const layout *y,
                        slm_factory_report *rep)
{
    struct stat st;
    const size_t D = y->D, FF = y->FF;
    rep->train_rows = b->ds->n;
    rep->n_words = y->W;
    rep->n_tokens = y->V;
    rep->n_embd = D;
    rep->n_ff = FF;
    rep->n_layers = (size_t)o->n_layers;
    rep->n_params = (uint64_t)D * y->V * 2 + D +
                    (uint64_t)o->n_layers * (4 * D * D + 3 * D * FF + 2 * D);
    rep->file_size = stat(o->out_path, &st) == 0 ? (uint64_t)st.st_size : 0;
    rep->ref_len = y->ref_len;
    rep->head_scale = y->scale;
    rep->n_template_tokens = y->n_tmpl;
    rep->train_accuracy = train_accuracy(b, y->scale, 1.0 + (double)y->n_tmpl);
    rep->labels = b->labels;
    rep->n_labels = y->L;
    snprintf(rep->arch, sizeof rep->arch, "llama");
    b->labels = NULL;
    b->n_labels = 0;
}

int slm_model_make(const slm_factory_opts *o, slm_factory_report *rep, char *err,
                   size_t errlen)
{
    if (rep)
        memset(rep, 0, sizeof *rep);
    if (check_opts(o, err, errlen))
        return -1;
    if (o->tokenizer_gguf || o->shape)
        return slm_model_make_real(o, rep, err, errlen);
    build b = {0};
    int rc = -1;
    if (slm_dataset_load(o->train_path, NULL, &b.ds, err, errlen))
        return -1;
    if (setup_labels(&b, o, err, errlen))
        goto done;
    select_words(&b, o->vocab_words);
    build_vocab(&b, o);
    double mean_text_tokens;
    train_nb(&b, o, &mean_text_tokens);
    size_t n_tmpl = template_evidence(&b, o);
    layout y;
    demo_layout(&b, o, n_tmpl, mean_text_tokens, &y);
    b.w = slm_gguf_writer_new();
    demo_keys(&b, o, &y);
    if (demo_ends(&b, o, &y, err, errlen))
        goto done;
    for (int layer = 0; layer < o->n_layers; layer++)
        if (demo_layer(&b, &y, layer, err, errlen))
            goto done;
    if (slm_gguf_writer_write(b.w, o->out_path, err, errlen))
        goto done;
    if (rep)
        demo_report(&b, o, &y, rep);
    rc = 0;
done:
    build_free(&b);
    return rc;
}
