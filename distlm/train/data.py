"""What a training worker reads: its loader for the two-domain batches, the test
rows for evaluation, and the normalisation statistics.

Two paths, chosen by :func:`loader_kind`:

* ``memory`` — sources whose index carries the pixels (Fashion-MNIST IDX files):
  every worker reads the arrays and takes its slice of each seeded global batch,
  so N workers see exactly what one worker would (the exactness tests rely on it).
* ``ray`` — face crops in Parquet (``distlm.prepare`` output), 400k-1M images:
  the driver passes Ray Datasets to the ``TorchTrainer`` and each worker streams
  its own disjoint shard (``ray.train.get_dataset_shard``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Dict, Iterator, Optional

import numpy as np

from distlm.data.loading import (DevicePipeline, DomainArrays, LoaderSpec, NormStats,
                                 compute_norm_stats, domain_arrays, make_memory_loader,
                                 make_ray_loader)
from distlm.data.readers.dataset import read_table

MEMORY_FORMATS = ("fmnist",)


def loader_kind(spec) -> str:
    """``memory`` for in-memory sources, ``ray`` for everything else."""
    return "memory" if spec.data.labelled.format in MEMORY_FORMATS else "ray"


def storage_options(spec) -> Optional[Dict[str, Any]]:
    s = spec.data.storage
    opts = {k: v for k, v in dataclasses.asdict(s).items() if v not in (None, False)}
    return opts or None


def reader_spec(spec, source, side: str) -> Dict[str, Any]:
    """The reader call for one source: its options plus the job-wide ones."""
    out = {"format": source.format, "path": source.path, **source.options}
    if source.format == "fmnist" and side == "labelled" and spec.data.labels_per_class:
        out.setdefault("labels_per_class", spec.data.labels_per_class)
        out.setdefault("seed", spec.seed)
    storage = storage_options(spec)
    if storage and source.path.startswith("s3://"):
        out.setdefault("storage", storage)
    return out


@dataclass
class MemoryData:
    labelled: DomainArrays
    unlabelled: Optional[DomainArrays]
    test: Optional[DomainArrays]


def read_memory(spec, with_unlabelled: bool) -> MemoryData:
    """Read labelled (+ unlabelled) and test arrays of an in-memory source."""
    table = read_table(reader_spec(spec, spec.data.labelled, "labelled"))
    labelled = domain_arrays(table, spec.data.labelled.path, domain="labelled")
    unlabelled = None
    if with_unlabelled:
        parts = []
        if "domain" in table.column_names:
            parts.append(domain_arrays(table, spec.data.labelled.path, domain="unlabelled"))
        if spec.data.unlabelled is not None:
            t = read_table(reader_spec(spec, spec.data.unlabelled, "unlabelled"))
            parts.append(domain_arrays(t, spec.data.unlabelled.path))
        parts = [p for p in parts if len(p)]
        if parts:
            unlabelled = DomainArrays(
                images=np.concatenate([p.images for p in parts]),
                labels=np.full(sum(len(p) for p in parts), -1, np.int64),  # never read
                au=np.concatenate([p.au for p in parts]),
                au_mask=np.zeros_like(np.concatenate([p.au_mask for p in parts])),
            )
    test = None
    if spec.data.test is not None:
        test = domain_arrays(read_table(reader_spec(spec, spec.data.test, "test")), spec.data.test.path)
    return MemoryData(labelled, unlabelled, test)


def norm_from_arrays(arrays: DomainArrays) -> NormStats:
    """Per-plane statistics of the labelled training images."""
    return compute_norm_stats(arrays.images)


def make_loader(spec, rank: int, world: int, device, norm: NormStats, memory: Optional[MemoryData],
                with_unlabelled: bool, augment: str = "none", augment_unlabelled: Optional[str] = None):
    """This worker's loader of two-domain batches."""
    ratio = spec.data.unlabelled_ratio if with_unlabelled else 0.0
    lspec = LoaderSpec(batch_size=spec.train.batch_size, unlabelled_ratio=ratio, rank=rank,
                       world_size=world, seed=spec.seed, steps_per_epoch=spec.train.steps_per_epoch)
    pipe = DevicePipeline(device, norm, augment, augment_unlabelled)
    if memory is not None:
        return make_memory_loader(memory.labelled, lspec, unlabelled=memory.unlabelled if ratio else None,
                                  pipeline=pipe)
    return make_ray_loader(lspec, pipeline=pipe)


def test_batches(memory: Optional[MemoryData], rank: int, world: int, batch_size: int = 512,
                 shard=None) -> Iterator[Dict[str, np.ndarray]]:
    """This worker's share of the test set as dicts of numpy arrays
    (``images (b, H, W, C) uint8``, ``labels``, ``au``, ``au_mask``)."""
    if memory is not None:
        if memory.test is None:
            return
        t = memory.test
        rows = np.arange(rank, len(t), world)
        for i in range(0, len(rows), batch_size):
            r = rows[i:i + batch_size]
            yield {"images": t.images[r], "labels": t.labels[r], "au": t.au[r], "au_mask": t.au_mask[r]}
        return
    if shard is None:
        return
    from distlm.data.loading.columns import arrow_to_tensors
    import pyarrow as pa

    for batch in shard.iter_batches(batch_size=batch_size, batch_format="pyarrow"):
        tensors = arrow_to_tensors(pa.Table.from_batches([batch]) if not isinstance(batch, pa.Table) else batch)
        yield {k: v.numpy() for k, v in tensors.items()}
