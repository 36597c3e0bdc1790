/*
 * slmbench.h — the core's public header: everything the command-line tool uses.
 * The commands (harness/cmd_*.c) include only this file.
 */
#ifndef SLMBENCH_H
#define SLMBENCH_H

#include "aggregate.h"
#include "analysis.h"
#include "config.h"
#include "counters.h"
#include "drift.h"
#include "engine.h"
#include "evalset.h"
#include "fields.h"
#include "gate.h"
#include "gate_report.h"
#include "gguf.h"
#include "hftokenizer.h"
#include "ingest.h"
#include "json_out.h"
#include "merge.h"
#include "metrics.h"
#include "modelfactory.h"
#include "prompt.h"
#include "plots.h"
#include "redact.h"
#include "report.h"
#include "report_html.h"
#include "runner.h"
#include "sha256.h"
#include "store.h"
#include "util.h"
#include "version.h"

/* Exit codes of the command line (DESIGN §9). */
enum {
    SLM_EXIT_OK = 0,
    SLM_EXIT_FAIL = 1,      /* a gate or drift threshold failed */
    SLM_EXIT_USAGE = 2,
    SLM_EXIT_BAD_INPUT = 3, /* config, eval set, model file */
    SLM_EXIT_ENGINE = 4,    /* engine or runtime failure */
    SLM_EXIT_INTERRUPTED = 130,
};

#endif
