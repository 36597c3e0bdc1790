/*
 * opts_doc.c — the bash completion script and the man pages, generated from the commands'
 * option tables (opts.h), as git and curl generate theirs: what --help prints, the
 * completion offers and the man page documents come from the same table, so none of the
 * three can mention an option the parser does not know.
 *
 * Every command's tables are enumerated by running "CMD --help" (and "CMD SUB --help" for
 * the forms below) in dump mode: slm_opts_help hands each table to collect() instead of
 * printing it, and nothing else of the command runs.
 */
#include "opts.h"
#include "cli.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The forms of the commands whose tables are reached only through a subcommand word
 * ("models make") or a mode option ("drift --deployment"). A command listed with a
 * subcommand word here is probed only through its forms; the others are probed bare too.
 * tests/cli/test_completion.sh checks that every form the commands' usage lines show is
 * listed. */
static const char *const FORMS[] = {
    "models make",        "models quantize", "models inspect", "models tokenize",
    "models labels",      "evalsets check",  "evalsets add",   "export predictions",
    "export table",       "drift --deployment NAME",
};
#define N_FORMS (sizeof FORMS / sizeof FORMS[0])

/* The exit codes of every command (main.c's usage), for slmbench(1). */
static const char EXIT_CODES[] =
    "0 ok, 1 a gate or threshold failed, 2 usage, 3 bad input (config, eval set, model\n"
    "file, database), 4 engine or runtime failure (also: output that cannot be written),\n"
    "130 interrupted.\n";

typedef struct doc_opt {
    char *name, *arg, *help; /* arg NULL: a flag */
    char *values;            /* the values it takes, '|'-separated; NULL: any */
} doc_opt;

typedef struct doc_table {
    char *name, *synopsis, *about, *footer; /* as the slm_cmd (about, footer may be NULL) */
    doc_opt *opts;
    size_t n_opts, max_pos;
} doc_table;

/* Every table of one command, in the order found. */
typedef struct doc_set {
    doc_table *t;
    size_t n;
} doc_set;

static char *dup_or_null(const char *s)
{
    return s ? slm_xstrdup(s) : NULL;
}

/* The values an option takes: its own list, else its placeholder when that is a list. */
static char *values_of(const slm_opt *o)
{
    if (o->values)
        return slm_xstrdup(o->values);
    if (o->arg && strchr(o->arg, '|'))
        return slm_xstrdup(o->arg);
    return NULL;
}

/* The collector: copies cmd (living on the command's stack) into the set, once. */
static void collect(const slm_cmd *cmd, void *ctx)
{
    doc_set *set = ctx;
    for (size_t i = 0; i < set->n; i++)
        if (!strcmp(set->t[i].name, cmd->name) && !strcmp(set->t[i].synopsis, cmd->synopsis))
            return;
    set->t = slm_xrealloc(set->t, (set->n + 1) * sizeof *set->t);
    doc_table *t = &set->t[set->n++];
    *t = (doc_table){.name = slm_xstrdup(cmd->name), .synopsis = slm_xstrdup(cmd->synopsis),
                     .about = dup_or_null(cmd->about), .footer = dup_or_null(cmd->footer),
                     .max_pos = cmd->max_pos};
    for (const slm_opt *p = cmd->opts; p && !slm_opts_is_end(p); p++) {
        slm_opt o = slm_opts_resolve(p);
        t->opts = slm_xrealloc(t->opts, (t->n_opts + 1) * sizeof *t->opts);
        t->opts[t->n_opts++] = (doc_opt){.name = slm_xstrdup(o.name), .arg = dup_or_null(o.arg),
                                         .help = dup_or_null(o.help), .values = values_of(&o)};
    }
}

static void set_free(doc_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        doc_table *t = &set->t[i];
        for (size_t j = 0; j < t->n_opts; j++) {
            free(t->opts[j].name);
            free(t->opts[j].arg);
            free(t->opts[j].help);
            free(t->opts[j].values);
        }
        free(t->opts);
        free(t->name);
        free(t->synopsis);
        free(t->about);
        free(t->footer);
    }
    free(set->t);
    *set = (doc_set){0};
}

