/*
 * quickdata.h — a user's own labelled file turned into an eval set (`slmbench quick`):
 * a CSV or JSON-lines table with any columns is read, its text and label columns are named
 * or guessed, its label set derived, a seeded stratified calibration split held out, and
 * the eval set folder (evalset.yaml, prompt.txt, test.csv, calibration.csv, README.md) and
 * a run config written, so every choice is a file the user can read and edit.
 *
 * Messages name the file and line ("tickets.csv:17: empty label (column 'queue') ...") and
 * say what to do. Ownership: a table and a plan own all their strings; free them with
 * slm_qtable_free() / slm_quick_plan_free() (NULL-safe).
 */
#ifndef SLM_QUICKDATA_H
#define SLM_QUICKDATA_H

#include <stddef.h>
#include <stdint.h>

#include "slm_limits.h" /* SLM_QUICK_MAX_LABELS, SLM_MAX_FIELD_BYTES, SLM_MAX_ROWS */
#include "util.h"

/* A table as read: column names and, for each row, one cell per column (NULL where a JSON
 * line lacks the key or gives null). */
typedef struct slm_qtable {
    char *path;
    char **cols;
    size_t n_cols;
    char ***cells;      /* cells[row][col] */
    long *lines;        /* line where each row starts (1-based) */
    size_t n_rows;
    char sha256[65];    /* of the file's bytes */
} slm_qtable;

/* Reads a CSV (a header of any column names; a UTF-8 BOM, CRLF and RFC 4180 quoting
 * accepted, as the eval set loader accepts them) or, for *.jsonl / *.ndjson, JSON lines
 * (objects; the columns are the keys in order of first appearance; numbers and booleans
 * become their text). Refused with file:line: malformed CSV, a row with another number of
 * fields than the header, invalid UTF-8, a NUL byte, a cell over SLM_MAX_FIELD_BYTES, a
 * JSON line that is not an object or gives a key twice, more than SLM_MAX_ROWS rows; a
 * file over SLM_MAX_SPLIT_FILE_BYTES, an empty file or one without rows. 0, or -1 with
 * err. */
int slm_qtable_load(const char *path, slm_qtable **out, char *err, size_t errlen);
void slm_qtable_free(slm_qtable *t);

/* What the user asked for. */
typedef struct slm_quick_opts {
    const char *text_col;  /* --text, or NULL to guess */
    const char *label_col; /* --label, or NULL to guess */
    double calibration;    /* share held out for calibration, 0 <= x < 1 (0: none) */
    uint64_t seed;         /* of the calibration split and of the test rows' order */
    int skip_empty;        /* 1: leave out rows with an empty text or label, counted */
} slm_quick_opts;

typedef struct slm_qrow {
    char *id, *text, *label;
    long line;
    int calibration;    /* 1: in the calibration split, 0: in the test split */
} slm_qrow;

/* The eval set to write, and why each choice was made (for the terminal and README.md). */
typedef struct slm_quick_plan {
    const slm_qtable *table;    /* borrowed */
    int col_text, col_label, col_id; /* col_id -1: ids made as row-<line> */
    char *why_text, *why_label; /* "named by --text", "guessed: ..." */
    char *why_id;               /* how ids were chosen */
    char **labels;              /* sorted (byte order) */
    long *counts;               /* rows per label */
    size_t n_labels;
    slm_qrow *rows;             /* test rows in a seeded random order, then calibration
                                   rows in file order */
    size_t n_rows, n_test, n_cal, n_skipped;
    long first_skipped_line;    /* 0 when none */
    double calibration;
    uint64_t seed;
} slm_quick_plan;

/* Chooses the columns (named, else by a well-known name, else the label column is the one
 * with fewest distinct values repeated, the text column the one longest on average),
 * checks every row, derives the label set and holds out the calibration split: per label,
 * round(share x count) rows, at least one where the label has two or more, never all.
 * Refused: an unknown column (the columns listed, the nearest name suggested), a label
 * column of more than SLM_QUICK_MAX_LABELS distinct values or one value per row (named:
 * it looks like a text or id column; --label), an empty text or label (file:line, unless
 * skip_empty), a label over SLM_MAX_LABEL_BYTES, no test row left. 0, or -1 with err. */
int slm_quick_plan_make(const slm_qtable *t, const slm_quick_opts *o, slm_quick_plan **out,
                        char *err, size_t errlen);
void slm_quick_plan_free(slm_quick_plan *p);

/* Appends "calibration: 400 of 2,000 rows, seed 1, stratified by label". */
void slm_quick_split_sentence(const slm_quick_plan *p, slm_buf *b);

/* The default prompt template of a quick eval set (no trailing newline). */
extern const char SLM_QUICK_PROMPT[];

/* One candidate of the run config. */
typedef struct slm_quick_model {
    const char *name;  /* unique in the run */
    const char *path;  /* as written into run.yaml (absolute) */
    const char *quant; /* the file's quantization, for a comment */
} slm_quick_model;

/* The run config's settings beyond the plan. */
typedef struct slm_quick_run {
    const char *name;          /* run and eval set name */
    const slm_quick_model *models;
    size_t n_models;
    int mixed;                 /* quantization: mixed */
    long limit;                /* limit: N, 0 none */
} slm_quick_run;

/* The files of the eval set folder and the run config, as bytes: evalset.yaml, prompt.txt,
 * test.csv, calibration.csv (when a share is held out), README.md, then run.yaml (whose
 * evalset key is "evalset", the folder beside it). names[i] is relative to the output
 * folder ("evalset/test.csv", "run.yaml"). Frees nothing the caller gave. */
typedef struct slm_quick_files {
    char *names[8];
    slm_buf bufs[8];
    size_t n;
} slm_quick_files;

void slm_quick_files_make(const slm_quick_plan *p, const slm_quick_run *r,
                          slm_quick_files *f);
void slm_quick_files_free(slm_quick_files *f);

/* Writes the files into dir (created). A file already there with other bytes is refused
 * unless force (named, with --force and --out as the ways out), before anything is
 * written, so a different eval set is never half overwritten. *n_same counts the files
 * that were already there with the same bytes. 0, or -1 with err. */
int slm_quick_files_write(const slm_quick_files *f, const char *dir, int force, size_t *n_same,
                          char *err, size_t errlen);

#endif
