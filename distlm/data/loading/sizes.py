"""How the global batch splits into labelled/unlabelled parts and over workers."""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class BatchSizes:
    """Global and per-worker batch sizes.

    ``global_l + global_u`` is the global ``batch_size``; ``local_* = global_* / world_size``.
    """

    global_l: int
    global_u: int
    local_l: int
    local_u: int


def split_batch_size(batch_size: int, unlabelled_ratio: float, world_size: int = 1) -> BatchSizes:
    """Split the global batch: ``B_u = round(B·r/(1+r))``, ``B_l = B − B_u``.

    Rounding is half-up. Each part must divide evenly over ``world_size`` workers,
    so that every worker holds the same slice sizes (a DDP requirement).

    Example::

        >>> split_batch_size(96, 2.0, world_size=2)
        BatchSizes(global_l=32, global_u=64, local_l=16, local_u=32)
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if world_size < 1:
        raise ValueError(f"world_size must be >= 1, got {world_size}")
    if not (unlabelled_ratio >= 0 and math.isfinite(unlabelled_ratio)):
        raise ValueError(f"unlabelled_ratio must be a finite number >= 0, got {unlabelled_ratio}")
    global_u = int(math.floor(batch_size * unlabelled_ratio / (1.0 + unlabelled_ratio) + 0.5))
    global_l = batch_size - global_u
    if global_l < 1:
        raise ValueError(
            f"batch_size={batch_size} with unlabelled_ratio={unlabelled_ratio} leaves no labelled "
            f"sample per batch (B_u={global_u}); lower the ratio or raise the batch size"
        )
    for name, n in (("labelled", global_l), ("unlabelled", global_u)):
        if n % world_size:
            raise ValueError(
                f"the global {name} batch ({n} of batch_size={batch_size}, "
                f"unlabelled_ratio={unlabelled_ratio}) does not divide over world_size={world_size}"
            )
    return BatchSizes(global_l, global_u, global_l // world_size, global_u // world_size)
