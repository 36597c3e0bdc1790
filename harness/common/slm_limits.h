/*
 * slm_limits.h — every size limit of slmbench, in one place.
 *
 * (This branch adds the production-log section; the limits branch fills in the rest of
 * the file. On merging both, keep every section.)
 */
#ifndef SLM_LIMITS_H
#define SLM_LIMITS_H

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

#endif
