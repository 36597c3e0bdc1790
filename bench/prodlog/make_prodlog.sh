#!/bin/sh
# make_prodlog.sh — a 6-month production log with known, planted changes, made from a demo
# model's REAL predictions (issue 17, item 5): the input the drift review of production
# traffic must judge, and the truth to judge it by.
#
#   bench/prodlog/make_prodlog.sh --out DIR [--evalset DIR | --dataset banking77|clinc150]
#       [--model GGUF] [--rows N] [--seed S] [--start YYYY-MM] [--threshold T]
#       [--shift-class LABEL] [--relabel FROM:TO] [--new-vocab-share X]
#       [--corrected-share X] [--pool FILES] [--vocab N] [--layers N] [--threads N]
#       [--slmbench PATH]
#
# Months (6, from --start, default 2026-06), --rows each (default 2000):
#   1-3  stable: texts drawn from the eval set's files (--pool, default
#        test.csv,calibration.csv,train.csv) with the class shares of its test split (the
#        reference);
#   4    class-prior shift: one class (--shift-class; default the median-share class) three
#        times as frequent;
#   5    new vocabulary: a share (--new-vocab-share, 0.6) of the texts carry invented product
#        names never seen in the eval set ("... after the Zentrivo update"); the model runs
#        on those texts;
#   6    calibration break (concept shift): every ticket of some classes now belongs to
#        another queue (--relabel FROM:TO[,FROM:TO...]; default the most frequent classes in
#        disjoint pairs, 1st to 2nd, 3rd to 4th, ..., until they hold 15% of the traffic):
#        the model answers, with the same confidence, what it answered before, and is wrong.
# Each distinct text is scored once by `slmbench run` (llama.cpp, the demo model), and
# pred, confidence, probs and latency come from its stored predictions (`slmbench export
# predictions`). Without --model a demo model is made from the eval set's train split
# (the demo's spm settings: --vocab 1000 words, alpha 0.5, --layers 2). --dataset NAME takes
# ${SLM_SHARED:-../shared}/datasets/NAME (id,text,label train.csv and test.csv) instead.
#
# Writes into --out: prodlog.jsonl (the ingest format of issue 17: id, ts, pred,
# confidence, probs, text, latency_ms, escalated = confidence < threshold, model = the
# model file's sha256, corrected_label = the true label on a random --corrected-share of
# the rows), truth.json (per month: the planted change, the true accuracy, the accuracy
# on the corrected rows, class shares, mean confidence, escalation rate), truth_rows.csv
# (id, month, true_label, new_vocab, corrected) and work/ (the scored texts, the run's
# database, the predictions). Deterministic for a seed, except latency_ms (measured).
# Needs python3 (standard library only), no network.
# Exit: 0 ok, 2 usage, 3 bad input, 4 the run failed.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SLMBENCH=${SLMBENCH:-build/slmbench}
ES= DATASET= MODEL= OUT= THREADS=2 VOCAB=1000 LAYERS=2
ROWS= SEED= START= THRESHOLD= SHIFT= RELABEL= NEWSHARE= CORRSHARE= POOL=
usage() {
    sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
die() { echo "make_prodlog: error: $1" >&2; exit "${2:-3}"; }
while [ $# -gt 0 ]; do
    case $1 in -h|--help) sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
    [ $# -ge 2 ] || { echo "make_prodlog: error: option '$1' needs a value" >&2; usage; }
    case $1 in
        --evalset) ES=$2 ;;
        --dataset) DATASET=$2 ;;
        --model) MODEL=$2 ;;
        --out) OUT=$2 ;;
        --threads) THREADS=$2 ;;
        --slmbench) SLMBENCH=$2 ;;
        --rows) ROWS=$2 ;;
        --seed) SEED=$2 ;;
        --start) START=$2 ;;
        --threshold) THRESHOLD=$2 ;;
        --shift-class) SHIFT=$2 ;;
        --relabel) RELABEL=$2 ;;
        --new-vocab-share) NEWSHARE=$2 ;;
        --corrected-share) CORRSHARE=$2 ;;
        --pool) POOL=$2 ;;
        --vocab) VOCAB=$2 ;;
        --layers) LAYERS=$2 ;;
        *) echo "make_prodlog: error: unknown option '$1'" >&2; usage ;;
    esac
    shift 2
