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

long slm_wordmap_add(slm_wordmap *m, const char *word, size_t len, long count)
{
    uint64_t h = fnv1a(word, len);
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

long slm_wordmap_get(const slm_wordmap *m, const char *word, size_t len)
{
    if (!m)
        return 0;
    size_t s = find_slot(m, word, len, fnv1a(word, len));
    return m->index[s] ? m->e[m->index[s] - 1].count : 0;
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

/* The words of text, lower-cased, into a growing buffer of NUL-separated words;
 * returns their number and sets *buf (caller frees). */
static long tokenize(const char *text, char **buf)
{
    size_t n = strlen(text);
    char *out = slm_xmalloc(n + 1), *o = out;
    long words = 0;
    for (size_t i = 0; i < n;) {
        if (!word_byte((unsigned char)text[i])) {
            i++;
            continue;
        }
        while (i < n && word_byte((unsigned char)text[i])) {
            char c = text[i++];
            *o++ = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        *o++ = '\0';
        words++;
    }
    *buf = out;
    return words;
}

long slm_words_add_text(slm_wordmap *m, const char *text)
{
    if (!text)
        return 0;
    char *buf;
    long words = tokenize(text, &buf);
    const char *w = buf;
    for (long i = 0; i < words; i++) {
        size_t len = strlen(w);
        slm_wordmap_add(m, w, len, 1);
        w += len + 1;
    }
    free(buf);
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

static int str_cmp(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

void slm_prod_words_add(slm_prod_words *w, const slm_wordmap *vocab, const char *text, int loo)
{
    if (!text)
        return;
    /* the ticket's words sorted, so equal words stand together: their count in this
     * ticket is the length of their run */
    char *buf;
    long t = tokenize(text, &buf), o = 0;
    const char **word = slm_xmalloc((size_t)(t ? t : 1) * sizeof *word);
    const char *at = buf;
    for (long i = 0; i < t; i++, at += strlen(at) + 1)
        word[i] = at;
    if (t > 24)
        qsort(word, (size_t)t, sizeof *word, str_cmp);
    else /* a ticket's few words: insertion sort, no call per comparison */
        for (long i = 1; i < t; i++)
            for (long j = i; j > 0 && strcmp(word[j - 1], word[j]) > 0; j--) {
                const char *x = word[j];
                word[j] = word[j - 1];
                word[j - 1] = x;
            }
    for (long i = 0, j; i < t; i = j) {
        for (j = i + 1; j < t && strcmp(word[j], word[i]) == 0;)
            j++;
        size_t len = strlen(word[i]);
        long c = j - i, v = slm_wordmap_get(vocab, word[i], len);
        if (loo ? v <= c : v == 0)
            o += c;
        slm_wordmap_add(w->seen, word[i], len, c);
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
