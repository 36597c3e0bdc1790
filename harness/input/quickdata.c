/* quickdata.c — see quickdata.h. */
#include "quickdata.h"
#include "nearest.h"
#include "sha256.h"

#include <csv.h>
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- the table ---- */

/* Appends a row of n cells (taken over) starting at line. */
static void table_add(slm_qtable *t, char **cells, long line)
{
    if ((t->n_rows & (t->n_rows - 1)) == 0) { /* 0, 1, 2, 4, ...: grow to twice */
        size_t cap = t->n_rows ? t->n_rows * 2 : 1;
        t->cells = slm_xrealloc(t->cells, cap * sizeof *t->cells);
        t->lines = slm_xrealloc(t->lines, cap * sizeof *t->lines);
    }
    t->cells[t->n_rows] = cells;
    t->lines[t->n_rows++] = line;
}

/* A cell's own checks: valid UTF-8, within SLM_MAX_FIELD_BYTES. 0, or -1 with err. */
static int check_cell(const slm_qtable *t, long line, size_t col, const char *s, size_t len,
                      char *err, size_t errlen)
{
    const char *name = col < t->n_cols ? t->cols[col] : "?";
    if (len > SLM_MAX_FIELD_BYTES)
        return slm_err(err, errlen, "%s:%ld: column '%s' is %zu bytes, more than the limit of "
                       "%u", t->path, line, name, len, SLM_MAX_FIELD_BYTES);
    long bad = slm_utf8_invalid_at(s, len);
    if (bad >= 0)
        return slm_err(err, errlen, "%s:%ld: column '%s' is not valid UTF-8 (byte %ld); save "
                       "the file as UTF-8", t->path, line, name, bad + 1);
    return 0;
}

typedef struct qcsv {
    slm_qtable *t;
    char **f;          /* the record's cells */
    size_t nf, capf;
    long line;         /* physical line being fed */
    long rec_nl;       /* newlines inside the record's cells */
    long nul_col;      /* first cell holding a NUL byte, or -1 */
    int header_done, failed;
    char *err;
    size_t errlen;
} qcsv;

static void qcsv_cell(void *data, size_t len, void *ud)
{
    qcsv *c = ud;
    if (c->failed)
        return;
    if (c->nf == c->capf) {
        c->capf = c->capf ? c->capf * 2 : 8;
        c->f = slm_xrealloc(c->f, c->capf * sizeof *c->f);
    }
    const char *p = data ? data : "";
    for (size_t i = 0; i < len; i++)
        c->rec_nl += p[i] == '\n';
    if (c->nul_col < 0 && memchr(p, '\0', len))
        c->nul_col = (long)c->nf;
    c->f[c->nf++] = slm_xstrndup(p, len);
}

static void qcsv_clear(qcsv *c)
{
    for (size_t i = 0; i < c->nf; i++)
        free(c->f[i]);
    c->nf = 0;
    c->rec_nl = 0;
    c->nul_col = -1;
}

/* The header's column names (trimmed): at least one, none empty. */
static int qcsv_header(qcsv *c, long line)
{
    slm_qtable *t = c->t;
    for (size_t i = 0; i < c->nf; i++)
        if (!*slm_trim(c->f[i]))
            return slm_err(c->err, c->errlen, "%s:%ld: column %zu of the header has no name; "
                           "the first line must name every column", t->path, line, i + 1);
    t->cols = c->f;
    t->n_cols = c->nf;
    c->f = NULL;
    c->nf = c->capf = 0;
    c->header_done = 1;
    return 0;
}

static void qcsv_record(int term, void *ud)
{
    (void)term;
    qcsv *c = ud;
    slm_qtable *t = c->t;
    long line = c->line - c->rec_nl;
    if (c->failed) {
        qcsv_clear(c);
        return;
    }
    if (c->nul_col >= 0) {
        slm_err(c->err, c->errlen, "%s:%ld: column %ld contains a NUL byte", t->path, line,
                c->nul_col + 1);
        c->failed = 1;
    } else if (!c->header_done) {
        c->failed = qcsv_header(c, line) != 0;
    } else if (c->nf != t->n_cols) {
        slm_err(c->err, c->errlen, "%s:%ld: expected %zu fields as in the header, found %zu "
                "(a comma inside a text needs the text in double quotes)", t->path, line,
                t->n_cols, c->nf);
        c->failed = 1;
    } else if (t->n_rows >= (size_t)SLM_MAX_ROWS) {
        slm_err(c->err, c->errlen, "%s:%ld: more than %ld rows, the limit of one split file",
                t->path, line, SLM_MAX_ROWS);
        c->failed = 1;
    } else {
        for (size_t i = 0; i < c->nf && !c->failed; i++)
            c->failed = check_cell(t, line, i, c->f[i], strlen(c->f[i]), c->err, c->errlen) != 0;
        if (!c->failed) {
            table_add(t, c->f, line);
            c->f = NULL;
            c->nf = c->capf = 0;
        }
    }
    qcsv_clear(c);
}

