#!/usr/bin/env bash
# export_ref.sh — what `export` and `lab gpt save` write is read back right by other readers:
# safetensors files parse per the format's spec (header JSON starting with '{', __metadata__
# str -> str, data_offsets contiguous from 0 and covering the data, sizes = shape x dtype);
# int8/uint8 codes equal torch.quantize_per_channel / quantize_per_tensor with the written
# scale and zero point; the .npy loads in numpy with the same codes and its .json the same
# scales; GGUF Q8_0/Q4_0/Q4_1/Q5_0/Q5_1 blocks equal, byte for byte, a numpy transcription of
# ggml's quantize_row_*_ref, 1-D tensors stay F32, dims are stored innermost first; `lab save`
# loads into torch nn.Linear layers with load_state_dict(strict=True).
# Needs Debian's /usr/bin/python3 with python3-numpy and python3-torch; skips without them.
set -u
cd "$QSCOPE_TOP"
PY=/usr/bin/python3
"$PY" -c 'import numpy, torch' 2>/dev/null || { echo "ok (skipped: no python3-numpy/torch)"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$PY" - "$tmp" <<'PY' || fail "making the sources"
import json, struct, sys
import numpy as np, torch
d = sys.argv[1]
rng = np.random.default_rng(7)
W = (rng.standard_normal((4, 64)) * 0.1).astype('<f4')
W[1, 5], W[2, 40], W[3, :32] = 0.9, -1.3, 0     # an outlier each way, an all-zero block
B = rng.standard_normal(64).astype('<f4')
h, off, blobs = {}, 0, []
for name, a in [('blk.0.w', W), ('blk.0.bias', B)]:
    h[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [off, off + a.nbytes]}
    blobs.append(a.tobytes()); off += a.nbytes
hj = json.dumps(h).encode(); hj += b' ' * ((-len(hj)) % 8)
open(f'{d}/src.safetensors', 'wb').write(struct.pack('<Q', len(hj)) + hj + b''.join(blobs))
torch.manual_seed(7)
conv = torch.nn.Conv2d(3, 5, 3)
torch.save(conv.state_dict(), f'{d}/conv.pt')
PY

run() { "$QSCOPE" -c "$1" >/dev/null 2>"$tmp/err" || fail "qscope -c '$1': $(cat "$tmp/err")"; }
run "load $tmp/conv.pt weight; scheme int8 sym per-channel; export $tmp/pc.safetensors; export $tmp/pc.npy"
run "load $tmp/conv.pt weight; scheme uint8 asym; export $tmp/u8.safetensors; export $tmp/u8.npy"
run "load $tmp/conv.pt; scheme int8 sym per-channel; export $tmp/all.safetensors --all"
for t in q8_0 q4_0 q4_1 q5_0 q5_1; do
    run "load $tmp/src.safetensors blk.0.w; export $tmp/$t.gguf --all --type $t"
done
run "lab gpt save $tmp/gpt.safetensors"
run "lab train epochs=1; lab save $tmp/mlp.safetensors"

"$PY" - "$tmp" <<'PY' || fail "a written file did not read back right"
import json, struct, sys
import numpy as np, torch
d = sys.argv[1]
bad = []
SZ = {'F64': 8, 'F32': 4, 'F16': 2, 'BF16': 2, 'I64': 8, 'I32': 4, 'I16': 2, 'I8': 1, 'U8': 1,
      'U16': 2, 'U32': 4, 'U64': 8, 'BOOL': 1, 'F8_E4M3': 1, 'F8_E5M2': 1}
NP = {'F64': '<f8', 'F32': '<f4', 'F16': '<f2', 'I64': '<i8', 'I32': '<i4', 'I16': '<i2',
      'I8': 'i1', 'U8': 'u1'}

def st_read(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    hj = b[8:8 + n]
    if not hj.startswith(b'{'): bad.append(f'{path}: header does not start with {{')
    h = json.loads(hj)
    data = b[8 + n:]
    meta = h.pop('__metadata__', {})
    if not all(isinstance(v, str) for v in meta.values()):
        bad.append(f'{path}: __metadata__ values must be strings')
    pos, out = 0, {}
    for k, v in sorted(h.items(), key=lambda kv: kv[1]['data_offsets']):
        s, e = v['data_offsets']
        if s != pos: bad.append(f'{path} {k}: data starts at {s}, want {pos}')
        if e - s != int(np.prod(v['shape'], dtype=np.int64)) * SZ[v['dtype']]:
            bad.append(f'{path} {k}: {e - s} bytes for {v["dtype"]} {v["shape"]}')
        out[k] = np.frombuffer(data[s:e], NP[v['dtype']]).reshape(v['shape'])
        pos = e
    if pos != len(data): bad.append(f'{path}: tensors cover {pos} of {len(data)} data bytes')
    return meta, out

conv = torch.load(f'{d}/conv.pt')
meta, out = st_read(f'{d}/pc.safetensors')
c, s, z = out['weight'], out['weight.scale'], out['weight.zero_point']
r = torch.quantize_per_channel(conv['weight'], torch.tensor(s.astype(np.float64)),
                               torch.tensor(z.astype(np.int64)), 0, torch.qint8).int_repr().numpy()
if c.dtype != np.int8 or not np.array_equal(r, c):
    bad.append(f'int8 per-channel codes: {int((r != c).sum())} differ from torch')
a = np.load(f'{d}/pc.npy')
j = json.load(open(f'{d}/pc.npy.json'))
if a.dtype != np.int8 or not np.array_equal(a, c): bad.append('pc.npy codes != pc.safetensors')
if not np.array_equal(np.array(j['scale'], np.float32), s) or j['zero_point'] != z.tolist():
    bad.append('pc.npy.json scale/zero_point != pc.safetensors')
meta, out = st_read(f'{d}/u8.safetensors')
c, s, z = out['weight'], out['weight.scale'], out['weight.zero_point']
r = torch.quantize_per_tensor(conv['weight'], float(s.ravel()[0]), int(z.ravel()[0]),
                              torch.quint8).int_repr().numpy()
if c.dtype != np.uint8 or not np.array_equal(r, c):
    bad.append(f'uint8 per-tensor codes: {int((r != c).sum())} differ from torch')
u = np.load(f'{d}/u8.npy')
if u.dtype != np.uint8 or not np.array_equal(u, c): bad.append('u8.npy codes != u8.safetensors')
meta, out = st_read(f'{d}/all.safetensors')
for name, src in conv.items():
    c, s, z = out[name], out[name + '.scale'], out[name + '.zero_point']
    ax = int(meta[name + '.axis'])
    r = torch.quantize_per_channel(src, torch.tensor(s.astype(np.float64)),
                                   torch.tensor(z.astype(np.int64)), ax, torch.qint8)
    if not np.array_equal(r.int_repr().numpy(), c): bad.append(f'--all {name}: codes differ')
st_read(f'{d}/gpt.safetensors')
meta, out = st_read(f'{d}/mlp.safetensors')       # PyTorch's nn.Linear layout: [out, in]
sizes = [int(v) for v in meta['sizes'].split(',')]
net = {f'fc{i + 1}': torch.nn.Linear(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)}
mod = torch.nn.ModuleDict(net)
try:
    mod.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in out.items()}, strict=True)
