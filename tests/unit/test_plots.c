/*
 * test_plots.c — plots.c on a small database written with plain SQL: two runs, two
 * candidates each, three labels, one of them `a "quoted" & <odd>_label`. Checks that every
 * figure is drawn as SVG and PNG next to its data and script, that a figure without data
 * is skipped with its reason, and that when gnuplot is missing, fails or hangs the call
 * still succeeds, every figure says why it was skipped and no image is left behind.
 */
#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_int.h"
#include "plots.h"
#include "store.h"
#include "util.h"

#define ODD "a \"quoted\" & <odd>_label"

typedef struct fixture {
    char dir[64];
    char *db;
    slm_store *st;
} fixture;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void exec_ok(slm_store *st, const char *sql)
{
    char err[SLM_ERRLEN] = "";
    if (slm_store_exec(st, sql, err, sizeof err))
        fail_msg("%s: %s", sql, err);
}

/* One run with two candidates. Candidate A (id 10r+1) is accurate and slow, B (10r+2)
 * fast and less accurate, so both sit on the Pareto frontier; counters (IPC) only when
 * with_counters. */
static void add_run(slm_store *st, int run, int with_counters)
{
    char sql[4096];
    snprintf(sql, sizeof sql,
             "INSERT INTO runs (id, name, status, created_at, mode, config_text, config_sha256,"
             " harness_version) VALUES (%d, 'r%d', 'complete', '2026-01-01T00:00:00Z', "
             "'generate', '', '', 'test');"
             "INSERT INTO candidates (id, run_id, idx, name, engine, status) VALUES "
             "(%d, %d, 0, 'tiny_model-A', 'replay', 'ok'), (%d, %d, 1, 'B ''fast'' \\ @x', "
             "'replay', 'ok');",
             run, run, 10 * run + 1, run, 10 * run + 2, run);
    exec_ok(st, sql);
    const char *labels[] = {"pos", "neg", ODD};
    for (int k = 1; k <= 2; k++) {
        int cid = 10 * run + k;
        double acc = k == 1 ? 0.8 : 0.6, p95 = k == 1 ? 120.5 : 35.25;
        snprintf(sql, sizeof sql,
                 "INSERT INTO metrics (run_id, candidate_id, name, value, lo, hi) VALUES "
                 "(%d, %d, 'accuracy', %.17g, %.17g, %.17g), (%d, %d, 'e2e_ms_p95', %.17g, "
                 "NULL, NULL), (%d, %d, 'ece_15', 0.07, NULL, NULL), (%d, %d, 'aurc', 0.1, "
                 "NULL, NULL);",
                 run, cid, acc, acc - 0.1, acc + 0.08, run, cid, p95, run, cid, run, cid);
        exec_ok(st, sql);
        if (with_counters) {
            snprintf(sql, sizeof sql,
                     "INSERT INTO metrics (run_id, candidate_id, name, value) VALUES "
                     "(%d, %d, 'ipc', %.17g), (%d, %d, 'instructions_per_token', %.17g);",
                     run, cid, 1.5 + k, run, cid, 2.5e9 * k);
            exec_ok(st, sql);
        }
        /* per_class and confusion through bound statements: the odd label is data */
        sqlite3 *db = slm_store_db(st);
        sqlite3_stmt *pc, *cf;
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "INSERT INTO per_class (run_id, candidate_id, label,"
                                            " in_label_set, precision, recall, f1, support, "
                                            "predicted) VALUES (?,?,?,?,0.5,0.5,?,10,10)",
                                            -1, &pc, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "INSERT INTO confusion (run_id, candidate_id, gold, "
                                            "pred, count) VALUES (?,?,?,?,?)",
                                            -1, &cf, NULL),
                         SQLITE_OK);
        for (int g = 0; g < 4; g++) {
            const char *gl = g < 3 ? labels[g] : "<invalid>";
            sqlite3_reset(pc);
            sqlite3_bind_int(pc, 1, run);
            sqlite3_bind_int(pc, 2, cid);
            sqlite3_bind_text(pc, 3, gl, -1, SQLITE_STATIC);
            sqlite3_bind_int(pc, 4, g < 3);
            if (g < 3)
                sqlite3_bind_double(pc, 5, 0.3 + 0.2 * g + 0.1 * k);
            else
                sqlite3_bind_null(pc, 5);
            assert_int_equal(sqlite3_step(pc), SQLITE_DONE);
            for (int p = 0; p < 4 && g < 3; p++) {
                int n = g == p ? 8 + k : (p == 3 ? k - 1 : 1);
                if (!n)
                    continue;
                sqlite3_reset(cf);
                sqlite3_bind_int(cf, 1, run);
                sqlite3_bind_int(cf, 2, cid);
                sqlite3_bind_text(cf, 3, gl, -1, SQLITE_STATIC);
                sqlite3_bind_text(cf, 4, p < 3 ? labels[p] : "<invalid>", -1, SQLITE_STATIC);
                sqlite3_bind_int(cf, 5, n);
                assert_int_equal(sqlite3_step(cf), SQLITE_DONE);
            }
        }
        sqlite3_finalize(pc);
        sqlite3_finalize(cf);
        /* 15 equal-width bins, filled from 0.4 upwards */
        for (int b = 1; b <= 15; b++) {
            if (b < 6)
                snprintf(sql, sizeof sql,
                         "INSERT INTO reliability VALUES (%d, %d, 'width', %d, 0, NULL, NULL);",
                         run, cid, b);
            else
                snprintf(sql, sizeof sql,
                         "INSERT INTO reliability VALUES (%d, %d, 'width', %d, %d, %.17g, "
                         "%.17g);",
                         run, cid, b, 3 + b, (b - 0.5) / 15.0, (b - 0.5) / 15.0 - 0.05 * k);
            exec_ok(st, sql);
        }
        /* predictions (latencies) and a risk-coverage curve */
        for (int e = 0; e < 40; e++) {
            snprintf(sql, sizeof sql,
                     "INSERT INTO predictions (run_id, candidate_id, example_idx, example_id, "
                     "gold, pred, correct, valid, e2e_ms) VALUES (%d, %d, %d, 'e%d', 'pos', "
                     "'pos', 1, 1, %.17g);",
                     run, cid, e, e, (k == 1 ? 60.0 : 20.0) + 1.7 * e + (e % 7) * 3.1);
            exec_ok(st, sql);
            snprintf(sql, sizeof sql,
                     "INSERT INTO curves VALUES (%d, %d, 'risk_coverage', %d, %.17g, %.17g, "
                     "%.17g);",
                     run, cid, e, (e + 1) / 40.0, 0.1 * k * (e + 1) / 40.0, 1.0 - e / 40.0);
            exec_ok(st, sql);
        }
    }
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    strcpy(fx->dir, "/tmp/slm-plots-XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    fx->db = slm_xasprintf("%s/results.db", fx->dir);
    char err[SLM_ERRLEN] = "";
    if (slm_store_open(fx->db, 1, &fx->st, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    add_run(fx->st, 1, 0);
    add_run(fx->st, 2, 1);
    unsetenv("SLM_GNUPLOT");
    unsetenv("SLM_GNUPLOT_TIMEOUT_S");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    slm_store_close(fx->st);
    /* SLM_TEST_KEEP=1 keeps the folder, to look at the figures */
    const char *keep = getenv("SLM_TEST_KEEP");
    if (keep && *keep)
        fprintf(stderr, "kept %s\n", fx->dir);
    else
        nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(fx->db);
    free(fx);
    unsetenv("SLM_GNUPLOT");
    unsetenv("SLM_GNUPLOT_TIMEOUT_S");
    return 0;
}

static int have_gnuplot(void)
{
    return system("gnuplot --version >/dev/null 2>&1") == 0;
}

static char *path_in(const fixture *fx, const char *rel)
{
    return slm_xasprintf("%s/%s", fx->dir, rel);
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static const slm_plot *find_plot(const slm_plots_result *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->plots[i].name, name))
            return &r->plots[i];
    fail_msg("no plot '%s' in the result", name);
    return NULL;
}

static void assert_drawn(const fixture *fx, const slm_plot *p)
{
    if (p->skipped)
        fail_msg("%s skipped: %s", p->name, p->skipped);
    const char *files[] = {p->svg, p->png, p->data, p->script};
    for (size_t i = 0; i < 4; i++) {
        assert_non_null(files[i]);
        assert_true(!strncmp(files[i], "plots/", 6));
        char *f = path_in(fx, files[i]);
        if (file_size(f) <= 0)
            fail_msg("%s is missing or empty", f);
        free(f);
    }
    char *png = path_in(fx, p->png);
    FILE *f = fopen(png, "rb");
    assert_non_null(f);
    unsigned char sig[8] = {0};
    assert_int_equal(fread(sig, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    free(png);
    char *svg = path_in(fx, p->svg), *text = NULL;
    size_t len;
    char err[SLM_ERRLEN];
    assert_int_equal(slm_read_file(svg, &text, &len, err, sizeof err), 0);
    assert_non_null(strstr(text, "<svg"));
    assert_non_null(strstr(text, "</svg>"));
    free(text);
    free(svg);
    assert_non_null(p->caption);
    assert_true(strlen(p->caption) > 0);
}

/* Counts the .svg and .png files in <dir>/plots. */
static int count_images(const fixture *fx)
{
    char *d = path_in(fx, "plots");
    DIR *dir = opendir(d);
    free(d);
    if (!dir)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t l = strlen(e->d_name);
        if (l > 4 && (!strcmp(e->d_name + l - 4, ".svg") || !strcmp(e->d_name + l - 4, ".png")))
            n++;
    }
    closedir(dir);
    return n;
}

static void one_run_every_plot(void **state)
{
    fixture *fx = *state;
    if (!have_gnuplot())
        skip();
    int64_t run = 1;
    slm_plots_result r;
    char err[SLM_ERRLEN] = "";
    if (slm_plots_write(fx->st, &run, 1, fx->dir, &r, err, sizeof err))
        fail_msg("%s", err);
    const char *drawn[] = {"accuracy_latency", "reliability", "latency_cdf", "confusion_1",
                           "confusion_2", "per_class_f1", "risk_coverage"};
    for (size_t i = 0; i < sizeof drawn / sizeof drawn[0]; i++)
        assert_drawn(fx, find_plot(&r, drawn[i]));
    assert_int_equal(r.n_drawn, 7);
    assert_int_equal(r.n, 8);
    const slm_plot *c = find_plot(&r, "counters");
    assert_non_null(c->skipped);
    assert_non_null(strstr(c->skipped, "no hardware counters measured"));
    assert_null(c->svg);
    assert_null(c->png);

    /* the odd label reaches the script exactly (gnuplot single quotes) and the data file
     * in double quotes without an inner '"'; numbers use '.' */
    char *gp = path_in(fx, "plots/confusion_1.gp"), *dat = path_in(fx, "plots/confusion_1.dat");
    char *text = NULL;
    size_t len;
    assert_int_equal(slm_read_file(gp, &text, &len, err, sizeof err), 0);
    assert_non_null(strstr(text, "'" ODD "'"));
    assert_non_null(strstr(text, "noenhanced"));
    free(text);
    assert_int_equal(slm_read_file(dat, &text, &len, err, sizeof err), 0);
    assert_non_null(strstr(text, "\"a 'quoted' & <odd>_label\""));
    free(text);
    free(gp);
    free(dat);
    char *al = path_in(fx, "plots/accuracy_latency.dat");
    assert_int_equal(slm_read_file(al, &text, &len, err, sizeof err), 0);
    assert_non_null(strstr(text, "35.25 0.6 "));
    assert_non_null(strstr(text, "120.5 0.8 "));
    free(text);
    free(al);
    slm_plots_result_free(&r);
    slm_plots_result_free(&r); /* emptied: a second free is harmless */
    slm_plots_result_free(NULL);
}

static void two_runs_label_and_counters(void **state)
{
    fixture *fx = *state;
    if (!have_gnuplot())
        skip();
    int64_t runs[] = {1, 2};
    slm_plots_result r;
    char err[SLM_ERRLEN] = "";
    if (slm_plots_write(fx->st, runs, 2, fx->dir, &r, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(r.n, 10); /* 6 figures + 4 confusion matrices */
    assert_int_equal(r.n_drawn, 10);
    assert_drawn(fx, find_plot(&r, "counters"));
    assert_drawn(fx, find_plot(&r, "confusion_4"));
    char *gp = path_in(fx, "plots/latency_cdf.gp"), *text = NULL;
    size_t len;
    assert_int_equal(slm_read_file(gp, &text, &len, err, sizeof err), 0);
    assert_non_null(strstr(text, "'1:tiny_model-A'"));
    assert_non_null(strstr(text, "'2:B ''fast'' \\ @x'"));
    free(text);
    free(gp);
    slm_plots_result_free(&r);
}

static void missing_gnuplot_skips_everything(void **state)
{
    fixture *fx = *state;
    /* an earlier image of the same name must not survive either */
    char *d = path_in(fx, "plots"), *old = path_in(fx, "plots/reliability.png");
    char err[SLM_ERRLEN] = "";
    assert_int_equal(slm_mkdir_p(d, err, sizeof err), 0);
    assert_int_equal(slm_write_file_atomic(old, "x", 1, err, sizeof err), 0);
    free(d);
    free(old);
    setenv("SLM_GNUPLOT", "/nonexistent", 1);
    int64_t runs[] = {1, 2};
    slm_plots_result r;
    assert_int_equal(slm_plots_write(fx->st, runs, 2, fx->dir, &r, err, sizeof err), 0);
    assert_int_equal(r.n, 10);
    assert_int_equal(r.n_drawn, 0);
    for (size_t i = 0; i < r.n; i++) {
        const slm_plot *p = &r.plots[i];
        assert_non_null(p->skipped);
        if (!strstr(p->skipped, "gnuplot-nox"))
            fail_msg("%s: reason '%s' does not name gnuplot-nox", p->name, p->skipped);
        assert_null(p->svg);
        assert_null(p->png);
        /* the data and the script stay, to draw later */
        assert_non_null(p->data);
        char *f = path_in(fx, p->data);
        assert_true(file_size(f) > 0);
        free(f);
    }
    assert_int_equal(count_images(fx), 0);
    slm_plots_result_free(&r);
}

/* A gnuplot that writes half an SVG, then fails, or (for accuracy_latency.gp) hangs. */
static void failing_or_hanging_gnuplot(void **state)
{
    fixture *fx = *state;
    char *fake = path_in(fx, "fake-gnuplot");
    const char *sh = "#!/bin/sh\n"
                     "out=${1%.gp}\n"
                     "printf '<svg' > \"$out.svg\"\n"
                     "if [ \"$1\" = accuracy_latency.gp ]; then sleep 30; fi\n"
                     "echo \"\\\"$1\\\" line 3: boom\" >&2\n"
                     "exit 3\n";
    char err[SLM_ERRLEN] = "";
    assert_int_equal(slm_write_file_atomic(fake, sh, strlen(sh), err, sizeof err), 0);
    assert_int_equal(chmod(fake, 0755), 0);
    setenv("SLM_GNUPLOT", fake, 1);
    setenv("SLM_GNUPLOT_TIMEOUT_S", "1", 1);
    int64_t run = 1;
    slm_plots_result r;
    double t0 = slm_now_ms();
    assert_int_equal(slm_plots_write(fx->st, &run, 1, fx->dir, &r, err, sizeof err), 0);
    assert_true(slm_now_ms() - t0 < 10000);
    assert_int_equal(r.n_drawn, 0);
    for (size_t i = 0; i < r.n; i++) {
        const slm_plot *p = &r.plots[i];
        assert_non_null(p->skipped);
        if (!strcmp(p->name, "accuracy_latency"))
            assert_non_null(strstr(p->skipped, "within 1 s"));
        else if (strcmp(p->name, "counters"))
            if (!strstr(p->skipped, "(exit 3): \"") || !strstr(p->skipped, "line 3: boom"))
                fail_msg("%s: reason '%s'", p->name, p->skipped);
    }
    assert_int_equal(count_images(fx), 0);
    slm_plots_result_free(&r);
    free(fake);
}

static void no_candidates(void **state)
{
    fixture *fx = *state;
    int64_t run = 99;
    slm_plots_result r;
    char err[SLM_ERRLEN] = "";
    assert_int_equal(slm_plots_write(fx->st, &run, 1, fx->dir, &r, err, sizeof err), 0);
    assert_true(r.n > 0);
    assert_int_equal(r.n_drawn, 0);
    for (size_t i = 0; i < r.n; i++)
        assert_non_null(r.plots[i].skipped);
    slm_plots_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(one_run_every_plot, setup, teardown),
        cmocka_unit_test_setup_teardown(two_runs_label_and_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_gnuplot_skips_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(failing_or_hanging_gnuplot, setup, teardown),
        cmocka_unit_test_setup_teardown(no_candidates, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
