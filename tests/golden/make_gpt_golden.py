#!/usr/bin/python3
"""make_gpt_golden.py — an independent PyTorch implementation of the GPT lab's model (GPT-2
layout: tied embedding, learned positions, pre-norm blocks, causal multi-head attention, GELU
tanh MLP, final LayerNorm) on a tiny configuration. Writes

  tests/golden/gpt_tiny.safetensors   random parameters (numpy seed 20261203) as qscope-gpt
  tests/golden/gpt_tiny.json          tokens, the logits of torch's forward, the mean loss
                                      and the gradient of a few parameters

Run: /usr/bin/python3 tests/golden/make_gpt_golden.py   (python3-torch, python3-numpy)."""
import json
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB = "".join(chr(c) for c in range(32, 127)) + "\n"
V, CTX, D, L, H, FF = 96, 8, 8, 2, 2, 16

rng = np.random.default_rng(20261203)
names = []


def t(name, *shape, scale=0.3, base=0.0):
    names.append((name, shape, (base + scale * rng.standard_normal(shape)).astype(np.float32)))


t("wte.weight", V, D)
t("wpe.weight", CTX, D)
for i in range(L):
    t(f"h.{i}.ln_1.weight", D, scale=0.2, base=1.0)
    t(f"h.{i}.ln_1.bias", D, scale=0.1)
    t(f"h.{i}.attn.c_attn.weight", 3 * D, D)
    t(f"h.{i}.attn.c_attn.bias", 3 * D, scale=0.1)
    t(f"h.{i}.attn.c_proj.weight", D, D)
    t(f"h.{i}.attn.c_proj.bias", D, scale=0.1)
    t(f"h.{i}.ln_2.weight", D, scale=0.2, base=1.0)
    t(f"h.{i}.ln_2.bias", D, scale=0.1)
    t(f"h.{i}.mlp.c_fc.weight", FF, D)
    t(f"h.{i}.mlp.c_fc.bias", FF, scale=0.1)
    t(f"h.{i}.mlp.c_proj.weight", D, FF)
    t(f"h.{i}.mlp.c_proj.bias", D, scale=0.1)
t("ln_f.weight", D, scale=0.2, base=1.0)
t("ln_f.bias", D, scale=0.1)

# safetensors by hand (format: u64 header length, JSON header, little-endian data)
hdr = {"__metadata__": {"format": "qscope-gpt", "config": f"{CTX},{D},{L},{H},{FF}",
                        "config_keys": "ctx,d,layers,heads,ff", "vocab": VOCAB,
                        "note": "tests/golden/make_gpt_golden.py"}}
off = 0
blobs = []
for name, shape, a in names:
    b = a.astype("<f4").tobytes()
    hdr[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [off, off + len(b)]}
    off += len(b)
    blobs.append(b)
js = json.dumps(hdr, separators=(",", ":")).encode()
js += b" " * ((8 - len(js) % 8) % 8)
with open(os.path.join(HERE, "gpt_tiny.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(js)) + js + b"".join(blobs))

P = {name: torch.tensor(a, dtype=torch.float64, requires_grad=True) for name, _, a in names}


def forward(tok):
    B, T = tok.shape
    x = P["wte.weight"][tok] + P["wpe.weight"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        p = lambda s: P[f"h.{i}.{s}"]
        h = F.layer_norm(x, (D,), p("ln_1.weight"), p("ln_1.bias"), eps=1e-5)
        qkv = h @ p("attn.c_attn.weight").T + p("attn.c_attn.bias")
        q, k, v = qkv.split(D, dim=-1)
        q = q.view(B, T, H, D // H).transpose(1, 2)
        k = k.view(B, T, H, D // H).transpose(1, 2)
        v = v.view(B, T, H, D // H).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / np.sqrt(D // H)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, D)
        x = x + y @ p("attn.c_proj.weight").T + p("attn.c_proj.bias")
        h = F.layer_norm(x, (D,), p("ln_2.weight"), p("ln_2.bias"), eps=1e-5)
        h = F.gelu(h @ p("mlp.c_fc.weight").T + p("mlp.c_fc.bias"), approximate="tanh")
        x = x + h @ p("mlp.c_proj.weight").T + p("mlp.c_proj.bias")
    x = F.layer_norm(x, (D,), P["ln_f.weight"], P["ln_f.bias"], eps=1e-5)
    return x @ P["wte.weight"].T


text = "In the beginning God cr"
tok = torch.tensor([[VOCAB.index(c) for c in text[:CTX]],
                    [VOCAB.index(c) for c in text[CTX:2 * CTX]]])
logits = forward(tok)
# loss: each window's last position is not scored (its next token is outside the window)
loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), tok[:, 1:].reshape(-1))
loss.backward()
grads = {}
for name in ["wte.weight", "h.0.attn.c_attn.weight", "h.1.mlp.c_fc.bias", "ln_f.weight"]:
    grads[name] = P[name].grad.flatten()[:16].tolist()
out = {"tokens": tok.flatten().tolist(), "B": 2, "T": CTX,
       "logits": logits.detach().flatten().tolist(), "loss": loss.item(), "grads": grads,
       "torch": torch.__version__}
with open(os.path.join(HERE, "gpt_tiny.json"), "w") as f:
    json.dump(out, f)
print("loss", loss.item())
