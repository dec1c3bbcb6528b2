"""Prediction records: one dict per face; tables and files from them.

Columns, in order: ``source`` (path, URI or ``<input N>``), ``frame`` (video frame
index, 0 for images), ``face`` (index among the frame's faces), ``x, y, w, h`` (box
in source pixels), ``det_score``, then the score columns of
:func:`distlm.predict.scoring.score_columns`.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any, Dict, Iterable, List, Optional

import pyarrow as pa

from distlm.data.fs import atomic_local
from distlm.errors import UserError

FACE_COLUMNS = ("source", "frame", "face", "x", "y", "w", "h", "det_score")
ERROR_COLUMNS = ("source", "frame", "reason", "detail")
NO_FACE = "no_face"


class Predictions(list):
    """A list of per-face dicts, plus what did not give faces.

    Attributes:
        errors: ``{source, frame, reason, detail}`` for every unreadable input.
        no_face: ``{source, frame}`` for every frame where no face was found.
        counts: ``inputs``, ``frames``, ``faces``, ``no_face``, ``unreadable``.
    """

    def __init__(self, rows: Iterable[Dict[str, Any]] = (), columns: Optional[List[str]] = None) -> None:
        super().__init__(rows)
        self.columns = list(columns or (list(self[0]) if self else FACE_COLUMNS))
        self.errors: List[Dict[str, Any]] = []
        self.no_face: List[Dict[str, Any]] = []
        self.counts: Counter = Counter()

    def to_table(self) -> pa.Table:
        """A ``pyarrow.Table`` of the faces (``.to_pandas()`` for a DataFrame)."""
        return rows_table(list(self), self.columns)

    def errors_table(self) -> pa.Table:
        return rows_table(self.errors, list(ERROR_COLUMNS))

    def summary(self) -> str:
        c = self.counts
        return (f"{c['inputs']} inputs, {c['frames']} frames, {c['faces']} faces; "
                f"{c['no_face']} frames without a face, {c['unreadable']} unreadable")


def rows_table(rows: List[Dict[str, Any]], columns: List[str]) -> pa.Table:
    """Rows as a table with ``columns`` in order (an empty table keeps the columns as strings)."""
    if not rows:
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    return pa.table({c: [r.get(c) for r in rows] for c in columns})


OUTPUT_FORMATS = (".parquet", ".csv", ".jsonl", ".json")


def write_table(table: pa.Table, path: str) -> str:
    """Write by extension: ``.parquet``, ``.csv``, ``.jsonl`` (a JSON object per line) or
    ``.json`` (one JSON array of objects)."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in OUTPUT_FORMATS:
        raise UserError(f"{path}: unknown output format {ext!r}; use {', '.join(OUTPUT_FORMATS)}")
    with atomic_local(path) as tmp:  # a kill mid-write leaves no partial file under ``path``
        if ext == ".parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, tmp)
        elif ext == ".csv":
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, tmp)
        elif ext == ".json":  # one JSON array
            with open(tmp, "w") as fh:
                json.dump(table.to_pylist(), fh)
        else:  # JSON lines
            with open(tmp, "w") as fh:
                for row in table.to_pylist():
                    fh.write(json.dumps(row) + "\n")
    return path


def errors_path(out: str) -> str:
    """``results.parquet`` → ``results.errors.csv`` (beside the results)."""
    stem, _ = os.path.splitext(out)
    return stem + ".errors.csv"
