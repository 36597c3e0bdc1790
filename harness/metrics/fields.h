/*
 * fields.h — the one table of per-candidate metrics. The metrics table in SQLite, the
 * JSON report, the Markdown columns and the exports all come from it, so a new metric is
 * added here and computed in aggregate.c, nowhere else.
 */
#ifndef SLM_FIELDS_H
#define SLM_FIELDS_H

#include <stddef.h>

typedef struct slm_field {
    const char *name;     /* key in the metrics table and in `report --json` */
    const char *title;    /* column title in reports */
    const char *unit;     /* "", "ms", "tok/s", ... */
    int higher_better;    /* 1 higher is better, -1 lower is better, 0 neither */
    int percent;          /* shown as a percentage in Markdown */
    int digits;           /* significant digits when shown */
} slm_field;

extern const slm_field slm_fields[];
extern const size_t slm_n_fields;

/* The field named name, or NULL. */
const slm_field *slm_field_find(const char *name);

#endif
