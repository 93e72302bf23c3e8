#!/usr/bin/python3
"""make_quant_golden.py — reference values for the quantization engine's tests.

Run with Debian's /usr/bin/python3 (numpy, torch, scipy):  /usr/bin/python3 make_quant_golden.py
Writes, next to this script:
  torch_minmax.json     PyTorch MinMaxObserver / PerChannelMinMaxObserver qparams, codes from
                        torch.quantize_per_tensor / quantize_per_channel, and
                        torch.fake_quantize_per_tensor_affine / per_channel outputs
  trt_calib.json        TensorRT pytorch-quantization's _compute_amax_entropy and
                        _compute_amax_percentile (copied below, numpy + scipy) on histograms
  onnx_qparams.json     onnxruntime quant_utils compute_scale_zp + quantize_nparray (copied),
                        on the per-tensor tensors of torch_minmax.json
  ggml_blocks.json      ggml quantize_row_q8_0_ref / quantize_row_q4_0_ref (numpy float32)
  dynamic_map.json      bitsandbytes create_dynamic_map(signed=True) as bitsandbytes builds it
  nf4_blocks.json       bitsandbytes-style NF4 blockwise encode (numpy) for the codebook path

Float values are written as the shortest decimal of the float32 value, so C's strtod followed
by (float) reads back the exact float32 (the tests check a few by bit pattern). The C tests read these files; torch is not needed to run them.
"""
import json
import os
from collections import Counter

import numpy as np
import torch
from scipy.stats import entropy
from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261123)


