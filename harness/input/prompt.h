/*
 * prompt.h — renders the pinned prompt template. The same bytes go to every candidate.
 *
 * Placeholders: {{text}} (the example's text), {{labels}} (the label set joined with
 * ", "), {{id}} (the example id). Anything else between {{ and }} is an error, reported
 * with the template's line.
 */
#ifndef SLM_PROMPT_H
#define SLM_PROMPT_H

#include <stddef.h>

/* Checks a template once, before any example: 0, or -1 with "file:line: ..." in err. More
 * than SLM_MAX_TEMPLATE_PLACEHOLDERS placeholders is an error (it bounds a rendered
 * prompt: see slm_limits.h). */
int slm_prompt_check(const char *tmpl, const char *tmpl_name, char *err, size_t errlen);

/* Renders the template for one example; returns a new string (caller frees). The template
 * must have passed slm_prompt_check(); unknown placeholders are then impossible. */
char *slm_prompt_render(const char *tmpl, const char *text, const char *id,
                        const char *const *labels, size_t n_labels);

#endif
