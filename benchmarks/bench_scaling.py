"""Trainer throughput with 1 vs. N Ray Train workers, same job, same global batch.

    python benchmarks/bench_scaling.py [--job jobs/fmnist/lm_ssl_ema.yaml] [--workers 1,2] [--steps 60]

Each run is a real ``TorchTrainer`` fit on a local Ray (gloo on CPU, NCCL on GPU);
images/s is measured on the last of 3 epochs (start-up, data loading and warm-up
excluded), from the ``epoch_seconds`` it reports.
"""
from __future__ import annotations

import argparse
import tempfile

import ray

from distlm.config import load_job
from distlm.checkpoint.state import load_state
from distlm.train.driver import build_trainer


def run(job: str, workers: int, steps: int, batch: int, store: str) -> float:
    epochs = 3
    spec = load_job(job, [f"scaling.num_workers={workers}", f"train.batch_size={batch}",
                          f"train.epochs={epochs}", f"train.steps_per_epoch={steps // epochs}",
                          "train.eval_every=0", "telemetry.metrics_port=0", f"run.name=scale-{workers}",
                          f"run.storage_path={store}", "run.checkpoint_every=0"])
    result = build_trainer(spec).fit()
    if result.error:
        raise result.error
    # the last epoch's time: start-up, data loading and warm-up are behind it
    state = load_state(result.checkpoint.path)
    return batch * (steps // epochs) / result.metrics["epoch_seconds"], state["step"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--job", default="jobs/fmnist/lm_ssl_ema.yaml")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args()
    from distlm.ray_local import start_local
    start_local(include_dashboard=False, log_to_driver=False)
    rows = []
    with tempfile.TemporaryDirectory() as store:
        for n in [int(w) for w in args.workers.split(",")]:
            ips, steps = run(args.job, n, args.steps, args.batch, store)
            rows.append((n, ips, steps))
    base = rows[0][1]
    print(f"{args.job}, global batch {args.batch}, {args.steps} steps, resources: {ray.cluster_resources()}")
    print("| workers | images/s | speed-up |\n|---|---|---|")
    for n, ips, _ in rows:
        print(f"| {n} | {ips:.1f} | {ips / base:.2f}× |")


if __name__ == "__main__":
    main()
