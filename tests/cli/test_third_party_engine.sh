#!/bin/sh
# A third party builds an engine with the two public headers alone (engines/slm_engine.h,
# engines/slm_plugin.h) — strict C11, no slmbench source, no core library — and slmbench
# loads it from SLM_ENGINE_PATH and runs an evaluation with it.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/eng" "$TMP/src"
cp "$ROOT/engines/slm_engine.h" "$ROOT/engines/slm_plugin.h" "$TMP/src/"
cat >"$TMP/src/keyword.c" <<'C'
/* keyword: scores a label 0 when its word occurs in the prompt, else -penalty. */
#include "slm_engine.h"
#include "slm_plugin.h"

#include <string.h>

struct slm_engine {
    double penalty;
};

static int kw_open(const slm_options *opts, slm_engine **out, char *err, size_t errlen)
{
    slm_engine *e = slm_plugin_calloc(1, sizeof *e);
    if (!e)
        return slm_plugin_oom(err, errlen);
    e->penalty = 5;
    const char *p = slm_plugin_opt(opts, "penalty");
    if (p && slm_plugin_parse_double(p, &e->penalty)) {
        free(e);
        return slm_plugin_err(err, errlen, "option penalty: not a number: '%s'", p);
    }
    *out = e;
    return 0;
}

static int kw_info(slm_engine *e, slm_model_info *info, char *err, size_t errlen)
{
    (void)e, (void)err, (void)errlen;
    info->caps = SLM_CAP_SCORE;
    strcpy(info->name, "keyword");
    return 0;
}

static int kw_score(slm_engine *e, const slm_request *req, const char *const *choices,
                    size_t n, slm_score_result **out, char *err, size_t errlen)
{
    slm_score_result *r = slm_plugin_calloc(1, sizeof *r);
    if (r) {
        r->kind = SLM_RESULT_SCORE;
        r->n = n;
        r->logprob = slm_plugin_calloc(n ? n : 1, sizeof *r->logprob);
        r->n_tokens = slm_plugin_calloc(n ? n : 1, sizeof *r->n_tokens);
    }
    if (!r || !r->logprob || !r->n_tokens) {
        slm_result_free_plain(r);
        return slm_plugin_oom(err, errlen);
    }
    for (size_t i = 0; i < n; i++) {
        const char *w = choices[i];
        while (*w == ' ')
            w++;
        r->logprob[i] = strstr(req->prompt, w) ? 0.0 : -e->penalty;
        r->n_tokens[i] = 1;
    }
    *out = r;
    return 0;
}

static void kw_close(slm_engine *e)
{
    free(e);
}

static const slm_engine_vtable vtable = {
    .abi_version = SLM_ENGINE_ABI_VERSION,
    .struct_size = sizeof(slm_engine_vtable),
    .name = "keyword",
    .version = "0.1",
    .description = "a third-party engine built on the two public headers",
    .caps = SLM_CAP_SCORE,
    .open = kw_open,
    .info = kw_info,
    .score = kw_score,
    .result_free = slm_result_free_plain,
    .close = kw_close,
};

const slm_engine_vtable *slm_engine_entry(void)
{
    return &vtable;
}
C
if ${CC:-cc} -std=c11 -pedantic -Wall -Wextra -Werror -fPIC -shared -I"$TMP/src" \
    "$TMP/src/keyword.c" -o "$TMP/eng/keyword.so" 2>"$TMP/cc.err"; then
    ok "an engine builds from the two headers alone (-std=c11 -pedantic -Werror)"
else
    notok "the two-header engine does not build"; sed 's/^/#   /' "$TMP/cc.err" | head -n 20
fi
undef=$(nm -D --undefined-only "$TMP/eng/keyword.so" | awk '$2 ~ /^slm_/ {print $2}' | tr '\n' ' ')
[ -z "$undef" ] && ok "it needs no slmbench symbol" || notok "it needs: $undef"

export SLM_ENGINE_PATH="$TMP/eng"
expect_exit 0 "engines lists it" "$SLMBENCH" engines
expect_out '^keyword +enabled' "keyword is enabled"

cat >"$TMP/kw.yaml" <<YAML
name: third-party
evalset: $ROOT/tests/fixtures/tiny
warmup: 0
bandwidth: false
counters: false
candidates:
  - {name: kw, engine: keyword, options: {penalty: 3}}
YAML
expect_exit 0 "a run with the third-party engine" "$SLMBENCH" run "$TMP/kw.yaml" --db "$TMP/k.db" --quiet
st=$(sql "$TMP/k.db" "select status from candidates")
n=$(sql "$TMP/k.db" "select count(*) from predictions where error is null")
t=$(sql "$TMP/k.db" "select count(*) from examples")
[ "$st" = ok ] && [ "$n" = "$t" ] && [ "$n" -gt 0 ] && ok "every example scored ($n)" ||
    notok "status $st, $n of $t predictions"
sed -i 's/penalty: 3/penalty: lots/' "$TMP/kw.yaml"
"$SLMBENCH" run "$TMP/kw.yaml" --db "$TMP/k2.db" --quiet >"$TMP/out" 2>"$TMP/err" || true
grep -q "penalty: not a number" "$TMP/err" "$TMP/out" 2>/dev/null &&
    ok "its own error reaches the user" || notok "no engine error: $(cat "$TMP/err")"
