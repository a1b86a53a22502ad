"""Reads a safetensors file into PyTorch tensors with only json and struct, so
the test scripts need nothing beyond Debian's python3-torch. Shared by
test/torch/reference_models.py and test/checkpoint/torch_check.py."""
import json
import struct

import torch

KINDS = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "I64": torch.int64}


def load_safetensors(path):
    """Every tensor of the file by name, in its stored dtype (metadata dropped)."""
    with open(path, "rb") as file:
        blob = bytearray(file.read())
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(bytes(blob[8 : 8 + n]))
    header.pop("__metadata__", None)
    state = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        kind = KINDS[t["dtype"]]
        raw = blob[8 + n + begin : 8 + n + end]
        flat = torch.frombuffer(raw, dtype=kind) if raw else torch.zeros(0, dtype=kind)
        state[name] = flat.reshape(t["shape"])
    return state
