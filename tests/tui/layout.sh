#!/usr/bin/env bash
# layout.sh — issue 13 item 10: the Data screen lists as many of a file's 28 tensors as fit
# (not 4), long names cut in the middle at a dot (the layer number and what it is both stay),
# the position on a line of its own (not over the size column); the Error screen gives its
# height to the error histogram and the per-channel SQNR; a wide comparison table drops its
# least important columns first.
. "$(dirname "$0")/lib.bash"
python3 - "$TUI_TMP/many.safetensors" <<'PY'
import json, struct, sys
hdr, data, off = {}, b"", 0
for i in range(14):
    for kind in ("weight", "bias"):
        shape = [64, 64] if kind == "weight" else [64]
        n = 64 * 64 if kind == "weight" else 64
        hdr["model.encoder.layer.%d.attention.output.dense.%s" % (i, kind)] = {
            "dtype": "F32", "shape": shape, "data_offsets": [off, off + 4 * n]}
        data += struct.pack("<%df" % n, *[((j * 7 + i) % 13) / 13.0 - 0.5 for j in range(n)])
        off += 4 * n
h = json.dumps(hdr).encode()
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + data)
PY
for size in "80 24" "120 40"; do
    set -- $size
    tui_start "$1" "$2" LC_ALL=C.UTF-8
    wait_for "1 Data"
    keys :
    type_text "load $TUI_TMP/many.safetensors"
    keys Enter
    wait_for "tensors 1-"
    want=$(( $1 >= 100 ? 15 : 7 ))
    n=$(screen_text | grep -c "encoder.layer.*values")
    [ "$n" -ge "$want" ] || fail "$n of 28 tensor names shown (want $want or more)"
    screen_text | grep "tensors 1-" | grep -q "values" && fail "the counter overlaps the list"
    if [ "$1" -lt 100 ]; then              # cut at a dot, keeping the layer number
        screen_text | grep -E "▶ " | grep -qE "…([a-z]+\.)*layer\.0\..*dense\.weight|layer\.0\.…" ||
            fail "a long name not cut at a dot keeping its layer"
    fi
    keys t t t t t t t t t t                # the list follows the current tensor
    wait_for "encoder.layer.5.attention.output.dense.weight  F32 [64, 64]"   # the title line
    screen_text | grep "▶ " | grep -q "layer\.5\." || fail "the list does not follow the tensor"
    # the Error screen: a per-channel scheme's SQNR per channel under a taller histogram
    keys :
    type_text "load \"$QSCOPE_TOP/datasets/default.npy\""
    keys Enter
    wait_for "default.npy\": ok"
    keys 4 g
    wait_for "SQNR per channel"
    rows=$(screen_text | grep -cE '^ +[0-9]+ +[0-9.]+ +█')
    [ "$rows" -ge $(( $1 >= 100 ? 16 : 3 )) ] || fail "$rows rows of per-channel SQNR"
    axis=$(screen_text | grep -n -- "-0.004" | head -1 | cut -d: -f1)
    [ -n "$axis" ] || fail "no error histogram"
    [ "$axis" -ge $(( $1 >= 100 ? 16 : 11 )) ] || fail "the error histogram ends on row $axis"
    # a comparison with format rows is a table; at 80 columns the columns that go are the
    # ones that matter least (the bit costs and the errors stay)
    keys g :
    type_text "compare formats=llm"
    keys Enter
    wait_for "q4_0 "
    head=$(screen_text | grep -E "^ scheme +calib")
    for col in bits bits_per_param sqnr_db max_abs_err; do
        grep -qw -- "$col" <<<"$head" || fail "the comparison lost its '$col' column: $head"
    done
    keys q
    wait_for "EXITED rc=0"
    check_tty_restored
    tui_stop
done
echo "layout: ok"
