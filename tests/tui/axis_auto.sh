#!/usr/bin/env bash
# axis_auto.sh — per-channel knows the layout (issue 13 items 1 and 9): on a TensorFlow /
# Keras file (tests/fixtures/tf_keras.safetensors, __metadata__ format tf) `g` picks the
# output-channel axis of an HWIO kernel (axis 3) and of a Dense kernel [in, out] (axis 1),
# the Data and Error screens say which and why, `v` shows the channels along that axis, an
# axis of size 1 gets a warning, and an axis that does not fit the tensor says so with its
# shape (it said "the qparams command is not in this build yet").
. "$(dirname "$0")/lib.bash"
fx="$QSCOPE_TOP/tests/fixtures/tf_keras.safetensors"
for size in "80 24" "120 40"; do
    TUI_ARGS="$fx" tui_start $size
    wait_for "conv/kernel  F32 [1, 1, 128, 128]"
    keys g
    wait_for "scheme per-channel: ok"
    wait_for "per-channel · axis 3: TensorFlow HWIO kernel [1, 1, 128, 128]"
    keys v
    wait_for "128 channels (axis 3)"
    keys v
    keys 4
    wait_for "granularity  per-channel"
    wait_for "per-channel · axis 3: TensorFlow HWIO kernel"
    keys 1
    # axis 0 of a 1×1×128×128 kernel has one channel: per-channel would be per-tensor
    keys :
    type_text "scheme per-channel axis=0"
    keys Enter
    wait_for "per-channel · axis 0: given with axis=0"
    wait_for "axis 0 has size 1: one channel, so per-channel is per-tensor"
    keys v
    wait_for "1 channels (axis 0)"
    keys v
    # an explicit axis=3 carried to the 2-d Dense kernel does not fit: say why
    keys :
    type_text "scheme per-channel axis=3"
    keys Enter
    wait_for "per-channel · axis 3: given with axis=3"
    keys t t
    wait_for "dense/kernel  F32 [128, 10]"
    wait_for "scheme: axis 3 out of range for shape [128, 10]"
    keys 4
    wait_for "No error metrics for this scheme: axis 3 out of range for shape [128, 10]"
    keys 1
    screen_text | grep -q "not in this build" && fail "a message names a missing build feature"
    keys :
    type_text "scheme per-channel axis=-7"
    keys Enter
    wait_for "axis -7 out of range for shape [128, 10]"
    # back to axis=auto: the Dense kernel's output channels are its last axis
    keys :
    type_text "scheme per-channel axis=auto"
    keys Enter
    wait_for "per-channel · axis 1: Keras Dense kernel [in, out]"
    keys v
    wait_for "10 channels (axis 1)"
    keys q
    wait_for "EXITED rc=0"
    tui_stop
done
echo "axis_auto: ok"
