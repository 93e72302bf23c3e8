#!/usr/bin/python3
"""make_imatrix_golden.py — llama.cpp's importance-matrix quantizers (issue 17) ported to
numpy float32 from ggml/src/ggml-quants.c (quantize_row_q4_0_impl, quantize_row_q4_K_impl,
quantize_row_q6_K_impl with make_qx_quants / make_qkx3_quants / make_qp_quants) and the
dequantizers, operation by operation in float32 scalars so the results are bit-exact. The
imatrix is the per-column mean of x² of calibration activations (llama-imatrix).
    /usr/bin/python3 tests/golden/make_imatrix_golden.py > tests/golden/imatrix_ref.txt
"""
import sys

import numpy as np

F = np.float32
EPS = F(1e-15)


def nearest_int(f):
    return int(np.rint(F(f)))


def fp16(v):
    return F(np.float16(F(v)))


def make_qx_quants(n, nmax, x, qw):
    mx = F(0)
    amax = F(0)
    for i in range(n):
        ax = abs(x[i])
        if ax > amax:
            amax = ax
            mx = x[i]
    if amax < EPS:
        return F(0), [0] * n
    L = [0] * n
    iscale = F(-nmax) / mx
    sumlx = F(0)
    suml2 = F(0)
    for i in range(n):
        l = nearest_int(iscale * x[i])
        l = max(-nmax, min(nmax - 1, l))
        L[i] = l + nmax
        w = qw[i]
        sumlx = F(sumlx + w * x[i] * F(l))
        suml2 = F(suml2 + w * F(l) * F(l))
    scale = sumlx / suml2 if suml2 != 0 else F(0)
    best = F(scale * sumlx)
    for is_ in range(-9, 10):
        if is_ == 0:
            continue
        iscale = -(F(nmax) + F(0.1) * F(is_)) / mx
        sumlx = F(0)
        suml2 = F(0)
        for i in range(n):
            l = nearest_int(iscale * x[i])
            l = max(-nmax, min(nmax - 1, l))
            w = qw[i]
            sumlx = F(sumlx + w * x[i] * F(l))
            suml2 = F(suml2 + w * F(l) * F(l))
        if suml2 > 0 and sumlx * sumlx > best * suml2:
            for i in range(n):
                l = nearest_int(iscale * x[i])
                L[i] = nmax + max(-nmax, min(nmax - 1, l))
            scale = F(sumlx / suml2)
            best = F(scale * sumlx)
    return F(scale), L


def make_qkx3_quants(n, nmax, x, w, rmin, rdelta, nstep):
    mn = x[0]
    mx = x[0]
    sum_w = w[0]
    sum_x = F(sum_w * x[0])
    for i in range(1, n):
        if x[i] < mn:
            mn = x[i]
        if x[i] > mx:
            mx = x[i]
        sum_w = F(sum_w + w[i])
        sum_x = F(sum_x + w[i] * x[i])
    if mn > 0:
        mn = F(0)
    if mx <= mn:
        return F(0), -mn, [0] * n
    iscale = F(nmax) / (mx - mn)
    scale = F(1) / iscale
    L = [0] * n
    best = F(0)
    for i in range(n):
        l = nearest_int(iscale * (x[i] - mn))
        L[i] = max(0, min(nmax, l))
        diff = F(scale * F(L[i]) + mn - x[i])
        diff = F(diff * diff)
        best = F(best + w[i] * diff)
    for is_ in range(nstep + 1):
        iscale = (F(rmin) + F(rdelta) * F(is_) + F(nmax)) / (mx - mn)
        sl = F(0)
        sl2 = F(0)
        sxl = F(0)
        Laux = [0] * n
        for i in range(n):
            l = nearest_int(iscale * (x[i] - mn))
            l = max(0, min(nmax, l))
            Laux[i] = l
            sl = F(sl + w[i] * F(l))
            sl2 = F(sl2 + w[i] * F(l) * F(l))
            sxl = F(sxl + w[i] * F(l) * x[i])
        D = F(sum_w * sl2 - sl * sl)
        if D > 0:
            ts = F((sum_w * sxl - sum_x * sl) / D)
            tm = F((sl2 * sum_x - sl * sxl) / D)
            if tm > 0:
                tm = F(0)
                ts = F(sxl / sl2)
            mad = F(0)
            for i in range(n):
                diff = F(ts * F(Laux[i]) + tm - x[i])
                diff = F(diff * diff)
                mad = F(mad + w[i] * diff)
            if mad < best:
                L = Laux
                best = mad
                scale = ts
                mn = tm
    return F(scale), F(-mn), L


