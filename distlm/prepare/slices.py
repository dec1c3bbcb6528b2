"""Pure helpers: a sorted index cut into fixed-size slices, and its fingerprint."""
from __future__ import annotations

import hashlib
from typing import List, Tuple

import pyarrow as pa
import pyarrow.compute as pc

from distlm.errors import UserError

SLICE_COLUMN = "slice"


def sort_index(index: pa.Table, source: str = "index") -> pa.Table:
    """The index sorted by ``id``; duplicate or null ids raise, naming a few."""
    if "id" not in index.column_names:
        raise UserError(f"{source}: the index has no 'id' column (columns: {index.column_names})")
    if index.column("id").null_count:
        raise UserError(f"{source}: {index.column('id').null_count} rows have a null id")
    index = index.sort_by([("id", "ascending")])
    ids = index.column("id")
    if len(ids) > 1:
        same = pc.equal(ids.slice(1), ids.slice(0, len(ids) - 1))
        if pc.any(same).as_py():
            dup = pc.filter(ids.slice(1), same).to_pylist()[:5]
            raise UserError(f"{source}: duplicate ids, e.g. {dup}; ids must be unique to resume")
    return index


def slice_bounds(rows: int, shard_size: int) -> List[Tuple[int, int]]:
    """``[(start, stop), ...]`` of consecutive slices of ``shard_size`` rows (last shorter)."""
    return [(s, min(s + shard_size, rows)) for s in range(0, rows, shard_size)]


def ids_fingerprint(index: pa.Table) -> str:
    """SHA-256 of the sorted ids (one per line): identifies the input list of a run."""
    digest = hashlib.sha256()
    for chunk in index.column("id").chunks:
        for value in chunk.to_pylist():
            digest.update(value.encode("utf-8", "surrogatepass") + b"\n")
    return digest.hexdigest()


def slice_table(index: pa.Table, k: int, bounds: Tuple[int, int]) -> pa.Table:
    """Rows of slice ``k`` with an int32 ``slice`` column appended."""
    start, stop = bounds
    part = index.slice(start, stop - start)
    return part.append_column(SLICE_COLUMN, pa.array([k] * part.num_rows, pa.int32()))
