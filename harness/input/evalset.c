/* evalset.c — see evalset.h. */
#include "evalset.h"
#include "nearest.h"
#include "sha256.h"
#include "util.h"
#include "yamltree.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- rows ---- */

typedef struct row_sink {
    const char *path;
    const slm_load_opts *opts;
    slm_dataset *d;
    char *err;
    size_t errlen;
    int failed;
    char *pending_slice;   /* slice of the row being sunk (taken by sink_row) */
    size_t rows_cap;       /* d->rows has room for this many (grown by doubling) */
    /* id uniqueness: open-addressing table of indices into d->rows */
    size_t *ht;
    size_t ht_cap;
} row_sink;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void ht_grow(row_sink *s)
{
    size_t cap = s->ht_cap ? s->ht_cap * 2 : 1024;
    size_t *ht = slm_xmalloc(cap * sizeof *ht);
    for (size_t i = 0; i < cap; i++)
        ht[i] = (size_t)-1;
    for (size_t i = 0; i < s->ht_cap; i++) {
        if (s->ht[i] == (size_t)-1)
            continue;
        size_t k = hash_str(s->d->rows[s->ht[i]].id) & (cap - 1);
        while (ht[k] != (size_t)-1)
            k = (k + 1) & (cap - 1);
        ht[k] = s->ht[i];
    }
    free(s->ht);
    s->ht = ht;
    s->ht_cap = cap;
}

/* Returns the index of an earlier row with this id, or -1; inserts row idx otherwise. */
static long ht_insert(row_sink *s, const char *id, size_t idx)
{
    if ((s->d->n + 1) * 2 > s->ht_cap)
        ht_grow(s);
    size_t k = hash_str(id) & (s->ht_cap - 1);
    while (s->ht[k] != (size_t)-1) {
        if (strcmp(s->d->rows[s->ht[k]].id, id) == 0)
            return (long)s->ht[k];
        k = (k + 1) & (s->ht_cap - 1);
    }
    s->ht[k] = idx;
    return -1;
}

/* Words of a list for a message: "a, b, c" (the first max of n, then ", ... (N in all)"). */
static void word_list(char *out, size_t outlen, const char *const *w, size_t n, size_t max)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && i < max && at < outlen; i++)
        at += (size_t)snprintf(out + at, outlen - at, "%s%.60s", i ? ", " : "", w[i]);
    if (n > max && at < outlen)
        snprintf(out + at, outlen - at, ", ... (%zu in all)", n);
}

/* "label 'x' is not in the label set of Y; did you mean 'z'?" (or the labels it has). */
static void label_outside(const slm_load_opts *o, const char *label, char *reason, size_t n)
{
    const char *near = slm_nearest(label, (const char *const *)o->labels, o->n_labels);
    char known[256];
    word_list(known, sizeof known, (const char *const *)o->labels, o->n_labels, 8);
    int at = snprintf(reason, n, "label '%.80s' is not in the label set%s%s", label,
                      o->labels_from ? " of " : "", o->labels_from ? o->labels_from : "");
    if (at < 0 || (size_t)at >= n)
        return;
    if (near)
        snprintf(reason + at, n - (size_t)at, "; did you mean '%.80s'?", near);
    else
        snprintf(reason + at, n - (size_t)at, " (%s); fix the row, or add the label to the "
                 "label set", known);
}

/* Validates one row and appends it (taking ownership of the strings), or reports/skips it.
 * Returns -1 when loading must stop. */
