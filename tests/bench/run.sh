#!/usr/bin/env bash
# run.sh — `make bench`: runs the kernel benchmark (build/bench/bench), prints its table and
# writes bench.json at the repository root. OpenBLAS is the GEMM peer when installed.
set -euo pipefail
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
# OpenBLAS (the GEMM peer) is found by the bench itself with dlopen; absent → column empty.
"$BUILD/bench/bench" bench.json

# ---- lab (issue 7): one training epoch on digits and Fashion-MNIST, and the same MLPs in
# PyTorch (Debian's python3-torch, only when installed) in this run, as a speed-up ratio.
torch_args=""
if /usr/bin/python3 -c "import torch" >/dev/null 2>&1; then
    torch_args=$(/usr/bin/python3 tests/bench/torch_mlp.py) || torch_args=""
else
    echo "bench_lab: PyTorch not installed (apt-get install python3-torch): no ratio"
fi
# shellcheck disable=SC2086
"$BUILD/bench/bench_lab" --json "$BUILD/bench_lab.json" $torch_args

# ---- issue 19: costs that must follow the input's size — per-group histogram calibrations
# (1024 groups of 32: was ~17-38 ms a group whatever its size) and opening a sharded index of
# 50,000 tensors (was quadratic: 7.5-18 s against a direct load's 0.2-1 s).
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
for c in mse entropy; do
    echo "calib $c, 1024 groups of 32: $(ms "$BUILD/qscope" -c "synth normal n=32768; scheme int4 per-group size=32 axis=-1; calib $c; qparams") ms"
done
shd=$(mktemp -d)
python3 - "$shd" <<'PY'
import json, struct, sys
d, n = sys.argv[1], 50000
h = {"model.layers.%d.w" % i: {"dtype": "F32", "shape": [1], "data_offsets": [4 * i, 4 * i + 4]}
     for i in range(n)}
hb = json.dumps(h).encode(); hb += b" " * ((-len(hb)) % 8)
open(d + "/model-1.safetensors", "wb").write(struct.pack("<Q", len(hb)) + hb + b"\0" * (4 * n))
json.dump({"weight_map": {k: "model-1.safetensors" for k in h}},
          open(d + "/model.safetensors.index.json", "w"))
PY
echo "sharded index of 50,000 tensors: $(ms "$BUILD/qscope" -c "load $shd") ms (the shard alone: $(ms "$BUILD/qscope" -c "load $shd/model-1.safetensors") ms)"
rm -rf "$shd"

# ---- GPT lab (issue 16): a training step and generation against PyTorch, and the full sweep
gpt_args=""
if /usr/bin/python3 -c "import torch" >/dev/null 2>&1; then
    gpt_args=$(/usr/bin/python3 tests/bench/torch_gpt.py) || gpt_args=""
fi
# shellcheck disable=SC2086
"$BUILD/bench/bench_gpt" --json "$BUILD/bench_gpt.json" $gpt_args
t0=$(date +%s.%N)
"$BUILD/qscope" -c "lab gpt sweep" --json >/dev/null
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "  full lab gpt sweep (19 formats, 8192 chars): %.1f s (target < 30 s)\n", b - a }'
