/*
 * drift_data.h — the inside of a computed drift review (slm_drift of drift.h), shared by
 * its computation (harness/metrics/drift.c) and its writers (reports/drift_report.c).
 * Nothing else includes it.
 */
#ifndef SLM_DRIFT_DATA_H
#define SLM_DRIFT_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "drift.h"
#include "fields.h"

#define MAXM SLM_DRIFT_MAX_METRICS

enum { FLAG_NONE = 0, FLAG_BETTER = 1, FLAG_WORSE = -1, FLAG_CHANGED = 2 };

typedef struct point {
    int present;
    int64_t run_id, cand_id;
    char *created_at, *model_sha, *es_version, *es_sha;
    double v[MAXM], lo[MAXM], hi[MAXM];
    int flag[MAXM];
    int prev;          /* month index of the previous month with data, -1 if none */
    double p50, p95;   /* e2e latency, for the latency table whatever the metrics */
    size_t ncls;
    char **cls;
    double *rec, *f1;
} point;

typedef struct series {
    char *model, *evalset;
    point *pt; /* [n_months] */
} series;

typedef struct es_month {
    int present;
    int64_t run_id;
    char *version, *sha;
} es_month;

typedef struct es_row {
    char *name;
    es_month *m; /* [n_months] */
} es_row;

typedef struct shift {
    size_t s, from, to;
    char *label;
    double r0, r1, f0, f1;
} shift;

typedef struct ldrift {
    char *evalset;
    size_t from, to;
    int64_t run_a, run_b;
    char *ver_a, *ver_b, *sha_a, *sha_b;
    size_t k;
    char **labels;
    long *ca, *cb, na, nb;
    double tvd, chi2, p;
    int df, low_expected;
} ldrift;

struct slm_drift {
    char *db_path;
    int y0, m0;
    size_t nm;
    char (*month)[16];
    size_t nmet;
    const slm_field *met[MAXM];
    series *s;
    size_t ns;
    es_row *e;
    size_t ne;
    shift *sh;
    size_t nsh;
    ldrift *ld;
    size_t nld;
    size_t nflag, nruns;
};

/* Two strings equal, NULL equal only to NULL (versions and hashes may be absent). */
static inline int slm_streq_null(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

#endif
