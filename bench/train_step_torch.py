"""The anchor for bench/train-step.ts and bench/cpu-generated.ts: PyTorch's steps/s for the same training step.

The MNIST autoencoder of examples/mnist-autoencoder.repr (784-256-64-32-64-256-784,
relu inside, sigmoid out, mean squared error) at batch 128, one Adam(lr=1e-3) update
per step, on the CPU in float32: bench/onnx_torch.py's model, timed with
bench/torch_timing.py's loop (median of rounds). Prints one JSON object. Usage:

    python3 bench/train_step_torch.py [--threads N] [--seconds S] [--batch B] [--matmul N]
"""
import argparse
import json

import torch

from onnx_torch import workload
from torch_timing import measure


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: PyTorch's default)")
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to time")
    parser.add_argument("--batch", type=int, default=128, help="batch size")
    parser.add_argument("--matmul", type=int, default=0, help="instead: time an n×n by n×n float32 matmul, print GFLOP/s")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.matmul > 0:
        n = args.matmul
        result = measure(workload("matmul", n), seconds=args.seconds)
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "n": n, "gflops": round(2 * n**3 * result["runs_per_s"] / 1e9, 1)}))
        return
    result = measure(workload("step", args.batch), seconds=args.seconds, warmup=20)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rounds": result["rounds"], "steps_per_s": result["runs_per_s"]}))


if __name__ == "__main__":
    main()
