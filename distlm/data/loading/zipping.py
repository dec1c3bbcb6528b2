"""Zip two per-worker batch streams into steps: one side defines the epoch, the other cycles.

Pure Python over iterables, so it is testable without Ray. A *stream factory* maps a
shuffle seed to one pass over this worker's shard, as :class:`DomainBatch` es.
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, Optional

from distlm.data.loading.batch import DomainBatch, HostBatch

StreamFactory = Callable[[int], Iterable[DomainBatch]]


class CycledStream:
    """Endless iterator over passes of ``factory``; pass ``k`` uses shuffle seed ``seed + start_pass + k``.

    It keeps its position across epochs (hold one per loader), so a small cycled side
    is reshuffled on each wrap-around and a large one is read through, not restarted.
    """

    def __init__(self, factory: StreamFactory, seed: int, side: str, start_pass: int = 0) -> None:
        self.factory, self.seed, self.side = factory, seed, side
        self.passes = start_pass
        self._it: Optional[Iterator[DomainBatch]] = None
        self._yielded = False

    def __iter__(self) -> "CycledStream":
        return self

    def __next__(self) -> DomainBatch:
        while True:
            if self._it is None:
                self._it, self._yielded = iter(self.factory(self.seed + self.passes)), False
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


def zip_epoch(defining: Iterable[DomainBatch], other: Optional[Iterator[DomainBatch]], defining_side: str,
              local_l: int, local_u: int, steps_cap: Optional[int] = None,
              empty_unlabelled: Optional[Callable[[DomainBatch], DomainBatch]] = None) -> Iterator[HostBatch]:
    """One epoch of :class:`HostBatch` es: one pass of ``defining`` zipped with ``other``.

    ``other`` is ``None`` when there is no unlabelled side (``B_u = 0``); then
    ``empty_unlabelled(labelled_batch)`` supplies the zero-row unlabelled part.
    """
    other_side = "unlabelled" if defining_side == "labelled" else "labelled"
    want = {"labelled": local_l, "unlabelled": local_u}
    for step, d in enumerate(defining):
        if steps_cap is not None and step >= steps_cap:
            return
        d = _checked(d, want[defining_side], defining_side, step)
        if other is None:
            yield HostBatch(d, empty_unlabelled(d))  # type: ignore[misc]
            continue
        o = _checked(next(other), want[other_side], other_side, step)
        yield HostBatch(d, o) if defining_side == "labelled" else HostBatch(o, d)