def f32list(a):
    # the shortest decimal that reads back as the same float32 (C: strtod, then (float))
    return [float(str(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


def dump(name, obj):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


# ---- PyTorch observers --------------------------------------------------------------------
def _tensors():
    yield "normal", rng.standard_normal(257).astype(np.float32)
    yield "shifted", (rng.standard_normal(100) * 3 + 5).astype(np.float32)
    yield "uniform_pos", rng.uniform(0.0, 7.0, 64).astype(np.float32)
    yield "laplace", rng.laplace(0.0, 1.0, 1000).astype(np.float32)
    yield "negative", (-np.abs(rng.standard_normal(33))).astype(np.float32)
    yield "seed1000", np.array([-20.0, 1000.0], dtype=np.float32)
    yield "seed0_1000", np.array([0.0, 250.0, 1000.0], dtype=np.float32)
    yield "single", np.array([0.37], dtype=np.float32)
    yield "zeros", np.zeros(5, dtype=np.float32)
    # ties: values that land on .5 after scaling (inverse multiply vs divide)
    yield "fbgemm_tie", np.array([0.273939937, -0.273939937, 0.2, 0.0], dtype=np.float32)


_TENSORS = list(_tensors())     # drawn once: torch and onnx cases share them


def tensors():
    return iter(_TENSORS)


# (name, dtype, qscheme, quant_min, quant_max, bits, signed, symmetric, narrow)
PT_SCHEMES = [
    ("uint8_asym", torch.quint8, torch.per_tensor_affine, None, None, 8, 0, 0, 0),
    ("int8_asym", torch.qint8, torch.per_tensor_affine, None, None, 8, 1, 0, 0),
    ("int8_sym", torch.qint8, torch.per_tensor_symmetric, None, None, 8, 1, 1, 0),
    ("uint8_sym", torch.quint8, torch.per_tensor_symmetric, None, None, 8, 0, 1, 0),
    ("int8_sym_narrow", torch.qint8, torch.per_tensor_symmetric, -127, 127, 8, 1, 1, 1),
    ("int4_sym", torch.qint8, torch.per_tensor_symmetric, -8, 7, 4, 1, 1, 0),
    ("int4_asym", torch.qint8, torch.per_tensor_affine, -8, 7, 4, 1, 0, 0),
    ("uint4_asym", torch.quint8, torch.per_tensor_affine, 0, 15, 4, 0, 0, 0),
    ("int2_sym", torch.qint8, torch.per_tensor_symmetric, -2, 1, 2, 1, 1, 0),
]


def observer(dtype, qscheme, qmin, qmax, per_channel=False, axis=0):
    kw = {"dtype": dtype, "qscheme": qscheme}
    if qmin is not None:
        kw["quant_min"] = qmin
        kw["quant_max"] = qmax
    if per_channel:
        kw["ch_axis"] = axis
        return PerChannelMinMaxObserver(**kw)
    return MinMaxObserver(**kw)


def torch_cases():
    cases = []
    data = {}
    for tname, x in tensors():
        data[tname] = {"shape": list(x.shape), "x": f32list(x)}
        xt = torch.from_numpy(x.copy())
        for sname, dt, qs, qmin, qmax, bits, sg, sym, nar in PT_SCHEMES:
            ob = observer(dt, qs, qmin, qmax)
            ob(xt)
            scale, zp = ob.calculate_qparams()
            s = float(scale[0])
            z = int(zp[0])
            lo, hi = ob.quant_min, ob.quant_max
            fq = torch.fake_quantize_per_tensor_affine(xt, s, z, lo, hi)
            case = {"tensor": tname, "scheme": sname, "bits": bits, "signed": sg,
                    "symmetric": sym, "narrow": nar, "per_channel": 0, "axis": 0,
                    "qmin": lo, "qmax": hi,
                    "scale": [s], "zero_point": [z], "fake": f32list(fq.numpy())}
            if qmin is None:    # full 8-bit types: real quantized tensors
                q = torch.quantize_per_tensor(xt, s, z, dt)
                case["codes"] = [int(v) for v in q.int_repr().numpy().ravel()]
            cases.append(case)
    # per-channel
    PC = [
        ("int8_sym", torch.qint8, torch.per_channel_symmetric, None, None, 8, 1, 1, 0),
        ("int8_asym", torch.qint8, torch.per_channel_affine, None, None, 8, 1, 0, 0),
        ("uint8_asym", torch.quint8, torch.per_channel_affine, None, None, 8, 0, 0, 0),
        ("int4_sym", torch.qint8, torch.per_channel_symmetric, -8, 7, 4, 1, 1, 0),
    ]
    shapes = [(6, 17), (5, 3, 4), (8, 32)]
    for shp in shapes:
        x = (rng.standard_normal(shp) * rng.uniform(0.1, 4.0, (shp[0],) + (1,) * (len(shp) - 1))
             ).astype(np.float32)
        if shp == (8, 32):
            x[3, 5] = 40.0      # an outlier in one channel
            x[7, :] = 0.0       # an all-zero channel
        tname = "x%s" % "x".join(map(str, shp))
        data[tname] = {"shape": list(shp), "x": f32list(x)}
        xt = torch.from_numpy(x.copy())
        for axis in range(len(shp)):
            for sname, dt, qs, qmin, qmax, bits, sg, sym, nar in PC:
                ob = observer(dt, qs, qmin, qmax, per_channel=True, axis=axis)
                ob(xt)
                scale, zp = ob.calculate_qparams()
                lo, hi = ob.quant_min, ob.quant_max
                fq = torch.fake_quantize_per_channel_affine(xt, scale.float(), zp.int(), axis,
                                                            lo, hi)
                case = {"tensor": tname, "scheme": sname,
                        "bits": bits, "signed": sg, "symmetric": sym, "narrow": nar,
                        "per_channel": 1, "axis": axis,
                        "qmin": lo, "qmax": hi, "scale": f32list(scale.numpy()),
                        "zero_point": [int(v) for v in zp.numpy()],
                        "fake": f32list(fq.numpy())}
                if qmin is None:
                    q = torch.quantize_per_channel(xt, scale.double(), zp.long(), axis, dt)
                    case["codes"] = [int(v) for v in q.int_repr().numpy().ravel()]
                cases.append(case)
    return {"tensors": data, "cases": cases}


# ---- TensorRT calibration (pytorch-quantization calib/histogram.py, verbatim logic) -------
def _compute_amax_entropy(calib_hist, calib_bin_edges, num_bits, unsigned, stride=1,
                          start_bin=128):
    def _normalize_distr(distr):
        summ = np.sum(distr)
        if summ != 0:
            distr = distr / summ

    bins = calib_hist[:]
    bins[0] = bins[1]
    total_data = np.sum(bins)
    divergences = []
    arguments = []
    nbins = 1 << (num_bits - 1 + int(unsigned))
    starting = start_bin
    stop = len(bins)
    new_density_counts = np.zeros(nbins, dtype=np.float64)
    for i in range(starting, stop + 1, stride):
        new_density_counts.fill(0)
        space = np.linspace(0, i, num=nbins + 1)
        digitized_space = np.digitize(range(i), space) - 1
        digitized_space[bins[:i] == 0] = -1
        for idx, digitized in enumerate(digitized_space):
            if digitized != -1:
                new_density_counts[digitized] += bins[idx]
        counter = Counter(digitized_space)
        for key, val in counter.items():
            if key != -1:
                new_density_counts[key] = new_density_counts[key] / val
        new_density = np.zeros(i, dtype=np.float64)
        for idx, digitized in enumerate(digitized_space):
            if digitized != -1:
                new_density[idx] = new_density_counts[digitized]
        total_counts_new = np.sum(new_density) + np.sum(bins[i:])
        _normalize_distr(new_density)
        reference_density = np.array(bins[:len(digitized_space)])
        reference_density[-1] += np.sum(bins[i:])
        total_counts_old = np.sum(reference_density)
        if round(total_counts_new) != total_data or round(total_counts_old) != total_data:
            raise RuntimeError("Count mismatch")
        _normalize_distr(reference_density)
        ent = entropy(reference_density, new_density)
        divergences.append(ent)
        arguments.append(i)
    divergences = np.array(divergences)
    last_argmin = len(divergences) - 1 - np.argmin(divergences[::-1])
    return last_argmin * stride + starting, divergences


def _compute_amax_percentile_idx(calib_hist, percentile):
    total = calib_hist.sum()
    cdf = np.cumsum(calib_hist / total)
    return int(np.searchsorted(cdf, percentile / 100))


def trt_cases():
    out = {"hists": [], "entropy": [], "percentile": []}
    for k, (dist, nbits, uns) in enumerate([("laplace", 8, 0), ("normal", 8, 0),
                                            ("laplace", 4, 0), ("relu", 8, 1),
                                            ("outlier", 8, 0), ("sparse", 8, 0)]):
        if dist == "laplace":
            x = np.abs(rng.laplace(0, 1, 200000))
        elif dist == "normal":
            x = np.abs(rng.standard_normal(100000))
        elif dist == "relu":
            x = np.maximum(rng.standard_normal(50000), 0)
        elif dist == "outlier":
            x = np.abs(rng.standard_normal(100000))
            x[:10] = 60.0
        else:
            x = np.abs(rng.standard_normal(3000)) ** 3
        hist, edges = np.histogram(x, bins=2048, range=(0, x.max()))
        idx, div = _compute_amax_entropy(hist.copy(), edges, nbits, uns)
        out["hists"].append([int(v) for v in hist])
        out["entropy"].append({"case": dist, "hist": k, "bits": nbits, "unsigned": uns,
                               "levels": 1 << (nbits - 1 + uns), "index": int(idx),
                               "kl": [float(v) if np.isfinite(v) else None for v in div]})
        for p in (99.0, 99.9, 99.99, 99.999):
            out["percentile"].append({"case": dist, "p": p, "hist": k,
                                      "index": _compute_amax_percentile_idx(hist, p)})
    return out


# ---- ONNX Runtime (quant_utils.py compute_scale_zp, quantize_nparray) -----------------------
def compute_scale_zp(rmin, rmax, qmin, qmax, symmetric=False):
    rmin = np.minimum(rmin, np.array(0, dtype=rmin.dtype))
    rmax = np.maximum(rmax, np.array(0, dtype=rmax.dtype))
    if symmetric:
        absmax = np.maximum(np.abs(rmin), np.abs(rmax))
        rmin = -absmax
        rmax = +absmax
    dr = np.array(rmax - rmin, dtype=np.float64)
    dq = np.array(qmax, dtype=np.float64) - np.array(qmin, dtype=np.float64)
    scale = np.array(dr / dq)
    if scale < np.finfo(rmax.dtype).tiny:
        scale = np.array(1.0, dtype=rmax.dtype)
        zero_point = np.array(0, dtype=qmin.dtype)
    else:
        if symmetric:
            zero_point = np.array(np.round((qmin + qmax) / np.array(2.0, dtype=np.float64)),
                                  dtype=qmin.dtype)
        else:
            zero_point = np.array(np.round(qmin - rmin / scale), dtype=qmin.dtype)
        scale = scale.astype(rmax.dtype)
    return zero_point, scale


def onnx_cases():
    cases = []
    for tname, x in tensors():
        for sname, qmin, qmax, sym, bits, sg in [("uint8_asym", 0, 255, 0, 8, 0),
                                                 ("int8_sym", -127, 127, 1, 8, 1),
                                                 ("int8_asym", -128, 127, 0, 8, 1),
                                                 ("uint8_sym", 0, 255, 1, 8, 0)]:
            dt = np.uint8 if qmin == 0 else np.int8
            zp, sc = compute_scale_zp(np.array(x.min(), dtype=np.float32),
                                      np.array(x.max(), dtype=np.float32),
                                      np.array(qmin, dtype=dt), np.array(qmax, dtype=dt), sym)
            sc32 = np.float32(sc)
            q = np.asarray((x.astype(np.float32) / sc32).round() + zp)
            q = np.clip(q, qmin, qmax)
            cases.append({"tensor": tname, "scheme": sname, "bits": bits, "signed": sg,
                          "symmetric": sym, "scale": float(sc32),
                          "zero_point": int(zp), "qmin": qmin, "qmax": qmax,
                          "codes": [int(v) for v in q.ravel()]})
    return cases


# ---- ggml (ggml-quants.c quantize_row_q8_0_ref / quantize_row_q4_0_ref) ---------------------
def ggml_cases():
    cases = []
    for tname, x in [("normal", rng.standard_normal(96).astype(np.float32)),
                     ("laplace", rng.laplace(0, 2, 64).astype(np.float32)),
                     ("zeros", np.zeros(32, dtype=np.float32))]:
        n = len(x)
        q8, d8, q4, d4 = [], [], [], []
        for b in range(n // 32):
            blk = x[b * 32:(b + 1) * 32]
            amax = np.float32(np.max(np.abs(blk)))
            d = np.float32(amax / np.float32(127))
            idd = np.float32(1.0) / d if d != 0 else np.float32(0)
            d8.append(float(np.float16(d)))
            # roundf: half away from zero, exact (float64 holds v + 0.5 exactly)
            q8 += [int(np.sign(v) * np.floor(abs(float(v)) + 0.5))
                   for v in (blk * idd).astype(np.float32)]
            # q4_0
            am, mx = np.float32(0), np.float32(0)
            for v in blk:
                if am < abs(v):
                    am = np.float32(abs(v))
                    mx = v
            d = np.float32(mx / np.float32(-8))
            idd = np.float32(1.0) / d if d != 0 else np.float32(0)
            d4.append(float(np.float16(d)))
            for v in blk:
                t = np.float32(np.float32(v * idd) + np.float32(8.5))
                q4.append(min(15, int(t)))
        cases.append({"tensor": tname, "x": f32list(x), "q8_codes": q8, "q8_d": d8,
                      "q4_codes": q4, "q4_d": d4})
    return cases


# ---- bitsandbytes create_dynamic_map (functional.py), built with torch as bitsandbytes does -
def create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8):
    data = []
    non_sign_bits = total_bits - (1 if signed else 1)
    additional_items = 2 ** (non_sign_bits - max_exponent_bits) - 1
    for i in range(max_exponent_bits):
        fraction_items = int(2 ** (i + non_sign_bits - max_exponent_bits) + 1 if signed
                             else 2 ** (i + non_sign_bits - max_exponent_bits + 1) + 1)
        boundaries = torch.linspace(0.1, 1, fraction_items)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    if additional_items > 0:
        boundaries = torch.linspace(0.1, 1, additional_items + 1)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    data.append(0)
    data.append(1.0)
    assert len(data) == 2 ** total_bits
    data.sort()
    return torch.tensor(data)


NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
       -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
       0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
       0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0]


def nf4_cases():
    """bitsandbytes kQuantizeBlockwise for NF4 (dQuantizeNF4 decision tree = midpoints with
    '>'), absmax per block of 64, then double quantization of the absmax constants."""
    table = np.array(NF4, dtype=np.float32)
    mids = ((table[:-1] + table[1:]) * np.float32(0.5)).astype(np.float32)
    x = (rng.standard_normal(64 * 260 + 17) * 0.02).astype(np.float32)
    n = len(x)
    nb = (n + 63) // 64
    absmax = np.array([np.max(np.abs(x[b * 64:(b + 1) * 64])) for b in range(nb)],
                      dtype=np.float32)
    codes = []
    for e in range(n):
        am = absmax[e // 64]
        v = np.float32(x[e] * (np.float32(1.0) / am))
        codes.append(int(np.sum(v > mids)))
    # double quant
    dmap = create_dynamic_map().numpy().astype(np.float32)
    offset = np.float32(np.mean(absmax.astype(np.float64)))
    c = (absmax - offset).astype(np.float32)
    dq_codes, dq_absmax, absmax_dq = [], [], []
    for g in range((nb + 255) // 256):
        blk = c[g * 256:(g + 1) * 256]
        a2 = np.float32(np.max(np.abs(blk)))
        dq_absmax.append(float(a2))
        r = np.float32(1.0) / a2
        for v in blk:
            nv = np.float32(v * r)
            k = int(np.argmin(np.abs(dmap.astype(np.float64) - float(nv))))
            # exact midpoints go to the lower entry: argmin picks the first (lower) one
            dq_codes.append(k)
            absmax_dq.append(float(np.float32(dmap[k] * a2 + offset)))
    return {"x": f32list(x), "block": 64, "absmax": f32list(absmax),
            "codes": "".join("%x" % c for c in codes),
            "dq_offset": float(offset), "dq_absmax": dq_absmax, "dq_codes": dq_codes,
            "absmax_dq": absmax_dq}


if __name__ == "__main__":
    dump("torch_minmax.json", torch_cases())
    dump("trt_calib.json", trt_cases())
    dump("onnx_qparams.json", onnx_cases())
    dump("ggml_blocks.json", ggml_cases())
    dump("dynamic_map.json", f32list(create_dynamic_map().numpy()))
    dump("nf4_blocks.json", nf4_cases())
    print("wrote golden files to", HERE)
