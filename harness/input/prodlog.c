/* prodlog.c — see prodlog.h. */
#include "prodlog.h"
#include "prodjson.h"
#include "sha256.h"
#include "slm_limits.h"
#include "util.h"

#include <csv.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK = 1 << 20 };

/* The fields a row is made of; everything else goes to tags. */
static const char *const KNOWN[] = {"id",         "ts",    "pred",      "confidence",
                                    "text",       "probs", "latency_ms", "escalated",
                                    "corrected_label", "model"};
#define N_KNOWN (sizeof KNOWN / sizeof KNOWN[0])

/* One probability, checked, into the canonical set. */
typedef struct prob {
    const char *label; /* owned by the parsed row */
    double p;
} prob;

struct slm_prodlog {
    FILE *f;
    char *path;
    int csv;
    slm_sha256 sha;
    char *chunk;
    size_t pos, len;
    int eof;
    const char *lp; /* the current line, without its newline (in chunk or line) */
    size_t ll;
    slm_buf line;   /* a line that spans two chunks, gathered, at most the limit */
    int too_long;   /* the current line went over the limit (the rest was read through) */
    int crlf;
    long lineno;
    /* CSV */
    struct csv_parser p;
    char **header;
    size_t n_cols;
    size_t text_col;         /* the `text` column, kept as written; (size_t)-1 none yet */
    char **cells;   /* the record being parsed */
    size_t n_cells;
    int cells_split; /* the cells point into split (csv_split), not each its own */
    slm_buf split;
    int record_done;
    size_t record_bytes;
    /* the row handed out last */
    int oracle;            /* parse every JSON line with jansson (tests) */
    slm_pj_row pj, pj_probs;
    json_t *obj, *probs_json;
    prob *prob;
    size_t cap_prob;
    const slm_pj_field *tag[SLM_PROD_MAX_TAGS];
    size_t n_tags;
    const slm_pj_val *kv[N_KNOWN]; /* the known fields of the row, NULL: absent */
    slm_buf probs, tags, hashed;
    char id_text[24];
};

/* ---- lines ---- */

static int fill(slm_prodlog *r)
{
    r->len = fread(r->chunk, 1, CHUNK, r->f);
    r->pos = 0;
    if (r->len)
        slm_sha256_update(&r->sha, r->chunk, r->len);
    if (r->len < CHUNK) {
        if (ferror(r->f))
            return -1;
        r->eof = 1;
    }
    return 0;
}

/* The next physical line as r->lp[0..r->ll): in the chunk itself where it lies whole in
 * it (no copy; the newline follows it), else gathered into r->line. 1, 0 at the end, -1
 * on a read error. */
static int next_line(slm_prodlog *r)
{
    r->line.len = 0;
    if (r->line.data)
        r->line.data[0] = 0;
    r->too_long = r->crlf = 0;
    int any = 0, whole = 0;
    for (;;) {
        if (r->pos == r->len) {
            if (r->eof)
                break;
            if (fill(r))
                return -1;
            continue;
        }
        const char *s = r->chunk + r->pos;
        size_t avail = r->len - r->pos;
        const char *nl = memchr(s, '\n', avail);
        size_t n = nl ? (size_t)(nl - s) : avail;
        if (!any && nl) { /* the whole line in the chunk */
            r->lp = s;
            r->ll = n;
            whole = 1;
        } else if (!r->too_long && r->line.len + n <= (size_t)SLM_PROD_MAX_LINE_BYTES + 1) {
            slm_buf_append(&r->line, s, n);
        } else {
            r->too_long = 1;
        }
        any = 1;
        r->pos += n + (nl ? 1 : 0);
        if (nl)
            break;
    }
    if (!any)
        return 0;
    r->lineno++;
    if (!whole) {
        r->lp = r->line.data ? r->line.data : "";
        r->ll = r->line.len;
    }
    if (r->ll && r->lp[r->ll - 1] == '\r') {
        r->crlf = 1;
        r->ll--;
    }
    if (r->ll > (size_t)SLM_PROD_MAX_LINE_BYTES)
        r->too_long = 1;
    return 1;
}

