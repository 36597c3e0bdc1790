/* cmd_deploy.c — `slmbench deploy --run R --candidate C --deployment NAME`. */
#include "cli.h"
#include "opts.h"

static const char ABOUT[] =
    "Ties a deployment to the eval run of the candidate that was shipped: its predictions,\n"
    "confidences, calibration (the temperature fitted on the calibration split) and\n"
    "latencies are the reference the monthly review compares production against, and its\n"
    "label set is the one ingested predictions are checked against. The run must be\n"
    "complete and the candidate's status ok. A deployment already tied to another run or\n"
    "candidate is re-tied only with --force; every tie is recorded (deployment_ties).\n";

int cmd_deploy(int argc, char **argv)
{
    const char *db = "slmbench.db", *run = NULL, *cand = NULL, *name = NULL;
    int force = 0, quiet = 0;
    slm_opt opts[] = {
        {.name = "candidate", .arg = "NAME", .kind = SLM_OPT_STR, .target = &cand,
         .help = "the candidate of the run that was shipped", .needs = "a name"},
        SLM_OPT_DB(&db),
        {.name = "deployment", .arg = "NAME", .kind = SLM_OPT_STR, .target = &name,
         .help = "the deployment (created if new)", .needs = "a name"},
        {.name = "force", .kind = SLM_OPT_FLAG, .target = &force,
         .help = "re-tie a deployment already tied to another run or candidate"},
        SLM_OPT_QUIET(&quiet),
        SLM_OPT_RUN(&run),
        {0},
    };
    const slm_cmd cmd = {
        .name = "deploy",
        .synopsis = "deploy --run RUN --candidate NAME --deployment NAME",
        .about = ABOUT,
        .footer = "exit codes: 0 ok, 2 usage, 3 refused (run, candidate, existing tie), "
                  "4 database failure\n",
        .opts = opts,
        .max_pos = 0,
    };
    size_t np;
    int prc = slm_opts_parse(&cmd, argc, argv, 1, NULL, &np);
    if (prc != SLM_OPTS_GO)
        return prc;
    if (!run || !cand || !name || !*name)
        return slm_opts_usage_error(&cmd, "deploy needs --run, --candidate and --deployment");
    char err[SLM_ERRLEN];
    slm_store *st;
    if (slm_store_open(db, 0, &st, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    int64_t run_id;
    int changed = 0, bad = 1;
    int rc = slm_store_resolve_run(st, run, &run_id, err, sizeof err) ||
             slm_prod_tie(st, name, run_id, cand, force, &changed, &bad, err, sizeof err);
    slm_store_close(st);
    if (rc)
        return slm_die(bad ? SLM_EXIT_BAD_INPUT : SLM_EXIT_ENGINE, "%s", err);
    if (!quiet)
        slm_say(stderr, "slmbench: deployment '%s' %s run %lld candidate '%s'\n", name,
                changed ? "tied to" : "was already tied to", (long long)run_id, cand);
    return SLM_EXIT_OK;
}
