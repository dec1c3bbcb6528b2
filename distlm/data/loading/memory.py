"""In-memory source: every worker holds the arrays and takes its slice of each global batch.

For small datasets (Fashion-MNIST: 60k × 28 × 28). The row arithmetic lives in
:mod:`distlm.data.loading.indices`; this class only gathers rows.
"""
from __future__ import annotations

from typing import Iterator, Optional, Tuple, Union

import numpy as np
import pyarrow as pa
import torch

from distlm.data.loading.batch import Device, DomainBatch, HostBatch
from distlm.data.loading.columns import DomainArrays, domain_arrays
from distlm.data.loading.indices import STREAMS, cycled_rows, defining_rows, steps_in_epoch, worker_slice
from distlm.data.loading.spec import LoaderSpec

Rows = Union[DomainArrays, pa.Table]


def as_arrays(data: Rows, side: str) -> DomainArrays:
    """A table in the shared schema (or arrays) → :class:`DomainArrays`."""
    return data if isinstance(data, DomainArrays) else domain_arrays(data, source=f"{side} table")


def _tensor(a: np.ndarray, device: Device) -> torch.Tensor:
    """Arrow-backed arrays are read-only: copy those once, share the others."""
    a = np.ascontiguousarray(a)
    return torch.from_numpy(a if a.flags.writeable else a.copy()).to(device)


class _Store:
    """One domain's arrays as tensors on ``device``, gathered by row indices."""

    def __init__(self, arrays: DomainArrays, device: Device) -> None:
        self.images = _tensor(arrays.images, device)
        self.labels = _tensor(arrays.labels, device)
        self.au = _tensor(arrays.au, device)
        self.au_mask = _tensor(arrays.au_mask, device)
        self.n = len(arrays)

    def gather(self, rows: np.ndarray) -> DomainBatch:
        idx = torch.from_numpy(np.ascontiguousarray(rows)).to(self.images.device)
        return DomainBatch(self.images[idx], self.labels[idx], self.au[idx], self.au_mask[idx])


class MemorySource:
    """Yields this worker's :class:`HostBatch` es from arrays held in memory.

    Per epoch, the epoch-defining side is a seeded global permutation; global batch
    ``t`` is its rows ``[t·B:(t+1)·B]`` and worker ``rank`` takes the contiguous
    ``1/world_size`` slice. The other side is an endless stream of seeded passes.
    ``storage_device`` may be a GPU to keep the whole dataset there.
    """

    def __init__(self, labelled: Rows, unlabelled: Optional[Rows], spec: LoaderSpec,
                 storage_device: Device = "cpu") -> None:
        self.spec = spec
        self.sizes = spec.sizes
        lab = as_arrays(labelled, "labelled")
        if spec.uses_unlabelled and unlabelled is None:
            raise ValueError(f"unlabelled_ratio={spec.unlabelled_ratio} needs an unlabelled set")
        self._lab = _Store(lab, storage_device)
        self._unl = _Store(as_arrays(unlabelled, "unlabelled"), storage_device) if spec.uses_unlabelled else None
        if self._unl is not None and self._unl.images.shape[1:] != self._lab.images.shape[1:]:
            raise ValueError(
                f"labelled images are {tuple(self._lab.images.shape[1:])} but unlabelled are "
                f"{tuple(self._unl.images.shape[1:])}"
            )
        defining = self._lab if spec.epoch_on == "labelled" else self._unl
        b = self.sizes.global_l if spec.epoch_on == "labelled" else self.sizes.global_u
        self.steps_per_epoch = steps_in_epoch(defining.n, b, spec.steps_per_epoch, spec.epoch_on)

    def _side_rows(self, side: str, epoch: int) -> np.ndarray:
        store = self._lab if side == "labelled" else self._unl
        b = self.sizes.global_l if side == "labelled" else self.sizes.global_u
        s = self.spec
        make = defining_rows if side == s.epoch_on else cycled_rows
        return make(store.n, b, self.steps_per_epoch, s.seed, STREAMS[side], epoch)

    def global_rows(self, epoch: int) -> Tuple[np.ndarray, np.ndarray]:
        """All workers' rows for ``epoch``: labelled ``(steps, B_l)``, unlabelled ``(steps, B_u)``."""
        lab = self._side_rows("labelled", epoch)
        unl = self._side_rows("unlabelled", epoch) if self._unl is not None else np.zeros((self.steps_per_epoch, 0), np.int64)
        return lab, unl

    def rows(self, epoch: int) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
        """This worker's ``(labelled rows (b_l,), unlabelled rows (b_u,))`` per step of ``epoch``."""
        lab, unl = self.global_rows(epoch)
        r, w = self.spec.rank, self.spec.world_size
        yield from zip(worker_slice(lab, r, w), worker_slice(unl, r, w))

    def host_batches(self, epoch: int) -> Iterator[HostBatch]:
        _, h, w, c = self._lab.images.shape
        m = self._lab.au.shape[1]
        for rows_l, rows_u in self.rows(epoch):
            unl = self._unl.gather(rows_u) if self._unl is not None else DomainBatch.empty(h, w, c, m, self._lab.images.device)
            yield HostBatch(self._lab.gather(rows_l), unl)
