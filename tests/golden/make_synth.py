#!/usr/bin/python3
"""make_synth.py — writes tests/golden/synth_*.txt: the first values of every synthetic
distribution, from an independent Python re-implementation of the algorithms documented in
include/qscope/synth.h (xoshiro256** seeded by splitmix64, polar normals, our own log/exp from
basic IEEE operations). Python floats are IEEE doubles with no FMA contraction, so a correct
C implementation must agree bit for bit after rounding to float32.

Run once (pure Python, no NumPy):  /usr/bin/python3 tests/golden/make_synth.py
"""
import math
import os
import struct

M64 = (1 << 64) - 1


class Rng:
    def __init__(self, seed):
        x = seed & M64
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            self.s.append(z ^ (z >> 31))
        self.spare = None

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & M64

    def u64(self):
        s = self.s
        result = (self._rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def uniform(self):
        return (float(self.u64() >> 11) + 0.5) * 2.0 ** -53

    def polar(self):
        while True:
            u = 2.0 * self.uniform() - 1.0
            v = 2.0 * self.uniform() - 1.0
            s = u * u + v * v
            if 0.0 < s < 1.0:
                return u, v, s

    def normal(self):
        if self.spare is not None:
            r, self.spare = self.spare, None
            return r
        u, v, s = self.polar()
        f = math.sqrt(-2.0 * my_log(s) / s)
        self.spare = v * f
        return u * f


LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e+00
SQRT2 = 1.41421356237309514547e+00


def my_log(x):
    assert x > 0 and math.isfinite(x)
    b = struct.unpack("<Q", struct.pack("<d", x))[0]
    k = 0
    if (b >> 52) == 0:
        x *= 2.0 ** 54
        k = -54
        b = struct.unpack("<Q", struct.pack("<d", x))[0]
    k += (b >> 52) - 1023
    m = struct.unpack("<d", struct.pack("<Q", (b & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000))[0]
    if m > SQRT2:
        m = m * 0.5
        k += 1
    f = (m - 1.0) / (m + 1.0)
    s = f * f
    p = 1.0 / 25.0
    for d in (23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3):
        p = p * s + 1.0 / float(d)
    lm = 2.0 * f + 2.0 * f * s * p
    return float(k) * LN2_HI + (float(k) * LN2_LO + lm)


def my_exp(x):
    if x > 709.8:
        return math.inf
    if x < -745.2:
        return 0.0
    kd = math.floor(x * INV_LN2 + 0.5)
    r = (x - kd * LN2_HI) - kd * LN2_LO
    p = 1.0 / float(math.factorial(14))
    for d in range(13, 1, -1):
        p = p * r + 1.0 / float(math.factorial(d))
    p = p * r + 1.0
    p = p * r + 1.0
    return math.ldexp(p, int(kd))


def sample(dist, a, g):
    if dist == "normal":
        return a["mean"] + a["std"] * g.normal()
    if dist == "uniform":
        return a["lo"] + (a["hi"] - a["lo"]) * g.uniform()
    if dist == "laplace":
        u = g.uniform() - 0.5
        if u < 0:
            return a["loc"] + a["b"] * my_log(1.0 + 2.0 * u)
        return a["loc"] - a["b"] * my_log(1.0 - 2.0 * u)
    if dist == "student-t":
        u, _v, w = g.polar()
        df = a["df"]
        t = u * math.sqrt(df * (my_exp((-2.0 / df) * my_log(w)) - 1.0) / w)
        return a["loc"] + a["scale"] * t
    if dist == "lognormal":
        return my_exp(a["mu"] + a["sigma"] * g.normal())
    if dist == "bimodal":
        c = g.uniform()
        z = g.normal()
        return a["mean1"] + a["std1"] * z if c < a["weight"] else a["mean2"] + a["std2"] * z
    if dist == "outliers":
        c = g.uniform()
        z = g.normal()
        return a["mean"] + a["std"] * z * (a["scale"] if c < a["frac"] else 1.0)
    if dist == "relu":
        y = a["mean"] + a["std"] * g.normal()
        return y if y > 0 else 0.0
    raise ValueError(dist)


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


# (distribution, seed, parameters as given on the command line) — a mix of defaults and
# non-default values; n is large enough to cover polar rejections and the spare normal.
CASES = [
    ("normal", 1, {"mean": 0.0, "std": 1.0}),
    ("uniform", 7, {"lo": -3.0, "hi": 5.0}),
    ("laplace", 3, {"loc": 0.0, "b": 0.5}),
    ("student-t", 11, {"df": 2.5, "loc": 1.0, "scale": 2.0}),
    ("lognormal", 5, {"mu": 0.25, "sigma": 0.75}),
    ("bimodal", 9, {"mean1": -2.0, "std1": 0.5, "mean2": 3.0, "std2": 1.0, "weight": 0.3}),
    ("outliers", 13, {"mean": 0.0, "std": 1.0, "frac": 0.05, "scale": 20.0}),
    ("relu", 17, {"mean": 0.1, "std": 1.0}),
]
N = 256


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for dist, seed, params in CASES:
        g = Rng(seed)
        path = os.path.join(here, "synth_%s.txt" % dist)
        with open(path, "w") as f:
            f.write("# golden values for synth, written by tests/golden/make_synth.py (an\n")
            f.write("# independent Python re-implementation); float32 bits then the value\n")
            f.write("dist %s\n" % dist)
            f.write("seed %d\n" % seed)
            f.write("params %s\n" % " ".join("%s=%r" % kv for kv in params.items()))
            f.write("n %d\n" % N)
            for _ in range(N):
                x = sample(dist, params, g)
                b = f32_bits(x)
                f.write("0x%08x %s\n" % (b, repr(struct.unpack("<f", struct.pack("<I", b))[0])))
        print("wrote", path)


if __name__ == "__main__":
    main()
