#!/usr/bin/python3
# torch_mlp.py — the lab's training epoch in PyTorch, for `make bench` (issue 7): the same MLPs
# (64-64-10 on digits, batch 32; 784-256-10 on Fashion-MNIST, batch 64), ReLU, softmax
# cross-entropy, Adam, the same number of training samples as qscope's split (1259 and
# 55000). Prints the median epoch times as bench_lab arguments:
#   --torch-digits SECONDS [--torch-fashion SECONDS]
# Run only with Debian's /usr/bin/python3 when it has torch; never a dependency of qscope.
import gzip
import os
import statistics
import sys
import time

import numpy as np
import torch

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FASHION = "/usr/share/datasets/fashion-mnist"


def epoch_time(x, y, sizes, batch, reps):
    torch.manual_seed(1)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.tensor(x, dtype=torch.float32)
    y = torch.tensor(y, dtype=torch.long)
    times = []
    for _ in range(reps + 1):           # the first epoch warms up
        perm = torch.randperm(len(y))
        t0 = time.perf_counter()
        for i in range(0, len(y), batch):
            idx = perm[i:i + batch]
            loss = loss_fn(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:])


def main():
    d = np.loadtxt(gzip.open(os.path.join(TOP, "datasets", "digits.csv.gz")), delimiter=",")
    x, y = d[:1259, :64] / 16.0, d[:1259, 64].astype(np.int64)
    out = ["--torch-digits", "%.6f" % epoch_time(x, y, [64, 64, 10], 32, 7)]
    img = os.path.join(FASHION, "train-images-idx3-ubyte.gz")
    if os.path.exists(img) and "--no-fashion" not in sys.argv:
        with gzip.open(img) as f:
            xi = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:55000] / 255.0
        with gzip.open(os.path.join(FASHION, "train-labels-idx1-ubyte.gz")) as f:
            yi = np.frombuffer(f.read(), np.uint8, offset=8)[:55000].astype(np.int64)
        out += ["--torch-fashion", "%.6f" % epoch_time(xi, yi, [784, 256, 10], 64, 3)]
    print(" ".join(out))


if __name__ == "__main__":
    main()
