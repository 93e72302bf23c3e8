#!/usr/bin/env bash
# derive_mx.sh — the Derive screen on a block-float scheme (issue 17): its header names the
# elements (fp4-e2m1, max 6) instead of a zero point and an integer code range, and n steps
# through the block's derivation (amax, shared exponent, E8M0 scale; NVFP4's tensor scale),
# at 80x24 and 120x40.
. "$(dirname "$0")/lib.bash"
for size in "80 24" "120 40"; do
    # shellcheck disable=SC2086
    tui_start $size LC_ALL=C.UTF-8
    wait_for "1 Data"
    keys :
    type_text "scheme mxfp4"
    keys Enter
    wait_for "scheme mxfp4: ok"
    keys 2
    wait_for "1/11. block"
    wait_for "elements fp4-e2m1 (max 6)"
    if screen_text | grep -q "zero point"; then fail "mxfp4: the Derive header shows a zero point"; fi
    if screen_text | grep -q "codes 0\.\.0"; then fail "mxfp4: the Derive header shows codes 0..0"; fi
    keys n n
    wait_for "shared exponent"
    keys n
    wait_for "X = 0.25 (E8M0 0x7D)"
    keys :
    type_text "scheme nvfp4"
    keys Enter
    wait_for "scheme nvfp4: ok"
    keys 2
    wait_for "elements fp4-e2m1 (max 6)"
    keys n
    wait_for "tensor scale"
    keys q
    wait_for "EXITED rc=0"
    check_tty_restored
    tui_stop
done
echo "derive_mx: ok"