static int sink_row(row_sink *s, long line, char *id, char *text, char *label, const char *why)
{
    char reason[512];
    reason[0] = '\0';
    if (s->d->n + s->d->n_skipped >= (size_t)SLM_MAX_ROWS) {
        /* never skipped: the file is too long, not the row bad */
        free(id);
        free(text);
        free(label);
        free(s->pending_slice);
        s->pending_slice = NULL;
        s->failed = 1;
        return slm_err(s->err, s->errlen, "%s:%ld: more than %ld rows, the limit of one split "
                       "file", s->path, line, SLM_MAX_ROWS);
    }
    if (why) {
        snprintf(reason, sizeof reason, "%s", why);
    } else {
        const char *names[3] = {"id", "text", "label"};
        char *vals[3] = {id, text, label};
        for (int i = 0; i < 3 && !reason[0]; i++) {
            size_t n = strlen(vals[i]);
            if (n > SLM_MAX_FIELD_BYTES)
                snprintf(reason, sizeof reason,
                         "field '%s' is %zu bytes, more than the limit of %u", names[i], n,
                         SLM_MAX_FIELD_BYTES);
            else if (slm_utf8_invalid_at(vals[i], n) >= 0)
                snprintf(reason, sizeof reason, "field '%s' is not valid UTF-8 (byte %ld)",
                         names[i], slm_utf8_invalid_at(vals[i], n) + 1);
        }
        if (!reason[0]) {
            slm_trim(id);
            slm_trim(label);
            if (!*id)
                snprintf(reason, sizeof reason, "empty id");
            else if (!*label)
                snprintf(reason, sizeof reason, "empty label for id '%.80s'", id);
            else {
                const char *t = text;
                while (*t && isspace((unsigned char)*t))
                    t++;
                if (!*t)
                    snprintf(reason, sizeof reason, "empty text for id '%.80s'", id);
            }
        }
        if (!reason[0] && s->opts && s->opts->fields)
            slm_check_object_label(label, s->opts->fields, s->opts->n_fields, reason,
                                   sizeof reason);
        if (!reason[0] && s->opts && s->opts->labels &&
            slm_label_index(s->opts->labels, s->opts->n_labels, label) < 0)
            label_outside(s->opts, label, reason, sizeof reason);
    }
    if (!reason[0]) {
        if (s->d->n == s->rows_cap) { /* by doubling: a million rows one by one cost minutes
                                         where realloc copies (valgrind, sanitizers) */
            s->rows_cap = s->rows_cap ? 2 * s->rows_cap : 64;
            s->d->rows = slm_xrealloc(s->d->rows, s->rows_cap * sizeof *s->d->rows);
        }
        long prev = ht_insert(s, id, s->d->n);
        if (prev >= 0) {
            snprintf(reason, sizeof reason, "duplicate id '%.80s' (first on line %ld)", id,
                     s->d->rows[prev].line);
        } else {
            slm_example *e = &s->d->rows[s->d->n++];
            e->id = id;
            e->text = text;
            e->label = label;
            e->slice = s->pending_slice;
            s->pending_slice = NULL;
            e->line = line;
            return 0;
        }
    }
    free(id);
    free(text);
    free(label);
    free(s->pending_slice);
    s->pending_slice = NULL;
    if (s->opts && s->opts->skip_bad_rows) {
        if (!s->d->first_skip_reason)
            s->d->first_skip_reason = slm_xasprintf("%s:%ld: %s", s->path, line, reason);
        if (s->d->n_bad_rows < s->opts->keep_bad_rows) {
            if (!s->d->bad_rows)
                s->d->bad_rows = slm_xcalloc(s->opts->keep_bad_rows, sizeof *s->d->bad_rows);
            s->d->bad_rows[s->d->n_bad_rows++] = slm_xasprintf("%s:%ld: %s", s->path, line,
                                                               reason);
        }
        s->d->n_skipped++;
        return 0;
    }
    s->failed = 1;
    return slm_err(s->err, s->errlen, "%s:%ld: %s", s->path, line, reason);
}

/* ---- CSV ---- */

typedef struct csv_state {
    row_sink *sink;
    int header_done;
    int col_id, col_text, col_label, col_slice; /* column indices from the header */
    size_t n_cols;
    char **fields;                   /* current record */
    size_t nf, capf;
    long line;                       /* physical line being fed */
    long rec_newlines;               /* newlines inside the current record's fields */
    long last_rec_end;               /* line where the previous record ended */
    long fields_done;                /* fields completed so far in the file */
    long quote_line;                 /* line where the quoted field still open began, or 0 */
    long quote_field;                /* fields_done when that quoted field began */
    size_t rec_bytes;                /* bytes of the current record's fields */
    long nul_col;                    /* first field of the record holding a NUL byte, or -1 */
    size_t nul_byte;                 /* its 0-based offset in that field */
    int stop;
} csv_state;

/* The header lacks column want: the error names the columns it has and the nearest. */
static void missing_column(const csv_state *c, const char *want, long line)
{
    char cols[256];
    word_list(cols, sizeof cols, (const char *const *)c->fields, c->nf, 12);
    const char *near = slm_nearest(want, (const char *const *)c->fields, c->nf);
    const char *taken[] = {c->col_id >= 0 ? "id" : NULL, c->col_text >= 0 ? "text" : NULL,
                           c->col_label >= 0 ? "label" : NULL, c->col_slice >= 0 ? "slice" : NULL};
    for (size_t i = 0; near && i < sizeof taken / sizeof *taken; i++)
        if (taken[i] && !strcmp(taken[i], near))
            near = NULL; /* 'id' is no better name for 'ids' when 'id' is there */
    row_sink *s = c->sink;
    if (near)
        slm_err(s->err, s->errlen, "%s:%ld: header has no '%s' column (expected a header with "
                "id,text,label; the header is %s); did you mean '%.60s'? rename it to '%s'",
                s->path, line, want, cols, near, want);
    else
        slm_err(s->err, s->errlen, "%s:%ld: header has no '%s' column (expected a header with "
                "id,text,label; the header is %s): rename the column that holds the %s to '%s'",
                s->path, line, want, cols, !strcmp(want, "id") ? "example ids" :
                !strcmp(want, "text") ? "input texts" : "gold labels", want);
}

static void csv_field(void *data, size_t len, void *ud)
{
    csv_state *c = ud;
    if (c->stop)
        return;
    if (c->nf == c->capf) {
        c->capf = c->capf ? c->capf * 2 : 8;
        c->fields = slm_xrealloc(c->fields, c->capf * sizeof *c->fields);
    }
    const char *p = data ? data : "";
    for (size_t i = 0; i < len; i++)
        if (p[i] == '\n')
            c->rec_newlines++;
    const char *z = memchr(p, '\0', len);
    if (z && c->nul_col < 0) {
        c->nul_col = (long)c->nf;
        c->nul_byte = (size_t)(z - p);
    }
    c->fields[c->nf++] = slm_xstrndup(p, len);
    c->fields_done++;
    c->rec_bytes += len;
}

