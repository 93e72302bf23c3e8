#!/usr/bin/python3
"""make_loader_golden.py — model files written by the libraries that write them (numpy's
np.save / numpy.lib.format, torch.save, and by hand per the safetensors and GGUF specs), with
the float32 values each tensor must load as, computed here independently of qscope (numpy /
torch conversions; ggml's dequantize_row_* re-implemented in numpy float32, K-quant scales
unpacked the way ggml-quants.c does it). Writes

  tests/golden/loaders/*          the files (a few KB)
  tests/golden/loader_ref.txt     one line per tensor: FILE NAME DTYPE NDIM DIMS... N HEX...
                                  (HEX: the float32 bit pattern, nan for any NaN)

checked by tests/unit/test_loader_ref.c. Run from the repository root with Debian's
python3-numpy and python3-torch:  /usr/bin/python3 tests/golden/make_loader_golden.py"""
import collections
import json
import os
import struct

import numpy as np
import numpy.lib.format as npf
import torch

OUT = 'tests/golden/loaders'
f32 = np.float32
rng = np.random.default_rng(20261204)
torch.manual_seed(20261204)
rows = []


def ref(path, name, dtype, arr):
    a = np.array(arr, order="C")   # (ascontiguousarray would make a 0-d array 1-d)
    if a.dtype == np.float64:
        with np.errstate(over='ignore'):
            v = a.astype(np.float32)
    else:
        v = a.astype(np.float32)
    bits = ['nan' if np.isnan(x) else '%08x' % b
            for x, b in zip(v.ravel(), v.ravel().view(np.uint32))]
    rows.append(' '.join([path, name, dtype, str(a.ndim)] + [str(d) for d in a.shape] +
                         [str(a.size)] + bits))


# ---- .npy ---------------------------------------------------------------------------------
NPYDT = {'f2': 'F16', 'f4': 'F32', 'f8': 'F64', 'i1': 'I8', 'u1': 'U8', 'i2': 'I16', 'u2': 'U16',
         'i4': 'I32', 'u4': 'U32', 'i8': 'I64', 'u8': 'U64', 'b1': 'BOOL'}


def npy(fname, a, version=None):
    path = f'{OUT}/{fname}.npy'
    if version:
        with open(path, 'wb') as fp:
            npf.write_array(fp, a, version=version)
    else:
        np.save(path, a)
    ref(path, fname, NPYDT[a.dtype.str[1:]], a)


special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, 65504, 6e-8, 3.4e38, 1e39,
                    -1e39, 1.5, float.fromhex('0x1.ffffffp+127'),
                    float.fromhex('0x1.fffffefp+127'), 1 / 3])
for code, tag in [('<', 'le'), ('>', 'be')]:
    for t in ['f2', 'f4', 'f8']:
        with np.errstate(over='ignore'):
            npy(f'{tag}_{t}_special', special.astype(code + t))
    for t in ['i2', 'u2', 'i4', 'u4', 'i8', 'u8']:
        info = np.iinfo(np.dtype(t))
        v = [info.min, info.max, 0, 1, 7, info.max // 3] + ([16777217, -16777219]
                                                            if info.min and info.bits >= 32 else [])
        npy(f'{tag}_{t}_ints', np.array(v, dtype=code + t))
npy('i1', np.array([-128, 127, 0, -1, 5], dtype='i1'))
npy('u1', np.array([0, 255, 128, 1], dtype='u1'))
npy('bool', np.array([[True, False], [False, True]]))
npy('scalar', np.array(3.25, dtype='<f4'))
npy('empty', np.zeros((3, 0), dtype='<f4'))
npy('four_d', rng.standard_normal((2, 3, 2, 2)).astype('<f4'))
npy('fortran_f4', np.asfortranarray(rng.standard_normal((3, 5)).astype('<f4')))
npy('fortran_be_f2_3d', np.asfortranarray(rng.standard_normal((2, 3, 4)).astype('>f2')))
npy('fortran_f8_big', np.asfortranarray(rng.standard_normal((7, 33))))
npy('v2', rng.standard_normal((4, 3)).astype('<f4'), version=(2, 0))
npy('v3', rng.standard_normal((3, 2)).astype('>f8'), version=(3, 0))


