"""Peak memory of ``prepare`` on 20,000 vs 2,000 synthetic JPEGs (bounded = about equal).

Each run is a fresh ``python -m distlm.prepare`` process with its own local Ray; the
driver's RSS and the RSS of its whole process tree (driver + raylet + workers) are
sampled every 0.2 s. Prints a table; asserts nothing.

    .venv/bin/python benchmarks/bench_prepare_memory.py --counts 2000 20000 --detector none
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def make_tree(folder: Path, count: int, side: int) -> None:
    from distlm.images import synthetic as syn

    rng = np.random.default_rng(0)
    base = syn.gradient(side, side)
    for i in range(count):
        sub = folder / f"{i // 1000:03d}"
        sub.mkdir(exist_ok=True)
        img = np.clip(base.astype(np.int16) + rng.integers(-25, 25, base.shape), 0, 255).astype(np.uint8)
        (sub / f"{i:06d}.jpg").write_bytes(syn.encode(img, "JPEG", quality=85))


def _rss(pid: int) -> int:
    """Resident set size of ``pid`` in bytes (Linux /proc), 0 if gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _children(pid: int) -> list:
    kids = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            kids += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return kids


def tree_rss(pid: int) -> tuple:
    """``(rss of pid, rss of pid and all its descendants)``."""
    seen, todo, total = set(), [pid], 0
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss(p)
        todo += _children(p)
    return _rss(pid), total


def run(src: Path, dst: Path, args: argparse.Namespace) -> tuple:
    cmd = [sys.executable, "-m", "distlm.prepare", "--input", str(src), "--output", str(dst),
           "--detector", args.detector, "--size", str(args.size), "--shard-size", str(args.shard_size),
           "--actors", str(args.actors), "--address", "local", "--num-cpus", str(args.actors),
           "--log-every", "30"]
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_own = peak_tree = 0
    while child.poll() is None:
        own, total = tree_rss(child.pid)
        peak_own, peak_tree = max(peak_own, own), max(peak_tree, total)
        time.sleep(0.2)
    if child.returncode != 0:
        raise SystemExit(f"prepare failed with status {child.returncode}")
    return time.perf_counter() - t0, peak_own, peak_tree


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--counts", type=int, nargs="+", default=[2000, 20000])
    ap.add_argument("--detector", default="none")
    ap.add_argument("--side", type=int, default=96, help="synthetic image side")
    ap.add_argument("--size", type=int, default=64, help="crop size")
    ap.add_argument("--shard-size", type=int, default=256)
    ap.add_argument("--actors", type=int, default=2)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.counts:
            src, dst = Path(tmp) / f"in{count}", Path(tmp) / f"out{count}"
            src.mkdir()
            make_tree(src, count, args.side)
            rows.append((count, *run(src, dst, args)))
    mib = 1024 * 1024
    print(f"{'images':>8}{'seconds':>10}{'images/s':>10}{'driver peak RSS MiB':>22}{'tree peak RSS MiB':>20}")
    for count, secs, own, tree in rows:
        print(f"{count:>8}{secs:>10.1f}{count / secs:>10.1f}{own / mib:>22.0f}{tree / mib:>20.0f}")
    print(f"(detector={args.detector}, {args.side}px JPEGs -> {args.size}px crops, shard {args.shard_size}, "
          f"{args.actors} actors; tree = driver + Ray processes it started)")


if __name__ == "__main__":
    main()
