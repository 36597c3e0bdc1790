/*
 * json_out.h — the two conversions every JSON document of the reports needs (report
 * --json, the drift review): a number that may be NaN and a string that may be NULL.
 */
#ifndef SLM_JSON_OUT_H
#define SLM_JSON_OUT_H

#include <jansson.h>

#include "util.h"

/* A real, or null for NaN and infinities (JSON has neither). */
json_t *slm_json_num(double v);

/* A string, or null for NULL. */
json_t *slm_json_str(const char *s);

/* Appends root as JSON text (json_dumps with flags) and a line feed to out, with DEL and
 * the C1 controls (U+007F to U+009F), which jansson writes raw, escaped as \u00XX like
 * the C0 controls, so no terminal control reaches a reader (the bytes can only stand in
 * strings, where the escape means the same character). -1 if jansson cannot encode it. */
int slm_json_emit(slm_buf *out, const json_t *root, size_t flags);

#endif
