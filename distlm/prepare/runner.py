"""``prepare(input, output, **options)``: detect, crop and shard a whole dataset, resumably."""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional

import pyarrow as pa

from distlm.errors import UserError
from distlm.prepare.index import Source, load_index
from distlm.prepare.layout import (MANIFEST_DIR, STATE_FILE, SUMMARY_FILE, Output, manifest_name,
                                   shard_name)
from distlm.prepare.options import PrepareOptions
from distlm.prepare.order import ORDERS
from distlm.prepare.progress import Progress
from distlm.prepare.ray_run import describe, process_slices
from distlm.ray_local import ray_session
from distlm.prepare.records import (OUTCOMES, manifest_jsonl, manifest_rows, parquet_bytes,
                                    parse_manifest, shard_table, slice_counts)
from distlm.prepare.slices import ids_fingerprint, slice_bounds, slice_table, sort_index
from distlm.telemetry.pipeline import PrepareMetrics
from distlm.telemetry.server import linger, start_metrics_server, stop_metrics_server

log = logging.getLogger("distlm.prepare")
STATE_VERSION = 1


def _check_state(out: Output, state: Dict[str, Any], overwrite: bool) -> None:
    """Refuse to resume into an output made from other inputs or options."""
    old = out.read_json(STATE_FILE)
    if old is not None and isinstance(old.get("options"), dict):
        old["options"].setdefault("order", "id")  # written before the option existed: id order
    if old is not None and old != state:
        differs = sorted(k for k in set(old) | set(state) if old.get(k) != state.get(k))
        if not overwrite:
            raise UserError(
                f"{out.uri}: holds a prepare run with different {', '.join(differs)}; "
                "pass overwrite=True (--overwrite) or choose another output")
        log.warning("prepare: %s differs in %s: deleting the previous run", out.uri, differs)
        for name in out.listdir():
            if name.startswith("part-") or name in (SUMMARY_FILE, STATE_FILE):
                out.remove(name)
        out.remove(MANIFEST_DIR)
        out.fs.makedirs(out.path(MANIFEST_DIR), exist_ok=True)
    if old != state:
        out.write_json(STATE_FILE, state)


def _finished(out: Output, slices: int) -> List[int]:
    """Slices whose manifest part (written after the shard) and shard both exist."""
    shards = set(out.listdir())
    parts = set(out.listdir(MANIFEST_DIR))
    return [k for k in range(slices)
            if manifest_name(k).split("/", 1)[1] in parts and shard_name(k) in shards]


def _summary(out: Output, slices: int, inputs: int) -> Dict[str, Any]:
    """Counts over every manifest part (streamed; one part in memory at a time)."""
    totals = {"outcomes": {o: 0 for o in OUTCOMES}, "reasons": {}, "faces_found": 0}
    rows = 0
    for k in range(slices):
        part = parse_manifest(out.read(manifest_name(k)), manifest_name(k))
        rows += len(part)
        c = slice_counts(part)
        for o, n in c["outcomes"].items():
            totals["outcomes"][o] = totals["outcomes"].get(o, 0) + n
        for r, n in c["reasons"].items():
            totals["reasons"][r] = totals["reasons"].get(r, 0) + n
        totals["faces_found"] += c["faces_found"]
    if rows != inputs:
        raise RuntimeError(f"{out.uri}: manifest lists {rows} inputs, expected {inputs}")
    totals["reasons"] = dict(sorted(totals["reasons"].items()))
    written = totals["outcomes"]["ok"] + totals["outcomes"]["multiple_faces"]
    return {"inputs": inputs, "slices": slices, "written": written, **totals}


def prepare(input: Source, output: str, *, options: Optional[PrepareOptions] = None,
            **kwargs: Any) -> Dict[str, Any]:
    """Crop the face of every input image into Parquet shards under ``output``.

    Args:
        input: folder / ``s3://`` prefix of images, a reader source spec
            ``{"format": ..., "path": ..., **reader options}``, or an index table.
        output: local folder or ``s3://`` prefix (layout in ``distlm.prepare.layout``).
        options: a :class:`PrepareOptions`; or pass its fields (and the crop fields
            ``detector``, ``size``, ``margin``, ``choose``, ``align``...) as keywords.

    Returns:
        The summary also written to ``output/_summary.json``: ``inputs``, ``slices``,
        ``written`` (rows in the shards), ``outcomes``, ``reasons``, ``faces_found``.

    Example::

        prepare("/data/megaface", "s3://bucket/megaface-227", detector="mtcnn", actors=4)
    """
    if options is not None and kwargs:
        raise TypeError("pass either options= or keyword options, not both")
    opts = options or PrepareOptions.from_kwargs(**kwargs)
    index = load_index(input, opts.storage)
    if index.num_rows == 0:
        where = input if not isinstance(input, pa.Table) else "the index table"
        raise UserError(f"{where}: no images to prepare (an empty folder or prefix, or none with an image "
                        f"extension; check the path and --format)")
    metadata = dict(index.schema.metadata or {})
    metadata[b"distlm.prepare"] = json.dumps(opts.fingerprint(), sort_keys=True).encode()
    index = sort_index(index.replace_schema_metadata(None), str(input) if not isinstance(input, pa.Table) else "index")
    if "image" in index.column_names and index.num_rows and index.column("image").null_count == index.num_rows:
        index = index.drop_columns(["image"])
    bounds = slice_bounds(index.num_rows, opts.shard_size)
    out = Output(output, opts.storage)
    out.clean_temporaries()
    state = {"version": STATE_VERSION, "inputs": index.num_rows, "ids_sha256": ids_fingerprint(index),
             "options": opts.fingerprint()}
    index = ORDERS.get(opts.order)(index)
    _check_state(out, state, opts.overwrite)
    done = set(_finished(out, len(bounds)))
    pending = [k for k in range(len(bounds)) if k not in done]
    done_rows = sum(bounds[k][1] - bounds[k][0] for k in done)
    log.info("prepare: %d inputs -> %s in %d slices (%d already done); %s",
             index.num_rows, out.uri, len(bounds), len(done), describe(opts))
    port = start_metrics_server(opts.metrics_port, setting="--metrics-port")
    progress = Progress(index.num_rows, len(bounds), done_rows, len(done),
                        PrepareMetrics.for_registry(), opts.log_every_s)
    try:
        if pending:
            with ray_session(opts.address, opts.num_cpus):
                tables = [slice_table(index, k, bounds[k]) for k in pending]
                del index  # the slices now own the rows
                for k, processed in process_slices(tables, opts):
                    rows = manifest_rows(processed)
                    out.write(shard_name(k), parquet_bytes(shard_table(processed, metadata, opts.crop.size)))
                    out.write(manifest_name(k), manifest_jsonl(rows))
                    progress.slice_done(len(rows), slice_counts(rows))
        progress.log()
        summary = _summary(out, len(bounds), state["inputs"])
        out.write_json(SUMMARY_FILE, summary)
        log.info("prepare: done: %s", json.dumps(summary, sort_keys=True))
        if port is not None and opts.metrics_linger_s > 0:
            log.info("prepare: serving the final metrics on port %d for up to %.0f s (SIGTERM ends it)",
                     port, opts.metrics_linger_s)
            linger(opts.metrics_linger_s)
        return summary
    finally:
        stop_metrics_server(port)