/* A line-level fault of the current line (too long, CRLF, NUL, invalid UTF-8), or 0. */
static int line_fault(slm_prodlog *r, char *err, size_t errlen)
{
    if (r->too_long)
        return slm_err(err, errlen, "%s:%ld: line longer than %ld bytes (the limit)", r->path,
                       r->lineno, (long)SLM_PROD_MAX_LINE_BYTES);
    if (r->crlf)
        return slm_err(err, errlen, "%s:%ld: CRLF line end (lines must end in LF alone)",
                       r->path, r->lineno);
    const char *nul = memchr(r->lp, 0, r->ll);
    if (nul)
        return slm_err(err, errlen, "%s:%ld: NUL byte at column %ld", r->path, r->lineno,
                       (long)(nul - r->lp) + 1);
    long bad = slm_utf8_invalid_at(r->lp, r->ll);
    if (bad >= 0)
        return slm_err(err, errlen, "%s:%ld: invalid UTF-8 at column %ld", r->path, r->lineno,
                       bad + 1);
    return 0;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

/* ---- RFC 3339 ---- */

static int digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, int *y, int *m, int *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long yy = (long long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static int month_days(int y, int m)
{
    static const int DAYS[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return DAYS[m - 1] + (m == 2 && leap);
}

/* The offset part ("Z", "+01:00") into minutes east of UTC. */
static int parse_offset(const char *p, int *minutes)
{
    if ((p[0] == 'Z' || p[0] == 'z') && !p[1]) {
        *minutes = 0;
        return 0;
    }
    int oh, om;
    if ((p[0] != '+' && p[0] != '-') || digits(p + 1, 2, &oh) || p[3] != ':' ||
        digits(p + 4, 2, &om) || p[6] || oh > 23 || om > 59)
        return -1;
    *minutes = (p[0] == '-' ? -1 : 1) * (oh * 60 + om);
    return 0;
}

int slm_rfc3339_utc(const char *s, char out[32], char month[8], char *err, size_t errlen)
{
    int y, mo, d, h, mi, se, ms = 0, off;
    size_t n = strlen(s);
    if (n < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &se))
        return slm_err(err, errlen, "not an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.frac]"
                                    "(Z|+HH:MM))");
    const char *p = s + 19;
    if (*p == '.') {
        int nd = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, nd++)
            if (nd < 3)
                ms = ms * 10 + (*p - '0');
        if (!nd)
            return slm_err(err, errlen, "no digits after the decimal point of the seconds");
        for (; nd < 3; nd++)
            ms *= 10;
    }
    if (parse_offset(p, &off))
        return slm_err(err, errlen, "no valid time zone ('Z' or +HH:MM) at the end");
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || se > 59)
        return slm_err(err, errlen, "date or time out of range");
    long long t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL + h * 3600LL +
                  mi * 60LL + se - off * 60LL;
    long long days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    long long sec = t - days * 86400;
    civil_from_days(days, &y, &mo, &d);
    if (y < 1 || y > 9999)
        return slm_err(err, errlen, "year out of range once in UTC");
    char tmp[96];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d,
             (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60), ms);
    memcpy(out, tmp, 25);
    memcpy(month, tmp, 7);
    month[7] = 0;
    return 0;
}

/* ---- fields ---- */

/* The index of k in KNOWN, or -1 (by its first byte, then one strcmp). */
static int known_index(const char *k)
{
    int i;
    switch (k[0]) {
    case 'i': i = 0; break;
    case 't': i = k[1] == 's' ? 1 : 4; break;
    case 'p': i = k[1] == 'r' && k[2] == 'e' ? 2 : 5; break;
    case 'c': i = k[1] == 'o' && k[2] == 'n' ? 3 : 8; break;
    case 'l': i = 6; break;
    case 'e': i = 7; break;
    case 'm': i = 9; break;
    default: return -1;
    }
    return strcmp(k, KNOWN[i]) ? -1 : i;
}

/* Sorts the row's fields once: the known ones into r->kv, the others into r->tag (the
 * first SLM_PROD_MAX_TAGS; r->n_tags counts them all). */
static void index_fields(slm_prodlog *r, const slm_pj_row *o)
{
    memset(r->kv, 0, sizeof r->kv);
    r->n_tags = 0;
    for (size_t i = 0; i < o->n; i++) {
        int k = known_index(o->f[i].key);
        if (k >= 0)
            r->kv[k] = &o->f[i].v;
        else if (r->n_tags++ < (size_t)SLM_PROD_MAX_TAGS)
            r->tag[r->n_tags - 1] = &o->f[i];
    }
}

static const slm_pj_val *get(const slm_prodlog *r, const char *key)
{
    return r->kv[known_index(key)];
}

static int absent(const slm_pj_val *v)
{
    return !v || v->kind == SLM_PJ_NULL;
}

/* A JSON number, or (CSV, or a JSON string) a decimal text; finite only. */
static int number_of(const slm_pj_val *v, int csv, double *out)
{
    if (v->kind == SLM_PJ_INT || v->kind == SLM_PJ_REAL)
        *out = v->num;
    else if (csv && v->kind == SLM_PJ_STR) {
        char *end;
        errno = 0;
        *out = strtod(v->s, &end);
        if (end == v->s || *end || errno == ERANGE)
            return -1;
    } else
        return -1;
    return isfinite(*out) ? 0 : -1;
}

/* A string field (JSON string; an id may be an integer too) no longer than max bytes:
 * 0 with *out (NULL when absent), or -1 with err. */
static int name_field(slm_prodlog *r, const slm_pj_row *o, const char *key, size_t max,
                      const char **out, long line, char *err, size_t errlen)
{
    const slm_pj_val *v = get(r, key);
    *out = NULL;
    if (absent(v))
        return 0;
    if (!strcmp(key, "id") && v->kind == SLM_PJ_INT) {
        snprintf(r->id_text, sizeof r->id_text, "%lld", v->i);
        *out = r->id_text;
        return 0;
    }
    if (v->kind != SLM_PJ_STR)
        return slm_err(err, errlen, "%s:%ld: field '%s' is not a string", r->path, line, key);
    if (v->n > max)
        return slm_err(err, errlen, "%s:%ld: field '%s' is %zu bytes, more than the limit of "
                       "%zu", r->path, line, key, v->n, max);
    if (memchr(v->s, 0, v->n))
        return slm_err(err, errlen, "%s:%ld: field '%s' holds a NUL byte", r->path, line, key);
    *out = v->s;
    return 0;
}

