#!/usr/bin/env bash
# lesson_fail.sh — a deliberately wrong `expect` and a failing command stop a headless play
# with exit status 1 and a message naming FILE:LINE; a right one plays to the end.
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -q -- "$2" <<<"$1" || fail "expected '$2' in: $1"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# values 3 -1 7: max is 7 (not 8), by inspection
cat >"$tmp/wrong.lesson" <<'L'
title: A wrong expectation

The largest of three values.
> values 3 -1 7
> stats
expect min == -1
expect max == 8
---
Never reached.
> stats
L
err=$("$QSCOPE" play --headless "$tmp/wrong.lesson" 2>&1 >"$tmp/out"); rc=$?
[ $rc -eq 1 ] || fail "wrong expect: exit $rc, want 1"
has "$err" "qscope: $tmp/wrong.lesson:7: expect max == 8 failed: max = 7"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "want one error line, got: $err"
grep -q 'Never reached' "$tmp/out" && fail "played past the failed expectation"
grep -q 'expect min == -1  ok' "$tmp/out" || fail "transcript lacks the passing expect"

# the same with the right number plays to the end
sed 's/expect max == 8/expect max == 7/' "$tmp/wrong.lesson" >"$tmp/right.lesson"
out=$("$QSCOPE" play --headless "$tmp/right.lesson" 2>&1) || fail "right lesson exit $?: $out"
has "$out" "Never reached"
has "$out" "done (3 commands, 2 expectations met, 0 quizzes)"

# a failing command (no tensor for stats after a bad values) also names its line
printf 'title: Bad command\n\nText.\n> values 1 x\n' >"$tmp/badcmd.lesson"
err=$("$QSCOPE" play --headless "$tmp/badcmd.lesson" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] || fail "bad command: exit $rc, want 1"
has "$err" "qscope: $tmp/badcmd.lesson:4: "

# a missing key names the key and the keys there are
printf 'title: Missing\n\n> values 1 2\n> stats\nexpect maximum == 2\n' >"$tmp/missing.lesson"
err=$("$QSCOPE" play --headless "$tmp/missing.lesson" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] || fail "missing key: exit $rc, want 1"
has "$err" "missing.lesson:5: expect maximum == 2 failed: no key 'maximum'"

# several files: stops at the first failure, exit 1
out=$("$QSCOPE" play --headless "$tmp/right.lesson" "$tmp/wrong.lesson" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "two files: exit $rc, want 1"
has "$out" "wrong.lesson:7:"

# an unknown lesson is bad input: exit 2
"$QSCOPE" play --headless no-such-lesson-anywhere >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "unknown lesson: exit $rc, want 2"
# a path that exists but is no lesson file is named as what it is, not "no such file"
err=$("$QSCOPE" lesson check /dev/null 2>&1); rc=$?
[ $rc -eq 2 ] || fail "lesson check /dev/null: exit $rc, want 2"
has "$err" "qscope: /dev/null: not a regular file"
err=$("$QSCOPE" play --headless "$tmp" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "play of a directory: exit $rc, want 2"
has "$err" "a directory, not a lesson file"
err=$("$QSCOPE" play --headless "$tmp/none.lesson" 2>&1)
has "$err" "no such lesson file"
echo ok
