#!/bin/sh
# The test server's knee (issue 18 item 6): `slmbench run` with the openai engine and
# `concurrency: N` (N = 1, 2, 4, 8) against tests/server/slm_test_server with --slots 1
# and --slots 2 (one thread per slot), on a demo candidate (qwen3-nb-q8_0). Per
# point: requests/s and output tokens/s over the time the run spent inside the engine
# (the candidate's engine_ms: at concurrency 1 the sum of the calls, above it the wall
# time of generate_many; warm-up excluded, as is the storing between chunks) and the
# median end-to-end latency; medians of alternating rounds, both servers up side by side. Throughput should
# rise with concurrency up to min(slots, cores) and then stay flat while latency grows;
# the cores are counted and printed, since slmbench's client shares them with the slots.
# Timings are printed, never judged (the machines are shared and noisy).
#   bench/perf/bench_slots.sh SLMBENCH [BUILD] [DIR]
# Two tables: the servers as they are (compute on this machine's cores, which slmbench's
# client shares), then with --slot-ms (each inference holds its slot at least that long,
# asleep: a device's compute, off the CPU), where slots 2 can give 2x whatever the cores.
# SLM_BENCH_SLOTS_N requests per point (default 120), SLM_BENCH_SLOTS_ROUNDS rounds
# (default 3, odd), SLM_BENCH_SLOT_MS (default 100: well above an inference's CPU time on a
# busy 2-core machine, so the hold is its own; its table runs N/2 requests per point), SLM_BENCH_SLOTS_MODEL (a demo model of
# build/demo/models, default qwen3-nb-q8_0, a candidate of bench/demo.yaml).
set -eu
export LC_ALL=C LC_NUMERIC=C
SLMBENCH=$1
BUILD=${2:-$(dirname "$SLMBENCH")}
DIR=${3:-build/bench}/slots
N=${SLM_BENCH_SLOTS_N:-120}
ROUNDS=${SLM_BENCH_SLOTS_ROUNDS:-3}
SLOT_MS=${SLM_BENCH_SLOT_MS:-100}
mkdir -p "$DIR"
sh bench/models/demo-models.sh "$SLMBENCH" build/demo/models >/dev/null
M=$(cd build/demo/models && pwd)/${SLM_BENCH_SLOTS_MODEL:-qwen3-nb-q8_0}.gguf
ES=$(cd evalsets/support-triage && pwd)

PIDS=""
stop_all() { for p in $PIDS; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; PIDS=""; }
trap stop_all EXIT INT TERM
# start SLOTS [ARGS]: a server with that many slots (in this shell, so that stop_all has
# its pid).
start() {
    s=$1
    shift
    rm -f "$DIR/server$s.out"
    "$BUILD/tests/slm_test_server" --engine "$BUILD/engines/llamacpp.so" --model "$M" \
        --name nb --threads 1 --slots "$s" "$@" >"$DIR/server$s.out" 2>"$DIR/server$s.err" &
    PIDS="$PIDS $!"
}
# port SLOTS: waits (at most 30 s) for that server's port and prints it.
port() {
    i=0
    while [ $i -lt 300 ] && ! grep -q '^port ' "$DIR/server$1.out" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    sed -n 's/^port //p' "$DIR/server$1.out" 2>/dev/null
}

# point PORT CONC: one `slmbench run`; prints "requests/s tokens/s p50_ms errors".
point() {
    db="$DIR/p.db"
    rm -f "$db" "$db-wal" "$db-shm"
    cat >"$DIR/p.yaml" <<YAML
name: bench-slots
evalset: $ES
mode: generate
max_tokens: 4
warmup: 3
limit: $N
bandwidth: false
bootstrap: 0
concurrency: $2
candidates:
  - {name: srv, engine: openai, model: nb, options: {base_url: "http://127.0.0.1:$1/v1", endpoint: completions}}
YAML
    "$SLMBENCH" run "$DIR/p.yaml" --db "$db" --quiet >/dev/null 2>"$DIR/run.err" || true
    sqlite3 -batch -noheader -separator ' ' "$db" \
        "select printf('%.2f %.2f %.2f %d',
                (select count(*) from predictions) / (c.engine_ms / 1000.0),
                (select sum(n_output_tokens) from predictions) / (c.engine_ms / 1000.0),
                (select e2e_ms from predictions order by e2e_ms limit 1
                 offset (select count(*) / 2 from predictions)),
                (select count(error) from predictions))
         from candidates c" 2>/dev/null || echo "nan nan nan $N"
}
med() { printf '%s\n' $1 | sort -g | sed -n "$(( (ROUNDS + 1) / 2 ))p"; }

# table [SERVER_ARGS]: both servers up, the four concurrencies, rounds alternating.
table() {
    start 1 "$@"
    start 2 "$@"
    P1=$(port 1) P2=$(port 2)
    if [ -z "$P1" ] || [ -z "$P2" ]; then
        echo "   (the test server did not start: $(cat "$DIR"/server*.err))"
        stop_all
        return 1
    fi
    printf '  %-11s | %-33s | %-33s | %s\n' "concurrency" "slots 1: req/s   tok/s  p50 ms" \
        "slots 2: req/s   tok/s  p50 ms" "slots 2 / slots 1 (req/s)"
    for c in 1 2 4 8; do
        r1="" t1="" l1="" r2="" t2="" l2="" e=0
        for round in $(seq "$ROUNDS"); do
            set -- $(point "$P1" "$c")
            r1="$r1 $1" t1="$t1 $2" l1="$l1 $3" e=$((e + $4))
            echo "${SECTION} slots 1 concurrency $c round $round: $*" >>"$DIR/rounds.txt"
            set -- $(point "$P2" "$c")
            r2="$r2 $1" t2="$t2 $2" l2="$l2 $3" e=$((e + $4))
            echo "${SECTION} slots 2 concurrency $c round $round: $*" >>"$DIR/rounds.txt"
        done
        a=$(med "$r1") b=$(med "$r2")
        printf '  %-11s | %13s %7s %8s   | %13s %7s %8s   | %s%s\n' "$c" "$a" "$(med "$t1")" \
            "$(med "$l1")" "$b" "$(med "$t2")" "$(med "$l2")" \
            "$(awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0) printf "%.2fx", b / a; else print "-" }')" \
            "$([ "$e" = 0 ] || echo " ($e requests failed: see $DIR/run.err)")"
    done
    stop_all
}

cores=$(nproc)
rm -f "$DIR/rounds.txt"
echo "# req/s tok/s p50_ms errors per run" >"$DIR/rounds.txt"
echo "test server slots: slmbench run (openai engine, concurrency N) against slm_test_server"
echo "--slots 1 and --slots 2 (1 thread per slot), $(basename "$M" .gguf), $N requests per point,"
echo "medians of $ROUNDS alternating rounds. This machine has $cores cores (nproc), shared by the"
echo "slots and slmbench's own client: at most min(slots, $cores) inferences run at once."
echo "as is (inference on the CPU):"
SECTION=cpu
table
N=$((N / 2))
echo "with --slot-ms $SLOT_MS (each inference holds its slot >= $SLOT_MS ms, mostly asleep, as on an"
echo "accelerator: the knee of the slots themselves, past the cores' contention), $N requests:"
SECTION=slot-ms
table --slot-ms "$SLOT_MS"
echo "  each run's numbers: $DIR/rounds.txt; uptime: $(uptime)"