static int load_csv(slm_qtable *t, const char *buf, size_t len, char *err, size_t errlen)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return slm_err(err, errlen, "cannot initialise the CSV parser");
    csv_set_blk_size(&p, 1u << 20);
    qcsv c = {.t = t, .line = 1, .nul_col = -1, .err = err, .errlen = errlen};
    size_t off = 0;
    int rc = 0;
    while (off < len && !c.failed && !rc) { /* line by line, so errors name the line */
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (buf + off)) + 1 : len - off;
        if (csv_parse(&p, buf + off, n, qcsv_cell, qcsv_record, &c) != n)
            rc = slm_err(err, errlen, "%s:%ld: malformed CSV: %s (a double quote inside a "
                         "quoted text is written twice)", t->path, c.line,
                         csv_strerror(csv_error(&p)));
        off += n;
        c.line += nl != NULL;
    }
    if (!rc && !c.failed && csv_fini(&p, qcsv_cell, qcsv_record, &c) != 0)
        rc = slm_err(err, errlen, "%s:%ld: malformed CSV: a quoted field is still open at the "
                     "end of the file", t->path, c.line);
    qcsv_clear(&c);
    free(c.f);
    csv_free(&p);
    return rc || c.failed ? -1 : 0;
}

/* Index of column name, added if new. */
static size_t column_of(slm_qtable *t, const char *name)
{
    for (size_t i = 0; i < t->n_cols; i++)
        if (!strcmp(t->cols[i], name))
            return i;
    t->cols = slm_xrealloc(t->cols, (t->n_cols + 1) * sizeof *t->cols);
    t->cols[t->n_cols] = slm_xstrdup(name);
    return t->n_cols++;
}

/* A JSON value as a cell: strings as they are, numbers and booleans as their text, null as
 * no cell, arrays and objects as compact JSON. */
static char *json_cell(const json_t *v)
{
    if (json_is_string(v))
        return slm_xstrndup(json_string_value(v), json_string_length(v));
    if (json_is_integer(v))
        return slm_xasprintf("%lld", (long long)json_integer_value(v));
    if (json_is_real(v)) {
        char b[32];
        slm_fmt_double(b, sizeof b, json_real_value(v), 17);
        return slm_xstrdup(b);
    }
    if (json_is_boolean(v))
        return slm_xstrdup(json_is_true(v) ? "true" : "false");
    if (json_is_null(v))
        return NULL;
    char *d = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *r = slm_xstrdup(d ? d : "");
    free(d);
    return r;
}

/* One JSON line (l[0..n), not blank) as a row; cells sized to the columns known after it
 * (the short ones are padded at the end). */
static int jsonl_row(slm_qtable *t, const char *l, size_t n, long line, size_t **ncells,
                     char *err, size_t errlen)
{
    if (n > SLM_MAX_ROW_BYTES)
        return slm_err(err, errlen, "%s:%ld: row is %zu bytes, more than the limit of %u",
                       t->path, line, n, SLM_MAX_ROW_BYTES);
    if (t->n_rows >= (size_t)SLM_MAX_ROWS)
        return slm_err(err, errlen, "%s:%ld: more than %ld rows, the limit of one split file",
                       t->path, line, SLM_MAX_ROWS);
    json_error_t je;
    json_t *o = json_loadb(l, n, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return slm_err(err, errlen, "%s:%ld: not a JSON object%s%s", t->path, line,
                       o ? "" : ": ", o ? "" : je.text);
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) column_of(t, key);
    char **cells = slm_xcalloc(t->n_cols, sizeof *cells);
    int rc = 0;
    json_object_foreach(o, key, v) {
        size_t c = column_of(t, key);
        cells[c] = json_cell(v);
        if (!rc && cells[c])
            rc = check_cell(t, line, c, cells[c], strlen(cells[c]), err, errlen);
    }
    json_decref(o);
    size_t i = t->n_rows;
    table_add(t, cells, line);
    *ncells = slm_xrealloc(*ncells, t->n_rows * sizeof **ncells);
    (*ncells)[i] = t->n_cols;
    return rc;
}

static int load_jsonl(slm_qtable *t, const char *buf, size_t len, char *err, size_t errlen)
{
    size_t *ncells = NULL, off = 0;
    long line = 0;
    int rc = 0;
    while (off < len && !rc) {
        line++;
        const char *l = buf + off, *nl = memchr(l, '\n', len - off);
        size_t n = nl ? (size_t)(nl - l) : len - off, b = 0;
        off += n + (nl != NULL);
        while (n && isspace((unsigned char)l[n - 1]))
            n--;
        while (b < n && isspace((unsigned char)l[b]))
            b++;
        if (b < n)
            rc = jsonl_row(t, l + b, n - b, line, &ncells, err, errlen);
    }
    for (size_t r = 0; r < t->n_rows; r++) /* every row as wide as the header */
        if (ncells[r] < t->n_cols) {
            t->cells[r] = slm_xrealloc(t->cells[r], t->n_cols * sizeof **t->cells);
            memset(t->cells[r] + ncells[r], 0, (t->n_cols - ncells[r]) * sizeof **t->cells);
        }
    free(ncells);
    return rc;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcasecmp(s + a - b, suf) == 0;
}