def make_qp_quants(n, nmax, x, qw):
    mx = F(0)
    for i in range(n):
        mx = max(mx, x[i])
    if mx < EPS:
        return F(0), [0] * n
    iscale = F(nmax) / mx
    L = [nearest_int(iscale * x[i]) for i in range(n)]
    scale = F(1) / iscale
    best = F(0)
    for i in range(n):
        diff = F(x[i] - scale * F(L[i]))
        best = F(best + qw[i] * diff * diff)
    for is_ in range(-4, 5):
        if is_ == 0:
            continue
        iscale_is = (F(0.1) * F(is_) + F(nmax)) / mx
        scale_is = F(1) / iscale_is
        mse = F(0)
        for i in range(n):
            l = min(nmax, nearest_int(iscale_is * x[i]))
            diff = F(x[i] - scale_is * F(l))
            mse = F(mse + qw[i] * diff * diff)
        if mse < best:
            best = mse
            iscale = iscale_is
    sumlx = F(0)
    suml2 = F(0)
    for i in range(n):
        l = min(nmax, nearest_int(iscale * x[i]))
        L[i] = l
        sumlx = F(sumlx + qw[i] * x[i] * F(l))
        suml2 = F(suml2 + qw[i] * F(l) * F(l))
    for _ in range(5):
        changed = 0
        for i in range(n):
            w = qw[i]
            slx = F(sumlx - w * x[i] * F(L[i]))
            sl2 = F(suml2 - w * F(L[i]) * F(L[i]))
            if slx > 0 and sl2 > 0:
                new_l = min(nmax, nearest_int(x[i] * sl2 / slx))
                if new_l != L[i]:
                    slx = F(slx + w * x[i] * F(new_l))
                    sl2 = F(sl2 + w * F(new_l) * F(new_l))
                    if slx * slx * suml2 > sumlx * sumlx * sl2:
                        L[i] = new_l
                        sumlx = slx
                        suml2 = sl2
                        changed += 1
        if not changed:
            break
    return (F(sumlx / suml2) if suml2 > 0 else F(0)), L