static void clear_fields(csv_state *c)
{
    for (size_t i = 0; i < c->nf; i++)
        free(c->fields[i]);
    c->nf = 0;
    c->rec_newlines = 0;
    c->rec_bytes = 0;
    c->nul_col = -1;
}

/* The reason for a record with a NUL byte (a C string would end there and silently
 * truncate the field): the field's name where the header gives one, its column, the byte. */
static void nul_reason(const csv_state *c, char *why, size_t n)
{
    long i = c->nul_col;
    const char *name = i == c->col_id ? "id" : i == c->col_text ? "text"
                       : i == c->col_label ? "label" : i == c->col_slice ? "slice" : NULL;
    if (!c->header_done)
        snprintf(why, n, "header column %ld contains a NUL byte (byte %zu)", i + 1,
                 c->nul_byte + 1);
    else if (name)
        snprintf(why, n, "field '%s' (column %ld) contains a NUL byte (byte %zu)", name, i + 1,
                 c->nul_byte + 1);
    else
        snprintf(why, n, "column %ld contains a NUL byte (byte %zu)", i + 1, c->nul_byte + 1);
}

/* A record over SLM_MAX_ROW_BYTES whose id, text and label are each within
 * SLM_MAX_FIELD_BYTES (a field over that is named by sink_row() instead). */
static int row_too_big(const csv_state *c)
{
    if (c->rec_bytes <= SLM_MAX_ROW_BYTES || c->nf != c->n_cols)
        return 0;
    int cols[3] = {c->col_id, c->col_text, c->col_label};
    for (int i = 0; i < 3; i++)
        if (strlen(c->fields[cols[i]]) > SLM_MAX_FIELD_BYTES)
            return 0;
    return 1;
}

static void csv_record(int term, void *ud)
{
    csv_state *c = ud;
    (void)term;
    if (c->stop) {
        clear_fields(c);
        return;
    }
    long end = c->line;
    long start = end - c->rec_newlines;
    c->last_rec_end = end;
    row_sink *s = c->sink;
    if (c->nul_col >= 0) {
        char why[128];
        nul_reason(c, why, sizeof why);
        if (!c->header_done) {
            slm_err(s->err, s->errlen, "%s:%ld: %s", s->path, start, why);
            s->failed = 1;
            c->stop = 1;
        } else if (sink_row(s, start, NULL, NULL, NULL, why)) {
            c->stop = 1;
        }
        clear_fields(c);
        return;
    }
    if (!c->header_done) {
        c->header_done = 1;
        c->col_id = c->col_text = c->col_label = c->col_slice = -1;
        for (size_t i = 0; i < c->nf; i++) {
            char *h = slm_trim(c->fields[i]);
            if (strcmp(h, "id") == 0 && c->col_id < 0)
                c->col_id = (int)i;
            else if (strcmp(h, "text") == 0 && c->col_text < 0)
                c->col_text = (int)i;
            else if (strcmp(h, "label") == 0 && c->col_label < 0)
                c->col_label = (int)i;
            else if (strcmp(h, "slice") == 0 && c->col_slice < 0)
                c->col_slice = (int)i;
        }
        c->n_cols = c->nf;
        const char *missing = c->col_id < 0 ? "id" : c->col_text < 0 ? "text"
                              : c->col_label < 0 ? "label" : NULL;
        if (missing) {
            missing_column(c, missing, start);
            s->failed = 1;
            c->stop = 1;
        }
        clear_fields(c);
        return;
    }
    if (c->nf != c->n_cols || row_too_big(c)) {
        char why[128];
        if (c->nf == c->n_cols)
            snprintf(why, sizeof why, "row is %zu bytes, more than the limit of %u", c->rec_bytes,
                     SLM_MAX_ROW_BYTES);
        else
            snprintf(why, sizeof why, "expected %zu fields as in the header, found %zu",
                     c->n_cols, c->nf);
        if (sink_row(s, start, NULL, NULL, NULL, why))
            c->stop = 1;
        clear_fields(c);
        return;
    }
    char *id = c->fields[c->col_id], *text = c->fields[c->col_text],
         *label = c->fields[c->col_label];
    c->fields[c->col_id] = c->fields[c->col_text] = c->fields[c->col_label] = NULL;
    char *slice = NULL;
    if (c->col_slice >= 0) {
        slice = c->fields[c->col_slice];
        c->fields[c->col_slice] = NULL;
    }
    s->pending_slice = slice;
    if (sink_row(s, start, id, text, label, NULL))
        c->stop = 1;
    clear_fields(c);
}

/* Called after each complete line (its newline fed): libcsv's public `quoted` flag says
 * whether a quoted field is still open; if it is a field not open at the end of the previous
 * line, it began on this line. */
static void note_open_quote(csv_state *c, const struct csv_parser *p)
{
    if (!p->quoted)
        c->quote_line = 0;
    else if (!c->quote_line || c->fields_done != c->quote_field) {
        c->quote_line = c->line;
        c->quote_field = c->fields_done;
    }
}

