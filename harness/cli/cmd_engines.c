/* cmd_engines.c — `slmbench engines`: every plugin found, its status and capabilities. */
#include "cli.h"
#include "opts.h"

#include <jansson.h>
#include <string.h>

int cmd_engines(int argc, char **argv)
{
    int as_json = 0;
    slm_opt opts[] = {
        SLM_OPT_JSON(&as_json),
        {0},
    };
    const slm_cmd cmd = {
        .name = "engines",
        .synopsis = "engines",
        .about = "Lists the engine plugins found (in $SLM_ENGINE_PATH, <bin>/engines,\n"
                 "<bin>/../lib/slmbench/engines), whether each is usable, and why not.\n",
        .opts = opts,
    };
    size_t np;
    int prc = slm_opts_parse(&cmd, argc, argv, 1, NULL, &np);
    if (prc != SLM_OPTS_GO)
        return prc;
    slm_plugins *ps = slm_plugins_load_all();
    json_t *arr = json_array();
    int w = (int)strlen("CAPABILITIES"); /* the widest capability list sets the column */
    for (size_t i = 0; i < ps->n; i++) {
        char caps[256] = "-";
        if (ps->items[i].vt)
            slm_caps_str(ps->items[i].vt->caps, caps, sizeof caps);
        if ((int)strlen(caps) > w)
            w = (int)strlen(caps);
    }
    if (!as_json)
        printf("%-10s %-9s %-8s %-*s %s\n", "ENGINE", "STATUS", "VERSION", w, "CAPABILITIES",
               "DETAILS");
    for (size_t i = 0; i < ps->n; i++) {
        slm_plugin *p = &ps->items[i];
        char caps[256] = "-";
        const char *version = "-";
        const char *desc = "";
        if (p->vt) {
            slm_caps_str(p->vt->caps, caps, sizeof caps);
            version = p->vt->version;
            desc = p->vt->description ? p->vt->description : "";
        }
        if (as_json) {
            json_t *o = json_object();
            json_object_set_new(o, "name", json_string(p->name));
            json_object_set_new(o, "enabled", json_boolean(p->enabled));
            json_object_set_new(o, "version", p->vt ? json_string(version) : json_null());
            json_object_set_new(o, "capabilities", json_string(caps));
            json_object_set_new(o, "path", json_string(p->path));
            json_object_set_new(o, "reason", p->enabled ? json_null() : json_string(p->reason));
            json_array_append_new(arr, o);
        } else {
            printf("%-10s %-9s %-8s %-*s %s\n", p->name, p->enabled ? "enabled" : "disabled",
                   version, w, caps, p->enabled ? desc : p->reason);
        }
    }
    if (as_json) {
        char *s = json_dumps(arr, JSON_INDENT(2));
        puts(s);
        free(s);
    } else if (ps->n == 0) {
        printf("(no engine plugins found)\n");
    }
    json_decref(arr);
    slm_plugins_free(ps);
    return SLM_EXIT_OK;
}
