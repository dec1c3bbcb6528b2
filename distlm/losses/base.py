"""The shared base of every embedding loss: shape checks and the reduction.

Each loss only writes ``per_sample(x, labels, weights) -> (loss (B,), weight (B,))``;
the base turns that into a scalar. ``reduction="mean"`` divides by the *global*
weight total when a process group is initialised (one scalar all-reduce), scaled
by the world size, so that DDP's gradient averaging reproduces exactly the
single-process mean over the whole batch, even when ranks hold different numbers
of valid samples (self-labels below a threshold, classes without a centroid).
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import nn

from distlm.centroids.stats import check_label_range
from distlm.distributed import all_reduce_sum, world_size

REDUCTIONS = ("mean", "sum", "none")


def check_inputs(x: torch.Tensor, labels: torch.Tensor, num_classes: int) -> None:
    """Raise a clear ``ValueError`` for inputs no loss can use."""
    if x.dim() != 2:
        raise ValueError(f"embeddings must be (B, D), got shape {tuple(x.shape)}")
    if labels.dim() != 1 or labels.shape[0] != x.shape[0]:
        raise ValueError(f"labels must be (B,) with B={x.shape[0]}, got shape {tuple(labels.shape)}")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(f"labels must be integer class ids, got {labels.dtype}")
    check_label_range(labels, num_classes)


def reduce_loss(
    per_sample: torch.Tensor,
    weight: torch.Tensor,
    reduction: str,
    sync: bool = False,
    group: Optional[object] = None,
) -> torch.Tensor:
    """Reduce ``(B,)`` per-sample losses with ``(B,)`` weights (0 = excluded).

    ``mean`` is ``Σ w·l / Σ w`` (``Σ w`` summed over the process group and divided
    by its size when ``sync``); an all-excluded batch gives 0 with a gradient path.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    weighted = per_sample * weight
    if reduction == "none":
        return weighted
    total = weighted.sum()
    if reduction == "sum":
        return total
    denom = weight.detach().sum()
    if sync:
        (denom,) = all_reduce_sum((denom,), group)
        denom = denom / world_size(group)
    # Σw = 0 implies Σw·l = 0, so the clamp gives 0 (with a gradient path), no branch.
    return total / denom.clamp(min=torch.finfo(total.dtype).tiny)


class EmbeddingLoss(nn.Module):
    """Base for losses called as ``loss(embeddings (B, D), labels (B,))``.

    Labels ``< 0`` mean "no class" (unlabelled below the self-label threshold):
    such samples contribute nothing. Optional ``weights (B,)`` scale each sample.
    """

    def __init__(self, num_classes: int, reduction: str = "mean", sync: bool = True,
                 group: Optional[object] = None):
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.num_classes = num_classes
        self.reduction = reduction
        self.sync = sync
        self.group = group

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor,
                weights: Optional[torch.Tensor] = None) -> torch.Tensor:
        check_inputs(embeddings, labels, self.num_classes)
        labels = labels.to(embeddings.device)
        if weights is not None and weights.shape != labels.shape:
            raise ValueError(f"weights must be (B,)={tuple(labels.shape)}, got {tuple(weights.shape)}")
        per_sample, weight = self.per_sample(embeddings, labels, weights)
        return reduce_loss(per_sample, weight, self.reduction, self.sync, self.group)

    def per_sample(self, x: torch.Tensor, labels: torch.Tensor,
                   weights: Optional[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError
