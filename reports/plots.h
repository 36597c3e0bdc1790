/*
 * plots.h — figures of stored runs, drawn by the external gnuplot program.
 *
 * For every figure slm_plots_write() leaves three files in <outdir>/plots/ that a user can
 * take away and restyle: <name>.dat (the numbers, whitespace-separated, a commented header
 * line, '.' as the decimal separator, labels in double quotes with any '"' in them shown
 * as '\''), <name>.gp (a gnuplot script that reads the .dat and writes both images; run
 * `gnuplot <name>.gp` inside plots/ to redraw) and, when gnuplot ran, <name>.svg and
 * <name>.png. The figures, by name:
 *
 *   accuracy_latency   accuracy against e2e_ms_p95, one labelled point per candidate, the
 *                      Pareto frontier (higher accuracy, lower latency) drawn and marked
 *   reliability        one reliability diagram per candidate (equal-width bins)
 *   latency_cdf        empirical CDF of the per-example end-to-end latency
 *   confusion_<k>      confusion-matrix heatmap of the k-th candidate (1-based, in the
 *                      order of run_ids, then of the candidates in each run), counts in
 *                      the cells; above SLM_HEATMAP_MAX_FULL_LABELS labels the
 *                      sub-matrix of the labels of its largest confusions, followed by
 *   confusion_<k>_full the whole matrix, shaded only (drawn only above that many labels)
 *   per_class_f1       per-class F1, horizontal bars, one per candidate, the labels
 *                      sorted by their mean F1 (lowest at the top), height sized to them
 *   risk_coverage      risk-coverage curves of selective prediction
 *   counters           instructions per token and IPC (hardware counters)
 *
 * Candidates are named by their name, or "run:name" when several runs are drawn.
 *
 * Environment: SLM_GNUPLOT names the gnuplot program (default "gnuplot", looked up in
 * PATH); SLM_GNUPLOT_TIMEOUT_S the seconds one figure may take (default 30) before
 * gnuplot is killed.
 */
#ifndef SLM_PLOTS_H
#define SLM_PLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

/* One figure, drawn or skipped. Paths are relative to the outdir given to
 * slm_plots_write() ("plots/reliability.svg"), so a report written in outdir can link
 * them as they are. */
typedef struct slm_plot {
    char *name;     /* file stem: "accuracy_latency", "confusion_2", ... */
    char *caption;  /* one sentence saying what the figure shows, for the report */
    char *svg;      /* the SVG image; NULL when skipped */
    char *png;      /* the PNG image; NULL when skipped */
    char *data;     /* the .dat file; NULL when there was nothing to write */
    char *script;   /* the .gp script; NULL when there was nothing to write */
    char *skipped;  /* NULL when drawn; otherwise why not (one lowercase line) */
} slm_plot;

typedef struct slm_plots_result {
    slm_plot *plots;  /* in the order listed above */
    size_t n;
    size_t n_drawn;   /* entries with skipped == NULL */
} slm_plots_result;

/* Writes the figures of the given runs into <outdir>/plots/ (created if missing) and
 * describes them in *res, which the caller frees with slm_plots_result_free().
 *
 * Returns 0 when every figure was drawn or skipped with a reason: a figure whose data is
 * absent (no counters measured, no predictions...) is skipped, and so is every figure
 * when gnuplot cannot be run or fails, so that the caller still writes its report and
 * quotes the reasons. When gnuplot fails or runs out of time no .svg/.png of that figure
 * is left behind. Returns -1 with err filled only when the database cannot be read or
 * the folder or a data file cannot be written; *res is then empty. */
int slm_plots_write(slm_store *st, const int64_t *run_ids, size_t n_runs, const char *outdir,
                    slm_plots_result *res, char *err, size_t errlen);

/* Frees what slm_plots_write() put in res and empties it; NULL-safe. */
void slm_plots_result_free(slm_plots_result *res);

/* Runs the gnuplot program (SLM_GNUPLOT, timeout SLM_GNUPLOT_TIMEOUT_S, as above) on
 * script_name inside dir, the way every figure of slm_plots_write() is drawn: own process
 * group, stdin/stdout on /dev/null, LC_NUMERIC=C, killed at the deadline. Returns 0 when
 * gnuplot exited with status 0; -1 when it failed or ran out of time; -2 when it could not
 * be started at all (not installed): then every later call would fail the same way.
 * On failure reason (n bytes) holds one lowercase line saying why. Checking that the
 * images exist is the caller's. */
int slm_gnuplot_run(const char *dir, const char *script_name, char *reason, size_t n);

/* One more figure drawn exactly as those of slm_plots_write() (for sections that draw
 * their own, such as the load test's, reports/load_report.c): writes <dir>/<name>.dat
 * (dat) and <dir>/<name>.gp (the common prologue: encoding, the ten line colours, both
 * terminals; then body, run once per terminal), runs gnuplot in dir and appends the entry
 * to res (n_drawn counted). *gp_missing (NULL at first; the caller frees it) is set once
 * gnuplot could not be started, and every later figure is then skipped with that reason
 * without trying. dat and body are consumed. Returns -1 with err only when a file cannot
 * be written. */
int slm_plot_emit(const char *dir, slm_plots_result *res, char **gp_missing, const char *name,
                  const char *caption, slm_buf *dat, slm_buf *body, int w, int h, char *err,
                  size_t errlen);

/* Appends a skipped entry (why: one lowercase line) to res and removes any old image of
 * that name from dir. */
void slm_plot_skip(const char *dir, slm_plots_result *res, const char *name, const char *caption,
                   const char *why);

#endif
