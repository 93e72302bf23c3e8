#!/usr/bin/env bash
# run.sh — the test driver behind `make test` / `make asan`: Criterion unit suites, end-to-end
# scripts (tests/e2e, tests/tui), headless lesson playback and `lesson check --strict`.
# Ends with "N passed, N failed".
# Usage: BUILD=build bash tests/run.sh [unit|e2e|tui|lessons]...
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export QSCOPE="$PWD/$BUILD/qscope"
export QSCOPE_TOP="$PWD"
export NO_COLOR=1
parts=("$@"); [ ${#parts[@]} -eq 0 ] && parts=(unit e2e tui lessons)
pass=0; fail=0; failed=()
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

want() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

if want unit; then
    for t in "$BUILD"/tests/test_*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        out="$log/$name.out"
        timeout 600 "$t" --jobs 2 >"$out" 2>&1; rc=$?
        syn=$(grep -a 'Synthesis:' "$out" | tail -1)
        p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$syn"); p=${p:-0}
        f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$syn"); f=${f:-0}
        c=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$syn"); c=${c:-0}
        if [ "$rc" -ne 0 ] && [ $((f + c)) -eq 0 ]; then f=1; fi
        pass=$((pass + p)); fail=$((fail + f + c))
        if [ "$rc" -ne 0 ]; then
            failed+=("$name"); echo "FAIL $name"; grep -a -E '\[(FAIL|----)\]|ERROR|Assertion|Sanitizer|runtime error' "$out" | head -40
        else
            echo "ok   $name ($p tests)"
        fi
    done
fi

run_scripts() {
    local dir=$1 s name rc
    for s in "$dir"/*.sh; do
        [ -f "$s" ] || continue
        name="$dir/$(basename "$s")"
        timeout 300 bash "$s" >"$log/script.out" 2>&1; rc=$?
        if [ "$rc" -eq 0 ]; then
            pass=$((pass + 1)); echo "ok   $name"
        else
            fail=$((fail + 1)); failed+=("$name"); echo "FAIL $name (exit $rc)"; tail -30 "$log/script.out"
        fi
    done
}
want e2e && run_scripts tests/e2e
want tui && run_scripts tests/tui

if want lessons && ls lessons/*.lesson >/dev/null 2>&1; then
    for l in lessons/*.lesson; do
        if timeout 300 "$QSCOPE" play --headless "$l" >"$log/lesson.out" 2>&1; then
            pass=$((pass + 1)); echo "ok   $l"
        else
            fail=$((fail + 1)); failed+=("$l"); echo "FAIL $l"; tail -20 "$log/lesson.out"
        fi
        # every number of the narration backed by an expect or a printed result of its step
        if timeout 300 "$QSCOPE" -c "lesson check --strict $l" >"$log/lesson.out" 2>&1; then
            pass=$((pass + 1)); echo "ok   $l (strict)"
        else
            fail=$((fail + 1)); failed+=("$l (strict)"); echo "FAIL $l (strict)"
            tail -5 "$log/lesson.out"
        fi
    done
fi

echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
