#!/usr/bin/env bash
# cli_progress.sh — `qscope -c` and script files on a terminal draw the REPL's progress bar on
# stderr while a slow command runs (they printed nothing for seconds), erase it before the
# next output, and draw nothing when stderr is not a terminal.
. "$(dirname "$0")/tty.bash"
cd "$TOP"
T new-session -d -s qs -x 100 -y 20 -c "$TOP" \
    "LC_ALL=C.UTF-8 $QSCOPE -c 'synth normal n=300000000; values 1 2' | tail -1; echo DONE rc=\$?; sleep 100000" ||
    { echo "FAIL: cannot start tmux"; exit 1; }
wait_for "synth.*ETA" || fail "-c on a terminal should draw a progress bar for a big synth"
WAIT=$((WAIT * 6)) wait_for "DONE rc=0" || fail "the command should finish"
screen | grep -q "ETA" && fail "the bar should be erased before the output"
printf 'synth normal n=3000000\nstats\n' > "$tmp/s.qs"
"$QSCOPE" "$tmp/s.qs" >/dev/null 2>"$tmp/err" || fail "script exit $?"
[ -s "$tmp/err" ] && fail "no bar when stderr is not a terminal: $(head -c 200 "$tmp/err")"
[ "$fails" -eq 0 ] && echo "cli_progress: ok"
[ "$fails" -eq 0 ]
