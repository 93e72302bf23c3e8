#!/usr/bin/env bash
# suspend.sh — Ctrl-Z under an interactive shell with job control: the TUI gives the terminal
# back in canonical mode with echo and stops (the shell reports the job Stopped); fg brings it
# back, redrawn and working; q then exits 0 with the terminal restored.
. "$(dirname "$0")/lib.bash"
TUI_N=$((TUI_N + 1))
TUI_SOCK="qscope-tui-$$-$TUI_N"
TUI_SOCKS+=("$TUI_SOCK")
printf 'set-option -g status off\nset-option -g default-terminal screen\n' > "$TUI_TMP/tmux.conf"
tmux -L "$TUI_SOCK" -f "$TUI_TMP/tmux.conf" new-session -d -s qs -x 80 -y 24 \
    "env PS1='shell> ' bash --norc --noprofile -i" || fail "tmux could not start"
wait_for "shell>"
type_text "cd $(printf '%q' "$QSCOPE_TOP") && QSCOPE_HISTFILE=$(printf '%q' "$TUI_TMP/history") $(printf '%q' "$QSCOPE")"
keys Enter
wait_for "1 Data"
keys C-z
wait_for "Stopped"
type_text "stty -a > $(printf '%q' "$TUI_TMP/stty"); echo STTY-SAVED"
keys Enter
check_tty_restored
type_text "fg"
keys Enter
wait_for "1 Data"
keys 3
wait_for "sign"
keys q
wait_gone "1 Data"
rm -f "$TUI_TMP/stty"
type_text 'echo "EXITED rc=$?"; stty -a > '"$(printf '%q' "$TUI_TMP/stty")"'; echo STTY2-SAVED'
keys Enter
wait_for "EXITED rc=0"
wait_for "STTY2-SAVED"
check_tty_restored
echo "suspend: ok"
