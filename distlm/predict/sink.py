"""The driver's end of the pipeline: batches of rows in, whole inputs out to parts.

Ray Data hands the driver batches that may hold part of an input (a video's frames
are spread over several model batches) and rows of several inputs. :class:`PartSink`
keeps an input's rows only until all of them arrived (each row carries ``n_item``,
its input's row count), then queues them; every ``rows_per_part`` queued rows go to
``write`` as one table sorted by ``order, frame, face_id`` and are dropped. So the
driver holds at most about ``rows_per_part`` + one batch + the rows of the inputs in
flight, whatever the number of inputs (:attr:`PartSink.peak_held`).
"""
from __future__ import annotations

from typing import Callable, Dict, List, Mapping

import numpy as np
import pyarrow as pa

SORT_KEYS = [("order", "ascending"), ("frame", "ascending"), ("face_id", "ascending")]


def _column(values: np.ndarray, t: pa.DataType) -> pa.Array:
    """A numpy column as ``t``; NaN and None → null."""
    values = np.asarray(values)
    if pa.types.is_string(t):  # Ray may hand an all-null text column over as NaN floats
        return pa.array([None if v is None or (isinstance(v, float) and v != v) else str(v) for v in values.tolist()],
                        type=t)
    if values.dtype == object:
        values = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    if values.dtype.kind == "f":
        mask = np.isnan(values)
        if pa.types.is_integer(t):
            values = np.where(mask, 0, values).astype(np.int64)
        return pa.array(values, type=t, mask=mask)
    return pa.array(values, type=t)


def batch_table(batch: Mapping[str, np.ndarray], schema: pa.Schema) -> pa.Table:
    """A ``{column: (N,) array}`` batch as a table of ``schema`` (extra columns dropped)."""
    return pa.table([_column(batch[f.name], f.type) for f in schema], schema=schema)


class PartSink:
    """Collects rows by input; flushes whole inputs in tables of about ``rows_per_part``.

    Args:
        write: called with each flushed table (a :meth:`PartStore.write`).
        schema: the part schema (:func:`distlm.predict.schema.part_schema`).
        rows_per_part: flush once this many rows of finished inputs are queued.

    Attributes:
        held / peak_held: rows in the driver now / at most so far.
        inputs_done: inputs whose rows were all received.
    """

    def __init__(self, write: Callable[[pa.Table], object], schema: pa.Schema, rows_per_part: int = 5000) -> None:
        self.write, self.schema, self.rows_per_part = write, schema, max(1, int(rows_per_part))
        self.pending: Dict[int, List[pa.Table]] = {}
        self.got: Dict[int, int] = {}
        self.ready: List[pa.Table] = []
        self.ready_rows = self.held = self.peak_held = self.inputs_done = 0

    def add(self, batch: Mapping[str, np.ndarray]) -> int:
        """Take one batch (``order``, ``n_item`` and the schema's columns); returns the
        number of inputs it completed."""
        table = batch_table(batch, self.schema)
        orders, need = np.asarray(batch["order"]), np.asarray(batch["n_item"])
        self.held += table.num_rows
        self.peak_held = max(self.peak_held, self.held)
        done = 0
        for o in np.unique(orders):
            idx = np.flatnonzero(orders == o)
            key = int(o)
            self.pending.setdefault(key, []).append(table.take(pa.array(idx)))
            self.got[key] = self.got.get(key, 0) + len(idx)
            if self.got[key] >= int(need[idx[0]]):
                self.ready_rows += self.got.pop(key)
                self.ready.extend(self.pending.pop(key))
                done += 1
        self.inputs_done += done
        if self.ready_rows >= self.rows_per_part:
            self.flush()
        return done

    def flush(self) -> None:
        if not self.ready:
            return
        table = pa.concat_tables(self.ready).sort_by(SORT_KEYS)
        self.write(table)
        self.held -= self.ready_rows
        self.ready, self.ready_rows = [], 0

    def close(self) -> None:
        """Flush what is queued; inputs still missing rows are a bug upstream."""
        self.flush()
        if self.pending:
            raise RuntimeError(f"{len(self.pending)} inputs ended with rows missing (orders {sorted(self.pending)[:5]})")
