"""``ema``: running estimate ``c ← m·c + (1−m)·c_batch`` for classes in the batch."""
from __future__ import annotations

from typing import Optional

import torch

from distlm.centroids.base import CentroidStrategy
from distlm.centroids.registry import CENTROIDS


@CENTROIDS.register("ema")
class EMACentroids(CentroidStrategy):
    """Exponential moving average of the global batch centroids.

    A class is initialised with its batch centroid the first time it is seen, then
    ``c_j ← m·c_j + (1−m)·c_j^batch`` at each step where it is present. Classes
    absent from a batch keep their centroid (and stay ``present``).
    """

    def __init__(self, num_classes: int, dim: Optional[int] = None, momentum: float = 0.9,
                 group: Optional[object] = None):
        super().__init__(num_classes, dim, group)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"ema momentum must be in [0, 1), got {momentum}")
        self.momentum = momentum

    def _step(self, sums: torch.Tensor, counts: torch.Tensor) -> None:
        means, has = self.batch_means(sums, counts)
        m = self.momentum
        blended = torch.where(self.present[:, None], m * self.centroids + (1 - m) * means, means)
        self.centroids.copy_(torch.where(has[:, None], blended, self.centroids))
        self.present |= has
