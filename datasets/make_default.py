#!/usr/bin/python3
# make_default.py — writes datasets/default.npy, the tensor the TUI opens when started with no
# file: a 64x64 float32 "weight matrix" that looks like a trained layer's weights (normal,
# per-row scales that differ, a few large outliers), so per-tensor vs per-channel and
# clipping effects are visible at once. Deterministic: numpy's PCG64 with a fixed seed.
# Run with Debian's python3 + numpy:  /usr/bin/python3 datasets/make_default.py
import os
import numpy as np

rng = np.random.default_rng(20260601)
rows, cols = 64, 64
# Kaiming-like base scale for fan_in 64, with per-output-channel scales spread over ~4x.
row_scale = np.sqrt(2.0 / cols) * rng.uniform(0.5, 2.0, size=(rows, 1))
w = rng.standard_normal((rows, cols)) * row_scale
# A few outlier weights (0.3% of them) 6-10x the typical size, as trained layers have.
k = int(round(0.003 * rows * cols))
idx = rng.choice(rows * cols, size=k, replace=False)
w.flat[idx] = rng.choice([-1.0, 1.0], size=k) * rng.uniform(6, 10, size=k) * np.sqrt(2.0 / cols)
w = w.astype("<f4")
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "default.npy")
np.save(out, w)
print("%s: shape %s min %.6f max %.6f std %.6f" % (out, w.shape, w.min(), w.max(), w.std()))
