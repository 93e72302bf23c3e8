#!/usr/bin/env bash
# lesson_check.sh — `qscope lesson check` reports syntax errors with FILE:LINE and exit 2,
# accepts good files; `lesson list` and the `lesson` command find lessons on the path.
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -q -- "$2" <<<"$1" || fail "expected '$2' in: $1"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/42-broken.lesson" <<'L'
title: Broken

Line three is narration.
> values 1 2
expect n === 2
L
err=$("$QSCOPE" lesson check "$tmp/42-broken.lesson" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "broken: exit $rc, want 2"
has "$err" "qscope: $tmp/42-broken.lesson:5: expect: unknown operator '==='"

printf 'title: Q\n\nquiz: Why?\nhint: think\n' >"$tmp/43-noanswer.lesson"
err=$("$QSCOPE" lesson check "$tmp/43-noanswer.lesson" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "quiz: exit $rc, want 2"
has "$err" "43-noanswer.lesson:3: quiz without an 'answer:' line"

printf 'title: C\n\nSome text.\n\n> sttas\n' >"$tmp/44-typo.lesson"
err=$("$QSCOPE" lesson check "$tmp/44-typo.lesson" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "typo: exit $rc, want 2"
has "$err" "44-typo.lesson:5: unknown command 'sttas'; did you mean 'stats'?"

printf 'title: Good one\nlevel: beginner\n\n> values 1 2\n> stats\nexpect n == 2\n---\nquiz: n?\nanswer: 2\n' \
    >"$tmp/45-good.lesson"
out=$("$QSCOPE" lesson check "$tmp/45-good.lesson") || fail "good: exit $?"
has "$out" "45-good.lesson: ok (2 steps, 2 commands, 1 expectations, 1 quizzes)"

# @screen and @highlight are checked against the screen table (qscope/screens.h): a typo in
# a highlight name is refused with FILE:LINE and the names the screens declare
printf 'title: H\n\n## Zero\n> values -20 1000\n> qparams\n@screen derive\n@highlight zero_piont\n' \
    >"$tmp/47-highlight.lesson"
err=$("$QSCOPE" lesson check "$tmp/47-highlight.lesson" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "bad @highlight: exit $rc, want 2: $err"
has "$err" "47-highlight.lesson:7: @highlight: unknown element 'zero_piont' (scale, zero_point, "
err=$("$QSCOPE" play --headless "$tmp/47-highlight.lesson" 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] || fail "play of a lesson with a bad @highlight: exit 0"
has "$err" "unknown element 'zero_piont'"
sed -i 's/zero_piont/zero_point/' "$tmp/47-highlight.lesson"
out=$("$QSCOPE" lesson check "$tmp/47-highlight.lesson" 2>&1) || fail "good @highlight: exit $?: $out"
has "$out" "47-highlight.lesson: ok"
printf 'title: S\n\n@screen 7\n' >"$tmp/48-screen.lesson"
err=$("$QSCOPE" lesson check "$tmp/48-screen.lesson" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "bad @screen: exit $rc, want 2"
has "$err" "48-screen.lesson:3: @screen: unknown screen '7' (data, derive, bits, error, lab, lesson or 1-6)"
# the man page lists exactly the names the table declares
printf 'title: H\n\n@highlight ?\n' >"$tmp/49-list.lesson"
table=$("$QSCOPE" lesson check "$tmp/49-list.lesson" 2>&1 | sed -n "s/.*unknown element '?' (\(.*\))\$/\1/p" | tr -d ' ' | tr , '\n' | sort | paste -sd,)
[ -n "$table" ] || fail "no list of highlight names in the error"
man=$(awk '/^\.BI @highlight/ {on=1; next} on && /^\.RE/ {exit}
           on && prev == ".TP" && /^\.BR? / {gsub(/"[^"]*"/, " "); for (i = 2; i <= NF; i++) print $i}
           {prev = $0}' man/qscope-lesson.5 | sort | paste -sd,)
[ "$man" = "$table" ] || fail "man/qscope-lesson.5 lists '$man', the table '$table'"

# every shipped lesson passes the check
if ls lessons/*.lesson >/dev/null 2>&1; then
    "$QSCOPE" lesson check lessons/*.lesson >/dev/null || fail "shipped lessons fail the check"
fi

# --strict: a narration number no expect or printed result of its step backs fails (exit 1)
# with FILE:LINE; a {marked} prose number and a backed one pass
printf 'title: S\n\nThe max is 4, in {2026}.\n> values 1 2 3\n> stats\n---\nThe max is 3.\n> stats\n' \
    >"$tmp/46-strict.lesson"
err=$("$QSCOPE" lesson check --strict "$tmp/46-strict.lesson" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "strict: exit $rc, want 1: $err"
has "$err" "46-strict.lesson:3: 4 is not backed by an expect or a printed result of step 1"
[ "$(grep -c 'is not backed' <<<"$err")" -eq 1 ] || fail "strict: want only line 3 in: $err"
err=$("$QSCOPE" -c "lesson check --strict $tmp/46-strict.lesson" 2>&1); rc=$?
[ $rc -ne 0 ] || fail "-c strict: exit 0"
has "$err" "line 3 '4'"
# the same check made by the face's own play (how make test plays every lesson once):
# --headless --strict and --html --strict fail the same way, and --html then writes no page
err=$("$QSCOPE" play --headless --strict "$tmp/46-strict.lesson" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] || fail "play --headless --strict: exit $rc, want 1: $err"
has "$err" "46-strict.lesson:3: 4 is not backed by an expect or a printed result of step 1"
page=$("$QSCOPE" play --html --strict "$tmp/46-strict.lesson" 2>"$tmp/err"); rc=$?
[ $rc -eq 1 ] || fail "play --html --strict: exit $rc, want 1"
[ -z "$page" ] || fail "play --html --strict wrote a page for a failing lesson"
has "$(cat "$tmp/err")" "46-strict.lesson:3: 4 is not backed"
"$QSCOPE" play --html "$tmp/46-strict.lesson" >/dev/null 2>&1 || fail "--html without --strict failed"
err=$("$QSCOPE" play --strict "$tmp/46-strict.lesson" </dev/null 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] || fail "play --strict (stdin not a tty, so headless): exit $rc, want 1: $err"
sed -i 's/max is 4,/max is 3,/' "$tmp/46-strict.lesson"
out=$("$QSCOPE" lesson check --strict "$tmp/46-strict.lesson" 2>&1) || fail "strict good: exit $?: $out"
has "$out" "46-strict.lesson: ok"
"$QSCOPE" play --headless --strict "$tmp/46-strict.lesson" >/dev/null 2>&1 || fail "play --strict good: exit $?"
"$QSCOPE" play --html --strict "$tmp/46-strict.lesson" | grep -q '<h1>' || fail "play --html --strict good: no page"

# the search path: by base name, topic and number, through QSCOPE_LESSON_PATH
export QSCOPE_LESSON_PATH="/nonexistent:$tmp"
out=$(cd "$tmp" && "$QSCOPE" lesson list) || fail "list exit $?"
has "$out" "45-good"
has "$out" "Good one"
has "$out" "broken"
out=$("$QSCOPE" -c "lesson list" --json) || fail "-c lesson list exit $?"
has "$out" '"name":"45-good","title":"Good one","level":"beginner"'
out=$("$QSCOPE" play --headless good 2>&1) || fail "play by topic exit $?: $out"
has "$out" "=== Good one"
out=$("$QSCOPE" play --headless 45 2>&1) || fail "play by number exit $?: $out"
has "$out" "=== Good one"
out=$("$QSCOPE" -c "lesson check 45-good" --json) || fail "-c lesson check exit $?"
has "$out" '"expects":1'
out=$("$QSCOPE" -c "lesson play 45-good" --json) || fail "-c lesson play exit $?"
has "$out" '"expects_passed":1'
err=$("$QSCOPE" -c "lesson check 42-broken" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "-c check broken: exit $rc, want 2"
has "$err" "42-broken.lesson:5:"
# a lesson file is UTF-8 text (qscope-lesson(5)): a byte that is not is refused with its line
printf 'title: Bytes\n\nText \xff here.\n> values 1\n' >"$tmp/bytes.lesson"
err=$("$QSCOPE" lesson check "$tmp/bytes.lesson" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "bytes: exit $rc, want 2"
has "$err" "bytes.lesson:3: not UTF-8 text"
# with none on the path, lesson list says where it looked
out=$(cd "$tmp" && QSCOPE_LESSON_PATH=/nonexistent "$QSCOPE" --json -c "lesson list" 2>&1)
has "$out" '"note":"no lessons found; searched lessons, /nonexistent'
echo ok
