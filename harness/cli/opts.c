/* opts.c — the option-table parser and the --help printer (see opts.h). */
#include "opts.h"
#include "cli.h"
#include "nearest.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

/* --db: a file that exists and is not an SQLite database (notes, a CSV, a model given by
 * mistake) is refused before the command opens it, saying what it holds. An empty file is
 * an empty database to SQLite. */
static int set_db(const char *value, void *target, char *err, size_t errlen)
{
    struct stat st;
    unsigned char head[16] = {0};
    *(const char **)target = value;
    if (stat(value, &st) != 0 || st.st_size == 0)
        return 0; /* a new database, or the store's own error */
    if (S_ISDIR(st.st_mode)) {
        slm_err(err, errlen, "--db %s: is a folder; give the database file (slmbench run writes "
                "it; a new name creates one)", value);
        return SLM_EXIT_BAD_INPUT;
    }
    FILE *f = fopen(value, "rb");
    size_t n = f ? fread(head, 1, sizeof head, f) : sizeof head;
    if (f)
        fclose(f);
    if (!memcmp(head, "SQLite format 3", 16) || !f)
        return 0;
    size_t shown = 0;
    while (shown < n && shown < 12 && head[shown] >= 0x20 && head[shown] < 0x7f)
        shown++;
    slm_err(err, errlen, "--db %s: not an SQLite database (%lld bytes%s%.*s%s); give the "
            "database slmbench run wrote, or a new file name to create one", value,
            (long long)st.st_size, shown ? ", it begins '" : "", (int)shown, (const char *)head,
            shown ? "'" : "");
    return SLM_EXIT_BAD_INPUT;
}

/* The shared options: their names, placeholders, help and missing-value words live here
 * only; a command pulls one in with SLM_OPT_DB(&db) and may give it more specific help. */
const slm_opt slm_opt_db = {.name = "db", .arg = "FILE", .kind = SLM_OPT_CALL, .set = set_db,
                            .help = "the database (default slmbench.db)", .needs = "a file"};
const slm_opt slm_opt_json = {.name = "json", .kind = SLM_OPT_FLAG,
                              .help = "JSON instead of text"};
const slm_opt slm_opt_run = {.name = "run", .arg = "RUN", .kind = SLM_OPT_STR,
                             .help = "the run: an id, a tag, a run name or 'last'",
                             .needs = "a run"};
const slm_opt slm_opt_quiet = {.name = "quiet", .kind = SLM_OPT_FLAG,
                               .help = "only errors on stderr"};

slm_opt slm_opts_resolve(const slm_opt *o)
{
    if (!o->like)
        return *o;
    slm_opt r = *o->like;
    r.target = o->target;
    if (o->kind) /* e.g. --json that sets a format string instead of a flag */
        r.kind = o->kind;
    if (o->value)
        r.value = o->value;
    if (o->help)
        r.help = o->help;
    if (o->values)
        r.values = o->values;
    return r;
}

int slm_opts_is_end(const slm_opt *o)
{
    return !o->name && !o->like;
}

static void help_line(FILE *f, const slm_opt *o, int width)
{
    char left[64];
    if (o->arg)
        snprintf(left, sizeof left, "--%s %s", o->name, o->arg);
    else
        snprintf(left, sizeof left, "--%s", o->name);
    /* an entry wider than the column gets its help on the next line */
    if ((int)strlen(left) > width)
        fprintf(f, "  %s\n  %-*s ", left, width, "");
    else
        fprintf(f, "  %-*s ", width, left);
    for (const char *h = o->help ? o->help : ""; *h; h++) {
        fputc(*h, f);
        if (*h == '\n' && h[1])
            fprintf(f, "  %-*s ", width, "");
    }
    fputc('\n', f);
}

static slm_opts_collect_fn g_collect;
static void *g_collect_ctx;

void slm_opts_set_collector(slm_opts_collect_fn fn, void *ctx)
{
    g_collect = fn;
    g_collect_ctx = ctx;
}

void slm_opts_help(const slm_cmd *cmd, FILE *f)
{
    if (g_collect) {
        g_collect(cmd, g_collect_ctx);
        return;
    }
    const char *s = cmd->synopsis;
    for (int first = 1; *s; first = 0) {
        const char *eol = strchr(s, '\n');
        size_t n = eol ? (size_t)(eol - s) : strlen(s);
        fprintf(f, "%s slmbench %.*s [options]\n", first ? "usage:" : "      ", (int)n, s);
        s += n + (eol != NULL);
    }
    if (cmd->about)
        fprintf(f, "\n%s", cmd->about);
    /* the widest "--name ARG" sets the help column, within reason */
    int width = 10;
    for (const slm_opt *p = cmd->opts; p && !slm_opts_is_end(p); p++) {
        slm_opt o = slm_opts_resolve(p);
        int w = (int)strlen(o.name) + 2 + (o.arg ? (int)strlen(o.arg) + 1 : 0);
        if (w > width && w <= 22)
            width = w;
    }
    width += 1; /* two spaces between the widest entry and its help */
    fputs("\noptions:\n", f);
    for (const slm_opt *p = cmd->opts; p && !slm_opts_is_end(p); p++) {
        slm_opt o = slm_opts_resolve(p);
        help_line(f, &o, width);
    }
    fprintf(f, "  %-*s this help\n", width, "-h, --help");
    if (cmd->footer)
        fprintf(f, "\n%s", cmd->footer);
}

