/*
 * test_evalset.c — split files (CSV and JSON lines) and evalset.yaml: what is accepted
 * (a BOM, CRLF, quoted fields with commas, quotes and newlines, columns in any order) and
 * what is refused with the file and line (missing columns, unknown labels, invalid UTF-8,
 * an empty file, duplicate ids), and skip_bad_rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "evalset.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[64];
static char err[512];
static const char *const LABELS[] = {"billing", "bug"};

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/slm_test_evalset.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char *cmd = slm_xasprintf("rm -rf '%s'", dir);
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

/* Writes len bytes (or the whole string when len is 0) to dir/name; returns the path. */
static char *put(const char *name, const char *bytes, size_t len)
{
    char *path = slm_xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(bytes, 1, len ? len : strlen(bytes), f);
    fclose(f);
    return path;
}

static slm_dataset *load(const char *name, const char *bytes, size_t len, int skip)
{
    char *path = put(name, bytes, len);
    slm_load_opts o = {.labels = LABELS, .n_labels = 2, .skip_bad_rows = skip};
    slm_dataset *d = NULL;
    err[0] = '\0';
    if (slm_dataset_load(path, &o, &d, err, sizeof err))
        d = NULL;
    free(path);
    return d;
}

static void expect_refused(const char *name, const char *bytes, size_t len, const char *want)
{
    slm_dataset *d = load(name, bytes, len, 0);
    if (d) {
        slm_dataset_free(d);
        fail_msg("%s was accepted", name);
    }
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_csv_accepted(void **state)
{
    /* a BOM, CRLF, columns in another order, an extra column, quoted fields */
    const char csv[] = "\xef\xbb\xbflabel,extra,text,id\r\n"
                       "billing,x,\"charged twice, \"\"again\"\"\",a1\r\n"
                       "bug,y,\"two\nlines\",a2\r\n";
    slm_dataset *d = load("ok.csv", csv, 0, 0);
    if (!d)
        fail_msg("%s", err);
    assert_int_equal(d->n, 2);
    assert_string_equal(d->rows[0].id, "a1");
    assert_string_equal(d->rows[0].text, "charged twice, \"again\"");
    assert_string_equal(d->rows[0].label, "billing");
    assert_string_equal(d->rows[1].text, "two\nlines");
    assert_int_equal(d->rows[1].line, 3);
    assert_int_equal(strlen(d->sha256), 64);
    slm_dataset_free(d);
}

static void test_csv_refused(void **state)
{
    expect_refused("empty.csv", "", 0, "empty.csv: file is empty");
    expect_refused("nolabel.csv", "id,text\n1,hello\n", 0, "nolabel.csv:1: header has no 'label' column");
    expect_refused("unknown.csv", "id,text,label\n1,hello,billing\n2,oops,refund\n", 0,
                   "unknown.csv:3: label 'refund' is not in the label set");
    expect_refused("utf8.csv", "id,text,label\n1,caf\xe9,bug\n", 0,
                   "utf8.csv:2: field 'text' is not valid UTF-8");
    expect_refused("fields.csv", "id,text,label\n1,a,bug,extra\n", 0,
                   "fields.csv:2: expected 3 fields as in the header, found 4");
    expect_refused("dup.csv", "id,text,label\n1,a,bug\n1,b,bug\n", 0,
                   "dup.csv:3: duplicate id '1' (first on line 2)");
    expect_refused("quote.csv", "id,text,label\n1,\"never closed,bug\n", 0, "quote.csv");
    expect_refused("emptylabel.csv", "id,text,label\n1,a,\n", 0, "empty label for id '1'");
}

/* An unterminated quote is reported at the line where the quoted field begins, not where
 * the parser noticed it (a later quote closing it, or the end of the file). */
static void test_csv_unterminated_quote(void **state)
{
    /* closed by the quote of a later line, followed by other characters: noticed on line 3 */
    expect_refused("q1.csv", "id,text,label\n1,\"never closed,bug\n2,\"b\",bug\n", 0,
                   "q1.csv:2: malformed CSV");
    /* blank lines before it (libcsv skips them): the quote opens on line 5, the file ends */
    expect_refused("q2.csv", "id,text,label\n1,a,bug\n\n\n2,\"never closed,bug\n3,c,bug\n", 0,
                   "q2.csv:5: malformed CSV: unterminated quoted field");
    /* a quoted field over two good lines, then a stray character after its closing quote */
    expect_refused("q3.csv", "id,text,label\n1,\"two\nlines\"x,bug\n", 0,
                   "q3.csv:2: malformed CSV");
    /* a quote opened on the last line, which has no newline */
    expect_refused("q4.csv", "id,text,label\n1,a,bug\n2,\"open,bug", 0,
                   "q4.csv:3: malformed CSV: unterminated quoted field");
}

/* A NUL byte inside a field is refused with the line, the field and the byte, not read as
 * the end of the text (libcsv passes it on; a C string would stop there). */
static void test_csv_nul(void **state)
{
    const char nul[] = "id,text,label\nt1,fine,bug\nt2,nul\0inside,billing\n";
    expect_refused("nul.csv", nul, sizeof nul - 1,
                   "nul.csv:3: field 'text' (column 2) contains a NUL byte (byte 4)");
    const char nulq[] = "id,text,label\nt1,\"two\nlines\",bug\nt2,b,bill\0ing\n";
    expect_refused("nulq.csv", nulq, sizeof nulq - 1,
                   "nulq.csv:4: field 'label' (column 3) contains a NUL byte (byte 5)");
    const char hdr[] = "id,te\0xt,label\nt1,a,bug\n";
    expect_refused("nulh.csv", hdr, sizeof hdr - 1,
                   "nulh.csv:1: header column 2 contains a NUL byte (byte 3)");
    /* skip_bad_rows skips such a row like any other bad row */
    slm_dataset *d = load("nulskip.csv", nul, sizeof nul - 1, 1);
    if (!d)
        fail_msg("%s", err);
    assert_int_equal(d->n, 1);
    assert_int_equal(d->n_skipped, 1);
    assert_string_equal(d->rows[0].id, "t1");
    slm_dataset_free(d);
}

static void test_skip_bad_rows(void **state)
{
    slm_dataset *d = load("skip.csv", "id,text,label\n1,a,bug\n2,b,nope\n3,c,billing\n", 0, 1);
    if (!d)
        fail_msg("%s", err);
    assert_int_equal(d->n, 2);
    assert_int_equal(d->n_skipped, 1);
    assert_non_null(strstr(d->first_skip_reason, "skip.csv:3: label 'nope'"));
    slm_dataset_free(d);
}

static void test_jsonl(void **state)
{
    const char ok[] = "\xef\xbb\xbf{\"id\": \"j1\", \"text\": \"hi, there\", \"label\": \"bug\"}\r\n"
                      "\n"
                      "{\"text\": \"line\\nbreak\", \"label\": \"billing\", \"id\": 7}\n";
    slm_dataset *d = load("ok.jsonl", ok, 0, 0);
    if (!d)
        fail_msg("%s", err);
    assert_int_equal(d->n, 2);
    assert_string_equal(d->rows[0].text, "hi, there");
    assert_string_equal(d->rows[1].text, "line\nbreak");
    assert_string_equal(d->rows[1].id, "7");
    slm_dataset_free(d);
    expect_refused("empty.jsonl", "", 0, "empty.jsonl: file is empty");
    expect_refused("missing.jsonl", "{\"id\": \"1\", \"text\": \"a\"}\n", 0,
                   "missing.jsonl:1: missing or non-string field 'label'");
    expect_refused("label.jsonl", "{\"id\": \"1\", \"text\": \"a\", \"label\": \"x\"}\n", 0,
                   "label.jsonl:1: label 'x' is not in the label set");
    expect_refused("utf8.jsonl", "{\"id\": \"1\", \"text\": \"caf\xe9\", \"label\": \"bug\"}\n", 0,
                   "utf8.jsonl:1");
    expect_refused("broken.jsonl", "{\"id\": \"1\", \"text\": \n", 0, "broken.jsonl:1");
    /* a key given twice is refused (jansson would keep the last one), in a row and inside
     * an object label; the column is the byte where the second key starts */
    expect_refused("dup.jsonl",
                   "{\"id\": \"1\", \"text\": \"a\", \"label\": \"bug\"}\n"
                   "{\"id\": \"2\", \"text\": \"b\", \"label\": \"bug\", \"label\": \"billing\"}\n",
                   0, "dup.jsonl:2: duplicate key \"label\" (column 42)");
    expect_refused("dupid.jsonl", "  {\"id\": \"1\", \"id\": \"2\", \"text\": \"a\", \"label\": \"bug\"}\n",
                   0, "dupid.jsonl:1: duplicate key \"id\" (column 15)");
    expect_refused("dupobj.jsonl",
                   "{\"id\": \"1\", \"text\": \"a\", \"label\": {\"k\": 1, \"k\": 2}}\n", 0,
                   "dupobj.jsonl:1: duplicate key \"k\"");
}

static void test_evalset_yaml(void **state)
{
    char *p = put("prompt.txt", "Ticket: {{text}}\nLabels: {{labels}}\n", 0);
    free(p);
    p = put("evalset.yaml", "name: t\nlabels: [billing, bug]\nprompt: prompt.txt\n"
                            "splits: {test: test.csv}\n", 0);
    free(p);
    slm_evalset *e = NULL;
    if (slm_evalset_load(dir, &e, err, sizeof err))
        fail_msg("%s", err);
    assert_string_equal(e->name, "t");
    assert_string_equal(e->task, "classification");
    assert_string_equal(e->version, "1");
    assert_int_equal(e->n_labels, 2);
    assert_int_equal(e->n_splits, 1);
    char *want = slm_xasprintf("%s/test.csv", dir);
    assert_string_equal(slm_evalset_split_path(e, "test"), want);
    free(want);
    assert_null(slm_evalset_split_path(e, "train"));
    slm_evalset_free(e);

    static const struct {
        const char *yaml, *want;
    } bad[] = {
        {"labels: [a, b]\nprompt: prompt.txt\nsplits: {test: t.csv}\n", "missing 'name'"},
        {"name: t\nlabels: [a]\nprompt: prompt.txt\nsplits: {test: t.csv}\n",
         "evalset.yaml:2: 'labels' must be a list of at least two labels"},
        {"name: t\nlabels: [a, a]\nprompt: prompt.txt\nsplits: {test: t.csv}\n",
         "duplicate label 'a'"},
        {"name: t\ntask: poetry\nlabels: [a, b]\nprompt: prompt.txt\nsplits: {test: t.csv}\n",
         "evalset.yaml:2: task 'poetry' is not supported"},
        {"name: t\nlabels: [a, b]\nsplits: {test: t.csv}\n", "missing 'prompt'"},
        {"name: t\nlabels: [a, b]\nprompt: prompt.txt\n", "'splits' must map split names"},
        {"name: t\nlabels: [a, b]\nprompt: prompt.txt\nsplits: {test: t.csv}\nbogus: 1\n",
         "evalset.yaml:5: unknown key 'bogus' in evalset.yaml"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = put("evalset.yaml", bad[i].yaml, 0);
        e = NULL;
        if (!slm_evalset_load(p, &e, err, sizeof err)) {
            slm_evalset_free(e);
            fail_msg("accepted: %s", bad[i].yaml);
        }
        if (!strstr(err, bad[i].want))
            fail_msg("error '%s' does not contain '%s'", err, bad[i].want);
        free(p);
    }
}

static void test_label_index(void **state)
{
    assert_int_equal(slm_label_index(LABELS, 2, "bug"), 1);
    assert_int_equal(slm_label_index(LABELS, 2, "  bug \t"), 1);
    assert_int_equal(slm_label_index(LABELS, 2, "Bug"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_accepted),
        cmocka_unit_test(test_csv_refused),
        cmocka_unit_test(test_csv_nul),
        cmocka_unit_test(test_csv_unterminated_quote),
        cmocka_unit_test(test_skip_bad_rows),
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_evalset_yaml),
        cmocka_unit_test(test_label_index),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