static int cmp_prob(const void *a, const void *b)
{
    return strcmp(((const prob *)a)->label, ((const prob *)b)->label);
}

static int check_probs_entry(slm_prodlog *r, const slm_pj_field *e, int csv, prob *out,
                             double *sum, long line, char *err, size_t errlen)
{
    double p;
    if (strlen(e->key) > (size_t)SLM_PROD_MAX_NAME_BYTES)
        return slm_err(err, errlen, "%s:%ld: a label of probs is longer than %ld bytes",
                       r->path, line, (long)SLM_PROD_MAX_NAME_BYTES);
    if (number_of(&e->v, csv, &p) || p < 0 || p > 1)
        return slm_err(err, errlen, "%s:%ld: probs of '%s' is not a number in [0, 1]",
                       r->path, line, e->key);
    out->label = e->key;
    out->p = p;
    *sum += p;
    return 0;
}

/* s as a JSON string (quotes, backslashes and controls escaped), plain runs appended
 * whole. */
static void json_quoted(slm_buf *b, const char *s)
{
    slm_buf_putc(b, '"');
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c != '"' && c != '\\' && c >= 0x20)
            continue;
        slm_buf_append(b, run, (size_t)(s - run));
        run = s + 1;
        if (c == '"' || c == '\\')
            slm_buf_printf(b, "\\%c", c);
        else
            slm_buf_printf(b, "\\u%04x", c);
    }
    slm_buf_append(b, run, (size_t)(s - run));
    slm_buf_putc(b, '"');
}

/* The fast path of shortest_double for what logs hold, probabilities of at most six
 * decimals, 0 or from 1e-4 up: v equals k / 10^6 (a correctly rounded division of exact
 * values, so the decimal "0.dddddd" reads back as v), written without printf. 0 when it
 * does not apply. */
static int six_decimals(slm_buf *b, double v)
{
    if (!(v == 0 || (v >= 1e-4 && v <= 1))) /* below 1e-4 %g (and Python) write 1e-05 */
        return 0;
    long long k = llround(v * 1e6);
    if ((double)k / 1e6 != v)
        return 0;
    if (k == 0 || k == 1000000) {
        slm_buf_putc(b, k ? '1' : '0');
        return 1;
    }
    char t[9] = "0.";
    for (int i = 7; i >= 2; i--, k /= 10)
        t[i] = (char)('0' + k % 10);
    int end = 8;
    while (t[end - 1] == '0')
        end--;
    slm_buf_append(b, t, (size_t)end);
    return 1;
}

/* The shortest of %.15g, %.16g, %.17g that reads back as v: "0.9", not
 * "0.90000000000000002" (the stored JSON stays small and readable, and exact). */
static void shortest_double(slm_buf *b, double v)
{
    if (six_decimals(b, v))
        return;
    char t[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (prec == 17 || strtod(t, NULL) == v)
            break;
    }
    slm_buf_puts(b, t);
}

/* The canonical probs text into r->probs: keys sorted by bytes, numbers shortest exact. */
static const char *probs_text(slm_prodlog *r, prob *pr, size_t n)
{
    qsort(pr, n, sizeof *pr, cmp_prob);
    slm_buf *b = &r->probs;
    b->len = 0;
    slm_buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            slm_buf_putc(b, ',');
        json_quoted(b, pr[i].label);
        slm_buf_putc(b, ':');
        shortest_double(b, pr[i].p);
    }
    slm_buf_putc(b, '}');
    return b->data;
}

/* A jansson value as a field value (a probs object's members into row's nested entries
 * when probs is set). */
static void from_json(slm_pj_row *row, json_t *v, int probs, slm_pj_val *out)
{
    memset(out, 0, sizeof *out);
    out->j = v;
    if (json_is_string(v)) {
        out->kind = SLM_PJ_STR;
        out->s = json_string_value(v);
        out->n = json_string_length(v);
    } else if (json_is_integer(v)) {
        out->kind = SLM_PJ_INT;
        out->i = (long long)json_integer_value(v);
        out->num = (double)out->i;
    } else if (json_is_real(v)) {
        out->kind = SLM_PJ_REAL;
        out->num = json_real_value(v);
    } else if (json_is_boolean(v) || json_is_null(v)) {
        out->kind = json_is_null(v) ? SLM_PJ_NULL : json_is_true(v) ? SLM_PJ_TRUE : SLM_PJ_FALSE;
    } else if (probs && json_is_object(v)) {
        out->kind = SLM_PJ_OBJ;
        out->first = row->n_sub;
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            slm_pj_field *e = slm_pj_add(row, 1);
            e->key = k;
            from_json(row, x, 0, &e->v);
        }
        out->count = row->n_sub - out->first;
    } else {
        out->kind = SLM_PJ_OTHER;
    }
}

/* A jansson object as the fields of row (they point into it). */
static void fields_of_json(slm_pj_row *row, json_t *o)
{
    slm_pj_clear(row);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        slm_pj_field *f = slm_pj_add(row, 0);
        f->key = k;
        from_json(row, v, !strcmp(k, "probs"), &f->v);
    }
}

