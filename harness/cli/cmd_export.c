/* cmd_export.c — `slmbench export predictions`: stored predictions as CSV. */
#include "cli.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static const char USAGE[] =
    "usage: slmbench export predictions RUN --candidate NAME [--db FILE] [--out FILE]\n"
    "\n"
    "Writes CSV with header id,label,pred,confidence,p_<label>...,latency_ms (one p_\n"
    "column per label of the eval set, as stored; latency_ms is end-to-end). RUN is a\n"
    "run id, a tag, a run name or 'last'.\n";

static void csv_field(slm_buf *b, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        slm_buf_puts(b, s);
        return;
    }
    slm_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            slm_buf_putc(b, '"');
        slm_buf_putc(b, *s);
    }
    slm_buf_putc(b, '"');
}

static void csv_num(slm_buf *b, double v)
{
    if (isnan(v))
        return;
    char t[40];
    slm_fmt_double(t, sizeof t, v, 10);
    slm_buf_puts(b, t);
}

int cmd_export(int argc, char **argv)
{
    const char *db = "slmbench.db", *cand = NULL, *out = NULL, *run_ref = NULL;
    if (argc < 2 || slm_is_help(argv[1])) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? SLM_EXIT_USAGE : SLM_EXIT_OK;
    }
    if (strcmp(argv[1], "predictions"))
        return slm_usage_error(USAGE, "unknown export '%s' (predictions)", argv[1]);
    for (int i = 2; i < argc; i++) {
        const char *v;
        int r;
        if (slm_is_help(argv[i])) {
            fputs(USAGE, stdout);
            return SLM_EXIT_OK;
        } else if ((r = slm_opt_value(argc, argv, &i, "db", &v)) != 0) {
            if (r < 0)
                return slm_usage_error(USAGE, "option '--db' needs a file");
            db = v;
        } else if ((r = slm_opt_value(argc, argv, &i, "candidate", &v)) != 0) {
            if (r < 0)
                return slm_usage_error(USAGE, "option '--candidate' needs a name");
            cand = v;
        } else if ((r = slm_opt_value(argc, argv, &i, "out", &v)) != 0) {
            if (r < 0)
                return slm_usage_error(USAGE, "option '--out' needs a file");
            out = v;
        } else if (argv[i][0] == '-' && argv[i][1])
            return slm_usage_error(USAGE, "unknown option '%s'", argv[i]);
        else if (!run_ref)
            run_ref = argv[i];
        else
            return slm_usage_error(USAGE, "unexpected argument '%s'", argv[i]);
    }
    if (!run_ref)
        return slm_usage_error(USAGE, "missing RUN");
    char err[SLM_ERRLEN];
    slm_store *st;
    if (slm_store_open(db, 0, &st, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    int rc = SLM_EXIT_OK;
    int64_t run_id, cid = -1;
    char **labels = NULL;
    size_t nl = 0;
    sqlite3_stmt *s = NULL;
    slm_buf b = {0};
    if (slm_store_resolve_run(st, run_ref, &run_id, err, sizeof err) ||
        slm_run_labels(st, run_id, &labels, &nl, err, sizeof err)) {
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
        goto done;
    }
    if (slm_store_prepare(st, "SELECT id, name FROM candidates WHERE run_id = ? ORDER BY idx", &s,
                          err, sizeof err)) {
        rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
        goto done;
    }
    sqlite3_bind_int64(s, 1, run_id);
    slm_buf names = {0};
    size_t ncand = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *nm = (const char *)sqlite3_column_text(s, 1);
        slm_buf_printf(&names, "%s%s", ncand++ ? ", " : "", nm);
        if ((cand && !strcmp(nm, cand)))
            cid = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    s = NULL;
    if (cid < 0) {
        if (!cand)
            rc = slm_usage_error(USAGE, "missing --candidate (run %lld has: %s)", (long long)run_id,
                                 names.data ? names.data : "none");
        else
            rc = slm_die(SLM_EXIT_BAD_INPUT, "run %lld has no candidate '%s' (it has: %s)",
                         (long long)run_id, cand, names.data ? names.data : "none");
        slm_buf_free(&names);
        goto done;
    }
    slm_buf_free(&names);
    slm_buf_puts(&b, "id,label,pred,confidence");
    for (size_t k = 0; k < nl; k++) {
        char *h = slm_xasprintf("p_%s", labels[k]);
        slm_buf_putc(&b, ',');
        csv_field(&b, h);
        free(h);
    }
    slm_buf_puts(&b, ",latency_ms\n");
    if (slm_store_prepare(st,
                          "SELECT example_id, gold, pred, confidence, probs_json, e2e_ms "
                          "FROM predictions WHERE candidate_id = ? ORDER BY example_idx",
                          &s, err, sizeof err)) {
        rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
        goto done;
    }
    sqlite3_bind_int64(s, 1, cid);
    while (sqlite3_step(s) == SQLITE_ROW) {
        csv_field(&b, (const char *)sqlite3_column_text(s, 0));
        slm_buf_putc(&b, ',');
        csv_field(&b, (const char *)sqlite3_column_text(s, 1));
        slm_buf_putc(&b, ',');
        csv_field(&b, (const char *)sqlite3_column_text(s, 2));
        slm_buf_putc(&b, ',');
        csv_num(&b, sqlite3_column_type(s, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 3));
        const char *pj = (const char *)sqlite3_column_text(s, 4);
        json_t *probs = pj ? json_loads(pj, 0, NULL) : NULL;
        for (size_t k = 0; k < nl; k++) {
            slm_buf_putc(&b, ',');
            json_t *v = json_array_get(probs, k);
            if (json_is_number(v))
                csv_num(&b, json_number_value(v));
        }
        json_decref(probs);
        slm_buf_putc(&b, ',');
        csv_num(&b, sqlite3_column_type(s, 5) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 5));
        slm_buf_putc(&b, '\n');
    }
    if (out) {
        if (slm_write_file_atomic(out, b.data, b.len, err, sizeof err))
            rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
    } else {
        fwrite(b.data, 1, b.len, stdout);
    }
done:
    sqlite3_finalize(s);
    slm_buf_free(&b);
    slm_free_strv(labels, nl);
    slm_store_close(st);
    return rc;
}
