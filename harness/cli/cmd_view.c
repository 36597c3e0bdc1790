/*
 * cmd_view.c — `slmbench view`: a small read-only web server over one database, so a
 * person sees the newest runs without writing files. It renders on each request the pages
 * the commands write as files (report.html, examples.html), from a connection opened
 * read-only (slm_store_open_ro). GET and HEAD only; every route is matched in full, and
 * nothing from the URL ever names a file.
 *
 * libmicrohttpd (Debian's libmicrohttpd-dev) serves it from one internal thread, so the
 * one SQLite connection is used by one thread at a time. Built without it, `view` says how
 * to get it (exit 4).
 */
#include "cli.h"
#include "diff_report.h"
#include "examples_html.h"
#include "history_report.h"
#include "opts.h"
#include "report.h"
#include "report_html.h"
#include "slm_limits.h"
#include "store_load.h"
#include "store_reports.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
    "Serves the pages of a database's runs on http://127.0.0.1:PORT/ until Ctrl-C\n"
    "(exit 0), read-only, rendered from the database on each request:\n"
    "  /                   the history page (slmbench history; ?evalset=, ?candidate=),\n"
    "                      then every run, newest first, linking to its pages\n"
    "  /run/ID             the run's report (as report.html, without plots)\n"
    "  /run/ID/examples    its predictions example by example, filtered by class,\n"
    "                      correctness and confidence (as examples.html)\n"    "  /diff?a=ID&b=ID&candidate=NAME[&limit=N]   slmbench diff's page\n"
    "The URL is printed on stderr. The files `report --out DIR` writes hold the same\n"
    "pages; view spares regenerating them.\n";

typedef struct view_opts {
    const char *db, *bind;
    long port;
} view_opts;

#ifndef SLM_HAVE_MHD
static int serve(const view_opts *o)
{
    (void)o;
    return slm_die(SLM_EXIT_ENGINE, "this slmbench was built without libmicrohttpd: install "
                   "libmicrohttpd-dev (scripts/install-deps.sh does) and run make again; "
                   "`slmbench report RUN --out DIR` writes the same pages as files");
}
#else
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>

/* No network, no framing, no referrer: the pages are self-contained. */
static const char CSP[] = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                          "script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
                          "frame-ancestors 'none'";

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, slm_buf *body)
{
    size_t len = body->len;
    char *data = slm_buf_take(body);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, data ? data : "", data ? MHD_RESPMEM_MUST_FREE
                                                                    : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, "Allow", "GET, HEAD");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* A small page saying what went wrong (msg escaped). */
static enum MHD_Result fail(struct MHD_Connection *c, unsigned status, const char *msg)
{
    slm_buf b = {0};
    slm_html_page_open(&b);
    slm_buf_printf(&b, "<h1>%u</h1>\n<p>", status);
    slm_html_esc(&b, msg);
    slm_buf_puts(&b, "</p>\n<p><a href=\"/\">every run</a></p>\n");
    slm_html_page_close(&b);
    return respond(c, status, &b);
}

/* Inserts html into the page in b just after <body> (top) or before its last script (the
 * one slm_html_page_close writes). */
static void insert_html(slm_buf *b, const char *html, int top)
{
    const char *at = b->data ? strstr(b->data, top ? "<body>\n" : "<script>") : NULL;
    for (const char *q = at; !top && q; q = strstr(q + 1, "<script>"))
        at = q; /* the last: slm_html_page_close's */
    if (!at)
        return;
    size_t k = (size_t)(at - b->data) + (top ? 7 : 0);
    slm_buf out = {0};
    slm_buf_append(&out, b->data, k);
    slm_buf_puts(&out, html);
    slm_buf_append(&out, b->data + k, b->len - k);
    slm_buf_free(b);
    *b = out;
}

/* s percent-encoded for a query value (RFC 3986: unreserved characters kept). */
static void url_esc(slm_buf *out, const char *s)
{
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if ((*q >= '0' && *q <= '9') || ((*q | 32) >= 'a' && (*q | 32) <= 'z') ||
            strchr("-._~", *q))
            slm_buf_putc(out, (char)*q);
        else
            slm_buf_printf(out, "%%%02X", *q);
    }
}