/* Runs "WORDS --help" through c->fn in dump mode: the tables it shows go to set. What the
 * command would print itself (a help text not made from a table) goes to /dev/null, so it
 * cannot end up inside a generated script or page (those are written once all probes are
 * done). */
static void probe(const slm_doc_command *c, const char *words, doc_set *set)
{
    char *copy = slm_xstrdup(words);
    char *argv[16];
    int argc = 0;
    for (char *w = strtok(copy, " "); w && argc < 14; w = strtok(NULL, " "))
        argv[argc++] = w;
    argv[argc++] = "--help";
    argv[argc] = NULL;
    fflush(stdout);
    int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);
    if (saved >= 0 && null >= 0)
        dup2(null, STDOUT_FILENO);
    slm_opts_set_collector(collect, set);
    c->fn(argc, argv);
    slm_opts_set_collector(NULL, NULL);
    fflush(stdout);
    if (saved >= 0 && null >= 0)
        dup2(saved, STDOUT_FILENO);
    if (saved >= 0)
        close(saved);
    if (null >= 0)
        close(null);
    free(copy);
}

/* 1 when form is "CMD WORD..." for command name (a subcommand word, not an option). */
static int is_sub_form(const char *form, const char *name)
{
    size_t n = strlen(name);
    return !strncmp(form, name, n) && form[n] == ' ' && form[n + 1] != '-';
}

/* Every table of command c. */
static void tables_of(const slm_doc_command *c, doc_set *set)
{
    int has_subs = 0;
    for (size_t i = 0; i < N_FORMS; i++)
        has_subs |= is_sub_form(FORMS[i], c->name);
    if (!has_subs)
        probe(c, c->name, set);
    for (size_t i = 0; i < N_FORMS; i++) {
        size_t n = strlen(c->name);
        if (!strncmp(FORMS[i], c->name, n) && FORMS[i][n] == ' ')
            probe(c, FORMS[i], set);
    }
}

/* ---- bash completion ------------------------------------------------------------- */

/* How the value of an option is completed: 'f' a file, 'd' a folder, 'v' from its values,
 * 0 not at all (a number, a name, a run). The placeholders name files as FILE, F, PATH,
 * CONFIG, EVALSET, LABELLED or with an extension (MODEL.gguf); F is also --format's. */
