# limit: N is a seeded sample stratified by gold label, not the first N rows: on a file
# sorted by label every label is represented, the counts per label are those of an
# independent computation (largest remainder, in Python with exact fractions), the same
# seed draws the same ids (also across shards and after a crash and --resume), another
# seed others, and the chosen examples keep file order.
. "$(dirname "$0")/lib.sh"
if ! command -v python3 >/dev/null 2>&1; then
    skip "limit sample (needs python3 for the independent computation)"
    exit 0
fi
ES="$TMP/es"
mkdir -p "$ES"
# 100 rows sorted by label; labels declared in another order than the file's (ties go to
# the label declared first); uneven counts, one label with a single row.
python3 - "$ES" <<'PY'
import sys
d = sys.argv[1]
counts = [("alpha", 40), ("bravo", 25), ("charlie", 12), ("delta", 8), ("echo", 3), ("foxtrot", 1), ("golf", 11)]
with open(d + "/test.csv", "w") as f:
    f.write("id,text,label\n")
    k = 0
    for lab, n in sorted(counts):
        for i in range(n):
            f.write("r%03d,ticket %d about %s,%s\n" % (k, k, lab, lab))
            k += 1
with open(d + "/evalset.yaml", "w") as f:
    f.write("name: sorted\nversion: 1\ntask: classification\n")
    f.write("labels: [golf, foxtrot, echo, delta, charlie, bravo, alpha]\n")
    f.write("prompt: prompt.txt\nsplits:\n  test: test.csv\n")
with open(d + "/prompt.txt", "w") as f:
    f.write("Label: {{labels}}\nText: {{text}}\nAnswer:")
PY
# the replay engine answers every example with its gold label
sed '1s/label$/pred/' "$ES/test.csv" > "$TMP/preds.csv"
mk() { # name limit seed [extra option line]
    printf 'name: %s\nevalset: %s\nwarmup: 0\nbootstrap: 0\ncounters: false\nbandwidth: false\nlimit: %s\nseed: %s\n%scandidates:\n  - {name: r, engine: replay, model: %s}\n' \
        "$1" "$ES" "$2" "$3" "${5:-}" "${4:-preds.csv}" > "$TMP/$1.yaml"
}
# The independent computation: per declared label, how many of k rows.
expected() { # k
    python3 - "$ES/test.csv" "$1" <<'PY'
import csv, sys
from fractions import Fraction
declared = ["golf", "foxtrot", "echo", "delta", "charlie", "bravo", "alpha"]
rows = list(csv.DictReader(open(sys.argv[1])))
k = int(sys.argv[2])
cnt = {l: sum(r["label"] == l for r in rows) for l in declared}
present = [l for l in declared if cnt[l]]
n = len(rows)
one = k >= len(present)
K, den = (k - len(present), n - len(present)) if one else (k, n)
q = {l: Fraction(K * ((cnt[l] - 1) if one else cnt[l]), den) for l in present}
a = {l: int(q[l]) for l in present}
extra = K - sum(a.values())
for l in sorted(present, key=lambda l: (-(q[l] - int(q[l])), declared.index(l)))[:extra]:
    a[l] += 1
for l in present:
    a[l] += 1 if one else 0
print(" ".join("%s=%d" % (l, a[l]) for l in sorted(present) if a[l]))
PY
}
got() { # db
    sql "$1" "select label || '=' || count(*) from examples where run_id = (select max(id) from runs) group by label order by label" | tr '\n' ' ' | sed 's/ $//'
}

