"""Per-class sufficient statistics: the only thing workers exchange for centroids."""
from __future__ import annotations

from typing import Optional, Tuple

import torch


def check_label_range(labels: torch.Tensor, num_classes: int) -> None:
    """``labels < num_classes``: a ``ValueError`` naming the label when they are on the
    CPU; on a GPU a device-side assert instead, so that the check never makes a step
    wait for the device (reading a GPU value on the host would)."""
    if not labels.numel():
        return
    if labels.device.type == "cpu":
        if int(labels.max()) >= num_classes:
            raise ValueError(f"label {int(labels.max())} out of range for {num_classes} classes")
        return
    torch._assert_async(labels.max() < num_classes, f"a label is out of range for {num_classes} classes")


def class_sums(
    x: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    weights: Optional[torch.Tensor] = None,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-class sums of embeddings and (weighted) counts.

    Args:
        x: ``(B, D)`` raw embeddings (detached by the caller when it matters).
        labels: ``(B,)`` long class ids; entries ``< 0`` are ignored (no class).
        num_classes: ``C``.
        weights: optional ``(B,)`` membership weights (soft / confidence-weighted
            centroids); 1 for every sample when omitted.
    Returns:
        ``sums (C, D)`` with ``sums[j] = Σ_{y_i=j} w_i x_i`` and ``counts (C,)``
        with ``counts[j] = Σ_{y_i=j} w_i``, both in ``x``'s dtype.

    Example:
        >>> s, n = class_sums(torch.eye(2), torch.tensor([1, 1]), 3)
        >>> n.tolist()
        [0.0, 2.0, 0.0]
    """
    if x.dim() != 2:
        raise ValueError(f"embeddings must be (B, D), got shape {tuple(x.shape)}")
    if labels.shape != x.shape[:1]:
        raise ValueError(f"labels must be (B,)={tuple(x.shape[:1])}, got {tuple(labels.shape)}")
    valid = labels >= 0
    check_label_range(labels, num_classes)
    w = valid.to(x.dtype) if weights is None else weights.to(x.dtype) * valid
    # (C, B) membership matrix times (B, D): one read of x, no (B, D) temporary
    member = torch.nn.functional.one_hot(labels.clamp(min=0), num_classes).to(x.dtype).t() * w
    return member @ x, member.sum(1)
