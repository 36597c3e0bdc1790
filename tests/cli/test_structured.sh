# Structured outputs: every failure kind counted, field-level scores, constrained decoding
# through llama.cpp's grammar sampler, few-shot prompts, and the project's four eval sets.
. "$(dirname "$0")/lib.sh"
LT="$ROOT/evalsets/log-triage"
IE="$ROOT/evalsets/invoice-extract"

# Replayed answers, one per failure kind (the rest right), on log-triage's first test rows.
mkdir -p "$TMP/lt"
cp "$LT/evalset.yaml" "$LT/prompt.txt" "$LT/train.csv" "$LT/calibration.csv" "$TMP/lt/"
head -n 1 "$LT/test.csv" > "$TMP/lt/test.csv"
sqlite3 "$TMP/x.sqlite" ".mode csv" ".import $LT/test.csv t" >/dev/null
sqlite3 -csv "$TMP/x.sqlite" "select id, text, label, slice from t limit 12" >> "$TMP/lt/test.csv"
sqlite3 "$TMP/x.sqlite" "select json_object('id', id, 'output', case rowid
    when 1 then ''
    when 2 then '{\"severity\":\"err'
    when 3 then 'Sure: ' || label || ' done'
    when 4 then '{\"severity\":\"fatal\",\"component\":\"api\"}'
    when 5 then '{\"severity\":\"info\"}'
    when 6 then '{\"severity\":3,\"component\":\"api\"}'
    when 7 then 'not json at all'
    else label end) from t limit 12" > "$TMP/ans.jsonl"
printf 'name: kinds\nevalset: lt\nmode: generate\nwarmup: 0\nbandwidth: false\ncandidates:\n  - {name: r, engine: replay, model: ans.jsonl}\n' > "$TMP/kinds.yaml"
expect_exit 0 "structured run with replayed answers" "$SLMBENCH" run "$TMP/kinds.yaml" --db "$TMP/k.db" --quiet
for k in empty_output:1 invalid_json:2 extra_text:1 schema_violation:1 missing_field:1 wrong_type:1; do
    v=$(sql "$TMP/k.db" "select cast(value as int) from metrics where name = 'fail.${k%:*}'")
    [ "$v" = "${k#*:}" ] && ok "failure kind ${k%:*} counted ($v)" || notok "fail.${k%:*} = $v, expected ${k#*:}"
done
em=$(sql "$TMP/k.db" "select round(value, 4) from metrics where name = 'accuracy'")
[ "$em" = 0.5 ] && ok "exact match counts the extra-text answer as right (6 of 12)" || notok "exact match $em"
fa=$(sql "$TMP/k.db" "select count(*) from metrics where name like 'field_accuracy.%'")
[ "$fa" = 2 ] && ok "per-field accuracy for both fields" || notok "field metrics: $fa"
expect_exit 0 "report of a structured run" "$SLMBENCH" report last --db "$TMP/k.db"

# Extraction: field-level precision, recall and F1.
mkdir -p "$TMP/ie"
cp "$IE/evalset.yaml" "$IE/prompt.txt" "$TMP/ie/"
sqlite3 "$TMP/y.sqlite" ".mode csv" ".import $IE/test.csv t" >/dev/null
{ head -n 1 "$IE/test.csv"; sqlite3 -csv "$TMP/y.sqlite" "select id, text, label, slice from t limit 10"; } > "$TMP/ie/test.csv"
printf 'id,label,pred,confidence,latency_ms\n' > "$TMP/ie.csv"
sqlite3 -csv "$TMP/y.sqlite" "select id, label, case when rowid <= 5 then label else json_set(label, '\$.amount', 1.0) end, 0.9, 1 from t limit 10" >> "$TMP/ie.csv"
printf 'name: ex\nevalset: ie\nmode: generate\nwarmup: 0\nbandwidth: false\ncandidates:\n  - {name: r, engine: replay, model: ie.csv}\n' > "$TMP/ex.yaml"
expect_exit 0 "extraction run" "$SLMBENCH" run "$TMP/ex.yaml" --db "$TMP/e.db" --quiet
fam=$(sql "$TMP/e.db" "select round(value, 2) from metrics where name = 'field_accuracy.amount'")
[ "$fam" = 0.5 ] && ok "amount right in 5 of 10" || notok "amount accuracy $fam"
fp=$(sql "$TMP/e.db" "select count(*) from metrics where name in ('field_precision','field_recall','field_f1') and value between 0 and 1")
[ "$fp" = 3 ] && ok "field precision, recall and F1" || notok "field P/R/F1 rows: $fp"

# Constrained decoding through llama.cpp: a demo model answers one label token unconstrained
# (invalid JSON); with the grammar every answer is a JSON object of the schema.
"$SLMBENCH" models make --train "$ROOT/tests/fixtures/tiny/train.csv" --evalset "$ROOT/tests/fixtures/tiny" --out "$TMP/lt.gguf" --vocab 40 >/dev/null
printf 'name: cons\nevalset: lt\nmode: generate\nmax_tokens: 120\nthreads: 1\nwarmup: 0\nbandwidth: false\nfew_shot: 2\nfew_shot_seed: 7\nlimit: 6\ncandidates:\n  - {name: free, model: lt.gguf}\n  - {name: grammar, model: lt.gguf, constrained: true}\n' > "$TMP/cons.yaml"
expect_exit 0 "constrained and unconstrained decoding in one run" "$SLMBENCH" run "$TMP/cons.yaml" --db "$TMP/c.db" --quiet
free_inv=$(sql "$TMP/c.db" "select count(*) from predictions p join candidates c on c.id = p.candidate_id where c.name = 'free' and p.valid = 0")
gram_ok=$(sql "$TMP/c.db" "select count(*) from predictions p join candidates c on c.id = p.candidate_id where c.name = 'grammar' and p.fail_kinds is null and p.pred like '{\"severity\":%'")
[ "$free_inv" = 6 ] && ok "unconstrained demo model: 6 of 6 answers fail" || notok "unconstrained invalid: $free_inv"
[ "$gram_ok" = 6 ] && ok "constrained: 6 of 6 answers are valid JSON of the schema" || notok "constrained valid: $gram_ok"
ids=$(sql "$TMP/c.db" "select few_shot_ids from evalsets")
case "$ids" in '["lt-train-'*) ok "few-shot example ids recorded ($ids)" ;; *) notok "few_shot_ids: $ids" ;; esac
same=$(sql "$TMP/c.db" "select count(distinct prompt_sha256) from examples")
[ "$same" = 6 ] && ok "one rendered prompt per example, shared by both candidates" || notok "prompt hashes $same"

# The project's own eval sets pass the checks.
for e in support-triage support-triage/structured log-triage invoice-extract code-classify; do
    expect_exit 0 "evalsets check $e" "$SLMBENCH" evalsets check "$ROOT/evalsets/$e"
    expect_out 'leakage .train. vs .test.: 0 shared texts' "$e: no train/test leakage"
done
