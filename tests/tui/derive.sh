#!/usr/bin/env bash
# derive.sh — the Derive screen: the seeds' second example ([-20, 1000] -> uint8) one key
# away, stepped with n to the scale (4) and the zero point (5), and back with p.
. "$(dirname "$0")/lib.bash"
tui_start 120 40 LC_ALL=C.UTF-8
wait_for "1 Data"
keys 2
wait_for "observed range"
keys e
wait_for "seed example 1"
keys e
wait_for "seed example 2"
wait_for "scale 4   zero point 5"
keys n n n
wait_for "s = 4"
keys n
wait_for "zp = 5"
keys p
wait_gone "zp = 5"
keys q
wait_for "EXITED rc=0"
check_tty_restored
echo "derive: ok"
