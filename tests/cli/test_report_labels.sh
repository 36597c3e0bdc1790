#!/bin/sh
# Reports at 151 labels x 3 candidates (issue 19 item 6): report.md must fit a GitHub
# pull-request comment (65,536 characters), with the worst classes and top confusions
# instead of the 151 x 151 matrix, checked against an independent count from the CSV
# files; per_class.csv keeps every row. The synthetic run (tests/fixtures/labels151)
# always runs; the same on clinc150 with three demo models runs with SLM_SLOW_TESTS=1
# where ../shared/datasets has it.
. "$(dirname "$0")/lib.sh"
S="$TMP/s"
sh "$ROOT/tests/fixtures/labels151/make.sh" "$S"
expect_exit 0 "the synthetic 151-label run" "$SLMBENCH" run "$S/run.yaml" --db "$S/r.db" --quiet --no-progress
expect_exit 0 "report --out" "$SLMBENCH" report last --db "$S/r.db" --out "$S/rep" --no-plots
md="$S/rep/report.md"
size=$(wc -c <"$md")
[ "$size" -lt 65536 ] && ok "report.md at 151 labels x 3 candidates: $size bytes, under 65,536" \
    || notok "report.md is $size bytes, over GitHub's 65,536-character comment limit"
grep -q 'gold \\ predicted' "$md" && notok "report.md still holds a full confusion matrix" \
    || ok "no 151 x 151 matrix in report.md"
grep -q 'per_class.csv' "$md" && ok "report.md points to per_class.csv" || notok "no pointer to per_class.csv"

# The independent count: gold (test.csv) and answers (c1.csv) joined by id, in awk.
awk -F, 'FNR == 1 { next } NR == FNR { gold[$1] = $3; next } { print gold[$1] "," $2 }' \
    "$S/es/test.csv" "$S/c1.csv" >"$TMP/pairs"
awk -F, '$1 != $2 { n[$1 "," $2]++ } END { for (k in n) print k "," n[k] }' "$TMP/pairs" |
    sort -t, -k3,3nr -k1,1 -k2,2 | head -15 >"$TMP/top.want"
# the table of cand-one (the first "Top confusions" table), unescaped
awk '/^Top confusions/ { t++; next } t == 1 && /^\| [^-]/ && !/^\| gold/ { print } t == 1 && /^Reliability/ { exit }' "$md" |
    sed 's/\\_/_/g' | awk -F' \\| ' '{ sub(/^\| /, "", $1); print $1 "," $2 "," $3 }' >"$TMP/top.got"
if [ -s "$TMP/top.got" ] && cmp -s "$TMP/top.want" "$TMP/top.got"; then
    ok "top confusions of cand-one: the 15 largest off-diagonal cells, as counted from the CSV"
else
    notok "top confusions differ from the independent count"; diff "$TMP/top.want" "$TMP/top.got" | head -10 | sed 's/^/#   /'
fi
# per-class F1 of cand-one from the pairs, and the worst classes the report names
awk -F, '{ sup[$1]++; pred[$2]++; if ($1 == $2) tp[$1]++ }
    END { for (l in sup) { p = pred[l] ? tp[l] / pred[l] : 0; r = tp[l] / sup[l];
          printf "%s %.3f %d %d\n", l, (p + r) ? 2 * p * r / (p + r) : 0, sup[l], pred[l] + 0 } }' \
    "$TMP/pairs" | sort -k2,2n >"$TMP/f1.want"
awk '/^Worst classes/ { t++; next } t == 1 && /^\| [^-]/ && !/^\| label/ { print } t == 1 && /^Top confusions/ { exit }' "$md" |
    sed 's/\\_/_/g' | awk -F' \\| ' '{ sub(/^\| /, "", $1); sub(/ \|$/, "", $6); print $1, $2, $5, $6 }' >"$TMP/worst.got"
nw=$(wc -l <"$TMP/worst.got")
bad=$(awk 'NR == FNR { w[$1] = $0; next } ($1 in w) && w[$1] != $0 { print "report: " $0 " count: " w[$1] }' \
    "$TMP/f1.want" "$TMP/worst.got" | head -3)
cut15=$(sed -n 15p "$TMP/f1.want" | cut -d' ' -f2)
above=$(awk -v c="$cut15" '$2 > c' "$TMP/worst.got" | wc -l)
[ "$nw" = 15 ] && [ -z "$bad" ] && [ "$above" = 0 ] \
    && ok "worst classes of cand-one: 15 rows, F1/support/predicted as counted, none above the 15th lowest F1 ($cut15)" \
    || notok "worst classes: $nw rows, $above above $cut15; $bad"
# per_class.csv: every label of every candidate, support and predicted as counted
csv="$S/rep/per_class.csv"
[ "$(wc -l <"$csv")" = 454 ] && ok "per_class.csv: 151 labels x 3 candidates and a header" \
    || notok "per_class.csv has $(wc -l <"$csv") lines, not 454"
bad=$(awk -F, 'NR == FNR { sup[$1] = $3; pr[$1] = $4; next } $2 == "cand-one" && (sup[$3] != $8 || pr[$3] + 0 != $9) { print $3 }' \
    FS=' ' "$TMP/f1.want" FS=, "$csv" | head -3)
[ -z "$bad" ] && ok "per_class.csv support and predicted as counted" || notok "per_class.csv differs: $bad"
exit 0
