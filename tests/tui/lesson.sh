#!/usr/bin/env bash
# lesson.sh — the Lesson screen: open a lesson by path at the L prompt, its command drives
# the live screen beside the narration (120 columns), Enter steps, a quiz takes an answer
# in place (a wrong one shows the whole hint, wrapped), p goes back; at 80 columns w
# switches to the live screen; PgDn does not scroll past the narration's end.
. "$(dirname "$0")/lib.bash"
cat > "$TUI_TMP/t.lesson" <<'LESSON'
title: TUI test lesson

## Seed example
The range [-20, 1000] in uint8.
> values -20 1000
> scheme uint8 asym
> bits 7.32 fp32
@screen bits
---
## A question
quiz: What is the zero point?
answer: 5 | five
hint: -20 lands on code 0: the scale is (1000 - (-20)) / 255 = 4, and the code of 0.0 then is 5.
---
## The end
Done.
LESSON
for size in "120 40" "80 24"; do
    set -- $size
    tui_start "$1" "$2" LC_ALL=C.UTF-8
    wait_for "1 Data"
    keys 6
    wait_for "L opens"
    keys L
    wait_for "lesson (name or number)"
    type_text "$TUI_TMP/t.lesson"
    keys Enter
    wait_for "n / Enter starts step 1"    # nothing runs before the learner starts it
    keys n
    wait_for "step 1/3"
    wait_for "The range [-20, 1000] in uint8."
    if [ "$1" -ge 100 ]; then
        wait_for "0x40EA3D71"           # the Bits screen beside the narration
    else
        wait_for "w shows the Bits screen"
        keys w
        wait_for "0x40EA3D71"
        keys w
        wait_for "The range [-20, 1000]"
    fi
    # scrolling stops at the narration's end: three PgDn on a short step leave it in view
    # (a ':' cancelled with Esc marks when the keys before it have been handled)
    keys NPage NPage NPage : Escape
    wait_for "cancelled"
    screen_text | grep -qF "The range [-20, 1000] in uint8." || fail "PgDn scrolled the narration out of view"
    keys Enter
    wait_for "What is the zero point?"
    wait_for "answer:"
    type_text "4"
    keys Enter
    wait_for "-20 lands on code 0"
    wait_for "then is 5."               # the whole hint, wrapped in the narration at 80 columns
    keys a
    wait_for "answer:"
    type_text "five"
    keys Enter
    wait_for "right!"
    keys Enter
    wait_for "step 3/3"
    keys p
    wait_for "step 2/3"
    wait_for "answer:"                  # back at the quiz, which asks again
    keys Escape
    wait_gone "answer:"
    keys q
    wait_for "EXITED rc=0"
    check_tty_restored
    tui_stop
done
echo "lesson: ok"
