"""The trainer's first stage: crop the job's raw-image sources into the crop cache.

``python -m distlm.train JOB.yaml`` on a job whose sources index image files
(``rafdb``, ``emotionet``, ``images``...) runs :func:`distlm.prepare.prepare` on each of
them into ``data.cache`` (default ``<run.storage_path>/crops``), one folder per source
and crop settings, then trains on the crops. A second run reuses them; new or changed
images are cropped alone; a killed stage resumes (see :mod:`distlm.prepare`).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from typing import Any, Dict

from distlm.data.fs import absolute
from distlm.data.sources import raw_sources, reader_spec, storage_options

log = logging.getLogger("distlm.train")
CACHE_DIR = "crops"


def cache_root(spec) -> str:
    """``data.cache``, else ``<run.storage_path>/crops`` (local paths made absolute)."""
    return absolute(spec.data.cache or f"{spec.run.storage_path.rstrip('/')}/{CACHE_DIR}")


def crop_options(spec):
    """:class:`distlm.faces.CropOptions` from ``data.crop`` and ``data.image_size``."""
    from distlm.faces.options import CropOptions

    c = spec.data.crop
    return CropOptions(detector=c.detector, size=spec.data.image_size, margin=c.margin, choose=c.choose,
                       align=c.align, max_side=c.max_side, detect_batch=c.detect_batch)


def prepare_options(spec, resolve_pool: bool = True):
    """:class:`distlm.prepare.PrepareOptions` from ``data.crop`` and ``data.image_size``
    (with ``resolve_pool``, a null ``max_actors`` asks Ray for the cluster's CPUs)."""
    from distlm.prepare.options import PrepareOptions

    c = spec.data.crop
    return PrepareOptions(crop=crop_options(spec), shard_size=c.shard_size, actors=c.min_actors,
                          max_actors=max_actors(c) if resolve_pool else c.max_actors,
                          cpus_per_actor=c.cpus_per_actor, gpus_per_actor=c.gpus_per_actor,
                          storage=dict(storage_options(spec) or {}), alpha=c.alpha, order=c.order,
                          draft=c.draft)


def max_actors(crop) -> int:
    """The autoscaling pool's ceiling: ``data.crop.max_actors``, or the cluster's CPUs
    now over ``cpus_per_actor`` (:func:`distlm.faces.actor_pool.pool_strategy`)."""
    from distlm.faces.actor_pool import pool_strategy

    return pool_strategy((crop.min_actors, crop.max_actors), crop.cpus_per_actor)["max_size"]


def source_folder(spec, side: str, src) -> str:
    """The cache folder of one source: ``<cache>/<format>-<digest>``, the digest over the
    reader call and the crop settings (another setting, another folder)."""
    reader = reader_spec(spec, src, side)
    reader.pop("storage", None)
    reader["path"] = absolute(reader["path"])
    crop = prepare_options(spec, resolve_pool=False).fingerprint()
    key = json.dumps({"source": reader, "crop": crop}, sort_keys=True, default=str)
    return f"{cache_root(spec).rstrip('/')}/{src.format}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def crop_sources(spec):
    """Run the crop stage on every raw-image source of ``spec`` (Ray already connected);
    return ``spec`` with each of them at ``{format: parquet, path: <its cache folder>}``."""
    from distlm.config.schema_data import SourceSpec
    from distlm.prepare.runner import prepare

    raw = raw_sources(spec)
    if not raw:
        return spec
    opts = prepare_options(spec)
    warn_local_cache(cache_root(spec))
    done: Dict[str, Dict[str, Any]] = {}
    changes = {}
    for side, src in raw:
        folder = source_folder(spec, side, src)
        if folder not in done:  # one source named by two sides is cropped once
            log.info("crop stage: data.%s (%s: %s) -> %s", side, src.format, src.path, folder)
            done[folder] = prepare(reader_spec(spec, src, side), folder, options=opts)
        changes[side] = SourceSpec(format="parquet", path=folder, options={})
        log.info("crop stage: data.%s: %s", side, json.dumps(_short(done[folder]), sort_keys=True))
    return dataclasses.replace(spec, data=dataclasses.replace(spec.data, **changes))


def warn_local_cache(root: str) -> None:
    """A local cache on a cluster of several nodes: each crop actor writes to its own
    node's disk, so the trainer would not find them all. Say so (S3 or a shared mount)."""
    import ray

    nodes = [n for n in ray.nodes() if n.get("Alive")]
    if "://" not in root and len(nodes) > 1:
        log.warning("crop stage: data.cache %s is a local path on a cluster of %d nodes: it must be a mount "
                    "every node shares; otherwise set data.cache (and run.storage_path) to s3://...",
                    root, len(nodes))


def _short(summary: Dict[str, Any]) -> Dict[str, Any]:
    return {k: summary[k] for k in ("inputs", "written", "cropped", "reused", "outcomes") if k in summary}
