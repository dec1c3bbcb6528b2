"""``make demo``: CE vs. LM-SSL on Fashion-MNIST, through the trainer on a local Ray.

A short version of experiment 1 of ``docs/results.md`` (100 labels per class, the
other 59,000 training images unlabelled, the official test set): the two job specs
``jobs/fmnist/ce.yaml`` and ``jobs/fmnist/lm_ssl_ema.yaml`` run one after the other
as 2-worker ``TorchTrainer`` s on a local Ray bound to 127.0.0.1, under the same step
budget and labelled batch. It prints the table and writes the figures::

    python -m distlm.demo                  # ~ a few minutes on 2 CPU cores
    python -m distlm.demo --steps 1000 --out demo-out

The run helpers here (:func:`apply_budget`, :func:`run_on_ray`,
:func:`run_in_process`) are shared with ``benchmarks/fmnist_experiments.py``.
"""
from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from distlm.cli.grammar import output_of
from distlm.config import load_job, spec_from_dict, spec_to_dict

JOBS = Path(__file__).resolve().parents[1] / "jobs"
LABELLED_BATCH = 100      # global labelled images per step, every method
EPOCH_STEPS = 10          # 1,000 labels / 100 per step: one labelled pass per "epoch"
Record = Dict[str, Any]


def job_path(rel: str) -> str:
    """``jobs/<rel>`` of this checkout (or of the current directory)."""
    p = JOBS / rel
    return str(p if p.exists() else Path("jobs") / rel)


def apply_budget(spec, steps: int, seed: int, eval_every: int, workers: int = 1,
                 storage: Optional[str] = None):
    """The same budget for every method: ``steps`` Adam steps of ``LABELLED_BATCH``
    labelled images (plus as many unlabelled ones for SSL/transfer rows), epochs of
    ``EPOCH_STEPS`` steps (the cosine schedule runs over them), evaluation every
    ``eval_every`` steps (rounded to epochs), no checkpoints kept but the last."""
    d = spec_to_dict(spec)
    per_epoch = min(EPOCH_STEPS, steps)
    epochs = math.ceil(steps / per_epoch)
    from distlm.train.objective import uses_unlabelled

    ratio = d["data"]["unlabelled_ratio"] if uses_unlabelled(spec) else 0.0
    d["seed"] = seed
    d["train"].update(epochs=epochs, steps_per_epoch=per_epoch, log_every=10**9,
                      batch_size=int(round(LABELLED_BATCH * (1 + ratio))),
                      eval_every=max(1, round(eval_every / per_epoch)))
    d["scaling"].update(num_workers=workers, use_gpu=False, cpus_per_worker=1)
    d["run"].update(checkpoint_every=0, keep=1, keep_metric=None,
                    name=f"{spec.name}-s{seed}-{uuid.uuid4().hex[:6]}",
                    storage_path=storage or os.path.join(tempfile.gettempdir(), "distlm-bench"))
    d["telemetry"]["metrics_port"] = 0
    return spec_from_dict(d, source=f"{spec.name} (benchmark budget)")


def _metrics(ev: Dict[str, Any]) -> Dict[str, float]:
    return {k: float(v) for k, v in ev.items() if k not in ("embeddings", "targets")}


def worker_final(history: Dict[str, list], steps: int, n_test: int) -> Optional[Dict[str, float]]:
    """The workers' own evaluation of the last step when it covered the whole test set
    (``num_samples == n_test``; the trainer always evaluates its last epoch), else None."""
    evals, at = history.get("eval") or [], history.get("eval_step") or []
    if not evals or not at or int(at[-1]) != steps:
        return None
    last = _metrics(evals[-1])
    return last if int(last.get("num_samples", -1)) == n_test else None


def _finish(record: Record, spec, model, norm, memory, centroids, n_embed: int,
            final: Optional[Dict[str, float]] = None, device: Any = "cpu") -> Record:
    """Final full-test metrics of a trained model (``final`` when the workers already
    computed them) and the first ``n_embed`` test embeddings for the figures."""
    from distlm.data.sources import test_batches, with_test_head
    from distlm.train.evaluate import evaluate

    ev: Dict[str, Any] = {}
    if final is None:
        ev = evaluate(model, test_batches(memory, 0, 1), spec, norm, device, collect_embeddings=n_embed)
        final = _metrics(ev)
    elif n_embed:
        ev = evaluate(model, test_batches(with_test_head(memory, n_embed), 0, 1), spec, norm, device,
                      collect_embeddings=n_embed)
    record["final"] = final
    if "embeddings" in ev:
        record["embeddings"] = ev["embeddings"].cpu().numpy()
        record["targets"] = ev["targets"].cpu().numpy()
        record["centroids"] = centroids
    return record


