/*
 * ingest.h — `slmbench ingest`: a production log streamed into the store (prodlog.h reads,
 * store_prod.h writes), in batches of SLM_PROD_BATCH_ROWS rows, each committed with the
 * ingest's counts.
 *
 * Idempotent: a row whose (deployment, id) is stored is not written again; with the same
 * content hash it counts as already present, with another as a conflict (the first stays,
 * both places are reported). Killed at any point, the ingest keeps every committed batch,
 * and the same command run again adds exactly the missing rows.
 */
#ifndef SLM_INGEST_H
#define SLM_INGEST_H

#include "store_prod.h"

#include <signal.h>

typedef struct slm_ingest_opts {
    const char *path;       /* the log */
    const char *format;     /* "jsonl", "csv", or NULL: by the file name */
    const char *deployment; /* created if absent */
    int skip_bad_rows;      /* 0: the first bad row stops the ingest (bad input) */
    int keep_text;          /* 0: --no-text, only the text's hash and lengths */
    int64_t run_id;         /* with candidate: tie the deployment first (as deploy); 0: no */
    const char *candidate;
    /* Told each notice a row gives (a skipped bad row, a conflict), with the count of its
     * kind so far (the caller may stop printing after a few); NULL: none. */
    void (*note)(const char *msg, long nth, void *ud);
    void *ud;
    /* Set (by a signal handler) to stop: the rows taken so far are committed, the ingest
     * is recorded as stopped by a signal; NULL: never. */
    const volatile sig_atomic_t *stop;
} slm_ingest_opts;

typedef struct slm_ingest_result {
    slm_ingest_counts c;
    int labels_known;      /* the deployment is tied: unknown labels were counted */
    char (*months)[8];     /* the months of the rows read (good rows), sorted; free() */
    size_t n_months;
    char file_sha256[65];  /* "" unless the whole file was read */
    int interrupted;       /* stopped by opts.stop: every row read is committed */
} slm_ingest_result;

/* Runs the ingest. 0 when the whole file was read (bad rows skipped and counted when
 * skip_bad_rows); -1 with err otherwise (res->interrupted when stopped by o->stop), *bad_input set when the input (the file, a row, the
 * run or candidate) was refused rather than the database failing. res is filled in either
 * case; free res->months. */
int slm_ingest(slm_store *st, const slm_ingest_opts *o, slm_ingest_result *res,
               int *bad_input, char *err, size_t errlen);

#endif
