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


