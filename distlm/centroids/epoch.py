"""``epoch``: centroids from per-class sums and counts of the previous pass."""
from __future__ import annotations

from typing import Optional

import torch

from distlm.centroids.base import CentroidStrategy
from distlm.centroids.registry import CENTROIDS


@CENTROIDS.register("epoch")
class EpochCentroids(CentroidStrategy):
    """Accumulates global sums/counts over a pass; :meth:`end_epoch` freezes them.

    During the first pass (nothing frozen yet) the centroids are those of the pass
    so far (cumulative), so the loss is usable from step one. From then on the
    centroids in use are the previous pass's, and stay fixed within a pass.
    """

    def __init__(self, num_classes: int, dim: Optional[int] = None, group: Optional[object] = None):
        super().__init__(num_classes, dim, group)
        self.register_buffer("acc_sums", torch.zeros(num_classes, dim or 0))
        self.register_buffer("acc_counts", torch.zeros(num_classes))
        self.register_buffer("frozen", torch.zeros((), dtype=torch.bool))

    def _resize(self, dim: int, like: torch.Tensor) -> None:
        super()._resize(dim, like)
        self.acc_counts = self.acc_counts.to(like)

    def _step(self, sums: torch.Tensor, counts: torch.Tensor) -> None:
        self.acc_sums += sums
        self.acc_counts += counts
        if not bool(self.frozen):
            means, has = self.batch_means(self.acc_sums, self.acc_counts)
            self.centroids.copy_(torch.where(has[:, None], means, self.centroids))
            self.present.copy_(has)

    @torch.no_grad()
    def end_epoch(self) -> None:
        if self.centroids.shape[1] == 0:
            return
        means, has = self.batch_means(self.acc_sums, self.acc_counts)
        self.centroids.copy_(torch.where(has[:, None], means, torch.zeros_like(means)))
        self.present.copy_(has)
        self.frozen.fill_(True)
        self.acc_sums.zero_()
        self.acc_counts.zero_()
