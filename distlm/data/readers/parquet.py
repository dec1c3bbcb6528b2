"""Face crops written by ``distlm.prepare``: a directory of ``*.parquet`` shards.

Shards are read in sorted order (local or S3) and concatenated. A shard that cannot
be read (corrupt, deleted after listing) or that lacks an index column is a skip
naming the shard; the others are kept. Tensor columns written by Ray Data
(``image``) come back as Arrow ``fixed_shape_tensor`` whether or not Ray is imported. ``columns`` limits what is loaded (the index
columns are always loaded).
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import pyarrow as pa
import pyarrow.parquet as pq

from distlm.data.fs import Storage, join, resolve, to_uri
from distlm.data.listing import relative_files
from distlm.data.readers.base import READERS
from distlm.data.readers.schema import INDEX_COLUMNS, canonical_tensors
from distlm.data.report import ReadReport


@READERS.register("parquet")
def read_parquet(
    path: str,
    *,
    columns: Optional[Sequence[str]] = None,
    storage: Storage = None,
    strict: bool = False,
) -> Tuple[pa.Table, ReadReport]:
    """Concatenate the shards under ``path``; the index columns come first."""
    fs, root = resolve(path, storage)
    report = ReadReport(f"parquet {path}", strict=strict)
    wanted = None if columns is None else list(dict.fromkeys([*INDEX_COLUMNS, *columns]))
    tables: List[pa.Table] = []
    for rel in relative_files(fs, root, report, extensions=(".parquet",)):
        shard = join(fs, root, rel)
        try:
            table = canonical_tensors(pq.read_table(shard, filesystem=fs, columns=wanted))
        except FileNotFoundError:
            report.skip(to_uri(fs, shard), "missing file", "gone since listing")
            continue
        except (OSError, pa.ArrowException) as err:
            report.skip(to_uri(fs, shard), "unreadable shard", str(err).splitlines()[0])
            continue
        missing = [c for c in INDEX_COLUMNS if c not in table.column_names]
        if missing:
            report.skip(to_uri(fs, shard), "missing columns", str(missing))
            continue
        report.count("shards")
        report.count("rows", table.num_rows)
        tables.append(table.select([*INDEX_COLUMNS, *[c for c in table.column_names if c not in INDEX_COLUMNS]]))
    if not tables:
        raise FileNotFoundError(f"{to_uri(fs, root)}: no readable *.parquet shard")
    meta = tables[0].schema.metadata
    merged = pa.concat_tables([t.replace_schema_metadata(None) for t in tables], promote_options="default")
    return merged.replace_schema_metadata(meta), report