except RuntimeError as e:
    bad.append(f'lab save: torch load_state_dict: {e}')

# GGUF: ggml's quantize_row_*_ref (ggml-quants.c) in numpy float32
f32 = np.float32
def ref_blocks(gt, x):
    out = b''
    for blk in x.reshape(-1, 32):
        if gt == 8:
            dd = f32(np.abs(blk).max() / f32(127))
            idv = f32(1) / dd if dd else f32(0)
            v = blk * idv
            q = np.sign(v) * np.floor(np.abs(v) + f32(0.5))           # roundf
            out += np.array(dd, '<f2').tobytes() + q.astype(np.int8).tobytes()
        elif gt in (2, 6):
            mx = blk[int(np.argmax(np.abs(blk)))]
            nmax = 8 if gt == 2 else 16
            dd = f32(mx / f32(-nmax))
            idv = f32(1) / dd if dd else f32(0)
            xi = np.minimum(2 * nmax - 1, np.trunc(blk * idv + f32(nmax + 0.5))).astype(np.int64)
            hdr = np.array(dd, '<f2').tobytes()
            if gt == 2:
                out += hdr + (xi[:16] | (xi[16:] << 4)).astype(np.uint8).tobytes()
            else:
                qh = sum(((int(xi[j]) & 16) >> 4) << j | ((int(xi[j + 16]) & 16) >> 4) << (j + 16)
                         for j in range(16))
                out += hdr + struct.pack('<I', qh) + \
                    ((xi[:16] & 15) | ((xi[16:] & 15) << 4)).astype(np.uint8).tobytes()
        else:
            mn, mx = blk.min(), blk.max()
            nmax = 15 if gt == 3 else 31
            dd = f32((mx - mn) / f32(nmax))
            idv = f32(1) / dd if dd else f32(0)
            xi = np.trunc((blk - mn) * idv + f32(0.5)).astype(np.int64)
            hdr = np.array(dd, '<f2').tobytes() + np.array(mn, '<f2').tobytes()
            if gt == 3:
                xi = np.minimum(15, xi)
                out += hdr + (xi[:16] | (xi[16:] << 4)).astype(np.uint8).tobytes()
            else:
                qh = sum(((int(xi[j]) & 16) >> 4) << j | ((int(xi[j + 16]) & 16) >> 4) << (j + 16)
                         for j in range(16))
                out += hdr + struct.pack('<I', qh) + \
                    ((xi[:16] & 15) | ((xi[16:] & 15) << 4)).astype(np.uint8).tobytes()
    return out

