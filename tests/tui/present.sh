#!/usr/bin/env bash
# present.sh — issue 13 item 6: presenter mode (P on the Lesson screen, or `qscope play
# --present LESSON`). The narration and the live screen take the whole terminal (no tab bar,
# no key hints; at 120 columns the live screen is 80 wide, not cut); check lines are hidden
# until k; a new step clears the last status message; a narration that fits shows no
# "↓ more"; a quiz stays in view, its answer prompt opens only with a, and the narration
# scrolls while it is open; the lesson starts from its own state (no tensor) and X gives the
# user's tensor and views back.
. "$(dirname "$0")/lib.bash"
make_lesson() {     # $1: rows of the narration pane (a step that fills it exactly)
    local k
    {
        echo "title: Presenter test"
        echo
        echo "## Start"
        echo "This lesson starts from its own state."
        echo "@screen data"
        echo "---"
        echo "## Checks"
        echo "> values -20 1000"
        echo "expect n == 2"
        echo "@screen bits"
        echo "---"
        echo "## Full page"
        for ((k = 1; k < $1 / 2; k++)); do echo "Line $k."; echo; done
        echo "Last line."
        echo "---"
        echo "## Long"
        for ((k = 1; k <= 30; k++)); do echo "Para $k."; echo; done
        echo "quiz: What is the zero point?"
        echo "answer: 5"
        echo "hint: -20 lands on code 0."
        echo "---"
        echo "## The end"
        echo "Done."
    } > "$TUI_TMP/p.lesson"
}
printf '#!/bin/sh\nexec "%s" play --present "%s"\n' "$QSCOPE" "$TUI_TMP/p.lesson" > "$TUI_TMP/play"
chmod +x "$TUI_TMP/play"
for size in "80 24" "120 40"; do
    set -- $size
    make_lesson $(( $2 - 4 ))
    if [ "$1" -eq 80 ]; then
        QSCOPE="$TUI_TMP/play" tui_start "$1" "$2" LC_ALL=C.UTF-8
        wait_for "n / Enter starts step 1"    # nothing runs before the learner starts it
        keys n
        wait_for "step 1/5 · Presenter test"
    else
        # the user's own state first: a tensor of their own, the log scale
        tui_start "$1" "$2" LC_ALL=C.UTF-8
        wait_for "1 Data"
        keys :
        type_text "values 1 2 3 4"
        keys Enter
        wait_for "values 1 2 3 4: ok"
        keys l
        wait_for "histogram (log)"
        keys 6
        wait_for "L opens"
        keys L
        wait_for "lesson (name or number)"
        type_text "$TUI_TMP/p.lesson"
        keys Enter
        wait_for "n / Enter starts step 1"    # nothing runs before the learner starts it
        keys n
        wait_for "step 1/5 · Presenter test"
        keys P
        wait_gone "1 Data"
    fi
    screen_text | grep -qF "? help" && fail "key hints in presenter mode"
    screen_text | grep -qF "1 Data" && fail "the tab bar in presenter mode"
    if [ "$1" -ge 100 ]; then
        wait_for "No tensor loaded."            # the lesson's own state, beside the narration
    else
        keys w
        wait_for "No tensor loaded."
        keys w
        wait_for "This lesson starts"
    fi
    keys Enter
    wait_for "> values -20 1000"
    screen_text | grep -qF "✓ n = 2" && fail "a check line shown in presenter mode"
    keys k
    wait_for "✓ n = 2"                          # k shows the checks
    wait_for "check lines shown"
    if [ "$1" -ge 100 ]; then
        wait_for "class"                        # the Bits screen's last column: not cut
        wait_for "0x40EA3D71"
    fi
    keys Enter
    wait_for "Last line."
    wait_gone "check lines shown"               # no stale status message
    screen_text | grep -qF "↓ more" && fail "↓ more under a narration that fits"
    keys Enter
    wait_for "? What is the zero point?"        # the quiz in view under 30 paragraphs
    wait_for "↓ more"
    screen_text | grep -qF "answer:" && fail "the answer prompt opened by itself"
    keys a
    wait_for "answer:"
    keys NPage                                  # scrolling with the prompt open
    wait_for "↑ more"
    type_text "4"
    keys Enter
    wait_for "not quite: -20 lands on code 0."
    keys a
    wait_for "answer:"
    type_text "5"
    keys Enter
    wait_for "right!"
    keys Enter
    wait_for "step 5/5"
    keys X                                      # close: the user's state comes back
    wait_for "lesson closed"
    keys P
    wait_for "1 Data"                           # presenter mode off: the chrome is back
    keys 1
    if [ "$1" -ge 100 ]; then
        wait_for "qscope · values"
        wait_for "histogram (log)"
    else
        wait_for "qscope · default"
    fi
    keys q
    wait_for "EXITED rc=0"
    check_tty_restored
    tui_stop
done
echo "present: ok"
