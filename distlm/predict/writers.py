"""Table writers that append: one ``write(table)`` per chunk, nothing kept in memory.

Chosen by the output's extension (:data:`WRITERS`): ``.parquet`` (a
``pyarrow.parquet.ParquetWriter``, one row group per chunk), ``.csv`` (one header,
rows appended), ``.jsonl`` (an object per line) and ``.json`` (one array, written
``[`` … ``]`` around the objects as they come).

Example::

    with open_writer("out.csv", schema) as w:
        for table in chunks:
            w.write(table)
"""
from __future__ import annotations

import json
import math
import os
from typing import Any, Callable, Dict

import pyarrow as pa

from distlm.errors import UserError


class TableWriter:
    """Base: ``write(table)`` appends ``table`` (same schema every call), ``close()`` finishes."""

    def __init__(self, path: str, schema: pa.Schema) -> None:
        self.path, self.schema = path, schema
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        self._write(table.select(self.schema.names).cast(self.schema))
        self.rows += table.num_rows

    def _write(self, table: pa.Table) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "TableWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class ArrowTableWriter(TableWriter):
    """pyarrow's own streaming writer (``ParquetWriter``, ``CSVWriter``) made by ``make(path, schema)``."""

    def __init__(self, path: str, schema: pa.Schema, make: Callable[[str, pa.Schema], Any]) -> None:
        super().__init__(path, schema)
        self.writer = make(path, schema)

    def _write(self, table: pa.Table) -> None:
        self.writer.write_table(table)

    def close(self) -> None:
        self.writer.close()


def _parquet(path: str, schema: pa.Schema) -> TableWriter:
    import pyarrow.parquet as pq

    return ArrowTableWriter(path, schema, pq.ParquetWriter)


def _csv(path: str, schema: pa.Schema) -> TableWriter:
    import pyarrow.csv as pacsv

    return ArrowTableWriter(path, schema, pacsv.CSVWriter)


def _plain(value: Any) -> Any:
    """JSON has no NaN: NaN → null."""
    return None if isinstance(value, float) and math.isnan(value) else value


class JsonLinesTableWriter(TableWriter):
    def __init__(self, path: str, schema: pa.Schema) -> None:
        super().__init__(path, schema)
        self.fh = open(path, "w", encoding="utf-8")

    def _line(self, row: Dict[str, Any]) -> str:
        return json.dumps({k: _plain(v) for k, v in row.items()})

    def _write(self, table: pa.Table) -> None:
        for row in table.to_pylist():
            self.fh.write(self._line(row) + "\n")

    def close(self) -> None:
        self.fh.close()


class JsonArrayTableWriter(JsonLinesTableWriter):
    """One JSON array: ``[`` first, ``,`` between objects, ``]`` on close."""

    def __init__(self, path: str, schema: pa.Schema) -> None:
        super().__init__(path, schema)
        self.first = True
        self.fh.write("[")

    def _write(self, table: pa.Table) -> None:
        for row in table.to_pylist():
            self.fh.write(("\n" if self.first else ",\n") + self._line(row))
            self.first = False

    def close(self) -> None:
        self.fh.write("\n]\n")
        self.fh.close()


#: extension → writer class
WRITERS: Dict[str, Callable[[str, pa.Schema], TableWriter]] = {
    ".parquet": _parquet, ".csv": _csv,
    ".jsonl": JsonLinesTableWriter, ".json": JsonArrayTableWriter,
}
OUTPUT_FORMATS = tuple(WRITERS)


def format_of(path: str) -> str:
    """The extension of ``path`` if it is a known output format, else :class:`UserError`."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in WRITERS:
        raise UserError(f"{path}: unknown output format {ext!r}; use {', '.join(OUTPUT_FORMATS)}")
    return ext


def open_writer(path: str, schema: pa.Schema, fmt: str = "") -> TableWriter:
    """A writer for ``path`` (format by ``fmt`` or the extension of ``path``)."""
    return WRITERS[fmt or format_of(path)](path, schema)
