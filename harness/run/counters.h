/*
 * counters.h — hardware and software event counters for the whole process (DESIGN §7).
 *
 * A counter set counts the process that opened it: the opening thread and every thread it
 * creates afterwards (inheritance). Open it before the engine creates its threads: threads
 * that already exist at open time are not counted by the PAPI and perf_event sources (the
 * getrusage source counts them anyway).
 *
 * Each event is probed when the set is opened, by adding and starting it. An event that
 * cannot be counted stays in the set as "unavailable" with a human-readable reason, and
 * reads as INT64_MIN (never 0); that is never an error for the set.
 *
 * Sources, in order of preference per event:
 *   "papi"        an inheriting PAPI event set (PAPI_INHERIT), multiplexed if it must be;
 *   "perf_event"  the kernel's perf_event_open(2) with attr.inherit = 1 on this process;
 *                 software events are read as one group (one system call per read);
 *   "getrusage"   getrusage(RUSAGE_SELF), for task-clock, page-faults, context-switches.
 *
 * The environment variable SLM_COUNTERS_FORCE=papi|perf_event|getrusage restricts every
 * event to that one source (for tests, and to compare sources); other values are ignored.
 *
 * Ownership: the handle owns every string it returns; they live until slm_counters_close().
 * A handle is used by one thread at a time.
 */
#ifndef SLM_COUNTERS_H
#define SLM_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

typedef struct slm_counters slm_counters;

/* The default event names, in a static array of *n entries: instructions, cycles,
 * cache-misses (PAPI_L1_DCM, else PAPI_L3_TCM), branch-misses, then the software events
 * task-clock, page-faults and context-switches. */
const char *const *slm_counters_default_events(size_t *n);

/* Opens a counter set for the n event names, which may be the short names above or
 * "PAPI_TOT_INS", "PAPI_TOT_CYC", "PAPI_L1_DCM", "PAPI_BR_MSP", "perf::TASK-CLOCK",
 * "perf::PAGE-FAULTS", "perf::CONTEXT-SWITCHES" (mapped to their short names) or any other
 * name PAPI knows (kept as given, PAPI source only). Counting starts now; reads give the
 * totals since this call. Returns 0 and *out (close it with slm_counters_close), or -1 for
 * an unknown event name (err names it) or no memory. */
int slm_counters_open(const char *const *events, size_t n, slm_counters **out, char *err,
                      size_t errlen);

/* The number of events in the set (as many as were asked for, available or not). */
size_t slm_counters_count(const slm_counters *c);

/* Canonical name of event i, e.g. "instructions" (the given name for other PAPI events). */
const char *slm_counters_name(const slm_counters *c, size_t i);

/* "papi", "perf_event", "getrusage" or "unavailable". */
const char *slm_counters_source(const slm_counters *c, size_t i);

/* Why event i is unavailable (every source tried, "; "-separated), else "". */
const char *slm_counters_reason(const slm_counters *c, size_t i);

/* "ns" (task-clock) or "count". */
const char *slm_counters_unit(const slm_counters *c, size_t i);

/* What the source actually counts for event i: "PAPI_L1_DCM", "PERF_COUNT_SW_TASK_CLOCK",
 * "PERF_COUNT_HW_INSTRUCTIONS:u" (user space only), "ru_utime+ru_stime"; "" if
 * unavailable. */
const char *slm_counters_event(const slm_counters *c, size_t i);

/* 1 if event i is multiplexed (shares a hardware counter, so its value is scaled). */
int slm_counters_multiplexed(const slm_counters *c, size_t i);

/* NULL if PAPI accepted PAPI_INHERIT for this set; else why it was refused or not tried,
 * e.g. "PAPI_set_opt(PAPI_INHERIT): Event does not exist". Without inheritance PAPI would
 * count only the calling thread, so the set then uses no PAPI source at all. */
const char *slm_counters_papi_refused(const slm_counters *c);

/* Reads every event's total since open into values[count] (unavailable: INT64_MIN) and, if
 * scale is not NULL, the multiplexing scale factor applied into scale[count]: 1.0 when not
 * multiplexed, time_enabled/time_running for perf_event, NAN for a multiplexed PAPI event
 * (PAPI scales it but does not tell by how much) and for an unavailable one. Costs one
 * system call per source (about 2 µs for the perf_event group here); no allocation.
 * Returns 0, or -1 if a source failed to read (its events then read INT64_MIN). */
int slm_counters_read(slm_counters *c, int64_t *values, double *scale);

/* Stops counting and frees the set. NULL-safe. */
void slm_counters_close(slm_counters *c);

/* CPU time of the whole process (CLOCK_PROCESS_CPUTIME_ID) in ns, -1 on failure: the
 * reference that task-clock is checked against. */
int64_t slm_process_cpu_ns(void);

/* Whether energy can be measured: powercap RAPL (/sys/class/powercap/intel-rapl:N/energy_uj,
 * readable) or an enabled PAPI rapl/powercap component. Returns 1 if
 * available (reason: what), 0 if not (reason: why). */
int slm_energy_probe(char *reason, size_t n);

/* One PAPI component, as PAPI_get_component_info() describes it. */
typedef struct slm_papi_component {
    char name[128];  /* PAPI_MAX_STR_LEN */
    int disabled;     /* 0 if enabled, else PAPI's (negative) code */
    char reason[1024]; /* PAPI's disabled reason, "" if enabled */
} slm_papi_component;

/* Initialises PAPI if needed and describes it: version ("7.0.0.0") into version[vlen] and
 * up to max components into comps. Returns the number of components PAPI has (may exceed
 * max), or -1 if PAPI fails to initialise (err says why). */
int slm_papi_info(char *version, size_t vlen, slm_papi_component *comps, size_t max,
                  char *err, size_t errlen);

#endif
