# The openai engine against tests/server/slm_test_server (real llama.cpp inference on a demo
# model behind an OpenAI-compatible HTTP API): the same answers as the in-process engine,
# streaming TTFT, an API key that is never stored, and every injected server fault ending
# with one row per example (failed ones with their error) that --retry-errors completes.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
. "$(dirname "$0")/openai_lib.sh"

"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/a.gguf" --vocab 40 >/dev/null
start_server
ok "test server listens on 127.0.0.1:$PORT (port 0 picked it)"

# ---- the same answers as the in-process llamacpp engine ----
cat >"$TMP/same.yaml" <<YAML
name: same
evalset: $FX
mode: generate
max_tokens: 4
threads: 1
warmup: 0
candidates:
  - {name: local, model: a.gguf}
  - {name: local-chat, model: a.gguf, chat_template: true}
  - {name: http-completions, engine: openai, model: demo-nb, options: {base_url: "http://127.0.0.1:$PORT/v1", endpoint: completions}}
  - {name: http-chat, engine: openai, model: demo-nb, options: {base_url: "http://127.0.0.1:$PORT/v1", endpoint: chat}}
  - {name: http-stream, engine: openai, model: demo-nb, options: {base_url: "http://127.0.0.1:$PORT/v1", endpoint: completions, stream: 1}}
YAML
expect_exit 0 "generate run against the server and in process" "$SLMBENCH" run "$TMP/same.yaml" --db "$TMP/s.db" --quiet
# pair(A, B): examples where both answered alike, text and confidence (to 1e-9)
pair() {
    sql "$TMP/s.db" "select count(*) from predictions a join candidates ca on ca.id = a.candidate_id
        join predictions b on b.example_idx = a.example_idx join candidates cb on cb.id = b.candidate_id
        where ca.name = '$1' and cb.name = '$2' and a.raw_output = b.raw_output and a.error is null
        and abs(a.confidence - b.confidence) < 1e-9"
}
n=$(pair http-completions local)
[ "$n" = 24 ] && ok "completions endpoint: the same 24 answers and confidences as in process" || notok "completions vs local: $n of 24 alike"
n=$(pair http-chat local-chat)
[ "$n" = 24 ] && ok "chat endpoint: the same 24 answers as in process with the chat template" || notok "chat vs local-chat: $n of 24 alike"
n=$(pair http-stream local)
[ "$n" = 24 ] && ok "streamed answers equal too" || notok "stream vs local: $n of 24 alike"
t=$(sql "$TMP/s.db" "select count(*) from predictions p join candidates c on c.id = p.candidate_id where c.name = 'http-stream' and ttft_ms > 0 and ttft_ms <= e2e_ms and decode_ms >= 0")
[ "$t" = 24 ] && ok "streaming gives TTFT for every example" || notok "streamed rows with TTFT: $t of 24"
t=$(sql "$TMP/s.db" "select count(*) from predictions p join candidates c on c.id = p.candidate_id where c.name = 'http-completions' and ttft_ms is null and n_prompt_tokens > 0 and n_output_tokens >= 1")
[ "$t" = 24 ] && ok "without streaming: token counts from usage, no TTFT claimed" || notok "non-streamed rows: $t of 24"
v=$(sql "$TMP/s.db" "select count(*) from candidates where engine = 'openai' and engine_version like 'openai-compatible (slm_test_server/%' and model_name = 'demo-nb'")
[ "$v" = 3 ] && ok "engine version from the Server header, model name as given" || notok "candidate facts: $v of 3"
cat >"$TMP/score.yaml" <<YAML
name: score
evalset: $FX
candidates:
  - {name: http, engine: openai, model: demo-nb, options: {base_url: "http://127.0.0.1:$PORT/v1"}}
YAML
expect_exit 3 "score mode without score: echo is refused" "$SLMBENCH" run "$TMP/score.yaml" --db "$TMP/sc.db"
expect_err "engine 'openai' cannot score choices with these options \(.*score: echo.*\); use mode: generate" "the refusal says what the engine needs, or generate mode"
cat >"$TMP/echo.yaml" <<YAML
name: echo
evalset: $FX
threads: 1
warmup: 0
candidates:
  - {name: local, model: a.gguf}
  - {name: http, engine: openai, model: demo-nb, options: {base_url: "http://127.0.0.1:$PORT/v1", endpoint: completions, score: echo, retries: 0}}
