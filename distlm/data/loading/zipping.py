"""Zip two per-worker batch streams into steps: one side defines the epoch, the other cycles.

Pure Python over iterables, so it is testable without Ray. A *stream factory* maps a
shuffle seed to one pass over this worker's shard, as :class:`DomainBatch` es.
"""
from __future__ import annotations

import itertools
from typing import Callable, Iterable, Iterator, Optional

from distlm.data.loading.batch import DomainBatch, HostBatch

StreamFactory = Callable[[int], Iterable[DomainBatch]]


REPEAT_STRIDE = 1_000_003  # shuffle seeds of an epoch's further passes: apart from every epoch's first


def epoch_pass_seed(seed: int, epoch: int, repeat: int) -> int:
    """Shuffle seed of pass ``repeat`` of the defining side in ``epoch`` (``seed + epoch`` for the first)."""
    return seed + epoch + repeat * REPEAT_STRIDE


class CycledStream:
    """Endless iterator over passes of ``factory``; pass ``k`` uses shuffle seed
    ``seed_of(start_pass + k)`` (default ``seed + start_pass + k``).

    It keeps its position across epochs (hold one per loader), so a small cycled side
    is reshuffled on each wrap-around and a large one is read through, not restarted.
    """

    def __init__(self, factory: StreamFactory, seed: int, side: str, start_pass: int = 0,
                 seed_of: Optional[Callable[[int], int]] = None) -> None:
        self.factory, self.seed, self.side = factory, seed, side
        self.seed_of = seed_of or (lambda k: seed + k)
        self.passes = start_pass
        self._it: Optional[Iterator[DomainBatch]] = None
        self._yielded = False

    def __iter__(self) -> "CycledStream":
        return self

    def __next__(self) -> DomainBatch:
        while True:
            if self._it is None:
                self._it, self._yielded = iter(self.factory(self.seed_of(self.passes))), False
            try:
                batch = next(self._it)
            except StopIteration:
                if not self._yielded:
                    raise ValueError(f"the {self.side} stream yielded no batch in a whole pass") from None
                self._it, self.passes = None, self.passes + 1
                continue
            self._yielded = True
            return batch


def _checked(batch: DomainBatch, expected: int, side: str, step: int) -> DomainBatch:
    if batch.size != expected:
        raise ValueError(
            f"step {step}: the {side} stream gave a batch of {batch.size} rows, expected {expected} "
            f"(use drop_last=True so that every worker takes the same number of equal steps)"
        )
    return batch


def epoch_stream(factory: StreamFactory, seed: int, epoch: int, side: str,
                 steps: Optional[int]) -> Iterable[DomainBatch]:
    """The defining side's batches for ``epoch``: one pass (``steps`` None), or passes
    one after another until ``steps`` are made up (``steps`` above one pass: the side
    cycles within the epoch; the first pass is the same either way)."""
    if steps is None:
        return factory(seed + epoch)
    return CycledStream(factory, seed, side, seed_of=lambda k: epoch_pass_seed(seed, epoch, k))


def zip_epoch(defining: Iterable[DomainBatch], other: Optional[Iterator[DomainBatch]], defining_side: str,
              local_l: int, local_u: int, steps_cap: Optional[int] = None,
              empty_unlabelled: Optional[Callable[[DomainBatch], DomainBatch]] = None) -> Iterator[HostBatch]:
    """One epoch of :class:`HostBatch` es: one pass of ``defining`` zipped with ``other``.

    ``other`` is ``None`` when there is no unlabelled side (``B_u = 0``); then
    ``empty_unlabelled(labelled_batch)`` supplies the zero-row unlabelled part.
    """
    other_side = "unlabelled" if defining_side == "labelled" else "labelled"
    want = {"labelled": local_l, "unlabelled": local_u}
    for step, d in enumerate(itertools.islice(defining, steps_cap)):  # never pulls a batch past the budget
        d = _checked(d, want[defining_side], defining_side, step)
        if other is None:
            yield HostBatch(d, empty_unlabelled(d))  # type: ignore[misc]
            continue
        o = _checked(next(other), want[other_side], other_side, step)
        yield HostBatch(d, o) if defining_side == "labelled" else HostBatch(o, d)
