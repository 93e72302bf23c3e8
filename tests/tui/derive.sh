#!/usr/bin/env bash
# derive.sh — the Derive screen: the seeds' second example ([-20, 1000] -> uint8) one key
# away, stepped with n to the scale (4) and the zero point (5), and back with p; a typed
# value beyond float32 is shown as the inf the steps use; its symbols in an ASCII locale.
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
# a typed value beyond float32 is followed as the float32 the steps compute with (inf)
keys v
type_text "1e40"
keys Enter
wait_for "following x = inf"
keys q
wait_for "EXITED rc=0"
check_tty_restored
tui_stop
# in an ASCII locale the library's symbols are spelled out: x̂ (x + a combining circumflex)
# is x^, not x?
tui_start 80 24 LC_ALL=C
wait_for "1 Data"
keys 2
wait_for "observed range"
keys e
wait_for "seed example 1"
keys e
wait_for "seed example 2"
for _ in 1 2 3 4 5 6 7 8 9 10; do keys n; done
wait_for "11/12. error"
wait_for "dequantize -> x^ = -20"
wait_for "e = x^ - x"
keys q
wait_for "EXITED rc=0"
echo "derive: ok"
