"""PyTorch's anchors for bench/gpu-examples.ts, on the same machine in the same run
(bench/gpu-run.sh): a [n, n] x [n, n] float32 matmul, and every example's training step
as the module `repr compile --target pytorch` writes (repr's graph op by op, autograd,
the step's update: what bench/onnx_torch_step.py times on a CPU), from the folders
gpu-examples.ts wrote (model.py, repr_runtime.py, tensors.safetensors, inputs.safetensors).

Float32 with TF32 off. Tensors are made on `--device` (torch.set_default_device, so the
generated module's own constants land there too). Per step: updates/s reading the loss back
every update (`loss.item()`, as repr's trainStep does) and without a host sync (synchronized
once per window), each the median of windows of at least 0.1 s for `--seconds`. A folder
that fails is reported with its error and the others go on. Prints one line of JSON.

    python3 bench/gpu_torch_anchors.py --torch-dir DIR [--device cuda] [--matmul 4096] [--seconds 1]
"""
import argparse
import json
import os
import sys
import time
import traceback

import torch

from torch_timing import measure

WINDOW_S = 0.1


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def windows(fn, seconds, device):
    """Median runs/s of `fn` over rounds of at least WINDOW_S, after 3 warm-up runs (torch_timing's loop, synchronized)."""
    return measure(fn, seconds, round_ms=WINDOW_S * 1000, sync=lambda: sync(device))["runs_per_s"]


def matmul(n, device, seconds):
    a = torch.rand(n, n, device=device) - 0.5
    b = torch.rand(n, n, device=device) - 0.5
    rate = windows(lambda: torch.mm(a, b), seconds, device)
    return {"n": n, "gflop_per_s": round(2 * n**3 * rate / 1e9, 1), "ms": round(1000 / rate, 4)}


def step(folder, device, seconds):
    sys.path.insert(0, folder)
    for name in ("model", "repr_runtime"):
        sys.modules.pop(name, None)
    try:
        import model as generated
        import repr_runtime as R
    finally:
        sys.path.remove(folder)
    classes = [c for c in vars(generated).values() if isinstance(c, type) and hasattr(c, "STEPS")]
    cls = classes[0]
    m = cls(1)
    named = R.tensors(m)
    with torch.no_grad():
        for name, t in R.read_safetensors(os.path.join(folder, "tensors.safetensors")).items():
            if name in named:
                named[name].copy_(t)
    inputs = {k: v.to(device) for k, v in R.read_safetensors(os.path.join(folder, "inputs.safetensors")).items()}
    spec = next(iter(cls.STEPS.values()))
    method = getattr(m, spec["method"])
    update = R.Update(m, spec["optimizer"], 1000000)
    count = [0]

    def run():
        update.zero_grad()
        loss, _ = method(inputs, 1, count[0] % 1000, 1000, 0)
        loss.backward()
        update.step()
        count[0] += 1
        return loss

    synced = windows(lambda: run().item(), seconds / 2, device)
    nosync = windows(run, seconds / 2, device)
    return {"class": cls.__name__, "steps_per_s": round(synced, 2), "steps_per_s_nosync": round(nosync, 2)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--torch-dir", required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--matmul", type=int, default=4096)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    device = args.device
    report = {"bench": "torch-anchors", "torch": torch.__version__, "device": device}
    if device.startswith("cuda"):
        report["gpu"] = torch.cuda.get_device_name(0)
    else:
        report["threads"] = torch.get_num_threads()
    try:
        report["matmul"] = matmul(args.matmul, device, args.seconds)
    except Exception as error:  # noqa: BLE001 — reported, the steps go on
        report["matmul"] = {"n": args.matmul, "error": str(error).split("\n")[0]}
    if hasattr(torch, "set_default_device"):
        torch.set_default_device(device)
    elif device != "cpu":
        report["steps_error"] = "this PyTorch has no set_default_device (2.0 or later): the generated modules would make their constants on the CPU"
    steps = {}
    for name in sorted(os.listdir(args.torch_dir)) if "steps_error" not in report else []:
        folder = os.path.join(args.torch_dir, name)
        if not os.path.isfile(os.path.join(folder, "model.py")):
            continue
        started = time.perf_counter()
        try:
            steps[name.replace("--", "/")] = step(folder, device, args.seconds)
        except Exception as error:  # noqa: BLE001
            traceback.print_exc()
            steps[name.replace("--", "/")] = {"error": str(error).split("\n")[0]}
        print(f"{name}: {steps[name.replace('--', '/')]} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    report["steps"] = steps
    print(json.dumps(report))


if __name__ == "__main__":
    main()
