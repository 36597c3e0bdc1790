/*
 * test_store_prod.c — production logs: RFC 3339 timestamps normalised to UTC (against
 * Python's datetime), and the read API the monthly review builds on (store_prod.h): the
 * months with their row counts, one month's rows streamed in ts order with or without the
 * texts, a walk stopped by its callback, and a deployment's reference (the tied run's
 * predictions, probabilities, latencies, fitted temperature, eval set).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "ingest.h"
#include "prodlog.h"
#include "store_int.h"
#include "store_prod.h"
#include "tiny_run.h"

/* Expected values from Python 3's datetime (fromisoformat, then astimezone(timezone.utc),
 * milliseconds = microsecond // 1000), e.g.
 *   datetime.fromisoformat("2024-02-29T23:59:59.999-00:30").astimezone(timezone.utc)
 * (Python's strftime writes year 1 as "1": the 0001 row is padded by hand). */
static const struct {
    const char *in, *utc;
} TS[] = {
    {"2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00.000Z"},
    {"2024-02-29T23:59:59.999-00:30", "2024-03-01T00:29:59.999Z"},
    {"2025-12-31T23:00:00-01:00", "2026-01-01T00:00:00.000Z"},
    {"2000-03-01T00:00:00+23:59", "2000-02-29T00:01:00.000Z"},
    {"1999-12-31T23:59:59.5Z", "1999-12-31T23:59:59.500Z"},
    {"2026-11-03 10:15:00.123456+05:45", "2026-11-03T04:30:00.123Z"},
    {"0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00.000Z"},
    {"9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000Z"},
};

static void timestamps_normalised_to_utc(void **state)
{
    (void)state;
    char out[32], month[8], err[200];
    for (size_t i = 0; i < sizeof TS / sizeof TS[0]; i++) {
        assert_int_equal(slm_rfc3339_utc(TS[i].in, out, month, err, sizeof err), 0);
        assert_string_equal(out, TS[i].utc);
        assert_memory_equal(month, TS[i].utc, 7);
    }
    static const char *const BAD[] = {
        "2026-11-03",                 /* no time */
        "2026-11-03T10:15:00",        /* no zone */
        "2026-11-03T10:15:00+0100",   /* zone without ':' */
        "2026-02-29T00:00:00Z",       /* not a leap year */
        "2026-11-03T24:00:00Z",       /* hour 24 */
        "2026-11-03T23:59:60Z",       /* leap second: refused */
        "2026-11-03T10:15:00.Z",      /* a point without digits */
        "0001-01-01T00:00:00+00:01",  /* year 0 once in UTC */
        "2026-11-03T10:15:00Zjunk",
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++)
        assert_int_equal(slm_rfc3339_utc(BAD[i], out, month, err, sizeof err), -1);
}

static const tiny_ex EX[] = {{"a", "a", 0.9, "b", 0.6}, {"b", "a", 0.7, "b", 0.7}};

typedef struct seen {
    int n, stop_after;
    char ids[8][16];
    int text_null[8];
    long words[8];
} seen;

static int collect(const slm_prod_rec *r, void *ud)
{
    seen *s = ud;
    if (s->n < 8) {
        snprintf(s->ids[s->n], sizeof s->ids[s->n], "%s", r->log_id);
        s->text_null[s->n] = r->text == NULL;
        s->words[s->n] = r->text_words;
    }
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static void write_log(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"id\":\"n2\",\"ts\":\"2026-11-20T00:00:00Z\",\"pred\":\"a\",\"confidence\":0.8,"
          "\"text\":\"one two three\"}\n"
          "{\"id\":\"o1\",\"ts\":\"2026-10-05T00:00:00Z\",\"pred\":\"b\",\"confidence\":0.6}\n"
          "{\"id\":\"n1\",\"ts\":\"2026-11-01T00:30:00+01:00\",\"pred\":\"a\",\"confidence\":0.9,"
          "\"text\":\"x\"}\n"
          "{\"id\":\"n3\",\"ts\":\"2026-11-30T23:00:00Z\",\"pred\":\"zz\",\"confidence\":0.5}\n"
          "{\"id\":\"o2\",\"ts\":\"2026-10-31T23:59:59Z\",\"pred\":\"a\",\"confidence\":0.7}\n",
          f);
    fclose(f);
}

