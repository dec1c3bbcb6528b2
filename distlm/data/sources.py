"""What a training worker reads: its loader for the two-domain batches, the test
rows for evaluation, and the normalisation statistics.

Two paths, chosen by :func:`loader_kind`:

* ``memory`` — sources whose index carries the pixels (Fashion-MNIST IDX files):
  every worker reads the arrays and takes its slice of each seeded global batch,
  so N workers see exactly what one worker would (the exactness tests rely on it).
* ``ray`` — face crops in Parquet (``distlm.prepare`` output), 400k-1M images:
  the driver passes Ray Datasets to the ``TorchTrainer`` and each worker streams
  its own disjoint shard (``ray.train.get_dataset_shard``).

Sources that index raw image files (``rafdb``, ``folder``, ``images``...) are cropped
by the trainer's first stage (:mod:`distlm.train.crop_stage`) into Parquet crops;
everything else (evaluate, torchrun) refuses them with :class:`RawImagesError`.

A source that mixes ``split`` values (RAF-DB, BP4D folds...) gives only its ``train``
rows to training (labelled, unlabelled) and only its ``test`` rows to the test set
(:func:`split_for`); a source of one split is used whole.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from distlm.data.loading import (AugmentLike, DevicePipeline, DomainArrays, LoaderSpec, NormStats,
                                 compute_norm_stats, domain_arrays, make_memory_loader,
                                 make_ray_loader)
from distlm.data.readers.dataset import read_table
from distlm.errors import UserError

MEMORY_FORMATS = ("fmnist", "synthetic")
CROP_FORMATS = ("parquet",)  # pixels in the index: distlm.prepare output
SIDES = ("labelled", "unlabelled", "test")
SPLIT_OF_SIDE = {"labelled": "train", "unlabelled": "train", "test": "test"}


class RawImagesError(UserError):
    """A data source indexes image files instead of holding crops (run ``distlm.prepare``)."""


def loader_kind(spec) -> str:
    """``memory`` for in-memory sources, ``ray`` for everything else."""
    return "memory" if spec.data.labelled.format in MEMORY_FORMATS else "ray"


def sources(spec) -> List[tuple]:
    """``[(side, SourceSpec), ...]`` for the sides the job sets."""
    return [(side, getattr(spec.data, side)) for side in SIDES if getattr(spec.data, side, None) is not None]


def raw_sources(spec) -> List[tuple]:
    """``[(side, SourceSpec)]`` of the sources that index image files (to be cropped)."""
    return [(side, src) for side, src in sources(spec) if src.format not in MEMORY_FORMATS + CROP_FORMATS]


def check_sources(spec, crop_stage: bool = False) -> None:
    """Fail fast, before any worker starts, on sources without pixels (unless
    ``crop_stage``: the caller crops raw-image sources first) and on empty crop folders.

    Raises:
        RawImagesError: naming each raw-image source and the ``prepare`` command.
    """
    raw = raw_sources(spec)
    for side, src in raw if crop_stage else ():
        if "://" not in src.path and not os.path.exists(src.path):
            raise UserError(f"job {spec.name!r}: data.{side}: {src.format} source {src.path!r} does not exist "
                            f"(relative paths are read from {os.getcwd()})")
    if raw and not crop_stage:
        listed = ", ".join(f"data.{side} ({src.format}: {src.path})" for side, src in raw)
        raise RawImagesError(
            f"job {spec.name!r}: {listed} index image files; this command reads face crops. "
            f"`python -m distlm.train JOB.yaml` crops them first (into data.cache); or run "
            f"`python -m distlm.prepare JOB.yaml --output DST`, then use `DST/job.yaml` (the job "
            f"with each of them at `{{format: parquet, path: DST/<side>}}`; see docs/prepare.md)")
    for side, src in sources(spec):
        if src.format in CROP_FORMATS and "://" not in src.path:
            import glob

            if next(glob.iglob(os.path.join(src.path, "**", "*.parquet"), recursive=True), None) is None:
                raise UserError(f"job {spec.name!r}: data.{side}: no Parquet shards under {src.path!r} "
                                f"(an empty or missing folder; run `python -m distlm.prepare JOB.yaml -o DST`)")


def split_for(side: str, present: Iterable[Optional[str]]) -> Optional[str]:
    """The ``split`` value the rows of ``side`` must have, or None for all rows.

    A source whose rows carry both ``train`` and ``test`` (``present``) gives its
    ``train`` rows to labelled/unlabelled and its ``test`` rows to test.
    """
    return SPLIT_OF_SIDE[side] if {"train", "test"} <= set(present) else None


def _table_split(table: pa.Table, side: str) -> pa.Table:
    if "split" not in table.column_names:
        return table
    want = split_for(side, pc.unique(table.column("split")).to_pylist())
    return table if want is None else table.filter(pc.equal(table.column("split"), want))


def parquet_dataset(path: str, storage: Optional[Dict[str, Any]] = None):
    """``pyarrow.dataset`` of the ``*.parquet`` shards under ``path`` (local or ``s3://``)."""
    import pyarrow.dataset as pads

    from distlm.data.fs import resolve

    fs, root = resolve(path, storage)
    try:
        return pads.dataset(root, filesystem=fs, format="parquet", exclude_invalid_files=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no Parquet shards (run python -m distlm.prepare)") from None


def parquet_split(path: str, side: str, storage: Optional[Dict[str, Any]] = None) -> Optional[str]:
    """:func:`split_for` of a Parquet source, from its ``split`` column alone."""
    ds = parquet_dataset(path, storage)
    if "split" not in ds.schema.names:
        return None
    present = pc.unique(ds.to_table(columns=["split"]).column("split")).to_pylist()
    return split_for(side, present)


def parquet_batches(path: str, storage: Optional[Dict[str, Any]] = None, split: Optional[str] = None,
                    batch_size: int = 512, limit: Optional[int] = None) -> Iterator[Dict[str, np.ndarray]]:
    """Shards under ``path`` read with pyarrow in batches (no Ray), in file order, as
    ``{"images": (b, H, W, C) uint8, "labels": (b,), "au": (b, M), "au_mask": (b, M)}``;
    only rows of ``split`` when given, at most ``limit`` rows."""
    ds = parquet_dataset(path, storage)
    cols = [c for c in ("image", "label", "au", "au_mask") if c in ds.schema.names]
    if "image" not in cols:
        raise RawImagesError(f"{path}: Parquet without an 'image' column; crop it with distlm.prepare")
    flt = pc.field("split") == split if split else None
    schema = pa.schema([ds.schema.field(c) for c in cols])  # keeps the image shape (field metadata)
    seen = 0
    for rb in ds.to_batches(columns=cols, filter=flt, batch_size=batch_size):
        if limit is not None and seen >= limit:
            return
        if not rb.num_rows:
            continue
        table = pa.Table.from_arrays(rb.columns, schema=schema)
        if limit is not None:
            table = table.slice(0, limit - seen)
        seen += table.num_rows
        a = domain_arrays(table, path)
        yield {"images": a.images, "labels": a.labels, "au": a.au, "au_mask": a.au_mask}


def crops_norm(spec, sample: int = 8192) -> NormStats:
    """Normalisation statistics of up to ``sample`` labelled training crops (ray path)."""
    src = spec.data.labelled
    storage = storage_options(spec) if src.path.startswith("s3://") else None
    split = parquet_split(src.path, "labelled", storage)
    return compute_norm_stats(b["images"] for b in parquet_batches(src.path, storage, split, limit=sample))


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


def with_test_head(memory: MemoryData, n: int) -> MemoryData:
    """``memory`` with only the first ``n`` test images (quick intermediate evaluations);
    the training sides are shared, not copied."""
    t = memory.test
    return dataclasses.replace(memory, test=DomainArrays(t.images[:n], t.labels[:n], t.au[:n], t.au_mask[:n]))


def read_memory(spec, with_unlabelled: bool) -> MemoryData:
    """Read labelled (+ unlabelled) and test arrays of an in-memory source
    (each source cut to its side's rows by :func:`split_for`)."""
    check_sources(spec)
    table = _table_split(read_table(reader_spec(spec, spec.data.labelled, "labelled")), "labelled")
    labelled = domain_arrays(table, spec.data.labelled.path, domain="labelled")
    unlabelled = None
    if with_unlabelled:
        parts = []
        if "domain" in table.column_names:
            parts.append(domain_arrays(table, spec.data.labelled.path, domain="unlabelled"))
        if spec.data.unlabelled is not None:
            t = _table_split(read_table(reader_spec(spec, spec.data.unlabelled, "unlabelled")), "unlabelled")
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
        t = _table_split(read_table(reader_spec(spec, spec.data.test, "test")), "test")
        test = domain_arrays(t, spec.data.test.path)
    return MemoryData(labelled, unlabelled, test)


def norm_from_arrays(arrays: DomainArrays) -> NormStats:
    """Per-plane statistics of the labelled training images."""
    return compute_norm_stats(arrays.images)


def labelled_rows(spec) -> int:
    """Rows of the labelled Parquet source (its labelled split only), counted by pyarrow
    from the ``split`` column alone (no image bytes are read)."""
    import pyarrow.dataset as pads

    src = spec.data.labelled
    storage = storage_options(spec) if src.path.startswith("s3://") else None
    ds = parquet_dataset(src.path, storage)
    split = parquet_split(src.path, "labelled", storage)
    return ds.count_rows() if split is None else ds.count_rows(filter=pads.field("split") == split)


def make_loader(spec, rank: int, world: int, device, norm: NormStats, memory: Optional[MemoryData],
                with_unlabelled: bool, augment: AugmentLike = "none", augment_unlabelled: Optional[AugmentLike] = None,
                augment_strong: Optional[AugmentLike] = None, steps_per_epoch: Optional[int] = None):
    """This worker's loader of two-domain batches (with a strong unlabelled view
    when ``augment_strong`` is set); ``steps_per_epoch`` exact (default: the spec's)."""
    ratio = spec.data.unlabelled_ratio if with_unlabelled else 0.0
    lspec = LoaderSpec(batch_size=spec.train.batch_size, unlabelled_ratio=ratio, rank=rank, world_size=world,
                       seed=spec.seed, steps_per_epoch=steps_per_epoch or spec.train.steps_per_epoch)
    pipe = DevicePipeline(device, norm, augment, augment_unlabelled, augment_strong if ratio else None)
    if memory is not None:
        return make_memory_loader(memory.labelled, lspec, unlabelled=memory.unlabelled if ratio else None,
                                  pipeline=pipe)
    from distlm.data.loading.shuffle import row_bytes, shuffle_rows

    rows = shuffle_rows(spec.data.shuffle_buffer, spec.data.shuffle_buffer_mb,
                        row_bytes(spec.data.image_size, spec.data.channels), sides=2 if ratio else 1)
    return make_ray_loader(lspec, pipeline=pipe, shuffle_buffer=rows)


def test_batches(memory: Optional[MemoryData], rank: int, world: int, batch_size: int = 512,
                 shard=None) -> Iterator[Dict[str, np.ndarray]]:
    """This worker's share of the test set as dicts of numpy arrays
    (``images (b, H, W, C) uint8``, ``labels``, ``au``, ``au_mask``).

    In memory: rows ``rank, rank + world, ...``. On the Ray path, ``shard`` is this
    worker's split of the test set (a ``DataIterator``; split unequally by
    ``ray_split.SplitEveryDataset``, so the workers' shards are disjoint and cover every
    row) and is read whole, ``PREFETCH_BATCHES`` batches ahead; every row is evaluated
    by exactly one worker. Each pass over a split shard is taken by all workers
    together (evaluation is collective anyway)."""
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
    from distlm.data.loading.ray_adaptor import PREFETCH_BATCHES

    for batch in shard.iter_batches(batch_size=batch_size, batch_format="pyarrow", prefetch_batches=PREFETCH_BATCHES):
        if not batch.num_rows:
            continue
        tensors = arrow_to_tensors(pa.Table.from_batches([batch]) if not isinstance(batch, pa.Table) else batch)
        yield {k: v.numpy() for k, v in tensors.items()}
