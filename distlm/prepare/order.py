"""The order in which the inputs to crop are cut into blocks (``PrepareOptions.order``).

The trainer's Ray loader reads shards in file order and shuffles only within a local
buffer (``data.shuffle_buffer``), so the order of rows *across* shards is what a batch
sees. An index sorted by id keeps its source's order, and a ``folder`` source is class
by class: shards of one class each, batches of one or two classes. ``mixed`` (the
default) orders the rows by a hash of their id instead, so every shard is a uniform
sample of the whole set, the same on every run and machine (no seed, no state). Rows
inside a shard and its manifest part stay sorted by id.
"""
from __future__ import annotations

import hashlib

import pyarrow as pa

from distlm.registry import Registry

ORDERS: Registry[pa.Table] = Registry("prepare order")
_KEY = "__order_key"


@ORDERS.register("id")
def by_id(index: pa.Table) -> pa.Table:
    """The index as given (already sorted by ``id``): shards follow the source's order."""
    return index


@ORDERS.register("mixed")
def by_id_hash(index: pa.Table) -> pa.Table:
    """Rows ordered by the first 8 bytes of SHA-256(id): a fixed pseudo-random permutation.

    ``index`` must have unique ids (``sort_index`` checks). 2.4-3.0 s per million ids on
    the 2-core VM (two runs of ``by_id_hash`` on a 1M-row table of ``classN/img_N.jpg``
    ids, timed with ``time.perf_counter``): small beside face detection.
    """
    keys = [int.from_bytes(hashlib.sha256(i.encode("utf-8", "surrogatepass")).digest()[:8], "big")
            for i in index.column("id").to_pylist()]
    keyed = index.append_column(_KEY, pa.array(keys, pa.uint64()))
    return keyed.sort_by([(_KEY, "ascending"), ("id", "ascending")]).drop_columns([_KEY])