done
[ -n "$OUT" ] || { echo "make_prodlog: error: missing --out DIR" >&2; usage; }
[ -z "$ES" ] || [ -z "$DATASET" ] || die "give --evalset or --dataset, not both" 2
for n in "$THREADS" "$VOCAB" "$LAYERS"; do
    case $n in ''|0|*[!0-9]*) die "--threads, --vocab and --layers need positive numbers" 2 ;; esac
done
[ -x "$SLMBENCH" ] || die "no slmbench at '$SLMBENCH' (build it: make)"
command -v python3 >/dev/null || die "python3 is needed"
WORK="$OUT/work"
rm -rf "$WORK"
mkdir -p "$WORK"

if [ -n "$DATASET" ]; then
    D="${SLM_SHARED:-$HERE/../../../shared}/datasets/$DATASET"
    [ -f "$D/train.csv" ] && [ -f "$D/test.csv" ] || die "no dataset '$DATASET' ($D/train.csv, test.csv)"
    ES="$WORK/dataset"
    mkdir -p "$ES"
    cp "$D/train.csv" "$D/test.csv" "$ES/"
    python3 - "$ES" <<'PY'
import csv, json, sys
d = sys.argv[1]
labels = set()
for f in ("train.csv", "test.csv"):
    with open("%s/%s" % (d, f), encoding="utf-8-sig", newline="") as fh:
        labels |= {r["label"] for r in csv.DictReader(fh)}
with open(d + "/evalset.yaml", "w", encoding="utf-8") as fh:
    fh.write("name: %s\ntask: classification\nlabels: [%s]\nprompt: prompt.txt\n"
             "splits: {train: train.csv, test: test.csv}\n"
             % (d.rstrip("/").split("/")[-2], ", ".join(json.dumps(x) for x in sorted(labels))))
PY
    printf 'Text: {{text}}\nLabel:' >"$ES/prompt.txt"
fi
ES=${ES:-evalsets/support-triage}
[ -f "$ES/evalset.yaml" ] || die "no eval set at '$ES' (a folder with evalset.yaml)"
if [ -z "$MODEL" ]; then
    MODEL="$WORK/model.gguf"
    "$SLMBENCH" models make --train "$ES/train.csv" --evalset "$ES" --out "$MODEL" \
        --name prodlog-nb --vocab "$VOCAB" --alpha 0.5 --layers "$LAYERS" >"$WORK/make.log" 2>&1 ||
        die "cannot make the demo model: $(tail -n 1 "$WORK/make.log")" 4
fi
[ -f "$MODEL" ] || die "no model file '$MODEL'"
MODEL=$(cd "$(dirname "$MODEL")" && pwd)/$(basename "$MODEL")

python3 "$HERE/prodlog.py" plan --evalset "$ES" --work "$WORK" ${ROWS:+--rows "$ROWS"} \
    ${SEED:+--seed "$SEED"} ${START:+--start "$START"} ${THRESHOLD:+--threshold "$THRESHOLD"} \
    ${SHIFT:+--shift-class "$SHIFT"} ${RELABEL:+--relabel "$RELABEL"} \
    ${NEWSHARE:+--new-vocab-share "$NEWSHARE"} ${CORRSHARE:+--corrected-share "$CORRSHARE"} \
    ${POOL:+--pool "$POOL"}
nl=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["meta"]["labels"]))' "$WORK/plan.json")
seq=""
[ "$nl" -le 31 ] || seq=", options: {n_seq_max: 64}"
cat >"$WORK/run.yaml" <<YAML
name: prodlog
evalset: texts
warmup: 0
threads: $THREADS
bandwidth: false
counters: false
bootstrap: 0
candidates:
  - {name: prod, model: "$MODEL"$seq}
YAML
"$SLMBENCH" run "$WORK/run.yaml" --db "$WORK/run.db" --quiet --no-progress >/dev/null 2>"$WORK/run.err" ||
    die "the run failed: $(tail -n 1 "$WORK/run.err")" 4
"$SLMBENCH" export predictions last --candidate prod --db "$WORK/run.db" --raw \
    --out "$WORK/preds.csv" || die "cannot export the predictions" 4
python3 "$HERE/prodlog.py" log --work "$WORK" --preds "$WORK/preds.csv" --model "$MODEL" --out "$OUT"
echo "make_prodlog: wrote $OUT/prodlog.jsonl, $OUT/truth.json, $OUT/truth_rows.csv" >&2
