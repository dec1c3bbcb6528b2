"""What every loader needs to know about the calling worker and the batch layout."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from distlm.data.loading.sizes import BatchSizes, split_batch_size

SIDES = ("labelled", "unlabelled")


@dataclass(frozen=True)
class LoaderSpec:
    """Batch layout and identity of the calling worker, shared by every source.

    ``batch_size`` is global (labelled + unlabelled, all workers together);
    ``epoch_on`` names the side whose one pass defines an epoch; the other side
    cycles with its own seeded reshuffles. ``steps_per_epoch`` is the exact number of
    steps of an epoch (the defining side cycles within the epoch when it holds fewer);
    ``None``: one pass of the defining side.
    """

    batch_size: int
    unlabelled_ratio: float = 0.0
    rank: int = 0
    world_size: int = 1
    seed: int = 0
    epoch_on: str = "labelled"
    steps_per_epoch: Optional[int] = None

    def __post_init__(self) -> None:
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank must be in [0, world_size={self.world_size}), got {self.rank}")
        if self.epoch_on not in SIDES:
            raise ValueError(f"epoch_on must be one of {SIDES}, got {self.epoch_on!r}")
        if self.steps_per_epoch is not None and self.steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be >= 1 or None, got {self.steps_per_epoch}")
        sizes = self.sizes  # validates divisibility early
        if self.epoch_on == "unlabelled" and sizes.global_u == 0:
            raise ValueError("epoch_on='unlabelled' needs unlabelled_ratio > 0 (B_u is 0)")

    @property
    def sizes(self) -> BatchSizes:
        return split_batch_size(self.batch_size, self.unlabelled_ratio, self.world_size)

    @property
    def uses_unlabelled(self) -> bool:
        return self.sizes.global_u > 0
