#!/usr/bin/env bash
# tensors.sh — the Data screen's tensor list: a layer's .weight and .bias stay apart (both
# were cut to the same 28 characters); the name column takes the room the others leave.
. "$(dirname "$0")/lib.bash"
# a safetensors file with two long names: 8-byte little-endian header length, JSON, data
h='{"encoder.layer.0.attention.output.dense.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"encoder.layer.0.attention.output.dense.bias":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}'
n=${#h}
{
    printf "$(printf '\\x%02x\\x%02x' $((n & 255)) $((n >> 8)))\\x00\\x00\\x00\\x00\\x00\\x00"
    printf '%s' "$h"
    printf '\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40'
} > "$TUI_TMP/long.safetensors"
tui_start 80 24 LC_ALL=C.UTF-8
wait_for "1 Data"
keys :
type_text "load $TUI_TMP/long.safetensors"
keys Enter
wait_for "load $TUI_TMP/long.safetensors: ok"
wait_for "encoder.layer.0.attention.output.dense.weight F32"
wait_for "encoder.layer.0.attention.output.dense.bias   F32"
keys q
wait_for "EXITED rc=0"
check_tty_restored
echo "tensors: ok"
