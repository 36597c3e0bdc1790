# The bash completion and the man pages, generated from the option tables (opts_doc.c):
# checked against what each command's --help prints (the table as the parser reads it),
# so that an option added to a table and missing from the completion or the man page
# fails here. Also `make install DESTDIR=...`: what it installs and that man renders it.
. "$(dirname "$0")/lib.sh"
SLMBENCH=$(cd "$(dirname "$SLMBENCH")" && pwd)/$(basename "$SLMBENCH")
cd "$TMP"

# The commands, from the top-level usage; the forms of each: the command, its subcommand
# words (usage lines "slmbench CMD WORD ..."), and the modes its help points to
# ("see `slmbench drift --deployment x --help`").
commands=$("$SLMBENCH" --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
[ -n "$commands" ] && ok "the commands, from slmbench --help: $(echo $commands)" ||
    notok "no commands in slmbench --help"
forms() {
    "$SLMBENCH" "$1" --help >"$TMP/h" 2>/dev/null || true
    subs=$(sed -n "s/^\(usage:\)\{0,1\} *slmbench $1 \([a-z][a-z-]*\)\( .*\)\{0,1\}\$/\2/p" "$TMP/h" | sort -u)
    if [ -n "$subs" ]; then for s in $subs; do echo "$1 $s"; done; else echo "$1"; fi
    grep -o "slmbench $1 --[a-z-]* [a-zA-Z]* --help" "$TMP/h" | sed 's/^slmbench //; s/ --help$//' || true
}

# ---- the completion script ---------------------------------------------------------------
expect_exit 0 "completion bash" "$SLMBENCH" completion bash
cp "$TMP/out" comp.bash
bash -n comp.bash && ok "the script parses (bash -n)" || notok "bash -n comp.bash"
expect_exit 2 "completion zsh: a usage error" "$SLMBENCH" completion zsh
expect_err "unknown shell 'zsh' \(only bash is written\)" "names the shell and what is written"

# complete WORDS...: the candidates _slmbench offers for the last word, sorted, one a line
complete_words() {
    TMP=$TMP bash -c '. "$TMP/comp.bash"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _slmbench
             printf "%s\n" "${COMPREPLY[@]}"' complete "$@" | sed '/^$/d' | sort
}
same() { # same WHAT EXPECTED GOT
    if [ "$2" = "$3" ]; then ok "$1"; else
        notok "$1: expected [$(echo $2)], got [$(echo $3)]"; fi
}

same "slmbench r<TAB>: run, report" "$(printf 'report\nrun')" "$(complete_words slmbench r)"
want=$(for c in $commands; do echo "$c"; done | sort)
got=$(complete_words slmbench '' | grep -vx 'completion\|man\|help\|version')
same "slmbench <TAB>: every command of the usage" "$want" "$got"
"$SLMBENCH" run --help >run.help
want=$( (sed -n 's/^  \(--[a-z][a-z0-9-]*\).*/\1/p' run.help; echo --help) | sort)
same "slmbench run --<TAB>: every option of run --help" "$want" "$(complete_words slmbench run --)"
same "slmbench report --format <TAB>: md html json" "$(printf 'html\njson\nmd')" \
    "$(complete_words slmbench report --format '')"
same "slmbench ingest --format <TAB>: from the placeholder jsonl|csv" "$(printf 'csv\njsonl')" \
    "$(complete_words slmbench ingest --format '')"
mkdir ws ws/adir && : >ws/afile.gguf
cd ws
same "slmbench models make --out <TAB>: files" "$(printf 'adir\nafile.gguf')" \
    "$(complete_words slmbench models make --out '')"
same "slmbench report --out <TAB>: folders only" "adir" "$(complete_words slmbench report --out '')"
same "slmbench run <TAB>: the CONFIG file" "$(printf 'adir\nafile.gguf')" \
    "$(complete_words slmbench run '')"
cd "$TMP"
same "slmbench compare --reps <TAB>: nothing to guess" "" "$(complete_words slmbench compare --reps '')"
same "slmbench engines <TAB>: takes no argument" "" "$(complete_words slmbench engines '')"
same "slmbench man r<TAB>: the pages" "$(printf 'report\nrun')" "$(complete_words slmbench man r)"
same "slmbench drift --dep<TAB>: the option of the --deployment form" "--deployment" \
    "$(complete_words slmbench drift --dep)"

# every form's options complete, and so does every subcommand word
missing=""
for c in $commands; do
    for f in $(forms "$c" | tr ' ' '@'); do
        f=$(echo "$f" | tr '@' ' ')
        # shellcheck disable=SC2086
        "$SLMBENCH" $f --help >form.help 2>/dev/null || true
        set -- $f
        case $f in "$c "[a-z]*) sub=$2 ;; *) sub="" ;; esac
        if [ -n "$sub" ]; then
            complete_words slmbench "$c" "" | grep -qx "$sub" || missing="$missing $c:$sub"
            cw=$(complete_words slmbench "$c" "$sub" --)
        else
            cw=$(complete_words slmbench "$c" --)
        fi
        for o in $(sed -n 's/^  \(--[a-z][a-z0-9-]*\).*/\1/p' form.help); do
            echo "$cw" | grep -qx -- "$o" || missing="$missing $f:$o"
        done
    done
