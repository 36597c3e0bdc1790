/*
 * evalset.h — labelled data: one split file (CSV through libcsv, or JSON lines) and the
 * eval set around it (evalset.yaml: task, label set, prompt template file, splits).
 *
 * Every row is validated; a bad row is reported as "file:line: reason". The policy is to
 * abort on the first bad row, or with skip_bad_rows to skip and count them.
 *
 * Ownership: a loaded slm_dataset / slm_evalset owns all its strings; free it with
 * slm_dataset_free() / slm_evalset_free() (NULL-safe).
 */
#ifndef SLM_EVALSET_H
#define SLM_EVALSET_H

#include <stddef.h>

#include "slm_limits.h" /* SLM_MAX_FIELD_BYTES, SLM_MAX_ROW_BYTES, SLM_MAX_ROWS, ... */

typedef struct slm_example {
    char *id;
    char *text;
    char *label;         /* a label, or for structured/extraction tasks a JSON object */
    char *slice;         /* slice tags "len:short;noise:clean", or NULL */
    long line;           /* line in the file where the row starts (1-based) */
} slm_example;

typedef struct slm_field_def slm_field_def;

typedef struct slm_load_opts {
    const char *const *labels; /* allowed labels, or NULL to accept any non-empty label */
    const slm_field_def *fields; /* structured/extraction: the label must be a JSON object
                                    with these fields (values checked), or NULL */
    size_t n_fields;
    size_t n_labels;
    int skip_bad_rows;         /* 1: skip and count bad rows instead of failing */
    const char *labels_from;   /* where the label set came from, for messages */
    size_t keep_bad_rows;      /* with skip_bad_rows: the first N bad rows' messages are kept
                                  in the dataset's bad_rows (evalsets check lists them), and
                                  a file whose every row is bad still loads (0 rows) */
} slm_load_opts;

typedef struct slm_dataset {
    char *path;
    char sha256[65];     /* SHA-256 of the file's bytes */
    slm_example *rows;
    size_t n;
    size_t n_skipped;    /* rows skipped with skip_bad_rows */
    char *first_skip_reason; /* "file:line: reason" of the first skipped row, or NULL */
    char **bad_rows;     /* "file:line: reason" of the first keep_bad_rows skipped rows */
    size_t n_bad_rows;
} slm_dataset;

/* Loads a CSV (header with at least id,text,label; any order; other columns ignored) or a
 * JSON-lines file (*.jsonl, *.ndjson: objects with id, text, label). A UTF-8 BOM and CRLF
 * line ends are accepted. Rejected: an empty file, a missing column, a row with too few or
 * too many fields, an unterminated quote, invalid UTF-8, a NUL byte in a CSV field, a key
 * given twice in a JSON line (also inside an object label), an empty id/text/label, a
 * field over SLM_MAX_FIELD_BYTES, a row over SLM_MAX_ROW_BYTES, a duplicate id, a label
 * outside opts->labels (each a bad row); a file over SLM_MAX_SPLIT_FILE_BYTES (refused
 * before it is read) or of more than SLM_MAX_ROWS rows (never skipped). */
int slm_dataset_load(const char *path, const slm_load_opts *opts, slm_dataset **out, char *err,
                     size_t errlen);

/* The same from len bytes in memory (which need not end in a NUL): path names them in
 * messages and d->path, and picks the format as above (*.jsonl, *.ndjson: JSON lines). */
int slm_dataset_parse(const char *path, const char *buf, size_t len, const slm_load_opts *opts,
                      slm_dataset **out, char *err, size_t errlen);
void slm_dataset_free(slm_dataset *d);

/* A field of a structured or extraction task: an enum (values) or a typed value. */
typedef enum slm_field_type {
    SLM_FIELD_ENUM = 0,   /* one of values[] (structured classification) */
    SLM_FIELD_STRING = 1, /* a string or null (extraction) */
    SLM_FIELD_NUMBER = 2, /* a number or null (extraction) */
    SLM_FIELD_LIST = 3    /* a JSON array, compared as a multiset (slots, entities) */
} slm_field_type;

struct slm_field_def {
    char *name;
    slm_field_type type;
    char **values;        /* SLM_FIELD_ENUM */
    size_t n_values;
};

/* Task kinds. */
typedef enum slm_task {
    SLM_TASK_CLASSIFICATION = 0, /* one label */
    SLM_TASK_STRUCTURED = 1,     /* several enum fields in one JSON object */
    SLM_TASK_EXTRACTION = 2      /* typed fields extracted into one JSON object */
} slm_task;

