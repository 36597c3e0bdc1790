/*
 * slm_plugin.h — the helpers an engine plugin needs besides the ABI (slm_engine.h): option
 * lookup, error messages, allocation that reports exhaustion instead of aborting, a
 * growable buffer, result_free() for plain malloc()ed results, and a few parsers.
 *
 * With these two headers a third party builds an engine without slmbench's sources:
 *
 *     cc -shared -fPIC -I<slmbench>/engines myengine.c -o myengine.so
 *
 * Plain C11 (no POSIX needed). Everything here is static inline, so it is compiled into
 * the plugin: memory is freed by the side that allocated it, and the plugin links
 * nothing of the harness.
 *
 * Out of memory is an error of the call, never an abort: the allocators return NULL, the
 * buffer remembers that an append failed, and a slot returns slm_plugin_oom(err, errlen)
 * ("out of memory", -1), so the harness fails that candidate and goes on with the others.
 *
 * Test builds (-DSLM_PLUGIN_FAULTS) read SLM_PLUGIN_FAIL_ALLOC=N from the environment and
 * fail the plugin's Nth allocation, once, to exercise those paths.
 */
#ifndef SLM_PLUGIN_H
#define SLM_PLUGIN_H

#include "slm_engine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define SLM_PLUGIN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SLM_PLUGIN_PRINTF(a, b)
#endif

/* A size for err buffers inside a plugin (the harness passes at least this much). */
#define SLM_PLUGIN_ERRLEN 1024
#define SLM_PLUGIN_OOM_MSG "out of memory"

/* ---- errors ------------------------------------------------------------------------- */

/* Formats a one-line message into err (if err and errlen) and returns -1, so a slot
 * writes `return slm_plugin_err(err, errlen, "cannot open '%s'", path)`. */
static inline int slm_plugin_err(char *err, size_t errlen, const char *fmt, ...)
    SLM_PLUGIN_PRINTF(3, 4);
static inline int slm_plugin_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The error of a failed allocation: "out of memory", -1. */
static inline int slm_plugin_oom(char *err, size_t errlen)
{
    return slm_plugin_err(err, errlen, "%s", SLM_PLUGIN_OOM_MSG);
}

/* ---- allocation: NULL on exhaustion, never abort ------------------------------------- */

#ifdef SLM_PLUGIN_FAULTS
/* Nonzero for the Nth allocation of the plugin (SLM_PLUGIN_FAIL_ALLOC=N), once. */
static inline int slm_plugin_fault_(void)
{
    static long fail_at = -1, count;
    if (fail_at < 0) {
        const char *s = getenv("SLM_PLUGIN_FAIL_ALLOC");
        fail_at = s && *s ? atol(s) : 0;
    }
    return fail_at > 0 && __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED) == fail_at;
}
#else
#define slm_plugin_fault_() 0
#endif

static inline void *slm_plugin_malloc(size_t n)
{
    return slm_plugin_fault_() ? NULL : malloc(n ? n : 1);
}

