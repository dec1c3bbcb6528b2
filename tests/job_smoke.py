"""Every job spec in ``jobs/`` made tiny: the same objective, self-labelling,
weighting and optimiser settings on synthetic data (``format: synthetic``, the job's
channels) and a small CNN, so that a test can take a few steps of each on CPU (imported by name)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import List

from distlm.config import load_job

REPO = Path(__file__).resolve().parents[1]
JOBS = sorted(str(p.relative_to(REPO / "jobs")) for p in (REPO / "jobs").rglob("*.yaml"))


def tiny_overrides(name: str, workers: int = 2) -> List[str]:
    """Overrides that keep ``jobs/<name>``'s method and shrink its data and network."""
    spec = load_job(os.path.join(REPO, "jobs", name), [])
    classes, aus, channels = len(spec.data.class_names), len(spec.data.au_ids), spec.data.channels
    opts = f"{{rows: 48, test_rows: 8, size: 28, channels: {channels}, classes: {classes}, aus: {aus}}}"
    unl = (f"{{rows: 96, test_rows: 0, size: 28, channels: {channels}, classes: {classes}, "
           "domain: unlabelled, split: train}")
    from distlm.train.objective import uses_unlabelled

    unlabelled = f"{{format: synthetic, path: unlabelled, options: {unl}}}" if uses_unlabelled(spec) else "null"
    return [
        f"data.labelled={{format: synthetic, path: labelled, options: {opts}}}",
        f"data.unlabelled={unlabelled}",
        f"data.test={{format: synthetic, path: test, options: {opts}}}",
        "data.labels_per_class=null", "data.image_size=28",
        "model.name=small_cnn", "model.options={width: 8}", "model.embedding_dim=16", "model.pretrained=null",
        "train.batch_size=24", "train.steps_per_epoch=2", "train.epochs=1", "train.log_every=100",
        f"scaling.num_workers={workers}", "scaling.use_gpu=false", "telemetry.metrics_port=0",
        "loss.weighting.warmup_steps=0",
    ]


def tiny_job(name: str, workers: int = 2, *extra: str):
    return load_job(os.path.join(REPO, "jobs", name), tiny_overrides(name, workers) + list(extra))
