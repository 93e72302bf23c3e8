#!/usr/bin/env bash
# sec_fuzz.sh — hostile files found while fuzzing the loaders (h_fuzz): each is refused with one
# line naming the file, and the session keeps the tensors it had.
#  - a sharded index whose weight_map names itself with an upper-case ".JSON" opened itself
#    as an index again and again until the stack overflowed (SIGSEGV);
#  - a 4.5 kB PyTorch zip whose data.pkl reaches one 4000-byte key through 2^20 shared lists
#    made 2^20 names of 4 kB (6 GB, then "out of memory");
#  - a 300-byte PyTorch zip whose stored storage entry claims 4 GB (it stores 12 bytes) was
#    accepted as a 10^9-element tensor (over 64 MB, so only read on first use);
#  - a lesson read a file outside its folder through a link that a sharded index names as its
#    shard, or that a folder it loads holds as model.safetensors (only the path given to
#    'load' was checked).
set -u
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -qF -- "$2" <<<"$1" || fail "expected '$2' in: $1"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
# one line naming the file, no control bytes, and the session's tensor is still there
refused() {     # refused FILE WANT
    local out rc
    # a 4 GB address-space cap turns a runaway allocation into a refusal; ASan reserves
    # terabytes of shadow at start (it cannot run under the cap), so make asan goes without
    out=$([ -n "${QSCOPE_SANITIZED:-}" ] || ulimit -v 4000000
          timeout 60 "$QSCOPE" -c "values 1 2 3; load $1; tensors" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "load $1: exit $rc (139: crashed, 124: hung), want 2: $(head -c 600 <<<"$out")"
    has "$out" "qscope: $1: "
    has "$out" "$2"
    [ "$(grep -c "$1" <<<"$out")" -eq 1 ] || fail "load $1: not one line: $out"
    has "$out" "values"     # the tensor made before the bad load
}

printf '{"weight_map": {"w": "m.safetensors.index.JSON"}}' >m.safetensors.index.JSON
refused m.safetensors.index.JSON "shard ./m.safetensors.index.JSON is missing or not a regular safetensors file"
printf '{"weight_map": {"w": "n.safetensors.index.Json"}}' >n.safetensors.index.json
printf '{"weight_map": {"w": "n.safetensors.index.json"}}' >n.safetensors.index.Json
refused n.safetensors.index.json "shard ./n.safetensors.index.Json is missing or not a regular safetensors file"

python3 - <<'PY'
import struct, zipfile
def put(z, name, data):
    z.writestr(zipfile.ZipInfo("fan/" + name, (2020, 1, 1, 0, 0, 0)), data)
def fanout(levels, keylen):
    # _rebuild_tensor_v2(storage '0' of 3 floats, 0, (3,), (1,), False, {}) as memo 1, then
    # {key: it} as memo 2, then l_i = [l_(i-1), l_(i-1)] as memo 2+i
    pk = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\0\0\0storage"
          b"ctorch\nFloatStorage\nX\x01\0\0\x000X\x03\0\0\0cpuK\x03tQK\x00K\x03\x85K\x01\x85"
          b"\x89}tRq\x01}X" + struct.pack("<I", keylen) + b"k" * keylen + b"h\x01sq\x02")
    for i in range(levels):
        pk += b"(h" + bytes([2 + i]) + b"h" + bytes([2 + i]) + b"lq" + bytes([3 + i])
    return pk + b"."
for name, levels, keylen in (("fan_long.pt", 20, 4000), ("fan_many.pt", 20, 1), ("fan_ok.pt", 3, 2)):
    with zipfile.ZipFile(name, "w", zipfile.ZIP_STORED) as z:
        put(z, "data.pkl", fanout(levels, keylen))
        put(z, "data/0", struct.pack("<3f", 1, 2, 3))
PY
python3 - <<'PY'
import struct, zipfile
pk = (b"\x80\x02}X\x01\0\0\0wctorch._utils\n_rebuild_tensor_v2\n((X\x07\0\0\0storage"
      b"ctorch\nFloatStorage\nX\x01\0\0\x000X\x03\0\0\0cpuJ\0\xca\x9a\x3btQK\x00"
      b"J\0\xca\x9a\x3b\x85K\x01\x85\x89}tRs.")            # {'w': 10^9 floats}
with zipfile.ZipFile("liar.pt", "w", zipfile.ZIP_STORED) as z:
    for n, d in (("data.pkl", pk), ("data/0", struct.pack("<3f", 1, 2, 3))):
        z.writestr(zipfile.ZipInfo("liar/" + n, (2020, 1, 1, 0, 0, 0)), d)
b = bytearray(open("liar.pt", "rb").read())
for sig, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
    i = b.find(sig)
    while i >= 0:
        nl = struct.unpack_from("<H", b, i + name_at - 4 if sig == b"PK\x03\x04" else i + 28)[0]
        if b[i + name_at:i + name_at + nl].endswith(b"data/0"):
            struct.pack_into("<I", b, i + size_at, 4000000000)     # the claimed size
        i = b.find(sig, i + 4)
open("liar.pt", "wb").write(b)
PY
refused liar.pt "tensor 'w': its storage claims 4000000000 bytes but stores 12 (a damaged archive)"
refused fan_long.pt "the tensor names take more than 67108864 bytes (limit)"
refused fan_many.pt "more than 262144 tensors (limit)"
# the same structure at a small size loads: 8 names of the one tensor
out=$(timeout 20 "$QSCOPE" -c "load fan_ok.pt; use 1.0.1.kk; stats" --json 2>&1) || fail "fan_ok.pt: $out"
has "$out" '"n_tensors":8'

# ---- the lesson sandbox checks every file a load reads ---------------------------------------
mkdir -p les/dir own/d
python3 - <<'PY'
import json, struct
h = {"secret.w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}}
hb = json.dumps(h).encode(); hb += b" " * ((-len(hb)) % 8)
st = struct.pack("<Q", len(hb)) + hb + struct.pack("<3f", 42, 43, 44)
for p in ("secret.safetensors", "own/shard.safetensors", "own/d/model.safetensors"):
    open(p, "wb").write(st)
for d in ("les", "own"):
    json.dump({"weight_map": {"secret.w": "shard.safetensors"}},
              open(d + "/model.safetensors.index.json", "w"))
PY
ln -s ../secret.safetensors les/shard.safetensors
ln -s ../../secret.safetensors les/dir/model.safetensors
for d in les own; do
    printf 'title: Shards\n\n> load model.safetensors.index.json\n> stats\n' >$d/shards.lesson
    printf 'title: Folder\n\n> load %s\n> stats\n' "$([ $d = les ] && echo dir || echo d)" \
        >$d/folder.lesson
done
for l in shards folder; do
    out=$(cd les && timeout 20 "$QSCOPE" play --headless $l.lesson 2>&1); rc=$?
    [ $rc -ne 0 ] || fail "lesson $l read through a link out of its folder: $out"
    has "$out" "load: refused: a lesson may read only under its own folder"
    grep -q "absmax  *44" <<<"$out" && fail "lesson $l showed the outside file: $out"
    out=$(cd own && timeout 20 "$QSCOPE" play --headless $l.lesson 2>&1) ||
        fail "lesson $l on its own files: $out"
    grep -q "absmax  *44" <<<"$out" || fail "lesson $l on its own files: no stats: $out"
done
echo ok
