#!/usr/bin/env bash
# lab_actions.sh — issue 13 item 7: the Lab form runs PTQ vs QAT, integer-only inference and
# QLoRA; the sweep's bit range is a setting; ↑/↓ skip the settings an action does not use, so
# ←/→ always changes the command shown; labels are whole (example_sample, full_loss); every
# accuracy is a percentage with the test-set size and its 95% interval; at 80x24 the QLoRA
# methods table is on the screen.
. "$(dirname "$0")/lib.bash"
for size in "80 24" "120 40"; do
    set -- $size
    tui_start "$1" "$2" LC_ALL=C.UTF-8
    wait_for "1 Data"
    keys 5
    wait_for "r runs: lab sweep bits=2..8"
    keys Down Right                         # the next setting a sweep uses is its bit range
    wait_for "r runs: lab sweep bits=3..8 abits=8"
    keys Up Right Right                     # action: sweep -> ptq -> qat
    wait_for "r runs: lab qat bits=4 abits=8 gran=tensor calib=minmax epochs=5"
    keys Up Left Left Left                  # up from action wraps to epochs: 5 -> 1
    wait_for "r runs: lab qat bits=4 abits=8 gran=tensor calib=minmax epochs=1"
    keys r
    wait_for "qat_acc"
    wait_for "test set 359 examples, one is 0.28 points"
    screen_text | grep -qE 'ptq_acc +[0-9]+\.[0-9]% \([0-9.]+–[0-9.]+\)' ||
        fail "PTQ's accuracy without its 95% interval"
    screen_text | grep -qE 'qat_acc +[0-9]+\.[0-9]% \([0-9.]+–[0-9.]+\)' ||
        fail "QAT's accuracy without its 95% interval"
    keys Down Right Right                   # epochs wraps to action: qat -> train -> int
    wait_for "r runs: lab int bits=4 abits=8 gran=tensor calib=minmax"
    keys r
    wait_for "int_acc"
    wait_for "example_sample"               # a label is not cut to its column
    screen_text | grep -qE 'int_agree +[0-9.]+%' || fail "int_agree not in %"
    keys Right Right                        # int -> lora -> qlora
    wait_for "r runs: lab qlora rank=4"
    keys r
    wait_for "methods"
    screen_text | grep -qE '^ +qlora +[0-9.]+% \(' || fail "the QLoRA row of the methods table"
    if [ "$1" -ge 100 ]; then
        wait_for "full_loss "               # the curves' labels are whole
    fi
    keys q
    wait_for "EXITED rc=0"
    check_tty_restored
    tui_stop
done
echo "lab_actions: ok"
