"""Geometry of the normalised embeddings per class: how tight, how far apart.

One pass, sums only: per class ``c`` the sum ``S_c (C, D)`` of the L2-normalised
embeddings and the count ``n_c``. With ``μ̂_c = S_c / ||S_c||`` the class's mean
direction, the mean cosine of a sample to its own class direction is exactly
``Σ_c ||S_c|| / N`` (``compactness``, 1 when every class collapses to a point),
and ``nearest_cos`` is the mean over classes of the largest cosine between ``μ̂_c``
and another class's direction (lower = classes further apart). ``margin`` =
compactness − nearest_cos: the large-margin loss pushes it up.
"""
from __future__ import annotations

from typing import Dict, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from distlm.metrics.ignore import drop_ignored
from distlm.metrics.state import CountMetric


def class_direction_stats(sums: Tensor, counts: Tensor) -> Dict[str, float]:
    """``sums (C, D)`` of unit embeddings, ``counts (C,)`` → compactness, nearest_cos,
    margin over the classes that have samples (nan with fewer than two)."""
    present = counts > 0
    n = counts.sum()
    if int(present.sum()) < 2:
        return {"compactness": float("nan"), "nearest_cos": float("nan"), "margin": float("nan")}
    s = sums[present].double()
    compact = float(s.norm(dim=1).sum() / n)
    mu = F.normalize(s, dim=1)
    cos = mu @ mu.T
    cos.fill_diagonal_(-float("inf"))
    nearest = float(cos.max(dim=1).values.mean())
    return {"compactness": compact, "nearest_cos": nearest, "margin": compact - nearest}


class EmbeddingGeometry(CountMetric):
    """Running per-class sums of normalised embeddings (summable across processes).

    Example::

        >>> m = EmbeddingGeometry(num_classes=10, dim=128, ignore_index=-1)
        >>> m.update(embeddings, labels)  # (N, D), (N,)
        >>> m.sync(); m.compute()         # {'compactness', 'nearest_cos', 'margin'}
    """

    def __init__(self, num_classes: int, dim: int, ignore_index: Optional[int] = None,
                 device: Optional[torch.device | str] = None) -> None:
        super().__init__(device)
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.add_state("sums", torch.zeros(num_classes, dim, dtype=torch.float64))
        self.add_state("counts", torch.zeros(num_classes, dtype=torch.float64))

    def update(self, embeddings: Tensor, target: Tensor) -> None:
        """``embeddings (N, D)`` (normalised here), ``target (N,)`` class indices."""
        if embeddings.dim() != 2 or target.shape != embeddings.shape[:1]:
            raise ValueError(f"EmbeddingGeometry: embeddings must be (N, D) and target (N,), "
                             f"got {tuple(embeddings.shape)} and {tuple(target.shape)}")
        y, e = drop_ignored(target.detach(), self.ignore_index, embeddings.detach())
        e = F.normalize(e.double(), dim=1)
        y = y.long()
        sums = torch.zeros(self.num_classes, e.shape[1], dtype=torch.float64, device=e.device).index_add_(0, y, e)
        counts = torch.zeros(self.num_classes, dtype=torch.float64, device=e.device).index_add_(
            0, y, torch.ones_like(y, dtype=torch.float64))
        self._accumulate("sums", sums)
        self._accumulate("counts", counts)

    def compute(self) -> Dict[str, float]:
        return class_direction_stats(self.state("sums"), self.state("counts"))
