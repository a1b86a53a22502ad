"""PyTorch's anchor for an example's training step in bench/onnx.ts: the module
that `repr compile --target pytorch` writes, its step's loss method, autograd and
the step's update (repr_runtime.Update), in float32, with N threads.

    python3 bench/onnx_torch_step.py DIR CLASS STEP [--threads N] [--seconds S]

DIR holds model.py and repr_runtime.py, tensors.safetensors (the tensors the
step starts from) and inputs.safetensors (one batch, noise tables included).
This is repr's graph translated op by op, not a hand-tuned PyTorch model:
the anchor says what PyTorch's kernels do with the same computation. Prints
one JSON object with the median of rounds of updates per second.
"""
import argparse
import json
import os
import sys
import time

import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("cls")
    parser.add_argument("step")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, args.folder)
    import model as generated
    import repr_runtime as R

    cls = getattr(generated, args.cls)
    m = cls(1)
    named = R.tensors(m)
    with torch.no_grad():
        for name, t in R.read_safetensors(os.path.join(args.folder, "tensors.safetensors")).items():
            if name in named:
                named[name].copy_(t)
    inputs = R.read_safetensors(os.path.join(args.folder, "inputs.safetensors"))
    spec = cls.STEPS[args.step]
    method = getattr(m, spec["method"])
    update = R.Update(m, spec["optimizer"], 1000000)
    count = [0]

    def step():
        update.zero_grad()
        loss, stats = method(inputs, 1, count[0] % 1000, 1000, 0)
        loss.backward()
        update.step()
        count[0] += 1

    for _ in range(3):
        step()
    rounds = []
    start = time.perf_counter()
    while len(rounds) < 3 or time.perf_counter() - start < args.seconds:
        t0 = time.perf_counter()
        n = 0
        while n == 0 or time.perf_counter() - t0 < 0.05:
            step()
            n += 1
        rounds.append(n / (time.perf_counter() - t0))
    rounds.sort()
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rounds": len(rounds), "runs_per_s": round(rounds[len(rounds) // 2], 2)}))


if __name__ == "__main__":
    main()
