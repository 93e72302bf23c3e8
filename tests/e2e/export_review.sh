#!/usr/bin/env bash
# export_review.sh — export's file review (findings 1-4): with --all, safetensors metadata
# gives each tensor's own axis (NAME.axis), GGUF refuses names of 64 bytes or more (never
# shortened) and keeps 1-D tensors F32 whatever their length, `replaced` says whether a file
# was replaced, and a bad axis under --all names the command and the tensor.
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -qF -- "$2" <<<"$1" || fail "expected '$2' in: $1"; }
lacks() { grep -qF -- "$2" <<<"$1" && fail "did not expect '$2' in: $1"; return 0; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# float32 safetensors files: tf (a Keras Dense kernel [in, out], its bias, a conv [h, w, out]),
# long (one name of 101 bytes, one of 63), b64 (a weight and two 1-D tensors of 64 values)
python3 - <<'PY'
import json, math, struct
def st(path, T):
    h, o, data = {"__metadata__": {"format": "tf"}}, 0, b""
    for n, (shape, v) in T.items():
        h[n] = {"dtype": "F32", "shape": shape, "data_offsets": [o, o + 4 * len(v)]}
        o += 4 * len(v)
        data += struct.pack("<%df" % len(v), *v)
    j = json.dumps(h).encode()
    j += b" " * (-len(j) % 8)
    open(path, "wb").write(struct.pack("<Q", len(j)) + j + data)
v = lambda n, s=1: [math.sin(i * 0.37 + s) * (1 + i % 5) for i in range(n)]
st("tf.safetensors", {"dense/kernel": ([8, 32], v(256)), "dense/bias": ([32], v(32, 2)),
                      "conv3": ([4, 6, 32], v(768, 3))})
st("long.safetensors", {"model.layers.0." + "very_long_component_" * 4 + "weight": ([2, 32], v(64)),
                        "n" * 63: ([2, 32], v(64, 5))})
st("ok63.safetensors", {"n" * 63: ([2, 32], v(64, 5))})
st("b64.safetensors", {"fc.weight": ([64, 64], v(4096)), "fc.bias": ([64], v(64, 4)),
                       "norm.weight": ([64], [1.0] * 64)})
st("empty.safetensors", {"w": ([2, 32], v(64)), "unused": ([0, 3], [])})
PY
meta() {   # the __metadata__ of a safetensors file, one key=value a line
    python3 -c 'import json, struct, sys
d = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", d[:8])[0]
for k, v in json.loads(d[8:8 + n])["__metadata__"].items(): print("%s=%s" % (k, v))' "$1"
}

# ---- 1: --all with per-channel axis=auto: each tensor its own axis --------------------------
out=$("$QSCOPE" -c "load tf.safetensors; scheme int8 sym per-channel; export v1.safetensors --all" 2>&1) ||
    fail "export --all: $out"
m=$(meta v1.safetensors)
has "$m" "dense/kernel.axis=1"          # Keras Dense [in, out]: out is axis 1
has "$m" "dense/bias.axis=0"            # a 1-D tensor has axis 0 only
has "$m" "conv3.axis=2"                 # TensorFlow layout: channels last
grep -qx "axis=[0-9-]*" <<<"$m" && fail "one numeric axis for every tensor: $m"
has "$m" "axis=per tensor: see NAME.axis"
# the axis written is the one the scales run along: conv3.scale has one entry per channel (32)
"$QSCOPE" -c "load v1.safetensors conv3.scale" --json | grep -qF '"shape":[32]' ||
    fail "conv3.scale is not per channel of axis 2"
# one tensor: a plain number, the tensor's own axis
out=$("$QSCOPE" -c "load tf.safetensors conv3; scheme int8 sym per-channel; export v1c.safetensors" 2>&1) ||
    fail "export conv3: $out"
m=$(meta v1c.safetensors)
grep -qx "axis=2" <<<"$m" || fail "conv3 alone: axis 2 expected: $m"
lacks "$m" ".axis="

# ---- 2: GGUF names of 64 bytes or more are refused, naming the tensor; 63 are fine ----------
out=$("$QSCOPE" -c "load long.safetensors; export v2.gguf --all" 2>&1) && fail "a 101-byte name was written"
has "$out" "export: GGUF tensor names must be shorter than 64 bytes"
has "$out" "'model.layers.0.very_long_component_very_long_component_very_long_component_very_long_component_weight' has 101 bytes"
[ "$(grep -c 'qscope:' <<<"$out")" = 1 ] || fail "not one line: $out"
[ -e v2.gguf ] && fail "v2.gguf was written"
out=$("$QSCOPE" -c "load long.safetensors $(printf 'n%.0s' {1..63}); export v2b.gguf" 2>&1) ||
    fail "a 63-byte name: $out"
out=$("$QSCOPE" -c "load ok63.safetensors; export v2c.gguf --all; load v2c.gguf; tensors" --json 2>&1) ||
    fail "a 63-byte name, --all: $out"
has "$out" "\"name\":\"$(printf 'n%.0s' {1..63})\""

# ---- 3: --all GGUF keeps 1-D tensors F32 even when 64 values are whole blocks ---------------
out=$("$QSCOPE" -c "load b64.safetensors; export v3.gguf --all --type q4_0" --json 2>&1) ||
    fail "export b64: $out"
has "$out" '"n_quantized":1'
out=$("$QSCOPE" -c "load v3.gguf; tensors" --json) || fail "load v3.gguf: $out"
has "$out" '{"name":"fc.weight","dtype":"Q4_0"'
has "$out" '{"name":"fc.bias","dtype":"F32"'
has "$out" '{"name":"norm.weight","dtype":"F32"'
# one tensor, a --type asked for: a 1-D tensor of whole blocks is still quantized
out=$("$QSCOPE" -c "load b64.safetensors fc.bias; export v3b.gguf --type q4_0" --json 2>&1) ||
    fail "export fc.bias: $out"
has "$out" '"n_quantized":1'

# ---- 4: replaced says whether a file was replaced; the axis error names tensor and command ---
v32=$(printf '1 %.0s' {1..32})
for f in v4.npy v4.safetensors v4.gguf; do
    out=$("$QSCOPE" -c "values $v32; export $f --force" --json) || fail "$f: $out"
    has "$out" '"replaced":false'
    out=$("$QSCOPE" -c "values $v32; export $f --force" --json) || fail "$f again: $out"
    has "$out" '"replaced":true'
done
rm v4.npy                               # the .json side file alone is replaced too
out=$("$QSCOPE" -c "values 1 2; export v4.npy --force" --json) || fail "v4.npy: $out"
has "$out" '"replaced":true'
out=$("$QSCOPE" -c "load tf.safetensors; scheme int8 sym per-channel axis=1; export x.safetensors --all" 2>&1) &&
    fail "axis 1 on a 1-D tensor was accepted"
has "$out" "qscope: export: tensor 'dense/bias': axis 1 out of range for shape [32]"
[ -e x.safetensors ] && fail "x.safetensors was written"
# an empty tensor (an unused buffer) does not stop export --all: its codes keep the shape,
# with empty scale / zero point (it stopped the export: "no values to calibrate on")
"$QSCOPE" -c "load empty.safetensors; scheme int8 sym; export e.safetensors --all" >/dev/null \
    || fail "export --all with an empty tensor: exit $?"
python3 -c 'import json, struct, sys
d = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", d[:8])[0]; h = json.loads(d[8:8 + n])
assert h["unused"]["shape"] == [0, 3] and h["unused"]["dtype"] == "I8", h["unused"]
assert h["unused.scale"]["shape"] == [0] and h["w.scale"]["shape"] == [1], h
assert h["w"]["data_offsets"][1] - h["w"]["data_offsets"][0] == 64' e.safetensors \
    || fail "the empty tensor's entries"
echo ok
