/*
 * slm_redact.h — what looks like a secret in a message, defined once: the core
 * (harness/common/redact.c, applied where slmbench stores, prints and renders text) and
 * the engine plugins (the openai engine's own error messages) both redact through this
 * header, so the two can never disagree. Header-only, like slm_plugin.h, so a plugin built
 * on the public headers alone can use it; nothing here allocates.
 *
 * A secret, at a position of a text, is one of (the bytes replaced by SLM_REDACTED; what
 * stands before the secret is kept):
 *   - a known secret (the caller's list: a configured key), byte for byte, at least
 *     SLM_SECRET_MIN bytes long; also its start where the text ends inside it (a message
 *     cut short), if that start is SLM_SECRET_MIN bytes or more;
 *   - the token of `Bearer <token>` (any case): at least SLM_BEARER_MIN characters of
 *     [A-Za-z0-9-._~+/=] holding a digit or one of -._~+/= ("the bearer of information"
 *     is prose and stays);
 *   - an `sk-` key: "sk-" starting a word, then at least SLM_SK_MIN characters of
 *     [A-Za-z0-9_-] of which at least two are digits ("sk-learn" and
 *     "sk-learn-pipeline-v2" stay, "sk-proj-4f9Qx..." goes);
 *   - the value of a name that names a secret, written `name: value`, `name=value` or
 *     `"name": "value"`: the name's last word (words split at _ - .) is apikey, secret,
 *     password, passwd or authorization (not pwd: PWD is the
 *     working directory), or it is `token` or `key` after another
 *     word where the key is api/access/secret/private (api_key, hf_token, x-api-key,
 *     OPENAI_API_KEY, client_secret; not max_tokens, not a lone "key:" or "token:", which
 *     appear in ordinary messages). A quoted value ends at its quote, a bare one at white
 *     space or one of "',;&)]}<>. For authorization, a scheme word (Basic, Bearer) stays;
 *   - the password of a URL's userinfo, `scheme://user:password@host` (the user stays).
 * Already redacted text is left as it is: redacting twice changes nothing.
 */
#ifndef SLM_REDACT_H
#define SLM_REDACT_H

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#define SLM_REDACTED "[redacted]"
#define SLM_SECRET_MIN 4 /* a known secret shorter than this is not searched for */
#define SLM_BEARER_MIN 8
#define SLM_SK_MIN 16

static inline int slm_rd_ident(int c)
{
    return isalnum(c) || c == '_' || c == '-' || c == '.';
}

static inline int slm_rd_tok68(int c)
{
    return isalnum(c) || (c && strchr("-._~+/=", c));
}

/* Whether name[0..n) names a secret in free text (the rule above). */
static inline int slm_rd_secret_word(const char *name, size_t n)
{
    static const char *const ALONE[] = {"apikey", "secret", "password", "passwd",
                                        "authorization"};
    static const char *const PAIRED[] = {"key", "token"};
    size_t w = n;
    while (w > 0 && name[w - 1] != '_' && name[w - 1] != '-' && name[w - 1] != '.')
        w--;
    const char *last = name + w;
    size_t ll = n - w;
    for (size_t k = 0; k < sizeof ALONE / sizeof *ALONE; k++)
        if (ll == strlen(ALONE[k]) && !strncasecmp(last, ALONE[k], ll))
            return 1;
    if (w < 2) /* a lone "key" or "token" */
        return 0;
    for (size_t k = 0; k < sizeof PAIRED / sizeof *PAIRED; k++)
        if (ll == strlen(PAIRED[k]) && !strncasecmp(last, PAIRED[k], ll)) {
            if (k == 1) /* any xx_token */
                return 1;
            size_t p = w - 1; /* the word before "key" */
            while (p > 0 && name[p - 1] != '_' && name[p - 1] != '-' && name[p - 1] != '.')
                p--;
            static const char *const KEYS[] = {"api", "access", "secret", "private"};
            for (size_t j = 0; j < sizeof KEYS / sizeof *KEYS; j++)
                if (w - 1 - p == strlen(KEYS[j]) && !strncasecmp(name + p, KEYS[j], w - 1 - p))
                    return 1;
        }
    return 0;
}

/* Length of the value starting at p (quoted by q when q is a quote, else bare). */
static inline size_t slm_rd_value(const char *p, char q)
{
    size_t t = 0;
    if (q)
        while (p[t] && p[t] != q && p[t] != '\n')
            t++;
    else
        while (p[t] && !isspace((unsigned char)p[t]) && !strchr("\"',;&)]}<>", p[t]))
            t++;
    return t;
}

/* `name<sep>value` at s[i] (i starts the name): bytes to the value's end, *keep those up
 * to the value's start; 0 if none. */
