"""Index arithmetic of the in-memory source: pure functions of (seed, side, pass).

Each side (labelled = stream 0, unlabelled = stream 1) is a sequence of *passes*; pass
``p`` is a permutation of its ``n`` rows drawn from ``numpy.random.default_rng([seed,
stream, p])``. The side that defines the epoch uses pass ``p = epoch`` and drops the
incomplete last global batch; when an epoch asks for more steps than one such pass
holds (``train.steps_per_epoch`` above ``n // global_b``: few labels, many steps), it
goes on through further passes of the same epoch, ``rng([seed, stream, epoch, j])``
for ``j = 1, 2, ...``, each dropping its own incomplete batch, so the labelled set
cycles within the epoch and the step budget holds. The other side is one endless
stream of concatenated passes, consumed continuously across epochs, so every row is
seen and a resumed run at epoch ``e`` reads exactly what an uninterrupted run reads.

Global batch ``t`` is ``global_b`` consecutive rows of that stream; worker ``rank``
takes the contiguous ``1/world_size`` slice, so N workers together see exactly the
global batch one worker would see.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

STREAMS = {"labelled": 0, "unlabelled": 1}


def pass_permutation(n: int, seed: int, stream: int, pass_index: int, repeat: int = 0) -> np.ndarray:
    """Permutation ``(n,) int64`` of pass ``pass_index`` of one side (its ``repeat``-th
    further pass inside an epoch when ``repeat > 0``)."""
    if n < 1:
        raise ValueError(f"cannot permute an empty dataset (n={n})")
    key = [int(seed) & 0xFFFFFFFF, int(stream), int(pass_index)] + ([int(repeat)] if repeat else [])
    return np.random.default_rng(key).permutation(n)


def steps_in_epoch(n: int, global_b: int, steps: Optional[int] = None, side: str = "labelled") -> int:
    """Steps of one epoch: ``steps`` when given (the side cycles through further passes
    to make them up), else the full global batches of one pass of ``n`` rows."""
    if n // global_b == 0:
        raise ValueError(
            f"the {side} set has {n} rows, fewer than one global {side} batch of {global_b}"
        )
    return n // global_b if steps is None else int(steps)


def defining_rows(n: int, global_b: int, steps: int, seed: int, stream: int, epoch: int) -> np.ndarray:
    """Rows ``(steps, global_b)`` of the epoch-defining side for ``epoch``: the full
    batches of pass ``epoch``, then of its further passes while ``steps`` asks for more."""
    full = (n // global_b) * global_b
    parts, have, repeat = [], 0, 0
    while have < steps * global_b:
        parts.append(pass_permutation(n, seed, stream, epoch, repeat)[:full])
        have, repeat = have + full, repeat + 1
    return np.concatenate(parts)[: steps * global_b].reshape(steps, global_b)


def stream_rows(n: int, seed: int, stream: int, start: int, count: int) -> np.ndarray:
    """Positions ``[start, start + count)`` of the endless stream of passes, as rows ``(count,)``."""
    if count == 0:
        return np.empty(0, dtype=np.int64)
    first, last = start // n, (start + count - 1) // n
    parts = [pass_permutation(n, seed, stream, p) for p in range(first, last + 1)]
    joined = np.concatenate(parts)
    offset = start - first * n
    return joined[offset: offset + count]


def cycled_rows(n: int, global_b: int, steps: int, seed: int, stream: int, epoch: int) -> np.ndarray:
    """Rows ``(steps, global_b)`` of the cycled side for ``epoch`` (continuing the stream)."""
    per_epoch = steps * global_b
    return stream_rows(n, seed, stream, epoch * per_epoch, per_epoch).reshape(steps, global_b)


def worker_slice(global_rows: np.ndarray, rank: int, world_size: int) -> np.ndarray:
    """Worker ``rank``'s contiguous slice of the last axis of ``global_rows`` (…, B) → (…, B/W)."""
    b = global_rows.shape[-1]
    if b % world_size:
        raise ValueError(f"a global batch of {b} does not divide over world_size={world_size}")
    k = b // world_size
    return global_rows[..., rank * k: (rank + 1) * k]
