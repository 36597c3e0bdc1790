/*
 * replay.c — the replay engine: answers each request with what a file recorded for its
 * example id, so a past run can be re-scored deterministically without a model, and the
 * test suite has an engine whose faults it controls.
 *
 * The file is either the CSV of `slmbench export predictions` (header
 * id,label,pred,confidence,p_<label>...,latency_ms in any order; only id is required,
 * and one of pred or a p_ column) or JSON lines, one object per line with "id", "output"
 * and optionally "confidence" (a number) and "probs" (an object label -> probability).
 * The format is taken from the first non-blank byte: '{' means JSON lines. In the CSV, an
 * id or pred cell that begins with a single quote followed by = + - @ tab CR or another
 * quote loses that first quote: export predictions writes it to keep spreadsheets from
 * reading the cell as a formula, and reading it back this way gives the stored text.
 *
 * Options of open():
 *   file (or model)  the recorded file (required; `file` wins when both are given)
 *   delay_ms         sleep this long before answering each request
 *   fail_ids         comma-separated example ids whose requests fail
 *   fail_every       every N-th request fails
 *   die_after        after N successful requests the next one calls _exit(99), as a crash
 * Other options (threads, n_ctx, ...) are ignored.
 *
 * Scoring: a choice's label is the choice with surrounding whitespace removed. Its
 * log-probability is ln(p_<label>) when the record has that probability (p = 0 gives
 * -1e30, a finite stand-in for -inf); otherwise ln(1) for the recorded prediction and
 * ln(1e-6) for any other label. Token counts are words of the prompt and one token per
 * choice, which is all a replay can say.
 *
 * Nothing is global: all state, fault counters included, lives in the handle.
 */
#include <csv.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slm_engine.h"
#include "slm_plugin.h"

#define ENGINE_VERSION "0.1.0"
#define ENGINE_CAPS (SLM_CAP_SCORE | SLM_CAP_GENERATE | SLM_CAP_TOKEN_LOGPROBS)

/* ln P of a label that is neither the recorded prediction nor has a recorded
 * probability, and of a probability of exactly 0 (finite, so sums stay ordered). */
#define LOGP_OTHER (-13.815510557964274) /* ln(1e-6) */
#define LOGP_ZERO (-1e30)

/* One recorded probability: e->labels[label] had probability p. */
typedef struct rec_prob {
    size_t label;
    double p;
} rec_prob;

/* One recorded answer. */
typedef struct rec {
    char *id;
    char *text;        /* pred (CSV) or output (JSON lines); NULL if none was recorded */
    double confidence; /* NAN if unknown */
    size_t probs_off;  /* e->probs[probs_off .. probs_off + n_probs) */
    size_t n_probs;
    long line;         /* where the record starts, for duplicate-id messages */
} rec;

struct slm_engine {
    char *path;
    rec *recs;
    size_t n_recs, cap_recs;
    size_t *slots; /* open-addressing hash of ids: index + 1 into recs, 0 = empty */
    size_t n_slots;
    char **labels; /* distinct labels that have probabilities */
    size_t n_labels;
    rec_prob *probs;
    size_t n_probs, cap_probs;
    int is_jsonl;

    /* fault injection */
    long delay_ms;
    char **fail_ids;
    size_t n_fail_ids;
    long fail_every; /* 0: off */
    long die_after;  /* -1: off */
    long n_requests; /* requests seen, failed or not */
    long n_ok;       /* requests answered successfully */
};

/* ---- the id index -------------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Returns the slot where id is, or the empty slot where it would go. */
static size_t find_slot(const slm_engine *e, const char *id)
{
    size_t mask = e->n_slots - 1, i = (size_t)hash_str(id) & mask;
    while (e->slots[i] && strcmp(e->recs[e->slots[i] - 1].id, id))
        i = (i + 1) & mask;
    return i;
}

static const rec *lookup(const slm_engine *e, const char *id)
{
    if (!e->n_slots)
        return NULL;
    size_t i = find_slot(e, id);
    return e->slots[i] ? &e->recs[e->slots[i] - 1] : NULL;
}