/* probs as an object (in CSV, JSON text is parsed first into r->probs_json, r->pj_probs). */
static int probs_object(slm_prodlog *r, const slm_pj_row *o, const slm_pj_val *v, long line,
                        const slm_pj_row **src, const slm_pj_val **obj, char *err,
                        size_t errlen)
{
    *src = o;
    *obj = v;
    if (!r->csv || v->kind != SLM_PJ_STR)
        return 0;
    json_error_t je;
    r->probs_json = json_loads(v->s, JSON_REJECT_DUPLICATES, &je);
    if (!r->probs_json)
        return slm_err(err, errlen, "%s:%ld: probs is not valid JSON: %s", r->path, line,
                       je.text);
    slm_pj_clear(&r->pj_probs);
    slm_pj_field *f = slm_pj_add(&r->pj_probs, 0);
    from_json(&r->pj_probs, r->probs_json, 1, &f->v);
    *src = &r->pj_probs;
    *obj = &r->pj_probs.f[0].v;
    return 0;
}

/* probs: an object label -> p (in CSV: JSON text, or p_<label> cells gathered by the CSV
 * reader into the same object). Writes its canonical JSON into r->probs. */
static int probs_field(slm_prodlog *r, const slm_pj_row *o, int csv, long line,
                       const char **out, char *err, size_t errlen)
{
    const slm_pj_val *v = get(r, "probs");
    *out = NULL;
    if (absent(v))
        return 0;
    const slm_pj_row *src;
    if (probs_object(r, o, v, line, &src, &v, err, errlen))
        return -1;
    if (v->kind != SLM_PJ_OBJ)
        return slm_err(err, errlen, "%s:%ld: probs is not a JSON object label -> p", r->path,
                       line);
    if (v->count > (size_t)SLM_PROD_MAX_PROBS)
        return slm_err(err, errlen, "%s:%ld: probs has more than %ld labels (the limit)",
                       r->path, line, (long)SLM_PROD_MAX_PROBS);
    double sum = 0;
    if (r->cap_prob < v->count + 1) {
        r->cap_prob = v->count + 1;
        r->prob = slm_xrealloc(r->prob, r->cap_prob * sizeof *r->prob);
    }
    for (size_t i = 0; i < v->count; i++)
        if (check_probs_entry(r, &src->sub[v->first + i], csv, &r->prob[i], &sum, line, err,
                              errlen))
            return -1;
    if (fabs(sum - 1) > SLM_PROD_PROBS_TOL)
        return slm_err(err, errlen, "%s:%ld: probs sum to %.6g, not 1 within %g", r->path,
                       line, sum, SLM_PROD_PROBS_TOL);
    *out = probs_text(r, r->prob, v->count);
    return 0;
}

/* escalated: true/false, 0/1 (JSON booleans or numbers; CSV text). 0, or -1. */
static int flag_of(const slm_pj_val *v, int *out)
{
    if (v->kind == SLM_PJ_TRUE || v->kind == SLM_PJ_FALSE) {
        *out = v->kind == SLM_PJ_TRUE;
        return 0;
    }
    if (v->kind == SLM_PJ_INT && (v->i == 0 || v->i == 1)) {
        *out = (int)v->i;
        return 0;
    }
    const char *s = v->kind == SLM_PJ_STR ? v->s : NULL;
    if (s && (!strcmp(s, "true") || !strcmp(s, "1")))
        *out = 1;
    else if (s && (!strcmp(s, "false") || !strcmp(s, "0")))
        *out = 0;
    else
        return -1;
    return 0;
}

/* confidence (required), latency_ms, escalated. */
static int number_fields(slm_prodlog *r, const slm_pj_row *o, slm_prod_row *row, char *err,
                         size_t errlen)
{
    const slm_pj_val *v = get(r, "confidence");
    if (absent(v))
        return slm_err(err, errlen, "%s:%ld: missing required field 'confidence'", r->path,
                       row->line);
    if (number_of(v, r->csv, &row->confidence) || row->confidence < 0 || row->confidence > 1)
        return slm_err(err, errlen, "%s:%ld: confidence is not a number in [0, 1]", r->path,
                       row->line);
    row->latency_ms = NAN;
    v = get(r, "latency_ms");
    if (!absent(v) && (number_of(v, r->csv, &row->latency_ms) || row->latency_ms < 0))
        return slm_err(err, errlen, "%s:%ld: latency_ms is not a number >= 0", r->path,
                       row->line);
    row->escalated = -1;
    v = get(r, "escalated");
    if (!absent(v) && flag_of(v, &row->escalated))
        return slm_err(err, errlen, "%s:%ld: escalated is not true, false, 0 or 1", r->path,
                       row->line);
    return 0;
}

static int text_field(slm_prodlog *r, const slm_pj_row *o, slm_prod_row *row, char *err,
                      size_t errlen)
{
    if (name_field(r, o, "text", (size_t)SLM_PROD_MAX_TEXT_BYTES, &row->text, row->line, err,
                   errlen))
        return -1;
    row->text_bytes = 0;
    row->text_words = 0;
    row->text_sha256[0] = 0;
    if (!row->text)
        return 0;
    row->text_bytes = strlen(row->text);
    slm_sha256_hex(row->text, row->text_bytes, row->text_sha256);
    int in = 0;
    for (const unsigned char *p = (const unsigned char *)row->text; *p; p++) {
        /* space: ' ', and '\t' '\n' '\v' '\f' '\r' (9 to 13) */
        int space = *p == ' ' || (*p >= '\t' && *p <= '\r');
        row->text_words += !space && !in;
        in = !space;
    }
    return 0;
}

