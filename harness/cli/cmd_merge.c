/* cmd_merge.c — `slmbench merge OUT.db IN.db...`: join the shards of a run. */
#include "cli.h"
#include "opts.h"
#include <stdlib.h>

static const char ABOUT[] =
    "Joins the databases of a sharded run (slmbench run CONFIG --shard I/N on N machines)\n"
    "into one run in OUT.db and recomputes every metric over all examples; they equal those\n"
    "of an unsharded run. Every shard 0..N-1 must be given, complete, of the same config and\n"
    "eval set, unless --partial (the merged run is then marked failed).\n";

int cmd_merge(int argc, char **argv)
{
    int partial = 0;
    slm_opt opts[] = {
        {.name = "partial", .kind = SLM_OPT_FLAG, .target = &partial,
         .help = "merge the shards given even if some are missing or unfinished\n"
                 "(the merged run is then marked failed)"},
        {0},
    };
    const slm_cmd cmd = {
        .name = "merge",
        .synopsis = "merge OUT.db IN.db...",
        .about = ABOUT,
        .opts = opts,
        .max_pos = (size_t)argc,
    };
    const char **pos = slm_xcalloc((size_t)argc, sizeof *pos);
    size_t np;
    int prc = slm_opts_parse(&cmd, argc, argv, 1, pos, &np);
    if (prc != SLM_OPTS_GO) {
        free(pos);
        return prc;
    }
    if (np < 2) {
        free(pos);
        return slm_opts_usage_error(&cmd, "merge needs OUT.db and at least one IN.db");
    }
    char err[SLM_ERRLEN];
    int64_t run;
    int bad_input;
    int rc = SLM_EXIT_OK;
    if (slm_merge(pos[0], pos + 1, np - 1, partial, &run, &bad_input, err, sizeof err))
        rc = slm_die(bad_input ? SLM_EXIT_BAD_INPUT : SLM_EXIT_ENGINE, "%s", err);
    else
        fprintf(stderr, "slmbench: merged %zu shard(s) into run %lld of %s\n", np - 1,
                (long long)run, pos[0]);
    free(pos);
    return rc;
}
