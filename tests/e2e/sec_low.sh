#!/usr/bin/env bash
# sec_low.sh — issue 19's low items: an fp16 cast that overflows to ±Inf counts as clipped
# (it said 0, as an exact result does), with an infinite error (it said nan, "undefined"); a
# ±3.4e38 range gets its true scale, not a clamped FLT_MAX with a clean-looking 3 dB; a script
# that sources itself four times stops at once with one clear error instead of running 87,381
# times.
set -u
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -qF -- "$2" <<<"$1" || fail "expected '$2' in: $1"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
out=$("$QSCOPE" -c "values 70000 1 2; scheme fp16; quant" --json) || fail "fp16 quant: $?"
has "$(tail -1 <<<"$out")" '"clipped":1'
# ... with an infinite error (70000 -> inf: |e| = inf), not "undefined" nan metrics
for kv in '"mse":"inf"' '"max_abs_err":"inf"' '"sqnr_db":"-inf"' '"mean_err":"inf"' \
          'the error is infinite'; do
    has "$(tail -1 <<<"$out")" "$kv"
done
out=$("$QSCOPE" -c "values 70000 -70000 1; compare formats=fp16" --json) || fail "fp16 compare"
has "$(tail -1 <<<"$out")" '"sqnr_db":"-inf"'
# an input of inf cast to inf has the error inf - inf = nan (numpy: mse nan): with an
# overflowed 70000 beside it the metrics stay nan, not inf (they said inf, mean_err nan)
out=$("$QSCOPE" -c "values inf 70000 1; scheme fp16; quant" --json) || fail "inf input: $?"
has "$(tail -1 <<<"$out")" '"mse":"nan"'
has "$(tail -1 <<<"$out")" 'the error metrics are undefined'
# codes says what quant says of the same values (it judged by the dequantized values alone:
# 'the error is infinite' beside quant's 'undefined')
out=$("$QSCOPE" -c "values inf 70000 1; scheme fp16; codes" --json) || fail "inf codes: $?"
has "$(tail -1 <<<"$out")" 'the error metrics are undefined'
out=$("$QSCOPE" -c "values 70000 1 2; scheme fp16; codes" --json) || fail "fp16 codes: $?"
has "$(tail -1 <<<"$out")" 'the error is infinite'
out=$("$QSCOPE" -c "values inf 70000 1; compare formats=fp16" --json) || fail "inf compare"
tail -1 <<<"$out" | python3 -c 'import json, sys
r = [r for r in json.load(sys.stdin)["rows"] if r["scheme"] == "fp16"][0]
sys.exit(0 if r["mse"] == r["max_abs_err"] == r["sqnr_db"] == "nan" else "compare fp16 row: %s" % r)' \
    || fail "inf input: compare's fp16 row"
# the same without an overflow: the NaN error alone leaves SQNR and the largest error
# undefined (they said inf and 0, "exact", beside mse nan)
out=$("$QSCOPE" -c "values inf 1 2; scheme fp16; quant" --json) || fail "inf alone: $?"
tail -1 <<<"$out" | python3 -c 'import json, sys
r = json.load(sys.stdin)
sys.exit(0 if r["mse"] == r["max_abs_err"] == r["sqnr_db"] == "nan" else "inf alone: %s" % r)' \
    || fail "inf input alone: sqnr/max_abs_err"

# a NaN among them (a ggml block scale stored as inf: 0 * inf) leaves the metrics undefined
out=$("$QSCOPE" -c "values 1e30 -2e30 0; scheme q8_0; quant" --json) || fail "q8_0 quant"
has "$(tail -1 <<<"$out")" '"mse":"nan"'
has "$(tail -1 <<<"$out")" 'the error metrics are undefined'
out=$("$QSCOPE" -c "values -3.4e38 3.4e38 1; scheme int8; qparams" --json) || fail "qparams"
scale=$(tail -1 <<<"$out" | sed -n 's/.*"scale":\[\([^],]*\)\].*/\1/p')
python3 -c "import sys; s=float(sys.argv[1]); sys.exit(0 if abs(s/(6.8e38/255)-1) < 1e-6 else 1)" \
    "$scale" || fail "the scale of [-3.4e38, 3.4e38] is $scale, not 6.8e38/255"
out=$("$QSCOPE" -c "values -3.4e38 3.4e38 1; scheme int8; quant" --json)
grep -q '"sqnr_db":3.01' <<<"$out" && fail "a clean-looking 3 dB: $out"
printf 'source self.qs\nsource self.qs\nsource self.qs\nsource self.qs\n' >"$tmp/self.qs"
err=$(cd "$tmp" && timeout 60 "$QSCOPE" -c "source self.qs" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "self-sourcing script: exit $rc"
[ "$(wc -l <<<"$err")" -le 3 ] || fail "self-sourcing: $(wc -l <<<"$err") error lines"
has "$err" "nested too deeply"
echo ok
