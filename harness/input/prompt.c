/* prompt.c — see prompt.h. */
#include "prompt.h"
#include "slm_limits.h"
#include "util.h"

#include <string.h>

static const char *const PLACEHOLDERS[] = {"text", "labels", "id"};

/* Identifies the placeholder starting at p ("{{"); returns its index and sets *len to
 * the length of the whole "{{...}}", or -1 if p does not start a known placeholder. */
static int placeholder_at(const char *p, size_t *len)
{
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(PLACEHOLDERS[i]);
        if (strncmp(p + 2, PLACEHOLDERS[i], n) == 0 && strncmp(p + 2 + n, "}}", 2) == 0) {
            *len = n + 4;
            return i;
        }
    }
    return -1;
}

int slm_prompt_check(const char *tmpl, const char *tmpl_name, char *err, size_t errlen)
{
    int line = 1, has_text = 0, n_ph = 0;
    for (const char *p = tmpl; *p; p++) {
        if (*p == '\n')
            line++;
        if (p[0] == '{' && p[1] == '{') {
            size_t len;
            int k = placeholder_at(p, &len);
            if (k < 0) {
                const char *end = strstr(p, "}}");
                int n = end ? (int)(end - p) + 2 : (int)strnlen(p, 40);
                return slm_err(err, errlen,
                               "%s:%d: unknown placeholder '%.*s' (known: {{text}}, "
                               "{{labels}}, {{id}})",
                               tmpl_name, line, n > 60 ? 60 : n, p);
            }
            if (++n_ph > SLM_MAX_TEMPLATE_PLACEHOLDERS)
                return slm_err(err, errlen, "%s:%d: more than %d placeholders, the limit of a "
                               "template", tmpl_name, line, SLM_MAX_TEMPLATE_PLACEHOLDERS);
            if (k == 0)
                has_text = 1;
            p += len - 1;
        }
    }
    if (!has_text)
        return slm_err(err, errlen, "%s: the template has no {{text}} placeholder; put "
                       "{{text}} where each example's text goes (e.g. 'Ticket: {{text}}' on a "
                       "line before the question)", tmpl_name);
    return 0;
}

char *slm_prompt_render(const char *tmpl, const char *text, const char *id,
                        const char *const *labels, size_t n_labels)
{
    slm_buf b = {0};
    const char *p = tmpl;
    while (*p) {
        const char *q = strstr(p, "{{");
        if (!q) {
            slm_buf_puts(&b, p);
            break;
        }
        slm_buf_append(&b, p, (size_t)(q - p));
        size_t len;
        int k = placeholder_at(q, &len);
        if (k < 0) {
            slm_buf_append(&b, q, 2);
            p = q + 2;
            continue;
        }
        if (k == 0)
            slm_buf_puts(&b, text);
        else if (k == 1)
            for (size_t i = 0; i < n_labels; i++) {
                if (i)
                    slm_buf_puts(&b, ", ");
                slm_buf_puts(&b, labels[i]);
            }
        else
            slm_buf_puts(&b, id);
        p = q + len;
    }
    return slm_buf_take(&b);
}