def _history(h: Dict[str, list]) -> Dict[str, list]:
    keys = ("step", "loss", "loss_supervised", "loss_aux", "lambda2", "centroid_drift", "eval_step")
    out = {k: [float(v) for v in h.get(k, [])] for k in keys}
    out["eval"] = [_metrics(e) for e in h.get("eval", [])]
    return out


def run_in_process(spec, eval_subset: int = 2000, n_embed: int = 0,
                   progress: Optional[Callable[[int, int, Dict[str, float]], None]] = None,
                   state_dir: Optional[str] = None, device: Any = "cpu",
                   log: Optional[Callable[[str], None]] = None) -> Record:
    """Train ``spec`` in this process (``distlm.train.loop.Worker``, one worker);
    intermediate evaluations on the first ``eval_subset`` test images, the final
    one on the whole test set. ``progress(step, total_steps, metrics)`` is called
    after each intermediate evaluation. ``device``: where the worker trains and evaluates
    (``cuda`` is not bit-for-bit deterministic). With ``state_dir``, a snapshot is written there
    after each intermediate evaluation and a run stopped at any point continues from
    the last one, with the same result as an uninterrupted run
    (:mod:`distlm.train.snapshot`); ``log(line)`` is told when a run continues from one."""
    from distlm.telemetry.trainer import TrainerTelemetry
    from distlm.data.sources import test_batches, with_test_head
    from distlm.train.epochs import train_epochs
    from distlm.train.evaluate import evaluate
    from distlm.train.loop import Worker
    from distlm.train.snapshot import resume_snapshot, save_snapshot

    t0 = time.perf_counter()
    w = Worker(spec, device=device)
    done = resume_snapshot(w, state_dir) if state_dir else {}
    if w.step and log is not None:
        log(f"continuing from the snapshot in {state_dir} at step {w.step}/{w.total_steps}")
    sub = with_test_head(w.memory, eval_subset)
    clock = {"train_s": done.get("train_s", 0.0)}
    wall_before = done.get("wall_s", 0.0)

    def intermediate(worker) -> Optional[Dict[str, Any]]:
        """On the test subset, except at the last epoch (the whole test set follows)."""
        if worker.epoch >= spec.train.epochs:
            return None
        return evaluate(worker.eval_model, test_batches(sub, 0, 1), spec, worker.norm, worker.device)

    def end_of_epoch(metrics: Dict[str, Any], _checkpoint_due: bool) -> None:
        clock["train_s"] += metrics["epoch_seconds"]
        if "test_acc" not in metrics and "test_avg_full" not in metrics:
            return
        if state_dir:
            save_snapshot(w, state_dir, {"train_s": clock["train_s"], "wall_s": wall_before + time.perf_counter() - t0})
        if progress is not None:
            progress(w.step, w.total_steps, _metrics(w.history["eval"][-1]))

    error = train_epochs(w, TrainerTelemetry(False), intermediate, end_of_epoch)
    if error is not None:
        raise error
    train_s = clock["train_s"]
    rec: Record = {"train_s": train_s, "steps": w.step}
    _finish(rec, spec, w.eval_model, w.norm, w.memory, _centroid_array(w.objective.centroid_state()), n_embed,
            device=w.device)
    if w.averaged is not None:  # the trained weights too, to show what the average adds
        rec["final_trained"] = _metrics(evaluate(w.model, test_batches(w.memory, 0, 1), spec, w.norm, w.device))
    w.history["eval_step"].append(w.step)
    w.history["eval"].append(rec["final"])
    rec["history"] = _history(w.history)
    rec["wall_s"] = wall_before + time.perf_counter() - t0
    return rec


def _centroid_array(c) -> Optional[np.ndarray]:
    return None if c is None or c.numel() == 0 else c.detach().float().cpu().numpy()


