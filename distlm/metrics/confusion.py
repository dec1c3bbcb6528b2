"""Expression metrics as pure functions over a confusion matrix of counts.

Counts (not rates) are what workers all-reduce: summing the per-worker confusion
matrices gives exactly the confusion matrix of the whole data.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from distlm.metrics.ignore import drop_ignored


def _check_labels(x: Tensor, name: str, num_classes: int) -> None:
    if x.dtype.is_floating_point or x.dtype.is_complex or x.dtype == torch.bool:
        raise ValueError(f"confusion_matrix: {name} must hold integer class ids, got dtype {x.dtype}")
    if x.numel() and (int(x.min()) < 0 or int(x.max()) >= num_classes):
        bad = x[(x < 0) | (x >= num_classes)][0].item()
        raise ValueError(f"confusion_matrix: {name} holds {bad}, outside [0, {num_classes})")


def confusion_matrix(
    preds: Tensor, target: Tensor, num_classes: int, ignore_index: Optional[int] = None
) -> Tensor:
    """Counts ``cm[t, p]`` of samples of true class ``t`` predicted as ``p``.

    Args:
        preds: ``(N,)`` integer predicted classes.
        target: ``(N,)`` integer true classes; entries equal to ``ignore_index``
            (e.g. ``-1`` for unlabelled samples) are left out with their prediction.
        num_classes: ``C``.

    Returns:
        ``(C, C)`` long tensor on the inputs' device, rows = true class.

    Example::

        >>> confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1]), 2)
        tensor([[1, 1],
                [0, 1]])
    """
    if num_classes < 1:
        raise ValueError(f"confusion_matrix: num_classes must be >= 1, got {num_classes}")
    if preds.dim() != 1 or preds.shape != target.shape:
        raise ValueError(
            f"confusion_matrix: expected preds and target of the same shape (N,), "
            f"got {tuple(preds.shape)} and {tuple(target.shape)}"
        )
    target, preds = drop_ignored(target, ignore_index, preds)
    _check_labels(preds, "preds", num_classes)
    _check_labels(target, "target", num_classes)
    flat = target.long() * num_classes + preds.long()
    return torch.bincount(flat, minlength=num_classes * num_classes).view(num_classes, num_classes)


def _check_cm(cm: Tensor) -> None:
    if cm.dim() != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"expected a square (C, C) confusion matrix, got shape {tuple(cm.shape)}")


def accuracy(cm: Tensor) -> float:
    """Overall accuracy ``trace / total`` of a ``(C, C)`` confusion matrix (paper: Acc.).
    ``nan`` when the matrix is empty (no samples)."""
    _check_cm(cm)
    total = int(cm.sum())
    return float(cm.diagonal().sum()) / total if total else float("nan")


def per_class_accuracy(cm: Tensor) -> Tensor:
    """``(C,)`` float64 recall of each class (diagonal of the row-normalised matrix);
    ``nan`` for classes with no true sample."""
    _check_cm(cm)
    rows = cm.sum(dim=1).double()
    return cm.diagonal().double() / rows  # 0/0 -> nan


def average_accuracy(cm: Tensor) -> float:
    """Mean of the diagonal of the row-normalised confusion matrix (paper: Avg. Acc.).

    Classes with no true sample (an all-zero row) are left out of the mean, as
    scikit-learn's ``balanced_accuracy_score`` does; ``nan`` if no class has one.
    """
    recall = per_class_accuracy(cm)
    present = recall[~torch.isnan(recall)]
    return float(present.mean()) if present.numel() else float("nan")
