#!/usr/bin/env bash
# numline.sh — issue 13 item 5: the Derive screen follows a seed example's own values with
# ←/→, keeps the step when a value is typed with v, and from the zero-point step on draws the
# number line: the float range (min, max, clip range, x) above the integer grid (qmin, zero
# point, qmax, q). At 120x40 the steps done so far stay visible with their numbers.
. "$(dirname "$0")/lib.bash"
for size in "80 24" "120 40"; do
    set -- $size
    tui_start "$1" "$2" LC_ALL=C.UTF-8
    wait_for "1 Data"
    keys 2
    wait_for "observed range"
    keys e e
    wait_for "seed example 2: values -20 1000"
    keys Right                              # the example's element 0, not the tensor's
    wait_for "following x = -20 (element 0)"
    keys Right
    wait_for "following x = 1000 (element 1)"
    screen_text | grep -qF "seed example 2: values -20 1000" || fail "→ left the seed example"
    screen_text | grep -qF "qmin 0" && fail "the number line before the scale is known"
    keys n n n n                            # to step 5: the zero point
    wait_for "5/12. zero point"
    wait_for "x = max 1000"                 # x on the float line, at the range's end
    wait_for "q 255"                        # its code on the integer grid
    wait_for "zp 5"
    wait_for "qmin 0"
    wait_for "x = 1000 ↦ q = 255 ↦ x̂ = 1000"
    keys v
    wait_for "value to follow"
    type_text "500"
    keys Enter
    wait_for "following x = 500"
    wait_for "q 130"                        # 500 / 4 + 5
    screen_text | grep -qF "5/12. zero point" || fail "v went back to the first step"
    keys n n n n n
    wait_for "10/12. dequantize"
    if [ "$1" -ge 100 ]; then               # the steps done so far, with their numbers
        wait_for "1. observed range"
        wait_for "= (1000 - (-20)) / (255 - 0)"
        wait_for "= 0 - round((-20) / 4) = 0 - (-5)"
    fi
    keys q
    wait_for "EXITED rc=0"
    check_tty_restored
    tui_stop
done
echo "numline: ok"
