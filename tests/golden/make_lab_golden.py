#!/usr/bin/python3
# make_lab_golden.py — reference values for tests/unit/test_nn_ref.c, computed with PyTorch
# independently of qscope, on a small 8-6-4 MLP (random weights, inputs in [0, 1]):
#   movavg_*   activation ranges of PTQ with calib=movavg and calibration batches of 4
#              samples: torch.ao.quantization.MovingAverageMinMaxObserver (momentum 0.01)
#              called once per batch on each layer's fp32 input, as in a calibration loop
#   qat_*      one QAT forward / backward (no step) of the fake-quantized model: weights
#              symmetric narrow (torch.fake_quantize_per_tensor/per_channel_affine, scale =
#              absmax / qmax), inputs affine uint8 over the min/max of the first batch
#              (MinMaxObserver qparams, torch.fake_quantize_per_tensor_affine), the bias on
#              the S_in·S_w grid (straight-through), ReLU, mean softmax cross-entropy; the
#              gradients through PyTorch's own straight-through estimators (autograd)
#   lsq_*      the same forward / backward with learned step sizes: every weight and input
#              scale through torch._fake_quantize_learnable_per_tensor_affine (LSQ: the
#              gradient factor 1/sqrt(N·Q_P), N the weights of the tensor or the inputs of
#              a sample, Q_P = qmax - zero point), W3 per tensor; the scales' gradients
# Lines "NAME COUNT v1 v2 ..." (tests/unit/golden.h).
# Run with Debian's python3 (numpy + torch):  /usr/bin/python3 tests/golden/make_lab_golden.py
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
NIN, NH, NOUT, NS, BATCH = 8, 6, 4, 10, 4


def line(name, v):
    v = np.asarray(v, dtype=np.float64).reshape(-1)
    return "%s %d %s" % (name, v.size, " ".join("%.9g" % x for x in v))


def aparams(lo, hi):
    obs = torch.ao.quantization.MinMaxObserver(dtype=torch.quint8, quant_min=0, quant_max=255)
    obs.min_val = torch.tensor(float(lo))
    obs.max_val = torch.tensor(float(hi))
    s, z = obs.calculate_qparams()
    return float(s), int(z)


def main():
    rng = np.random.default_rng(20261204)
    w0 = rng.normal(0, 0.5, (NH, NIN)).astype(np.float32)
    b0 = rng.normal(0, 0.2, NH).astype(np.float32)
    w1 = rng.normal(0, 0.5, (NOUT, NH)).astype(np.float32)
    b1 = rng.normal(0, 0.2, NOUT).astype(np.float32)
    x = rng.uniform(0, 1, (NS, NIN)).astype(np.float32)
    y = (np.arange(NS) % NOUT).astype(np.int64)
    out = ["# make_lab_golden.py: an %d-%d-%d MLP, %d samples, movavg batches of %d samples"
           % (NIN, NH, NOUT, NS, BATCH)]
    for n, v in (("w0", w0), ("b0", b0), ("w1", w1), ("b1", b1), ("x", x), ("y", y)):
        out.append(line(n, v))
    t = {k: torch.from_numpy(v) for k, v in (("w0", w0), ("b0", b0), ("w1", w1), ("b1", b1))}
    xt = torch.from_numpy(x)
    h = torch.relu(xt @ t["w0"].t() + t["b0"])
    # movavg over the calibration batches
    rng_ = []
    for a in (xt, h):
        obs = torch.ao.quantization.MovingAverageMinMaxObserver(
            averaging_constant=0.01, dtype=torch.quint8, quant_min=0, quant_max=255)
        for i in range(0, NS, BATCH):
            obs(a[i:i + BATCH])
        rng_ += [float(obs.min_val), float(obs.max_val)]
    out.append(line("movavg_range", rng_))
    # one QAT step's loss and gradients
    # PTQ ranges from the first calibration batch only (min/max), so that inputs of the
    # other samples fall outside them and the estimators block their gradients
    ranges = [(float(a[:BATCH].min()), float(a[:BATCH].max())) for a in (xt, h)]
    for bits, gran in ((3, "tensor"), (4, "channel")):
        qmax = 2 ** (bits - 1) - 1
        p = {k: v.clone().requires_grad_(True) for k, v in t.items()}
        a = xt
        for l in range(2):
            w, b = p["w%d" % l], p["b%d" % l]
            s, z = aparams(*ranges[l])
            aq = torch.fake_quantize_per_tensor_affine(a, s, z, 0, 255)
            if gran == "tensor":
                ws = torch.clamp(w.detach().abs().max() / qmax, min=1.1920929e-07).reshape(1)
                wq = torch.fake_quantize_per_tensor_affine(w, float(ws[0]), 0, -qmax, qmax)
            else:
                ws = torch.clamp(w.detach().abs().amax(dim=1) / qmax, min=1.1920929e-07)
                wq = torch.fake_quantize_per_channel_affine(
                    w, ws, torch.zeros(len(ws), dtype=torch.int32), 0, -qmax, qmax)
            sb = torch.tensor(np.float32(s)) * ws
            bq = torch.round(b.detach() * (1.0 / sb)) * sb
            a = aq @ wq.t() + (b + (bq - b.detach()))
            if l == 0:
                a = torch.relu(a)
        loss = torch.nn.functional.cross_entropy(a, torch.from_numpy(y))
        loss.backward()
        tag = "qat_w%d_%s" % (bits, gran)
        out.append(line(tag + "_loss", [float(loss)]))
        for k in ("w0", "b0", "w1", "b1"):
            out.append(line(tag + "_g" + k, p[k].grad.numpy()))
    # LSQ: the scales' gradients (W3 per tensor, scales from absmax and the first batch)
    qmax = 3
    p = {k: v.clone().requires_grad_(True) for k, v in t.items()}
    wsl, asl = [], []
    a = xt
    for l in range(2):
        w, b = p["w%d" % l], p["b%d" % l]
        s, z = aparams(*ranges[l])
        a_s = torch.tensor([s], requires_grad=True)
        w_s = torch.tensor([float(np.float32(w.detach().abs().max()) / np.float32(qmax))],
                           requires_grad=True)
        aq = torch._fake_quantize_learnable_per_tensor_affine(
            a, a_s, torch.tensor([float(z)]), 0, 255, 1.0 / np.sqrt(a.shape[1] * (255 - z)))
        wq = torch._fake_quantize_learnable_per_tensor_affine(
            w, w_s, torch.tensor([0.0]), -qmax, qmax, 1.0 / np.sqrt(w.numel() * qmax))
        sb = a_s.detach() * w_s.detach()
        bq = torch.round(b.detach() * (1.0 / sb)) * sb
        a = aq @ wq.t() + (b + (bq - b.detach()))
        if l == 0:
            a = torch.relu(a)
        wsl.append(w_s)
        asl.append(a_s)
    loss = torch.nn.functional.cross_entropy(a, torch.from_numpy(y))
    loss.backward()
    out.append(line("lsq_w3_loss", [float(loss)]))
    out.append(line("lsq_w3_gscale", [float(wsl[0].grad), float(asl[0].grad),
                                      float(wsl[1].grad), float(asl[1].grad)]))
    with open(os.path.join(HERE, "lab_ref.txt"), "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
