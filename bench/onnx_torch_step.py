"""PyTorch's anchor for an example's training step in bench/onnx.ts: the module
that `repr compile --target pytorch` writes, its step's loss method, autograd and
the step's update (repr_runtime.Update), in float32, with N threads.

    python3 bench/onnx_torch_step.py DIR CLASS STEP [--threads N] [--seconds S]

DIR holds model.py and repr_runtime.py, tensors.safetensors (the tensors the
step starts from) and inputs.safetensors (one batch, noise tables included).
This is repr's graph translated op by op, not a hand-tuned PyTorch model:
the anchor says what PyTorch's kernels do with the same computation. Prints
one JSON object with the median of rounds of updates per second
(bench/torch_timing.py's loop). bench/torch_anchors.py imports `generated_step`.
"""
import argparse
import json
import os
import sys

import torch

from torch_timing import measure


def generated_step(folder: str, cls_name: str, step_name: str):
    """The run function of one update of `step_name` of the generated module in `folder`, from its tensors and batch."""
    sys.path.insert(0, folder)
    for name in ("model", "repr_runtime"):
        sys.modules.pop(name, None)
    import model as generated
    import repr_runtime as R

    cls = getattr(generated, cls_name)
    m = cls(1)
    named = R.tensors(m)
    with torch.no_grad():
        for name, t in R.read_safetensors(os.path.join(folder, "tensors.safetensors")).items():
            if name in named:
                named[name].copy_(t)
    inputs = R.read_safetensors(os.path.join(folder, "inputs.safetensors"))
    spec = cls.STEPS[step_name]
    method = getattr(m, spec["method"])
    update = R.Update(m, spec["optimizer"], 1000000)
    count = [0]
    sys.path.remove(folder)

    def step():
        update.zero_grad()
        loss, stats = method(inputs, 1, count[0] % 1000, 1000, 0)
        loss.backward()
        update.step()
        count[0] += 1

    return step


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("cls")
    parser.add_argument("step")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = measure(generated_step(args.folder, args.cls, args.step), seconds=args.seconds, round_ms=50)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rounds": result["rounds"], "runs_per_s": result["runs_per_s"]}))


if __name__ == "__main__":
    main()