mk s1 20 1
expect_exit 0 "limit 20 of 100 rows sorted by label" "$SLMBENCH" run "$TMP/s1.yaml" --db "$TMP/a.db" --quiet
expect_err '^slmbench: limit: 20 of 100 examples, stratified by label, seed 1$' "stderr says what limit chose"
want=$(expected 20)
have=$(got "$TMP/a.db")
[ "$have" = "$want" ] && ok "counts per label as computed independently ($have)" || notok "counts per label: $have, expected $want"
nlab=$(sql "$TMP/a.db" "select count(distinct label) from examples")
[ "$nlab" = 7 ] && ok "every label represented (foxtrot has one row)" || notok "$nlab labels of 7"
inorder=$(sql "$TMP/a.db" "select count(*) from examples a join examples b on b.run_id = a.run_id and b.idx = a.idx + 1 where a.line >= b.line")
[ "$inorder" = 0 ] && ok "the chosen examples keep file order" || notok "$inorder examples out of file order"
sql "$TMP/a.db" "select example_id || ',' || label from examples order by idx" > "$TMP/ids1.txt"
bad=$(python3 - "$ES/test.csv" "$TMP/ids1.txt" <<'PY'
import csv, sys
gold = {r["id"]: r["label"] for r in csv.DictReader(open(sys.argv[1]))}
print(sum(1 for l in open(sys.argv[2]) if gold.get(l.strip().split(",")[0]) != l.strip().split(",")[1]))
PY
)
[ "$bad" = 0 ] && [ "$(wc -l < "$TMP/ids1.txt")" = 20 ] && ok "20 rows of the file, each with its gold label" || notok "$bad rows not in the file"

mk s1b 20 1
"$SLMBENCH" run "$TMP/s1b.yaml" --db "$TMP/b.db" --quiet 2>/dev/null
sql "$TMP/b.db" "select example_id || ',' || label from examples order by idx" > "$TMP/ids1b.txt"
cmp -s "$TMP/ids1.txt" "$TMP/ids1b.txt" && ok "the same seed draws the same ids" || notok "same seed, other ids"
mk s2 20 2
"$SLMBENCH" run "$TMP/s2.yaml" --db "$TMP/c.db" --quiet 2>/dev/null
sql "$TMP/c.db" "select example_id || ',' || label from examples order by idx" > "$TMP/ids2.txt"
have2=$(got "$TMP/c.db")
if ! cmp -s "$TMP/ids1.txt" "$TMP/ids2.txt" && [ "$have2" = "$want" ]; then
    ok "seed 2 draws other ids with the same counts per label"
else
    notok "seed 2: $have2 (ids the same: $(cmp -s "$TMP/ids1.txt" "$TMP/ids2.txt" && echo yes || echo no))"
fi

# Fewer than the labels: proportional, the largest labels first, and a warning.
mk few 5 1
expect_exit 0 "limit 5 below the 7 labels" "$SLMBENCH" run "$TMP/few.yaml" --db "$TMP/f.db" --quiet
expect_err "warning: limit 5 is below the 7 labels: only 4 of them are represented" "it warns which share of the labels the sample holds"
want=$(expected 5)
have=$(got "$TMP/f.db")
[ "$have" = "$want" ] && ok "limit 5: counts per label as computed independently ($have)" || notok "limit 5: $have, expected $want"

# Shards draw the same sample: their examples together are the unsharded run's.
for i in 0 1; do
    "$SLMBENCH" run "$TMP/s1.yaml" --db "$TMP/sh$i.db" --quiet --shard $i/2 >"$TMP/sh$i.out" 2>/dev/null
done
# what a shard scored, and of how many: its summary says so (10 of the sample's 20)
n0=$(sql "$TMP/sh0.db" "select count(*) from examples")
grep -q "on sorted/test ($n0 of 20 examples (shard 0/2; limit: 20 of 100, stratified by label, seed 1), mode score)" "$TMP/sh0.out" \
    && ok "a shard's summary: $n0 of 20 examples (shard 0/2; limit: 20 of 100, stratified by label, seed 1)" \
    || notok "shard summary: $(grep 'on sorted' "$TMP/sh0.out")"
grep -q "on sorted/test (5 examples (limit: 5 of 100, stratified by label, seed 1), mode score)" "$TMP/out" \
    && ok "an unsharded run's summary (limit 5): 5 examples (limit: 5 of 100, stratified by label, seed 1)" \
    || notok "limit summary: $(grep 'on sorted' "$TMP/out")"
{ sql "$TMP/sh0.db" "select example_id || ',' || label from examples"; sql "$TMP/sh1.db" "select example_id || ',' || label from examples"; } | sort > "$TMP/shards.txt"
sort "$TMP/ids1.txt" | cmp -s - "$TMP/shards.txt" && ok "shards 0/2 and 1/2 together hold the same 20 examples" || notok "shards drew another sample"

