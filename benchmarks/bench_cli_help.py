"""``--help`` of every command vs. importing what it runs: the wall time of
``python -m distlm.<command> --help`` beside ``python -c "import <the command's worker
module>"`` (what ``--help`` cost when the heavy imports came first), median of
``--repeat`` fresh processes each.

    .venv/bin/python benchmarks/bench_cli_help.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

WORKERS = {"train": "distlm.train.driver", "prepare": "distlm.prepare.runner", "predict": "distlm.predict.pipeline",
           "evaluate": "distlm.evaluate.run", "export": "distlm.export.onnx"}


def seconds(argv, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    base = seconds([sys.executable, "-c", "pass"], a.repeat)
    print(f"python -c pass: {base:.3f} s (median of {a.repeat})\n")
    print("| command | `--help` (s) | import of its worker module (s) | ratio |")
    print("|---|---|---|---|")
    for cmd, mod in WORKERS.items():
        h = seconds([sys.executable, "-m", f"distlm.{cmd}", "--help"], a.repeat)
        w = seconds([sys.executable, "-c", f"import {mod}"], a.repeat)
        print(f"| {cmd} | {h:.3f} | {w:.3f} | {w / h:.0f}x |")


if __name__ == "__main__":
    main()
