"""`ExpressionMetrics`: running confusion matrix -> Acc. and Avg. Acc."""
from __future__ import annotations

from typing import Dict, Optional

import torch
from torch import Tensor

from distlm.metrics.confusion import accuracy, average_accuracy, confusion_matrix
from distlm.metrics.state import CountMetric


class ExpressionMetrics(CountMetric):
    """Accumulates a ``(C, C)`` confusion matrix over batches (and processes).

    Example::

        >>> m = ExpressionMetrics(num_classes=7)
        >>> m.update(logits, labels)  # (N, 7) scores or (N,) classes; (N,) labels
        >>> m.sync()                  # under torch.distributed: all ranks see the total
        >>> m.compute()               # {'acc': ..., 'avg_acc': ..., 'num_samples': ...}
    """

    def __init__(
        self,
        num_classes: int,
        ignore_index: Optional[int] = None,
        device: Optional[torch.device | str] = None,
    ) -> None:
        super().__init__(device)
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.add_state("confmat", torch.zeros(num_classes, num_classes, dtype=torch.long), reduce="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        """``preds``: ``(N,)`` classes or ``(N, C)`` scores (argmax); ``target``: ``(N,)``."""
        if preds.dim() == 2:
            preds = preds.argmax(dim=1)
        cm = confusion_matrix(preds.detach(), target.detach(), self.num_classes, self.ignore_index)
        self._accumulate("confmat", cm)

    @property
    def confmat(self) -> Tensor:
        """``(C, C)`` long counts, rows = true class."""
        return self.state("confmat")

    def compute(self) -> Dict[str, float]:
        """``acc`` and ``avg_acc`` as fractions in [0, 1] (nan with no samples)."""
        cm = self.confmat
        return {"acc": accuracy(cm), "avg_acc": average_accuracy(cm), "num_samples": int(cm.sum())}
