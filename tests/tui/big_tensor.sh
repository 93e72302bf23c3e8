#!/usr/bin/env bash
# big_tensor.sh — `qscope big.safetensors` with an 80 MB tensor (above the 64 MB converted at
# load time) opens the TUI on that tensor (issue 14 item 1: the TUI's own queries skipped the
# conversion qs_cmd_run_line does, and the Data screen said "No tensor loaded"); `:load` of
# the same file shows it too.
. "$(dirname "$0")/lib.bash"
big="$TUI_TMP/big.safetensors"
# [5120, 4096] float32 = 80 MiB; values -1.5, -0.5, 0.5, 1.5 repeated (so min -1.5, max 1.5)
python3 - "$big" <<'PY' || fail "could not write the fixture"
import json, struct, sys, array
rows, cols = 5120, 4096
hdr = json.dumps({"big.weight": {"dtype": "F32", "shape": [rows, cols],
                                 "data_offsets": [0, rows * cols * 4]}}).encode()
hdr += b" " * (-len(hdr) % 8)
row = array.array("f", [-1.5, -0.5, 0.5, 1.5] * (cols // 4)).tobytes()
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(hdr)) + hdr)
    for _ in range(rows):
        f.write(row)
PY
for size in "80 24" "120 40"; do
    TUI_ARGS="$big" tui_start $size
    wait_for "big.weight"
    wait_for "[5120, 4096]"
    wait_for "min -1.5  max 1.5"
    screen_text | grep -q "No tensor loaded" && fail "the TUI shows no tensor"
    keys q
    wait_for "EXITED rc=0"
    tui_stop
done
tui_start 80 24
wait_for "1 Data"
keys :
type_text "load $big"
keys Enter
wait_for "min -1.5  max 1.5"
keys q
wait_for "EXITED rc=0"
echo "big_tensor: ok"
