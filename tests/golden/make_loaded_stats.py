#!/usr/bin/python3
# make_loaded_stats.py — independent stats (numpy) of tensors in the shipped fixtures, for
# tests/unit/test_cmd_data.c. Run with Debian's python3 + python3-numpy:
#   /usr/bin/python3 tests/golden/make_loaded_stats.py > tests/golden/loaded_stats.txt
import json, struct, sys
import numpy as np

def safetensors(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n])
    data = b[8 + n:]
    out = {}
    dt = {'F32': '<f4', 'F64': '<f8', 'F16': '<f2', 'I8': 'i1', 'U8': 'u1', 'I16': '<i2',
          'I32': '<i4', 'I64': '<i8', 'U16': '<u2', 'U32': '<u4', 'U64': '<u8'}
    for k, v in h.items():
        if k == '__metadata__' or v['dtype'] not in dt:
            continue
        s, e = v['data_offsets']
        out[k] = np.frombuffer(data[s:e], dtype=dt[v['dtype']]).reshape(v['shape'])
    return out

rows = []
for name, arr in safetensors('tests/fixtures/model.safetensors').items():
    rows.append(('tests/fixtures/model.safetensors', name, arr))
for f in ['npy_f4_c.npy', 'npy_f8_fortran.npy', 'npy_i2_be_fortran.npy', 'npy_f4_fortran3d.npy',
          'npy_f2.npy', 'npy_u1.npy']:
    rows.append(('tests/fixtures/' + f, '', np.load('tests/fixtures/' + f)))
print('# file tensor n min max mean std absmax   (numpy, float64 of the float32 working values)')
for f, name, a in rows:
    x = a.astype(np.float32).astype(np.float64).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)):
        continue
    print(f, name or '-', x.size, repr(x.min()), repr(x.max()), repr(x.mean()), repr(x.std()),
          repr(np.abs(x).max()))
