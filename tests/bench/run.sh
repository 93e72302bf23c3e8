#!/usr/bin/env bash
# run.sh — `make bench`: runs the kernel benchmark (build/bench/bench), prints its table and
# writes bench.json at the repository root. Peers: OpenBLAS (found by the bench itself with
# dlopen, as installed and with the core type it should use on this CPU) and, when Debian's
# python3-torch is installed, PyTorch (tests/bench/torch_gemm.py, torch_mlp.py).
set -euo pipefail
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
# QSCOPE_KERNELS naming a tier this CPU lacks: refuse before spending minutes
"$BUILD/qscope" --version >/dev/null

# OpenBLAS's idle worker threads spin for 2^28 cycles (about 0.1 s) after each call before they
# sleep; on a 2-core machine they then hold the core the next timed run needs (a threaded
# qscope GEMM right after an OpenBLAS call waited on them: 25x slower in one run, and
# PyTorch's one-thread AMX Linear came out at half). 2^4 cycles: they sleep at once. Their
# wake-up (microseconds) is charged to OpenBLAS's own next call.
export OPENBLAS_THREAD_TIMEOUT=${OPENBLAS_THREAD_TIMEOUT:-4}

have_torch=0
if /usr/bin/python3 -c "import torch" >/dev/null 2>&1; then have_torch=1; fi

# ---- lab (issue 7): one training epoch on digits and Fashion-MNIST, and the same MLPs in
# PyTorch (only when installed) in this run, as a speed-up ratio.
torch_args=""
if [ "$have_torch" = 1 ]; then
    torch_args=$(/usr/bin/python3 tests/bench/torch_mlp.py) || torch_args=""
else
    echo "bench_lab: PyTorch not installed (apt-get install python3-torch): no ratio"
fi
# shellcheck disable=SC2086
"$BUILD/bench/bench_lab" --json "$BUILD/bench_lab.json" $torch_args
lab_fashion=$(sed -n 's/.*"fashion_speedup":\([0-9.]*\).*/\1/p' "$BUILD/bench_lab.json")
if grep -q '"fashion_epoch_s":-1' "$BUILD/bench_lab.json"; then
    lab_fashion="not measured: Fashion-MNIST is not installed (make datasets)"
elif [ "$have_torch" != 1 ]; then
    lab_fashion="not measured: python3-torch is not installed"
elif [ -z "$lab_fashion" ] || [ "$lab_fashion" = "0.000" ]; then
    lab_fashion="not measured: the PyTorch Fashion-MNIST epoch failed"
fi
export QSCOPE_BENCH_LAB_FASHION="$lab_fashion"

# ---- PyTorch GEMM peers (quantized Linear, fp32 matmul), one and two threads
QSCOPE_BENCH_TORCH=""
if [ "$have_torch" = 1 ]; then
    QSCOPE_BENCH_TORCH=$(/usr/bin/python3 tests/bench/torch_gemm.py) || QSCOPE_BENCH_TORCH=""
fi
export QSCOPE_BENCH_TORCH
"$BUILD/bench/bench" bench.json

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
