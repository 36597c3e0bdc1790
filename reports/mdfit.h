/*
 * mdfit.h — a Markdown report cut to fit a pull-request comment (GitHub takes at most
 * 65,536 characters in one) at a section boundary, saying so.
 */
#ifndef SLM_MDFIT_H
#define SLM_MDFIT_H

#include <stddef.h>

#include "util.h"

/* The characters (UTF-8 code points) of s[0..n). */
size_t slm_md_chars(const char *s, size_t n);

/* Leaves md as it is when it holds at most max_chars characters. Otherwise cuts it before
 * the last heading ("## ", "### " or "#### " at the start of a line) that leaves room for
 * a closing note, and appends the note: where it was cut, how much was left out, and that
 * `where` has everything (e.g. "report.html, report.json and per_class.csv"). Returns 1
 * when it cut, 0 when not. A report whose first section alone is too long is cut at a
 * line instead. */
int slm_md_fit(slm_buf *md, size_t max_chars, const char *where);

#endif
