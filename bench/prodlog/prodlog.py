#!/usr/bin/env python3
"""prodlog.py — the two halves of bench/prodlog/make_prodlog.sh (read that first).

  prodlog.py plan --evalset DIR --work DIR [options]
      draws the six months of production traffic from the eval set's texts and writes
      WORK/texts/ (an eval set of the distinct texts, for `slmbench run`) and WORK/plan.json
  prodlog.py log --work DIR --preds PREDS.csv --model GGUF --out DIR
      joins the plan with the model's stored predictions (`slmbench export predictions`)
      and writes OUT/prodlog.jsonl, OUT/truth.json and OUT/truth_rows.csv

Standard library only (no numpy, no scipy, no network); deterministic for a seed: every
random draw comes from one random.Random(seed), in a fixed order.
"""
import argparse
import calendar
import csv
import hashlib
import json
import os
import random
import re
import shutil
import sys

# Month 5's new vocabulary: invented product names, kept only where no text of the eval
# set contains them (checked against its words), appended in one of these phrasings.
NEW_WORDS = ["Zentrivo", "Quorbital", "Vellmora", "Praxiton", "Kalvenix", "Tessaflow",
             "Orbanite", "Lumiqor", "Drevanta", "Skylvane"]
PHRASES = ["(sent from the {w} app)", "about my {w} subscription", "after the {w} update",
           "on the {w} {v} plan"]
PLANTED = ["none", "none", "none", "class_prior_shift", "new_vocabulary",
           "calibration_break"]


def die(msg, code=3):
    sys.stderr.write("make_prodlog: error: %s\n" % msg)
    sys.exit(code)


def yaml_labels(path):
    """The `labels:` list and the `prompt:` file of an evalset.yaml: a flow list
    ([a, b]) or a block list (- a), plain or quoted scalars. Enough for eval sets written
    the way this project writes them; anything else is refused with the file."""
    text = open(path, encoding="utf-8").read()
    m = re.search(r"^labels:\s*\[(.*?)\]", text, re.M | re.S)
    if m:
        items = [x.strip() for x in m.group(1).split(",")]
    else:
        m = re.search(r"^labels:\s*\n((?:[ \t]*-.*\n?)+)", text, re.M)
        if not m:
            die("%s: no 'labels:' list this script can read" % path)
        items = [x.strip()[1:].strip() for x in m.group(1).splitlines() if x.strip()]
    labels = [x[1:-1] if len(x) > 1 and x[0] == x[-1] and x[0] in "'\"" else x
              for x in items if x]
    p = re.search(r"^prompt:\s*(\S+)", text, re.M)
    if not p:
        die("%s: no 'prompt:'" % path)
    return labels, p.group(1).strip("'\"")


def read_rows(path, labels):
    with open(path, encoding="utf-8-sig", newline="") as f:
        r = csv.DictReader(f)
        if not r.fieldnames or not {"id", "text", "label"} <= set(r.fieldnames):
            die("%s: expected a header with id,text,label" % path)
        rows = []
        for i, row in enumerate(r, start=2):
            if row["label"] not in labels:
                die("%s:%d: label '%s' is not in the label set" % (path, i, row["label"]))
            rows.append((row["text"], row["label"]))
    return rows