mk all 0 1
"$SLMBENCH" run "$TMP/all.yaml" --db "$TMP/sh.db" --quiet --shard 1/3 >"$TMP/sh.out" 2>/dev/null
grep -q "on sorted/test (33 of 100 examples (shard 1/3), mode score)" "$TMP/sh.out" \
    && ok "shard 1/3 of the whole split: 33 of 100 examples (shard 1/3)" || notok "shard summary: $(grep 'on sorted' "$TMP/sh.out")"

# A crash (the replay engine exits after 7 answers) and --resume until done: the resumed
# run evaluates the same sample.
mk crash 20 1 "preds.csv, options: {die_after: 7}"
"$SLMBENCH" run "$TMP/crash.yaml" --db "$TMP/r.db" --quiet >/dev/null 2>&1 || true
k=0
until "$SLMBENCH" run --resume --db "$TMP/r.db" --quiet >/dev/null 2>&1 || [ $k -ge 5 ]; do k=$((k + 1)); done
n=$(sql "$TMP/r.db" "select count(*) || '|' || count(distinct example_idx) || '|' || (select status from runs) from predictions")
sql "$TMP/r.db" "select example_id || ',' || label from examples order by idx" > "$TMP/idsr.txt"
[ "$n" = "20|20|complete" ] && cmp -s "$TMP/ids1.txt" "$TMP/idsr.txt" && ok "crashed and resumed ($k more crashes): the same 20 examples, once each" \
    || notok "resumed: $n"

# banking77 (77 labels, sorted by label): 200 of 3,080 holds every label.
B77="$ROOT/../shared/datasets/banking77"
if [ -f "$B77/test.csv" ]; then
    mkdir -p "$TMP/b77"
    python3 - "$B77/test.csv" "$TMP/b77" <<'PY'
import csv, sys
labels = []
for r in csv.DictReader(open(sys.argv[1])):
    if r["label"] not in labels:
        labels.append(r["label"])
with open(sys.argv[2] + "/evalset.yaml", "w") as f:
    f.write("name: banking77\nversion: 1\ntask: classification\nlabels: [%s]\n" % ", ".join(labels))
    f.write("prompt: prompt.txt\nsplits:\n  test: %s\n" % sys.argv[1])
open(sys.argv[2] + "/prompt.txt", "w").write("{{labels}}\n{{text}}\nIntent:")
PY
    sed '1s/,label/,pred/' "$B77/test.csv" > "$TMP/b77.csv"
    printf 'name: b77\nevalset: %s\nwarmup: 0\nbootstrap: 0\ncounters: false\nbandwidth: false\nlimit: 200\ncandidates:\n  - {name: r, engine: replay, model: b77.csv}\n' "$TMP/b77" > "$TMP/b77.yaml"
    expect_exit 0 "banking77 with limit 200" "$SLMBENCH" run "$TMP/b77.yaml" --db "$TMP/b77.db" --quiet
    expect_err "limit: 200 of 3,080 examples, stratified by label, seed 1" "it says 200 of 3,080, stratified"
    nl=$(sql "$TMP/b77.db" "select count(distinct label) from examples")
    [ "$nl" = 77 ] && ok "all 77 labels represented (the first 200 rows hold 5)" || notok "$nl labels of 77"
else
    skip "banking77 limit (../shared/datasets/banking77 is absent)"
fi

# report.md's run header says the same, with the split's size before the sample (schema 14)
"$SLMBENCH" report last --db "$TMP/sh0.db" > "$TMP/sh0.md" 2>/dev/null
grep -q "| eval set | sorted v1, split test, $n0 of 20 examples (shard 0/2; limit: 20 of 100, stratified by label, seed 1) |" "$TMP/sh0.md" \
    && ok "report.md's run header: $n0 of 20 examples (shard 0/2; limit: 20 of 100, …)" \
    || notok "report header: $(grep '| eval set |' "$TMP/sh0.md")"
