/* cmd_counters.c — `slmbench counters`: which event counters work here, from which source,
 * and why the others do not (DESIGN §7). */
#include "cli.h"
#include "counters.h"
#include "opts.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
    "Probes each event (the default set, or the comma-separated LIST of short names such as\n"
    "instructions,task-clock or PAPI names such as PAPI_TOT_INS) by adding and starting it,\n"
    "and lists the source that counts it for the whole process (papi, perf_event,\n"
    "getrusage) or why none can; then PAPI's version, whether it accepted inheritance, its\n"
    "components, and whether energy (RAPL) can be measured.\n"
    "SLM_COUNTERS_FORCE=papi|perf_event|getrusage restricts every event to one source.\n";

#define MAX_COMPONENTS 32

/* Splits LIST at commas into a new array of trimmed names (caller frees both). */
static int split_events(const char *list, char **buf, const char ***names, size_t *n)
{
    *buf = slm_xstrdup(list);
    *names = slm_xcalloc(strlen(list) + 1, sizeof **names);
    *n = 0;
    for (char *tok = *buf, *next; tok; tok = next) {
        next = strchr(tok, ',');
        if (next)
            *next++ = '\0';
        tok = slm_trim(tok);
        if (!*tok)
            return -1;
        (*names)[(*n)++] = tok;
    }
    return 0;
}

static json_t *json_str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

/* What the probe found beyond the events: PAPI, its components, energy. */
typedef struct probe {
    char version[32];
    slm_papi_component comps[MAX_COMPONENTS];
    char papi_err[SLM_ERRLEN];
    int ncomp; /* < 0: PAPI unavailable (papi_err says why) */
    char energy[512];
    int energy_ok;
    const char *refused, *forced;
} probe;

static void print_json(slm_counters *c, const probe *pr)
{
    json_t *root = json_object(), *evs = json_array(), *papi = json_object();
    for (size_t i = 0; i < slm_counters_count(c); i++) {
        json_t *o = json_object();
        const char *src = slm_counters_source(c, i);
        json_object_set_new(o, "name", json_string(slm_counters_name(c, i)));
        json_object_set_new(o, "available", json_boolean(strcmp(src, "unavailable") != 0));
        json_object_set_new(o, "source", json_string(src));
        json_object_set_new(o, "event", json_str_or_null(slm_counters_event(c, i)));
        json_object_set_new(o, "unit", json_string(slm_counters_unit(c, i)));
        json_object_set_new(o, "multiplexed", json_boolean(slm_counters_multiplexed(c, i)));
        json_object_set_new(o, "reason", json_str_or_null(slm_counters_reason(c, i)));
        json_array_append_new(evs, o);
    }
    json_object_set_new(root, "events", evs);
    json_object_set_new(root, "forced_source", json_str_or_null(pr->forced));
    json_object_set_new(papi, "initialised", json_boolean(pr->ncomp >= 0));
    json_object_set_new(papi, "error", json_str_or_null(pr->ncomp < 0 ? pr->papi_err : NULL));
    json_object_set_new(papi, "version", json_str_or_null(pr->version));
    json_object_set_new(papi, "inherit", json_boolean(pr->refused == NULL));
    json_object_set_new(papi, "inherit_refused", json_str_or_null(pr->refused));
    json_t *cs = json_array();
    for (int i = 0; i < pr->ncomp; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(pr->comps[i].name));
        json_object_set_new(o, "enabled", json_boolean(!pr->comps[i].disabled));
        json_object_set_new(o, "disabled_reason", json_str_or_null(pr->comps[i].reason));
        json_array_append_new(cs, o);
    }
    json_object_set_new(papi, "components", cs);
    json_object_set_new(root, "papi", papi);
    json_t *en = json_object();
    json_object_set_new(en, "available", json_boolean(pr->energy_ok));
    json_object_set_new(en, pr->energy_ok ? "source" : "reason", json_string(pr->energy));
    json_object_set_new(root, "energy", en);
    char *s = json_dumps(root, JSON_INDENT(2));
    puts(s);
    free(s);
    json_decref(root);
}

