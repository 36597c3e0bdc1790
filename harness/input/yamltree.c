/* yamltree.c — see yamltree.h. Builds a node tree from libyaml's event stream. */
#include "yamltree.h"
#include "slm_limits.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

static slm_ynode *node_new(slm_ynode_kind kind, int line)
{
    slm_ynode *n = slm_xcalloc(1, sizeof *n);
    n->kind = kind;
    n->line = line;
    return n;
}

static void node_free(slm_ynode *n)
{
    if (!n)
        return;
    free(n->scalar);
    for (size_t i = 0; i < n->n; i++) {
        if (n->kind == SLM_Y_SEQ)
            node_free(n->items[i]);
        else if (n->kind == SLM_Y_MAP) {
            free(n->keys[i]);
            node_free(n->values[i]);
        }
    }
    free(n->items);
    free(n->keys);
    free(n->values);
    free(n);
}

typedef struct parse_ctx {
    yaml_parser_t parser;
    const char *name;
    char *err;
    size_t errlen;
    int depth;             /* sequences and maps open around the node being parsed */
    long nodes;            /* nodes parsed so far (SLM_MAX_YAML_NODES) */
} parse_ctx;

static int next_event(parse_ctx *c, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&c->parser, ev)) {
        int line = (int)c->parser.problem_mark.line + 1;
        if (c->parser.context)
            return slm_err(c->err, c->errlen, "%s:%d: invalid YAML: %s (%s started on line %d)",
                           c->name, line, c->parser.problem ? c->parser.problem : "parse error",
                           c->parser.context, (int)c->parser.context_mark.line + 1);
        return slm_err(c->err, c->errlen, "%s:%d: invalid YAML: %s", c->name, line,
                       c->parser.problem ? c->parser.problem : "parse error");
    }
    return 0;
}

static int parse_node(parse_ctx *c, yaml_event_t *ev, slm_ynode **out);

/* Room for item n of an array of n items grown in powers of two (amortised linear). */
static void *grow(void *p, size_t n, size_t size)
{
    if ((n & (n - 1)) == 0)
        p = slm_xrealloc(p, (n ? 2 * n : 1) * size);
    return p;
}

/* The keys of one mapping being parsed, by hash (open addressing; slots hold indices into
 * the map's keys, SIZE_MAX when empty), so the duplicate check is linear in the keys, not
 * quadratic (a mapping of 100,000 keys took minutes). */
typedef struct key_set {
    size_t *slot;
    size_t cap;            /* a power of two, at least twice the keys held */
} key_set;

static size_t key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

/* The slot where key is, or the empty slot where it would go. */
static size_t key_slot(const key_set *ks, char *const *keys, const char *key)
{
    size_t k = key_hash(key) & (ks->cap - 1);
    while (ks->slot[k] != SIZE_MAX && strcmp(keys[ks->slot[k]], key) != 0)
        k = (k + 1) & (ks->cap - 1);
    return k;
}

static int key_seen(const key_set *ks, char *const *keys, const char *key)
{
    return ks->cap && ks->slot[key_slot(ks, keys, key)] != SIZE_MAX;
}

/* Adds keys[idx] (not yet in the set); keys[0..idx-1] are the ones already held. */
static void key_add(key_set *ks, char *const *keys, size_t idx)
{
    if ((idx + 1) * 2 > ks->cap) {
        free(ks->slot);
        ks->cap = ks->cap ? ks->cap * 2 : 16;
        ks->slot = slm_xmalloc(ks->cap * sizeof *ks->slot);
        for (size_t i = 0; i < ks->cap; i++)
            ks->slot[i] = SIZE_MAX;
        for (size_t i = 0; i < idx; i++)
            ks->slot[key_slot(ks, keys, keys[i])] = i;
    }
    ks->slot[key_slot(ks, keys, keys[idx])] = idx;
}

static int parse_seq(parse_ctx *c, slm_ynode *seq)
{
    for (;;) {
        yaml_event_t ev;
        if (next_event(c, &ev))
            return -1;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        slm_ynode *item = NULL;
        int rc = parse_node(c, &ev, &item);
        yaml_event_delete(&ev);
        if (rc)
            return -1;
        seq->items = grow(seq->items, seq->n, sizeof *seq->items);
        seq->items[seq->n++] = item;
    }
}

