#!/usr/bin/python3
"""The labeller of tests/cli/test_prodreview.sh: fills the empty label column of an audit
sample CSV (slmbench sample) with each row's true label, the corrected_label of the
production log it was drawn from. usage: prodreview_label.py LOG.jsonl SAMPLE.csv OUT.csv"""
import csv, json, sys

truth = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    truth[r["id"]] = r["corrected_label"]
with open(sys.argv[2], newline="") as f, open(sys.argv[3], "w", newline="") as o:
    rd = csv.DictReader(f)
    w = csv.DictWriter(o, fieldnames=rd.fieldnames, lineterminator="\n")
    w.writeheader()
    for row in rd:
        row["label"] = truth[row["id"]]
        w.writerow(row)
