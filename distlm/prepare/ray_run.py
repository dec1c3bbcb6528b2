"""The Ray side of the crop stage: pending parts -> crop actors -> block writers.

Ray Data reads the pending parts (one block each), the FaceCropper actors crop them,
and a writer task per block writes its shard and manifest part
(:mod:`distlm.prepare.writer`). The driver iterates only the writers' count rows.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Iterator, Mapping

from distlm.faces.ray_cropper import add_face_crops
from distlm.prepare.layout import PENDING_DIR, Output
from distlm.prepare.options import PrepareOptions
from distlm.prepare.writer import write_blocks


def _filesystem(out: Output) -> Any:
    if out.local:
        return None
    import pyarrow.fs as pafs

    return pafs.PyFileSystem(pafs.FSSpecHandler(out.fs))


def pending_dataset(out: Output, parts: int) -> Any:
    """The ``parts`` pending parts of ``out`` as a dataset of exactly one block per part.

    One block is one crop task and one shard, so the pool's parallelism is the number of
    parts. Ray's V2 Parquet datasource packs small files into blocks of up to 128 MiB:
    a million pending rows (~300 bytes each) would reach the actors as a few blocks of
    hundreds of thousands of images. The V1 datasource reads one file per read task.
    """
    import ray.data

    from distlm.data.loading.ray_adaptor import driver_listed_parquet

    driver_listed_parquet()
    return ray.data.read_parquet(out.path(PENDING_DIR), filesystem=_filesystem(out), override_num_blocks=parts)


def crop_pending(out: Output, parts: int, opts: PrepareOptions, metadata: Mapping[str, str]) -> Iterator[Dict[str, Any]]:
    """Crop the ``parts`` pending parts of ``out``; yield each written group's
    ``{"inputs": n, "counts": {"outcomes", "reasons", "faces_found"}}`` as it lands."""
    if not parts:
        return
    ds = pending_dataset(out, parts)
    actors = opts.actors if opts.max_actors is None else (opts.actors, opts.max_actors)
    crops = add_face_crops(ds, opts.crop, actors=actors, cpus_per_actor=opts.cpus_per_actor,
                           gpus_per_actor=opts.gpus_per_actor,
                           storage=opts.storage, max_pixels=opts.max_pixels, alpha=opts.alpha, draft=opts.draft)
    written = crops.map_batches(
        write_blocks, batch_size=None, batch_format="pyarrow", num_cpus=0.25,
        fn_kwargs=dict(output=out.uri, storage=dict(opts.storage), metadata=dict(metadata), size=opts.crop.size))
    for batch in written.iter_batches(batch_size=None, batch_format="pyarrow", prefetch_batches=1):
        for row in batch.to_pylist():
            yield {"inputs": row["inputs"], "counts": json.loads(row["counts"])}


def describe(opts: PrepareOptions) -> str:
    c = opts.crop
    return (f"detector={c.detector} size={c.size} margin={c.margin} choose={c.choose} align={c.align} "
            f"max_side={c.max_side} actors={opts.actors} shard_size={opts.shard_size}")
