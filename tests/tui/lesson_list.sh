#!/usr/bin/env bash
# lesson_list.sh — the Lesson screen's list at 80x24 holds fewer rows than there are lessons:
# it says how many more are below, ↓ moves the choice past the last row shown and the list
# scrolls with it (lesson 25 comes into view, "↑ N more" says what is above), PgUp goes back
# up, and Enter opens the lesson chosen.
. "$(dirname "$0")/lib.bash"

tui_start 80 24 LC_ALL=C.UTF-8
wait_for "1 Data"
keys 6
wait_for "L opens"
wait_for "01-why-quantize"
wait_for "more (↓/PgDn"                 # the rows below the last one shown are announced
screen_text | grep -qF "25-mx-nvfp4" && fail "lesson 25 already in view at 80x24"
for _ in $(seq 24); do keys Down; done
wait_for "25-mx-nvfp4"
wait_for "▶25-mx-nvfp4"                 # the choice followed the keys
wait_for "↑ "                           # ... and rows above are announced
screen_text | grep -qF "01-why-quantize" && fail "the list did not scroll (lesson 01 still shown)"
keys PPage PPage PPage
wait_for "▶01-why-quantize"
keys NPage NPage NPage NPage
wait_for "▶25-mx-nvfp4"
keys Enter
wait_for "n / Enter starts step 1"      # the lesson chosen is open
wait_for "MXFP4"
keys q
wait_for "EXITED rc=0"
check_tty_restored
tui_stop
echo "lesson_list: ok"