static inline void *slm_plugin_calloc(size_t n, size_t size)
{
    return slm_plugin_fault_() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

/* On failure p is left as it was (still owned by the caller). */
static inline void *slm_plugin_realloc(void *p, size_t n)
{
    return slm_plugin_fault_() ? NULL : realloc(p, n ? n : 1);
}

static inline char *slm_plugin_strndup(const char *s, size_t n)
{
    size_t l = 0;
    while (l < n && s[l]) /* strnlen is POSIX, not C11 */
        l++;
    char *d = slm_plugin_malloc(l + 1);
    if (d) {
        memcpy(d, s, l);
        d[l] = '\0';
    }
    return d;
}

static inline char *slm_plugin_strdup(const char *s)
{
    return slm_plugin_strndup(s, strlen(s));
}

/* ---- a growable, NUL-terminated byte string ------------------------------------------ */

/* Zero-initialise ({0}). After a failed append, oom stays set, further appends do nothing
 * and slm_plugin_buf_take() returns NULL: check once, at the end. */
typedef struct slm_plugin_buf {
    char *data;
    size_t len;
    size_t cap;
    int oom;
} slm_plugin_buf;

/* Makes room for n more bytes and the NUL after them; 0, or -1 when out of memory. Unlike
 * a failed append, a failed reserve leaves b as it was and usable (oom not set), for a
 * caller that reads into data + len and can try again later. */
static inline int slm_plugin_buf_reserve(slm_plugin_buf *b, size_t n)
{
    if (b->len + n + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *d = slm_plugin_realloc(b->data, cap);
    if (!d)
        return -1;
    b->data = d;
    b->cap = cap;
    return 0;
}

/* Appends data[0..n); 0, or -1 when out of memory. */
static inline int slm_plugin_buf_append(slm_plugin_buf *b, const void *data, size_t n)
{
    if (b->oom)
        return -1;
    if (slm_plugin_buf_reserve(b, n)) {
        b->oom = 1;
        return -1;
    }
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static inline int slm_plugin_buf_printf(slm_plugin_buf *b, const char *fmt, ...)
    SLM_PLUGIN_PRINTF(2, 3);
static inline int slm_plugin_buf_printf(slm_plugin_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof small)
        return slm_plugin_buf_append(b, small, (size_t)n);
    char *big = slm_plugin_malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = slm_plugin_buf_append(b, big, (size_t)n);
    free(big);
    return rc;
}

static inline void slm_plugin_buf_free(slm_plugin_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

/* The content (caller frees; "" when empty), leaving b empty; NULL when an append failed
 * or memory ran out here (b is freed either way). */
static inline char *slm_plugin_buf_take(slm_plugin_buf *b)
{
    char *d = b->oom ? NULL : b->data;
    if (b->oom)
        free(b->data);
    else if (!d)
        d = slm_plugin_strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
    return d;
}

/* A new formatted string (caller frees), or NULL when out of memory. */
static inline char *slm_plugin_asprintf(const char *fmt, ...) SLM_PLUGIN_PRINTF(1, 2);
static inline char *slm_plugin_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *d = n < 0 ? NULL : slm_plugin_malloc((size_t)n + 1);
    if (d) {
        va_start(ap, fmt);
        vsnprintf(d, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return d;
}

/* ---- options ------------------------------------------------------------------------- */

/* The value of the first option named key, or NULL when absent. */
static inline const char *slm_plugin_opt(const slm_options *o, const char *key)
{
    for (size_t i = 0; o && i < o->n; i++)
        if (o->items[i].key && o->items[i].value && !strcmp(o->items[i].key, key))
            return o->items[i].value;
    return NULL;
}

/* Edit distance between a and b (both shorter than 64 bytes; longer ones count as far). */
static inline size_t slm_plugin_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64];
    if (la >= 64 || lb >= 64)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The option keys every engine accepts (the well-known keys of slm_engine.h, some of which
 * the harness adds itself: model, threads, n_ctx, vocab_only); an engine that does not use
 * one ignores it. */
static const char *const slm_plugin_common_keys[] = {
    "model", "n_ctx", "threads", "seed", "chat_template", "vocab_only", "n_gpu_layers", NULL};

/* For check_options (1.5): -1 (err: "<engine>: unknown option 'k' (did you mean 'x'?)")
 * when a key is neither in known (NULL-terminated) nor a common key; the suggestion is the
 * nearest key within an edit distance of 2, or a third of the key's length, or a key that
 * starts with the given one (or the reverse, 3 bytes at least). */
static inline int slm_plugin_check_keys(const slm_options *o, const char *const *known,
                                        const char *engine, char *err, size_t errlen)
{
    for (size_t i = 0; o && i < o->n; i++) {
        const char *k = o->items[i].key ? o->items[i].key : "", *near = NULL;
        size_t best = (size_t)-1, lim = strlen(k) / 3 > 2 ? strlen(k) / 3 : 2;
        int found = 0;
        for (int pass = 0; pass < 2 && !found; pass++)
            for (const char *const *c = pass ? slm_plugin_common_keys : known; c && *c; c++) {
                size_t d = slm_plugin_edit_distance(k, *c), m = strlen(*c) < strlen(k)
                                                                   ? strlen(*c) : strlen(k);
                if (d && m >= 3 && !strncmp(k, *c, m))
                    d = 1; /* one is the start of the other: 'delay' for 'delay_ms' */
                found |= d == 0;
                if (d < best)
                    best = d, near = *c;
            }
        if (found)
            continue;
        if (near && best <= lim)
            return slm_plugin_err(err, errlen, "%s: unknown option '%s' (did you mean '%s'?)",
                                  engine, k, near);
        return slm_plugin_err(err, errlen, "%s: unknown option '%s'", engine, k);
    }
    return 0;
}

/* Parse a whole string as a base-10 integer / a number; 0, or -1 (NULL, "", junk, range). */
static inline int slm_plugin_parse_long(const char *s, long *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static inline int slm_plugin_parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* Trims ASCII whitespace at both ends, in place; returns s. */
static inline char *slm_plugin_trim(char *s)
{
    static const char ws[] = " \t\r\n\f\v";
    char *b = s;
    while (*b && strchr(ws, *b))
        b++;
    size_t n = strlen(b);
    while (n && strchr(ws, b[n - 1]))
        n--;
    memmove(s, b, n);
    s[n] = '\0';
    return s;
}

/* ---- results --------------------------------------------------------------------------- */

/* result_free() for engines whose results are plain malloc()ed structs (the struct, and
 * each array in it, allocated separately); NULL-safe. Not inlined: a compiler that sees
 * the allocation of one kind would warn about the other kinds' fields. */
#if defined(__GNUC__)
__attribute__((noinline, unused))
#endif
static void slm_result_free_plain(void *result)
{
    if (!result)
        return;
    slm_result_kind kind = *(slm_result_kind *)result;
    if (kind == SLM_RESULT_SCORE) {
        slm_score_result *s = result;
        free(s->logprob);
        free(s->n_tokens);
    } else if (kind == SLM_RESULT_GENERATE) {
        slm_gen_result *g = result;
        free(g->text);
        free(g->token_logprobs);
    } else if (kind == SLM_RESULT_TOKENS) {
        slm_token_result *t = result;
        for (size_t i = 0; t->pieces && i < t->n; i++)
            free(t->pieces[i]);
        free(t->pieces);
        free(t->ids);
    } else if (kind == SLM_RESULT_TEXT) {
        free(((slm_text_result *)result)->text);
    }
    free(result);
}

#endif /* SLM_PLUGIN_H */
