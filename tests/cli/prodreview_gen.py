#!/usr/bin/python3
"""Test data of tests/cli/test_prodreview.sh: a small three-label eval set, the replay
predictions of a model on it, and a production log of months drawn from those
predictions (stable), one with a planted prior shift, one with unseen words.

usage: prodreview_gen.py DIR SEED [SHIFT_MONTH] [NEWWORDS_MONTH]
Writes DIR/es/{evalset.yaml,prompt.txt,test.csv,calibration.csv}, DIR/replay.csv,
DIR/prod.jsonl (months 2026-01..2026-04, 500 rows each; every row's corrected_label is
the true label, and DIR/truth.txt holds each month's true accuracy)."""
import json, os, random, sys

d, seed = sys.argv[1], int(sys.argv[2])
shift = sys.argv[3] if len(sys.argv) > 3 else "2026-03"
newm = sys.argv[4] if len(sys.argv) > 4 else ""
rng = random.Random(seed)
labels = ["billing", "shipping", "technical"]
words = {"billing": "invoice charge refund card payment amount bill paid price".split(),
         "shipping": "parcel delivery courier package address tracking late box sent".split(),
         "technical": "login error crash password app screen update broken install".split()}
common = "my the is a not please help with order account today".split()

def text(lab, extra=None):
    w = [rng.choice(words[lab]) for _ in range(rng.randint(2, 4))]
    w += [rng.choice(common) for _ in range(rng.randint(2, 5))]
    if extra:
        w += [rng.choice(extra) for _ in range(2)]
    rng.shuffle(w)
    return " ".join(w)

def predict(lab):
    """A model right 80% of the time whose top probability is its chance of being right
    (calibrated by construction)."""
    p_top = rng.uniform(0.55, 0.99)
    right = rng.random() < p_top
    pred = lab if right else rng.choice([l for l in labels if l != lab])
    rest = [rng.random() + 1e-3 for _ in range(2)]
    s = sum(rest)
    probs, k = {}, 0
    for l in labels:
        if l == pred:
            probs[l] = p_top
        else:
            probs[l] = (1 - p_top) * rest[k] / s
            k += 1
    return pred, probs

os.makedirs(d + "/es", exist_ok=True)
open(d + "/es/prompt.txt", "w").write("Classify: {{labels}}\n\nTicket: {{text}}\nCategory:")
open(d + "/es/evalset.yaml", "w").write(
    "name: prodtest\nversion: 1\ntask: classification\nlabels: [billing, shipping, technical]\n"
    "prompt: prompt.txt\nsplits:\n  calibration: calibration.csv\n  test: test.csv\n")
rep = open(d + "/replay.csv", "w")
rep.write("id,pred,p_billing,p_shipping,p_technical\n")
test = []
for split, n in (("calibration", 300), ("test", 600)):
    with open("%s/es/%s.csv" % (d, split), "w") as f:
        f.write("id,text,label\n")
        for i in range(n):
            lab = rng.choice(labels)
            t = text(lab)
            pred, probs = predict(lab)
            eid = "%s%04d" % (split[:2], i)
            f.write("%s,%s,%s\n" % (eid, t, lab))
            rep.write("%s,%s,%.6f,%.6f,%.6f\n" % (eid, pred, *[probs[l] for l in labels]))
            if split == "test":
                test.append((lab, t))
rep.close()

newvocab = "blockchain wallet crypto token nft".split()
with open(d + "/prod.jsonl", "w") as f, open(d + "/truth.txt", "w") as tr:
    for mi, month in enumerate(("2026-01", "2026-02", "2026-03", "2026-04")):
        right = 0
        for i in range(500):
            if month == shift:
                lab = "billing" if rng.random() < 0.7 else rng.choice(labels)
            else:
                lab = rng.choice(labels)
            t = text(lab, newvocab if month == newm else None)
            pred, probs = predict(lab)
            right += pred == lab
            row = {"id": "%s-%04d" % (month, i),
                   "ts": "%s-%02dT%02d:%02d:00Z" % (month, 1 + i * 27 // 500,
                                                      (i * 27 * 24 // 500) % 24, i % 60),
                   "pred": pred, "confidence": round(max(probs.values()), 6),
                   "probs": {l: round(probs[l], 6) for l in labels}, "text": t,
                   "latency_ms": round(rng.uniform(20, 80), 2), "corrected_label": lab}
            f.write(json.dumps(row) + "\n")
        tr.write("%s %.6f\n" % (month, right / 500))
