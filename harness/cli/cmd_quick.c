/*
 * cmd_quick.c — `slmbench quick` and `slmbench init`: from a labelled CSV or JSON-lines
 * file and some GGUF models to an eval set folder, a run config, a run and its report in
 * one command (quickdata.h makes the files; the run and the report are those of `slmbench
 * run` and `slmbench report --out`, called as they are).
 */
#include "cli.h"
#include "opts.h"
#include "quickdata.h"

#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
    "Turns a labelled file into an eval set and a run config, runs every model on it and\n"
    "writes the report. FILE is a CSV with a header (any column names) or JSON lines\n"
    "(*.jsonl, *.ndjson). The text and label columns are the ones named by --text and\n"
    "--label, else guessed (by name: text, utterance, message, ...; label, intent, category,\n"
    "...; else the label column is the one with the fewest distinct values repeated, the\n"
    "text column the longest) and said on stderr. A seeded calibration split stratified by\n"
    "label is held out (temperature scaling); the rest is the test split. Written into DIR\n"
    "(default slmbench-<data file's stem>): evalset/ (evalset.yaml, prompt.txt, test.csv,\n"
    "calibration.csv, README.md saying how each choice was made), run.yaml, slmbench.db and\n"
    "report/. Every file is yours to edit; the next run is `slmbench run DIR/run.yaml`.\n"
    "`slmbench init` (or --dry-run) writes the eval set and the run config without running.\n";

static const char FOOTER[] =
    "Exit: 0 ok, 2 usage, 3 bad data, model or existing files, 4 engine failure,\n"
    "130 interrupted (finish with slmbench run --resume --db DIR/slmbench.db).\n";

/* --model, given once per model. */
typedef struct model_list {
    const char *path[SLM_MAX_CANDIDATES];
    size_t n;
} model_list;

static int add_model(const char *v, void *target, char *err, size_t errlen)
{
    model_list *m = target;
    if (m->n >= (size_t)SLM_MAX_CANDIDATES)
        return slm_err(err, errlen, "more than %ld models, the limit of a run",
                       SLM_MAX_CANDIDATES);
    m->path[m->n++] = v;
    return 0;
}

typedef struct quick_args {
    const char *data, *text, *label, *db, *out, *name;
    model_list models;
    double calibration;
    long seed, limit;
    int dry_run, force, skip_empty, mixed, quiet;
} quick_args;

/* The options into *a; SLM_OPTS_GO or the exit code to return. */
static int parse_args(int argc, char **argv, quick_args *a, int init)
{
    slm_opt opts[] = {
        {.name = "data", .arg = "FILE", .kind = SLM_OPT_STR, .target = &a->data,
         .needs = "a file", .help = "the labelled rows: CSV with a header, or JSON lines"},
        {.name = "model", .arg = "GGUF", .kind = SLM_OPT_CALL, .target = &a->models,
         .set = add_model, .needs = "a GGUF file",
         .help = "a candidate model; once per model (names from the file stems)"},
        {.name = "text", .arg = "COL", .kind = SLM_OPT_STR, .target = &a->text,
         .needs = "a column name", .help = "the column of the texts (default: guessed)"},
        {.name = "label", .arg = "COL", .kind = SLM_OPT_STR, .target = &a->label,
         .needs = "a column name", .help = "the column of the labels (default: guessed)"},
        {.name = "out", .arg = "DIR", .kind = SLM_OPT_STR, .target = &a->out,
         .needs = "a folder", .help = "where everything is written (default\n"
                                      "slmbench-<data stem>)"},
        {.like = &slm_opt_db, .target = &a->db, .help = "the database (default DIR/slmbench.db)"},
        {.name = "name", .arg = "NAME", .kind = SLM_OPT_STR, .target = &a->name,
         .needs = "a name", .help = "of the eval set and the run (default: the data stem)"},
        {.name = "calibration", .arg = "SHARE", .kind = SLM_OPT_DOUBLE, .target = &a->calibration,
         .needs = "a share from 0 to below 1",
         .help = "share held out for calibration, per label (default 0.2; 0: none)"},
        {.name = "seed", .arg = "N", .kind = SLM_OPT_LONG, .target = &a->seed, .min = 0,
         .needs = "a number >= 0", .help = "of the split, the test order and the run (default 1)"},
        {.name = "limit", .arg = "N", .kind = SLM_OPT_LONG, .target = &a->limit, .min = 1,
         .needs = "a positive number", .help = "evaluate N test rows (run.yaml's limit)"},
        {.name = "mixed-quantization", .kind = SLM_OPT_FLAG, .target = &a->mixed,
         .help = "compare models of different quantizations (quantization: mixed)"},
        {.name = "skip-empty", .kind = SLM_OPT_FLAG, .target = &a->skip_empty,
         .help = "leave out rows with an empty text or label (counted) instead of failing"},
        {.name = "force", .kind = SLM_OPT_FLAG, .target = &a->force,
         .help = "replace files in DIR that hold something else"},
        {.name = "dry-run", .kind = SLM_OPT_FLAG, .target = &a->dry_run,
         .help = "write the eval set and run.yaml, do not run (= slmbench init)"},
        SLM_OPT_QUIET(&a->quiet),
        {0},
    };
    const slm_cmd cmd = {
        .name = init ? "init" : "quick",
        .synopsis = init ? "init --data FILE --model GGUF [--model GGUF...]"
                         : "quick --data FILE --model GGUF [--model GGUF...]",
        .about = ABOUT,
        .footer = FOOTER,
        .opts = opts,
        .max_pos = 0,
    };
    size_t np;
    int rc = slm_opts_parse(&cmd, argc, argv, 1, NULL, &np);
    if (rc != SLM_OPTS_GO)
        return rc;
    if (!a->data)
        return slm_opts_usage_error(&cmd, "missing --data FILE");
    if (!a->models.n)
        return slm_opts_usage_error(&cmd, "missing --model GGUF (once per model)");
    if (!(a->calibration >= 0 && a->calibration < 1))
        return slm_opts_usage_error(&cmd, "--calibration takes a share from 0 to below 1, "
                                          "got %g", a->calibration);
    a->dry_run |= init;
    return SLM_OPTS_GO;
}

