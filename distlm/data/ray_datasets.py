"""Ray Data datasets of a job's Parquet crop sources, one per side (``labelled``,
``unlabelled``, ``test``), read by the trainer's workers as their shards."""
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
    """Ray Datasets for the ``ray`` loader path (face crops in Parquet), in a
    deterministic block order (``preserve_order``)."""
    if loader_kind(spec) != "ray":
        return None
    from distlm.data.loading.ray_adaptor import deterministic_data_context, driver_listed_parquet

    check_sources(spec)
    deterministic_data_context()
    driver_listed_parquet()
    return {side: crops_dataset(spec, src, side) for side, src in sources(spec)
            if side != "unlabelled" or with_unlabelled}
