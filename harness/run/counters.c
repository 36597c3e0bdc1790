/*
 * counters.c — whole-process event counters: PAPI with inheritance, else the kernel's
 * perf_event_open with inherit, else getrusage (DESIGN §7).
 *
 * Why three sources: PAPI 7 checks that inheritance is permitted by opening a hardware
 * instructions event, so on a VM without a PMU it refuses PAPI_INHERIT even for software
 * events; a PAPI set without inheritance counts only the calling thread and would miss the
 * engine's worker threads, so it is never used. perf_event_open with attr.inherit counts the
 * software events of the opening thread and of every thread created after it (reading the
 * parent's descriptor sums the live children; exited ones are folded into it), and
 * getrusage(RUSAGE_SELF) covers the whole process wherever perf_event_open is forbidden.
 */
#include "counters.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/perf_event.h>
#include <math.h>
#include <papi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum source { SRC_UNAVAILABLE, SRC_PAPI, SRC_PERF, SRC_RUSAGE };
static const char *const SOURCE_NAMES[] = {"unavailable", "papi", "perf_event", "getrusage"};

enum rusage_kind { RUS_NONE, RUS_TASK_CLOCK, RUS_PAGE_FAULTS, RUS_CONTEXT_SWITCHES };

/* The events slmbench knows by a short name, with every source that can count them. */
typedef struct known_event {
    const char *name;
    const char *papi[2];   /* PAPI names, tried in order; the first is also an alias */
    int perf_type;         /* -1: no perf_event fallback */
    uint64_t perf_config;
    const char *perf_name;
    int rusage;            /* enum rusage_kind */
    const char *rusage_name;
    const char *unit;
} known_event;

static const known_event KNOWN[] = {
    {"instructions", {"PAPI_TOT_INS", NULL}, PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS,
     "PERF_COUNT_HW_INSTRUCTIONS", RUS_NONE, NULL, "count"},
    {"cycles", {"PAPI_TOT_CYC", NULL}, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES,
     "PERF_COUNT_HW_CPU_CYCLES", RUS_NONE, NULL, "count"},
    {"cache-misses", {"PAPI_L1_DCM", "PAPI_L3_TCM"}, PERF_TYPE_HARDWARE,
     PERF_COUNT_HW_CACHE_MISSES, "PERF_COUNT_HW_CACHE_MISSES", RUS_NONE, NULL, "count"},
    {"branch-misses", {"PAPI_BR_MSP", NULL}, PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES,
     "PERF_COUNT_HW_BRANCH_MISSES", RUS_NONE, NULL, "count"},
    {"task-clock", {"perf::TASK-CLOCK", NULL}, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK,
     "PERF_COUNT_SW_TASK_CLOCK", RUS_TASK_CLOCK, "ru_utime+ru_stime", "ns"},
    {"page-faults", {"perf::PAGE-FAULTS", NULL}, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS,
     "PERF_COUNT_SW_PAGE_FAULTS", RUS_PAGE_FAULTS, "ru_minflt+ru_majflt", "count"},
    {"context-switches", {"perf::CONTEXT-SWITCHES", NULL}, PERF_TYPE_SOFTWARE,
     PERF_COUNT_SW_CONTEXT_SWITCHES, "PERF_COUNT_SW_CONTEXT_SWITCHES", RUS_CONTEXT_SWITCHES,
     "ru_nvcsw+ru_nivcsw", "count"},
};
#define N_KNOWN (sizeof KNOWN / sizeof KNOWN[0])

static const char *const DEFAULT_EVENTS[] = {
    "instructions", "cycles",           "cache-misses",     "branch-misses",
    "task-clock",   "page-faults",      "context-switches",
};

typedef struct event {
    char *name;
    const known_event *known; /* NULL: another PAPI event, counted by PAPI only */
    enum source src;
    char reason[512];
    char detail[96];
    int multiplexed;
    int papi_idx;   /* index in the PAPI read buffer */
    int fd;         /* perf_event descriptor (the group leader's is group_fd), or -1 */
    int group_idx;  /* index in the software group's read buffer, or -1 */
    int64_t base;   /* getrusage value at open */
} event;

