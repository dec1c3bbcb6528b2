"""``write_blocks``: the Ray Data step after the crop actors that writes each block's
shard and manifest part itself, so no crop travels to the driver.

Input: a FaceCropper output block (index columns, ``key``, ``slice`` and the crop
columns). Each ``slice`` group of it becomes ``part-<digest>.parquet`` (if any row has a
crop) and ``_manifest/part-<digest>.parquet`` (every row), the digest hashing the
group's sorted keys. Output: one small row per group, the counts the driver's
progress and metrics read (:data:`COUNT_SCHEMA`).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, Mapping, Optional

import pyarrow as pa
import pyarrow.compute as pc

from distlm.prepare.keys import KEY_COLUMN
from distlm.prepare.layout import Output, manifest_name, shard_name
from distlm.prepare.records import manifest_counts, manifest_table, parquet_bytes, shard_table
from distlm.prepare.slices import SLICE_COLUMN

COUNT_SCHEMA = pa.schema([pa.field("inputs", pa.int64()), pa.field("counts", pa.string())])
DIGEST_CHARS = 24


def block_digest(keys: pa.Array) -> str:
    """Hex digest of a block's sorted input keys: its files' names."""
    h = hashlib.sha256()
    for k in sorted(keys.to_pylist()):
        h.update(k.encode() + b"\n")
    return h.hexdigest()[:DIGEST_CHARS]


def commit_block(out: Output, shard: pa.Table, manifest: pa.Table) -> pa.Table:
    """Write a block under the digest of its manifest's keys: its shard (if it has rows),
    then its manifest part naming that shard, which commits it. Returns the manifest."""
    digest = block_digest(manifest.column(KEY_COLUMN).combine_chunks())
    name = shard_name(digest) if shard.num_rows else None
    if name is not None:
        out.write(name, parquet_bytes(shard))
    manifest = manifest.set_column(manifest.schema.get_field_index("shard"), manifest.schema.field("shard"),
                                   pa.array([name] * manifest.num_rows, pa.string()))
    out.write(manifest_name(digest), parquet_bytes(manifest))
    return manifest


def write_group(out: Output, processed: pa.Table, metadata: Mapping[bytes, bytes], size: int) -> Dict[str, Any]:
    """Commit one group of cropper output (:func:`commit_block`); its counts."""
    manifest = commit_block(out, shard_table(processed, metadata, size), manifest_table(processed))
    return manifest_counts(manifest)


def write_blocks(batch: pa.Table, output: str, storage: Optional[Mapping[str, Any]],
                 metadata: Mapping[str, str], size: int) -> pa.Table:
    """``map_batches`` function: write every ``slice`` group of ``batch``; one count row each.

    ``metadata``: the index's schema metadata (decoded to str for pickling), stamped on
    every shard.
    """
    out = Output(output, storage, create=False)
    meta = {k.encode(): v.encode() for k, v in metadata.items()}
    rows = []
    slices = pc.unique(batch.column(SLICE_COLUMN)).to_pylist() if SLICE_COLUMN in batch.column_names else [None]
    for k in slices:
        group = batch if k is None else batch.filter(pc.equal(batch.column(SLICE_COLUMN), k))
        counts = write_group(out, group, meta, size)
        rows.append({"inputs": group.num_rows, "counts": json.dumps(counts, sort_keys=True)})
    return pa.Table.from_pylist(rows, schema=COUNT_SCHEMA)