int slm_qtable_load(const char *path, slm_qtable **out, char *err, size_t errlen)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return slm_err(err, errlen, "%s: is a directory; --data takes a CSV or JSON-lines file",
                       path);
    if (stat(path, &st) == 0 && st.st_size > SLM_MAX_SPLIT_FILE_BYTES)
        return slm_err(err, errlen, "%s: %lld bytes, more than the limit of %ld for a split "
                       "file", path, (long long)st.st_size, SLM_MAX_SPLIT_FILE_BYTES);
    char *buf;
    size_t len;
    if (slm_read_file(path, &buf, &len, err, errlen))
        return -1;
    slm_qtable *t = slm_xcalloc(1, sizeof *t);
    t->path = slm_xstrdup(path);
    slm_sha256_hex(buf, len, t->sha256);
    size_t bom = len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3) ? 3 : 0;
    int jsonl = has_suffix(path, ".jsonl") || has_suffix(path, ".ndjson");
    int rc = jsonl ? load_jsonl(t, buf + bom, len - bom, err, errlen)
                   : load_csv(t, buf + bom, len - bom, err, errlen);
    free(buf);
    if (!rc && !t->n_rows)
        rc = slm_err(err, errlen, "%s: no rows (expected %s)", path,
                     jsonl ? "one JSON object a line" : "a header line, then one row a line");
    if (rc) {
        slm_qtable_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

void slm_qtable_free(slm_qtable *t)
{
    if (!t)
        return;
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++)
            free(t->cells[r][c]);
        free(t->cells[r]);
    }
    for (size_t c = 0; c < t->n_cols; c++)
        free(t->cols[c]);
    free(t->cols);
    free(t->cells);
    free(t->lines);
    free(t->path);
    free(t);
}

/* ---- choosing the columns ---- */

/* Well-known names, most telling first (compared without case). */
static const char *const TEXT_NAMES[] = {
    "text", "utterance", "sentence", "message", "query", "ticket", "body", "content",
    "question", "input", "prompt", "description", "review", "comment", "document", "tweet",
    "email", "request", "transcript", "title", "subject", NULL};
static const char *const LABEL_NAMES[] = {
    "label", "intent", "category", "class", "target", "labels", "queue", "topic", "tag",
    "sentiment", "gold", "y", "answer", "output", "department", "type", NULL};

static int col_named(const slm_qtable *t, const char *name, int not1, int not2)
{
    for (size_t i = 0; i < t->n_cols; i++)
        if ((int)i != not1 && (int)i != not2 && !strcmp(t->cols[i], name))
            return (int)i;
    for (size_t i = 0; i < t->n_cols; i++)
        if ((int)i != not1 && (int)i != not2 && !strcasecmp(t->cols[i], name))
            return (int)i;
    return -1;
}

/* "the columns are a, b, c" with "; did you mean 'x'?" when one is near (nearest.h). */
static void columns_hint(const slm_qtable *t, const char *name, slm_buf *b)
{
    slm_buf_puts(b, "the columns are ");
    for (size_t i = 0; i < t->n_cols; i++)
        slm_buf_printf(b, "%s'%s'", i ? ", " : "", t->cols[i]);
    const char *near = name ? slm_nearest(name, (const char *const *)t->cols, t->n_cols) : NULL;
    if (near)
        slm_buf_printf(b, "; did you mean '%s'?", near);
}

