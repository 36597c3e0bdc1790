# slmbench quick / init: a user's CSV or JSON lines with their own column names and two
# GGUF files to an eval set folder, a run config, a run and a report; the split checked
# against an independent count; the common mistakes refused with what to do.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
case $SLMBENCH in /*) ;; *) SLMBENCH=$ROOT/$SLMBENCH ;; esac
cd "$TMP"
"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out a.gguf --vocab 40 >/dev/null
"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out b.gguf --vocab 8 --alpha 5 >/dev/null

# The tiny set's 36 test and calibration rows under other column names, sorted by label
# (as many exported files are), with a column of one value that must not be taken.
python3 - "$FX" <<'EOF'
import csv, json, sys
rows = [r for f in ("test.csv", "calibration.csv") for r in csv.DictReader(open(sys.argv[1] + "/" + f))]
rows.sort(key=lambda r: r["label"])
with open("tickets.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\r\n")
    w.writerow(["ref", "message", "intent", "lang"])
    for r in rows: w.writerow([r["id"], r["text"], r["label"], "en"])
with open("nonames.csv", "w", newline="") as f:   # no well-known name: guessed by values
    w = csv.writer(f)
    w.writerow(["key", "words", "q"])
    for r in rows: w.writerow([r["id"], r["text"], r["label"]])
with open("tickets.jsonl", "w") as f:
    for r in rows: f.write(json.dumps({"utterance": r["text"], "category": r["label"], "n": 1}) + "\n")
with open("ids300.csv", "w") as f:                # a label column that is really an id
    f.write("text,ticket_no\n")
    for i in range(300): f.write("some text %d,T%04d\n" % (i, i))
EOF

# --dry-run writes the eval set and run.yaml, runs nothing
expect_exit 0 "quick --dry-run" "$SLMBENCH" quick --data tickets.csv --model a.gguf --model b.gguf --dry-run
expect_err "text column 'message' \(guessed from its name" "text column guessed by name, said"
expect_err "label column 'intent' \(guessed from its name" "label column guessed by name, said"
expect_err "ids made as row-<line>" "made ids said"
expect_err "labels \(3, sorted, with their rows\): billing 12, shipping 11, technical 13" "label set with counts"
expect_err "calibration: 7 of 36 rows, seed 1, stratified by label" "the split stated"
expect_err "^    Label:$" "the prompt shown"
O=slmbench-tickets
for f in evalset/evalset.yaml evalset/prompt.txt evalset/test.csv evalset/calibration.csv evalset/README.md run.yaml; do
    [ -s "$O/$f" ] || notok "$O/$f not written"
done
[ ! -e "$O/slmbench.db" ] && ok "dry run: no database" || notok "dry run wrote a database"
expect_exit 0 "evalsets check on the folder written" "$SLMBENCH" evalsets check "$O/evalset"
grep -q '^quantization: same' "$O/run.yaml" && grep -q '^calibration_split: calibration' "$O/run.yaml" &&
    grep -q '^  - name: "a"' "$O/run.yaml" && grep -q '^  - name: "b"' "$O/run.yaml" &&
    grep -q '^# requirements:' "$O/run.yaml" && ok "run.yaml: policy, calibration, candidates" ||
    notok "run.yaml: $(cat "$O/run.yaml")"

# The split, checked independently: per label round(0.2 n) (at least 1) held out, the two
# files disjoint and together every row, ids row-<line> of the source lines.
python3 - "$O/evalset" <<'EOF' && ok "split: stratified counts, disjoint, complete, ids are source lines" || notok "split check"
import csv, sys, collections, math
d = sys.argv[1]
src = list(csv.reader(open("tickets.csv", newline="")))[1:]
want = {"row-%d" % (i + 2): (r[1], r[2]) for i, r in enumerate(src)}
test = list(csv.DictReader(open(d + "/test.csv", newline="")))
cal = list(csv.DictReader(open(d + "/calibration.csv", newline="")))
got = {r["id"]: (r["text"], r["label"]) for r in test + cal}
assert len(test) + len(cal) == len(src) == len(got), (len(test), len(cal))
assert got == want
n = collections.Counter(l for _, l in want.values())
c = collections.Counter(r["label"] for r in cal)
for l in n:
    assert c[l] == max(1, min(n[l] - 1, math.floor(0.2 * n[l] + 0.5))), (l, c[l])
labels = [x.strip()[3:-1] for x in open(d + "/evalset.yaml") if x.startswith("  - ")]
assert labels == sorted(n), labels
EOF
# the test rows are not in the file's (sorted) order: limit: N samples every label
first=$(sed -n '2,7p' "$O/evalset/test.csv" | awk -F, '{print $NF}' | sort -u | wc -l)
[ "$first" -ge 2 ] && ok "the first 6 test rows hold $first labels (seeded order)" ||
    notok "the first 6 test rows hold one label"
cp "$O/evalset/test.csv" test1.csv
expect_exit 0 "the same command again keeps the files" "$SLMBENCH" init --data tickets.csv --model a.gguf --model b.gguf
expect_err "kept \(unchanged\)" "unchanged files said"
cmp -s test1.csv "$O/evalset/test.csv" && ok "same seed, same split" || notok "same seed gave another split"
expect_exit 3 "another seed into the same folder is refused" "$SLMBENCH" init --data tickets.csv --model a.gguf --model b.gguf --seed 2
expect_err "already exists with other contents.*--out DIR.*--force" "refusal names --out and --force"
cmp -s test1.csv "$O/evalset/test.csv" && ok "nothing overwritten" || notok "refused, yet overwritten"
expect_exit 0 "--force replaces it" "$SLMBENCH" init --data tickets.csv --model a.gguf --model b.gguf --seed 2 --force
cmp -s test1.csv "$O/evalset/test.csv" && notok "seed 2 gave the same split" || ok "seed 2, another split"

# quick: run and report; then the run again from run.yaml
expect_exit 0 "quick runs and reports" "$SLMBENCH" quick --data tickets.csv --model a.gguf --model b.gguf --out q --limit 12 --name tickets
expect_out '^\| a \| llamacpp \| F16' "summary table on stdout"
[ -s q/report/report.md ] && [ -s q/report/report.html ] && [ -s q/report/report.json ] &&
    ok "report written to q/report" || notok "report files missing"
expect_err "slmbench run q/run.yaml --db q/slmbench.db" "next command said"
n=$(sql q/slmbench.db "select count(*) from predictions p join runs r on r.id = p.run_id")
[ "$n" = 24 ] && ok "12 predictions per candidate (limit: 12)" || notok "predictions: $n"
g=$(sql q/slmbench.db "select count(distinct gold) from predictions")
[ "$g" -ge 2 ] && ok "the limited run holds $g labels" || notok "the limited run holds $g labels"
expect_exit 0 "slmbench run q/run.yaml again" "$SLMBENCH" run q/run.yaml --db q/slmbench.db
r=$(sql q/slmbench.db "select count(*) from runs where status = 'complete'")
[ "$r" = 2 ] && ok "two complete runs" || notok "runs: $r"

# explicit columns, guessed by values, JSON lines
expect_exit 0 "explicit --text/--label" "$SLMBENCH" init --data tickets.csv --model a.gguf --model b.gguf --out e --text message --label intent
expect_err "label column 'intent' \(named by --label\)" "named column said"
expect_exit 0 "columns guessed by their values" "$SLMBENCH" init --data nonames.csv --model a.gguf --model b.gguf --out v
expect_err "label column 'q' \(guessed: the column with the fewest distinct values \(3 in 36 rows\)" "label guessed by values"
expect_err "text column 'words' \(guessed: the longest column" "text guessed by length"
expect_exit 0 "JSON lines" "$SLMBENCH" init --data tickets.jsonl --model a.gguf --model b.gguf --out j
expect_err "text column 'utterance'.*" "JSON lines: text column"
expect_exit 0 "JSON lines eval set checks" "$SLMBENCH" evalsets check j/evalset
# what the loader accepts: a BOM, CRLF, quotes, commas, line breaks and spaces kept in a
# text; JSON lines with numbers as labels and keys missing from some lines
printf '\357\273\277Text,Label\r\n"he said ""hi"", then left",1\r\n"  two\r\nlines ",2\r\nplain,1\r\nmore,2\r\n' >odd.csv
printf '{"text": "a", "label": 1}\n\n{"label": 2, "text": "b", "extra": [1]}\n{"text": "c", "label": 1}\n{"text": "d", "label": 2}\n' >odd.jsonl
expect_exit 0 "BOM, CRLF, quoted fields" "$SLMBENCH" init --data odd.csv --model a.gguf --out o1 --calibration 0
expect_exit 0 "JSON lines with number labels" "$SLMBENCH" init --data odd.jsonl --model a.gguf --out o2 --calibration 0
python3 - <<'EOF2' && ok "texts and labels written back exactly" || notok "texts changed on the way"
import csv
a = sorted((r["id"], r["text"], r["label"]) for r in csv.DictReader(open("o1/evalset/test.csv", newline="")))
assert a == [("row-2", 'he said "hi", then left', "1"), ("row-3", "  two\r\nlines ", "2"),
             ("row-5", "plain", "1"), ("row-6", "more", "2")], a
b = sorted((r["id"], r["text"], r["label"]) for r in csv.DictReader(open("o2/evalset/test.csv", newline="")))
assert b == [("row-1", "a", "1"), ("row-3", "b", "2"), ("row-4", "c", "1"), ("row-5", "d", "2")], b
EOF2
expect_exit 0 "evalsets check on them" "$SLMBENCH" evalsets check o1/evalset
[ ! -e o1/evalset/calibration.csv ] && ! grep -q calibration_split o1/run.yaml &&
    ok "--calibration 0: no calibration split" || notok "--calibration 0 still held rows out"
# the split's edges: a label of one row stays in test, one of two gives one, none gives all
printf 'text,label\nu1,one\nt1,two\nt2,two\nh1,three\nh2,three\nh3,three\n' >edges.csv
for share in 0.2:0:1:1 0.9:0:1:2; do
    IFS=: read -r x c1 c2 c3 <<EOF2
$share
EOF2
    "$SLMBENCH" init --data edges.csv --model a.gguf --out "edge$x" --calibration "$x" 2>/dev/null
    got=$(for l in one two three; do grep -c ",$l\$" "edge$x/evalset/calibration.csv" || true; done | tr '\n' :)
    [ "$got" = "$c1:$c2:$c3:" ] && ok "--calibration $x: held out $got of 1:2:3" ||
        notok "--calibration $x: held out $got of 1:2:3, expected $c1:$c2:$c3"
done
mkdir -p d2 && cp a.gguf d2/a.gguf
expect_exit 0 "two models of one stem" "$SLMBENCH" init --data tickets.csv --model a.gguf --model d2/a.gguf --out u
grep -q '^  - name: "a-2"' u/run.yaml && ok "names made unique (a, a-2)" || notok "names: $(grep name u/run.yaml)"

# mistakes, each with its exit code and what to do
expect_exit 3 "wrong column name" "$SLMBENCH" init --data tickets.csv --model a.gguf --label intnet --out x
expect_err "no column 'intnet'.*'ref', 'message', 'intent', 'lang'; did you mean 'intent'\?" "columns listed, nearest suggested"
expect_exit 3 "a 300-value label column" "$SLMBENCH" init --data ids300.csv --model a.gguf --label ticket_no --out x
expect_err "column 'ticket_no' has 300 distinct values in 300 rows: it looks like a text or id column.*--label COL" "300 labels: looks like an id column"
mkdir -p modeldir
expect_exit 3 "a directory as model" "$SLMBENCH" init --data tickets.csv --model modeldir --out x
expect_err "--model modeldir: is a folder, not a model file; give the path of a .gguf file" "folder named, what to give"
expect_exit 3 "a model that is not GGUF" "$SLMBENCH" init --data tickets.csv --model tickets.csv --out x
expect_err "--model tickets.csv: .*it is a text file .*not a model" "not GGUF: what it is said"
"$SLMBENCH" models quantize a.gguf a-q8.gguf Q8_0 >/dev/null 2>&1
expect_exit 3 "mixed quantizations" "$SLMBENCH" init --data tickets.csv --model a.gguf --model a-q8.gguf --out x
expect_err "a.gguf is F16, a-q8.gguf is Q8_0.*models quantize.*--mixed-quantization" "each file's type named, both ways out"
[ ! -e x ] && ok "nothing written on a refusal" || notok "a refusal wrote x/"
expect_exit 0 "--mixed-quantization" "$SLMBENCH" init --data tickets.csv --model a.gguf --model a-q8.gguf --out m --mixed-quantization
grep -q '^quantization: mixed' m/run.yaml && ok "quantization: mixed written" || notok "no quantization: mixed"
sed '5s/,billing,en/,,en/' tickets.csv >empty.csv
expect_exit 3 "an empty label" "$SLMBENCH" init --data empty.csv --model a.gguf --out x
expect_err "empty.csv:5: empty label \(column 'intent'\).*--skip-empty" "empty label: file:line and the way out"
expect_exit 0 "--skip-empty" "$SLMBENCH" init --data empty.csv --model a.gguf --out k --skip-empty
expect_err "left out 1 rows" "skipped rows counted"
expect_exit 2 "no --model" "$SLMBENCH" quick --data tickets.csv