static void print_text(slm_counters *c, const probe *pr)
{
    int w = 16;
    for (size_t i = 0; i < slm_counters_count(c); i++)
        if ((int)strlen(slm_counters_name(c, i)) > w)
            w = (int)strlen(slm_counters_name(c, i));
    printf("%-*s %-11s %-5s %-32s %s\n", w, "EVENT", "SOURCE", "UNIT", "COUNTS",
           "WHY UNAVAILABLE");
    for (size_t i = 0; i < slm_counters_count(c); i++) {
        const char *ev = slm_counters_event(c, i);
        printf("%-*s %-11s %-5s %-32s %s\n", w, slm_counters_name(c, i),
               slm_counters_source(c, i), slm_counters_unit(c, i), *ev ? ev : "-",
               slm_counters_reason(c, i));
    }
    if (pr->forced)
        printf("\nsource forced: SLM_COUNTERS_FORCE=%s\n", pr->forced);
    if (pr->ncomp < 0) {
        printf("\nPAPI: unavailable: %s\n", pr->papi_err);
    } else {
        const char *how = !pr->refused                            ? "accepted"
                          : !strncmp(pr->refused, "not tried", 9) ? "" : "refused: ";
        printf("\nPAPI %s: inheritance %s%s\n", pr->version, how,
               pr->refused ? pr->refused : "");
        printf("PAPI components:\n");
        for (int i = 0; i < pr->ncomp; i++)
            printf("  %-18s %s%s\n", pr->comps[i].name,
                   pr->comps[i].disabled ? "disabled: " : "enabled", pr->comps[i].reason);
    }
    printf("\nenergy: %s%s\n", pr->energy_ok ? "available: " : "unavailable: ", pr->energy);
}

int cmd_counters(int argc, char **argv)
{
    int as_json = 0;
    const char *list = NULL;
    slm_opt opts[] = {
        {.name = "events", .arg = "LIST", .kind = SLM_OPT_STR, .target = &list,
         .help = "the events to probe, comma-separated"},
        SLM_OPT_JSON(&as_json),
        {0},
    };
    const slm_cmd cmd = {
        .name = "counters",
        .synopsis = "counters",
        .about = ABOUT,
        .opts = opts,
    };
    size_t np;
    int prc = slm_opts_parse(&cmd, argc, argv, 1, NULL, &np);
    if (prc != SLM_OPTS_GO)
        return prc;

    char *buf = NULL;
    const char **names = NULL;
    const char *const *events;
    size_t n;
    if (list) {
        if (split_events(list, &buf, &names, &n) != 0) {
            free(buf);
            free(names);
            return slm_opts_usage_error(&cmd, "empty event name in '--events %s'", list);
        }
        events = names;
    } else {
        events = slm_counters_default_events(&n);
    }
    char err[SLM_ERRLEN];
    slm_counters *c;
    int rc = slm_counters_open(events, n, &c, err, sizeof err);
    free(buf);
    free(names);
    if (rc != 0)
        return slm_die(SLM_EXIT_USAGE, "%s", err);

    probe pr = {.version = "", .papi_err = ""};
    pr.ncomp = slm_papi_info(pr.version, sizeof pr.version, pr.comps, MAX_COMPONENTS,
                             pr.papi_err, sizeof pr.papi_err);
    if (pr.ncomp > MAX_COMPONENTS)
        pr.ncomp = MAX_COMPONENTS;
    pr.energy_ok = slm_energy_probe(pr.energy, sizeof pr.energy);
    pr.refused = slm_counters_papi_refused(c);
    pr.forced = getenv("SLM_COUNTERS_FORCE");
    if (as_json)
        print_json(c, &pr);
    else
        print_text(c, &pr);
    slm_counters_close(c);
    return SLM_EXIT_OK;
}
