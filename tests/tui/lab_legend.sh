#!/usr/bin/env bash
# lab_legend.sh — the Lab's test-set legend promises only what the table below it shows: a
# sweep's rows are bare accuracies with "≈" marks, so its legend explains "≈" and names no
# "(…) 95% interval"; a PTQ result, whose accuracies carry their intervals, keeps "(…)".
. "$(dirname "$0")/lib.bash"
tui_start 120 40 LC_ALL=C.UTF-8
wait_for "1 Data"
keys 5
wait_for "r runs: lab sweep"
keys :
type_text "lab sweep bits=2..3 epochs=1"
keys Enter
wait_for "   3   "                                # the sweep's last row (3 bits)
wait_for "test set 359 examples, one is 0.28 points · ≈ noise (in fp32's 95% interval)"
screen_text | grep -qF "(…)" && fail "the sweep's legend promises (…) intervals its rows do not show"
screen_text | grep -qE '[0-9]%  *\([0-9.]+–' && fail "a sweep row shows an interval: the legend should say so"
keys :
type_text "lab ptq bits=4"
keys Enter
wait_for "ptq_acc"
wait_for "test set 359 examples, one is 0.28 points · (…) 95% interval · ≈ noise"
screen_text | grep -qE 'ptq_acc +[0-9]+\.[0-9]% \([0-9.]+–[0-9.]+\)' ||
    fail "PTQ's accuracy without the interval its legend names"
keys q
wait_for "EXITED rc=0"
check_tty_restored
echo "lab_legend: ok"