static int value_kind(const doc_opt *o)
{
    if (o->values)
        return 'v';
    if (!o->arg)
        return 0;
    if (!strcmp(o->arg, "DIR"))
        return 'd';
    static const char *const files[] = {"FILE", "PATH", "CONFIG", "EVALSET", "LABELLED"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (!strcmp(o->arg, files[i]))
            return 'f';
    if (strchr(o->arg, '.') || (!strcmp(o->arg, "F") && strcmp(o->name, "format")))
        return 'f';
    return 0;
}

/* 1 when option j of table i has the name of an option before it in the set. */
static int seen_before(const doc_set *set, size_t i, size_t j)
{
    const char *name = set->t[i].opts[j].name;
    for (size_t ti = 0; ti <= i; ti++)
        for (size_t tj = 0; tj < (ti == i ? j : set->t[ti].n_opts); tj++)
            if (!strcmp(set->t[ti].opts[tj].name, name))
                return 1;
    return 0;
}

/* The options of every table in set whose value kind is kind, as --name, each once: -1
 * all of them, 0 all that take a value. */
static void options_word_list(slm_buf *b, const doc_set *set, int kind)
{
    for (size_t i = 0; i < set->n; i++)
        for (size_t j = 0; j < set->t[i].n_opts; j++) {
            const doc_opt *o = &set->t[i].opts[j];
            int k = value_kind(o);
            if (seen_before(set, i, j))
                continue;
            if (kind == -1 || (o->arg && (k == kind || kind == 0)))
                slm_buf_printf(b, "--%s ", o->name);
        }
    if (kind == -1)
        slm_buf_puts(b, "--help");
}

/* One "case" branch of the script: the options and how their values complete. */
static void completion_branch(slm_buf *b, const char *key, const doc_set *set)
{
    size_t max_pos = 0;
    for (size_t i = 0; i < set->n; i++)
        max_pos = set->t[i].max_pos > max_pos ? set->t[i].max_pos : max_pos;
    slm_buf_printf(b, "    '%s')\n        opts='", key);
    options_word_list(b, set, -1);
    slm_buf_puts(b, "'\n        files=' ");
    options_word_list(b, set, 'f');
    slm_buf_puts(b, "'\n        dirs=' ");
    options_word_list(b, set, 'd');
    slm_buf_puts(b, "'\n        takes=' ");
    options_word_list(b, set, 0);
    slm_buf_printf(b, "'\n        pos=%d\n", max_pos > 0);
    for (size_t i = 0; i < set->n; i++)
        for (size_t j = 0; j < set->t[i].n_opts; j++) {
            const doc_opt *o = &set->t[i].opts[j];
            if (!o->values || seen_before(set, i, j))
                continue;
            slm_buf_printf(b, "        [ \"$prev\" = --%s ] && values='", o->name);
            for (const char *v = o->values; *v; v++)
                slm_buf_putc(b, *v == '|' ? ' ' : *v);
            slm_buf_puts(b, "'\n");
        }
    slm_buf_puts(b, "        ;;\n");
}

static const char COMPLETION_HEAD[] =
    "# bash completion for slmbench, generated by `slmbench completion bash` from the\n"
    "# commands' option tables (harness/cli/opts_doc.c); do not edit.\n"
    "_slmbench()\n"
    "{\n"
    "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
    "    local key=${COMP_WORDS[1]} opts='' files='' dirs='' takes='' values='' pos=0 words=''\n"
    "    COMPREPLY=()\n";

/* The top of the function: the commands, and the subcommand words of models & co. */
static void completion_head(slm_buf *b, const slm_doc_command *cmds, size_t n)
{
    slm_buf_puts(b, COMPLETION_HEAD);
    slm_buf_puts(b, "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n        words='");
    for (size_t i = 0; i < n; i++)
        slm_buf_printf(b, "%s ", cmds[i].name);
    slm_buf_puts(b, "completion man help version'\n"
                    "        COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
                    "        return 0\n    fi\n    case $key in\n");
    for (size_t i = 0; i < n; i++) {
        int any = 0;
        for (size_t f = 0; f < N_FORMS; f++) {
            if (!is_sub_form(FORMS[f], cmds[i].name))
                continue;
            if (!any)
                slm_buf_printf(b, "    %s)\n        words='", cmds[i].name);
            slm_buf_printf(b, "%s%s", any ? " " : "", FORMS[f] + strlen(cmds[i].name) + 1);
            any = 1;
        }
        if (any)
            slm_buf_puts(b, "'\n        [ \"$COMP_CWORD\" -eq 2 ] && { COMPREPLY=($(compgen -W "
                            "\"$words\" -- \"$cur\")); return 0; }\n"
                            "        key=\"$key ${COMP_WORDS[2]}\" words=''\n        ;;\n");
    }
    slm_buf_puts(b, "    esac\n    case $key in\n");
}

static const char COMPLETION_TAIL[] =
    "    *) return 0 ;;\n"
    "    esac\n"
    "    if [ -n \"$values\" ]; then\n"
    "        COMPREPLY=($(compgen -W \"$values\" -- \"$cur\"))\n"
    "        return 0\n"
    "    fi\n"
    "    case \" $files \" in *\" $prev \"*) COMPREPLY=($(compgen -f -- \"$cur\")); return 0 ;; "
    "esac\n"
    "    case \" $dirs \" in *\" $prev \"*) COMPREPLY=($(compgen -d -- \"$cur\")); return 0 ;; "
    "esac\n"
    "    # the value of an option that slmbench cannot guess (a number, a name, a run)\n"
    "    case \" $takes \" in *\" $prev \"*) return 0 ;; esac\n"
    "    case $cur in\n"
    "    -*) COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")) ;;\n"
    "    *) if [ -n \"$words\" ]; then COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"));\n"
    "       elif [ \"$pos\" = 1 ]; then COMPREPLY=($(compgen -f -- \"$cur\")); fi ;;\n"
    "    esac\n"
    "    return 0\n"
    "}\n"
    "complete -o filenames -F _slmbench slmbench\n";

