/*
 * csv_out.h — one CSV writer for every CSV slmbench writes (export predictions and table,
 * the audit sample): RFC 4180 quoting through libcsv, and the OWASP guard against
 * spreadsheet formulas (csv_out.c says exactly which cells get a leading quote, and how
 * the replay engine takes it off again).
 */
#ifndef SLM_CSV_OUT_H
#define SLM_CSV_OUT_H

#include "util.h"

/* s as one CSV field: as it is, or quoted (by libcsv) when it holds , " CR or LF. */
void slm_csv_quote(slm_buf *b, const char *s);

/* A text cell: guarded against formulas (unless raw), then quoted where needed; NULL
 * writes an empty cell. */
void slm_csv_field(slm_buf *b, const char *s, int raw);

/* A number cell: the shortest text that reads back as the same double (slm_real_text,
 * store_cli.h: ties stay ties, and only ties); an empty cell for NaN (undefined). */
void slm_csv_num(slm_buf *b, double v);

#endif
