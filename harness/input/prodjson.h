/*
 * prodjson.h — a production log row as a flat list of fields (the form prodlog.c checks),
 * and a hand-written parser of one JSON line into it for the common case.
 *
 * A log line is a flat JSON object: strings, numbers, true/false/null, and one nested
 * object `probs` of label -> number. slm_pj_parse reads exactly that (with every escape,
 * surrogate pairs, exact doubles through strtod on the token) without building a tree,
 * and gives up (returns -1, nothing reported) on anything else: a syntax error, a
 * duplicate key, \u0000, a lone surrogate, an integer of more than 18 digits, a real
 * that overflows, an array or an object elsewhere than probs, more than
 * SLM_PJ_FAST_FIELDS fields or probs labels. The caller then parses the line with jansson
 * (prodlog.c does so too for a real among the extra fields: jansson writes the tags), which accepts the rest or words the error (prodlog.c): what the fast
 * parser accepts, jansson accepts with the same values (tests/unit/test_prodjson.c
 * compares them on thousands of random and mutated lines).
 */
#ifndef SLM_PRODJSON_H
#define SLM_PRODJSON_H

#include <stddef.h>

/* More fields (or probs labels) than this go to jansson (its hash table, not a quadratic
 * duplicate check). */
#define SLM_PJ_FAST_FIELDS 64

enum slm_pj_kind {
    SLM_PJ_NULL,
    SLM_PJ_TRUE,
    SLM_PJ_FALSE,
    SLM_PJ_INT,  /* i, and num = (double)i */
    SLM_PJ_REAL, /* num */
    SLM_PJ_STR,  /* s, n (no NUL inside) */
    SLM_PJ_OBJ,  /* probs: entries sub[first .. first + count) */
    SLM_PJ_OTHER /* anything else (a jansson array or object): j */
};

typedef struct slm_pj_val {
    int kind;
    const char *s;
    size_t n;
    long long i;
    double num;
    size_t first, count;
    void *j; /* the jansson value it was read from (NULL from the fast parser) */
} slm_pj_val;

typedef struct slm_pj_field {
    const char *key;
    slm_pj_val v;
} slm_pj_field;

typedef struct slm_pj_row {
    slm_pj_field *f, *sub; /* the fields in order; the entries of the nested objects */
    size_t n, cap, n_sub, cap_sub;
    char *arena;           /* decoded strings (never longer than the line) */
    size_t arena_cap;
} slm_pj_row;

/* Empties row for a new line (keeps its memory). */
void slm_pj_clear(slm_pj_row *row);
/* Appends a field (or, sub != 0, a nested entry); returns it. */
slm_pj_field *slm_pj_add(slm_pj_row *row, int sub);

/* Parses line[0..len) (line[len] may be read: a NUL or the newline) into row: 0, or -1 when the line is not
 * in the fast subset (see above). */
int slm_pj_parse(slm_pj_row *row, const char *line, size_t len);

void slm_pj_free(slm_pj_row *row);

#endif
