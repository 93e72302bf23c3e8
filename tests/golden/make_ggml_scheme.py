#!/usr/bin/python3
# make_ggml_scheme.py — reference values for the engine's ggml block schemes (issue 9:
# `scheme q4_k; quant`, `codes`, `qparams`, `derive`, `compare formats=...`), made with the
# numpy ports of ggml's quantize_row_*_ref / dequantize_row_* in
# tests/fixtures/make_model_fixtures.py (an implementation independent of src/quant/ggml.c).
#
# Writes, deterministically:
#   tests/golden/ggml_scheme_x.npy   the input: float32 [3, 320] (Laplace, an outlier, a zero
#                                    run); rows of 320 are 10 blocks of 32 or 1.25 super-blocks
#                                    of 256, so the K-quants pad each row's second super-block
#                                    with 192 zeros, as ggml.c and qscope do
#   tests/golden/ggml_scheme_ref.txt lines "name count values...":
#     y.TYPE      the dequantized tensor (row by row, padding dropped)
#     d.TYPE      each block's fp16 scale d as float (row-major blocks)
#     stats.TYPE  mse sqnr_db max_abs_err mean_err cosine bits_per_param nblocks, in float64
#                 over the float32 values (bits_per_param = 8·bytes·nblocks / n, the padded cost)
#
#   /usr/bin/python3 tests/golden/make_ggml_scheme.py
import os
import struct
import sys

import numpy as np

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import make_model_fixtures as m  # noqa: E402

F = np.float32
QUANT = {
    "q8_0": ("Q8_0", 32, 34, m.q8_0, 0),
    "q4_0": ("Q4_0", 32, 18, m.q4_0, 0),
    "q4_1": ("Q4_1", 32, 20, lambda x: m.q_1(x, False), 0),
    "q5_0": ("Q5_0", 32, 22, m.q5_0, 0),
    "q5_1": ("Q5_1", 32, 24, lambda x: m.q_1(x, True), 0),
    "q4_k": ("Q4_K", 256, 144, m.q4_K, 0),
    "q6_k": ("Q6_K", 256, 210, m.q6_K, 208),
}


def line(f, name, arr, fmt="%.9g"):
    f.write(name + " " + str(len(arr)) + " " + " ".join(fmt % v for v in arr) + "\n")


def main():
    rng = np.random.default_rng(2026)
    x = rng.laplace(0.0, 0.03, size=(3, 320)).astype(F)
    x[1, 17] = 0.5                          # an outlier
    x[2, 64:96] = 0.0                       # an all-zero block / sub-block
    np.save(os.path.join(HERE, "ggml_scheme_x.npy"), x)
    with open(os.path.join(HERE, "ggml_scheme_ref.txt"), "w") as f:
        f.write("# make_ggml_scheme.py: name count values... (input ggml_scheme_x.npy)\n")
        for name, (t, blk, size, quant, doff) in QUANT.items():
            ys, ds = [], []
            nb = 0
            for row in x:
                pad = (-len(row)) % blk
                r = np.concatenate([row, np.zeros(pad, dtype=F)])
                for i in range(0, len(r), blk):
                    b = quant(r[i:i + blk])
                    assert len(b) == size
                    ds.append(m.h2f(struct.unpack_from("<H", b, doff)[0]))
                    ys.append(m.dq_block(t, b))
                    nb += 1
            y = np.concatenate(ys).reshape(3, -1)[:, :320].astype(F)
            xd, yd = x.astype(np.float64).ravel(), y.astype(np.float64).ravel()
            e = yd - xd
            n = xd.size
            mse = float(np.mean(e * e))
            sqnr = 10 * np.log10(np.sum(xd * xd) / np.sum(e * e))
            cos = float(np.dot(xd, yd) / np.sqrt(np.dot(xd, xd) * np.dot(yd, yd)))
            line(f, "y." + name, y.ravel())
            line(f, "d." + name, np.array(ds, dtype=F))
            line(f, "stats." + name, [mse, sqnr, float(np.max(np.abs(e))), float(np.mean(e)),
                                      cos, 8.0 * size * nb / n, nb], "%.17g")


if __name__ == "__main__":
    main()