/* The line to name for a parse error noticed on line c->line: where the quoted field in
 * which it was noticed began, when that field was open since an earlier line. */
static long quote_start(const csv_state *c)
{
    return c->quote_line && c->fields_done == c->quote_field ? c->quote_line : c->line;
}

static int load_csv(row_sink *s, const char *buf, size_t len)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return slm_err(s->err, s->errlen, "cannot initialise the CSV parser");
    /* libcsv grows a field by blk_size bytes at a time; a large step keeps a huge field
     * (rejected later, but read first) from costing quadratic copying. */
    csv_set_blk_size(&p, 1u << 20);
    csv_state c = {.sink = s, .line = 1, .nul_col = -1};
    size_t off = 0;
    int rc = 0;
    /* Feed line by line so errors can name the line. */
    while (off < len && !c.stop) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (buf + off)) + 1 : len - off;
        if (csv_parse(&p, buf + off, n, csv_field, csv_record, &c) != n) {
            long at = quote_start(&c);
            if (at != c.line)
                rc = slm_err(s->err, s->errlen, "%s:%ld: malformed CSV: %s (in the quoted field "
                             "that starts on this line; noticed on line %ld)", s->path, at,
                             csv_strerror(csv_error(&p)), c.line);
            else
                rc = slm_err(s->err, s->errlen, "%s:%ld: malformed CSV: %s", s->path, c.line,
                             csv_strerror(csv_error(&p)));
            break;
        }
        off += n;
        if (nl) {
            note_open_quote(&c, &p);
            c.line++;
        }
    }
    if (!rc && !c.stop && csv_fini(&p, csv_field, csv_record, &c) != 0)
        rc = slm_err(s->err, s->errlen,
                     "%s:%ld: malformed CSV: unterminated quoted field (the quote opened on "
                     "this line is still open at the end of the file)", s->path, quote_start(&c));
    clear_fields(&c);
    free(c.fields);
    csv_free(&p);
    if (s->failed)
        return -1;
    if (!rc && !c.header_done)
        rc = slm_err(s->err, s->errlen, "%s: no header line (expected id,text,label)", s->path);
    return rc;
}

/* ---- JSON lines ---- */

/* "missing or non-string field 'text'", with the line's keys and the nearest of them. */
static void missing_field(json_t *o, const char *want, char *why, size_t n)
{
    const char *keys[12];
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        if (k < sizeof keys / sizeof *keys)
            keys[k++] = key;
    }
    char list[256];
    word_list(list, sizeof list, keys, k, sizeof keys / sizeof *keys);
    const char *near = json_object_get(o, want) ? NULL : slm_nearest(want, keys, k);
    if (near && (!strcmp(near, "id") || !strcmp(near, "text") || !strcmp(near, "label")))
        near = NULL; /* 'label' is no better name for 'labels' when 'label' is there */
    int at = snprintf(why, n, "missing or non-string field '%s' (the line has %s)", want,
                      k ? list : "no field");
    if (near && at > 0 && (size_t)at < n)
        snprintf(why + at, n - (size_t)at, "; did you mean '%.60s'? rename it to '%s'", near,
                 want);
}

static char *json_field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (json_is_object(v)) {
        char *d = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
        char *r = slm_xstrdup(d);
        free(d);
        return r;
    }
    if (json_is_string(v))
        return slm_xstrndup(json_string_value(v), json_string_length(v));
    if (json_is_integer(v))
        return slm_xasprintf("%lld", (long long)json_integer_value(v));
    return NULL;
}

/* A key given twice in one object (jansson would keep the last): the reason names the key
 * as written (jansson's message ends "near '\"key\"'") and the byte column where it starts
 * on the line (the JSON began at byte `lead` + 1; jansson's position is just past the key). */
static void duplicate_key_reason(const json_error_t *je, size_t lead, char *why, size_t n)
{
    const char *near = strstr(je->text, " near '");
    const char *end = near ? strrchr(near, '\'') : NULL;
    if (near && end > near + 7) {
        int klen = (int)(end - (near + 7));
        snprintf(why, n, "duplicate key %.*s (column %ld): each key may appear once in a row",
                 klen, near + 7, (long)lead + je->position - klen + 1);
    } else {
        snprintf(why, n, "duplicate key: %s", je->text);
    }
}

