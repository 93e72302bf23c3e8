#!/usr/bin/env bash
# data_mx.sh — the Data screen on a block-float scheme (MX, NVFP4): its scheme line names the
# elements, their largest value, the block and block 0's scale as `qparams` gives them, and
# shows no integer clip range or code range (it read "clip [nan, nan]  codes 0..0"), at 80x24
# and 120x40.
. "$(dirname "$0")/lib.bash"
for size in "80 24" "120 40"; do
    for s in mxfp4 nvfp4; do
        # block 0's scale and the block size from the library, as the screen must show them
        want=$("$QSCOPE" -c "load $QSCOPE_TOP/datasets/default.npy; scheme $s; qparams" --json |
               tail -1 | python3 -c 'import json,sys; q=json.load(sys.stdin); print("%s (max %g) × a scale per block of %d (block 0: %.6g)" % (q["element"], q["elem_max"], q["block"], q["scale"][0]))')
        # shellcheck disable=SC2086
        tui_start $size LC_ALL=C.UTF-8
        wait_for "1 Data"
        keys :
        type_text "scheme $s"
        keys Enter
        wait_for "scheme $s: ok"
        wait_for "elements ${want%% (block 0*}"
        screen_text | grep -qF "block 0: ${want##*block 0: }" ||
            fail "$s at $size: block 0's scale ${want##*block 0: } not on the Data screen"
        if screen_text | grep -q "clip \[nan"; then fail "$s: the Data screen shows clip [nan, nan]"; fi
        if screen_text | grep -q "codes 0\.\.0"; then fail "$s: the Data screen shows codes 0..0"; fi
        keys q
        wait_for "EXITED rc=0"
        tui_stop
    done
done
echo "data_mx: ok"
