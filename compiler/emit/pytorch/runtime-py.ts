/**
 * The Python file `repr_runtime.py` every PyTorch target folder gets, as
 * text: fixed code, the same for every model (no text from a `.repr` file
 * reaches it). See its docstring.
 */
export const REPR_RUNTIME_PY = String.raw`"""What every module 'repr compile --target pytorch' writes needs at run time.

- repr's counter-based generator (spec/random.md): Philox-4x32-10 keyed by
  (seed, stream), counter (block, step), element i = word i mod 4 of block
  i // 4; uniforms (w >> 8) * 2**-24 and Box-Muller normals, exactly as the
  repr runtime draws them, at any offset into a stream;
- the ops whose meaning differs from PyTorch's: truncating integer division
  where x / 0 is x, saturating float-to-integer casts, interior padding;
- the module's tensors by repr name (the safetensors names repr writes);
- the training update of a step: clipping by global norm, coupled weight
  decay, the optimizer, the learning-rate schedule (spec/optimizers.md);
- safetensors files, read and written with json and struct only.
"""
import json
import math
import struct

import numpy as np
import torch
from torch import nn

I = torch.int64
_MASK = 0xFFFFFFFF
_M0, _M1, _W0, _W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
_STEP = 2.0 ** -24


def _u32(x):
    """A seed or step (an int or a scalar tensor) as the u32 the generator reads."""
    return int(x) & _MASK


def philox_words(seed, stream, step, first_block, blocks):
    """The four words of each of 'blocks' Philox blocks from 'first_block', as uint64 [blocks, 4]."""
    b = np.arange(first_block, first_block + blocks, dtype=np.uint64)
    mask = np.uint64(_MASK)
    c0, c1 = b & mask, b >> np.uint64(32)
    c2 = np.full(blocks, _u32(step), dtype=np.uint64)
    c3 = np.zeros(blocks, dtype=np.uint64)
    k0, k1 = _u32(seed), _u32(stream)
    for r in range(10):
        if r > 0:
            k0, k1 = (k0 + _W0) & _MASK, (k1 + _W1) & _MASK
        p0 = np.uint64(_M0) * c0
        p1 = np.uint64(_M1) * c2
        c0, c1, c2, c3 = (p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0), p1 & mask, (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1), p0 & mask
    return np.stack([c0, c1, c2, c3], axis=1)


def _draw(kind, seed, stream, step, shape, offset):
    n = int(np.prod(shape)) if len(shape) > 0 else 1
    if n == 0:
        return np.zeros(shape, dtype=np.float64)
    first, last = offset // 4, (offset + n - 1) // 4
    w = philox_words(seed, stream, step, first, last - first + 1)
    if kind == "uniform":
        values = (w >> np.uint64(8)).astype(np.float64) * _STEP
    else:
        r0 = np.sqrt(0.0 - 2.0 * np.log(((w[:, 0] >> np.uint64(8)).astype(np.float64) + 1.0) * _STEP))
        t0 = math.pi * (2.0 * ((w[:, 1] >> np.uint64(8)).astype(np.float64) * _STEP) - 1.0)
        r1 = np.sqrt(0.0 - 2.0 * np.log(((w[:, 2] >> np.uint64(8)).astype(np.float64) + 1.0) * _STEP))
        t1 = math.pi * (2.0 * ((w[:, 3] >> np.uint64(8)).astype(np.float64) * _STEP) - 1.0)
        values = np.stack([r0 * np.cos(t0), r0 * np.sin(t0), r1 * np.cos(t1), r1 * np.sin(t1)], axis=1)
    flat = values.reshape(-1)[offset % 4: offset % 4 + n]
    return flat.reshape(shape)


def uniform(seed, stream, step, shape, offset, dtype):
    """Elements offset .. offset + n - 1 of the stream (seed, stream, step) as uniforms in [0, 1), shaped."""
    return torch.from_numpy(_draw("uniform", seed, stream, step, tuple(shape), int(offset))).to(dtype)


def normal(seed, stream, step, shape, offset, dtype):
    """The same elements as standard normals (Box-Muller on pairs of words)."""
    return torch.from_numpy(_draw("normal", seed, stream, step, tuple(shape), int(offset))).to(dtype)


def idiv(a, b):
    """Integer division truncating toward zero, with x / 0 = x (the IR's 'div' on i32)."""
    zero = b == 0
    return torch.where(zero, a, torch.div(a, torch.where(zero, torch.ones_like(b), b), rounding_mode="trunc"))


def to_int(x):
    """Float to integer: truncated toward zero, saturated at the i32 range, NaN to 0."""
    x = x.to(torch.float64)
    x = torch.where(torch.isnan(x), torch.zeros_like(x), x.clamp(-2147483648.0, 2147483647.0))
    return torch.trunc(x).to(I)


def pad(x, lo, hi, interior, value):
    """x with lo[i] values before, hi[i] after and interior[i] between its elements along axis i, all 'value'."""
    shape = [l + h + d + max(d - 1, 0) * k for d, l, h, k in zip(x.shape, lo, hi, interior)]
    out = torch.full(shape, value, dtype=x.dtype)
    index = tuple(slice(l, l + max(d - 1, 0) * (k + 1) + 1, k + 1) for d, l, k in zip(x.shape, lo, interior))
    out[index] = x
    return out


def f(x, dtype):
    """A float input as a tensor of the module's float dtype."""
    return torch.as_tensor(x).to(dtype)


def i(x):
    """An integer input as an int64 tensor."""
    return torch.as_tensor(x).to(I)


def register(module, name, shape, dtype, trainable):
    """Registers the tensor 'name' (dots nest submodules: 'f.1.weight'), so that its state_dict key is 'name'."""
    *path, leaf = name.split(".")
    for part in path:
        if part not in module._modules:
            module.add_module(part, nn.Module())
        module = module._modules[part]
    tensor = torch.zeros(shape, dtype=torch.float32 if dtype == "f32" else I)
    if leaf in module._parameters:
        del module._parameters[leaf]
    if leaf in module._buffers:
        del module._buffers[leaf]
    if trainable:
        module.register_parameter(leaf, nn.Parameter(tensor))
    else:
        module.register_buffer(leaf, tensor)


def tensors(module):
    """The module's tensors by repr name."""
    out = dict(module.named_parameters())
    out.update(module.named_buffers())
    return out


def float_dtype(module):
    for t in module.parameters():
        return t.dtype
    for t in module.buffers():
        if t.is_floating_point():
            return t.dtype
    return torch.float32


def schedule_factor(schedule, t, total):
    """lr_t / lr at update t of 'total' (spec/optimizers.md, "Schedules")."""
    if schedule["kind"] == "warmup":
        return (t + 1) / schedule["steps"] if t < schedule["steps"] else 1.0
    if schedule["kind"] == "cosine":
        w = schedule["warmup"]
        if t < w:
            return (t + 1) / w
        return 0.5 * (1 + math.cos(math.pi * (t - w) / max(total - w, 1)))
    return 1.0


class Update:
    """One training step's update (spec/optimizers.md): clip, coupled decay, optimizer, schedule, for 'total' updates."""

    def __init__(self, module, spec, total):
        named = tensors(module)
        self.spec = spec
        self.params = [named[p["name"]] for p in spec["params"]]
        self.decay = [p["decay"] for p in spec["params"]]
        kind, lr = spec["kind"], spec["lr"]
        groups = [{"params": [t], "lr": lr * p["rate"]} for t, p in zip(self.params, spec["params"])]
        if kind == "sgd":
            self.optimizer = torch.optim.SGD(groups, lr=lr)
        elif kind == "momentum":
            self.optimizer = torch.optim.SGD(groups, lr=lr, momentum=spec["beta"], dampening=0.0)
        elif kind == "adam":
            self.optimizer = torch.optim.Adam(groups, lr=lr, betas=(spec["beta1"], spec["beta2"]), eps=spec["eps"])
        else:
            for g, d in zip(groups, self.decay):
                g["weight_decay"] = spec["decoupledDecay"] if d else 0.0
            self.optimizer = torch.optim.AdamW(groups, lr=lr, betas=(spec["beta1"], spec["beta2"]), eps=spec["eps"])
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda t: schedule_factor(spec["schedule"], t, total))

    def zero_grad(self):
        self.optimizer.zero_grad(set_to_none=False)

    def step(self):
        """Applies the update to the gradients the last backward pass left (summed or averaged over ranks by DDP)."""
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        for p, g in zip(self.params, grads):
            p.grad = g
        if self.spec["clip"] is not None:
            norm = torch.sqrt(sum((g * g).sum() for g in grads))
            c = self.spec["clip"]
            if c < norm:
                for g in grads:
                    g.mul_(c / norm)
        lam = self.spec["weightDecay"]
        if lam > 0:
            for p, g, d in zip(self.params, grads, self.decay):
                if d:
                    g.add_(p.detach(), alpha=lam)
        self.optimizer.step()
        self.scheduler.step()


_DTYPES = {"F32": (torch.float32, 4, "f"), "F64": (torch.float64, 8, "d"), "I32": (torch.int32, 4, "i"), "I64": (torch.int64, 8, "q")}


def read_safetensors(path):
    """The tensors of a safetensors file by name."""
    with open(path, "rb") as fh:
        raw = fh.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8: 8 + n].decode("utf-8"))
    body = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, size, code = _DTYPES[info["dtype"]]
        start, end = info["data_offsets"]
        count = (end - start) // size
        values = struct.unpack("<%d%s" % (count, code), body[start:end])
        out[name] = torch.tensor(values, dtype=dtype).reshape(info["shape"])
    return out


def write_safetensors(path, named):
    """Writes tensors by name (float32 as F32, integers as I64) as a safetensors file."""
    header, chunks, offset = {}, [], 0
    for name, t in named.items():
        t = t.detach().cpu()
        if t.is_floating_point():
            key, data = ("F64", t.to(torch.float64)) if t.dtype == torch.float64 else ("F32", t.to(torch.float32))
        else:
            key, data = "I64", t.to(torch.int64)
        _, size, code = _DTYPES[key]
        values = data.reshape(-1).tolist()
        chunk = struct.pack("<%d%s" % (len(values), code), *values)
        header[name] = {"dtype": key, "shape": list(t.shape), "data_offsets": [offset, offset + len(chunk)]}
        chunks.append(chunk)
        offset += len(chunk)
    text = json.dumps(header).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


class _Step(nn.Module):
    """One training step's loss method as a module's forward, so that DistributedDataParallel can wrap it."""

    def __init__(self, model, method):
        super().__init__()
        self.model = model
        self.method = method

    def forward(self, inputs, seed, step, updates, offset):
        return getattr(self.model, self.method)(inputs, seed, step, updates, offset)


def select(fields, label, labels, per_class):
    """A split's examples after a step's selection: kept labels renumbered in order, then the first per_class of each."""
    if label is None or (labels is None and per_class is None):
        return fields
    y = fields[label].reshape(-1).to(I)
    keep = torch.ones(len(y), dtype=torch.bool)
    if labels is not None:
        keep = torch.zeros(len(y), dtype=torch.bool)
        for c in labels:
            keep |= y == c
    idx = torch.nonzero(keep).reshape(-1)
    if per_class is not None:
        seen, chosen = {}, []
        for j in idx.tolist():
            c = int(y[j])
            if seen.get(c, 0) < per_class:
                seen[c] = seen.get(c, 0) + 1
                chosen.append(j)
        idx = torch.tensor(chosen, dtype=I)
    out = {k: v[idx] for k, v in fields.items()}
    if labels is not None:
        renumber = {c: k for k, c in enumerate(labels)}
        out[label] = torch.tensor([renumber[int(c)] for c in out[label].reshape(-1)], dtype=out[label].dtype).reshape(out[label].shape)
    return out


def fnv1a32(text):
    """The FNV-1a hash of text's UTF-8 bytes: a stream's number (spec/random.md, "Streams")."""
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & _MASK
    return h


def shuffled_order(length, seed, epoch, name):
    """repr's order of a split's examples in pass 'epoch' (runtime/data/shuffle.ts): Fisher-Yates on the stream shuffle/NAME."""
    order = list(range(length))
    swaps = max(length - 1, 0)
    if swaps == 0:
        return order
    words = philox_words(seed, fnv1a32("shuffle/" + name), epoch, 0, (swaps + 1) // 2).reshape(-1).tolist()
    for k, i in enumerate(range(length - 1, 0, -1)):
        u = ((words[2 * k] >> 6) * 0x8000000 + (words[2 * k + 1] >> 5)) / 2.0 ** 53
        j = int(u * (i + 1))
        order[i], order[j] = order[j], order[i]
    return order


def negative_table(counts):
    """The alias table of P(w) proportional to count(w)^0.75, padded to a power of two (runtime/sampling/negative-table.ts)."""
    vocab = len(counts)
    size = 1
    while size < vocab:
        size *= 2
    weights = [max(counts[i], 0) ** 0.75 if i < vocab else 0.0 for i in range(size)]
    total = sum(weights)
    if total == 0:
        weights = [1.0 if i < vocab else 0.0 for i in range(size)]
        total = float(vocab)
    scaled = [w * size / total for w in weights]
    prob, alias = [0.0] * size, [0] * size
    heaviest = max(range(size), key=lambda i: (weights[i], -i))
    small = [i for i, p in enumerate(scaled) if p < 1]
    large = [i for i, p in enumerate(scaled) if p >= 1]
    while small and large:
        l, g = small.pop(), large.pop()
        prob[l], alias[l] = scaled[l], g
        scaled[g] = scaled[g] + scaled[l] - 1
        (small if scaled[g] < 1 else large).append(g)
    for i in small + large:
        prob[i], alias[i] = (1.0, i) if weights[i] > 0 else (0.0, heaviest)
    # JavaScript's Math.round (halves up), not Python's round (halves to even).
    prob = [math.floor(min(max(p, 0.0), 1.0) / _STEP + 0.5) * _STEP for p in prob]
    return prob, alias


def noise_feeds(noise, fields):
    """Each noise table of a step, made from the ids of its fields over the whole split (as repr counts them)."""
    out = {}
    for table in noise:
        counts = [0] * table["vocab"]
        for field in table["fields"]:
            for i in fields[field].reshape(-1).tolist():
                if 0 <= i < table["vocab"]:
                    counts[int(i)] += 1
        prob, alias = negative_table(counts)
        out[table["prob"]] = torch.tensor(prob, dtype=torch.float64)
        out[table["alias"]] = torch.tensor(alias, dtype=I)
    return out


def _split(data, ref, limit):
    if ref["data"] not in data:
        raise SystemExit("error: the pipeline reads the data %r: pass --data %s=FILE.safetensors (tensors named SPLIT/FIELD)" % (ref["data"], ref["data"]))
    prefix = ref["split"] + "/"
    fields = {k[len(prefix):]: v for k, v in data[ref["data"]].items() if k.startswith(prefix)}
    if not fields:
        raise SystemExit("error: %r has no tensors named %s*" % (ref["data"], prefix))
    fields = select(fields, ref.get("labelField"), ref["labels"], ref["perClass"])
    if limit is not None:
        fields = {k: v[:limit] for k, v in fields.items()}
    return fields


def run_training(model, spec, fields, seed, stream, world, rank, args, log):
    """Runs one pretrain or adapt step as repr does (runtime/train/loop.ts): update t takes the next batch of
    repr's shuffled order, the last batch of a pass what is left; under torchrun each rank takes its share of
    every batch, its loss weighted so that DDP's mean of the ranks' gradients is the whole batch's."""
    named = tensors(model)
    trained = set(p["name"] for p in spec["optimizer"]["params"])
    for name, t in named.items():
        if isinstance(t, nn.Parameter):
            t.requires_grad_(name in trained)
    first = spec["inputs"][0]["name"]
    n = fields[first].shape[0]
    batch = min(args.batch or spec["batch"], n)
    per_pass = -(-n // batch)
    updates = args.steps or (args.epochs * per_pass if args.epochs else spec["updates"] if spec["updates"] > 0 else spec["epochs"] * per_pass)
    extra = noise_feeds(spec["noise"], fields)
    step_module = _Step(model, spec["method"])
    if world > 1:
        step_module = torch.nn.parallel.DistributedDataParallel(step_module, find_unused_parameters=True)
    update = Update(model, spec["optimizer"], updates)
    order, order_pass = None, -1
    for t in range(updates):
        epoch, k = divmod(t, per_pass)
        if epoch != order_pass:
            order, order_pass = shuffled_order(n, seed, epoch, stream), epoch
        begin = k * batch
        rows = order[begin: min(n, begin + batch)]
        m = len(rows)
        sizes = [m // world + (1 if r < m % world else 0) for r in range(world)]
        offset = sum(sizes[:rank])
        mine = torch.tensor(rows[offset: offset + sizes[rank]], dtype=I)
        inputs = {i["name"]: fields[i["name"]][mine] for i in spec["inputs"]}
        inputs.update(extra)
        update.zero_grad()
        loss, stats = step_module(inputs, seed, t, updates, offset)
        weighted = loss * (sizes[rank] * world / m) if world > 1 else loss
        weighted.backward()
        update.step()
        with torch.no_grad():
            for name, value in stats.items():
                named[name].copy_(value)
        shown = weighted.detach().clone()
        if world > 1:
            torch.distributed.all_reduce(shown)
            shown /= world
        log({"update": t, "updates": updates, "loss": float(shown)})


def run_test(model, spec, fields, seed, args, log):
    """Evaluates a test step over a split: the mean of each loss, and accuracy where the step asks for it."""
    first = spec["inputs"][0]["name"]
    n = fields[first].shape[0]
    batch = min(args.batch or spec["batch"], n)
    extra = noise_feeds(spec["noise"], fields)
    sums, correct, count = {}, 0, 0
    with torch.no_grad():
        for k, start in enumerate(range(0, n, batch)):
            inputs = {i["name"]: fields[i["name"]][start: start + batch] for i in spec["inputs"]}
            inputs.update(extra)
            m = inputs[first].shape[0]
            out = getattr(model, spec["method"])(inputs, seed, k)
            for name, value in out.items():
                if name.startswith("loss/"):
                    sums[name[5:]] = sums.get(name[5:], 0.0) + float(value) * m
            label = spec["label"]
            wants = any(m["name"] == "accuracy" for m in spec["metrics"])
            if wants and label is not None and label in fields and "prediction" in out:
                y = fields[label][start: start + batch].reshape(-1).to(I)
                p = out["prediction"]
                p = p.reshape(m, -1).argmax(dim=1) if p.numel() != m else p.reshape(-1).to(I)
                correct += int((p == y).sum())
                count += m
    metrics = {name: total / max(n, 1) for name, total in sums.items()}
    if count > 0:
        metrics["accuracy"] = correct / count
    log({"metrics": metrics})
    return metrics


def run_pipeline(Model, name, argv):
    """The pipeline 'name' of 'Model' from the command line, step by step as repr train runs it; under torchrun,
    one process per rank (gloo on CPUs, NCCL on GPUs), every batch shared among the ranks."""
    import argparse
    import os
    import torch.distributed as dist

    parser = argparse.ArgumentParser(description="Runs the pipeline %r of %s, as repr train does." % (name, Model.__name__))
    parser.add_argument("--data", action="append", default=[], metavar="NAME=FILE", help="a data declaration's splits: a safetensors file of tensors named SPLIT/FIELD")
    parser.add_argument("--seed", type=int, default=None, help="every step's seed (default: each step's own, else 0)")
    parser.add_argument("--steps", type=int, default=None, help="updates per training step")
    parser.add_argument("--epochs", type=int, default=None, help="passes per training step")
    parser.add_argument("--batch", type=int, default=None, help="examples per update, over all processes")
    parser.add_argument("--limit", type=int, default=None, help="the first N examples of each split only")
    parser.add_argument("--double", action="store_true", help="compute in float64")
    parser.add_argument("--out", default=None, help="write the tensors after the pipeline to this safetensors file")
    args = parser.parse_args(argv)
    data = {}
    for d in args.data:
        key, _, path = d.partition("=")
        data[key] = read_safetensors(path)
    world, rank = 1, 0
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        world, rank = dist.get_world_size(), dist.get_rank()
    steps = Model.PIPELINES[name]

    def seed_of(step):
        own = step.get("seed")
        return args.seed if args.seed is not None else own if own is not None else 0

    pretrain_seed = seed_of(steps[0]) if steps and steps[0]["kind"] == "pretrain" else (args.seed or 0)
    model = Model(pretrain_seed)
    if args.double:
        model = model.double()
    for k, step in enumerate(steps):
        def log(record, k=k, step=step):
            if rank == 0:
                print(json.dumps(dict({"step": k + 1, "kind": step["kind"]}, **record)), flush=True)
        if step["kind"] in ("pretrain", "adapt"):
            ref = step["data"]
            run_training(model, Model.STEPS[step["step"]], _split(data, ref, args.limit), seed_of(step), ref["data"] + "." + ref["split"], world, rank, args, log)
        elif step["kind"] == "replace":
            getattr(model, step["method"])(pretrain_seed)
            if args.double:
                model = model.double()
            log({"replaced": step["part"]})
        elif step["kind"] == "test":
            run_test(model, step, _split(data, step["data"], args.limit), seed_of(step), args, log)
        else:
            log({"parts": step["parts"]})
    if args.out is not None and rank == 0:
        write_safetensors(args.out, tensors(model))
    if world > 1:
        dist.destroy_process_group()
    return 0
`;
