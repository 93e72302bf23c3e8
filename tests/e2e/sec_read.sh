#!/usr/bin/env bash
# sec_read.sh — issue 19 on the hostile fixtures of tests/fixtures/sec (made by
# make_sec_fixtures.py beside them): readers refuse FIFOs and devices (load, source, lesson check) instead of hanging; a stride-0 torch view is refused.
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
echo ok
