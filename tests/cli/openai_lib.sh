# Shared by the tests of the openai engine (sourced after lib.sh, never run): the test
# server's start and stop, and a config with one openai candidate. Needs $FX and $TMP.
BIN=${SLM_TEST_BIN:-$ROOT/build/tests}
ENGDIR=${SLM_ENGINE_DIR:-$ROOT/build/engines}
SERVER="$BIN/slm_test_server"
SRV_PID=""

stop_server() {
    if [ -n "$SRV_PID" ]; then
        kill "$SRV_PID" 2>/dev/null || true
        wait "$SRV_PID" 2>/dev/null || true
        SRV_PID=""
    fi
}
trap 'stop_server; rm -rf "$TMP"' EXIT

# start_server ARGS...: starts the server on $PORT (0 the first time: it picks one and
# prints it), waits at most 10 s for "port N", and sets PORT and SRV_PID.
SRV_N=0
start_server() {
    SRV_N=$((SRV_N + 1))
    "$SERVER" --engine "$ENGDIR/llamacpp.so" --model "$TMP/a.gguf" --name demo-nb \
        --port "${PORT:-0}" "$@" >"$TMP/srv$SRV_N.out" 2>>"$TMP/srv.err" &
    SRV_PID=$!
    i=0
    while [ $i -lt 100 ] && ! grep -q '^port ' "$TMP/srv$SRV_N.out" 2>/dev/null; do
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    PORT=$(sed -n 's/^port //p' "$TMP/srv$SRV_N.out")
    [ -n "$PORT" ] || { notok "test server did not start: $(head -c 300 "$TMP/srv.err")"; exit 1; }
}

# cfg FILE LIMIT OPTIONS [RUN_KEYS]: a generate-mode run with one openai candidate;
# RUN_KEYS are further lines of the run (e.g. "concurrency: 4").
cfg() {
    cat >"$1" <<YAML
name: openai
evalset: $FX
mode: generate
max_tokens: 4
warmup: 0
limit: $2
commit_every: 1
${4:-}
candidates:
  - {name: srv, engine: openai, model: demo-nb, options: {base_url: "http://127.0.0.1:$PORT/v1", $3}}
YAML
}

