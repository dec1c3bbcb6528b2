"""ONNX / TorchScript export: same outputs as PyTorch (1e-4), constants in the metadata."""
import json

import numpy as np
import pytest
import torch

from distlm.export.__main__ import main
from distlm.predict import load_bundle

ort = pytest.importorskip("onnxruntime")


def test_onnx_and_torchscript_match_pytorch(fmnist_worker, tmp_path):
    _, ckpt = fmnist_worker
    onnx_path, pt_path = str(tmp_path / "m.onnx"), str(tmp_path / "m.pt")
    assert main([ckpt, onnx_path, "--torchscript", pt_path]) == 0
    bundle = load_bundle(ckpt)
    x = torch.randn(5, 1, 28, 28)
    with torch.no_grad():
        out = bundle.model(x)
        ref = (bundle.model.scores(out.logits), out.logits, out.embedding)
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"images": x.numpy()})
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r.numpy(), atol=1e-4)
    meta = sess.get_modelmeta().custom_metadata_map
    assert json.loads(meta["distlm.mean"]) == pytest.approx(list(bundle.norm.mean))
    assert json.loads(meta["distlm.std"]) == pytest.approx(list(bundle.norm.std))
    assert json.loads(meta["distlm.names"]) == bundle.names and meta["distlm.image_size"] == "28"
    assert meta["distlm.channels"] == "1"
    extra = {"distlm.json": ""}
    scripted = torch.jit.load(pt_path, _extra_files=extra)
    with torch.no_grad():
        for g, r in zip(scripted(x), ref):
            np.testing.assert_allclose(g.numpy(), r.numpy(), atol=1e-4)
    assert json.loads(json.loads(extra["distlm.json"])["distlm.names"]) == bundle.names
