/*
 * prodlog.h — a streaming reader of production logs (JSON lines or CSV), one checked row at
 * a time, in bounded memory (slm_limits.h: a line is never held beyond
 * SLM_PROD_MAX_LINE_BYTES; the file is read in 1 MiB chunks, never whole).
 *
 * A row has the required fields id, ts (RFC 3339), pred, confidence and the optional text,
 * probs, latency_ms, escalated, corrected_label, model; every other field is kept in tags.
 * CSV: a header row names the fields; probs is JSON text in a 'probs' column or one
 * 'p_<label>' column per label (as `export predictions` writes); an empty cell is an absent
 * field. Refused rows (slm_prodlog_next returns SLM_PROD_BAD): unparsable ts, confidence
 * not a number in [0, 1], probs not an object of numbers in [0, 1] summing to 1 within
 * SLM_PROD_PROBS_TOL, a missing required field, a duplicate JSON key or CSV cell of the
 * same name, invalid UTF-8, a NUL byte, CRLF line ends, a field over its limit.
 */
#ifndef SLM_PRODLOG_H
#define SLM_PRODLOG_H

#include <stddef.h>

/* How far probs may sum from 1 (absolute): 1e-3 leaves room for probabilities written
 * with 4 decimals over a few dozen labels, and catches a missing label or unnormalised
 * scores. */
#define SLM_PROD_PROBS_TOL 1e-3

/* One checked row. Every pointer is owned by the reader and valid until the next call. */
typedef struct slm_prod_row {
    long line;              /* where the row starts in the file (1-based) */
    const char *id;
    char ts[32];            /* normalised: "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC, milliseconds) */
    char month[8];          /* "YYYY-MM" of ts */
    const char *pred;
    double confidence;
    const char *probs_json; /* compact JSON object label -> p, keys sorted; NULL: absent */
    double latency_ms;      /* NaN: absent */
    int escalated;          /* 0, 1; -1: absent */
    const char *corrected_label, *model; /* NULL: absent */
    const char *text;       /* NULL: absent */
    size_t text_bytes;      /* 0 without text */
    long text_words;        /* runs of non-whitespace bytes; 0 without text */
    char text_sha256[65];   /* "" without text */
    const char *tags_json;  /* the other fields, compact JSON object with sorted keys; NULL:
                               none */
    char content_sha256[65]; /* of every field above but line and the text itself (its
                                hash stands for it), so --no-text changes nothing */
} slm_prod_row;

typedef struct slm_prodlog slm_prodlog;

/* What slm_prodlog_next returns. */
enum {
    SLM_PROD_EOF = 0,
    SLM_PROD_ROW = 1,
    SLM_PROD_BAD = -1,   /* a bad row: err is "file:line: reason"; reading may go on */
    SLM_PROD_FATAL = -2, /* the file cannot be read on (I/O error, BOM, a CSV header or a
                            quoted field that cannot be resynchronised): err says why */
};

/* Opens path; format "jsonl", "csv", or NULL to pick by the name (".csv": CSV, else JSON
 * lines). A CSV header is read and checked here. 0, or -1 with err. */
int slm_prodlog_open(const char *path, const char *format, slm_prodlog **out, char *err,
                     size_t errlen);

/* Reads the next row (blank lines are passed over). See the enum above. */
int slm_prodlog_next(slm_prodlog *r, slm_prod_row *row, char *err, size_t errlen);

/* For tests: on != 0 parses every JSON line with jansson alone (the fast parser of
 * prodjson.h off) and every CSV line with libcsv (no split of a plain line at its
 * commas): the oracles the fast paths are compared with. */
void slm_prodlog_oracle(slm_prodlog *r, int on);

/* "jsonl" or "csv". */
const char *slm_prodlog_format(const slm_prodlog *r);

/* The SHA-256 of every byte read so far (the whole file once next returned EOF). */
void slm_prodlog_sha256(slm_prodlog *r, char hex[65]);

/* Parses an RFC 3339 date-time ("2026-11-03T10:15:00+01:00", fraction optional, 'T', 't'
 * or ' ' between date and time, 'Z'/'z' or an offset) and writes it normalised to UTC
 * with milliseconds (digits beyond are cut) into out[32], its month into month[8].
 * Seconds 60 (leap seconds) are refused. 0, or -1 with the reason in err. */
int slm_rfc3339_utc(const char *s, char out[32], char month[8], char *err, size_t errlen);

/* Frees the reader; NULL-safe. */
void slm_prodlog_close(slm_prodlog *r);

#endif
