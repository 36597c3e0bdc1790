/*
 * test_prodjson.c — the hand-written JSON-line parser of production logs (prodjson.c)
 * against jansson, the oracle: thousands of random log lines (every escape, surrogate
 * pairs and lone ones, \u0000, numbers in every JSON spelling and some that are not JSON,
 * integer ids, tags of every type, nested values, duplicate keys, whitespace) and the
 * same lines mutated byte by byte are read twice through the reader, once as shipped and
 * once with every line parsed by jansson alone (slm_prodlog_oracle); every row must come
 * out the same (each field, the probs and tags JSON, the content hash) and every refused
 * line with the same message. Also: the fast parser must take most valid lines itself
 * (otherwise the comparison proves nothing) and never accept a line jansson refuses.
 */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "prodjson.h"
#include "prodlog.h"
#include "util.h"

#define PATH "/tmp/slm_test_prodjson.jsonl"
enum { N_LINES = 20000 };

static slm_rng rng;

static int pick(int n)
{
    return (int)slm_rng_below(&rng, (uint64_t)n);
}

static const char *one_of(const char *const *v, int n)
{
    return v[pick(n)];
}
#define ONE_OF(v) one_of(v, (int)(sizeof v / sizeof v[0]))

/* A JSON string body: plain words, every escape, UTF-8, surrogates (paired, lone), \u0000,
 * raw controls (not JSON). */
static void string_body(slm_buf *b)
{
    static const char *const PARTS[] = {
        "ticket", " ", "refund", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\\n",
        "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\r", "\\t", "\\u00e9", "\\u20AC", "\\ud83d\\ude00",
        "\\uD83D\\uDE00", "\\u0041", "\\u001f", "\\u007f", "/", "'", "x", "y z", "0.5"};
    static const char *const RARE[] = {"\\ud83d", "\\ude00", "\\u0000", "\\x", "\\u12",
                                       "\t", "\\ud83dx", "\\ud83d\\u0041"};
    int n = pick(6);
    for (int i = 0; i < n; i++)
        slm_buf_puts(b, pick(40) ? ONE_OF(PARTS) : ONE_OF(RARE));
}

static void quoted_string(slm_buf *b)
{
    slm_buf_putc(b, '"');
    string_body(b);
    slm_buf_putc(b, '"');
}

static void number(slm_buf *b, int prob)
{
    static const char *const NUM[] = {"0.5", "0.25", "5e-1", "0.5E0", "1", "0", "-0", "1.0",
                                      "0.125", "2.5e-1", "0.1", "0.7", "1e0", "0.3333333333333333",
                                      "0.30000000000000004", "1E-2", "25e-2", "-0.0"};
    static const char *const ODD[] = {"01", ".5", "1.", "+1", "1e", "-", "NaN", "Infinity",
                                      "1e400", "-1e400", "1e-400", "0x10", "123456789012345678",
                                      "1234567890123456789", "99999999999999999999", "1.5e+3"};
    if (prob && pick(4))
        slm_buf_printf(b, "%.6f", (double)pick(1000001) / 1e6);
    else
        slm_buf_puts(b, pick(12) ? ONE_OF(NUM) : ONE_OF(ODD));
}

static void value(slm_buf *b, int depth)
{
    static const char *const LIT[] = {"true", "false", "null", "tru", "nul", "True"};
    switch (pick(9)) {
    case 0:
    case 1:
    case 2:
        quoted_string(b);
        break;
    case 3:
    case 4:
        number(b, 0);
        break;
    case 5:
        slm_buf_puts(b, pick(10) ? LIT[pick(3)] : ONE_OF(LIT));
        break;
    case 6:
        slm_buf_puts(b, depth ? "[1,\"a\",{\"k\":2}]" : "[]");
        break;
    case 7:
        if (depth)
            slm_buf_puts(b, "{\"b\":1.5,\"a\":[true,null]}");
        else
            quoted_string(b);
        break;
    default:
        slm_buf_printf(b, "%d", pick(3) - 1);
    }
}

static const char *ws(void)
{
    static const char *const WS[] = {" ", "\t", "  ", "\r"};
    return pick(3) ? "" : ONE_OF(WS);
}

