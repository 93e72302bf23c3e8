#!/usr/bin/env bash
# resize.sh — the frame follows the terminal: 80x24 -> 120x40 uses the room, below the
# minimum a clear "terminal too small" message, and back again; at 60x16 the help says what
# it could not list.
. "$(dirname "$0")/lib.bash"
tui_start 80 24
wait_for "1 Data"
wait_for "histogram"
tmux -L "$TUI_SOCK" resize-window -t qs -x 120 -y 40
# the status bar's right part moves to the new right edge
end=$((SECONDS + TUI_DEADLINE))
until screen_text | awk 'length($0) > 100 && /int8 asym/ {found=1} END {exit !found}'; do
    [ "$SECONDS" -gt "$end" ] && fail "the frame did not grow to 120 columns"
    sleep 0.05
done
tmux -L "$TUI_SOCK" resize-window -t qs -x 40 -y 10
wait_for "terminal too small"
tmux -L "$TUI_SOCK" resize-window -t qs -x 60 -y 16
wait_for "1 Data"
wait_gone "terminal too small"
# at the smallest size the help cannot list every key: it says how many it left out
keys '?'
wait_for "Keys on the Data screen"
wait_for "more keys (a taller terminal, or man qscope)"
screen_text | grep -qE '[1-9][0-9]* more keys' || fail "the help does not say how many keys it left out"
keys x
wait_gone "Keys on the Data screen"
tmux -L "$TUI_SOCK" resize-window -t qs -x 80 -y 24
wait_for "1 Data"
keys 3
wait_for "0x40EA3D71"
keys q
wait_for "EXITED rc=0"
check_tty_restored
echo "resize: ok"
