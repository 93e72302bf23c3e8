#!/usr/bin/env bash
# scheme_keys.sh — scheme keys send deltas (issue 14 item 1, issue 13 item 8): after
# `scheme int7 sym convention=onnx round=away`, + gives int8 with the convention and rounding
# kept (it respelled the scheme as `int8 sym`: torch, even); s toggles symmetric / affine only
# (int8 asym → int8 sym → int8 asym; it went on to uint8); the ':' line runs several commands
# separated by ';' as the REPL does; convention=trt shows `narrow yes` beside qmin -127.
. "$(dirname "$0")/lib.bash"
for size in "80 24" "120 40"; do
    tui_start $size
    wait_for "1 Data"
    keys :
    type_text "values -3 -1 0.5 2 4"
    keys Enter
    wait_for "synth [5]"
    keys :
    type_text "scheme int7 sym convention=onnx round=away"
    keys Enter
    wait_for "codes -64..63"                    # ONNX Runtime narrows int8 only (int7: full)
    keys +
    wait_for "scheme bits=8: ok"
    wait_for "codes -127..127"                  # onnx symmetric: the narrow int8 range
    keys o
    wait_for "int8 sym onnx away"
    screen_text | grep -qE "convention +onnx" || fail "+ lost the convention"
    screen_text | grep -qE "round +away" || fail "+ lost the rounding"
    keys Escape
    keys -
    wait_for "scheme bits=7: ok"
    wait_for "codes -64..63"
    # s: symmetric / affine only
    keys :
    type_text "scheme int8"
    keys Enter
    wait_for "scheme int8: ok"
    wait_for "codes -128..127"
    keys s
    wait_for "scheme sym: ok"
    wait_for "zero point 0  clip [-4, 4]  codes -128..127"
    keys s
    wait_for "scheme asym: ok"
    wait_for "clip [-3, 4]  codes -128..127"
    screen_text | grep -q "codes 0..255" && fail "s turned the scheme unsigned"
    # trt: the narrow range is said as such
    keys :
    type_text "scheme int8 convention=trt"
    keys Enter
    wait_for "convention=trt: ok"
    keys o
    wait_for "int8 sym trt"
    screen_text | grep -qE "narrow +yes" || fail "trt's -127..127 range not shown as narrow"
    screen_text | grep -qE "qmin +-127" || fail "qmin -127 not shown"
    keys Escape
    # ';' separates commands on the ':' line; they stop at the first error
    keys :
    type_text "values 1 2 3 5 8 13; scheme int4 sym; calib mse"
    keys Enter
    wait_for "calib mse: ok"
    wait_for "synth [6]"
    wait_for "codes -8..7"
    keys :
    type_text "scheme int6; scheme bogus; scheme int3"
    keys Enter
    wait_for "unknown word 'bogus'"
    wait_for "codes -32..31"
    keys q
    wait_for "EXITED rc=0"
    tui_stop
done
echo "scheme_keys: ok"
