/* slices.c — see slices.h. */
#include "slices.h"
#include "sha256.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- reading evalset.yaml's slices ---------------------------------------------------- */

/* NULL when name is a good slice name, else why not. */
static const char *bad_name(const char *name)
{
    size_t n = strlen(name);
    if (!n)
        return "it is empty";
    if (n > SLM_SLICE_NAME_MAX)
        return "it is longer than 64 bytes";
    if (name[0] == '.')
        return "it starts with '.'";
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
            return "use letters, digits, '.', '_' and '-'";
    return NULL;
}

static int is_hex64(const char *s)
{
    if (!s || strlen(s) != 64)
        return 0;
    for (size_t i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

static char *join_dir(const char *dir, const char *rel)
{
    if (rel[0] == '/' || !dir[0])
        return slm_xstrdup(rel);
    return slm_xasprintf("%s/%s", dir, rel);
}

/* One entry of the list into sl; -1 with err. */
static int parse_one(const slm_evalset *e, const slm_yaml *y, const slm_ynode *m, slm_slice *sl,
                     char *err, size_t errlen)
{
    static const char *const keys[] = {"name", "split", "file", "version", "sha256", "rows",
                                       "added", NULL};
    if (m->kind != SLM_Y_MAP)
        return slm_err(err, errlen, "%s:%d: a slice is a mapping (name, split, file, version, "
                       "sha256)", e->yaml_path, m->line);
    if (slm_ymap_check_keys(y, m, keys, "a slice", err, errlen))
        return -1;
    const char *need[] = {"name", "split", "file", "version", "sha256"};
    for (size_t i = 0; i < 5; i++)
        if (!slm_ymap_str(m, need[i]) || !*slm_ymap_str(m, need[i]))
            return slm_err(err, errlen, "%s:%d: slice without '%s'", e->yaml_path, m->line,
                           need[i]);
    const char *name = slm_ymap_str(m, "name"), *why = bad_name(name);
    if (why)
        return slm_err(err, errlen, "%s:%d: bad slice name '%s': %s", e->yaml_path, m->line,
                       name, why);
    const char *split = slm_ymap_str(m, "split");
    if (!slm_evalset_split_path(e, split))
        return slm_err(err, errlen, "%s:%d: slice '%s' extends split '%s', which is not declared",
                       e->yaml_path, m->line, name, split);
    if (!is_hex64(slm_ymap_str(m, "sha256")))
        return slm_err(err, errlen, "%s:%d: slice '%s': sha256 must be 64 hex digits",
                       e->yaml_path, m->line, name);
    sl->name = slm_xstrdup(name);
    sl->split = slm_xstrdup(split);
    sl->path = join_dir(e->dir, slm_ymap_str(m, "file"));
    sl->version = slm_xstrdup(slm_ymap_str(m, "version"));
    snprintf(sl->sha256, sizeof sl->sha256, "%s", slm_ymap_str(m, "sha256"));
    for (char *c = sl->sha256; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return 0;
}

int slm_slices_parse(slm_evalset *e, const slm_yaml *y, const slm_ynode *list, char *err,
                     size_t errlen)
{
    if (!list)
        return 0;
    if (list->kind != SLM_Y_SEQ)
        return slm_err(err, errlen, "%s:%d: 'slices' must be a list of slices (name, split, "
                       "file, version, sha256)", e->yaml_path, list->line);
    e->slices = slm_xcalloc(list->n ? list->n : 1, sizeof *e->slices);
    for (size_t i = 0; i < list->n; i++) {
        slm_slice *sl = &e->slices[e->n_slices];
        if (parse_one(e, y, list->items[i], sl, err, errlen))
            return -1;
        e->n_slices++;
        for (size_t k = 0; k + 1 < e->n_slices; k++)
            if (!strcmp(e->slices[k].name, sl->name))
                return slm_err(err, errlen, "%s:%d: slice name '%s' given twice", e->yaml_path,
                               list->items[i]->line, sl->name);
    }
    return 0;
}

/* ---- loading a split with its slices -------------------------------------------------- */

/* Rows of d with their files, for the duplicate-id check. */
typedef struct idref {
    const char *id, *file;
    long line;
    size_t idx;
} idref;

static int cmp_idref(const void *a, const void *b)
{
    const idref *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* -1 with err when an id repeats among refs[0..n) (the later row named). */
static int no_repeated_id(idref *refs, size_t n, char *err, size_t errlen)
{
    qsort(refs, n, sizeof *refs, cmp_idref);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(refs[i].id, refs[i - 1].id))
            return slm_err(err, errlen, "%s:%ld: id '%.80s' is already in the eval set (%s:%ld)",
                           refs[i].file, refs[i].line, refs[i].id, refs[i - 1].file,
                           refs[i - 1].line);
    return 0;
}

/* Moves the rows of s to the end of d, tagged "slice:<name>". */
static void take_rows(slm_dataset *d, slm_dataset *s, const char *name)
{
    d->rows = slm_xrealloc(d->rows, (d->n + s->n + 1) * sizeof *d->rows);
    for (size_t i = 0; i < s->n; i++) {
        slm_example *x = &s->rows[i];
        char *tag = x->slice && *x->slice ? slm_xasprintf("%s;slice:%s", x->slice, name)
                                          : slm_xasprintf("slice:%s", name);
        free(x->slice);
        x->slice = tag;
        d->rows[d->n++] = *x;
    }
    d->n_skipped += s->n_skipped;
    if (!d->first_skip_reason && s->first_skip_reason) {
        d->first_skip_reason = s->first_skip_reason;
        s->first_skip_reason = NULL;
    }
    s->n = 0;
}

/* The sha256 of the split with its slices (slices.h). */
static void combined_sha(const slm_evalset *e, const char *split, slm_dataset *d)
{
    slm_buf b = {0};
    slm_buf_printf(&b, "%s\n", d->sha256);
    for (size_t k = 0; k < e->n_slices; k++)
        if (!strcmp(e->slices[k].split, split))
            slm_buf_printf(&b, "%s %s\n", e->slices[k].name, e->slices[k].sha256);
    slm_sha256_hex(b.data, b.len, d->sha256);
    slm_buf_free(&b);
}

int slm_slices_append(const slm_evalset *e, const char *split, const slm_load_opts *o,
                      slm_dataset *d, char *err, size_t errlen)
{
    size_t n0 = d->n, nsl = 0;
    const char **file = NULL; /* per appended row: its slice file */
    int rc = 0;
    for (size_t k = 0; k < e->n_slices && !rc; k++) {
        const slm_slice *sl = &e->slices[k];
        if (strcmp(sl->split, split))
            continue;
        slm_dataset *s;
        if (slm_dataset_load(sl->path, o, &s, err, errlen))
            return -1; /* rows taken so far stay in d, freed with it */
        if (strcmp(s->sha256, sl->sha256))
            rc = slm_err(err, errlen, "%s: slice '%s' changed since it was added (sha256 "
                         "%.12s…, %s records %.12s…)", sl->path, sl->name, s->sha256,
                         e->yaml_path, sl->sha256);
        else {
            file = slm_xrealloc(file, (d->n - n0 + s->n + 1) * sizeof *file);
            for (size_t i = 0; i < s->n; i++)
                file[d->n - n0 + i] = sl->path;
            take_rows(d, s, sl->name);
            nsl++;
        }
        slm_dataset_free(s);
    }
    if (!rc && nsl) {
        idref *refs = slm_xcalloc(d->n, sizeof *refs);
        for (size_t i = 0; i < d->n; i++)
            refs[i] = (idref){d->rows[i].id, i < n0 ? d->path : file[i - n0], d->rows[i].line, i};
        rc = no_repeated_id(refs, d->n, err, errlen);
        free(refs);
    }
    if (!rc && nsl)
        combined_sha(e, split, d);
    free(file);
    return rc;
}

/* ---- adding a slice ------------------------------------------------------------------- */

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

/* The file's base name without its extension. */
static char *default_name(const char *file)
{
    const char *b = strrchr(file, '/');
    b = b ? b + 1 : file;
    const char *dot = strrchr(b, '.');
    return slm_xstrndup(b, dot && dot > b ? (size_t)(dot - b) : strlen(b));
}

/* The next version: an integer plus one, anything else with "+<name>". */
static char *next_version(const char *v, const char *name)
{
    size_t n = strlen(v);
    int digits = n > 0 && n < 10;
    for (size_t i = 0; digits && i < n; i++)
        digits = isdigit((unsigned char)v[i]);
    return digits ? slm_xasprintf("%ld", atol(v) + 1) : slm_xasprintf("%s+%s", v, name);
}

/* Where the existing row with this id is: "file:line" of the split or the slice. */
static char *where_of(const slm_evalset *e, const slm_dataset *d, const slm_example *x)
{
    const char *tag = x->slice ? strstr(x->slice, "slice:") : NULL;
    for (size_t k = 0; tag && k < e->n_slices; k++)
        if (!strcmp(tag + 6, e->slices[k].name))
            return slm_xasprintf("%s:%ld", e->slices[k].path, x->line);
    return slm_xasprintf("%s:%ld", d->path, x->line);
}

static int cmp_example_id(const void *a, const void *b)
{
    return strcmp((*(const slm_example *const *)a)->id, (*(const slm_example *const *)b)->id);
}

/* -1 with err when an id of d is already in a split (or slice) of e. */
static int ids_are_new(const slm_evalset *e, const slm_dataset *d, char *err, size_t errlen)
{
    int rc = 0;
    for (size_t s = 0; s < e->n_splits && !rc; s++) {
        slm_dataset *x;
        if (slm_evalset_load_split(e, e->splits[s].name, 0, &x, err, errlen))
            return -1;
        const slm_example **v = slm_xcalloc(x->n + 1, sizeof *v);
        for (size_t i = 0; i < x->n; i++)
            v[i] = &x->rows[i];
        qsort(v, x->n, sizeof *v, cmp_example_id);
        for (size_t i = 0; i < d->n && !rc; i++) {
            const slm_example key = {.id = d->rows[i].id}, *kp = &key;
            const slm_example **hit = bsearch(&kp, v, x->n, sizeof *v, cmp_example_id);
            if (hit) {
                char *at = where_of(e, x, *hit);
                rc = slm_err(err, errlen, "%s:%ld: id '%.80s' is already in the eval set "
                             "(split '%s', %s)", d->path, d->rows[i].line, d->rows[i].id,
                             e->splits[s].name, at);
                free(at);
            }
        }
        free(v);
        slm_dataset_free(x);
    }
    return rc;
}

/* Index of the first line (0-based, in lines[0..n)) at column 0 starting with key and ':'. */
static long top_key(char **lines, size_t n, const char *key)
{
    size_t k = strlen(key);
    for (size_t i = 0; i < n; i++)
        if (!strncmp(lines[i], key, k) && lines[i][k] == ':')
            return (long)i;
    return -1;
}

/* After the top-level `slices:` line at s: the line where its block ends, and in *indent
 * the indentation of its items (2 when it has none yet). */
static size_t block_end(char **lines, size_t n, size_t s, int *indent)
{
    *indent = -1;
    size_t i = s + 1;
    for (; i < n; i++) {
        const char *l = lines[i];
        size_t sp = strspn(l, " \t");
        if (l[sp] == '\0' || l[sp] == '#')
            continue;
        if (sp == 0 && l[0] != '-')
            break;
        if (*indent < 0 && l[sp] == '-')
            *indent = (int)sp;
    }
    while (i > s + 1 && lines[i - 1][strspn(lines[i - 1], " \t")] == '\0')
        i--; /* keep blank lines after the block where they were */
    if (*indent < 0)
        *indent = 2;
    return i;
}

/* One entry of the `slices:` list, its dash at column indent. */
static char *entry(int indent, const slm_slice_added *a, const char *rel)
{
    return slm_xasprintf("%*s- name: \"%s\"\n%*s  split: \"%s\"\n%*s  file: \"%s\"\n"
                         "%*s  version: \"%s\"\n%*s  rows: %zu\n%*s  sha256: \"%s\"\n",
                         indent, "", a->name, indent, "", a->split, indent, "", rel, indent, "",
                         a->version, indent, "", a->rows, indent, "", a->sha256);
}

/* The lines of text (modified in place: newlines become NULs) into *lines; their number. */
static size_t split_lines(char *text, char ***lines)
{
    size_t n = 0;
    *lines = NULL;
    for (char *p = text, *nl; p && *p; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        *lines = slm_xrealloc(*lines, (n + 1) * sizeof **lines);
        (*lines)[n++] = p;
    }
    return n;
}

/* evalset.yaml's text (at path, for messages) with the version replaced (or added after
 * `name:`) and the slice entry appended to `slices:` (created at the end when absent).
 * NULL with err when `slices:` is not a block list. */
static char *edited_yaml(const char *path, const char *text, const slm_slice_added *a,
                         const char *rel, char *err, size_t errlen)
{
    char *copy = slm_xstrdup(text), **lines;
    size_t n = split_lines(copy, &lines);
    long v = top_key(lines, n, "version"), s = top_key(lines, n, "slices");
    long name_at = top_key(lines, n, "name");
    const char *rest = s >= 0 ? lines[s] + 7 + strspn(lines[s] + 7, " \t") : "";
    if (*rest && *rest != '#') {
        free(lines), free(copy);
        slm_err(err, errlen, "%s:%ld: 'slices:' is not a block list (write its items one "
                "per line, '- name: ...')", path, s + 1);
        return NULL;
    }
    int indent = 2;
    size_t end = s >= 0 ? block_end(lines, n, (size_t)s, &indent) : n;
    char *item = entry(indent, a, rel);
    slm_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (s >= 0 && i == end)
            slm_buf_puts(&b, item);
        if ((long)i == v)
            slm_buf_printf(&b, "version: \"%s\"\n", a->version);
        else
            slm_buf_printf(&b, "%s\n", lines[i]);
        if (v < 0 && (long)i == (name_at >= 0 ? name_at : 0))
            slm_buf_printf(&b, "version: \"%s\"\n", a->version);
    }
    if (s >= 0 && end == n)
        slm_buf_puts(&b, item);
    if (s < 0)
        slm_buf_printf(&b, "slices: # labelled files added by slmbench evalsets add\n%s", item);
    free(item), free(lines), free(copy);
    return slm_buf_take(&b);
}

/* The slice's name (given or from the file) and its file, checked; -1 with err. */
static int choose_name(const slm_evalset *e, const char *file, const char *name,
                       slm_slice_added *a, char **rel, char *err, size_t errlen)
{
    a->name = name ? slm_xstrdup(name) : default_name(file);
    const char *why = bad_name(a->name);
    if (why)
        return slm_err(err, errlen, "bad slice name '%s': %s%s", a->name, why,
                       name ? "" : " (name it with --slice NAME)");
    for (size_t k = 0; k < e->n_slices; k++)
        if (!strcmp(e->slices[k].name, a->name))
            return slm_err(err, errlen, "%s: eval set '%s' already has a slice '%s'",
                           e->yaml_path, e->name, a->name);
    const char *ext = has_suffix(file, ".jsonl") ? ".jsonl"
                      : has_suffix(file, ".ndjson") ? ".ndjson" : ".csv";
    *rel = slm_xasprintf("slices/%s%s", a->name, ext);
    a->path = join_dir(e->dir, *rel);
    if (access(a->path, F_OK) == 0)
        return slm_err(err, errlen, "%s already exists (a slice file of that name)", a->path);
    return 0;
}

/* Writes the slice file, then evalset.yaml; removes the slice file when the second fails. */
static int write_both(const slm_evalset *e, const slm_slice_added *a, const char *bytes,
                      size_t len, const char *yaml, char *err, size_t errlen)
{
    char *dir = join_dir(e->dir, "slices");
    int rc = slm_mkdir_p(dir, err, errlen);
    free(dir);
    if (rc || slm_write_file_atomic(a->path, bytes, len, err, errlen))
        return -1;
    if (slm_write_file_atomic(e->yaml_path, yaml, strlen(yaml), err, errlen)) {
        unlink(a->path);
        return -1;
    }
    return 0;
}

/* The split's sha256 with the new slice, as a run will record it; -1 with err (then
 * evalset.yaml is restored to old_yaml and the slice file removed). */
static int reload(const char *yaml_path, const slm_slice_added *a, const char *old_yaml,
                  char *sha, char *err, size_t errlen)
{
    slm_evalset *e = NULL;
    slm_dataset *d = NULL;
    int rc = slm_evalset_load(yaml_path, &e, err, errlen) ||
             slm_evalset_load_split(e, a->split, 0, &d, err, errlen);
    if (!rc)
        memcpy(sha, d->sha256, 65);
    else {
        char e2[SLM_ERRLEN];
        slm_write_file_atomic(yaml_path, old_yaml, strlen(old_yaml), e2, sizeof e2);
        unlink(a->path);
    }
    slm_dataset_free(d);
    slm_evalset_free(e);
    return rc ? -1 : 0;
}

int slm_evalset_add_slice(const char *evalset_path, const char *file, const char *split,
                          const char *name, slm_slice_added *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    slm_evalset *e = NULL;
    slm_dataset *d = NULL;
    char *rel = NULL, *bytes = NULL, *old = NULL, *yaml = NULL;
    size_t len, olen;
    int rc = SLM_SLICE_BAD_INPUT;
    if (slm_evalset_load(evalset_path, &e, err, errlen))
        goto out;
    out->split = slm_xstrdup(split);
    if (!slm_evalset_split_path(e, split)) {
        slm_err(err, errlen, "%s: eval set '%s' has no split '%s'", e->yaml_path, e->name, split);
        goto out;
    }
    slm_load_opts o = slm_evalset_load_opts(e, 0);
    if (choose_name(e, file, name, out, &rel, err, errlen) ||
        slm_dataset_load(file, &o, &d, err, errlen) || ids_are_new(e, d, err, errlen) ||
        slm_read_file(file, &bytes, &len, err, errlen) ||
        slm_read_file(e->yaml_path, &old, &olen, err, errlen))
        goto out;
    slm_sha256_hex(bytes, len, out->sha256);
    out->rows = d->n;
    out->old_version = slm_xstrdup(e->version);
    out->version = next_version(e->version, out->name);
    if (!(yaml = edited_yaml(e->yaml_path, old, out, rel, err, errlen)))
        goto out;
    rc = SLM_SLICE_NO_WRITE;
    if (write_both(e, out, bytes, len, yaml, err, errlen))
        goto out;
    rc = SLM_SLICE_BAD_INPUT;
    if (reload(e->yaml_path, out, old, out->split_sha256, err, errlen))
        goto out;
    rc = 0;
out:
    free(rel), free(bytes), free(old), free(yaml);
    slm_dataset_free(d);
    slm_evalset_free(e);
    return rc;
}

void slm_slice_added_free(slm_slice_added *a)
{
    if (!a)
        return;
    free(a->name), free(a->path), free(a->split), free(a->old_version), free(a->version);
    memset(a, 0, sizeof *a);
}
