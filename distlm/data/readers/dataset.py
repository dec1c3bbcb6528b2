"""``read_dataset``: a reader's index as a ``ray.data.Dataset`` (Ray imported lazily)."""
from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence, Union

import pyarrow as pa

from distlm.data.readers.base import Reader, create_reader
from distlm.errors import UserError

log = logging.getLogger(__name__)

SourceSpec = Union[Reader, Mapping[str, Any]]


def _reader(spec: SourceSpec) -> Reader:
    if isinstance(spec, Reader):
        return spec
    opts = dict(spec)
    try:
        fmt, path = opts.pop("format"), opts.pop("path")
    except KeyError as err:
        raise UserError(f"source spec {dict(spec)!r} lacks {err.args[0]!r}") from None
    return create_reader(fmt, path, **opts)


def read_table(source_spec: Union[SourceSpec, Sequence[SourceSpec]]) -> pa.Table:
    """The index of one source, or of several concatenated (metadata of the first kept).

    Each report summary is logged at INFO level.
    """
    specs = [source_spec] if isinstance(source_spec, (Reader, Mapping)) else list(source_spec)
    tables = []
    for spec in specs:
        table, report = _reader(spec).read()
        log.info("%s", report.summary())
        tables.append(table)
    if len(tables) == 1:
        return tables[0]
    meta = tables[0].schema.metadata
    merged = pa.concat_tables([t.replace_schema_metadata(None) for t in tables],
                              promote_options="default")
    return merged.replace_schema_metadata(meta)


def read_dataset(source_spec: Union[SourceSpec, Sequence[SourceSpec]]) -> Any:
    """A ``ray.data.Dataset`` of the index: ``ray.data.from_arrow(read_table(spec))``.

    ``source_spec`` is ``{"format": "rafdb", "path": "...", **options}``, a
    ``Reader``, or a list of them (concatenated, e.g. labelled + unlabelled pools).
    """
    import ray.data  # lazy: readers must not pay for importing Ray

    return ray.data.from_arrow(read_table(source_spec))
