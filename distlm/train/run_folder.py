"""Where a run's files live: ``run.storage_path/<run name>/`` (local or ``s3://``).

Beside the checkpoints: the resolved spec (``job.yaml``) and, when every worker
stopped early on a non-finite loss, ``stopped.json`` holding why (Ray Train keeps the
metrics of checkpoints only, and a stopped run reports none).
"""
from __future__ import annotations

import json
import os
from typing import Optional

from distlm.data.fs import absolute

STOPPED_FILE = "stopped.json"


def run_name(spec) -> str:
    return spec.run.name or spec.name


def storage_path(spec) -> str:
    """Absolute local path (Ray needs one) or the ``s3://`` URL as given."""
    return absolute(spec.run.storage_path)


def run_file(spec, name: str) -> str:
    base = storage_path(spec)
    return f"{base.rstrip('/')}/{run_name(spec)}/{name}" if "://" in base else os.path.join(base, run_name(spec), name)


def run_storage(spec):
    """Storage options of the run folder (``None`` for a local one)."""
    from distlm.data.sources import storage_options

    return storage_options(spec) if "://" in spec.run.storage_path else None


def write_stopped(spec, reason: str) -> str:
    from distlm.data.fs import write_text

    return write_text(run_file(spec, STOPPED_FILE), json.dumps({"stopped": reason}), run_storage(spec))


def read_stopped(spec) -> Optional[str]:
    from distlm.data.fs import exists, read_text

    path = run_file(spec, STOPPED_FILE)
    if not exists(path, run_storage(spec)):
        return None
    return json.loads(read_text(path, run_storage(spec)))["stopped"]


def clear_stopped(spec) -> None:
    from distlm.data.fs import resolve

    fs, key = resolve(run_file(spec, STOPPED_FILE), run_storage(spec))
    if fs.exists(key):
        fs.rm(key)
