"""Inference on uint8 crops: normalise with the training statistics, run the network."""
from __future__ import annotations

from typing import Any

import torch

from distlm.data.loading import NormStats, normalize


@torch.no_grad()
def predict_batch(model: torch.nn.Module, images, norm: NormStats, device) -> Any:
    """``images (b, H, W, C) uint8`` → model output on ``device`` (``ModelOutput``: logits, embedding)."""
    x = torch.as_tensor(images).to(device)
    return model(normalize(x, norm.mean, norm.std))
