/* cmd_ingest.c — `slmbench ingest FILE --deployment NAME`: a production log into the store. */
#include "cli.h"
#include "opts.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
    "Reads a production log — JSON lines, or CSV with a header row — into the database:\n"
    "one row per prediction the deployed model made, required id, ts (RFC 3339), pred,\n"
    "confidence; optional text, probs (JSON object label -> p; in CSV JSON text or\n"
    "p_<label> columns), latency_ms, escalated (true/false/0/1), corrected_label, model;\n"
    "every other field is kept as a tag. Streamed in bounded memory and committed in\n"
    "batches of 5000 rows. Idempotent: a row whose id is stored is not added again (an id\n"
    "stored with other content is a conflict: reported with both places, the first\n"
    "kept); killed, the same command again adds exactly what is missing. A bad row stops\n"
    "the ingest with file:line and exit 3 (the rows before it are kept) unless\n"
    "--skip-bad-rows. Rows out of time order, and predictions or corrections outside the\n"
    "label set of the deployment's eval run, are counted, not refused.\n";

/* Ctrl-C, kill and a closed terminal stop the ingest before its next row: the rows read
 * so far are committed; a SIGHUP that was ignored (nohup) stays ignored (as `run`). */
/* Prints the first notices of each kind, then says how many more there were. */
enum { MAX_NOTES = 20 };
static void note(const char *msg, long nth, void *ud)
{
    int quiet = *(int *)ud;
    if (quiet || nth > MAX_NOTES)
        return;
    slm_say(stderr, "slmbench: %s\n", msg);
    if (nth == MAX_NOTES)
        slm_say(stderr, "slmbench: (no more of these are shown; the summary counts them)\n");
}

static void summary(const slm_ingest_opts *o, const slm_ingest_result *r, int failed)
{
    const slm_ingest_counts *c = &r->c;
    slm_say(stderr, "slmbench: ingest of '%s' into deployment '%s'%s: %ld rows read, %ld added, "
            "%ld already present, %ld conflicting, %ld bad%s, %ld out of order, ", o->path,
            o->deployment, failed ? " stopped" : "", c->rows_read, c->added, c->present,
            c->conflicts, c->bad, o->skip_bad_rows ? " (skipped)" : "", c->out_of_order);
    if (r->labels_known)
        slm_say(stderr, "%ld with a label outside the label set", c->unknown_labels);
    else
        slm_say(stderr, "labels not checked (the deployment is not tied to an eval run: "
                        "slmbench deploy)");
    if (r->n_months)
        slm_say(stderr, "; %zu month(s) %s..%s\n", r->n_months, r->months[0],
                r->months[r->n_months - 1]);
    else
        slm_say(stderr, "; no rows%s\n", c->rows_read ? "" : " (an empty log)");
}

static void json_summary(const slm_ingest_opts *o, const slm_ingest_result *r,
                         const char *error)
{
    const slm_ingest_counts *c = &r->c;
    json_t *j = json_object(), *m = json_array();
    for (size_t i = 0; i < r->n_months; i++)
        json_array_append_new(m, json_string(r->months[i]));
    json_object_set_new(j, "deployment", slm_json_str(o->deployment));
    json_object_set_new(j, "path", slm_json_str(o->path));
    json_object_set_new(j, "status", json_string(error ? "failed" : "complete"));
    json_object_set_new(j, "file_sha256", slm_json_str(r->file_sha256[0] ? r->file_sha256 : NULL));
    const struct { const char *k; long v; } n[] = {
        {"rows_read", c->rows_read}, {"added", c->added}, {"already_present", c->present},
        {"conflicting", c->conflicts}, {"bad_rows", c->bad}, {"out_of_order", c->out_of_order},
    };
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
        json_object_set_new(j, n[i].k, json_integer(n[i].v));
    json_object_set_new(j, "unknown_labels",
                        r->labels_known ? json_integer(c->unknown_labels) : json_null());
    json_object_set_new(j, "months", m);
    json_object_set_new(j, "last_line", json_integer(c->last_line));
    json_object_set_new(j, "error", slm_json_str(error));
    slm_buf b = {0};
    slm_json_emit(&b, j, JSON_INDENT(2));
    fputs(b.data ? b.data : "", stdout);
    slm_buf_free(&b);
    json_decref(j);
}

