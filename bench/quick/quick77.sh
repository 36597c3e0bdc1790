#!/bin/sh
# The CSV-and-three-models case on banking77 (issue 19): three demo models made from its
# train split over three vocabularies (the project's own SPM ones of the 300, 1000 and 3000
# most frequent train words; all Q8_0, as bench/models/demo-models.sh makes the demo's),
# then `slmbench quick` on its test.csv, timed. Skips without ../shared/datasets/banking77.
# (Not the real Qwen3/Llama 3 tokenizers of the demo: over those, quick's prompt, which
# lists all 77 labels, carries more template evidence than a demo model of their width
# 512 can cancel, and `models make` refuses: "the classifier's entries ... do not fit".)
#   bench/quick/quick77.sh [SLMBENCH] [OUT_DIR]
#   LIMIT=N: evaluate N test rows (default all); CALIBRATION=X: quick's --calibration
#   (default 0.2: 616 of the 3,080 rows, each run by every model for temperature scaling)
# The models are kept in OUT_DIR/models and remade only when missing; OUT_DIR/quick is
# replaced on every run.
set -eu
SLMBENCH=${1:-build/slmbench}
OUT=${2:-build/quick77}
D="${SLM_SHARED:-$(dirname "$0")/../../../shared}/datasets/banking77"
if [ ! -f "$D/train.csv" ] || [ ! -f "$D/test.csv" ]; then
    echo "skip: no banking77 ($D)"; exit 0
fi
command -v python3 >/dev/null || { echo "skip: no python3"; exit 0; }
mkdir -p "$OUT/train-es" "$OUT/models"

# The train split as an eval set for `models make`: banking77's labels, and quick's own
# default prompt (the models cancel the template's words, so they are made with the one
# they will be run with; checked against what quick writes below).
PROMPT='Classify the text into one of these labels: {{labels}}.\n\nText: {{text}}\nLabel:'
python3 - "$D" "$OUT/train-es" "$PROMPT" <<'PY'
import csv, json, sys
src, out, prompt = sys.argv[1], sys.argv[2], sys.argv[3].replace("\\n", "\n")
with open(src + "/train.csv", encoding="utf-8-sig", newline="") as fh:
    rows = list(csv.DictReader(fh))
labels = sorted({r["label"].strip() for r in rows})
with open(out + "/evalset.yaml", "w") as fh:
    fh.write("name: banking77-train\ntask: classification\nlabels: [%s]\nprompt: prompt.txt\n"
             "splits: {train: train.csv}\n" % ", ".join(json.dumps(x) for x in labels))
with open(out + "/prompt.txt", "w") as fh:
    fh.write(prompt)
with open(out + "/train.csv", "w", newline="") as fh:
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(["id", "text", "label"])
    for r in rows:
        w.writerow([r["id"], r["text"], r["label"]])
PY

t0=$(date +%s)
for v in 300 1000 3000; do
    [ -s "$OUT/models/spm$v-b77-q8_0.gguf" ] && continue
    "$SLMBENCH" models make --train "$OUT/train-es/train.csv" --evalset "$OUT/train-es" \
        --out "$OUT/models/spm$v-b77-f16.gguf" --name "spm$v-b77" --vocab "$v" --alpha 0.5 \
        --layers 2 >/dev/null
    "$SLMBENCH" models quantize "$OUT/models/spm$v-b77-f16.gguf" \
        "$OUT/models/spm$v-b77-q8_0.gguf" Q8_0 >/dev/null
    rm -f "$OUT/models/spm$v-b77-f16.gguf"
done
t1=$(date +%s)
echo "models: $((t1 - t0)) s (0 when kept from an earlier run)"

rm -rf "$OUT/quick"
lim=; [ -n "${LIMIT:-}" ] && lim="--limit $LIMIT"
[ -n "${CALIBRATION:-}" ] && lim="$lim --calibration $CALIBRATION"
echo "uptime before: $(uptime)"
t0=$(date +%s)
# shellcheck disable=SC2086
"$SLMBENCH" quick --data "$D/test.csv" --model "$OUT/models/spm300-b77-q8_0.gguf" \
    --model "$OUT/models/spm1000-b77-q8_0.gguf" --model "$OUT/models/spm3000-b77-q8_0.gguf" \
    --out "$OUT/quick" --name banking77 $lim
t1=$(date +%s)
echo "uptime after:  $(uptime)"
echo "slmbench quick on banking77 test.csv ($lim): $((t1 - t0)) s wall"
printf '%b' "$PROMPT" | cmp -s - "$OUT/quick/evalset/prompt.txt" ||
    echo "warning: quick's prompt is not the one the models were made with"
