# The CI flow as documented: the commands of docs/ci/github-actions.yml and
# docs/ci/gitlab-ci.yml, taken from those files and run as written, with docs/ci/gate.yaml
# as written (save the two latency limits, see below), so the test breaks when the docs
# drift from the code. A repository's life: the first pull request with no baseline yet
# (exit 0, JUnit written, the relative checks skipped), a push to main (tagged), a second
# pull request gated against main (passes), a pull request with a worse model (fails, exit
# 1), and gate --candidate. bench/demo.yaml is used too, with the tiny eval set and tiny
# models of the demo candidates' names in place of the demo's (which take minutes to make).
. "$(dirname "$0")/lib.sh"
# A python3 with PyYAML (scripts/install-deps.sh installs Debian's python3-yaml for
# /usr/bin/python3; a python3 earlier on the PATH may lack it).
PY=
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import yaml' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
    skip "CI flow (needs python3 with PyYAML to read the CI files)"
    exit 0
fi
FX="$ROOT/tests/fixtures/tiny"
GH="$ROOT/docs/ci/github-actions.yml"
GL="$ROOT/docs/ci/gitlab-ci.yml"
SLM=$(cd "$(dirname "$SLMBENCH")" && pwd)/$(basename "$SLMBENCH")

# step FILE NAME: the shell of the GitHub step called NAME; for the GitLab file, NAME is
# a word the script item must contain.
step() {
    "$PY" - "$1" "$2" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
want = sys.argv[2]
if "jobs" in doc:
    steps = [s for s in doc["jobs"]["gate"]["steps"] if s.get("name") == want]
    if len(steps) != 1 or "run" not in steps[0]:
        sys.exit("no step '%s' with a run" % want)
    print(steps[0]["run"])
else:
    items = [s for s in doc["slm-gate"]["script"] if want in s]
    if len(items) != 1:
        sys.exit("%d script items with '%s'" % (len(items), want))
    print(items[0])
PY
}
for s in "Build the models it evaluates" Evaluate "Gate against main" "Tag the new baseline" Report; do
    step "$GH" "$s" > "$TMP/gh-$(echo "$s" | tr ' ' _).sh" || { notok "github-actions.yml: no step '$s'"; exit 0; }
done
ok "github-actions.yml has the steps of the flow"

# The job builds what it runs: the model step is a make target that makes the models
# bench/demo.yaml evaluates.
target=$(sed -n 's/^make \([a-z-]*\).*/\1/p' "$TMP/gh-Build_the_models_it_evaluates.sh")
mk=$(env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$ROOT" -n "$target" 2>/dev/null | grep -o 'bench/models/demo-models.sh [^ ]* [^ ]*' || true)
want=$(sed -n 's|^ *model: \.\./\(build/demo/models\)/.*|\1|p' "$ROOT/bench/demo.yaml" | sort -u)
case "$mk" in *" $want") ok "make $target builds the models of bench/demo.yaml into $want" ;;
    *) notok "make '$target' does not build $want (it runs: $mk)" ;; esac
grep -q "^    - make $target" "$GL" && ok "the GitLab job makes them too" || notok "gitlab-ci.yml: no 'make $target'"

# A checkout: build/slmbench, bench/demo.yaml on the tiny set (as evalsets/support-triage)
# with tiny models named as the demo's, docs/ci/gate.yaml as written except the latency
# limits (p95 and the increase): a test asserts nothing about time, and these limits are
# the only ones that judge it.
W="$TMP/repo"
mkdir -p "$W/build/demo/models" "$W/bench" "$W/docs/ci" "$W/evalsets"
ln -s "$SLM" "$W/build/slmbench"
ln -s "$FX" "$W/evalsets/support-triage"
sed 's/^\(  p95_ms_max:\).*/\1 60000/; s/^\(  latency_increase_max_pct:\) *[0-9.]*/\1 1000/' \
    "$ROOT/docs/ci/gate.yaml" > "$W/docs/ci/gate.yaml"
# bench/demo.yaml as written, but with one thread and without the memory-bandwidth triad
# at the start of each run: on a loaded 2-core machine llama.cpp's two threads wait on
# each other and the triad takes tens of seconds (35 s a run instead of 1.5 s); both
# measure the machine, not the flow
{ sed 's/^threads: .*/threads: 1/' "$ROOT/bench/demo.yaml"; printf 'bandwidth: false\n'; } > "$W/bench/demo.yaml"
cands=$(sed -n 's/^  - name: \([^ ]*\).*/\1/p' "$W/bench/demo.yaml")
ref=$(sed -n 's/^ *latency_reference: *\([^ ]*\).*/\1/p' "$W/docs/ci/gate.yaml")
echo "$cands" | grep -qx "$ref" && ok "the gate's latency reference '$ref' is a candidate of bench/demo.yaml" \
    || notok "latency_reference '$ref' is not a candidate of bench/demo.yaml ($cands)"
