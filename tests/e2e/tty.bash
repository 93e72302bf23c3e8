# tty.bash — helpers for the REPL tests driven through a pseudo-terminal (sourced by
# tests/e2e/repl_tty.sh and sec_complete.sh; not a test). Sets up a private tmux server
# (socket qscope-test-PID, removed with $tmp on exit) and polls its pane with a deadline,
# never a fixed sleep:
#   T ARGS...          tmux on the private socket
#   screen             the text of pane "qs"
#   fail MESSAGE       prints the message and the screen, counts it in $fails
#   wait_for REGEX     polls until the screen matches (extended regex)
#   wait_for_text STR  polls until the screen holds STR (fixed string)
#   wait_last REGEX    polls until the last non-blank screen line matches
set -u
QSCOPE=${QSCOPE:-build/qscope}
TOP=${QSCOPE_TOP:-$PWD}
command -v tmux >/dev/null || { echo "SKIP: tmux not installed"; exit 0; }
tmp=$(mktemp -d)
sock="qscope-test-$$"
T() { tmux -L "$sock" "$@"; }
cleanup() { T kill-server 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fails=0
screen() { T capture-pane -p -t qs 2>/dev/null; }
fail() {
    echo "FAIL: $*"
    echo "---- screen:"; screen; echo "----"
    fails=$((fails + 1))
}
# Deadlines are generous: the suite also runs under ASan on 2 cores.
WAIT=${QSCOPE_TTY_WAIT:-20}
tty_poll() {      # tty_poll GREP_ARGS...: polls the screen through grep until it matches
    local end=$((SECONDS + WAIT))
    while [ $SECONDS -le $end ]; do
        screen | grep -q "$@" && return 0
        sleep 0.1
    done
    return 1
}
wait_for() { tty_poll -E -- "$1"; }
wait_for_text() { tty_poll -F -- "$1"; }
wait_last() {
    local end=$((SECONDS + WAIT))
    while [ $SECONDS -le $end ]; do
        screen | sed '/^[[:space:]]*$/d' | tail -1 | grep -Eq -- "$1" && return 0
        sleep 0.1
    done
    return 1
}