static int load_jsonl(row_sink *s, const char *buf, size_t len)
{
    long line = 0;
    size_t off = 0;
    while (off < len) {
        line++;
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;
        const char *l = buf + off;
        off += n + (nl ? 1 : 0);
        size_t k = n;
        while (k && (l[k - 1] == '\r' || l[k - 1] == ' ' || l[k - 1] == '\t'))
            k--;
        size_t b = 0;
        while (b < k && (l[b] == ' ' || l[b] == '\t'))
            b++;
        if (b == k)
            continue;
        if (k - b > SLM_MAX_ROW_BYTES) {
            char why[128];
            snprintf(why, sizeof why, "row is %zu bytes, more than the limit of %u", k - b,
                     SLM_MAX_ROW_BYTES);
            if (sink_row(s, line, NULL, NULL, NULL, why))
                return -1;
            continue;
        }
        json_error_t je;
        json_t *o = json_loadb(l + b, k - b, JSON_REJECT_DUPLICATES, &je);
        if (!o || !json_is_object(o)) {
            json_decref(o);
            char why[300];
            if (!o && json_error_code(&je) == json_error_duplicate_key)
                duplicate_key_reason(&je, b, why, sizeof why);
            else
                snprintf(why, sizeof why, "not a JSON object%s%s", o ? "" : ": ",
                         o ? "" : je.text);
            if (sink_row(s, line, NULL, NULL, NULL, why))
                return -1;
            continue;
        }
        char *id = json_field(o, "id"), *text = json_field(o, "text"),
             *label = json_field(o, "label");
        char why[512];
        if (!id || !text || !label)
            missing_field(o, !id ? "id" : !text ? "text" : "label", why, sizeof why);
        json_decref(o);
        if (!id || !text || !label) {
            free(id);
            free(text);
            free(label);
            if (sink_row(s, line, NULL, NULL, NULL, why))
                return -1;
            continue;
        }
        if (sink_row(s, line, id, text, label, NULL))
            return -1;
    }
    return 0;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Refuses a regular file over max bytes before it is read (what: "split file"). */
static int check_size(const char *path, long max, const char *what, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > max)
        return slm_err(err, errlen, "%s: %lld bytes, more than the limit of %ld for a %s", path,
                       (long long)st.st_size, max, what);
    return 0;
}

int slm_dataset_load(const char *path, const slm_load_opts *opts, slm_dataset **out, char *err,
                     size_t errlen)
{
    char *buf;
    size_t len;
    if (check_size(path, SLM_MAX_SPLIT_FILE_BYTES, "split file", err, errlen) ||
        slm_read_file(path, &buf, &len, err, errlen))
        return -1;
    int rc = slm_dataset_parse(path, buf, len, opts, out, err, errlen);
    free(buf);
    return rc;
}

int slm_dataset_parse(const char *path, const char *buf, size_t len, const slm_load_opts *opts,
                      slm_dataset **out, char *err, size_t errlen)
{
    slm_dataset *d = slm_xcalloc(1, sizeof *d);
    d->path = slm_xstrdup(path);
    slm_sha256_hex(buf, len, d->sha256);
    const char *p = buf;
    size_t n = len;
    if (n >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
        (unsigned char)p[2] == 0xBF) {
        p += 3;
        n -= 3;
    }
    int rc;
    size_t k = 0;
    while (k < n && (p[k] == '\n' || p[k] == '\r' || p[k] == ' ' || p[k] == '\t'))
        k++;
    row_sink s = {.path = path, .opts = opts, .d = d, .err = err, .errlen = errlen};
    if (k == n)
        rc = slm_err(err, errlen, "%s: file is empty", path);
    else if (has_suffix(path, ".jsonl") || has_suffix(path, ".ndjson"))
        rc = load_jsonl(&s, p, n);
    else
        rc = load_csv(&s, p, n);
    if (!rc && d->n == 0 && !(d->n_skipped && opts && opts->keep_bad_rows))
        rc = slm_err(err, errlen, "%s: no rows%s", path,
                     d->n_skipped ? " (every row was bad and skipped)" : "");
    free(s.ht);
    if (rc) {
        slm_dataset_free(d);
        return -1;
    }
    *out = d;
    return 0;
}

void slm_dataset_free(slm_dataset *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->rows[i].id);
        free(d->rows[i].text);
        free(d->rows[i].label);
        free(d->rows[i].slice);
    }
    free(d->rows);
    free(d->first_skip_reason);
    for (size_t i = 0; i < d->n_bad_rows; i++)
        free(d->bad_rows[i]);
    free(d->bad_rows);
    free(d->path);
    free(d);
}

int slm_label_index(const char *const *labels, size_t n, const char *label)
{
    const char *a = label;
    while (*a == ' ' || *a == '\t' || *a == '\r' || *a == '\n')
        a++;
    size_t la = strlen(a);
    while (la && (a[la - 1] == ' ' || a[la - 1] == '\t' || a[la - 1] == '\r' || a[la - 1] == '\n'))
        la--;
    for (size_t i = 0; i < n; i++)
        if (strlen(labels[i]) == la && memcmp(labels[i], a, la) == 0)
            return (int)i;
    return -1;
}

/* ---- JSON object labels (structured and extraction tasks) ---- */

