#!/usr/bin/env bash
# model.sh — issue 9 through the real binary: GGUF and torch checkpoints load, the os.system
# pickle is refused (and nothing runs), sharded folders open, report/export/blocks keys,
# export never overwrites without --force, exit statuses.
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -q -- "$2" <<<"$1" || fail "expected '$2' in: $1"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$("$QSCOPE" -c "load tests/fixtures/model.gguf blk.0.q4_k; tensors; stats" --json) \
    || fail "gguf load exit $?"
has "$out" '"format":"gguf"'
has "$out" '"general.architecture":"llama"'
has "$out" '{"name":"blk.0.q4_k","dtype":"Q4_K","shape":\[2,256\],"n":512,"bytes":288'
has "$out" '{"name":"unsupported.iq2_xs","dtype":"IQ2_XS"'

out=$("$QSCOPE" -c "load tests/fixtures/torch_sd.pt view; stats" --json) || fail "torch exit $?"
has "$out" '"format":"torch"'
has "$out" '"n":6'

rm -f /tmp/qscope_pickle_pwned
err=$("$QSCOPE" -c "load tests/fixtures/torch_evil.pt" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "evil pickle exit $rc, want 2"
has "$err" "refusing to load global 'posix.system'"
[ ! -e /tmp/qscope_pickle_pwned ] || fail "the pickle's os.system ran"

err=$("$QSCOPE" -c "load tests/fixtures/torch_legacy.pt" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "legacy exit $rc"
has "$err" "legacy (non-zip) PyTorch checkpoint: not supported"

out=$("$QSCOPE" -c "load tests/fixtures/shards; tensors" --json) || fail "shards exit $?"
has "$out" '"format":"safetensors-sharded"'
has "$out" '"layers.1.weight"'

out=$("$QSCOPE" -c "load tests/fixtures/model.gguf; report q4_k" --json) || fail "report exit"
for k in '"scheme":"Q4_K (ggml' '"rows":\[{"tensor":' '"sqnr_db":' '"mse":' \
         '"max_abs_err":' '"worst":' '"skipped":'; do has "$out" "$k"; done

out=$("$QSCOPE" -c "load tests/fixtures/model.gguf srcK; scheme int8 sym; export $tmp/w.safetensors; load $tmp/w.safetensors; tensors" --json) \
    || fail "export exit $?"
has "$out" '"tensors":\["srcK","srcK.scale","srcK.zero_point"\]'
has "$out" '{"name":"srcK","dtype":"I8","shape":\[2,256\]'
err=$("$QSCOPE" -c "values 1 2 3; export $tmp/w.safetensors" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "overwrite exit $rc"
has "$err" "already exists (add --force to replace it)"
"$QSCOPE" -c "values 1 2 3; export $tmp/w.safetensors --force" >/dev/null || fail "--force"
ls -A "$tmp" | grep -q '^\.' && fail "temporary files left: $(ls -A "$tmp")"

out=$("$QSCOPE" -c "load tests/fixtures/model.gguf blk.0.q4_0; blocks" --json) || fail "blocks"
for k in '"type":"Q4_0"' '"source":"stored in the file"' '"codes":\[' '"values":\[' \
         '"raw":"' '"steps":\['; do has "$out" "$k"; done
out=$("$QSCOPE" -c "load tests/fixtures/model.gguf srcK; ggml" --json) || fail "ggml exit $?"
for k in '"format":"q4_k","kind":"ggml block","bits":4.5' '"format":"nf4 block=64"' \
         '"format":"int8 sym per-channel","kind":"engine"'; do has "$out" "$k"; done
exit 0