done
same "every option of every form's --help completes" "" "$missing"

# ---- the man pages -----------------------------------------------------------------------
expect_exit 0 "man: slmbench(1)" "$SLMBENCH" man
expect_out '^\.TH SLMBENCH 1 ' "slmbench(1) has its title"
pages=$("$SLMBENCH" man --list)
same "man --list: one page per command" "$(echo $commands)" "$(echo $pages)"
expect_exit 2 "man nosuch: a usage error" "$SLMBENCH" man nosuch
expect_err "no command 'nosuch' \(slmbench man --list\)" "says how to list the pages"
missing=""
warn=""
have_groff=$(command -v groff || true)
[ -n "$have_groff" ] || skip "groff -ww on every page (groff not installed)"
for c in "" $commands; do
    "$SLMBENCH" man $c >page.1
    if [ -n "$have_groff" ]; then
        w=$(groff -ww -man -Tutf8 -z page.1 2>&1 || echo "groff failed")
        [ -z "$w" ] || warn="$warn ${c:-slmbench}: $w"
    fi
    LC_ALL=C grep -q '[^ -~]' page.1 && warn="$warn ${c:-slmbench}: non-ASCII"
    [ -z "$c" ] && continue
    grep -q "^\.SH NAME" page.1 && grep -q "^\.SH SYNOPSIS" page.1 && grep -q "^\.SH OPTIONS" page.1 &&
        grep -q "^\.SH EXIT STATUS" page.1 || missing="$missing $c:sections"
    for f in $(forms "$c" | tr ' ' '@'); do
        # shellcheck disable=SC2086
        "$SLMBENCH" $(echo "$f" | tr '@' ' ') --help >form.help 2>/dev/null || true
        for o in $(sed -n 's/^  --\([a-z][a-z0-9-]*\).*/\1/p' form.help); do
            grep -qF "\\fB\\-\\-$(echo "$o" | sed 's/-/\\-/g')\\fR" page.1 || missing="$missing $f:--$o"
        done
    done
done
same "every option of every form's --help is in its man page" "" "$missing"
same "every page renders without a groff warning (groff -ww), ASCII only" "" "$warn"
"$SLMBENCH" man run >run.1
grep -q '^\\fBslmbench\\fR run CONFIG\.yaml \[options\]$' run.1 && ok "run(1): the synopsis" ||
    notok "run(1): no synopsis line"
grep -q '^Exit: 0 ok, 2 usage' run.1 && ok "run(1): the exit status from the help's footer" ||
    notok "run(1): no exit codes"

# ---- make install --------------------------------------------------------------------
if ! command -v make >/dev/null 2>&1 || [ ! -f "$ROOT/Makefile" ]; then
    skip "make install (no make or no Makefile)"
    exit 0
fi
dest="$TMP/dest"
if make -s -C "$ROOT" install DESTDIR="$dest" PREFIX=/opt/slm >install.log 2>&1; then
    ok "make install DESTDIR=... PREFIX=/opt/slm"
else
    notok "make install failed"; sed 's/^/#   /' install.log | tail -n 10
fi
p="$dest/opt/slm"
for f in bin/slmbench share/bash-completion/completions/slmbench share/man/man1/slmbench.1 \
    share/man/man1/slmbench-run.1 lib/slmbench/engines/llamacpp.so; do
    [ -f "$p/$f" ] && ok "installed $f" || notok "not installed: $f"
done
if command -v man >/dev/null 2>&1; then
    w=$(MANWIDTH=80 man --warnings -l "$p/share/man/man1/slmbench-run.1" 2>&1 >man.txt || echo "man failed")
    same "man --warnings -l slmbench-run.1: no warning" "" "$w"
    grep -q -- "--resume" man.txt && ok "the rendered page shows --resume" || notok "no --resume in man.txt"
else
    skip "man --warnings -l on the installed page (man not installed)"
fi
env -u SLM_ENGINE_PATH "$p/bin/slmbench" engines --json >engines.json 2>&1 || true
n=$(grep -c "\"path\": \"$p/bin/\.\./lib/slmbench/engines/[a-z]*\.so\"" engines.json || true)
[ "$n" -ge 4 ] && grep -q '"name": "replay"' engines.json &&
    ok "the installed program finds its $n plugins in <bin>/../lib/slmbench/engines" ||
    notok "the installed program's plugins: $(head -c 300 engines.json)"
