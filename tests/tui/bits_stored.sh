#!/usr/bin/env bash
# bits_stored.sh — the Bits screen's stored column agrees with `bits VALUE FORMAT`: a value a
# few digits spell exactly is shown exactly. 0.1 in FP6 E3M2 is stored as 0.125, and the
# screen said 0.12 beside an error of +0.025 (FP8 E5M2: 0.09 for 0.09375, error -0.00625).
. "$(dirname "$0")/lib.bash"
want() {    # FORMAT: the value `bits 0.1 FORMAT` prints
    "$QSCOPE" -c "bits 0.1 $1" | awk '$1 == "value" { print $2 }'
}
e3m2=$(want fp6-e3m2)
e5m2=$(want fp8-e5m2)
[ -n "$e3m2" ] && [ -n "$e5m2" ] || fail "bits printed no value"
for size in "80 24" "120 40"; do
    tui_start $size
    wait_for "1 Data"
    keys 3
    keys v
    type_text "0.1"
    keys Enter
    wait_for "x = 0.1"
    keys f f                            # the MX rows: FP8, FP6, FP4 and E8M0 fit at 80x24
    wait_for "fp6-e3m2  0 000 10"
    row=$(screen_text | grep -E '^.fp6-e3m2 ')
    awk -v w="$e3m2" '{ for (i = 1; i <= NF; i++) if ($i == w) f = 1 } END { exit !f }' <<<"$row" ||
        fail "fp6-e3m2 row does not show $e3m2: $row"
    row=$(screen_text | grep -E '^.fp8-e5m2 ')
    awk -v w="$e5m2" '{ for (i = 1; i <= NF; i++) if ($i == w) f = 1 } END { exit !f }' <<<"$row" ||
        fail "fp8-e5m2 row does not show $e5m2: $row"
    keys q
    wait_for "EXITED rc=0"
    tui_stop
done
echo "bits_stored: ok"
