"""Dropping the samples whose target is ``ignore_index`` before counting."""
from __future__ import annotations

from typing import Optional, Tuple

from torch import Tensor


def drop_ignored(target: Tensor, ignore_index: Optional[int], *others: Tensor) -> Tuple[Tensor, ...]:
    """``(target[keep], *[o[keep] for o in others])`` with ``keep = target != ignore_index``
    (everything when ``ignore_index`` is None); ``target (N,)``, each other ``(N, ...)``.

    >>> import torch
    >>> drop_ignored(torch.tensor([0, -1, 2]), -1, torch.tensor([5, 6, 7]))
    (tensor([0, 2]), tensor([5, 7]))
    """
    if ignore_index is None:
        return (target, *others)
    keep = target != ignore_index
    return (target[keep], *(o[keep] for o in others))
