#!/bin/sh
# export: `export table` writes every column the schema declares, one CSV record per row
# (RFC 4180, through libcsv's quoting), for any table; `export predictions` is the replay
# file. The fixed database of the golden report is the data.
. "$(dirname "$0")/lib.sh"
DB="$TMP/g.db"
sql "$DB" < "$ROOT/tests/fixtures/report/golden.sql"
# opening through slmbench brings the fixture's schema up to date first
"$SLMBENCH" export table runs 1 --db "$DB" >/dev/null 2>&1 || true

# records FILE: the number of CSV records and the set of field counts ("n|k1,k2")
records() {
    /usr/bin/python3 -c 'import csv,sys
rows=list(csv.reader(open(sys.argv[1], newline="")))
print("%d|%s" % (len(rows), ",".join(sorted({str(len(r)) for r in rows}))))' "$1"
}

for t in runs evalsets examples candidates predictions metrics per_class confusion reliability curves comparisons samples counters; do
    if ! "$SLMBENCH" export table "$t" 1 --db "$DB" >"$TMP/$t.csv" 2>"$TMP/err"; then
        notok "export table $t failed: $(cat "$TMP/err")"
        continue
    fi
    ncol=$(sql "$DB" "select count(*) from pragma_table_info('$t')")
    key=run_id; [ "$t" = runs ] && key=id
    nrow=$(sql "$DB" "select count(*) from $t where $key = 1")
    got=$(records "$TMP/$t.csv")
    want="$((nrow + 1))|$ncol"
    [ "$nrow" -eq 0 ] && want="1|$ncol"
    [ "$got" = "$want" ] && ok "export table $t: $nrow rows x $ncol columns" ||
        notok "export table $t: got $got records|fields, want $want"
done
head -n 1 "$TMP/metrics.csv" | grep -qx 'run_id,candidate_id,name,value,lo,hi,n' &&
    ok "header is the declared columns" || notok "metrics header: $(head -n 1 "$TMP/metrics.csv")"

# --candidate keeps that candidate's rows
cand=$(sql "$DB" "select name from candidates where run_id = 1 order by idx limit 1")
cid=$(sql "$DB" "select id from candidates where run_id = 1 order by idx limit 1")
"$SLMBENCH" export table predictions 1 --candidate "$cand" --db "$DB" >"$TMP/one.csv"
n=$(sql "$DB" "select count(*) from predictions where candidate_id = $cid")
[ "$(records "$TMP/one.csv")" = "$((n + 1))|$(sql "$DB" "select count(*) from pragma_table_info('predictions')")" ] &&
    ok "--candidate keeps its $n rows" || notok "--candidate: $(records "$TMP/one.csv")"

