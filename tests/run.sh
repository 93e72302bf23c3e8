#!/usr/bin/env bash
# run.sh — the test driver behind `make test` / `make asan`: Criterion unit suites, end-to-end
# scripts (tests/e2e, tests/tui) and every lesson. A lesson is played once, by
# `qscope play --html --strict`: the play fails on a failing command or expect, the strict
# check on a narration number nothing backs, and tests/e2e/handout_check.py checks the page
# (kept in $BUILD/handouts/, which `make ci-handouts` renders in Chromium).
# Runs QSCOPE_TEST_JOBS items at a time (default 2, the cores CI has), slowest kinds first,
# prints "ok|FAIL name (seconds)" as each ends and ends with "tests: N passed, N failed".
# Usage: BUILD=build [QSCOPE_TEST_JOBS=N] [QSCOPE_TEST_SKIP_LESSONS="NAME..."]
#        bash tests/run.sh [unit|e2e|tui|lessons]...
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in /*) export QSCOPE="$BUILD/qscope" ;; *) export QSCOPE="$PWD/$BUILD/qscope" ;; esac
export QSCOPE_TOP="$PWD"
export NO_COLOR=1
JOBS=${QSCOPE_TEST_JOBS:-2}
case $JOBS in ''|*[!0-9]*|0) echo "run.sh: QSCOPE_TEST_JOBS must be a positive integer" >&2; exit 2 ;; esac
parts=("$@"); [ ${#parts[@]} -eq 0 ] && parts=(unit e2e tui lessons)
log=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$log"' EXIT
trap 'exit 130' INT TERM

want() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

# The queue: one kind and one argument per item.
kinds=(); args=()
add() { kinds+=("$1"); args+=("$2"); }

# Lessons first (the GPT ones are the longest items), then unit suites, scripts.
if want lessons && ls lessons/*.lesson >/dev/null 2>&1; then
    mkdir -p "$BUILD/handouts"
    for l in $(ls -r lessons/*.lesson); do
        # QSCOPE_TEST_SKIP_LESSONS (make asan): names of lessons left to make test
        case " ${QSCOPE_TEST_SKIP_LESSONS:-} " in
            *" $(basename "$l" .lesson) "*) echo "skip $l (played by make test)"; continue ;;
        esac
        add lesson "$l"
    done
fi
if want unit; then
    for t in "$BUILD"/tests/test_*; do [ -x "$t" ] && add unit "$t"; done
fi
if want e2e; then for s in tests/e2e/*.sh; do [ -f "$s" ] && add script "$s"; done; fi
if want tui; then for s in tests/tui/*.sh; do [ -f "$s" ] && add script "$s"; done; fi

# One item: writes $log/N.out (output), then $log/N.res "pass fail label" as its last act.
run_item() {
    local n=$1 kind=$2 a=$3 out="$log/$1.out" rc p f c syn label t0 t1
    t0=$(date +%s%N)
    case $kind in
    unit)
        label=$(basename "$a")
        timeout 600 "$a" --jobs 2 >"$out" 2>&1; rc=$?
        syn=$(grep -a 'Synthesis:' "$out" | tail -1)
        p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$syn"); p=${p:-0}
        f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$syn"); f=${f:-0}
        c=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$syn"); c=${c:-0}
        f=$((f + c))
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
        [ "$rc" -eq 0 ] && label="$label ($p tests)" ;;
    script)
        label=$a
        timeout 300 bash "$a" >"$out" 2>&1; rc=$?
        if [ "$rc" -eq 0 ]; then p=1; f=0; else p=0; f=1; label="$a (exit $rc)"; fi ;;
    lesson)
        # plays, checks every number of the narration (--strict) and writes the handout
        label="$a (played, strict, handout)"
        local page b
        b=$(basename "$a" .lesson); page="$BUILD/handouts/$b.html"
        rm -f "$page"
        timeout 900 "$QSCOPE" play --html --strict "$a" >"$page.tmp" 2>"$out"; rc=$?
        if [ "$rc" -eq 0 ] && [ -s "$out" ]; then rc=1; echo "stderr not empty" >>"$out"; fi
        if [ "$rc" -eq 0 ]; then
            python3 tests/e2e/handout_check.py "$a" "$page.tmp" >>"$out" 2>&1; rc=$?
        fi
        if [ "$rc" -eq 0 ]; then mv "$page.tmp" "$page"; p=1; f=0
        else rm -f "$page.tmp"; p=0; f=1; fi ;;
    esac
    t1=$(date +%s%N); t1=$(( (t1 - t0) / 100000000 ))
    printf '%s %s %s %d.%d %s\n' "$p" "$f" "$rc" $((t1 / 10)) $((t1 % 10)) "$label" >"$log/$n.tmp"
    mv "$log/$n.tmp" "$log/$n.res"
}

pass=0; fail=0; failed=(); reported=()
report() {        # prints every item finished since the last call
    local n p f rc secs label
    for n in "${!kinds[@]}"; do
        [ -n "${reported[$n]:-}" ] && continue
        [ -f "$log/$n.res" ] || continue
        reported[$n]=1
        read -r p f rc secs label <"$log/$n.res"
        pass=$((pass + p)); fail=$((fail + f))
        if [ "$f" -eq 0 ]; then
            echo "ok   $label (${secs} s)"
        else
            failed+=("$label"); echo "FAIL $label (${secs} s)"
            case ${kinds[$n]} in
            unit) grep -a -E '\[(FAIL|----)\]|ERROR|Assertion|Sanitizer|runtime error' \
                      "$log/$n.out" | head -40 ;;
            lesson) tail -20 "$log/$n.out" ;;
            *) tail -30 "$log/$n.out" ;;
            esac
        fi
    done
}

running=0
for n in "${!kinds[@]}"; do
    while [ "$running" -ge "$JOBS" ]; do
        wait -n 2>/dev/null; running=$((running - 1)); report
    done
    run_item "$n" "${kinds[$n]}" "${args[$n]}" &
    running=$((running + 1))
done
wait
report

echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
