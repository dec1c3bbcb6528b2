"""ONNX and TorchScript export of a distlm checkpoint (see package docstring)."""
from __future__ import annotations

import json
from typing import Tuple

import torch
from torch import nn

from distlm.data.fs import atomic_local
from distlm.errors import UserError
from distlm.checkpoint.bundle import Bundle, load_bundle

OUTPUTS = ("scores", "logits", "embedding")


class ScoresModule(nn.Module):
    """``images (B, C, S, S)`` normalised → ``(scores, logits, embedding)``."""

    def __init__(self, bundle: Bundle) -> None:
        super().__init__()
        self.net = bundle.model.eval()

    def forward(self, images: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out = self.net(images)
        return self.net.scores(out.logits), out.logits, out.embedding


def _example(bundle: Bundle, batch: int = 2) -> torch.Tensor:
    return torch.randn(batch, bundle.channels, bundle.image_size, bundle.image_size)


def export_onnx(checkpoint: str, path: str, opset: int = 17) -> str:
    """Write ``path`` (ONNX, dynamic batch) with the preprocessing constants as metadata.

    Example::

        export_onnx("runs/fmnist/checkpoint_000000", "model.onnx")
        sess = onnxruntime.InferenceSession("model.onnx")
        meta = sess.get_modelmeta().custom_metadata_map   # distlm.mean, distlm.names, ...
    """
    try:
        import onnx
    except ImportError:
        raise UserError("ONNX export needs the onnx package: pip install 'distlm[predict]' "
                        "(or write TorchScript: --output model.pt)") from None

    bundle = load_bundle(checkpoint)
    module = ScoresModule(bundle)
    with atomic_local(path) as tmp:
        torch.onnx.export(module, (_example(bundle),), tmp, input_names=["images"], output_names=list(OUTPUTS),
                          dynamic_axes={n: {0: "batch"} for n in ("images", *OUTPUTS)}, opset_version=opset,
                          dynamo=False)
        model = onnx.load(tmp)
        for key, value in bundle.metadata().items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.checker.check_model(model)
        onnx.save(model, tmp)
    return path


def export_torchscript(checkpoint: str, path: str) -> str:
    """Write a traced TorchScript module; metadata in ``_extra_files['distlm.json']``."""
    bundle = load_bundle(checkpoint)
    with torch.no_grad():
        traced = torch.jit.trace(ScoresModule(bundle), (_example(bundle),))
    with atomic_local(path) as tmp:
        torch.jit.save(traced, tmp, _extra_files={"distlm.json": json.dumps(bundle.metadata())})
    return path