/* Keeps the table at most half full so probes stay short; -1 when out of memory (the
 * table is then as it was). */
static int index_grow(slm_engine *e)
{
    if (e->n_slots && (e->n_recs + 1) * 2 <= e->n_slots)
        return 0;
    size_t old_n = e->n_slots, *old = e->slots;
    size_t *slots = slm_plugin_calloc(old_n ? old_n * 2 : 64, sizeof *e->slots);
    if (!slots)
        return -1;
    e->n_slots = old_n ? old_n * 2 : 64;
    e->slots = slots;
    for (size_t i = 0; i < old_n; i++)
        if (old[i])
            e->slots[find_slot(e, e->recs[old[i] - 1].id)] = old[i];
    free(old);
    return 0;
}

/* ---- building records ---------------------------------------------------------------- */

/* Index of label in e->labels, added if new; -1 when out of memory. */
static long intern_label(slm_engine *e, const char *label)
{
    for (size_t i = 0; i < e->n_labels; i++)
        if (!strcmp(e->labels[i], label))
            return (long)i;
    char **labels = slm_plugin_realloc(e->labels, (e->n_labels + 1) * sizeof *e->labels);
    if (!labels)
        return -1;
    e->labels = labels;
    if (!(e->labels[e->n_labels] = slm_plugin_strdup(label)))
        return -1;
    return (long)e->n_labels++;
}

/* 0, or -1 when out of memory. */
static int push_prob(slm_engine *e, size_t label, double p)
{
    if (e->n_probs == e->cap_probs) {
        size_t cap = e->cap_probs ? e->cap_probs * 2 : 64;
        rec_prob *probs = slm_plugin_realloc(e->probs, cap * sizeof *e->probs);
        if (!probs)
            return -1;
        e->probs = probs;
        e->cap_probs = cap;
    }
    e->probs[e->n_probs++] = (rec_prob){label, p};
    return 0;
}

/* Starts a record for id, taking ownership of text. Fails on an empty or duplicate id;
 * the probabilities pushed after this call until the next one belong to it. */
static int add_record(slm_engine *e, const char *id, char *text, double confidence, long line,
                      char *err, size_t errlen)
{
    if (!*id) {
        free(text);
        return slm_plugin_err(err, errlen, "replay: '%s:%ld': empty id", e->path, line);
    }
    if (index_grow(e)) {
        free(text);
        return slm_plugin_oom(err, errlen);
    }
    size_t slot = find_slot(e, id);
    if (e->slots[slot]) {
        free(text);
        return slm_plugin_err(err, errlen,
                              "replay: '%s:%ld': duplicate id '%s' (first on line %ld)", e->path,
                              line, id, e->recs[e->slots[slot] - 1].line);
    }
    if (e->n_recs == e->cap_recs) {
        size_t cap = e->cap_recs ? e->cap_recs * 2 : 64;
        rec *recs = slm_plugin_realloc(e->recs, cap * sizeof *e->recs);
        if (!recs) {
            free(text);
            return slm_plugin_oom(err, errlen);
        }
        e->recs = recs;
        e->cap_recs = cap;
    }
    char *id_copy = slm_plugin_strdup(id);
    if (!id_copy) {
        free(text);
        return slm_plugin_oom(err, errlen);
    }
    e->recs[e->n_recs] = (rec){id_copy, text, confidence, e->n_probs, 0, line};
    e->slots[slot] = ++e->n_recs;
    return 0;
}

static void close_record(slm_engine *e)
{
    rec *r = &e->recs[e->n_recs - 1];
    r->n_probs = e->n_probs - r->probs_off;
}

static int check_prob(const slm_engine *e, long line, const char *label, double p, char *err,
                      size_t errlen)
{
    if (!(p >= 0 && p <= 1 + 1e-6))
        return slm_plugin_err(err, errlen, "replay: '%s:%ld': probability of '%s' out of [0, 1]",
                              e->path, line, label);
    return 0;
}

/* ---- CSV ----------------------------------------------------------------------------- */

