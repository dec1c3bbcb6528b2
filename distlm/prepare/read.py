"""Reading a prepared output back: shards, images, manifest, summary."""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

import numpy as np
import pyarrow as pa

from distlm.data import image_column
from distlm.prepare.layout import MANIFEST_DIR, SUMMARY_FILE, Output, is_part


def shard_names(output: str, storage: Optional[Mapping[str, Any]] = None) -> List[str]:
    """``part-*.parquet`` names in ``output``, sorted."""
    return [n for n in Output(output, storage, create=False).listdir() if is_part(n)]


def read_shard(output: str, name: str, storage: Optional[Mapping[str, Any]] = None) -> pa.Table:
    return Output(output, storage, create=False).read_table(name)


def shard_images(table: pa.Table) -> np.ndarray:
    """``(N, size, size, 3)`` uint8 crops of a shard table (``fixed_size_binary`` image
    column with its shape in the field metadata; older tensor-column shards read too)."""
    return image_column.decode(table, "image", "shard")


def read_manifest(output: str, storage: Optional[Mapping[str, Any]] = None) -> List[Dict[str, Any]]:
    """Every manifest row of ``output`` as dicts sorted by id (fine for tests and reports;
    read ``_manifest/`` with ``pyarrow.dataset`` for millions of inputs)."""
    out = Output(output, storage, create=False)
    tables = [out.read_table(f"{MANIFEST_DIR}/{n}") for n in out.listdir(MANIFEST_DIR) if is_part(n)]
    if not tables:
        return []
    return pa.concat_tables(tables).sort_by([("id", "ascending")]).to_pylist()


def read_summary(output: str, storage: Optional[Mapping[str, Any]] = None) -> Optional[Dict[str, Any]]:
    return Output(output, storage, create=False).read_json(SUMMARY_FILE)
