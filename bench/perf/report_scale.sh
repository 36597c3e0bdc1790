#!/bin/sh
# How report time grows with the number of examples: runs of 5 replayed candidates over
# N synthetic examples (N = 2500, 5000, 10000, 20000), then `slmbench report --out`
# (Markdown, HTML, JSON and every plot) timed on each. Prints the time per 1000 examples,
# which stays flat when the growth is linear.
#   bench/perf/report_scale.sh SLMBENCH DIR
set -eu
export LC_ALL=C
SLMBENCH=$1
DIR=$2/report-scale
rm -rf "$DIR"
mkdir -p "$DIR"
LABELS="billing shipping account_access technical legal_dispute refund_return product_question feedback"
printf 'name: synthetic\ntask: classification\nlabels: [%s]\nprompt: prompt.txt\nsplits: {test: test.csv}\n' \
    "$(echo $LABELS | sed 's/ /, /g')" > "$DIR/evalset.yaml"
printf 'Ticket: {{text}}\nCategory:' > "$DIR/prompt.txt"
echo "   examples  run s  report s  report ms per 1000 examples"
for N in 2500 5000 10000 20000; do
    awk -v n=$N -v labels="$LABELS" 'BEGIN { split(labels, L, " "); srand(7);
        print "id,text,label" > "'"$DIR"'/test.csv";
        for (c = 1; c <= 5; c++) {
            f = "'"$DIR"'/c" c ".csv";
            printf "id,label,pred,confidence" > f;
            for (k = 1; k <= 8; k++) printf ",p_%s", L[k] > f;
            print ",latency_ms" > f;
        }
        for (i = 1; i <= n; i++) {
            g = L[1 + int(rand() * 8)];
            print "x" i ",synthetic ticket number " i " about " g "," g > "'"$DIR"'/test.csv";
            for (c = 1; c <= 5; c++) {
                acc = 0.5 + 0.1 * c; p = (rand() < acc) ? g : L[1 + int(rand() * 8)];
                conf = 0.3 + 0.7 * rand(); rest = (1 - conf) / 7;
                line = "x" i "," g "," p "," conf;
                for (k = 1; k <= 8; k++) line = line "," ((L[k] == p) ? conf : rest);
                print line ",1" > "'"$DIR"'/c" c ".csv";
            }
        } }'
    {
        printf 'name: scale-%s\nevalset: .\nwarmup: 0\nbandwidth: false\ncounters: false\nbootstrap: 200\ncommit_every: 2000\ncandidates:\n' $N
        for c in 1 2 3 4 5; do printf '  - {name: c%s, engine: replay, model: c%s.csv}\n' $c $c; done
    } > "$DIR/run.yaml"
    t0=$(date +%s.%N)
    "$SLMBENCH" run "$DIR/run.yaml" --db "$DIR/s.db" --quiet >/dev/null
    t1=$(date +%s.%N)
    "$SLMBENCH" report last --db "$DIR/s.db" --out "$DIR/out-$N" 2>/dev/null
    t2=$(date +%s.%N)
    awk -v n=$N -v a=$t0 -v b=$t1 -v c=$t2 'BEGIN { printf "   %8d  %5.1f  %8.2f  %8.1f\n", n, b - a, c - b, 1e6 * (c - b) / n }'
done