typedef struct colstat {
    size_t distinct;  /* distinct non-empty values (trimmed) */
    double avg_len;   /* mean bytes of the cells */
} colstat;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The trimmed copies of column c's cells (empty ones left out): *n of them, sorted. */
static char **sorted_values(const slm_qtable *t, int c, size_t *n)
{
    char **v = slm_xcalloc(t->n_rows + 1, sizeof *v);
    *n = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        const char *s = t->cells[r][c];
        char *x = slm_xstrdup(s ? s : "");
        if (*slm_trim(x))
            v[(*n)++] = x;
        else
            free(x);
    }
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static void free_values(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static colstat column_stat(const slm_qtable *t, int c)
{
    colstat s = {0, 0};
    size_t n;
    char **v = sorted_values(t, c, &n);
    for (size_t i = 0; i < n; i++)
        s.distinct += i == 0 || strcmp(v[i], v[i - 1]) != 0;
    free_values(v, n);
    double sum = 0;
    for (size_t r = 0; r < t->n_rows; r++)
        sum += t->cells[r][c] ? (double)strlen(t->cells[r][c]) : 0;
    s.avg_len = t->n_rows ? sum / (double)t->n_rows : 0;
    return s;
}

/* A column named by the user: its index, or -1 with err listing the columns. */
static int named_column(const slm_qtable *t, const char *name, const char *opt, char *err,
                        size_t errlen)
{
    int c = col_named(t, name, -1, -1);
    if (c >= 0)
        return c;
    slm_buf b = {0};
    columns_hint(t, name, &b);
    slm_err(err, errlen, "%s: no column '%s' (%s %s): %s", t->path, name, opt, name, b.data);
    slm_buf_free(&b);
    return -1;
}

/* The first column (other than not1, not2) with a name of names, or -1. */
static int by_name(const slm_qtable *t, const char *const *names, int not1, int not2)
{
    for (size_t k = 0; names[k]; k++) {
        int c = col_named(t, names[k], not1, not2);
        if (c >= 0)
            return c;
    }
    return -1;
}

/* The label column by its values: fewest distinct values, repeated (fewer than the rows),
 * at least two and at most SLM_QUICK_MAX_LABELS; -1 if none. */
static int label_by_values(const slm_qtable *t, int not1, int not2, size_t *distinct)
{
    int best = -1;
    for (size_t i = 0; i < t->n_cols; i++) {
        if ((int)i == not1 || (int)i == not2)
            continue;
        colstat s = column_stat(t, (int)i);
        if (s.distinct >= 2 && s.distinct <= (size_t)SLM_QUICK_MAX_LABELS &&
            s.distinct < t->n_rows && (best < 0 || s.distinct < *distinct)) {
            best = (int)i;
            *distinct = s.distinct;
        }
    }
    return best;
}

/* The text column by its values: longest on average; -1 if every cell is empty. */
static int text_by_values(const slm_qtable *t, int not1, int not2, double *avg)
{
    int best = -1;
    *avg = 0;
    for (size_t i = 0; i < t->n_cols; i++) {
        if ((int)i == not1 || (int)i == not2)
            continue;
        colstat s = column_stat(t, (int)i);
        if (s.avg_len > *avg) {
            best = (int)i;
            *avg = s.avg_len;
        }
    }
    return best;
}

/* Sets p->col_label and p->why_label: named, or guessed by name, or by values. */
static int choose_label(slm_quick_plan *p, const slm_quick_opts *o, int text, char *err,
                        size_t errlen)
{
    const slm_qtable *t = p->table;
    int id = col_named(t, "id", text, -1);
    if (o->label_col) {
        p->col_label = named_column(t, o->label_col, "--label", err, errlen);
        p->why_label = slm_xstrdup("named by --label");
        return p->col_label < 0 ? -1 : 0;
    }
    p->col_label = by_name(t, LABEL_NAMES, text, id);
    if (p->col_label >= 0) {
        p->why_label = slm_xstrdup("guessed from its name; another with --label COL");
        return 0;
    }
    size_t d = 0;
    p->col_label = label_by_values(t, text, id, &d);
    if (p->col_label >= 0) {
        p->why_label = slm_xasprintf("guessed: the column with the fewest distinct values (%zu "
                                     "in %zu rows); another with --label COL", d, t->n_rows);
        return 0;
    }
    slm_buf b = {0};
    columns_hint(t, NULL, &b);
    slm_err(err, errlen, "%s: cannot tell which column holds the labels (no column with a "
            "label's name, none with 2 to %ld values repeated over the rows); name it with "
            "--label COL: %s", t->path, SLM_QUICK_MAX_LABELS, b.data);
    slm_buf_free(&b);
    return -1;
}

/* Sets the text and label columns and their reasons. */
static int choose_columns(slm_quick_plan *p, const slm_quick_opts *o, char *err, size_t errlen)
{
    const slm_qtable *t = p->table;
    int text = -1;
    if (o->text_col && (text = named_column(t, o->text_col, "--text", err, errlen)) < 0)
        return -1;
    if (choose_label(p, o, text, err, errlen))
        return -1;
    if (text >= 0) {
        p->why_text = slm_xstrdup("named by --text");
    } else {
        int id = col_named(t, "id", p->col_label, -1);
        double avg;
        if ((text = by_name(t, TEXT_NAMES, p->col_label, id)) >= 0)
            p->why_text = slm_xstrdup("guessed from its name; another with --text COL");
        else if ((text = text_by_values(t, p->col_label, id, &avg)) >= 0)
            p->why_text = slm_xasprintf("guessed: the longest column on average (%.1f bytes); "
                                        "another with --text COL", avg);
        else
            return slm_err(err, errlen, "%s: no column left for the texts (the labels are in "
                           "'%s'); name it with --text COL", t->path, t->cols[p->col_label]);
    }
    if (text == p->col_label)
        return slm_err(err, errlen, "%s: column '%s' cannot be both the text and the label; "
                       "name the other with --%s COL", t->path, t->cols[text],
                       o->text_col ? "label" : "text");
    p->col_text = text;
    return 0;
}

/* ---- the rows, the label set, the split ---- */

/* splitmix64: a small seeded stream, the same on every machine. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Fisher-Yates over idx[0..n) from the stream s. */
static void shuffle(size_t *idx, size_t n, uint64_t *s)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(next_u64(s) % i);
        size_t x = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = x;
    }
}

