#!/usr/bin/env bash
# status_error_clears.sh — an error on the status line goes with the next key: 'abc' typed at
# the Bits screen's value prompt said "'abc' is not a number", and the message stayed beside
# later keys that worked (3, i), as if they had failed. A key that fails says so again.
. "$(dirname "$0")/lib.bash"
for size in "80 24" "120 40"; do
    tui_start $size
    wait_for "1 Data"
    keys 3
    wait_for "3 Bits"
    keys v
    type_text "abc"
    keys Enter
    wait_for "'abc' is not a number"
    keys i
    wait_gone "'abc' is not a number"
    keys Z
    wait_for "unbound key"
    keys q
    wait_for "EXITED rc=0"
    check_tty_restored
    tui_stop
done
echo "status_error_clears: ok"