static void probs(slm_buf *b)
{
    static const char *const LABELS[] = {"billing", "shipping", "tech", "caf\xc3\xa9",
                                         "a\\\"b", "x\\u0041", "billing"};
    int n = 1 + pick(4);
    double left = 1;
    slm_buf_puts(b, "{");
    for (int i = 0; i < n; i++) {
        slm_buf_printf(b, "%s%s\"%s\"%s:%s", i ? "," : "", ws(),
                       pick(8) ? LABELS[i] : LABELS[pick(7)], ws(), ws());
        if (pick(10) == 0) {
            value(b, 1);
        } else if (i < n - 1) {
            double p = (double)pick(1000) / 1000 * left;
            p = round(p * 1e6) / 1e6;
            left -= p;
            slm_buf_printf(b, "%.6f", p);
        } else {
            slm_buf_printf(b, "%.6f", left);
        }
    }
    slm_buf_puts(b, "}");
}

/* One random log line (mostly valid rows). */
static void line(slm_buf *b, long i)
{
    static const char *const TS[] = {"2026-11-03T10:15:00Z", "2026-11-03T10:15:00.123+01:00",
                                     "2026-02-30T00:00:00Z", "2026-11-03 10:15:00Z"};
    static const char *const TAGS[] = {"region", "shop", "a\\u00e9", "k", "z9", "region"};
    slm_buf_printf(b, "%s{%s", ws(), ws());
    if (pick(3))
        slm_buf_printf(b, "\"id\":\"t%ld\"", i);
    else
        slm_buf_printf(b, "\"id\":%s%ld", pick(2) ? "-" : "", i * 7919);
    slm_buf_printf(b, ",%s\"ts\"%s:%s\"%s\"", ws(), ws(), ws(), pick(10) ? TS[pick(2)] : ONE_OF(TS));
    slm_buf_puts(b, ",\"pred\":");
    pick(10) ? slm_buf_puts(b, "\"billing\"") : value(b, 0);
    slm_buf_puts(b, ",\"confidence\":");
    pick(10) ? number(b, 1) : value(b, 0);
    if (pick(4)) {
        slm_buf_puts(b, ",\"text\":");
        quoted_string(b);
    }
    if (pick(3)) {
        slm_buf_puts(b, ",\"probs\":");
        pick(12) ? probs(b) : value(b, 1);
    }
    static const char *const OPT[] = {"latency_ms", "escalated", "corrected_label", "model"};
    static const char *const GOOD[] = {"12.5", "true", "\"shipping\"", "\"m\\u00e9\""};
    for (int k = 0; k < 4; k++)
        if (pick(2)) {
            slm_buf_printf(b, ",\"%s\":", OPT[k]);
            pick(8) ? slm_buf_puts(b, GOOD[k]) : value(b, 0);
        }
    int nt = pick(4);
    for (int k = 0; k < nt; k++) {
        slm_buf_printf(b, ",%s\"%s\":", ws(), ONE_OF(TAGS));
        value(b, pick(6) == 0);
    }
    slm_buf_printf(b, "%s}%s", ws(), pick(30) ? "" : ",");
}

/* A byte-level mutation: delete, insert or replace one byte with JSON-significant ones. */
static void mutate(slm_buf *b)
{
    static const char SET[] = "{}[]:,\"\\0123456789.eE+-tfnu \tx";
    size_t at = b->len ? (size_t)pick((int)b->len) : 0;
    char c = SET[pick((int)sizeof SET - 1)];
    int op = pick(3);
    if (op == 0 && b->len) {
        memmove(b->data + at, b->data + at + 1, b->len - at);
        b->len--;
    } else if (op == 1) {
        slm_buf_putc(b, 0);
        memmove(b->data + at + 1, b->data + at, b->len - at - 1);
        b->data[at] = c;
    } else if (b->len) {
        b->data[at] = c;
    }
}

/* Writes the file: random lines, a third of them mutated once or a few times. */
static void write_log(void)
{
    FILE *f = fopen(PATH, "wb");
    assert_non_null(f);
    slm_buf b = {0};
    for (long i = 1; i <= N_LINES; i++) {
        b.len = 0;
        line(&b, i);
        if (pick(4) == 0)
            for (int m = 1 + pick(3); m > 0; m--)
                mutate(&b);
        for (size_t k = 0; k < b.len; k++)
            if (b.data[k] == '\n')
                b.data[k] = ' ';
        fwrite(b.data, 1, b.len, f);
        fputc('\n', f);
    }
    slm_buf_free(&b);
    fclose(f);
}

static void same_str(const char *a, const char *b, long line, const char *what)
{
    if (!a || !b) {
        if (a != b)
            fail_msg("line %ld: %s present on one side only (%s / %s)", line, what,
                     a ? a : "NULL", b ? b : "NULL");
        return;
    }
    if (strcmp(a, b))
        fail_msg("line %ld: %s differs: '%s' / '%s'", line, what, a, b);
}

