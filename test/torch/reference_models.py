#!/usr/bin/env python3
"""Independent float64 PyTorch implementations of the models that
test/torch/crosscheck.ts cross-checks, for one adam step.

    /usr/bin/python3 reference_models.py {autoencoder|block} DIR

Reads DIR/init.safetensors (the initial parameters, by the names of
spec/checkpoints.md; dense weights [out, in] as nn.Linear stores them) and
DIR/batch.safetensors (the batch), computes the loss, the gradient of every
parameter and one torch.optim.Adam step (lr 1e-3, betas (0.9, 0.999),
eps 1e-8), and writes DIR/torch.safetensors with `loss`, `grad:<name>` and
`new:<name>`, all F64. Needs only torch (Debian's python3-torch); the
safetensors format is read and written here with json and struct.
"""
import json
import math
import struct
import sys

import torch
from torch import nn

from safetensors_torch import load_safetensors


def load(path):
    """The file's tensors as float64 copies (the models run in float64)."""
    return {name: t.to(torch.float64).clone() for name, t in load_safetensors(path).items()}


def save(path, tensors):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float64).contiguous()
        data = struct.pack(f"<{t.numel()}d", *t.flatten().tolist())
        header[name] = {"dtype": "F64", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


class Autoencoder(nn.Module):
    """examples/mnist-autoencoder.repr: f = flatten -> dense(256) -> relu ->
    dense(64) -> relu; z = plain(dim: 32), a dense layer; g = dense(64) -> relu
    -> dense(256) -> relu -> dense(784) -> sigmoid -> reshape([1, 28, 28])."""

    def __init__(self):
        super().__init__()
        self.f = nn.ModuleDict({"1": nn.Linear(784, 256), "3": nn.Linear(256, 64)})
        self.z = nn.Linear(64, 32)
        self.g = nn.ModuleDict({"0": nn.Linear(32, 64), "2": nn.Linear(64, 256), "4": nn.Linear(256, 784)})

    def loss(self, batch):
        image = batch["image"]
        h = image.flatten(1)
        h = torch.relu(self.f["3"](torch.relu(self.f["1"](h))))
        code = self.z(h)
        y = torch.relu(self.g["0"](code))
        y = torch.relu(self.g["2"](y))
        y = torch.sigmoid(self.g["4"](y)).reshape(image.shape)
        return ((y - image) ** 2).mean()


class Attention(nn.Module):
    """spec/layers.md, attention: Q, K, V, O projections [D, D] ([out, in]);
    per head softmax(Q Kᵀ / √d) V; heads joined and projected by O."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, x):
        b, l, d = x.shape
        h = self.heads

        def split(t):
            return t.reshape(b, l, h, d // h).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // h)
        weights = torch.softmax(scores, dim=-1)
        return self.o((weights @ v).transpose(1, 2).reshape(b, l, d))


class FeedForward(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.layers = nn.ModuleDict({"0": nn.Linear(dim, hidden), "2": nn.Linear(hidden, dim)})

    def forward(self, x):
        return self.layers["2"](nn.functional.gelu(self.layers["0"](x), approximate="none"))


class Block(nn.Module):
    """std transformer_block(dim: 16, heads: 2), pre-norm:
    h = x + attention(layer_norm(x)); y = h + feed_forward(layer_norm(h));
    loss mse(y, target)."""

    def __init__(self, dim=16, heads=2, ratio=4):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim, eps=1e-5)
        self.attn = Attention(dim, heads)
        self.ln2 = nn.LayerNorm(dim, eps=1e-5)
        self.ff = FeedForward(dim, ratio * dim)

    def loss(self, batch):
        x = batch["x"]
        h = x + self.attn(self.ln1(x))
        y = h + self.ff(self.ln2(h))
        return ((y - batch["target"]) ** 2).mean()

    # repr's names (spec/checkpoints.md) -> this module's parameters.
    def repr_names(self):
        names = {"f.0.weight": self.ln1.weight, "f.0.bias": self.ln1.bias, "f.2.weight": self.ln2.weight, "f.2.bias": self.ln2.bias}
        for w in "qkvo":
            names[f"f.1.{w}.weight"] = getattr(self.attn, w).weight
            names[f"f.1.{w}.bias"] = getattr(self.attn, w).bias
        for i in ("0", "2"):
            names[f"f.3.{i}.weight"] = self.ff.layers[i].weight
            names[f"f.3.{i}.bias"] = self.ff.layers[i].bias
        return names


def autoencoder_names(m):
    names = {}
    for part, layers in (("f", m.f), ("g", m.g)):
        for i, lin in layers.items():
            names[f"{part}.{i}.weight"], names[f"{part}.{i}.bias"] = lin.weight, lin.bias
    names["z.weight"], names["z.bias"] = m.z.weight, m.z.bias
    return names


def main():
    key, directory = sys.argv[1], sys.argv[2]
    torch.set_default_dtype(torch.float64)
    init = load(f"{directory}/init.safetensors")
    batch = load(f"{directory}/batch.safetensors")
    model = Autoencoder() if key == "autoencoder" else Block()
    names = autoencoder_names(model) if key == "autoencoder" else model.repr_names()
    if set(names) != set(init):
        raise SystemExit(f"names differ: torch {sorted(names)} vs file {sorted(init)}")
    with torch.no_grad():
        for name, p in names.items():
            if tuple(p.shape) != tuple(init[name].shape):
                raise SystemExit(f"{name}: torch {tuple(p.shape)} vs file {tuple(init[name].shape)}")
            p.copy_(init[name])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    optimizer.zero_grad()
    loss = model.loss(batch)
    loss.backward()
    out = {"loss": loss.detach().reshape([])}
    for name, p in names.items():
        out[f"grad:{name}"] = p.grad.detach().clone()
    optimizer.step()
    for name, p in names.items():
        out[f"new:{name}"] = p.detach().clone()
    save(f"{directory}/torch.safetensors", out)
    print(f"{key}: loss {loss.item():.17g}")


if __name__ == "__main__":
    main()