YAML
expect_exit 4 "score: echo against a server that does not echo (as llama-server)" "$SLMBENCH" run "$TMP/echo.yaml" --db "$TMP/ne.db"
e=$(sql "$TMP/ne.db" "select count(*) from predictions p join candidates c on c.id = p.candidate_id where c.name = 'http' and p.error like '%HTTP 400%echo%is not supported%' and p.correct = 0")
[ "$e" = 24 ] && ok "each example stored with the server's refusal, counted wrong" || notok "refused rows: $e"
stop_server
start_server --echo
expect_exit 0 "score mode over HTTP: a server that echoes prompt log-probabilities (as vLLM)" "$SLMBENCH" run "$TMP/echo.yaml" --db "$TMP/echo.db" --quiet
n=$(sql "$TMP/echo.db" "select count(*) from predictions a join candidates ca on ca.id = a.candidate_id join predictions b on b.example_idx = a.example_idx join candidates cb on cb.id = b.candidate_id where ca.name = 'local' and cb.name = 'http' and a.pred = b.pred and b.error is null and abs(a.confidence - b.confidence) < 1e-9 and abs(json_extract(a.logprobs_json, '\$[1]') - json_extract(b.logprobs_json, '\$[1]')) < 1e-9")
[ "$n" = 24 ] && ok "the same 24 label scores (to 1e-9) as in process" || notok "echo vs local alike: $n of 24"
v=$(sql "$TMP/echo.db" "select count(*) from metrics m join candidates c on c.id = m.candidate_id where c.name = 'http' and m.name in ('ece_15', 'brier', 'nll') and m.value >= 0")
[ "$v" = 3 ] && ok "calibration metrics from the scores served over HTTP" || notok "calibration metrics: $v"
cat >"$TMP/echochat.yaml" <<YAML
name: echochat
evalset: $FX
candidates:
  - {name: http, engine: openai, model: demo-nb, options: {base_url: "http://127.0.0.1:$PORT/v1", endpoint: chat, score: echo}}
YAML
expect_exit 4 "score: echo on the chat endpoint" "$SLMBENCH" run "$TMP/echochat.yaml" --db "$TMP/ec.db"
expect_err "score: echo needs endpoint: completions" "refused: the chat endpoint cannot echo"

# A served model's name passes as written, never resolved as a file (the engine does not
# declare model-file), even when it looks like a relative path.
cat >"$TMP/name.yaml" <<YAML
name: name
evalset: $FX
mode: generate
max_tokens: 4
limit: 2
candidates:
  - {name: http, engine: openai, model: org/demo-nb, options: {base_url: "http://127.0.0.1:$PORT/v1", endpoint: completions}}
YAML
expect_exit 0 "a model name with a slash" "$SLMBENCH" run "$TMP/name.yaml" --db "$TMP/name.db" --quiet
v=$(sql "$TMP/name.db" "select model_name || '|' || model_path || '|' || (model_sha256 is null) from candidates")
[ "$v" = "org/demo-nb|org/demo-nb|1" ] && ok "sent and recorded as written, no file hash" || notok "name recorded: $v"

