#!/usr/bin/env bash
# sec_lesson.sh — issue 19 on the hostile fixtures of tests/fixtures/sec (made by
# make_sec_fixtures.py beside them): the lesson sandbox: nothing written, nothing read outside its folder, lesson check refuses, a declared lesson asks first.
set -u
cd "$QSCOPE_TOP"
FX="$QSCOPE_TOP/tests/fixtures/sec"
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -qF -- "$2" <<<"$1" || fail "expected '$2' in: $1"; }
lacks() { grep -qF -- "$2" <<<"$1" && fail "did not expect '$2' in: $1"; return 0; }
# no raw ESC, BEL, C1 CSI (c2 9b) or DEL byte in a file of captured output
clean_bytes() {
    if LC_ALL=C grep -qP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$1"; then
        fail "$2: raw control bytes reached the terminal: $(od -c "$1" | head -5)"
    fi
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT


# ---- the lesson sandbox ----------------------------------------------------------------
mkdir "$tmp/run" && cd "$tmp/run" || exit 1
printf 'precious\n' >victim_rc
err=$("$QSCOPE" lesson check "$FX/hostile.lesson" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "lesson check of a lesson that exports: exit $rc, want 2: $err"
has "$err" "hostile.lesson:4: 'export' writes files"
out=$("$QSCOPE" play --headless "$FX/hostile.lesson" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "play --headless hostile: exit $rc, want 2"
lacks "$out" "qscope> values"          # refused before step 1: nothing ran
out=$("$QSCOPE" play --headless --allow-files "$FX/hostile.lesson" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "--allow-files does not allow what the header does not declare: $rc"
out=$("$QSCOPE" -c "lesson play $FX/hostile.lesson" 2>&1); rc=$?
[ $rc -ne 0 ] || fail "-c lesson play hostile succeeded"
[ "$(cat victim_rc)" = precious ] || fail "the lesson replaced a file"
[ -z "$(ls -A | grep -v '^victim_rc$')" ] || fail "the lesson wrote files: $(ls -A)"

# reads stay under the lesson's folder and the datasets (links followed)
mkdir -p "$tmp/les" && cp "$FX/hostile_read.lesson" "$tmp/les/"
cp "$QSCOPE_TOP/datasets/default.npy" "$tmp/outside.npy"
err=$(cd "$tmp/les" && "$QSCOPE" play --headless hostile_read.lesson 2>&1); rc=$?
[ $rc -eq 2 ] || fail "a lesson reading outside its folder: exit $rc, want 2: $err"
has "$err" "'load' reads ../outside.npy, outside the lesson's folder"
ln -s ../outside.npy "$tmp/les/inlink.npy"
printf 'title: via a link\n\n> load inlink.npy\n' >"$tmp/les/link.lesson"
err=$(cd "$tmp/les" && "$QSCOPE" lesson check link.lesson 2>&1); rc=$?
[ $rc -eq 2 ] || fail "a link out of the lesson's folder is outside: exit $rc"
cp "$tmp/outside.npy" "$tmp/les/own.npy"
printf 'title: own data\n\n> load own.npy\n> stats\n> load {datasets}/default.npy\n' \
    >"$tmp/les/own.lesson"
out=$(cd "$tmp/les" && "$QSCOPE" play --headless own.lesson 2>&1) ||
    fail "reading its own folder and the datasets is allowed: $out"

# a declared lesson: named, asked, refused headless without --allow-files
err=$("$QSCOPE" play --headless "$FX/declared.lesson" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "declared lesson headless without --allow-files: exit $rc"
has "$err" "line 6: writes out.npy"
[ ! -e out.npy ] || fail "declared lesson wrote without permission"
out=$("$QSCOPE" lesson check "$FX/declared.lesson") || fail "check declared: exit $?"
has "$out" "uses files (the player asks first): line 6 writes out.npy"
out=$("$QSCOPE" play --headless --allow-files "$FX/declared.lesson" 2>&1) ||
    fail "declared lesson with --allow-files: $out"
[ -f out.npy ] || fail "--allow-files: out.npy not written"
rm -f out.npy out.npy.json
# a PATH option's value (lab gpt's text=, corpus=) is a file too: outside the lesson's folder
# and the datasets it needs 'files: read' (the check once skipped every key=value word)
printf 'title: Peek\n\n## a\nText.\n> lab gpt eval text=/etc/hostname chars=8\n' \
    >"$tmp/peek.lesson"
err=$("$QSCOPE" lesson check "$tmp/peek.lesson" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "text=/etc/hostname: exit $rc, want 2"
grep -qF "'lab' reads /etc/hostname, outside the lesson's folder" <<<"$err" || fail "$err"
printf 'title: Held\n\n## a\nText.\n> lab gpt eval text={datasets}/gpt-kjv-heldout.txt chars=64\n' \
    >"$tmp/held.lesson"
"$QSCOPE" lesson check "$tmp/held.lesson" >/dev/null 2>&1 || fail "text= under the datasets refused"
if command -v tmux >/dev/null; then
    sock="$tmp/tmux.sock"
    tmux -S "$sock" new-session -d -s t -x 120 -y 30 -c "$tmp/run" \
        "NO_COLOR=1 '$QSCOPE' play '$FX/declared.lesson'; echo EXIT=\$?; sleep 30"
    waitfor() {
        local d=$((SECONDS + 10))
        while [ $SECONDS -lt $d ]; do
            tmux -S "$sock" capture-pane -p -t t | grep -qF -- "$1" && return 0
            sleep 0.1
        done
        tmux -S "$sock" capture-pane -p -t t; tmux -S "$sock" kill-server; fail "no '$1'"
    }
    waitfor "Allow it? [y/N]"
    tmux -S "$sock" capture-pane -p -t t | grep -qF "line 6: writes out.npy" ||
        fail "the question does not name the file"
    tmux -S "$sock" send-keys -t t n Enter
    waitfor "EXIT=2"
    tmux -S "$sock" kill-server
    [ ! -e out.npy ] || fail "answered no, but out.npy was written"
fi
echo ok
