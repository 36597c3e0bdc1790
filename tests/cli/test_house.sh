#!/bin/sh
# The house rules of the source tree (README "Layout"), checked so they stay true:
# every core source lives in a room, SQL only in the store room, no include cycle between
# modules, functions a reader can hold in their head (or a comment saying why not),
# engine plugins built on the two public headers only.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

# 1. rooms: no loose sources in harness/, and every room has a line in the README's Layout
loose=$(find harness -maxdepth 1 -name '*.[ch]' | sort)
if [ -z "$loose" ]; then ok "every harness source is in a room"; else
    notok "sources outside a room: $loose"; fi
missing=
for d in harness/*/ reports/ engines/ tests/*/; do
    d=${d%/}
    grep -q "\`$d/\`" README.md || missing="$missing $d"
done
if [ -z "$missing" ]; then ok "README Layout names every folder"; else
    notok "README Layout lacks:$missing"; fi

# 2. SQL lives in harness/store/ only
sqlfiles=$(grep -l 'sqlite3_[a-z_0-9]* *(\|<sqlite3\.h>\|sqlite3_stmt\|sqlite3 \*' $(find harness reports engines -name '*.[ch]' \
    -not -path 'harness/store/*') 2>/dev/null | sort | tr '\n' ' ')
if [ -z "$sqlfiles" ]; then ok "no SQL outside harness/store/"; else
    notok "SQL outside harness/store/: $sqlfiles"; fi

# 3. no include cycle: two headers that include each other, or two modules (X.c and Y.c
#    both exist) where X's files include Y.h and Y's files include X.h
cycles=
incs() { cat "$@" 2>/dev/null | sed -n 's/^#include "\([a-z_0-9]*\)\.h".*/\1/p' | sort -u; }
for f in $(find harness reports -name '*.h' | sort); do
    a=${f%.h}; an=$(basename "$a")
    for bn in $(incs "$a.h" "$a.c"); do
        [ "$bn" = "$an" ] || [ "$an" \> "$bn" ] && continue
        b=$(find harness reports -name "$bn.h" | head -n 1)
        [ -n "$b" ] || continue
        b=${b%.h}
        if incs "$a.h" | grep -qx "$bn" && incs "$b.h" | grep -qx "$an"; then
            cycles="$cycles $an.h<->$bn.h"
        elif [ -f "$a.c" ] && [ -f "$b.c" ] && incs "$b.h" "$b.c" | grep -qx "$an"; then
            cycles="$cycles $an<->$bn"
        fi
    done
done
if [ -z "$cycles" ]; then ok "no include cycle between modules"; else
    notok "include cycles:$cycles"; fi

# 4. functions: at most 120 lines and cyclomatic complexity 40, unless the comment above
#    the function says why ("Long: ..." or "Long (...) because ...")
if command -v pmccabe >/dev/null 2>&1; then
    over=$(pmccabe $(find harness reports engines -name '*.c' | sort) 2>/dev/null |
        awk -F'\t' '{ split($6, a, "[(]"); split(a[2], b, "[)]"); n = $6; sub(/^[^:]*: /, "", n);
                      if ($1 > 40 || $5 > 120) print $1, $5, a[1], b[1], n }')
    bad= n_over=0 n_why=0
    while read -r cc len file line name; do
        [ -n "$file" ] || continue
        n_over=$((n_over + 1))
        from=$((line > 30 ? line - 30 : 1))
        if sed -n "${from},${line}p" "$file" | grep -Eqi 'long:|long \(.*because|long because'; then
            n_why=$((n_why + 1))
        else
            bad="$bad
#   $file:$line $name: $len lines, complexity $cc"
        fi
    done <<EOT
$over
EOT
    if [ -z "$bad" ]; then ok "functions within 120 lines / complexity 40 ($n_why longer say why)"; else
        notok "functions over 120 lines or complexity 40 without a comment saying why:$bad"; fi
else
    skip "function sizes (pmccabe not installed)"
fi

# 5. engine plugins: built on slm_engine.h and slm_plugin.h, no core-library symbols
OUTDIR=$(dirname "$SLMBENCH")
for so in "$OUTDIR"/engines/*.so; do
    [ -f "$so" ] || continue
    e=$(basename "$so" .so)
    extra=$(nm -D --defined-only "$so" | awk '$2 == "T" && $3 ~ /^slm_/ && $3 != "slm_engine_entry" {print $3}' | head -n 5 | tr '\n' ' ')
    if [ -z "$extra" ]; then ok "$e plugin exports only slm_engine_entry"; else
        notok "$e plugin carries core symbols: $extra"; fi
done
