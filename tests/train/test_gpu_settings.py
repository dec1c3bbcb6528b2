"""The GPU path's settings, checked without a GPU: the process-group backend, the
refusal of ``use_gpu`` on a machine without GPUs, and the model wrapping."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from distlm.distributed import process_group_backend
from train_helpers import REPO, job


def test_backend_is_gloo_on_cpu_and_nccl_with_a_gloo_side_on_gpu():
    assert process_group_backend(False) == "gloo"
    assert process_group_backend(True) == "cpu:gloo,cuda:nccl"


@pytest.mark.parametrize("use_gpu,backend", [(True, "cpu:gloo,cuda:nccl"), (False, "gloo")])
def test_the_trainer_asks_ray_for_that_backend(use_gpu, backend, tmp_path):
    pytest.importorskip("ray")
    from distlm.train.driver import build_trainer

    spec = job("local-smoke.yaml", f"scaling.use_gpu={str(use_gpu).lower()}", storage=str(tmp_path))
    trainer = build_trainer(spec)
    assert trainer.backend_config.backend == backend


def test_use_gpu_on_a_local_ray_without_gpus_is_refused(monkeypatch):
    import ray

    import distlm.ray_local as rl
    from distlm.train.driver import NoGPUError, check_gpus

    monkeypatch.setattr(ray, "cluster_resources", lambda: {"CPU": 2.0})
    spec = job("local-smoke.yaml", "scaling.use_gpu=true")
    monkeypatch.setattr(rl, "_STARTED_HERE", True)
    with pytest.raises(NoGPUError, match="scaling.use_gpu=false"):
        check_gpus(spec)
    monkeypatch.setattr(rl, "_STARTED_HERE", False)  # a cluster: its autoscaler may add GPUs
    check_gpus(spec)
    check_gpus(job("local-smoke.yaml", "scaling.use_gpu=false"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
@pytest.mark.slow
def test_cli_use_gpu_without_a_gpu_is_one_line_and_exit_2(tmp_path):
    out = subprocess.run([sys.executable, "-m", "distlm.train", "jobs/local-smoke.yaml", "scaling.use_gpu=true",
                          f"run.storage_path={tmp_path}", "--address", "local"],
                         cwd=REPO, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert out.returncode == 2, out.stderr[-3000:]
    assert "Traceback" not in out.stderr
    assert "error: job 'local-smoke' asks for GPUs" in out.stderr and "scaling.use_gpu=false" in out.stderr


def test_wrap_model_is_the_identity_without_a_process_group():
    from distlm.train.parallel import wrap_model

    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    assert wrap_model(model, torch.device("cpu"), 2) is model
    assert wrap_model(model, torch.device("cpu"), 1) is model