# ---- safetensors (by hand, per the format's spec: u64 header size, JSON, data) -----------
def st_write(path, tensors, meta=None, pad=True):
    h, off, blobs = {}, 0, []
    for name, (dt, shape, raw) in tensors.items():
        h[name] = {'dtype': dt, 'shape': list(shape), 'data_offsets': [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if meta is not None:
        h['__metadata__'] = meta
    hj = json.dumps(h).encode()
    if pad:
        hj += b' ' * ((-len(hj)) % 8)
    with open(path, 'wb') as fp:
        fp.write(struct.pack('<Q', len(hj)) + hj + b''.join(blobs))


def e4m3(b):
    s, e, m = (-1.0 if b & 0x80 else 1.0), (b >> 3) & 15, b & 7
    if e == 15 and m == 7:
        return np.nan
    return s * (m / 8 * 2.0 ** -6 if e == 0 else (1 + m / 8) * 2.0 ** (e - 7))


def e5m2(b):
    s, e, m = (-1.0 if b & 0x80 else 1.0), (b >> 2) & 31, b & 3
    if e == 31:
        return s * np.inf if m == 0 else np.nan
    return s * (m / 4 * 2.0 ** -14 if e == 0 else (1 + m / 4) * 2.0 ** (e - 15))


path = f'{OUT}/all_dtypes.safetensors'
T = {}
x = rng.standard_normal((3, 5)) * 10
x[0, :4] = [0.0, -0.0, np.inf, np.nan]


def st(name, dt, stored, want):
    T[name] = (dt, stored.shape, stored.tobytes())
    ref(path, name, dt, np.asarray(want).reshape(stored.shape))


st('f32', 'F32', x.astype('<f4'), x.astype('<f4'))
st('f64', 'F64', x, x)
st('f16', 'F16', x.astype('<f2'), x.astype('<f2'))
bf = (x.astype('<f4').view('<u4') >> 16).astype('<u2')
st('bf16', 'BF16', bf, (bf.astype('<u4') << 16).view('<f4'))
for dt, t in [('I8', 'i1'), ('U8', 'u1'), ('I16', '<i2'), ('U16', '<u2'), ('I32', '<i4'),
              ('U32', '<u4'), ('I64', '<i8'), ('U64', '<u8')]:
    info = np.iinfo(np.dtype(t))
    v = np.array([info.min, info.max, 0, 1, 5, info.max // 3], dtype=t).reshape(2, 3)
    st(dt.lower(), dt, v, v)
every = np.arange(256, dtype=np.uint8).reshape(16, 16)
st('f8_e4m3', 'F8_E4M3', every, [e4m3(b) for b in range(256)])
st('f8_e5m2', 'F8_E5M2', every, [e5m2(b) for b in range(256)])
st('bool', 'BOOL', np.array([1, 0, 1, 1], dtype=np.uint8), [1, 0, 1, 1])
st('zero_size', 'F32', np.zeros((0, 4), dtype='<f4'), np.zeros((0, 4)))
st('scalar', 'F32', np.array(2.5, dtype='<f4'), 2.5)
y = rng.standard_normal((2, 1, 3, 2)).astype('<f4')
st('model.layers.0/attn.q_proj.weight', 'F32', y, y)
st_write(path, T, {'format': 'pt', 'note': 'hand-written'})

path = f'{OUT}/unpadded.safetensors'   # header not padded, entries out of offset order
a, b2 = np.arange(6, dtype='<f4').reshape(2, 3), np.arange(3, dtype='<i2')
hj = json.dumps({'b': {'dtype': 'I16', 'shape': [3], 'data_offsets': [24, 30]},
                 'a': {'dtype': 'F32', 'shape': [2, 3], 'data_offsets': [0, 24]}}).encode()
with open(path, 'wb') as fp:
    fp.write(struct.pack('<Q', len(hj)) + hj + a.tobytes() + b2.tobytes())
ref(path, 'a', 'F32', a)
ref(path, 'b', 'I16', b2)

sh = f'{OUT}/sharded'
os.makedirs(sh, exist_ok=True)
a = rng.standard_normal((4, 4)).astype('<f4')
b = rng.standard_normal(4).astype('<f2')
c = rng.standard_normal((2, 3))
s1, s2 = 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'
st_write(f'{sh}/{s1}', {'w.a': ('F32', a.shape, a.tobytes()), 'w.b': ('F16', b.shape, b.tobytes())},
         {'format': 'pt'})
st_write(f'{sh}/{s2}', {'w.c': ('F64', c.shape, c.tobytes())}, {'format': 'pt'})
with open(f'{sh}/model.safetensors.index.json', 'w') as fp:
    json.dump({'metadata': {'total_size': 96},
               'weight_map': {'w.a': s1, 'w.b': s1, 'w.c': s2}}, fp)
for p in [sh, f'{sh}/model.safetensors.index.json']:
    ref(p, 'w.a', 'F32', a)
    ref(p, 'w.b', 'F16', b)
    ref(p, 'w.c', 'F64', c)

# ---- torch.save (zip format) -------------------------------------------------------------
TDT = {torch.float32: 'F32', torch.float64: 'F64', torch.float16: 'F16', torch.bfloat16: 'BF16',
       torch.int8: 'I8', torch.uint8: 'U8', torch.int16: 'I16', torch.int32: 'I32',
       torch.int64: 'I64', torch.bool: 'BOOL'}


def tref(path, name, t):
    t = t.detach()
    v = t.float().numpy() if t.dtype in (torch.bfloat16, torch.bool) else t.numpy()
    ref(path, name, TDT[t.dtype], v)


base = torch.randn(4, 6)
half = torch.randn(3, 5).half()
four = torch.randn(2, 3, 2, 2)
sd = collections.OrderedDict()
sd['w'] = base
sd['w_t'] = base.t()                       # same storage, strides (1, 6)
sd['row2'] = base[2]                       # storage_offset 12
sd['col3'] = base[:, 3]                    # stride 6, offset 3
sd['slice'] = base[1:3, ::2]               # offset 6, strides (6, 2)
sd['end_rows'] = base[4:]                  # shape (0, 6), offset at the storage's end
sd['expand'] = torch.randn(3, 1).expand(3, 4)   # stride 0
sd['as_strided'] = torch.as_strided(base, (1, 3), (100, 2), 1)
sd['h'] = half
sd['h_t'] = half.t()
sd['bf'] = torch.randn(3, 5).bfloat16()
sd['d'] = torch.randn(2, 3, dtype=torch.float64)
sd['i8'] = torch.tensor([-128, 127, 0, 5], dtype=torch.int8)
sd['u8'] = torch.tensor([0, 255, 7], dtype=torch.uint8)
sd['i16'] = torch.tensor([-32768, 32767], dtype=torch.int16)
sd['i32'] = torch.tensor([-2 ** 31, 2 ** 31 - 1, 16777217], dtype=torch.int32)
sd['i64'] = torch.tensor([-2 ** 63, 2 ** 63 - 1, 3], dtype=torch.int64)
sd['b'] = torch.tensor([True, False, True])
sd['scalar'] = torch.tensor(1.75)
sd['empty'] = torch.zeros(0, 3)
sd['four'] = four
sd['permute'] = four.permute(3, 1, 0, 2)
for proto in [2, 4]:
    path = f'{OUT}/state_dict_p{proto}.pt'
    torch.save(sd, path, pickle_protocol=proto)
    for k, v in sd.items():
        tref(path, k, v)

m = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.Conv2d(2, 4, 3))
opt = torch.optim.Adam(m[0].parameters())
m[0](torch.randn(2, 4)).sum().backward()
opt.step()
path = f'{OUT}/checkpoint.pt'
torch.save({'model': m.state_dict(), 'optimizer': opt.state_dict(), 'epoch': 3,
            'args': {'lr': 1e-3, 'name': 'run'}}, path)
for k, v in m.state_dict().items():
    tref(path, 'model.' + k, v)
for i, st_ in opt.state_dict()['state'].items():
    for k, v in st_.items():
        tref(path, f'optimizer.state.{i}.{k}', v)
path = f'{OUT}/parameters.pt'
torch.save(dict(m[0].named_parameters()), path)     # nn.Parameter: _rebuild_parameter
for k, v in m[0].named_parameters():
    tref(path, k, v)


# ---- GGUF v3 / v2 (by hand, per ggml's docs/gguf.md) --------------------------------------
def gstr(s):
    b = s.encode()
    return struct.pack('<Q', len(b)) + b


def gguf_write(path, tensors, kv, align=32, version=3):
    out = b'GGUF' + struct.pack('<IQQ', version, len(tensors), len(kv))
    for k, (t, v) in kv.items():
        out += gstr(k) + struct.pack('<I', t)
        out += gstr(v) if t == 8 else struct.pack('<I', v)
    off, data = 0, b''
    for name, (gt, dims, raw) in tensors.items():
        out += gstr(name) + struct.pack('<I', len(dims)) + struct.pack(f'<{len(dims)}Q', *dims)
        out += struct.pack('<IQ', gt, off)
        pad = (-len(raw)) % align
        data += raw + b'\0' * pad
        off += len(raw) + pad
    out += b'\0' * ((-len(out)) % align)
    with open(path, 'wb') as fp:
        fp.write(out + data)


BS = {8: 34, 2: 18, 3: 20, 6: 22, 7: 24, 10: 84, 11: 110, 12: 144, 13: 176, 14: 210}
HOFF = {8: [0], 2: [0], 3: [0, 2], 6: [0], 7: [0, 2], 10: [80, 82], 11: [108], 12: [0, 2],
        13: [0, 2], 14: [208]}
GNAME = {8: 'Q8_0', 2: 'Q4_0', 3: 'Q4_1', 6: 'Q5_0', 7: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K',
         12: 'Q4_K', 13: 'Q5_K', 14: 'Q6_K'}


def hv(b, o):
    return f32(np.frombuffer(b[o:o + 2], '<f2')[0])


def get_scale_min_k4(j, sc):
    if j < 4:
        return sc[j] & 63, sc[j + 4] & 63
    return (sc[j + 4] & 15) | ((sc[j - 4] >> 6) << 4), (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4)


def dequant_block(gt, b):
    """ggml-quants.c dequantize_row_* for one block, in float32 as ggml computes it."""
    Y = np.zeros(256 if gt >= 10 else 32, dtype=f32)
    if gt == 8:
        Y[:] = np.frombuffer(b[2:], np.int8).astype(f32) * hv(b, 0)
    elif gt in (2, 3):
        d = hv(b, 0)
        qs = np.frombuffer(b[4 if gt == 3 else 2:], np.uint8)
        lo, hi = (qs & 15).astype(f32), (qs >> 4).astype(f32)
        if gt == 2:
            Y[:16], Y[16:] = (lo - f32(8)) * d, (hi - f32(8)) * d
        else:
            m = hv(b, 2)
            Y[:16], Y[16:] = lo * d + m, hi * d + m
    elif gt in (6, 7):
        one = gt == 7
        d, m = hv(b, 0), (hv(b, 2) if one else f32(0))
        o = 4 if one else 2
        qh = struct.unpack('<I', b[o:o + 4])[0]
        qs = b[o + 4:o + 20]
        for j in range(16):
            x0 = (qs[j] & 15) | (((qh >> j) << 4) & 16)
            x1 = (qs[j] >> 4) | ((qh >> (j + 12)) & 16)
            if one:
                Y[j], Y[j + 16] = f32(x0) * d + m, f32(x1) * d + m
            else:
                Y[j], Y[j + 16] = f32(x0 - 16) * d, f32(x1 - 16) * d
    elif gt in (12, 13):
        five = gt == 13
        d, mn, sc = hv(b, 0), hv(b, 2), b[4:16]
        qh, ql = b[16:48], (b[48:] if five else b[16:])
        k, u1, u2, qo = 0, 1, 2, 0
        for j in range(0, 256, 64):
            s, m = get_scale_min_k4(j // 32, sc)
            d1, m1 = d * f32(s), mn * f32(m)
            s, m = get_scale_min_k4(j // 32 + 1, sc)
            d2, m2 = d * f32(s), mn * f32(m)
            for l in range(32):
                c = (ql[qo + l] & 15) + (16 if five and qh[l] & u1 else 0)
                Y[k] = d1 * f32(c) - m1
                k += 1
            for l in range(32):
                c = (ql[qo + l] >> 4) + (16 if five and qh[l] & u2 else 0)
                Y[k] = d2 * f32(c) - m2
                k += 1
            qo, u1, u2 = qo + 32, u1 << 2, u2 << 2
    elif gt == 14:
        ql, qh, d = b[:128], b[128:192], hv(b, 208)
        sc = np.frombuffer(b[192:208], np.int8)
        for n0 in range(0, 256, 128):
            qlo, qho, so = n0 // 2, n0 // 4, n0 // 16
            for l in range(32):
                i = so + l // 16
                q1 = ((ql[qlo + l] & 15) | (((qh[qho + l] >> 0) & 3) << 4)) - 32
                q2 = ((ql[qlo + l + 32] & 15) | (((qh[qho + l] >> 2) & 3) << 4)) - 32
                q3 = ((ql[qlo + l] >> 4) | (((qh[qho + l] >> 4) & 3) << 4)) - 32
                q4 = ((ql[qlo + l + 32] >> 4) | (((qh[qho + l] >> 6) & 3) << 4)) - 32
                Y[n0 + l] = d * f32(sc[i]) * f32(q1)
                Y[n0 + l + 32] = d * f32(sc[i + 2]) * f32(q2)
                Y[n0 + l + 64] = d * f32(sc[i + 4]) * f32(q3)
                Y[n0 + l + 96] = d * f32(sc[i + 6]) * f32(q4)
    elif gt == 10:
        sc, q, d, mn = b[:16], b[16:80], hv(b, 80), hv(b, 82)
        i = k = 0
        for n0 in range(0, 256, 128):
            qo, shift = n0 // 4, 0
            for j in range(4):
                for half in range(2):
                    s = sc[i]
                    i += 1
                    dl, ml = d * f32(s & 15), mn * f32(s >> 4)
                    for l in range(16):
                        Y[k] = dl * f32((q[qo + l + 16 * half] >> shift) & 3) - ml
                        k += 1
                shift += 2
    elif gt == 11:
        hm, q, d = b[:32], b[32:96], hv(b, 108)
        aux = list(struct.unpack('<3I', b[96:108])) + [0]
        tmp, k1, k2 = aux[2], 0x03030303, 0x0f0f0f0f
        aux[2] = ((aux[0] >> 4) & k2) | (((tmp >> 4) & k1) << 4)
        aux[3] = ((aux[1] >> 4) & k2) | (((tmp >> 6) & k1) << 4)
        aux[0] = (aux[0] & k2) | (((tmp >> 0) & k1) << 4)
        aux[1] = (aux[1] & k2) | (((tmp >> 2) & k1) << 4)
        scales = np.frombuffer(struct.pack('<4I', *aux), np.int8)
        i = k = 0
        m = 1
        for n0 in range(0, 256, 128):
            qo, shift = n0 // 4, 0
            for j in range(4):
                for half in range(2):
                    dl = d * f32(int(scales[i]) - 32)
                    i += 1
                    for l in range(16):
                        c = ((q[qo + l + 16 * half] >> shift) & 3) - (0 if hm[l + 16 * half] & m else 4)
                        Y[k] = dl * f32(c)
                        k += 1
                shift += 2
                m <<= 1
    return Y


def block(gt):
    b = bytearray(rng.integers(0, 256, BS[gt], dtype=np.uint8).tobytes())
    for o in HOFF[gt]:
        b[o:o + 2] = rng.uniform(-0.05, 0.05, 1).astype('<f2').tobytes()
    return bytes(b)


path = f'{OUT}/blocks.gguf'
G = {}
for gt, nm in GNAME.items():
    qk, nrows, nb = (256 if gt >= 10 else 32), 2, 2
    blocks = [block(gt) for _ in range(nrows * nb)]
    G['blk.' + nm.lower()] = (gt, [qk * nb, nrows], b''.join(blocks))
    ref(path, 'blk.' + nm.lower(), nm,
        np.concatenate([dequant_block(gt, bb) for bb in blocks]).reshape(nrows, nb * qk))
x = rng.standard_normal((2, 3, 5)).astype('<f4')
G['t.f32'] = (0, [5, 3, 2], x.tobytes())
ref(path, 't.f32', 'F32', x)
G['t.f16'] = (1, [5, 3, 2], x.astype('<f2').tobytes())
ref(path, 't.f16', 'F16', x.astype('<f2'))
bf = (x.view('<u4') >> 16).astype('<u2')
G['t.bf16'] = (30, [5, 3, 2], bf.tobytes())
ref(path, 't.bf16', 'BF16', (bf.astype('<u4') << 16).view('<f4'))
iv = np.array([[-5, 7, 100], [1, 2, -128]], dtype=np.int8)
G['t.i8'] = (24, [3, 2], iv.tobytes())
ref(path, 't.i8', 'I8', iv)
G['t.norm'] = (0, [7], x.ravel()[:7].tobytes())
ref(path, 't.norm', 'F32', x.ravel()[:7])
gguf_write(path, G, {'general.architecture': (8, 'llama'), 'general.alignment': (4, 32)})
path = f'{OUT}/v2_align64.gguf'
gguf_write(path, {'blk.q8_0': G['blk.q8_0'], 't.f32': G['t.f32']},
           {'general.alignment': (4, 64)}, align=64, version=2)
for r in [r for r in rows if r.split()[0].endswith('blocks.gguf') and r.split()[1] in
          ('blk.q8_0', 't.f32')]:
    rows.append(path + r[r.index(' '):])

with open('tests/golden/loader_ref.txt', 'w') as fp:
    fp.write('# made by tests/golden/make_loader_golden.py (numpy %s, torch %s): FILE NAME DTYPE '
             'NDIM DIMS... N FLOAT32-BITS...\n' % (np.__version__, torch.__version__))
    fp.write('\n'.join(rows) + '\n')
print(len(rows), 'tensors')
