#!/usr/bin/env bash
# bits_explain.sh — issue 13 item 4: the Bits screen explains zero and subnormals (all-zero
# exponent field, exponent 1 - bias, no implicit 1), infinities and NaNs (all-ones exponent,
# the quiet bit, E4M3's lone NaN pattern); the error column is always a number and the class
# has its own column; a stored value shows its rounding (fp32 of 1e-05); the colour legend
# is there only with colours.
. "$(dirname "$0")/lib.bash"
value() {
    keys v
    wait_for "value or 0xHEX"
    type_text "$1"
    keys Enter
    wait_for "$1: 0x"                       # the status line names the FP32 pattern
}
row() { screen_text | grep -E "^.$1 " | head -1; }
for run in "80 24 NO_COLOR=1" "120 40 NO_COLOR="; do
    set -- $run
    tui_start "$1" "$2" LC_ALL=C.UTF-8 "$3"
    wait_for "1 Data"
    keys 3
    wait_for "0x40EA3D71"
    # 7.32 in FP16 with a flipped bit: the sign
    keys Down Space
    wait_for "x = -7.3203125"
    row fp16 | grep -qE ' 0 +normal' || fail "fp16 row: no numeric error and class: $(row fp16)"
    keys Up
    value 1e-40
    wait_for "exponent 00000000 is all zeros → subnormal"
    wait_for "subnormal: the exponent is 1 − bias"
    wait_for "1 − 127 = -126, with no implicit 1"
    row fp32 | grep -qE ' -5\.39e-46 +subnormal' || fail "fp32 row: $(row fp32)"
    row fp16 | grep -qE ' -1e-40 +zero' || fail "fp16 row: the error column holds a word: $(row fp16)"
    value 1e-05
    row fp32 | grep -qF "9.9999997e-06" || fail "fp32 of 1e-05 hides its rounding: $(row fp32)"
    value inf
    wait_for "exponent 11111111 is all ones and the mantissa is 0 → +∞"
    value nan
    wait_for "quiet bit: 1, a quiet NaN"
    keys Down Down Down Down                # the fp8-e4m3 row
    wait_for "fp8-e4m3 has no ∞"
    wait_for "(one per sign)"
    if [ "$3" = "NO_COLOR=1" ]; then
        screen_text | grep -qF "are coloured" && fail "a colour legend without colours"
    else
        wait_for "sign / exponent / mantissa are coloured"
    fi
    keys q
    wait_for "EXITED rc=0"
    check_tty_restored
    tui_stop
done
echo "bits_explain: ok"