static inline size_t slm_rd_named(const char *s, size_t i, size_t *keep)
{
    const char *p = s + i;
    size_t n = 0;
    if (i > 0 && slm_rd_ident((unsigned char)s[i - 1]))
        return 0;
    while (slm_rd_ident((unsigned char)p[n]))
        n++;
    if (!n || !slm_rd_secret_word(p, n))
        return 0;
    size_t k = n;
    if (p[k] == '"' || p[k] == '\'')
        k++;
    while (p[k] == ' ')
        k++;
    if (p[k] != ':' && p[k] != '=')
        return 0;
    k++;
    while (p[k] == ' ' || p[k] == '\t')
        k++;
    char q = p[k] == '"' || p[k] == '\'' ? p[k] : 0;
    k += q != 0;
    if (n >= 13 && !strncasecmp(p + n - 13, "authorization", 13)) { /* keep a scheme */
        size_t w = 0;
        while (isalpha((unsigned char)p[k + w]))
            w++;
        if (w && p[k + w] == ' ')
            k += w + 1;
    }
    size_t v = slm_rd_value(p + k, q);
    if (!v || p[k] == '[' || p[k] == '{')
        return 0;
    *keep = k;
    return k + v;
}

/* A URL's password at s[i] (i at "://"): bytes to the '@', *keep up to the ':'. */
static inline size_t slm_rd_userinfo(const char *s, size_t i, size_t *keep)
{
    const char *p = s + i;
    if (strncmp(p, "://", 3))
        return 0;
    size_t k = 3, colon = 0;
    for (; p[k] && p[k] != '@' && p[k] != '/' && !isspace((unsigned char)p[k]) && p[k] != '"'
           && p[k] != '\'';
         k++)
        if (p[k] == ':' && !colon)
            colon = k;
    if (p[k] != '@' || !colon || k == colon + 1)
        return 0;
    *keep = colon + 1;
    return k;
}

/* `Bearer <token>` or `sk-<key>` at s[i]: bytes of the match, *keep those kept. */
static inline size_t slm_rd_token(const char *s, size_t i, size_t *keep)
{
    const char *p = s + i;
    int word_start = i == 0 || !slm_rd_ident((unsigned char)s[i - 1]);
    if (word_start && !strncasecmp(p, "bearer ", 7)) {
        size_t k = 7, t, strong = 0;
        while (p[k] == ' ')
            k++;
        for (t = k; slm_rd_tok68((unsigned char)p[t]); t++)
            strong += !isalpha((unsigned char)p[t]);
        *keep = k;
        return t - k >= SLM_BEARER_MIN && strong ? t : 0;
    }
    if (word_start && !strncmp(p, "sk-", 3)) {
        size_t t = 3, digits = 0;
        for (; isalnum((unsigned char)p[t]) || p[t] == '_' || p[t] == '-'; t++)
            digits += isdigit((unsigned char)p[t]) != 0;
        *keep = 0;
        return t - 3 >= SLM_SK_MIN && digits >= 2 ? t : 0;
    }
    return 0;
}

/* Bytes of the secret at s[i] (0 if none) given the known secrets[0..n); *keep gets the
 * bytes of the match that stay before SLM_REDACTED ("Bearer ", "api_key: "). */
static inline size_t slm_redact_at(const char *s, size_t i, const char *const *secrets,
                                   size_t n, size_t *keep)
{
    const char *p = s + i;
    size_t best = 0, m;
    *keep = 0;
    for (size_t k = 0; k < n; k++) { /* the whole secret, or its start where s ends */
        const char *q = secrets[k];
        size_t c = 0;
        if (!q || p[0] != q[0])
            continue;
        while (q[c] && p[c] == q[c])
            c++;
        if ((!q[c] || !p[c]) && c >= SLM_SECRET_MIN && c > best)
            best = c;
    }
    if (best)
        return best;
    if ((m = slm_rd_token(s, i, keep)) || (m = slm_rd_named(s, i, keep))
        || (m = slm_rd_userinfo(s, i, keep)))
        return m;
    *keep = 0;
    return 0;
}

/* Writes s into out (cap bytes, NUL-terminated) with every secret replaced by
 * SLM_REDACTED; a text that no longer fits is cut. out and s must not overlap. Returns
 * the bytes written. */
static inline size_t slm_redact_into(char *out, size_t cap, const char *s,
                                     const char *const *secrets, size_t n)
{
    size_t o = 0;
    if (!cap)
        return 0;
    for (size_t i = 0; s[i] && o + 1 < cap;) {
        size_t keep, m = slm_redact_at(s, i, secrets, n, &keep);
        if (!m) {
            out[o++] = s[i++];
            continue;
        }
        for (size_t k = 0; k < keep && o + 1 < cap; k++)
            out[o++] = s[i + k];
        for (const char *r = SLM_REDACTED; *r && o + 1 < cap; r++)
            out[o++] = *r;
        i += m;
    }
    out[o] = '\0';
    return o;
}

#endif