# ---- the API key: sent, and nowhere kept ----
stop_server
export SLM_TEST_KEY=sk-test-SECRET-123
start_server --require-key-env SLM_TEST_KEY
cfg "$TMP/key.yaml" 24 "api_key_env: SLM_TEST_KEY"
expect_exit 0 "run with an api key the server requires" "$SLMBENCH" run "$TMP/key.yaml" --db "$TMP/key.db"
e=$(sql "$TMP/key.db" "select count(*) from predictions where error is null")
[ "$e" = 24 ] && ok "the key was sent (24 answers)" || notok "answers with the key: $e"
"$SLMBENCH" report last --db "$TMP/key.db" >"$TMP/key.md" 2>>"$TMP/err"
"$SLMBENCH" report last --db "$TMP/key.db" --out "$TMP/keyrep" >/dev/null 2>>"$TMP/err"
d=$(sqlite3 "$TMP/key.db" .dump | grep -c SECRET || true)
[ "$d" = 0 ] && ok "the key is in no table of the database" || notok "the key is in the database ($d lines)"
s=$(cat "$TMP/err" "$TMP/out" | grep -c SECRET || true)
[ "$s" = 0 ] && ok "the key is not in stderr or stdout" || notok "the key was printed ($s lines)"
r=$(cat "$TMP/key.md" "$TMP/keyrep"/* 2>/dev/null | grep -c SECRET || true)
[ "$r" = 0 ] && ok "the key is not in the report" || notok "the key is in the report ($r lines)"
export SLM_WRONG_KEY=sk-test-SECRET-wrong
cfg "$TMP/bad.yaml" 3 "api_key_env: SLM_WRONG_KEY, retries: 0"
expect_exit 4 "a refused key fails the calls" "$SLMBENCH" run "$TMP/bad.yaml" --db "$TMP/bad.db"
e=$(sql "$TMP/bad.db" "select count(*) from predictions where error like '%HTTP 401%' and correct = 0")
[ "$e" = 3 ] && ok "HTTP 401 stored as the error, not retried" || notok "401 rows: $e"
s=$( (cat "$TMP/err"; sqlite3 "$TMP/bad.db" .dump) | grep -c SECRET || true)
[ "$s" = 0 ] && ok "a refused key is not echoed either" || notok "the wrong key leaked ($s lines)"
cfg "$TMP/nokey.yaml" 3 "api_key_env: SLM_NO_SUCH_VARIABLE"
expect_exit 4 "an unset api_key_env variable" "$SLMBENCH" run "$TMP/nokey.yaml" --db "$TMP/nk.db"
expect_err "environment variable 'SLM_NO_SUCH_VARIABLE' \(api_key_env\) is not set" "the variable is named"
stop_server
[ "$(grep -c SECRET "$TMP/srv.err" || true)" = 0 ] && ok "the server did not print the key" || notok "the server printed the key"
unset SLM_TEST_KEY SLM_WRONG_KEY

# ---- faults ----
# fault_case NAME SERVER_FAULT EVERY ENGINE_OPTIONS EXPECT ERROR_PATTERN WHAT
#   EXPECT ok: every example answered, as the healthy server does;
#   EXPECT fail: every example stored with an error matching ERROR_PATTERN and correct = 0.
# Then, in both cases, `run --resume --retry-errors` against a healthy server on the same
# port leaves one row per example and no error.
N=6
start_server
cfg "$TMP/base.yaml" $N "endpoint: completions"
"$SLMBENCH" run "$TMP/base.yaml" --db "$TMP/base.db" --quiet >/dev/null 2>&1 || true
stop_server
echo "# fault table:"
echo "# | fault (server) | engine options | what slmbench did | what was stored |"
fault_case() {
    name=$1 fault=$2 every=$3 opts=$4 expect=$5 pat=$6 what=$7
    start_server --fault "$fault" --fault-every "$every"
    cfg "$TMP/$name.yaml" $N "endpoint: completions, $opts"
    db="$TMP/$name.db"
    if "$SLMBENCH" run "$TMP/$name.yaml" --db "$db" --quiet >"$TMP/out" 2>"$TMP/err"; then rc=0; else rc=$?; fi
    stop_server
    rows=$(sql "$db" "select count(*) || '|' || count(distinct example_idx) from predictions")
    nerr=$(sql "$db" "select count(*) from predictions where error is not null")
    if [ "$expect" = ok ]; then
        same=$(sql "$db" "attach '$TMP/base.db' as b; select count(*) from predictions p join b.predictions q on q.example_idx = p.example_idx where p.raw_output = q.raw_output and p.error is null")
        if [ "$rc" = 0 ] && [ "$rows" = "$N|$N" ] && [ "$same" = $N ]; then
            ok "$name: $N answers, as from a healthy server ($what)"
        else
            notok "$name: exit $rc, rows $rows, $same of $N as the healthy server, $nerr errors"
            sed 's/^/#   /' "$TMP/err" | head -n 5
        fi
        stored="$N answers, no error"
    else
        bad=$(sql "$db" "select count(*) from predictions where error is not null and correct = 0 and pred is null and error like '$pat'")
        if [ "$rc" = 4 ] && [ "$rows" = "$N|$N" ] && [ "$bad" = $N ]; then
            ok "$name: $N rows, each stored with its error and correct = 0 ($what)"
        else
            notok "$name: exit $rc, rows $rows, $bad of $N errors like '$pat'"
            sql "$db" "select error from predictions limit 2" | sed 's/^/#   /'
        fi
        stored="$N rows, correct=0, error '$(sql "$db" "select error from predictions limit 1")'"
    fi
    echo "# | $fault every $every | $opts | $what | $stored |"
    if [ -n "${CHECK_SQL:-}" ]; then
        [ "$(sql "$db" "$CHECK_SQL")" = 1 ] && ok "$name: $CHECK_WHAT" \
            || notok "$name: not so: $CHECK_WHAT (e2e ms: $(sql "$db" "select group_concat(round(e2e_ms)) from predictions"))"
    fi
    CHECK_SQL=""
    start_server
    if "$SLMBENCH" run --resume --retry-errors --db "$db" --quiet >/dev/null 2>"$TMP/err"; then rc=0; else rc=$?; fi
    stop_server
    rows=$(sql "$db" "select count(*) || '|' || count(distinct example_idx) || '|' || count(error) from predictions")
    [ "$rc" = 0 ] && [ "$rows" = "$N|$N|0" ] && ok "$name: --retry-errors on a healthy server completes the run" \
        || notok "$name: after --retry-errors exit $rc, rows|distinct|errors $rows"
}
CHECK_SQL="select min(e2e_ms) >= 300 from predictions" CHECK_WHAT="every answer took at least 300 ms"
fault_case delay delay:300 1 "timeout_ms: 5000" ok "" "waited, answered late"
CHECK_SQL="select count(*) >= 2 from predictions where e2e_ms >= 1000" CHECK_WHAT="Retry-After: 1 honoured"
fault_case 429-half 429 2 "retries: 3" ok "" "retried after Retry-After: 1 s, answered"
fault_case 429-all 429 1 "retries: 1" fail "openai: server answered HTTP 429, 2 times (retries: 1): injected fault: rate limited" "retried once, then gave up"
fault_case 500-half 500 2 "retries: 3" ok "" "retried with backoff, answered"
fault_case 500-all 500 1 "retries: 2" fail "openai: server answered HTTP 500, 3 times (retries: 2): injected fault: server error" "retried twice, then gave up"
fault_case malformed malformed 1 "retries: 3" fail "openai: malformed json from the server at byte %" "failed at once, not retried"
fault_case malformed-stream malformed 1 "retries: 3, stream: 1" fail "openai: malformed json from the server at byte %" "failed at once, not retried"
CHECK_SQL="select min(e2e_ms) >= 600 and max(e2e_ms) < 300 * 2 + 200 + 400 from predictions"
CHECK_WHAT="each call gave up within timeout_ms x attempts (+ backoff)"
fault_case hang hang 1 "timeout_ms: 300, retries: 1" fail "openai: no complete answer within timeout_ms 300, 2 times (retries: 1)" "timed out twice, gave up"
fault_case drop drop 2 "retries: 3" ok "" "connection lost mid-answer, retried, answered"
fault_case drop-stream drop 2 "retries: 3, stream: 1" ok "" "stream cut after a chunk, retried, answered"
fault_case drop-all drop 1 "retries: 1" fail "openai: the server dropped the connection%2 times (retries: 1)" "retried once, then gave up"
CHECK_SQL="select count(*) = $N from predictions where e2e_ms >= 200 and ttft_ms >= 100"
CHECK_WHAT="chunks 100 ms apart, TTFT after the first gap"
fault_case slow-stream slow-stream:100 1 "stream: 1" ok "" "read the slow stream, answered"

# ---- --max-requests ----
start_server --max-requests 2
cfg "$TMP/max.yaml" 4 "endpoint: completions, retries: 0"
"$SLMBENCH" run "$TMP/max.yaml" --db "$TMP/max.db" --quiet >/dev/null 2>&1 || true
i=0
while [ $i -lt 50 ] && kill -0 "$SRV_PID" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$SRV_PID" 2>/dev/null; then notok "the server still runs after --max-requests 2"; else
    ok "the server exits after --max-requests 2"; fi
wait "$SRV_PID" 2>/dev/null || true
SRV_PID=""
e=$(sql "$TMP/max.db" "select sum(error is null) || '|' || count(error) from predictions")
[ "$e" = "2|2" ] && ok "the two requests after it fail, stored with their error" || notok "after the server left: $e"