struct slm_counters {
    size_t n;
    event *ev;
    /* PAPI */
    int papi_set;
    int papi_running;
    int papi_multiplexed;
    int npapi;
    long long *papi_vals;
    char papi_refused[256];
    /* perf_event software group */
    int group_fd;
    int ngroup;
    uint64_t *group_buf;
    int use_rusage;
};

/* ---- PAPI initialisation, once per process ------------------------------------------- */

static pthread_once_t papi_once = PTHREAD_ONCE_INIT;
static int papi_ok;
static char papi_init_err[128];

static void papi_init(void)
{
    int r = PAPI_library_init(PAPI_VER_CURRENT);
    if (r == PAPI_VER_CURRENT) {
        papi_ok = 1;
        return;
    }
    snprintf(papi_init_err, sizeof papi_init_err, "PAPI_library_init: %s",
             r > 0 ? "version mismatch" : PAPI_strerror(r));
}

static int papi_ready(void)
{
    pthread_once(&papi_once, papi_init);
    return papi_ok;
}

/* ---- helpers ------------------------------------------------------------------------- */

static void add_reason(event *e, const char *fmt, ...) SLM_PRINTF(2, 3);
static void add_reason(event *e, const char *fmt, ...)
{
    size_t len = strlen(e->reason);
    if (len && len + 2 < sizeof e->reason) {
        strcpy(e->reason + len, "; ");
        len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->reason + len, sizeof e->reason - len, fmt, ap);
    va_end(ap);
}

static const known_event *find_known(const char *name)
{
    for (size_t i = 0; i < N_KNOWN; i++)
        if (!strcmp(name, KNOWN[i].name) || (KNOWN[i].papi[0] && !strcmp(name, KNOWN[i].papi[0])))
            return &KNOWN[i];
    return NULL;
}

static int has_hardware_pmu(void)
{
    static const char *const pmus[] = {"/sys/bus/event_source/devices/cpu",
                                       "/sys/bus/event_source/devices/cpu_core",
                                       "/sys/bus/event_source/devices/armv8_pmuv3"};
    for (size_t i = 0; i < sizeof pmus / sizeof pmus[0]; i++)
        if (access(pmus[i], F_OK) == 0)
            return 1;
    return 0;
}

/* SLM_COUNTERS_FORCE: the only source allowed, or SRC_UNAVAILABLE when not forced. */
static enum source forced_source(void)
{
    const char *f = getenv("SLM_COUNTERS_FORCE");
    if (!f)
        return SRC_UNAVAILABLE;
    for (int s = SRC_PAPI; s <= SRC_RUSAGE; s++)
        if (!strcmp(f, SOURCE_NAMES[s]))
            return (enum source)s;
    return SRC_UNAVAILABLE;
}

static int rusage_now(struct rusage *ru)
{
    return getrusage(RUSAGE_SELF, ru);
}

