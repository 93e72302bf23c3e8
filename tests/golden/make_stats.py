#!/usr/bin/python3
"""make_stats.py — writes tests/golden/stats_*.txt: float32 input arrays (as exact bit
patterns) and the statistics NumPy computes for them, for tests/unit/test_stats.c.

qscope's conventions (include/qscope/stats.h): NaN and ±Inf are counted and left out of every
other statistic; std is the population std (ddof=0, NumPy's default); percentiles use NumPy's
default 'linear' method. NumPy computes here in float64 on the finite values, which is what
qscope does in C, so the C test can compare at float32 precision or better.

Run once with the system Python and NumPy:  /usr/bin/python3 tests/golden/make_stats.py
"""
import math
import os

import numpy as np

LEVELS = [0.01, 0.1, 1, 50, 99, 99.9, 99.99]


def cases():
    rng = np.random.default_rng(20240601)
    yield "classroom", np.array([0, 250, 1000], dtype=np.float32)
    yield "single", np.array([3.5], dtype=np.float32)
    yield "normal", rng.normal(0.5, 2.0, 10007).astype(np.float32)
    # heavy tails, an offset mean (tests the compensated two-pass std)
    yield "laplace_offset", (1000.0 + rng.laplace(0, 0.01, 8191)).astype(np.float32)
    # ReLU activations: half exact zeros, many ties
    yield "relu", np.maximum(rng.normal(0, 1, 5000), 0).astype(np.float32)
    # specials mixed in: NaN, ±Inf, ±0, subnormals, huge finite values
    x = rng.standard_t(3, 3000).astype(np.float32)
    x[::97] = np.nan
    x[5::211] = np.inf
    x[7::307] = -np.inf
    x[11::13] = 0.0
    x[12::131] = -0.0
    x[3] = np.float32(1e-45)
    x[4] = np.float32(3e38)
    x[6] = np.float32(-3e38)
    yield "specials", x
    # small integers with lots of duplicates (quantized codes)
    yield "codes", rng.integers(-128, 128, 4099).astype(np.float32)
    yield "all_nan", np.array([np.nan, np.nan], dtype=np.float32)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for name, x in cases():
        assert x.dtype == np.float32
        fin = x[np.isfinite(x)].astype(np.float64)
        exp = {
            "n": x.size,
            "finite": fin.size,
            "nan": int(np.isnan(x).sum()),
            "inf": int(np.isinf(x).sum()),
            "zeros": int((x == 0).sum()),
        }
        if fin.size:
            exp["min"] = fin.min()
            exp["max"] = fin.max()
            exp["mean"] = math.fsum(fin) / fin.size   # exactly rounded sum
            exp["std"] = np.std(fin)            # ddof=0
            exp["absmax"] = np.abs(fin).max()
            for lv, p in zip(LEVELS, np.percentile(fin, LEVELS)):   # method='linear'
                exp["p%g" % lv] = p
        path = os.path.join(here, "stats_%s.txt" % name)
        with open(path, "w") as f:
            f.write("# stats golden case '%s', written by tests/golden/make_stats.py with NumPy %s\n"
                    % (name, np.__version__))
            f.write("# expect KEY VALUE lines, then 'values N' and N float32 bit patterns\n")
            for k, v in exp.items():
                f.write("expect %s %s\n" % (k, repr(float(v)) if isinstance(v, float) or
                                           isinstance(v, np.floating) else int(v)))
            f.write("values %d\n" % x.size)
            for b in x.view(np.uint32):
                f.write("0x%08x\n" % b)
        print("wrote", path)


if __name__ == "__main__":
    main()
