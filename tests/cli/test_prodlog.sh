# bench/prodlog/make_prodlog.sh: the 6-month production log with planted changes, checked
# against independent computations (python3, standard library): row counts and months,
# the ingest fields, month 4's class share, month 5's new words, month 6's break, and the
# truth file's accuracies recomputed from the log and the true labels. Then determinism,
# bad options, and the banking77 variant (skipped without ../shared/datasets).
. "$(dirname "$0")/lib.sh"
GEN="$ROOT/bench/prodlog/make_prodlog.sh"
R=200
if ! command -v python3 >/dev/null; then skip "prodlog (no python3)"; exit 0; fi
# support-triage with every fourth test ticket (fewer distinct texts to score)
ES="$TMP/es"
cp -r "$ROOT/evalsets/support-triage" "$ES"
python3 -c 'import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
w = csv.writer(open(sys.argv[2], "w", encoding="utf-8", newline=""), lineterminator="\n")
w.writerows([rows[0]] + rows[1::4])' "$ROOT/evalsets/support-triage/test.csv" "$ES/test.csv"
"$SLMBENCH" models make --train "$ES/train.csv" --evalset "$ES" --out "$TMP/m.gguf" --vocab 300 \
    --layers 1 >/dev/null 2>&1 || notok "models make"
# the pool: the test split only
expect_exit 0 "make_prodlog --rows $R --seed 7" sh "$GEN" --out "$TMP/o" --evalset "$ES" --model "$TMP/m.gguf" \
    --rows $R --seed 7 --pool test.csv --slmbench "$SLMBENCH"

# check.py LOG_DIR EVALSET MODEL_SHA ROWS: one "ok -"/"not ok -" line per check
cat >"$TMP/check.py" <<'PY'
import csv, json, math, re, sys
from datetime import datetime, timezone
out, es, sha, R = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def res(cond, what):
    print(("ok - " if cond else "not ok - ") + what)
log = [json.loads(l) for l in open(out + "/prodlog.jsonl", encoding="utf-8")]
truth = json.load(open(out + "/truth.json", encoding="utf-8"))
rows = {r["id"]: r for r in csv.DictReader(open(out + "/truth_rows.csv", encoding="utf-8"))}
meta = truth["meta"]
labels = [l for l in re.search(r"^labels:\s*\[(.*)\]", open(es + "/evalset.yaml").read(),
          re.M).group(1).replace(" ", "").split(",")]
