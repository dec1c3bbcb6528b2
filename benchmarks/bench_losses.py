"""Forward+backward cost of each embedding loss vs. a linear + cross-entropy head
of the same (B, D, C), measured side by side in one run.

    python benchmarks/bench_losses.py [--repeats 50] [--device cpu|cuda]

Prints a Markdown table of milliseconds per call and the ratio to the CE head.
"""
from __future__ import annotations

import argparse
import platform
import time

import torch
import torch.nn.functional as F

from distlm.losses import create_loss, list_losses

SHAPES = [(256, 128, 10), (256, 4096, 7), (1024, 4096, 7)]


def timed(fn, repeats: int, device: str) -> float:
    for _ in range(3):
        fn()
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / repeats * 1e3


def bench(device: str, repeats: int) -> list:
    rows = []
    for B, D, C in SHAPES:
        g = torch.Generator(device="cpu").manual_seed(0)
        x = torch.randn(B, D, generator=g).to(device).requires_grad_(True)
        y = torch.randint(0, C, (B,), generator=g).to(device)
        head = torch.nn.Linear(D, C).to(device)

        def ce():
            x.grad = None
            F.cross_entropy(head(x), y).backward()

        fns = {"linear+CE": ce}
        for name in list_losses():
            loss = create_loss(name, num_classes=C).to(device)

            def run(loss=loss):
                x.grad = None
                loss(x, y).backward()

            fns[name] = run
        # interleave rounds so drift in machine load hits every contender alike
        times = {k: [] for k in fns}
        for _ in range(5):
            for k, fn in fns.items():
                times[k].append(timed(fn, max(repeats // 5, 1), device))
        base = min(times["linear+CE"])
        for k, ts in times.items():
            rows.append((device, f"{B}×{D}×{C}", k, min(ts), min(ts) / base))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--device", default=None)
    args = ap.parse_args()
    devices = [args.device] if args.device else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"threads={torch.get_num_threads()}")
    print("| device | B×D×C | loss | ms / fwd+bwd | × linear+CE |\n|---|---|---|---|---|")
    for device in devices:
        for dev, shape, name, ms, ratio in bench(device, args.repeats):
            print(f"| {dev} | {shape} | {name} | {ms:.3f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
