"""The anchor for bench/gpu-train-step.ts: PyTorch's steps/s on a CUDA GPU for the same step.

The MNIST autoencoder of examples/mnist-autoencoder.repr (784-256-64-32-64-256-784,
relu inside, sigmoid out, mean squared error), one Adam(lr=1e-3) update per step, in
float32 with TF32 off, at each batch size. Per batch: steps/s reading the loss back every
step (`loss.item()`, as repr's `trainStep` does) and without a host sync between steps
(synchronized once per window), each the median of windows of at least 0.25 s after a
warm-up, for at least `--seconds`; and the encoder's examples/s on `--encode` examples
(copied to the device, encoded in one forward pass, copied back, as repr's `call` does),
the median of 3. Prints one line of JSON. Usage:

    python3 bench/train_step_torch_cuda.py [--batches 256,1024,8192] [--seconds 3] [--device cuda]
"""
import argparse
import json
import time

import torch
from torch import nn

WINDOW_S = 0.25


def autoencoder() -> tuple[nn.Module, nn.Module]:
    """The model and its encoder (784-256-64-32), which the model starts with."""
    encoder = nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 64), nn.ReLU(),
        nn.Linear(64, 32),
    )
    decoder = nn.Sequential(
        nn.Linear(32, 64), nn.ReLU(),
        nn.Linear(64, 256), nn.ReLU(),
        nn.Linear(256, 784), nn.Sigmoid(),
        nn.Unflatten(1, (1, 28, 28)),
    )
    return nn.Sequential(encoder, decoder), encoder


def windows(run, seconds: float, sync) -> list[float]:
    """Steps/s of windows of at least WINDOW_S, for at least `seconds` and 5 windows."""
    rates = []
    start = time.perf_counter()
    while len(rates) < 5 or time.perf_counter() - start < seconds:
        sync()
        t0 = time.perf_counter()
        n = 0
        while time.perf_counter() - t0 < WINDOW_S:
            run()
            n += 1
        sync()  # the window ends when the GPU has done its steps
        rates.append(n / (time.perf_counter() - t0))
    return rates


def median(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2]


def bench_batch(batch: int, device: torch.device, seconds: float, encode_n: int) -> dict:
    torch.manual_seed(1)
    model, encoder = autoencoder()
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = [torch.rand(batch, 1, 28, 28, device=device) for _ in range(4)]
    # The same batches in host memory: what an app that trains from its own arrays hands over each step.
    host_images = [image.cpu() for image in images]
    k = [0]
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)

    def step(from_host: bool = False) -> torch.Tensor:
        image = (host_images[k[0] % len(images)].to(device) if from_host else images[k[0] % len(images)])
        k[0] += 1
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(model(image), image)
        loss.backward()
        optimizer.step()
        return loss

    for _ in range(20):
        step()
    sync()
    with_item = windows(lambda: step().item(), seconds / 3, sync)
    no_sync = windows(step, seconds / 3, sync)
    from_host = windows(lambda: step(True).item(), seconds / 3, sync)

    host = torch.rand(encode_n, 1, 28, 28)
    rates = []
    with torch.no_grad():
        for r in range(4):
            sync()
            t0 = time.perf_counter()
            codes = encoder(host.to(device)).cpu()
            elapsed = time.perf_counter() - t0
            if r > 0:  # the first call warms up
                rates.append(encode_n / elapsed)
    assert codes.shape == (encode_n, 32)
    return {
        "batch": batch,
        "steps_per_s": round(median(with_item), 2),
        "best_steps_per_s": round(max(with_item), 2),
        "steps_per_s_nosync": round(median(no_sync), 2),
        "steps_per_s_from_host": round(median(from_host), 2),
        "windows": len(with_item) + len(no_sync) + len(from_host),
        "encode_examples": encode_n,
        "encode_examples_per_s": round(median(rates), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", default="256,1024,8192", help="train batch sizes, comma-separated")
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to time each batch (half with loss.item(), half without)")
    parser.add_argument("--encode", type=int, default=10_000, help="examples to encode")
    parser.add_argument("--device", default="cuda", help="cuda, or cpu to try the script without a GPU")
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = torch.device(args.device)
    results = [bench_batch(int(b), device, args.seconds, args.encode) for b in args.batches.split(",")]
    print(json.dumps({
        "bench": "torch-train-step",
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "tf32": False,
        "batches": results,
    }))


if __name__ == "__main__":
    main()
