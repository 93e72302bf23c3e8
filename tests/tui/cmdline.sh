#!/usr/bin/env bash
# cmdline.sh — the ':' command line: readline editing and Tab completion inside ncurses, a
# command runs on the session and its result shows; a typo gets a suggestion; Esc cancels;
# the line lands in the REPL's history file and comes back after a restart; Tab completes
# with the REPL's completer, and a second Tab counts and lists the matches.
. "$(dirname "$0")/lib.bash"
tui_start 80 24
wait_for "1 Data"
keys 3
wait_for "fp8-e4m3"
keys :
type_text "valu"
keys Tab
wait_for ":values"
type_text "-20 1000"
wait_for ":values -20 1000"
keys Enter
wait_for "qscope · values"
wait_for "values -20 1000: ok"
keys :
type_text "stast"
keys Enter
wait_for "did you mean stats"
keys :
type_text "help"
keys Escape
wait_for "cancelled"
keys :
type_text "help"
keys Enter
wait_for "output ("
keys Escape
wait_gone "output ("
keys q
wait_for "EXITED rc=0"
check_tty_restored
grep -qx "values -20 1000" "$TUI_TMP/history" || fail "history file lacks the command: $(cat "$TUI_TMP/history" 2>&1)"
# the history survives a restart: Up recalls the last line of the previous session
tui_stop
tui_start 80 24
wait_for "1 Data"
keys :
keys Up
wait_for ":help"
keys Up Up
wait_for ":values -20 1000"
keys Escape
# Tab completes as the REPL does (qs_complete): lesson names after 'lesson play', keywords
# after a command (a keyword already on the line is not offered again)
keys :
type_text "lesson play 04-sy"
keys Tab
wait_for ":lesson play 04-symmetric"
keys Escape
keys :
type_text "calib manu"
keys Tab
wait_for ":calib manual"
type_text "am"
wait_for ":calib manual am"
keys Tab
wait_for ":calib manual amax="
keys Escape
# a second Tab lists the matches on the status line, led by their count (the list of
# scheme keywords is longer than the line)
keys :
type_text "scheme "
keys Tab Tab
wait_for " matches: asym axis="
keys Escape
keys q
wait_for "EXITED rc=0"
echo "cmdline: ok"
