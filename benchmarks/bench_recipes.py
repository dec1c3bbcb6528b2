"""Wall time per training step of the Fashion-MNIST SSL recipes vs. CE only, side by side.

    python benchmarks/bench_recipes.py [--rows ssl_ce,ssl_flexmatch,...] [--steps 10] [--rounds 3] [--threads 2]

The recipes' hidden cost, measured in one process: one in-process trainer worker
(``distlm.train.loop.Worker``) per row of ``benchmarks/fmnist_rows.py``, built from the
row's job spec as the benchmark driver runs it (its batch: 100 labelled, + 100 × μ
unlabelled for SSL rows; its augmentations, self-labels, teacher, losses), all in the
channels-last layout. Each round times ``--steps`` whole steps (data, augmentation,
weak-view self-labels, forward, losses, backward, Adam, EMAs) of every row in turn, so
load drift hits every row alike; the best round counts. Prints ms/step, images/step and
the ratio to the first row (CE only).
"""
from __future__ import annotations

import argparse

import torch

from bench_memory_format import endless_batches, time_steps
from distlm.config import load_job
from distlm.demo import apply_budget, job_path
from distlm.train.loop import Worker
from fmnist_rows import ROWS

DEFAULT_ROWS = "ssl_ce,ssl_flexmatch,ssl_lm_flexmatch,ssl_flexmatch_mu2_teacher,ssl_lm_flexmatch_mu2_teacher"


def worker(job: str):
    """The row's worker as the benchmark driver builds it (``apply_budget``: 100
    labelled images per step, + 100 × μ unlabelled), with a budget no timing reaches."""
    spec = apply_budget(load_job(job_path(job), ["train.channels_last=true"]), 100_000, 0, eval_every=1000, workers=1)
    w = Worker(spec)
    return w, endless_batches(w)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default=DEFAULT_ROWS, help="rows of benchmarks/fmnist_rows.py; the first is the baseline")
    ap.add_argument("--steps", type=int, default=10, help="steps per row per round")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best counts")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args(argv)
    rows = args.rows.split(",")
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        ap.error(f"unknown row(s) {unknown}; known: {sorted(ROWS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    runs = {r: worker(ROWS[r].job) for r in rows}
    for w, batches in runs.values():
        time_steps(w, batches, 1)  # warm-up
    best = {r: float("inf") for r in rows}
    for _ in range(args.rounds):
        for r, (w, batches) in runs.items():
            best[r] = min(best[r], time_steps(w, batches, args.steps))
    print(f"torch threads {torch.get_num_threads()}, best of {args.rounds} rounds of {args.steps} steps, channels-last")
    print("| row | method | images/step | ms/step | × " + ROWS[rows[0]].label + " |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| `{r}` | {ROWS[r].label} | {runs[r][0].spec.train.batch_size} | {best[r]:.0f} | {best[r] / best[rows[0]]:.2f} |")


if __name__ == "__main__":
    main()
