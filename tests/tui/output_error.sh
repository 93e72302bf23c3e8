#!/usr/bin/env bash
# output_error.sh — `o` shows the output of the last ':' command, and when that command
# failed, its error: it used to show an older command's output (a `stats` table after a
# failed `quant bins=0`), as if it were the failed command's. Also after an unknown command
# and a slow command (run in the background) that fails; an error wider than the pane wraps;
# a cancelled command says so.
. "$(dirname "$0")/lib.bash"
for size in "80 24" "120 40"; do
    tui_start $size
    wait_for "1 Data"
    keys :
    type_text "stats"
    keys Enter
    wait_for "stats: ok"
    keys o
    wait_for "output ("
    wait_for "absmax"                   # the stats table
    keys o
    wait_gone "output ("
    keys :
    type_text "quant bins=0"
    keys Enter
    wait_for "bins=0: out of range"
    keys o
    wait_for "output ("
    screen_text | grep -F -A3 "output (" | grep -qF "quant: bins=0: out of range 1..4096" ||
        fail "the output pane does not show the failed command's error"
    screen_text | grep -F -A6 "output (" | grep -q "absmax" &&
        fail "the output pane shows the earlier stats table after a failed command"
    keys o
    wait_gone "output ("
    keys :
    type_text "stast"
    keys Enter
    wait_for "did you mean stats"
    keys o
    wait_for "output ("
    screen_text | grep -F -A3 "output (" | grep -qF "stast: unknown command" ||
        fail "the output pane does not show the unknown command's error"
    keys o
    wait_gone "output ("
    keys :
    type_text "lab ptq bits=9"              # lab is slow: a background job
    keys Enter
    wait_for "bits=9: out of range"
    keys o
    wait_for "output ("
    screen_text | grep -F -A3 "output (" | grep -qF "bits=9: out of range 2..8" ||
        fail "the output pane does not show the background command's error"
    keys o
    wait_gone "output ("
    # an error wider than the pane wraps: the pane cut it ("... [format=F] [embed…")
    keys :
    type_text "lab gpt eval formats=foo"
    keys Enter
    wait_for "unknown option 'formats'"
    keys o
    wait_for "output ("
    screen_text | grep -F -A4 "output (" | grep -qF "[chars=N])" ||
        fail "the output pane cuts a long error: $(screen_text | grep -F -A4 'output (')"
    keys o
    wait_gone "output ("
    # a cancelled command: o says so, not the older stats table (as if it were the sweep's)
    keys :
    type_text "stats"
    keys Enter
    wait_for "stats: ok"
    keys :
    type_text "lab sweep bits=2..8"
    keys Enter
    wait_for "running 'lab sweep"
    keys Escape
    wait_for "bits=2..8: cancelled"
    keys o
    wait_for "output ("
    screen_text | grep -F -A3 "output (" | grep -qE "cancelled +lab sweep bits=2..8" ||
        fail "the output pane does not say the sweep was cancelled"
    screen_text | grep -F -A6 "output (" | grep -q "absmax" &&
        fail "the output pane shows the earlier stats table after a cancelled command"
    keys q
    wait_for "EXITED rc=0"
    check_tty_restored
    tui_stop
done
echo "output_error: ok"
