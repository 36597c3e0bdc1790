# Real data: every dataset in ../shared/datasets — the classification sets and the
# *_slots / *_entities extraction variants — evaluated with a demo model built from its
# own train split (or, where there is none, from the first half of its test file, the
# second half being evaluated). A sample of each test file keeps it fast. Skipped when
# ../shared is absent.
. "$(dirname "$0")/lib.sh"
D="${SLM_SHARED:-$ROOT/../shared}/datasets"
if [ ! -d "$D" ]; then skip "real datasets (no ../shared/datasets)"; exit 0; fi
N=24
for dir in "$D"/*/; do
    name=$(basename "$dir")
    [ -f "$dir/test.csv" ] || continue
    if [ "$name" = loghub_templates ]; then
        skip "$name: its labels are free-text templates (1358 of them, with spaces), neither a label set nor JSON fields"
        continue
    fi
    W="$TMP/$name"; mkdir -p "$W"
    db="$W/d.sqlite"
    sqlite3 "$db" ".mode csv" ".import $dir/test.csv test" >/dev/null
    if [ -f "$dir/train.csv" ]; then
        sqlite3 "$db" ".mode csv" ".import $dir/train.csv train" >/dev/null
    else
        sqlite3 "$db" "create table train as select * from test where rowid % 2 = 1; delete from test where rowid % 2 = 1"
    fi
    n=$(sqlite3 "$db" "select count(*) from test")
    step=$(( n / N )); [ "$step" -ge 1 ] || step=1
    { echo "id,text,label"; sqlite3 -csv "$db" "select id, text, label from train"; } > "$W/train.csv"
    { echo "id,text,label"; sqlite3 -csv "$db" "select id, text, label from test where rowid % $step = 0 limit $N"; } > "$W/test.csv"
    labels=$(sqlite3 "$db" "select group_concat('\"' || replace(label, '\"', '\\\"') || '\"', ', ') from (select label from train union select label from test)")
    printf 'name: %s\ntask: classification\nlabels: [%s]\nprompt: prompt.txt\nsplits: {train: train.csv, test: test.csv}\n' "$name" "$labels" > "$W/evalset.yaml"
    printf 'Text: {{text}}\nLabel:' > "$W/prompt.txt"
    if ! "$SLMBENCH" models make --train "$W/train.csv" --evalset "$W" --out "$W/m.gguf" --vocab 300 >"$W/make.log" 2>&1; then
        notok "$name: demo model: $(tail -n 1 "$W/make.log")"; continue
    fi
    printf 'name: %s\nevalset: %s\nwarmup: 1\nthreads: 2\nbandwidth: false\nbootstrap: 50\ncandidates: [{name: nb, model: m.gguf, options: {n_seq_max: 64}}]\n' "$name" "$W" > "$W/run.yaml"
    if "$SLMBENCH" run "$W/run.yaml" --db "$W/r.db" --quiet >"$W/run.log" 2>&1; then
        acc=$(sql "$W/r.db" "select round(value, 3) from metrics where name = 'accuracy'")
        maj=$(sql "$W/r.db" "select round(value, 3) from metrics where name = 'majority_rate'")
        np=$(sql "$W/r.db" "select count(*) from predictions where error is null")
        nl=$(sql "$W/r.db" "select json_array_length(labels_json) from evalsets")
        [ "$np" -ge 10 ] && ok "$name: $np examples, $nl labels, accuracy $acc (majority $maj)" || notok "$name: $np predictions"
    else
        notok "$name: run failed: $(tail -n 1 "$W/run.log")"
    fi
    # The extraction variants of the same texts: JSON with intent and slots or entities.
    for ext in "$dir"/test_slots.csv "$dir"/test_entities.csv; do
        [ -f "$ext" ] || continue
        X="$W/$(basename "$ext" .csv)"; mkdir -p "$X"
        sqlite3 "$db" ".mode csv" ".import $ext ext" >/dev/null
        { echo "id,text,label"; sqlite3 -csv "$db" "select id, text, label from ext where rowid % $step = 0 limit 8"; } > "$X/test.csv"
        fields=$(sqlite3 "$db" "select group_concat(key || ': ' || case type when 'array' then 'list' when 'text' then 'string' else 'string' end, ', ') from (select distinct j.key, j.type from ext, json_each(ext.label) j where ext.rowid = 1)")
        printf 'name: %s\ntask: extraction\nfields: {%s}\nprompt: prompt.txt\nsplits: {test: test.csv}\n' "$(basename "$X")" "$fields" > "$X/evalset.yaml"
        printf 'Text: {{text}}\nJSON:' > "$X/prompt.txt"
        printf 'name: x\nevalset: %s\nmode: generate\nmax_tokens: 8\nwarmup: 0\nbandwidth: false\ncandidates: [{name: nb, model: ../m.gguf}]\n' "$X" > "$X/run.yaml"
        if "$SLMBENCH" run "$X/run.yaml" --db "$X/r.db" --quiet >"$X/run.log" 2>&1; then
            nf=$(sql "$X/r.db" "select count(*) from predictions where fail_kinds is not null")
            ok "$name/$(basename "$ext"): fields {$fields}, $nf of 8 demo answers counted by failure kind"
        else
            notok "$name/$(basename "$ext"): $(tail -n 1 "$X/run.log")"
        fi
    done
done