/* s[0..n) as jansson's json_dumps writes a string (without JSON_ENSURE_ASCII). */
static void dump_string(slm_buf *b, const char *s, size_t n)
{
    slm_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        slm_buf_append(b, s + run, i - run);
        run = i + 1;
        const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b"
                          : c == '\f' ? "\\f" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t" : NULL;
        if (esc)
            slm_buf_puts(b, esc);
        else
            slm_buf_printf(b, "\\u%04X", c);
    }
    slm_buf_append(b, s + run, n - run);
    slm_buf_putc(b, '"');
}

/* A tag's value as json_dumps(JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17))
 * writes it. */
static void dump_value(slm_buf *b, const slm_pj_val *v)
{
    static const char *const LIT[] = {"null", "true", "false"};
    if (v->kind == SLM_PJ_STR) {
        dump_string(b, v->s, v->n);
    } else if (v->kind == SLM_PJ_INT) {
        slm_buf_printf(b, "%lld", v->i);
    } else if (v->kind <= SLM_PJ_FALSE) {
        slm_buf_puts(b, LIT[v->kind]);
    } else {
        char *t = v->j ? json_dumps(v->j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS |
                                              JSON_REAL_PRECISION(17))
                       : NULL;
        slm_buf_puts(b, t ? t : "null");
        free(t);
    }
}

static int cmp_field(const void *a, const void *b)
{
    return strcmp((*(const slm_pj_field *const *)a)->key, (*(const slm_pj_field *const *)b)->key);
}

/* Every field that is not one of KNOWN (r->tag, from index_fields), as a JSON object with
 * sorted keys, written as json_dumps writes it. */
static int tags_field(slm_prodlog *r, slm_prod_row *row, char *err, size_t errlen)
{
    size_t n = r->n_tags;
    row->tags_json = NULL;
    if (n > (size_t)SLM_PROD_MAX_TAGS)
        return slm_err(err, errlen, "%s:%ld: more than %ld extra fields (the limit)", r->path,
                       row->line, (long)SLM_PROD_MAX_TAGS);
    if (!n)
        return 0;
    qsort(r->tag, n, sizeof *r->tag, cmp_field);
    slm_buf *b = &r->tags;
    b->len = 0;
    for (size_t i = 0; i < n; i++) {
        slm_buf_putc(b, i ? ',' : '{');
        dump_string(b, r->tag[i]->key, strlen(r->tag[i]->key));
        slm_buf_putc(b, ':');
        dump_value(b, &r->tag[i]->v);
    }
    slm_buf_putc(b, '}');
    row->tags_json = b->data;
    if (b->len > (size_t)SLM_PROD_MAX_TAGS_BYTES)
        return slm_err(err, errlen, "%s:%ld: the extra fields take %zu bytes of JSON, more "
                       "than the limit of %ld", r->path, row->line, b->len,
                       (long)SLM_PROD_MAX_TAGS_BYTES);
    return 0;
}

/* One part of the content hash: "-\n" when absent, "+<bytes>:<text>\n" when present. */
static void hash_part(slm_buf *b, const char *s)
{
    if (!s) {
        slm_buf_append(b, "-\n", 2);
        return;
    }
    size_t n = strlen(s);
    char len[24];
    int k = (int)sizeof len;
    len[--k] = ':';
    do
        len[--k] = (char)('0' + n % 10);
    while (n /= 10);
    len[--k] = '+';
    slm_buf_append(b, len + k, sizeof len - (size_t)k);
    slm_buf_puts(b, s);
    slm_buf_putc(b, '\n');
}

/* A double as its 8 bytes (little or big endian alike on one machine: the hash is compared
 * within one database); NaN stands for absent. */
static void hash_double(slm_buf *b, double v)
{
    unsigned char t[9] = {isnan(v) ? '-' : '+'};
    if (!isnan(v))
        memcpy(t + 1, &v, 8);
    slm_buf_append(b, t, isnan(v) ? 1 : 9);
}

/* The hash of the parts in order, as one digest of their concatenation (the bytes hashed
 * are those a streaming digest of each part was given before). */
static void content_hash(slm_prodlog *r, slm_prod_row *row)
{
    const char *parts[] = {row->id, row->ts, row->pred, row->probs_json,
                           row->escalated < 0 ? NULL : row->escalated ? "1" : "0",
                           row->corrected_label, row->model,
                           row->text ? row->text_sha256 : NULL, row->tags_json};
    slm_buf *b = &r->hashed;
    b->len = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        hash_part(b, parts[i]);
    hash_double(b, row->confidence);
    hash_double(b, row->latency_ms);
    slm_sha256_hex(b->data, b->len, row->content_sha256);
}

