"""Trainer step time with ``train.channels_last`` off vs. on, side by side.

    python benchmarks/bench_memory_format.py [--job jobs/fmnist/ssl/lm_flexmatch_avg.yaml] [--steps 5] [--rounds 3]

Two in-process trainer workers (``distlm.train.loop.Worker``) built from the same job
spec, one with NCHW weights (PyTorch's default), one with NHWC (channels-last); each
round times ``--steps`` whole training steps of each (data, augmentation, self-labels,
forward, loss, backward, Adam, EMAs) and one evaluation pass over ``--eval-images`` test
images. Rounds are interleaved so load drift hits both alike; the best round counts.
Prints ms per step / per evaluation and the speed-up.
"""
from __future__ import annotations

import argparse
import itertools
import time

import torch

from distlm.config import load_job
from distlm.data.sources import test_batches, with_test_head
from distlm.train.evaluate import evaluate
from distlm.train.loop import Worker

BUDGET = ["train.epochs=1000", "train.steps_per_epoch=1000", "scaling.num_workers=1", "run.checkpoint_every=0"]


def make_worker(job: str, channels_last: bool, batch: int):
    spec = load_job(job, [*BUDGET, f"train.batch_size={batch}", f"train.channels_last={str(channels_last).lower()}"])
    w = Worker(spec)
    return w, spec, endless_batches(w)


def endless_batches(w):
    """``w``'s training batches, epoch after epoch."""
    return itertools.chain.from_iterable(w.loader.epoch(e) for e in itertools.count())


def time_steps(w, batches, steps: int) -> float:
    t0 = time.perf_counter()
    for batch in itertools.islice(batches, steps):
        w.train_step(batch)
    return (time.perf_counter() - t0) / steps * 1000


def time_eval(w, spec, images: int) -> float:
    sub = with_test_head(w.memory, images)
    t0 = time.perf_counter()
    evaluate(w.eval_model, test_batches(sub, 0, 1), spec, w.norm, "cpu")
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--job", default="jobs/fmnist/ssl/lm_flexmatch_avg.yaml")
    ap.add_argument("--batch", type=int, default=200, help="global batch, labelled + unlabelled")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--eval-images", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    runs = {name: make_worker(args.job, cl, args.batch) for name, cl in (("NCHW", False), ("channels_last", True))}
    for w, _, batches in runs.values():
        time_steps(w, batches, 1)  # warm-up
    step = {name: float("inf") for name in runs}
    ev = dict(step)
    for _ in range(args.rounds):
        for name, (w, spec, batches) in runs.items():
            step[name] = min(step[name], time_steps(w, batches, args.steps))
            ev[name] = min(ev[name], time_eval(w, spec, args.eval_images))
    print(f"{args.job}, batch {args.batch}, torch threads {torch.get_num_threads()}, "
          f"best of {args.rounds} rounds of {args.steps} steps")
    print("| layout | ms/train step | ms/eval of %d images |\n|---|---|---|" % args.eval_images)
    for name in runs:
        print(f"| {name} | {step[name]:.0f} | {ev[name]:.0f} |")
    print(f"| speed-up | {step['NCHW'] / step['channels_last']:.2f}x | {ev['NCHW'] / ev['channels_last']:.2f}x |")


if __name__ == "__main__":
    main()
