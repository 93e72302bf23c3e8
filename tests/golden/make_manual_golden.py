#!/usr/bin/python3
"""make_manual_golden.py — reference values for `calib manual` (a clip range given by hand).

Run with Debian's /usr/bin/python3 (numpy, torch):  /usr/bin/python3 make_manual_golden.py
Writes, next to this script:
  manual_x.npy       a 3x8 float32 tensor (normal, one outlier per row)
  manual_clip.json   for each case: the scheme words, the manual range, and PyTorch's answer:
                     an observer whose min_val/max_val are set to the range by hand
                     (MinMaxObserver / PerChannelMinMaxObserver.calculate_qparams, which widen
                     to include 0 and apply the symmetric rule), then the codes from
                     torch.quantize_per_tensor / quantize_per_channel (row-major).
Floats are written as the shortest decimal of the float32 value. The C test
(tests/unit/test_cmd_quant.c) reads these files; torch is not needed to run it.
"""
import json
import os

import numpy as np
import torch
from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261123)
x = rng.normal(0.0, 1.0, (3, 8)).astype(np.float32)
x[:, 5] *= 6.0                                  # an outlier per row: clipping matters
np.save(os.path.join(HERE, "manual_x.npy"), x)
t = torch.from_numpy(x)


def f32(v):
    return float(repr(np.float32(v)))


cases = []
# (scheme words, calib words, lo, hi, dtype, qscheme, per_channel, (qmin, qmax))
spec = [
    ("uint8 asym", "min=-1.5 max=2.25", -1.5, 2.25, torch.quint8, torch.per_tensor_affine,
     False),
    ("int8 sym", "amax=2", -2.0, 2.0, torch.qint8, torch.per_tensor_symmetric, False),
    ("int8 sym", "min=-1 max=3", -1.0, 3.0, torch.qint8, torch.per_tensor_symmetric, False),
    ("uint8 asym", "min=0.5 max=2", 0.5, 2.0, torch.quint8, torch.per_tensor_affine, False),
    ("int8 sym per-channel axis=0", "amax=1.25", -1.25, 1.25, torch.qint8,
     torch.per_channel_symmetric, True),
    ("uint8 asym per-channel axis=0", "min=-2 max=1", -2.0, 1.0, torch.quint8,
     torch.per_channel_affine, True),
]
for words, cwords, lo, hi, dt, qs, pc in spec:
    if pc:
        obs = PerChannelMinMaxObserver(ch_axis=0, dtype=dt, qscheme=qs)
        obs.min_val = torch.full((x.shape[0],), lo)
        obs.max_val = torch.full((x.shape[0],), hi)
        s, z = obs.calculate_qparams()
        q = torch.quantize_per_channel(t, s.float(), z, 0, dt)
    else:
        obs = MinMaxObserver(dtype=dt, qscheme=qs)
        obs.min_val = torch.tensor(lo)
        obs.max_val = torch.tensor(hi)
        s, z = obs.calculate_qparams()
        q = torch.quantize_per_tensor(t, float(s), int(z), dt)
    s = s.reshape(-1)
    z = z.reshape(-1)
    cases.append({
        "scheme": words, "calib": cwords,
        "scale": [f32(v) for v in s.tolist()],
        "zero_point": [int(v) for v in z.tolist()],
        "codes": [int(v) for v in q.int_repr().reshape(-1).tolist()],
    })
with open(os.path.join(HERE, "manual_clip.json"), "w") as f:
    json.dump({"tensor": "manual_x.npy", "cases": cases}, f, indent=1)
    f.write("\n")