static void same_double(double a, double b, long line, const char *what)
{
    if (memcmp(&a, &b, sizeof a) && !(isnan(a) && isnan(b)))
        fail_msg("line %ld: %s differs: %.17g / %.17g", line, what, a, b);
}

static void same_row(const slm_prod_row *a, const slm_prod_row *b)
{
    long l = a->line;
    assert_int_equal(a->line, b->line);
    same_str(a->id, b->id, l, "id");
    same_str(a->ts, b->ts, l, "ts");
    same_str(a->month, b->month, l, "month");
    same_str(a->pred, b->pred, l, "pred");
    same_double(a->confidence, b->confidence, l, "confidence");
    same_str(a->probs_json, b->probs_json, l, "probs");
    same_double(a->latency_ms, b->latency_ms, l, "latency_ms");
    assert_int_equal(a->escalated, b->escalated);
    same_str(a->corrected_label, b->corrected_label, l, "corrected_label");
    same_str(a->model, b->model, l, "model");
    same_str(a->text, b->text, l, "text");
    assert_int_equal(a->text_bytes, b->text_bytes);
    assert_int_equal(a->text_words, b->text_words);
    same_str(a->text_sha256, b->text_sha256, l, "text_sha256");
    same_str(a->tags_json, b->tags_json, l, "tags");
    same_str(a->content_sha256, b->content_sha256, l, "content_sha256");
}

/* Reads the file with the fast paths and with the oracles alone, row by row. */
static void compare_readers(const char *format, long *rows, long *bad)
{
    slm_prodlog *fast, *slow;
    char err[SLM_ERRLEN], e1[SLM_ERRLEN], e2[SLM_ERRLEN];
    assert_int_equal(slm_prodlog_open(PATH, format, &fast, err, sizeof err), 0);
    assert_int_equal(slm_prodlog_open(PATH, format, &slow, err, sizeof err), 0);
    slm_prodlog_oracle(slow, 1);
    slm_prod_row a, b;
    for (;;) {
        int ra = slm_prodlog_next(fast, &a, e1, sizeof e1);
        int rb = slm_prodlog_next(slow, &b, e2, sizeof e2);
        if (ra != rb)
            fail_msg("line %ld: fast %d (%s), jansson %d (%s)", a.line, ra,
                     ra == SLM_PROD_BAD ? e1 : "", rb, rb == SLM_PROD_BAD ? e2 : "");
        if (ra == SLM_PROD_EOF)
            break;
        if (ra == SLM_PROD_FATAL) {
            same_str(e1, e2, a.line, "fatal error");
            fail_msg("a fatal error in the generated log: %s", e1);
        }
        if (ra == SLM_PROD_BAD) {
            same_str(e1, e2, a.line, "error");
            ++*bad;
        } else {
            same_row(&a, &b);
            ++*rows;
        }
    }
    slm_prodlog_close(fast);
    slm_prodlog_close(slow);
}

/* The fast parser never takes a line of valid UTF-8 that jansson refuses, and takes most of those it accepts
 * (only the shapes prodjson.h lists go to jansson). */
static void fast_share(long *fast_ok, long *json_ok)
{
    FILE *f = fopen(PATH, "rb");
    assert_non_null(f);
    char *l = NULL;
    size_t cap = 0;
    ssize_t n;
    slm_pj_row row = {0};
    while ((n = getline(&l, &cap, f)) > 0) {
        l[--n] = 0;
        if (slm_utf8_invalid_at(l, (size_t)n) >= 0)
            continue; /* the reader refuses it before parsing (prodjson.h's precondition) */
        json_error_t je;
        json_t *o = json_loadb(l, (size_t)n, JSON_REJECT_DUPLICATES, &je);
        int ok = o && json_is_object(o);
        json_decref(o);
        int mine = slm_pj_parse(&row, l, (size_t)n) == 0;
        if (mine && !ok)
            fail_msg("the fast parser accepts what jansson refuses: %s", l);
        *fast_ok += mine;
        *json_ok += ok;
    }
    slm_pj_free(&row);
    free(l);
    fclose(f);
}

static void test_fast_equals_jansson(void **state)
{
    (void)state;
    slm_rng_seed(&rng, 17);
    write_log();
    long rows = 0, bad = 0, fast_ok = 0, json_ok = 0;
    compare_readers("jsonl", &rows, &bad);
    fast_share(&fast_ok, &json_ok);
    printf("# %d lines: %ld rows, %ld refused alike; jansson parses %ld, the fast parser "
           "%ld of them\n", N_LINES, rows, bad, json_ok, fast_ok);
    assert_int_equal(rows + bad, N_LINES);
    /* both kinds occur in numbers, and most parsable lines take the fast path */
    assert_true(rows > N_LINES / 5 && bad > N_LINES / 5);
    assert_true(fast_ok > json_ok / 2);
    unlink(PATH);
}

