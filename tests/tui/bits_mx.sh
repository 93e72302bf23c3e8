#!/usr/bin/env bash
# bits_mx.sh — issue 17: the Bits screen shows FP6 E3M2 / E2M3, FP4 E2M1 and the E8M0 scale as
# rows (values from numfmt: 7.32 is 7 in E3M2, 7.5 in E2M3, saturates to 6 in E2M1, rounds
# to 2^3 = 8 in E8M0); at 80x24 the rows that do not fit are named on a line with the f key,
# the table scrolls to the cursor and the subnormal explanation keeps its rows; f cycles the
# row sets (all / classic / MX); E8M0's row explains its exponent-only layout and NaN;
# `bits V FORMAT` moves the cursor to that format.
. "$(dirname "$0")/lib.bash"
row() { screen_text | grep -E "^.$1 " | head -1; }
for run in "80 24 NO_COLOR=1" "120 40 NO_COLOR="; do
    set -- $run
    tui_start "$1" "$2" LC_ALL=C.UTF-8 "$3"
    wait_for "1 Data"
    keys 3
    wait_for "0x40EA3D71"
    wait_for "fp6-e3m2  0 101 11"               # 7.32 -> 7 = 1.11b × 2^2 in E3M2
    row fp6-e3m2 | grep -qE ' 7 +-0\.32 +normal' || fail "fp6-e3m2 row: $(row fp6-e3m2)"
    if [ "$1" = 80 ]; then
        # the rows past the window are named, with the key for the smaller sets
        wait_for "↓ 3 more: fp6-e2m3 fp4-e2m1 e8m0 · f: classic rows"
        # walk down to e8m0: the table scrolls, fp32 leaves the top
        for _ in 1 2 3 4 5 6 7 8 9 10 11; do keys Down; done
        wait_for "▶e8m0        10000010"
        wait_for "↑ 3 above"
        screen_text | grep -qE '^.fp32 ' && fail "the table did not scroll to the cursor"
    else
        wait_for "rows: all formats · f: classic rows"
        row fp6-e2m3 | grep -qE ' 7\.5 +\+0\.18 +normal' || fail "fp6-e2m3 row: $(row fp6-e2m3)"
        row fp4-e2m1 | grep -qE '0 11 1 .* 6 +-1\.32 +normal' || fail "fp4-e2m1 row: $(row fp4-e2m1)"
        keys Up                                 # from fp32 up past the scheme row to e8m0
        keys Up
        wait_for "▶e8m0"
    fi
    row e8m0 | grep -qE '10000010 .* 8 +\+0\.68 +normal' || fail "e8m0 row: $(row e8m0)"
    wait_for "exponent 10000010 = 130 − 127 = 3 · no sign and no mantissa: the value is 2^3"
    # e8m0 has no zero: 0 is stored as the smallest scale, 2^-127
    keys i
    wait_for "x = 0"
    wait_for "e8m0 has no zero and no subnormals: 0 is stored as its smallest scale"
    keys Up                                     # fp4-e2m1: the saturation and, if room, its grid
    wait_for "▶fp4-e2m1"
    keys v
    wait_for "value or 0xHEX"
    type_text "100"
    keys Enter
    wait_for "no ∞, no NaN: every code is a number; beyond ±6 values saturate to ±6"
    if [ "$1" = 120 ]; then
        wait_for "(bits all fp4-e2m1 lists all 16): 0 0.5 1 1.5 2 3 4 [6]"
    fi
    # the subnormal explanation still has its rows with the longer table (fp32 of 1e-40)
    keys f                                      # classic: fp4 is not there, back to fp32
    wait_for "Bits: classic"
    wait_for "▶fp32"
    screen_text | grep -qE '^.fp6-e3m2 ' && fail "classic rows still show fp6-e3m2"
    keys f
    wait_for "Bits: MX"
    wait_for "fp4-e2m1  0 11 1"
    screen_text | grep -qE '^.fp16 ' && fail "the MX rows show fp16"
    keys f
    wait_for "Bits: all formats"
    keys v
    wait_for "value or 0xHEX"
    type_text "1e-40"
    keys Enter
    wait_for "1 − 127 = -126, with no implicit 1"
    wait_for "ULP 1.4013e-45"
    wait_for "max 3.40282e+38"
    # `bits V FORMAT` on the command line puts the cursor on that format's row (lesson 25's
    # E2M1 saturation), from the classic rows too
    keys f
    wait_for "Bits: classic"
    keys :
    type_text "bits 7.9 fp4-e2m1"
    keys Enter
    wait_for "▶fp4-e2m1  0 11 1"
    wait_for "fp4-e2m1 — OCP MX FP4 E2M1"
    wait_for "beyond ±6 values saturate to ±6"
    keys q
    wait_for "EXITED rc=0"
    check_tty_restored
    tui_stop
done
echo "bits_mx: ok"