# a field with a comma, a quote and a line break survives the round trip
sql "$DB" "update predictions set raw_output = 'a,\"b\"' || char(10) || 'c' where candidate_id = $cid and example_idx = 0"
"$SLMBENCH" export table predictions 1 --candidate "$cand" --db "$DB" >"$TMP/q.csv"
back=$(/usr/bin/python3 -c 'import csv,sys
r=list(csv.DictReader(open(sys.argv[1], newline="")))
print(repr(r[0]["raw_output"]))' "$TMP/q.csv")
[ "$back" = "'a,\"b\"\\nc'" ] && ok "quoted field round-trips" || notok "quoted field came back as $back"

# Round-trip precision (issue 15): every REAL comes out with the digits that read back as
# the same double — 0.1 + 0.2 is not written as 0.3 (%.10g, or SQLite's own 15-digit
# text, would make it tie with a real 0.3), 1/3 keeps every bit, and 0.3 stays "0.3".
sql "$DB" "update metrics set value = 0.1 + 0.2 where candidate_id = $cid and name = 'accuracy';
update metrics set value = 1.0 / 3 where candidate_id = $cid and name = 'macro_f1';
update metrics set value = 0.3 where candidate_id = $cid and name = 'ece_15';
update predictions set confidence = 0.1 + 0.2,
  probs_json = '[0.33333333333333331,0.30000000000000004,0.36666666666666664]'
  where candidate_id = $cid and example_idx = 0"
"$SLMBENCH" export table metrics 1 --candidate "$cand" --db "$DB" >"$TMP/m.csv"
"$SLMBENCH" export predictions 1 --candidate "$cand" --db "$DB" >"$TMP/p.csv"
back=$(/usr/bin/python3 -c 'import csv,sys
m={r["name"]: r["value"] for r in csv.DictReader(open(sys.argv[1], newline=""))}
p=list(csv.reader(open(sys.argv[2], newline="")))[1]
bad=[]
if float(m["accuracy"]) != 0.1 + 0.2: bad.append("0.1+0.2 as " + m["accuracy"])
if float(m["macro_f1"]) != 1 / 3: bad.append("1/3 as " + m["macro_f1"])
if m["ece_15"] != "0.3": bad.append("0.3 as " + m["ece_15"])
if float(p[3]) != 0.1 + 0.2: bad.append("confidence as " + p[3])
if [float(x) for x in p[4:7]] != [1 / 3, 0.1 + 0.2, 0.36666666666666664]: bad.append("probs as " + ",".join(p[4:7]))
print("; ".join(bad) or "same")' "$TMP/m.csv" "$TMP/p.csv")
[ "$back" = same ] && ok "reals round-trip bit for bit (table and predictions)" || notok "round trip: $back"

expect_exit 2 "unknown table" "$SLMBENCH" export table nope 1 --db "$DB"
expect_err "no table 'nope'" "unknown table named"
for t in prod_predictions ingests; do
    expect_exit 2 "export table $t (not per run)" "$SLMBENCH" export table $t 1 --db "$DB"
    expect_err "table '$t' is not kept per run: export table takes runs, " "$t: the per-run tables named"
done
expect_exit 2 "table without a run" "$SLMBENCH" export table metrics --db "$DB"
expect_exit 3 "no such run" "$SLMBENCH" export table metrics 99 --db "$DB"
expect_exit 3 "no such candidate" "$SLMBENCH" export table metrics 1 --candidate nobody --db "$DB"

# Spreadsheet formulas (issue 16, defect 8): ids, labels and predictions that a spreadsheet
# would run (=..., @..., +..., -..., a tab first) are written with a quote in front; a
# number such as -7 is not; a cell that begins with ' and a formula character or a second
# ' gets one more quote, so the replay engine, which takes that one quote off, reads an
# export back exactly: a replay of the export stores the same ids and predictions.
H="$TMP/hostile"
mkdir -p "$H"
cat >"$H/evalset.yaml" <<'YAML'
name: hostile
version: 1
task: classification
labels: ["=1+1", "@SUM(A1)", "-1", "ok"]
prompt: prompt.txt
splits:
  test: test.csv
YAML
printf 'Ticket: {{text}}\nCategory:' >"$H/prompt.txt"
/usr/bin/python3 -c 'import csv,json,sys
rows=[["=cmd|'"'"' /C calc'"'"'!A0","=1+1"], ["@SUM(1+1)","@SUM(A1)"], ["+1+1","-1"],
      ["-2+3","ok"], ["'"'"'=q","ok"], ["'"''"'z","ok"], ["'"'"'plain","ok"], ["-7","-1"],
      ["=HYPERLINK(\"http://x\",\"y\")","ok"]]
w=csv.writer(open(sys.argv[1], "w", newline=""))
w.writerow(["id","text","label"])
for i,l in rows: w.writerow([i, "some text", l])
with open(sys.argv[2], "w") as f:
    for i,l in rows: f.write(json.dumps({"id": i, "output": l}) + "\n")' "$H/test.csv" "$H/rec.jsonl"
printf 'name: %s\nevalset: %s\nwarmup: 0\nbootstrap: 50\ncandidates:\n  - {name: m, engine: replay, model: %s}\n' \
    first "$H" rec.jsonl >"$H/first.yaml"
HDB="$TMP/h.db"
expect_exit 0 "run over formula-like ids and labels" "$SLMBENCH" run "$H/first.yaml" --db "$HDB" --quiet
"$SLMBENCH" export predictions first --candidate m --db "$HDB" >"$H/p.csv"
"$SLMBENCH" export predictions first --candidate m --db "$HDB" --raw >"$H/raw.csv" || notok "export predictions --raw failed"
# cells FILE: id|label|pred of each record, Python's repr of each cell
cells() {
    /usr/bin/python3 -c 'import csv,sys
for r in list(csv.reader(open(sys.argv[1], newline="")))[1:]: print("|".join(repr(c) for c in r[:3]))' "$1"
}
# written out by hand from the rule (README "export"): quote before = @ + - unless a
# number, one more quote before '= and '', none before 'plain or -7 / -1
want="\"'=cmd|' /C calc'!A0\"|\"'=1+1\"|\"'=1+1\"
\"'@SUM(1+1)\"|\"'@SUM(A1)\"|\"'@SUM(A1)\"
\"'+1+1\"|'-1'|'-1'
\"'-2+3\"|'ok'|'ok'
\"''=q\"|'ok'|'ok'
\"'''z\"|'ok'|'ok'
\"'plain\"|'ok'|'ok'
'-7'|'-1'|'-1'
'\\'=HYPERLINK(\"http://x\",\"y\")'|'ok'|'ok'"
got=$(cells "$H/p.csv")
[ "$got" = "$want" ] && ok "export guards formula cells (and only those)" ||
    notok "guarded cells: $(printf '%s\n' "$got" | tr '\n' ' ')"
bad=$(/usr/bin/python3 -c 'import csv,sys
n=0
for r in csv.reader(open(sys.argv[1], newline="")):
    for c in r:
        try: float(c); continue
        except ValueError: pass
        if c[:1] in ("=", "+", "-", "@", "\t", "\r"): n += 1
print(n)' "$H/p.csv")
[ "$bad" = 0 ] && ok "no cell of the export begins a formula" || notok "$bad cells begin a formula"
raw_ids=$(/usr/bin/python3 -c 'import csv,sys
print("|".join(r[0] for r in list(csv.reader(open(sys.argv[1], newline="")))[1:]))' "$H/raw.csv")
[ "$raw_ids" = "$(sql "$HDB" "select group_concat(example_id, '|') from (select example_id from predictions order by example_idx)")" ] &&
    ok "--raw writes the ids exactly as stored" || notok "--raw ids: $raw_ids"
head -n 1 "$H/p.csv" | grep -qF 'p_=1+1,p_@SUM(A1),p_-1,p_ok' && ok "p_<label> headers stay as they are" ||
    notok "header: $(head -n 1 "$H/p.csv")"
printf 'name: %s\nevalset: %s\nwarmup: 0\nbootstrap: 50\ncandidates:\n  - {name: m, engine: replay, model: %s}\n' \
    again "$H" p.csv >"$H/again.yaml"
expect_exit 0 "the guarded export replays" "$SLMBENCH" run "$H/again.yaml" --db "$HDB" --quiet
same=$(sql "$HDB" "select count(*) from predictions a join predictions b
  on a.example_idx = b.example_idx and a.run_id = 1 and b.run_id = 2
  where a.example_id = b.example_id and a.pred = b.pred")
[ "$same" = 9 ] && ok "the replay of the export stores the same 9 ids and predictions" ||
    notok "replay of the export: $same of 9 the same"
# export table: every text column is guarded the same way; numbers are not
sql "$HDB" "update predictions set raw_output = char(9) || '=x', error = '-bad' where run_id = 1 and example_idx = 0"
"$SLMBENCH" export table predictions first --db "$HDB" >"$H/t.csv"
"$SLMBENCH" export table predictions first --db "$HDB" --raw >"$H/traw.csv" || notok "export table --raw failed"
got=$(/usr/bin/python3 -c 'import csv,sys
for f in sys.argv[1:]:
    r=list(csv.DictReader(open(f, newline="")))[0]
    print(repr(r["raw_output"]), repr(r["error"]), r["example_idx"])' "$H/t.csv" "$H/traw.csv" | tr '\n' ' ')
[ "$got" = "\"'\\t=x\" \"'-bad\" 0 '\\t=x' '-bad' 0 " ] && ok "export table guards text cells; --raw does not" ||
    notok "export table cells: $got"
