#!/usr/bin/env bash
# sec_escape.sh — issue 19 on the hostile fixtures of tests/fixtures/sec (made by
# make_sec_fixtures.py beside them): escapes from file names, metadata, lesson text and error messages never reach the terminal raw (byte by byte); a name that is not UTF-8 loads and exports back.
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

# ---- escapes from files ----------------------------------------------------------------------
for f in esc_names.safetensors esc_names.gguf torch_esc.pt; do
    "$QSCOPE" -c "load $FX/$f; tensors; report" >"$tmp/o.txt" 2>&1
    clean_bytes "$tmp/o.txt" "$f"
    has "$(cat "$tmp/o.txt")" '\x1b'
    "$QSCOPE" -c "load $FX/$f; tensors" --json >"$tmp/o.json" 2>&1
    # JSON escapes every C0 control, and qscope's JSON also DEL and the C1 controls
    LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$tmp/o.json" &&
        fail "$f --json: raw control bytes"
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
# DEL and a C1 CSI in a name: escaped as \u007f and \u009b by --json and `set json on`
cp "$QSCOPE_TOP/datasets/default.npy" "$tmp/run/$(printf 'd\177l\302\2332J').npy"
for how in "--json" "set"; do
    if [ "$how" = set ]; then
        printf 'set json on\nload %s\ntensors\n' "$(printf 'd\177l\302\2332J').npy" |
            "$QSCOPE" >"$tmp/d.json" 2>&1
    else
        "$QSCOPE" -c "load $(printf 'd\177l\302\2332J').npy; tensors" --json >"$tmp/d.json" 2>&1
    fi
    LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$tmp/d.json" &&
        fail "$how: raw DEL/C1 in JSON: $(od -c "$tmp/d.json" | head -5)"
    has "$(cat "$tmp/d.json")" '"name":"d\u007fl\u009b2J"'
done
# a file name that is not UTF-8: the name is kept (as \xe9) and exports load back
cp "$QSCOPE_TOP/datasets/default.npy" "$tmp/run/$(printf 'caf\351').npy"
out=$("$QSCOPE" -c "load $(printf 'caf\351').npy; tensors" --json) || fail "latin-1 load"
has "$out" '"name":"caf\\xe9"'
out=$("$QSCOPE" -c "load $(printf 'caf\351').npy; export l1.safetensors; load l1.safetensors; tensors" \
    --json) || fail "latin-1 export: $out"
has "$out" '"name":"caf\\xe9"'
echo ok