v=40
for c in $cands; do
    "$SLM" models make --train "$FX/train.csv" --evalset "$FX" --out "$W/build/demo/models/$c.gguf" --vocab $v >/dev/null
    v=$((v - 4))
done
"$SLM" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/worse.gguf" --vocab 3 --alpha 5 >/dev/null

# job NAME EVENT: runs the GitHub job's steps for a pull_request or a push to main, in
# order, as the runner would (bash -e; after a failing step only the `always()` ones).
job() {
    name=$1 ev=$2 rc=0
    : > "$TMP/$name.log"
    for s in Evaluate Gate_against_main Tag_the_new_baseline Report; do
        case "$s:$ev" in Gate_against_main:push | Tag_the_new_baseline:pull_request) continue ;; esac
        [ "$rc" = 0 ] || [ "$s" = Report ] || continue
        (cd "$W" && bash -e "$TMP/gh-$s.sh") >>"$TMP/$name.log" 2>&1 || { r=$?; [ "$rc" = 0 ] && rc=$r; }
    done
    return "$rc"
}

# 1. The first pull request: no database yet, no baseline.
rm -rf "$W/results"
if job pr1 pull_request; then rc=0; else rc=$?; fi
[ "$rc" = 0 ] && ok "first pull request, no baseline yet: the job passes" || { notok "first pull request: exit $rc"; sed 's/^/#   /' "$TMP/pr1.log" | tail -n 8; }
[ -s "$W/results/gate.xml" ] && [ -s "$W/results/gate.md" ] && ok "JUnit and Markdown written" || notok "no JUnit or Markdown"
n=$(grep -c '<testcase classname="[^"]*" name="accuracy_drop"><skipped message="not judged: no run tagged &apos;main&apos; yet: tag one on your main branch with slmbench tag last main' "$W/results/gate.xml" || true)
[ "$n" = 3 ] && ok "JUnit: each candidate's accuracy_drop is a skipped case saying how to tag main" || notok "skipped accuracy_drop cases: $n"
grep -q '<failure' "$W/results/gate.xml" && notok "the first gate failed a check" || ok "no failing case: the absolute checks pass"
grep -q 'name="accuracy_min"' "$W/results/gate.xml" && ok "the absolute checks were judged" || notok "no accuracy_min case"
[ -s "$W/results/report/report.md" ] && ok "the report was written" || notok "no report"
# docs/ci/gate.yaml's own `baseline: {ref: main}` is what --baseline main repeats: the
# same without the option
expect_exit 0 "the gate file's ref alone (no --baseline), no baseline yet" "$SLM" gate "$W/docs/ci/gate.yaml" --db "$W/results/slmbench.db"
expect_out "accuracy\\\\_drop \| not judged: no run tagged .main. yet" "its baseline checks are not judged either"
expect_err "note: no run tagged 'main' yet" "stderr says why"

# 2. The pull request merged: the push to main evaluates and tags.
if job main1 push; then rc=0; else rc=$?; fi
[ "$rc" = 0 ] && ok "push to main: evaluated and tagged" || { notok "push to main: exit $rc"; sed 's/^/#   /' "$TMP/main1.log" | tail -n 8; }
tagged=$(sql "$W/results/slmbench.db" "select run_id from tags where name = 'main'")
last=$(sql "$W/results/slmbench.db" "select max(id) from runs")
[ -n "$tagged" ] && [ "$tagged" = "$last" ] && ok "main is the push's run ($tagged)" || notok "main is run '$tagged', the last is $last"

# The README's sequence: tag a run, then gate that same run against
# the tag (here main's run, tagged again).
expect_exit 0 "tag then gate the same run" sh -c "cd '$W' && build/slmbench tag last main --db results/slmbench.db && build/slmbench gate docs/ci/gate.yaml --db results/slmbench.db --baseline main"
expect_out "accuracy\\\\_drop \| not judged: baseline .main. is the gated run itself" "it says the baseline is the run itself"