def run_on_ray(spec, n_embed: int = 0, progress_every_s: Optional[float] = None) -> Record:
    """Train ``spec`` with ``build_trainer(spec).fit()`` on the current Ray session;
    the history and final model come from the run's last checkpoint. Progress is drawn
    as a live bar on a terminal, else printed every ``progress_every_s`` seconds."""
    from distlm.checkpoint.bundle import bundle_from_state
    from distlm.checkpoint.state import load_state
    from distlm.evaluate.run import _centroids
    from distlm.data.sources import read_memory
    from distlm.train.driver import build_trainer

    import threading

    from distlm.train.progress import watch

    t0 = time.perf_counter()
    trainer, stop = build_trainer(spec), threading.Event()
    follower = watch(spec, stop, lines_every_s=progress_every_s)  # a live bar, or a line now and then
    try:
        result = trainer.fit()
    finally:
        stop.set()
        if follower is not None:
            follower.join(timeout=5)
    wall = time.perf_counter() - t0
    if result.error is not None:
        raise RuntimeError(f"{spec.name}: training failed: {result.error}")
    with result.checkpoint.as_directory() as d:
        state = load_state(d)
    rec: Record = {"train_s": wall, "steps": int(state["step"])}
    bundle = bundle_from_state(state, "the run's last checkpoint")
    memory = read_memory(spec, False)
    history = state.get("history", {})
    final = worker_final(history, rec["steps"], len(memory.test.labels))
    _finish(rec, spec, bundle.model, bundle.norm, memory, _centroids(state), n_embed, final)
    rec["history"] = _history(history)
    rec["wall_s"] = time.perf_counter() - t0
    return rec


def mean_std(values: Sequence[float]) -> str:
    """``"84.69 ± 1.16"`` (percent; sample std, ``± –`` for one value)."""
    v = 100 * np.asarray(values, dtype=float)
    if len(v) == 1:
        return f"{v[0]:.2f} ± –"
    return f"{v.mean():.2f} ± {v.std(ddof=1):.2f}"


def demo_table(records: Dict[str, Record], labels: Dict[str, str]) -> str:
    lines = ["| Method | Acc (%) | Avg. Acc (%) | steps | wall (s) |", "|---|---|---|---|---|"]
    for row, r in records.items():
        f = r["final"]
        lines.append(f"| {labels[row]} | {100 * f['acc']:.2f} | {100 * f['avg_acc']:.2f} | {r['steps']} "
                     f"| {r['wall_s']:.0f} |")
    return "\n".join(lines)


DEMO_ROWS = {"ce": "CE only (1,000 labels)", "lm_ssl_ema": "LM-SSL, EMA centroids (+59k unlabelled)"}


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m distlm.demo", description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=400, help="Adam steps per method (default 400)")
    ap.add_argument("--seed", type=int, default=0, help="labelled draw and initialisation (default 0)")
    ap.add_argument("--workers", type=int, default=2, help="Ray Train workers (default 2)")
    ap.add_argument("-o", "--output", default=None, help="folder for the figures and table (default demo-out)")
    ap.add_argument("--out", dest="output_legacy", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    output_of("distlm.demo", args)
    args.out = args.output or "demo-out"
    import ray

    from distlm.evaluate import plots
    from distlm.ray_local import start_local

    os.makedirs(args.out, exist_ok=True)
    storage = tempfile.mkdtemp(prefix="distlm-demo-")
    if not ray.is_initialized():
        start_local(num_cpus=max(args.workers, os.cpu_count() or 1), include_dashboard=False,
                    log_to_driver=False)
    records: Dict[str, Record] = {}
    for row in DEMO_ROWS:
        spec = apply_budget(load_job(job_path(f"fmnist/{row}.yaml")), args.steps, args.seed,
                            eval_every=max(args.steps // 4, 1), workers=args.workers, storage=storage)
        print(f"training {row} ({args.steps} steps, {args.workers} Ray workers) ...", flush=True)
        records[row] = run_on_ray(spec, n_embed=3000, progress_every_s=15.0)
    table = demo_table(records, DEMO_ROWS)
    print("\nFashion-MNIST, 100 labels per class, test set (10,000 images):\n" + table)
    from distlm.evaluate.plots import embedding

    names = list(spec.data.class_names)
    for row, r in records.items():
        plots.training(r["history"], os.path.join(args.out, f"training-{row}.png"))
        cents = r.get("centroids")
        if cents is None:  # CE has no centroids: show the class means of the test embedding
            cents = np.stack([r["embeddings"][r["targets"] == k].mean(0) for k in range(len(names))])
        embedding(r["embeddings"], r["targets"], cents, names, os.path.join(args.out, f"embedding-{row}.png"),
                  title=f"{DEMO_ROWS[row]}: normalised embedding (PCA)")
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(table + "\n")
    print(f"\nfigures and table in {os.path.abspath(args.out)}/ ; the full experiments: docs/results.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
