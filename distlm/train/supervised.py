"""Supervised losses ``L_S`` on the labelled part of a batch (a registry).

Each takes the decision-layer outputs of the labelled samples and their targets:
``fn(logits (B_l, K), batch) -> scalar``. Unknown targets are masked: class ``-1``
for cross-entropy, ``au_mask == False`` for AU losses (EmotioNet's 999, NaN).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from distlm.registry import Registry

SUPERVISED: Registry = Registry("supervised loss")


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.to(values.dtype)
    return (values * m).sum() / m.sum().clamp(min=1.0)


@SUPERVISED.register("ce")
def cross_entropy(logits: torch.Tensor, batch) -> torch.Tensor:
    """Softmax cross-entropy over samples with a class label (``y_l >= 0``)."""
    y = batch.y_l
    per = F.cross_entropy(logits.float(), y.clamp(min=0), reduction="none")
    return _masked_mean(per, y >= 0)


@SUPERVISED.register("bce")
def binary_cross_entropy(logits: torch.Tensor, batch) -> torch.Tensor:
    """Per-AU binary cross-entropy with logits over known AU labels."""
    per = F.binary_cross_entropy_with_logits(logits.float(), batch.au_l.clamp(0, 1), reduction="none")
    return _masked_mean(per, batch.au_mask_l)


@SUPERVISED.register("mse")
def mean_squared_error(logits: torch.Tensor, batch) -> torch.Tensor:
    """MSE between sigmoid AU scores and the annotated values, known labels only
    (the paper's ``L_S`` for AUs)."""
    per = (torch.sigmoid(logits.float()) - batch.au_l) ** 2
    return _masked_mean(per, batch.au_mask_l)


@SUPERVISED.register("mse_linear")
def mean_squared_error_linear(logits: torch.Tensor, batch) -> torch.Tensor:
    """MSE on raw outputs (intensity regression with a ``linear`` head)."""
    per = (logits.float() - batch.au_l) ** 2
    return _masked_mean(per, batch.au_mask_l)
