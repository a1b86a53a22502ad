"""The anchor for bench/train-step.ts: PyTorch's steps/s for the same training step.

The MNIST autoencoder of examples/mnist-autoencoder.repr (784-256-64-32-64-256-784,
relu inside, sigmoid out, mean squared error) at batch 128, one Adam(lr=1e-3) update
per step, on the CPU in float32. Prints one JSON object. Usage:

    python3 bench/train_step_torch.py [--threads N] [--seconds S]
"""
import argparse
import json
import time

import torch
from torch import nn


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: PyTorch's default)")
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to time")
    parser.add_argument("--batch", type=int, default=128, help="batch size")
    parser.add_argument("--matmul", type=int, default=0, help="instead: time an n×n by n×n float32 matmul, print GFLOP/s")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    if args.matmul > 0:
        n = args.matmul
        a, b = torch.rand(n, n), torch.rand(n, n)
        for _ in range(3):
            a @ b
        best, start = 0.0, time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            t0 = time.perf_counter()
            a @ b
            best = max(best, 2 * n**3 / (time.perf_counter() - t0) / 1e9)
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "n": n, "gflops": round(best, 1)}))
        return
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 64), nn.ReLU(),
        nn.Linear(64, 32),
        nn.Linear(32, 64), nn.ReLU(),
        nn.Linear(64, 256), nn.ReLU(),
        nn.Linear(256, 784), nn.Sigmoid(),
        nn.Unflatten(1, (1, 28, 28)),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    image = torch.rand(args.batch, 1, 28, 28)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(model(image), image)
        loss.backward()
        optimizer.step()

    for _ in range(20):
        step()
    # Median of rounds of 10 steps, for as long as asked.
    rounds = []
    start = time.perf_counter()
    while len(rounds) < 5 or time.perf_counter() - start < args.seconds:
        t0 = time.perf_counter()
        for _ in range(10):
            step()
        rounds.append(10 / (time.perf_counter() - t0))
    rounds.sort()
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "rounds": len(rounds),
        "steps_per_s": round(rounds[len(rounds) // 2], 2),
    }))


if __name__ == "__main__":
    main()