static int64_t rusage_value(const struct rusage *ru, int kind)
{
    switch (kind) {
    case RUS_TASK_CLOCK:
        return ((int64_t)ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000000000 +
               ((int64_t)ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) * 1000;
    case RUS_PAGE_FAULTS:
        return (int64_t)ru->ru_minflt + ru->ru_majflt;
    case RUS_CONTEXT_SWITCHES:
        return (int64_t)ru->ru_nvcsw + ru->ru_nivcsw;
    }
    return INT64_MIN;
}

/* ---- PAPI source ----------------------------------------------------------------------- */

/* Adds code to set and starts it: 0 if it counts, else the PAPI error. Leaves the set
 * stopped, with the event in it only on success. Turns multiplexing on when the counters
 * are exhausted. */
static int papi_probe_add(slm_counters *c, int code)
{
    int r = PAPI_add_event(c->papi_set, code);
    if (r != PAPI_OK)
        return r;
    long long *scratch = slm_xcalloc((size_t)c->npapi + 1, sizeof *scratch);
    r = PAPI_start(c->papi_set);
    if (r == PAPI_ECNFLCT && !c->papi_multiplexed) {
        /* More events than counters: let the kernel time-share them. */
        if (PAPI_multiplex_init() == PAPI_OK && PAPI_set_multiplex(c->papi_set) == PAPI_OK) {
            c->papi_multiplexed = 1;
            r = PAPI_start(c->papi_set);
        }
    }
    if (r == PAPI_OK)
        PAPI_stop(c->papi_set, scratch);
    else
        PAPI_remove_event(c->papi_set, code);
    free(scratch);
    return r;
}

/* Why PAPI cannot count event e without inheritance: probes it alone in a scratch set. */
static void papi_explain(event *e, int cidx)
{
    const char *const *names = e->known ? e->known->papi : (const char *const[]){e->name};
    int n = e->known ? (e->known->papi[1] ? 2 : 1) : 1;
    for (int k = 0; k < n; k++) {
        int code, set = PAPI_NULL, r;
        if ((r = PAPI_event_name_to_code(names[k], &code)) == PAPI_OK &&
            (r = PAPI_create_eventset(&set)) == PAPI_OK) {
            if ((r = PAPI_assign_eventset_component(set, cidx)) == PAPI_OK &&
                (r = PAPI_add_event(set, code)) == PAPI_OK && (r = PAPI_start(set)) == PAPI_OK) {
                long long v;
                PAPI_stop(set, &v);
            }
            PAPI_cleanup_eventset(set);
            PAPI_destroy_eventset(&set);
        }
        if (r == PAPI_OK)
            add_reason(e, "PAPI %s: counts only the calling thread without PAPI_INHERIT",
                       names[k]);
        else
            add_reason(e, "PAPI %s: %s", names[k], PAPI_strerror(r));
    }
}

static void open_papi(slm_counters *c)
{
    if (!papi_ready()) {
        snprintf(c->papi_refused, sizeof c->papi_refused, "%s", papi_init_err);
        for (size_t i = 0; i < c->n; i++)
            add_reason(&c->ev[i], "PAPI: %s", papi_init_err);
        return;
    }
    int cidx = PAPI_get_component_index("perf_event"), r;
    PAPI_option_t opt;
    if (cidx < 0) {
        snprintf(c->papi_refused, sizeof c->papi_refused, "PAPI has no perf_event component");
    } else if ((r = PAPI_create_eventset(&c->papi_set)) != PAPI_OK) {
        c->papi_set = PAPI_NULL;
        snprintf(c->papi_refused, sizeof c->papi_refused, "PAPI_create_eventset: %s",
                 PAPI_strerror(r));
    } else if ((r = PAPI_assign_eventset_component(c->papi_set, cidx)) != PAPI_OK) {
        snprintf(c->papi_refused, sizeof c->papi_refused, "PAPI_assign_eventset_component: %s",
                 PAPI_strerror(r));
    } else {
        memset(&opt, 0, sizeof opt);
        opt.inherit.eventset = c->papi_set;
        opt.inherit.inherit = PAPI_INHERIT_ALL;
        if ((r = PAPI_set_opt(PAPI_INHERIT, &opt)) != PAPI_OK)
            snprintf(c->papi_refused, sizeof c->papi_refused, "PAPI_set_opt(PAPI_INHERIT): %s",
                     PAPI_strerror(r));
    }
    if (c->papi_refused[0]) {
        if (c->papi_set != PAPI_NULL) {
            PAPI_cleanup_eventset(c->papi_set);
            PAPI_destroy_eventset(&c->papi_set);
            c->papi_set = PAPI_NULL;
        }
        for (size_t i = 0; i < c->n; i++) {
            add_reason(&c->ev[i], "PAPI: inheritance refused");
            if (cidx >= 0)
                papi_explain(&c->ev[i], cidx);
        }
        return;
    }
    /* Count the kernel's share too (context switches happen only there); keep PAPI's
     * user-space default where that is not permitted. */
    int user_only = 0;
    memset(&opt, 0, sizeof opt);
    opt.domain.eventset = c->papi_set;
    opt.domain.domain = PAPI_DOM_ALL;
    if (PAPI_set_opt(PAPI_DOMAIN, &opt) != PAPI_OK)
        user_only = 1;

    for (size_t i = 0; i < c->n; i++) {
        event *e = &c->ev[i];
        const char *const *names = e->known ? e->known->papi : (const char *const[]){e->name};
        int n = e->known ? (e->known->papi[1] ? 2 : 1) : 1;
        if (user_only && e->known && e->known->rusage == RUS_CONTEXT_SWITCHES) {
            add_reason(e, "PAPI: only user space may be counted, context switches are not");
            continue;
        }
        for (int k = 0; k < n && e->src == SRC_UNAVAILABLE; k++) {
            int code;
            if ((r = PAPI_event_name_to_code(names[k], &code)) == PAPI_OK)
                r = papi_probe_add(c, code);
            if (r != PAPI_OK) {
                add_reason(e, "PAPI %s: %s", names[k], PAPI_strerror(r));
                continue;
            }
            e->src = SRC_PAPI;
            e->papi_idx = c->npapi++;
            snprintf(e->detail, sizeof e->detail, "%s%s", names[k], user_only ? ":u" : "");
        }
    }
    if (c->npapi == 0)
        return;
    c->papi_vals = slm_xcalloc((size_t)c->npapi, sizeof *c->papi_vals);
    if ((r = PAPI_start(c->papi_set)) == PAPI_OK) {
        c->papi_running = 1;
        for (size_t i = 0; i < c->n; i++)
            if (c->ev[i].src == SRC_PAPI)
                c->ev[i].multiplexed = c->papi_multiplexed;
        return;
    }
    for (size_t i = 0; i < c->n; i++)
        if (c->ev[i].src == SRC_PAPI) {
            c->ev[i].src = SRC_UNAVAILABLE;
            c->ev[i].detail[0] = '\0';
            add_reason(&c->ev[i], "PAPI_start: %s", PAPI_strerror(r));
        }
    c->npapi = 0;
}

/* ---- perf_event source ----------------------------------------------------------------- */

/* Opens one inheriting counter on this thread and its future threads (pid 0, cpu -1).
 * Drops inherit_thread on kernels before 5.13 and kernel-space counting where perf_event_
 * paranoid forbids it (*user_only then 1). Returns the descriptor, or -1 with errno. */
static int perf_open(const known_event *k, int group_fd, int grouped, int *user_only)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = (uint32_t)k->perf_type;
    a.config = k->perf_config;
    a.inherit = 1;
    a.inherit_thread = 1; /* threads only, not forked child processes */
    a.exclude_hv = 1;
    a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING |
                    (grouped ? PERF_FORMAT_GROUP : 0);
    *user_only = 0;
    for (;;) {
        long fd = syscall(SYS_perf_event_open, &a, 0, -1, group_fd, PERF_FLAG_FD_CLOEXEC);
        if (fd >= 0)
            return (int)fd;
        if (errno == EINVAL && a.inherit_thread)
            a.inherit_thread = 0;
        else if ((errno == EACCES || errno == EPERM) && !a.exclude_kernel)
            a.exclude_kernel = *user_only = 1;
        else
            return -1;
    }
}

