# lib.bash — helpers for the TUI end-to-end tests (sourced by tests/tui/*.sh; not a test).
# Each test runs the real binary in a private tmux server, polls capture-pane with a deadline
# (never a fixed sleep) and cleans up the server on exit.
#   tui_start COLS ROWS [ENV...]  start "$QSCOPE" [$TUI_ARGS] in a pane; after it exits the pane prints
#                                 "EXITED rc=N" and saves `stty -a` into $TUI_TMP/stty
#   wait_for TEXT [SECONDS]       poll the pane until TEXT appears (fixed string)
#   wait_gone TEXT [SECONDS]      poll until TEXT is no longer shown
#   keys KEY...                   tmux send-keys (key names: Enter Space Tab BTab Left ...)
#   type_text TEXT                send literal text
#   click X Y                     a mouse click at column X, row Y (0-based)
#   tui_stop                      end the tmux server of the last tui_start
#   check_tty_restored            the shell's terminal is back in canonical mode with echo
set -u
: "${QSCOPE:?QSCOPE must point at the qscope binary}"
: "${QSCOPE_TOP:?QSCOPE_TOP must point at the repository}"
TUI_N=0
TUI_SOCK="qscope-tui-$$-0"
TUI_SOCKS=()
TUI_TMP=$(mktemp -d)
TUI_DEADLINE=${TUI_DEADLINE:-20}
[ -n "${QSCOPE_SANITIZED:-}" ] && TUI_DEADLINE=60

tui_cleanup() {
    local s
    for s in "${TUI_SOCKS[@]}"; do tmux -L "$s" kill-server 2>/dev/null; done
    rm -rf "$TUI_TMP"
}

# Ends the current tmux server (each tui_start gets a fresh private socket).
tui_stop() {
    tmux -L "$TUI_SOCK" kill-server 2>/dev/null
    rm -f "$TUI_TMP/stty"
}
trap tui_cleanup EXIT

fail() {
    echo "---- screen ----"
    tmux -L "$TUI_SOCK" capture-pane -p -t qs 2>/dev/null | grep -v '^$'
    echo "FAIL: $*"
    exit 1
}

tui_start() {
    local cols=$1 rows=$2
    shift 2
    TUI_N=$((TUI_N + 1))
    TUI_SOCK="qscope-tui-$$-$TUI_N"
    TUI_SOCKS+=("$TUI_SOCK")
    local envs="" e
    for e in "$@"; do envs+=" $(printf '%q' "$e")"; done
    # the pane: run qscope, report its status, save the terminal modes, then stay open
    local arg=""                        # TUI_ARGS: one argument for qscope (e.g. a file)
    [ -n "${TUI_ARGS:-}" ] && arg=" $(printf '%q' "$TUI_ARGS")"
    local cmd="cd $(printf '%q' "$QSCOPE_TOP") && env QSCOPE_HISTFILE=$(printf '%q' "$TUI_TMP/history")$envs $(printf '%q' "$QSCOPE")$arg; echo \"EXITED rc=\$?\"; stty -a > $(printf '%q' "$TUI_TMP/stty"); echo STTY-SAVED; exec sleep 600"
    printf 'set-option -g status off\nset-option -g default-terminal screen\n' > "$TUI_TMP/tmux.conf"
    tmux -L "$TUI_SOCK" -f "$TUI_TMP/tmux.conf" new-session -d -s qs -x "$cols" -y "$rows" \
        "bash -c $(printf '%q' "$cmd")" || fail "tmux could not start"
}

screen_text() {
    tmux -L "$TUI_SOCK" capture-pane -p -t qs 2>/dev/null
}

wait_for() {
    local pat=$1 t=${2:-$TUI_DEADLINE}
    local end=$((SECONDS + t))
    while [ "$SECONDS" -le "$end" ]; do
        screen_text | grep -qF -- "$pat" && return 0
        sleep 0.05
    done
    fail "timed out after ${t}s waiting for '$pat'"
}

wait_gone() {
    local pat=$1 t=${2:-$TUI_DEADLINE}
    local end=$((SECONDS + t))
    while [ "$SECONDS" -le "$end" ]; do
        screen_text | grep -qF -- "$pat" || return 0
        sleep 0.05
    done
    fail "timed out after ${t}s waiting for '$pat' to go away"
}

keys() {
    tmux -L "$TUI_SOCK" send-keys -t qs "$@"
}

type_text() {
    tmux -L "$TUI_SOCK" send-keys -t qs -l -- "$1"
}

# A left click at column X, row Y (0-based) as an X10 mouse report (press, release); the
# pane's TERM (screen) declares kmous, so ncurses turns it into KEY_MOUSE.
click() {
    local x=$(( $1 + 33 )) y=$(( $2 + 33 ))
    tmux -L "$TUI_SOCK" send-keys -t qs -H 1b 5b 4d 20 "$(printf '%x' "$x")" "$(printf '%x' "$y")" \
        1b 5b 4d 23 "$(printf '%x' "$x")" "$(printf '%x' "$y")"
}

# The pid of qscope inside the pane (the pane's bash runs it as a child).
qscope_pid() {
    local pane
    pane=$(tmux -L "$TUI_SOCK" display-message -p -t qs '#{pane_pid}')
    pgrep -P "$pane" | head -1
}

check_tty_restored() {
    wait_for STTY-SAVED
    grep -qE '(^|[ ;])icanon' "$TUI_TMP/stty" || fail "icanon not restored: $(cat "$TUI_TMP/stty")"
    grep -qE '(^|[ ;])echo([ ;]|$)' "$TUI_TMP/stty" || fail "echo not restored: $(cat "$TUI_TMP/stty")"
    grep -qE '(^|[ ;])-icanon' "$TUI_TMP/stty" && fail "terminal left in raw mode"
    return 0
}
