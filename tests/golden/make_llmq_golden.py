#!/usr/bin/python3
"""make_llmq_golden.py — numpy references for the LLM-era methods of issue 17 (llmq.h), ported
from the original algorithms (not from qscope's C):

  GPTQ        IST-DASLab/gptq gptq.py GPTQ.fasterquant + quant.py Quantizer.find_params
  AWQ         mit-han-lab/llm-awq awq/quantize/auto_scale.py _search_module_scale +
              quantizer.py pseudo_quantize_tensor, then auto_clip.py auto_clip_layer +
              apply_clip on the scaled layer (apply_scale divides the inputs by the scales)
  SmoothQuant mit-han-lab/smoothquant smooth.py smooth_ln_fcs (scales) + a W8A8 simulation
              (int8 absmax per token for X, per output channel for W)
  LLM.int8()  outlier columns (any |x| >= threshold) in floating point, the rest int8 with
              per-row / per-output-row absmax scales (bitsandbytes vector-wise quantization)
  rotation    signs from splitmix64(seed), then the normalised Walsh-Hadamard transform
              (scipy.linalg.hadamard ordering, built here by Sylvester's construction)

Arithmetic is float64 as qscope's (the originals run in torch float32/float16), with the same
float32 stores where qscope stores float32. Run with /usr/bin/python3 (python3-numpy):
    /usr/bin/python3 tests/golden/make_llmq_golden.py > tests/golden/llmq_ref.txt
"""
import sys

import numpy as np

M64 = (1 << 64) - 1


def splitmix_signs(seed, n):
    s = seed
    out = []
    for _ in range(n):
        s = (s + 0x9E3779B97F4A7C15) & M64
        z = s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        z = z ^ (z >> 31)
        out.append(-1.0 if (z >> 63) else 1.0)
    return np.array(out, dtype=np.float32)


def hadamard(n):
    h = np.array([[1.0]])
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h


# ---- the weight grids ----------------------------------------------------------------------

def gptq_params(x, bits, sym):
    """quant.py Quantizer.find_params for one row (perchannel, weight=True)"""
    maxq = 2 ** bits - 1
    xmin = min(x.min(), 0.0)
    xmax = max(x.max(), 0.0)
    if sym:
        xmax = max(abs(xmin), xmax)
        if xmin < 0:
            xmin = -xmax
    if xmin == 0 and xmax == 0:
        xmin, xmax = -1.0, 1.0
    scale = (xmax - xmin) / maxq
    zero = (maxq + 1) / 2 if sym else np.round(-xmin / scale)
    return scale, zero


def gptq_quant(x, scale, zero, bits):
    maxq = 2 ** bits - 1
    q = np.clip(np.round(x / scale) + zero, 0, maxq)
    return scale * (q - zero)


def awq_pseudo(w, bits, group):
    """pseudo_quantize_tensor(zero_point=True) in float64 on a float32 input, stored float32"""
    out, inn = w.shape
    w = w.astype(np.float64).reshape(-1, group)
    mx = w.max(axis=1, keepdims=True)
    mn = w.min(axis=1, keepdims=True)
    max_int = 2 ** bits - 1
    scales = np.maximum(mx - mn, 1e-5) / max_int
    zeros = np.clip(-np.round(mn / scales), 0, max_int)
    q = (np.clip(np.round(w / scales) + zeros, 0, max_int) - zeros) * scales
    return q.reshape(out, inn).astype(np.float32)


def rtn_gptq(W, bits, sym, group):
    out, inn = W.shape
    g = group or inn
    Q = np.zeros_like(W, dtype=np.float32)
    for r in range(out):
        for j0 in range(0, inn, g):
            x = W[r, j0:j0 + g].astype(np.float64)
            s, z = gptq_params(x, bits, sym)
            Q[r, j0:j0 + g] = gptq_quant(x, s, z, bits).astype(np.float32)
    return Q


# ---- GPTQ ------------------------------------------------------------------------------------

