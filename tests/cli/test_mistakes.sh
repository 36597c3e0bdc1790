# The mistakes a new user makes most (tests/fixtures/mistakes/table.tsv): each row's
# command must exit with its code and say its message, which names the fix. Data-driven:
# a new mistake is a new row (and its files under tests/fixtures/mistakes/files/).
. "$(dirname "$0")/lib.sh"
SLMBENCH=$(cd "$(dirname "$SLMBENCH")" && pwd)/$(basename "$SLMBENCH")
FX="$ROOT/tests/fixtures/mistakes"
W="$TMP/w"

# ---- the folder the rows run in ------------------------------------------------------
mkdir -p "$W" "$TMP/bin"
cp -R "$FX/files/." "$W/"
cp -R "$ROOT/tests/fixtures/tiny" "$W/es"
cp -R "$W/es" "$W/es-no-placeholder"
printf 'Classify the ticket into one category: {{labels}}.\nCategory:' >"$W/es-no-placeholder/prompt.txt"
# the replay engine's answers to the tiny test split: every one right
awk -F, 'NR == 1 { print "id,label,pred,confidence,p_billing,p_shipping,p_technical,latency_ms"; next }
         { printf "%s,%s,%s,0.9,%s,%s,%s,5\n", $1, $NF, $NF, ($NF == "billing") ? 0.9 : 0.05,
           ($NF == "shipping") ? 0.9 : 0.05, ($NF == "technical") ? 0.9 : 0.05 }' \
    "$W/es/test.csv" >"$W/preds.csv"
# binary files: a safetensors file (8-byte header length, JSON header, data) and a GGUF
# header claiming 2^40 metadata keys in a 24-byte file
hdr='{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
{ printf "\\$(printf %03o ${#hdr})\\000\\000\\000\\000\\000\\000\\000"; printf '%s' "$hdr"; printf '\000\000\000\000'; } \
    >"$W/hf-model/model.safetensors"
printf 'GGUF\003\000\000\000\001\000\000\000\000\000\000\000\000\000\000\000\000\001\000\000' \
    >"$W/truncated.gguf"
printf '#!/bin/sh\nexec "%s" "$@"\n' "$SLMBENCH" >"$TMP/bin/slmbench"
chmod +x "$TMP/bin/slmbench"
sqlite3 "$W/empty.db" 'create table notes(x)' # an SQLite file slmbench never wrote to
# a real (tiny) GGUF model for the rows of quick, which checks its models first
"$SLMBENCH" models make --train "$W/es/train.csv" --evalset "$W/es" --out "$W/tiny.gguf" \
    --vocab 40 >/dev/null 2>"$TMP/make.err" || { notok "setup: models make"; head -n 3 "$TMP/make.err"; }
cd "$W"
if "$SLMBENCH" run good.yaml --db runs.db --quiet >/dev/null 2>"$TMP/setup.err" &&
    "$SLMBENCH" tag 1 main --db runs.db >/dev/null 2>&1; then
    ok "setup: the good run, tagged main"
else
    notok "setup: the good run failed"; sed 's/^/#   /' "$TMP/setup.err" | head -n 5
fi

# ---- the rows ------------------------------------------------------------------------
n=0
tab=$(printf '\t')
while IFS="$tab" read -r mistake command code message; do
    case "$mistake" in '#'* | '' | mistake) continue ;; esac
    n=$((n + 1))
    if [ -z "$command" ] || [ -z "$message" ] || ! [ "$code" -ge 0 ] 2>/dev/null; then
        notok "row $n ($mistake): needs a command, an exit code and a message"
        continue
    fi
    if PATH="$TMP/bin:$PATH" sh -c "$command" >"$TMP/out" 2>"$TMP/err" </dev/null; then
        got=0
    else
        got=$?
    fi
    if [ "$got" != "$code" ]; then
        notok "$mistake: '$command' exited $got, not $code"
        sed 's/^/#   /' "$TMP/err" | head -n 5
    elif ! grep -qF -- "$message" "$TMP/err"; then
        notok "$mistake: '$command' does not say: $message"
        sed 's/^/#   /' "$TMP/err" | head -n 5
    elif [ -s "$TMP/out" ]; then
        notok "$mistake: refused, yet wrote on stdout (data goes there, messages to stderr)"
        sed 's/^/#   /' "$TMP/out" | head -n 5
    else
        ok "$mistake (exit $got)"
    fi
done <"$FX/table.tsv"
[ "$n" -ge 10 ] && ok "$n mistakes in the table" || notok "only $n mistakes in the table"
# a report that found no database created none
[ ! -e "$W/slmbench.db" ] && ok "report without a database created none" ||
    notok "report created slmbench.db"

# ---- evalsets check names every bad row, not only the first --------------------------
printf 'id,text,label\nr1,charged twice,billing\nr2,,shipping\nr3,parcel lost,shiping\nr1,again,billing\nr5,a,b,c\nr6,no label,\nr7,fine,technical\n' \
    >several.csv
expect_exit 3 "evalsets check: a file with several bad rows" "$SLMBENCH" evalsets check several.csv --labels es
for want in "several.csv:3: empty text for id 'r2'" \
    "several.csv:4: label 'shiping' is not in the label set of es/evalset.yaml; did you mean 'shipping'?" \
    "several.csv:5: duplicate id 'r1' (first on line 2)" \
    "several.csv:6: expected 3 fields as in the header, found 4" \
    "several.csv:7: empty label for id 'r6'" \
    "several.csv: 5 bad rows, 2 good: fix them"; do
    grep -qF -- "$want" "$TMP/err" && ok "names: $want" || notok "does not name: $want"
done
[ ! -s "$TMP/out" ] && ok "no statistics of a file with bad rows" || notok "statistics printed"
expect_exit 0 "--skip-bad-rows: the good rows described" "$SLMBENCH" evalsets check several.csv --labels es --skip-bad-rows
expect_out "rows +2 \(5 bad rows skipped; first: several.csv:3: empty text" "the bad rows counted"

# past the limit: the first SLM_MAX_REPORTED_BAD_ROWS named, the rest counted
limit=$(sed -n 's/^#define SLM_MAX_REPORTED_BAD_ROWS \([0-9]*\).*/\1/p' "$ROOT/harness/common/slm_limits.h")
bad=$((limit + 7))
awk -v n="$bad" 'BEGIN { print "id,text,label"; for (i = 1; i <= n; i++) printf "b%d,text %d,nolabel\n", i, i;
                         print "g1,a good one,billing" }' >many.csv
expect_exit 3 "evalsets check: $bad bad rows" "$SLMBENCH" evalsets check many.csv --labels es
named=$(grep -c "many.csv:[0-9]*: label 'nolabel'" "$TMP/err" || true)
[ "$named" = "$limit" ] && ok "the first $limit bad rows named" || notok "$named bad rows named, not $limit"
expect_err "many.csv: \.\.\. and 7 more bad rows" "the others counted"
expect_err "many.csv: $bad bad rows, 1 good" "the total"
# an eval set: every split checked, the bad rows of each named
cp -R es es-bad
cp several.csv es-bad/calibration.csv
expect_exit 3 "evalsets check of an eval set with a bad split" "$SLMBENCH" evalsets check es-bad
expect_err "es-bad/calibration.csv:4: label 'shiping' is not in the label set of es-bad/evalset.yaml; did you mean 'shipping'\?" \
    "names the bad split's rows"
expect_out "^split 'test': " "the good splits are still described"
