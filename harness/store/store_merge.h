/*
 * store_merge.h — the store's side of a merge (merge.c holds the flow): one shard
 * database attached at a time, its rows copied into the merged run column by column as
 * schema.c declares them, so a column added to a table is merged without touching this.
 */
#ifndef SLM_STORE_MERGE_H
#define SLM_STORE_MERGE_H

#include "store.h"

/* Attaches the database at path as "shard" (outside any transaction: SQLite refuses to
 * attach inside one). */
int slm_store_attach_shard(slm_store *st, const char *path, char *err, size_t errlen);
void slm_store_detach_shard(slm_store *st);

/* What merge checks of the attached shard's newest run; strings NULL where absent. */
typedef struct slm_shard_facts {
    char *shard;          /* "I/N", "" for an unsharded run */
    char *config_sha256;
    char *data_sha256;    /* its eval set's */
    char *status;
} slm_shard_facts;

void slm_store_shard_facts(slm_store *st, slm_shard_facts *f);
void slm_shard_facts_free(slm_shard_facts *f);

/* Copies the once-per-run tables of the attached shard (its run, eval set, candidates,
 * counter events) into a new run; *run_id is the new run's id. */
int slm_store_merge_run(slm_store *st, int64_t *run_id, char *err, size_t errlen);

/* Copies the per-example tables of the attached shard into run_id, matching candidates
 * by name, and folds the shard's candidate totals (sums, maxima) into run_id's. */
int slm_store_merge_rows(slm_store *st, int64_t run_id, char *err, size_t errlen);

/* The merged run's list of sources; it is no longer a shard. */
int slm_store_set_merged_from(slm_store *st, int64_t run_id, const char *from, char *err,
                              size_t errlen);

/* Sets a run's status only (finished_at and error untouched). */
int slm_store_set_status(slm_store *st, int64_t run_id, const char *status, char *err,
                         size_t errlen);

/* Deletes every row a merge wrote for run_id, children first: nothing half-merged stays. */
void slm_store_unmerge(slm_store *st, int64_t run_id);

#endif