enum { COL_IGNORED = -1, COL_ID = -2, COL_PRED = -3, COL_CONFIDENCE = -4 };

/* State of one CSV parse; libcsv's callbacks cannot stop it, so they record the first
 * error and ignore everything after it. */
typedef struct csv_load {
    slm_engine *e;
    char *err;
    size_t errlen;
    int failed;
    long line;      /* line being fed */
    long row_line;  /* line where the current row starts */
    int need_start; /* between rows: the next non-blank line starts one */
    int header_done;
    long *cols;     /* per column: COL_* or the label index of a p_ column */
    size_t n_cols;
    char **fields;  /* the current row */
    size_t n_fields, cap_fields;
} csv_load;

static void on_field(void *s, size_t len, void *data)
{
    csv_load *L = data;
    if (L->failed)
        return;
    if (L->n_fields == L->cap_fields) {
        size_t cap = L->cap_fields ? L->cap_fields * 2 : 16;
        char **fields = slm_plugin_realloc(L->fields, cap * sizeof *L->fields);
        if (!fields) {
            L->failed = slm_plugin_oom(L->err, L->errlen);
            return;
        }
        L->fields = fields;
        L->cap_fields = cap;
    }
    char *f = slm_plugin_strndup(s ? s : "", s ? len : 0);
    if (!f) {
        L->failed = slm_plugin_oom(L->err, L->errlen);
        return;
    }
    L->fields[L->n_fields++] = f;
}

static int csv_header(csv_load *L)
{
    slm_engine *e = L->e;
    int has_id = 0, has_answer = 0;
    L->n_cols = L->n_fields;
    if (!(L->cols = slm_plugin_calloc(L->n_cols, sizeof *L->cols)))
        return slm_plugin_oom(L->err, L->errlen);
    for (size_t i = 0; i < L->n_fields; i++) {
        char *h = L->fields[i];
        if (i == 0 && !strncmp(h, "\xef\xbb\xbf", 3)) /* a byte-order mark */
            memmove(h, h + 3, strlen(h + 3) + 1);
        slm_plugin_trim(h);
        long c = COL_IGNORED;
        if (!strcmp(h, "id"))
            c = COL_ID, has_id++;
        else if (!strcmp(h, "pred"))
            c = COL_PRED, has_answer = 1;
        else if (!strcmp(h, "confidence"))
            c = COL_CONFIDENCE;
        else if (!strncmp(h, "p_", 2) && h[2]) {
            char *label = slm_plugin_trim(h + 2);
            if ((c = intern_label(e, label)) < 0)
                return slm_plugin_oom(L->err, L->errlen);
            has_answer = 1;
        }
        for (size_t j = 0; j < i && c != COL_IGNORED; j++)
            if (L->cols[j] == c)
                return slm_plugin_err(L->err, L->errlen,
                                      "replay: '%s:%ld': column '%s' appears twice", e->path,
                                      L->row_line, L->fields[i]);
        L->cols[i] = c;
    }
    if (!has_id)
        return slm_plugin_err(L->err, L->errlen, "replay: '%s:%ld': missing 'id' column", e->path,
                              L->row_line);
    if (!has_answer)
        return slm_plugin_err(L->err, L->errlen,
                              "replay: '%s:%ld': missing 'pred' column and no 'p_<label>' column",
                              e->path, L->row_line);
    return 0;
}

/* A text cell without the quote that export predictions put in front of a formula (see
 * the top of this file): unchanged unless it begins with ' and one of = + - @ tab CR '. */
static const char *unguard(const char *f)
{
    return f[0] == '\'' && f[1] && strchr("=+-@\t\r'", f[1]) ? f + 1 : f;
}

