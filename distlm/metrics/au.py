"""Action-unit (multi-label) detection metrics as pure functions over counts.

``au_counts`` gives per-column true positives, false positives and false negatives;
summing them over workers (or batches) gives the counts of the whole data, and every
score is computed from the summed counts. Column ids are plain integers: nothing here
is specific to faces.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor

# The paper's "Avg. small" set (table 2).
SMALL_AUS: tuple[int, ...] = (1, 4, 5, 6, 12, 25, 26)


def known_mask(target: Tensor) -> Tensor:
    """``(N, M)`` bool: True where the label is 0 or 1. Any other value (999, -1,
    nan) is unknown and must be masked, never read as a label."""
    return (target == 0) | (target == 1)


def _binary(x: Tensor, name: str, where: Tensor) -> Tensor:
    if x.dtype == torch.bool:
        return x
    bad = where & (x != 0) & (x != 1)
    if bool(bad.any()):
        value = x[bad][0].item()
        raise ValueError(
            f"au_counts: {name} must be 0/1 where known, found {value}; "
            f"pass mask=known_mask(target) to ignore unknown labels"
        )
    return x == 1


def au_counts(pred: Tensor, target: Tensor, mask: Optional[Tensor] = None) -> Tensor:
    """Per-column detection counts, ignoring masked (unknown) labels.

    Args:
        pred: ``(N, M)`` bool or 0/1 predictions.
        target: ``(N, M)`` 0/1 labels (int or float); anything under ``mask == False``
            is ignored whatever its value.
        mask: ``(N, M)`` bool, True where the label is known; ``None``: all known.

    Returns:
        ``(M, 3)`` long tensor, columns ``tp, fp, fn``.

    Example::

        >>> au_counts(torch.tensor([[1, 0]]), torch.tensor([[1, 999]]),
        ...           torch.tensor([[True, False]]))
        tensor([[1, 0, 0],
                [0, 0, 0]])
    """
    if pred.dim() != 2 or pred.shape != target.shape:
        raise ValueError(
            f"au_counts: expected pred and target of the same shape (N, M), "
            f"got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    if mask is None:
        mask = torch.ones_like(target, dtype=torch.bool)
    elif mask.shape != target.shape or mask.dtype != torch.bool:
        raise ValueError(
            f"au_counts: mask must be a bool tensor of shape {tuple(target.shape)}, "
            f"got {mask.dtype} {tuple(mask.shape)}"
        )
    everywhere = torch.ones_like(mask)
    p = _binary(pred, "pred", everywhere) & mask
    t = _binary(target, "target", mask) & mask
    tp = (p & t).sum(dim=0)
    fp = (p & ~t).sum(dim=0)
    fn = (~p & t & mask).sum(dim=0)
    return torch.stack([tp, fp, fn], dim=1).long()


def f1_per_au(counts: Tensor, zero_division: float = 0.0) -> Tensor:
    """``(M, 3)`` tp/fp/fn counts -> ``(M,)`` float64 F1 = 2tp / (2tp + fp + fn) (eq. 8).

    A column with no positive label and no positive prediction (``2tp+fp+fn = 0``) has
    an undefined F1; it gets ``zero_division`` (0.0 by default, as scikit-learn's
    ``f1_score``; pass ``float("nan")`` to leave it out of the averages).
    """
    if counts.dim() != 2 or counts.shape[1] != 3:
        raise ValueError(f"f1_per_au: expected (M, 3) tp/fp/fn counts, got {tuple(counts.shape)}")
    c = counts.double()
    tp, fp, fn = c[:, 0], c[:, 1], c[:, 2]
    denom = 2 * tp + fp + fn
    f1 = 2 * tp / denom.clamp(min=1)
    return torch.where(denom > 0, f1, torch.full_like(f1, zero_division))


def _nanmean(x: Tensor) -> float:
    x = x[~torch.isnan(x)]
    return float(x.mean()) if x.numel() else float("nan")


def avg_small(f1: Tensor, au_ids: Sequence[int], small: Sequence[int] = SMALL_AUS) -> float:
    """Mean F1 over the AUs of ``small`` (the paper's {1,4,5,6,12,25,26}) that
    ``au_ids`` contains; ``nan`` if it contains none. ``nan`` entries are skipped."""
    if f1.shape != (len(au_ids),):
        raise ValueError(f"avg_small: f1 has shape {tuple(f1.shape)} but {len(au_ids)} au_ids were given")
    cols = [m for m, i in enumerate(au_ids) if i in set(small)]
    return _nanmean(f1[cols]) if cols else float("nan")


def avg_full(f1: Tensor) -> float:
    """Mean F1 over all annotated AUs (every column); ``nan`` entries are skipped."""
    if f1.dim() != 1:
        raise ValueError(f"avg_full: expected (M,) F1 scores, got shape {tuple(f1.shape)}")
    return _nanmean(f1)
