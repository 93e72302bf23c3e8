#!/usr/bin/python3
# torch_gemm.py — the PyTorch peers of `make bench` (issue 18): quantized Linear
# (torch.ao.nn.quantized.Linear: quint8 activations × qint8 weights, int32 accumulation,
# requantized quint8 output) on the quantized engine this build has (fbgemm when present,
# else onednn, else qnnpack) and fp32 matmul, at 1024³ and on the lab's layer shape 64×784 ·
# 784×256, with one thread (process CPU time: the per-core figure) and two threads (wall).
# Prints one `key=value` per line for tests/bench/bench.c (QSCOPE_BENCH_TORCH). Run only with
# Debian's /usr/bin/python3 when it has torch; never a dependency of qscope.
import statistics
import time

import torch

SHAPES = (("1024", 1024, 1024, 1024), ("mlp", 64, 256, 784))   # tag, M (batch), N (out), K (in)


def timed(fn, reps, clock):
    fn()                                # warm-up (oneDNN builds its primitive here)
    ts = []
    for _ in range(reps):
        t0 = clock()
        fn()
        ts.append(clock() - t0)
    return statistics.median(ts)


def main():
    engines = torch.backends.quantized.supported_engines
    engine = next((e for e in ("fbgemm", "onednn", "x86", "qnnpack") if e in engines), None)
    out = ["torch_version=%s" % torch.__version__.split("+")[0], "torch_qengine=%s" % engine]
    torch.manual_seed(1)
    for threads, clock, sfx in ((1, time.process_time, "1t"), (2, time.perf_counter, "2t")):
        torch.set_num_threads(threads)
        for tag, m, n, k in SHAPES:
            ops = 2.0 * m * n * k
            reps = 5 if m * n * k >= 1 << 28 else 21
            x = torch.rand(m, k)
            w = torch.rand(n, k) - 0.5
            wt = w.t().contiguous()
            out.append("torch_f32_matmul_gflops_%s_%s=%.3f"
                       % (tag, sfx, ops / timed(lambda: torch.matmul(x, wt), reps, clock) * 1e-9))
            if engine is None:
                continue
            torch.backends.quantized.engine = engine
            lin = torch.ao.nn.quantized.Linear(k, n, bias_=True, dtype=torch.qint8)
            qw = torch.quantize_per_tensor(w, 1.0 / 127, 0, torch.qint8)
            lin.set_weight_bias(qw, torch.zeros(n))
            lin.scale, lin.zero_point = 0.05, 128
            qx = torch.quantize_per_tensor(x, 1.0 / 255, 0, torch.quint8)
            out.append("torch_int8_linear_gops_%s_%s=%.3f"
                       % (tag, sfx, ops / timed(lambda: lin(qx), reps, clock) * 1e-9))
    print("\n".join(out))


if __name__ == "__main__":
    main()
