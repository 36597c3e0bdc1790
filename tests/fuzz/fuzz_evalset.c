/*
 * fuzz_evalset.c — libFuzzer target: an eval set's split file through the CSV / JSON-lines
 * loader (slm_dataset_parse, the in-memory form of slm_dataset_load).
 *
 * Input: one byte of options, then the file's bytes.
 *   bit 0  JSON lines (split.jsonl) instead of CSV (split.csv)
 *   bit 1  skip_bad_rows
 *   bit 2  a label set (billing, shipping, "legal dispute") instead of any label
 *   bit 3  structured labels: a JSON object with invoice-extract's fields (strings, a
 *          number, an enum) and a list
 * Checked: 0 or -1 with a message naming the file; on success every row has a non-empty
 * id, text and label, a line number, and ids are distinct in the first few rows.
 */
#include "fuzz_target.h"

#include "evalset.h"
#include "util.h"

/* the invoice-extract task's fields, and a list */
static char *currencies[] = {"SEK", "EUR", "USD", "GBP"};
static const slm_field_def FIELDS[] = {
    {"order_id", SLM_FIELD_STRING, NULL, 0},
    {"amount", SLM_FIELD_NUMBER, NULL, 0},
    {"currency", SLM_FIELD_ENUM, currencies, 4},
    {"customer", SLM_FIELD_STRING, NULL, 0},
    {"items", SLM_FIELD_LIST, NULL, 0},
};
static const char *const LABELS[] = {"billing", "shipping", "legal dispute"};

static void check_rows(const slm_dataset *d)
{
    FUZZ_CHECK(d->n > 0, "success without rows");
    for (size_t i = 0; i < d->n; i++) {
        const slm_example *x = &d->rows[i];
        FUZZ_CHECK(x->id && x->id[0] && x->text && x->text[0] && x->label && x->label[0],
                   "a row with an empty id, text or label");
        FUZZ_CHECK(x->line >= 1, "a row without its line");
        for (size_t j = 0; j < i && j < 16; j++)
            FUZZ_CHECK(strcmp(d->rows[j].id, x->id) != 0, "a duplicate id accepted");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    const char *name = flags & 1 ? "split.jsonl" : "split.csv";
    slm_load_opts o = {0};
    o.skip_bad_rows = (flags >> 1) & 1;
    if (flags & 4) {
        o.labels = LABELS;
        o.n_labels = 3;
        o.labels_from = "fuzz";
    }
    if (flags & 8) {
        o.fields = FIELDS;
        o.n_fields = 5;
    }
    slm_dataset *d = NULL;
    char err[SLM_ERRLEN];
    fuzz_poison(err, sizeof err);
    int rc = slm_dataset_parse(name, (const char *)data + 1, size - 1, &o, &d, err, sizeof err);
    fuzz_check_rc(rc, err, sizeof err, "slm_dataset_parse");
    if (rc == 0)
        check_rows(d);
    else
        FUZZ_CHECK(strstr(err, name) != NULL, "a message that names no file");
    slm_dataset_free(d);
    return 0;
}
