#!/bin/sh
# `make bench`: benchmarks of slmbench itself. Prints ratios measured side by side in one
# run (never timed assertions: the machines are shared and noisy).
#   bench/perf/run.sh SLMBENCH [BUILD]
# BUILD (default: the folder of SLMBENCH) holds engines/ and the programs of bench/perf/*.c
# in bench/. BENCH_THREADS (default 2) sets the engine's threads for the scoring and
# throughput benches. BENCH_ONLY=shapes runs only the realistic shapes section,
# BENCH_ONLY=overhead only the harness against a direct loop of score() in interleaved
# rounds (bench/perf/overhead.sh; BENCH_ROUNDS, BENCH_ROUND_EXAMPLES, BENCH_SEED),
# BENCH_ONLY=labels only score mode at real label counts (bench_labels.c; BENCH_EXAMPLES,
# BENCH_LABEL_EXAMPLES, SLM_SHARED), BENCH_ONLY=gate-noise only the latency gate under load (bench/perf/gate_noise.sh),
# BENCH_ONLY=ingest only `slmbench ingest` (bench/perf/ingest.sh; SLM_BENCH_INGEST_ROWS),
# BENCH_ONLY=many only generate_many in process (bench_many), BENCH_ONLY=loadgen only the load generator's own cost (bench_loadgen;
# BENCH_LOADGEN_SECONDS, BENCH_LOADGEN_RATES, BENCH_LOADGEN_CAP), BENCH_ONLY=slots only the
# test server's slots (bench_slots.sh), and BENCH_ONLY=prodlog77 (asked for by name only,
# ~10 minutes) the production review of a generated banking77 log
# (tests/cli/test_prodlog_shared.sh with SLM_SLOW_TESTS=1; needs ../shared).
set -eu
export LC_ALL=C
SLMBENCH=$1
BUILD=${2:-$(dirname "$SLMBENCH")}
DIR=build/bench
mkdir -p "$DIR"

# slmbench on models in the shapes of published small models at Q4_K_M (built once into
# build/bench/shapes/, ~1.2 GiB, reused while newer than slmbench): prefill and decode
# through `slmbench run` against a direct libllama loop, the decode's share of the
# memory-bandwidth roofline, peak RSS. SLM_BENCH_SHAPES picks the shapes; about 5
# minutes on a quiet 2-core machine, much longer on a busy one (see bench_shapes.c).
shapes_section() {
    echo "realistic shapes: slmbench run against a direct libllama loop (bench_shapes)"
    "$BUILD/bench/bench_shapes" "$SLMBENCH" evalsets/support-triage "$DIR/shapes" ||
        echo "   (bench_shapes failed; see the messages above)"
    echo "   uptime: $(uptime)"
}
# The load generator's own cost (issue 18): the openai engine's open loop (send_at_ns,
# traced) at constant rates against an in-process endpoint that answers at once
# (bench_loadgen.c): achieved rate, send-time error, CPU per request. Beside it, what was
# found published about vLLM's and GuideLLM's own clients (other machines, not re-measured).
loadgen_section() {
    echo "load generator's own cost (bench_loadgen); uptime before: $(uptime)"
    "$BUILD/bench/bench_loadgen" "$BUILD/engines/openai.so" ||
        echo "   (bench_loadgen failed; see the messages above)"
    echo "   uptime after: $(uptime)"
    echo "   published client limits (other machines and endpoints, not measured here):"
    echo "   - vLLM bench serve: offered 200 req/s (Poisson, 10,000 prompts), it sent 183.52 req/s, 9% short:"
    echo "     its sleeps do not count the time already spent (github.com/vllm-project/vllm/issues/21104)"
    echo "   - GuideLLM 0.4.0: at most 100 requests in flight per worker process, 10 workers by default"
    echo "     (github.com/vllm-project/guidellm/issues/487)"
    echo "   no published send-time error or CPU per request was found for either"
}
if [ "${BENCH_ONLY:-}" = loadgen ]; then
    loadgen_section
    exit 0
fi
# generate_many of the in-process llamacpp engine: N sequences decoded together against one
# at a time on a real-size shape (bench_many.c; BENCH_ONLY=many).
if [ -z "${BENCH_ONLY:-}" ] || [ "${BENCH_ONLY:-}" = many ]; then
    "$BUILD/bench/bench_many" "$BUILD/engines/llamacpp.so" "$SLMBENCH" evalsets/support-triage \
        "$DIR/shapes" || echo "   (bench_many failed)"
    echo "   uptime: $(uptime)"
    [ -z "${BENCH_ONLY:-}" ] || exit 0
    echo
fi
if [ "${BENCH_ONLY:-}" = shapes ]; then
    shapes_section
    exit 0
fi
# Score mode at real label counts (bench_labels.c): the K table at K = 4, 16, 64, 150 and
# examples/s on banking77 and clinc150 subsets, score_trie 0 against 1 where the engine
# knows it; SLM_SHARED (default ../shared) holds the data sets.
labels_section() {
    sh bench/models/demo-models.sh "$SLMBENCH" build/demo/models >/dev/null
    echo "uptime before: $(uptime)"
    "$BUILD/bench/bench_labels" "$BUILD/engines/llamacpp.so" evalsets/support-triage \
        build/demo/models "${SLM_SHARED:-../shared}" "$DIR" ||
        echo "   (bench_labels failed; see the messages above)"
    echo "   uptime after: $(uptime)"
}
if [ "${BENCH_ONLY:-}" = labels ]; then
    labels_section
    exit 0
