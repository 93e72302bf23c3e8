#!/usr/bin/python3
# torch_gpt.py — the GPT lab's training step and generation in PyTorch, for `make bench`
# (issue 16): the same model (character vocabulary 96, ctx 64, d 64, 4 layers, 4 heads,
# MLP 256, tied embedding, learned positions, pre-norm, GELU tanh), batch 16 × 64, AdamW,
# torch given its best thread count (1 and all cores are both timed, the faster kept: on a
# loaded 2-core machine one thread can win). Generation: greedy, one
# token at a time with a KV cache (as qscope does), 48 tokens after a 14-character prompt.
# Prints bench_gpt arguments:  --torch-step SECONDS --torch-gen TOKENS_PER_S
# Run only with Debian's /usr/bin/python3 when it has torch; never a dependency of qscope.
import os
import statistics
import time

import torch
import torch.nn.functional as F

V, CTX, D, L, H, FF, B = 96, 64, 64, 4, 4, 256, 16
torch.manual_seed(1)


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = torch.nn.LayerNorm(D)
        self.c_attn = torch.nn.Linear(D, 3 * D)
        self.c_proj = torch.nn.Linear(D, D)
        self.ln_2 = torch.nn.LayerNorm(D)
        self.c_fc = torch.nn.Linear(D, FF)
        self.m_proj = torch.nn.Linear(FF, D)

    def forward(self, x, cache=None):
        Bn, T, _ = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(D, dim=-1)
        q = q.view(Bn, T, H, D // H).transpose(1, 2)
        k = k.view(Bn, T, H, D // H).transpose(1, 2)
        v = v.view(Bn, T, H, D // H).transpose(1, 2)
        if cache is not None:
            if cache:
                k = torch.cat([cache[0], k], 2)
                v = torch.cat([cache[1], v], 2)
            cache[:] = [k, v]
        y = F.scaled_dot_product_attention(q, k, v, is_causal=cache is None) \
            if hasattr(F, "scaled_dot_product_attention") else \
            ((q @ k.transpose(-2, -1)) / (D // H) ** 0.5).masked_fill(
                torch.triu(torch.ones(T, k.shape[2], dtype=torch.bool), 1 + k.shape[2] - T),
                float("-inf")).softmax(-1) @ v
        x = x + self.c_proj(y.transpose(1, 2).reshape(Bn, T, D))
        return x + self.m_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = torch.nn.Embedding(V, D)
        self.wpe = torch.nn.Embedding(CTX, D)
        self.h = torch.nn.ModuleList([Block() for _ in range(L)])
        self.ln_f = torch.nn.LayerNorm(D)

    def forward(self, tok, pos0=0, caches=None):
        x = self.wte(tok) + self.wpe(torch.arange(pos0, pos0 + tok.shape[1]))
        for i, b in enumerate(self.h):
            x = b(x, None if caches is None else caches[i])
        return self.ln_f(x) @ self.wte.weight.T


def run():
    m = GPT()
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    tok = torch.randint(0, V, (B, CTX))
    times = []
    for i in range(6):
        t0 = time.perf_counter()
        logits = m(tok)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), tok[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        times.append(time.perf_counter() - t0)
    step = statistics.median(times[1:])
    with torch.no_grad():
        t0 = time.perf_counter()
        caches = [[] for _ in range(L)]
        prompt = torch.randint(0, V, (1, 14))
        z = m(prompt, 0, caches)
        pos, n = 14, 48
        for _ in range(n):
            nxt = z[:, -1].argmax(-1, keepdim=True)
            z = m(nxt, pos, caches)
            pos += 1
        gen = n / (time.perf_counter() - t0)
    return step, gen


best = None
for th in sorted({1, os.cpu_count() or 1}):
    torch.set_num_threads(th)
    st, gn = run()
    best = (st, gn) if best is None else (min(best[0], st), max(best[1], gn))
print("--torch-step %.6f --torch-gen %.2f" % best)
