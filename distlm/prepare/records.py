"""Pure: a processed slice -> its Parquet shard and its manifest part.

The shard keeps the rows that got a crop (``ok`` and ``multiple_faces``) with every
index column plus ``image``, ``box``, ``det_score``, ``faces``. ``image`` is stored as
``fixed_size_binary(H·W·C)`` with ``[H, W, C]`` in its field metadata
(:mod:`distlm.data.image_column`): Parquet reads it 25-40x
faster than a ``fixed_shape_tensor`` (list) column. The manifest lists every
input of the slice with its outcome, JSON Lines, one object per input:

``{"id", "path", "outcome", "reason", "detail", "faces", "kept", "det_score", "box", "slice"}``
"""
from __future__ import annotations

import functools
import io
import json
from collections import Counter
from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from distlm.data import image_column
from distlm.faces.pipeline import MULTIPLE, NO_FACE, OK
from distlm.faces.ray_cropper import UNREADABLE
from distlm.prepare.slices import SLICE_COLUMN

OUTCOMES = (OK, MULTIPLE, NO_FACE, UNREADABLE)
CROP_COLUMNS = ("image", "box", "det_score", "faces")
MANIFEST_FIELDS = ("id", "path", "outcome", "reason", "detail", "faces", "kept", "det_score", "box", SLICE_COLUMN)
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


def manifest_rows(processed: pa.Table) -> List[Dict[str, Any]]:
    """One dict per input (sorted by id) with :data:`MANIFEST_FIELDS`."""
    processed = processed.sort_by([("id", "ascending")])
    cols = {f: (processed.column(f).to_pylist() if f in processed.column_names else [None] * processed.num_rows)
            for f in MANIFEST_FIELDS}
    return [{f: cols[f][i] for f in MANIFEST_FIELDS} for i in range(processed.num_rows)]


def manifest_jsonl(rows: List[Dict[str, Any]]) -> bytes:
    """Deterministic JSON Lines bytes (UTF-8, non-ASCII kept as is)."""
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows).encode("utf-8")


def parse_manifest(data: bytes, name: str = "<manifest>") -> List[Dict[str, Any]]:
    rows = []
    for n, line in enumerate(data.decode("utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(f"{name}:{n}: invalid manifest line: {err}") from None
    return rows


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


def slice_counts(rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Outcome counts, skip reasons and faces found for some manifest rows."""
    outcomes = Counter(r["outcome"] for r in rows)
    reasons = Counter(r["reason"] or r["outcome"] for r in rows if r["outcome"] in (NO_FACE, UNREADABLE))
    return {"outcomes": dict(outcomes), "reasons": dict(reasons),
            "faces_found": int(sum(r["faces"] or 0 for r in rows))}
