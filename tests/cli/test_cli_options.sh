# The option tables (harness/cli/opts.c): every command's --help comes from its table,
# every option --help lists is one the parser knows, and the shared parsing rules hold
# for all: --name VALUE and --name=VALUE, the last of a repeated option wins, an unknown
# option or a missing value is a usage error (exit 2). Nothing here opens a database or
# a model: it runs in an empty folder.
. "$(dirname "$0")/lib.sh"
SLMBENCH=$(cd "$(dirname "$SLMBENCH")" && pwd)/$(basename "$SLMBENCH")
cd "$TMP"

COMMANDS="run compare drift engines evalsets_check export_predictions gate tag merge
models_make models_quantize models_inspect models_tokenize models_labels report counters
quick init history diff view"

for c in $COMMANDS; do
    words=$(echo "$c" | tr _ ' ')
    # shellcheck disable=SC2086
    expect_exit 0 "$words --help" "$SLMBENCH" $words --help
    expect_out "^usage: slmbench $words " "$words --help: the usage line"
    expect_out '^  -h, --help +this help$' "$words --help: the options come from the table"
    # every listed option is known to the parser: --name=x then --help never says
    # "unknown option" (a flag answers "takes no value", a number "needs ...")
    unknown=""
    for o in $(sed -n 's/^  \(--[a-z][a-z0-9-]*\).*/\1/p' "$TMP/out"); do
        # shellcheck disable=SC2086
        "$SLMBENCH" $words "$o=x" --help >/dev/null 2>"$TMP/oerr" || true
        grep -q "unknown option" "$TMP/oerr" && unknown="$unknown $o"
    done
    [ -z "$unknown" ] && ok "$words: every option in --help is parsed" \
        || notok "$words: listed but unknown:$unknown"
    # shellcheck disable=SC2086
    expect_exit 2 "$words: an unknown option is a usage error" "$SLMBENCH" $words --no-such-option
    expect_err "unknown option '--no-such-option'" "$words: names the unknown option"
done

# the shared --db: declared once, the same words everywhere it is taken
for c in run compare drift export_predictions gate tag report; do
    words=$(echo "$c" | tr _ ' ')
    # shellcheck disable=SC2086
    expect_exit 2 "$words --db without a value" "$SLMBENCH" $words --db
    expect_err "option '--db' needs a file" "$words: says --db needs a file"
done

# --db=FILE and --db FILE; given twice, the last one counts
expect_exit 3 "compare --db=FILE" "$SLMBENCH" compare 1 2 --db="$TMP/eq.db"
expect_err "eq\.db" "the --db=FILE form names that file"
expect_exit 3 "tag with --db twice" "$SLMBENCH" tag 1 main --db "$TMP/first.db" --db "$TMP/second.db"
expect_err "second\.db" "the last --db wins"
[ ! -e "$TMP/first.db" ] && ok "the first --db is not opened" || notok "first.db was created"

# values and positionals
expect_exit 2 "a flag with a value" "$SLMBENCH" engines --json=yes
expect_err "option '--json' takes no value" "says the flag takes no value"
expect_exit 2 "a bad number" "$SLMBENCH" compare 1 2 --reps -1
expect_err "option '--reps' needs a non-negative integer" "says what --reps needs"
expect_exit 2 "one positional too many" "$SLMBENCH" tag 1 main extra
expect_err "unexpected argument 'extra'" "names the extra argument"
expect_exit 2 "run --shard out of range" "$SLMBENCH" run x.yaml --shard 2/2
expect_err "option '--shard' needs I/N with 0 <= I < N, got '2/2'" "says what --shard needs"
expect_exit 2 "models make --type f8" "$SLMBENCH" models make --train t.csv --out m.gguf --type f8
expect_err "option '--type' expects f16 or f32, got 'f8'" "says what --type takes"
expect_exit 2 "models make --vocab x" "$SLMBENCH" models make --train t.csv --out m.gguf --vocab x
expect_err "option '--vocab': expected a number, got 'x'" "says --vocab needs a number"

# run --print-defaults: the config key table as YAML (harness/input/config.c)
expect_exit 0 "run --print-defaults" "$SLMBENCH" run --print-defaults
expect_out '^mode: score +# score\|generate' "the defaults name each key's default, type and bounds"
expect_out '^# evalset: ' "required keys without a default are commented out"
