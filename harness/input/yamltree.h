/*
 * yamltree.h — a small YAML document tree on top of libyaml, with line numbers, for the run
 * config and evalset.yaml. Anchors and aliases are refused; tags are ignored. Refused too,
 * with the line: nesting deeper than 64 sequences/mappings, a key given twice in a mapping
 * (checked by hash: linear in the number of keys).
 *
 * Ownership: slm_yaml_load() returns a tree owned by the caller, freed with
 * slm_yaml_free(); every node and string inside belongs to the tree.
 */
#ifndef SLM_YAMLTREE_H
#define SLM_YAMLTREE_H

#include <stddef.h>

typedef enum slm_ynode_kind { SLM_Y_SCALAR, SLM_Y_SEQ, SLM_Y_MAP } slm_ynode_kind;

typedef struct slm_ynode slm_ynode;
struct slm_ynode {
    slm_ynode_kind kind;
    int line;              /* 1-based line where the node starts */
    char *scalar;          /* SLM_Y_SCALAR: the value */
    size_t n;              /* SEQ: items; MAP: pairs */
    slm_ynode **items;     /* SEQ: [n] */
    char **keys;           /* MAP: [n] */
    slm_ynode **values;    /* MAP: [n] */
};

typedef struct slm_yaml {
    char *path;
    slm_ynode *root;       /* NULL for an empty document */
} slm_yaml;

/* Parses a YAML file or buffer. Errors name the file and line: "x.yaml:3: ..." The limits
 * of slm_limits.h hold: at most SLM_MAX_YAML_BYTES of text, SLM_MAX_YAML_DEPTH levels,
 * SLM_MAX_YAML_KEYS keys in one mapping, SLM_MAX_YAML_NODES nodes; over one, -1 and err
 * says which ("x.yaml:7: more than 10000 keys in one mapping (the limit)"). */
int slm_yaml_load(const char *path, slm_yaml **out, char *err, size_t errlen);
int slm_yaml_parse(const char *name, const char *text, size_t len, slm_yaml **out, char *err,
                   size_t errlen);
void slm_yaml_free(slm_yaml *y);
/* Refuses a regular file over SLM_MAX_YAML_BYTES before it is read: -1, err "x.yaml: N
 * bytes, more than the limit of 4194304 for a YAML file"; 0 otherwise (also when the file
 * cannot be stat'ed: reading it then gives the error). */
int slm_yaml_check_size(const char *path, char *err, size_t errlen);

/* Lookup in a map: the value node for key, or NULL (also when m is not a map). */
const slm_ynode *slm_ymap_get(const slm_ynode *m, const char *key);
/* The scalar value for key, or NULL when absent or not a scalar. */
const char *slm_ymap_str(const slm_ynode *m, const char *key);

/* Checks that every key of map m is in the NULL-terminated list allowed; on the first
 * unknown key fills err with "<file>:<line>: unknown key 'k' in <what>" and returns -1. */
int slm_ymap_check_keys(const slm_yaml *y, const slm_ynode *m, const char *const *allowed,
                        const char *what, char *err, size_t errlen);

/* Typed getters: 0 when found and valid, 1 when absent (out untouched), -1 with err
 * ("file:line: key 'k': expected ...") when present but invalid. */
int slm_ymap_long(const slm_yaml *y, const slm_ynode *m, const char *key, long *out, char *err,
                  size_t errlen);
int slm_ymap_double(const slm_yaml *y, const slm_ynode *m, const char *key, double *out,
                    char *err, size_t errlen);
int slm_ymap_bool(const slm_yaml *y, const slm_ynode *m, const char *key, int *out, char *err,
                  size_t errlen);

#endif
