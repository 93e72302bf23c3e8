#!/usr/bin/env bash
# stale.sh — issue 13 item 3: everything on the screen describes the current state. The
# calibrator x bit-width table (x on the Error screen) is marked stale after g, s, a new tensor
# and a lesson's commands, and x recomputes it; `:derive V` moves the Derive header to V; a
# seed example on the Derive screen is what the tab bar and the status bar name.
. "$(dirname "$0")/lib.bash"
for size in "80 24" "120 40"; do
    set -- $size
    tui_start "$1" "$2" LC_ALL=C.UTF-8
    wait_for "1 Data"
    keys 4
    wait_for "MSE"
    keys x
    wait_for "6.02 dB/bit"
    screen_text | grep -qF "STALE" && fail "a fresh comparison marked stale"
    keys g                                  # per-channel: the table was per-tensor
    wait_for "STALE: computed for default"
    keys g                                  # back to what it was computed for
    wait_gone "STALE"
    keys s                                  # symmetric / affine
    wait_for "STALE: computed for default"
    keys x
    wait_gone "STALE"
    keys :
    type_text "values -20 1000"             # a new tensor
    keys Enter
    wait_for "values -20 1000: ok"
    keys 4
    wait_for "STALE: computed for default"
    # :derive V: the header follows V
    keys :
    type_text "derive 7"
    keys Enter
    wait_for "following x = 7"
    keys :
    type_text "derive 990"
    keys Enter
    wait_for "following x = 990"
    # a seed example is what the tab bar and the status bar describe
    keys e
    wait_for "qscope · seed example 1"
    status=$(screen_text | sed -n "$(( $2 - 1 ))p")
    grep -qF "seed example 1" <<<"$status" || fail "the status bar does not name the example"
    grep -qF "default" <<<"$status" && fail "the status bar names the tensor under the example"
    keys 1                                  # the Data screen shows the session's tensor again
    wait_gone "qscope · seed example 1"
    keys q
    wait_for "EXITED rc=0"
    check_tty_restored
    tui_stop
done
echo "stale: ok"
