#!/usr/bin/python3
"""make_mx_golden.py — reference values for the MX / NVFP4 formats (issue 17), written from the
specifications without looking at qscope's code:

  OCP Microscaling Formats (MX) v1.0 (Sept. 2023):
    5.3.1 FP8 E4M3 / E5M2 (as the OCP FP8 spec), 5.3.2 FP6 E2M3 / E3M2, 5.3.3 FP4 E2M1:
          value = (-1)^S * 2^(E - bias) * 1.M (normal), (-1)^S * 2^(1 - bias) * 0.M (E = 0);
          FP6 / FP4 have no Inf or NaN; E4M3: S.1111.111 NaN, no Inf; E5M2: IEEE-like.
    5.3.4 INT8: two's complement with an implicit scale 2^-6.
    5.4   E8M0 scale: 2^(E - 127), 0xFF NaN.
    6.3   conversion: X = 2^(floor(log2(max|V|)) - emax_elem), P_i = quantize(V_i / X) with
          round-to-nearest-even and clamping of values above the largest normal.
  NVFP4 (NVIDIA): ts = amax/(448*6) fp32, s_b = e4m3(amax_b/6/ts), q = e2m1(x/(s_b*ts)).

Element rounding here is a nearest-value search over the enumerated table (ties to the even
code), independent of qscope's bit-level encoder. Run with /usr/bin/python3 (python3-numpy):
    /usr/bin/python3 tests/golden/make_mx_golden.py > tests/golden/mx_ref.txt
"""
import math
import sys

import numpy as np

# (exponent bits, mantissa bits, bias, special) from the spec tables
FORMATS = {
    "fp8-e4m3": (4, 3, 7, "e4m3"),
    "fp8-e5m2": (5, 2, 15, "ieee"),
    "fp6-e3m2": (3, 2, 3, "none"),
    "fp6-e2m3": (2, 3, 1, "none"),
    "fp4-e2m1": (2, 1, 1, "none"),
}
EMAX_ELEM = {"fp8-e4m3": 8, "fp8-e5m2": 15, "fp6-e3m2": 4, "fp6-e2m3": 2, "fp4-e2m1": 2}

# MX spec table 4 (FP4 E2M1 values), written out literally as a cross-check of the formula
E2M1_SPEC = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]


def decode(fmt, code):
    e, m, bias, special = FORMATS[fmt]
    width = 1 + e + m
    s = (code >> (width - 1)) & 1
    ef = (code >> m) & ((1 << e) - 1)
    mf = code & ((1 << m) - 1)
    if special == "e4m3" and ef == (1 << e) - 1 and mf == (1 << m) - 1:
        return math.nan
    if special == "ieee" and ef == (1 << e) - 1:
        return math.nan if mf else (-math.inf if s else math.inf)
    if ef == 0:
        v = (mf / (1 << m)) * 2.0 ** (1 - bias)
    else:
        v = (1 + mf / (1 << m)) * 2.0 ** (ef - bias)
    return -v if s else v


def table(fmt):
    e, m, _, _ = FORMATS[fmt]
    return [decode(fmt, c) for c in range(1 << (1 + e + m))]


def finite_max(fmt):
    return max(v for v in table(fmt) if math.isfinite(v))


def encode(fmt, v):
    """nearest finite value, ties to the even code, saturating at the largest finite value"""
    tab = table(fmt)
    mx = finite_max(fmt)
    if v > mx:
        v = mx
    if v < -mx:
        v = -mx
    best, bestd = None, None
    for c, t in enumerate(tab):
        if not math.isfinite(t):
            continue
        if t == 0 and v != 0 and (c != 0) != (v < 0):
            continue          # keep the sign of a rounded-to-zero value on its own zero
        if t == 0 and v == 0 and c != 0:
            continue
        d = abs(v - t)
        if best is None or d < bestd or (d == bestd and c % 2 == 0 and best % 2 == 1):
            best, bestd = c, d
    return best


