#!/usr/bin/env bash
# error_methods.sh — issue 17: on the Error screen m compares the methods on the current
# tensor (the library's `methods` at the scheme's bits): each row's output SQNR is the one
# `methods` gives on the CLI for the same tensor and bits, the table names its grid and its
# synthetic activations, a bit-width change marks it STALE until m recomputes, and x brings
# the calibrator table back. At 80x24 and 120x40.
. "$(dirname "$0")/lib.bash"
# the library's numbers for the bundled tensor, at 8 and 4 bits: "method sqnr gain" lines
expect() {
    "$QSCOPE" --json -c "load datasets/default.npy; methods bits=$1" | tail -1 |
        python3 -c 'import json, sys
for r in json.load(sys.stdin)["rows"]:
    g = r["gain_db"]
    print(r["method"], "%.2f" % r["out_sqnr_db"], "" if g is None else "%+.2f" % g)'
}
e8=$(expect 8) || fail "methods bits=8 on the CLI"
e4=$(expect 4) || fail "methods bits=4 on the CLI"
[ "$(wc -l <<<"$e8")" -eq 7 ] || fail "expected 7 methods: $e8"
check_rows() {          # every method's row shows the CLI's SQNR and gain
    local m s g line
    while read -r m s g; do
        line=$(screen_text | grep -E "^ $m +W" | head -1)
        grep -qE -- " $s( |$)" <<<"$line" || fail "$m: want SQNR $s in: $line"
        [ -z "$g" ] || grep -qF -- "$g" <<<"$line" || fail "$m: want gain $g in: $line"
    done <<<"$1"
}
for run in "80 24" "120 40"; do
    set -- $run
    tui_start "$1" "$2" LC_ALL=C.UTF-8 NO_COLOR=1
    wait_for "1 Data"
    keys 4
    wait_for "clip range"
    if [ "$1" = 80 ]; then
        wait_for "m: methods (GPTQ, AWQ…)"      # the panel says the key before anything runs
        keys m
        wait_for "methods · weights int8 asym per-row · output SQNR dB on synthetic activations"
        wait_for "synthetic activations: 256 rows of N(0,1) with 4 planted outlier channels"
        check_rows "$e8"
        keys -                                  # int7: the table is for int8 now
        wait_for "STALE: computed for default · methods bits=8 — m recomputes"
        keys m
        wait_for "methods · weights int7 asym per-row"
        wait_gone "STALE"
    else
        wait_for "m methods"                    # in the key hints at 120 columns
        keys - - - -                            # int4
        wait_for "int4 asym/tensor"
        keys m
        wait_for "methods · weights int4 asym per-row"
        check_rows "$e4"
        wait_for "randomized Hadamard (seed 1), then rtn"
        wait_for "of 64 columns in fp16 (|x| ≥ 6)"
    fi
    keys x                                      # back to the calibrator x bits table
    wait_for "6.02 dB/bit"
    wait_gone "methods · weights"
    keys q
    wait_for "EXITED rc=0"
    check_tty_restored
    tui_stop
done
echo "error_methods: ok"
