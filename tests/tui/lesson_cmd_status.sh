#!/usr/bin/env bash
# lesson_cmd_status.sh — a ':' command run from the Lesson screen says it ran: a slow one
# (load runs in the background) left "running 'load …' … (Esc cancels)" on the status line
# for good, on the lesson list and with a lesson open, as if it never finished.
. "$(dirname "$0")/lib.bash"
for size in "80 24" "100 30"; do
    tui_start $size
    wait_for "1 Data"
    keys 6
    wait_for "Enter opens"
    keys :
    type_text "load datasets/default.npy"
    keys Enter
    wait_for "load datasets/default.npy: ok"
    screen_text | grep -qF "running 'load" && fail "the status still says the load is running"
    keys Enter                          # open the lesson marked (01-why-quantize)
    wait_for "step 0/"
    keys :
    type_text "synth normal n=5000"
    keys Enter
    wait_for "synth normal n=5000: ok"
    keys :
    type_text "load datasets/default.npy"
    keys Enter
    wait_for "load datasets/default.npy: ok"
    keys q
    wait_for "EXITED rc=0"
    check_tty_restored
    tui_stop
done
echo "lesson_cmd_status: ok"
