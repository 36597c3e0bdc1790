/*
 * slm_limits.h — every size limit of slmbench, in one place (README "Limits" has the table).
 *
 * Each limit says what it bounds, why this value, and what happens at it. "Bad input"
 * means a clear error naming the file and line (or the option) and exit 3, before any
 * model loads; an engine's limit fails that request (stored as an error, exit 4). Nothing
 * grows without bound: the inputs are read whole, so a file-size limit also bounds the
 * memory a load takes (about twice the file).
 *
 * The engine plugins include this header too (they are built in-tree); an engine option
 * that may raise a limit has its default and its maximum here. Only constants live here.
 *
 * Named slm_limits.h, not limits.h: harness/common is on the include path, and a
 * "limits.h" there would hide the C library's <limits.h> (INT_MAX) from every file.
 */
#ifndef SLM_LIMITS_H
#define SLM_LIMITS_H

/* ---- eval sets (harness/input/evalset.c) ---- */

/* Largest id, text or label of one row, in bytes. A prompt that size is a mistake and would
 * blow any small model's context anyway. Over it: a bad row ("file:line: field 'text' is N
 * bytes, more than the limit of 1048576"; skipped with skip_bad_rows). */
#define SLM_MAX_FIELD_BYTES (1u << 20)

/* Largest row: a CSV record (all its fields, other columns included) or a JSON line, in
 * bytes. Room for the three largest fields and a few columns more. Over it: a bad row
 * ("file:line: row is N bytes, more than the limit of 4194304"); a JSON line that long is
 * refused before it is parsed. */
#define SLM_MAX_ROW_BYTES (4u << 20)

/* Most rows of one split file (the header and blank lines not counted; skipped rows
 * counted). Users have tens of thousands of examples; this leaves a factor 20 above the
 * largest public classification sets. Over it: bad input ("file:line: more than 1000000
 * rows, the limit of one split file"), never skipped. */
#define SLM_MAX_ROWS 1000000L

/* Bad rows that `evalsets check` names one by one, per file; the others are counted ("...
 * and N more bad rows"). Enough to see every kind of mistake in a file, few enough to read;
 * a file with thousands of bad rows is usually one mistake (a wrong column, a wrong label
 * set) that the first rows show. */
#define SLM_MAX_REPORTED_BAD_ROWS 50

/* Largest split file, in bytes, checked before it is read. A million rows of a kilobyte.
 * Over it: bad input ("file: N bytes, more than the limit of 1073741824 for a split file"). */
#define SLM_MAX_SPLIT_FILE_BYTES (1L << 30)

/* Most labels of a classification eval set (and values of one enum field of a structured
 * one). clinc150 has 150; every label is scored for every example, so ten thousand is
 * already a very slow run. Over it: bad input at the label list's line. */
#define SLM_MAX_LABELS 10000L

/* Longest label (or enum value) in evalset.yaml, in bytes. A label is a few words that the
 * model scores token by token; the bound keeps the {{labels}} list of a prompt within
 * SLM_MAX_LABELS * (SLM_MAX_LABEL_BYTES + 2), 2.5 MiB. Over it: bad input at its line. */
#define SLM_MAX_LABEL_BYTES 256L

/* Most distinct labels `slmbench quick` accepts in a guessed or named label column
 * (harness/input/quickdata.c). A column with more is far likelier an id or a text column
 * than a label set a small model classifies (banking77 has 77, clinc150 151); a real set
 * that large is written as an eval set by hand (SLM_MAX_LABELS). Over it: bad input naming
 * the column and suggesting --label. */
#define SLM_QUICK_MAX_LABELS 200L

/* Largest prompt template file, in bytes. Small models have contexts of a few thousand to
 * 32k tokens (about 128 KiB of text); twice that leaves room for long few-shot prompts.
 * Over it: bad input ("file: N bytes, more than the limit of 262144 for a prompt
 * template"). */
#define SLM_MAX_TEMPLATE_BYTES (256L << 10)

/* Most placeholders ({{text}}, {{labels}}, {{id}}) in one template. With the limits above a
 * rendered prompt stays under SLM_MAX_TEMPLATE_BYTES + 8 * 2.5 MiB (about 21 MiB; few_shot,
 * at most 64, puts up to that many more in front). Over it: bad input at the placeholder's
 * line ("prompt.txt:3: more than 8 placeholders, the limit of a template"). */
#define SLM_MAX_TEMPLATE_PLACEHOLDERS 8

/* ---- YAML: run configs and evalset.yaml (harness/input/yamltree.c, config.c) ---- */

/* Largest YAML file, in bytes, checked before it is read: ten thousand labels of 256 bytes
 * fit with room to spare. Over it: bad input ("file: N bytes, more than the limit of
 * 4194304 for a YAML file"). */