static void perf_fail(event *e, int err)
{
    add_reason(e, "perf_event_open: %s%s", strerror(err),
               err == ENOENT && e->known->perf_type == PERF_TYPE_HARDWARE && !has_hardware_pmu()
                   ? " (no hardware PMU on this machine)"
                   : "");
}

static void open_perf(slm_counters *c)
{
    int grouping = 1;
    for (size_t i = 0; i < c->n; i++) {
        event *e = &c->ev[i];
        if (e->src != SRC_UNAVAILABLE || !e->known || e->known->perf_type < 0)
            continue;
        int sw = e->known->perf_type == PERF_TYPE_SOFTWARE, user_only = 0, fd;
        if (e->known->rusage == RUS_CONTEXT_SWITCHES) {
            /* Context switches happen in the kernel: a user-space-only counter reads 0.
             * Find out alone, before it joins (and could no longer leave) the group. */
            if ((fd = perf_open(e->known, -1, 0, &user_only)) >= 0)
                close(fd);
            if (user_only) {
                add_reason(e, "perf_event_open: kernel counting not permitted "
                              "(perf_event_paranoid), and context switches happen there");
                continue;
            }
        }
        if (sw && grouping) {
            fd = perf_open(e->known, c->group_fd, 1, &user_only);
            if (fd < 0 && errno == EINVAL) {
                grouping = 0; /* a kernel that cannot read inherited groups */
                fd = perf_open(e->known, -1, 0, &user_only);
            } else if (fd >= 0) {
                if (c->group_fd < 0)
                    c->group_fd = fd;
                e->group_idx = c->ngroup++;
            }
        } else {
            fd = perf_open(e->known, -1, 0, &user_only);
        }
        if (fd < 0) {
            perf_fail(e, errno);
            continue;
        }
        e->fd = fd;
        e->src = SRC_PERF;
        snprintf(e->detail, sizeof e->detail, "%s%s", e->known->perf_name, user_only ? ":u" : "");
    }
    if (c->ngroup)
        c->group_buf = slm_xcalloc(3 + (size_t)c->ngroup, sizeof *c->group_buf);
}

