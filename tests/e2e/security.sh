#!/usr/bin/env bash
# security.sh — issue 19 end to end, on the hostile fixtures of tests/fixtures/sec (made by
# make_sec_fixtures.py beside them): the lesson sandbox (nothing written, nothing read
# outside, `lesson check` refuses, a declared lesson asks first), `save` (no replace without
# --force, no write through a link, a first line that stops any shell), escapes from file
# names and metadata never reaching the terminal raw (checked byte by byte), FIFOs and
# devices refused, a stride-0 torch view refused, an .npy/.json pair and long names exported.
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

# ---- escapes from files ----------------------------------------------------------------------
for f in esc_names.safetensors esc_names.gguf torch_esc.pt; do
    "$QSCOPE" -c "load $FX/$f; tensors; report" >"$tmp/o.txt" 2>&1
    clean_bytes "$tmp/o.txt" "$f"
    has "$(cat "$tmp/o.txt")" '\x1b'
    "$QSCOPE" -c "load $FX/$f; tensors" --json >"$tmp/o.json" 2>&1
    # JSON escapes what JSON requires: every C0 control (DEL and C1 are legal in JSON text)
    LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f]' "$tmp/o.json" && fail "$f --json: raw C0 bytes"
    has "$(cat "$tmp/o.json")" '\u001B' 
done
out=$("$QSCOPE" -c "load $FX/esc_names.safetensors; tensors")
has "$out" 'row\nfake.weight'
[ "$(grep -c 'fake.weight' <<<"$out")" -eq 1 ] || fail "a newline in a name faked a row"
has "$out" 'clip\x1b]52;c;'
"$QSCOPE" -c "load $FX/esc_names.safetensors; use \"nothere$(printf '\033')[2J\"" \
    >"$tmp/e.txt" 2>&1
clean_bytes "$tmp/e.txt" "an error message"
"$QSCOPE" play --headless "$FX/esc_text.lesson" >"$tmp/l.txt" 2>&1 || fail "esc_text play"
clean_bytes "$tmp/l.txt" "the lesson player"
has "$(cat "$tmp/l.txt")" 'Narration \x1b[2J'
QSCOPE_LESSON_PATH="$FX" "$QSCOPE" lesson list >"$tmp/ll.txt" 2>&1
clean_bytes "$tmp/ll.txt" "lesson list"
# a file name that is not UTF-8: the name is kept (as \xe9) and exports load back
cp "$QSCOPE_TOP/datasets/default.npy" "$tmp/run/$(printf 'caf\351').npy"
out=$("$QSCOPE" -c "load $(printf 'caf\351').npy; tensors" --json) || fail "latin-1 load"
has "$out" '"name":"caf\\xe9"'
out=$("$QSCOPE" -c "load $(printf 'caf\351').npy; export l1.safetensors; load l1.safetensors; tensors" \
    --json) || fail "latin-1 export: $out"
has "$out" '"name":"caf\\xe9"'

# ---- readers refuse FIFOs and devices; bounded loads ------------------------------------------
mkfifo fifo
for c in "load fifo" "source fifo" "source /dev/zero" "load /dev/zero"; do
    out=$(timeout 10 "$QSCOPE" -c "$c" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "$c: exit $rc (124 = hung), want 2: $out"
    has "$out" "not a regular file"
done
printf 'title: f\n' >fifo.lesson.txt
out=$(timeout 10 "$QSCOPE" lesson check "$tmp/run/fifo" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "lesson check FIFO: exit $rc"
out=$(timeout 20 "$QSCOPE" -c "load $FX/torch_stride0.pt; stats" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "stride-0 view: exit $rc: $out"
has "$out" "views 1 stored elements as 1073741824"

# ---- export: the .npy and its .json together or not at all; long names ---------------------------
printf 'old\n' >pair.npy
mkdir pair.npy.json
out=$("$QSCOPE" -c "values 1 2 3; export pair.npy --force" 2>&1)
[ "$(cat pair.npy)" = old ] || fail "the .npy was replaced though its .json failed: $out"
rmdir pair.npy.json
python3 - "$tmp/run/long.safetensors" <<'PY'
import json, struct, sys
a, b = "L" * 5000 + "a", "L" * 5000 + "b"
h = {a: {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
     b: {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}
hb = json.dumps(h).encode(); hb += b" " * ((-len(hb)) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(hb)) + hb + struct.pack("<4f", 1, 2, 3, 4))
PY
out=$("$QSCOPE" -c "load long.safetensors; export --all longq.safetensors" 2>&1) ||
    fail "names over 4 kB: $out"
lacks "$out" "would both be named"
echo ok