/* The rows of the chosen columns: empty text or label refused (or skipped), labels
 * trimmed and within SLM_MAX_LABEL_BYTES. Rows go to p->rows in file order. */
static int take_rows(slm_quick_plan *p, int skip_empty, char *err, size_t errlen)
{
    const slm_qtable *t = p->table;
    p->rows = slm_xcalloc(t->n_rows, sizeof *p->rows);
    for (size_t r = 0; r < t->n_rows; r++) {
        const char *text = t->cells[r][p->col_text], *label = t->cells[r][p->col_label];
        char *lab = slm_xstrdup(label ? label : ""), *tx = slm_xstrdup(text ? text : "");
        slm_trim(lab);
        int empty_text = !*slm_trim(tx);
        free(tx);
        if (empty_text || !*lab) {
            free(lab);
            int c = empty_text ? p->col_text : p->col_label;
            if (skip_empty) {
                p->n_skipped++;
                if (!p->first_skipped_line)
                    p->first_skipped_line = t->lines[r];
                continue;
            }
            return slm_err(err, errlen, "%s:%ld: empty %s (column '%s'); fill it in or delete "
                           "the row, or leave out such rows with --skip-empty", t->path,
                           t->lines[r], empty_text ? "text" : "label", t->cols[c]);
        }
        if (strlen(lab) > (size_t)SLM_MAX_LABEL_BYTES) {
            size_t n = strlen(lab);
            free(lab);
            return slm_err(err, errlen, "%s:%ld: label (column '%s') is %zu bytes, more than "
                           "the limit of %ld; is '%s' the label column? (--label COL)",
                           t->path, t->lines[r], t->cols[p->col_label], n,
                           SLM_MAX_LABEL_BYTES, t->cols[p->col_label]);
        }
        slm_qrow *q = &p->rows[p->n_rows++];
        q->text = slm_xstrdup(text);
        q->label = lab;
        q->line = t->lines[r];
        q->id = p->col_id >= 0 ? slm_xstrdup(t->cells[r][p->col_id])
                               : slm_xasprintf("row-%ld", t->lines[r]);
    }
    if (!p->n_rows)
        return slm_err(err, errlen, "%s: every row has an empty text or label", t->path);
    return 0;
}

/* The id column: one named "id" (not text or label) whose values are all present and
 * distinct; else ids are made from the lines. */
static void choose_ids(slm_quick_plan *p)
{
    const slm_qtable *t = p->table;
    p->col_id = col_named(t, "id", p->col_text, p->col_label);
    if (p->col_id < 0) {
        p->why_id = slm_xasprintf("no id column: ids made as row-<line> (the row's line in "
                                  "%s)", t->path);
        return;
    }
    size_t n;
    char **v = sorted_values(t, p->col_id, &n);
    int bad = n < t->n_rows;
    for (size_t i = 1; i < n && !bad; i++)
        bad = !strcmp(v[i], v[i - 1]);
    free_values(v, n);
    if (bad) {
        p->why_id = slm_xasprintf("column '%s' has an empty or repeated value: ids made as "
                                  "row-<line> instead", t->cols[p->col_id]);
        p->col_id = -1;
    } else {
        p->why_id = slm_xasprintf("column '%s'", t->cols[p->col_id]);
    }
}

/* The sorted label set with counts; refused when it looks like a text or id column. */
static int derive_labels(slm_quick_plan *p, char *err, size_t errlen)
{
    char **v = slm_xcalloc(p->n_rows, sizeof *v);
    for (size_t i = 0; i < p->n_rows; i++)
        v[i] = p->rows[i].label;
    qsort(v, p->n_rows, sizeof *v, cmp_str);
    for (size_t i = 0; i < p->n_rows; i++) {
        if (i && !strcmp(v[i], v[i - 1])) {
            p->counts[p->n_labels - 1]++;
            continue;
        }
        if (p->n_labels >= (size_t)SLM_QUICK_MAX_LABELS)
            break;
        p->labels = slm_xrealloc(p->labels, (p->n_labels + 1) * sizeof *p->labels);
        p->counts = slm_xrealloc(p->counts, (p->n_labels + 1) * sizeof *p->counts);
        p->labels[p->n_labels] = slm_xstrdup(v[i]);
        p->counts[p->n_labels++] = 1;
    }
    size_t distinct = 0;
    for (size_t i = 0; i < p->n_rows; i++)
        distinct += i == 0 || strcmp(v[i], v[i - 1]) != 0;
    free(v);
    const slm_qtable *t = p->table;
    if (distinct > (size_t)SLM_QUICK_MAX_LABELS || (distinct == p->n_rows && p->n_rows > 1))
        return slm_err(err, errlen, "%s: column '%s' has %zu distinct values in %zu rows: it "
                       "looks like a text or id column, not labels (%s, at most %ld labels); "
                       "name the label column with --label COL", t->path,
                       t->cols[p->col_label], distinct, p->n_rows,
                       distinct == p->n_rows ? "no value repeats" : "too many",
                       SLM_QUICK_MAX_LABELS);
    if (distinct < 2)
        return slm_err(err, errlen, "%s: column '%s' holds one label only ('%s'); a "
                       "classification needs two or more (--label COL)", t->path,
                       t->cols[p->col_label], p->labels[0]);
    return 0;
}