static void read_api(void **state)
{
    (void)state;
    char *db = tiny_db_path("prod"), err[SLM_ERRLEN];
    char *log = slm_xasprintf("%s.jsonl", db);
    slm_store *st;
    assert_int_equal(slm_store_open(db, 1, &st, err, sizeof err), 0);
    int64_t run = tiny_run(st, NULL, EX, 0, 2, 1);
    tiny_exec(st, "UPDATE predictions SET probs_json = '[0.9,0.1]', "
                  "logprobs_json = '[-0.1,-2.3]' WHERE example_idx = 0;"
                  "INSERT INTO metrics (run_id, candidate_id, name, value) SELECT run_id, id, "
                  "'temperature', 1.75 FROM candidates WHERE name = 'c1'");
    int changed, bad;
    assert_int_equal(slm_prod_tie(st, "d", run, "c1", 0, &changed, &bad, err, sizeof err), 0);
    write_log(log);
    slm_ingest_opts o = {.path = log, .deployment = "d", .keep_text = 1};
    slm_ingest_result res;
    assert_int_equal(slm_ingest(st, &o, &res, &bad, err, sizeof err), 0);
    assert_int_equal(res.c.added, 5);
    assert_int_equal(res.c.out_of_order, 2);   /* o1 after n2, o2 after n3 */
    assert_int_equal(res.c.unknown_labels, 1); /* zz */
    free(res.months);

    slm_deployment d;
    assert_int_equal(slm_prod_deployment(st, "d", &d, err, sizeof err), 0);
    assert_int_equal(d.run_id, run);
    assert_string_equal(d.candidate, "c1");
    assert_int_equal(d.n_labels, 2);

    slm_prod_month *m;
    size_t nm;
    assert_int_equal(slm_prod_months(st, d.id, &m, &nm, err, sizeof err), 0);
    assert_int_equal(nm, 2);
    assert_string_equal(m[0].month, "2026-10");
    assert_int_equal(m[0].n, 3); /* o1, o2 and n1 (2026-10-31T23:30Z in UTC) */
    assert_string_equal(m[1].month, "2026-11");
    assert_int_equal(m[1].n, 2);
    slm_prod_months_free(m);

    seen s = {0};
    assert_int_equal(slm_prod_each(st, d.id, "2026-10", 0, collect, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.ids[0], "o1");
    assert_string_equal(s.ids[1], "n1");
    assert_string_equal(s.ids[2], "o2");
    assert_true(s.text_null[1]); /* not asked for */
    assert_int_equal(s.words[1], 1);
    assert_int_equal(s.words[0], -1); /* no text logged */
    seen t = {0};
    assert_int_equal(slm_prod_each(st, d.id, "2026-11", 1, collect, &t, err, sizeof err), 0);
    assert_int_equal(t.n, 2);
    assert_false(t.text_null[0]);
    assert_int_equal(t.words[0], 3);
    seen u = {.stop_after = 2};
    assert_int_equal(slm_prod_each(st, d.id, NULL, 0, collect, &u, err, sizeof err), 0);
    assert_int_equal(u.n, 2);

    slm_prod_evalref ref;
    assert_int_equal(slm_prod_reference(st, &d, &ref, err, sizeof err), 0);
    assert_int_equal(ref.n, 2);
    assert_int_equal(ref.n_labels, 2);
    assert_int_equal(ref.gold[0], 0);
    assert_int_equal(ref.gold[1], 1);
    assert_int_equal(ref.pred[1], 0);
    assert_float_equal(ref.confidence[1], 0.7, 1e-12);
    assert_float_equal(ref.probs[0], 0.9, 1e-12);
    assert_float_equal(ref.probs[1], 0.1, 1e-12);
    assert_true(isnan(ref.probs[2])); /* example 1 has none */
    assert_float_equal(ref.logprobs[1], -2.3, 1e-12);
    assert_float_equal(ref.e2e_ms[1], 11, 1e-12);
    assert_float_equal(ref.temperature, 1.75, 1e-12);
    assert_string_equal(ref.evalset_path, "tiny.csv");
    slm_prod_ref_free(&ref);
    slm_deployment_free(&d);

    int64_t id;
    assert_int_equal(slm_prod_deployment_ensure(st, "untied", &id, err, sizeof err), 0);
    assert_int_equal(slm_prod_deployment(st, "untied", &d, err, sizeof err), 0);
    assert_int_equal(slm_prod_reference(st, &d, &ref, err, sizeof err), -1);
    assert_non_null(strstr(err, "not tied to an eval run"));
    slm_deployment_free(&d);
    assert_int_equal(slm_prod_deployment(st, "nope", &d, err, sizeof err), 1);
    slm_store_close(st);
    unlink(log);
    free(log);
    tiny_db_remove(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timestamps_normalised_to_utc),
        cmocka_unit_test(read_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
