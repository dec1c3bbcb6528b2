"""Calibration of class probabilities: expected calibration error and NLL.

Counts only (per-bin sample count, summed confidence, summed correctness; summed
negative log-likelihood), so the state sums across workers like the confusion
matrix. ECE as in Guo et al. 2017: ``Σ_b (n_b / N) |acc_b − conf_b|`` over
``n_bins`` equal-width confidence bins.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from distlm.metrics.ignore import drop_ignored
from distlm.metrics.state import CountMetric


def calibration_counts(logits: Tensor, target: Tensor, n_bins: int = 15,
                       ignore_index: Optional[int] = None) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """``logits (N, C)``, ``target (N,)`` → per-bin ``count (B,)``, ``conf_sum (B,)``,
    ``correct_sum (B,)`` (float64) and the summed NLL ``()`` over the kept samples."""
    if logits.dim() != 2 or target.shape != logits.shape[:1]:
        raise ValueError(f"calibration_counts: logits must be (N, C) and target (N,), "
                         f"got {tuple(logits.shape)} and {tuple(target.shape)}")
    y, logits = drop_ignored(target, ignore_index, logits)
    logp = F.log_softmax(logits.double(), dim=1)
    y = y.long()
    conf, pred = logp.exp().max(dim=1)
    # a bin per [k/B, (k+1)/B); confidence 1.0 goes to the last bin
    b = (conf * n_bins).long().clamp_(max=n_bins - 1)
    count = torch.zeros(n_bins, dtype=torch.float64, device=logits.device).index_add_(0, b, torch.ones_like(conf))
    conf_sum = torch.zeros_like(count).index_add_(0, b, conf)
    correct_sum = torch.zeros_like(count).index_add_(0, b, (pred == y).double())
    nll = -logp.gather(1, y[:, None]).sum()
    return count, conf_sum, correct_sum, nll


def expected_calibration_error(count: Tensor, conf_sum: Tensor, correct_sum: Tensor) -> float:
    """``Σ_b (n_b/N) |acc_b − conf_b|`` = ``Σ_b |correct_b − conf_b| / N`` (nan with no samples)."""
    n = count.sum()
    return float((correct_sum - conf_sum).abs().sum() / n) if n > 0 else float("nan")


class CalibrationMetrics(CountMetric):
    """Running ECE and mean NLL of softmax probabilities (summable across processes).

    Example::

        >>> m = CalibrationMetrics(n_bins=15, ignore_index=-1)
        >>> m.update(logits, labels)  # (N, C), (N,)
        >>> m.sync(); m.compute()     # {'ece': ..., 'nll': ...}
    """

    def __init__(self, n_bins: int = 15, ignore_index: Optional[int] = None,
                 device: Optional[torch.device | str] = None) -> None:
        super().__init__(device)
        if n_bins < 1:
            raise ValueError(f"CalibrationMetrics: n_bins must be ≥ 1, got {n_bins}")
        self.n_bins, self.ignore_index = n_bins, ignore_index
        for name in ("count", "conf_sum", "correct_sum"):
            self.add_state(name, torch.zeros(n_bins, dtype=torch.float64))
        self.add_state("nll_sum", torch.zeros((), dtype=torch.float64))

    def update(self, logits: Tensor, target: Tensor) -> None:
        """``logits (N, C)`` (pre-softmax scores), ``target (N,)`` class indices."""
        parts = calibration_counts(logits.detach(), target.detach(), self.n_bins, self.ignore_index)
        for name, value in zip(("count", "conf_sum", "correct_sum", "nll_sum"), parts):
            self._accumulate(name, value)

    def compute(self) -> Dict[str, float]:
        """``ece`` in [0, 1] and ``nll`` (mean over samples, nats); nan with no samples."""
        count = self.state("count")
        n = float(count.sum())
        return {"ece": expected_calibration_error(count, self.state("conf_sum"), self.state("correct_sum")),
                "nll": float(self.state("nll_sum")) / n if n else float("nan")}
