/* cmd_export.c — `slmbench export predictions`: stored predictions as CSV. */
#include "cli.h"
#include "opts.h"
#include "csv_out.h"
#include "store_cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

static const char ABOUT[] =
    "export predictions writes CSV with header id,label,pred,confidence,p_<label>...,\n"
    "latency_ms (one p_ column per label of the eval set, as stored; latency_ms is\n"
    "end-to-end): the file the replay engine reads. export table writes every column of\n"
    "one table of the database (runs, evalsets, examples, candidates, predictions, metrics,\n"
    "per_class, confusion, ...) for the run, as the schema declares them; --candidate\n"
    "keeps that candidate's rows. RUN is a run id, a tag, a run name or 'last'. Every real\n"
    "number is written with the digits that read back as the same double (up to 17).\n"
    "Spreadsheet formulas are neutralised: a text cell that begins with = + - @, a tab or\n"
    "a carriage return (and is not a number such as -1) is written with a single quote in\n"
    "front, as OWASP recommends for CSV injection; so is one that begins with ' and then\n"
    "one of those or another '. The replay engine removes that one quote again, so an\n"
    "export is still the replay file. --raw writes the text exactly as stored.\n";

/* The header: the fixed columns, then one p_<label> per label. */
static void csv_header(slm_buf *b, char **labels, size_t nl)
{
    slm_buf_puts(b, "id,label,pred,confidence");
    for (size_t k = 0; k < nl; k++) {
        char *h = slm_xasprintf("p_%s", labels[k]);
        slm_buf_putc(b, ',');
        slm_csv_quote(b, h); /* "p_" first: never a formula */
        free(h);
    }
    slm_buf_puts(b, ",latency_ms\n");
}

typedef struct csv_out {
    slm_buf *b;
    size_t n_labels;
    int raw; /* --raw: text cells exactly as stored, no formula guard */
} csv_out;

static void csv_row(const slm_export_row *r, void *ud)
{
    csv_out *o = ud;
    slm_buf *b = o->b;
    slm_csv_field(b, r->example_id, o->raw);
    slm_buf_putc(b, ',');
    slm_csv_field(b, r->gold, o->raw);
    slm_buf_putc(b, ',');
    slm_csv_field(b, r->pred, o->raw);
    slm_buf_putc(b, ',');
    slm_csv_num(b, r->confidence);
    json_t *probs = r->probs_json ? json_loads(r->probs_json, 0, NULL) : NULL;
    for (size_t k = 0; k < o->n_labels; k++) {
        slm_buf_putc(b, ',');
        json_t *v = json_array_get(probs, k);
        if (json_is_number(v))
            slm_csv_num(b, json_number_value(v));
    }
    json_decref(probs);
    slm_buf_putc(b, ',');
    slm_csv_num(b, r->e2e_ms);
    slm_buf_putc(b, '\n');
}

/* export table: one CSV line per call (the header first), every field through libcsv's
 * quoting rule; NULL is an empty field. */
static void table_row(size_t n, const char *const *v, void *ud)
{
    csv_out *o = ud;
    slm_buf *b = o->b;
    for (size_t k = 0; k < n; k++) {
        if (k)
            slm_buf_putc(b, ',');
        slm_csv_field(b, v[k], o->raw);
    }
    slm_buf_putc(b, '\n');
}

/* The id of the candidate called cand in run_id into *cid (-1 when cand is NULL or not
 * there); *names lists the run's candidates for the message that follows a miss. */
static int find_candidate(slm_store *st, int64_t run_id, const char *cand, int64_t *cid,
                          slm_buf *names, char *err, size_t errlen)
{
    slm_cand *c;
    size_t n;
    *cid = -1;
    if (slm_store_candidates(st, run_id, &c, &n, err, errlen))
        return -1;
    for (size_t i = 0; i < n; i++) {
        slm_buf_printf(names, "%s%s", i ? ", " : "", c[i].name);
        if (cand && !strcmp(c[i].name, cand))
            *cid = c[i].id;
    }
    slm_cands_free(c, n);
    return 0;
}

/* export predictions: the replay file of one candidate into b. */
static int export_predictions(slm_store *st, const slm_cmd *cmd, const char *run_ref,
                              const char *cand, int raw, slm_buf *b)
{
    char err[SLM_ERRLEN];
    int rc = SLM_EXIT_OK;
    int64_t run_id, cid = -1;
    char **labels = NULL;
    size_t nl = 0;
    slm_buf names = {0};
    if (slm_store_resolve_run(st, run_ref, &run_id, err, sizeof err) ||
        slm_run_labels(st, run_id, &labels, &nl, err, sizeof err)) {
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
        goto done;
    }
    if (find_candidate(st, run_id, cand, &cid, &names, err, sizeof err)) {
        rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
        goto done;
    }
    if (cid < 0) {
        if (!cand)
            rc = slm_opts_usage_error(cmd, "missing --candidate (run %lld has: %s)",
                                      (long long)run_id, names.data ? names.data : "none");
        else
            rc = slm_die(SLM_EXIT_BAD_INPUT, "run %lld has no candidate '%s' (it has: %s)",
                         (long long)run_id, cand, names.data ? names.data : "none");
        goto done;
    }
    csv_header(b, labels, nl);
    csv_out co = {b, nl, raw};
    if (slm_store_each_prediction(st, cid, csv_row, &co, err, sizeof err))
        rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
done:
    slm_buf_free(&names);
    slm_free_strv(labels, nl);
    return rc;
}

