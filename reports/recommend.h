/*
 * recommend.h — the first screen of a run: the recommendation in one sentence (which
 * candidate, why, what it trades), the measurement warnings that make latency
 * untrustworthy, the host as readable facts, and the "### Recommendation" section that
 * says why each other candidate was not picked. The Markdown report, the terminal summary
 * of `run` and `report.json` all say the same thing from here.
 *
 * The rule (slm_rec_decide), on the stored numbers of one run:
 * - Accuracy ties: a candidate whose accuracy is not significantly below the best's (the
 *   run's paired McNemar test against the best, Holm-adjusted over every pair, p ≥ 0.05;
 *   analysis.h) is as accurate as the best. Without stored comparisons only equal
 *   accuracies tie.
 * - Latency ties: "faster" means measurably faster (latpairs.h); a difference within the
 *   measured noise is a tie.
 * - The pick: among the candidates that meet the requirements (status ok, accuracy ≥
 *   min_accuracy, ECE ≤ max_ece, p95 ≤ max_p95_ms), those as accurate as the most
 *   accurate of them; of these, one that no other is measurably faster than; then the
 *   higher accuracy on these examples; then config order.
 * - None qualifies: the closest candidate is the one missing the fewest requirements, then
 *   the smallest relative shortfall summed over them ((limit − accuracy)/limit, (ECE −
 *   limit)/limit, (p95 − limit)/limit); then config order.
 * - The front (shown per candidate) is the accuracy–p95 Pareto front (pareto.h) of the
 *   candidates with results, accuracy ties counted as equal accuracy.
 */
#ifndef SLM_RECOMMEND_H
#define SLM_RECOMMEND_H

#include <jansson.h>
#include <stddef.h>

#include "store.h"
#include "store_reports.h"
#include "util.h"

/* A McNemar Holm p at or above this is a tie on accuracy. */
#define SLM_REC_ALPHA 0.05

/* The numbers the rule reads (filled by slm_rec_load or by hand in tests) and what it
 * decides. Arrays have n entries; faster n * n ([j * n + i]: j measurably faster than i). */
typedef struct slm_rec {
    size_t n;
    double min_acc, max_ece, max_p95; /* requirements, NaN when not set */
    double *acc, *acc_lo, *acc_hi, *p95, *ece;
    double *p_holm;         /* McNemar p against the best, Holm-adjusted; NaN: not tested */
    int *ok;                /* status ok */
    unsigned char *faster;
    long best;              /* the comparisons' baseline (most accurate), -1: none stored */
    /* measurement conditions, per candidate (NaN unknown) and of the run */
    double *load, *steal, *noisy;
    double cpus, turn;      /* online CPUs; examples per turn (0 sequential), NaN unknown */
    char note[512];         /* how "faster" was decided (latpairs.h) */
    /* decided by slm_rec_decide */
    int *tie;               /* as accurate as the best (not significantly below it) */
    int *front, *meets;
    long top;               /* the most accurate candidate with results, -1 none */
    long pick;              /* -1: none qualifies */
    long closest;           /* when pick < 0: the candidate nearest the requirements, or -1 */
} slm_rec;

/* Allocates the input arrays of n candidates (NaN, 0), requirements unset, best -1. */
void slm_rec_init(slm_rec *x, size_t n);
void slm_rec_free(slm_rec *x);

/* The rule above: fills tie, front, meets, top, pick, closest (p_holm read against best;
 * where best is -1, top stands for it and only equal accuracies tie). */
void slm_rec_decide(slm_rec *x);

/* Reads run r's numbers, requirements, comparisons and conditions, and decides. */
void slm_rec_load(slm_store *st, const slm_run_facts *r, slm_rec *x);

/* How a sentence is written: Markdown (names escaped, **bold**) or terminal text (names
 * with control characters escaped). */
enum { SLM_REC_MD, SLM_REC_TEXT };

/* The recommendation in one sentence ("Pick X: ..." or "No candidate qualifies: ..."),
 * names taken from r. */
void slm_rec_sentence(const slm_rec *x, const slm_run_facts *r, int fmt, slm_buf *b);

/* The measurement warnings, each a paragraph (md) or a "warning: " line (text); nothing
 * when the measurement was quiet. Returns how many. */
size_t slm_rec_warnings(const slm_rec *x, const slm_run_facts *r, int fmt, slm_buf *b);

/* The first screen of a run in the Markdown report: the sentence, then the warnings. */
void slm_recommend_top_md(slm_store *st, const slm_run_facts *r, slm_buf *b);

/* The "### Recommendation" section of run r (nothing when it has no candidate). */
void slm_recommend_md(slm_store *st, const slm_run_facts *r, slm_buf *b);

/* The same for a terminal: the sentence and the warnings, one line each. */
void slm_recommend_text(slm_store *st, const slm_run_facts *r, slm_buf *b);

/* The `recommendation` object of report.json: pick, reason, ties, closest, warnings. */
json_t *slm_recommend_json(slm_store *st, const slm_run_facts *r);

/* The run's measurement conditions in one line: "load average up to 2.10 on 2 CPUs · CPU
 * steal up to 0.3% · candidates interleaved in turns of 2". */
void slm_recommend_conditions(slm_store *st, const slm_run_facts *r, slm_buf *b);

/* The stored host fingerprint (runs.host_json) as readable facts: "AMD EPYC · 2 CPUs ·
 * 23.5 GiB memory · Linux 6.1.0 (x86_64) · host vm"; keys it does not know are added as
 * "key value"; text that is not a JSON object is shown as it is. fmt as above. */
void slm_host_facts(const char *host_json, int fmt, slm_buf *b);

#endif
