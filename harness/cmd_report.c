/* cmd_report.c — `slmbench report`: the comparison report of stored runs. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: slmbench report RUN [RUN...] [--db FILE] [--format md|json] [--json] [--out DIR]\n"
    "\n"
    "Writes the report of one or more stored runs (side by side). RUN is a run id, a tag,\n"
    "a run name or 'last'. Markdown goes to stdout, or to DIR/report.md with --out;\n"
    "--json (or --format json) prints every stored metric per candidate.\n";

int cmd_report(int argc, char **argv)
{
    const char *db = "slmbench.db", *format = "md", *outdir = NULL;
    const char **refs = slm_xcalloc((size_t)argc, sizeof *refs);
    size_t nrefs = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (slm_is_help(argv[i])) {
            fputs(USAGE, stdout);
            free(refs);
            return SLM_EXIT_OK;
        } else if ((r = slm_opt_value(argc, argv, &i, "db", &v)) != 0) {
            if (r < 0)
                goto missing;
            db = v;
        } else if ((r = slm_opt_value(argc, argv, &i, "format", &v)) != 0) {
            if (r < 0)
                goto missing;
            format = v;
        } else if ((r = slm_opt_value(argc, argv, &i, "out", &v)) != 0) {
            if (r < 0)
                goto missing;
            outdir = v;
        } else if (slm_opt_flag(argv[i], "json"))
            format = "json";
        else if (argv[i][0] == '-' && argv[i][1]) {
            free(refs);
            return slm_usage_error(USAGE, "unknown option '%s'", argv[i]);
        } else
            refs[nrefs++] = argv[i];
    }
    if (0) {
missing:
        free(refs);
        return slm_usage_error(USAGE, "option '%s' needs a value", argv[argc - 1]);
    }
    if (strcmp(format, "md") && strcmp(format, "json")) {
        free(refs);
        return slm_usage_error(USAGE, "unknown format '%s' (md or json)", format);
    }
    if (!nrefs)
        refs[nrefs++] = "last";
    char err[SLM_ERRLEN];
    slm_store *st;
    if (slm_store_open(db, 0, &st, err, sizeof err)) {
        free(refs);
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    }
    int64_t *ids = slm_xcalloc(nrefs, sizeof *ids);
    int rc = SLM_EXIT_OK;
    for (size_t i = 0; i < nrefs; i++)
        if (slm_store_resolve_run(st, refs[i], &ids[i], err, sizeof err)) {
            rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
            goto out;
        }
    slm_buf b = {0};
    int bad = !strcmp(format, "json") ? slm_report_json(st, ids, nrefs, &b, err, sizeof err)
                                      : slm_report_markdown(st, ids, nrefs, &b, err, sizeof err);
    if (bad) {
        rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
    } else if (outdir) {
        char *path = slm_xasprintf("%s/report.%s", outdir, !strcmp(format, "json") ? "json" : "md");
        if (slm_mkdir_p(outdir, err, sizeof err) ||
            slm_write_file_atomic(path, b.data, b.len, err, sizeof err))
            rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
        else
            fprintf(stderr, "slmbench: wrote %s\n", path);
        free(path);
    } else {
        fwrite(b.data, 1, b.len, stdout);
    }
    slm_buf_free(&b);
out:
    free(ids);
    free(refs);
    slm_store_close(st);
    return rc;
}