def words(text):
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def month_names(start, n):
    y, m = int(start[:4]), int(start[5:7])
    out = []
    for k in range(n):
        t = y * 12 + m - 1 + k
        out.append("%04d-%02d" % (t // 12, t % 12 + 1))
    return out


def timestamps(rng, month, n):
    """n RFC 3339 times spread uniformly over the month (UTC), in order."""
    y, m = int(month[:4]), int(month[5:7])
    secs = calendar.monthrange(y, m)[1] * 86400
    t = sorted(rng.randrange(secs) for _ in range(n))
    return ["%s-%02dT%02d:%02d:%02dZ" % (month, 1 + s // 86400, s % 86400 // 3600,
                                         s % 3600 // 60, s % 60) for s in t]


def parse_relabel(spec):
    """FROM:TO[,FROM:TO...] into a dict."""
    out = {}
    for pair in spec.split(","):
        if pair.count(":") != 1 or not all(pair.split(":")):
            die("--relabel needs FROM:TO[,FROM:TO...], got '%s'" % spec, 2)
        f, t = pair.split(":")
        out[f] = t
    return out


def default_relabel(order, shares):
    """The most frequent classes, in disjoint pairs (1st -> 2nd, 3rd -> 4th, ...), until the
    relabelled classes hold at least 15% of the reference traffic: one pair for a set of 8
    queues, about a dozen for banking77's 77 intents."""
    out, held = {}, 0.0
    for i in range(0, len(order) - 1, 2):
        out[order[i]] = order[i + 1]
        held += shares[order[i]]
        if held >= 0.15:
            break
    return out


def draw_label(rng, labels, shares):
    return rng.choices(labels, weights=[shares[x] for x in labels])[0]


def plan(a):
    labels, prompt = yaml_labels(os.path.join(a.evalset, "evalset.yaml"))
    ref = read_rows(os.path.join(a.evalset, a.reference), labels)
    pool = []
    for f in a.pool.split(","):
        p = os.path.join(a.evalset, f)
        if os.path.exists(p):
            pool += read_rows(p, labels)
    shares = {x: 0.0 for x in labels}
    for _, lab in ref:
        shares[lab] += 1.0 / len(ref)
    by_label = {x: sorted({t for t, lab in pool if lab == x}) for x in labels}
    present = [x for x in labels if by_label[x] and shares[x] > 0]
    order = sorted(present, key=lambda x: (-shares[x], x))
    shift = a.shift_class or order[len(order) // 2]
    relabel = parse_relabel(a.relabel) if a.relabel else default_relabel(order, shares)
    for x in [shift] + [y for pair in relabel.items() for y in pair]:
        if x not in present:
            die("label '%s' is not a label with texts and a reference share" % x, 2)
    if set(relabel) & set(relabel.values()):
        die("--relabel: a class cannot both lose and receive tickets", 2)
    vocab = set()
    for t, _ in pool + ref:
        vocab |= words(t)
    new = [w for w in NEW_WORDS if w.lower() not in vocab]
    if len(new) < 2:
        die("fewer than two of the invented words are new to this eval set")
    rng = random.Random(a.seed)
    texts, index = [], {}

    def text_id(text, lab):
        if text not in index:
            index[text] = "u%06d" % len(texts)
            texts.append((index[text], text, lab))
        return index[text]

    months = month_names(a.start, 6)
    w4 = dict(shares)
    w4[shift] *= 3
    rows = []
    for k, month in enumerate(months):
        ts = timestamps(rng, month, a.rows)
        for i in range(a.rows):
            lab = draw_label(rng, present, w4 if k == 3 else shares)
            text = rng.choice(by_label[lab])
            truth, novel = lab, 0
            if k == 4 and rng.random() < a.new_vocab_share:
                phrase = rng.choice(PHRASES)
                w, v = rng.sample(new, 2)
                text = "%s %s" % (text, phrase.format(w=w, v=v))
                novel = 1
            if k == 5 and lab in relabel:
                truth = relabel[lab]
            corrected = rng.random() < a.corrected_share
            rows.append({"id": "%s-%06d" % (month, i + 1), "ts": ts[i], "month": month,
                         "text_id": text_id(text, lab), "truth": truth, "new_vocab": novel,
                         "corrected": int(corrected)})
    out = os.path.join(a.work, "texts")
    os.makedirs(out, exist_ok=True)
    shutil.copyfile(os.path.join(a.evalset, prompt), os.path.join(out, "prompt.txt"))
    with open(os.path.join(out, "evalset.yaml"), "w", encoding="utf-8") as f:
        f.write("name: prodlog-texts\ntask: classification\nlabels: [%s]\n"
                "prompt: prompt.txt\nsplits: {test: texts.csv}\n"
                % ", ".join(json.dumps(x) for x in labels))
    with open(os.path.join(out, "texts.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "text", "label"])
        w.writerows(texts)
    expected4 = 3 * shares[shift] / (1 + 2 * shares[shift])
    meta = {"seed": a.seed, "rows_per_month": a.rows, "months": months, "labels": labels,
            "evalset": os.path.abspath(a.evalset), "reference_shares": shares,
            "shift_class": shift, "shift_factor": 3, "expected_share_month4": expected4,
            "new_words": new, "new_vocab_share": a.new_vocab_share,
            "relabel": relabel,
            "corrected_share": a.corrected_share, "threshold": a.threshold,
            "distinct_texts": len(texts)}
    with open(os.path.join(a.work, "plan.json"), "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "rows": rows}, f)
    sys.stderr.write("make_prodlog: %d rows over %s..%s, %d distinct texts to score\n"
                     % (len(rows), months[0], months[-1], len(texts)))


def read_preds(path, labels):
    preds = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if not row["pred"] or not row["confidence"]:
                die("%s: text %s has no prediction (an engine error)" % (path, row["id"]), 4)
            preds[row["id"]] = (row["pred"], float(row["confidence"]),
                                {x: float(row["p_" + x]) for x in labels},
                                float(row["latency_ms"]))
    return preds


def month_truth(meta, k, rows):
    n = len(rows)
    right = sum(r["pred"] == r["truth"] for r in rows)
    corr = [r for r in rows if r["corrected"]]
    shares = {x: sum(r["truth"] == x for r in rows) / n for x in meta["labels"]}
    planted = PLANTED[k]
    detail = {"none": "stable: resampled eval texts, reference class shares",
              "class_prior_shift": "'%s' %d times as frequent (expected share %.4f)"
              % (meta["shift_class"], meta["shift_factor"], meta["expected_share_month4"]),
              "new_vocabulary": "%.0f%% of the texts carry words never in the eval set: %s"
              % (100 * meta["new_vocab_share"], ", ".join(meta["new_words"])),
              "calibration_break": "concept shift: every ticket of %s now belongs to another "
              "queue (%s); confidences unchanged, truth moved"
              % (", ".join("'%s'" % x for x in meta["relabel"]),
                 ", ".join("%s -> %s" % kv for kv in meta["relabel"].items()))}[planted]
    return {"month": meta["months"][k], "rows": n, "planted": planted, "detail": detail,
            "true_accuracy": right / n, "n_correct": right,
            "n_corrected": len(corr),
            "accuracy_on_corrected": (sum(r["pred"] == r["truth"] for r in corr) / len(corr)
                                      if corr else None),
            "mean_confidence": sum(r["confidence"] for r in rows) / n,
            "escalation_rate": sum(r["confidence"] < meta["threshold"] for r in rows) / n,
            "new_vocab_rows": sum(r["new_vocab"] for r in rows),
            "true_shares": shares}


def log(a):
    with open(os.path.join(a.work, "plan.json"), encoding="utf-8") as f:
        p = json.load(f)
    meta, rows = p["meta"], p["rows"]
    texts = {}
    with open(os.path.join(a.work, "texts", "texts.csv"), encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            texts[row["id"]] = row["text"]
    preds = read_preds(a.preds, meta["labels"])
    h = hashlib.sha256()
    with open(a.model, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    sha = h.hexdigest()
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "prodlog.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            pred, conf, probs, lat = preds[r["text_id"]]
            r.update(pred=pred, confidence=conf)
            o = {"id": r["id"], "ts": r["ts"], "pred": pred, "confidence": conf,
                 "probs": probs, "text": texts[r["text_id"]], "latency_ms": lat,
                 "escalated": conf < meta["threshold"], "model": sha}
            if r["corrected"]:
                o["corrected_label"] = r["truth"]
            f.write(json.dumps(o, ensure_ascii=False) + "\n")
    with open(os.path.join(a.out, "truth_rows.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "month", "true_label", "new_vocab", "corrected"])
        for r in rows:
            w.writerow([r["id"], r["month"], r["truth"], r["new_vocab"], r["corrected"]])
    months = [month_truth(meta, k, [r for r in rows if r["month"] == m])
              for k, m in enumerate(meta["months"])]
    meta.update(model=os.path.abspath(a.model), model_sha256=sha)
    with open(os.path.join(a.out, "truth.json"), "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "months": months}, f, indent=1)
        f.write("\n")
    for m in months:
        sys.stderr.write("make_prodlog: %s %-17s true accuracy %.3f, mean confidence %.3f\n"
                         % (m["month"], m["planted"], m["true_accuracy"], m["mean_confidence"]))


def main():
    ap = argparse.ArgumentParser(prog="prodlog.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    pl = sub.add_parser("plan")
    pl.add_argument("--evalset", required=True)
    pl.add_argument("--work", required=True)
    pl.add_argument("--reference", default="test.csv")
    pl.add_argument("--pool", default="test.csv,calibration.csv,train.csv")
    pl.add_argument("--rows", type=int, default=2000)
    pl.add_argument("--seed", type=int, default=1)
    pl.add_argument("--start", default="2026-06")
    pl.add_argument("--threshold", type=float, default=0.85)
    pl.add_argument("--shift-class")
    pl.add_argument("--relabel")
    pl.add_argument("--new-vocab-share", type=float, default=0.6)
    pl.add_argument("--corrected-share", type=float, default=0.10)
    lg = sub.add_parser("log")
    lg.add_argument("--work", required=True)
    lg.add_argument("--preds", required=True)
    lg.add_argument("--model", required=True)
    lg.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.cmd == "plan":
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", a.start):
            die("--start needs YYYY-MM, got '%s'" % a.start, 2)
        if a.rows < 1 or not 0 <= a.new_vocab_share <= 1 or not 0 <= a.corrected_share <= 1:
            die("--rows must be positive and the shares within [0, 1]", 2)
        plan(a)
    else:
        log(a)


if __name__ == "__main__":
    main()
