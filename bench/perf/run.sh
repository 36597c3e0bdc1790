#!/bin/sh
# `make bench`: benchmarks of slmbench itself. Prints ratios measured side by side in one
# run (never timed assertions: the machines are shared and noisy).
#   bench/perf/run.sh SLMBENCH [BUILD]
# BUILD (default: the folder of SLMBENCH) holds engines/ and the programs of bench/perf/*.c
# in bench/. BENCH_THREADS (default 2) sets the engine's threads for the scoring and
# throughput benches.
set -eu
export LC_ALL=C
SLMBENCH=$1
BUILD=${2:-$(dirname "$SLMBENCH")}
DIR=build/bench
mkdir -p "$DIR"
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
"$BUILD/bench/bench_scoring" "$BUILD/engines/llamacpp.so" evalsets/support-triage "$DIR"
echo
"$BUILD/bench/bench_throughput" "$BUILD/engines/llamacpp.so" evalsets/support-triage "$DIR"