/* The row of object o (read from the line row->line). */
static int check_row(slm_prodlog *r, const slm_pj_row *o, slm_prod_row *row, char *err,
                     size_t errlen)
{
    static const char *const REQUIRED[] = {"id", "ts", "pred"};
    const char **dst[] = {&row->id, NULL, &row->pred};
    const char *ts = NULL;
    dst[1] = &ts;
    index_fields(r, o);
    for (size_t i = 0; i < 3; i++) {
        if (name_field(r, o, REQUIRED[i], i == 1 ? 64 : (size_t)SLM_PROD_MAX_NAME_BYTES,
                       dst[i], row->line, err, errlen))
            return -1;
        if (!*dst[i] || (i != 1 && !**dst[i]))
            return slm_err(err, errlen, "%s:%ld: missing required field '%s'", r->path,
                           row->line, REQUIRED[i]);
    }
    char why[160];
    if (slm_rfc3339_utc(ts, row->ts, row->month, why, sizeof why))
        return slm_err(err, errlen, "%s:%ld: ts '%s': %s", r->path, row->line, ts, why);
    if (number_fields(r, o, row, err, errlen) ||
        name_field(r, o, "corrected_label", (size_t)SLM_PROD_MAX_NAME_BYTES,
                   &row->corrected_label, row->line, err, errlen) ||
        name_field(r, o, "model", (size_t)SLM_PROD_MAX_NAME_BYTES, &row->model, row->line, err,
                   errlen) ||
        probs_field(r, o, r->csv, row->line, &row->probs_json, err, errlen) ||
        text_field(r, o, row, err, errlen) || tags_field(r, row, err, errlen))
        return -1;
    content_hash(r, row);
    return 0;
}

/* ---- JSON lines ---- */

static void clear_cells(slm_prodlog *r);

/* Lets go of the row handed out last. */
static void drop_row(slm_prodlog *r)
{
    json_decref(r->obj);
    r->obj = NULL;
    json_decref(r->probs_json);
    r->probs_json = NULL;
    if (r->cells && r->record_done)
        clear_cells(r);
}

/* Whether an extra field holds a real (written by jansson's own formatting). */
static int real_tag(const slm_pj_row *o)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->f[i].v.kind == SLM_PJ_REAL && known_index(o->f[i].key) < 0)
            return 1;
    return 0;
}

/* A JSON line: the fast parser's fields, or where it gives up (an error, or a shape it
 * leaves to jansson) or a tag is a real, jansson's, which words every error. */
static int jsonl_row(slm_prodlog *r, slm_prod_row *row, char *err, size_t errlen)
{
    if (!r->oracle && !slm_pj_parse(&r->pj, r->lp, r->ll) && !real_tag(&r->pj))
        return check_row(r, &r->pj, row, err, errlen);
    json_error_t je;
    r->obj = json_loadb(r->lp, r->ll, JSON_REJECT_DUPLICATES, &je);
    if (!r->obj) {
        if (json_error_code(&je) == json_error_duplicate_key)
            return slm_err(err, errlen, "%s:%ld: %s (each key may appear once in a row)",
                           r->path, row->line, je.text);
        return slm_err(err, errlen, "%s:%ld: not valid JSON at column %d: %s", r->path,
                       row->line, je.column, je.text);
    }
    if (!json_is_object(r->obj))
        return slm_err(err, errlen, "%s:%ld: not a JSON object", r->path, row->line);
    fields_of_json(&r->pj, r->obj);
    return check_row(r, &r->pj, row, err, errlen);
}

/* ---- CSV ---- */

/* libcsv's trimming of an unquoted cell: spaces and tabs at both ends. */
static int csv_space(char c)
{
    return c == ' ' || c == '\t';
}

/* libcsv trims no cell (its space function says no); csv_cell and csv_split trim every
 * unquoted cell but the text's, whose spaces are part of the text (RFC 4180 §2.4) and of
 * its hash, as in JSON lines. */
static int csv_no_space(unsigned char c)
{
    (void)c;
    return 0;
}

static void csv_cell(void *s, size_t len, void *data)
{
    slm_prodlog *r = data;
    const char *c = s ? s : "";
    if (!s)
        len = 0;
    else if (r->n_cells != r->text_col) {
        while (len && csv_space(*c))
            c++, len--;
        while (len && csv_space(c[len - 1]))
            len--;
    }
    if (r->n_cells < (size_t)SLM_PROD_MAX_COLUMNS + 1)
        r->cells[r->n_cells++] = slm_xstrndup(c, len);
}

static void csv_end(int c, void *data)
{
    (void)c;
    ((slm_prodlog *)data)->record_done = 1;
}

static void clear_cells(slm_prodlog *r)
{
    for (size_t i = 0; i < r->n_cells && !r->cells_split; i++)
        free(r->cells[i]);
    r->cells_split = 0;
    r->n_cells = 0;
    r->record_done = 0;
    r->record_bytes = 0;
}

/* A record on one line without quotes or CR (the common one) split at its commas into a
 * copy of the line, each cell trimmed as csv_cell trims it (r->cells point into the copy):
 * 1, or 0 to leave the line to libcsv. */
static int csv_split(slm_prodlog *r)
{
    if (r->oracle || memchr(r->lp, '"', r->ll) || memchr(r->lp, '\r', r->ll))
        return 0;
    size_t n = 1;
    for (const char *p = r->lp; (p = memchr(p, ',', r->ll - (size_t)(p - r->lp))); p++)
        n++;
    if (n > (size_t)SLM_PROD_MAX_COLUMNS)
        return 0;
    r->split.len = 0;
    slm_buf_append(&r->split, r->lp, r->ll);
    char *q = r->split.data, *end = q + r->ll;
    for (size_t i = 0; i < n; i++) {
        char *comma = memchr(q, ',', (size_t)(end - q)), *e = comma ? comma : end;
        while (i != r->text_col && q < e && csv_space(*q))
            q++;
        while (i != r->text_col && e > q && csv_space(e[-1]))
            e--;
        *e = 0;
        r->cells[i] = q;
        q = comma ? comma + 1 : end;
    }
    r->n_cells = n;
    r->cells_split = 1;
    r->record_done = 1;
    r->record_bytes = r->ll + 1;
    return 1;
}

