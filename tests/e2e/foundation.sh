#!/usr/bin/env bash
# foundation.sh — the foundation issue's done-when commands through the real binary:
# `-c` with --json keys, exit statuses, one-line errors naming the file.
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -q -- "$2" <<<"$1" || fail "expected '$2' in: $1"; }

out=$("$QSCOPE" -c "synth normal n=100000 seed=1; stats" --json) || fail "synth/stats exit $?"
for k in '"n":100000' '"min":' '"max":' '"mean":' '"std":' '"absmax":'; do has "$out" "$k"; done

out=$("$QSCOPE" -c "load tests/fixtures/model.safetensors; tensors; stats" --json) || fail "load exit"
has "$out" '{"file":"tests/fixtures/model.safetensors","format":"safetensors"'
has "$out" '"tensors":\[{"name":"encoder/layer.0/weight","dtype":"F32","shape":\[2,3\]'
has "$out" '"absmax":4'

out=$("$QSCOPE" -c "bits 7.32 fp32" --json) || fail "bits exit"
for k in '"format":"fp32"' '"hex":"0x40EA3D71"' '"sign":0' '"exponent":129' \
         '"exponent_unbiased":2' '"exponent_bits":"10000001"' \
         '"mantissa_bits":"11010100011110101110001"' '"value":7.32000017166137'; do
    has "$out" "$k"
done
out=$("$QSCOPE" -c "bits 7.32 fp16" --json) || fail "bits fp16 exit"
has "$out" '"hex":"0x4752"'
has "$out" '"value":7.3203125'

# same seed, same numbers
a=$("$QSCOPE" -c "synth laplace n=1000 seed=5; stats" --json)
b=$("$QSCOPE" -c "synth laplace n=1000 seed=5; stats" --json)
[ "$a" = "$b" ] || fail "synth not deterministic"

# errors: one line naming the file, exit 2, later commands still run
err=$("$QSCOPE" -c "load tests/fixtures/npy_trunc_data.npy; values 1 2; stats" --json 2>&1 >/dev/null)
rc=$?
[ $rc -eq 2 ] || fail "bad file exit $rc, want 2"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "want one error line, got: $err"
has "$err" "qscope: tests/fixtures/npy_trunc_data.npy: "
out=$("$QSCOPE" -c "load tests/fixtures/npy_trunc_data.npy; values 1 2; stats" --json 2>/dev/null)
has "$out" '"n":2'

"$QSCOPE" -c "bogus" >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown command must exit 2"
"$QSCOPE" --help | grep -q "usage: qscope" || fail "--help"
"$QSCOPE" --nope >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option must exit 2"

# a script file: FILE:LINE in errors
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'values 1 2 3\n\nstats\nbogus\n' >"$tmp/s.qs"
err=$("$QSCOPE" "$tmp/s.qs" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "script exit $rc"
has "$err" "s.qs:4: unknown command 'bogus'"
# quoting as in a shell
out=$("$QSCOPE" -c "load 'tests/fixtures/model.safetensors' \"fc.half\"" --json) || fail "quoted"
has "$out" '"tensor":"fc.half"'
echo ok
