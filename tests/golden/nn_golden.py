#!/usr/bin/python3
# nn_golden.py — reference values for tests/unit/test_nn.c, computed independently of qscope:
#   nn_affine.txt  activation qparams from PyTorch's MinMaxObserver (quint8 / reduced bits):
#                  lines "lo hi bits scale zero_point"
#   nn_int.txt     a small 2-layer MLP quantized and run in integers with NumPy and Python
#                  integers (gemmlowp's QuantizeMultiplier and rounding-half-away requant):
#                  weights, scales, inputs, then the expected weight codes, int32 biases,
#                  multipliers (M0, n), hidden codes and predicted classes.
# Run with Debian's python3 (numpy + torch):  /usr/bin/python3 tests/golden/nn_golden.py
import math
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def affine():
    rows = []
    cases = [(0.0, 1.0, 8), (0.0, 4.509021759033203, 8), (-0.5, 3.25, 8), (0.1, 2.0, 8),
             (-3.0, -1.0, 8), (0.0, 1.0, 4), (-1.7, 6.3, 4), (0.0, 0.0, 8), (0.0, 9.99, 6),
             (-0.0123, 0.777, 5)]
    for lo, hi, bits in cases:
        obs = torch.ao.quantization.MinMaxObserver(dtype=torch.quint8, quant_min=0,
                                                   quant_max=2 ** bits - 1)
        obs.min_val = torch.tensor(lo)
        obs.max_val = torch.tensor(hi)
        s, z = obs.calculate_qparams()
        rows.append("%.9g %.9g %d %.9g %d" % (lo, hi, bits, float(s), int(z)))
    with open(os.path.join(HERE, "nn_affine.txt"), "w") as f:
        f.write("# lo hi bits scale zero_point  (torch MinMaxObserver, quint8 range 0..2^bits-1)\n")
        f.write("\n".join(rows) + "\n")


def quantize_multiplier(m):
    """gemmlowp / TFLite QuantizeMultiplier for 0 < m: m = M0 * 2^-(31 + shift)."""
    q, ex = math.frexp(m)
    q_fixed = int(round(q * (1 << 31)))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        ex += 1
    return q_fixed, 31 - ex


def requant(acc, m0, n, zp, qmin, qmax):
    p = acc * m0
    half = 1 << (n - 1)
    r = (p + half) >> n if p >= 0 else -((-p + half) >> n)
    return min(max(r + zp, qmin), qmax)


def integer_model():
    rng = np.random.default_rng(7)
    nin, nh, nout, ns = 6, 5, 3, 8
    w0 = rng.normal(0, 0.6, (nh, nin)).astype(np.float32)
    b0 = rng.normal(0, 0.2, nh).astype(np.float32)
    w1 = rng.normal(0, 0.6, (nout, nh)).astype(np.float32)
    b1 = rng.normal(0, 0.2, nout).astype(np.float32)
    x = rng.uniform(0, 1, (ns, nin)).astype(np.float32)
    wbits = 4
    qmax_w = 2 ** (wbits - 1) - 1
    ws0 = (np.abs(w0).max(axis=1) / np.float32(qmax_w)).astype(np.float32)   # per channel
    ws1 = (np.abs(w1).max(axis=1) / np.float32(qmax_w)).astype(np.float32)
    s_in, zp_in = np.float32(1.0 / 255.0), 0
    s_h, zp_h = np.float32(2.5 / 255.0), 0
    def wq(w, s):
        inv = (np.float32(1.0) / s).astype(np.float32)
        return np.clip(np.rint(w * inv[:, None]), -qmax_w, qmax_w).astype(np.int64)
    q0, q1 = wq(w0, ws0), wq(w1, ws1)
    def bq(b, sw, sin):
        sb = (np.float32(sin) * sw).astype(np.float32)
        return np.rint(b * (np.float32(1.0) / sb)).astype(np.int64)
    bq0, bq1 = bq(b0, ws0, s_in), bq(b1, ws1, s_h)
    xq = np.clip(np.rint(x * np.float32(1.0 / s_in)) + zp_in, 0, 255).astype(np.int64)
    mults = [quantize_multiplier(float(s_in) * float(ws0[j]) / float(s_h)) for j in range(nh)]
    hid = np.zeros((ns, nh), np.int64)
    pred = []
    for i in range(ns):
        for j in range(nh):
            acc = int(((xq[i] - zp_in) * q0[j]).sum()) + int(bq0[j])
            hid[i, j] = requant(acc, mults[j][0], mults[j][1], zp_h, zp_h, 255)
        logits = [(int(((hid[i] - zp_h) * q1[k]).sum()) + int(bq1[k])) * float(s_h) * float(ws1[k])
                  for k in range(nout)]
        pred.append(int(np.argmax(logits)))
    def line(name, a, fmt):
        return name + " " + " ".join(fmt % v for v in np.asarray(a).ravel())
    out = ["# a 6-5-3 MLP, W4 per channel, A8; see nn_golden.py",
           "dims %d %d %d %d %d" % (nin, nh, nout, ns, wbits),
           line("w0", w0, "%.9g"), line("b0", b0, "%.9g"), line("w1", w1, "%.9g"),
           line("b1", b1, "%.9g"), line("ws0", ws0, "%.9g"), line("ws1", ws1, "%.9g"),
           "act %.9g %d %.9g %d" % (s_in, zp_in, s_h, zp_h), line("x", x, "%.9g"),
           line("q0", q0, "%d"), line("q1", q1, "%d"), line("bq0", bq0, "%d"),
           line("bq1", bq1, "%d"), line("m0", [m[0] for m in mults], "%d"),
           line("n", [m[1] for m in mults], "%d"), line("hid", hid, "%d"),
           line("pred", pred, "%d")]
    with open(os.path.join(HERE, "nn_int.txt"), "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    affine()
    integer_model()
