#!/usr/bin/env bash
# highlight.sh — a lesson's @highlight marks the element on the screen the step drives: the
# Bits screen's exponent heading carries the marker (▶, or > without UTF-8) in reverse video,
# and the next step, which highlights nothing, takes the mark away.
. "$(dirname "$0")/lib.bash"
cat > "$TUI_TMP/t.lesson" <<'LESSON'
title: TUI highlight test

## The exponent
> bits 7.32 fp32
@screen bits
@highlight exponent
---
## Nothing marked
> bits 7.32 fp32
LESSON
# the escape codes of the pane: reverse video (SGR 7) in force where the marker starts
marked_reverse() {
    tmux -L "$TUI_SOCK" capture-pane -p -e -t qs |
        grep -qE $'\e\\[([0-9;]*;)?7(;[0-9;]*)?m(\e\\[[0-9;]*m)*'"$1"
}
for loc in C.UTF-8 C; do
    if [ "$loc" = C ]; then mark=">exponent"; else mark="▶exponent"; fi
    tui_start 120 40 LC_ALL=$loc
    wait_for "1 Data"
    keys 6
    wait_for "L opens"
    keys L
    wait_for "lesson (name or number)"
    type_text "$TUI_TMP/t.lesson"
    keys Enter
    wait_for "n / Enter starts step 1"    # nothing runs before the learner starts it
    keys n
    wait_for "step 1/2"
    wait_for "0x40EA3D71"               # the Bits screen beside the narration
    wait_for "s${mark}"
    wait_for "look at: exponent"
    marked_reverse "$mark" || fail "the marked heading is not in reverse video ($loc)"
    keys Enter
    wait_for "step 2/2"
    wait_for "0x40EA3D71"
    wait_gone "$mark"
    keys q
    wait_for "EXITED rc=0"
    tui_stop
done
echo "highlight: ok"
