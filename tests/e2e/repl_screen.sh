#!/usr/bin/env bash
# repl_screen.sh — the interactive REPL's use of the terminal, driven through tmux from an
# interactive bash (job control): Ctrl-Z at the idle prompt then `fg` brings the prompt and
# the half-typed line back with the session intact; a line longer than the pane wraps onto
# the next row (no horizontal scrolling); Ctrl-L clears the screen; resizing the window
# while idle redraws the prompt once (not repeated on a row).
. "$(dirname "$0")/tty.bash"
# tmux drops trailing blanks, so the prompt's final space never shows on a captured line
PROMPT='qscope \[.*\] >'
SH='sh\$'
# The text of pane "qs" with wrapped rows joined into their logical lines.
joined() { T capture-pane -p -J -t qs 2>/dev/null; }
# wait_top REGEX: polls until the top row of the screen matches.
wait_top() {
    local end=$((SECONDS + WAIT))
    while [ $SECONDS -le $end ]; do
        screen | head -1 | grep -Eq -- "$1" && return 0
        sleep 0.1
    done
    return 1
}
# How many prompts the screen shows (several on one row count several times).
prompts() { screen | grep -o 'qscope \[' | wc -l; }

# A session that lives as long as the test, so the server never exits between two sessions.
T new-session -d -s keep -x 80 -y 10 "sleep 100000" || { echo "FAIL: cannot start tmux"; exit 1; }
# start: a fresh 100x30 pane with an interactive bash running the REPL (each part of the test
# has its own, so a REPL that dies in one part leaves the others meaningful); $1 names it
start() {
    T kill-session -t qs 2>/dev/null
    T new-session -d -s qs -x 100 -y 30 -c "$TOP" \
        "env PS1='sh\$ ' HISTFILE=$tmp/bash_history bash --norc --noprofile -i" ||
        { fail "cannot start tmux ($1)"; return 1; }
    wait_last "^$SH\$" || { fail "no shell prompt ($1)"; return 1; }
    T send-keys -t qs "LC_ALL=C.UTF-8 NO_COLOR=1 QSCOPE_HISTFILE=$tmp/history $QSCOPE repl" Enter
    wait_last "$PROMPT\$" || { fail "no REPL prompt ($1)"; return 1; }
    T send-keys -t qs "values 1 2 3" Enter
    wait_last "^qscope \[values · .*\] >\$" || fail "the prompt should show 'values' ($1)"
}

# ---- Ctrl-Z at the idle prompt, then fg: the prompt comes back, the session is intact ------
start "Ctrl-Z"
T send-keys -t qs C-z
wait_for "Stopped" || fail "Ctrl-Z should stop the REPL"
wait_last "^$SH\$" || fail "the shell prompt after Ctrl-Z"
T send-keys -t qs "fg" Enter
wait_last "^qscope \[values · .*\] >\$" || fail "fg should bring the REPL's prompt back"
T send-keys -t qs "stats" Enter
wait_for "^max +3\$" || fail "after fg, stats should show the session's values (max 3)"
wait_last "^qscope \[values · .*\] >\$" || fail "prompt back after stats"
# twice, with a half-typed line: it is drawn again after fg and can be finished
T send-keys -t qs "hist bi"
wait_last "> hist bi\$" || fail "typed text not shown"
T send-keys -t qs C-z
wait_last "^$SH\$" || fail "the shell prompt after the second Ctrl-Z"
T send-keys -t qs "fg" Enter
wait_last "> hist bi\$" || fail "fg should draw the half-typed line again"
T send-keys -t qs "ns=3" Enter
wait_for "2\.333 … 3 " || fail "the line finished after fg should run as 'hist bins=3'"
wait_last "^qscope \[values · .*\] >\$" || fail "prompt back after hist"

# ---- a line longer than the pane wraps onto the next row ----------------------------------
start "wrap"
long="values $(seq -s ' ' 101 140)"       # 166 columns, wider than the 100-column pane
T send-keys -t qs "$long"
if wait_last " 140\$"; then
    joined | grep -qF -- "> $long" || fail "the long line should wrap (rows joined give the line)"
    screen | grep -qF -- "> $long" && fail "a 100-column row cannot hold the whole long line"
    screen | grep -q '^<\|‹' && fail "the long line scrolls horizontally instead of wrapping"
else
    fail "the end of the long line should be shown"
fi

# ---- Ctrl-L clears the screen: the prompt and the line are redrawn at the top -------------
T send-keys -t qs C-l
wait_top "^qscope \[values · " || fail "Ctrl-L should clear the screen: the prompt on the top row"
screen | grep -q "^$SH LC_ALL" && fail "Ctrl-L should clear the screen (the shell's line is still shown)"
joined | head -1 | grep -qF -- "> $long" || fail "Ctrl-L: the line should be drawn again, wrapped"

# ---- resizing while idle redraws the prompt once --------------------------------------------
start "resize"
T send-keys -t qs "stats"
wait_last "> stats\$" || fail "typed text not shown (resize)"
before=$(prompts)
for w in 80 90 70 100; do
    T resize-window -t qs -x "$w" -y 30
    wait_last "> stats\$" || fail "the line should be shown after resizing to $w columns"
done
# the redraw after the last resize may still be on its way: poll until it settles
end=$((SECONDS + WAIT))
while [ $SECONDS -le $end ] && [ "$(prompts)" != "$before" ]; do sleep 0.1; done
[ "$(prompts)" = "$before" ] ||
    fail "resizing should redraw the prompt in place ($before prompts before, $(prompts) after)"
T send-keys -t qs Enter
wait_for "^max +3\$" || fail "stats after resizing"

# ---- the REPL still ends normally ----------------------------------------------------------
T send-keys -t qs "quit" Enter
wait_last "^$SH\$" || fail "quit should return to the shell"
T send-keys -t qs 'echo "status=$?"' Enter
wait_for "^status=0\$" || fail "the REPL should exit 0 after quit"

[ "$fails" -eq 0 ] && echo "repl_screen: all checks passed"
[ "$fails" -eq 0 ]
