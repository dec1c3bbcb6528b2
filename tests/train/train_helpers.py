"""Shared job specs for trainer tests (imported by name: conftest modules of
several test folders would shadow each other): tiny Fashion-MNIST runs derived from the
real job files, so the tests exercise what users run."""
import os

from distlm.config import load_job

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FMNIST = "/usr/share/datasets/fashion-mnist"

TINY = ["data.labels_per_class=10", "train.batch_size=32", "train.steps_per_epoch=4",
        "train.epochs=2", "train.log_every=100", "scaling.num_workers=1", "telemetry.metrics_port=0",
        "model.options={width: 8, norm: group}", "model.embedding_dim=16", "optim.lr=0.003",
        "run.checkpoint_every=1", "loss.weighting.mode=fixed", "loss.weighting.lambda2=0.5"]


def job(name: str, *overrides: str, storage: str = None):
    """``jobs/<name>`` with the tiny overrides (and a storage path) applied."""
    extra = [f"run.storage_path={storage}"] if storage else []
    return load_job(os.path.join(REPO, "jobs", name), TINY + extra + list(overrides))




def float32_tolerance(steps: int) -> float:
    """``rtol = atol`` for comparing two float32 training runs that differ only in how
    their sums are split (2 workers with half a batch each vs. 1 worker with all of it).

    The real trainer runs in float32, so its runs cannot be compared in float64. Each
    step adds the rounding of its reductions (a few ulps, ``torch.finfo(float32).eps``
    each) amplified by the step's learning rate and the network's depth; 64 ulps a step
    bounds that on every CPU's kernels and leaves a real error (a missing or doubled
    term, a per-rank mean) orders of magnitude outside.
    """
    import torch

    return 64 * max(int(steps), 1) * torch.finfo(torch.float32).eps
