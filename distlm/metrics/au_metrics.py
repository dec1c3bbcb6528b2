"""`AUMetrics`: running tp/fp/fn per AU -> F1 per AU, Avg. small, Avg. full."""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

import torch
from torch import Tensor

from distlm.metrics.au import SMALL_AUS, au_counts, avg_full, avg_small, f1_per_au
from distlm.metrics.state import CountMetric


class AUMetrics(CountMetric):
    """Accumulates ``(M, 3)`` tp/fp/fn counts over batches (and processes).

    ``au_ids`` names the M columns (for Avg. small and the report); a score counts as
    a detection when ``score >= threshold`` (bool predictions are used as they are).

    Example::

        >>> m = AUMetrics([1, 2, 4, 5, 6, 9, 12, 17, 20, 25, 26, 43])
        >>> m.update(torch.sigmoid(logits), labels, mask)  # (N, 12) each
        >>> m.sync(); m.compute()["avg_full"]
    """

    def __init__(
        self,
        au_ids: Sequence[int],
        threshold: float = 0.5,
        zero_division: float = 0.0,
        small: Sequence[int] = SMALL_AUS,
        device: Optional[torch.device | str] = None,
    ) -> None:
        super().__init__(device)
        ids = list(au_ids)
        if not ids or len(set(ids)) != len(ids):
            raise ValueError(f"AUMetrics: au_ids must be non-empty and unique, got {ids}")
        self.au_ids = ids
        self.threshold = threshold
        self.zero_division = zero_division
        self.small = tuple(small)
        self.add_state("counts", torch.zeros(len(ids), 3, dtype=torch.long), reduce="sum")

    def update(self, scores: Tensor, target: Tensor, mask: Optional[Tensor] = None) -> None:
        """``scores`` ``(N, M)`` (bool, or compared to ``threshold``); ``target`` ``(N, M)``
        0/1; ``mask`` ``(N, M)`` bool, True where the label is known."""
        if scores.dim() != 2 or scores.shape[1] != len(self.au_ids):
            raise ValueError(
                f"AUMetrics: expected scores of shape (N, {len(self.au_ids)}), got {tuple(scores.shape)}"
            )
        scores = scores.detach()
        pred = scores if scores.dtype == torch.bool else scores >= self.threshold
        self._accumulate("counts", au_counts(pred, target.detach(), mask))

    @property
    def counts(self) -> Tensor:
        """``(M, 3)`` long tp/fp/fn."""
        return self.state("counts")

    def f1(self) -> Tensor:
        """``(M,)`` float64 F1 per AU, in ``au_ids`` order."""
        return f1_per_au(self.counts, self.zero_division)

    def compute(self) -> Dict[str, Any]:
        """``{"f1": {au_id: F1}, "avg_small": ..., "avg_full": ...}``, fractions in [0, 1]."""
        f1 = self.f1()
        return {
            "f1": {i: float(v) for i, v in zip(self.au_ids, f1)},
            "avg_small": avg_small(f1, self.au_ids, self.small),
            "avg_full": avg_full(f1),
        }