/* The record's cells as the row's fields, strings pointing into the cells (empty cells
 * left out; p_<label> cells gathered under "probs", after the others). */
static int csv_object(slm_prodlog *r, long line, char *err, size_t errlen)
{
    if (r->n_cells != r->n_cols)
        return slm_err(err, errlen, "%s:%ld: %zu cells where the header has %zu", r->path,
                       line, r->n_cells, r->n_cols);
    slm_pj_clear(&r->pj);
    for (size_t i = 0; i < r->n_cols; i++) {
        if (!r->cells[i][0])
            continue;
        int p = !strncmp(r->header[i], "p_", 2);
        slm_pj_field *f = slm_pj_add(&r->pj, p);
        f->key = r->header[i] + (p ? 2 : 0);
        f->v.kind = SLM_PJ_STR;
        f->v.s = r->cells[i];
        f->v.n = strlen(r->cells[i]);
    }
    if (r->pj.n_sub) {
        slm_pj_field *f = slm_pj_add(&r->pj, 0);
        f->key = "probs";
        f->v.kind = SLM_PJ_OBJ;
        f->v.count = r->pj.n_sub;
    }
    return 0;
}

static int csv_reset(slm_prodlog *r)
{
    csv_free(&r->p);
    clear_cells(r);
    if (csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL))
        return -1;
    csv_set_space_func(&r->p, csv_no_space);
    return 0;
}

/* Feeds the current line; 1 when it completed a record, 0 when the record goes on, -1 bad
 * row, -2 fatal. */
static int csv_feed(slm_prodlog *r, long start, char *err, size_t errlen)
{
    r->record_bytes += r->ll + 1;
    if (r->record_bytes > (size_t)SLM_PROD_MAX_LINE_BYTES) {
        slm_err(err, errlen, "%s:%ld: a quoted field open for more than %ld bytes (the limit "
                "of a row)", r->path, start, (long)SLM_PROD_MAX_LINE_BYTES);
        return SLM_PROD_FATAL;
    }
    if (csv_parse(&r->p, r->lp, r->ll, csv_cell, csv_end, r) != r->ll ||
        csv_parse(&r->p, "\n", 1, csv_cell, csv_end, r) != 1) {
        slm_err(err, errlen, "%s:%ld: malformed CSV: %s (a quote inside a field that did not "
                "begin with one: a space before an opening quote is part of the field, RFC "
                "4180)", r->path, start, csv_strerror(csv_error(&r->p)));
        if (csv_reset(r))
            return SLM_PROD_FATAL;
        return start == r->lineno ? SLM_PROD_BAD : SLM_PROD_FATAL;
    }
    if (r->n_cells > (size_t)SLM_PROD_MAX_COLUMNS) {
        csv_reset(r);
        slm_err(err, errlen, "%s:%ld: more than %ld cells", r->path, start,
                (long)SLM_PROD_MAX_COLUMNS);
        return SLM_PROD_BAD;
    }
    return r->record_done;
}

static int csv_next(slm_prodlog *r, slm_prod_row *row, char *err, size_t errlen)
{
    long start = 0;
    for (;;) {
        int rc = next_line(r);
        if (rc < 0)
            return slm_err(err, errlen, "%s: read error", r->path), SLM_PROD_FATAL;
        int inside = r->record_bytes > 0;
        if (rc == 0) {
            if (!inside)
                return SLM_PROD_EOF;
            slm_err(err, errlen, "%s:%ld: unterminated quoted field at the end of the file",
                    r->path, start);
            return SLM_PROD_FATAL;
        }
        if (!inside) {
            start = r->lineno;
            if (line_fault(r, err, errlen))
                return SLM_PROD_BAD;
            if (is_blank(r->lp, r->ll))
                continue;
        } else if (line_fault(r, err, errlen)) {
            return SLM_PROD_FATAL; /* inside a quoted field: no line to resume at */
        }
        rc = !inside && csv_split(r) ? 1 : csv_feed(r, start, err, errlen);
        if (rc == 0)
            continue;
        if (rc < 0)
            return rc;
        row->line = start;
        rc = csv_object(r, start, err, errlen); /* the cells are cleared at the next call */
        if (rc || check_row(r, &r->pj, row, err, errlen))
            return SLM_PROD_BAD;
        return SLM_PROD_ROW;
    }
}

