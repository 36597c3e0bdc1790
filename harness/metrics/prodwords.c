/*
 * prodwords.c — word map, tokeniser and OOV accumulator (prodwords.h).
 *
 * The map: words stored densely in insertion order (key bytes, length, count, hash) and
 * an open-addressing index of slot numbers (linear probing, power-of-two capacity, at
 * most half full), FNV-1a hashes.
 */
#include "prodwords.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct word_entry {
    char *key;
    size_t len;
    long count;
    uint64_t hash;
} word_entry;

struct slm_wordmap {
    word_entry *e;     /* [n], insertion order */
    size_t n, cap_e;
    size_t *index;     /* [cap]: 0 empty, else entry number + 1 */
    uint64_t *ihash;   /* [cap]: the hash of the entry there (no trip to e[] on a miss) */
    size_t cap;
    long total;
};

static uint64_t fnv1a(const char *s, size_t len)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

slm_wordmap *slm_wordmap_new(void)
{
    slm_wordmap *m = slm_xcalloc(1, sizeof *m);
    m->cap = 64;
    m->index = slm_xcalloc(m->cap, sizeof *m->index);
    m->ihash = slm_xcalloc(m->cap, sizeof *m->ihash);
    return m;
}

void slm_wordmap_free(slm_wordmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->e[i].key);
    free(m->e);
    free(m->index);
    free(m->ihash);
    free(m);
}

/* The index slot holding the word, or the empty slot where it would go. */
static size_t find_slot(const slm_wordmap *m, const char *w, size_t len, uint64_t h)
{
    size_t mask = m->cap - 1, s = (size_t)h & mask;
    while (m->index[s]) {
        if (m->ihash[s] == h) {
            const word_entry *e = &m->e[m->index[s] - 1];
            if (e->len == len && memcmp(e->key, w, len) == 0)
                return s;
        }
        s = (s + 1) & mask;
    }
    return s;
}

static void grow(slm_wordmap *m)
{
    free(m->index);
    free(m->ihash);
    m->cap *= 2;
    m->index = slm_xcalloc(m->cap, sizeof *m->index);
    m->ihash = slm_xcalloc(m->cap, sizeof *m->ihash);
    for (size_t i = 0; i < m->n; i++) {
        size_t s = find_slot(m, m->e[i].key, m->e[i].len, m->e[i].hash);
        m->index[s] = i + 1;
        m->ihash[s] = m->e[i].hash;
    }
}

static long add_hashed(slm_wordmap *m, const char *word, size_t len, long count, uint64_t h)
{
    size_t s = find_slot(m, word, len, h);
    m->total += count;
    if (m->index[s])
        return m->e[m->index[s] - 1].count += count;
    if (m->n == m->cap_e) {
        m->cap_e = m->cap_e ? 2 * m->cap_e : 64;
        m->e = slm_xrealloc(m->e, m->cap_e * sizeof *m->e);
    }
    word_entry *e = &m->e[m->n];
    e->key = slm_xmalloc(len + 1);
    memcpy(e->key, word, len);
    e->key[len] = '\0';
    e->len = len, e->count = count, e->hash = h;
    m->index[s] = ++m->n;
    m->ihash[s] = h;
    if (2 * m->n > m->cap)
        grow(m);
    return count;
}

long slm_wordmap_add(slm_wordmap *m, const char *word, size_t len, long count)
{
    return add_hashed(m, word, len, count, fnv1a(word, len));
}

static long get_hashed(const slm_wordmap *m, const char *word, size_t len, uint64_t h)
{
    if (!m)
        return 0;
    size_t s = find_slot(m, word, len, h);
    return m->index[s] ? m->e[m->index[s] - 1].count : 0;
}

long slm_wordmap_get(const slm_wordmap *m, const char *word, size_t len)
{
    return get_hashed(m, word, len, fnv1a(word, len));
}

size_t slm_wordmap_size(const slm_wordmap *m)
{
    return m ? m->n : 0;
}

long slm_wordmap_total(const slm_wordmap *m)
{
    return m ? m->total : 0;
}

