#!/usr/bin/env bash
# lab.sh — the Lab screen: the settings form builds the command, a long run shows a gauge
# while the UI stays responsive (switching screens works), Esc cancels it cleanly, and a
# short run (PTQ) ends with its results on the screen; at 60x16 the whole form fits and its
# calib setting cycles through every calibrator row the lab takes.
. "$(dirname "$0")/lib.bash"
tui_start 80 24
wait_for "1 Data"
keys 5
wait_for "r runs: lab sweep bits=2..8"
# the form builds the command line: the settings a sweep uses are range abits gran calib epochs
for _ in 1 2 3 4 5; do keys Down; done
keys Right Right Right
wait_for "epochs=30"
# a run that cannot end during the test (1000 QAT epochs at every width; a 30-epoch sweep
# lasts about a second, which raced the Esc below): from the ':' line
keys :
type_text "lab sweep bits=2..8 epochs=1000"
keys Enter
wait_for "Esc cancels"
keys 3                      # the UI answers while the worker trains
wait_for "fp8-e4m3"
keys 5
wait_for "r runs: lab sweep"    # the Lab screen's own line (the status bar also says "lab sweep")
keys Escape
wait_for "cancelled"
# a short one: PTQ at 4 bits (the cursor is on epochs, the last setting: Down wraps to action)
keys Down Right
wait_for "r runs: lab ptq bits=4"
keys r
wait_for "ptq_acc"
# q during a long run cancels it and quits at once
keys :
type_text "lab sweep bits=2..8 epochs=1000"
keys Enter
wait_for "Esc cancels"
keys q
wait_for "EXITED rc=0"
check_tty_restored
tui_stop
# at the smallest size (60x16) every setting of the form stays on the screen
tui_start 60 16 LC_ALL=C.UTF-8
wait_for "1 Data"
keys 5
wait_for "r runs: lab sweep"
wait_for "range   ◀ 2..8 ▶"
wait_for "calib   ◀ minmax ▶"
wait_for "epochs  ◀ 5 ▶"
# the calib setting cycles through the calibrators `lab ptq calib=` takes (its spec's choices,
# read from help, i.e. the descriptor table's lab rows), and wraps to the first
cals=$("$QSCOPE" -c 'help lab ptq' --json | perl -MJSON::PP -e 'local $/;
    my $o = decode_json(<STDIN>)->{options}; $o =~ /^calib=\S+ +[^:]*: ([^(\n]*)/m or exit 1;
    print join("\n", split /, /, $1)') || fail "no calib= line in help lab ptq"
[ "$(wc -l <<<"$cals")" -ge 5 ] || fail "help lab ptq lists too few calibrators: $cals"
keys Down Down Down Down            # action -> range -> abits -> gran -> calib
for c in $(tail -n +2 <<<"$cals") $(head -1 <<<"$cals"); do
    keys Right
    wait_for "calib   ◀ $c ▶"
done
keys q
wait_for "EXITED rc=0"
echo "lab: ok"
