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
