#!/usr/bin/env bash
# scheme_code.sh — the Bits screen's scheme row asks the library for a value's code (issue 14
# item 1): under convention=trt, 1.8416965 · 127/2.2170186 = 105.49999 rounds to 105, as
# `derive 1.8416965` says; the screen used to rebuild the quantizer with 1/scale and show 106.
# Flipping a code bit shows the library's dequantized value of the new code.
. "$(dirname "$0")/lib.bash"
for size in "80 24" "120 40"; do
    tui_start $size
    wait_for "1 Data"
    keys :
    type_text "values -2.2170186 2.2170186 1.8416965"
    keys Enter
    wait_for "[3]"
    keys :
    type_text "scheme int8 convention=trt"
    keys Enter
    wait_for "convention=trt: ok"
    keys 3
    wait_for "0x40EA3D71"
    keys v
    wait_for "value or 0xHEX"
    type_text "1.8416965"
    keys Enter
    wait_for "1.8416965: 0x3FEBBCB6"
    wait_for "code 105"
    screen_text | grep -q "code 106" && fail "the scheme row shows code 106 (derive says 105)"
    # the scheme row: flip the lowest code bit (105 = 0b01101001 → 104): 104 · 2.2170186/127
    keys Up
    wait_for "scheme    01101001"
    for _ in 1 2 3 4 5 6 7; do keys Right; done
    keys Space
    wait_for "code bit 0 flipped: code 104 = 1.81551"
    keys q
    wait_for "EXITED rc=0"
    tui_stop
done
echo "scheme_code: ok"