static int parse_map(parse_ctx *c, slm_ynode *map, key_set *ks)
{
    for (;;) {
        yaml_event_t ev;
        if (next_event(c, &ev))
            return -1;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        if (ev.type != YAML_SCALAR_EVENT) {
            int line = (int)ev.start_mark.line + 1;
            yaml_event_delete(&ev);
            return slm_err(c->err, c->errlen, "%s:%d: mapping keys must be plain scalars",
                           c->name, line);
        }
        int kline = (int)ev.start_mark.line + 1;
        if (map->n >= (size_t)SLM_MAX_YAML_KEYS) {
            yaml_event_delete(&ev);
            return slm_err(c->err, c->errlen, "%s:%d: more than %ld keys in one mapping (the "
                           "limit)", c->name, kline, SLM_MAX_YAML_KEYS);
        }
        char *key = slm_xstrndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
        yaml_event_delete(&ev);
        if (key_seen(ks, map->keys, key)) {
            slm_err(c->err, c->errlen, "%s:%d: duplicate key '%s'", c->name, kline, key);
            free(key);
            return -1;
        }
        if (next_event(c, &ev)) {
            free(key);
            return -1;
        }
        slm_ynode *val = NULL;
        int rc = parse_node(c, &ev, &val);
        yaml_event_delete(&ev);
        if (rc) {
            free(key);
            return -1;
        }
        map->keys = grow(map->keys, map->n, sizeof *map->keys);
        map->values = grow(map->values, map->n, sizeof *map->values);
        map->keys[map->n] = key;
        map->values[map->n] = val;
        key_add(ks, map->keys, map->n++);
    }
}

static int parse_node(parse_ctx *c, yaml_event_t *ev, slm_ynode **out)
{
    int line = (int)ev->start_mark.line + 1, rc;
    if ((ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT) &&
        c->depth >= SLM_MAX_YAML_DEPTH)
        return slm_err(c->err, c->errlen, "%s:%d: nested deeper than %d levels", c->name, line,
                       SLM_MAX_YAML_DEPTH);
    if (++c->nodes > SLM_MAX_YAML_NODES)
        return slm_err(c->err, c->errlen, "%s:%d: more than %ld YAML nodes in one document (the "
                       "limit)", c->name, line, SLM_MAX_YAML_NODES);
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        *out = node_new(SLM_Y_SCALAR, line);
        (*out)->scalar = slm_xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        return 0;
    case YAML_SEQUENCE_START_EVENT:
        *out = node_new(SLM_Y_SEQ, line);
        c->depth++;
        rc = parse_seq(c, *out);
        c->depth--;
        if (rc) {
            node_free(*out);
            *out = NULL;
            return -1;
        }
        return 0;
    case YAML_MAPPING_START_EVENT:
        *out = node_new(SLM_Y_MAP, line);
        c->depth++;
        key_set ks = {NULL, 0};
        rc = parse_map(c, *out, &ks);
        free(ks.slot);
        c->depth--;
        if (rc) {
            node_free(*out);
            *out = NULL;
            return -1;
        }
        return 0;
    case YAML_ALIAS_EVENT:
        return slm_err(c->err, c->errlen, "%s:%d: YAML aliases are not supported", c->name, line);
    default:
        return slm_err(c->err, c->errlen, "%s:%d: unexpected YAML event", c->name, line);
    }
}

int slm_yaml_parse(const char *name, const char *text, size_t len, slm_yaml **out, char *err,
                   size_t errlen)
{
    parse_ctx c = {.name = name, .err = err, .errlen = errlen};
    if (len > (size_t)SLM_MAX_YAML_BYTES)
        return slm_err(err, errlen, "%s: %zu bytes, more than the limit of %ld for a YAML file",
                       name, len, SLM_MAX_YAML_BYTES);
    if (!yaml_parser_initialize(&c.parser))
        return slm_err(err, errlen, "%s: cannot initialise the YAML parser", name);
    yaml_parser_set_input_string(&c.parser, (const unsigned char *)text, len);
    slm_yaml *y = slm_xcalloc(1, sizeof *y);
    y->path = slm_xstrdup(name);
    int rc = -1;
    int docs = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(&c, &ev))
            goto done;
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT) {
            if (++docs > 1) {
                int line = (int)ev.start_mark.line + 1;
                yaml_event_delete(&ev);
                slm_err(err, errlen, "%s:%d: only one YAML document is allowed", name, line);
                goto done;
            }
        } else if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT ||
                   t == YAML_SCALAR_EVENT || t == YAML_ALIAS_EVENT) {
            int r = parse_node(&c, &ev, &y->root);
            yaml_event_delete(&ev);
            if (r)
                goto done;
            continue;
        }
        yaml_event_delete(&ev);
    }
    rc = 0;