static int completion_bash(const slm_doc_command *cmds, size_t n)
{
    slm_buf b = {0};
    completion_head(&b, cmds, n);
    for (size_t i = 0; i < n; i++) {
        int subs = 0;
        for (size_t f = 0; f < N_FORMS; f++) {
            if (!is_sub_form(FORMS[f], cmds[i].name))
                continue;
            doc_set set = {0};
            probe(&cmds[i], FORMS[f], &set);
            completion_branch(&b, FORMS[f], &set);
            set_free(&set);
            subs = 1;
        }
        if (subs)
            continue;
        doc_set set = {0};
        tables_of(&cmds[i], &set);
        completion_branch(&b, cmds[i].name, &set);
        set_free(&set);
    }
    slm_buf_puts(&b, "    man)\n        words='");
    for (size_t i = 0; i < n; i++)
        slm_buf_printf(&b, "%s ", cmds[i].name);
    slm_buf_puts(&b, "'\n        opts='--list --help'\n        ;;\n"
                     "    completion)\n        words='bash'\n        opts='--help'\n        ;;\n");
    slm_buf_puts(&b, COMPLETION_TAIL);
    fwrite(b.data, 1, b.len, stdout);
    slm_buf_free(&b);
    return SLM_EXIT_OK;
}

/* ---- man pages ------------------------------------------------------------------- */

/* The UTF-8 sequence at s (at most n bytes) as roff's \[uXXXX]; its length, 0 if it is
 * not one (the byte is then written as '?'). The pages stay ASCII: groff reads them
 * without preconv. */
static size_t roff_utf8(slm_buf *b, const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
    if (!len || len > n)
        return 0;
    unsigned long cp = s[0] & (0x3f >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    slm_buf_printf(b, "\\[u%04lX]", cp);
    return len;
}

/* n bytes of s as roff text: backslashes and minus signs escaped, non-ASCII characters
 * as \[uXXXX], and a line that would begin with '.' or '\'' (a request to roff)
 * protected by \&. */
static void roff_text(slm_buf *b, const char *s, size_t n)
{
    int bol = 1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (bol && (c == '.' || c == '\''))
            slm_buf_puts(b, "\\&");
        bol = c == '\n';
        if ((unsigned char)c >= 0x80) {
            size_t len = roff_utf8(b, (const unsigned char *)s + i, n - i);
            if (len)
                i += len - 1;
            else
                slm_buf_putc(b, '?');
            continue;
        }
        if (c == '\\')
            slm_buf_puts(b, "\\e");
        else if (c == '-')
            slm_buf_puts(b, "\\-");
        else
            slm_buf_putc(b, c);
    }
}

/* Text of --help's paragraphs as roff: a blank line starts a paragraph, indented lines
 * (lists, examples) keep their layout, the others are filled. */
static void roff_paragraphs(slm_buf *b, const char *s)
{
    int nofill = 0;
    while (s && *s) {
        const char *eol = strchr(s, '\n');
        size_t n = eol ? (size_t)(eol - s) : strlen(s);
        int blank = n == 0, indented = n > 0 && s[0] == ' ';
        if (nofill && !indented) {
            slm_buf_puts(b, ".fi\n");
            nofill = 0;
        }
        if (blank) {
            slm_buf_puts(b, ".PP\n");
        } else {
            if (indented && !nofill) {
                slm_buf_puts(b, ".nf\n");
                nofill = 1;
            }
            roff_text(b, s, n);
            slm_buf_putc(b, '\n');
        }
        s += n + (eol != NULL);
    }
    if (nofill)
        slm_buf_puts(b, ".fi\n");
}

static void roff_upper(slm_buf *b, const char *s)
{
    for (; *s; s++)
        slm_buf_putc(b, *s == ' ' ? '-' : (char)(*s >= 'a' && *s <= 'z' ? *s - 32 : *s));
}

