/*
 * opts.h — one option table per command, as curl and git keep theirs: the table drives
 * both the parser and --help, so an option cannot be accepted without being documented
 * (or documented without being accepted).
 *
 * A command declares a slm_cmd: its synopsis lines, its description, a table of slm_opt
 * ended by {0}, and how many positional arguments it takes. The options every command
 * shares (--db, --json, --run, --quiet; -h/--help is always there) are declared once in
 * opts.c and pulled into a table with SLM_OPT_DB(&db) and friends.
 */
#ifndef SLM_OPTS_H
#define SLM_OPTS_H

#include "slmbench.h"

#include <stddef.h>
#include <stdio.h>

typedef enum slm_opt_kind {
    SLM_OPT_FLAG = 1, /* --name: *(int *)target = 1 */
    SLM_OPT_STR,      /* --name VALUE: *(const char **)target = VALUE */
    SLM_OPT_CONST,    /* --name: *(const char **)target = value (e.g. --json -> "json") */
    SLM_OPT_LONG,     /* --name N: *(long *)target = N, an integer >= min */
    SLM_OPT_DOUBLE,   /* --name X: *(double *)target = X, any number */
    SLM_OPT_CALL,     /* --name VALUE: set(VALUE, target, ...) checks and stores it */
} slm_opt_kind;

typedef struct slm_opt slm_opt;
struct slm_opt {
    const char *name;  /* long name without "--" */
    const char *arg;   /* value placeholder in --help ("FILE"); NULL for a flag */
    const char *help;  /* one line; '\n' continues under the help column */
    slm_opt_kind kind;
    void *target;      /* where the value goes (see slm_opt_kind) */
    const char *needs; /* "option '--db' needs <needs>" when the value is missing or bad;
                        * NULL: "a value" */
    long min;          /* SLM_OPT_LONG: smallest accepted value */
    const char *value; /* SLM_OPT_CONST: what is stored */
    /* SLM_OPT_CALL: 0 when value is good (and stored), else fills err and returns -1 (a
     * usage error: exit 2, the help shown) or SLM_EXIT_BAD_INPUT (the value names a file
     * that cannot be used: exit 3, err alone) */
    int (*set)(const char *value, void *target, char *err, size_t errlen);
    /* A shared option this entry takes name, arg, help, kind and needs from; the entry's
     * own help, when set, replaces the shared one (a command may say more). */
    const slm_opt *like;
    /* The values the option takes, separated by '|' ("md|html|json"), for the generated
     * shell completion and man pages; NULL: taken from arg when it lists them
     * ("jsonl|csv"), else any value. */
    const char *values;
};

/* The shared options, declared once (opts.c). */
extern const slm_opt slm_opt_db, slm_opt_json, slm_opt_run, slm_opt_quiet;
#define SLM_OPT_DB(t) {.like = &slm_opt_db, .target = (t)}
#define SLM_OPT_JSON(t) {.like = &slm_opt_json, .target = (t)}
#define SLM_OPT_RUN(t) {.like = &slm_opt_run, .target = (t)}
#define SLM_OPT_QUIET(t) {.like = &slm_opt_quiet, .target = (t)}

typedef struct slm_cmd {
    const char *name;     /* "run", "models make" */
    const char *synopsis; /* the forms, one a line, without options: the printer adds
                          * "usage: slmbench " before and " [options]" after each */
    const char *about;    /* the explanatory paragraphs of --help (may be NULL) */
    const char *footer;   /* after the options, e.g. exit codes (may be NULL) */
    slm_opt *opts;        /* ended by an entry whose name and like are NULL */
    size_t max_pos;       /* positional arguments accepted; more are "unexpected" */
} slm_cmd;

/* The entry o with what it borrows from a shared option (like) filled in. */
slm_opt slm_opts_resolve(const slm_opt *o);

/* 1 for the entry that ends a table (name and like NULL). */
int slm_opts_is_end(const slm_opt *o);

/* What slm_opts_parse returns when the command should go on. */
#define SLM_OPTS_GO (-1)

/*
 * Parses argv[first..argc) against cmd's table: --name VALUE and --name=VALUE, flags,
 * "-h"/"--help" (prints the help to stdout), "--" (the rest is positional; "-" alone is
 * positional too). Positional arguments go to pos[0..*n_pos) in order, at most
 * cmd->max_pos of them. Returns SLM_OPTS_GO, or the exit code to return at once: 0 after
 * --help, SLM_EXIT_USAGE after a usage error (message and help printed on stderr).
 */
int slm_opts_parse(const slm_cmd *cmd, int argc, char **argv, int first, const char **pos,
                   size_t *n_pos);

/* Writes cmd's --help text: synopsis, description, the options from the table, footer. */
void slm_opts_help(const slm_cmd *cmd, FILE *f);

/* "slmbench: error: <msg>" and cmd's help on stderr; returns SLM_EXIT_USAGE. */
int slm_opts_usage_error(const slm_cmd *cmd, const char *fmt, ...) SLM_PRINTF(2, 3);

/*
 * Dump mode, for the generators below: while a collector is set, slm_opts_help hands the
 * table to it instead of printing it, so that running "CMD --help" inside the program
 * enumerates CMD's table without running the command. The collector must copy what it
 * keeps (the table lives on the command's stack). fn NULL ends dump mode.
 */
typedef void (*slm_opts_collect_fn)(const slm_cmd *cmd, void *ctx);
void slm_opts_set_collector(slm_opts_collect_fn fn, void *ctx);

/* One entry of main.c's dispatch table, as the generators see it. */
typedef struct slm_doc_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} slm_doc_command;

/*
 * The hidden commands "completion bash" (a bash completion script) and "man [CMD]" (roff
 * of slmbench(1) or slmbench-CMD(1); "man --list": the commands that have a page), built
 * from every command's option table (opts_doc.c). argv[0] is "completion" or "man".
 * Returns the exit code.
 */
int slm_opts_docs(int argc, char **argv, const slm_doc_command *cmds, size_t n);

#endif
