/*
 * redact.h — secrets never stored, printed or rendered: the core's side of
 * engines/slm_redact.h (which defines what looks like a secret, once, for the core and the
 * plugins alike).
 *
 * Where it applies: the store redacts every error it writes (predictions, candidates,
 * runs: one place, so every engine is covered), the run's config text and each
 * candidate's options; slmbench's messages on stderr (errors, warnings, -v lines) and the
 * reports, exports and comparisons redact what they read back, so a database written
 * before redaction existed leaks nothing either.
 *
 * Known secrets are registered at run time, before any engine opens: the values of
 * options that name a secret (slm_secret_name), of the environment variables that options
 * such as api_key_env name, of KEY=VALUE entries of an `env` option whose KEY names a
 * secret, and of slmbench's own environment variables whose names name a secret
 * (OPENAI_API_KEY, HF_TOKEN; those only when SLM_SECRET_ENV_MIN bytes or longer, so a
 * USE_TOKEN=true does not make every "true" disappear). The set is process-wide and
 * guarded by a mutex; registration copies the value.
 */
#ifndef SLM_REDACT_CORE_H
#define SLM_REDACT_CORE_H

#include "util.h"
#include "slm_redact.h"

#define SLM_SECRET_ENV_MIN 8

/* Whether an option or variable name names a secret: the free-text rule of slm_redact.h,
 * and also a lone key, token, apikey, api_key (names of options are not prose). */
int slm_secret_name(const char *name);

/* Registers value as a known secret (copied); one shorter than SLM_SECRET_MIN, NULL, or
 * already known is ignored. */
void slm_secret_add(const char *value);

/* Registers what the option name: value makes secret: value itself when name names a
 * secret; getenv(value) when name is <secret name>_env (api_key_env: VAR); each VALUE of
 * "KEY=VALUE;KEY=VALUE" whose KEY names a secret when name is env. */
void slm_secret_add_option(const char *name, const char *value);

/* Registers slmbench's environment variables whose names name a secret (values of at
 * least SLM_SECRET_ENV_MIN bytes). */
void slm_secret_add_environ(void);

/* Forgets every registered secret and frees them (NULL-safe to call twice). */
void slm_secrets_clear(void);

/* Appends s (NULL: nothing) to b with every secret replaced by SLM_REDACTED. */
void slm_redact_append(slm_buf *b, const char *s);

/* s redacted, newly allocated (caller frees); NULL for NULL. */
char *slm_redact(const char *s);

/* The one door of slmbench's messages on stderr (errors, warnings, notes): fmt formatted,
 * every secret redacted and every control character shown visibly (slm_ctl_esc; line
 * feeds and tabs kept), then written to f. */
void slm_say(FILE *f, const char *fmt, ...) SLM_PRINTF(2, 3);
void slm_vsay(FILE *f, const char *fmt, va_list ap);

/* Redacts the message in err (errlen bytes) in place; a message that no longer fits is
 * cut. */
void slm_redact_err(char *err, size_t errlen);

#endif
