/* plots.c — see plots.h.
 *
 * Each figure is built as two strings, the data (.dat) and the plotting commands, which
 * emit() writes next to each other with a common script prologue and hands to gnuplot.
 * gnuplot runs in plots/ (so the script names its files relatively and can be rerun there
 * by hand), in its own process group, with stdin and stdout on /dev/null, stderr read
 * back for the reason of a failure, and a deadline after which the group is killed. */
#include "plots.h"
#include "gnuplot.h"
#include "latpairs.h"
#include "pareto.h"
#include "store_reports.h"
#include "util.h"
#include "slm_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define GNUPLOT_HINT "install gnuplot-nox (apt-get install gnuplot-nox) to get plots"
#define DEFAULT_TIMEOUT_S 30

typedef struct cand {
    int64_t id, run_id;
    char *label; /* "name", or "run:name" when several runs are drawn */
} cand;

typedef struct ctx {
    slm_store *st;
    const char *outdir;
    char *dir;          /* <outdir>/plots */
    cand *c;
    size_t nc;
    slm_plots_result *res;
    char *gp_missing;   /* set once gnuplot could not be started: every later figure is
                           skipped with this reason without trying again */
    const char *prog;
    int timeout_s;
    char **envp;        /* the environment of gnuplot: ours with LC_NUMERIC=C */
} ctx;

/* ---- text and numbers ---------------------------------------------------------------- */

static char *fmt_num(double v, int digits)
{
    char t[40];
    slm_fmt_double(t, sizeof t, v, digits);
    return slm_xstrdup(t);
}

/* ---- reading the store ---------------------------------------------------------------- */

/* The value (and interval, when lo/hi are given) of a metric; NaN when absent. */
static double metric(slm_store *st, int64_t cid, const char *name, double *lo, double *hi)
{
    return slm_store_metric(st, cid, name, lo, hi);
}

static int load_cands(ctx *x, const int64_t *run_ids, size_t n_runs, char *err, size_t errlen)
{
    for (size_t r = 0; r < n_runs; r++) {
        slm_cand *c;
        size_t n;
        if (slm_store_candidates(x->st, run_ids[r], &c, &n, err, errlen))
            return -1;
        x->c = slm_xrealloc(x->c, (x->nc + n + 1) * sizeof *x->c);
        for (size_t i = 0; i < n; i++) {
            cand *d = &x->c[x->nc++];
            d->id = c[i].id;
            d->run_id = run_ids[r];
            const char *name = c[i].name ? c[i].name : "";
            d->label = n_runs > 1 ? slm_xasprintf("%lld:%s", (long long)run_ids[r], name)
                                  : slm_xstrdup(name);
        }
        slm_cands_free(c, n);
    }
    return 0;
}


/* A list of distinct strings in first-seen order. */
typedef struct strlist {
    char **v;
    size_t n;
} strlist;

static long strlist_find(const strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return (long)i;
    return -1;
}

static size_t strlist_add(strlist *l, const char *s)
{
    long i = strlist_find(l, s);
    if (i >= 0)
        return (size_t)i;
    l->v = slm_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n] = slm_xstrdup(s);
    return l->n++;
}

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* ---- running gnuplot ------------------------------------------------------------------ */

static char **make_env(void)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **e = slm_xcalloc(n + 2, sizeof *e);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LC_NUMERIC=", 11))
            e[k++] = environ[i];
    /* LC_ALL would override LC_NUMERIC; the scripts ask for '.' themselves as well
     * (set decimalsign), this is for the data files gnuplot reads. */
    for (size_t i = 0; i < k; i++)
        if (!strncmp(e[i], "LC_ALL=", 7))
            e[i] = "LC_ALL=C.UTF-8";
    e[k++] = "LC_NUMERIC=C";
    return e;
}

/* The last non-empty line of gnuplot's stderr, which is where it names the error. */
static char *last_line(const char *s)
{
    const char *best = NULL, *best_end = NULL;
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, '\n');
        if (!e)
            e = p + strlen(p);
        const char *a = p;
        while (a < e && (*a == ' ' || *a == '\t' || *a == '^'))
            a++;
        if (a < e) {
            best = a;
            best_end = e;
        }
        p = *e ? e + 1 : e;
    }
    if (!best)
        return slm_xstrdup("no message");
    size_t n = (size_t)(best_end - best);
    if (n > 200)
        n = 200;
    return slm_xstrndup(best, n);
}

/* Waits for pid at most timeout_s, collecting its stderr (outfd) into msg (the first
 * 16 KiB); kills its process group when time runs out. Returns 1 when it timed out. */
static int wait_collect(pid_t pid, int outfd, int timeout_s, slm_buf *msg, int *status)
{
    double deadline = slm_now_ms() + 1000.0 * timeout_s;
    int timed_out = 0, open_out = 1;
    for (;;) {
        double left = deadline - slm_now_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        if (open_out) {
            struct pollfd p = {.fd = outfd, .events = POLLIN};
            int r = poll(&p, 1, left > 100 ? 100 : (int)left + 1);
            if (r > 0) {
                char t[512];
                ssize_t n = read(outfd, t, sizeof t);
                if (n > 0) {
                    if (msg->len < 16384)
                        slm_buf_append(msg, t, (size_t)n);
                } else if (n == 0 || errno != EINTR) {
                    open_out = 0;
                }
            }
        } else {
            usleep(10000);
        }
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) { /* SIGCHLD ignored by the caller: no status */
            *status = 0;
            break;
        }
    }
    if (timed_out) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        while (waitpid(pid, status, 0) < 0 && errno == EINTR)
            ;
    }
    return timed_out;
}

/* Runs `prog script` in dir. Returns 0 when gnuplot exited with status 0; otherwise -1
 * with *why set (caller frees) and *not_found set when the program could not be
 * started at all. */