static int csv_record(csv_load *L)
{
    slm_engine *e = L->e;
    if (L->n_fields != L->n_cols)
        return slm_plugin_err(L->err, L->errlen, "replay: '%s:%ld': %zu fields, the header has %zu",
                              e->path, L->row_line, L->n_fields, L->n_cols);
    const char *id = NULL;
    const char *text = NULL;
    double conf = NAN;
    for (size_t i = 0; i < L->n_fields; i++) {
        const char *f = L->fields[i];
        if (L->cols[i] == COL_ID)
            id = unguard(f);
        else if (L->cols[i] == COL_PRED && *f)
            text = unguard(f); /* copied into the record below */
        else if (L->cols[i] == COL_CONFIDENCE && *f && slm_plugin_parse_double(f, &conf))
            return slm_plugin_err(L->err, L->errlen, "replay: '%s:%ld': bad confidence '%s'",
                                  e->path, L->row_line, f);
    }
    char *copy = NULL;
    if (text && !(copy = slm_plugin_strdup(text)))
        return slm_plugin_oom(L->err, L->errlen);
    if (add_record(e, id, copy, conf, L->row_line, L->err, L->errlen))
        return -1;
    for (size_t i = 0; i < L->n_fields; i++) {
        if (L->cols[i] < 0 || !*L->fields[i])
            continue;
        const char *label = e->labels[L->cols[i]];
        double p;
        if (slm_plugin_parse_double(L->fields[i], &p))
            return slm_plugin_err(L->err, L->errlen,
                                  "replay: '%s:%ld': bad probability '%s' for '%s'", e->path,
                                  L->row_line, L->fields[i], label);
        if (check_prob(e, L->row_line, label, p, L->err, L->errlen))
            return -1;
        if (push_prob(e, (size_t)L->cols[i], p))
            return slm_plugin_oom(L->err, L->errlen);
    }
    close_record(e);
    return 0;
}

static void on_row(int c, void *data)
{
    csv_load *L = data;
    (void)c;
    if (!L->failed) {
        int rc = L->header_done ? csv_record(L) : csv_header(L);
        L->header_done = 1;
        if (rc)
            L->failed = 1;
    }
    for (size_t i = 0; i < L->n_fields; i++)
        free(L->fields[i]);
    L->n_fields = 0;
    L->need_start = 1;
}

static int blank_line(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

/* Parses the CSV in data[0..len). The text is fed line by line so that every row knows
 * the line it starts on, even when quoted fields span lines. */
static int load_csv(slm_engine *e, const char *data, size_t len, char *err, size_t errlen)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL))
        return slm_plugin_err(err, errlen, "replay: cannot start the csv parser");
    csv_set_blk_size(&p, 1u << 20); /* large fields without quadratic regrowth */
    csv_load L = {.e = e, .err = err, .errlen = errlen, .need_start = 1};
    const char *s = data, *end = data + len;
    int bad = 0;
    while (s < end && !L.failed && !bad) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);
        L.line++;
        if (L.need_start && !blank_line(s, n)) {
            L.row_line = L.line;
            L.need_start = 0;
        }
        if (csv_parse(&p, s, n, on_field, on_row, &L) != n)
            bad = 1;
        s += n;
    }
    if (!L.failed && !bad && csv_fini(&p, on_field, on_row, &L))
        bad = 1;
    if (bad && !L.failed) {
        L.failed = 1;
        slm_plugin_err(err, errlen, "replay: '%s:%ld': %s", e->path, L.line,
                       csv_strerror(csv_error(&p)));
    }
    if (!L.failed && !L.header_done) {
        L.failed = 1;
        slm_plugin_err(err, errlen, "replay: '%s:1': empty file, no header", e->path);
    }
    for (size_t i = 0; i < L.n_fields; i++)
        free(L.fields[i]);
    free(L.fields);
    free(L.cols);
    csv_free(&p);
    return L.failed ? -1 : 0;
}

/* ---- JSON lines ---------------------------------------------------------------------- */