# 3. A second pull request with the same models: gated against main, passes.
rm -f "$W/results/gate.xml"
if job pr2 pull_request; then rc=0; else rc=$?; fi
[ "$rc" = 0 ] && ok "second pull request against main: passes" || { notok "second pull request: exit $rc"; sed 's/^/#   /' "$TMP/pr2.log" | tail -n 12; }
grep -q "against baseline run $tagged:" "$W/results/gate.md" && ok "judged against main's run" || notok "gate.md does not name baseline run $tagged"
n=$(grep -c '<testcase classname="[^"]*" name="accuracy_drop"><system-out>' "$W/results/gate.xml" || true)
[ "$n" = 3 ] && ok "JUnit: every accuracy_drop judged and passed" || notok "passed accuracy_drop cases: $n"

# 4. A pull request with a worse model: the job fails with exit 1 on the gate.
worst=$(echo "$cands" | head -n 1)
cp "$W/build/demo/models/$worst.gguf" "$TMP/keep.gguf"
cp "$TMP/worse.gguf" "$W/build/demo/models/$worst.gguf"
if job pr3 pull_request; then rc=0; else rc=$?; fi
[ "$rc" = 1 ] && ok "a worse model fails the pull request (exit 1)" || { notok "worse model: exit $rc"; sed 's/^/#   /' "$TMP/pr3.log" | tail -n 12; }
grep -Eq "❌ \| ${worst%%-*}[^|]* \| accuracy\\\\_drop \|.*a real regression" "$W/results/gate.md" \
    && ok "on a significant accuracy drop of $worst" || notok "gate.md: no accuracy_drop failure of $worst"
[ -s "$W/results/report/report.md" ] && ok "the report step still ran" || notok "no report after the failure"

# gate --candidate: one candidate of that run; an unknown one is refused naming the others.
other=$(echo "$cands" | tail -n 1)
expect_exit 0 "gate --candidate $other (unchanged) passes" "$SLM" gate "$W/docs/ci/gate.yaml" --db "$W/results/slmbench.db" --baseline main --candidate "$other"
grep -q "| $worst |" "$TMP/out" && notok "--candidate judged $worst too" || ok "only $other is judged"
expect_exit 1 "gate --candidate $worst fails" "$SLM" gate "$W/docs/ci/gate.yaml" --db "$W/results/slmbench.db" --baseline main --candidate "$worst"
expect_exit 3 "gate --candidate nosuch" "$SLM" gate "$W/docs/ci/gate.yaml" --db "$W/results/slmbench.db" --baseline main --candidate nosuch
expect_err "has no candidate 'nosuch' \(it has: $(echo $cands | sed 's/ /, /g')\)" "the error lists the run's candidates"
expect_exit 3 "--require-baseline with an untagged ref" "$SLM" gate "$W/docs/ci/gate.yaml" --db "$W/results/slmbench.db" --baseline release --require-baseline
cp "$TMP/keep.gguf" "$W/build/demo/models/$worst.gguf"

# The GitLab job's script items, as written, in a merge request and on the default branch.
for s in "build/slmbench run" CI_MERGE_REQUEST_IID CI_DEFAULT_BRANCH; do
    step "$GL" "$s" > "$TMP/gl-$(echo "$s" | tr -c 'a-zA-Z\n' _).sh" || notok "gitlab-ci.yml: no script item with '$s'"
done
gl() { # NAME, then environment
    n=$1; shift
    (cd "$W" && env "$@" bash -e -c "mkdir -p results; . '$TMP/gl-build_slmbench_run.sh'; . '$TMP/gl-CI_MERGE_REQUEST_IID.sh'; . '$TMP/gl-CI_DEFAULT_BRANCH.sh'") >"$TMP/$n.log" 2>&1
}
rm -rf "$W/results"
if gl mr1 CI_MERGE_REQUEST_IID=1; then rc=0; else rc=$?; fi
[ "$rc" = 0 ] && [ -s "$W/results/gate.xml" ] && ok "GitLab: the first merge request passes and writes the JUnit" || notok "GitLab first merge request: exit $rc"
if gl main CI_COMMIT_BRANCH=main CI_DEFAULT_BRANCH=main; then rc=0; else rc=$?; fi
[ "$rc" = 0 ] && [ -n "$(sql "$W/results/slmbench.db" "select run_id from tags where name = 'main'")" ] \
    && ok "GitLab: the default branch tags main" || notok "GitLab default branch: exit $rc"
cp "$TMP/worse.gguf" "$W/build/demo/models/$worst.gguf"
if gl mr2 CI_MERGE_REQUEST_IID=2; then rc=0; else rc=$?; fi
[ "$rc" = 1 ] && grep -q "FAILED" "$TMP/mr2.log" && ok "GitLab: a worse model fails the merge request with exit 1 (not lost in a pipe)" \
    || notok "GitLab worse model: exit $rc"
