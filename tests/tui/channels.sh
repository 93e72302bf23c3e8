#!/usr/bin/env bash
# channels.sh — the Data screen's per-channel view (v): each channel's min and max in 9
# columns keep their exponent (small weights are 1e-5: "-1.23e-05", not "-1.23457e").
. "$(dirname "$0")/lib.bash"
printf '%s\n' '-1.234567e-05,2.5e-06,3e-06' '4.567891e-05,-7.75e-06,1e-06' > "$TUI_TMP/small.csv"
tui_start 80 24 LC_ALL=C.UTF-8
wait_for "1 Data"
keys :
type_text "load $TUI_TMP/small.csv"
keys Enter
wait_for "text [2, 3]"
keys v
wait_for "2 channels (axis 0)"
wait_for "   0 -1.23e-05     3e-06 "
wait_for "   1 -7.75e-06 4.568e-05 "
keys q
wait_for "EXITED rc=0"
check_tty_restored
echo "channels: ok"
