#!/usr/bin/python3
"""make_fold.py — writes tests/golden/fold_ref.txt: BatchNorm folding computed by PyTorch's own
torch.nn.utils.fuse_conv_bn_weights (the function torch.ao.quantization's fusion uses) and
cross-layer equalization written from Nagel et al. 2019, eq. (5)-(8), in NumPy (float64),
for the unit test tests/unit/test_fold.c. Inputs are written to the file too.

Run once:  /usr/bin/python3 tests/golden/make_fold.py   (python3-numpy, python3-torch)
"""
import os

import numpy as np
import torch
from torch.nn.utils import fuse_conv_bn_weights

rng = np.random.RandomState(7)
C, K = 5, 7
w = rng.standard_normal((C, K)).astype(np.float32)
b = rng.standard_normal(C).astype(np.float32)
gamma = rng.uniform(0.2, 2.0, C).astype(np.float32)
beta = rng.standard_normal(C).astype(np.float32)
mean = rng.standard_normal(C).astype(np.float32)
var = np.array([1e-4, 0.25, 1.0, 4.0, 0.01], np.float32)
eps = 1e-5

# PyTorch: a Linear is a 1x1 conv; fuse_conv_bn_weights works on any (C, ...) weight
fw, fb = fuse_conv_bn_weights(torch.from_numpy(w.copy()), torch.from_numpy(b.copy()),
                              torch.from_numpy(mean), torch.from_numpy(var), eps,
                              torch.from_numpy(gamma), torch.from_numpy(beta))
fw = fw.detach().numpy().astype(np.float64)
fb = fb.detach().numpy().astype(np.float64)

# cross-layer equalization of W1 (C x K1) and W2 (K2 x C) joined by a ReLU
K1, K2 = 6, 4
W1 = (rng.standard_normal((C, K1)) * np.array([[30.0], [1], [0.05], [2], [1]])).astype(np.float32)
W2 = rng.standard_normal((K2, C)).astype(np.float32)
b1 = rng.standard_normal(C).astype(np.float32)
r1 = np.abs(W1.astype(np.float64)).max(axis=1)
r2 = np.abs(W2.astype(np.float64)).max(axis=0)
s = np.sqrt(r1 * r2) / r2                       # Nagel et al.: s_i = (1/r2_i) sqrt(r1_i r2_i)
W1e = W1 / s[:, None]
W2e = W2 * s[None, :]
b1e = b1 / s
# the function is unchanged: W2 relu(W1 x + b1) == W2e relu(W1e x + b1e)
x = rng.standard_normal(K1)
y0 = W2.astype(np.float64) @ np.maximum(W1.astype(np.float64) @ x + b1, 0)
y1 = W2e @ np.maximum(W1e @ x + b1e, 0)
assert np.allclose(y0, y1, rtol=1e-12, atol=1e-12)
pair = np.concatenate([W1, W2.T], axis=1)       # qscope's side-by-side layout
pair_e = np.concatenate([W1e, W2e.T], axis=1)


def line(f, name, v):
    v = np.asarray(v, np.float64).ravel()
    f.write("%s %d %s\n" % (name, v.size, " ".join("%.17g" % x for x in v)))


out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fold_ref.txt")
with open(out, "w") as f:
    f.write("# made by tests/golden/make_fold.py (torch %s, numpy %s); C=%d K=%d eps=%g; "
            "equalize C=%d K1=%d K2=%d\n" % (torch.__version__, np.__version__, C, K, eps,
                                            C, K1, K2))
    for name, v in [("w", w), ("b", b), ("gamma", gamma), ("beta", beta), ("mean", mean),
                    ("var", var), ("fold_w", fw), ("fold_b", fb), ("pair", pair),
                    ("b1", b1), ("eq_pair", pair_e), ("eq_b1", b1e), ("eq_s", s),
                    ("eq_r1", r1), ("eq_r2", r2)]:
        line(f, name, v)
print("wrote", out)