/* ---- the set ---------------------------------------------------------------------------- */

const char *const *slm_counters_default_events(size_t *n)
{
    *n = sizeof DEFAULT_EVENTS / sizeof DEFAULT_EVENTS[0];
    return DEFAULT_EVENTS;
}

int slm_counters_open(const char *const *events, size_t n, slm_counters **out, char *err,
                      size_t errlen)
{
    *out = NULL;
    /* Names first, so that a typo costs nothing and opens nothing. */
    for (size_t i = 0; i < n; i++) {
        int code;
        if (!events[i] || !*events[i])
            return slm_err(err, errlen, "empty event name");
        if (!find_known(events[i]) &&
            (!papi_ready() || PAPI_event_name_to_code(events[i], &code) != PAPI_OK))
            return slm_err(err, errlen,
                           "unknown event '%s' (known: instructions, cycles, cache-misses, "
                           "branch-misses, task-clock, page-faults, context-switches, or a "
                           "PAPI event name)",
                           events[i]);
    }
    slm_counters *c = calloc(1, sizeof *c);
    if (!c || !(c->ev = calloc(n ? n : 1, sizeof *c->ev))) {
        free(c);
        return slm_err(err, errlen, "out of memory");
    }
    c->n = n;
    c->papi_set = PAPI_NULL;
    c->group_fd = -1;
    for (size_t i = 0; i < n; i++) {
        event *e = &c->ev[i];
        e->known = find_known(events[i]);
        e->name = slm_xstrdup(e->known ? e->known->name : events[i]);
        e->papi_idx = e->group_idx = e->fd = -1;
        e->src = SRC_UNAVAILABLE;
    }

    enum source force = forced_source();
    if (force == SRC_UNAVAILABLE || force == SRC_PAPI)
        open_papi(c);
    else
        snprintf(c->papi_refused, sizeof c->papi_refused,
                 "not tried (SLM_COUNTERS_FORCE=%s)", SOURCE_NAMES[force]);
    if (force == SRC_UNAVAILABLE || force == SRC_PERF)
        open_perf(c);

    struct rusage ru;
    int have_ru = (force == SRC_UNAVAILABLE || force == SRC_RUSAGE) && rusage_now(&ru) == 0;
    for (size_t i = 0; i < n; i++) {
        event *e = &c->ev[i];
        if (e->src == SRC_UNAVAILABLE && have_ru && e->known && e->known->rusage) {
            e->src = SRC_RUSAGE;
            e->base = rusage_value(&ru, e->known->rusage);
            snprintf(e->detail, sizeof e->detail, "%s", e->known->rusage_name);
            c->use_rusage = 1;
        }
        if (e->src != SRC_UNAVAILABLE)
            e->reason[0] = '\0';
        else if (force != SRC_UNAVAILABLE)
            add_reason(e, "only the %s source allowed (SLM_COUNTERS_FORCE)", SOURCE_NAMES[force]);
        else if (!e->reason[0])
            add_reason(e, "no source can count it");
    }
    *out = c;
    return 0;
}