/* The header: names unique and non-empty, the required ones present. */
static int csv_header(slm_prodlog *r, char *err, size_t errlen)
{
    int rc = next_line(r);
    if (rc <= 0)
        return rc < 0 ? slm_err(err, errlen, "%s: read error", r->path) : 0;
    if (line_fault(r, err, errlen))
        return -1;
    if (csv_feed(r, 1, err, errlen) != 1)
        return slm_err(err, errlen, "%s:1: the header is not one line of CSV", r->path);
    r->header = r->cells;
    r->n_cols = r->n_cells;
    r->cells = slm_xcalloc((size_t)SLM_PROD_MAX_COLUMNS + 1, sizeof *r->cells);
    r->n_cells = 0;
    r->record_done = 0;
    r->record_bytes = 0;
    int probs = 0, p_cols = 0;
    for (size_t i = 0; i < r->n_cols; i++) {
        if (!r->header[i][0])
            return slm_err(err, errlen, "%s:1: column %zu has no name", r->path, i + 1);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(r->header[i], r->header[k]))
                return slm_err(err, errlen, "%s:1: column '%s' given twice", r->path,
                               r->header[i]);
        probs |= !strcmp(r->header[i], "probs");
        p_cols |= !strncmp(r->header[i], "p_", 2);
        if (!strcmp(r->header[i], "text"))
            r->text_col = i;
    }
    if (probs && p_cols)
        return slm_err(err, errlen, "%s:1: both a 'probs' column and p_<label> columns: give "
                       "one of them", r->path);
    static const char *const REQ[] = {"id", "ts", "pred", "confidence"};
    for (size_t q = 0; q < 4; q++) {
        size_t i = 0;
        while (i < r->n_cols && strcmp(r->header[i], REQ[q]))
            i++;
        if (i == r->n_cols)
            return slm_err(err, errlen, "%s:1: the header has no column '%s' (required: id, "
                           "ts, pred, confidence)", r->path, REQ[q]);
    }
    return 0;
}

/* ---- the reader ---- */

/* A byte-order mark at the start of the file: refused (the first field's name or the
 * first JSON line would silently carry it). */
static int check_bom(slm_prodlog *r, char *err, size_t errlen)
{
    if (fill(r))
        return slm_err(err, errlen, "%s: read error", r->path);
    if (r->len >= 3 && !memcmp(r->chunk, "\xef\xbb\xbf", 3))
        return slm_err(err, errlen, "%s:1: starts with a UTF-8 byte-order mark (BOM): save "
                       "the file without it", r->path);
    return 0;
}

int slm_prodlog_open(const char *path, const char *format, slm_prodlog **out, char *err,
                     size_t errlen)
{
    *out = NULL;
    size_t n = strlen(path);
    int csv = format ? !strcmp(format, "csv") : n >= 4 && !strcmp(path + n - 4, ".csv");
    if (format && !csv && strcmp(format, "jsonl"))
        return slm_err(err, errlen, "unknown log format '%s' (jsonl or csv)", format);
    FILE *f = fopen(path, "rb");
    if (!f)
        return slm_err(err, errlen, "cannot open '%s': %s", path, strerror(errno));
    slm_prodlog *r = slm_xcalloc(1, sizeof *r);
    r->f = f;
    r->path = slm_xstrdup(path);
    r->csv = csv;
    r->chunk = slm_xmalloc(CHUNK);
    slm_sha256_init(&r->sha);
    int rc = check_bom(r, err, errlen);
    if (!rc && csv) {
        r->cells = slm_xcalloc((size_t)SLM_PROD_MAX_COLUMNS + 1, sizeof *r->cells);
        r->text_col = (size_t)-1;
        if (csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL))
            rc = slm_err(err, errlen, "cannot initialise the CSV parser");
        else {
            csv_set_space_func(&r->p, csv_no_space);
            rc = csv_header(r, err, errlen);
        }
    }
    if (rc) {
        slm_prodlog_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

int slm_prodlog_next(slm_prodlog *r, slm_prod_row *row, char *err, size_t errlen)
{
    drop_row(r);
    memset(row, 0, sizeof *row);
    if (r->csv)
        return csv_next(r, row, err, errlen);
    for (;;) {
        int rc = next_line(r);
        if (rc < 0)
            return slm_err(err, errlen, "%s: read error", r->path), SLM_PROD_FATAL;
        if (rc == 0)
            return SLM_PROD_EOF;
        row->line = r->lineno;
        if (line_fault(r, err, errlen))
            return SLM_PROD_BAD;
        if (is_blank(r->lp, r->ll))
            continue;
        return jsonl_row(r, row, err, errlen) ? SLM_PROD_BAD : SLM_PROD_ROW;
    }
}

void slm_prodlog_oracle(slm_prodlog *r, int on)
{
    r->oracle = on;
}

const char *slm_prodlog_format(const slm_prodlog *r)
{
    return r->csv ? "csv" : "jsonl";
}

void slm_prodlog_sha256(slm_prodlog *r, char hex[65])
{
    /* finishing the digest frees it: hash a copy of the state by re-reading is not
     * possible on a stream, so finish and start over (only called once, at the end) */
    slm_sha256_final_hex(&r->sha, hex);
    slm_sha256_init(&r->sha);
}

void slm_prodlog_close(slm_prodlog *r)
{
    if (!r)
        return;
    drop_row(r);
    if (r->cells) {
        clear_cells(r);
        csv_free(&r->p);
        free(r->cells);
    }
    for (size_t i = 0; i < r->n_cols; i++)
        free(r->header[i]);
    free(r->header);
    char hex[65];
    slm_sha256_final_hex(&r->sha, hex); /* frees the digest */
    slm_pj_free(&r->pj);
    slm_pj_free(&r->pj_probs);
    free(r->prob);
    slm_buf_free(&r->probs);
    slm_buf_free(&r->tags);
    slm_buf_free(&r->hashed);
    slm_buf_free(&r->line);
    slm_buf_free(&r->split);
    free(r->chunk);
    free(r->path);
    if (r->f)
        fclose(r->f);
    free(r);
}