def gptq(X, W, bits, sym, groupsize, blocksize, actorder, percdamp=0.01):
    W = W.astype(np.float64).copy()
    rows, cols = W.shape
    n = X.shape[0]
    Xd = X.astype(np.float64)
    H = 2.0 / n * (Xd.T @ Xd)
    scale = np.zeros(rows)
    zero = np.zeros(rows)
    for r in range(rows):
        scale[r], zero[r] = gptq_params(W[r], bits, sym)
    dead = np.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    perm = np.arange(cols)
    if actorder:
        perm = np.argsort(-np.diag(H), kind="stable")
        W = W[:, perm]
        H = H[perm][:, perm]
    Q = np.zeros_like(W)
    damp = percdamp * np.mean(np.diag(H))
    H[np.arange(cols), np.arange(cols)] += damp
    L = np.linalg.cholesky(H)
    Hinv_full = np.linalg.inv(L).T @ np.linalg.inv(L)        # cholesky_inverse
    Hinv = np.linalg.cholesky(Hinv_full).T                    # cholesky(upper=True)
    loss = 0.0
    for i1 in range(0, cols, blocksize):
        i2 = min(i1 + blocksize, cols)
        count = i2 - i1
        W1 = W[:, i1:i2].copy()
        Q1 = np.zeros_like(W1)
        Err1 = np.zeros_like(W1)
        Hinv1 = Hinv[i1:i2, i1:i2]
        for i in range(count):
            w = W1[:, i]
            d = Hinv1[i, i]
            if groupsize > 0 and (i1 + i) % groupsize == 0:
                for r in range(rows):
                    scale[r], zero[r] = gptq_params(W[r, (i1 + i):(i1 + i + groupsize)], bits, sym)
            q = np.array([gptq_quant(w[r], scale[r], zero[r], bits) for r in range(rows)])
            Q1[:, i] = q
            loss += float(np.sum((w - q) ** 2 / d ** 2) / 2)
            err1 = (w - q) / d
            W1[:, i:] -= np.outer(err1, Hinv1[i, i:])
            Err1[:, i] = err1
        Q[:, i1:i2] = Q1
        W[:, i2:] -= Err1 @ Hinv[i1:i2, i2:]
    inv = np.argsort(perm)
    return Q[:, inv].astype(np.float32), loss


# ---- AWQ -------------------------------------------------------------------------------------

def out_mse(X, W, Wq):
    Xd = X.astype(np.float64)
    e = Xd @ W.astype(np.float64).T - Xd @ Wq.astype(np.float64).T
    return float(np.mean(e ** 2))


def awq(X, W, bits, group, n_grid=20):
    x_max = np.mean(np.abs(X.astype(np.float64)), axis=0)
    best = (np.inf, None, None, None)
    losses = []
    for k in range(n_grid):
        ratio = k / n_grid
        s = np.maximum(x_max ** ratio, 1e-4).astype(np.float32)
        s = (s.astype(np.float64) / np.sqrt(float(s.max()) * float(s.min()))).astype(np.float32)
        Ws = (W * s[None, :]).astype(np.float32)
        Wq = (awq_pseudo(Ws, bits, group) / s[None, :]).astype(np.float32)
        loss = out_mse(X, W, Wq)
        losses.append(loss)
        if loss < best[0]:
            best = (loss, ratio, Wq, s)
    return best[2], best[1], losses, best[3]


def awq_clip(X, W, s, bits, group, n_grid=20, max_shrink=0.5, n_sample_token=512):
    """auto_clip_layer (the tensor layout of auto_clip.py: w [co, 1, n_group, gs], input_feat
    [1, n_token, n_group, gs]) on W*s and X/s, then apply_clip and pseudo_quantize, / s"""
    Ws = (W * s[None, :]).astype(np.float32)
    Xs = (X / s[None, :]).astype(np.float32)
    co, ci = Ws.shape
    gs = group if group > 0 else ci
    feat = Xs.astype(np.float64).reshape(1, Xs.shape[0], -1, gs)
    step = feat.shape[1] // n_sample_token
    feat = feat[:, 0::max(step, 1)]     # torch refuses a step of 0: every row below 512
    w = Ws.astype(np.float64).reshape(co, 1, -1, gs)
    org_max_val = np.abs(w).max(axis=-1, keepdims=True)
    best_max_val = org_max_val.copy()
    min_errs = np.ones_like(org_max_val) * 1e9
    org_out = (feat * w).sum(axis=-1)
    for i_s in range(int(max_shrink * n_grid)):
        max_val = org_max_val * (1 - i_s / n_grid)
        cur_w = np.clip(w, -max_val, max_val)
        q_w = awq_pseudo(cur_w.reshape(co, ci), bits, gs).astype(np.float64).reshape(w.shape)
        cur_out = (feat * q_w).sum(axis=-1)
        err = ((cur_out - org_out) ** 2).mean(axis=1).reshape(min_errs.shape)
        better = err < min_errs
        min_errs[better] = err[better]
        best_max_val[better] = max_val[better]
    # apply_clip, then the final pseudo-quantization of the clipped weight
    Wc = np.clip(w, -best_max_val, best_max_val).reshape(co, ci)
    Wq = (awq_pseudo(Wc, bits, gs) / s[None, :]).astype(np.float32)
    nclipped = int(np.sum(best_max_val < org_max_val))
    return Wq, best_max_val.reshape(co, -1), nclipped


