#!/usr/bin/env python3
"""Loads a checkpoint repr wrote into PyTorch modules, by the names and layouts
of spec/checkpoints.md, and prints what they compute, as JSON.

    python3 torch_check.py FILE

The file holds one layer of each kind under its own prefix: `dense` (5 -> 3),
`conv` (2 -> 4 channels, kernel 3), `deconv` (4 -> 2 channels, kernel 3),
`emb` (7 x 3), `ln` (3), `bn` (4 features), and `attn` (width 4, 2 heads).
Every module loads with strict=True, so a name or shape that differs from
PyTorch's is an error. Needs only torch (Debian's python3-torch is enough).
"""
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torch"))
from safetensors_torch import load_safetensors as load  # noqa: E402


def part(state, prefix):
    return {k[len(prefix) + 1 :]: v for k, v in state.items() if k.startswith(prefix + ".")}


def main():
    state = load(sys.argv[1])
    modules = {
        "dense": nn.Linear(5, 3),
        "conv": nn.Conv2d(2, 4, 3),
        "deconv": nn.ConvTranspose2d(4, 2, 3),
        "emb": nn.Embedding(7, 3),
        "ln": nn.LayerNorm(3),
        "bn": nn.BatchNorm2d(4),
    }
    for prefix, module in modules.items():
        module.load_state_dict(part(state, prefix))
    a = part(state, "attn")
    attn = nn.MultiheadAttention(4, 2, batch_first=True)
    attn.load_state_dict(
        {
            "in_proj_weight": torch.cat([a["q.weight"], a["k.weight"], a["v.weight"]]),
            "in_proj_bias": torch.cat([a["q.bias"], a["k.bias"], a["v.bias"]]),
            "out_proj.weight": a["o.weight"],
            "out_proj.bias": a["o.bias"],
        }
    )
    with torch.no_grad():
        x = torch.tensor([[1.0, -2.0, 0.5, 3.0, -1.5]])
        seq = torch.tensor([[[0.5, -1.0, 2.0, 0.0], [1.5, 0.25, -0.5, 1.0], [-2.0, 1.0, 0.0, 0.5]]])
        attended, _ = attn(seq, seq, seq, need_weights=False)
        out = {
            "dense": modules["dense"](x)[0].tolist(),
            "emb": modules["emb"](torch.tensor([4]))[0].tolist(),
            "attention": attended[0].tolist(),
            "shapes": {
                f"{prefix}.{name}": list(t.shape)
                for prefix, module in modules.items()
                for name, t in module.state_dict().items()
            },
            "num_batches_tracked": int(modules["bn"].num_batches_tracked),
            "torch": torch.__version__,
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
