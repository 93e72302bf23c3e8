#!/usr/bin/python3
"""make_histogram_golden.py — PyTorch HistogramObserver reference values for the `histogram`
calibrator (src/quant/calib_histogram.c).

Run with Debian's /usr/bin/python3 (python3-torch 1.13, python3-numpy):
    /usr/bin/python3 tests/golden/make_histogram_golden.py
Writes torch_histogram.json next to this script: for each case the float32 input, the
observer's dtype / qscheme / quant_min / quant_max, its histogram after one forward() (torch
1.13 takes it over [int(min), int(max)], see the note in calib_histogram.c), the range
_non_linear_param_search picks (new_min, new_max) and calculate_qparams' scale and zero point.

Floats are written as the shortest decimal of the float32 value (C: strtod, then (float)).
"""
import json
import os

import numpy as np
import torch
from torch.ao.quantization.observer import HistogramObserver

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261203)


def f32list(a):
    return [float(str(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


def tensors():
    n = 2000
    out = {}
    out["normal"] = rng.normal(0.0, 1.0, n)
    out["laplace"] = rng.laplace(0.0, 1.0, n)
    out["narrow"] = rng.normal(0.1, 0.25, n)                  # inside (-1, 1): int() gives 0, 0
    out["outliers"] = np.concatenate([rng.normal(0.0, 1.0, n - 4), [18.0, -11.5, 25.25, 9.0]])
    out["relu"] = np.maximum(rng.normal(0.3, 2.0, n), 0.0)
    out["student_t"] = rng.standard_t(3, n) * 0.7
    out["uniform"] = rng.uniform(-3.7, 5.2, n)
    out["small"] = rng.normal(-2.0, 3.0, 64)
    return {k: np.asarray(v, dtype=np.float32) for k, v in out.items()}


SCHEMES = [
    # name as qscope spells it, torch dtype, qscheme, quant_min, quant_max
    ("uint8 asym", torch.quint8, torch.per_tensor_affine, 0, 255),
    ("int8 sym", torch.qint8, torch.per_tensor_symmetric, -128, 127),
    ("uint4 asym", torch.quint8, torch.per_tensor_affine, 0, 15),
]

cases = []
for tname, x in tensors().items():
    for sname, dtype, qscheme, qmin, qmax in SCHEMES:
        obs = HistogramObserver(bins=2048, dtype=dtype, qscheme=qscheme, quant_min=qmin,
                                quant_max=qmax)
        obs(torch.from_numpy(x.copy()))
        new_min, new_max = obs._non_linear_param_search()
        scale, zp = obs.calculate_qparams()
        cases.append({
            "tensor": tname, "scheme": sname, "qmin": qmin, "qmax": qmax,
            "x": f32list(x),
            "min_val": f32list([obs.min_val.item()])[0],
            "max_val": f32list([obs.max_val.item()])[0],
            "histogram": [int(v) for v in obs.histogram.tolist()],
            "new_min": f32list([new_min.item()])[0],
            "new_max": f32list([new_max.item()])[0],
            "scale": f32list([scale.item()])[0],
            "zero_point": int(zp.item()),
        })

with open(os.path.join(HERE, "torch_histogram.json"), "w") as f:
    json.dump({"torch": torch.__version__, "bins": 2048, "cases": cases}, f,
              separators=(",", ":"))
print(len(cases), "cases")