/* .TH and NAME of page "slmbench" (name NULL) or "slmbench-NAME". */
static void man_head(slm_buf *b, const char *name, const char *summary)
{
    slm_buf_puts(b, ".TH SLMBENCH");
    if (name) {
        slm_buf_putc(b, '-');
        roff_upper(b, name);
    }
    slm_buf_printf(b, " 1 \"\" \"slmbench %s\" \"slmbench manual\"\n.SH NAME\nslmbench",
                   SLM_VERSION);
    if (name)
        slm_buf_printf(b, "\\-%s", name);
    slm_buf_puts(b, " \\- ");
    roff_text(b, summary, strlen(summary));
    slm_buf_putc(b, '\n');
}

/* SYNOPSIS: every form of every table, as --help's usage lines. */
static void man_synopsis(slm_buf *b, const doc_set *set)
{
    slm_buf_puts(b, ".SH SYNOPSIS\n.nf\n");
    for (size_t i = 0; i < set->n; i++)
        for (const char *s = set->t[i].synopsis; *s;) {
            const char *eol = strchr(s, '\n');
            size_t n = eol ? (size_t)(eol - s) : strlen(s);
            slm_buf_puts(b, "\\fBslmbench\\fR ");
            roff_text(b, s, n);
            slm_buf_puts(b, " [options]\n");
            s += n + (eol != NULL);
        }
    slm_buf_puts(b, ".fi\n");
}

static void man_options(slm_buf *b, const doc_table *t)
{
    for (size_t j = 0; j < t->n_opts; j++) {
        const doc_opt *o = &t->opts[j];
        slm_buf_puts(b, ".TP\n\\fB\\-\\-");
        roff_text(b, o->name, strlen(o->name));
        slm_buf_puts(b, "\\fR");
        if (o->arg) {
            slm_buf_puts(b, " \\fI");
            roff_text(b, o->arg, strlen(o->arg));
            slm_buf_puts(b, "\\fR");
        }
        slm_buf_putc(b, '\n');
        roff_paragraphs(b, o->help ? o->help : "");
    }
    slm_buf_puts(b, ".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nthis help\n");
}

/* slmbench-NAME(1): the page of one command, every table of it. */
static void man_command(slm_buf *b, const slm_doc_command *c, const doc_set *set)
{
    man_head(b, c->name, c->summary);
    man_synopsis(b, set);
    slm_buf_puts(b, ".SH DESCRIPTION\n");
    for (size_t i = 0; i < set->n; i++) {
        if (set->n > 1)
            slm_buf_printf(b, ".SS slmbench %s\n", set->t[i].name);
        roff_paragraphs(b, set->t[i].about ? set->t[i].about : c->summary);
    }
    slm_buf_puts(b, ".SH OPTIONS\n");
    for (size_t i = 0; i < set->n; i++) {
        if (set->n > 1)
            slm_buf_printf(b, ".SS slmbench %s\n", set->t[i].name);
        man_options(b, &set->t[i]);
    }
    slm_buf_puts(b, ".SH EXIT STATUS\n");
    int any = 0;
    for (size_t i = 0; i < set->n; i++) {
        const char *f = set->t[i].footer;
        int seen = 0;
        for (size_t k = 0; f && k < i; k++)
            seen |= set->t[k].footer && !strcmp(set->t[k].footer, f);
        if (!f || seen)
            continue;
        if (set->n > 1)
            slm_buf_printf(b, "%sslmbench %s:\n", any ? ".PP\n" : "", set->t[i].name);
        roff_paragraphs(b, f);
        any = 1;
    }
    if (!any)
        roff_paragraphs(b, EXIT_CODES);
    slm_buf_puts(b, ".SH SEE ALSO\n\\fBslmbench\\fR(1)\n");
}

