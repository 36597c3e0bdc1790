/* redact.c — see redact.h. */
#include "redact.h"
#include "ctlesc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char **known;
static size_t n_known, cap_known;

int slm_secret_name(const char *name)
{
    static const char *const LONE[] = {"key", "token", "apikey", "api_key", "api-key"};
    if (!name || !*name)
        return 0;
    for (size_t k = 0; k < sizeof LONE / sizeof *LONE; k++)
        if (!strcasecmp(name, LONE[k]))
            return 1;
    return slm_rd_secret_word(name, strlen(name));
}

void slm_secret_add(const char *value)
{
    if (!value || strlen(value) < SLM_SECRET_MIN)
        return;
    pthread_mutex_lock(&lock);
    size_t k = 0;
    while (k < n_known && strcmp(known[k], value))
        k++;
    if (k == n_known) {
        if (n_known == cap_known) {
            cap_known = cap_known ? 2 * cap_known : 8;
            known = slm_xrealloc(known, cap_known * sizeof *known);
        }
        known[n_known++] = slm_xstrdup(value);
    }
    pthread_mutex_unlock(&lock);
}

/* The VALUEs of "KEY=VALUE;KEY=VALUE" (the exec engine's env) whose KEY names a secret. */
static void add_env_list(const char *list)
{
    char *copy = slm_xstrdup(list), *save = NULL;
    for (char *kv = strtok_r(copy, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            continue;
        *eq = '\0';
        if (slm_secret_name(slm_trim(kv)))
            slm_secret_add(eq + 1);
    }
    free(copy);
}

void slm_secret_add_option(const char *name, const char *value)
{
    if (!name || !value)
        return;
    size_t n = strlen(name);
    if (slm_secret_name(name)) {
        slm_secret_add(value);
    } else if (n > 4 && !strcmp(name + n - 4, "_env")) {
        char *stem = slm_xstrndup(name, n - 4);
        if (slm_secret_name(stem))
            slm_secret_add(getenv(value));
        free(stem);
    } else if (!strcmp(name, "env")) {
        add_env_list(value);
    }
}

void slm_secret_add_environ(void)
{
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || strlen(eq + 1) < SLM_SECRET_ENV_MIN)
            continue;
        char *name = slm_xstrndup(*e, (size_t)(eq - *e));
        if (slm_secret_name(name))
            slm_secret_add(eq + 1);
        free(name);
    }
}

void slm_secrets_clear(void)
{
    pthread_mutex_lock(&lock);
    for (size_t k = 0; k < n_known; k++)
        free(known[k]);
    free(known);
    known = NULL;
    n_known = cap_known = 0;
    pthread_mutex_unlock(&lock);
}

void slm_redact_append(slm_buf *b, const char *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; s[i];) {
        size_t keep, m = slm_redact_at(s, i, (const char *const *)known, n_known, &keep);
        if (!m) {
            size_t j = i + 1; /* a run of bytes no secret starts in: one append */
            while (s[j] && !slm_redact_at(s, j, (const char *const *)known, n_known, &keep))
                j++;
            slm_buf_append(b, s + i, j - i);
            i = j;
            continue;
        }
        slm_buf_append(b, s + i, keep);
        slm_buf_puts(b, SLM_REDACTED);
        i += m;
    }
    pthread_mutex_unlock(&lock);
    if (!b->data)
        slm_buf_puts(b, "");
}

char *slm_redact(const char *s)
{
    if (!s)
        return NULL;
    slm_buf b = {0};
    slm_redact_append(&b, s);
    return slm_buf_take(&b);
}

void slm_redact_err(char *err, size_t errlen)
{
    if (!err || !errlen)
        return;
    err[errlen - 1] = '\0';
    char *r = slm_redact(err);
    snprintf(err, errlen, "%s", r);
    free(r);
}

void slm_vsay(FILE *f, const char *fmt, va_list ap)
{
    slm_buf raw = {0}, out = {0};
    slm_buf_vprintf(&raw, fmt, ap);
    char *r = slm_redact(raw.data ? raw.data : "");
    slm_ctl_text(&out, r);
    if (out.data)
        fputs(out.data, f);
    free(r);
    slm_buf_free(&raw);
    slm_buf_free(&out);
}

void slm_say(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    slm_vsay(f, fmt, ap);
    va_end(ap);
}
