/*
 * cli.h — shared by the command files: the subcommand signature, messages and option
 * parsing helpers. Messages follow "slmbench: error: ..." on stderr.
 */
#ifndef SLM_CLI_H
#define SLM_CLI_H

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

/* Prints "slmbench: error: <msg>" and returns code. */
int slm_die(int code, const char *fmt, ...) SLM_PRINTF(2, 3);
/* Prints "slmbench: error: <msg>\n<usage>" for a usage error, returns SLM_EXIT_USAGE. */
int slm_usage_error(const char *usage, const char *fmt, ...) SLM_PRINTF(2, 3);

/* Option parsing: if argv[*i] is --name VALUE or --name=VALUE, stores VALUE, advances *i
 * and returns 1; returns -1 if the value is missing; 0 if argv[*i] is another option. */
int slm_opt_value(int argc, char **argv, int *i, const char *name, const char **value);
/* 1 if argv[i] is exactly --name. */
int slm_opt_flag(const char *arg, const char *name);
/* 1 if argv[i] asks for help (-h, --help). */
int slm_is_help(const char *arg);

#endif