/* slmbench(1): the commands and where their pages are. */
static void man_top(slm_buf *b, const slm_doc_command *cmds, size_t n)
{
    man_head(b, NULL, "evaluate small language models: accuracy, calibration, latency");
    slm_buf_puts(b, ".SH SYNOPSIS\n.nf\n\\fBslmbench\\fR \\fIcommand\\fR [options]\n"
                    "\\fBslmbench\\fR \\fIcommand\\fR \\-\\-help\n.fi\n.SH DESCRIPTION\n");
    roff_paragraphs(b, "slmbench runs several GGUF candidates (or served models) through the\n"
                       "same prompts of a labelled eval set, measures accuracy, calibration and\n"
                       "latency, keeps every prediction in SQLite and writes comparison\n"
                       "reports, CI gates and drift reviews. Data goes to stdout, messages to\n"
                       "stderr.\n");
    slm_buf_puts(b, ".SH COMMANDS\n");
    for (size_t i = 0; i < n; i++) {
        slm_buf_printf(b, ".TP\n\\fB%s\\fR\n", cmds[i].name);
        roff_text(b, cmds[i].summary, strlen(cmds[i].summary));
        slm_buf_printf(b, "; see \\fBslmbench\\-%s\\fR(1)\n", cmds[i].name);
    }
    slm_buf_puts(b, ".SH EXIT STATUS\n");
    roff_paragraphs(b, EXIT_CODES);
    slm_buf_puts(b, ".SH SEE ALSO\n");
    for (size_t i = 0; i < n; i++)
        slm_buf_printf(b, "\\fBslmbench\\-%s\\fR(1)%s\n", cmds[i].name, i + 1 < n ? "," : "");
}

static int man(int argc, char **argv, const slm_doc_command *cmds, size_t n)
{
    int list = 0;
    slm_opt opts[] = {
        {.name = "list", .kind = SLM_OPT_FLAG, .target = &list,
         .help = "the commands that have a page, one a line"},
        {0},
    };
    const slm_cmd cmd = {
        .name = "man",
        .synopsis = "man [CMD]",
        .about = "Writes the man page slmbench(1), or slmbench-CMD(1), as roff on stdout\n"
                 "(made from the option tables: man -l <(slmbench man run) shows it).\n",
        .opts = opts,
        .max_pos = 1,
    };
    const char *name = NULL;
    size_t np;
    int rc = slm_opts_parse(&cmd, argc, argv, 1, &name, &np);
    if (rc != SLM_OPTS_GO)
        return rc;
    slm_buf b = {0};
    for (size_t i = 0; list && i < n; i++)
        slm_buf_printf(&b, "%s\n", cmds[i].name);
    if (!list && !name)
        man_top(&b, cmds, n);
    for (size_t i = 0; !list && name && i < n; i++)
        if (!strcmp(cmds[i].name, name)) {
            doc_set set = {0};
            tables_of(&cmds[i], &set);
            man_command(&b, &cmds[i], &set);
            set_free(&set);
        }
    if (!b.len) {
        slm_buf_free(&b);
        return slm_opts_usage_error(&cmd, "no command '%s' (slmbench man --list)", name);
    }
    fwrite(b.data, 1, b.len, stdout);
    slm_buf_free(&b);
    return SLM_EXIT_OK;
}

static int completion(int argc, char **argv, const slm_doc_command *cmds, size_t n)
{
    const slm_cmd cmd = {
        .name = "completion",
        .synopsis = "completion bash",
        .about = "Writes the bash completion script on stdout (made from the option\n"
                 "tables): eval \"$(slmbench completion bash)\", or install it as\n"
                 "share/bash-completion/completions/slmbench (make install does).\n",
        .opts = (slm_opt[]){{0}},
        .max_pos = 1,
    };
    const char *shell = NULL;
    size_t np;
    int rc = slm_opts_parse(&cmd, argc, argv, 1, &shell, &np);
    if (rc != SLM_OPTS_GO)
        return rc;
    if (!shell || strcmp(shell, "bash"))
        return slm_opts_usage_error(&cmd, "%s%s%s (only bash is written)",
                                    shell ? "unknown shell '" : "missing the shell",
                                    shell ? shell : "", shell ? "'" : "");
    return completion_bash(cmds, n);
}

int slm_opts_docs(int argc, char **argv, const slm_doc_command *cmds, size_t n)
{
    if (!strcmp(argv[0], "man"))
        return man(argc, argv, cmds, n);
    return completion(argc, argv, cmds, n);
}
