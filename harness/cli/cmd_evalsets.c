/* cmd_evalsets.c — `slmbench evalsets check`: validate data files and describe them;
 * `slmbench evalsets add`: append a labelled file to an eval set as a new slice. */
#include "cli.h"
#include "opts.h"
#include "slices.h"
#include "slm_limits.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
    "PATH is a data file (id,text,label CSV or JSON lines) or an eval set (a folder with\n"
    "evalset.yaml, or the yaml itself). Every row is validated; every bad row is reported\n"
    "as file:line: reason (the first 50 of a file, then how many more; exit 3). Prints\n"
    "rows, label counts, text lengths and duplicates; for an eval set, every split and\n"
    "the texts shared between splits (leakage).\n";

/* Normalised text for duplicate detection: lowercase, runs of non-alphanumerics → ' '. */
static char *norm_text(const char *s)
{
    slm_buf b = {0};
    int space = 1;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c >= 0x80) {
            slm_buf_putc(&b, (char)tolower(c));
            space = 0;
        } else if (!space) {
            slm_buf_putc(&b, ' ');
            space = 1;
        }
    }
    if (b.len && b.data[b.len - 1] == ' ')
        b.data[--b.len] = '\0';
    return slm_buf_take(&b);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorted normalised texts of a dataset (caller frees with slm_free_strv). */
static char **sorted_norms(const slm_dataset *d)
{
    char **v = slm_xcalloc(d->n, sizeof *v);
    for (size_t i = 0; i < d->n; i++)
        v[i] = norm_text(d->rows[i].text);
    qsort(v, d->n, sizeof *v, cmp_str);
    return v;
}

static void describe(const slm_dataset *d, const char *const *labels, size_t nl)
{
    printf("%s\n  rows            %zu", d->path, d->n);
    if (d->n_skipped)
        printf(" (%zu bad rows skipped; first: %s)", d->n_skipped, d->first_skip_reason);
    printf("\n  sha256          %s\n", d->sha256);
    /* label counts, in label-set order if known, else sorted */
    char **seen = slm_xcalloc(d->n, sizeof *seen);
    for (size_t i = 0; i < d->n; i++)
        seen[i] = d->rows[i].label;
    qsort(seen, d->n, sizeof *seen, cmp_str);
    size_t distinct = 0;
    for (size_t i = 0; i < d->n; i++)
        distinct += !i || strcmp(seen[i], seen[i - 1]);
    printf("  labels          %zu distinct\n", distinct);
    size_t maxc = 0;
    for (size_t i = 0; i < d->n;) {
        size_t j = i;
        while (j < d->n && !strcmp(seen[j], seen[i]))
            j++;
        if (j - i > maxc)
            maxc = j - i;
        printf("    %-28s %6zu  %5.1f%%\n", seen[i], j - i, 100.0 * (double)(j - i) / (double)d->n);
        i = j;
    }
    for (size_t k = 0; labels && k < nl; k++) {
        int found = 0;
        for (size_t i = 0; i < d->n && !found; i++)
            found = !strcmp(seen[i], labels[k]);
        if (!found)
            printf("    %-28s %6d  (in the label set, no rows)\n", labels[k], 0);
    }
    printf("  majority rate   %.1f%%\n", 100.0 * (double)maxc / (double)d->n);
    free(seen);
    double *len = slm_xcalloc(d->n, sizeof *len);
    double sum = 0;
    for (size_t i = 0; i < d->n; i++) {
        len[i] = (double)strlen(d->rows[i].text);
        sum += len[i];
    }
    qsort(len, d->n, sizeof *len, cmp_dbl);
    printf("  text bytes      min %.0f, mean %.1f, p50 %.0f, p95 %.0f, max %.0f\n", len[0],
           sum / (double)d->n, slm_percentile_sorted(len, d->n, 50),
           slm_percentile_sorted(len, d->n, 95), len[d->n - 1]);
    free(len);
    char **nv = sorted_norms(d);
    size_t dups = 0;
    for (size_t i = 1; i < d->n; i++)
        dups += !strcmp(nv[i], nv[i - 1]);
    printf("  duplicate texts %zu (after lowercasing and ignoring punctuation)\n", dups);
    slm_free_strv(nv, d->n);
}

/* Without --skip-bad-rows a file is loaded with its bad rows skipped and the first
 * SLM_MAX_REPORTED_BAD_ROWS of them kept: every one is named here (the others counted),
 * on stderr. Returns how many bad rows d has (0: none, d is good). */