done:
    yaml_parser_delete(&c.parser);
    if (rc) {
        slm_yaml_free(y);
        return -1;
    }
    *out = y;
    return 0;
}

int slm_yaml_check_size(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > SLM_MAX_YAML_BYTES)
        return slm_err(err, errlen, "%s: %lld bytes, more than the limit of %ld for a YAML file",
                       path, (long long)st.st_size, SLM_MAX_YAML_BYTES);
    return 0;
}

int slm_yaml_load(const char *path, slm_yaml **out, char *err, size_t errlen)
{
    char *text;
    size_t len;
    if (slm_yaml_check_size(path, err, errlen) || slm_read_file(path, &text, &len, err, errlen))
        return -1;
    int rc = slm_yaml_parse(path, text, len, out, err, errlen);
    free(text);
    return rc;
}

void slm_yaml_free(slm_yaml *y)
{
    if (!y)
        return;
    node_free(y->root);
    free(y->path);
    free(y);
}

const slm_ynode *slm_ymap_get(const slm_ynode *m, const char *key)
{
    if (!m || m->kind != SLM_Y_MAP)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->keys[i], key) == 0)
            return m->values[i];
    return NULL;
}

const char *slm_ymap_str(const slm_ynode *m, const char *key)
{
    const slm_ynode *v = slm_ymap_get(m, key);
    return v && v->kind == SLM_Y_SCALAR ? v->scalar : NULL;
}

int slm_ymap_check_keys(const slm_yaml *y, const slm_ynode *m, const char *const *allowed,
                        const char *what, char *err, size_t errlen)
{
    if (!m || m->kind != SLM_Y_MAP)
        return 0;
    for (size_t i = 0; i < m->n; i++) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, m->keys[i]) == 0)
                ok = 1;
        if (!ok)
            return slm_err(err, errlen, "%s:%d: unknown key '%s' in %s", y->path,
                           m->values[i]->line, m->keys[i], what);
    }
    return 0;
}

static int scalar_or_err(const slm_yaml *y, const slm_ynode *v, const char *key,
                         const char *expect, char *err, size_t errlen)
{
    if (v->kind != SLM_Y_SCALAR)
        return slm_err(err, errlen, "%s:%d: key '%s': expected %s", y->path, v->line, key,
                       expect);
    return 0;
}

int slm_ymap_long(const slm_yaml *y, const slm_ynode *m, const char *key, long *out, char *err,
                  size_t errlen)
{
    const slm_ynode *v = slm_ymap_get(m, key);
    if (!v)
        return 1;
    if (scalar_or_err(y, v, key, "an integer", err, errlen))
        return -1;
    if (slm_parse_long(v->scalar, out))
        return slm_err(err, errlen, "%s:%d: key '%s': expected an integer, got '%s'", y->path,
                       v->line, key, v->scalar);
    return 0;
}

int slm_ymap_double(const slm_yaml *y, const slm_ynode *m, const char *key, double *out,
                    char *err, size_t errlen)
{
    const slm_ynode *v = slm_ymap_get(m, key);
    if (!v)
        return 1;
    if (scalar_or_err(y, v, key, "a number", err, errlen))
        return -1;
    if (slm_parse_double(v->scalar, out))
        return slm_err(err, errlen, "%s:%d: key '%s': expected a number, got '%s'", y->path,
                       v->line, key, v->scalar);
    return 0;
}

int slm_ymap_bool(const slm_yaml *y, const slm_ynode *m, const char *key, int *out, char *err,
                  size_t errlen)
{
    const slm_ynode *v = slm_ymap_get(m, key);
    if (!v)
        return 1;
    if (scalar_or_err(y, v, key, "true or false", err, errlen))
        return -1;
    const char *s = v->scalar;
    if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcmp(s, "1") || !strcasecmp(s, "on"))
        *out = 1;
    else if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcmp(s, "0") ||
             !strcasecmp(s, "off"))
        *out = 0;
    else
        return slm_err(err, errlen, "%s:%d: key '%s': expected true or false, got '%s'", y->path,
                       v->line, key, s);
    return 0;
}
