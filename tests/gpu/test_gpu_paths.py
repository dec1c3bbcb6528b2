"""Device-sensitive paths, each on the CPU and (``pytest -m gpu`` on a GPU machine) on
CUDA: the bf16 step keeps the losses and the centroids in float32, SyncBatchNorm where
several CUDA workers share a batch and plain BatchNorm on CPU, and the Predictor on the
device gives the CPU's scores."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.distributed as dist

from distlm.train.loop import Worker
from distlm.train.parallel import wrap_model
from job_smoke import tiny_job

pytestmark = pytest.mark.gpu


def test_step_precision_and_defaults(device):
    w = Worker(tiny_job("rafdb.yaml", 1), device=device)
    assert w.amp == (device.type == "cuda") and w.channels_last == (device.type == "cuda")
    batch = next(iter(w.loader.epoch(0)))
    out = w.train_step(batch)
    assert all(t.dtype == torch.float32 and t.device.type == device.type for k, t in out["terms"].items()
               if k.startswith("loss")), {k: (t.dtype, t.device) for k, t in out["terms"].items()}
    assert bool(out["finite"])
    cents = w.objective.centroid_state()
    assert cents.dtype == torch.float32 and cents.device.type == device.type


def test_batch_norm_is_synced_only_across_cuda_workers(device, tmp_path):
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)).to(device)
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'pg'}", rank=0, world_size=1)
    try:
        wrapped = wrap_model(model, device, world=2)
        kinds = {type(m) for m in wrapped.modules()}
        if device.type == "cuda":
            assert torch.nn.SyncBatchNorm in kinds
        else:
            assert torch.nn.SyncBatchNorm not in kinds and torch.nn.BatchNorm2d in kinds
        wrapped(torch.randn(2, 3, 8, 8, device=device)).sum().backward()
    finally:
        dist.destroy_process_group()


def test_predictor_on_the_device_matches_the_cpu(device, tmp_path):
    import distlm
    from distlm.checkpoint.state import save_state

    w = Worker(tiny_job("fmnist/ce.yaml", 1))  # synthetic 28 x 28 x 1 crops, no detector
    w.take_step(next(iter(w.loader.epoch(0))))
    path = save_state(str(tmp_path), w.state())
    images = [np.full((28, 28, 1), 40 * i, np.uint8) for i in range(4)]
    ref = distlm.Predictor(path, device="cpu").predict(images)
    got = distlm.Predictor(path, device=str(device)).predict(images)
    names = distlm.Predictor(path, device="cpu").bundle.names
    np.testing.assert_allclose([[r[n] for n in names] for r in got], [[r[n] for n in names] for r in ref],
                               atol=1e-4)


def test_onnx_export_of_a_model_trained_on_the_device(device, tmp_path):
    """A checkpoint written by a worker on ``device`` exports (on the CPU) to an ONNX
    graph that gives the PyTorch scores."""
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from distlm.export.onnx import export_onnx
    from distlm.predict import load_bundle
    from distlm.checkpoint.state import save_state

    w = Worker(tiny_job("fmnist/ce.yaml", 1), device=device)
    w.take_step(next(iter(w.loader.epoch(0))))
    ckpt = save_state(str(tmp_path / "ckpt"), w.state())
    path = export_onnx(ckpt, str(tmp_path / "m.onnx"))
    bundle = load_bundle(ckpt)
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        ref = bundle.model.scores(bundle.model(x).logits)
    got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"images": x.numpy()})[0]
    np.testing.assert_allclose(got, ref.numpy(), atol=1e-4)


def test_compile_keeps_the_state_dict_keys():
    plain = Worker(tiny_job("fmnist/ce.yaml", 1))
    compiled = Worker(tiny_job("fmnist/ce.yaml", 1, "model.compile=true"))
    assert list(compiled.state()["model"]) == list(plain.state()["model"])