/* The stem of a path's file name: "dir/a.b.gguf" -> "a.b" (the last extension off). */
static char *stem_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char *s = slm_xstrdup(*base ? base : "data");
    char *dot = strrchr(s, '.');
    if (dot && dot != s)
        *dot = '\0';
    return s;
}

/* One model: a readable GGUF file; slm_gguf_inspect says what a folder, a missing path or
 * another kind of file is, and what to give instead. */
static int check_model(const char *path, slm_gguf_info *info)
{
    char err[SLM_ERRLEN];
    if (slm_gguf_inspect(path, info, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "--model %s", err);
    return SLM_EXIT_OK;
}

static int name_taken(const slm_quick_model *m, size_t n, const char *name)
{
    for (size_t j = 0; j < n; j++)
        if (!strcmp(m[j].name, name))
            return 1;
    return 0;
}

/* The models checked, named after their stems (made unique), with absolute paths; one
 * quantization unless mixed. Fills m[] (names and paths to free) and returns an exit code. */
static int check_models(const quick_args *a, slm_quick_model *m)
{
    slm_gguf_info *info = slm_xcalloc(a->models.n, sizeof *info);
    int rc = SLM_EXIT_OK;
    for (size_t i = 0; i < a->models.n && rc == SLM_EXIT_OK; i++)
        rc = check_model(a->models.path[i], &info[i]);
    int same = 1;
    for (size_t i = 1; i < a->models.n && rc == SLM_EXIT_OK; i++)
        same &= !strcmp(info[i].quant, info[0].quant);
    if (rc == SLM_EXIT_OK && !same && !a->mixed) {
        slm_buf b = {0};
        for (size_t i = 0; i < a->models.n; i++)
            slm_buf_printf(&b, "%s%s is %s", i ? ", " : "", a->models.path[i], info[i].quant);
        rc = slm_die(SLM_EXIT_BAD_INPUT, "the models are not at one quantization (%s); "
                     "quantize them to one with slmbench models quantize IN OUT TYPE, or "
                     "compare them as they are with --mixed-quantization", b.data);
        slm_buf_free(&b);
    }
    for (size_t i = 0; i < a->models.n && rc == SLM_EXIT_OK; i++) {
        char *base = stem_of(a->models.path[i]);
        for (char *p = base; *p; p++)
            if (*p == ':' || *p == '/' || *p == '\n')
                *p = '-';
        char *name = slm_xstrdup(base);
        for (size_t k = 2; name_taken(m, i, name); k++) { /* name, name-2, name-3 ... */
            free(name);
            name = slm_xasprintf("%s-%zu", base, k);
        }
        free(base);
        char *abs = realpath(a->models.path[i], NULL);
        m[i] = (slm_quick_model){name, abs ? abs : slm_xstrdup(a->models.path[i]),
                                 info[i].quant};
    }
    free(info);
    return rc;
}

/* What was read and chosen, on stderr: columns, ids, labels with counts, the split, the
 * prompt, the models. */
static void say_plan(const slm_quick_plan *p, const slm_quick_model *m, size_t nm)
{
    const slm_qtable *t = p->table;
    slm_buf b = {0};
    for (size_t i = 0; i < t->n_cols; i++)
        slm_buf_printf(&b, "%s'%s'", i ? ", " : "", t->cols[i]);
    slm_say(stderr, "slmbench: read %s: %zu rows, columns %s\n", t->path, t->n_rows, b.data);
    slm_say(stderr, "slmbench: text column '%s' (%s)\n", t->cols[p->col_text], p->why_text);
    slm_say(stderr, "slmbench: label column '%s' (%s)\n", t->cols[p->col_label], p->why_label);
    slm_say(stderr, "slmbench: ids: %s\n", p->why_id);
    if (p->n_skipped)
        slm_say(stderr, "slmbench: left out %zu rows with an empty text or label (the first "
                "at %s:%ld)\n", p->n_skipped, t->path, p->first_skipped_line);
    b.len = 0;
    for (size_t i = 0, col = 48; i < p->n_labels; i++) { /* lines of about 90 columns */
        char *item = slm_xasprintf("%s %ld", p->labels[i], p->counts[i]);
        if (i && col + 2 + strlen(item) > 90) {
            slm_buf_puts(&b, ",\n    ");
            col = 4;
        } else if (i) {
            slm_buf_puts(&b, ", ");
            col += 2;
        }
        slm_buf_puts(&b, item);
        col += strlen(item);
        free(item);
    }
    slm_say(stderr, "slmbench: labels (%zu, sorted, with their rows): %s\n", p->n_labels, b.data);
    b.len = 0;
    slm_quick_split_sentence(p, &b);
    slm_say(stderr, "slmbench: %s; test: the other %zu\n", b.data, p->n_test);
    b.len = 0;
    slm_say(stderr, "slmbench: prompt (evalset/prompt.txt, the same bytes for every model; "
            "{{labels}} is the label list):\n");
    for (const char *l = SLM_QUICK_PROMPT; *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        slm_say(stderr, "    %.*s\n", (int)n, l);
        l += n + (e != NULL);
    }
    for (size_t i = 0; i < nm; i++)
        slm_buf_printf(&b, "%s%s (%s)", i ? ", " : "", m[i].name, m[i].quant);
    slm_say(stderr, "slmbench: models: %s\n", b.data);
    slm_buf_free(&b);
}

/* The eval set and run config made and written into out; checked by loading them as a
 * run would. Returns an exit code. */
static int write_files(const quick_args *a, const slm_quick_plan *p, const slm_quick_model *m,
                       const char *out, const char *name)
{
    slm_quick_run r = {.name = name, .models = m, .n_models = a->models.n, .mixed = a->mixed,
                       .limit = a->limit};
    slm_quick_files f;
    slm_quick_files_make(p, &r, &f);
    char err[SLM_ERRLEN];
    size_t same;
    int rc = slm_quick_files_write(&f, out, a->force, &same, err, sizeof err);
    size_t n_files = f.n;
    slm_quick_files_free(&f);
    if (rc)
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    char *yaml = slm_xasprintf("%s/run.yaml", out);
    slm_run_cfg *cfg = NULL;
    slm_evalset *es = NULL;
    slm_dataset *d = NULL;
    rc = slm_run_cfg_load(yaml, &cfg, err, sizeof err) ||
         slm_evalset_load(cfg->evalset, &es, err, sizeof err) ||
         slm_evalset_load_split(es, "test", 0, &d, err, sizeof err);
    slm_dataset_free(d);
    d = NULL;
    if (!rc && p->n_cal)
        rc = slm_evalset_load_split(es, "calibration", 0, &d, err, sizeof err);
    slm_dataset_free(d);
    slm_evalset_free(es);
    slm_run_cfg_free(cfg);
    free(yaml);
    if (rc)
        return slm_die(SLM_EXIT_BAD_INPUT, "the eval set written does not load: %s", err);
    if (!a->quiet)
        slm_say(stderr, "slmbench: %s %s/evalset/ (evalset.yaml, prompt.txt, test.csv,%s "
                "README.md) and %s/run.yaml\n", same == n_files ? "kept (unchanged)" : "wrote",
                out, p->n_cal ? " calibration.csv," : "", out);
    return SLM_EXIT_OK;
}

/* `slmbench run OUT/run.yaml --db DB`, then `slmbench report last --db DB --out
 * OUT/report`, exactly as typed. Returns an exit code. */
static int run_and_report(const quick_args *a, const char *out, const char *db)
{
    char *yaml = slm_xasprintf("%s/run.yaml", out), *rep = slm_xasprintf("%s/report", out);
    char *run_argv[] = {"run", yaml, "--db", (char *)db, a->quiet ? "--quiet" : NULL, NULL};
    int rc = cmd_run(a->quiet ? 5 : 4, run_argv);
    fflush(stdout);
    if (rc == SLM_EXIT_OK) {
        char *rep_argv[] = {"report", "last", "--db", (char *)db, "--out", rep, NULL};
        rc = cmd_report(6, rep_argv);
    }
    if (!a->quiet && rc == SLM_EXIT_OK) {
        slm_say(stderr, "slmbench: written: %s/evalset/ (the eval set), %s (the run config), "
                "%s (every prediction), %s/ (the report: report.md, report.html, ...)\n", out,
                yaml, db, rep);
        slm_say(stderr, "slmbench: next: edit any of them, then\n"
                "    slmbench run %s --db %s\n"
                "    slmbench report last --db %s --out %s\n", yaml, db, db, rep);
    } else if (rc == SLM_EXIT_INTERRUPTED || rc == SLM_EXIT_ENGINE) {
        slm_say(stderr, "slmbench: finish the run with: slmbench run --resume --db %s, then "
                "slmbench report last --db %s --out %s\n", db, db, rep);
    }
    free(yaml);
    free(rep);
    return rc;
}

static int quick_main(int argc, char **argv, int init)
{
    quick_args a = {.calibration = 0.2, .seed = 1};
    int rc = parse_args(argc, argv, &a, init);
    if (rc != SLM_OPTS_GO)
        return rc;
    slm_quick_model *m = slm_xcalloc(a.models.n, sizeof *m);
    char err[SLM_ERRLEN];
    char *stem = stem_of(a.data);
    char *out = a.out ? slm_xstrdup(a.out) : slm_xasprintf("slmbench-%s", stem);
    for (size_t n = strlen(out); n > 1 && out[n - 1] == '/'; n--) /* "q/" -> "q" */
        out[n - 1] = '\0';
    char *db = a.db ? slm_xstrdup(a.db) : slm_xasprintf("%s/slmbench.db", out);
    slm_qtable *t = NULL;
    slm_quick_plan *p = NULL;
    slm_quick_opts qo = {.text_col = a.text, .label_col = a.label, .calibration = a.calibration,
                         .seed = (uint64_t)a.seed, .skip_empty = a.skip_empty};
    if ((rc = check_models(&a, m)) != SLM_EXIT_OK)
        goto done;
    if (slm_qtable_load(a.data, &t, err, sizeof err) ||
        slm_quick_plan_make(t, &qo, &p, err, sizeof err)) {
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
        goto done;
    }
    if (!a.quiet)
        say_plan(p, m, a.models.n);
    if ((rc = write_files(&a, p, m, out, a.name ? a.name : stem)) != SLM_EXIT_OK)
        goto done;
    if (a.dry_run) {
        if (!a.quiet)
            slm_say(stderr, "slmbench: not run (%s); next:\n    slmbench run %s/run.yaml --db "
                    "%s\n", init ? "init" : "--dry-run", out, db);
    } else {
        rc = run_and_report(&a, out, db);
    }
done:
    for (size_t i = 0; i < a.models.n; i++) {
        free((char *)m[i].name);
        free((char *)m[i].path);
    }
    free(m);
    slm_quick_plan_free(p);
    slm_qtable_free(t);
    free(stem);
    free(out);
    free(db);
    return rc;
}

int cmd_quick(int argc, char **argv)
{
    return quick_main(argc, argv, 0);
}

int cmd_init(int argc, char **argv)
{
    return quick_main(argc, argv, 1);
}
