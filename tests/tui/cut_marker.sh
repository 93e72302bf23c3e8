#!/usr/bin/env bash
# cut_marker.sh — text cut to fit shows it: at 80x24 a help line too long for its row ends in
# "…" (UTF-8) or "~" (ASCII locale) instead of stopping mid-word, the key column is as wide
# as the widest key (Lab's "PgDn/PgUp" keeps a gap before its description), and at 120x40
# where there is room a long description wraps onto a continuation row instead.
. "$(dirname "$0")/lib.bash"

tui_start 80 24 LC_ALL=C.UTF-8
wait_for "1 Data"
wait_for "histogram"
keys 2 ?
wait_for "Keys on the Derive screen"
wait_for "seed examples"
screen_text | grep -qE 'seed examples: .*…$' || fail "the cut help line does not end in …"
screen_text | grep -qE 'back to the tenso$' && fail "the help line is cut with no marker"
keys Escape
wait_gone "Keys on the Derive screen"
keys 5 ?
wait_for "Keys on the Lab screen"
wait_for "GPT generations"
screen_text | grep -qE 'PgDn/PgUp +scroll the GPT' || fail "the key runs into its description"
keys Escape
wait_gone "Keys on the Lab screen"
keys q
wait_for "EXITED rc=0"
tui_stop

# an ASCII terminal marks a cut with "~"
tui_start 80 24 LC_ALL=C
wait_for "1 Data"
wait_for "histogram"
keys 2 ?
wait_for "Keys on the Derive screen"
wait_for "seed examples"
screen_text | grep -qE 'seed examples: .*~$' || fail "the cut help line does not end in ~ (ASCII)"
keys Escape
wait_gone "Keys on the Derive screen"
keys q
wait_for "EXITED rc=0"
tui_stop

# room to wrap: the whole description, its end on a continuation row
tui_start 100 40 LC_ALL=C.UTF-8
wait_for "1 Data"
wait_for "histogram"
keys 2 ?
wait_for "Keys on the Derive screen"
wait_for "smoothquant on the tensor"
screen_text | grep -qE '^ +as W\)' || fail "the long description did not wrap"
screen_text | grep -qE '…$' && fail "a help line is cut at 100x40"
keys Escape
wait_gone "Keys on the Derive screen"
keys q
wait_for "EXITED rc=0"
tui_stop
echo "cut_marker: ok"
