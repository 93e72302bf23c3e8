#!/usr/bin/env bash
# quant.sh — the engine issue's done-when commands through the real binary: the seeds'
# examples with --json keys, per-channel and codebook schemes, the 4-bit Laplace compare
# table (percentile, MSE and entropy beat min-max), memory, and one-line errors.
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -q -- "$2" <<<"$1" || fail "expected '$2' in: $1"; }

# [-20, 1000] → uint8: scale 4, zero point 5, -20 → 0, and the derivation steps
out=$("$QSCOPE" -c "values -20 1000; scheme uint8 asym; calib minmax; qparams; derive -20" \
      --json) || fail "seed example exit $?"
for k in '"scale":\[4.0\]' '"zero_point":\[5\]' '"qmin":0' '"qmax":255' '"clip_min":-20.0' \
         '"clip_max":1000.0' '"steps":\[' '"title":"scale"' '"result":"s = 4"' \
         '"title":"zero point"' '"result":"zp = 5"' '"code":0' '"dequant":-20.0' \
         '"formula":' '"substituted":'; do
    has "$out" "$k"
done
out=$("$QSCOPE" -c "values -20 1000; scheme uint8 asym; codes" --json) || fail "codes exit"
has "$out" '"codes":\[0,255\]'

# [0, 1000] → uint8: scale 1000/255 = 3.9216, zero point 0, 250 → 64
out=$("$QSCOPE" -c "values 0 250 1000; scheme uint8 asym; qparams; codes" --json) || fail "0..1000"
has "$out" '"scale":\[3.921568'
has "$out" '"zero_point":\[0\]'
has "$out" '"codes":\[0,64,255\]'
out=$("$QSCOPE" -c "values 0 1000; scheme uint8 asym; derive 250" --json) || fail "derive 250"
has "$out" '"code":64'
has "$out" '"result":"v = 63.75"'

# the scheme words and the label
out=$("$QSCOPE" -c "scheme int4 sym per-channel axis=0" --json) || fail "scheme exit"
has "$out" '"label":"int4 sym/channel"'
has "$out" '"qmin":-8'
out=$("$QSCOPE" -c "scheme nf4 block=64 dq" --json) || fail "nf4 scheme"
has "$out" '"label":"nf4/64+dq"'
has "$out" '"bits_per_param":4.12695'

# per-channel parameters on a 2-d tensor: one scale per row
out=$("$QSCOPE" -c "load tests/fixtures/model.safetensors; scheme int8 sym per-channel axis=0; \
      qparams; quant" --json) || fail "per-channel exit"
has "$out" '"nparams":2'
has "$out" '"per_channel":\[{"channel":0'
for k in '"mse":' '"sqnr_db":' '"max_abs_err":' '"mean_err":' '"cosine":' '"clip_frac":' \
         '"err_hist":{"counts":'; do
    has "$out" "$k"
done

# one step group per channel asked for
out=$("$QSCOPE" -c "load tests/fixtures/model.safetensors; scheme int8 sym per-channel axis=0; \
      derive 0.5 channel=0,1" --json) || fail "derive channels exit"
has "$out" '"sets":\[{"channel":0'
has "$out" '"title":"channel 1: scale"'

# 4 bits on Laplace data: percentile, MSE and entropy all beat min-max, in one table
out=$("$QSCOPE" -c "synth laplace n=100000 seed=3; scheme int4 sym; \
      compare bits=4 calibs=minmax,percentile,mse,entropy" --json) || fail "compare exit"
sq() {  # sqnr_db of the row whose calib is $1
    awk -v c="$1" 'BEGIN { RS = "},{" } $0 ~ "\"calib\":\"" c "\"" {
        if (match($0, /"sqnr_db":[-0-9.e]+/)) print substr($0, RSTART + 10, RLENGTH - 10) }' \
        <<<"$out"
}
mm=$(sq minmax)
[ -n "$mm" ] || fail "no minmax row in: $out"
for c in percentile mse entropy; do
    v=$(sq "$c")
    [ -n "$v" ] || fail "no $c row"
    awk -v a="$v" -v b="$mm" 'BEGIN { exit !(a > b) }' || fail "$c $v dB does not beat minmax $mm dB"
done

# NF4, casts and ggml blocks run end to end
out=$("$QSCOPE" -c "synth normal n=4096 seed=1; scheme nf4 dq; quant; derive; \
      scheme fp8-e4m3; quant; scheme q4_0; codes 4; derive" --json) || fail "formats exit"
has "$out" '"title":"nearest code"'
has "$out" '"title":"double quant: offset"'
has "$out" '"title":"signed max"'

# memory: Llama 2 70B
out=$("$QSCOPE" -c "memory params=70e9" --json) || fail "memory exit"
for k in '"format":"FP32","bits_per_param":32.0,"bytes":280000000000.0' '"gb":140.0' \
         '"gb":70.0' '"gb":35.0' '"assumptions":"parameters from params=70e9' '"method":"QLoRA'; do
    has "$out" "$k"
done

# FP8 casts saturate and count it: e4m3(1000) = 448 and e5m2(100000) = 57344 are clipped
out=$("$QSCOPE" -c "values 1 2 1000 -3; scheme fp8-e4m3; quant; values 1 2 100000 -3; scheme fp8-e5m2; quant" \
      --json) || fail "fp8 clip exit $?"
[ "$(grep -c '"clipped":1' <<<"$out")" -eq 2 ] || fail "fp8 saturation not counted: $out"
# MX: a block holding NaN / Inf gets the NaN scale, and the warning names that cause
out=$("$QSCOPE" -c "values 1 nan 3 inf; scheme mxfp4; quant" --json) || fail "mx nan exit $?"
has "$out" 'NaN scale (E8M0 0xFF)'
has "$out" '"nonfinite":2'
out=$("$QSCOPE" -c "values 1 nan 3 inf; scheme nvfp4; quant" --json) || fail "nvfp4 nan exit $?"
has "$out" 'stores NaN as code 0'
has "$out" '"clipped":1'
# MXINT8's derive: code · 2^-6 · X
out=$("$QSCOPE" -c "load datasets/default.npy; scheme mxint8; derive 0.3" --json) || fail "mxint8 derive"
has "$out" 'q_i · 2^-6 · X'
has "$out" 'value q · 2^-6 = 0.296875'

# errors: one line naming the argument, exit 2
err=$("$QSCOPE" -c "scheme int9" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "bad scheme exit $rc"
has "$err" "int9"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "want one error line: $err"
err=$("$QSCOPE" -c "qparams" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "qparams without tensor exit $rc"
has "$err" "no tensor"
err=$("$QSCOPE" -c "values 1 2; calib percentile p=120" 2>&1 >/dev/null)
has "$err" "p=120"
echo "quant.sh: ok"