int slm_opts_usage_error(const slm_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("slmbench: error: ", stderr);
    slm_vsay(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    slm_opts_help(cmd, stderr);
    return SLM_EXIT_USAGE;
}

/* The table entry --name (n bytes of name) stands for, resolved; 0 if none. */
static int find(const slm_cmd *cmd, const char *name, size_t n, slm_opt *out)
{
    for (const slm_opt *p = cmd->opts; p && !slm_opts_is_end(p); p++) {
        slm_opt o = slm_opts_resolve(p);
        if (strlen(o.name) == n && !strncmp(o.name, name, n)) {
            *out = o;
            return 1;
        }
    }
    return 0;
}

/* "unknown option '--thread'; did you mean '--threads'?" (n: the name's length in arg). */
static int unknown_option(const slm_cmd *cmd, const char *arg, size_t n)
{
    size_t k = 0;
    for (const slm_opt *p = cmd->opts; p && !slm_opts_is_end(p); p++)
        k++;
    const char **names = slm_xcalloc(k + 1, sizeof *names);
    for (size_t i = 0; i < k; i++)
        names[i] = slm_opts_resolve(&cmd->opts[i]).name;
    char *name = slm_xstrndup(arg + 2, n);
    const char *near = slm_nearest(name, names, k);
    free(name);
    free(names);
    if (near)
        return slm_opts_usage_error(cmd, "unknown option '%s'; did you mean '--%s'?", arg, near);
    return slm_opts_usage_error(cmd, "unknown option '%s'", arg);
}

/* Stores value (NULL for a flag) as o says; a usage error when it does not fit. */
static int store(const slm_cmd *cmd, const slm_opt *o, const char *value)
{
    const char *needs = o->needs ? o->needs : "a value";
    char err[SLM_ERRLEN];
    switch (o->kind) {
    case SLM_OPT_FLAG:
        *(int *)o->target = 1;
        return SLM_OPTS_GO;
    case SLM_OPT_CONST:
        *(const char **)o->target = o->value;
        return SLM_OPTS_GO;
    case SLM_OPT_STR:
        *(const char **)o->target = value;
        return SLM_OPTS_GO;
    case SLM_OPT_LONG: {
        long v;
        if (slm_parse_long(value, &v) || v < o->min)
            return slm_opts_usage_error(cmd, "option '--%s' needs %s", o->name, needs);
        *(long *)o->target = v;
        return SLM_OPTS_GO;
    }
    case SLM_OPT_DOUBLE:
        if (slm_parse_double(value, (double *)o->target))
            return slm_opts_usage_error(cmd, "option '--%s': expected a number, got '%s'",
                                        o->name, value);
        return SLM_OPTS_GO;
    case SLM_OPT_CALL: {
        int rc = o->set(value, o->target, err, sizeof err);
        if (rc == SLM_EXIT_BAD_INPUT)
            return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
        if (rc)
            return slm_opts_usage_error(cmd, "option '--%s' %s", o->name, err);
        return SLM_OPTS_GO;
    }
    }
    return slm_opts_usage_error(cmd, "option '--%s' is not handled", o->name);
}

/* One "--name[=VALUE]" at argv[*i]; takes the value from argv[*i + 1] when needed. */
static int one_option(const slm_cmd *cmd, int argc, char **argv, int *i)
{
    const char *a = argv[*i] + 2, *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    slm_opt o;
    if (!find(cmd, a, n, &o))
        return unknown_option(cmd, argv[*i], n);
    int takes_value = o.kind != SLM_OPT_FLAG && o.kind != SLM_OPT_CONST;
    if (!takes_value) {
        if (eq)
            return slm_opts_usage_error(cmd, "option '--%s' takes no value", o.name);
        return store(cmd, &o, NULL);
    }
    if (eq)
        return store(cmd, &o, eq + 1);
    if (*i + 1 >= argc)
        return slm_opts_usage_error(cmd, "option '--%s' needs %s", o.name,
                                    o.needs ? o.needs : "a value");
    return store(cmd, &o, argv[++*i]);
}

int slm_opts_parse(const slm_cmd *cmd, int argc, char **argv, int first, const char **pos,
                   size_t *n_pos)
{
    int options_end = 0;
    *n_pos = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        int is_option = !options_end && a[0] == '-' && a[1];
        if (is_option && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
            slm_opts_help(cmd, stdout);
            return SLM_EXIT_OK;
        }
        if (is_option && !strcmp(a, "--")) {
            options_end = 1;
            continue;
        }
        if (is_option) {
            int rc = strncmp(a, "--", 2) ? slm_opts_usage_error(cmd, "unknown option '%s'", a)
                                         : one_option(cmd, argc, argv, &i);
            if (rc != SLM_OPTS_GO)
                return rc;
        } else if (*n_pos < cmd->max_pos) {
            pos[(*n_pos)++] = a;
        } else {
            return slm_opts_usage_error(cmd, "unexpected argument '%s'", a);
        }
    }
    return SLM_OPTS_GO;
}
