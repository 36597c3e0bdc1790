/*
 * json_out.h — the two conversions every JSON document of the reports needs (report
 * --json, the drift review): a number that may be NaN and a string that may be NULL.
 */
#ifndef SLM_JSON_OUT_H
#define SLM_JSON_OUT_H

#include <jansson.h>

/* A real, or null for NaN and infinities (JSON has neither). */
json_t *slm_json_num(double v);

/* A string, or null for NULL. */
json_t *slm_json_str(const char *s);

#endif