const char *slm_wordmap_at(const slm_wordmap *m, size_t i, size_t *len, long *count)
{
    *len = m->e[i].len;
    *count = m->e[i].count;
    return m->e[i].key;
}

/* ---- tokeniser ------------------------------------------------------------------- */

static int word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c >= 0x80;
}

typedef struct span {
    const char *w;
    size_t len;
} span;

/* The words of text, lower-cased, into *buf (caller frees) and their spans into *sp
 * (caller frees); returns their number. */
static long tokenize(const char *text, char **buf, span **sp)
{
    size_t n = strlen(text);
    char *out = slm_xmalloc(n + 1), *o = out;
    span *w = slm_xmalloc((n / 2 + 1) * sizeof *w); /* a word and a separator each */
    long words = 0;
    for (size_t i = 0; i < n;) {
        if (!word_byte((unsigned char)text[i])) {
            i++;
            continue;
        }
        w[words].w = o;
        while (i < n && word_byte((unsigned char)text[i])) {
            char c = text[i++];
            *o++ = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        w[words].len = (size_t)(o - w[words].w);
        words++;
    }
    *buf = out;
    *sp = w;
    return words;
}

long slm_words_add_text(slm_wordmap *m, const char *text)
{
    if (!text)
        return 0;
    char *buf;
    span *w;
    long words = tokenize(text, &buf, &w);
    for (long i = 0; i < words; i++)
        slm_wordmap_add(m, w[i].w, w[i].len, 1);
    free(buf);
    free(w);
    return words;
}

/* ---- OOV accumulator ------------------------------------------------------------- */

void slm_prod_words_init(slm_prod_words *w)
{
    memset(w, 0, sizeof *w);
    w->seen = slm_wordmap_new();
}

void slm_prod_words_free(slm_prod_words *w)
{
    if (!w)
        return;
    slm_wordmap_free(w->seen);
    w->seen = NULL;
}

static int span_cmp(const void *x, const void *y)
{
    const span *a = x, *b = y;
    int c = memcmp(a->w, b->w, a->len < b->len ? a->len : b->len);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Sorts a ticket's words so equal words stand together: insertion sort for the usual
 * few, qsort beyond. */
static void sort_spans(span *w, long t)
{
    if (t > 24) {
        qsort(w, (size_t)t, sizeof *w, span_cmp);
        return;
    }
    for (long i = 1; i < t; i++)
        for (long j = i; j > 0 && span_cmp(&w[j - 1], &w[j]) > 0; j--) {
            span x = w[j];
            w[j] = w[j - 1];
            w[j - 1] = x;
        }
}

void slm_prod_words_add(slm_prod_words *w, const slm_wordmap *vocab, const char *text, int loo)
{
    if (!text)
        return;
    char *buf;
    span *word;
    long t = tokenize(text, &buf, &word), o = 0;
    sort_spans(word, t);
    /* a word's count in this ticket is the length of its run */
    for (long i = 0, j; i < t; i = j) {
        for (j = i + 1; j < t && span_cmp(&word[j], &word[i]) == 0;)
            j++;
        uint64_t h = fnv1a(word[i].w, word[i].len);
        long c = j - i, v = get_hashed(vocab, word[i].w, word[i].len, h);
        if (loo ? v <= c : v == 0)
            o += c;
        add_hashed(w->seen, word[i].w, word[i].len, c, h);
    }
    free(word);
    free(buf);
    w->tickets++;
    w->tokens += t, w->oov += o;
    w->s_oo += (double)o * (double)o;
    w->s_ot += (double)o * (double)t;
    w->s_tt += (double)t * (double)t;
}

void slm_prod_words_rate(const slm_prod_words *w, double *rate, double *se)
{
    *rate = *se = NAN;
    if (w->tokens <= 0)
        return;
    double T = (double)w->tokens, r = (double)w->oov / T;
    double v = (w->s_oo - 2 * r * w->s_ot + r * r * w->s_tt) / (T * T);
    *rate = r;
    *se = sqrt(v > 0 ? v : 0);
}
