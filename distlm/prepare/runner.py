"""``prepare(input, output, **options)``: the crop stage — detect, crop and shard every
input of a source into a crop cache, reusing what is already there.

The same stage runs as the first stage of ``python -m distlm.train`` on a job whose
sources are raw images (:mod:`distlm.train.crop_stage`) and alone as
``python -m distlm.prepare``.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, Optional

import pyarrow as pa

from distlm.data.fs import absolute
from distlm.prepare.index import Source
from distlm.prepare.layout import PENDING_DIR, SUMMARY_FILE, Output
from distlm.prepare.lease import CacheLease
from distlm.prepare.options import PrepareOptions
from distlm.prepare.plan import remote_plan
from distlm.prepare.progress import Progress
from distlm.prepare.ray_run import crop_pending, describe
from distlm.prepare.summary import remote_summary
from distlm.ray_local import ray_session
from distlm.telemetry.pipeline import PrepareMetrics
from distlm.telemetry.server import linger, start_metrics_server, stop_metrics_server

log = logging.getLogger("distlm.prepare")


def absolute_source(source: Source) -> Source:
    """A local folder or a source spec's local path made absolute (:func:`absolute`)."""
    if isinstance(source, pa.Table):
        return source
    if isinstance(source, str):
        return absolute(source)
    spec = dict(source)
    if spec.get("path"):
        spec["path"] = absolute(str(spec["path"]))
    return spec


def prepare(input: Source, output: str, *, options: Optional[PrepareOptions] = None,
            **kwargs: Any) -> Dict[str, Any]:
    """Crop the face of every input image into Parquet shards under ``output``.

    A second call reuses every crop whose input (path, size, modification time or ETag,
    index row) and crop settings are unchanged: only new or changed inputs are cropped,
    and inputs that left the source are dropped from ``output``. A killed call resumes.

    Args:
        input: folder / ``s3://`` prefix of images, a reader source spec
            ``{"format": ..., "path": ..., **reader options}``, or an index table.
        output: local folder or ``s3://`` prefix (layout in ``distlm.prepare.layout``).
        options: a :class:`PrepareOptions`; or pass its fields (and the crop fields
            ``detector``, ``size``, ``margin``, ``choose``, ``align``...) as keywords.

    Returns:
        The summary also written to ``output/_summary.json``: ``inputs``, ``shards``,
        ``written`` (rows in the shards), ``outcomes``, ``reasons``, ``faces_found``,
        and this call's ``cropped`` and ``reused`` counts.

    Example::

        prepare("/data/megaface", "s3://bucket/megaface-227", detector="mtcnn", actors=4)
    """
    if options is not None and kwargs:
        raise TypeError("pass either options= or keyword options, not both")
    opts = options or PrepareOptions.from_kwargs(**kwargs)
    source, output = absolute_source(input), absolute(output)
    port = start_metrics_server(opts.metrics_port, setting="--metrics-port")
    try:
        out = Output(output, opts.storage)
        with CacheLease(out), ray_session(opts.address, opts.num_cpus):
            plan = remote_plan(source, output, opts)
            log.info("prepare: %d inputs -> %s: %d cached, %d to crop in %d parts; %s",
                     plan["inputs"], out.uri, plan["cached"], plan["pending"], plan["parts"], describe(opts))
            progress = Progress(plan["inputs"], plan["parts"], plan["cached"], 0,
                                PrepareMetrics.for_registry(), opts.log_every_s)
            for block in crop_pending(out, plan["parts"], opts, plan["metadata"]):
                progress.slice_done(block["inputs"], block["counts"])
            progress.log()
            summary = remote_summary(out.uri, dict(opts.storage), plan["inputs"])
            out.remove(PENDING_DIR)
            summary = {**summary, "cropped": plan["pending"], "reused": plan["cached"]}
            out.write_json(SUMMARY_FILE, summary)
        log.info("prepare: done: %s", json.dumps(summary, sort_keys=True))
        if port is not None and opts.metrics_linger_s > 0:
            log.info("prepare: serving the final metrics on port %d for up to %.0f s (SIGTERM ends it)",
                     port, opts.metrics_linger_s)
            linger(opts.metrics_linger_s)
        return summary
    finally:
        stop_metrics_server(port)