static int jsonl_record(slm_engine *e, json_t *o, long line, char *err, size_t errlen)
{
    if (!json_is_object(o))
        return slm_plugin_err(err, errlen, "replay: '%s:%ld': not a json object", e->path, line);
    json_t *jid = json_object_get(o, "id"), *out = json_object_get(o, "output");
    json_t *conf = json_object_get(o, "confidence"), *probs = json_object_get(o, "probs");
    char idbuf[32];
    const char *id;
    if (json_is_string(jid))
        id = json_string_value(jid);
    else if (json_is_integer(jid)) {
        snprintf(idbuf, sizeof idbuf, "%" JSON_INTEGER_FORMAT, json_integer_value(jid));
        id = idbuf;
    } else
        return slm_plugin_err(err, errlen, "replay: '%s:%ld': missing 'id' (a string)", e->path,
                              line);
    if (out && !json_is_string(out) && !json_is_null(out))
        return slm_plugin_err(err, errlen, "replay: '%s:%ld': 'output' is not a string", e->path,
                              line);
    if (!out && !probs)
        return slm_plugin_err(err, errlen, "replay: '%s:%ld': missing 'output'", e->path, line);
    if (conf && !json_is_number(conf) && !json_is_null(conf))
        return slm_plugin_err(err, errlen, "replay: '%s:%ld': 'confidence' is not a number",
                              e->path, line);
    if (probs && !json_is_object(probs))
        return slm_plugin_err(err, errlen, "replay: '%s:%ld': 'probs' is not an object", e->path,
                              line);
    char *text = NULL;
    if (json_is_string(out) &&
        !(text = slm_plugin_strndup(json_string_value(out), json_string_length(out))))
        return slm_plugin_oom(err, errlen);
    if (add_record(e, id, text, json_is_number(conf) ? json_number_value(conf) : NAN, line,
                   err, errlen))
        return -1;
    const char *key;
    json_t *v;
    json_object_foreach(probs, key, v)
    {
        if (!json_is_number(v))
            return slm_plugin_err(err, errlen,
                                  "replay: '%s:%ld': probability of '%s' is not a number", e->path,
                                  line, key);
        char *label = slm_plugin_strdup(key);
        if (!label)
            return slm_plugin_oom(err, errlen);
        slm_plugin_trim(label);
        int rc = check_prob(e, line, label, json_number_value(v), err, errlen);
        long k = rc ? -1 : intern_label(e, label);
        if (!rc && (k < 0 || push_prob(e, (size_t)k, json_number_value(v))))
            rc = slm_plugin_oom(err, errlen);
        free(label);
        if (rc)
            return -1;
    }
    close_record(e);
    return 0;
}

static int load_jsonl(slm_engine *e, const char *data, size_t len, char *err, size_t errlen)
{
    const char *s = data, *end = data + len;
    for (long line = 1; s < end; line++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
        if (!blank_line(s, n)) {
            json_error_t je;
            json_t *o = json_loadb(s, n, 0, &je);
            if (!o)
                return slm_plugin_err(err, errlen, "replay: '%s:%ld': %s", e->path, line, je.text);
            int rc = jsonl_record(e, o, line, err, errlen);
            json_decref(o);
            if (rc)
                return -1;
        }
        s += n + (nl != NULL);
    }
    return 0;
}

/* ---- options ------------------------------------------------------------------------- */

/* Reads a non-negative integer option; *out is left alone when the option is absent. */
static int opt_count(const slm_options *o, const char *key, long *out, char *err, size_t errlen)
{
    const char *v = slm_plugin_opt(o, key);
    long n;
    if (!v)
        return 0;
    if (slm_plugin_parse_long(v, &n) || n < 0)
        return slm_plugin_err(err, errlen,
                              "replay: option '%s' must be a non-negative integer, not '%s'", key,
                              v);
    *out = n;
    return 0;
}

/* 0, or -1 when out of memory. */
static int parse_fail_ids(slm_engine *e, const char *list)
{
    char *copy = slm_plugin_strdup(list), *save = NULL;
    if (!copy)
        return -1;
    int rc = 0;
    for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
        slm_plugin_trim(t);
        if (!*t)
            continue;
        char **ids = slm_plugin_realloc(e->fail_ids, (e->n_fail_ids + 1) * sizeof *ids);
        if (ids)
            e->fail_ids = ids;
        if (!ids || !(e->fail_ids[e->n_fail_ids] = slm_plugin_strdup(t)))
            rc = -1;
        else
            e->n_fail_ids++;
    }
    free(copy);
    return rc;
}