size_t slm_counters_count(const slm_counters *c)
{
    return c ? c->n : 0;
}

const char *slm_counters_name(const slm_counters *c, size_t i)
{
    return c->ev[i].name;
}

const char *slm_counters_source(const slm_counters *c, size_t i)
{
    return SOURCE_NAMES[c->ev[i].src];
}

const char *slm_counters_reason(const slm_counters *c, size_t i)
{
    return c->ev[i].reason;
}

const char *slm_counters_unit(const slm_counters *c, size_t i)
{
    return c->ev[i].known ? c->ev[i].known->unit : "count";
}

const char *slm_counters_event(const slm_counters *c, size_t i)
{
    return c->ev[i].detail;
}

int slm_counters_multiplexed(const slm_counters *c, size_t i)
{
    return c->ev[i].multiplexed;
}

const char *slm_counters_papi_refused(const slm_counters *c)
{
    return c->papi_refused[0] ? c->papi_refused : NULL;
}

/* Scales a perf_event count by time_enabled/time_running; INT64_MIN if it never ran. */
static int64_t perf_scaled(uint64_t v, uint64_t enabled, uint64_t running, double *scale)
{
    if (running == 0 && enabled != 0) {
        *scale = NAN;
        return INT64_MIN;
    }
    if (running == enabled) {
        *scale = 1.0;
        return (int64_t)v;
    }
    *scale = (double)enabled / (double)running;
    return (int64_t)((double)v * *scale);
}

int slm_counters_read(slm_counters *c, int64_t *values, double *scale)
{
    int rc = 0, papi_failed = 0, group_failed = 0, ru_failed = 0;
    struct rusage ru;
    if (c->papi_running && PAPI_read(c->papi_set, c->papi_vals) != PAPI_OK)
        papi_failed = rc = -1;
    if (c->group_fd >= 0) {
        size_t want = (3 + (size_t)c->ngroup) * sizeof *c->group_buf;
        if (read(c->group_fd, c->group_buf, want) != (ssize_t)want)
            group_failed = rc = -1;
    }
    if (c->use_rusage && rusage_now(&ru) != 0)
        ru_failed = rc = -1;
    for (size_t i = 0; i < c->n; i++) {
        event *e = &c->ev[i];
        int64_t v = INT64_MIN;
        double s = NAN;
        switch (e->src) {
        case SRC_PAPI:
            if (!papi_failed) {
                v = (int64_t)c->papi_vals[e->papi_idx];
                s = e->multiplexed ? NAN : 1.0;
            }
            break;
        case SRC_PERF:
            if (e->group_idx >= 0) {
                /* { nr, time_enabled, time_running, value[nr] } */
                if (!group_failed)
                    v = perf_scaled(c->group_buf[3 + e->group_idx], c->group_buf[1],
                                    c->group_buf[2], &s);
            } else {
                uint64_t b[3]; /* { value, time_enabled, time_running } */
                if (read(e->fd, b, sizeof b) == (ssize_t)sizeof b)
                    v = perf_scaled(b[0], b[1], b[2], &s);
                else
                    rc = -1;
            }
            e->multiplexed = !isnan(s) && s != 1.0;
            break;
        case SRC_RUSAGE:
            if (!ru_failed) {
                v = rusage_value(&ru, e->known->rusage) - e->base;
                s = 1.0;
            }
            break;
        case SRC_UNAVAILABLE:
            break;
        }
        values[i] = v;
        if (scale)
            scale[i] = s;
    }
    return rc;
}

