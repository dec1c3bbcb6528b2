"""Prediction records: one dict per face; tables and files from them.

Columns, in order: :data:`~distlm.predict.columns.FACE_COLUMNS` (``input`` (path, URI or
``<input N>``), ``frame`` (video frame index, 0 for images), ``timestamp`` (seconds into
the video, null for images), ``face_id`` (index among the frame's faces),
``FaceRectX, FaceRectY, FaceRectWidth, FaceRectHeight`` (box in source pixels),
``FaceScore``, the landmark columns), then the score columns of
:func:`distlm.predict.scoring.score_columns`.
"""
from __future__ import annotations

import os
from collections import Counter
from typing import Any, Dict, Iterable, List, Optional

import pyarrow as pa

from distlm.data.fs import atomic_local
from distlm.predict.columns import ERROR_COLUMNS, FACE_COLUMNS
from distlm.predict.writers import OUTPUT_FORMATS, format_of, open_writer

__all__ = ["ERROR_COLUMNS", "FACE_COLUMNS", "NO_FACE", "OUTPUT_FORMATS", "Predictions", "errors_path",
           "rows_table", "write_table"]
NO_FACE = "no_face"


class Predictions(list):
    """A list of per-face dicts, plus what did not give faces.

    Attributes:
        errors: ``{input, frame, timestamp, reason, detail}`` for every unreadable input.
        no_face: ``{input, frame, timestamp}`` for every frame where no face was found.
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


def write_table(table: pa.Table, path: str) -> str:
    """Write by extension (:mod:`distlm.predict.writers`): ``.parquet``, ``.csv``,
    ``.jsonl`` (a JSON object per line) or ``.json`` (one JSON array of objects);
    whole or not at all (:func:`~distlm.data.fs.atomic_local`)."""
    fmt = format_of(path)
    with atomic_local(path) as tmp:  # a kill mid-write leaves no partial file under ``path``
        with open_writer(tmp, table.schema, fmt) as w:
            w.write(table)
    return path


def errors_path(out: str) -> str:
    """``results.parquet`` → ``results.errors.csv`` (beside the results)."""
    stem, _ = os.path.splitext(out)
    return stem + ".errors.csv"