static size_t report_bad_rows(const slm_dataset *d)
{
    for (size_t i = 0; i < d->n_bad_rows; i++)
        slm_die(SLM_EXIT_BAD_INPUT, "%s", d->bad_rows[i]);
    if (d->n_skipped > d->n_bad_rows)
        slm_die(SLM_EXIT_BAD_INPUT, "%s: ... and %zu more bad rows", d->path,
                d->n_skipped - d->n_bad_rows);
    if (d->n_skipped)
        slm_die(SLM_EXIT_BAD_INPUT, "%s: %zu bad row%s, %zu good: fix %s (or leave %s out: "
                "--skip-bad-rows here, skip_bad_rows: true in a run config)", d->path,
                d->n_skipped, d->n_skipped == 1 ? "" : "s", d->n, d->n_skipped == 1 ? "it" : "them",
                d->n_skipped == 1 ? "it" : "them");
    return d->n_skipped;
}

/* The options checking a file with: skip (--skip-bad-rows) skips and counts bad rows;
 * otherwise they are skipped too, but kept to be named, and the file fails. */
static void check_opts(slm_load_opts *o, int skip)
{
    o->skip_bad_rows = 1;
    o->keep_bad_rows = skip ? 0 : SLM_MAX_REPORTED_BAD_ROWS;
}

static size_t shared_texts(const slm_dataset *a, const slm_dataset *b)
{
    char **x = sorted_norms(a), **y = sorted_norms(b);
    size_t i = 0, j = 0, n = 0;
    while (i < a->n && j < b->n) {
        int c = strcmp(x[i], y[j]);
        if (c == 0) {
            n++;
            i++;
            j++;
        } else if (c < 0)
            i++;
        else
            j++;
    }
    slm_free_strv(x, a->n);
    slm_free_strv(y, b->n);
    return n;
}

static int is_data_file(const char *p)
{
    size_t n = strlen(p);
    const char *ext[] = {".csv", ".jsonl", ".ndjson", ".tsv"};
    for (size_t i = 0; i < 4; i++) {
        size_t e = strlen(ext[i]);
        if (n >= e && !strcmp(p + n - e, ext[i]))
            return 1;
    }
    return 0;
}

static const char ADD_ABOUT[] =
    "Appends LABELLED (an id,text,label CSV or JSON lines, such as an audit sample labelled\n"
    "by people; other columns are kept) to the eval set DIR as a new slice: the file is\n"
    "copied to DIR/slices/NAME.csv, evalset.yaml lists it under 'slices:' with its split,\n"
    "rows and sha256, and the eval set's version goes up (an integer by one). The next run\n"
    "of that split includes the rows (slice column 'slice:NAME') under a new data sha256.\n"
    "Refused (exit 3, file:line): a bad row, a label outside the label set, an id already\n"
    "in the eval set, a slice name already taken.\n";

/* `evalsets add DIR --file LABELLED [--slice NAME] [--split SPLIT]`. */
static int evalsets_add(int argc, char **argv)
{
    const char *file = NULL, *name = NULL, *split = "test", *dir = NULL;
    int quiet = 0;
    slm_opt opts[] = {
        {.name = "file", .arg = "LABELLED", .kind = SLM_OPT_STR, .target = &file,
         .needs = "a labelled file", .help = "the labelled CSV or JSON-lines file to add"},
        {.name = "slice", .arg = "NAME", .kind = SLM_OPT_STR, .target = &name,
         .needs = "a slice name",
         .help = "the slice's name (letters, digits, '.', '_', '-'); default: the\n"
                 "file's base name"},
        {.name = "split", .arg = "SPLIT", .kind = SLM_OPT_STR, .target = &split,
         .needs = "a split name", .help = "the declared split the slice extends (default test)"},
        SLM_OPT_QUIET(&quiet),
        {0},
    };
    const slm_cmd cmd = {
        .name = "evalsets add",
        .synopsis = "evalsets add DIR --file LABELLED.csv [--slice NAME] [--split SPLIT]",
        .about = ADD_ABOUT,
        .footer = "Exit: 0 added, 2 usage, 3 bad input, 4 cannot write.\n",
        .opts = opts,
        .max_pos = 1,
    };
    size_t np;
    int prc = slm_opts_parse(&cmd, argc, argv, 2, &dir, &np);
    if (prc != SLM_OPTS_GO)
        return prc;
    if (!dir)
        return slm_opts_usage_error(&cmd, "missing DIR (the eval set)");
    if (!file)
        return slm_opts_usage_error(&cmd, "missing --file LABELLED.csv");
    char err[SLM_ERRLEN];
    slm_slice_added a;
    int rc = slm_evalset_add_slice(dir, file, split, name, &a, err, sizeof err);
    if (rc == 0 && !quiet)
        printf("added slice '%s' to split '%s': %zu rows, %s (sha256 %.12s)\n"
               "eval set version %s -> %s; split '%s' sha256 now %.12s\n",
               a.name, a.split, a.rows, a.path, a.sha256, a.old_version, a.version, a.split,
               a.split_sha256);
    slm_slice_added_free(&a);
    if (rc == SLM_SLICE_NO_WRITE)
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    if (rc)
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    return SLM_EXIT_OK;
}

