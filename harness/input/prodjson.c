/* prodjson.c — see prodjson.h. */
#include "prodjson.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void slm_pj_clear(slm_pj_row *row)
{
    row->n = row->n_sub = 0;
}

slm_pj_field *slm_pj_add(slm_pj_row *row, int sub)
{
    slm_pj_field **a = sub ? &row->sub : &row->f;
    size_t *n = sub ? &row->n_sub : &row->n, *cap = sub ? &row->cap_sub : &row->cap;
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        *a = slm_xrealloc(*a, *cap * sizeof **a);
    }
    slm_pj_field *f = &(*a)[(*n)++];
    memset(f, 0, sizeof *f);
    return f;
}

void slm_pj_free(slm_pj_row *row)
{
    free(row->f);
    free(row->sub);
    free(row->arena);
    memset(row, 0, sizeof *row);
}

typedef struct cursor {
    const char *p, *e;
    char *out; /* the arena's next free byte */
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->e && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char h = p[i];
        unsigned d = h >= '0' && h <= '9'   ? (unsigned)(h - '0')
                     : h >= 'a' && h <= 'f' ? (unsigned)(h - 'a' + 10)
                     : h >= 'A' && h <= 'F' ? (unsigned)(h - 'A' + 10)
                                            : 16u;
        if (d == 16)
            return -1;
        *v = *v * 16 + d;
    }
    return 0;
}

static void put_utf8(cursor *c, unsigned cp)
{
    if (cp < 0x80) {
        *c->out++ = (char)cp;
    } else if (cp < 0x800) {
        *c->out++ = (char)(0xC0 | cp >> 6);
        *c->out++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *c->out++ = (char)(0xE0 | cp >> 12);
        *c->out++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *c->out++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *c->out++ = (char)(0xF0 | cp >> 18);
        *c->out++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *c->out++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *c->out++ = (char)(0x80 | (cp & 0x3F));
    }
}

/* \uXXXX (c->p just past the 'u'), a surrogate pair taken whole: 0, or -1 (\u0000, a lone
 * surrogate, bad hex). The UTF-8 written is never longer than the escape read. */
static int unicode_escape(cursor *c)
{
    unsigned cp, lo;
    if (c->e - c->p < 4 || hex4(c->p, &cp) || cp == 0)
        return -1;
    c->p += 4;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return -1;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (c->e - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' || hex4(c->p + 2, &lo) ||
            lo < 0xDC00 || lo > 0xDFFF)
            return -1;
        c->p += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    put_utf8(c, cp);
    return 0;
}

/* A string (c->p at its opening quote) decoded into the arena: 0 with *s, *n, or -1. The
 * line's UTF-8 was checked before (prodlog.c's line_fault). */
