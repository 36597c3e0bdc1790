/* cmd_gate.c — `slmbench gate` (CI regression gates) and `slmbench tag` (baselines). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: slmbench gate GATE.yaml [--run RUN] [--baseline REF] [--db FILE]\n"
    "                     [--junit FILE] [--json] [--allow-different]\n"
    "\n"
    "Checks a stored run against GATE.yaml: absolute thresholds (accuracy, macro-F1,\n"
    "per-class recall, ECE, p95 latency, tokens/s, invalid-output rate) and, against a\n"
    "baseline run, an accuracy drop that is larger than allowed AND significant (McNemar on\n"
    "the paired examples at the gate's alpha) and a p95 latency increase that is larger\n"
    "than allowed AND beyond the spread measured by repeats. Prints a Markdown summary (for\n"
    "a pull-request comment), or JSON with --json; --junit writes JUnit XML, one test case\n"
    "per check. REF is a tag (slmbench tag), a run id, a run name or 'last'.\n"
    "Exit: 0 pass, 1 fail, 3 invalid comparison or gate file, 4 runtime failure.\n";

static const char TAG_USAGE[] =
    "usage: slmbench tag RUN NAME [--db FILE]\n"
    "Names a run (e.g. 'main') so gates can use it as a baseline: --baseline NAME\n"
    "resolves to the run tagged last with that name.\n";

int cmd_gate(int argc, char **argv)
{
    const char *db = "slmbench.db", *gate = NULL, *run = NULL, *baseline = NULL, *junit = NULL;
    int as_json = 0, allow = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (slm_is_help(argv[i])) {
            fputs(USAGE, stdout);
            return SLM_EXIT_OK;
        } else if ((r = slm_opt_value(argc, argv, &i, "db", &v)) != 0) {
            if (r < 0)
                return slm_usage_error(USAGE, "option '--db' needs a file");
            db = v;
        } else if ((r = slm_opt_value(argc, argv, &i, "run", &v)) != 0) {
            if (r < 0)
                return slm_usage_error(USAGE, "option '--run' needs a run");
            run = v;
        } else if ((r = slm_opt_value(argc, argv, &i, "baseline", &v)) != 0) {
            if (r < 0)
                return slm_usage_error(USAGE, "option '--baseline' needs a run or tag");
            baseline = v;
        } else if ((r = slm_opt_value(argc, argv, &i, "junit", &v)) != 0) {
            if (r < 0)
                return slm_usage_error(USAGE, "option '--junit' needs a file");
            junit = v;
        } else if (slm_opt_flag(argv[i], "json"))
            as_json = 1;
        else if (slm_opt_flag(argv[i], "allow-different"))
            allow = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return slm_usage_error(USAGE, "unknown option '%s'", argv[i]);
        else if (!gate)
            gate = argv[i];
        else
            return slm_usage_error(USAGE, "unexpected argument '%s'", argv[i]);
    }
    if (!gate)
        return slm_usage_error(USAGE, "missing GATE.yaml");
    char err[SLM_ERRLEN];
    slm_store *st;
    if (slm_store_open(db, 0, &st, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    slm_gate_result res;
    int rc = slm_gate_eval(st, gate, run, baseline, allow, &res, err, sizeof err);
    if (rc == SLM_GATE_INVALID || rc == SLM_GATE_ERROR) {
        slm_die(rc == SLM_GATE_INVALID ? SLM_EXIT_BAD_INPUT : SLM_EXIT_ENGINE, "%s", err);
    } else {
        slm_buf b = {0};
        if (as_json)
            slm_gate_json(&res, &b);
        else
            slm_gate_markdown(&res, &b);
        fwrite(b.data, 1, b.len, stdout);
        slm_buf_free(&b);
        if (junit) {
            slm_gate_junit(&res, &b);
            if (slm_write_file_atomic(junit, b.data, b.len, err, sizeof err)) {
                slm_die(SLM_EXIT_ENGINE, "%s", err);
                rc = SLM_GATE_ERROR;
            }
            slm_buf_free(&b);
        }
    }
    slm_gate_result_free(&res);
    slm_store_close(st);
    switch (rc) {
    case SLM_GATE_PASS: return SLM_EXIT_OK;
    case SLM_GATE_FAIL: return SLM_EXIT_FAIL;
    case SLM_GATE_INVALID: return SLM_EXIT_BAD_INPUT;
    default: return SLM_EXIT_ENGINE;
    }
}

int cmd_tag(int argc, char **argv)
{
    const char *db = "slmbench.db", *pos[2] = {0};
    int np = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (slm_is_help(argv[i])) {
            fputs(TAG_USAGE, stdout);
            return SLM_EXIT_OK;
        } else if ((r = slm_opt_value(argc, argv, &i, "db", &v)) != 0) {
            if (r < 0)
                return slm_usage_error(TAG_USAGE, "option '--db' needs a file");
            db = v;
        } else if (argv[i][0] == '-' && argv[i][1])
            return slm_usage_error(TAG_USAGE, "unknown option '%s'", argv[i]);
        else if (np < 2)
            pos[np++] = argv[i];
        else
            return slm_usage_error(TAG_USAGE, "unexpected argument '%s'", argv[i]);
    }
    if (np != 2)
        return slm_usage_error(TAG_USAGE, "tag needs RUN and NAME");
    long dummy;
    if (!strcmp(pos[1], "last") || slm_parse_long(pos[1], &dummy) == 0)
        return slm_usage_error(TAG_USAGE, "a tag may not be 'last' or a number");
    char err[SLM_ERRLEN];
    slm_store *st;
    if (slm_store_open(db, 0, &st, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    int64_t run;
    int rc = SLM_EXIT_OK;
    if (slm_store_resolve_run(st, pos[0], &run, err, sizeof err)) {
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    } else {
        sqlite3_stmt *s;
        char now[32];
        slm_utc_iso8601(now, sizeof now);
        if (slm_store_prepare(st, "INSERT OR REPLACE INTO tags (name, run_id, created_at) VALUES (?,?,?)",
                              &s, err, sizeof err) == 0) {
            sqlite3_bind_text(s, 1, pos[1], -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 2, run);
            sqlite3_bind_text(s, 3, now, -1, SQLITE_STATIC);
            int ok = sqlite3_step(s) == SQLITE_DONE;
            sqlite3_finalize(s);
            if (ok && slm_store_prepare(st, "UPDATE runs SET tag = ? WHERE id = ?", &s, err, sizeof err) == 0) {
                sqlite3_bind_text(s, 1, pos[1], -1, SQLITE_STATIC);
                sqlite3_bind_int64(s, 2, run);
                ok = sqlite3_step(s) == SQLITE_DONE;
                sqlite3_finalize(s);
            }
            if (!ok)
                rc = slm_die(SLM_EXIT_ENGINE, "%s: cannot tag run %lld", db, (long long)run);
            else
                fprintf(stderr, "slmbench: run %lld tagged '%s'\n", (long long)run, pos[1]);
        } else {
            rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
        }
    }
    slm_store_close(st);
    return rc;
}
