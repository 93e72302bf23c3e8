#!/usr/bin/env bash
# colors.sh — colours when the terminal has them, none with NO_COLOR (monochrome attributes
# instead): the pane's escape codes are compared with capture-pane -e.
. "$(dirname "$0")/lib.bash"
has_fg_colour() {
    # an SGR sequence setting a foreground/background colour (30-37, 40-47, 38;5;N, 90-97)
    tmux -L "$TUI_SOCK" capture-pane -p -e -t qs | grep -qE $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7]|9[0-7]|38;5;[0-9]+)(;[0-9;]*)?m'
}
tui_start 80 24 NO_COLOR= TERM=screen-256color
wait_for "1 Data"
wait_for "histogram"
has_fg_colour || fail "no colours with NO_COLOR empty on a colour terminal"
keys q
wait_for "EXITED rc=0"
tui_stop
tui_start 80 24 NO_COLOR=1 TERM=screen-256color
wait_for "1 Data"
wait_for "histogram"
has_fg_colour && fail "colours despite NO_COLOR=1"
keys q
wait_for "EXITED rc=0"
check_tty_restored
echo "colors: ok"