/* Rows of the calibration split for a label of n rows: round(share x n), at least one
 * where n >= 2 (and share > 0), never all. */
static size_t cal_count(double share, size_t n)
{
    if (share <= 0 || n < 2)
        return 0;
    size_t k = (size_t)floor(share * (double)n + 0.5);
    if (k < 1)
        k = 1;
    return k > n - 1 ? n - 1 : k;
}

/* Index of row i's label in the (sorted) label set. */
static size_t label_index(const slm_quick_plan *p, size_t i)
{
    char **at = bsearch(&p->rows[i].label, p->labels, p->n_labels, sizeof *p->labels, cmp_str);
    return (size_t)(at - p->labels);
}

/* Holds out the calibration rows, label by label in the label set's order (one seeded
 * stream), then puts the test rows in a seeded random order (so `limit: N` evaluates a
 * sample, not the top of a sorted file) before the calibration rows in file order. */
static void split_rows(slm_quick_plan *p)
{
    uint64_t s = p->seed;
    size_t *idx = slm_xcalloc(p->n_rows + 1, sizeof *idx);
    size_t *by_label = slm_xcalloc(p->n_rows + 1, sizeof *by_label); /* rows by label */
    size_t *start = slm_xcalloc(p->n_labels + 1, sizeof *start);
    size_t *fill = slm_xcalloc(p->n_labels + 1, sizeof *fill);
    for (size_t i = 0; i < p->n_rows; i++)
        start[label_index(p, i) + 1]++;
    for (size_t l = 0; l < p->n_labels; l++)
        start[l + 1] += start[l];
    for (size_t i = 0; i < p->n_rows; i++) {
        size_t l = label_index(p, i);
        by_label[start[l] + fill[l]++] = i;
    }
    free(fill);
    for (size_t l = 0; l < p->n_labels; l++) {
        size_t n = start[l + 1] - start[l];
        memcpy(idx, by_label + start[l], n * sizeof *idx);
        shuffle(idx, n, &s);
        size_t k = cal_count(p->calibration, n);
        for (size_t i = 0; i < k; i++)
            p->rows[idx[i]].calibration = 1;
        p->n_cal += k;
    }
    free(by_label);
    free(start);
    p->n_test = p->n_rows - p->n_cal;
    size_t nt = 0;
    for (size_t i = 0; i < p->n_rows; i++)
        if (!p->rows[i].calibration)
            idx[nt++] = i;
    shuffle(idx, nt, &s);
    for (size_t i = 0; i < p->n_rows; i++)
        if (p->rows[i].calibration)
            idx[nt++] = i;
    slm_qrow *ordered = slm_xcalloc(p->n_rows, sizeof *ordered);
    for (size_t i = 0; i < p->n_rows; i++)
        ordered[i] = p->rows[idx[i]];
    free(p->rows);
    p->rows = ordered;
    free(idx);
}

int slm_quick_plan_make(const slm_qtable *t, const slm_quick_opts *o, slm_quick_plan **out,
                        char *err, size_t errlen)
{
    *out = NULL;
    if (!(o->calibration >= 0 && o->calibration < 1))
        return slm_err(err, errlen, "--calibration takes a share from 0 to below 1, got %g",
                       o->calibration);
    slm_quick_plan *p = slm_xcalloc(1, sizeof *p);
    p->table = t;
    p->calibration = o->calibration;
    p->seed = o->seed;
    p->col_id = -1;
    int rc = choose_columns(p, o, err, errlen);
    if (!rc) {
        choose_ids(p);
        rc = take_rows(p, o->skip_empty, err, errlen) || derive_labels(p, err, errlen);
    }
    if (!rc) {
        split_rows(p);
        if (!p->n_test)
            rc = slm_err(err, errlen, "%s: no rows left for the test split; hold out less with "
                         "--calibration", t->path);
    }
    if (rc) {
        slm_quick_plan_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void slm_quick_plan_free(slm_quick_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_rows; i++) {
        free(p->rows[i].id);
        free(p->rows[i].text);
        free(p->rows[i].label);
    }
    free(p->rows);
    for (size_t i = 0; i < p->n_labels; i++)
        free(p->labels[i]);
    free(p->labels);
    free(p->counts);
    free(p->why_text);
    free(p->why_label);
    free(p->why_id);
    free(p);
}

/* ---- the files ---- */

const char SLM_QUICK_PROMPT[] = "Classify the text into one of these labels: {{labels}}.\n"
                                "\n"
                                "Text: {{text}}\n"
                                "Label:";

/* s as a YAML double-quoted scalar (control characters escaped). */
static void yaml_str(slm_buf *b, const char *s)
{
    slm_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            slm_buf_printf(b, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            slm_buf_printf(b, "\\x%02x", *p);
        else
            slm_buf_putc(b, (char)*p);
    }
    slm_buf_putc(b, '"');
}

/* A CSV cell, quoted when it must be (RFC 4180; spaces at either end kept by quoting). */
static void csv_cell(slm_buf *b, const char *s)
{
    size_t n = strlen(s);
    int q = !n || strpbrk(s, ",\"\r\n") || isspace((unsigned char)s[0]) ||
            isspace((unsigned char)s[n - 1]);
    if (!q) {
        slm_buf_puts(b, s);
        return;
    }
    slm_buf_putc(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            slm_buf_putc(b, '"');
        slm_buf_putc(b, *p);
    }
    slm_buf_putc(b, '"');
}

/* n with thousands separators ("2,000"). */
static void put_count(slm_buf *b, size_t n)
{
    char d[32];
    int len = snprintf(d, sizeof d, "%zu", n);
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            slm_buf_putc(b, ',');
        slm_buf_putc(b, d[i]);
    }
}

