#!/usr/bin/env bash
# llm.sh — issue 17 through the real binary: the MX / NVFP4 schemes (bits per weight, derive
# of a block, compare rows), `bits all` of the FP4 / FP6 / E8M0 formats, and the method
# commands on the bundled 64 × 64 tensor with their measured claims (rotation raises 4-bit
# SQNR, smoothing and LLM.int8() raise W8A8 output SQNR, GPTQ / AWQ beat round-to-nearest).
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -q -- "$2" <<<"$1" || fail "expected '$2' in: $1"; }
num() { grep -o "\"$2\":[-0-9.e+]*" <<<"$1" | head -1 | cut -d: -f2; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }' || fail "$3: $1 is not > $2"; }

out=$("$QSCOPE" --json -c "bits all fp4-e2m1; bits all e8m0; bits all fp6-e2m3; bits 3 e8m0") \
    || fail "bits exit $?"
for k in '"count":16' '"hex":"0x7","bits":"0111","value":6' '"hex":"0xF","bits":"1111","value":-6' \
         '"count":256' '"hex":"0xFF","bits":"11111111","value":"nan","stored":"nan","class":"nan"' \
         '"count":64' '"hex":"0x1F","bits":"011111","value":7.5' '"format":"e8m0"' '"value":4'; do
    has "$out" "$k"
done

out=$("$QSCOPE" --json -c "load datasets/default.npy; scheme mxfp4; quant; derive index=40; scheme nvfp4; qparams") \
    || fail "mx exit $?"
for k in '"label":"mxfp4/32","type":"mxfp4","bits":4,"block":32,"element":"fp4-e2m1","scale_format":"e8m0"' \
         '"bits_per_param":4.25' '"title":"shared exponent"' '"title":"element codes"' \
         '"set":1' '"bits_per_param":4.5078125' '"scale_format":"fp8-e4m3"' '"tensor_scale":'; do
    has "$out" "$k"
done

out=$("$QSCOPE" --json -c "load datasets/default.npy; compare calibs=minmax formats=llm") \
    || fail "compare exit $?"
for k in '"scheme":"mxfp4/32","calib":"-","bits":4,"bits_per_param":4.25,"gran":"block32"' \
         '"scheme":"nvfp4/16","calib":"-","bits":4,"bits_per_param":4.5078125,"gran":"block16"' \
         '"scheme":"mxfp8_e4m3/32"' '"scheme":"mxint8/32"' '"scheme":"mxfp6_e2m3/32"'; do
    has "$out" "$k"
done