def mx_block(fmt, x):
    amax = float(np.max(np.abs(x.astype(np.float64)))) if len(x) else 0.0
    if amax == 0.0:
        e = -127
    else:
        e = math.floor(math.log2(amax)) - (EMAX_ELEM[fmt] if fmt != "int8" else 0)
        e = max(e, -127)
    X = 2.0 ** e
    codes, ys = [], []
    for v in x.astype(np.float64):
        p = v / X
        if fmt == "int8":
            c = int(np.clip(np.round(p * 64), -127, 127))   # np.round: ties to even
            codes.append(c)
            ys.append(np.float32(c / 64 * X))
        else:
            c = encode(fmt, p)
            codes.append(c)
            ys.append(np.float32(decode(fmt, c) * X))
    return e, codes, ys


def nvfp4(x, L):
    x = x.astype(np.float32)
    amax = np.float32(np.max(np.abs(x)))
    ts = np.float32(amax / np.float32(2688.0))
    codes, ys, sbs = [], [], []
    rows = len(x) // L
    for r in range(rows):
        for k in range(0, L, 16):
            blk = x[r * L + k: r * L + min(k + 16, L)]
            bam = np.float32(np.max(np.abs(blk)))
            sin = np.float32(np.float32(bam / np.float32(6.0)) / ts) if ts > 0 else np.float32(0)
            sc = encode("fp8-e4m3", float(sin))
            sb = np.float32(decode("fp8-e4m3", sc))
            step = np.float32(sb * ts)
            sbs.append(sc)
            for v in blk:
                p = np.float32(v / step) if step > 0 else np.float32(0)
                c = encode("fp4-e2m1", float(p))
                codes.append(c)
                ys.append(np.float32(np.float32(decode("fp4-e2m1", c)) * step))
    return float(ts), sbs, codes, ys


def line(name, vals):
    out = []
    for v in vals:
        if isinstance(v, (int, np.integer)):
            out.append(str(int(v)))
        elif math.isnan(v):
            out.append("nan")
        elif math.isinf(v):
            out.append("inf" if v > 0 else "-inf")
        else:
            out.append(repr(float(v)))
    print(name, len(vals), " ".join(out))


def main():
    print("# made by tests/golden/make_mx_golden.py (numpy %s) — see the script's docstring"
          % np.__version__)
    assert table("fp4-e2m1")[:8] == E2M1_SPEC
    assert finite_max("fp6-e3m2") == 28.0 and finite_max("fp6-e2m3") == 7.5
    assert finite_max("fp8-e4m3") == 448.0 and finite_max("fp8-e5m2") == 57344.0
    for f in FORMATS:
        line("table_" + f, table(f))
    line("table_e8m0", [2.0 ** (k - 127) for k in range(255)] + [math.nan])
    line("table_mxint8", [((k ^ 0x80) - 0x80) / 64 for k in range(256)])

    rng = np.random.default_rng(17)
    # a [6, 80] matrix: rows of 80 = two blocks of 32 and a short block of 16 (MX), five of
    # 16 (NVFP4); heavy tails; row 2 is all zeros; row 4 has a tiny range; row 5 has values
    # that saturate (amax just below a power of two)
    x = (rng.standard_t(3, size=(6, 80)) * 0.05).astype(np.float32)
    x[2, :] = 0
    x[4, :] *= np.float32(1e-30)
    x[5, :40] = np.linspace(-1.99, 1.99, 40, dtype=np.float32)
    x = x.astype(np.float32)
    line("x", list(x.reshape(-1)))
    for fmt, name in [("fp8-e4m3", "mxfp8_e4m3"), ("fp8-e5m2", "mxfp8_e5m2"),
                      ("fp6-e3m2", "mxfp6_e3m2"), ("fp6-e2m3", "mxfp6_e2m3"),
                      ("fp4-e2m1", "mxfp4"), ("int8", "mxint8")]:
        exps, codes, ys = [], [], []
        for r in range(6):
            for k in range(0, 80, 32):
                e, c, y = mx_block(fmt, x[r, k:min(k + 32, 80)])
                exps.append(e)
                codes += c
                ys += y
        line(name + "_exp", exps)
        line(name + "_codes", codes)
        line(name + "_y", ys)
    ts, sbs, codes, ys = nvfp4(x.reshape(-1), 80)
    line("nvfp4_ts", [ts])
    line("nvfp4_scale_codes", sbs)
    line("nvfp4_codes", codes)
    line("nvfp4_y", ys)
    return 0


if __name__ == "__main__":
    sys.exit(main())
