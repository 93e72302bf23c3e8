#!/usr/bin/env bash
# nonfinite.sh — Inf and NaN as the library reports them. JSON has no Inf or NaN, so results
# carry the strings "inf", "-inf" and "nan" (qs_json_real): the Error screen shows an infinite
# MSE as inf (not nan); a tensor with no finite value (every value NaN, n = 0) is not an
# "exact" reconstruction, while one reproduced exactly (SQNR "inf") still is; on the Bits
# screen x = inf and x = NaN keep the scheme's code row with the code `codes value=` gives
# (clamped to qmax; NaN to the zero point), never "not an integer grid".
. "$(dirname "$0")/lib.bash"

# the Error screen's metric rows: "LABEL  VALUE" in the left column
metric() {
    screen_text | sed -n "s/^ $1  *\([^ ]*\( ([^)]*)\)\{0,1\}\).*/\1/p" | head -1
}

run_values() {      # values..., then the Error screen
    keys :
    type_text "values $*"
    keys Enter
    wait_for "values $*: ok"
    keys 4
    wait_for "MSE "
}

tui_start 120 40 LC_ALL=C.UTF-8
wait_for "1 Data"
# an infinite error: the library says mse inf, max_abs_err inf
run_values nan inf -inf 1
wait_for "MSE          inf"
wait_for "max |error|  inf"
[ "$(metric 'SQNR dB')" = "nan" ] || fail "SQNR of an infinite error: '$(metric 'SQNR dB')', not nan"
# no finite values: n = 0, the library's mse 0 is no exact reconstruction
run_values nan nan nan nan
wait_for "SQNR dB      nan (n = 0)"
wait_for "no finite values to measure: the 4 NaN values are skipped"
screen_text | grep -qF "(exact)" && fail "a tensor without finite values called exact"
# reproduced exactly: the library's SQNR "inf"
run_values 0 0 0 0
wait_for "SQNR dB      ∞ (exact)"
wait_for "error histogram"
keys q
wait_for "EXITED rc=0"
check_tty_restored
tui_stop

# the Bits screen at x = inf and x = NaN: the code the library gives
code_of() {
    "$QSCOPE" --json -c "load datasets/default.npy; codes value=$1" | tail -1 |
        sed -n 's/.*"code":\(-\{0,1\}[0-9]*\).*/\1/p'
}
ci=$(code_of inf); cn=$(code_of nan)
[ -n "$ci" ] && [ -n "$cn" ] || fail "codes value=inf / nan gave no code"
tui_start 120 40 LC_ALL=C.UTF-8
wait_for "1 Data"
keys 3
wait_for "x = 7.32"
wait_for "code "
# i cycles 7.32 -> 0, -0, a subnormal, the largest float, Inf, NaN
keys i
wait_for " x = 0"
keys i
wait_for " x = -0"
keys i
wait_for " x = 1e-40"
keys i
wait_for " x = 3.40282346638529e+38"
keys i
wait_for " x = inf"
wait_for "code $ci "
screen_text | grep -qF "not an integer grid" && fail "x = inf: 'not an integer grid' for an int8 scheme"
keys i
wait_for " x = NaN"
wait_for "code $cn "
screen_text | grep -qF "not an integer grid" && fail "x = NaN: 'not an integer grid' for an int8 scheme"
# a format scheme has no integer grid: the row says so
keys :
type_text "scheme fp8-e4m3"
keys Enter
wait_for "not an integer grid"
keys q
wait_for "EXITED rc=0"
check_tty_restored
echo "nonfinite: ok"
