# `slmbench evalsets add DIR --file LABELLED.csv [--slice NAME]`: a labelled file (an audit
# sample come back from the labellers) appended to an eval set as a new, versioned slice
# that the next run includes.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
ES="$TMP/es"
cp -r "$FX" "$ES"
DB="$TMP/a.db"

# the labelled audit file: the sample command's columns (pred kept as an extra column)
cat >"$TMP/audit.csv" <<'CSV'
id,text,label,pred,weight
a01,the invoice total is wrong again,billing,shipping,2.5
a02,"parcel lost, tracking stuck",shipping,shipping,1
a03,app crashes at login,technical,billing,1
CSV
# a replay model answering every id of the test split and of the audit file with its label
{ echo "id,pred"; tail -n +2 "$ES/test.csv" | awk -F, '{ print $1 "," $NF }'
  tail -n +2 "$TMP/audit.csv" | awk -F, '{ print $1 "," $(NF - 1) }'; } >"$TMP/model.csv"
cat >"$TMP/run.yaml" <<YAML
name: audited
evalset: $ES
warmup: 0
bootstrap: 200
candidates:
  - {name: alpha, engine: replay, model: $TMP/model.csv}
YAML
n_test=$(($(wc -l <"$ES/test.csv") - 1))
expect_exit 0 "a run before" "$SLMBENCH" run "$TMP/run.yaml" --db "$DB" --quiet

# refused files change nothing
cp "$ES/evalset.yaml" "$TMP/yaml.before"
unchanged() {
    if cmp -s "$ES/evalset.yaml" "$TMP/yaml.before" && [ ! -e "$ES/slices" ]; then ok "$1: nothing written"
    else notok "$1: the eval set changed"; fi
}
printf 'id,text,label\nb01,refund me,billing\nb02,where is it,queue_x\n' >"$TMP/badlabel.csv"
expect_exit 3 "a label outside the label set" "$SLMBENCH" evalsets add "$ES" --file "$TMP/badlabel.csv"
expect_err "badlabel.csv:3: label 'queue_x' is not in the label set" "the unknown label is named with file:line"
unchanged "unknown label"
printf 'id,text,label\nb01,refund me,billing\nte02,my invoice,billing\n' >"$TMP/known.csv"
expect_exit 3 "an id already in the eval set" "$SLMBENCH" evalsets add "$ES" --file "$TMP/known.csv"
expect_err "known.csv:3: id 'te02' is already in the eval set \(split 'test', .*test.csv:3\)" \
    "the repeated id is named with both places"
unchanged "known id"
printf 'id,text,label\nb01,refund me,billing\nb01,refund me too,billing\n' >"$TMP/dup.csv"
expect_exit 3 "a duplicate id in the file" "$SLMBENCH" evalsets add "$ES" --file "$TMP/dup.csv"
expect_err "dup.csv:3: duplicate id 'b01' \(first on line 2\)" "the duplicate is named"
printf 'id,text,label\nb01,"refund me,billing\n' >"$TMP/quote.csv"
expect_exit 3 "an unterminated quote" "$SLMBENCH" evalsets add "$ES" --file "$TMP/quote.csv"
expect_err "quote.csv:2: malformed CSV" "the open quote's line is named"
printf 'id,text\nb01,refund me\n' >"$TMP/nolabel.csv"
expect_exit 3 "no label column" "$SLMBENCH" evalsets add "$ES" --file "$TMP/nolabel.csv"
expect_err "nolabel.csv:1: header has no 'label' column" "the missing column is named"
printf 'id,text,label\nb01,refund me,\n' >"$TMP/empty.csv"
expect_exit 3 "a row not labelled yet" "$SLMBENCH" evalsets add "$ES" --file "$TMP/empty.csv"
expect_err "empty.csv:2: empty label for id 'b01'" "an empty label is named"
: >"$TMP/zero.csv"
expect_exit 3 "an empty file" "$SLMBENCH" evalsets add "$ES" --file "$TMP/zero.csv"
expect_exit 3 "a missing file" "$SLMBENCH" evalsets add "$ES" --file "$TMP/nosuch.csv"
expect_exit 3 "an undeclared split" "$SLMBENCH" evalsets add "$ES" --file "$TMP/audit.csv" --split dev
expect_err "has no split 'dev'" "the split is named"
expect_exit 3 "a bad slice name" "$SLMBENCH" evalsets add "$ES" --file "$TMP/audit.csv" --slice "../x"
expect_err "bad slice name '../x'" "the name is refused"
expect_exit 2 "no --file" "$SLMBENCH" evalsets add "$ES"
expect_exit 2 "no DIR" "$SLMBENCH" evalsets add --file "$TMP/audit.csv"
unchanged "every refusal"

