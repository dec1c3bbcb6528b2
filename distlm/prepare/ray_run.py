"""The Ray side of prepare: connect, stream slices through FaceCropper actors."""
from __future__ import annotations

import contextlib
from typing import Dict, Iterator, List, Optional, Tuple

import pyarrow as pa
import pyarrow.compute as pc

from distlm.faces.ray_cropper import add_face_crops
from distlm.prepare.options import PrepareOptions
from distlm.prepare.slices import SLICE_COLUMN


@contextlib.contextmanager
def _ordered_execution() -> Iterator[None]:
    """Ray Data keeps block order (slices then finish one after another)."""
    import ray.data

    ctx = ray.data.DataContext.get_current()
    before = ctx.execution_options.preserve_order
    ctx.execution_options.preserve_order = True
    try:
        yield
    finally:
        ctx.execution_options.preserve_order = before


def process_slices(slices: List[pa.Table], opts: PrepareOptions) -> Iterator[Tuple[int, pa.Table]]:
    """Yield ``(k, processed rows of slice k)`` as each slice completes.

    Args:
        slices: one table per pending slice, each with its ``slice`` column
            (one Ray block per slice: a FaceCropper call sees whole slices, so results
            depend only on the slice, never on how the run was split or resumed).
        opts: prepare options.

    Only the slices in flight are held (Ray streams with backpressure; the driver
    keeps at most the partial slices of the blocks it has received).
    """
    import ray.data

    if not slices:
        return
    expected: Dict[int, int] = {int(t.column(SLICE_COLUMN)[0].as_py()): t.num_rows for t in slices}
    with _ordered_execution():
        ds = ray.data.from_arrow(slices)
        out = add_face_crops(ds, opts.crop, actors=opts.actors, cpus_per_actor=opts.cpus_per_actor,
                             storage=opts.storage, max_pixels=opts.max_pixels, alpha=opts.alpha)
        partial: Dict[int, List[pa.Table]] = {}
        for batch in out.iter_batches(batch_size=None, batch_format="pyarrow", prefetch_batches=1):
            for k in pc.unique(batch.column(SLICE_COLUMN)).to_pylist():
                part = batch.filter(pc.equal(batch.column(SLICE_COLUMN), k))
                partial.setdefault(k, []).append(part)
                if sum(p.num_rows for p in partial[k]) == expected[k]:
                    yield k, pa.concat_tables(partial.pop(k))
    if partial:
        raise RuntimeError(f"prepare: slices {sorted(partial)} came back incomplete from Ray Data")


def describe(opts: PrepareOptions) -> str:
    c = opts.crop
    return (f"detector={c.detector} size={c.size} margin={c.margin} choose={c.choose} align={c.align} "
            f"actors={opts.actors} shard_size={opts.shard_size}")

