/*
 * mdfmt.h — the Markdown cell writers every Markdown report shares: escaping a string for
 * a table cell, and numbers as their field in the field table (fields.h) says. Its own
 * module so that report.c and recommend.c both use one escaper without including each
 * other.
 */
#ifndef SLM_MDFMT_H
#define SLM_MDFMT_H

#include "util.h"

/* Escapes text for a Markdown table cell (|, <, >, &, backticks, *, _, [, ], newlines;
 * control characters as slm_ctl_esc). NULL writes nothing. */
void slm_md_cell(slm_buf *b, const char *s);

/* v with `digits` significant digits (at most 3 decimals; scientific beyond 1e6 or below
 * 1e-3); NaN as "–". */
void slm_md_num(slm_buf *b, double v, int digits);

/* v as a percentage with one decimal ("67.7%"); NaN as "–". */
void slm_md_pct(slm_buf *b, double v);

/* A value as its field in the field table says: a percentage, a whole number, or the
 * field's significant digits; a name the table lacks gets 4 digits. */
void slm_md_field_val(slm_buf *b, const char *name, double v);

#endif