/* Links to the pages of run r (facts of every run in all[0..n), oldest first): its report,
 * its examples and, per candidate name it shares with the previous run of the same eval
 * set, the diff against that run. */
static void run_row(slm_buf *out, const slm_run_facts *all, size_t i)
{
    const slm_run_facts *r = &all[i], *prev = NULL;
    for (size_t j = i; j-- > 0 && !prev && strcmp(r->mode ? r->mode : "", "load");)
        if (r->es_name && all[j].es_name && !strcmp(all[j].es_name, r->es_name) &&
            strcmp(all[j].mode ? all[j].mode : "", "load"))
            prev = &all[j];
    long long id = (long long)r->id;
    slm_buf_printf(out, "<tr><td class=\"r\"><a href=\"/run/%lld\">%lld</a></td>", id, id);
    const char *cells[] = {r->name, r->created, r->status, r->mode, r->es_name};
    for (size_t k = 0; k < 5; k++) {
        slm_buf_puts(out, "<td>");
        slm_html_esc(out, cells[k] ? cells[k] : "–");
        slm_buf_puts(out, "</td>");
    }
    slm_buf_printf(out, "<td><a href=\"/run/%lld/examples\">examples</a></td><td>", id);
    for (size_t k = 0, shown = 0; prev && k < r->nc; k++) {
        int shared = 0;
        for (size_t m = 0; m < prev->nc && !shared; m++)
            shared = !strcmp(prev->c[m].name, r->c[k].name);
        if (!shared)
            continue;
        slm_buf_printf(out, "%s<a href=\"/diff?a=%lld&amp;b=%lld&amp;candidate=", shown++ ? ", " : "",
                       (long long)prev->id, id);
        url_esc(out, r->c[k].name);
        slm_buf_puts(out, "\">");
        slm_html_esc(out, r->c[k].name);
        slm_buf_printf(out, " vs run %lld</a>", (long long)prev->id);
    }
    slm_buf_puts(out, "</td></tr>\n");
}

/* The table of every run, newest first, with the links of run_row, in a section
 * id="runs". */
static int run_table(slm_store *st, slm_buf *out, char *err, size_t errlen)
{
    int64_t *ids;
    size_t n;
    if (slm_store_run_ids(st, &ids, &n, err, errlen))
        return -1;
    slm_run_facts *all = slm_xcalloc(n + 1, sizeof *all);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = slm_store_run_facts(st, ids[i], &all[i], err, errlen);
    if (!rc) {
        slm_buf_printf(out, "<section id=\"runs\"><h2>Each run's pages</h2>\n<p>%zu runs, newest "
                            "first; a diff is against the previous run of the same eval set."
                            "</p>\n<div class=\"tw\"><table class=\"sortable\">\n<thead><tr>"
                            "<th class=\"r\">run</th><th>name</th><th>created</th><th>status"
                            "</th><th>mode</th><th>eval set</th><th>examples</th><th>diff"
                            "</th></tr></thead>\n<tbody>\n", n);
        for (size_t i = n; i-- > 0;)
            run_row(out, all, i);
        slm_buf_puts(out, "</tbody></table></div></section>\n");
    }
    for (size_t i = 0; i < n; i++)
        slm_run_facts_free(&all[i]);
    free(all);
    free(ids);
    return rc;
}

/* "/": the history page (slmbench history, filtered by ?evalset= and ?candidate=) with the
 * table of each run's pages after it. 0, 404 (nothing matches the filter), 500. */
static unsigned index_page(struct MHD_Connection *c, slm_store *st, slm_buf *out, char *err,
                           size_t errlen)
{
    slm_history_opts o = {
        .evalset = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "evalset"),
        .candidate = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "candidate"),
    };
    int hr = slm_history_html(st, &o, out, err, errlen);
    if (hr)
        return hr == 1 ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR;
    slm_buf runs = {0};
    if (run_table(st, &runs, err, errlen)) {
        slm_buf_free(&runs);
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    insert_html(out, "<nav><a href=\"#runs\">each run's report, examples and diff</a></nav>\n", 1);
    insert_html(out, runs.data, 0);
    slm_buf_free(&runs);
    return 0;
}