/* Reads a whole file, NUL-terminated, into *out (caller frees). */
static int read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return slm_plugin_err(err, errlen, "cannot open '%s': %s", path, strerror(errno));
    slm_plugin_buf b = {0};
    char chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && !slm_plugin_buf_append(&b, chunk, n))
        ;
    int bad = ferror(f) ? errno : 0;
    fclose(f);
    if (bad) {
        slm_plugin_buf_free(&b);
        return slm_plugin_err(err, errlen, "cannot read '%s': %s", path, strerror(bad));
    }
    *len = b.len;
    if (!(*out = slm_plugin_buf_take(&b)))
        return slm_plugin_oom(err, errlen);
    return 0;
}

/* ---- the vtable ---------------------------------------------------------------------- */

static void engine_close(slm_engine *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_fail_ids; i++)
        free(e->fail_ids[i]);
    free(e->fail_ids);
    free(e->probs);
    for (size_t i = 0; i < e->n_labels; i++)
        free(e->labels[i]);
    free(e->labels);
    free(e->slots);
    for (size_t i = 0; i < e->n_recs; i++) {
        free(e->recs[i].id);
        free(e->recs[i].text);
    }
    free(e->recs);
    free(e->path);
    free(e);
}

/* Opens the recorded file named by the option file (or model). Fails, naming the file
 * and line, on a file it cannot read or parse, and on a bad fault-injection option. */
static int engine_open(const slm_options *opts, slm_engine **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *path = slm_plugin_opt(opts, "file");
    if (!path || !*path)
        path = slm_plugin_opt(opts, "model");
    if (!path || !*path)
        return slm_plugin_err(
                err, errlen,
                "replay: missing option 'file' (recorded predictions, csv or json lines)");
    slm_engine *e = slm_plugin_calloc(1, sizeof *e);
    if (!e)
        return slm_plugin_oom(err, errlen);
    e->die_after = -1;
    const char *ids = slm_plugin_opt(opts, "fail_ids");
    if (!(e->path = slm_plugin_strdup(path)) || (ids && parse_fail_ids(e, ids))) {
        engine_close(e);
        return slm_plugin_oom(err, errlen);
    }
    if (opt_count(opts, "delay_ms", &e->delay_ms, err, errlen) ||
        opt_count(opts, "fail_every", &e->fail_every, err, errlen) ||
        opt_count(opts, "die_after", &e->die_after, err, errlen)) {
        engine_close(e);
        return -1;
    }

    char *data = NULL, msg[SLM_PLUGIN_ERRLEN];
    size_t len = 0;
    if (read_file(path, &data, &len, msg, sizeof msg)) {
        engine_close(e);
        return slm_plugin_err(err, errlen, "replay: %s", msg);
    }
    size_t i = 0;
    if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
        i = 3;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    e->is_jsonl = i < len && data[i] == '{';
    int rc = e->is_jsonl ? load_jsonl(e, data, len, err, errlen)
                         : load_csv(e, data, len, err, errlen);
    free(data);
    if (!rc && !e->n_recs)
        rc = slm_plugin_err(err, errlen, "replay: '%s': no recorded answers", path);
    if (rc) {
        engine_close(e);
        return -1;
    }
    *out = e;
    return 0;
}

