#!/usr/bin/env bash
# run.sh — `make bench`: runs the kernel benchmark (build/bench/bench), prints its table and
# writes bench.json at the repository root. OpenBLAS is the GEMM peer when installed.
set -euo pipefail
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
if ! ldconfig -p 2>/dev/null | grep -q libopenblas; then
    echo "note: libopenblas not found; the OpenBLAS column stays empty" \
         "(apt-get install libopenblas0 to compare)" >&2
fi
"$BUILD/bench/bench" bench.json
