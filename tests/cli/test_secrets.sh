# Secrets (issue 16): a key never reaches the database, stderr, a report or an export —
# whichever engine met it (an openai server that echoes the key it was sent, an exec
# program that prints it), however it was given (inline in the config, through
# api_key_env, in the environment), and also when an older slmbench stored it unredacted.
# Ordinary text that resembles a key stays. And the output sanitising of the same issue:
# `report --json` escapes DEL and the C1 controls, the candidate lines and the progress
# line on stderr show a name's control characters visibly.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
. "$(dirname "$0")/openai_lib.sh"

# leaks PATTERN FILE...: lines holding PATTERN in the files (0 is good)
leaks() { p=$1; shift; cat "$@" 2>/dev/null | grep -c -- "$p" || true; }

# everything DB: the database dumped, its reports (md, html, json) and every export of the
# tables that hold text, into $TMP/all (stderr of the commands appended too)
everything() {
    sqlite3 "$1" .dump >"$TMP/all"
    "$SLMBENCH" report last --db "$1" >>"$TMP/all" 2>&1 || true
    "$SLMBENCH" report last --db "$1" --format html >>"$TMP/all" 2>&1 || true
    "$SLMBENCH" report last --db "$1" --json >>"$TMP/all" 2>&1 || true
    for t in runs candidates predictions; do
        "$SLMBENCH" export table "$t" last --db "$1" >>"$TMP/all" 2>&1 || true
    done
}

# ---- an openai server that quotes the key back (echo-auth: a 401 with the header) ----
if [ -x "$SERVER" ]; then
    "$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/a.gguf" --vocab 40 >/dev/null
    export SLM_SECRETS_KEY="zq9-PlainShape-4471"   # no pattern would know it: only as the key
    start_server --fault echo-auth
    cfg "$TMP/oa.yaml" 3 "api_key_env: SLM_SECRETS_KEY, retries: 0"
    if "$SLMBENCH" run "$TMP/oa.yaml" --db "$TMP/oa.db" --no-progress >"$TMP/out" 2>"$TMP/err"; then rc=0; else rc=$?; fi
    stop_server
    everything "$TMP/oa.db"
    n=$(leaks Shape-4471 "$TMP/all" "$TMP/err" "$TMP/out")
    e=$(sql "$TMP/oa.db" "select count(*) from predictions where error like '%Authorization: Bearer [redacted]%'")
    [ "$rc" = 4 ] && [ "$n" = 0 ] && [ "$e" = 3 ] \
        && ok "openai: a key echoed by the server is in no table, stderr line, report (md, html, json) or export; the 3 errors keep their words" \
        || { notok "openai echo: exit $rc, $n lines with the key, $e redacted errors"; grep -- Shape-4471 "$TMP/all" "$TMP/err" | head -n 3 | sed 's/^/#   /'; }
    unset SLM_SECRETS_KEY
else
    skip "openai echo ($SERVER not built)"
fi

