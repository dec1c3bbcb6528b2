"""One prediction run into one results file, resumable (what ``python -m distlm.predict`` does).

::

    PartStore(output)      .results.parquet.parts/: run.json + part-*.parquet (whole inputs)
      └─ skip the inputs already in parts
      └─ run_pipeline(..., PartSink)      rows → parts as inputs complete
      └─ --annotate: from the parts, one part at a time
      └─ assemble: errors file, then results file (each atomic), parts removed
"""
from __future__ import annotations

import logging
import os
from typing import Any, Dict, Mapping, Optional, Sequence

import pyarrow.compute as pc

from distlm.checkpoint.bundle import load_bundle
from distlm.predict.defaults import AU_THRESHOLD, FRAME_STEP
from distlm.predict.inputs import Item
from distlm.predict.parts import OK, PartStore, assemble
from distlm.predict.pipeline import run_pipeline
from distlm.predict.schema import part_schema, results_schema
from distlm.predict.sink import PartSink

log = logging.getLogger("distlm.predict")
ROWS_PER_PART = 5000


def predict_to_file(checkpoint: str, items: Sequence[Item], output: str, *, detector: Optional[str] = None,
                    every: int = FRAME_STEP, threshold: float = AU_THRESHOLD, restart: bool = False,
                    rows_per_part: int = ROWS_PER_PART, annotate_dir: Optional[str] = None,
                    storage: Optional[Mapping[str, Any]] = None, **pipeline: Any) -> Dict[str, Any]:
    """Predict ``items`` into ``output`` (and ``<stem>.errors.csv``); Ray must be up.

    Args:
        output: ``.parquet``, ``.csv``, ``.jsonl`` or ``.json``.
        restart: drop the parts of an unfinished earlier run instead of resuming it.
        rows_per_part: rows per part file (the driver holds about this many).
        annotate_dir: also write annotated copies there.
        pipeline: the other options of :func:`~distlm.predict.pipeline.run_pipeline`.

    Returns:
        ``out``, ``errors``, ``inputs``, ``frames``, ``faces``, ``no_face``,
        ``unreadable`` (of the whole file) and ``resumed`` (inputs found done).
    """
    bundle = load_bundle(checkpoint, detector)
    schema = results_schema(bundle)
    store = PartStore(output, {"checkpoint": os.path.abspath(checkpoint), "detector": bundle.crop.detector,
                               "every": int(every), "threshold": float(threshold), "columns": schema.names},
                      restart=restart)
    done = store.done_inputs()
    todo = [i for i in items if i.source not in done]
    if done:
        log.info("predict: resuming, %d of %d inputs already done in %s", len(items) - len(todo), len(items), store.dir)
    sink = PartSink(store.write, part_schema(bundle), rows_per_part)
    run_pipeline(checkpoint, todo, sink, detector=detector, every=every, threshold=threshold, storage=storage,
                 **pipeline)
    if annotate_dir:
        from distlm.predict.annotate import annotate

        for table in store.tables():  # a part holds whole inputs: every face of each image / video
            annotate(table.filter(pc.equal(table["outcome"], OK)).to_pylist(), annotate_dir, every, storage)
    return {**assemble(store, schema), "resumed": len(items) - len(todo)}