fi
if [ "${BENCH_ONLY:-}" = overhead ]; then
    sh bench/perf/overhead.sh "$SLMBENCH" "$BUILD" "$DIR"
    exit 0
fi
if [ "${BENCH_ONLY:-}" = ingest ]; then
    sh bench/perf/ingest.sh "$SLMBENCH" "$DIR"
    exit 0
fi
if [ "${BENCH_ONLY:-}" = gate-noise ]; then
    sh bench/perf/gate_noise.sh "$SLMBENCH"
    exit 0
fi
if [ "${BENCH_ONLY:-}" = prodlog77 ]; then
    echo "production review of a generated banking77 log; uptime before: $(uptime)"
    SLM_SLOW_TESTS=1 SLMBENCH=$SLMBENCH sh tests/cli/test_prodlog_shared.sh
    echo "   uptime after: $(uptime)"
    exit 0
fi
if [ "${BENCH_ONLY:-slots}" = slots ]; then
    sh bench/perf/bench_slots.sh "$SLMBENCH" "$BUILD" "$DIR" ||
        echo "   (bench_slots failed; see the messages above)"
    [ -z "${BENCH_ONLY:-}" ] || exit 0
    echo
fi
sh bench/models/demo-models.sh "$SLMBENCH" build/demo/models >/dev/null
rm -f "$DIR/overhead.db"*
sed -e 's/^name: demo/name: bench-overhead/' -e 's/^warmup: 3/warmup: 3\nlimit: 100/' \
    -e 's|\.\./build/demo/models|../../build/demo/models|' -e 's|\.\./evalsets|../../evalsets|' \
    bench/demo.yaml > "$DIR/overhead.yaml"
"$SLMBENCH" run "$DIR/overhead.yaml" --db "$DIR/overhead.db" --quiet >/dev/null
echo "harness overhead: share of each candidate's wall time spent inside engine calls"
echo "(the rest is prompt bookkeeping, scoring, SQLite writes and progress)"
sqlite3 -batch -noheader -separator ' ' "$DIR/overhead.db" \
  "select printf('  %-16s engine %7.1f ms of %7.1f ms wall = %6.2f%% (overhead %.2f%%)', name, engine_ms, wall_ms, 100.0*engine_ms/wall_ms, 100.0 - 100.0*engine_ms/wall_ms) from candidates order by idx"
echo
# Harness overhead against a minimal direct loop of the engine's score() on the same
# examples, and the cost of counting: many short interleaved rounds, medians of the
# per-round ratios with bootstrap intervals, and the A/A resolution (overhead.sh).
sh bench/perf/overhead.sh "$SLMBENCH" "$BUILD" "$DIR" ||
    echo "   (the overhead bench failed; see the messages above)"
echo
M=build/demo/models/nb-300-f16.gguf # the test server's model below
"$BUILD/bench/bench_scoring" "$BUILD/engines/llamacpp.so" evalsets/support-triage "$DIR"
echo
labels_section
echo
"$BUILD/bench/bench_throughput" "$BUILD/engines/llamacpp.so" evalsets/support-triage "$DIR"
echo
echo "report time against the number of examples (5 replayed candidates; run = evaluate + metrics, report = md + html + json + plots):"
sh bench/perf/report_scale.sh "$SLMBENCH" "$DIR"
echo
# The openai engine against tests/server/slm_test_server (the llamacpp plugin behind an
# OpenAI-compatible API, nb-300-f16, one inference slot, 1 thread so that the server and
# the client do not fight over 2 cores): throughput at concurrency 1-8 and the client's
# own cost; first as is (compute-bound: concurrency only queues), then with 50 ms added
# to every answer outside the inference slot (a server whose latency is not all compute,
# as with a remote or many-slot server: concurrency overlaps the waits).
for fault in "" "--fault delay:50"; do
    echo "test server ${fault:-as is}:"
    "$BUILD/tests/slm_test_server" --engine "$BUILD/engines/llamacpp.so" --model "$M" --threads 1 \
        $fault >"$DIR/server.out" 2>"$DIR/server.err" &
    spid=$!
    i=0
    while [ $i -lt 100 ] && ! grep -q '^port ' "$DIR/server.out"; do sleep 0.1; i=$((i + 1)); done
    port=$(sed -n 's/^port //p' "$DIR/server.out")
    "$BUILD/bench/bench_openai" "$BUILD/engines/openai.so" "http://127.0.0.1:$port/v1" evalsets/support-triage 200 || true
    kill "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
done

echo
loadgen_section

echo
shapes_section

echo
sh bench/perf/gate_noise.sh "$SLMBENCH" || echo "   (gate_noise failed; see the messages above)"

echo
sh bench/perf/ingest.sh "$SLMBENCH" "$DIR" || echo "   (the ingest bench failed; see the messages above)"
