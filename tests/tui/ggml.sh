#!/usr/bin/env bash
# ggml.sh — issue 9 in the TUI: 'scheme q4_k' on the ':' line, then the Derive screen (which
# runs `derive`) takes one Q4_K super-block apart, step by step: the block (a 64-wide row
# padded to 256), its super-block scales, its sub-blocks.
. "$(dirname "$0")/lib.bash"
tui_start 120 40 LC_ALL=C.UTF-8
wait_for "1 Data"
keys :
type_text "scheme q4_k"
keys Enter
wait_for "scheme q4_k: ok"
keys 2
wait_for "192 zeros pad this row's last block"
keys n
wait_for "super-block scales"
keys n
wait_for "sub-block 0"
wait_for "default · q4_k · minmax"
keys q
wait_for "EXITED rc=0"
check_tty_restored
echo "ggml: ok"
