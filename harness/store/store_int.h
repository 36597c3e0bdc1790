/*
 * store_int.h — what the store's own files (store*.c, merge.c) share and nothing outside
 * harness/store includes (tests may): the SQLite connection and statement helpers,
 * statements prepared once per handle, and the error helper.
 */
#ifndef SLM_STORE_INT_H
#define SLM_STORE_INT_H

#include "store.h"

#include <sqlite3.h>

/* The connection, and the SQLite-level helpers the store's files build on. */
sqlite3 *slm_store_db(slm_store *st);

/* Runs a statement with printf-style formatting of identifiers ONLY (never data: bind
 * values through sqlite3 instead). */
int slm_store_exec(slm_store *st, const char *sql, char *err, size_t errlen);

/* Binds a double, as NULL when NaN. */
void slm_bind_double(sqlite3_stmt *s, int i, double v);
void slm_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Binds v with every secret redacted (redact.h), as NULL when NULL: every error, config
 * text and option set written to the database goes through here, whichever engine or
 * part of slmbench wrote the text. */
void slm_bind_redacted(sqlite3_stmt *s, int i, const char *v);
/* Replaces the allocated *v (NULL stays NULL) with its redacted copy: what is read back
 * for a report or an export, so a database written before redaction leaks nothing. */
void slm_redact_read(char **v);

/* Column i of a result row as a double; NULL reads as NaN. */
double slm_col_double(sqlite3_stmt *s, int i);

/* Prepares sql or fills err with the SQLite message. */
int slm_store_prepare(slm_store *st, const char *sql, sqlite3_stmt **out, char *err,
                      size_t errlen);


/* One slot per statement a hot path runs many times (a metric per name, a sample per
 * repeat): prepared on first use, finalized by slm_store_close. */
typedef enum slm_stmt_slot {
    SLM_STMT_PUT_METRIC,
    SLM_STMT_PUT_PER_CLASS,
    SLM_STMT_PUT_CONFUSION,
    SLM_STMT_PUT_SAMPLE,
    SLM_STMT_PUT_COUNTER,
    SLM_STMT_PUT_CALIB,
    SLM_STMT_PUT_EXAMPLE,
    SLM_STMT_COUNT
} slm_stmt_slot;

/* The statement of slot (prepared from sql the first time), reset with no bindings;
 * NULL with err on a prepare failure. */
sqlite3_stmt *slm_store_cached(slm_store *st, slm_stmt_slot slot, const char *sql, char *err,
                               size_t errlen);


#endif