static int string(cursor *c, const char **s, size_t *n)
{
    c->p++;
    char *start = c->out;
    for (;;) {
        const char *q = c->p;
        while (q < c->e && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
            q++;
        memcpy(c->out, c->p, (size_t)(q - c->p));
        c->out += q - c->p;
        c->p = q;
        if (q == c->e || (unsigned char)*q < 0x20)
            return -1;
        c->p++;
        if (*q == '"')
            break;
        if (c->p == c->e)
            return -1;
        char x = *c->p++;
        static const char FROM[] = "\"\\/bfnrt", TO[] = "\"\\/\b\f\n\r\t";
        const char *k = x ? strchr(FROM, x) : NULL;
        if (k)
            *c->out++ = TO[k - FROM];
        else if (x != 'u' || unicode_escape(c))
            return -1;
    }
    *s = start;
    *n = (size_t)(c->out - start);
    *c->out++ = 0;
    return 0;
}

static int is_digit(const cursor *c)
{
    return c->p < c->e && *c->p >= '0' && *c->p <= '9';
}

/* A number by JSON's grammar: an integer of up to 18 digits, or a real read by strtod on
 * the token (exactly the double jansson gives); -1 for anything else. */
static int number(cursor *c, slm_pj_val *v)
{
    const char *start = c->p;
    int real = 0;
    if (c->p < c->e && *c->p == '-')
        c->p++;
    if (!is_digit(c))
        return -1;
    if (*c->p == '0')
        c->p++;
    else
        while (is_digit(c))
            c->p++;
    if (c->p < c->e && *c->p == '.') {
        c->p++, real = 1;
        if (!is_digit(c))
            return -1;
        while (is_digit(c))
            c->p++;
    }
    if (c->p < c->e && (*c->p == 'e' || *c->p == 'E')) {
        c->p++, real = 1;
        if (c->p < c->e && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (!is_digit(c))
            return -1;
        while (is_digit(c))
            c->p++;
    }
    char *end;
    errno = 0;
    if (!real) {
        if (c->p - start - (*start == '-') > 18)
            return -1;
        v->kind = SLM_PJ_INT;
        v->i = strtoll(start, &end, 10);
        v->num = (double)v->i;
    } else {
        v->kind = SLM_PJ_REAL;
        v->num = strtod(start, &end);
        if (errno == ERANGE && isinf(v->num))
            return -1;
    }
    return end == c->p ? 0 : -1;
}

static int literal(cursor *c, const char *word, int kind, slm_pj_val *v)
{
    size_t n = strlen(word);
    if ((size_t)(c->e - c->p) < n || memcmp(c->p, word, n))
        return -1;
    c->p += n;
    v->kind = kind;
    return 0;
}

/* A scalar value: string, number, true, false, null. */
static int scalar(cursor *c, slm_pj_val *v)
{
    if (c->p == c->e)
        return -1;
    switch (*c->p) {
    case '"':
        v->kind = SLM_PJ_STR;
        return string(c, &v->s, &v->n);
    case 't':
        return literal(c, "true", SLM_PJ_TRUE, v);
    case 'f':
        return literal(c, "false", SLM_PJ_FALSE, v);
    case 'n':
        return literal(c, "null", SLM_PJ_NULL, v);
    default:
        return number(c, v);
    }
}

/* Whether a key of f[0..n) repeats. */
static int has_duplicate(const slm_pj_field *f, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t k = 0; k < i; k++)
            if (f[i].key[0] == f[k].key[0] && !strcmp(f[i].key, f[k].key))
                return 1;
    return 0;
}

/* The members of an object (c->p at '{'): into row's fields, or its nested entries when
 * nested (numbers only there). */
static int members(cursor *c, slm_pj_row *row, int nested)
{
    c->p++;
    skip_ws(c);
    if (c->p < c->e && *c->p == '}') {
        c->p++;
        return 0;
    }
    for (;;) {
        if (c->p == c->e || *c->p != '"' || (nested ? row->n_sub : row->n) >= SLM_PJ_FAST_FIELDS)
            return -1;
        slm_pj_field *f = slm_pj_add(row, nested);
        size_t kn;
        if (string(c, &f->key, &kn))
            return -1;
        skip_ws(c);
        if (c->p == c->e || *c->p != ':')
            return -1;
        c->p++;
        skip_ws(c);
        if (c->p < c->e && *c->p == '{' && !nested && !strcmp(f->key, "probs")) {
            f->v.kind = SLM_PJ_OBJ;
            f->v.first = row->n_sub;
            if (members(c, row, 1))
                return -1;
            f = &row->f[row->n - 1]; /* the fields did not move, but be plain about it */
            f->v.count = row->n_sub - f->v.first;
        } else if (scalar(c, &f->v) ||
                   (nested && f->v.kind != SLM_PJ_INT && f->v.kind != SLM_PJ_REAL)) {
            return -1;
        }
        skip_ws(c);
        if (c->p < c->e && *c->p == ',') {
            c->p++;
            skip_ws(c);
            continue;
        }
        if (c->p < c->e && *c->p == '}') {
            c->p++;
            return 0;
        }
        return -1;
    }
}

int slm_pj_parse(slm_pj_row *row, const char *line, size_t len)
{
    slm_pj_clear(row);
    if (row->arena_cap < len + 1) {
        free(row->arena);
        row->arena_cap = len + 1 > 4096 ? len + 1 : 4096;
        row->arena = slm_xmalloc(row->arena_cap);
    }
    cursor c = {line, line + len, row->arena};
    skip_ws(&c);
    if (c.p == c.e || *c.p != '{' || members(&c, row, 0))
        return -1;
    skip_ws(&c);
    if (c.p != c.e || has_duplicate(row->f, row->n))
        return -1;
    for (size_t i = 0; i < row->n; i++)
        if (row->f[i].v.kind == SLM_PJ_OBJ &&
            has_duplicate(row->sub + row->f[i].v.first, row->f[i].v.count))
            return -1;
    return 0;
}
