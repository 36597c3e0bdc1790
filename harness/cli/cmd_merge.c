/* cmd_merge.c — `slmbench merge OUT.db IN.db...`: join the shards of a run. */
#include "cli.h"
#include <stdlib.h>

static const char USAGE[] =
    "usage: slmbench merge OUT.db IN.db... [--partial]\n"
    "\n"
    "Joins the databases of a sharded run (slmbench run CONFIG --shard I/N on N machines)\n"
    "into one run in OUT.db and recomputes every metric over all examples; they equal those\n"
    "of an unsharded run. Every shard 0..N-1 must be given, complete, of the same config and\n"
    "eval set, unless --partial (the merged run is then marked failed).\n";

int cmd_merge(int argc, char **argv)
{
    const char **pos = slm_xcalloc((size_t)argc, sizeof *pos);
    size_t np = 0;
    int partial = 0;
    for (int i = 1; i < argc; i++) {
        if (slm_is_help(argv[i])) {
            fputs(USAGE, stdout);
            free(pos);
            return SLM_EXIT_OK;
        } else if (slm_opt_flag(argv[i], "partial"))
            partial = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            free(pos);
            return slm_usage_error(USAGE, "unknown option '%s'", argv[i]);
        } else
            pos[np++] = argv[i];
    }
    if (np < 2) {
        free(pos);
        return slm_usage_error(USAGE, "merge needs OUT.db and at least one IN.db");
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
