/* cmd_gate.c — `slmbench gate` (CI regression gates) and `slmbench tag` (baselines). */
#include "cli.h"
#include "opts.h"
#include "store_cli.h"

#include <stdlib.h>
#include <string.h>

static const char GATE_ABOUT[] =
    "Checks a stored run against GATE.yaml: absolute thresholds (accuracy, macro-F1,\n"
    "per-class recall, ECE, p95 latency, tokens/s, invalid-output rate) and, against a\n"
    "baseline run, an accuracy drop that is larger than allowed AND significant (McNemar on\n"
    "the paired examples at the gate's alpha) and a p95 latency increase that is larger\n"
    "than allowed AND beyond the spread measured by repeats. Prints a Markdown summary (for\n"
    "a pull-request comment), or JSON with --json; --junit writes JUnit XML, one test case\n"
    "per check. REF is a tag (slmbench tag), a run id, a run name or 'last'.\n"
    "A baseline tag or name that names no run yet (the first run of a repository) or the\n"
    "gated run itself leaves the baseline checks not judged, with the reason, and the\n"
    "absolute checks decide; --require-baseline makes either an error (exit 3).\n";

int cmd_gate(int argc, char **argv)
{
    const char *db = "slmbench.db", *gate = NULL, *junit = NULL;
    int as_json = 0;
    slm_gate_opts go = {0};
    slm_opt opts[] = {
        SLM_OPT_RUN(&go.run_ref),
        {.name = "baseline", .arg = "REF", .kind = SLM_OPT_STR, .target = &go.baseline_ref,
         .needs = "a run or tag",
         .help = "compare with that run: a tag, a run id, a run name or 'last'"},
        SLM_OPT_DB(&db),
        {.name = "junit", .arg = "FILE", .kind = SLM_OPT_STR, .target = &junit,
         .needs = "a file",
         .help = "also write JUnit XML, one test case per check"},
        SLM_OPT_JSON(&as_json),
        {.name = "allow-different", .kind = SLM_OPT_FLAG, .target = &go.allow_different,
         .help = "compare with a baseline evaluated on different data"},
        {.name = "candidate", .arg = "NAME", .kind = SLM_OPT_STR, .target = &go.candidate,
         .needs = "a candidate name",
         .help = "judge only that candidate of the run (instead of the file's 'candidates')"},
        {.name = "require-baseline", .kind = SLM_OPT_FLAG, .target = &go.require_baseline,
         .help = "a baseline that names no run yet, or the gated run itself, is an error "
                 "(exit 3) instead of leaving the baseline checks not judged"},
        {0},
    };
    const slm_cmd cmd = {
        .name = "gate",
        .synopsis = "gate GATE.yaml",
        .about = GATE_ABOUT,
        .footer = "Exit: 0 pass, 1 fail, 3 invalid comparison or gate file, 4 runtime failure.\n",
        .opts = opts,
        .max_pos = 1,
    };
    size_t np;
    int prc = slm_opts_parse(&cmd, argc, argv, 1, &gate, &np);
    if (prc != SLM_OPTS_GO)
        return prc;
    if (!gate)
        return slm_opts_usage_error(&cmd, "missing GATE.yaml");
    char err[SLM_ERRLEN];
    slm_store *st;
    if (slm_store_open(db, 0, &st, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    slm_gate_result res;
    int rc = slm_gate_eval_opts(st, gate, &go, &res, err, sizeof err);
    if (rc == SLM_GATE_INVALID || rc == SLM_GATE_ERROR) {
        slm_die(rc == SLM_GATE_INVALID ? SLM_EXIT_BAD_INPUT : SLM_EXIT_ENGINE, "%s", err);
    } else {
        if (res.baseline_note)
            slm_say(stderr, "slmbench: note: %s; the baseline checks are not judged\n",
                    res.baseline_note);
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
    slm_opt opts[] = {
        SLM_OPT_DB(&db),
        {0},
    };
    const slm_cmd cmd = {
        .name = "tag",
        .synopsis = "tag RUN NAME",
        .about = "Names a run (e.g. 'main') so gates can use it as a baseline: --baseline NAME\n"
                 "resolves to the run tagged last with that name.\n",
        .opts = opts,
        .max_pos = 2,
    };
    size_t np;
    int prc = slm_opts_parse(&cmd, argc, argv, 1, pos, &np);
    if (prc != SLM_OPTS_GO)
        return prc;
    if (np != 2)
        return slm_opts_usage_error(&cmd, "tag needs RUN and NAME");
    long dummy;
    if (!strcmp(pos[1], "last") || slm_parse_long(pos[1], &dummy) == 0)
        return slm_opts_usage_error(&cmd, "a tag may not be 'last' or a number");
    char err[SLM_ERRLEN];
    slm_store *st;
    if (slm_store_open(db, 0, &st, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    int64_t run;
    int rc = SLM_EXIT_OK;
    if (slm_store_resolve_run(st, pos[0], &run, err, sizeof err))
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    else if (slm_store_tag_run(st, run, pos[1], err, sizeof err))
        rc = slm_die(SLM_EXIT_ENGINE, "%s: %s", db, err);
    else
        fprintf(stderr, "slmbench: run %lld tagged '%s'\n", (long long)run, pos[1]);
    slm_store_close(st);
    return rc;
}
