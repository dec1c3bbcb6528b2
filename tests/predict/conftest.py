"""Checkpoints and images for the predictor tests: a Fashion-MNIST model trained for
a few steps (detector ``none``), and an untrained RGB ``small_cnn`` saved with
detector ``mtcnn``; the astronaut photo (one face at about x=182, y=64, 83x107)."""
import os

import numpy as np
import pytest
import torch
from PIL import Image

from distlm.config import load_job, spec_to_dict
from distlm.models import create_model
from distlm.checkpoint.state import save_state

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ["data.labels_per_class=10", "train.batch_size=32", "train.steps_per_epoch=3", "train.epochs=1",
        "train.log_every=100", "scaling.num_workers=1", "telemetry.metrics_port=0",
        "model.options={width: 8, norm: group}", "model.embedding_dim=16"]


def job(*overrides):
    return load_job(os.path.join(REPO, "jobs", "local-smoke.yaml"), TINY + list(overrides))


@pytest.fixture(scope="session")
def fmnist_worker(tmp_path_factory):
    """``(worker, checkpoint path)``: trained 3 steps, saved with ``save_state``."""
    from distlm.telemetry.trainer import TrainerTelemetry
    from distlm.train.loop import Worker

    w = Worker(job())
    w.run_epoch(TrainerTelemetry(False))
    return w, save_state(str(tmp_path_factory.mktemp("fmnist")), w.state())


@pytest.fixture(scope="session")
def rgb_checkpoint(tmp_path_factory):
    """An RGB 64 px expression model (random weights) that detects faces with MTCNN."""
    spec = job("data.channels=3", "data.image_size=64")
    torch.manual_seed(0)
    model = create_model(spec)
    state = {"model": model.state_dict(), "spec": spec_to_dict(spec),
             "norm": {"mean": [120.0, 110.0, 100.0], "std": [60.0, 58.0, 57.0]},
             "preprocess": {"detector": "mtcnn", "size": 64, "margin": 0.1, "align": False, "max_side": 512}}
    return save_state(str(tmp_path_factory.mktemp("rgb")), state)


@pytest.fixture(scope="session")
def astronaut_file(tmp_path_factory):
    from skimage import data

    path = str(tmp_path_factory.mktemp("img") / "astronaut.png")
    Image.fromarray(data.astronaut()).save(path)
    return path