/* A positive run id or count in query argument name: 0 set (or absent and optional), 2 bad. */
static int query_long(struct MHD_Connection *c, const char *name, int required, long *v)
{
    const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    if (!s)
        return required ? 2 : 0;
    size_t len = strspn(s, "0123456789");
    if (!len || s[len] || len > 18)
        return 2;
    *v = strtol(s, NULL, 10);
    return *v > 0 ? 0 : 2;
}

/* "/diff?a=ID&b=ID[&candidate=NAME][&limit=N]": slmbench diff's page. 0, 400 a bad number,
 * 404 a run or candidate the database lacks, 500. */
static unsigned diff_page(struct MHD_Connection *c, slm_store *st, slm_buf *out, char *err,
                          size_t errlen)
{
    long a = 0, b = 0, limit = 0;
    if (query_long(c, "a", 1, &a) || query_long(c, "b", 1, &b) ||
        query_long(c, "limit", 0, &limit)) {
        slm_err(err, errlen, "/diff?a=RUN&b=RUN[&candidate=NAME][&limit=N]: a and b are run "
                "ids, limit a count (positive whole numbers)");
        return MHD_HTTP_BAD_REQUEST;
    }
    char ra[24], rb[24];
    snprintf(ra, sizeof ra, "%ld", a);
    snprintf(rb, sizeof rb, "%ld", b);
    slm_diff_opts o = {.run_a = ra, .run_b = rb, .limit = limit,
                       .candidate = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
                                                                "candidate")};
    int dr = slm_diff_html(st, &o, out, err, errlen);
    if (dr)
        return dr == 1 ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR;
    insert_html(out, "<nav><a href=\"/\">every run</a></nav>\n", 1);
    return 0;
}

/* The run id of "/run/ID" or "/run/ID/examples" (tail set to the rest): 0, 1 not such a
 * path (404), 2 ID is not a positive number (400). */
static int run_path(const char *url, int64_t *id, const char **tail)
{
    if (strncmp(url, "/run/", 5))
        return 1;
    const char *p = url + 5, *q = p;
    while (*q >= '0' && *q <= '9')
        q++;
    if (q == p || (*q && *q != '/') || q - p > 18)
        return 2;
    char *end;
    long long v = strtoll(p, &end, 10);
    if (v <= 0)
        return 2;
    *id = v;
    *tail = q;
    return 0;
}

/* Puts links to the run list and the run's other page after <body> of the page in b. */
static void add_nav(slm_buf *b, long long id, int examples)
{
    char nav[160];
    snprintf(nav, sizeof nav, "<nav><a href=\"/\">every run</a> · <a href=\"/run/%lld%s\">%s"
             "</a></nav>\n", id, examples ? "" : "/examples",
             examples ? "the run's report" : "its examples, one by one");
    insert_html(b, nav, 1);
}

/* The page of run id (tail "" the report, "/examples" the examples) into out: 0, 404 no
 * such run or page, 500 a database error; err says why. */
