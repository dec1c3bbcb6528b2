"""``torchrun --nproc_per_node=N -m distlm.train.torchrun JOB.yaml [key=value ...]``:
the trainer without Ray (one workstation, SLURM, a GPU box without Ray).

The same :class:`~distlm.train.loop.Worker`, model wrapper, objective and checkpoint
format as ``python -m distlm.train``; ``torchrun`` starts the processes and this module
joins them into one ``torch.distributed`` group (``cpu:gloo,cuda:nccl`` with GPUs,
``gloo`` without). Differences from the Ray path: every source is read into memory
(Fashion-MNIST, synthetic crops, Parquet crops from ``distlm.prepare`` up to the
host's RAM; the 1M-image pools stream through Ray Data instead), and checkpoints go
to ``run.storage_path/<run name>/checkpoint_<epoch>/`` on a local or shared file
system. Re-running the same job resumes from its latest checkpoint.

Exit status: 0 trained, 1 stopped (non-finite loss), 2 bad job spec or arguments.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from typing import List, Optional

log = logging.getLogger("distlm.train")
CHECKPOINT_PREFIX = "checkpoint_"


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from distlm.cli.grammar import add_training_run, training_overrides

    ap = argparse.ArgumentParser(prog="torchrun --nproc_per_node=N -m distlm.train.torchrun",
                                 description=__doc__.split("\n\n")[0])
    add_training_run(ap)
    return training_overrides("distlm.train.torchrun", ap.parse_args(argv))


def run_dir(spec) -> str:
    return os.path.join(os.path.abspath(spec.run.storage_path), spec.run.name or spec.name)


def latest_checkpoint(folder: str) -> Optional[str]:
    """The newest ``checkpoint_<epoch>`` folder holding a complete ``state.pt``."""
    if not os.path.isdir(folder):
        return None
    done = sorted(d for d in os.listdir(folder)
                  if d.startswith(CHECKPOINT_PREFIX) and os.path.isfile(os.path.join(folder, d, "state.pt")))
    return os.path.join(folder, done[-1]) if done else None


def _keep_latest(folder: str, keep: int) -> None:
    done = sorted(d for d in os.listdir(folder) if d.startswith(CHECKPOINT_PREFIX))
    for old in done[:-max(keep, 1)]:
        shutil.rmtree(os.path.join(folder, old), ignore_errors=True)


def state_digest(objective_state: dict, step: int, epoch: int) -> dict:
    """A few numbers that identify a restored state: the step and epoch, λ2, and the
    sums of the centroids and of the self-label threshold statistics (0 when the job
    has none). Equal for a checkpoint file and the worker that loaded it."""
    def total(prefix: str) -> float:
        return float(sum(v.double().sum().item() for k, v in objective_state.items()
                         if k.startswith(prefix) and v.is_floating_point()))

    return {"step": int(step), "epoch": int(epoch), "lambda2": total("weighting.lambda2_now"),
            "centroids": total("aux.centroids.centroids") + total("aux.centers"), "thresholds": total("threshold.")}


def _device(spec, local_rank: int):
    import torch

    if not spec.scaling.use_gpu:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError(f"job {spec.name!r} asks for GPUs (scaling.use_gpu=true) but this machine has none; "
                         "set scaling.use_gpu=false to train on CPU")
    torch.cuda.set_device(local_rank)
    return torch.device("cuda", local_rank)


def train(spec, resume: Optional[str] = None) -> dict:
    """Train ``spec`` in this process as rank ``$RANK`` of ``$WORLD_SIZE``; returns the
    last epoch's metrics (rank 0 writes the checkpoints)."""
    import torch.distributed as dist

    from distlm.distributed import process_group_backend
    from distlm.telemetry.trainer import TrainerTelemetry
    from distlm.checkpoint.state import load_state
    from distlm.train.loop import Worker
    from distlm.train.parallel import wrap_model

    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    device = _device(spec, int(os.environ.get("LOCAL_RANK", 0)))
    if "WORLD_SIZE" in os.environ and not dist.is_initialized():
        # under torchrun, even with one process: the objective's collectives then run
        # through NCCL on CUDA tensors as they do with many GPUs
        dist.init_process_group(process_group_backend(device.type == "cuda"))
    w = Worker(spec, rank, world, device, kind="memory")
    w.write_progress = True
    w.announce_budget()
    w.model = wrap_model(w.model, w.device, world)
    folder = run_dir(spec)
    start = latest_checkpoint(folder) or resume or spec.run.resume
    if start:
        w.load(load_state(start))
        log.info("rank %d resumed from %s at epoch %d step %d", rank, start, w.epoch, w.step)
        if rank == 0:  # what the live worker holds now, to compare with the file (scripts/gpu-check)
            log.info("resumed state: %s", json.dumps(state_digest(w.objective.state_dict(), w.step, w.epoch)))
    # rank 0's sinks, opened before the first step; no Prometheus: torchrun serves no /metrics
    telemetry = TrainerTelemetry.for_rank(spec, rank, without=("prometheus",))
    failed = True
    try:
        metrics = _train_epochs(w, spec, rank, telemetry, folder)
        failed = False
    finally:
        telemetry.close(failed=failed)  # flushed and closed however training ends
    return metrics


def _train_epochs(w, spec, rank: int, telemetry, folder: str) -> dict:
    """The epochs of `train` through the one loop: rank 0 writes a checkpoint folder when
    one is due and logs each epoch; the last epoch's metrics."""
    from distlm.checkpoint.state import save_state
    from distlm.train.epochs import train_epochs

    metrics: dict = {}

    def end_of_epoch(m: dict, checkpoint_due: bool) -> None:
        if checkpoint_due and rank == 0:
            path = save_state(os.path.join(folder, f"{CHECKPOINT_PREFIX}{w.epoch:06d}"), w.state())
            _keep_latest(folder, spec.run.keep)
            m["checkpoint"] = os.path.dirname(path)
        if rank == 0:
            log.info("epoch %d: %s", w.epoch, json.dumps({k: v for k, v in m.items()
                                                          if isinstance(v, (int, float, str))}))
        metrics.clear()
        metrics.update(m)

    error = train_epochs(w, telemetry, lambda worker: worker.evaluate(), end_of_epoch)
    if error is not None:
        raise error
    return metrics


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from distlm.config import SpecError, load_job
    from distlm.train.loop import NonFiniteLossError

    try:
        spec = load_job(args.job, args.overrides)
        if "://" in spec.run.storage_path:
            raise ValueError(f"run.storage_path={spec.run.storage_path}: torchrun writes checkpoints to a local "
                             "or shared file system; use python -m distlm.train for S3")
        metrics = train(spec, args.resume)
    except (SpecError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except NonFiniteLossError as err:
        print(f"error: training stopped: {err}", file=sys.stderr)
        return 1
    finally:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
    if int(os.environ.get("RANK", 0)) == 0:
        print(json.dumps({"metrics": {k: v for k, v in metrics.items() if isinstance(v, (int, float, str))}},
                         indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
