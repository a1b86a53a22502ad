"""The PyTorch side of test/pytorch/crosscheck.test.ts.

    python3 step_check.py DIR

DIR holds the generated module (DIR/module: model.py, repr_runtime.py) and
case.json: the class, and per case its step key, the replace methods to call
first, and the files of its tensors (tensors_K.safetensors) and inputs
(inputs_K.safetensors). For each case, in float64: a fresh module, the
replacements, the given tensors loaded by name, the step's loss method on
the inputs (seed and step as given), loss.backward(), then the step's update
(repr_runtime.Update) for `updates` updates. Writes torch_K.safetensors with
loss, grad:NAME and new:NAME for each trained tensor, and new:NAME for each
running statistic.
"""
import json
import os
import sys

import torch


def main():
    folder = sys.argv[1]
    sys.path.insert(0, os.path.join(folder, "module"))
    import model as generated
    import repr_runtime as R

    torch.set_num_threads(1)
    case = json.load(open(os.path.join(folder, "case.json")))
    cls = getattr(generated, case["class"])
    for k, c in enumerate(case["cases"]):
        m = cls(0).double()
        for method in c["replace"]:
            getattr(m, method)(0)
            m = m.double()
        named = R.tensors(m)
        for name, t in R.read_safetensors(os.path.join(folder, "tensors_%d.safetensors" % k)).items():
            if name in named:
                with torch.no_grad():
                    named[name].copy_(t.to(named[name].dtype))
        inputs = R.read_safetensors(os.path.join(folder, "inputs_%d.safetensors" % k))
        spec = cls.STEPS[c["key"]]
        loss, stats = getattr(m, spec["method"])(inputs, c["seed"], 0, c["updates"], 0)
        loss.backward()
        out = {"loss": loss.detach().reshape(())}
        trained = [p["name"] for p in spec["optimizer"]["params"]]
        for name in trained:
            g = named[name].grad
            out["grad:" + name] = (g if g is not None else torch.zeros_like(named[name])).detach().clone()
        update = R.Update(m, spec["optimizer"], c["updates"])
        update.step()
        for name in trained:
            out["new:" + name] = named[name].detach().clone()
        for name, v in stats.items():
            out["new:" + name] = v
        R.write_safetensors(os.path.join(folder, "torch_%d.safetensors" % k), {n: t.to(torch.float64) for n, t in out.items()})
        print("ok", c["key"], float(loss))


if __name__ == "__main__":
    main()
