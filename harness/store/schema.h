/*
 * schema.h — the database's tables declared once, as column tables (DESIGN §8).
 *
 * Every table names its columns in their physical order with the schema version that
 * added each one; the CREATE statements, the migrations (CREATE TABLE for a table new in
 * a version, ALTER TABLE ADD COLUMN for a column added after its table) and the copy a
 * merge makes are all generated from these declarations, so none of them can fall behind
 * another. To add a column: append it to its table with since = the new version, and add
 * one line to MIGRATION_NOTES in schema.c (the version is the number of notes).
 */
#ifndef SLM_SCHEMA_H
#define SLM_SCHEMA_H

#include <stddef.h>

#include "util.h"

/* The schema version a database is brought up to: the number of migrations (schema.c
 * checks this at compile time against its list of migrations). */
#define SLM_SCHEMA_VERSION 14

/* What a merge of shard databases does with a column (store/merge.c). */
typedef enum slm_merge_rule {
    SLM_MERGE_COPY = 0, /* copied from the shard's row (for once-per-run tables: the first
                           shard's, e.g. the load averages measured before its run) */
    SLM_MERGE_ID,       /* the row's own INTEGER PRIMARY KEY: the merged row gets a new one */
    SLM_MERGE_RUN,      /* holds the run id: the merged run's */
    SLM_MERGE_CAND,     /* holds a candidate id: the merged candidate of the same name */
    SLM_MERGE_SET,      /* set to the column's fixed SQL value (a status, NULL) */
    SLM_MERGE_SUM,      /* summed over the shards (times and counts spread across them);
                           NULL only where every shard's is NULL */
    SLM_MERGE_MAX,      /* the largest of the shards' (a peak, the worst steal) */
} slm_merge_rule;

/* Which rows of a table a merge copies. */
typedef enum slm_merge_scope {
    SLM_SCOPE_NONE = 0, /* none: recomputed after the merge (metrics...) or per database */
    SLM_SCOPE_ONCE,     /* the newest run's rows of the first shard (the run, its eval set,
                           its candidates) */
    SLM_SCOPE_EACH,     /* the newest run's rows of every shard (examples, predictions...) */
} slm_merge_scope;

typedef struct slm_col {
    const char *name;
    const char *decl;    /* SQL type and column constraints */
    int since;           /* the schema version that added it (1: the first schema) */
    slm_merge_rule merge;
    const char *fixed;   /* SLM_MERGE_SET: the SQL value the merged row gets */
} slm_col;

typedef struct slm_table {
    const char *name;
    int since;           /* the schema version that created it */
    const slm_col *cols;
    size_t n_cols;
    const char *keys;    /* table constraints written after the columns, or NULL */
    slm_merge_scope scope;
} slm_table;

/* The tables in creation order (parents before children). */
size_t slm_schema_n_tables(void);
const slm_table *slm_schema_table(size_t i);
const slm_table *slm_schema_find(const char *name);

/* Column i of t, the declared ones first and then any added by slm_schema_add_column. */
size_t slm_table_n_cols(const slm_table *t);
const slm_col *slm_table_col(const slm_table *t, size_t i);

/* Declares one more column of table at run time, as if it were written in schema.c: for
 * tests that prove a new column flows through CREATE, migrations and merge. Call before
 * any store is opened; col must outlive the process. Returns -1 for an unknown table or
 * when the few slots are taken. */
int slm_schema_add_column(const char *table, const slm_col *col);

/* Appends to out the SQL that upgrades a database from version to - 1 to version to
 * (1 <= to <= SLM_SCHEMA_VERSION): the tables it creates, the columns it adds, then its
 * views and indexes. */
void slm_schema_migration(int to, slm_buf *out);

/* Checks the declarations (every column added at or after its table, none after
 * SLM_SCHEMA_VERSION, every version doing something). 0, or -1 with err. */
int slm_schema_check(char *err, size_t errlen);

#endif
