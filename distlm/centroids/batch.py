"""``batch``: centroids of the current (global) batch only."""
from __future__ import annotations

import torch

from distlm.centroids.base import CentroidStrategy
from distlm.centroids.registry import CENTROIDS


@CENTROIDS.register("batch")
class BatchCentroids(CentroidStrategy):
    """Recomputed every step from the global batch; absent classes have none."""

    def _step(self, sums: torch.Tensor, counts: torch.Tensor) -> None:
        means, has = self.batch_means(sums, counts)
        self.centroids.copy_(torch.where(has[:, None], means, torch.zeros_like(means)))
        self.present.copy_(has)
