"""A training step reads nothing from the device: the loss terms, λ2, self-label
statistics and the finite-gradient flag stay there, and the trainer copies them to
the host once per ``telemetry.log_every`` / ``train.log_every`` window.

Every way a tensor's value reaches Python (``item``, ``tolist``, ``float()``,
``int()``, ``bool()``, ``numpy``, ``cpu``) is counted when it is called from the
package's code; on a GPU each one would stall the step until the device catches up."""
from __future__ import annotations

import os
import sys
from collections import Counter

import pytest
import torch

from distlm.telemetry.trainer import TrainerTelemetry
from distlm.train.loop import Worker
from job_smoke import tiny_job

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "distlm")
READS = ("item", "tolist", "__float__", "__int__", "__bool__", "numpy", "cpu")
# reads made only when the tensors are on the CPU (on CUDA: a device-side assert instead)
CPU_ONLY = ("check_label_range",)
RECIPE = "fmnist/ssl/lm_flexmatch_mu2_teacher.yaml"  # auto λ2, FlexMatch, EMA teacher, μ = 2


@pytest.fixture
def counted(monkeypatch):
    reads = Counter()
    for name in READS:
        original = getattr(torch.Tensor, name)

        def wrapped(self, *args, __original=original, __name=name, **kwargs):
            caller = sys._getframe(1)
            if caller.f_code.co_filename.startswith(PACKAGE) and caller.f_code.co_name not in CPU_ONLY:
                reads[f"{os.path.relpath(caller.f_code.co_filename, PACKAGE)}:{caller.f_lineno} {__name}"] += 1
            return __original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, wrapped)
    return reads


@pytest.mark.parametrize("job,steps,every", [(RECIPE, 6, 3), (RECIPE, 6, 2), ("rafdb.yaml", 4, 2),
                                            ("emotionet.yaml", 4, 2)])
def test_one_host_read_per_window(counted, job, steps, every):
    spec = tiny_job(job, 1, f"train.steps_per_epoch={steps}", f"telemetry.log_every={every}",
                    f"train.log_every={every}", "loss.weighting.mode=auto", "loss.weighting.freeze_after=null",
                    "selflabel.threshold_policy=flexmatch", "selflabel.threshold=0.5")
    w = Worker(spec)
    batches = list(w.loader.epoch(0))
    assert len(batches) == steps
    telemetry = TrainerTelemetry(True, spec.data.class_names)
    counted.clear()
    for b in batches:
        w.take_step(b)
        if w.metrics.due(w.step):
            w.read_metrics(telemetry, 1.0)
    windows = steps // every
    assert sum(counted.values()) == windows, dict(counted)
    assert len(w.history["loss"]) == steps and all(v == v for v in w.history["loss"])
