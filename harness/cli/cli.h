/*
 * cli.h — shared by the command files: the subcommand signature and messages (options:
 * opts.h). Messages follow "slmbench: error: ..." on stderr.
 */
#ifndef SLM_CLI_H
#define SLM_CLI_H

#include <signal.h>
#include "slmbench.h"

typedef int (*slm_cmd_fn)(int argc, char **argv);

int cmd_run(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_gate(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_counters(int argc, char **argv);
int cmd_drift(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_evalsets(int argc, char **argv);
int cmd_engines(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_deploy(int argc, char **argv);
int cmd_prodreview(int argc, char **argv); /* drift --deployment */
int cmd_sample(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_view(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_quick(int argc, char **argv); /* also cmd_init: quick --dry-run */
int cmd_init(int argc, char **argv);

/* Prints "slmbench: error: <msg>" and returns code. */
int slm_die(int code, const char *fmt, ...) SLM_PRINTF(2, 3);

/* Writes b to dir/name (dir NULL: name is the path) atomically and says "slmbench: wrote
 * PATH" on stderr; on failure says why. 0, or SLM_EXIT_ENGINE. The --out writers of
 * report, drift and drift --deployment. */
int slm_cli_write(const char *dir, const char *name, const slm_buf *b);

/* Catches SIGINT, SIGTERM and SIGHUP (unless ignored): the flag they set, for the
 * command's stop option. */
const volatile sig_atomic_t *slm_cli_catch_stop(void);
#endif
