#!/usr/bin/env bash
# axis_codes.sh — the library side of issue 13 items 1, 2, 9 and issue 14's Bits defect:
# axis=auto reads the layout off the file and name (qparams/scheme keys axis, axis_auto,
# axis_reason, warning), an axis that does not fit names the shape, `codes value=` / `code=`
# give one value's code and x̂ with the library's own parameters (TensorRT's multiplier), and
# scheme JSON says narrow for TensorRT's -127..127.
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -q -- "$2" <<<"$1" || fail "expected '$2' in: $1"; }
hasnt() { grep -q -- "$2" <<<"$1" && fail "did not expect '$2' in: $1"; return 0; }
tf=tests/fixtures/tf_keras.safetensors

# TensorFlow / Keras (__metadata__ format tf): HWIO kernel → axis 3, Dense [in, out] → axis 1
out=$("$QSCOPE" --json -c "load $tf conv/kernel; scheme int8 per-channel; qparams") || fail "conv"
has "$out" '"axis":3'
has "$out" '"axis_auto":true'
has "$out" '"axis_reason":"axis 3: TensorFlow HWIO kernel \[1, 1, 128, 128\]"'
has "$out" '"nparams":128'
hasnt "$out" '"warning"'
out=$("$QSCOPE" --json -c "load $tf dense/kernel; scheme int4 sym per-channel; qparams") || fail "dense"
has "$out" '"axis":1'
has "$out" '"axis_reason":"axis 1: Keras Dense kernel \[in, out\]"'
has "$out" '"nparams":10'
# the axis follows the tensor: `use` another one and the same scheme picks its own axis
out=$("$QSCOPE" --json -c "load $tf conv/kernel; scheme int8 per-channel; use dense/kernel; qparams") || fail "use"
has "$out" '"axis":1'
# an explicit axis wins and is said as given; an axis of size 1 gets a warning
out=$("$QSCOPE" --json -c "load $tf conv/kernel; scheme int8 per-channel axis=0; qparams") || fail "axis=0"
has "$out" '"axis_auto":false'
has "$out" '"axis_reason":"axis 0: given with axis=0"'
has "$out" '"warning":"axis 0 has size 1'
# every channel with the same scale and zero point: per-channel equals per-tensor
out=$("$QSCOPE" --json -c "values -1 1 -1 1 -1 1 -1 1; scheme int8 sym per-channel; qparams") || fail "same"
has "$out" '"warning":"all 8 channels along axis 0 got the same scale and zero point'
# PyTorch checkpoints, PyTorch .weight names and GGUF rows: axis 0
for f in "tests/fixtures/torch_sd.pt|PyTorch checkpoint" \
         "tests/fixtures/mlp.safetensors|PyTorch name .weight" \
         "tests/fixtures/model.gguf|GGUF stores a weight as rows"; do
    out=$("$QSCOPE" --json -c "load ${f%%|*}; scheme int8 per-channel; qparams") || fail "${f%%|*}"
    has "$out" '"axis":0'
    has "$out" "\"axis_reason\":\"axis 0: ${f##*|}"
done
# axis=3 on a 2-d tensor names the shape (issue 13 item 9)
err=$("$QSCOPE" -c "synth normal n=4096; scheme int8 per-channel axis=3" 2>&1) && fail "axis=3 accepted"
has "$err" "axis 3 out of range for shape \[4096\]"
err=$("$QSCOPE" -c "load $tf dense/kernel; scheme int8 per-channel axis=3" 2>&1) && fail "axis=3 on 2-d"
has "$err" "axis 3 out of range for shape \[128, 10\]"
hasnt "$err" "build"
err=$("$QSCOPE" -c "scheme int8 per-channel axis=sideways" 2>&1) && fail "axis=sideways accepted"
has "$err" "axis=sideways: expected auto or an integer"

# codes value=V: the library's code; under trt 1.8416965·127/2.2170186 = 105.49999 → 105
out=$("$QSCOPE" --json -c "values -2.2170186 2.2170186 1.8416965; scheme int8 convention=trt; codes value=1.8416965; derive 1.8416965") || fail "trt codes"
has "$out" '"code":105,"dequant":1.8329681'
has "$out" '"narrow":true'
has "$out" '"qmin":-127'
out=$("$QSCOPE" --json -c "values -20 1000; scheme uint8 asym; codes value=1000; codes code=5") || fail "codes code="
has "$out" '"code":255'
has "$out" '"code":5,"dequant":0.0'
err=$("$QSCOPE" -c "values -20 1000; scheme uint8 asym; codes code=300" 2>&1) && fail "code=300"
has "$err" "code=300 is outside the code range 0..255"
err=$("$QSCOPE" -c "values 1 2; scheme fp16; codes value=1" 2>&1) && fail "fp16 codes value="
has "$err" "no integer grid"
# already-quantized weights (issue 13 item 2): stats says distinct / grid_step; compare and
# report explain the off-chart SQNR; ordinary floats and a few typed values are not flagged
dq=tests/fixtures/dequantized.safetensors
out=$("$QSCOPE" --json -c "load $dq fc.weight; stats; compare bits=7,8 calibs=minmax") || fail "dq stats"
has "$out" '"distinct":232'
has "$out" '"grid_step":0.0078125'
has "$out" '"grid_levels":256'
has "$out" '"quantized":"already quantized: 232 distinct values on a uniform grid of step 0.0078125'
has "$out" '"note":"already quantized'
out=$("$QSCOPE" --json -c "load $dq fc2.weight; stats") || fail "fc2 stats"
has "$out" '"distinct":4096'
has "$out" '"grid_step":null'
hasnt "$out" '"quantized"'
out=$("$QSCOPE" --json -c "values 1 2 3 5; stats") || fail "values stats"
has "$out" '"distinct":4'
hasnt "$out" '"quantized"'
out=$("$QSCOPE" --json -c "synth normal n=100000; stats") || fail "synth stats"
has "$out" '"distinct":null'
has "$out" '"distinct_over":65536'
out=$("$QSCOPE" --json -c "load $dq; report") || fail "report"
has "$out" '"grid":"8-bit"'
has "$out" '"note":"fc.weight: already quantized'
echo "axis_codes: ok"
