#!/usr/bin/env bash
# screens.sh — every screen at 80x24 (ASCII locale) and 120x40 (UTF-8): keys 1-6, Tab and
# Shift-Tab, mouse clicks on the tabs, the help screen, then q quits and the shell gets its terminal back.
. "$(dirname "$0")/lib.bash"

run_at() {
    local cols=$1 rows=$2 lang=$3
    tui_start "$cols" "$rows" "LC_ALL=$lang"
    wait_for "1 Data"
    wait_for "histogram"
    wait_for "default"
    keys 2; wait_for "observed range"
    keys 3; wait_for "fp8-e4m3"
    keys 4; wait_for "MSE"
    keys 5; wait_for "PTQ vs QAT lab"
    keys 6; wait_for "L opens one"          # the Lessons screen's title (the tab bar always
                                            # says "6 Lesson")
    keys Tab; wait_gone "L opens one"; wait_for "histogram"
    keys BTab; wait_for "L opens"
    keys 1; wait_for "histogram"
    click 21 0; wait_for "fp8-e4m3"          # a click on the "3 Bits" tab
    click 3 0; wait_for "histogram"          # and on "1 Data"
    keys '?'; wait_for "Keys on the Data screen"; wait_for "log scale"
    keys x; wait_gone "Keys on the Data screen"
    keys q
    wait_for "EXITED rc=0"
    check_tty_restored
    tui_stop
}

run_at 80 24 C
run_at 120 40 C.UTF-8
echo "screens: ok"
