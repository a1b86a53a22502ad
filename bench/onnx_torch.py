"""PyTorch's anchors for bench/onnx.ts: the MNIST autoencoder of
examples/mnist-autoencoder.repr (784-256-64-32-64-256-784, relu inside, sigmoid
out, mean squared error), float32 on the CPU.

    python3 bench/onnx_torch.py step|encode|matmul --batch N [--threads N] [--seconds S]

`step` is one Adam(lr=1e-3) update (forward, backward, step); `encode` runs
the encoder (784-256-64-32) under no_grad; `matmul` multiplies two N×N
matrices. Prints one JSON object with the
median of rounds of runs per second (bench/torch_timing.py's loop).
bench/torch_anchors.py imports `workload`.
"""
import argparse
import json

import torch
from torch import nn

from torch_timing import measure


def workload(name: str, batch: int):
    """The run function of a workload at `batch`: `step`, `encode` or `matmul` (batch × batch matrices)."""
    torch.manual_seed(1)
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 32))
    decoder = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 784), nn.Sigmoid(), nn.Unflatten(1, (1, 28, 28)))
    model = nn.Sequential(encoder, decoder)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    image = torch.rand(batch, 1, 28, 28)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(model(image), image)
        loss.backward()
        optimizer.step()

    def encode() -> None:
        with torch.no_grad():
            encoder(image)

    if name == "matmul":
        a, b = torch.rand(batch, batch) - 0.5, torch.rand(batch, batch) - 0.5
        return lambda: torch.matmul(a, b)
    return {"step": step, "encode": encode}[name]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=["step", "encode", "matmul"])
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    run = workload(args.workload, args.batch)
    result = measure(run, seconds=args.seconds, warmup=20)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rounds": result["rounds"], "runs_per_s": result["runs_per_s"]}))


if __name__ == "__main__":
    main()