static int engine_info(slm_engine *e, slm_model_info *info, char *err, size_t errlen)
{
    if (!e || !info)
        return slm_plugin_err(err, errlen, "replay: no engine or no info to fill");
    slm_model_info m;
    memset(&m, 0, sizeof m);
    m.caps = ENGINE_CAPS;
    snprintf(m.arch, sizeof m.arch, "replay");
    const char *base = strrchr(e->path, '/');
    snprintf(m.name, sizeof m.name, "%s", base ? base + 1 : e->path);
    snprintf(m.engine_version, sizeof m.engine_version, "replay " ENGINE_VERSION);
    snprintf(m.desc, sizeof m.desc, "%zu recorded answers (%s)", e->n_recs,
             e->is_jsonl ? "json lines" : "csv");
    /* Only the part of *info the harness's struct_size covers. */
    size_t n = info->struct_size < sizeof m ? info->struct_size : sizeof m;
    size_t skip = sizeof m.struct_size;
    if (n > skip)
        memcpy((char *)info + skip, (char *)&m + skip, n - skip);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (ms > 0 && nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/*
 * The common start of score() and generate(): counts the request, applies the faults
 * and the delay, and finds the record for req->id in *out. Returns -1 with err set when
 * the request fails.
 */
static int begin_request(slm_engine *e, const slm_request *req, const rec **out, char *err,
                         size_t errlen)
{
    if (!req || !req->id)
        return slm_plugin_err(err, errlen, "replay: request has no example id");
    e->n_requests++;
    if (e->die_after >= 0 && e->n_ok >= e->die_after)
        _exit(99); /* a crash, on purpose: nothing is flushed or freed */
    sleep_ms(e->delay_ms);
    for (size_t i = 0; i < e->n_fail_ids; i++)
        if (!strcmp(e->fail_ids[i], req->id))
            return slm_plugin_err(err, errlen, "injected failure for id '%s'", req->id);
    if (e->fail_every > 0 && e->n_requests % e->fail_every == 0)
        return slm_plugin_err(err, errlen,
                              "injected failure for id '%s' (request %ld, fail_every %ld)", req->id,
                              e->n_requests, e->fail_every);
    if (!(*out = lookup(e, req->id)))
        return slm_plugin_err(err, errlen, "no recorded answer for id '%s'", req->id);
    return 0;
}

static int count_words(const slm_request *req)
{
    const char *s = req->prompt;
    size_t n = s ? req->prompt_len : 0;
    int words = 0, in_word = 0;
    for (size_t i = 0; i < n; i++) {
        int space = s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' ||
                    s[i] == '\f' || s[i] == '\v';
        words += !space && !in_word;
        in_word = !space;
    }
    return words;
}

static void probe_phase(const slm_probe *p, slm_phase phase, int n_tokens)
{
    if (p && p->phase_begin)
        p->phase_begin(p->ud, phase);
    if (p && p->phase_end)
        p->phase_end(p->ud, phase, n_tokens);
}

static double logp(double p)
{
    return p > 0 ? log(p) : LOGP_ZERO;
}

/* Trims a copy of s into buf (truncating very long labels, which then match nothing). */
static const char *trimmed(const char *s, char *buf, size_t n)
{
    snprintf(buf, n, "%s", s ? s : "");
    return slm_plugin_trim(buf);
}

static int engine_score(slm_engine *e, const slm_request *req, const char *const *choices,
                        size_t n, slm_score_result **out, char *err, size_t errlen)
{
    *out = NULL;
    const rec *r = NULL;
    if (begin_request(e, req, &r, err, errlen))
        return -1;
    char pred[512], label[512];
    if (r->text)
        trimmed(r->text, pred, sizeof pred);
    double *lp = slm_plugin_calloc(n, sizeof *lp);
    if (!lp)
        return slm_plugin_oom(err, errlen);
    for (size_t i = 0; i < n; i++) {
        trimmed(choices[i], label, sizeof label);
        const rec_prob *found = NULL;
        for (size_t k = 0; k < r->n_probs && !found; k++)
            if (!strcmp(e->labels[e->probs[r->probs_off + k].label], label))
                found = &e->probs[r->probs_off + k];
        if (found)
            lp[i] = logp(found->p);
        else if (r->text)
            lp[i] = strcmp(pred, label) ? LOGP_OTHER : 0.0;
        else {
            free(lp);
            return slm_plugin_err(err, errlen, "no recorded answer for id '%s' and label '%s'",
                                  req->id, label);
        }
    }
    slm_score_result *res = slm_plugin_calloc(1, sizeof *res);
    if (!res) {
        free(lp);
        return slm_plugin_oom(err, errlen);
    }
    res->kind = SLM_RESULT_SCORE;
    res->n = n;
    res->logprob = lp;
    if (!(res->n_tokens = slm_plugin_calloc(n, sizeof *res->n_tokens))) {
        slm_result_free_plain(res);
        return slm_plugin_oom(err, errlen);
    }
    for (size_t i = 0; i < n; i++)
        res->n_tokens[i] = 1;
    res->n_prompt_tokens = count_words(req);
    res->timings = (slm_timings){-1, -1, -1, -1};
    probe_phase(req->probe, SLM_PHASE_PREFILL, res->n_prompt_tokens);
    probe_phase(req->probe, SLM_PHASE_DECODE, (int)n);
    e->n_ok++;
    *out = res;
    return 0;
}

static int engine_generate(slm_engine *e, const slm_request *req, const slm_gen_params *params,
                           slm_gen_result **out, char *err, size_t errlen)
{
    (void)params; /* the recorded text is the answer, whatever the limits and stops */
    *out = NULL;
    const rec *r = NULL;
    if (begin_request(e, req, &r, err, errlen))
        return -1;
    if (!r->text)
        return slm_plugin_err(err, errlen, "no recorded output for id '%s'", req->id);
    slm_gen_result *res = slm_plugin_calloc(1, sizeof *res);
    if (!res)
        return slm_plugin_oom(err, errlen);
    res->kind = SLM_RESULT_GENERATE;
    if (!(res->text = slm_plugin_strdup(r->text))) {
        slm_result_free_plain(res);
        return slm_plugin_oom(err, errlen);
    }
    res->text_len = strlen(res->text);
    res->n_prompt_tokens = count_words(req);
    res->n_output_tokens = 1;
    if (!isnan(r->confidence)) {
        if (!(res->token_logprobs = slm_plugin_malloc(sizeof *res->token_logprobs))) {
            slm_result_free_plain(res);
            return slm_plugin_oom(err, errlen);
        }
        res->token_logprobs[0] = logp(r->confidence);
    }
    res->finish = SLM_FINISH_STOP;
    res->timings = (slm_timings){-1, -1, -1, -1};
    probe_phase(req->probe, SLM_PHASE_PREFILL, res->n_prompt_tokens);
    probe_phase(req->probe, SLM_PHASE_DECODE, res->n_output_tokens);
    e->n_ok++;
    *out = res;
    return 0;
}


/* Checks the option keys and the counts as engine_open() reads them, without reading the
 * file (1.5). */
static int engine_check_options(const slm_options *opts, char *err, size_t errlen)
{
    static const char *const known[] = {"file",       "fail_ids",  "delay_ms",
                                        "fail_every", "die_after", NULL};
    long dummy;
    if (slm_plugin_check_keys(opts, known, "replay", err, errlen) ||
        opt_count(opts, "delay_ms", &dummy, err, errlen) ||
        opt_count(opts, "fail_every", &dummy, err, errlen) ||
        opt_count(opts, "die_after", &dummy, err, errlen))
        return -1;
    return 0;
}

static const slm_engine_vtable vtable = {
    .abi_version = SLM_ENGINE_ABI_VERSION,
    .check_options = engine_check_options,
    .struct_size = sizeof(slm_engine_vtable),
    .name = "replay",
    .version = ENGINE_VERSION,
    .description = "replays recorded predictions (exported CSV); deterministic, with fault "
                   "injection for tests",
    .caps = ENGINE_CAPS | SLM_CAP_MODEL_FILE, /* the model is the predictions file */
    .init = NULL,                       /* nothing library-wide */
    .open = engine_open,                /* reads and indexes the recorded file */
    .info = engine_info,                /* arch "replay", name = the file's base name */
    .score = engine_score,              /* ln p_<label>, else the recorded pred */
    .generate = engine_generate,        /* the recorded pred or output */
    .result_free = slm_result_free_plain,  /* either kind of result */
    .close = engine_close,              /* NULL-safe */
    .quantize = NULL,                   /* nothing to quantize */
    .shutdown = NULL,                   /* nothing library-wide */
};

/* The plugin's only export: the table above, static and constant. */
const slm_engine_vtable *slm_engine_entry(void)
{
    return &vtable;
}
