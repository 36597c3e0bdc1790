/* gate_report.c — see gate_report.h. */
#include "gate_report.h"
#include "json_out.h"
#include "report.h"

#include <jansson.h>
#include <stdlib.h>

void slm_gate_markdown(const slm_gate_result *r, slm_buf *b)
{
    slm_buf_printf(b, "### slmbench gate: %s\n\n", r->n_failed ? "**FAILED**" : "passed");
    slm_buf_printf(b, "Run %lld", (long long)r->run_id);
    if (r->baseline_id)
        slm_buf_printf(b, " against baseline run %lld", (long long)r->baseline_id);
    slm_buf_printf(b, ": %zu checks, %zu failed, %zu not judged.\n\n"
                      "| | candidate | check | detail |\n|---|---|---|---|\n",
                   r->n, r->n_failed, r->n_skipped);
    for (size_t i = 0; i < r->n; i++) {
        const slm_gate_check *c = &r->checks[i];
        slm_buf_puts(b, !c->judged ? "| ➖ | " : c->passed ? "| ✅ | " : "| ❌ | ");
        slm_md_cell(b, c->candidate);
        slm_buf_puts(b, " | ");
        slm_md_cell(b, c->name);
        slm_buf_puts(b, " | ");
        slm_md_cell(b, c->detail);
        slm_buf_puts(b, " |\n");
    }
}

static void xml_text(slm_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': slm_buf_puts(b, "&lt;"); break;
        case '>': slm_buf_puts(b, "&gt;"); break;
        case '&': slm_buf_puts(b, "&amp;"); break;
        case '"': slm_buf_puts(b, "&quot;"); break;
        case '\'': slm_buf_puts(b, "&apos;"); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n')
                slm_buf_putc(b, *s);
        }
    }
}

void slm_gate_junit(const slm_gate_result *r, slm_buf *b)
{
    slm_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"%zu\" "
                      "failures=\"%zu\" skipped=\"%zu\">\n<testsuite name=\"slmbench gate run "
                      "%lld\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\">\n",
                   r->n, r->n_failed, r->n_skipped, (long long)r->run_id, r->n, r->n_failed,
                   r->n_skipped);
    for (size_t i = 0; i < r->n; i++) {
        const slm_gate_check *c = &r->checks[i];
        slm_buf_puts(b, "  <testcase classname=\"");
        xml_text(b, c->candidate);
        slm_buf_puts(b, "\" name=\"");
        xml_text(b, c->name);
        slm_buf_puts(b, "\">");
        if (!c->passed || !c->judged) {
            slm_buf_puts(b, c->judged ? "<failure message=\"" : "<skipped message=\"");
            xml_text(b, c->detail);
            slm_buf_puts(b, "\"/>");
        } else {
            slm_buf_puts(b, "<system-out>");
            xml_text(b, c->detail);
            slm_buf_puts(b, "</system-out>");
        }
        slm_buf_puts(b, "</testcase>\n");
    }
    slm_buf_puts(b, "</testsuite>\n</testsuites>\n");
}

void slm_gate_json(const slm_gate_result *r, slm_buf *b)
{
    json_t *o = json_object(), *arr = json_array();
    json_object_set_new(o, "passed", json_boolean(r->n_failed == 0));
    json_object_set_new(o, "run_id", json_integer(r->run_id));
    json_object_set_new(o, "baseline_id",
                        r->baseline_id ? json_integer(r->baseline_id) : json_null());
    json_object_set_new(o, "n_checks", json_integer((json_int_t)r->n));
    json_object_set_new(o, "n_failed", json_integer((json_int_t)r->n_failed));
    json_object_set_new(o, "n_not_judged", json_integer((json_int_t)r->n_skipped));
    for (size_t i = 0; i < r->n; i++) {
        json_t *c = json_object();
        json_object_set_new(c, "candidate", json_string(r->checks[i].candidate));
        json_object_set_new(c, "check", json_string(r->checks[i].name));
        const slm_gate_check *k = &r->checks[i];
        /* a check not judged neither passed nor failed: null, and its status says so */
        json_object_set_new(c, "passed", k->judged ? json_boolean(k->passed) : json_null());
        json_object_set_new(c, "status", json_string(!k->judged ? "not judged"
                                                     : k->passed ? "passed"
                                                                 : "failed"));
        json_object_set_new(c, "detail", json_string(r->checks[i].detail));
        json_array_append_new(arr, c);
    }
    json_object_set_new(o, "checks", arr);
    slm_json_emit(b, o, JSON_INDENT(2));
    json_decref(o);
}