static int gnuplot_exec(const char *dir, const char *prog, char **envp, int timeout_s,
                        const char *script, char **why, int *not_found)
{
    *why = NULL;
    *not_found = 0;
    int errp[2], outp[2];
    if (pipe2(errp, O_CLOEXEC) != 0)
        goto sys;
    if (pipe2(outp, O_CLOEXEC) != 0) {
        close(errp[0]), close(errp[1]);
        goto sys;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(errp[0]), close(errp[1]), close(outp[0]), close(outp[1]);
        goto sys;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls from here to exec. */
        setpgid(0, 0);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        dup2(outp[1], 2);
        int e = 0;
        if (chdir(dir) != 0)
            e = errno;
        else {
            char *const argv[] = {(char *)prog, (char *)script, NULL};
            execvpe(prog, argv, envp);
            e = errno;
        }
        ssize_t w = write(errp[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    /* Also here, so the kill below reaches the group whichever runs first. */
    setpgid(pid, pid);
    close(errp[1]);
    close(outp[1]);

    slm_buf msg = {0};
    int status = 0;
    int timed_out = wait_collect(pid, outp[0], timeout_s, &msg, &status);
    int exec_errno = 0;
    ssize_t n;
    while ((n = read(errp[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof exec_errno)
        exec_errno = 0;
    close(errp[0]);
    close(outp[0]);

    int rc = -1;
    if (exec_errno) {
        *not_found = 1;
        if (exec_errno == ENOENT)
            *why = slm_xasprintf("gnuplot not found ('%s'): " GNUPLOT_HINT, prog);
        else
            *why = slm_xasprintf("cannot run gnuplot ('%s'): %s: " GNUPLOT_HINT, prog,
                                 strerror(exec_errno));
    } else if (timed_out) {
        *why = slm_xasprintf("gnuplot did not finish '%s' within %d s and was stopped", script,
                             timeout_s);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        rc = 0;
    } else {
        char *line = last_line(msg.data ? msg.data : "");
        if (WIFSIGNALED(status))
            *why = slm_xasprintf("gnuplot failed on '%s' (signal %d): %s", script,
                                 WTERMSIG(status), line);
        else
            *why = slm_xasprintf("gnuplot failed on '%s' (exit %d): %s", script,
                                 WEXITSTATUS(status), line);
        free(line);
    }
    slm_buf_free(&msg);
    return rc;

sys:
    *why = slm_xasprintf("cannot start gnuplot: %s", strerror(errno));
    return -1;
}

static int run_gnuplot(ctx *x, const char *script, char **why, int *not_found)
{
    return gnuplot_exec(x->dir, x->prog, x->envp, x->timeout_s, script, why, not_found);
}

static const char *gnuplot_prog(void)
{
    const char *prog = getenv("SLM_GNUPLOT");
    return prog && *prog ? prog : "gnuplot";
}

static int gnuplot_timeout_s(void)
{
    const char *t = getenv("SLM_GNUPLOT_TIMEOUT_S");
    long tv;
    if (t && slm_parse_long(t, &tv) == 0 && tv > 0 && tv < 86400)
        return (int)tv;
    return DEFAULT_TIMEOUT_S;
}

int slm_gnuplot_run(const char *dir, const char *script_name, char *reason, size_t n)
{
    char **envp = make_env(), *why = NULL;
    int not_found = 0;
    int rc = gnuplot_exec(dir, gnuplot_prog(), envp, gnuplot_timeout_s(), script_name, &why,
                          &not_found);
    free(envp);
    if (rc == 0)
        return 0;
    slm_err(reason, n, "%s", why ? why : "gnuplot failed");
    free(why);
    return not_found ? -2 : -1;
}

/* ---- one figure ----------------------------------------------------------------------- */

static slm_plot *new_entry(ctx *x, const char *name, const char *caption)
{
    slm_plots_result *r = x->res;
    r->plots = slm_xrealloc(r->plots, (r->n + 1) * sizeof *r->plots);
    slm_plot *p = &r->plots[r->n++];
    memset(p, 0, sizeof *p);
    p->name = slm_xstrdup(name);
    p->caption = slm_xstrdup(caption);
    return p;
}

static char *in_dir(ctx *x, const char *name, const char *ext)
{
    return slm_xasprintf("%s/%s.%s", x->dir, name, ext);
}

/* Removes this figure's images, so a failed or skipped figure leaves none, not even one
 * from an earlier report in the same folder. */
static void remove_images(ctx *x, const char *name)
{
    char *svg = in_dir(x, name, "svg"), *png = in_dir(x, name, "png");
    unlink(svg);
    unlink(png);
    free(svg);
    free(png);
}

static void skip(ctx *x, const char *name, const char *caption, const char *why)
{
    slm_plot *p = new_entry(x, name, caption);
    p->skipped = slm_xstrdup(why);
    remove_images(x, name);
}

static int nonempty_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0;
}

/* Writes <name>.dat and <name>.gp (prologue, then `body` run once for each terminal) and
 * draws them. body and dat are consumed. Returns -1 only when a file cannot be
 * written. */
static int emit(ctx *x, const char *name, const char *caption, slm_buf *dat, slm_buf *body,
                int w, int h, char *err, size_t errlen)
{
    slm_plot *p = new_entry(x, name, caption);
    slm_buf gp = {0};
    slm_buf_printf(&gp,
                   "# %s.gp — written by slmbench. Run `gnuplot %s.gp` in this folder to redraw\n"
                   "# %s.svg and %s.png from %s.dat; restyle freely.\n"
                   "# ",
                   name, name, name, name, name);
    /* the caption holds candidate names: a newline there would end the comment */
    for (const char *c = caption; *c; c++)
        slm_buf_putc(&gp, (unsigned char)*c < 0x20 ? ' ' : *c);
    slm_buf_printf(&gp,
                   "\n"
                   "set encoding utf8\n"
                   "set decimalsign '.'\n"
                   "set datafile commentschars '#'\n"
                   "# one colour per candidate, in order (the 'tableau 10' set)\n"
                   "set linetype 1 lc rgb '#1f77b4' lw 1.5 pt 7\n"
                   "set linetype 2 lc rgb '#ff7f0e' lw 1.5 pt 5\n"
                   "set linetype 3 lc rgb '#2ca02c' lw 1.5 pt 9\n"
                   "set linetype 4 lc rgb '#d62728' lw 1.5 pt 11\n"
                   "set linetype 5 lc rgb '#9467bd' lw 1.5 pt 13\n"
                   "set linetype 6 lc rgb '#8c564b' lw 1.5 pt 7\n"
                   "set linetype 7 lc rgb '#e377c2' lw 1.5 pt 5\n"
                   "set linetype 8 lc rgb '#7f7f7f' lw 1.5 pt 9\n"
                   "set linetype 9 lc rgb '#bcbd22' lw 1.5 pt 11\n"
                   "set linetype 10 lc rgb '#17becf' lw 1.5 pt 13\n"
                   "set linetype cycle 10\n"
                   "do for [fmt in 'svg png'] {\n"
                   "    if (fmt eq 'svg') {\n"
                   "        set terminal svg size %d,%d dynamic noenhanced font 'Sans,12' "
                   "background rgb 'white'\n"
                   "    } else {\n"
                   "        set terminal pngcairo size %d,%d noenhanced font 'Sans,10' "
                   "background rgb 'white'\n"
                   "    }\n"
                   "    set output '%s.'.fmt\n"
                   "    reset\n"
                   "%s"
                   "    unset output\n"
                   "}\n",
                   w, h, w, h, name, body->data ? body->data : "");
    char *datp = in_dir(x, name, "dat"), *gpp = in_dir(x, name, "gp");
    int rc = -1;
    if (slm_write_file_atomic(datp, dat->data ? dat->data : "", dat->len, err, errlen) ||
        slm_write_file_atomic(gpp, gp.data, gp.len, err, errlen))
        goto out;
    p->data = slm_xasprintf("plots/%s.dat", name);
    p->script = slm_xasprintf("plots/%s.gp", name);
    rc = 0;
    remove_images(x, name);
    if (x->gp_missing) {
        p->skipped = slm_xstrdup(x->gp_missing);
        goto out;
    }
    char *script = slm_xasprintf("%s.gp", name), *why = NULL;
    int not_found = 0;
    if (run_gnuplot(x, script, &why, &not_found) == 0) {
        char *svg = in_dir(x, name, "svg"), *png = in_dir(x, name, "png");
        if (nonempty_file(svg) && nonempty_file(png)) {
            p->svg = slm_xasprintf("plots/%s.svg", name);
            p->png = slm_xasprintf("plots/%s.png", name);
            x->res->n_drawn++;
        } else {
            why = slm_xasprintf("gnuplot ran '%s' but wrote no image", script);
        }
        free(svg);
        free(png);
    }
    if (why) {
        remove_images(x, name);
        p->skipped = why;
        if (not_found)
            x->gp_missing = slm_xstrdup(why);
    }
    free(script);
out:
    free(datp);
    free(gpp);
    slm_buf_free(&gp);
    slm_buf_free(dat);
    slm_buf_free(body);
    return rc;
}

/* The public door to emit() and skip() (plots.h): a ctx holding only what they use. */
static void sink_open(ctx *x, const char *dir, slm_plots_result *res, char *gp_missing)
{
    memset(x, 0, sizeof *x);
    x->dir = slm_xstrdup(dir);
    x->res = res;
    x->gp_missing = gp_missing;
    x->prog = gnuplot_prog();
    x->timeout_s = gnuplot_timeout_s();
    x->envp = make_env();
}

static char *sink_close(ctx *x)
{
    free(x->dir);
    free(x->envp);
    return x->gp_missing;
}

int slm_plot_emit(const char *dir, slm_plots_result *res, char **gp_missing, const char *name,
                  const char *caption, slm_buf *dat, slm_buf *body, int w, int h, char *err,
                  size_t errlen)
{
    ctx x;
    sink_open(&x, dir, res, *gp_missing);
    int rc = emit(&x, name, caption, dat, body, w, h, err, errlen);
    *gp_missing = sink_close(&x);
    return rc;
}

void slm_plot_skip(const char *dir, slm_plots_result *res, const char *name, const char *caption,
                   const char *why)
{
    ctx x;
    sink_open(&x, dir, res, NULL);
    skip(&x, name, caption, why);
    sink_close(&x);
}

/* Rows and columns of a multiplot of n panels, wider than tall. */
static void grid(size_t n, int *rows, int *cols)
{
    int c = 1;
    while ((size_t)c * (size_t)c < n)
        c++;
    *cols = c;
    *rows = (int)((n + (size_t)c - 1) / (size_t)c);
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Explicit tic labels: set <axis> (label 0, label 1, ...), each label exactly as stored. */
static void tics(slm_buf *b, const char *axis, char *const *labels, size_t n, const char *opts)
{
    slm_buf_printf(b, "    set %s (", axis);
    for (size_t i = 0; i < n; i++) {
        if (i)
            slm_buf_puts(b, ", ");
        slm_gp_str(b, labels[i]);
        slm_buf_printf(b, " %zu", i);
    }
    slm_buf_printf(b, ") %s\n", opts);
}

/* ---- 1. accuracy against p95 latency -------------------------------------------------- */

typedef struct pt {
    double lat, acc, lo, hi;
    size_t c;
    int front;
} pt;

static int cmp_pt(const void *a, const void *b)
{
    const pt *p = a, *q = b;
    if (p->lat != q->lat)
        return p->lat < q->lat ? -1 : 1;
    if (p->acc != q->acc)
        return p->acc > q->acc ? -1 : 1;
    return p->c < q->c ? -1 : p->c > q->c;
}

static int plot_accuracy_latency(ctx *x, char *err, size_t errlen)
{
    const char *name = "accuracy_latency";
    const char *caption = "Accuracy against p95 end-to-end latency, one point per candidate "
                          "with its accuracy interval; the line joins the Pareto frontier "
                          "(no other candidate is both more accurate and measurably faster, "
                          "latency differences within the measured noise being ties).";
    pt *p = slm_xcalloc(x->nc ? x->nc : 1, sizeof *p);
    size_t n = 0;
    for (size_t i = 0; i < x->nc; i++) {
        pt q = {.c = i};
        q.acc = metric(x->st, x->c[i].id, "accuracy", &q.lo, &q.hi);
        q.lat = metric(x->st, x->c[i].id, "e2e_ms_p95", NULL, NULL);
        if (isfinite(q.acc) && isfinite(q.lat))
            p[n++] = q;
    }
    if (!n) {
        free(p);
        skip(x, name, caption, "no candidate has both accuracy and e2e_ms_p95");
        return 0;
    }
    qsort(p, n, sizeof *p, cmp_pt);
    double lmin = p[0].lat, lmax = p[n - 1].lat;
    double *acc = slm_xcalloc(n, sizeof *acc), *lat = slm_xcalloc(n, sizeof *lat);
    int *front = slm_xcalloc(n, sizeof *front);
    int64_t *ids = slm_xcalloc(n, sizeof *ids);
    for (size_t i = 0; i < n; i++)
        acc[i] = p[i].acc, lat[i] = p[i].lat, ids[i] = x->c[p[i].c].id;
    /* the recommendation's rule, ties within the measured noise included */
    unsigned char *faster = slm_faster_matrix(x->st, ids, lat, n, NULL, 0);
    slm_pareto_front(acc, lat, faster, n, front);
    for (size_t i = 0; i < n; i++)
        p[i].front = front[i];
    free(acc), free(lat), free(front), free(ids), free(faster);
    slm_buf dat = {0}, body = {0};
    slm_buf_puts(&dat, "# e2e_ms_p95 accuracy accuracy_lo accuracy_hi on_frontier candidate\n"
                       "# block 0: every candidate, by latency; block 1: the Pareto frontier\n");
    for (int block = 0; block < 2; block++) {
        if (block)
            slm_buf_puts(&dat, "\n\n");
        for (size_t i = 0; i < n; i++) {
            if (block && !p[i].front)
                continue;
            slm_gp_num(&dat, p[i].lat);
            slm_buf_putc(&dat, ' ');
            slm_gp_num(&dat, p[i].acc);
            slm_buf_putc(&dat, ' ');
            slm_gp_num(&dat, p[i].lo);
            slm_buf_putc(&dat, ' ');
            slm_gp_num(&dat, p[i].hi);
            slm_buf_printf(&dat, " %d ", p[i].front);
            slm_gp_dat_str(&dat, x->c[p[i].c].label);
            slm_buf_putc(&dat, '\n');
        }
    }
    slm_buf_puts(&body, "    set title 'Accuracy against p95 latency'\n"
                        "    set xlabel 'p95 end-to-end latency per example (ms)'\n"
                        "    set ylabel 'accuracy'\n"
                        "    set grid lc rgb '#dddddd'\n"
                        "    set key bottom right box opaque\n"
                        "    set offsets graph 0.1, graph 0.25, graph 0.12, graph 0.12\n");
    if (lmin > 0 && lmax / lmin > 20)
        slm_buf_puts(&body, "    set logscale x\n");
    /* labels from the script, exactly as stored (the .dat column has '"' replaced) */
    for (size_t i = 0; i < n; i++) {
        slm_buf_puts(&body, "    set label ");
        slm_gp_str(&body, x->c[p[i].c].label);
        slm_buf_puts(&body, " at ");
        slm_gp_num(&body, p[i].lat);
        slm_buf_puts(&body, ", ");
        slm_gp_num(&body, p[i].acc);
        slm_buf_puts(&body, " offset char 0.8, char 0.7 font ',9'\n");
    }
    slm_buf_printf(&body,
                   "    plot '%s.dat' index 1 using 1:2 with lines lw 2 lc rgb '#d62728' "
                   "title 'Pareto frontier', \\\n"
                   "         '' index 0 using 1:2:3:4 with yerrorbars ps 0 "
                   "lc rgb '#1f77b4' notitle, \\\n"
                   "         '' index 0 using 1:2 with points pt 6 ps 1.4 "
                   "lc rgb '#1f77b4' title 'candidate (bar: accuracy interval)', \\\n"
                   "         '' index 1 using 1:2 with points pt 7 ps 1.6 lc rgb '#d62728' "
                   "title 'on the frontier'\n",
                   name);
    free(p);
    return emit(x, name, caption, &dat, &body, 800, 500, err, errlen);
}

/* ---- 2. reliability diagrams ---------------------------------------------------------- */

static int plot_reliability(ctx *x, char *err, size_t errlen)
{
    const char *name = "reliability";
    const char *caption = "Reliability diagrams, 15 equal-width confidence bins: bars are the "
                          "accuracy of each bin, dots its mean confidence, numbers its "
                          "example count; a calibrated model follows the diagonal.";
    slm_buf dat = {0}, panels = {0};
    slm_buf_puts(&dat, "# bin bin_lo bin_hi bin_centre mean_confidence accuracy count\n"
                       "# one block per candidate (gnuplot: index k), named in its first line\n");
    size_t np = 0;
    for (size_t i = 0; i < x->nc; i++) {
        slm_buf rows = {0};
        long total = 0;
        int nbins = 0;
        /* bins are numbered 1..B; read them once to know B */
        slm_rel_bin *br;
        size_t nb;
        if (slm_store_reliability(x->st, x->c[i].id, "width", &br, &nb, err, errlen)) {
            slm_buf_free(&dat);
            slm_buf_free(&panels);
            return -1;
        }
        for (size_t k = 0; k < nb; k++) {
            total += br[k].count;
            if (br[k].bin > nbins)
                nbins = br[k].bin;
        }
        if (!total) {
            free(br);
            continue;
        }
        for (size_t k = 0; k < nb; k++) {
            double lo = (double)(br[k].bin - 1) / nbins, hi = (double)br[k].bin / nbins;
            slm_buf_printf(&rows, "%d ", br[k].bin);
            slm_gp_num(&rows, lo);
            slm_buf_putc(&rows, ' ');
            slm_gp_num(&rows, hi);
            slm_buf_putc(&rows, ' ');
            slm_gp_num(&rows, (lo + hi) / 2);
            slm_buf_putc(&rows, ' ');
            slm_gp_num(&rows, br[k].count ? br[k].conf : NAN);
            slm_buf_putc(&rows, ' ');
            slm_gp_num(&rows, br[k].count ? br[k].acc : NAN);
            slm_buf_printf(&rows, " %ld\n", br[k].count);
        }
        free(br);
        if (np)
            slm_buf_puts(&dat, "\n\n");
        slm_buf_puts(&dat, "# candidate ");
        slm_gp_dat_str(&dat, x->c[i].label);
        slm_buf_putc(&dat, '\n');
        slm_buf_append(&dat, rows.data, rows.len);
        slm_buf_free(&rows);

        double ece = metric(x->st, x->c[i].id, "ece_15", NULL, NULL);
        slm_buf title = {0};
        slm_buf_puts(&title, x->c[i].label);
        if (isfinite(ece)) {
            char *e = fmt_num(ece, 3);
            slm_buf_printf(&title, " (ECE %s, n = %ld)", e, total);
            free(e);
        } else {
            slm_buf_printf(&title, " (n = %ld)", total);
        }
        slm_buf_puts(&panels, "    set title ");
        slm_gp_str(&panels, title.data);
        slm_buf_free(&title);
        const char *t1 = np ? "notitle" : "title 'perfect calibration'";
        const char *t2 = np ? "notitle" : "title 'accuracy of the bin'";
        const char *t3 = np ? "notitle" : "title 'mean confidence'";
        slm_buf_printf(&panels,
                       "\n    plot x with lines dt 2 lc rgb '#7f7f7f' %s, \\\n"
                       "         '%s.dat' index %zu using 4:6:($3-$2) with boxes "
                       "lc rgb '#6baed6' %s, \\\n"
                       "         '' index %zu using 5:6 with points pt 7 ps 0.9 "
                       "lc rgb '#d62728' %s, \\\n"
                       "         '' index %zu using 4:($6 + 0.025):7 with labels "
                       "font ',8' notitle\n",
                       t1, name, np, t2, np, t3, np);
        np++;
    }
    if (!np) {
        slm_buf_free(&dat);
        slm_buf_free(&panels);
        skip(x, name, caption, "no reliability bins stored (no confidences)");
        return 0;
    }
    int rows, cols;
    grid(np, &rows, &cols);
    slm_buf body = {0};
    slm_buf_printf(&body,
                   "    set multiplot layout %d,%d title 'Reliability diagrams "
                   "(equal-width confidence bins)'\n"
                   "    set xrange [0:1]\n"
                   "    set yrange [0:1.1]\n"
                   "    set xlabel 'confidence'\n"
                   "    set ylabel 'accuracy'\n"
                   "    set xtics 0.2\n"
                   "    set ytics 0.2\n"
                   "    set grid lc rgb '#eeeeee'\n"
                   "    set style fill solid 0.6 border lc rgb '#3182bd'\n"
                   "    set key top left font ',9' samplen 2\n",
                   rows, cols);
    slm_buf_append(&body, panels.data, panels.len);
    slm_buf_free(&panels);
    slm_buf_puts(&body, "    unset multiplot\n");
    int w = clampi(cols * 460, 800, 2400), h = clampi(rows * 420 + 40, 500, 2400);
    return emit(x, name, caption, &dat, &body, w, h, err, errlen);
}

/* ---- 3. latency CDF ------------------------------------------------------------------- */

static int plot_latency_cdf(ctx *x, char *err, size_t errlen)
{
    const char *name = "latency_cdf";
    const char *caption = "Empirical CDF of the end-to-end latency of each example, per "
                          "candidate; the dotted line marks the 95th percentile.";
    slm_buf dat = {0}, plot = {0};
    slm_buf_puts(&dat, "# e2e_ms fraction_at_or_below\n"
                       "# one block per candidate (gnuplot: index k), named in its first line\n");
    size_t nb = 0;
    double lmin = INFINITY, lmax = 0;
    for (size_t i = 0; i < x->nc; i++) {
        double *v;
        size_t n;
        if (slm_store_latencies(x->st, x->c[i].id, &v, &n, err, errlen)) {
            slm_buf_free(&dat);
            slm_buf_free(&plot);
            return -1;
        }
        if (!n) {
            free(v);
            continue;
        }
        if (nb)
            slm_buf_puts(&dat, "\n\n");
        slm_buf_puts(&dat, "# candidate ");
        slm_gp_dat_str(&dat, x->c[i].label);
        slm_buf_putc(&dat, '\n');
        /* the step starts at 0 at the fastest example */
        slm_gp_num(&dat, v[0]);
        slm_buf_puts(&dat, " 0\n");
        for (size_t k = 0; k < n; k++) {
            slm_gp_num(&dat, v[k]);
            slm_buf_putc(&dat, ' ');
            slm_gp_num(&dat, (double)(k + 1) / (double)n);
            slm_buf_putc(&dat, '\n');
        }
        if (v[0] < lmin)
            lmin = v[0];
        if (v[n - 1] > lmax)
            lmax = v[n - 1];
        slm_buf_printf(&plot, "%s'%s.dat' index %zu using 1:2 with steps lw 2 title ",
                       nb ? ", \\\n         " : "    plot ", name, nb);
        slm_gp_str(&plot, x->c[i].label);
        free(v);
        nb++;
    }
    if (!nb) {
        slm_buf_free(&dat);
        slm_buf_free(&plot);
        skip(x, name, caption, "no per-example latencies stored");
        return 0;
    }
    slm_buf body = {0};
    slm_buf_puts(&body, "    set title 'End-to-end latency per example (empirical CDF)'\n"
                        "    set xlabel 'end-to-end latency (ms)'\n"
                        "    set ylabel 'share of examples at or below'\n"
                        "    set yrange [0:1.02]\n"
                        "    set ytics 0.1\n"
                        "    set grid lc rgb '#dddddd'\n"
                        "    set key bottom right box opaque\n"
                        "    set arrow from graph 0, first 0.95 to graph 1, first 0.95 "
                        "nohead dt 3 lc rgb '#7f7f7f'\n");
    if (lmin > 0 && lmax / lmin > 20)
        slm_buf_puts(&body, "    set logscale x\n");
    slm_buf_append(&body, plot.data, plot.len);
    slm_buf_putc(&body, '\n');
    slm_buf_free(&plot);
    return emit(x, name, caption, &dat, &body, 800, 500, err, errlen);
}

/* ---- 4. confusion matrices ------------------------------------------------------------ */

/* One heatmap of a confusion matrix: the rows and columns sel[0..n) of count (L x L,
 * gold-major), shaded by the share of the gold label's whole row; counts written in the
 * cells when `counts`. Tick labels shrink and turn upright as the matrix grows, so they
 * never overprint (a row is at least 12 pixels high, the font at most 9). */
static int draw_heatmap(ctx *x, const char *name, const char *caption, const char *title,
                        const strlist *labels, const size_t *sel, size_t n, const long *count,
                        int counts, char *err, size_t errlen)
{
    size_t L = labels->n;
    slm_buf dat = {0}, body = {0};
    slm_buf_puts(&dat, "# pred_index gold_index count share_of_gold pred gold\n# ");
    slm_gp_dat_str(&dat, title);
    slm_buf_puts(&dat, "\n# every cell of the matrix, one gold label per scan (blank line)\n");
    for (size_t gi = 0; gi < n; gi++) {
        size_t g = sel[gi];
        long row = 0;
        for (size_t p = 0; p < L; p++)
            row += count[g * L + p];
        for (size_t pi = 0; pi < n; pi++) {
            size_t p = sel[pi];
            slm_buf_printf(&dat, "%zu %zu %ld ", pi, gi, count[g * L + p]);
            slm_gp_num(&dat, row ? (double)count[g * L + p] / (double)row : 0.0);
            slm_buf_putc(&dat, ' ');
            slm_gp_dat_str(&dat, labels->v[p]);
            slm_buf_putc(&dat, ' ');
            slm_gp_dat_str(&dat, labels->v[g]);
            slm_buf_putc(&dat, '\n');
        }
        slm_buf_putc(&dat, '\n');
    }
    int cell = n > 40 ? 12 : n > 12 ? 22 : 50, font = n > 40 ? 7 : 9;
    slm_buf_puts(&body, "    set title ");
    slm_gp_str(&body, title);
    slm_buf_printf(&body,
                   "\n    set xlabel 'predicted label'\n"
                   "    set ylabel 'gold label'\n"
                   "    set xrange [-0.5:%zu.5]\n"
                   "    set yrange [%zu.5:-0.5]\n"
                   "    set size ratio -1\n"
                   "    set cbrange [0:1]\n"
                   "    set cblabel 'share of the gold label'\n"
                   "    set palette defined (0 '#ffffff', 1 '#08306b')\n"
                   "    set tics scale 0\n"
                   "    set border lw 0.5\n",
                   n - 1, n - 1);
    char **tl = slm_xcalloc(n, sizeof *tl);
    for (size_t k = 0; k < n; k++)
        tl[k] = labels->v[sel[k]];
    char xo[64], yo[32];
    snprintf(xo, sizeof xo, n > 12 ? "rotate by 90 right font ',%d'" : "rotate by 30 right font ',%d'",
             font);
    snprintf(yo, sizeof yo, "font ',%d'", font);
    tics(&body, "xtics", tl, n, xo);
    tics(&body, "ytics", tl, n, yo);
    free(tl);
    slm_buf_printf(&body, "    plot '%s.dat' using 1:2:4 with image notitle", name);
    if (counts)
        slm_buf_printf(&body,
                       ", \\\n         '' using 1:2:($3 > 0 ? sprintf('%%d', $3) : ''):"
                       "($4 > 0.55 ? 0xffffff : 0x000000) with labels tc rgb variable "
                       "font ',%d' notitle",
                       n > 12 ? 7 : 10);
    slm_buf_putc(&body, '\n');
    /* room for the longest tick label (about 6 pixels a character) on both axes */
    size_t longest = 0;
    for (size_t k = 0; k < n; k++)
        longest = strlen(labels->v[sel[k]]) > longest ? strlen(labels->v[sel[k]]) : longest;
    int margin = 160 + 6 * (int)(longest > 40 ? 40 : longest);
    int side = cell * (int)n;
    return emit(x, name, caption, &dat, &body, clampi(side + margin + 160, 600, 3200),
                clampi(side + margin + 60, 450, 3200), err, errlen);
}

typedef struct offcell {
    size_t g, p;
    long n;
} offcell;

static int cmp_offcell(const void *a, const void *b)
{
    const offcell *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return x->g != y->g ? (x->g < y->g ? -1 : 1) : (x->p < y->p ? -1 : x->p > y->p);
}

/* The labels of the largest off-diagonal cells, up to `want` of them, in label order;
 * fewer when the confusions involve fewer. Returns their count, indices in sel. */
static size_t top_confused(const long *count, size_t L, size_t want, size_t *sel)
{
    offcell *c = slm_xcalloc(L * L + 1, sizeof *c);
    size_t nc = 0, n = 0;
    for (size_t g = 0; g < L; g++)
        for (size_t p = 0; p < L; p++)
            if (g != p && count[g * L + p] > 0)
                c[nc++] = (offcell){g, p, count[g * L + p]};
    qsort(c, nc, sizeof *c, cmp_offcell);
    unsigned char *in = slm_xcalloc(L, 1);
    for (size_t k = 0; k < nc && n + 1 < want; k++)
        for (int side = 0; side < 2; side++) {
            size_t l = side ? c[k].p : c[k].g;
            if (!in[l])
                in[l] = 1, n++;
        }
    n = 0;
    for (size_t l = 0; l < L; l++)
        if (in[l])
            sel[n++] = l;
    free(in);
    free(c);
    return n;
}

/* Up to SLM_HEATMAP_MAX_FULL_LABELS labels: confusion_<k>, the whole matrix with counts.
 * Above: confusion_<k>, the labels of the largest confusions (SLM_HEATMAP_TOP_LABELS),
 * with counts, and confusion_<k>_full, the whole matrix shaded without counts. */
static int plot_confusion_one(ctx *x, size_t i, char *err, size_t errlen)
{
    char *name = slm_xasprintf("confusion_%zu", i + 1);
    char *caption = slm_xasprintf("Confusion matrix of %s: rows are gold labels, columns "
                                  "predictions; cells give the count, shaded by the share of "
                                  "the gold label.",
                                  x->c[i].label);
    strlist labels = {0};
    long *count = NULL;
    size_t *sel = NULL;
    int rc = 0;
    /* label order: as the aggregation stored the classes (label set, then extra outputs) */
    slm_class_stat *rows;
    size_t nrows;
    if (slm_store_classes(x->st, x->c[i].id, SLM_CLASSES_STORED, &rows, &nrows, err, errlen)) {
        rc = -1;
        goto out;
    }
    for (size_t k = 0; k < nrows; k++)
        strlist_add(&labels, rows[k].label);
    slm_class_rows_free(rows, nrows);
    slm_conf_cell *cc;
    size_t ncc;
    if (slm_store_confusion(x->st, x->c[i].id, &cc, &ncc, err, errlen)) {
        rc = -1;
        goto out;
    }
    for (size_t k = 0; k < ncc; k++) {
        strlist_add(&labels, cc[k].gold);
        strlist_add(&labels, cc[k].pred);
    }
    size_t L = labels.n;
    long total = 0;
    count = slm_xcalloc(L * L + 1, sizeof *count);
    for (size_t k = 0; k < ncc; k++) {
        size_t g = (size_t)strlist_find(&labels, cc[k].gold),
               p = (size_t)strlist_find(&labels, cc[k].pred);
        count[g * L + p] += cc[k].count;
        total += cc[k].count;
    }
    slm_conf_cells_free(cc, ncc);
    if (!total) {
        skip(x, name, caption, "no confusion counts stored");
        goto out;
    }
    sel = slm_xcalloc(L + 1, sizeof *sel);
    char *title;
    if (L <= SLM_HEATMAP_MAX_FULL_LABELS) {
        for (size_t k = 0; k < L; k++)
            sel[k] = k;
        title = slm_xasprintf("Confusion matrix: %s (n = %ld)", x->c[i].label, total);
        rc = draw_heatmap(x, name, caption, title, &labels, sel, L, count, 1, err, errlen);
        free(title);
        goto out;
    }
    size_t n = top_confused(count, L, SLM_HEATMAP_TOP_LABELS, sel);
    free(caption);
    caption = slm_xasprintf("Confusion matrix of %s, the %zu labels of its largest "
                            "confusions (of %zu): rows are gold labels, columns predictions; "
                            "cells give the count, shaded by the share of the gold label. "
                            "The whole matrix: confusion_%zu_full.",
                            x->c[i].label, n, L, i + 1);
    title = slm_xasprintf("Confusion matrix: %s (n = %ld), %zu of %zu labels", x->c[i].label,
                          total, n, L);
    rc = n ? draw_heatmap(x, name, caption, title, &labels, sel, n, count, 1, err, errlen) : 0;
    if (!n)
        skip(x, name, caption, "no confusions: every answer is right");
    free(title);
    if (rc)
        goto out;
    char *full = slm_xasprintf("%s_full", name);
    char *fcap = slm_xasprintf("Confusion matrix of %s, all %zu labels, shaded by the share of "
                               "the gold label.", x->c[i].label, L);
    title = slm_xasprintf("Confusion matrix: %s (n = %ld), all %zu labels", x->c[i].label,
                          total, L);
    for (size_t k = 0; k < L; k++)
        sel[k] = k;
    rc = draw_heatmap(x, full, fcap, title, &labels, sel, L, count, 0, err, errlen);
    free(title);
    free(full);
    free(fcap);
out:
    free(sel);
    free(count);
    strlist_free(&labels);
    free(name);
    free(caption);
    return rc;
}

/* ---- 5. per-class F1 ------------------------------------------------------------------ */

/* The labels 0..nl by their mean F1 over the candidates that have one (f1[i][l], l <
 * nf[i], has[i]), ascending, stable; a label with none last. Caller frees. */
static size_t *order_by_mean(double *const *f1, const size_t *nf, const int *has, size_t nc,
                             size_t nl)
{
    size_t *ord = slm_xcalloc(nl + 1, sizeof *ord);
    double *mean = slm_xcalloc(nl + 1, sizeof *mean);
    for (size_t l = 0; l < nl; l++) {
        double sum = 0;
        size_t k = 0;
        for (size_t i = 0; i < nc; i++)
            if (has[i] && l < nf[i] && isfinite(f1[i][l]))
                sum += f1[i][l], k++;
        mean[l] = k ? sum / (double)k : 2.0;
        ord[l] = l;
    }
    for (size_t a = 1; a < nl; a++) /* insertion sort: stable, a few hundred labels */
        for (size_t b = a; b > 0 && mean[ord[b - 1]] > mean[ord[b]]; b--) {
            size_t t = ord[b];
            ord[b] = ord[b - 1];
            ord[b - 1] = t;
        }
    free(mean);
    return ord;
}

static int plot_per_class_f1(ctx *x, char *err, size_t errlen)
{
    const char *name = "per_class_f1";
    const char *caption = "F1 of each label (of the label set), one bar per candidate, the "
                          "labels of the lowest mean F1 first.";
    strlist labels = {0};
    /* f1[c * cap + l]; labels are discovered as we go */
    int rc = 0;
    double **f1 = slm_xcalloc(x->nc ? x->nc : 1, sizeof *f1);
    size_t *nf = slm_xcalloc(x->nc ? x->nc : 1, sizeof *nf);
    int *has = slm_xcalloc(x->nc ? x->nc : 1, sizeof *has);
    size_t ncand = 0;
    for (size_t i = 0; i < x->nc; i++) {
        slm_class_stat *rows;
        size_t nrows;
        if (slm_store_classes(x->st, x->c[i].id, SLM_CLASSES_SET, &rows, &nrows, err, errlen)) {
            rc = -1;
            goto out;
        }
        for (size_t r = 0; r < nrows; r++) {
            size_t l = strlist_add(&labels, rows[r].label);
            if (l >= nf[i]) {
                f1[i] = slm_xrealloc(f1[i], (l + 1) * sizeof **f1);
                for (size_t k = nf[i]; k <= l; k++)
                    f1[i][k] = NAN;
                nf[i] = l + 1;
            }
            f1[i][l] = rows[r].f1;
            if (isfinite(f1[i][l]))
                has[i] = 1;
        }
        slm_class_rows_free(rows, nrows);
        ncand += has[i];
    }
    if (!ncand) {
        skip(x, name, caption, "no per-class F1 stored");
        goto out;
    }
    size_t *ord = order_by_mean(f1, nf, has, x->nc, labels.n);
    slm_buf dat = {0}, body = {0};
    slm_buf_puts(&dat, "# row label");
    for (size_t i = 0; i < x->nc; i++)
        if (has[i]) {
            slm_buf_putc(&dat, ' ');
            slm_gp_dat_str(&dat, x->c[i].label);
        }
    slm_buf_puts(&dat, "\n# F1 of each label (rows, lowest mean F1 first) for each candidate "
                       "(columns 3 onwards)\n");
    char **names = slm_xcalloc(labels.n + 1, sizeof *names);
    size_t longest = 0;
    for (size_t r = 0; r < labels.n; r++) {
        size_t l = ord[r];
        names[r] = labels.v[l];
        longest = strlen(labels.v[l]) > longest ? strlen(labels.v[l]) : longest;
        slm_buf_printf(&dat, "%zu ", r);
        slm_gp_dat_str(&dat, labels.v[l]);
        for (size_t i = 0; i < x->nc; i++)
            if (has[i]) {
                slm_buf_putc(&dat, ' ');
                slm_gp_num(&dat, l < nf[i] ? f1[i][l] : NAN);
            }
        slm_buf_putc(&dat, '\n');
    }
    double bh = 0.8 / (double)ncand;
    int font = labels.n > 40 ? 8 : 10;
    slm_buf_printf(&body,
                   "    set title 'F1 per label (of the label set), lowest mean F1 first'\n"
                   "    set xlabel 'F1'\n"
                   "    set xrange [0:1.02]\n"
                   "    set yrange [%zu.6:-0.6]\n"
                   "    set xtics 0.1\n"
                   "    set x2tics 0.1\n"
                   "    set link x2\n"
                   "    set grid xtics lc rgb '#dddddd'\n"
                   "    set style fill solid 0.8 border -1\n"
                   "    set key outside top horizontal\n"
                   "    set tics scale 0.5\n",
                   labels.n - 1);
    char yo[32];
    snprintf(yo, sizeof yo, "font ',%d'", font);
    tics(&body, "ytics", names, labels.n, yo);
    free(names);
    size_t col = 3, j = 0;
    for (size_t i = 0; i < x->nc; i++) {
        if (!has[i])
            continue;
        char *off = fmt_num(((double)j - ((double)ncand - 1) / 2.0) * bh, 6);
        char *h = fmt_num(bh / 2.0, 6);
        slm_buf_printf(&body,
                       "%s'%s.dat' using ($%zu / 2):($1 + %s):(0):($%zu):($1 + %s - %s):"
                       "($1 + %s + %s) with boxxyerror title ",
                       j ? ", \\\n         " : "    plot ", name, col, off, col, off, h, off, h);
        slm_gp_str(&body, x->c[i].label);
        free(off);
        free(h);
        col++;
        j++;
    }
    slm_buf_putc(&body, '\n');
    /* a label's row: 5 pixels a candidate and a gap, at least 14 */
    int row = (int)ncand * 5 + 4 < 14 ? 14 : (int)ncand * 5 + 4;
    int height = clampi(180 + row * (int)labels.n, 400, 3200);
    int width = clampi(760 + 6 * (int)(longest > 48 ? 48 : longest), 800, 1200);
    free(ord);
    rc = emit(x, name, caption, &dat, &body, width, height, err, errlen);
out:
    for (size_t i = 0; i < x->nc; i++)
        free(f1[i]);
    free(f1);
    free(nf);
    free(has);
    strlist_free(&labels);
    return rc;
}

/* ---- 6. risk-coverage ----------------------------------------------------------------- */

static int plot_risk_coverage(ctx *x, char *err, size_t errlen)
{
    const char *name = "risk_coverage";
    const char *caption = "Risk-coverage curves: answering only the examples whose confidence "
                          "is above a threshold, the error rate (risk) among them against the "
                          "share answered (coverage); lower is better, AURC in the key.";
    slm_buf dat = {0}, plot = {0};
    slm_buf_puts(&dat, "# coverage risk threshold\n"
                       "# one block per candidate (gnuplot: index k), named in its first line\n");
    size_t nb = 0;
    for (size_t i = 0; i < x->nc; i++) {
        slm_curve_pt *pts;
        size_t n;
        if (slm_store_curve(x->st, x->c[i].id, "risk_coverage", &pts, &n, err, errlen)) {
            slm_buf_free(&dat);
            slm_buf_free(&plot);
            return -1;
        }
        slm_buf rows = {0};
        for (size_t k = 0; k < n; k++) {
            slm_gp_num(&rows, pts[k].x);
            slm_buf_putc(&rows, ' ');
            slm_gp_num(&rows, pts[k].y);
            slm_buf_putc(&rows, ' ');
            slm_gp_num(&rows, pts[k].threshold);
            slm_buf_putc(&rows, '\n');
        }
        free(pts);
        if (!n) {
            slm_buf_free(&rows);
            continue;
        }
        if (nb)
            slm_buf_puts(&dat, "\n\n");
        slm_buf_puts(&dat, "# candidate ");
        slm_gp_dat_str(&dat, x->c[i].label);
        slm_buf_putc(&dat, '\n');
        slm_buf_append(&dat, rows.data, rows.len);
        slm_buf_free(&rows);
        slm_buf t = {0};
        slm_buf_puts(&t, x->c[i].label);
        double aurc = metric(x->st, x->c[i].id, "aurc", NULL, NULL);
        if (isfinite(aurc)) {
            char *a = fmt_num(aurc, 3);
            slm_buf_printf(&t, " (AURC %s)", a);
            free(a);
        }
        slm_buf_printf(&plot, "%s'%s.dat' index %zu using 1:2 with lines lw 2 title ",
                       nb ? ", \\\n         " : "    plot ", name, nb);
        slm_gp_str(&plot, t.data);
        slm_buf_free(&t);
        nb++;
    }
    if (!nb) {
        slm_buf_free(&dat);
        slm_buf_free(&plot);
        skip(x, name, caption, "no risk-coverage curves stored (no confidences)");
        return 0;
    }
    slm_buf body = {0};
    slm_buf_puts(&body, "    set title 'Risk against coverage (selective prediction)'\n"
                        "    set xlabel 'coverage (share of examples answered)'\n"
                        "    set ylabel 'risk (error rate on the answered examples)'\n"
                        "    set xrange [0:1]\n"
                        "    set yrange [0:*]\n"
                        "    set xtics 0.1\n"
                        "    set grid lc rgb '#dddddd'\n"
                        "    set key top left box opaque\n");
    slm_buf_append(&body, plot.data, plot.len);
    slm_buf_putc(&body, '\n');
    slm_buf_free(&plot);
    return emit(x, name, caption, &dat, &body, 800, 500, err, errlen);
}

/* ---- 7. hardware counters ------------------------------------------------------------- */

static int plot_counters(ctx *x, char *err, size_t errlen)
{
    const char *name = "counters";
    const char *caption = "Hardware counters: instructions retired per generated or scored "
                          "token, and instructions per cycle (IPC), per candidate.";
    double *ipt = slm_xcalloc(x->nc ? x->nc : 1, sizeof *ipt);
    double *ipc = slm_xcalloc(x->nc ? x->nc : 1, sizeof *ipc);
    size_t n = 0;
    for (size_t i = 0; i < x->nc; i++) {
        ipt[i] = metric(x->st, x->c[i].id, "instructions_per_token", NULL, NULL);
        ipc[i] = metric(x->st, x->c[i].id, "ipc", NULL, NULL);
        if (isfinite(ipt[i]) || isfinite(ipc[i]))
            n++;
    }
    if (!n) {
        free(ipt);
        free(ipc);
        skip(x, name, caption, "no hardware counters measured");
        return 0;
    }
    slm_buf dat = {0}, body = {0};
    slm_buf_puts(&dat, "# candidate_index candidate instructions_per_token ipc\n");
    strlist lab = {0};
    for (size_t i = 0; i < x->nc; i++) {
        if (!isfinite(ipt[i]) && !isfinite(ipc[i]))
            continue;
        slm_buf_printf(&dat, "%zu ", lab.n);
        slm_gp_dat_str(&dat, x->c[i].label);
        slm_buf_putc(&dat, ' ');
        slm_gp_num(&dat, ipt[i]);
        slm_buf_putc(&dat, ' ');
        slm_gp_num(&dat, ipc[i]);
        slm_buf_putc(&dat, '\n');
        lab.v = slm_xrealloc(lab.v, (lab.n + 1) * sizeof *lab.v);
        lab.v[lab.n++] = slm_xstrdup(x->c[i].label);
    }
    slm_buf_printf(&body,
                   "    set multiplot layout 1,2 title 'Hardware counters'\n"
                   "    set style fill solid 0.8 border -1\n"
                   "    set boxwidth 0.6\n"
                   "    set xrange [-0.6:%zu.6]\n"
                   "    set yrange [0:*]\n"
                   "    set offsets 0, 0, graph 0.1, 0\n"
                   "    set grid ytics lc rgb '#dddddd'\n"
                   "    set tics scale 0.5\n",
                   lab.n - 1);
    tics(&body, "xtics", lab.v, lab.n, lab.n > 3 ? "rotate by 30 right font ',9'" : "font ',10'");
    slm_buf_printf(&body,
                   "    set title 'instructions per token'\n"
                   "    set ylabel 'instructions per token'\n"
                   "    set format y '%%.1s%%c'\n"
                   "    plot '%s.dat' using 1:3 with boxes lc rgb '#1f77b4' notitle, \\\n"
                   "         '' using 1:3:(gprintf('%%.2s%%c', $3)) with labels offset 0,0.7 "
                   "font ',9' notitle\n"
                   "    set title 'instructions per cycle (IPC)'\n"
                   "    set ylabel 'IPC'\n"
                   "    set format y '%%g'\n"
                   "    plot '%s.dat' using 1:4 with boxes lc rgb '#ff7f0e' notitle, \\\n"
                   "         '' using 1:4:(sprintf('%%.2f', $4)) with labels offset 0,0.7 "
                   "font ',9' notitle\n"
                   "    unset multiplot\n",
                   name, name);
    strlist_free(&lab);
    free(ipt);
    free(ipc);
    int w = clampi(2 * (200 + 90 * (int)n), 800, 2400);
    return emit(x, name, caption, &dat, &body, w, 500, err, errlen);
}

/* ---- entry points --------------------------------------------------------------------- */

void slm_plots_result_free(slm_plots_result *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < res->n; i++) {
        slm_plot *p = &res->plots[i];
        free(p->name), free(p->caption), free(p->svg), free(p->png), free(p->data);
        free(p->script), free(p->skipped);
    }
    free(res->plots);
    memset(res, 0, sizeof *res);
}

int slm_plots_write(slm_store *st, const int64_t *run_ids, size_t n_runs, const char *outdir,
                    slm_plots_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    ctx x = {.st = st, .outdir = outdir, .res = res};
    x.prog = gnuplot_prog();
    x.timeout_s = gnuplot_timeout_s();
    x.dir = slm_xasprintf("%s/plots", outdir);
    int rc = -1;
    if (slm_mkdir_p(x.dir, err, errlen) || load_cands(&x, run_ids, n_runs, err, errlen))
        goto out;
    x.envp = make_env();
    if (!x.nc) {
        static const char *const names[] = {"accuracy_latency", "reliability", "latency_cdf",
                                            "confusion", "per_class_f1", "risk_coverage",
                                            "counters"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            slm_plot *p = new_entry(&x, names[i], "");
            p->skipped = slm_xstrdup("no candidates in the selected runs");
        }
        rc = 0;
        goto out;
    }
    if (plot_accuracy_latency(&x, err, errlen) || plot_reliability(&x, err, errlen) ||
        plot_latency_cdf(&x, err, errlen))
        goto out;
    for (size_t i = 0; i < x.nc; i++)
        if (plot_confusion_one(&x, i, err, errlen))
            goto out;
    if (plot_per_class_f1(&x, err, errlen) || plot_risk_coverage(&x, err, errlen) ||
        plot_counters(&x, err, errlen))
        goto out;
    rc = 0;
out:
    if (rc)
        slm_plots_result_free(res);
    for (size_t i = 0; i < x.nc; i++)
        free(x.c[i].label);
    free(x.c);
    free(x.dir);
    free(x.envp);
    free(x.gp_missing);
    return rc;
}
