"""Pure helpers: a sorted index with unique ids, cut into fixed-size slices."""
from __future__ import annotations

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