/* export table: every declared column of one table for the run (and candidate) into b. */
static int export_table(slm_store *st, const slm_cmd *cmd, const char *table,
                        const char *run_ref, const char *cand, int raw, slm_buf *b)
{
    char err[SLM_ERRLEN];
    int64_t run_id, cid = -1;
    if (slm_store_table_per_run(table) == 0) {
        slm_buf names = {0};
        slm_store_per_run_tables(&names);
        int rc = slm_opts_usage_error(cmd, "table '%s' is not kept per run: export table "
                                      "takes %s (production rows: the sqlite3 shell, README "
                                      "'Production logs')", table, names.data);
        slm_buf_free(&names);
        return rc;
    }
    if (slm_store_resolve_run(st, run_ref, &run_id, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    if (cand) {
        slm_buf names = {0};
        int rc = SLM_EXIT_OK;
        if (find_candidate(st, run_id, cand, &cid, &names, err, sizeof err))
            rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
        else if (cid < 0)
            rc = slm_die(SLM_EXIT_BAD_INPUT, "run %lld has no candidate '%s' (it has: %s)",
                         (long long)run_id, cand, names.data ? names.data : "none");
        slm_buf_free(&names);
        if (rc != SLM_EXIT_OK)
            return rc;
    }
    csv_out co = {b, 0, raw};
    int r = slm_store_each_table_row(st, table, run_id, cid, table_row, &co, err, sizeof err);
    if (r == 1)
        return slm_opts_usage_error(cmd, "no table '%s' in the database", table);
    if (r)
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    return SLM_EXIT_OK;
}

int cmd_export(int argc, char **argv)
{
    const char *db = "slmbench.db", *cand = NULL, *out = NULL;
    const char *pos[2] = {NULL, NULL}; /* predictions: RUN; table: NAME RUN */
    int raw = 0;
    slm_opt opts[] = {
        {.name = "candidate", .arg = "NAME", .kind = SLM_OPT_STR, .target = &cand,
         .needs = "a name",
         .help = "the candidate whose predictions (or rows) are written"},
        SLM_OPT_DB(&db),
        {.name = "out", .arg = "FILE", .kind = SLM_OPT_STR, .target = &out, .needs = "a file",
         .help = "write FILE instead of stdout"},
        {.name = "raw", .kind = SLM_OPT_FLAG, .target = &raw,
         .help = "text cells exactly as stored: no quote before a cell that begins with\n"
                 "= + - @ tab CR (a formula to a spreadsheet); for programs, not spreadsheets"},
        {0},
    };
    slm_cmd cmd = {
        .name = "export",
        .synopsis = "export predictions RUN --candidate NAME\n"
                    "export table TABLE RUN",
        .about = ABOUT,
        .opts = opts,
        .max_pos = 1,
    };
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        slm_opts_help(&cmd, argc < 2 ? stderr : stdout);
        return argc < 2 ? SLM_EXIT_USAGE : SLM_EXIT_OK;
    }
    int table = !strcmp(argv[1], "table");
    if (strcmp(argv[1], "predictions") && !table)
        return slm_opts_usage_error(&cmd, "unknown export '%s' (predictions, table)", argv[1]);
    cmd.max_pos = table ? 2 : 1;
    size_t np;
    int prc = slm_opts_parse(&cmd, argc, argv, 2, pos, &np);
    if (prc != SLM_OPTS_GO)
        return prc;
    if (table && np < 2)
        return slm_opts_usage_error(&cmd, np ? "missing RUN" : "missing TABLE and RUN");
    if (!table && !pos[0])
        return slm_opts_usage_error(&cmd, "missing RUN");
    char err[SLM_ERRLEN];
    slm_store *st;
    if (slm_store_open(db, 0, &st, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    slm_buf b = {0};
    int rc = table ? export_table(st, &cmd, pos[0], pos[1], cand, raw, &b)
                   : export_predictions(st, &cmd, pos[0], cand, raw, &b);
    if (rc == SLM_EXIT_OK && out) {
        if (slm_write_file_atomic(out, b.data, b.len, err, sizeof err))
            rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
    } else if (rc == SLM_EXIT_OK) {
        fwrite(b.data, 1, b.len, stdout);
    }
    slm_buf_free(&b);
    slm_store_close(st);
    return rc;
}
