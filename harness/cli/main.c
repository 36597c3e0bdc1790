/*
 * main.c — the slmbench command: one dispatch table of subcommands, each in its own
 * harness/cli/cmd_<name>.c, its options in one table (opts.h). Only this layer decides exit codes.
 */
#include "cli.h"
#include "nearest.h"
#include "opts.h"

#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    slm_cmd_fn fn;
    const char *summary;
} COMMANDS[] = {
    {"compare", cmd_compare, "paired significance tests between candidates (McNemar, bootstrap)"},
    {"counters", cmd_counters, "probe the hardware and software event counters on this machine"},
    {"deploy", cmd_deploy, "tie a deployment to the eval run's candidate that was shipped"},
    {"diff", cmd_diff, "the examples whose prediction changed between two runs (fixed, broken)"},
    {"drift", cmd_drift, "monthly drift review: metric history, label drift; --deployment: production"},
    {"engines", cmd_engines, "list engine plugins, their status and capabilities"},
    {"evalsets", cmd_evalsets, "validate eval set files, print their statistics, add a labelled slice"},
    {"export", cmd_export, "export stored predictions as CSV"},
    {"gate", cmd_gate, "CI regression gate of a run against thresholds and a baseline"},
    {"history", cmd_history, "every run of a database over time: metrics with intervals, trends"},
    {"ingest", cmd_ingest, "read a production log (JSON lines or CSV) into the database"},
    {"init", cmd_init, "write an eval set and run config from a labelled CSV/JSONL (quick --dry-run)"},
    {"load", cmd_load, "load-test served candidates: rates, goodput, saturation, accuracy"},
    {"merge", cmd_merge, "join the databases of a sharded run (run --shard I/N)"},
    {"models", cmd_models, "make, quantize and inspect GGUF models"},
    {"quick", cmd_quick, "from a labelled CSV/JSONL and GGUF models to a report in one command"},
    {"report", cmd_report, "write the comparison report of runs (Markdown, HTML, JSON, plots)"},
    {"run", cmd_run, "evaluate candidates on an eval set and store every prediction"},
    {"sample", cmd_sample, "draw an audit sample of a production month to label; score it"},
    {"tag", cmd_tag, "name a run (e.g. main) to use it as a baseline"},
    {"view", cmd_view, "serve the runs' pages read-only on 127.0.0.1 (history, report, examples, diff)"},
};
#define N_COMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: slmbench <command> [options]   (slmbench <command> --help)\n\n"
               "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(f, "\nexit codes: 0 ok, 1 a gate or threshold failed, 2 usage, 3 bad input,\n"
               "            4 engine or runtime failure (also: output that cannot be written),\n"
               "            130 interrupted\n");
}

static volatile sig_atomic_t g_stop;

static void on_stop_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* Ctrl-C, kill and a closed terminal set the flag the command stops at (its next safe
 * point: what was done stays, marked interrupted and resumable); a SIGHUP that was ignored
 * (nohup) stays ignored. */
const volatile sig_atomic_t *slm_cli_catch_stop(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct sigaction old;
    if (sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
        sigaction(SIGHUP, &sa, NULL);
    return &g_stop;
}

int slm_cli_write(const char *dir, const char *name, const slm_buf *b)
{
    char err[SLM_ERRLEN];
    char *path = dir ? slm_xasprintf("%s/%s", dir, name) : slm_xasprintf("%s", name);
    int rc = SLM_EXIT_OK;
    if (slm_write_file_atomic(path, b->data ? b->data : "", b->len, err, sizeof err))
        rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
    else
        slm_say(stderr, "slmbench: wrote %s\n", path);
    free(path);
    return rc;
}

int slm_die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("slmbench: error: ", stderr);
    slm_vsay(stderr, fmt, ap); /* secrets redacted, control characters shown */
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

/* Every command writes its data to stdout through stdio: a write that failed (a full disk,
 * /dev/full, a closed pipe's EIO) is only seen here, once the buffer is flushed and the
 * stream closed. A command that succeeded but whose output was lost is a runtime failure
 * (exit 4); a command that already failed keeps its own exit code. A stdout closed before
 * the start (>&-) that nothing was written to is not an error (EBADF from the close). */
static int finish_output(int rc)
{
    errno = 0;
    int bad = fflush(stdout) != 0 || ferror(stdout);
    int e = errno;
    if (fclose(stdout) != 0 && !bad && errno != EBADF) {
        bad = 1;
        e = errno;
    }
    if (!bad)
        return rc;
    slm_die(SLM_EXIT_ENGINE, "cannot write the output: %s",
            e ? strerror(e) : "write error");
    return rc == SLM_EXIT_OK ? SLM_EXIT_ENGINE : rc;
}

int main(int argc, char **argv)
{
    /* Every number slmbench writes uses '.' as the decimal separator. */
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");
    if (argc < 2) {
        usage(stderr);
        return SLM_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return finish_output(SLM_EXIT_OK);
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("slmbench %s (%s)\n", SLM_VERSION, SLM_GIT_REV);
        return finish_output(SLM_EXIT_OK);
    }
    if (!strcmp(argv[1], "completion") || !strcmp(argv[1], "man")) { /* from the tables */
        slm_doc_command cmds[N_COMMANDS];
        for (size_t i = 0; i < N_COMMANDS; i++)
            cmds[i] = (slm_doc_command){COMMANDS[i].name, COMMANDS[i].fn, COMMANDS[i].summary};
        return finish_output(slm_opts_docs(argc - 1, argv + 1, cmds, N_COMMANDS));
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], COMMANDS[i].name))
            return finish_output(COMMANDS[i].fn(argc - 1, argv + 1));
    const char *names[N_COMMANDS];
    for (size_t i = 0; i < N_COMMANDS; i++)
        names[i] = COMMANDS[i].name;
    const char *near = slm_nearest(argv[1], names, N_COMMANDS);
    slm_die(SLM_EXIT_USAGE, "unknown command '%s'%s%s%s", argv[1], near ? "; did you mean '" : "",
            near ? near : "", near ? "'?" : "");
    usage(stderr);
    return SLM_EXIT_USAGE;
}
