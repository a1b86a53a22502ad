"""PyTorch's side of bench/all.ts: several workloads in one process, each at
1 and 2 threads, timed with bench/torch_timing.py's loop, one JSON line each.

    python3 bench/torch_anchors.py WORKLOADS_JSON [--threads 1,2] [--seconds S]

WORKLOADS_JSON is a list of objects with an "id" and a "kind":
  {"kind": "matmul", "n": N}          an N×N by N×N float32 matmul;
  {"kind": "step" | "encode", "batch": B}
                                      the MNIST autoencoder written by hand
                                      (bench/onnx_torch.py): one Adam update, or
                                      the encoder under no_grad;
  {"kind": "generated", "folder": DIR, "cls": C, "step": S}
                                      one update of the module `repr compile
                                      --target pytorch` wrote (bench/onnx_torch_step.py).
Each line: {"id", "torch", "threads": {"1": {runs_per_s, rounds, peak_bytes}, ...}}.
The peak is the first thread count's (the later ones reuse what it allocated).
OMP_WAIT_POLICY=PASSIVE is the caller's to set, so that idle OpenMP threads
do not spin against the other side of the comparison.
"""
import argparse
import json
import sys

import torch

from onnx_torch import workload
from onnx_torch_step import generated_step
from torch_timing import measure


def build(w: dict):
    if w["kind"] == "matmul":
        return workload("matmul", w["n"])
    if w["kind"] in ("step", "encode"):
        return workload(w["kind"], w["batch"])
    if w["kind"] == "generated":
        return generated_step(w["folder"], w["cls"], w["step"])
    raise ValueError(f"unknown workload kind {w['kind']!r}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workloads")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    for w in json.loads(args.workloads):
        out = {"id": w["id"], "torch": torch.__version__, "threads": {}}
        try:
            run = build(w)
            for threads in [int(t) for t in args.threads.split(",")]:
                torch.set_num_threads(threads)
                out["threads"][str(threads)] = measure(run, seconds=args.seconds, warmup=2 if args.seconds < 0.5 else 5)
        except Exception as e:  # one workload's failure is reported in its line; the others still run
            out["error"] = f"{type(e).__name__}: {e}"
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    sys.exit(main())
