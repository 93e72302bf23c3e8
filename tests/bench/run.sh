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
