/* structured.c — see structured.h. */
#include "structured.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const slm_fail_kinds[7] = {SLM_FAIL_EMPTY,  SLM_FAIL_TRUNCATED, SLM_FAIL_INVALID_JSON,
                                       SLM_FAIL_EXTRA_TEXT, SLM_FAIL_SCHEMA, SLM_FAIL_MISSING,
                                       SLM_FAIL_TYPE};

static void kind(slm_judgement *j, const char *k)
{
    if (strstr(j->kinds, k))
        return;
    size_t l = strlen(j->kinds);
    snprintf(j->kinds + l, sizeof j->kinds - l, "%s%s", l ? "," : "", k);
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Arrays as multisets: the same items, in any order. */
static int arrays_equal(json_t *a, json_t *b)
{
    size_t n = json_array_size(a);
    if (n != json_array_size(b))
        return 0;
    char **x = slm_xcalloc(n + 1, sizeof *x), **y = slm_xcalloc(n + 1, sizeof *y);
    for (size_t i = 0; i < n; i++) {
        x[i] = json_dumps(json_array_get(a, i), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        y[i] = json_dumps(json_array_get(b, i), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    }
    qsort(x, n, sizeof *x, cmp_str);
    qsort(y, n, sizeof *y, cmp_str);
    int eq = 1;
    for (size_t i = 0; i < n && eq; i++)
        eq = x[i] && y[i] && !strcmp(x[i], y[i]);
    for (size_t i = 0; i < n; i++) {
        free(x[i]);
        free(y[i]);
    }
    free(x);
    free(y);
    return eq;
}

static int values_equal(json_t *a, json_t *b)
{
    if (json_is_array(a) && json_is_array(b))
        return arrays_equal(a, b);
    if (json_is_null(a) || json_is_null(b))
        return json_is_null(a) && json_is_null(b);
    if (json_is_number(a) && json_is_number(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        return fabs(x - y) <= 1e-9 * fmax(1.0, fmax(fabs(x), fabs(y)));
    }
    if (json_is_string(a) && json_is_string(b)) {
        char *x = slm_trim(slm_xstrdup(json_string_value(a)));
        char *y = slm_trim(slm_xstrdup(json_string_value(b)));
        int eq = !strcmp(x, y);
        free(x);
        free(y);
        return eq;
    }
    return json_equal(a, b);
}

void slm_judge_json(const char *text, int truncated, const slm_field_def *f, size_t n,
                    const char *gold, slm_judgement *j)
{
    memset(j, 0, sizeof *j);
    char *t = slm_trim(slm_xstrdup(text ? text : ""));
    json_t *obj = NULL, *g = json_loads(gold, 0, NULL);
    if (!*t) {
        kind(j, SLM_FAIL_EMPTY);
        goto done;
    }
    obj = json_loads(t, JSON_DECODE_ANY, NULL);
    if (!obj) {
        /* an object inside other text: from the first '{' to its last '}' */
        const char *a = strchr(t, '{'), *z = strrchr(t, '}');
        if (a && z && z > a) {
            char *sub = slm_xstrndup(a, (size_t)(z - a) + 1);
            obj = json_loads(sub, 0, NULL);
            free(sub);
        }
        if (obj)
            kind(j, SLM_FAIL_EXTRA_TEXT);
        else {
            kind(j, truncated ? SLM_FAIL_TRUNCATED : SLM_FAIL_INVALID_JSON);
            goto done;
        }
    }
    if (!json_is_object(obj)) {
        kind(j, SLM_FAIL_SCHEMA);
        goto done;
    }
    int all_equal = json_is_object(g);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(obj, f[i].name);
        if (!v) {
            kind(j, SLM_FAIL_MISSING);
            all_equal = 0;
            continue;
        }
        if (f[i].type == SLM_FIELD_ENUM) {
            if (!json_is_string(v))
                kind(j, SLM_FAIL_TYPE);
            else {
                int ok = 0;
                for (size_t k = 0; k < f[i].n_values; k++)
                    ok |= !strcmp(f[i].values[k], json_string_value(v));
                if (!ok)
                    kind(j, SLM_FAIL_SCHEMA);
            }
        } else if (f[i].type == SLM_FIELD_LIST) {
            if (!json_is_array(v))
                kind(j, SLM_FAIL_TYPE);
        } else if (!json_is_null(v) && (f[i].type == SLM_FIELD_NUMBER ? !json_is_number(v)
                                                                       : !json_is_string(v))) {
            kind(j, SLM_FAIL_TYPE);
        }
        if (!values_equal(v, json_object_get(g, f[i].name)))
            all_equal = 0;
    }
    /* keys beyond the fields */
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        int known = 0;
        for (size_t i = 0; i < n; i++)
            known |= !strcmp(f[i].name, key);
        if (!known)
            kind(j, SLM_FAIL_SCHEMA);
    }
    j->correct = all_equal;
    char *d = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    j->pred = slm_xstrdup(d);
    free(d);
done:
    j->valid = !j->kinds[0];
    json_decref(obj);
    json_decref(g);
    free(t);
}

int slm_json_field_equal(const char *pred_obj, const char *gold_obj, const char *field)
{
    json_t *a = pred_obj ? json_loads(pred_obj, 0, NULL) : NULL;
    json_t *b = gold_obj ? json_loads(gold_obj, 0, NULL) : NULL;
    json_t *x = json_object_get(a, field), *y = json_object_get(b, field);
    int eq = x && y && values_equal(x, y);
    json_decref(a);
    json_decref(b);
    return eq;
}

static void gbnf_literal(slm_buf *b, const char *s)
{
    /* a JSON string literal "value" as a GBNF terminal */
    slm_buf_puts(b, "\"\\\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            slm_buf_puts(b, "\\\\\\");
        slm_buf_putc(b, *s);
    }
    slm_buf_puts(b, "\\\"\"");
}

char *slm_fields_grammar(const slm_field_def *f, size_t n)
{
    slm_buf b = {0};
    slm_buf_puts(&b, "root ::= \"{\" ws");
    for (size_t i = 0; i < n; i++) {
        if (i)
            slm_buf_puts(&b, " \",\" ws");
        slm_buf_puts(&b, " ");
        gbnf_literal(&b, f[i].name);
        slm_buf_printf(&b, " ws \":\" ws f%zu ws", i);
    }
    slm_buf_puts(&b, " \"}\"\n");
    for (size_t i = 0; i < n; i++) {
        slm_buf_printf(&b, "f%zu ::= ", i);
        if (f[i].type == SLM_FIELD_ENUM) {
            for (size_t k = 0; k < f[i].n_values; k++) {
                if (k)
                    slm_buf_puts(&b, " | ");
                gbnf_literal(&b, f[i].values[k]);
            }
        } else if (f[i].type == SLM_FIELD_NUMBER) {
            slm_buf_puts(&b, "number | \"null\"");
        } else if (f[i].type == SLM_FIELD_LIST) {
            slm_buf_puts(&b, "\"[\" ws ( value ( ws \",\" ws value )* )? ws \"]\"");
        } else {
            slm_buf_puts(&b, "string | \"null\"");
        }
        slm_buf_putc(&b, '\n');
    }
    slm_buf_puts(&b, "string ::= \"\\\"\" ( [^\"\\\\\\x7F\\x00-\\x1F] | \"\\\\\" [\"\\\\/bfnrt] )* \"\\\"\"\n"
                     "number ::= \"-\"? [0-9]+ (\".\" [0-9]+)?\n"
                     "ws ::= [ ]?\n"
                     "value ::= string | number | \"null\" | \"true\" | \"false\" | "
                     "\"{\" ws ( string ws \":\" ws value ( ws \",\" ws string ws \":\" ws value )* )? ws \"}\" | "
                     "\"[\" ws ( value ( ws \",\" ws value )* )? ws \"]\"\n");
    return slm_buf_take(&b);
}

char *slm_fields_schema(const slm_field_def *f, size_t n)
{
    json_t *props = json_object(), *req = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *t;
        if (f[i].type == SLM_FIELD_ENUM) {
            json_t *vals = json_array();
            for (size_t k = 0; k < f[i].n_values; k++)
                json_array_append_new(vals, json_string(f[i].values[k]));
            t = json_pack("{s:s,s:o}", "type", "string", "enum", vals);
        } else if (f[i].type == SLM_FIELD_NUMBER) {
            t = json_pack("{s:[s,s]}", "type", "number", "null");
        } else if (f[i].type == SLM_FIELD_LIST) {
            t = json_pack("{s:s}", "type", "array");
        } else {
            t = json_pack("{s:[s,s]}", "type", "string", "null");
        }
        json_object_set_new(props, f[i].name, t);
        json_array_append_new(req, json_string(f[i].name));
    }
    json_t *o = json_pack("{s:s,s:o,s:o,s:b}", "type", "object", "properties", props, "required",
                          req, "additionalProperties", 0);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}