static int ingest(const slm_ingest_opts *o, const char *db, const char *run_ref, int json,
                  int quiet)
{
    char err[SLM_ERRLEN];
    slm_store *st;
    if (slm_store_open(db, 1, &st, err, sizeof err))
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    slm_ingest_opts oo = *o;
    if (run_ref && slm_store_resolve_run(st, run_ref, &oo.run_id, err, sizeof err)) {
        slm_store_close(st);
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    }
    slm_ingest_result r;
    int bad_input;
    oo.stop = slm_cli_catch_stop();
    int rc = slm_ingest(st, &oo, &r, &bad_input, err, sizeof err);
    slm_store_close(st);
    if (!quiet || rc)
        summary(&oo, &r, rc != 0);
    if (json)
        json_summary(&oo, &r, rc ? err : NULL);
    free(r.months);
    if (!rc)
        return SLM_EXIT_OK;
    if (r.interrupted) {
        slm_say(stderr, "slmbench: %s; rows up to line %ld are stored, the same command again "
                        "adds the rest\n", err, r.c.last_line);
        return SLM_EXIT_INTERRUPTED;
    }
    slm_die(bad_input ? SLM_EXIT_BAD_INPUT : SLM_EXIT_ENGINE, "%s", err);
    if (r.c.last_line)
        slm_say(stderr, "slmbench: rows up to line %ld are stored; the same command again "
                        "(after fixing the input) adds the rest and skips those\n",
                r.c.last_line);
    return bad_input ? SLM_EXIT_BAD_INPUT : SLM_EXIT_ENGINE;
}

int cmd_ingest(int argc, char **argv)
{
    const char *db = "slmbench.db", *format = NULL, *run = NULL;
    slm_ingest_opts o = {.keep_text = 1, .note = note};
    int no_text = 0, json = 0, quiet = 0;
    slm_opt opts[] = {
        {.name = "candidate", .arg = "NAME", .kind = SLM_OPT_STR, .target = &o.candidate,
         .help = "with --run: the candidate of that run the deployment ships", .needs = "a name"},
        SLM_OPT_DB(&db),
        {.name = "deployment", .arg = "NAME", .kind = SLM_OPT_STR, .target = &o.deployment,
         .help = "the deployment the log belongs to (created if new)", .needs = "a name"},
        {.name = "format", .arg = "jsonl|csv", .kind = SLM_OPT_STR, .target = &format,
         .help = "the log's format (default: csv for a .csv file, else jsonl)"},
        {.like = &slm_opt_json, .target = &json,
         .help = "the summary as JSON on stdout (it stays on stderr too unless --quiet)"},
        {.name = "no-text", .kind = SLM_OPT_FLAG, .target = &no_text,
         .help = "store only the text's SHA-256 and length (bytes, words), not the text"},
        SLM_OPT_QUIET(&quiet),
        {.like = &slm_opt_run, .target = &run,
         .help = "with --candidate: tie the deployment to this eval run first (as deploy)"},
        {.name = "skip-bad-rows", .kind = SLM_OPT_FLAG, .target = &o.skip_bad_rows,
         .help = "skip and count bad rows instead of stopping at the first"},
        {0},
    };
    const slm_cmd cmd = {
        .name = "ingest",
        .synopsis = "ingest FILE --deployment NAME",
        .about = ABOUT,
        .footer = "exit codes: 0 ok, 2 usage, 3 bad input (file:line), 4 database failure,\n"
                  "130 interrupted (the rows read are committed; run it again for the rest)\n",
        .opts = opts,
        .max_pos = 1,
    };
    const char *pos[1];
    size_t np;
    int prc = slm_opts_parse(&cmd, argc, argv, 1, pos, &np);
    if (prc != SLM_OPTS_GO)
        return prc;
    if (np != 1)
        return slm_opts_usage_error(&cmd, "ingest needs the log FILE");
    if (!o.deployment || !*o.deployment)
        return slm_opts_usage_error(&cmd, "ingest needs --deployment NAME");
    if (!run != !o.candidate)
        return slm_opts_usage_error(&cmd, "--run and --candidate go together");
    if (format && strcmp(format, "jsonl") && strcmp(format, "csv"))
        return slm_opts_usage_error(&cmd, "--format is jsonl or csv, not '%s'", format);
    o.path = pos[0];
    o.format = format;
    o.keep_text = !no_text;
    o.ud = &quiet;
    return ingest(&o, db, run, json, quiet);
}