static slm_buf *add_file(slm_quick_files *f, const char *name)
{
    f->names[f->n] = slm_xstrdup(name);
    memset(&f->bufs[f->n], 0, sizeof f->bufs[f->n]);
    return &f->bufs[f->n++];
}

static void split_csv(const slm_quick_plan *p, int cal, slm_buf *b)
{
    slm_buf_puts(b, "id,text,label\n");
    for (size_t i = 0; i < p->n_rows; i++) {
        const slm_qrow *r = &p->rows[i];
        if (r->calibration != cal)
            continue;
        csv_cell(b, r->id);
        slm_buf_putc(b, ',');
        csv_cell(b, r->text);
        slm_buf_putc(b, ',');
        csv_cell(b, r->label);
        slm_buf_putc(b, '\n');
    }
}

static void evalset_yaml(const slm_quick_plan *p, const slm_quick_run *r, slm_buf *b)
{
    slm_buf_puts(b, "# Made by `slmbench quick` (README.md says how); edit freely.\nname: ");
    yaml_str(b, r->name);
    slm_buf_puts(b, "\nversion: 1\ntask: classification\ndescription: ");
    char *d = slm_xasprintf("column '%s' of %s, labelled by column '%s'",
                            p->table->cols[p->col_text], p->table->path,
                            p->table->cols[p->col_label]);
    yaml_str(b, d);
    free(d);
    slm_buf_puts(b, "\nlabels:\n");
    for (size_t i = 0; i < p->n_labels; i++) {
        slm_buf_puts(b, "  - ");
        yaml_str(b, p->labels[i]);
        slm_buf_putc(b, '\n');
    }
    slm_buf_puts(b, "prompt: prompt.txt\nsplits:\n  test: test.csv\n");
    if (p->n_cal)
        slm_buf_puts(b, "  calibration: calibration.csv\n");
}

void slm_quick_split_sentence(const slm_quick_plan *p, slm_buf *b)
{
    slm_buf_puts(b, "calibration: ");
    put_count(b, p->n_cal);
    slm_buf_puts(b, " of ");
    put_count(b, p->n_rows);
    slm_buf_printf(b, " rows, seed %llu, stratified by label", (unsigned long long)p->seed);
}

/* The eval set's README.md: where every choice came from. */
static void readme(const slm_quick_plan *p, const slm_quick_run *r, slm_buf *b)
{
    const slm_qtable *t = p->table;
    slm_buf_printf(b, "# %s\n\nMade by `slmbench quick` from `%s` (sha256 `%s`, ", r->name,
                   t->path, t->sha256);
    put_count(b, t->n_rows);
    slm_buf_printf(b, " rows).\n\n- text: column `%s` (%s)\n- label: column `%s` (%s)\n"
                   "- ids: %s\n", t->cols[p->col_text], p->why_text, t->cols[p->col_label],
                   p->why_label, p->why_id);
    if (p->n_skipped)
        slm_buf_printf(b, "- left out: %zu rows with an empty text or label (--skip-empty; the "
                       "first at line %ld)\n", p->n_skipped, p->first_skipped_line);
    slm_buf_puts(b, "- ");
    slm_quick_split_sentence(p, b);
    slm_buf_printf(b, " (per label round(%g × rows), at least one where a label has two or "
                   "more, never all): `calibration.csv`, for temperature scaling\n- test: ",
                   p->calibration);
    put_count(b, p->n_test);
    slm_buf_puts(b, " rows, `test.csv`, in a seeded random order (so `limit: N` in the run "
                    "config takes a sample)\n- prompt: `prompt.txt`, the same bytes for every "
                    "model:\n\n```\n");
    slm_buf_printf(b, "%s\n```\n\n| label | rows | test | calibration |\n|---|---:|---:|---:|\n",
                   SLM_QUICK_PROMPT);
    for (size_t l = 0; l < p->n_labels; l++) {
        size_t cal = 0;
        for (size_t i = 0; i < p->n_rows; i++)
            cal += p->rows[i].calibration && !strcmp(p->rows[i].label, p->labels[l]);
        slm_buf_puts(b, "| ");
        for (const char *c = p->labels[l]; *c; c++)
            slm_buf_puts(b, *c == '|' ? "\\|" : *c == '\n' ? " " : (char[2]){*c, 0});
        slm_buf_printf(b, " | %ld | %ld | %zu |\n", p->counts[l], p->counts[l] - (long)cal, cal);
    }
    slm_buf_puts(b, "\nCheck it with `slmbench evalsets check` on this folder; evaluate with "
                    "`slmbench run` on the `run.yaml` beside it.\n");
}

