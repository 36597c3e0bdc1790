/*
 * structured.h — JSON answers: judging a model's output against a structured or
 * extraction label, the failure kinds small models show, and the JSON-schema-like field
 * list turned into a llama.cpp grammar (GBNF) for constrained decoding.
 */
#ifndef SLM_STRUCTURED_H
#define SLM_STRUCTURED_H

#include "evalset.h"

/* Failure kinds, as stored (comma-separated in predictions.fail_kinds). */
#define SLM_FAIL_EMPTY "empty_output"
#define SLM_FAIL_TRUNCATED "truncated"
#define SLM_FAIL_INVALID_JSON "invalid_json"
#define SLM_FAIL_EXTRA_TEXT "extra_text"
#define SLM_FAIL_SCHEMA "schema_violation"
#define SLM_FAIL_MISSING "missing_field"
#define SLM_FAIL_TYPE "wrong_type"

extern const char *const slm_fail_kinds[7];

typedef struct slm_judgement {
    char *pred;        /* canonical JSON of the object recovered from the output, or NULL */
    int valid;         /* no failure at all */
    int correct;       /* every field equals the label's */
    char kinds[160];   /* failure kinds, comma-separated, "" when none */
} slm_judgement;

/* Judges a generated text against the gold JSON label. truncated: generation stopped at
 * max_tokens. An object surrounded by other text is recovered (failure extra_text) and
 * still scored field by field. Caller frees j->pred. */
void slm_judge_json(const char *text, int truncated, const slm_field_def *f, size_t n,
                    const char *gold, slm_judgement *j);

/* Field equality: strings after trimming, numbers within 1e-9 relative, null == null. */
int slm_json_field_equal(const char *pred_obj, const char *gold_obj, const char *field);

/* A GBNF grammar accepting exactly one JSON object with the fields in order (enum fields
 * as their quoted values, strings, numbers, null where allowed). Caller frees. */
char *slm_fields_grammar(const slm_field_def *f, size_t n);

/* The same constraint as a JSON Schema (object, these properties, all required, no others;
 * enum, number or null, string or null, array), for servers that take response_format
 * json_schema. Caller frees. */
char *slm_fields_schema(const slm_field_def *f, size_t n);

#endif
