"""Supervised losses ``L_S`` on the labelled part of a batch (a registry).

Each takes the decision-layer outputs of the labelled samples and their targets:
``fn(logits (B_l, K), batch) -> scalar``. Unknown targets are masked: class ``-1``
for cross-entropy, ``au_mask == False`` for AU losses (EmotioNet's 999, NaN).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from distlm.losses.base import reduce_loss
from distlm.precision import full_precision
from distlm.registry import Registry

SUPERVISED: Registry = Registry("supervised loss")


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` where ``mask`` (same shape) is true, over the *whole* batch:
    under DDP the count is summed over the process group (one scalar all-reduce) and
    scaled by its size, so gradient averaging gives the single-process mean even when
    ranks hold different numbers of known targets (``-1`` classes, unknown AUs,
    self-labels below the threshold). Nothing known anywhere gives 0."""
    return reduce_loss(values, mask.to(values.dtype), "mean", sync=True)


@SUPERVISED.register("ce")
def cross_entropy(logits: torch.Tensor, batch) -> torch.Tensor:
    """Softmax cross-entropy over samples with a class label (``y_l >= 0``)."""
    y = batch.y_l
    per = F.cross_entropy(full_precision(logits), y.clamp(min=0), reduction="none")
    return masked_mean(per, y >= 0)


@SUPERVISED.register("bce")
def binary_cross_entropy(logits: torch.Tensor, batch) -> torch.Tensor:
    """Per-AU binary cross-entropy with logits over known AU labels."""
    per = F.binary_cross_entropy_with_logits(full_precision(logits), batch.au_l.clamp(0, 1), reduction="none")
    return masked_mean(per, batch.au_mask_l)


@SUPERVISED.register("mse")
def mean_squared_error(logits: torch.Tensor, batch) -> torch.Tensor:
    """MSE between sigmoid AU scores and the annotated values, known labels only
    (the paper's ``L_S`` for AUs)."""
    per = (torch.sigmoid(full_precision(logits)) - batch.au_l) ** 2
    return masked_mean(per, batch.au_mask_l)


@SUPERVISED.register("mse_linear")
def mean_squared_error_linear(logits: torch.Tensor, batch) -> torch.Tensor:
    """MSE on raw outputs (intensity regression with a ``linear`` head)."""
    per = (full_precision(logits) - batch.au_l) ** 2
    return masked_mean(per, batch.au_mask_l)