expect_exit 0 "evalsets add" "$SLMBENCH" evalsets add "$ES" --file "$TMP/audit.csv" --slice audit-2026-11
expect_out "added slice 'audit-2026-11' to split 'test': 3 rows" "says what it added"
expect_out "eval set version 1 -> 2" "says the new version"
check "the slice file keeps the labelled file's bytes (extra columns too)" cmp "$TMP/audit.csv" "$ES/slices/audit-2026-11.csv"
audit_sha=$(sha256sum "$TMP/audit.csv" | cut -c1-64)
got=$(grep -A6 'name: "audit-2026-11"' "$ES/evalset.yaml" | tr -d '" ' | grep -E '^(split|file|version|rows|sha256):' | tr '\n' ' ')
[ "$got" = "split:test file:slices/audit-2026-11.csv version:2 rows:3 sha256:$audit_sha " ] \
    && ok "evalset.yaml records split, file, version, rows and sha256" || notok "recorded: $got"
grep -q '^version: "2"$' "$ES/evalset.yaml" && ok "the eval set's version went up" || notok "version not raised"
expect_exit 0 "evalsets check with the slice" "$SLMBENCH" evalsets check "$ES"
expect_out "rows +$((n_test + 3))" "the test split has the slice's rows"
expect_out "^slice 'audit-2026-11': added to split 'test' with version 2, .*slices/audit-2026-11.csv \(sha256 $(echo "$audit_sha" | cut -c1-12)\)" \
    "evalsets check lists the slice"

expect_exit 0 "a run after" "$SLMBENCH" run "$TMP/run.yaml" --db "$DB" --quiet
got=$(sql "$DB" "select group_concat(n_rows || '/' || version, ' ') from (select n_rows, version from evalsets order by run_id)")
[ "$got" = "$n_test/1 $((n_test + 3))/2" ] && ok "the next run evaluates the slice's rows, version 2 ($got)" || notok "runs: $got"
got=$(sql "$DB" "select count(distinct sha256) from evalsets")
[ "$got" = 2 ] && ok "the run's eval-set sha256 changed" || notok "distinct sha256: $got"
got=$(sql "$DB" "select group_concat(example_id, ' ') from examples where run_id = 2 and example_id like 'a0%'")
[ "$got" = "a01 a02 a03" ] && ok "the slice's examples are in the run" || notok "slice examples: $got"
got=$(sql "$DB" "select count(*) from predictions p join examples x on x.run_id = p.run_id and x.idx = p.example_idx
                 where p.run_id = 2 and x.example_id like 'a0%' and p.correct = 0")
[ "$got" = 2 ] && ok "and scored: the model's two wrong audit answers count ($got)" || notok "wrong audit answers: $got"

# a second slice appends to the list; a JSON-lines file into the calibration split
printf '{"id": "c01", "text": "charged twice on my card", "label": "billing"}\n' >"$TMP/more.jsonl"
expect_exit 0 "a second slice (JSON lines, calibration)" "$SLMBENCH" evalsets add "$ES" \
    --file "$TMP/more.jsonl" --split calibration
got=$(grep -c '^  - name:' "$ES/evalset.yaml")
[ "$got" = 2 ] && ok "two slices listed" || notok "slices listed: $got"
grep -q '^version: "3"$' "$ES/evalset.yaml" && ok "version 3" || notok "version not 3"
[ -f "$ES/slices/more.jsonl" ] && ok "named after the file by default" || notok "no slices/more.jsonl"
expect_exit 3 "the same name again" "$SLMBENCH" evalsets add "$ES" --file "$TMP/badlabel.csv" --slice more
expect_err "already has a slice 'more'" "a taken name is refused"
expect_exit 3 "an id of an earlier slice" "$SLMBENCH" evalsets add "$ES" --file "$TMP/audit.csv" --slice again
expect_err "audit.csv:2: id 'a01' is already in the eval set \(split 'test', .*slices/audit-2026-11.csv:2\)" \
    "an id of a slice is named with the slice file"

# a slice file edited afterwards is refused where it is loaded
sed -i 's/app crashes/app freezes/' "$ES/slices/audit-2026-11.csv"
expect_exit 3 "a changed slice file" "$SLMBENCH" run "$TMP/run.yaml" --db "$DB" --quiet
expect_err "slice 'audit-2026-11' changed since it was added" "the changed slice is named"

# an evalset.yaml without a version gets one after its name; a flow-style list is refused
mkdir "$TMP/es2" && cp "$FX"/*.csv "$FX/prompt.txt" "$TMP/es2/"
grep -v '^version:' "$FX/evalset.yaml" >"$TMP/es2/evalset.yaml"
expect_exit 0 "add to an eval set without a version" "$SLMBENCH" evalsets add "$TMP/es2" --file "$TMP/audit.csv"
got=$(sed -n 2p "$TMP/es2/evalset.yaml")
[ "$got" = 'version: "2"' ] && ok "version 2 written after the name" || notok "line 2: $got"
mkdir "$TMP/es3" && cp "$FX"/*.csv "$FX/prompt.txt" "$TMP/es3/"
{ cat "$FX/evalset.yaml"; echo "slices: []"; } >"$TMP/es3/evalset.yaml"
expect_exit 3 "a flow-style slices list" "$SLMBENCH" evalsets add "$TMP/es3" --file "$TMP/audit.csv"
expect_err "evalset.yaml:[0-9]+: 'slices:' is not a block list" "the flow list is refused with its line"
