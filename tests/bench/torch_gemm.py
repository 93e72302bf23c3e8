#!/usr/bin/python3
# torch_gemm.py — the PyTorch peers of `make bench` (issue 18): quantized Linear
# (torch.ao.nn.quantized.Linear: quint8 activations × qint8 weights, int32 accumulation,
# requantized quint8 output) on the quantized engine this build has (fbgemm when present,
# else onednn, else qnnpack) and fp32 matmul, at 1024³ and on the lab's layer shape 64×784 ·
# 784×256, with one thread (process CPU time: the per-core figure) and two threads (wall).
# Prints one `key=value` per line for tests/bench/bench.c (QSCOPE_BENCH_TORCH). Run only with
# Debian's /usr/bin/python3 when it has torch; never a dependency of qscope.
# oneDNN picks its kernel from the CPU: on a CPU with AMX (Sapphire Rapids and later) the
# quantized Linear runs on AMX tiles (`brg:avx512_core_amx_int8`), so the script also names the
# implementation it ran (torch_int8_impl, from ONEDNN_VERBOSE in a child process) and, where
# that is AMX, measures it again capped at AVX512-VNNI (ONEDNN_MAX_CPU_ISA=AVX512_CORE_VNNI,
# keys torch_int8_linear_vnni_gops_*): the same instruction set as qscope's vnni tier.
import os
import statistics
import subprocess
import sys
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


def qlinear(engine, x, w):
    torch.backends.quantized.engine = engine
    n, k = w.shape
    lin = torch.ao.nn.quantized.Linear(k, n, bias_=True, dtype=torch.qint8)
    qw = torch.quantize_per_tensor(w, 1.0 / 127, 0, torch.qint8)
    lin.set_weight_bias(qw, torch.zeros(n))
    lin.scale, lin.zero_point = 0.05, 128
    qx = torch.quantize_per_tensor(x, 1.0 / 255, 0, torch.quint8)
    return lambda: lin(qx)


def child(args, env_extra):
    """this script in a child process with env_extra set; its stdout, or "" on failure"""
    env = dict(os.environ, **env_extra)
    try:
        r = subprocess.run([sys.executable, __file__] + args, env=env, capture_output=True,
                           text=True, timeout=600, check=True)
        return r.stdout
    except (subprocess.SubprocessError, OSError):
        return ""


def main():
    engines = torch.backends.quantized.supported_engines
    engine = next((e for e in ("fbgemm", "onednn", "x86", "qnnpack") if e in engines), None)
    int8_only = "--int8-only" in sys.argv    # the child capped by ONEDNN_MAX_CPU_ISA
    if "--impl" in sys.argv:                 # the child run with ONEDNN_VERBOSE=1
        torch.set_num_threads(1)
        qlinear(engine, torch.rand(64, 256), torch.rand(64, 256) - 0.5)()
        return
    key = "torch_int8_linear_vnni_gops" if int8_only else "torch_int8_linear_gops"
    out = [] if int8_only else ["torch_version=%s" % torch.__version__.split("+")[0],
                                "torch_qengine=%s" % engine]
    torch.manual_seed(1)
    for threads, clock, sfx in ((1, time.process_time, "1t"), (2, time.perf_counter, "2t")):
        torch.set_num_threads(threads)
        for tag, m, n, k in SHAPES:
            ops = 2.0 * m * n * k
            reps = 5 if m * n * k >= 1 << 28 else 21
            x = torch.rand(m, k)
            w = torch.rand(n, k) - 0.5
            wt = w.t().contiguous()
            if not int8_only:
                t = timed(lambda: torch.matmul(x, wt), reps, clock)
                out.append("torch_f32_matmul_gflops_%s_%s=%.3f" % (tag, sfx, ops / t * 1e-9))
            if engine is None:
                continue
            out.append("%s_%s_%s=%.3f" % (key, tag, sfx,
                                          ops / timed(qlinear(engine, x, w), reps, clock) * 1e-9))
    if not int8_only and engine == "onednn":
        impl = ""
        for line in child(["--impl"], {"ONEDNN_VERBOSE": "1", "DNNL_VERBOSE": "1"}).splitlines():
            f = line.split(",")
            if len(f) > 5 and f[1] == "exec" and f[3] == "matmul":
                impl = f[4]
        out.append("torch_int8_impl=%s" % (impl or "unknown"))
        if "amx" in impl:
            out += child(["--int8-only"], {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_VNNI",
                                           "DNNL_MAX_CPU_ISA": "AVX512_CORE_VNNI"}).split()
    print("\n".join(out))


if __name__ == "__main__":
    main()