# ---- an exec program that prints the key (stderr, its error answers, its death) ----
cat >"$TMP/leaky.sh" <<'SH'
#!/bin/sh
echo "starting with $MY_API_KEY" >&2
while IFS= read -r line; do
    id=$(printf '%s' "$line" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
    echo "request $id: key $MY_API_KEY token $MY_SERVICE_TOKEN" >&2
    [ -n "${DIE:-}" ] && exit 3
    printf '{"id": "%s", "error": "denied for %s (token %s) sk-learn max_tokens: 4"}\n' \
        "$id" "$MY_API_KEY" "$MY_SERVICE_TOKEN"
done
SH
chmod +x "$TMP/leaky.sh"
export MY_SERVICE_TOKEN="envTok-5523-abc"          # inherited: a secret-named variable
cat >"$TMP/ex.yaml" <<YAML
name: leaky
evalset: $FX
mode: generate
warmup: 0
limit: 3
candidates:
  - {name: answers, engine: exec, options: {command: '$TMP/leaky.sh', restarts: 0, env: 'MY_API_KEY=inlineKey-8817;LANG=C'}}
  - {name: dies, engine: exec, options: {command: '$TMP/leaky.sh', restarts: 0, env: 'MY_API_KEY=inlineKey-8817;DIE=1'}}
YAML
if "$SLMBENCH" run "$TMP/ex.yaml" --db "$TMP/ex.db" --no-progress >"$TMP/out" 2>"$TMP/err"; then rc=0; else rc=$?; fi
everything "$TMP/ex.db"
n=$(leaks Key-8817 "$TMP/all" "$TMP/err" "$TMP/out")
m=$(leaks Tok-5523 "$TMP/all" "$TMP/err" "$TMP/out")
e=$(sql "$TMP/ex.db" "select count(*) from predictions where error like '%denied for [redacted] (token [redacted]) sk-learn max_tokens: 4%'")
d=$(sql "$TMP/ex.db" "select count(*) from predictions p join candidates c on c.id = p.candidate_id where c.name = 'dies' and p.error like '%key [redacted] token [redacted]%'")
o=$(sql "$TMP/ex.db" "select count(*) from candidates where options_json like '%MY\_API\_KEY=[redacted];%' escape '\\'")
[ "$rc" = 4 ] && [ "$n" = 0 ] && [ "$m" = 0 ] && [ "$e" = 3 ] && [ "$d" -ge 1 ] && [ "$o" = 2 ] \
    && ok "exec: a key given inline (env option) and one inherited (MY_SERVICE_TOKEN) are redacted from errors, the quoted stderr, options, config, stderr, reports and exports; sk-learn and max_tokens stay" \
    || { notok "exec: exit $rc, lines with the inline key $n, with the inherited $m, redacted answers $e, deaths $d, options $o"; grep -- 'Key-8817\|Tok-5523' "$TMP/all" "$TMP/err" | head -n 3 | sed 's/^/#   /'; sql "$TMP/ex.db" "select error from predictions limit 4" | sed 's/^/#   /'; }
c=$(sql "$TMP/ex.db" "select config_text like '%MY_API_KEY=[redacted];LANG=C%' and config_text not like '%8817%' from runs")
[ "$c" = 1 ] && ok "the stored config keeps its text with the inline key redacted" \
    || { notok "stored config: $c"; sql "$TMP/ex.db" "select config_text from runs" | grep env | sed 's/^/#   /'; }
unset MY_SERVICE_TOKEN

# ---- a database written before redaction existed: rendered redacted ----
cp "$TMP/ex.db" "$TMP/old.db"
sql "$TMP/old.db" "update predictions set error = 'HTTP 401: Authorization: Bearer legacyTok-12345678 key sk-LegacyKey0123456789abcd at https://u:legacyPw@host/v1, sk-learn stays';
    update candidates set error = 'api_key: legacyVal99', options_json = '{\"api_key\":\"legacyVal99\"}';
    update runs set error = 'x-api-key=legacyVal99', config_text = config_text || '# api_key: legacyVal99'"
everything "$TMP/old.db"
sed -n '/^INSERT/!p' "$TMP/all" >"$TMP/rendered" # the dump itself holds the old rows, of course
n=$(grep -c 'legacyTok\|LegacyKey\|legacyPw\|legacyVal' "$TMP/rendered" || true)
s=$(grep -c 'sk-learn stays' "$TMP/rendered" || true)
[ "$n" = 0 ] && [ "$s" -ge 1 ] && ok "an unredacted older database: reports (md, html, json) and exports redact its errors, options and config; sk-learn stays" \
    || { notok "older database: $n lines with a secret, $s with sk-learn"; grep 'legacy\|Legacy' "$TMP/rendered" | head -n 3 | sed 's/^/#   /'; }

# ---- output sanitising: DEL and C1 in report --json, ESC on stderr ----
cp "$TMP/ex.db" "$TMP/ctl.db"
sql "$TMP/ctl.db" "update candidates set name = 'c' || char(127) || 'x' || char(133) || 'y' || char(155) || 'z' where name = 'answers'"
"$SLMBENCH" report last --db "$TMP/ctl.db" --json >"$TMP/j.json" 2>"$TMP/err" || true
raw=$(LC_ALL=C grep -c "$(printf '\177')\|$(printf '\302\205')\|$(printf '\302\233')" "$TMP/j.json" || true)
if grep -qF 'c\u007fx\u0085y\u009bz' "$TMP/j.json" && [ "$raw" = 0 ] \
    && python3 -c 'import json,sys; n=[c["name"] for r in json.load(open(sys.argv[1]))["runs"] for c in r["candidates"]]; sys.exit(0 if "c\x7fx\x85y\x9bz" in n else 1)' "$TMP/j.json" 2>/dev/null; then
    ok "report --json writes DEL and C1 controls as \\u007f, \\u0085, \\u009b (and reads back as the same name)"
else
    notok "report --json: $raw raw control lines"; grep -a '"name"' "$TMP/j.json" | head -n 3 | od -c | head -n 5 | sed 's/^/#   /'
fi
cat >"$TMP/esc.yaml" <<YAML
name: esc
evalset: $FX
mode: generate
warmup: 0
limit: 2
candidates:
  - {name: "red\e[31mname\e]0;title\a", engine: exec, options: {command: '$TMP/leaky.sh', restarts: 0}}
YAML
"$SLMBENCH" run "$TMP/esc.yaml" --db "$TMP/esc.db" --no-progress >"$TMP/out" 2>"$TMP/err" || true
esc=$(grep -c "$(printf '\033')\|$(printf '\007')" "$TMP/err" || true)
grep -qF 'red\x1b[31mname\x1b]0;title\x07' "$TMP/err" && [ "$esc" = 0 ] \
    && ok "stderr: a candidate name's ESC and BEL are shown as \\x1b, \\x07, never sent raw" \
    || { notok "stderr: $esc lines with raw ESC/BEL"; od -c "$TMP/err" | head -n 6 | sed 's/^/#   /'; }
# the progress line (on a terminal only: script(1) gives the run one)
if command -v script >/dev/null 2>&1; then
    rm -f "$TMP/esc.db"
    script -qec "$SLMBENCH run '$TMP/esc.yaml' --db '$TMP/esc.db' 2>&1 >/dev/null" "$TMP/tty" >/dev/null 2>&1 </dev/null || true
    # the bar's own \r and \033[K stay; the name's ESC (before "[31m") and BEL must not
    bad=$(grep -c "red$(printf '\033')\|$(printf '\007')" "$TMP/tty" || true)
    grep -qF 'red\x1b[31mn' "$TMP/tty" && [ "$bad" = 0 ] \
        && ok "progress line: the candidate's name escaped (\\x1b), the bar's own control sequences kept" \
        || { notok "progress line: $bad raw, escaped name $(grep -cF 'red\x1b' "$TMP/tty" || true)"; od -c "$TMP/tty" | head -n 8 | sed 's/^/#   /'; }
else
    skip "progress line (script(1) not installed)"
fi

# ---- resuming a run whose stored config had a key redacted ----
# The stored text says MY_API_KEY=[redacted]; the resume reads the config file instead
# (its SHA-256 is the stored one), so the program gets the real key; a changed file is
# refused rather than run with "[redacted]" as the key.
cat >"$TMP/keycheck.sh" <<SH
#!/bin/sh
while IFS= read -r line; do
    id=\$(printf '%s' "\$line" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
    if [ -f "$TMP/fail-now" ] || [ "\$MY_API_KEY" != inlineKey-8817 ]; then
        printf '{"id": "%s", "error": "refused"}\n' "\$id"
    else
        printf '{"id": "%s", "text": "billing"}\n' "\$id"
    fi
done
SH
chmod +x "$TMP/keycheck.sh"
cat >"$TMP/res.yaml" <<YAML
name: res
evalset: $FX
mode: generate
warmup: 0
limit: 3
candidates:
  - {name: k, engine: exec, options: {command: '$TMP/keycheck.sh', env: 'MY_API_KEY=inlineKey-8817'}}
YAML
touch "$TMP/fail-now"
"$SLMBENCH" run "$TMP/res.yaml" --db "$TMP/res.db" --quiet >/dev/null 2>&1 || true
cp "$TMP/res.db" "$TMP/res2.db"
rm -f "$TMP/fail-now"
if "$SLMBENCH" run --resume --retry-errors --db "$TMP/res.db" --quiet >"$TMP/out" 2>"$TMP/err"; then rc=0; else rc=$?; fi
e=$(sql "$TMP/res.db" "select count(*) || '|' || count(error) from predictions")
[ "$rc" = 0 ] && [ "$e" = "3|0" ] && ok "resume of a redacted config reads the unchanged config file: the program gets the real key" \
    || { notok "resume: exit $rc, rows|errors $e"; sed 's/^/#   /' "$TMP/err" | head -n 3; }
echo "# changed" >>"$TMP/res.yaml"
expect_exit 3 "resume refused when the config file changed since (its key was redacted from the stored copy)" \
    "$SLMBENCH" run --resume --retry-errors --db "$TMP/res2.db" --quiet
expect_err "its stored config had secrets redacted, and '.*res.yaml' is no longer the file it started with" \
    "the refusal says why and what to do"