static void run_yaml(const slm_quick_plan *p, const slm_quick_run *r, slm_buf *b)
{
    slm_buf_puts(b, "# Made by `slmbench quick`; run it again with `slmbench run` on this file.\n"
                    "# Every key, its default and bounds: slmbench run --print-defaults\n"
                    "name: ");
    yaml_str(b, r->name);
    slm_buf_puts(b, "\nevalset: evalset          # the folder beside this file\n"
                    "split: test\nmode: score             # log P(label | prompt) of every "
                    "label\n");
    slm_buf_printf(b, "quantization: %s\n", r->mixed ? "mixed   # compared across "
                   "quantizations on purpose (--mixed-quantization)"
                   : "same     # every candidate at one quantization");
    if (p->n_cal)
        slm_buf_puts(b, "calibration_split: calibration   # temperature scaling, fitted on "
                        "held-out rows\n");
    slm_buf_printf(b, "seed: %llu                 # bootstrap intervals and paired tests\n",
                   (unsigned long long)p->seed);
    if (r->limit > 0)
        slm_buf_printf(b, "limit: %ld                # examples of the test split evaluated "
                       "(0: all)\n", r->limit);
    else
        slm_buf_puts(b, "# limit: 500              # evaluate a sample of the test split\n");
    slm_buf_puts(b, "# What a candidate must reach to be recommended (uncomment and set):\n"
                    "# requirements: {min_accuracy: 0.80, max_ece: 0.10, max_p95_ms: 100}\n"
                    "candidates:\n");
    for (size_t i = 0; i < r->n_models; i++) {
        slm_buf_puts(b, "  - name: ");
        yaml_str(b, r->models[i].name);
        slm_buf_puts(b, "\n    model: ");
        yaml_str(b, r->models[i].path);
        if (r->models[i].quant)
            slm_buf_printf(b, "   # %s", r->models[i].quant);
        slm_buf_putc(b, '\n');
    }
}

void slm_quick_files_make(const slm_quick_plan *p, const slm_quick_run *r,
                          slm_quick_files *f)
{
    memset(f, 0, sizeof *f);
    evalset_yaml(p, r, add_file(f, "evalset/evalset.yaml"));
    slm_buf_puts(add_file(f, "evalset/prompt.txt"), SLM_QUICK_PROMPT);
    split_csv(p, 0, add_file(f, "evalset/test.csv"));
    if (p->n_cal)
        split_csv(p, 1, add_file(f, "evalset/calibration.csv"));
    readme(p, r, add_file(f, "evalset/README.md"));
    run_yaml(p, r, add_file(f, "run.yaml"));
}

void slm_quick_files_free(slm_quick_files *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->names[i]);
        slm_buf_free(&f->bufs[i]);
    }
    f->n = 0;
}

/* 1 when path holds other bytes than b (or cannot be read), 0 when the same, -1 when absent. */
static int differs(const char *path, const slm_buf *b)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    char *old;
    size_t len;
    char err[SLM_ERRLEN];
    if (slm_read_file(path, &old, &len, err, sizeof err))
        return 1;
    int d = len != b->len || memcmp(old, b->data ? b->data : "", len) != 0;
    free(old);
    return d;
}

int slm_quick_files_write(const slm_quick_files *f, const char *dir, int force, size_t *n_same,
                          char *err, size_t errlen)
{
    *n_same = 0;
    for (size_t i = 0; i < f->n && !force; i++) {
        char *path = slm_xasprintf("%s/%s", dir, f->names[i]);
        int d = differs(path, &f->bufs[i]);
        if (d > 0) {
            slm_err(err, errlen, "%s already exists with other contents (another eval set or "
                    "an edited file); choose another folder with --out DIR, or replace it "
                    "with --force", path);
            free(path);
            return -1;
        }
        free(path);
    }
    char *sub = slm_xasprintf("%s/evalset", dir);
    int rc = slm_mkdir_p(sub, err, errlen);
    free(sub);
    for (size_t i = 0; i < f->n && !rc; i++) {
        char *path = slm_xasprintf("%s/%s", dir, f->names[i]);
        if (differs(path, &f->bufs[i]) == 0)
            ++*n_same;
        else
            rc = slm_write_file_atomic(path, f->bufs[i].data ? f->bufs[i].data : "",
                                       f->bufs[i].len, err, errlen);
        free(path);
    }
    return rc;
}
