/*
 * store_cli.h — the store reads and writes the commands need beyond store.h, as named
 * functions, so that no command file writes SQL (DESIGN: SQL lives in the store only).
 */
#ifndef SLM_STORE_CLI_H
#define SLM_STORE_CLI_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

/* Predictions of run_id whose engine call failed (stored with an error) into *n. Returns
 * -1 with err filled on a database error. */
int slm_store_run_errors(slm_store *st, int64_t run_id, long *n, char *err, size_t errlen);

/* The sha256 of run_id's eval set data (the caller frees it), or NULL when not stored. */
char *slm_store_run_data_sha(slm_store *st, int64_t run_id);

/* Names run_id `name` (a baseline for gates): the tag row, stamped now, and the run's own
 * tag column. Returns -1 with err filled when either write fails. */
int slm_store_tag_run(slm_store *st, int64_t run_id, const char *name, char *err,
                      size_t errlen);

/* The text of a REAL in every export (CSV of `export predictions` and `export table`):
 * the shortest of %.15g, %.16g and %.17g (C locale) that reads back as the same double
 * (%.17g always does), so an export neither creates ties (0.1 + 0.2 is
 * 0.30000000000000004, not 0.3) nor breaks them, and 0.1 stays "0.1". Non-finite values
 * print as %g does ("inf", "-inf", "nan"). buf should hold 32 bytes. */
#define SLM_REAL_TEXT_LEN 32
void slm_real_text(char *buf, size_t n, double v);

/* One stored prediction as `export predictions` writes it; text fields may be NULL, and
 * confidence and e2e_ms are NaN where NULL. Valid only during the callback. */
typedef struct slm_export_row {
    const char *example_id, *gold, *pred, *probs_json;
    double confidence, e2e_ms;
} slm_export_row;

/* Calls fn for every prediction of candidate_id in example order. Returns -1 with err
 * filled on a database error. */
int slm_store_each_prediction(slm_store *st, int64_t candidate_id,
                              void (*fn)(const slm_export_row *row, void *ud), void *ud,
                              char *err, size_t errlen);

/* Appends to out the names of the tables kept per run (the ones export table takes),
 * comma-separated, in creation order. */
void slm_store_per_run_tables(slm_buf *out);
/* 1: table is kept per run, 0: it is not, -1: no table is called that. */
int slm_store_table_per_run(const char *table);

/* Every declared column of table (schema.c) for run_id — and for candidate cid alone when
 * cid >= 0 and the table has one — in row order: fn gets the column names first, then
 * each row's values as text (NULL for NULL; a REAL as slm_real_text writes it, where
 * SQLite's own text would keep only 15 digits). Returns 1 when no table is called that, 2
 * when the table is not kept per run (no run_id column: ingests, prod_predictions;
 * deployments are exported by the run they are tied to), -1 with err on a database error. */
int slm_store_each_table_row(slm_store *st, const char *table, int64_t run_id, int64_t cid,
                             void (*fn)(size_t n, const char *const *v, void *ud), void *ud,
                             char *err, size_t errlen);

#endif
