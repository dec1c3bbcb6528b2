"""Pure: what identifies one input of the crop stage.

An input's **key** is the SHA-256 (hex) of the crop settings and every value of its
index row, file size and modification time (local) or ETag (S3) included: a changed
image, label or setting gives a new key, so it is cropped again, and an unchanged
input keeps its key, so its crop is reused. :func:`file_stats` adds ``file_size`` and
``file_version`` to an index; :func:`input_keys` hashes rows in Arrow batches.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Dict, List, Mapping, Optional, Tuple

import pyarrow as pa

from distlm.data.fs import is_local, resolve

KEY_COLUMN = "key"
SIZE_COLUMN = "file_size"
VERSION_COLUMN = "file_version"
_BATCH = 65536


def _local_stat(path: str) -> Tuple[Optional[int], Optional[str]]:
    try:
        st = os.stat(path)
    except OSError:
        return None, None  # missing now: the crop stage records it as unreadable
    return st.st_size, str(st.st_mtime_ns)


def _remote_stats(paths: List[str], storage: Optional[Mapping[str, Any]]) -> Dict[str, Tuple[Optional[int], Optional[str]]]:
    """``{path: (size, etag)}`` from one listing per common prefix (not one request per file)."""
    out: Dict[str, Tuple[Optional[int], Optional[str]]] = {}
    fs, _ = resolve(paths[0], storage)
    prefix = os.path.commonpath([p.split("://", 1)[-1] for p in paths])
    listing = {}
    try:
        fs.invalidate_cache(prefix)
        found = fs.find(prefix, withdirs=False, detail=True)
        listing = found if len(paths) > 1 or found else {prefix: fs.info(prefix)}
    except OSError:
        listing = {}
    for p in paths:
        info = listing.get(p.split("://", 1)[-1])
        if info is None:
            out[p] = (None, None)
        else:
            tag = info.get("ETag") or info.get("etag") or info.get("LastModified") or info.get("mtime")
            out[p] = (info.get("size"), None if tag is None else str(tag).strip('"'))
    return out


def file_stats(index: pa.Table, storage: Optional[Mapping[str, Any]] = None) -> pa.Table:
    """``index`` with ``file_size`` (int64) and ``file_version`` (string: mtime in ns, or
    the object's ETag) of each row's ``path``; nulls where there is no path or file.

    Local files cost one ``stat`` each; ``s3://`` paths one listing of their common prefix.
    """
    n = index.num_rows
    paths = index.column("path").to_pylist() if "path" in index.column_names else [None] * n
    sizes: List[Optional[int]] = [None] * n
    versions: List[Optional[str]] = [None] * n
    remote = [p for p in paths if p and "://" in p and not p.startswith("file://")]
    stats = {}
    if remote:
        by_scheme: Dict[str, List[str]] = {}
        for p in remote:
            by_scheme.setdefault(p.split("://", 1)[0], []).append(p)
        for group in by_scheme.values():
            fs, _ = resolve(group[0], storage)
            stats.update(_remote_stats(group, storage) if not is_local(fs) else {})
    for i, p in enumerate(paths):
        if not p:
            continue
        sizes[i], versions[i] = stats[p] if p in stats else _local_stat(p[len("file://"):] if p.startswith("file://") else p)
    for name, col in ((SIZE_COLUMN, pa.array(sizes, pa.int64())), (VERSION_COLUMN, pa.array(versions, pa.string()))):
        if name in index.column_names:
            index = index.drop_columns([name])
        index = index.append_column(name, col)
    return index


def _cell(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return hashlib.sha256(value).hexdigest()
    return value


def input_keys(index: pa.Table, settings: Mapping[str, Any]) -> pa.Array:
    """``(N,)`` string array: the key of each row of ``index`` (every column but ``key``)
    under the crop ``settings`` (a JSON-able mapping)."""
    salt = json.dumps(settings, sort_keys=True, default=str).encode()
    names = sorted(c for c in index.column_names if c != KEY_COLUMN)
    table = index.select(names)
    keys: List[str] = []
    for batch in table.to_batches(max_chunksize=_BATCH):
        cols = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        for row in zip(*cols):
            h = hashlib.sha256(salt)
            h.update(json.dumps([_cell(v) for v in row], default=str, ensure_ascii=False).encode("utf-8", "surrogatepass"))
            keys.append(h.hexdigest())
    return pa.array(keys, pa.string())


def with_keys(index: pa.Table, settings: Mapping[str, Any]) -> pa.Table:
    """``index`` with its ``key`` column (replacing any)."""
    if KEY_COLUMN in index.column_names:
        index = index.drop_columns([KEY_COLUMN])
    return index.append_column(KEY_COLUMN, input_keys(index, settings))
