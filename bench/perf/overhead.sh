#!/bin/sh
# The harness against a minimal direct loop of the llamacpp engine's score() (bench_direct)
# on the same examples, and the cost of counting (counters on vs off), in many short
# interleaved rounds (BENCH_ONLY=overhead of bench/perf/run.sh).
#   bench/perf/overhead.sh SLMBENCH BUILD DIR
# Every round times the same N support-triage test examples four ways, in an order
# shuffled per round (seeded): D1 and D2 the direct loop (twice: the A/A comparison),
# H0 `slmbench run` without counters, H1 with counters; loop time only on every side
# (model load and warm-up excluded: candidates.wall_ms and bench_direct's own clock).
# bench_ratio summarises each pair as the median of the per-round ratios with a seeded
# bootstrap 95% interval. The A/A interval (D2 against D1) is what this machine can
# resolve: a difference inside its half-width cannot be told from noise.
# Environment: BENCH_ROUNDS (default 30), BENCH_ROUND_EXAMPLES (default 50),
# BENCH_THREADS (default 2), BENCH_SEED (default 20).
set -eu
export LC_ALL=C
SLMBENCH=$1 BUILD=$2 DIR=$3
R=${BENCH_ROUNDS:-30} N=${BENCH_ROUND_EXAMPLES:-50} T=${BENCH_THREADS:-2}
SEED=${BENCH_SEED:-20}
M=build/demo/models/nb-300-f16.gguf
mkdir -p "$DIR"
sh bench/models/demo-models.sh "$SLMBENCH" build/demo/models >/dev/null
# The first N test rows as an eval set of their own, so that both sides time the very same
# examples (the harness's `limit` would draw a stratified sample): a CSV record ends on a
# line where the count of quotes so far is even.
ES=$DIR/overhead-es
rm -rf "$ES" && mkdir -p "$ES"
cp evalsets/support-triage/evalset.yaml evalsets/support-triage/prompt.txt "$ES/"
for s in train calibration; do cp "evalsets/support-triage/$s.csv" "$ES/"; done
awk -v n="$N" '{ print; q += gsub(/"/, "\""); if (q % 2 == 0 && ++rec > n) exit }' \
    evalsets/support-triage/test.csv > "$ES/test.csv"
printf 'name: bench-harness\nevalset: ../../%s\nthreads: %s\nwarmup: 3\nbandwidth: false\nbootstrap: 0\ncandidates:\n  - {name: m, model: ../../%s}\n' "$ES" "$T" "$M" > "$DIR/harness.yaml"
sed 's/^bandwidth: false/bandwidth: false\ncounters: false/' "$DIR/harness.yaml" > "$DIR/harness-nocount.yaml"
raw=$DIR/overhead_rounds.csv
echo "round,condition,ms" > "$raw"

harness() { # yaml -> the loop's ms
    rm -f "$DIR/h.db" "$DIR/h.db-wal" "$DIR/h.db-shm"
    "$SLMBENCH" run "$1" --db "$DIR/h.db" --quiet >/dev/null
    sqlite3 "$DIR/h.db" 'select wall_ms from candidates'
}
one() { # condition -> the loop's ms
    case $1 in
    D1 | D2) "$BUILD/bench/bench_direct" "$BUILD/engines/llamacpp.so" "$M" "$ES" "$N" "$T" 3 ;;
    H0) harness "$DIR/harness-nocount.yaml" ;;
    H1) harness "$DIR/harness.yaml" ;;
    esac
}
echo "harness vs a direct loop of the engine's score(): $R interleaved rounds of $N support-triage examples"
echo "   (nb-300-f16, threads $T, order shuffled per round with seed $SEED); uptime before: $(uptime)"
start=$(date +%s)
r=0
while [ "$r" -lt "$R" ]; do
    order=$(awk -v s="$SEED" -v r="$r" 'BEGIN { srand(s * 1000 + r); n = split("D1 D2 H0 H1", c, " ");
        for (i = n; i > 1; i--) { j = int(rand() * i) + 1; t = c[i]; c[i] = c[j]; c[j] = t }
        for (i = 1; i <= n; i++) printf "%s ", c[i] }')
    for c in $order; do
        echo "$r,$c,$(one "$c")" >> "$raw"
    done
    r=$((r + 1))
done
echo "   ($(($(date +%s) - start)) s; uptime after: $(uptime))"
echo "   median of the per-round ratios - 1, bootstrap 95% interval (2000 resamples, seed $SEED):"
echo "   harness overhead  (H0/D1, goal <= 2%): $("$BUILD/bench/bench_ratio" "$raw" H0 D1 "$SEED")"
echo "   cost of counting  (H1/H0, goal <= 3%): $("$BUILD/bench/bench_ratio" "$raw" H1 H0 "$SEED")"
aa=$("$BUILD/bench/bench_ratio" "$raw" D2 D1 "$SEED")
echo "   A/A, direct twice (D2/D1):              $aa"
echo "   resolution: differences under $(echo "$aa" | sed -n 's/.*half-width \([0-9.]*%\).*/\1/p') (the A/A half-width) cannot be told from noise here"
echo "   raw samples: $raw"