# ---- SmoothQuant, W8A8, LLM.int8() -----------------------------------------------------------

def smooth_scales(X, W, alpha):
    ax = np.max(np.abs(X.astype(np.float64)), axis=0)
    aw = np.maximum(np.max(np.abs(W.astype(np.float64)), axis=0), 1e-5)
    return np.maximum(ax ** alpha / aw ** (1 - alpha), 1e-5).astype(np.float32)


def q8(v, sc):
    if sc <= 0:
        return np.zeros_like(v)
    return np.clip(np.round(v / sc), -127, 127)


def w8a8(X, W, per_tensor=False):
    Xd = X.astype(np.float64)
    Wd = W.astype(np.float64)
    at = np.max(np.abs(Xd))
    sx = (np.full(X.shape[0], at) if per_tensor else np.max(np.abs(Xd), axis=1)) / 127.0
    sw = np.max(np.abs(Wd), axis=1) / 127.0
    qx = np.stack([q8(Xd[t], sx[t]) for t in range(X.shape[0])])
    qw = np.stack([q8(Wd[o], sw[o]) for o in range(W.shape[0])])
    acc = qx @ qw.T                      # exact: small integers
    return (acc * sx[:, None] * sw[None, :]).astype(np.float32)


def llmint8(X, W, thr):
    keep = np.any(np.abs(X) >= thr, axis=0)
    Xr = np.where(keep[None, :], 0, X).astype(np.float32)
    Wr = np.where(keep[None, :], 0, W).astype(np.float32)
    Yr = w8a8(Xr, Wr)
    Yo = X[:, keep].astype(np.float64) @ W[:, keep].astype(np.float64).T
    return (Yr.astype(np.float64) + Yo).astype(np.float32), keep


def line(name, vals):
    vals = np.asarray(vals).reshape(-1)
    print(name, len(vals), " ".join(repr(float(v)) for v in vals))


def main():
    print("# made by tests/golden/make_llmq_golden.py (numpy %s)" % np.__version__)
    rng = np.random.default_rng(2017)
    out, inn, n = 16, 64, 48
    W = (rng.standard_t(4, size=(out, inn)) * 0.02).astype(np.float32)
    W[3, 5] = 0.4                                      # a heavy outlier weight
    X = rng.normal(size=(n, inn)).astype(np.float32)
    X[:, [7, 21, 50]] *= 20.0                          # planted outlier channels
    X[:, 40] = 0.0                                     # a dead input channel
    line("W", W)
    line("X", X)
    # rotation
    d = splitmix_signs(7, inn)
    Hn = hadamard(inn) / np.sqrt(inn)
    Wr = ((W.astype(np.float64) * d[None, :]) @ Hn).astype(np.float32)   # rows: FWHT(w*d)/sqrt n
    line("rot_signs", d)
    line("rot_W", Wr)
    # round to nearest (GPTQ grid) and GPTQ
    line("rtn_g16_b4", rtn_gptq(W, 4, False, 16))
    cfgs = [("gptq_a", 4, False, 0, 128, False), ("gptq_b", 3, False, 16, 32, True),
            ("gptq_c", 4, True, 32, 16, False), ("gptq_d", 3, True, 0, 8, True)]
    for name, bits, sym, gs, bs, act in cfgs:
        Q, loss = gptq(X, W, bits, sym, gs, bs, act)
        line(name, Q)
        line(name + "_loss", [loss])
    # AWQ
    Wq, ratio, losses, best_s = awq(X, W, 4, 32)
    line("awq_W", Wq)
    line("awq_ratio", [ratio])
    line("awq_losses", losses)
    s = best_s
    Wc, mv, nc = awq_clip(X, W, s, 4, 32)
    line("awq_clip_W", Wc)
    line("awq_clip_max", mv)
    line("awq_clip_n", [nc])
    Wc, mv, nc = awq_clip(X, W, np.ones(inn, dtype=np.float32), 3, 16, n_sample_token=10)
    line("awq_clip3_W", Wc)
    line("awq_clip3_max", mv)
    line("awq_clip3_n", [nc])
    # SmoothQuant
    s = smooth_scales(X, W, 0.5)
    line("smooth_s", s)
    line("w8a8_plain", w8a8(X, W))
    Xs = (X / s[None, :]).astype(np.float32)
    Ws = (W * s[None, :]).astype(np.float32)
    line("w8a8_smooth", w8a8(Xs, Ws))
    line("w8a8_tensor", w8a8(X, W, per_tensor=True))
    # LLM.int8()
    Y, keep = llmint8(X, W, 6.0)
    line("llmint8_Y", Y)
    line("llmint8_keep", keep.astype(np.float64))
    return 0


if __name__ == "__main__":
    sys.exit(main())