int slm_check_object_label(const char *label, const slm_field_def *f, size_t n, char *reason,
                           size_t rlen)
{
    json_error_t je;
    json_t *o = json_loads(label, 0, &je);
    int rc = -1;
    if (!json_is_object(o)) {
        snprintf(reason, rlen, "label is not a JSON object (%s)", o ? "another JSON value" : je.text);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(o, f[i].name);
        if (!v) {
            snprintf(reason, rlen, "label has no field '%s'", f[i].name);
            goto out;
        }
        if (f[i].type == SLM_FIELD_ENUM) {
            int ok = 0;
            for (size_t k = 0; json_is_string(v) && k < f[i].n_values; k++)
                ok |= !strcmp(f[i].values[k], json_string_value(v));
            if (!ok) {
                snprintf(reason, rlen, "label field '%s' is not one of its values", f[i].name);
                goto out;
            }
        } else if (f[i].type == SLM_FIELD_LIST) {
            if (!json_is_array(v)) {
                snprintf(reason, rlen, "label field '%s' should be a list", f[i].name);
                goto out;
            }
        } else if (!json_is_null(v) && (f[i].type == SLM_FIELD_NUMBER ? !json_is_number(v)
                                                                       : !json_is_string(v))) {
            snprintf(reason, rlen, "label field '%s' should be a %s or null", f[i].name,
                     f[i].type == SLM_FIELD_NUMBER ? "number" : "string");
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(o);
    return rc;
}

static int parse_fields(slm_evalset *e, const slm_yaml *y, const slm_ynode *f, char *err,
                        size_t errlen)
{
    if (!f || f->kind != SLM_Y_MAP || f->n == 0)
        return slm_err(err, errlen, "%s:%d: task '%s' needs 'fields' (field: [values] or field: "
                       "string|number)", e->yaml_path, f ? f->line : 1, e->task);
    e->fields = slm_xcalloc(f->n, sizeof *e->fields);
    for (size_t i = 0; i < f->n; i++) {
        slm_field_def *d = &e->fields[e->n_fields++];
        d->name = slm_xstrdup(f->keys[i]);
        const slm_ynode *v = f->values[i];
        if (v->kind == SLM_Y_SEQ) {
            d->type = SLM_FIELD_ENUM;
            if (v->n > (size_t)SLM_MAX_LABELS)
                return slm_err(err, errlen, "%s:%d: field '%s' has %zu values, more than the "
                               "limit of %ld", y->path, v->items[SLM_MAX_LABELS]->line, d->name,
                               v->n, SLM_MAX_LABELS);
            d->values = slm_xcalloc(v->n ? v->n : 1, sizeof *d->values);
            for (size_t k = 0; k < v->n; k++) {
                if (v->items[k]->kind != SLM_Y_SCALAR)
                    return slm_err(err, errlen, "%s:%d: values of field '%s' must be strings",
                                   y->path, v->items[k]->line, d->name);
                if (strlen(v->items[k]->scalar) > (size_t)SLM_MAX_LABEL_BYTES)
                    return slm_err(err, errlen, "%s:%d: a value of field '%s' is %zu bytes, "
                                   "more than the limit of %ld", y->path, v->items[k]->line,
                                   d->name, strlen(v->items[k]->scalar), SLM_MAX_LABEL_BYTES);
                d->values[d->n_values++] = slm_xstrdup(v->items[k]->scalar);
            }
            if (d->n_values < 2)
                return slm_err(err, errlen, "%s:%d: field '%s' needs at least two values",
                               y->path, v->line, d->name);
        } else if (v->kind == SLM_Y_SCALAR && !strcmp(v->scalar, "string")) {
            d->type = SLM_FIELD_STRING;
        } else if (v->kind == SLM_Y_SCALAR && !strcmp(v->scalar, "number")) {
            d->type = SLM_FIELD_NUMBER;
        } else if (v->kind == SLM_Y_SCALAR && !strcmp(v->scalar, "list")) {
            d->type = SLM_FIELD_LIST;
        } else {
            return slm_err(err, errlen, "%s:%d: field '%s': give a list of values, 'string', "
                           "'number' or 'list'", y->path, v->line, d->name);
        }
    }
    return 0;
}

/* ---- evalset.yaml ---- */

static char *join_dir(const char *dir, const char *rel)
{
    if (rel[0] == '/' || !dir[0])
        return slm_xstrdup(rel);
    return slm_xasprintf("%s/%s", dir, rel);
}

/* name, version, task (and a JSON task's fields), description. */
static int evalset_header(slm_evalset *e, const slm_yaml *y, const slm_ynode *r, char *err,
                          size_t errlen)
{
    static const char *const tasks[] = {"classification", "structured", "extraction"};
    static const slm_task kinds[] = {SLM_TASK_CLASSIFICATION, SLM_TASK_STRUCTURED,
                                          SLM_TASK_EXTRACTION};
    const char *name = slm_ymap_str(r, "name");
    if (!name || !*name)
        return slm_err(err, errlen, "%s: missing 'name'", e->yaml_path);
    e->name = slm_xstrdup(name);
    e->version = slm_xstrdup(slm_ymap_str(r, "version") ? slm_ymap_str(r, "version") : "1");
    e->task = slm_xstrdup(slm_ymap_str(r, "task") ? slm_ymap_str(r, "task") : "classification");
    e->description = slm_xstrdup(slm_ymap_str(r, "description") ? slm_ymap_str(r, "description") : "");
    size_t t = 0;
    while (t < 3 && strcmp(e->task, tasks[t]))
        t++;
    if (t == 3)
        return slm_err(err, errlen, "%s:%d: task '%s' is not supported (classification, "
                       "structured, extraction)", e->yaml_path, slm_ymap_get(r, "task")->line,
                       e->task);
    e->task_kind = kinds[t];
    if (e->task_kind != SLM_TASK_CLASSIFICATION)
        return parse_fields(e, y, slm_ymap_get(r, "fields"), err, errlen);
    return 0;
}

static int evalset_labels(slm_evalset *e, const slm_ynode *r, char *err, size_t errlen)
{
    const slm_ynode *labels = slm_ymap_get(r, "labels");
    if (e->task_kind != SLM_TASK_CLASSIFICATION && !labels) {
        /* the label space of a JSON task is the fields; labels stay empty */
    } else if (!labels || labels->kind != SLM_Y_SEQ || labels->n < 2) {
        return slm_err(err, errlen, "%s:%d: 'labels' must be a list of at least two labels",
                       e->yaml_path, labels ? labels->line : r->line);
    }
    if (labels && labels->n > (size_t)SLM_MAX_LABELS)
        return slm_err(err, errlen, "%s:%d: %zu labels, more than the limit of %ld",
                       e->yaml_path, labels->items[SLM_MAX_LABELS]->line, labels->n,
                       SLM_MAX_LABELS);
    e->labels = slm_xcalloc(labels ? labels->n : 1, sizeof *e->labels);
    for (size_t i = 0; labels && i < labels->n; i++) {
        const slm_ynode *l = labels->items[i];
        if (l->kind != SLM_Y_SCALAR || !*slm_trim(l->scalar))
            return slm_err(err, errlen, "%s:%d: labels must be non-empty strings", e->yaml_path,
                           l->line);
        if (strlen(l->scalar) > (size_t)SLM_MAX_LABEL_BYTES)
            return slm_err(err, errlen, "%s:%d: label is %zu bytes, more than the limit of %ld",
                           e->yaml_path, l->line, strlen(l->scalar), SLM_MAX_LABEL_BYTES);
        if (slm_label_index((const char *const *)e->labels, e->n_labels, l->scalar) >= 0)
            return slm_err(err, errlen, "%s:%d: duplicate label '%s'", e->yaml_path, l->line,
                           l->scalar);
        e->labels[e->n_labels++] = slm_xstrdup(l->scalar);
    }
    return 0;
}

/* The prompt template file: read, and valid UTF-8 text. */
static int evalset_prompt(slm_evalset *e, const slm_ynode *r, char *err, size_t errlen)
{
    const char *prompt = slm_ymap_str(r, "prompt");
    if (!prompt)
        return slm_err(err, errlen, "%s: missing 'prompt' (the prompt template file)",
                       e->yaml_path);
    e->prompt_path = join_dir(e->dir, prompt);
    size_t plen;
    if (check_size(e->prompt_path, SLM_MAX_TEMPLATE_BYTES, "prompt template", err, errlen) ||
        slm_read_file(e->prompt_path, &e->prompt, &plen, err, errlen))
        return -1;
    if (slm_utf8_invalid_at(e->prompt, plen) >= 0 || strlen(e->prompt) != plen)
        return slm_err(err, errlen, "%s: the prompt template is not valid UTF-8 text",
                       e->prompt_path);
    slm_sha256_hex(e->prompt, plen, e->prompt_sha256);
    return 0;
}

static int evalset_splits(slm_evalset *e, const slm_ynode *r, char *err, size_t errlen)
{
    const slm_ynode *splits = slm_ymap_get(r, "splits");
    if (!splits || splits->kind != SLM_Y_MAP || splits->n == 0)
        return slm_err(err, errlen, "%s:%d: 'splits' must map split names to files",
                       e->yaml_path, splits ? splits->line : r->line);
    e->splits = slm_xcalloc(splits->n, sizeof *e->splits);
    for (size_t i = 0; i < splits->n; i++) {
        const slm_ynode *v = splits->values[i];
        if (v->kind != SLM_Y_SCALAR || !*v->scalar)
            return slm_err(err, errlen, "%s:%d: split '%s' must name a file", e->yaml_path,
                           v->line, splits->keys[i]);
        e->splits[e->n_splits].name = slm_xstrdup(splits->keys[i]);
        e->splits[e->n_splits++].path = join_dir(e->dir, v->scalar);
    }
    return 0;
}

/* -1 with the reason and the fix when path (with its evalset.yaml at yaml_path) is no
 * eval set: nothing there, a data file, or a folder without evalset.yaml. */
static int not_an_evalset(const char *path, const char *yaml_path, char *err, size_t errlen)
{
    struct stat st;
    static const char WHAT[] = "an eval set is a folder with evalset.yaml: task, labels, "
                               "prompt, splits; see evalsets/support-triage";
    if (!strcmp(path, yaml_path) || stat(yaml_path, &st) == 0)
        return 0; /* a yaml, or a folder with one: read and checked by the caller */
    if (stat(path, &st) != 0)
        return slm_err(err, errlen, "%s: no such file or folder (%s)", path, WHAT);
    if (!S_ISDIR(st.st_mode))
        return slm_err(err, errlen, "%s: is a data file, not an eval set (%s, which names "
                       "its split files); slmbench evalsets check FILE checks a file alone",
                       path, WHAT);
    return slm_err(err, errlen, "%s: a folder without evalset.yaml (%s)", path, WHAT);
}

int slm_evalset_load(const char *path, slm_evalset **out, char *err, size_t errlen)
{
    char *yaml_path;
    size_t pl = strlen(path);
    if (has_suffix(path, ".yaml") || has_suffix(path, ".yml"))
        yaml_path = slm_xstrdup(path);
    else
        yaml_path = slm_xasprintf("%.*s/evalset.yaml", (int)(pl && path[pl - 1] == '/' ? pl - 1 : pl),
                                  path);
    slm_yaml *y = NULL;
    if (not_an_evalset(path, yaml_path, err, errlen) || slm_yaml_load(yaml_path, &y, err, errlen)) {
        free(yaml_path);
        return -1;
    }
    slm_evalset *e = slm_xcalloc(1, sizeof *e);
    e->yaml_path = yaml_path;
    const char *slash = strrchr(yaml_path, '/');
    e->dir = slash ? slm_xstrndup(yaml_path, (size_t)(slash - yaml_path)) : slm_xstrdup(".");
    const slm_ynode *r = y->root;
    static const char *const keys[] = {"name", "version", "task", "description", "labels",
                                       "fields", "prompt", "splits", "slices", NULL};
    int rc;
    if (!r || r->kind != SLM_Y_MAP)
        rc = slm_err(err, errlen, "%s:%d: expected a mapping with name, task, labels, prompt, "
                     "splits", yaml_path, r ? r->line : 1);
    else
        rc = slm_ymap_check_keys(y, r, keys, "evalset.yaml", err, errlen) ||
             evalset_header(e, y, r, err, errlen) || evalset_labels(e, r, err, errlen) ||
             evalset_prompt(e, r, err, errlen) || evalset_splits(e, r, err, errlen) ||
             slm_slices_parse(e, y, slm_ymap_get(r, "slices"), err, errlen);
    slm_yaml_free(y);
    if (rc) {
        slm_evalset_free(e);
        return -1;
    }
    *out = e;
    return 0;
}

void slm_evalset_free(slm_evalset *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_labels; i++)
        free(e->labels[i]);
    free(e->labels);
    for (size_t i = 0; i < e->n_fields; i++) {
        free(e->fields[i].name);
        for (size_t k = 0; k < e->fields[i].n_values; k++)
            free(e->fields[i].values[k]);
        free(e->fields[i].values);
    }
    free(e->fields);
    for (size_t i = 0; i < e->n_splits; i++) {
        free(e->splits[i].name);
        free(e->splits[i].path);
    }
    free(e->splits);
    for (size_t i = 0; i < e->n_slices; i++) {
        free(e->slices[i].name);
        free(e->slices[i].split);
        free(e->slices[i].path);
        free(e->slices[i].version);
    }
    free(e->slices);
    free(e->yaml_path);
    free(e->dir);
    free(e->name);
    free(e->version);
    free(e->task);
    free(e->description);
    free(e->prompt_path);
    free(e->prompt);
    free(e);
}

const char *slm_evalset_split_path(const slm_evalset *e, const char *split)
{
    for (size_t i = 0; i < e->n_splits; i++)
        if (strcmp(e->splits[i].name, split) == 0)
            return e->splits[i].path;
    return NULL;
}

/* "eval set 'x' has no split 'y'; its splits: a, b, c; did you mean 'z'?" */
static int no_split(const slm_evalset *e, const char *split, char *err, size_t errlen)
{
    const char **names = slm_xcalloc(e->n_splits + 1, sizeof *names);
    for (size_t i = 0; i < e->n_splits; i++)
        names[i] = e->splits[i].name;
    char list[256];
    word_list(list, sizeof list, names, e->n_splits, 12);
    const char *near = slm_nearest(split, names, e->n_splits);
    int rc = slm_err(err, errlen, "%s: eval set '%s' has no split '%s'; its splits are %s%s%s%s",
                     e->yaml_path, e->name, split, list, near ? "; did you mean '" : "",
                     near ? near : "", near ? "'?" : "");
    free(names);
    return rc;
}

int slm_evalset_load_split(const slm_evalset *e, const char *split, int skip_bad_rows,
                           slm_dataset **out, char *err, size_t errlen)
{
    slm_load_opts o = slm_evalset_load_opts(e, skip_bad_rows);
    return slm_evalset_load_split_with(e, split, &o, out, err, errlen);
}

int slm_evalset_load_split_with(const slm_evalset *e, const char *split,
                                const slm_load_opts *o, slm_dataset **out, char *err,
                                size_t errlen)
{
    const char *p = slm_evalset_split_path(e, split);
    if (!p)
        return no_split(e, split, err, errlen);
    if (slm_dataset_load(p, o, out, err, errlen))
        return -1;
    if (slm_slices_append(e, split, o, *out, err, errlen)) {
        slm_dataset_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

slm_load_opts slm_evalset_load_opts(const slm_evalset *e, int skip_bad_rows)
{
    slm_load_opts o = {.labels = e->n_labels ? (const char *const *)e->labels : NULL,
                       .n_labels = e->n_labels,
                       .fields = e->n_fields ? e->fields : NULL,
                       .n_fields = e->n_fields,
                       .skip_bad_rows = skip_bad_rows,
                       .labels_from = e->yaml_path};
    return o;
}
