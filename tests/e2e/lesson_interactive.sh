#!/usr/bin/env bash
# lesson_interactive.sh — `qscope lesson play` on a real terminal (tmux): it waits for Enter
# before each step, a quiz waits for the learner and shows the hint after a wrong answer,
# 'b' goes back a step, and the lesson ends with its summary and exit status 0.
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; [ -n "${sock:-}" ] && tmux -S "$sock" capture-pane -p -t t 2>/dev/null | tail -20; exit 1; }
command -v tmux >/dev/null || { echo "skip: no tmux"; exit 0; }
tmp=$(mktemp -d)
sock="$tmp/tmux.sock"
trap 'tmux -S "$sock" kill-server 2>/dev/null; rm -rf "$tmp"' EXIT

cat >"$tmp/99-tiny.lesson" <<'L'
title: Tiny interactive lesson

## First
Step one narration.
> values 3 -1 7
> stats
expect max == 7
---
## Second
quiz: What is the largest value?
answer: 7 | seven
hint: Look at max in the stats.
---
## Third
The end is near.
L

# wait until the pane shows $1 (a fixed string), up to 10 s
wait_for() {
    local deadline=$((SECONDS + 10))
    while [ $SECONDS -lt $deadline ]; do
        tmux -S "$sock" capture-pane -p -t t 2>/dev/null | grep -qF -- "$1" && return 0
        sleep 0.1
    done
    fail "timed out waiting for '$1'"
}

# A session that outlives the test's: killing the last session stops the server, and a
# new-session racing a server on its way out fails with "server exited unexpectedly".
tmux -S "$sock" new-session -d -s keep -x 80 -y 10 "sleep 100000" || fail "cannot start tmux"
tmux -S "$sock" new-session -d -s t -x 100 -y 40 \
    "NO_COLOR=1 '$QSCOPE' lesson play '$tmp/99-tiny.lesson'; echo EXIT=\$?; sleep 30"
# nothing runs before the learner has seen the first step: Enter starts step 1
wait_for "[Enter] next step 1/3"
tmux -S "$sock" capture-pane -p -t t | grep -q "Step one narration" && fail "step 1 ran before Enter"
tmux -S "$sock" send-keys -t t Enter
wait_for "Step one narration."
wait_for "expect max == 7  ok"
wait_for "[Enter] next step 2/3"
tmux -S "$sock" capture-pane -p -t t | grep -q "What is the largest" && fail "quiz shown before Enter"
tmux -S "$sock" send-keys -t t Enter
wait_for "quiz: What is the largest value?"
wait_for "answer>"
tmux -S "$sock" send-keys -t t "8" Enter
wait_for "Not quite. Hint: Look at max in the stats."
tmux -S "$sock" send-keys -t t "  Seven " Enter
wait_for "Right."
wait_for "[Enter] next step 3/3"
tmux -S "$sock" send-keys -t t "b" Enter            # back a step: the quiz again
wait_for "[Enter] next step 2/3"
tmux -S "$sock" send-keys -t t Enter
wait_for "answer>"
tmux -S "$sock" send-keys -t t "skip" Enter
wait_for "The answer: 7"
tmux -S "$sock" send-keys -t t Enter
wait_for "The end is near."
wait_for "=== 99-tiny: done"
wait_for "EXIT=0"
tmux -S "$sock" kill-session -t t

# --auto: steps advance by themselves after the delay (projector mode); a quiz still waits
printf 'title: Auto\ndelay: 200ms\n\nOne.\n---\nTwo.\n---\n@delay 300ms\nThree.\n---\nquiz: Ready?\nanswer: yes\n' \
    >"$tmp/98-auto.lesson"
tmux -S "$sock" new-session -d -s t -x 100 -y 40 \
    "NO_COLOR=1 '$QSCOPE' play --auto '$tmp/98-auto.lesson'; echo EXIT=\$?; sleep 30"
wait_for "Three."
wait_for "answer>"
tmux -S "$sock" send-keys -t t "yes" Enter
wait_for "=== 98-auto: done"
wait_for "EXIT=0"
echo ok
