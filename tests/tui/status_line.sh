#!/usr/bin/env bash
# status_line.sh — the status line of a ':' command: a completed command ends in a space
# (Tab adds one) and its status said 'synth laplace : ok'; while a slow command runs, the
# gauge and the status both said '(Esc cancels)', so at 80 columns the command's own text
# was cut to make room for the second one. Esc still cancels.
. "$(dirname "$0")/lib.bash"
for size in "80 24" "120 40"; do
    tui_start $size
    wait_for "1 Data"
    keys :
    type_text "synth lap"
    keys Tab
    wait_for ":synth laplace"
    keys Enter
    wait_for "laplace(loc=0,b=1)  synth [100000]"
    wait_for ": ok"
    screen_text | grep -qF "synth laplace: ok" ||
        fail "the status does not read 'synth laplace: ok': $(screen_text | grep -F ': ok')"
    keys :
    type_text "lab train epochs=1000 hidden=256"
    keys Enter
    wait_for "% (Esc cancels)"
    line=$(screen_text | grep -F "% (Esc cancels)")
    [ "$(grep -o "Esc cancels" <<<"$line" | wc -l)" -eq 1 ] ||
        fail "the status line says '(Esc cancels)' twice: $line"
    keys Escape
    wait_for "lab train epochs=1000 hidden=256: cancelled"
    keys q
    wait_for "EXITED rc=0"
    check_tty_restored
    tui_stop
done
echo "status_line: ok"
