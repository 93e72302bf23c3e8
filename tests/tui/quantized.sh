#!/usr/bin/env bash
# quantized.sh — already-quantized weights are recognised (issue 13 item 2): a tensor of uint8
# codes dequantized (tests/fixtures/dequantized.safetensors fc.weight: 232 distinct values on
# a grid of step 0.0078125) says so on the Data screen and beside the Error screen's SQNR
# table, whose 8-bit column would otherwise show an unexplained 150 dB (or, exact, "nan"); an
# ordinary float tensor of the same file does not.
. "$(dirname "$0")/lib.bash"
fx="$QSCOPE_TOP/tests/fixtures/dequantized.safetensors"
for size in "80 24" "120 40"; do
    TUI_ARGS="$fx" tui_start $size
    wait_for "fc.weight  F32 [64, 64]"
    wait_for "already quantized: 232 distinct values on a grid of step 0.0078125"
    keys 4
    wait_for "granularity  per-tensor"
    wait_for " (exact)"                          # the 8-bit grid reproduces every value
    keys x
    wait_for "compare bits=2..8: ok"
    wait_for "already quantized (see Data)"
    screen_text | grep -E "^ minmax " | grep -q "exact" || fail "8-bit minmax not shown as exact"
    screen_text | grep -qw "nan" && fail "an exact result is shown as nan"
    keys 1
    keys t
    wait_for "fc2.weight  F32 [64, 64]"
    screen_text | grep -q "already quantized" && fail "fc2.weight (ordinary floats) flagged"
    keys q
    wait_for "EXITED rc=0"
    tui_stop
done
echo "quantized: ok"
