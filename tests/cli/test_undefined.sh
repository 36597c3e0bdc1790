#!/bin/sh
# Undefined is NULL: a label of the label set with no gold and no predicted example has no
# precision, recall or F1 (0/0) — stored NULL, shown "–", and a class_recall_min gate does
# not judge it (it neither fails nor passes silently; the detail says why).
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
mkdir -p "$TMP/es"
cp "$FX"/*.csv "$FX/prompt.txt" "$TMP/es/"
sed 's/labels: \[billing, shipping, technical\]/labels: [billing, shipping, technical, legal]/' \
    "$FX/evalset.yaml" >"$TMP/es/evalset.yaml"
awk -F, 'NR==1{print "id,label,pred,confidence,latency_ms"; next}{print $1","$NF","$NF",0.9,1"}' \
    "$TMP/es/test.csv" >"$TMP/es/perfect.csv"
cat >"$TMP/run.yaml" <<YAML
name: undefined
evalset: $TMP/es
mode: generate
warmup: 0
bandwidth: false
counters: false
candidates:
  - {name: perfect, engine: replay, model: es/perfect.csv}
YAML
expect_exit 0 "run with a label nobody uses" "$SLMBENCH" run "$TMP/run.yaml" --db "$TMP/u.db" --quiet
row=$(sql "$TMP/u.db" "select coalesce(precision,'NULL'), coalesce(recall,'NULL'), coalesce(f1,'NULL'), support, predicted from per_class where label = 'legal'")
[ "$row" = "NULL|NULL|NULL|0|0" ] && ok "its precision, recall and F1 are NULL, not 0" || notok "legal row: $row"
row=$(sql "$TMP/u.db" "select precision, recall, f1 from per_class where label = 'billing'")
[ "$row" = "1.0|1.0|1.0" ] && ok "measured labels keep their values" || notok "billing row: $row"
m=$(sql "$TMP/u.db" "select value from metrics where name = 'macro_f1'")
[ "$m" = "1.0" ] && ok "macro-F1 over the labels in play is 1 (the unused label is not a 0)" || notok "macro-F1 $m"
expect_exit 0 "report" "$SLMBENCH" report last --db "$TMP/u.db"
expect_out '^\| legal \| – \| – \| – \| 0 \| 0 \|' "the report shows – for the undefined values"
"$SLMBENCH" report last --db "$TMP/u.db" --json >"$TMP/r.json"
/usr/bin/python3 - "$TMP/r.json" <<'PY' && ok "report --json has null for them" || notok "report --json: not null"
import json, sys
d = json.load(open(sys.argv[1]))
def walk(o):
    if isinstance(o, dict):
        if o.get("label") == "legal" and "recall" in o:
            yield o
        for v in o.values():
            yield from walk(v)
    elif isinstance(o, list):
        for v in o:
            yield from walk(v)
rows = list(walk(d))
sys.exit(0 if rows and all(r["recall"] is None and r.get("precision") is None for r in rows) else 1)
PY
printf 'absolute:\n  class_recall_min: 0.9\n' >"$TMP/gate.yaml"
expect_exit 0 "class_recall_min passes the measured labels" "$SLMBENCH" gate "$TMP/gate.yaml" --db "$TMP/u.db"
expect_out 'class\\_recall\\_min\\\[legal\\\] \| not judged: no gold example' "the unused label is not judged, and the gate says why"