res(len(log) == 6 * R, "%d rows (6 months x %d)" % (len(log), R))
need = {"id", "ts", "pred", "confidence", "probs", "text", "latency_ms", "escalated", "model"}
res(all(need <= set(o) for o in log), "every row has id, ts, pred, confidence, probs, text, latency_ms, escalated, model")
res(len({o["id"] for o in log}) == len(log), "ids unique")
ts = [datetime.strptime(o["ts"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) for o in log]
res(ts == sorted(ts), "timestamps in order")
months = sorted({t.strftime("%Y-%m") for t in ts})
res(months == ["2026-%02d" % m for m in range(6, 12)], "six months 2026-06..2026-11: %s" % months)
per = {m: sum(t.strftime("%Y-%m") == m for t in ts) for m in months}
res(set(per.values()) == {R}, "%d rows in every month" % R)
days = {m: len({t.day for t in ts if t.strftime("%Y-%m") == m}) for m in months}
res(min(days.values()) >= 25, "spread over the month (days with rows: %s)" % sorted(days.values()))
res(all(set(o["probs"]) == set(labels) for o in log), "probs over the label set")
res(all(abs(sum(o["probs"].values()) - 1) < 1e-6 for o in log), "probs sum to 1 (1e-6)")
res(all(abs(o["probs"][o["pred"]] - o["confidence"]) < 1e-12 and
        o["pred"] == max(o["probs"], key=o["probs"].get) for o in log),
    "confidence = p(pred) = the largest probability")
res(all(o["escalated"] == (o["confidence"] < 0.85) for o in log), "escalated = confidence < 0.85")
res(all(o["model"] == sha for o in log), "model = the model file's sha256")
res(all(isinstance(o["latency_ms"], float) and o["latency_ms"] > 0 for o in log), "latency_ms measured (> 0)")
# the log's ids are the truth rows' ids; corrected_label is the true label
res(set(rows) == {o["id"] for o in log}, "truth_rows.csv has the log's ids")
corr = [o for o in log if "corrected_label" in o]
res(all(o["corrected_label"] == rows[o["id"]]["true_label"] for o in corr),
    "corrected_label = the true label (%d rows)" % len(corr))
n, p = len(log), 0.10
res(abs(len(corr) / n - p) < 4 * math.sqrt(p * (1 - p) / n),
    "corrected share %.4f within 4 sd of 0.10" % (len(corr) / n))
# the truth file's accuracies, recomputed from the log
for k, m in enumerate(truth["months"]):
    mo = [o for o in log if o["id"].startswith(m["month"])]
    right = sum(o["pred"] == rows[o["id"]]["true_label"] for o in mo)
    cm = [o for o in mo if "corrected_label" in o]
    cright = sum(o["pred"] == o["corrected_label"] for o in cm)
    ok = m["n_correct"] == right and abs(m["true_accuracy"] - right / len(mo)) < 1e-12 and \
        m["n_corrected"] == len(cm) and abs(m["accuracy_on_corrected"] - cright / len(cm)) < 1e-12
    res(ok, "%s (%s): true accuracy %.4f and corrected accuracy %.4f recomputed from the log"
        % (m["month"], m["planted"], right / len(mo), cright / len(cm)))
res([m["planted"] for m in truth["months"]] == ["none"] * 3 +
    ["class_prior_shift", "new_vocabulary", "calibration_break"], "the planted changes, month by month")
# month 4: the shift class three times as frequent (odds), against the reference shares of test.csv
ref = [r["label"] for r in csv.DictReader(open(es + "/test.csv", encoding="utf-8"))]
c = meta["shift_class"]
s = ref.count(c) / len(ref)
want = 3 * s / (1 + 2 * s)
got4 = sum(r["true_label"] == c for r in rows.values() if r["month"] == "2026-09") / R
got13 = sum(r["true_label"] == c for r in rows.values() if r["month"] < "2026-09") / (3 * R)
res(abs(got4 - want) < 4 * math.sqrt(want * (1 - want) / R),
    "month 4: '%s' share %.3f, expected %.3f (reference %.3f x 3 odds)" % (c, got4, want, s))
res(abs(got13 - s) < 4 * math.sqrt(s * (1 - s) / (3 * R)), "months 1-3: '%s' share %.3f, reference %.3f" % (c, got13, s))
# month 5: words never in the eval set, in about 60% of its texts, in no other month
vocab = set()
for f in ("train.csv", "test.csv", "calibration.csv"):
    for r in csv.DictReader(open(es + "/" + f, encoding="utf-8")):
        vocab |= set(re.findall(r"[a-z0-9]+", r["text"].lower()))
new = [w.lower() for w in meta["new_words"]]
res(len(new) >= 2 and not (set(new) & vocab), "the new words %s are in no text of the eval set" % new)
def has_new(o):
    return bool(set(re.findall(r"[a-z0-9]+", o["text"].lower())) & set(new))
n5 = sum(has_new(o) for o in log if o["id"].startswith("2026-10"))
res(abs(n5 / R - 0.6) < 4 * math.sqrt(0.24 / R), "month 5: %d of %d texts carry new words" % (n5, R))
res(not any(has_new(o) for o in log if not o["id"].startswith("2026-10")), "no new word in another month")
res(all(has_new(o) == (rows[o["id"]]["new_vocab"] == "1") for o in log), "truth_rows marks exactly those rows")
# month 6: the same confidences, the truth moved
acc = [m["true_accuracy"] for m in truth["months"]]
conf = [sum(o["confidence"] for o in log if o["id"].startswith(m)) / R for m in months]
a13, c13 = sum(acc[:3]) / 3, sum(conf[:3]) / 3
res(acc[5] < a13 - 0.08 and abs(conf[5] - c13) < 0.05,
    "month 6: accuracy %.3f against %.3f, mean confidence %.3f against %.3f" % (acc[5], a13, conf[5], c13))
rel = meta["relabel"]
res(len(rel) == 1, "one class relabelled for a set of 8 queues: %s" % rel)
f, t = list(rel.items())[0]
moved = [o for o in log if o["id"].startswith("2026-11") and o["pred"] == f and rows[o["id"]]["true_label"] == t]
res(len(moved) > 0 and sum(o["confidence"] for o in moved) / len(moved) > 0.5,
    "month 6: %d confident '%s' answers now wrong (truth '%s')" % (len(moved), f, t))
res(not any(r["true_label"] == f for r in rows.values() if r["month"] == "2026-11"), "no '%s' truth left in month 6" % f)
res(ref.count(f) == max(ref.count(x) for x in set(ref)), "the relabelled class is the most frequent of the reference")
PY
sha=$(sha256sum "$TMP/m.gguf" | cut -c1-64)
python3 "$TMP/check.py" "$TMP/o" "$ES" "$sha" $R || notok "check.py failed"

# deterministic for a seed (latency aside); another seed, another log
strip() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    o = json.loads(l); o.pop("latency_ms"); print(json.dumps(o, sort_keys=True))' "$1"; }
for s in 3 3b 4; do
    sh "$GEN" --out "$TMP/d$s" --evalset "$ES" --model "$TMP/m.gguf" --rows 10 --seed "${s%b}" --pool test.csv \
        --slmbench "$SLMBENCH" 2>"$TMP/gen.err" || { notok "seed $s"; sed 's/^/#   /' "$TMP/gen.err"; }
    strip "$TMP/d$s/prodlog.jsonl" >"$TMP/d$s.txt"
done
cmp -s "$TMP/d3.txt" "$TMP/d3b.txt" && cmp -s "$TMP/d3/truth_rows.csv" "$TMP/d3b/truth_rows.csv" &&
    ok "the same seed gives the same log (latency aside)" || notok "seed 3 twice differs"
cmp -s "$TMP/d3.txt" "$TMP/d4.txt" && notok "seeds 3 and 4 give the same log" || ok "another seed, another log"

expect_exit 2 "--rows 0" sh "$GEN" --out "$TMP/x" --rows 0 --model "$TMP/m.gguf" --slmbench "$SLMBENCH"
expect_exit 2 "an unknown option" sh "$GEN" --out "$TMP/x" --colour red
expect_exit 2 "--start 2026-13" sh "$GEN" --out "$TMP/x" --start 2026-13 --model "$TMP/m.gguf" --slmbench "$SLMBENCH"
expect_exit 2 "--relabel of a label not in the set" sh "$GEN" --out "$TMP/x" --relabel nosuch:billing \
    --model "$TMP/m.gguf" --slmbench "$SLMBENCH"
expect_exit 3 "an eval set that is not there" sh "$GEN" --out "$TMP/x" --evalset "$TMP/nosuch" --slmbench "$SLMBENCH"
expect_err "no eval set at" "said which"

# the banking77 variant: a model over its 77 labels made from its train split
D="${SLM_SHARED:-$ROOT/../shared}/datasets"
if [ -f "$D/banking77/train.csv" ]; then
    expect_exit 0 "make_prodlog --dataset banking77" sh "$GEN" --out "$TMP/b77" --dataset banking77 \
        --rows 60 --seed 2 --pool test.csv --vocab 300 --layers 1 --slmbench "$SLMBENCH"
    got=$(python3 -c 'import json,sys
log = [json.loads(l) for l in open(sys.argv[1] + "/prodlog.jsonl")]
t = json.load(open(sys.argv[1] + "/truth.json"))
print(len(log), len(log[0]["probs"]), len({o["ts"][:7] for o in log}), t["months"][5]["planted"],
      len(t["meta"]["relabel"]) > 5,
      t["months"][5]["true_accuracy"] < sum(m["true_accuracy"] for m in t["months"][:3]) / 3)' "$TMP/b77")
    [ "$got" = "360 77 6 calibration_break True True" ] && ok "banking77: 360 rows, 77 labels, 6 months, month 6 broken ($got)" \
        || notok "banking77: $got"
else
    skip "banking77 variant (no $D/banking77)"
fi
