"""PyTorch's anchors for bench/onnx.ts: the MNIST autoencoder of
examples/mnist-autoencoder.repr (784-256-64-32-64-256-784, relu inside, sigmoid
out, mean squared error), float32 on the CPU.

    python3 bench/onnx_torch.py step|encode --batch N [--threads N] [--seconds S]

`step` is one Adam(lr=1e-3) update (forward, backward, step); `encode` runs
the encoder (784-256-64-32) under no_grad. Prints one JSON object with the
median of rounds of runs per second.
"""
import argparse
import json
import time

import torch
from torch import nn


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=["step", "encode"])
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 32))
    decoder = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 784), nn.Sigmoid(), nn.Unflatten(1, (1, 28, 28)))
    model = nn.Sequential(encoder, decoder)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    image = torch.rand(args.batch, 1, 28, 28)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(model(image), image)
        loss.backward()
        optimizer.step()

    def encode() -> None:
        with torch.no_grad():
            encoder(image)

    run = step if args.workload == "step" else encode
    for _ in range(20):
        run()
    per_round = 10 if args.workload == "step" else 20
    rounds = []
    start = time.perf_counter()
    while len(rounds) < 5 or time.perf_counter() - start < args.seconds:
        t0 = time.perf_counter()
        for _ in range(per_round):
            run()
        rounds.append(per_round / (time.perf_counter() - t0))
    rounds.sort()
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rounds": len(rounds), "runs_per_s": round(rounds[len(rounds) // 2], 2)}))


if __name__ == "__main__":
    main()