#define SLM_MAX_YAML_BYTES (4L << 20)

/* Deepest nesting of sequences and mappings. The tree is built (and freed) by recursion,
 * one C frame or two per level, so a hostile "[[[[..." of some ten thousand levels would
 * overflow the stack; no config or eval set comes near this. Over it: bad input
 * ("file:line: nested deeper than 64 levels"). */
#define SLM_MAX_YAML_DEPTH 64

/* Most keys of one YAML mapping. A config has a few dozen; engine options a few more.
 * Over it: bad input ("file:line: more than 10000 keys in one mapping (the limit)"). */
#define SLM_MAX_YAML_KEYS 10000L

/* Most nodes (scalars, sequences, mappings) of one YAML document: ten thousand labels and
 * fields with their values fit. Over it: bad input ("file:line: more than 100000 YAML
 * nodes in one document (the limit)"). */
#define SLM_MAX_YAML_NODES 100000L

/* Most candidates of one run config. Every candidate evaluates every example. Over it: bad
 * input at the candidate's line. */
#define SLM_MAX_CANDIDATES 256L

/* Most threads and most concurrent requests a candidate may ask for (candidates[].threads,
 * candidates[].concurrency, openai's concurrency). Over it: bad input at the key's line. */
#define SLM_MAX_THREADS 1024L
#define SLM_MAX_CONCURRENCY 1024L

/* ---- engines ---- */

/* openai: the most bytes of one answer's body, streamed or not, unless the option
 * max_response_bytes says otherwise (between MIN and MAX). Over it: the request fails
 * ("response too large: more than N bytes (max_response_bytes N)"), never retried; the
 * transfer stops at once, so each connection holds at most this much. */
#define SLM_OPENAI_DEFAULT_MAX_RESPONSE_BYTES (8L << 20)
#define SLM_OPENAI_MIN_MAX_RESPONSE_BYTES 1024L
#define SLM_OPENAI_MAX_MAX_RESPONSE_BYTES (1L << 30)

/* openai: the most retries of one request (option retries). */
#define SLM_OPENAI_MAX_RETRIES 100L

/* openai, a traced request of generate_many() (ABI 1.6): the most inter-token gaps kept
 * of one streamed answer (the first ones; later content events are not timed), and the
 * most bytes of the server's request id kept (x-request-id or the answer's "id", cut). */
#define SLM_OPENAI_MAX_TRACE_GAPS 65536
#define SLM_OPENAI_MAX_REQUEST_ID_BYTES 128

/* exec: the longest answer line the program may write, in bytes, its newline not counted.
 * Over it: the request fails ("program 'x' sent a line longer than 67108864 bytes") and the
 * program is restarted. */
#define SLM_EXEC_MAX_LINE_BYTES (64u << 20)

/* exec and openai: most JSON values (scalars, arrays, objects, keys) in one JSON text they
 * parse (an answer's body, one event of a stream, one line of exec's program), counted
 * from its '[', '{', ',' and ':' before parsing. jansson spends up to 120 bytes per value so
 * counted ("{},{},..."; an empty array costs 136 bytes and counts twice), so a body of
 * "[],[],..." costs 45 times its size: 7 MiB of it took 340 MiB. Half a million leave
 * room for the logprobs of an echoed prompt of 80,000 tokens and bound one parse's nodes
 * to about 60 MiB. Over it:
 * the answer is malformed ("malformed json from the server at byte N: more than 500000
 * JSON values (the limit)"; exec: "program 'x' answered 'id' with malformed json - more
 * than 500000 JSON values (the limit): '...'"). */
#define SLM_PLUGIN_JSON_MAX_VALUES 500000L

/* llamacpp: most prompts score_batch() evaluates side by side (option n_parallel), and
 * most sequences of a context (option n_seq_max; llama.cpp's LLAMA_MAX_SEQ). Over them:
 * the option is refused with the config's line (exit 3). */
#define SLM_LLAMA_MAX_N_PARALLEL 128
#define SLM_LLAMA_MAX_N_SEQ 256

/* tests/server/slm_test_server --slots: most inference slots, each an engine handle of its
 * own (a context and --threads threads; the weights are mapped, so shared). Past the
 * server's 64 connections a slot could never be used. Over it: a usage error (exit 2). */
#define SLM_TEST_SERVER_MAX_SLOTS 64

/* ---- production logs (slmbench ingest: harness/input/prodlog.c) ---- */

/* Longest line of a production log (a JSON line, or one physical line of CSV), in bytes,
 * its newline not counted. The reader never holds more than this of a line: a 2 GB line
 * is read through, not into memory. Over it: a bad row ("file:line: line longer than
 * 4194304 bytes (the limit)"), skipped with --skip-bad-rows. */
#define SLM_PROD_MAX_LINE_BYTES (4L << 20)

