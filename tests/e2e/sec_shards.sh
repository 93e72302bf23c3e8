#!/usr/bin/env bash
# sec_shards.sh — issue 19: opening a sharded index is linear in its tensors (a hash lookup
# per name, not a scan of the shard's list). 100,000 one-element tensors in one shard: the
# quadratic open took minutes (50,000 took 7.5-18 s), a linear one takes a few seconds; the
# timeout is a hang guard ten times above that, not a speed target (those are in make bench).
set -u
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp" <<'PY'
import json, struct, sys
d, n = sys.argv[1], 100000
h = {"model.layers.%d.w" % i: {"dtype": "F32", "shape": [1], "data_offsets": [4 * i, 4 * i + 4]}
     for i in range(n)}
hb = json.dumps(h).encode(); hb += b" " * ((-len(hb)) % 8)
open(d + "/model-1.safetensors", "wb").write(struct.pack("<Q", len(hb)) + hb + b"\0" * (4 * n))
json.dump({"weight_map": {k: "model-1.safetensors" for k in h}},
          open(d + "/model.safetensors.index.json", "w"))
PY
out=$(timeout 60 "$QSCOPE" -c "load $tmp; use model.layers.99999.w; stats" --json 2>&1); rc=$?
[ $rc -eq 0 ] || fail "load of a 100,000-tensor sharded index: exit $rc (124: over 60 s)"
grep -q '"n_tensors":100000' <<<"$out" || fail "tensor count: $out"
echo ok
