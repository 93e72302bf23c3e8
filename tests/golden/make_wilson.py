#!/usr/bin/python3
"""make_wilson.py — reference 95% Wilson score intervals for qs_nn_wilson95 (the interval the
lab puts beside each accuracy). Computed independently of the closed form the C code uses:
the interval is the set of true accuracies p0 for which the observed p lies within
z * sqrt(p0 (1 - p0) / n) of p0, and its two ends are found here by bisection on that
inequality. Run with /usr/bin/python3 (standard library only); prints the C table that
tests/unit/test_nn.c holds (the 359-image digits test set, a perfect and a zero score, n=1).
"""
import math

Z = 1.959963984540054   # the 97.5% quantile of the standard normal


def inside(p0, p, n):
    return abs(p - p0) <= Z * math.sqrt(p0 * (1 - p0) / n)


def edge(p, n, lo_side):
    # bisection between a point inside the interval (p itself, or just beside 0/1) and the
    # end of [0, 1] on that side
    a, b = p, (0.0 if lo_side else 1.0)
    if inside(b, p, n) or b == p:
        return b
    for _ in range(200):
        m = (a + b) / 2
        if inside(m, p, n) or m == p:
            a = m
        else:
            b = m
    return a


CASES = [(349, 359), (350, 359), (359, 359), (0, 359), (1, 1), (45, 100)]
for k, n in CASES:
    p = k / n
    # p = 0 or 1 lies on the boundary where the variance vanishes: step inside first
    lo = edge(p, n, True) if p > 0 else 0.0
    hi = edge(p, n, False) if p < 1 else 1.0
    print("    {%d, %d, %.15g, %.15g}," % (k, n, lo, hi))
