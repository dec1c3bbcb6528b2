"""Pure: a processed block -> its Parquet shard and its manifest part.

The shard keeps the rows that got a crop (``ok`` and ``multiple_faces``) with every
index column (``key``, ``file_size``, ``file_version`` included) plus ``image``,
``box``, ``det_score``, ``faces``. ``image`` is stored as
``fixed_size_binary(H·W·C)`` with ``[H, W, C]`` in its field metadata
(:mod:`distlm.data.image_column`): Parquet reads it 25-40x
faster than a ``fixed_shape_tensor`` (list) column. The manifest part lists every
input of the block with its outcome, one row per input (:data:`MANIFEST_SCHEMA`).
"""
from __future__ import annotations

import functools
import io
from typing import Any, Dict, Mapping, Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from distlm.data import image_column
from distlm.faces.pipeline import MULTIPLE, NO_FACE, OK
from distlm.faces.ray_cropper import UNREADABLE
from distlm.prepare.keys import KEY_COLUMN
from distlm.prepare.slices import SLICE_COLUMN

OUTCOMES = (OK, MULTIPLE, NO_FACE, UNREADABLE)
CROP_COLUMNS = ("image", "box", "det_score", "faces")
MANIFEST_SCHEMA = pa.schema([
    pa.field(KEY_COLUMN, pa.string()), pa.field("id", pa.string()), pa.field("path", pa.string()),
    pa.field("outcome", pa.string()), pa.field("reason", pa.string()), pa.field("detail", pa.string()),
    pa.field("faces", pa.int32()), pa.field("kept", pa.int32()), pa.field("det_score", pa.float32()),
    pa.field("box", pa.list_(pa.float32())), pa.field("shard", pa.string()),
])
_WORK_COLUMNS = ("kept", "outcome", "reason", "detail", SLICE_COLUMN)


def shard_table(processed: pa.Table, metadata: Optional[Mapping[bytes, bytes]] = None,
                size: Optional[int] = None) -> pa.Table:
    """Rows with a crop, sorted by id; index columns first, then the crop columns (the
    ``image`` column as the cropper wrote it, binary, stamped ``(size, size, 3)``)."""
    processed = processed.sort_by([("id", "ascending")])
    keep = pc.is_in(processed.column("outcome"), pa.array([OK, MULTIPLE]))
    rows = processed.filter(keep)
    index_cols = [c for c in rows.column_names if c not in CROP_COLUMNS and c not in _WORK_COLUMNS]
    table = rows.select(index_cols + list(CROP_COLUMNS))
    table = image_column.to_binary(table, "image", "prepared slice", None if size is None else (size, size, 3))
    return table.replace_schema_metadata(dict(metadata or {}))


def manifest_table(processed: pa.Table, shard: Optional[str] = None) -> pa.Table:
    """One row per input of ``processed`` (sorted by id) in :data:`MANIFEST_SCHEMA`;
    ``shard`` names the file holding the block's crops (``writer.commit_block`` sets it)."""
    processed = processed.sort_by([("id", "ascending")])
    n = processed.num_rows
    cols = [pa.array([shard] * n, pa.string()) if f.name == "shard"
            else processed.column(f.name).cast(f.type) if f.name in processed.column_names
            else pa.nulls(n, f.type) for f in MANIFEST_SCHEMA]
    return pa.Table.from_arrays(cols, schema=MANIFEST_SCHEMA)


# Crops are stored raw: zstd saves little on face pixels and costs 5x on every
# training read (docs/benchmarks.md: 10,286 vs 1,909 crops/s per core); metadata is zstd.
IMAGE_CODEC = "none"
META_CODEC = "zstd"


@functools.lru_cache(maxsize=32)
def _leaf_paths(schema: pa.Schema) -> Tuple[str, ...]:
    """Parquet column paths of ``schema`` (nested ones like ``au.list.element``), as
    Parquet itself names them: read back from an empty table once per schema."""
    buf = io.BytesIO()
    pq.write_table(schema.empty_table(), buf)
    meta = pq.ParquetFile(io.BytesIO(buf.getvalue())).schema
    return tuple(meta.column(i).path for i in range(len(meta)))


def parquet_bytes(table: pa.Table) -> bytes:
    """The table as Parquet (deterministic for equal tables): the ``image`` column
    uncompressed, every metadata column (nested ones too) zstd."""
    buf = io.BytesIO()
    codecs = {path: (IMAGE_CODEC if path == "image" else META_CODEC) for path in _leaf_paths(table.schema)}
    pq.write_table(table, buf, compression=codecs)
    return buf.getvalue()


def manifest_counts(manifest: pa.Table) -> Dict[str, Any]:
    """Outcome counts, skip reasons (``reason`` or the outcome for ``no_face``) and faces
    found over manifest rows, vectorised: ``{"outcomes", "reasons", "faces_found"}``."""
    outcomes = {str(r["values"]): int(r["counts"]) for r in
                pc.value_counts(manifest.column("outcome")).to_pylist()} if manifest.num_rows else {}
    skipped = manifest.filter(pc.is_in(manifest.column("outcome"), pa.array([NO_FACE, UNREADABLE])))
    why = pc.coalesce(skipped.column("reason"), skipped.column("outcome"))
    reasons = {str(r["values"]): int(r["counts"]) for r in pc.value_counts(why).to_pylist()} if skipped.num_rows else {}
    faces = pc.sum(manifest.column("faces")).as_py() if manifest.num_rows else 0
    return {"outcomes": outcomes, "reasons": dict(sorted(reasons.items())), "faces_found": int(faces or 0)}
