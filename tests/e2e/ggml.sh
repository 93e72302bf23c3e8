#!/usr/bin/env bash
# ggml.sh — issue 9's block quantization through the real binary: 'scheme q4_k' and friends
# drive quant / codes / qparams / derive, compare puts ggml rows next to per-channel int4 and
# NF4 in one table, and the bad words fail with one line and exit status 2.
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -q -- "$2" <<<"$1" || fail "expected '$2' in: $1"; }

out=$("$QSCOPE" -c "load tests/golden/ggml_scheme_x.npy; scheme q4_k; quant; codes 4; qparams; derive index=337" --json) \
    || fail "q4_k exit $?"
for k in '"label":"q4_k","type":"q4_k","bits":4' '"ggml_type":"Q4_K","block":256' \
         '"bits_per_param":7.2' '"sqnr_db":21.17126569' '"mse":' '"max_abs_err":' \
         '"mean_err":' '"cosine":' '"clip_frac":0' '"err_hist":{"counts":\[' \
         '"codes":\[' '"dequant":\[' '"dmin":\[' '"granularity":"per-block"' \
         '"title":"sub-block 7"' '"title":"packed bytes"' '"set":2'; do has "$out" "$k"; done

out=$("$QSCOPE" -c "load tests/golden/ggml_scheme_x.npy; compare calibs=minmax 'formats=q8_0,q4_0,q4_k,q6_k,int4 sym per-channel,nf4'" --json) \
    || fail "compare exit $?"
for k in '"scheme":"q4_k","calib":"-","bits":4,"bits_per_param":7.2' \
         '"scheme":"q6_k"' '"scheme":"q8_0"' '"scheme":"int4 sym/channel"' \
         '"scheme":"nf4/64"' '"gran":"block256","convention":"ggml","sqnr_db":21.17126569'; do
    has "$out" "$k"
done

# the text face shows the same table with a bits_per_param column
out=$("$QSCOPE" -c "load datasets/default.npy; scheme q6_k; compare calibs=minmax") \
    || fail "compare text exit $?"
has "$out" "bits_per_param"
has "$out" "q6_k"
has "$out" "nf4/64+dq"

err=$("$QSCOPE" -c "values 1 2 3; scheme q4_k per-channel" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "bad scheme exit $rc, want 2"
has "$err" "a ggml block format has fixed blocks of 256"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "error is not one line: $err"
err=$("$QSCOPE" -c "values 1 2 3; scheme q5_0; derive 0.5" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "derive VALUE exit $rc, want 2"
has "$err" "derive index=I or block=B"
exit 0