err=$("$QSCOPE" -c "load datasets/default.npy; scheme mxfp4 block=16" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "bad mx scheme exit $rc, want 2"
has "$err" "blocks of 32"

# the methods
out=$("$QSCOPE" --json -c "load datasets/default.npy; rotate seed=1 bits=4") || fail "rotate exit $?"
gt "$(num "$out" kurtosis_before)" "$(num "$out" kurtosis_after)" "kurtosis falls"
gt "$(num "$out" sqnr_after_db)" "$(num "$out" sqnr_before_db)" "rotated 4-bit SQNR"
gt 1e-4 "$(num "$out" fp32_max_output_change)" "the rotated product"

out=$("$QSCOPE" --json -c "load datasets/default.npy; smoothquant alpha=0.5") || fail "smoothquant exit $?"
has "$out" '"activations":"synthetic activations: 256 rows of N(0,1) with 4 planted outlier channels'
has "$out" '"title":"smoothing factor"'
gt "$(num "$out" sqnr_smoothed_db)" "$(num "$out" sqnr_w8a8_db)" "smoothing"

out=$("$QSCOPE" --json -c "load datasets/default.npy; llmint8") || fail "llmint8 exit $?"
has "$out" '"kept_columns":4'
has "$out" '"columns":64'
has "$out" '"bits_per_weight_int8":8.5'
gt "$(num "$out" bits_per_weight)" "$(num "$out" bits_per_weight_int8)" "LLM.int8() costs more than int8"
gt "$(num "$out" sqnr_llmint8_db)" "$(num "$out" sqnr_int8_db)" "LLM.int8()"

out=$("$QSCOPE" --json -c "load datasets/default.npy; gptq bits=3 group=32 trace=2") || fail "gptq exit $?"
has "$out" '"title":"column 0"'
has "$out" '"title":"update after column 1"'
has "$out" '"matrix":\[64,64\]'
has "$out" '"parts":2,'
grep -qE '"title":"update after column 1",[^}]*"part":2' <<<"$out" || fail "gptq: update after column 1 is not part 2: $out"
gt "$(num "$out" rtn_out_mse)" "$(num "$out" gptq_out_mse)" "GPTQ vs RTN"

# a matrix narrower than the default 4 planted outlier channels (values -20 1000: W [1 × 2])
# plants every column instead of dividing by zero (SIGFPE before)
for c in gptq smoothquant llmint8 awq; do
    out=$("$QSCOPE" --json -c "values -20 1000; $c" 2>&1); rc=$?
    [ $rc -eq 0 ] || fail "$c on a [1 × 2] matrix: exit $rc: $out"
    has "$out" 'with 2 planted outlier channels'
done

out=$("$QSCOPE" --json -c "load datasets/default.npy; awq bits=4 group=32") || fail "awq exit $?"
gt "$(num "$out" rtn_out_mse)" "$(num "$out" awq_out_mse)" "AWQ vs RTN"
# llm-awq's clipping search runs by default and lowers the error of the scaled weights;
# noclip leaves the scale search's result
has "$out" '"clip":true'
gt "$(num "$out" scale_out_mse)" "$(num "$out" awq_out_mse)" "AWQ clipping vs scales only"
gt "$(num "$out" clipped_ranges)" 0 "AWQ clipped ranges"
out=$("$QSCOPE" --json -c "load datasets/default.npy; awq bits=4 group=32 noclip") || fail "awq noclip exit $?"
has "$out" '"clip":false'
[ "$(num "$out" scale_out_mse)" = "$(num "$out" awq_out_mse)" ] || fail "noclip changed the error: $out"

out=$("$QSCOPE" --json -c "load datasets/default.npy; imatrix type=q4_0") || fail "imatrix exit $?"
gt "$(num "$out" weighted_err_ref)" "$(num "$out" weighted_err_imatrix)" "imatrix weighted error"
err=$("$QSCOPE" -c "load datasets/default.npy; imatrix type=q4_k" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "imatrix q4_k on rows of 64 exit $rc, want 2"
has "$err" "not whole Q4_K blocks of 256"

# the GPT lab: MX / NVFP4 rows with their true cost, the rotated model equals fp32, GPTQ
# beats round-to-nearest at 3 bits (lessons/24 pins the numbers)
out=$("$QSCOPE" --json -c "lab gpt sweep formats=mxfp4,nvfp4") || fail "gpt sweep exit $?"
has "$out" '"method":"rtn","format":"mxfp4","bits_per_weight":4.25,'
has "$out" '"method":"rtn","format":"nvfp4","bits_per_weight":4.502604166666667,'
out=$("$QSCOPE" --json -c "lab gpt ptq method=rotate bits=0 chars=2048") || fail "ptq rotate exit $?"
has "$out" '"method":"rotate","format":"fp32"'
gt 1e-9 "$(num "$out" kld)" "KL of the rotated fp32 model"
out=$("$QSCOPE" --json -c "lab gpt ptq method=gptq bits=3 group=32 chars=2048") || fail "ptq gptq exit $?"
# sym under ptq is GPTQ's full grid (-4..3 at 3 bits), not eval's narrow int3-g32-sym: the
# label says which (the two once shared one name and gave two perplexities)
has "$("$QSCOPE" --json -c "lab gpt ptq method=rtn bits=3 sym chars=2048")" \
    '"format":"int3-g32-sym\[-4,3\]"'
gt "$(grep -o '"baseline":{[^}]*}' <<<"$out" | grep -o '"kld":[-0-9.e+]*' | cut -d: -f2)" \
   "$(num "$out" kld)" "GPTQ vs RTN KL at 3 bits"
err=$("$QSCOPE" -c "lab gpt ptq method=gptq chars=40000" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "ptq scoring the calibration text exit $rc, want 2"
has "$err" "would score the calibration text"

err=$("$QSCOPE" -c "values 1 2 3; rotate" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "rotate on 3 values exit $rc, want 2"
has "$err" "power of two"
exit 0
