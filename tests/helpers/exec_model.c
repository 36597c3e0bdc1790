/*
 * exec_model.c — a tiny "model" for the exec engine's tests: speaks the JSON-lines
 * protocol of engines/exec/PROTOCOL.md on stdin/stdout and misbehaves on request.
 *
 * The answer is a fixed function of the ticket text (the prompt after "Ticket: " up to the
 * end of that line, else the whole prompt): "billing" if it holds a billing word, else
 * "shipping" for a shipping word, else "technical". generate returns that label as one
 * token with log-probability -0.1; score gives -0.1 to the choice equal to the label
 * (surrounding spaces ignored) and -3 to the others, one token each.
 *
 * Flags:
 *   --crash-after N   on request N+1, print a line to stderr and exit(3) without answering
 *   --hang-on ID      on request ID, sleep forever (only SIGKILL or SIGTERM end it)
 *   --garbage-on ID   on request ID, print a line that is not JSON
 *   --wrong-id-on ID  on request ID, answer with the id "not-ID"
 *   --error-on ID     on request ID, answer {"id": ID, "error": "..."}
 *   --slow MS         sleep MS milliseconds before each answer
 *   --no-caps         no hello line (so the program can only generate)
 *   --ignore-term     ignore SIGTERM (close() must then SIGKILL)
 * Exits 0 at the end of its input.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const BILLING[] = {"charg", "invoice", "refund", "payment", "fee", "bill",
                                      "card", NULL};
static const char *const SHIPPING[] = {"package", "tracking", "courier", "parcel", "ship",
                                       "deliver", "transit", NULL};

static int has_any(const char *text, size_t n, const char *const *words)
{
    for (size_t w = 0; words[w]; w++) {
        size_t k = strlen(words[w]);
        for (size_t i = 0; i + k <= n; i++)
            if (!strncmp(text + i, words[w], k))
                return 1;
    }
    return 0;
}

static const char *label_of(const char *prompt)
{
    const char *t = strstr(prompt, "Ticket: ");
    t = t ? t + 8 : prompt;
    const char *nl = strchr(t, '\n');
    size_t n = nl ? (size_t)(nl - t) : strlen(t);
    if (has_any(t, n, BILLING))
        return "billing";
    if (has_any(t, n, SHIPPING))
        return "shipping";
    return "technical";
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void emit(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    printf("%s\n", s);
    fflush(stdout);
    free(s);
    json_decref(o);
}

static int is(const char *id, const char *flag_value)
{
    return flag_value && !strcmp(id, flag_value);
}

int main(int argc, char **argv)
{
    long crash_after = -1, slow = 0;
    const char *hang = NULL, *garbage = NULL, *wrong = NULL, *fail = NULL;
    int caps = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-caps"))
            caps = 0;
        else if (!strcmp(a, "--ignore-term"))
            signal(SIGTERM, SIG_IGN);
        else if (v && !strcmp(a, "--crash-after"))
            crash_after = atol(argv[++i]);
        else if (v && !strcmp(a, "--slow"))
            slow = atol(argv[++i]);
        else if (v && !strcmp(a, "--hang-on"))
            hang = argv[++i];
        else if (v && !strcmp(a, "--garbage-on"))
            garbage = argv[++i];
        else if (v && !strcmp(a, "--wrong-id-on"))
            wrong = argv[++i];
        else if (v && !strcmp(a, "--error-on"))
            fail = argv[++i];
        else {
            fprintf(stderr, "exec_model: unknown argument '%s'\n", a);
            return 2;
        }
    }
    if (caps) {
        printf("{\"slmbench\": 1, \"caps\": [\"generate\", \"score\", \"token_logprobs\"], "
               "\"name\": \"exec_model\", \"version\": \"1.0\"}\n");
        fflush(stdout);
    }
    char *line = NULL;
    size_t cap = 0;
    long n = 0;
    while (getline(&line, &cap, stdin) > 0) {
        json_t *rq = json_loads(line, 0, NULL);
        const char *id = json_string_value(json_object_get(rq, "id"));
        const char *op = json_string_value(json_object_get(rq, "op"));
        const char *prompt = json_string_value(json_object_get(rq, "prompt"));
        if (!id || !op || !prompt) {
            fprintf(stderr, "exec_model: bad request: %s", line);
            json_decref(rq);
            continue;
        }
        if (crash_after >= 0 && ++n > crash_after) {
            fprintf(stderr, "exec_model: crashing on request %ld ('%s')\n", n, id);
            exit(3);
        }
        if (is(id, hang)) {
            fprintf(stderr, "exec_model: hanging on '%s'\n", id);
            for (;;)
                pause();
        }
        if (slow > 0)
            sleep_ms(slow);
        json_t *r = json_object();
        json_object_set_new(r, "id", json_string(is(id, wrong) ? "not-it" : id));
        const char *label = label_of(prompt);
        if (is(id, garbage)) {
            printf("this is not json {\n");
            fflush(stdout);
            json_decref(r);
        } else if (is(id, fail)) {
            json_object_set_new(r, "error", json_string("injected failure"));
            emit(r);
        } else if (!strcmp(op, "generate")) {
            json_object_set_new(r, "text", json_string(label));
            json_object_set_new(r, "tokens", json_integer(1));
            json_object_set_new(r, "logprobs", json_pack("[f]", -0.1));
            emit(r);
        } else if (!strcmp(op, "score")) {
            json_t *ch = json_object_get(rq, "choices"), *lp = json_array(), *nt = json_array(), *x;
            size_t i;
            json_array_foreach(ch, i, x)
            {
                const char *c = json_string_value(x);
                while (c && *c == ' ')
                    c++;
                json_array_append_new(lp, json_real(c && !strcmp(c, label) ? -0.1 : -3.0));
                json_array_append_new(nt, json_integer(1));
            }
            json_object_set_new(r, "logprobs", lp);
            json_object_set_new(r, "tokens", nt);
            emit(r);
        } else {
            json_object_set_new(r, "error", json_string("unknown op"));
            emit(r);
        }
        json_decref(rq);
    }
    free(line);
    return 0;
}
