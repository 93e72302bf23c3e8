#!/usr/bin/env bash
# lesson_auto.sh — classroom auto-play: the Lesson screen advances through the steps by
# itself at the lesson's `delay:` (A toggles it), running each step's commands; no key is
# pressed between steps.
. "$(dirname "$0")/lib.bash"
cat > "$TUI_TMP/auto.lesson" <<'LESSON'
title: Auto-play test
delay: 1s

## First
The range [-20, 1000] in uint8.
> values -20 1000
> scheme uint8 asym
---
## Second
Its zero point.
> qparams
expect zero_point == 5
---
## Third
AUTOPLAY-REACHED-THE-END
LESSON
tui_start 120 40 LC_ALL=C.UTF-8
wait_for "1 Data"
keys 6
wait_for "L opens"
keys L
wait_for "lesson (name or number)"
type_text "$TUI_TMP/auto.lesson"
keys Enter
wait_for "n / Enter starts step 1"    # nothing runs before the learner starts it
keys n
wait_for "step 1/3"
keys A
wait_for "auto-play on"
wait_for "step 2/3"
wait_for "step 3/3"
wait_for "AUTOPLAY-REACHED-THE-END"
keys q
wait_for "EXITED rc=0"
check_tty_restored
echo ok
