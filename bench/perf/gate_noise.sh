#!/bin/sh
# The latency gate on a noisy machine: its false alarms and its power, measured.
#   bench/perf/gate_noise.sh SLMBENCH [IDENTICAL] [SLOWER]
# Under the load of the test suite running in a loop beside it (tests/run.sh, what a
# parallel `make check` does; LOAD=0 runs without it), each run holds two candidates in one
# job, interleaved (turns of 2 examples):
#   - IDENTICAL runs (default 20): the demo's spm classifier (2 layers, Q8_0) as `prod`
#     and again as `new`:
#     the gate (baseline: {candidate: prod, latency_increase_max_pct: 10}) must never fail;
#   - SLOWER runs (default 10): `new` is the same classifier with 3 layers instead of 2,
#     about 25% slower (the quiet ratio is measured first and printed): the gate must fail.
# GATE_NOISE_LAYERS="3 4" compares 3 against 4 layers instead (a smaller slowdown);
# GATE_NOISE_LIMIT (100) sets the examples per run.
# For comparison, the rule the gate used before (p95 of runs measured in different jobs,
# +10% allowed) is applied to every ordered pair of the identical runs' `new` p95.
# Prints counts and the load average; writes build/bench/gate_noise/.
set -eu
export LC_ALL=C
SLMBENCH=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
NI=${2:-20}
NS=${3:-10}
case "$NI$NS" in *[!0-9]*) echo "usage: gate_noise.sh SLMBENCH [IDENTICAL] [SLOWER]" >&2; exit 2 ;; esac
LIMIT=${GATE_NOISE_LIMIT:-100}
DIR=build/bench/gate_noise
mkdir -p "$DIR"
rm -f "$DIR"/*.db*
set -- ${GATE_NOISE_LAYERS:-2 3}
ES=evalsets/support-triage
layers_model() { # layers -> the spm classifier of the demo's recipe with that many layers
    m=$DIR/spm-l$1-q8_0.gguf
    if [ ! -s "$m" ] || [ "$SLMBENCH" -nt "$m" ]; then
        "$SLMBENCH" models make --train $ES/train.csv --evalset $ES --out "$DIR/spm-l$1-f16.gguf" \
            --name "spm-l$1" --vocab 1000 --alpha 0.5 --layers "$1" >/dev/null
        "$SLMBENCH" models quantize "$DIR/spm-l$1-f16.gguf" "$m" Q8_0 >/dev/null
    fi
    echo "$m"
}
BASE=$(layers_model "$1")
SLOW=$(layers_model "$2")
echo "prod: $1 layers ($BASE), slower: $2 layers ($SLOW)"
cfg() { # file name new_model
    printf 'name: %s\nevalset: ../../../%s\nsplit: test\nthreads: 1\nwarmup: 3\nlimit: %s\nbootstrap: 0\ncounters: false\nbandwidth: false\ninterleave: true\ninterleave_turn: 2\ncandidates:\n  - {name: prod, model: %s}\n  - {name: new, model: %s}\n' \
        "$2" "$ES" "$LIMIT" "$(pwd)/$BASE" "$3" > "$1"
}
printf 'baseline: {candidate: prod, latency_increase_max_pct: 10, alpha: 0.05}\n' > "$DIR/gate.yaml"

# The slowdown, measured on this machine before the load starts.
cfg "$DIR/quiet.yaml" quiet "$(pwd)/$SLOW"
"$SLMBENCH" run "$DIR/quiet.yaml" --db "$DIR/quiet.db" --quiet >/dev/null
echo "latency gate under noise (same-job baseline, interleaved, +10% allowed, alpha 0.05)"
sqlite3 -batch -noheader "$DIR/quiet.db" "select printf('  before the load: new/prod p50 = %.3f (%.2f vs %.2f ms), load average %s', n.value/p.value, n.value, p.value, '$(cut -d' ' -f1-3 /proc/loadavg)') from metrics n join candidates cn on cn.id = n.candidate_id and cn.name = 'new', metrics p join candidates cp on cp.id = p.candidate_id and cp.name = 'prod' where n.name = 'e2e_ms_p50' and p.name = 'e2e_ms_p50'"

loader=""
if [ "${LOAD:-1}" != 0 ]; then
    (while :; do sh tests/run.sh >/dev/null 2>&1 || :; done) &
    loader=$!
    trap 'kill $loader 2>/dev/null || :; pkill -P $loader 2>/dev/null || :' EXIT INT TERM
    sleep 20
fi
fails_i=0 nj_i=0 fails_s=0 nj_s=0 loads=""
i=1
while [ $i -le $((NI + NS)) ]; do
    if [ $i -le "$NI" ]; then kind=same; model=$(pwd)/$BASE; else kind=slow; model=$(pwd)/$SLOW; fi
    cfg "$DIR/$kind-$i.yaml" "$kind-$i" "$model"
    "$SLMBENCH" run "$DIR/$kind-$i.yaml" --db "$DIR/runs.db" --quiet >/dev/null
    loads="$loads $(cut -d' ' -f1 /proc/loadavg)"
    rc=0
    "$SLMBENCH" gate "$DIR/gate.yaml" --run "$kind-$i" --db "$DIR/runs.db" > "$DIR/gate-$i.md" || rc=$?
    nj=0
    grep -q '➖ | new | latency' "$DIR/gate-$i.md" && nj=1
    if [ $kind = same ]; then
        [ $rc = 1 ] && fails_i=$((fails_i + 1))
        nj_i=$((nj_i + nj))
    else
        [ $rc = 1 ] && fails_s=$((fails_s + 1))
        nj_s=$((nj_s + nj))
    fi
    printf '  %-8s %s\n' "$kind-$i" "$(grep -o 'latency ratio [^;]*' "$DIR/gate-$i.md" | head -1)"
    i=$((i + 1))
done
[ -n "$loader" ] && { kill "$loader" 2>/dev/null; pkill -P "$loader" 2>/dev/null || :; }
echo "  identical runs: $fails_i of $NI failed the gate (false alarms), $nj_i not judged"
echo "  slower-model runs: $fails_s of $NS failed the gate (caught), $nj_s not judged"
sqlite3 -batch -noheader "$DIR/runs.db" "with p as (select r.name, m.value v from metrics m join candidates c on c.id = m.candidate_id join runs r on r.id = c.run_id where c.name = 'new' and m.name = 'e2e_ms_p95' and r.name like 'same-%') select printf('  the old rule on the same runs (p95 across jobs, +10%% allowed): %d of %d ordered pairs of identical runs would fail; p95 from %.1f to %.1f ms', sum(a.v > 1.10 * b.v), count(*), (select min(v) from p), (select max(v) from p)) from p a join p b on a.name <> b.name"
echo "  1-minute load average after each run:$loads"
echo "  uptime: $(uptime)"
