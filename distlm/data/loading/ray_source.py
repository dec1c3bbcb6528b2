"""Ray Data source: each worker zips its labelled and unlabelled shard streams.

Pass streams as factories (``seed ↦ iterable of DomainBatch``; testable without Ray),
or as Ray ``DataIterator`` / ``Dataset`` objects, or leave them out inside a Ray Train
worker to read ``get_dataset_shard("labelled")`` / ``("unlabelled")``.
"""
from __future__ import annotations

from typing import Any, Iterator, Optional

from distlm.data.loading.batch import DomainBatch, HostBatch
from distlm.data.loading.spec import LoaderSpec
from distlm.data.loading.zipping import CycledStream, StreamFactory, epoch_stream, zip_epoch


def _as_factory(stream: Any, batch_size: int, shuffle_buffer: Optional[int], device: str) -> StreamFactory:
    if hasattr(stream, "iter_torch_batches"):
        from distlm.data.loading.ray_adaptor import shard_stream

        return shard_stream(stream, batch_size, shuffle_buffer, device)
    if callable(stream):
        return stream
    raise TypeError(f"expected a stream factory or a Ray DataIterator/Dataset, got {type(stream).__name__}")


def _empty_like(batch: DomainBatch) -> DomainBatch:
    _, h, w, c = batch.images.shape
    return DomainBatch.empty(h, w, c, batch.au.shape[1], batch.images.device)


class RaySource:
    """Yields this worker's :class:`HostBatch` es from two per-worker streams.

    The ``epoch_on`` side is read once per epoch with shuffle seed ``seed + epoch``;
    the other side is a :class:`CycledStream` kept across epochs (seed ``seed + pass``).
    ``steps_per_epoch`` is the exact number of steps of an epoch (the defining side goes
    on through further passes when one holds fewer); ``None``: until one pass ends.
    """

    def __init__(self, spec: LoaderSpec, labelled: Any = None, unlabelled: Any = None,
                 shuffle_buffer: Optional[int] = None, device: str = "auto",
                 names: tuple = ("labelled", "unlabelled")) -> None:
        self.spec = spec
        self.sizes = spec.sizes
        if labelled is None:
            from distlm.data.loading.ray_adaptor import get_train_shard

            labelled = get_train_shard(names[0])
            unlabelled = get_train_shard(names[1]) if spec.uses_unlabelled and unlabelled is None else unlabelled
        if spec.uses_unlabelled and unlabelled is None:
            raise ValueError(f"unlabelled_ratio={spec.unlabelled_ratio} needs an unlabelled stream")
        self._lab = _as_factory(labelled, self.sizes.local_l, shuffle_buffer, device)
        self._unl = _as_factory(unlabelled, self.sizes.local_u, shuffle_buffer, device) if spec.uses_unlabelled else None
        self._cycled: Optional[CycledStream] = None
        self.steps_per_epoch = spec.steps_per_epoch

    def host_batches(self, epoch: int) -> Iterator[HostBatch]:
        s = self.spec
        on_lab = s.epoch_on == "labelled"
        defining, other = (self._lab, self._unl) if on_lab else (self._unl, self._lab)
        if other is not None and self._cycled is None:
            self._cycled = CycledStream(other, s.seed, "unlabelled" if on_lab else "labelled")
        assert defining is not None
        stream = epoch_stream(defining, s.seed, epoch, s.epoch_on, s.steps_per_epoch)
        yield from zip_epoch(stream, self._cycled, s.epoch_on,
                             self.sizes.local_l, self.sizes.local_u, s.steps_per_epoch, _empty_like)
