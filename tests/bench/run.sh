#!/usr/bin/env bash
# run.sh — `make bench`: runs the kernel benchmark (build/bench/bench), prints its table and
# writes bench.json at the repository root. OpenBLAS is the GEMM peer when installed.
set -euo pipefail
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
# OpenBLAS (the GEMM peer) is found by the bench itself with dlopen; absent → column empty.
"$BUILD/bench/bench" bench.json
