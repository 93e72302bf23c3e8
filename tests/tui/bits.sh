#!/usr/bin/env bash
# bits.sh — the Bits screen: 7.32 in FP32 is 0x40EA3D71; space flips the sign bit under the
# cursor and every format shows -7.32; the exponent's low bit halves the value; a typed hex
# pattern is read in the cursor row's format; stored values show the digits that name them
# (fewer for a subnormal, not a cut exponent), and at 60 columns the stored value is kept.
. "$(dirname "$0")/lib.bash"
tui_start 120 40
wait_for "1 Data"
keys 3
wait_for "0x40EA3D71"
wait_for "0x4752"
keys Space
wait_for "0xC0EA3D71"
wait_for "x = -7.32000017166138"
wait_for "0xC752"
keys Space
wait_for "x = 7.32000017166138"
for _ in 1 2 3 4 5 6 7 8; do keys Right; done
keys Space
wait_for "0x406A3D71"
wait_for "x = 3.66000008583069"
keys Down
keys v
wait_for "value or 0xHEX"
type_text "0x3C00"
keys Enter
wait_for "0x3F800000"
wait_for "x = 1"
# the stored column prints the digits that name the value in its format: a subnormal keeps
# its exponent (it used to run into the error column: 9.9999461e-4-5.39e-46)
keys i                                  # i cycles the specials: 7.32, 0, -0, 1e-40, max, ...
wait_for "x = 7.32"
keys i
wait_for "x = 0"
keys i
wait_for "x = -0"
keys i
wait_for "x = 1e-40"
wait_for "0x000116C2 9.9999e-41 "
keys i
wait_for "x = 3.40282346638529e+38"
wait_for "0x7F7FFFFF 3.4028235e+38 "
keys q
wait_for "EXITED rc=0"
check_tty_restored
tui_stop
# from 60 to 71 columns one column fits after the bits: the stored value (7.32 is stored as
# 7.3200002: what lesson 02 is about), its error and the hex pattern being in the row's
# details when the terminal is taller; at 72 columns the error joins it
tui_start 60 16
wait_for "1 Data"
keys 3
wait_for "11010100011110101110001 7.3200002"
wait_for " fp16      0 10001 1101010010                 7.3203"
keys q
wait_for "EXITED rc=0"
tui_stop
tui_start 72 24
wait_for "1 Data"
keys 3
wait_for "11010100011110101110001 7.3200002 +1.72e-07"
keys q
wait_for "EXITED rc=0"
echo "bits: ok"