/* Largest text of one row, in bytes (as eval sets' fields). Over it: a bad row
 * ("file:line: field 'text' is N bytes, more than the limit of 1048576"). */
#define SLM_PROD_MAX_TEXT_BYTES (1L << 20)

/* Longest id, pred, corrected_label, model, and any label of probs, in bytes. Ids and
 * labels are short names; a label longer than an eval set's (256) cannot be in its set.
 * Over it: a bad row naming the field. */
#define SLM_PROD_MAX_NAME_BYTES 256L

/* Most labels in one row's probs (as eval sets' labels), and most extra fields (tags) of
 * one row. Over them: a bad row. */
#define SLM_PROD_MAX_PROBS 10000L
#define SLM_PROD_MAX_TAGS 256L

/* Largest tags object of one row, as JSON text, in bytes. Over it: a bad row. */
#define SLM_PROD_MAX_TAGS_BYTES (64L << 10)

/* Rows per transaction of an ingest: each batch is committed with the ingest's counts, so
 * kill -9 loses at most one batch, which the rerun adds (every stored row is skipped). */
#define SLM_PROD_BATCH_ROWS 5000L

/* Most columns of a CSV production log (its header). Over it: bad input at line 1. */
#define SLM_PROD_MAX_COLUMNS 10256L

/* Most months one production review (drift --deployment) spans: each month holds its
 * rows in memory while it is reviewed, and the report has a section per month. Over it:
 * bad input naming the window. */
#define SLM_PROD_MAX_MONTHS 120

/* Largest audit sample (`slmbench sample --n`). Over it: a usage error. */
#define SLM_SAMPLE_MAX_N 1000000L

/* ---- reports (reports/report_classes.c) ---- */

/* Most labels whose full per-class table and confusion matrix the Markdown report
 * (report.md, the one for pull-request comments) writes. Above it the report gives each
 * candidate's worst classes and largest confusions instead, so that 150 labels x 3
 * candidates stays far below GitHub's 65,536-character comment limit (a 151 x 151 matrix
 * alone is 70 KB); every row is still in per_class.csv, report.html and report.json. */
#define SLM_REPORT_MAX_FULL_LABELS 20

/* Most characters of report.md as `report --out` writes it: GitHub's limit for a
 * pull-request comment. A longer report (more than about ten candidates at 150 labels,
 * or several runs side by side) is cut before a heading, with a note saying so and that
 * report.html, report.json and per_class.csv have everything. */
#define SLM_REPORT_MAX_MD_CHARS 65536

/* Rows of the "worst classes" and "top confusions" tables of a candidate above
 * SLM_REPORT_MAX_FULL_LABELS labels: about 1 KB of Markdown each. */
#define SLM_REPORT_WORST_CLASSES 15
#define SLM_REPORT_TOP_CONFUSIONS 15

/* Most labels of a confusion heatmap with a count in every cell (plots.c); above it the
 * heatmap the reports show is the sub-matrix of the labels of the largest confusions (at
 * most SLM_HEATMAP_TOP_LABELS), and the whole matrix, shaded without counts, is drawn
 * beside it as confusion_<k>_full (12 pixels a row, 7-point tick labels upright). */
#define SLM_HEATMAP_MAX_FULL_LABELS 40
#define SLM_HEATMAP_TOP_LABELS 30

/* ---- load tests (slmbench load) ---- */

/* Most levels of one load test (a list of rates, a sweep's K + 2). Over it: bad input at
 * the key's line. */
#define SLM_LOAD_MAX_LEVELS 64

/* Most requests of one level (requests: N, or duration x rate): each level holds its
 * schedule and its requests' traces in memory. Over it: bad input at the load section's
 * line, naming the count. */
#define SLM_LOAD_MAX_REQUESTS 1000000L

/* Longest level (duration), 24 hours in ms. Over it: bad input at the key's line. */
#define SLM_LOAD_MAX_DURATION_MS (24.0 * 3600 * 1000)

/* ---- the per-example page and `slmbench view` ---- */

/* Most bytes of an example's text shown in a row of the per-example page (examples.html);
 * a longer text is cut at a character boundary and ends with "…". A page of a 5,000-row
 * split stays a few MB even when its texts run to the 1 MiB field limit. */
#define SLM_EXAMPLES_TEXT_SHOWN 1000

/* Longest request path `slmbench view` answers, in bytes. Longer: 404 (no route is that
 * long; the query string is parsed by libmicrohttpd and bounded by its own buffer). */
#define SLM_VIEW_MAX_PATH 256

/* ---- slmbench diff ---- */

/* Characters (UTF-8 code points) of an example's text shown in the Markdown and HTML diff
 * before it is cut with "…": a table row stays readable. The CSV has the whole text. */
#define SLM_DIFF_TEXT_CHARS 160

#endif
