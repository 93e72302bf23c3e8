#!/usr/bin/env bash
# gpt.sh — the Lab screen's GPT view: w sweeps the shipped language model (datasets/
# gpt-kjv.safetensors) and shows the formats' table with KL bars; W shows the generations of
# one prompt side by side. Skipped (ok) when the shipped model is absent.
. "$(dirname "$0")/lib.bash"
[ -f "$QSCOPE_TOP/datasets/gpt-kjv.safetensors" ] || { echo "gpt: ok (no shipped model)"; exit 0; }
tui_start 120 32
wait_for "1 Data"
keys 5
wait_for "r runs:"
keys w
wait_for "KL divergence from fp32" 240     # a full sweep: 19 formats (slow on a loaded machine)
wait_for "int4-g32-affine"
wait_for "kv-int4"
keys W
wait_for "prompt: And God said," 120
wait_for "int8-channel"
keys q
wait_for "EXITED rc=0"
tui_stop
echo "gpt: ok"
