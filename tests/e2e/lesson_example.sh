#!/usr/bin/env bash
# lesson_example.sh — the complete example of man/qscope-lesson.5, copied out of the page the
# way a reader would, passes `lesson check` and plays headless with every expectation met.
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# the lines between the example markers, roff escapes undone, requests dropped
sed -n '/^\.\\" example-begin/,/^\.\\" example-end/p' man/qscope-lesson.5 |
    grep -v '^\.' | sed -e 's/\\-/-/g' -e 's/\\&//g' -e 's/\\e/\\/g' >"$tmp/example.lesson"
[ -s "$tmp/example.lesson" ] || fail "no example found in man/qscope-lesson.5"
grep -q '^title: ' "$tmp/example.lesson" || fail "example has no title"
grep -q '^expect ' "$tmp/example.lesson" || fail "example has no expect"
grep -q '^quiz: ' "$tmp/example.lesson" || fail "example has no quiz"
"$QSCOPE" lesson check "$tmp/example.lesson" || fail "example fails the check"
out=$("$QSCOPE" play --headless "$tmp/example.lesson" 2>&1) || fail "example fails to play: $out"
grep -q 'expectations met' <<<"$out" || fail "no summary line: $out"
echo ok
