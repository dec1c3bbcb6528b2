"""Ray Data datasets of a job's Parquet crop sources, one per side (``labelled``,
``unlabelled``, ``test``), and how the trainer splits them into its workers' shards
(:func:`data_config`: every side split, the test set unequally so no row is dropped)."""
from __future__ import annotations

from typing import Any, Dict, Optional

from distlm.data.sources import check_sources, loader_kind, parquet_dataset, parquet_split, sources, storage_options


def crops_dataset(spec, source, side: str):
    """A ``ray.data`` Dataset of one Parquet crops source: the loader's columns, and only
    the rows of ``side``'s split when the source mixes splits (``split_for``)."""
    import pyarrow.fs as pafs
    import ray.data
    from ray.data.expressions import col

    from distlm.data.fs import is_local, resolve
    from distlm.data.loading.columns import TRAIN_COLUMNS

    storage = storage_options(spec) if source.path.startswith("s3://") else None
    fs, root = resolve(source.path, storage)
    names = parquet_dataset(source.path, storage).schema.names
    split = parquet_split(source.path, side, storage)
    ds = ray.data.read_parquet(root, filesystem=None if is_local(fs) else pafs.PyFileSystem(pafs.FSSpecHandler(fs)))
    if split is not None:
        ds = ds.filter(expr=col("split") == split)
    return ds.select_columns([c for c in TRAIN_COLUMNS if c in names])


def ray_datasets(spec, with_unlabelled: bool) -> Optional[Dict[str, Any]]:
    """Ray Datasets for the ``ray`` loader path (face crops in Parquet); their read order
    (``data.deterministic_reads``) is set when :func:`data_config` splits them."""
    if loader_kind(spec) != "ray":
        return None
    from distlm.data.loading.ray_adaptor import driver_listed_parquet

    check_sources(spec)
    driver_listed_parquet()
    return {side: crops_dataset(spec, src, side) for side, src in sources(spec)
            if side != "unlabelled" or with_unlabelled}


def data_config(spec):
    """The trainer's ``DataConfig``: every side split across the workers in the read
    order of ``data.deterministic_reads``; training sides equally, the test set
    unequally (each row evaluated by exactly one worker; ``ray_split``)."""
    from distlm.data.loading.ray_adaptor import read_order
    from distlm.data.loading.ray_split import SplitEveryDataset

    return SplitEveryDataset(read_order(spec.data.deterministic_reads))
