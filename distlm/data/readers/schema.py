"""The index schema shared by readers, ``prepare`` and training.

One row per input image:

=========  ====================  ==================================================
column     type                  meaning
=========  ====================  ==================================================
id         string                stable unique id (path relative to dataset root)
path       string, nullable      absolute local path or ``s3://`` URI; null in memory
label      int32                 class index, -1 when none
au         list<float32>, null   AU values in the order of ``au_ids``; unknown -> 0
au_mask    list<bool>, null      True where the AU value is known
domain     string                ``labelled`` | ``unlabelled``
split      string                ``train`` | ``test``
=========  ====================  ==================================================

In-memory sources add ``image``: uint8 ``(H, W, C)`` as Arrow's canonical
``fixed_shape_tensor`` extension type (Ray Data turns it into ``(N, H, W, C)``
numpy batches). Table metadata carries ``distlm.classes`` and ``distlm.au_ids``
(JSON lists) and ``distlm.source``; read them with ``table_classes``/``table_au_ids``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np
import pyarrow as pa

from distlm.data.report import ReadReport

LABELLED = "labelled"
UNLABELLED = "unlabelled"
SPLITS = ("train", "test")

INDEX_FIELDS = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("path", pa.string(), nullable=True),
    pa.field("label", pa.int32(), nullable=False),
    pa.field("au", pa.list_(pa.float32()), nullable=True),
    pa.field("au_mask", pa.list_(pa.bool_()), nullable=True),
    pa.field("domain", pa.string(), nullable=False),
    pa.field("split", pa.string(), nullable=False),
]
INDEX_SCHEMA = pa.schema(INDEX_FIELDS)
INDEX_COLUMNS = tuple(f.name for f in INDEX_FIELDS)


def index_metadata(
    source: str, classes: Sequence[str] = (), au_ids: Sequence[int] = ()
) -> Dict[bytes, bytes]:
    """Schema metadata recording class names and AU ids."""
    return {
        b"distlm.source": source.encode(),
        b"distlm.classes": json.dumps(list(classes)).encode(),
        b"distlm.au_ids": json.dumps([int(a) for a in au_ids]).encode(),
    }


def table_classes(table: pa.Table) -> List[str]:
    """Class names recorded by the reader (``[]`` when none)."""
    meta = table.schema.metadata or {}
    return json.loads(meta.get(b"distlm.classes", b"[]"))


def table_au_ids(table: pa.Table) -> List[int]:
    """AU ids (order of the ``au`` column) recorded by the reader."""
    meta = table.schema.metadata or {}
    return json.loads(meta.get(b"distlm.au_ids", b"[]"))


def index_table(
    columns: Dict[str, object],
    metadata: Optional[Dict[bytes, bytes]] = None,
    extra: Optional[Dict[str, pa.Array]] = None,
) -> pa.Table:
    """Build an index table from per-column python lists / numpy arrays.

    ``columns`` must hold every ``INDEX_COLUMNS`` entry; ``extra`` adds columns
    (e.g. ``image``) after them.
    """
    missing = [c for c in INDEX_COLUMNS if c not in columns]
    if missing:
        raise ValueError(f"index columns missing: {missing}")
    arrays = [pa.array(columns[f.name], type=f.type) for f in INDEX_FIELDS]
    fields = list(INDEX_FIELDS)
    for name, arr in (extra or {}).items():
        arrays.append(arr)
        fields.append(pa.field(name, arr.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=metadata))


@dataclass
class IndexBuilder:
    """Collects rows one by one, drops duplicate ids (first kept), builds the table."""

    report: ReadReport
    source: str = ""
    classes: Sequence[str] = ()
    au_ids: Sequence[int] = ()
    _cols: Dict[str, list] = field(default_factory=lambda: {c: [] for c in INDEX_COLUMNS})
    _seen: set = field(default_factory=set)

    def __contains__(self, row_id: str) -> bool:
        return row_id in self._seen

    def add(
        self,
        row_id: str,
        path: Optional[str],
        where: str,
        label: int = -1,
        au: Optional[Sequence[float]] = None,
        au_mask: Optional[Sequence[bool]] = None,
        domain: str = LABELLED,
        split: str = "train",
    ) -> bool:
        """Append a row; a duplicate ``row_id`` is a skip. Returns True if added."""
        if row_id in self._seen:
            self.report.skip(where, "duplicate", f"{row_id!r} already read (first kept)")
            return False
        self._seen.add(row_id)
        for name, value in (
            ("id", row_id), ("path", path), ("label", int(label)), ("au", au),
            ("au_mask", au_mask), ("domain", domain), ("split", split),
        ):
            self._cols[name].append(value)
        self.report.count("rows")
        return True

    def table(self) -> pa.Table:
        """The collected rows as an ``INDEX_SCHEMA`` table with metadata."""
        return index_table(self._cols, index_metadata(self.source, self.classes, self.au_ids))


def _ray_tensor_shape(f: pa.Field) -> Optional[tuple]:
    """Shape of a Ray Data tensor column (registered or read back as plain lists)."""
    if isinstance(f.type, pa.BaseExtensionType):
        if f.type.extension_name.startswith("ray.data.arrow_tensor") and hasattr(f.type, "shape"):
            return tuple(f.type.shape)
        return None
    meta = f.metadata or {}
    if not meta.get(b"ARROW:extension:name", b"").startswith(b"ray.data.arrow_tensor"):
        return None
    try:
        spec = json.loads(meta.get(b"ARROW:extension:metadata", b"null"))
    except ValueError:
        return None
    shape = spec.get("shape") if isinstance(spec, dict) else spec
    return tuple(int(s) for s in shape) if isinstance(shape, list) else None


def canonical_tensors(table: pa.Table) -> pa.Table:
    """Turn fixed-shape Ray Data tensor columns into Arrow ``fixed_shape_tensor``.

    Parquet written by Ray Data stores tensors as Ray's own extension type, which
    a process that has not imported Ray reads back as plain lists; this gives every
    reader of ``prepare``'s shards the same ``(H, W, C)`` column either way.
    Variable-shaped columns are left as they are.
    """
    for i, f in enumerate(table.schema):
        shape = _ray_tensor_shape(f)
        if not shape:
            continue
        size = int(np.prod(shape))
        ext = None
        chunks = []
        for chunk in table.column(i).chunks:
            storage = chunk.storage if isinstance(chunk, pa.ExtensionArray) else chunk
            values = storage.flatten()
            if len(values) != len(chunk) * size:
                break
            ext = pa.fixed_shape_tensor(values.type, shape)
            chunks.append(pa.ExtensionArray.from_storage(ext, pa.FixedSizeListArray.from_arrays(values, size)))
        else:
            if ext is not None:
                table = table.set_column(i, pa.field(f.name, ext), pa.chunked_array(chunks, ext))
    return table
