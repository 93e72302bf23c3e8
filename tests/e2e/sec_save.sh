#!/usr/bin/env bash
# sec_save.sh — issue 19 on the hostile fixtures of tests/fixtures/sec (made by
# make_sec_fixtures.py beside them): save: no replace without --force, no write through a link, a first line that stops any shell, words quoted without shell meaning.
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

mkdir "$tmp/run" && cd "$tmp/run" || exit 1
printf 'precious\n' >victim_rc

# ---- save --------------------------------------------------------------------------------
evil="a b;\$(touch pwned)'q.npy"          # a file name full of shell meaning
cp "$QSCOPE_TOP/datasets/default.npy" "$tmp/run/$evil"
out=$("$QSCOPE" -c "load \"$evil\"; values 1 2; save victim_rc" 2>&1); rc=$?
has "$out" "save: victim_rc already exists (add --force to replace it)"
[ "$(cat victim_rc)" = precious ] || fail "save replaced a file without --force"
ln -s victim_rc link_rc
out=$("$QSCOPE" -c "values 1; save link_rc --force" 2>&1)
has "$out" "symbolic link"
[ "$(cat victim_rc)" = precious ] || fail "save wrote through a link"
ln -s nothere dangling
"$QSCOPE" -c "values 1; save dangling" >/dev/null 2>&1
[ ! -e nothere ] || fail "save created a dangling link's target"
"$QSCOPE" -c "load \"$evil\"; values 1 2; save s.qs" >/dev/null ||
    fail "save s.qs"
head -1 s.qs | grep -q '^;; qscope script' || fail "first line: $(head -1 s.qs)"
bash s.qs >/dev/null 2>&1; sh s.qs >/dev/null 2>&1; bash -c '. ./s.qs' >/dev/null 2>&1
[ ! -e pwned ] || fail "a shell ran a line of the saved script"
out=$("$QSCOPE" -c "source s.qs; tensors" --json) || fail "source s.qs: exit $?"
has "$out" "\"tensor\":\"a b;\$(touch pwned)'q\""
[ ! -e pwned ] || fail "replaying the script ran a shell"
echo ok