def gguf_read(path):
    b = open(path, 'rb').read()
    assert b[:4] == b'GGUF'
    ver, nt, nkv = struct.unpack_from('<IQQ', b, 4)
    p = 24
    def rs():
        nonlocal p
        n = struct.unpack_from('<Q', b, p)[0]; s = b[p + 8:p + 8 + n].decode(); p += 8 + n
        return s
    FMT = {0: '<B', 1: '<b', 2: '<H', 3: '<h', 4: '<I', 5: '<i', 6: '<f', 7: '<?', 10: '<Q',
           11: '<q', 12: '<d'}
    def rv(t):
        nonlocal p
        if t == 8: return rs()
        if t == 9:
            at, n = struct.unpack_from('<IQ', b, p); p += 12
            return [rv(at) for _ in range(n)]
        v = struct.unpack_from(FMT[t], b, p)[0]; p += struct.calcsize(FMT[t])
        return v
    kv = {}
    for _ in range(nkv):
        k = rs(); t = struct.unpack_from('<I', b, p)[0]; p += 4; kv[k] = rv(t)
    infos = {}
    for _ in range(nt):
        name = rs(); nd = struct.unpack_from('<I', b, p)[0]; p += 4
        dims = list(struct.unpack_from(f'<{nd}Q', b, p)); p += 8 * nd
        gt, off = struct.unpack_from('<IQ', b, p); p += 12
        infos[name] = (dims, gt, off)
    al = kv.get('general.alignment', 32)
    return ver, infos, b, (p + al - 1) // al * al, al

b0 = open(f'{d}/src.safetensors', 'rb').read()
n0 = struct.unpack('<Q', b0[:8])[0]
W = np.frombuffer(b0[8 + n0:8 + n0 + 1024], '<f4').reshape(4, 64)
B = b0[8 + n0 + 1024:8 + n0 + 1280]
for t, gt, bs in [('q8_0', 8, 34), ('q4_0', 2, 18), ('q4_1', 3, 20), ('q5_0', 6, 22), ('q5_1', 7, 24)]:
    ver, infos, b, ds, al = gguf_read(f'{d}/{t}.gguf')
    dims, g, off = infos['blk.0.w']
    if ver != 3 or dims != [64, 4] or g != gt or (ds + off) % al:
        bad.append(f'{t}: version {ver}, dims {dims}, type {g}, offset {ds + off}')
    got, want = b[ds + off:ds + off + 8 * bs], ref_blocks(gt, W)
    if got != want:
        gb = np.frombuffer(got, np.uint8).reshape(-1, bs)
        wb = np.frombuffer(want, np.uint8).reshape(-1, bs)
        bad.append(f'{t}: blocks {np.flatnonzero((gb != wb).any(1)).tolist()} differ from ggml')
    dims, g, off = infos['blk.0.bias']
    if dims != [64] or g != 0 or b[ds + off:ds + off + 256] != B:
        bad.append(f'{t}: bias dims {dims} type {g} or values differ')
for m in bad: print(m)
sys.exit(1 if bad else 0)
PY
echo ok
