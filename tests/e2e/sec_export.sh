#!/usr/bin/env bash
# sec_export.sh — issue 19 on the hostile fixtures of tests/fixtures/sec (made by
# make_sec_fixtures.py beside them): export: the .npy and its .json together or not at all; names over 4 kB export.
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

# ---- export of a ggml type: what the file cannot hold is reported ---------------------------
# a block d past fp16 (Q4_0 of 1e6) is stored as inf; Q6_K of 1e30 overflows the reference
# quantizer's fp32 sums and is stored as 0: both say so (nonfinite / overflow + warning)
v32="1e6 -2e6 $(printf '3 %.0s' {1..30})"     # 32 values: one Q4_0 block
out=$("$QSCOPE" -c "values $v32; export inf4.gguf --type q4_0" --json) || fail "q4_0: $out"
has "$out" '"nonfinite":32'
has "$out" '"warning":"32 finite values are stored as inf or nan'
v256="1e30 -2e30 $(printf '3 %.0s' {1..254})"  # 256 values: one Q6_K block
out=$("$QSCOPE" -c "values $v256; export ov6.gguf --type q6_k" --json) || fail "q6_k: $out"
has "$out" '"overflow":16'     # the first sub-block of 16 only
has "$out" "whose scale overflows fp32"
out=$("$QSCOPE" -c "values $(printf '1 %.0s' {1..256}); export ok6.gguf --type q6_k" --json) ||
    fail "q6_k: $out"
lacks "$out" '"warning"'
lacks "$out" '"overflow"'
echo ok
