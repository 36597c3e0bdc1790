# Real label sets: labels with spaces, slashes, punctuation, unicode and several tokens,
# through the real llama.cpp engine; and clinc150's 151 labels from ../shared/datasets
# (skipped when that folder is absent).
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"

"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/m.gguf" --vocab 40 >/dev/null
mkdir -p "$TMP/odd"
cat >"$TMP/odd/evalset.yaml" <<'YAML'
name: odd-labels
task: classification
labels: ["billing / invoices", "shipping & delivery", "técnico ☃", "refund, \"please\""]
prompt: prompt.txt
splits: {test: test.csv}
YAML
printf 'Pick one of: {{labels}}\nTicket: {{text}}\nAnswer:' > "$TMP/odd/prompt.txt"
awk -F, 'NR==1{print; next} {l=$NF; t=$0; sub(/,[^,]*$/, "", t);
    if (l=="billing") l="billing / invoices"; else if (l=="shipping") l="shipping & delivery"; else l="técnico ☃";
    print t ",\"" l "\""}' "$FX/test.csv" > "$TMP/odd/test.csv"
printf 'te99,I want my money back,"refund, ""please"""\n' >> "$TMP/odd/test.csv"
expect_exit 0 "odd labels pass evalsets check" "$SLMBENCH" evalsets check "$TMP/odd"
cat >"$TMP/odd.yaml" <<YAML
name: odd
evalset: odd
threads: 1
warmup: 0
candidates: [{name: m, model: m.gguf}]
YAML
expect_exit 0 "score multi-token, unicode and punctuated labels" "$SLMBENCH" run "$TMP/odd.yaml" --db "$TMP/odd.db" --quiet
n=$(sql "$TMP/odd.db" "select count(*) from predictions where valid = 1 and error is null")
[ "$n" = 25 ] && ok "every example answered with a label of the set" || notok "valid predictions: $n of 25"
multi=$(sql "$TMP/odd.db" "select ntok_json from predictions limit 1")
case "$multi" in *[2-9]*) ok "labels scored as multi-token continuations ($multi)" ;; *) notok "token counts $multi" ;; esac
expect_exit 0 "export with odd labels" "$SLMBENCH" export predictions last --candidate m --db "$TMP/odd.db"
head -n 1 "$TMP/out" | grep -qx 'id,label,pred,confidence,p_billing / invoices,p_shipping & delivery,p_técnico ☃,"p_refund, ""please""",latency_ms' \
    && ok "export header quotes the labels" || notok "export header: $(head -n 1 "$TMP/out")"
expect_exit 0 "report with odd labels" "$SLMBENCH" report last --db "$TMP/odd.db"
grep -q 'shipping &amp; delivery' "$TMP/out" && ok "report escapes labels" || notok "report escaping"
expect_exit 0 "report --json with odd labels" "$SLMBENCH" report last --db "$TMP/odd.db" --json
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert any(p["label"]=="técnico ☃" for p in d["runs"][0]["candidates"][0]["per_class"])' "$TMP/out" \
        && ok "JSON keeps unicode labels" || notok "JSON labels"
fi

# clinc150: 150 intents + out-of-scope.
D="${SLM_SHARED:-$ROOT/../shared}/datasets/clinc150"
if [ ! -f "$D/train.csv" ]; then skip "clinc150 (no ../shared/datasets)"; exit 0; fi
mkdir -p "$TMP/clinc"
sql "$TMP/c.sqlite" <<SQL
.mode csv
.import $D/train.csv train
.import $D/test.csv test
.headers on
.output $TMP/clinc/test.csv
SELECT id, text, label FROM test WHERE rowid % 30 = 0;
.output stdout
SQL
labels=$(sql "$TMP/c.sqlite" "select group_concat(label, ', ') from (select distinct label from train order by label)")
nl=$(sql "$TMP/c.sqlite" "select count(distinct label) from train")
printf 'name: clinc150\ntask: classification\nlabels: [%s]\nprompt: prompt.txt\nsplits: {train: %s, test: test.csv}\n' \
    "$labels" "$D/train.csv" > "$TMP/clinc/evalset.yaml"
printf 'Intent of the request ({{labels}}).\nRequest: {{text}}\nIntent:' > "$TMP/clinc/prompt.txt"
expect_exit 0 "clinc150 demo model" "$SLMBENCH" models make --train "$D/train.csv" --evalset "$TMP/clinc" --out "$TMP/clinc.gguf" --vocab 800
cat >"$TMP/clinc.yaml" <<YAML
name: clinc
evalset: clinc
warmup: 1
candidates: [{name: nb, model: clinc.gguf, options: {n_seq_max: 64}}]
YAML
expect_exit 0 "run with $nl labels" "$SLMBENCH" run "$TMP/clinc.yaml" --db "$TMP/clinc.db" --quiet
acc=$(sql "$TMP/clinc.db" "select value from metrics where name = 'accuracy'")
maj=$(sql "$TMP/clinc.db" "select value from metrics where name = 'majority_rate'")
awk -v a="$acc" -v m="$maj" 'BEGIN{exit !(a >= 2*m && a > 0.3)}' && ok "clinc150 accuracy $acc vs majority $maj" || notok "clinc150 accuracy $acc (majority $maj)"
np=$(sql "$TMP/clinc.db" "select count(*) from per_class where in_label_set = 1")
[ "$np" = "$nl" ] && ok "per-class rows for all $nl labels" || notok "per-class rows $np of $nl"