int cmd_evalsets(int argc, char **argv)
{
    const char *labels_from = NULL;
    int skip = 0;
    slm_opt opts[] = {
        {.name = "labels", .arg = "EVALSET", .kind = SLM_OPT_STR, .target = &labels_from,
         .needs = "an eval set",
         .help = "check a data file's labels against that eval set's label set"},
        {.name = "skip-bad-rows", .kind = SLM_OPT_FLAG, .target = &skip,
         .help = "skip bad rows (counted, the first one named) instead of\n"
                 "failing on them"},
        {0},
    };
    const slm_cmd cmd = {
        .name = "evalsets check",
        .synopsis = "evalsets check PATH\n"
                    "evalsets add DIR --file LABELLED.csv [--slice NAME] [--split SPLIT]",
        .about = ABOUT,
        .opts = opts,
        .max_pos = 1,
    };
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        slm_opts_help(&cmd, argc < 2 ? stderr : stdout);
        return argc < 2 ? SLM_EXIT_USAGE : SLM_EXIT_OK;
    }
    if (!strcmp(argv[1], "add"))
        return evalsets_add(argc, argv);
    if (strcmp(argv[1], "check"))
        return slm_opts_usage_error(&cmd, "unknown evalsets subcommand '%s'", argv[1]);
    const char *path = NULL;
    size_t np;
    int prc = slm_opts_parse(&cmd, argc, argv, 2, &path, &np);
    if (prc != SLM_OPTS_GO)
        return prc;
    if (!path)
        return slm_opts_usage_error(&cmd, "missing PATH");
    char err[SLM_ERRLEN];
    int rc = SLM_EXIT_OK;
    if (is_data_file(path)) {
        slm_evalset *es = NULL;
        if (labels_from && slm_evalset_load(labels_from, &es, err, sizeof err))
            return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
        slm_load_opts o = {.labels = es && es->n_labels ? (const char *const *)es->labels : NULL,
                           .n_labels = es ? es->n_labels : 0,
                           .fields = es && es->n_fields ? es->fields : NULL,
                           .n_fields = es ? es->n_fields : 0,
                           .labels_from = es ? es->yaml_path : NULL};
        check_opts(&o, skip);
        slm_dataset *d;
        if (slm_dataset_load(path, &o, &d, err, sizeof err))
            rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
        else if (!skip && report_bad_rows(d)) {
            rc = SLM_EXIT_BAD_INPUT;
            slm_dataset_free(d);
        } else {
            describe(d, es ? (const char *const *)es->labels : NULL, es ? es->n_labels : 0);
            printf("ok\n");
            slm_dataset_free(d);
        }
        slm_evalset_free(es);
        return rc;
    }
    slm_evalset *es;
    if (slm_evalset_load(path, &es, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    if (slm_prompt_check(es->prompt, es->prompt_path, err, sizeof err)) {
        slm_evalset_free(es);
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    }
    printf("eval set '%s' v%s (%s): %zu labels, prompt %s (sha256 %.12s)\n", es->name, es->version,
           es->task, es->n_labels, es->prompt_path, es->prompt_sha256);
    for (size_t i = 0; i < es->n_slices; i++)
        printf("slice '%s': added to split '%s' with version %s, %s (sha256 %.12s)\n",
               es->slices[i].name, es->slices[i].split, es->slices[i].version,
               es->slices[i].path, es->slices[i].sha256);
    slm_dataset **ds = slm_xcalloc(es->n_splits, sizeof *ds);
    slm_load_opts o = slm_evalset_load_opts(es, skip);
    check_opts(&o, skip);
    for (size_t i = 0; i < es->n_splits; i++) {
        if (slm_evalset_load_split_with(es, es->splits[i].name, &o, &ds[i], err, sizeof err)) {
            rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
            continue;
        }
        if (!skip && report_bad_rows(ds[i])) {
            rc = SLM_EXIT_BAD_INPUT;
            slm_dataset_free(ds[i]);
            ds[i] = NULL;
            continue;
        }
        printf("split '%s': ", es->splits[i].name);
        describe(ds[i], (const char *const *)es->labels, es->n_labels);
    }
    for (size_t i = 0; i < es->n_splits; i++)
        for (size_t j = i + 1; j < es->n_splits; j++)
            if (ds[i] && ds[j]) {
                size_t n = shared_texts(ds[i], ds[j]);
                printf("leakage '%s' vs '%s': %zu shared texts\n", es->splits[i].name,
                       es->splits[j].name, n);
            }
    if (rc == SLM_EXIT_OK)
        printf("ok\n");
    for (size_t i = 0; i < es->n_splits; i++)
        slm_dataset_free(ds[i]);
    free(ds);
    slm_evalset_free(es);
    return rc;
}