/* Lines whose values are known exactly: what both parsers must give. */
static void test_known_values(void **state)
{
    (void)state;
    FILE *f = fopen(PATH, "wb");
    assert_non_null(f);
    fputs("{\"id\":42,\"ts\":\"2026-11-03T10:15:00+01:00\",\"pred\":\"a\\u00e9\\ud83d\\ude00\","
          "\"confidence\":0.1e1,\"probs\":{\"b\":0.25,\"a\":7.5e-1},\"t\\\"x\":\"q\\n\\u0001\","
          "\"n\":-7,\"z\":null,\"y\":true}\n", f);
    fclose(f);
    for (int oracle = 0; oracle < 2; oracle++) {
        slm_prodlog *r;
        char err[SLM_ERRLEN];
        slm_prod_row row;
        assert_int_equal(slm_prodlog_open(PATH, NULL, &r, err, sizeof err), 0);
        slm_prodlog_oracle(r, oracle);
        assert_int_equal(slm_prodlog_next(r, &row, err, sizeof err), SLM_PROD_ROW);
        assert_string_equal(row.id, "42");
        assert_string_equal(row.ts, "2026-11-03T09:15:00.000Z");
        assert_string_equal(row.pred, "a\xc3\xa9\xf0\x9f\x98\x80");
        assert_true(row.confidence == 1.0);
        assert_string_equal(row.probs_json, "{\"a\":0.75,\"b\":0.25}");
        assert_string_equal(row.tags_json, "{\"n\":-7,\"t\\\"x\":\"q\\n\\u0001\",\"y\":true,"
                                           "\"z\":null}");
        slm_prodlog_close(r);
    }
    unlink(PATH);
}

/* One random CSV cell: words, spaces and tabs at either end, numbers, sometimes quoted
 * (with a comma or a doubled quote inside: libcsv's part in both readers). */
static void csv_cell_text(slm_buf *b, int num)
{
    static const char *const PAD[] = {"", "", "", " ", "\t", "  ", " \t"};
    static const char *const WORD[] = {"billing", "x y", "caf\xc3\xa9", "t1", "", "=1",
                                       "-", "0.5", "1e-1"};
    slm_buf_puts(b, ONE_OF(PAD));
    if (pick(25) == 0)
        slm_buf_puts(b, pick(2) ? "\"a, \"\"b\"\"\"" : "a\"b");
    else if (num)
        slm_buf_printf(b, "%.6f", (double)pick(1000001) / 1e6);
    else
        slm_buf_puts(b, ONE_OF(WORD));
    slm_buf_puts(b, ONE_OF(PAD));
}

/* A CSV log: a header, then random records (some with a cell too many or too few, a CR
 * inside, or a stray quote). */
static void write_csv(void)
{
    FILE *f = fopen(PATH, "wb");
    assert_non_null(f);
    fputs("id,ts,pred,confidence,text,p_a,p_b,region\n", f);
    slm_buf b = {0};
    for (long i = 1; i <= N_LINES / 4; i++) {
        b.len = 0;
        double p = (double)pick(1001) / 1000;
        slm_buf_printf(&b, "%sr%ld,2026-11-0%dT10:15:00Z,", pick(20) ? "" : " ",
                       i, 1 + pick(9));
        csv_cell_text(&b, 0);
        slm_buf_printf(&b, ",%s%.3f,", pick(10) ? "" : "\t", p);
        csv_cell_text(&b, 0);
        slm_buf_printf(&b, ",%.3f,%.3f%s,", p, 1 - p, pick(10) ? "" : " ");
        csv_cell_text(&b, 0);
        if (pick(30) == 0)
            slm_buf_puts(&b, pick(2) ? ",extra" : "\r");
        fwrite(b.data, 1, b.len, f);
        fputc('\n', f);
    }
    slm_buf_free(&b);
    fclose(f);
}

static void test_csv_split_equals_libcsv(void **state)
{
    (void)state;
    slm_rng_seed(&rng, 1717);
    write_csv();
    long rows = 0, bad = 0;
    compare_readers("csv", &rows, &bad);
    printf("# %d CSV records: %ld rows, %ld refused alike\n", N_LINES / 4, rows, bad);
    assert_int_equal(rows + bad, N_LINES / 4);
    assert_true(rows > N_LINES / 8 && bad > 10);
    unlink(PATH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_fast_equals_jansson),
        cmocka_unit_test(test_csv_split_equals_libcsv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
