/*
 * store_sample.h — audit samples of a production month (`slmbench sample`) in the store:
 * tables audit_samples and audit_sample_rows (schema.c, version 12). What is stored is
 * what an unbiased estimate from the labelled sample needs: the design, the population
 * of the month, and per row its stratum, the stratum's size and its inclusion
 * probability.
 *
 * Ownership: structs and arrays filled here are freed by their _free function
 * (NULL-safe). Errors: -1 with err filled.
 */
#ifndef SLM_STORE_SAMPLE_H
#define SLM_STORE_SAMPLE_H

#include "store.h"

typedef struct slm_audit_row {
    char *log_id;
    char *stratum;       /* the predicted label, or "all" */
    long stratum_size;   /* rows of the month in the stratum */
    double pi;           /* inclusion probability */
    char *pred;          /* filled by slm_audit_read (from prod_predictions) */
} slm_audit_row;

typedef struct slm_audit {
    int64_t id, deployment_id;
    char *month, *strategy, *design, *created_at;
    long seed, n, n_drawn, population;
} slm_audit;

/* Stores the sample a (id ignored, filled on return; created_at set now) with its n_rows
 * rows in one transaction. */
int slm_audit_put(slm_store *st, slm_audit *a, const slm_audit_row *rows, size_t n_rows,
                  char *err, size_t errlen);

/* Reads sample id: 0 found (a and *rows filled, rows in log_id order), 1 no such sample,
 * -1 on a database error. */
int slm_audit_read(slm_store *st, int64_t id, slm_audit *a, slm_audit_row **rows, size_t *n,
                   char *err, size_t errlen);

void slm_audit_free(slm_audit *a);
void slm_audit_rows_free(slm_audit_row *r, size_t n);

#endif
