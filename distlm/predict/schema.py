"""Arrow schemas of one checkpoint's outputs: the results file, the errors file and
the part files a run writes as it goes (:mod:`distlm.predict.parts`)."""
from __future__ import annotations

from typing import Dict

import numpy as np
import pyarrow as pa

from distlm.checkpoint.bundle import Bundle
from distlm.predict.columns import ERROR_COLUMNS, FACE_COLUMNS
from distlm.predict.scoring import score_columns

_FACE_TYPES: Dict[str, pa.DataType] = {"input": pa.string(), "frame": pa.int64(), "face_id": pa.int64()}
#: bookkeeping columns of part files, not in the results: input position, what the
#: row is (``ok`` | ``no_face`` | ``unreadable``), and why
PART_EXTRA = {"order": pa.int64(), "outcome": pa.string(), "reason": pa.string(), "detail": pa.string()}


def _arrow_type(values: np.ndarray) -> pa.DataType:
    if values.dtype == object:
        return pa.string()
    return pa.int64() if np.issubdtype(values.dtype, np.integer) else pa.float64()


def results_schema(bundle: Bundle) -> pa.Schema:
    """:data:`FACE_COLUMNS` then the score columns (floats, ``AUxx_on`` ints, names strings)."""
    scores = score_columns(bundle, np.zeros((1, len(bundle.names)), np.float32))
    fields = [(c, _FACE_TYPES.get(c, pa.float64())) for c in FACE_COLUMNS]
    fields += [(name, _arrow_type(v)) for name, v in scores.items()]
    return pa.schema(fields)


def part_schema(bundle: Bundle) -> pa.Schema:
    """:func:`results_schema` plus :data:`PART_EXTRA`."""
    schema = results_schema(bundle)
    for name, t in PART_EXTRA.items():
        schema = schema.append(pa.field(name, t))
    return schema


def errors_schema() -> pa.Schema:
    """``input, frame, timestamp, reason, detail`` (:data:`ERROR_COLUMNS`)."""
    types = {"input": pa.string(), "frame": pa.int64(), "timestamp": pa.float64()}
    return pa.schema([(c, types.get(c, pa.string())) for c in ERROR_COLUMNS])