void slm_counters_close(slm_counters *c)
{
    if (!c)
        return;
    if (c->papi_set != PAPI_NULL) {
        if (c->papi_running)
            PAPI_stop(c->papi_set, c->papi_vals);
        PAPI_cleanup_eventset(c->papi_set);
        PAPI_destroy_eventset(&c->papi_set);
    }
    /* Reverse order: the group's members before its leader. */
    for (size_t i = c->n; i-- > 0;) {
        if (c->ev[i].fd >= 0)
            close(c->ev[i].fd);
        free(c->ev[i].name);
    }
    free(c->group_buf);
    free(c->papi_vals);
    free(c->ev);
    free(c);
}

int64_t slm_process_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- energy and PAPI description -------------------------------------------------------- */

int slm_energy_probe(char *reason, size_t n)
{
    glob_t g;
    int found = 0, readable = 0;
    if (glob("/sys/class/powercap/intel-rapl:*/energy_uj", 0, NULL, &g) == 0) {
        found = (int)g.gl_pathc;
        for (size_t i = 0; i < g.gl_pathc && !readable; i++) {
            int fd = open(g.gl_pathv[i], O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                char b[32];
                readable = read(fd, b, sizeof b) > 0;
                close(fd);
            }
        }
        globfree(&g);
    }
    if (readable) {
        snprintf(reason, n, "powercap RAPL (/sys/class/powercap/intel-rapl:*/energy_uj)");
        return 1;
    }
    char papi_part[300] = "PAPI has no rapl or powercap component";
    if (papi_ready()) {
        int nc = PAPI_num_components();
        for (int i = 0; i < nc; i++) {
            const PAPI_component_info_t *ci = PAPI_get_component_info(i);
            if (!ci || (strcmp(ci->name, "rapl") && strcmp(ci->name, "powercap")))
                continue;
            if (!ci->disabled) {
                snprintf(reason, n, "PAPI component '%s'", ci->name);
                return 1;
            }
            snprintf(papi_part, sizeof papi_part, "PAPI component '%.60s' disabled: %.160s", ci->name,
                     ci->disabled_reason);
        }
    } else {
        snprintf(papi_part, sizeof papi_part, "%s", papi_init_err);
    }
    snprintf(reason, n, "%s; %s",
             found ? "powercap RAPL energy_uj not readable (permission)"
                   : "no /sys/class/powercap/intel-rapl:*/energy_uj (no RAPL powercap interface)",
             papi_part);
    return 0;
}

int slm_papi_info(char *version, size_t vlen, slm_papi_component *comps, size_t max,
                  char *err, size_t errlen)
{
    if (!papi_ready())
        return slm_err(err, errlen, "%s", papi_init_err);
    int v = PAPI_get_opt(PAPI_LIB_VERSION, NULL);
    snprintf(version, vlen, "%d.%d.%d.%d", PAPI_VERSION_MAJOR(v), PAPI_VERSION_MINOR(v),
             PAPI_VERSION_REVISION(v), PAPI_VERSION_INCREMENT(v));
    int nc = PAPI_num_components();
    for (int i = 0; i < nc && (size_t)i < max; i++) {
        const PAPI_component_info_t *ci = PAPI_get_component_info(i);
        slm_papi_component *p = &comps[i];
        snprintf(p->name, sizeof p->name, "%s", ci ? ci->name : "?");
        p->disabled = ci ? ci->disabled : 0;
        snprintf(p->reason, sizeof p->reason, "%s", ci && ci->disabled ? ci->disabled_reason : "");
    }
    return nc < 0 ? 0 : nc;
}
