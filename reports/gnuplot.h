/*
 * gnuplot.h — the text a gnuplot script and its data file are made of, one way for every
 * figure of the reports (plots.c) and of the drift review (drift_report.c). Running
 * gnuplot is slm_gnuplot_run() of plots.h.
 */
#ifndef SLM_GNUPLOT_H
#define SLM_GNUPLOT_H

#include "util.h"

/* A gnuplot single-quoted string: no backslash processing, '' stands for '. Control
 * characters (newlines would end the command) become spaces. */
void slm_gp_str(slm_buf *b, const char *s);

/* A label column of a data file. gnuplot reads "..." as one field but has no escape for
 * a '"' inside it, so that becomes '; control characters become spaces. */
void slm_gp_dat_str(slm_buf *b, const char *s);

/* A number with '.' whatever the locale, 10 significant digits; NaN and infinities as
 * NaN, which gnuplot reads as an undefined value and leaves out. */
void slm_gp_num(slm_buf *b, double v);

#endif
