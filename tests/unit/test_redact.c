/*
 * test_redact.c — redact.c and engines/slm_redact.h: each kind of secret (a known one, its
 * start at the end of a cut message, Bearer, sk-, name: value, URL userinfo) replaced and
 * what stands around it kept; ordinary text that resembles a secret left alone (sk-learn,
 * max_tokens, "the bearer of"); redacting twice changes nothing; registration from
 * options, from api_key_env's variable and from an `env` list; a message cut to its
 * buffer. The expected strings are written out by hand from the rules in slm_redact.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "redact.h"
#include "util.h"

static void same(const char *in, const char *want)
{
    char *got = slm_redact(in);
    if (strcmp(got, want))
        fail_msg("redact(\"%s\")\n  got  \"%s\"\n  want \"%s\"", in, got, want);
    char *again = slm_redact(got); /* idempotent */
    assert_string_equal(again, got);
    free(again);
    free(got);
}

static void patterns_are_redacted(void **state)
{
    (void)state;
    slm_secrets_clear();
    same("HTTP 401: Authorization: Bearer hunter2-SECRET-plain",
         "HTTP 401: Authorization: Bearer [redacted]");
    same("bad key sk-test-SECRET-123456.", "bad key [redacted].");
    same("key=sk-proj-4f9Qx7Lm2PzT8vWc", "key=[redacted]");
    same("api_key: abc123, next", "api_key: [redacted], next");
    same("{\"api_key\": \"s3cr3t value\"}", "{\"api_key\": \"[redacted]\"}");
    same("OPENAI_API_KEY=xyz987;DEBUG=1", "OPENAI_API_KEY=[redacted];DEBUG=1");
    same("x-api-key: q1w2e3r4", "x-api-key: [redacted]");
    same("hf_token=hf_abcdefgh", "hf_token=[redacted]");
    same("password = 'pa ss'", "password = '[redacted]'");
    same("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [redacted]");
    same("cannot reach 'http://u:sk-SECRET-abcdefgh@127.0.0.1:1/v1'",
         "cannot reach 'http://u:[redacted]@127.0.0.1:1/v1'");
    same("https://user:p@ss@host/x", "https://user:[redacted]@ss@host/x");
}

static void ordinary_text_stays(void **state)
{
    (void)state;
    slm_secrets_clear();
    const char *plain[] = {
        "sk-learn",
        "uses sk-learn-pipeline-v2 for features",     /* 17 after sk-, one digit */
        "task-sk-1234567890abcdefgh",                 /* sk- inside a word */
        "the bearer of information",                  /* prose: no digit, no symbol */
        "Bearer short1",                              /* under SLM_BEARER_MIN */
        "max_tokens: 4",
        "tokens: 12",
        "key: label",                                 /* a lone key in prose */
        "unexpected token: '}'",
        "sort_key=label",                             /* key after a non-secret word */
        "api_key_env: SLM_KEY",                       /* names a variable, not a secret */
        "api_key: [redacted]",
        "ssh://git@github.com/x",                     /* a user without a password */
        "http://127.0.0.1:8080/v1",
        "",
    };
    for (size_t k = 0; k < sizeof plain / sizeof *plain; k++)
        same(plain[k], plain[k]);
}

static void known_secrets(void **state)
{
    (void)state;
    slm_secrets_clear();
    slm_secret_add("abc"); /* under SLM_SECRET_MIN: not searched */
    slm_secret_add("hunter2word");
    same("abc hunter2word!", "abc [redacted]!");
    same("cut inside: hunter2w", "cut inside: [redacted]");
    same("too short to tell: hun", "too short to tell: hun");
    same("hunter2wor d", "hunter2wor d"); /* not at the end: a different word */
    slm_secrets_clear();
    same("hunter2word", "hunter2word");
}

static void registration(void **state)
{
    (void)state;
    slm_secrets_clear();
    setenv("SLM_TEST_KEY_VAR", "plainvalue42", 1);
    slm_secret_add_option("api_key_env", "SLM_TEST_KEY_VAR");
    slm_secret_add_option("token", "tok-value");
    slm_secret_add_option("model", "demo-model");
    slm_secret_add_option("env", "MY_API_KEY=envlistval; LANG=C.UTF-8");
    slm_secret_add_option("max_tokens_env", "HOME"); /* not a secret's variable */
    same("a plainvalue42 b tok-value c envlistval d demo-model C.UTF-8",
         "a [redacted] b [redacted] c [redacted] d demo-model C.UTF-8");
    char *home = getenv("HOME");
    if (home && strlen(home) >= SLM_SECRET_MIN)
        same(home, home);
    assert_true(slm_secret_name("api_key") && slm_secret_name("key") && slm_secret_name("TOKEN"));
    assert_true(slm_secret_name("OPENAI_API_KEY") && slm_secret_name("client_secret"));
    assert_false(slm_secret_name("max_tokens") || slm_secret_name("api_key_env"));
    assert_false(slm_secret_name("monkey") || slm_secret_name("base_url"));
    assert_false(slm_secret_name("PWD") || slm_secret_name("OLDPWD")); /* the cwd */
    setenv("SLM_TEST_ACCESS_TOKEN", "environ-secret-1", 1);
    setenv("SLM_TEST_USE_TOKEN", "true", 1); /* under SLM_SECRET_ENV_MIN */
    slm_secret_add_environ();
    same("environ-secret-1 true", "[redacted] true");
    slm_secrets_clear();
}

static void err_buffer_cut(void **state)
{
    (void)state;
    slm_secrets_clear();
    slm_secret_add("k1");
    char err[24];
    snprintf(err, sizeof err, "%s", "x Bearer abcdefgh1234567890"); /* cut to 23 bytes */
    slm_redact_err(err, sizeof err);
    assert_string_equal(err, "x Bearer [redacted]");
    char small[12];
    snprintf(small, sizeof small, "%s", "sk-abcdefghij12345678"); /* no longer a key */
    slm_redact_err(small, sizeof small);
    assert_string_equal(small, "sk-abcdefgh");
    char out[16];
    const char *secrets[] = {"0123456789"};
    assert_int_equal(slm_redact_into(out, sizeof out, "id 0123456789 and more", secrets, 1), 15);
    assert_string_equal(out, "id [redacted] a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(patterns_are_redacted),
        cmocka_unit_test(ordinary_text_stays),
        cmocka_unit_test(known_secrets),
        cmocka_unit_test(registration),
        cmocka_unit_test(err_buffer_cut),
    };
    return cmocka_run_group_tests_name("redact", tests, NULL, NULL);
}
