#!/usr/bin/env bash
# signals.sh — signals sent to a running TUI: SIGTERM and SIGINT restore the terminal and the
# process dies of the signal (the shell sees 128 + its number); SIGSEGV and SIGABRT go
# through the crash handler (endwin, then the default action), so the terminal comes back
# from a crash too.
. "$(dirname "$0")/lib.bash"
for sig in TERM INT SEGV ABRT; do
    tui_start 80 24
    wait_for "1 Data"
    pid=$(qscope_pid)
    [ -n "$pid" ] || fail "no qscope process in the pane"
    kill -s "$sig" "$pid"
    case $sig in
        TERM) wait_for "EXITED rc=143" ;;
        INT) wait_for "EXITED rc=130" ;;
        *) wait_for "EXITED rc=1"        # 139 (SEGV) or 134 (ABRT; sanitizers abort)
           screen_text | grep -qE "EXITED rc=1(3[4-9])" || fail "unexpected exit after SIG$sig" ;;
    esac
    check_tty_restored
    tui_stop
done
echo "signals: ok"