def q4_0_row(x, qw):
    n = len(x)
    s = F(0)
    for v in x:
        s = F(s + v * v)
    sigma2 = F(s / F(n))
    y = []
    for ib in range(n // 32):
        xb = x[32 * ib:32 * ib + 32]
        w = [F(np.sqrt(F(sigma2 + xb[j] * xb[j])) * F(1)) for j in range(32)]
        w = [F(qw[32 * ib + j] * w[j]) for j in range(32)]
        d, L = make_qx_quants(32, 8, xb, w)
        d = fp16(d)
        y += [F(F(L[j] - 8) * d) for j in range(32)]
    return y


def q4_K_row(x, qw):
    y = []
    for i in range(len(x) // 256):
        xs = x[256 * i:256 * i + 256]
        s = F(0)
        for v in xs:
            s = F(s + v * v)
        sigma2 = F(F(2) * s / F(256))
        scales, mins, sw, Ls = [], [], [], []
        for j in range(8):
            xb = xs[32 * j:32 * j + 32]
            w = [F(qw[256 * i + 32 * j + l] * F(np.sqrt(F(sigma2 + xb[l] * xb[l])))) for l in range(32)]
            sumw = F(0)
            for l in range(32):
                sumw = F(sumw + w[l])
            sw.append(sumw)
            sc, mn, _ = make_qkx3_quants(32, 15, xb, w, -0.9, 0.05, 36)
            scales.append(sc)
            mins.append(mn)
        dblk, Lsc = make_qp_quants(8, 63, scales, sw)
        mblk, Lmn = make_qp_quants(8, 63, mins, sw)
        d = fp16(dblk)
        dmin = fp16(mblk)
        for j in range(8):
            dj = F(d * F(Lsc[j]))
            mj = F(dmin * F(Lmn[j]))
            for ii in range(32):
                if dj != 0:
                    l = max(0, min(15, nearest_int((xs[32 * j + ii] + mj) / dj)))
                else:
                    l = None
                Ls.append(l)
        # dequantize as dequantize_row_q4_K: y = d1 * q - m1 (codes of skipped sub-blocks
        # stay at make_qkx3's values)
        for j in range(8):
            dj = F(d * F(Lsc[j]))
            mj = F(dmin * F(Lmn[j]))
            if dj == 0:
                _, _, L0 = make_qkx3_quants(32, 15, xs[32 * j:32 * j + 32],
                                            [F(qw[256 * i + 32 * j + l] * F(np.sqrt(F(sigma2 + xs[32 * j + l] * xs[32 * j + l])))) for l in range(32)],
                                            -0.9, 0.05, 36)
                codes = L0
            else:
                codes = Ls[32 * j:32 * j + 32]
            y += [F(dj * F(c) - mj) for c in codes]
    return y


def q6_K_row(x, qw):
    y = []
    for i in range(len(x) // 256):
        xs = x[256 * i:256 * i + 256]
        scales, Ls = [], []
        maxs = F(0)
        maxabs = F(0)
        for ib in range(16):
            sc, L = make_qx_quants(16, 32, xs[16 * ib:16 * ib + 16], qw[256 * i + 16 * ib:256 * i + 16 * ib + 16])
            scales.append(sc)
            Ls.append(L)
            if abs(sc) > maxabs:
                maxabs = abs(sc)
                maxs = sc
        if maxabs < EPS:
            y += [F(0)] * 256
            continue
        iscale = F(F(-128) / maxs)
        d = fp16(F(1) / iscale)
        sc8 = [min(127, nearest_int(iscale * scales[ib])) for ib in range(16)]
        for j in range(16):
            dj = F(d * F(sc8[j]))
            if dj != 0:
                codes = [max(-32, min(31, nearest_int(xs[16 * j + ii] / dj))) + 32 for ii in range(16)]
            else:
                codes = Ls[j]
            y += [F(dj * F(c - 32)) for c in codes]
    return y


def line(name, vals):
    vals = np.asarray(vals, dtype=np.float64).reshape(-1)
    print(name, len(vals), " ".join(repr(float(v)) for v in vals))


def main():
    print("# made by tests/golden/make_imatrix_golden.py (numpy %s)" % np.__version__)
    rng = np.random.default_rng(31)
    rows, cols, n = 4, 256, 64
    W = (rng.standard_t(5, size=(rows, cols)) * 0.03).astype(F)
    X = rng.normal(size=(n, cols)).astype(F)
    X[:, [3, 100, 200]] *= 15.0
    imat = np.mean(X.astype(np.float64) ** 2, axis=0).astype(F)
    line("W", W)
    line("imatrix", imat)
    Xd = X.astype(np.float64)
    for name, fn in [("q4_0", q4_0_row), ("q4_k", q4_K_row), ("q6_k", q6_K_row)]:
        y = []
        for r in range(rows):
            y += fn([F(v) for v in W[r]], [F(v) for v in imat])
        line(name, y)
    return 0


if __name__ == "__main__":
    sys.exit(main())
