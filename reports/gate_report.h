/*
 * gate_report.h — the renderings of a gate result (harness/metrics/gate.h): a Markdown
 * table for a CI summary, JUnit XML for CI test views, JSON for scripts.
 */
#ifndef SLM_GATE_REPORT_H
#define SLM_GATE_REPORT_H

#include "gate.h"
#include "util.h"

void slm_gate_markdown(const slm_gate_result *r, slm_buf *out);
void slm_gate_junit(const slm_gate_result *r, slm_buf *out);
void slm_gate_json(const slm_gate_result *r, slm_buf *out);

#endif