typedef struct slm_split {
    char *name;          /* "train", "test", "calibration", ... */
    char *path;          /* resolved relative to the evalset.yaml folder */
} slm_split;

/* A labelled file appended to a split (`slmbench evalsets add`, slices.h): evalset.yaml's
 * `slices:` list, one entry per file, in the order they were added. */
typedef struct slm_slice {
    char *name;          /* unique in the eval set; rows are tagged "slice:<name>" */
    char *split;         /* the declared split it extends */
    char *path;          /* resolved relative to the evalset.yaml folder */
    char *version;       /* the eval set version it came with */
    char sha256[65];     /* of the file's bytes when it was added */
} slm_slice;

typedef struct slm_evalset {
    char *yaml_path;
    char *dir;
    char *name;
    char *version;
    char *task;          /* "classification", "structured" or "extraction" */
    slm_task task_kind;
    slm_field_def *fields; /* structured/extraction */
    size_t n_fields;
    char *description;
    char **labels;
    size_t n_labels;
    char *prompt_path;   /* resolved */
    char *prompt;        /* template text, exact bytes of the file */
    char prompt_sha256[65];
    slm_split *splits;
    size_t n_splits;
    slm_slice *slices;
    size_t n_slices;
} slm_evalset;

/* Loads evalset.yaml (given the file, or the folder holding it) and the prompt file. Does
 * not load the splits: see slm_evalset_load_split(). Refused with file:line: more than
 * SLM_MAX_LABELS labels (or values of an enum field), one longer than SLM_MAX_LABEL_BYTES,
 * a prompt template over SLM_MAX_TEMPLATE_BYTES. */
int slm_evalset_load(const char *path, slm_evalset **out, char *err, size_t errlen);
void slm_evalset_free(slm_evalset *e);

/* Path of a split by name, or NULL. */
const char *slm_evalset_split_path(const slm_evalset *e, const char *split);

/* Loads one split, validating labels against the eval set's label set, with the rows of
 * every slice added to it appended (slices.h): their ids must not repeat the split's, each
 * file must still have the sha256 recorded when it was added, and the dataset's sha256 is
 * then that of the split's and the slices' hashes together, so a new slice is a new
 * version of the data. */
int slm_evalset_load_split(const slm_evalset *e, const char *split, int skip_bad_rows,
                           slm_dataset **out, char *err, size_t errlen);

/* The same with the load options o (those of slm_evalset_load_opts, changed: e.g.
 * keep_bad_rows). */
int slm_evalset_load_split_with(const slm_evalset *e, const char *split,
                                const slm_load_opts *o, slm_dataset **out, char *err,
                                size_t errlen);

/* Slices (slices.c; slices.h says what they are). */
struct slm_yaml;
struct slm_ynode;

/* Reads evalset.yaml's `slices:` list (list may be NULL: none) into e->slices: each a
 * mapping with name, split (a declared split), file, version, sha256 and optionally rows;
 * names unique. 0, or -1 with err naming the file and line. */
int slm_slices_parse(slm_evalset *e, const struct slm_yaml *y, const struct slm_ynode *list,
                     char *err, size_t errlen);

/* Appends to d (the split's rows, loaded with o) the rows of every slice of that split,
 * tagged "slice:<name>" in their slice column, refusing a slice file whose sha256 is not
 * the recorded one and an id repeated between the split and its slices; then sets
 * d->sha256 to the SHA-256 of "<split sha256>\n" and "<name> <slice sha256>\n" for each
 * slice. Nothing to do without slices. 0, or -1 with err. */
int slm_slices_append(const slm_evalset *e, const char *split, const slm_load_opts *o,
                      slm_dataset *d, char *err, size_t errlen);

/* The load options of the eval set's splits (its label set or fields). */
slm_load_opts slm_evalset_load_opts(const slm_evalset *e, int skip_bad_rows);

/* Checks that label is a JSON object with the fields (enum values, types); 0, or -1 with
 * the reason in reason[rlen]. */
int slm_check_object_label(const char *label, const slm_field_def *f, size_t n, char *reason,
                           size_t rlen);

/* Index of label in labels[0..n), or -1. Comparison after trimming ASCII whitespace. */
int slm_label_index(const char *const *labels, size_t n, const char *label);

#endif