static unsigned run_page(slm_store *st, int64_t id, const char *tail, slm_buf *out, char *err,
                         size_t errlen)
{
    char mode[16];
    long long n = (long long)id;
    int examples = !strcmp(tail, "/examples");
    if (!examples && *tail) {
        slm_err(err, errlen, "no page '%s' for a run (/run/ID, /run/ID/examples)", tail);
        return MHD_HTTP_NOT_FOUND;
    }
    if (slm_load_run_mode(st, id, mode, sizeof mode, err, errlen))
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    if (!*mode) { /* the column is NOT NULL: no such run */
        slm_err(err, errlen, "no run %lld in this database", n);
        return MHD_HTTP_NOT_FOUND;
    }
    if (!examples && !strcmp(mode, "load")) {
        slm_err(err, errlen, "run %lld is a load test: its report, with its charts, is "
                "written by `slmbench report %lld --out DIR`", n, n);
        return MHD_HTTP_NOT_FOUND;
    }
    int bad = examples ? slm_examples_html(st, id, out, err, errlen)
                       : slm_report_html(st, &id, 1, NULL, 0, "Plots are drawn by `slmbench "
                                         "report RUN --out DIR`.", out, err, errlen);
    if (bad)
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    add_nav(out, n, examples);
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_len, void **state)
{
    slm_store *st = cls;
    char err[SLM_ERRLEN] = "";
    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
        return fail(c, MHD_HTTP_METHOD_NOT_ALLOWED, "slmbench view is read-only: GET only");
    if (strlen(url) > SLM_VIEW_MAX_PATH)
        return fail(c, MHD_HTTP_NOT_FOUND, "no such page");
    slm_buf b = {0};
    unsigned status = 0;
    int64_t id;
    const char *tail;
    if (!strcmp(url, "/")) {
        status = index_page(c, st, &b, err, sizeof err);
    } else if (!strcmp(url, "/diff")) {
        status = diff_page(c, st, &b, err, sizeof err);
    } else {
        int rp = run_path(url, &id, &tail);
        if (rp == 1)
            return fail(c, MHD_HTTP_NOT_FOUND, "no such page (/, /run/ID, /run/ID/examples, "
                        "/diff?a=RUN&b=RUN)");
        if (rp == 2)
            return fail(c, MHD_HTTP_BAD_REQUEST, "a run id is a positive whole number");
        status = run_page(st, id, tail, &b, err, sizeof err);
    }
    if (status) {
        slm_buf_free(&b);
        if (status == MHD_HTTP_INTERNAL_SERVER_ERROR)
            slm_say(stderr, "slmbench: error: %s %s: %s\n", method, url, err);
        return fail(c, status, err);
    }
    return respond(c, MHD_HTTP_OK, &b);
}

/* Serves until SIGINT, SIGTERM or SIGHUP: they are blocked while the server's thread is
 * created (so it never takes them) and awaited here with sigsuspend. */
static int serve(const view_opts *o)
{
    char err[SLM_ERRLEN];
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    if (inet_pton(AF_INET, o->bind, &addr.sin_addr) != 1)
        return slm_die(SLM_EXIT_USAGE, "--bind '%s' is not an IPv4 address (e.g. 127.0.0.1)",
                       o->bind);
    slm_store *st;
    if (slm_store_open_ro(o->db, &st, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    const volatile sig_atomic_t *stop = slm_cli_catch_stop();
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)o->port, NULL, NULL, on_request, st,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT, 64u,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    int rc = SLM_EXIT_OK;
    if (!d) {
        int e = errno;
        rc = slm_die(SLM_EXIT_ENGINE, "cannot serve on %s:%ld: %s (another port: --port N; "
                     "any free one: --port 0)", o->bind, o->port, e ? strerror(e) : "failed");
    } else {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        slm_say(stderr, "slmbench: serving %s read-only at http://%s:%u/ (Ctrl-C stops)\n",
                o->db, o->bind, di ? di->port : (unsigned)o->port);
        while (!*stop)
            sigsuspend(&old);
        MHD_stop_daemon(d);
        slm_say(stderr, "slmbench: stopped\n");
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    slm_store_close(st);
    return rc;
}
#endif

int cmd_view(int argc, char **argv)
{
    view_opts o = {.db = "slmbench.db", .bind = "127.0.0.1", .port = 8019};
    slm_opt opts[] = {
        SLM_OPT_DB(&o.db),
        {.name = "port", .arg = "N", .kind = SLM_OPT_LONG, .target = &o.port, .min = 0,
         .help = "the TCP port (default 8019); 0 picks a free one (printed)"},
        {.name = "bind", .arg = "ADDR", .kind = SLM_OPT_STR, .target = &o.bind,
         .help = "the IPv4 address to listen on (default 127.0.0.1: this machine only;\n"
                 "another exposes every stored run, model output included, to that network)"},
        {0},
    };
    const slm_cmd cmd = {.name = "view", .synopsis = "view", .about = ABOUT, .opts = opts};
    size_t np;
    int prc = slm_opts_parse(&cmd, argc, argv, 1, NULL, &np);
    if (prc != SLM_OPTS_GO)
        return prc;
    if (o.port > 65535)
        return slm_opts_usage_error(&cmd, "--port %ld is not a TCP port (0 to 65535)", o.port);
    return serve(&o);
}
