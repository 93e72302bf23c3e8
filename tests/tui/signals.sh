#!/usr/bin/env bash
# signals.sh — SIGTERM and SIGINT sent to a running TUI: it restores the terminal before it
# dies of the signal (the shell sees 128 + signal number).
. "$(dirname "$0")/lib.bash"
for sig in TERM INT; do
    tui_start 80 24
    wait_for "1 Data"
    pid=$(qscope_pid)
    [ -n "$pid" ] || fail "no qscope process in the pane"
    kill -s "$sig" "$pid"
    if [ "$sig" = TERM ]; then wait_for "EXITED rc=143"; else wait_for "EXITED rc=130"; fi
    check_tty_restored
    tui_stop
done
echo "signals: ok"
